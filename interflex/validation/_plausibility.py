"""Plausibility rules PL-1..PL-3 of PROFILE.md section 6, checkable on a single message."""

from __future__ import annotations

from typing import Any

from interflex.validation._datetime import rfc3339_instant
from interflex.validation._findings import ERROR, Finding

_R, _O, _V = "FlexibilityRequest", "FlexibilityOffer", "FlexibilityActivation"
_K, _N = "FlexibilityActivationAck", "FlexibilityActivationNack"

# rule -> kinds it applies to (section 6).
PL1_KINDS = frozenset({_R, _O})  # deadline >= timestamp
PL2_KINDS = frozenset({_O, _V})  # activation_time >= timestamp
PL3_KINDS = frozenset({_O, _V, _K, _N})  # granularity <= flexible_power when flexible_power > 0
PLAUSIBILITY_KINDS = PL1_KINDS | PL2_KINDS | PL3_KINDS


def _number(value: object) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def plausibility(kind: str, message: dict[str, Any]) -> list[Finding]:
    """Findings of PL-1, PL-2 and PL-3 for a message of `kind`.

    Times are compared as instants (`2026-01-01T01:00:00+01:00` equals `...T00:00:00Z`).
    A rule whose fields are missing or malformed is skipped: the schema reports those.
    """
    findings: list[Finding] = []
    timestamp = rfc3339_instant(message.get("timestamp"))
    if timestamp is not None:
        for rule, field, kinds in (("PL-1", "deadline", PL1_KINDS), ("PL-2", "activation_time", PL2_KINDS)):
            if kind in kinds:
                later = rfc3339_instant(message.get(field))
                if later is not None and later < timestamp:
                    findings.append(
                        Finding(
                            ERROR,
                            f"/{field}",
                            rule,
                            f"{field} {message[field]} is before timestamp {message['timestamp']}",
                        )
                    )
    if kind in PL3_KINDS:
        power, granularity = message.get("flexible_power"), message.get("granularity")
        if _number(power) and _number(granularity) and power > 0 and granularity > power:
            findings.append(
                Finding(ERROR, "/granularity", "PL-3", f"granularity {granularity} exceeds flexible_power {power}")
            )
    return findings
