"""Monitor findings of a run (issue 10, item 3): the protocol monitor judges the evidence bundle again.

Every exchange of the bundle goes through `interflex.monitor.Monitor` (the platform from the IXIT).
A finding is shown as a *monitor finding* of the run only when the test cases did not already
report it (decision D-85):

- client-side findings are left out: the suite's client breaks client rules on purpose (missing
  tokens, malformed bodies, forbidden calls) to see how the server answers;
- findings on exchanges made by a test case that FAILed (or was WAIVED) are left out: that case's
  FAIL already reports what went wrong in them;
- findings of a rule that a FAILed (or WAIVED) test case cites in its references are left out: the
  run already reports that the target breaks that rule (e.g. the ST-2 breach a recommended case
  happens to provoke when IFX-REQ-003 [ST-2] failed).

Monitor findings never change a verdict. `verify --regrade` applies the same rule with the
installed monitor and lists the findings the results did not report.
"""

from __future__ import annotations

from collections.abc import Collection, Iterator, Mapping
from pathlib import Path
from typing import Any

from ats.evidence import read_bundle
from interflex.monitor import CLIENT, Monitor, Participant, Platform, exchange_from_record


def _judged(records: Iterator[dict[str, Any]], monitor: Monitor, cases: list[str]) -> Iterator[Any]:
    for index, record in enumerate(records):
        cases.append(str(record.get("case") or ""))
        yield from monitor.feed(exchange_from_record(record, index))
    yield from monitor.finish()


def judge_bundle(
    bundle: Path,
    platform: Platform,
    reported_cases: Collection[str],
    reported_rules: Collection[str] = (),
    *,
    complete: bool = False,
) -> dict[str, Any]:
    """The monitor's findings on a bundle that the run did not report (JSON-ready `monitor` object).

    `reported_cases`: the case ids whose FAIL (or WAIVED) verdict already reports their exchanges;
    `reported_rules`: the references of those cases. `ValueError` when the bundle cannot be read.
    """
    cases: list[str] = []
    shown: list[dict[str, Any]] = []
    client = reported = 0
    for finding in _judged(read_bundle(bundle), Monitor(platform, complete=complete), cases):
        case = cases[finding.exchange] if 0 <= finding.exchange < len(cases) else ""
        if finding.side == CLIENT:
            client += 1
        elif case in reported_cases or finding.rule in reported_rules:
            reported += 1
        else:
            shown.append({**finding.as_dict(), "case": case or None})
    return {
        "complete": complete,
        "platform": platform_dict(platform),
        "exchanges": len(cases),
        "findings": shown,
        "left_out": {"client": client, "reported": reported},
    }


def finding_key(finding: Mapping[str, Any]) -> tuple[Any, ...]:
    """What makes two findings the same for `verify --regrade`: rule, side and exchange."""
    return (finding.get("rule"), finding.get("side"), finding.get("exchange"))


def platform_dict(platform: Platform) -> dict[str, Any]:
    """What the monitor was told about the platform (no secrets), so `verify --regrade` can tell it again."""
    return {
        "participants": [
            {"username": p.username, "role": p.role, "entity_id": p.entity_id} for p in platform.participants
        ],
        "plausibility": platform.plausibility,
        "date_filter": platform.date_filter,
    }


def platform_from_dict(data: Mapping[str, Any]) -> Platform:
    """The inverse of `platform_dict`; `ValueError` when malformed."""
    try:
        participants = tuple(
            Participant(str(p["username"]), str(p["role"]), str(p["entity_id"])) for p in data["participants"]
        )
        return Platform(participants, bool(data["plausibility"]), bool(data["date_filter"]))
    except (KeyError, TypeError) as exc:
        raise ValueError(f"monitor.platform of results.json is malformed: {exc}") from None
