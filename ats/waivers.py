"""Waivers (`--waivers FILE`): approved, time-limited exceptions for failing test cases (issue 12).

The file is a YAML list; every entry names one test case of the catalog::

    - case: IFX-NACK-002
      reason: N2 answers 202 until release 4.2 (ticket FLEX-311)
      approved_by: Jane Doe, certification body X
      expires: 2027-03-31

A waiver is valid through its `expires` day (UTC) and judged by the run's start date. Only FAIL items
of a complete run are waived (`ats.verdicts.summarize`); what became of each waiver is its status:
`applied`, `expired`, `unused` (the case did not fail), or `not applied` with the reason.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

import yaml

from ats.errors import ConfigError
from ats.verdicts import FAIL, INCONCLUSIVE, WAIVED, Summary

FIELDS = ("case", "reason", "approved_by", "expires")
APPLIED, EXPIRED, UNUSED, NOT_APPLIED = "applied", "expired", "unused", "not applied"


@dataclass(frozen=True)
class Waiver:
    """One approved exception: the test case, why, who approved it and its last valid day."""

    case: str
    reason: str
    approved_by: str
    expires: date

    def valid_on(self, day: date) -> bool:
        """True through the `expires` day."""
        return day <= self.expires

    def describe(self) -> str:
        """One line: case, reason, approver and end date."""
        return f"{self.case}: {self.reason} (approved by {self.approved_by}, expires {self.expires.isoformat()})"


def _expires(value: object, where: str) -> date:
    if isinstance(value, date):
        return value
    if isinstance(value, str):
        try:
            return date.fromisoformat(value.strip())
        except ValueError:
            pass
    raise ConfigError(f"{where}: expires must be a date YYYY-MM-DD, got {value!r}")


def parse_waivers(data: Any, known_cases: Collection[str], source: str = "<waivers>") -> list[Waiver]:
    """Validate a waivers document; `ConfigError` (one line) naming the first problem."""
    if not isinstance(data, list):
        raise ConfigError(f"{source}: expected a YAML list of waivers ({', '.join(FIELDS)})")
    waivers: list[Waiver] = []
    for i, entry in enumerate(data):
        where = f"{source}: waiver {i + 1}"
        if not isinstance(entry, dict):
            raise ConfigError(f"{where}: expected a mapping with {', '.join(FIELDS)}")
        unknown = sorted(str(k) for k in entry if k not in FIELDS)
        if unknown:
            raise ConfigError(f"{where}: unknown field(s) {', '.join(unknown)}; expected {', '.join(FIELDS)}")
        for name in FIELDS[:3]:
            if not isinstance(entry.get(name), str) or not entry[name].strip():
                raise ConfigError(f"{where}: '{name}' is missing or not a non-empty text")
        case = entry["case"].strip()
        if case not in known_cases:
            raise ConfigError(f"{where}: unknown test case {case!r} (not in ats/catalog.yaml)")
        if any(w.case == case for w in waivers):
            raise ConfigError(f"{where}: a second waiver for {case}")
        expires = _expires(entry.get("expires"), where)
        waivers.append(Waiver(case, entry["reason"].strip(), entry["approved_by"].strip(), expires))
    return waivers


def load_waivers(path: str | Path, known_cases: Collection[str]) -> list[Waiver]:
    """Read and validate a waivers file; `ConfigError` (one line) when unreadable or invalid."""
    try:
        text = Path(path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"cannot read waivers file {str(path)!r}: {getattr(exc, 'strerror', None) or exc}") from None
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" (line {mark.line + 1})" if mark else ""
        raise ConfigError(f"waivers file {str(path)!r} is not valid YAML{where}") from None
    except ValueError as exc:  # PyYAML reads 2027-13-01 as a date and fails
        raise ConfigError(f"waivers file {str(path)!r}: {exc}; expires must be a date YYYY-MM-DD") from None
    return parse_waivers(data, known_cases, str(path))


def valid_cases(waivers: Iterable[Waiver], day: date) -> set[str]:
    """The case ids of the waivers valid on `day`."""
    return {w.case for w in waivers if w.valid_on(day)}


def waiver_statuses(
    waivers: Iterable[Waiver], summary: Summary, cases: Mapping[str, Mapping[str, Any]], day: date
) -> list[dict[str, Any]]:
    """What became of each waiver in a run: JSON-ready entries with `status` and a `note`.

    `cases` are the run's cases aggregated without waivers (`ats.verdicts.aggregate_cases`).
    """
    result = []
    for waiver in waivers:
        verdict = (cases.get(waiver.case) or {}).get("verdict")
        if not waiver.valid_on(day):
            status, note = EXPIRED, f"expired before the run ({day.isoformat()}): not applied"
        elif waiver.case in summary.waived:
            status, note = APPLIED, f"the case failed and counts as {WAIVED}"
        elif verdict == FAIL and not summary.complete:
            status, note = NOT_APPLIED, "the run is incomplete: waivers apply only to a complete run"
        elif verdict == FAIL:
            status, note = NOT_APPLIED, f"another item of the case is {INCONCLUSIVE}: never waived"
        elif verdict == INCONCLUSIVE:
            status, note = NOT_APPLIED, f"the case is {INCONCLUSIVE}: waivers apply only to FAIL"
        else:
            status, note = UNUSED, f"the case did not fail ({verdict or 'did not run'})"
        result.append(
            {
                "case": waiver.case,
                "reason": waiver.reason,
                "approved_by": waiver.approved_by,
                "expires": waiver.expires.isoformat(),
                "status": status,
                "note": note,
            }
        )
    return result
