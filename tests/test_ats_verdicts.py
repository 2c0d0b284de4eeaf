"""Verdict logic (ats.verdicts, ats.plugin.classify): one verdict per case, class verdicts, overall."""

from __future__ import annotations

import pytest

from ats.plugin import classify
from ats.verdicts import (
    CONFORMANT,
    FAIL,
    INCONCLUSIVE,
    NA,
    NOT_CONFORMANT,
    PASS,
    Failure,
    Inconclusive,
    aggregate_cases,
    fold,
    summarize,
)

ICS = {"plausibility": True, "date-filter": False}


def rec(case: str, cls: str, verdict: str, nodeid: str | None = None, reason: str | None = None) -> dict:
    return {
        "case": case,
        "class": cls,
        "verdict": verdict,
        "nodeid": nodeid or f"{case}-{verdict}",
        "reason": reason,
        "cause": None,
        "duration": 0.5,
        "title": "t",
        "references": ["A1"],
    }


@pytest.mark.parametrize(
    ("verdicts", "expected"),
    [
        ([PASS, PASS], PASS),
        ([PASS, FAIL, INCONCLUSIVE], FAIL),
        ([PASS, INCONCLUSIVE], INCONCLUSIVE),
        ([NA, NA], NA),
        ([NA, PASS], PASS),
        ([], NA),
    ],
)
def test_fold(verdicts: list[str], expected: str) -> None:
    assert fold(verdicts) == expected


def test_aggregate_cases_one_verdict_per_case_with_the_decisive_reason() -> None:
    records = [
        rec("IFX-AUTH-001", "core-auth", PASS, "a[1]"),
        rec("IFX-AUTH-001", "core-auth", FAIL, "a[2]", reason="AU-1: wrong"),
        rec("IFX-IDS-001", "core-ids", PASS),
    ]
    cases = aggregate_cases(records)
    assert cases["IFX-AUTH-001"]["verdict"] == FAIL
    assert cases["IFX-AUTH-001"]["reason"] == "AU-1: wrong"
    assert cases["IFX-AUTH-001"]["items"] == ["a[1]", "a[2]"]
    assert cases["IFX-AUTH-001"]["duration"] == 1.0
    assert cases["IFX-IDS-001"]["verdict"] == PASS


def test_conformant_when_every_gating_case_passes_even_if_recommended_fails() -> None:
    summary = summarize(
        [
            rec("IFX-AUTH-001", "core-auth", PASS),
            rec("IFX-REC-001", "recommended", FAIL),
            rec("IFX-DATE-001", "date-filter", NA),
            rec("IFX-PLAUS-001", "plausibility", PASS),
        ],
        ICS,
    )
    assert summary.overall == CONFORMANT
    assert summary.classes["recommended"].gating is False and summary.classes["recommended"].verdict == FAIL
    assert summary.classes["date-filter"].gating is False
    assert summary.classes["plausibility"].gating is True
    assert list(summary.classes) == ["core-auth", "plausibility", "date-filter", "recommended"]
    assert summary.as_dict()["classes"]["core-auth"]["counts"] == {PASS: 1, FAIL: 0, INCONCLUSIVE: 0, NA: 0}


@pytest.mark.parametrize(
    ("cls", "verdict"), [("core-auth", FAIL), ("negotiation", INCONCLUSIVE), ("plausibility", FAIL)]
)
def test_not_conformant_on_a_gating_fail_or_inconclusive(cls: str, verdict: str) -> None:
    summary = summarize([rec("IFX-AUTH-002", "core-auth", PASS), rec("IFX-X-001", cls, verdict)], ICS)
    assert summary.overall == NOT_CONFORMANT


def test_undeclared_optional_class_does_not_gate() -> None:
    assert summarize([rec("IFX-DATE-001", "date-filter", FAIL)], ICS).overall == CONFORMANT


def test_inconclusive_requires_a_known_cause() -> None:
    assert Inconclusive("x", "environment").cause == "environment"
    with pytest.raises(ValueError, match="unknown cause"):
        Inconclusive("x", "weather")


def test_classify() -> None:
    assert classify(None, True, None) == (PASS, None, None)
    assert classify(Failure("AU-1: x"), False, None) == (FAIL, "AU-1: x", None)
    assert classify(Inconclusive("login failed", "precondition"), False, None) == (
        INCONCLUSIVE,
        "login failed",
        "precondition",
    )
    assert classify(None, False, "N/A: optional class date-filter is not declared in the ICS")[0] == NA
    assert classify(None, False, "some other skip") == (
        INCONCLUSIVE,
        "the test was skipped: some other skip",
        "precondition",
    )
    group = ExceptionGroup("hypothesis", [Inconclusive("timeout", "environment"), Failure("ST-1: 500")])
    assert classify(group, False, None) == (FAIL, "ST-1: 500", None)
    assert classify(KeyError("offer_id"), False, None) == (FAIL, "KeyError: 'offer_id'", None)
    noted = Failure("ST-1: 201")
    noted.add_note("Falsifying example: test_x(obj={'a': 1})")
    assert classify(noted, False, None)[1] == "ST-1: 201\nFalsifying example: test_x(obj={'a': 1})"


@pytest.mark.parametrize(
    ("records", "exit_code"),
    [
        ([rec("IFX-AUTH-001", "core-auth", PASS), rec("IFX-REC-001", "recommended", FAIL)], pytest.ExitCode.OK),
        (
            [rec("IFX-AUTH-001", "core-auth", PASS), rec("IFX-ROB-001", "robustness", INCONCLUSIVE)],
            pytest.ExitCode.TESTS_FAILED,
        ),
        ([rec("IFX-AUTH-001", "core-auth", FAIL)], pytest.ExitCode.TESTS_FAILED),
    ],
)
def test_exit_code_follows_the_overall_verdict(records: list[dict], exit_code: int) -> None:
    from types import SimpleNamespace

    from ats.plugin import _Controller
    from ats.run import RunInfo, RunState

    controller = _Controller(RunState(RunInfo("http://t", None, {}, ICS), records=records))
    session = SimpleNamespace(
        exitstatus=pytest.ExitCode.TESTS_FAILED, config=SimpleNamespace(option=SimpleNamespace(ats_records=None))
    )
    controller.pytest_sessionfinish(session, session.exitstatus)
    assert session.exitstatus == exit_code
    assert controller.state.info.finished is not None
