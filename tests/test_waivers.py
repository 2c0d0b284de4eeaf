"""Waivers (issue 12, section 4): parsing and how they change verdicts."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from ats.errors import ConfigError
from ats.verdicts import CONFORMANT, CONFORMANT_WITH_WAIVERS, NOT_CONFORMANT, summarize
from ats.waivers import Waiver, load_waivers, valid_cases, waiver_statuses

EXPECTED = {"IFX-AUTH-001": "core-auth", "IFX-AUTH-002": "core-auth", "IFX-REC-001": "recommended"}
DAY = date(2026, 12, 6)


def _rec(case: str, verdict: str, nodeid: str | None = None) -> dict:
    cls = EXPECTED[case]
    return {"case": case, "class": cls, "verdict": verdict, "nodeid": nodeid or f"t::{case}", "reason": "r"}


def _waiver(case: str, expires: date = date(2027, 1, 1)) -> Waiver:
    return Waiver(case, "known", "Jane", expires)


def _run(records: list[dict], waivers: list[Waiver], **kwargs: object) -> tuple[object, list[dict]]:
    from ats.verdicts import aggregate_cases

    summary = summarize(records, {}, expected=EXPECTED, waivers=valid_cases(waivers, DAY), **kwargs)
    return summary, waiver_statuses(waivers, summary, aggregate_cases(records), DAY)


def test_a_waived_fail_is_conformant_with_waivers() -> None:
    records = [_rec("IFX-AUTH-001", "FAIL"), _rec("IFX-AUTH-002", "PASS"), _rec("IFX-REC-001", "PASS")]
    summary, statuses = _run(records, [_waiver("IFX-AUTH-001"), _waiver("IFX-AUTH-002")])
    assert summary.overall == CONFORMANT_WITH_WAIVERS and summary.waived == ["IFX-AUTH-001"]
    assert summary.classes["core-auth"].counts["WAIVED"] == 1 and summary.classes["core-auth"].verdict == "WAIVED"
    assert [s["status"] for s in statuses] == ["applied", "unused"]


def test_an_expired_waiver_does_not_apply() -> None:
    records = [_rec("IFX-AUTH-001", "FAIL"), _rec("IFX-AUTH-002", "PASS"), _rec("IFX-REC-001", "PASS")]
    summary, statuses = _run(records, [_waiver("IFX-AUTH-001", date(2026, 12, 5))])
    assert summary.overall == NOT_CONFORMANT and statuses[0]["status"] == "expired"
    summary, _ = _run(records, [_waiver("IFX-AUTH-001", DAY)])  # valid through its last day
    assert summary.overall == CONFORMANT_WITH_WAIVERS


def test_never_for_inconclusive_nor_an_incomplete_run() -> None:
    records = [_rec("IFX-AUTH-001", "FAIL"), _rec("IFX-AUTH-001", "INCONCLUSIVE", "t::x"), _rec("IFX-AUTH-002", "PASS")]
    summary, statuses = _run([*records, _rec("IFX-REC-001", "PASS")], [_waiver("IFX-AUTH-001")])
    assert summary.overall == NOT_CONFORMANT and summary.classes["core-auth"].verdict == "INCONCLUSIVE"
    assert statuses[0]["status"] == "not applied" and "INCONCLUSIVE" in statuses[0]["note"]
    summary, statuses = _run([_rec("IFX-AUTH-001", "FAIL")], [_waiver("IFX-AUTH-001")])  # IFX-AUTH-002 did not run
    assert summary.overall == NOT_CONFORMANT and summary.waived == [] and "incomplete" in statuses[0]["note"]


def test_a_waiver_of_a_non_gating_case_leaves_conformant() -> None:
    records = [_rec("IFX-AUTH-001", "PASS"), _rec("IFX-AUTH-002", "PASS"), _rec("IFX-REC-001", "FAIL")]
    summary, _ = _run(records, [_waiver("IFX-REC-001")])
    assert summary.overall == CONFORMANT and summary.waived == ["IFX-REC-001"]


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("case: IFX-AUTH-001", "expected a YAML list"),
        ("- case: IFX-NOPE-001\n  reason: r\n  approved_by: a\n  expires: 2027-01-01", "unknown test case"),
        ("- case: IFX-AUTH-001\n  reason: r\n  approved_by: a\n  expires: 2027-13-01", "YYYY-MM-DD"),
        ("- case: IFX-AUTH-001\n  reason: ''\n  approved_by: a\n  expires: 2027-01-01", "'reason' is missing"),
        ("- case: IFX-AUTH-001\n  reason: r\n  approved_by: a\n  expires: 2027-01-01\n  until: x", "unknown field"),
        ("- {case: IFX-AUTH-001, reason: r, approved_by: a, expires: 2027-01-01}\n" * 2, "a second waiver"),
        ("- [unclosed", "not valid YAML"),
    ],
)
def test_a_malformed_file_is_one_line(tmp_path: Path, text: str, message: str) -> None:
    path = tmp_path / "w.yaml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(ConfigError, match=message):
        load_waivers(path, EXPECTED)


def test_a_bad_waivers_file_stops_the_suite_with_exit_4(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from ats.cli import main

    path = tmp_path / "w.yaml"
    path.write_text("- {case: IFX-NOPE-001, reason: r, approved_by: a, expires: 2027-01-01}\n", encoding="utf-8")
    assert main(["-p", "no:cacheprovider", "--waivers", str(path)]) == 4
    assert "unknown test case 'IFX-NOPE-001'" in capsys.readouterr().err
