"""Verdict logic (ats.verdicts, ats.plugin.classify): one verdict per case, class verdicts, overall."""

from __future__ import annotations

import pytest

from ats.catalog import catalog
from ats.plugin import classify, classify_teardown
from ats.run import RunInfo, RunState
from ats.verdicts import (
    CONFORMANT,
    DESELECTED,
    FAIL,
    INCONCLUSIVE,
    NA,
    NOT_CONFORMANT,
    NOT_RUN,
    PASS,
    WAIVED,
    Failure,
    Inconclusive,
    aggregate_cases,
    fold,
    is_gating,
    merge_record,
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


def expected(*records: dict) -> dict[str, str]:
    """A suite that holds exactly the test cases of these records."""
    return {r["case"]: r["class"] for r in records}


def test_conformant_when_every_gating_case_passes_even_if_recommended_fails() -> None:
    records = [
        rec("IFX-AUTH-001", "core-auth", PASS),
        rec("IFX-REC-001", "recommended", FAIL),
        rec("IFX-DATE-001", "date-filter", NA),
        rec("IFX-PLAUS-001", "plausibility", PASS),
    ]
    summary = summarize(records, ICS, expected=expected(*records))
    assert summary.overall == CONFORMANT and summary.complete and summary.not_run == []
    assert summary.classes["recommended"].gating is False and summary.classes["recommended"].verdict == FAIL
    assert summary.classes["date-filter"].gating is False
    assert summary.classes["plausibility"].gating is True
    assert list(summary.classes) == ["core-auth", "plausibility", "date-filter", "recommended"]
    counts = summary.as_dict()["classes"]["core-auth"]["counts"]
    assert counts == {PASS: 1, FAIL: 0, WAIVED: 0, INCONCLUSIVE: 0, NA: 0}
    assert summary.as_dict()["complete"] is True


@pytest.mark.parametrize(
    ("cls", "verdict"), [("core-auth", FAIL), ("negotiation", INCONCLUSIVE), ("plausibility", FAIL)]
)
def test_not_conformant_on_a_gating_fail_or_inconclusive(cls: str, verdict: str) -> None:
    records = [rec("IFX-AUTH-002", "core-auth", PASS), rec("IFX-X-001", cls, verdict)]
    summary = summarize(records, ICS, expected=expected(*records))
    assert summary.overall == NOT_CONFORMANT and summary.complete


def test_undeclared_optional_class_does_not_gate() -> None:
    records = [rec("IFX-DATE-001", "date-filter", FAIL)]
    assert summarize(records, ICS, expected=expected(*records)).overall == CONFORMANT


def test_a_gating_case_without_records_makes_the_run_partial() -> None:
    """Issue 5 / PROFILE 9: every test of every mandatory and declared optional class must pass — a run
    that left one out (--ats-class, -k) proves nothing about it."""
    ran = [rec("IFX-REC-001", "recommended", PASS)]
    suite = {
        **expected(*ran),
        "IFX-AUTH-001": "core-auth",
        "IFX-PLAUS-001": "plausibility",
        "IFX-DATE-001": "date-filter",
    }
    summary = summarize(ran, ICS, expected=suite)
    assert summary.overall == NOT_CONFORMANT and summary.complete is False
    # the undeclared optional class (N/A) is not required; the declared one is
    assert summary.not_run == [
        {"case": "IFX-AUTH-001", "nodeid": None, "reason": NOT_RUN},
        {"case": "IFX-PLAUS-001", "nodeid": None, "reason": NOT_RUN},
    ]
    missing_recommended = summarize(
        [rec("IFX-AUTH-001", "core-auth", PASS)], ICS, expected=suite | {"IFX-PLAUS-001": "recommended"}
    )
    assert missing_recommended.overall == CONFORMANT  # non-gating cases may be left out


def test_the_default_suite_is_the_catalog() -> None:
    summary = summarize([rec("IFX-AUTH-001", "core-auth", PASS)], ICS)
    gating = {c for c, case in catalog().items() if is_gating(case.conformance_class, ICS)}
    assert summary.overall == NOT_CONFORMANT and not summary.complete
    assert {e["case"] for e in summary.not_run} == gating - {"IFX-AUTH-001"}


def test_deselected_items_of_a_gating_case_make_the_run_partial() -> None:
    ran = [rec("IFX-AUTH-001", "core-auth", PASS, "t::a[1]")]
    deselected = [
        {"nodeid": "t::a[2]", "case": "IFX-AUTH-001", "class": "core-auth"},
        {"nodeid": "t::b", "case": "IFX-AUTH-002", "class": "core-auth"},
        {"nodeid": "t::r", "case": "IFX-REC-001", "class": "recommended"},
    ]
    suite = {"IFX-AUTH-001": "core-auth", "IFX-AUTH-002": "core-auth", "IFX-REC-001": "recommended"}
    summary = summarize(ran, ICS, expected=suite, deselected=deselected)
    assert summary.overall == NOT_CONFORMANT and not summary.complete
    assert summary.not_run == [
        {"case": "IFX-AUTH-002", "nodeid": None, "reason": DESELECTED},
        {"case": None, "nodeid": "t::a[2]", "reason": DESELECTED},
    ]
    only_recommended = summarize(ran, ICS, expected=expected(*ran), deselected=deselected[2:])
    assert only_recommended.overall == CONFORMANT


def test_unrun_items_errors_and_interruption_are_never_conformant() -> None:
    ran = [rec("IFX-AUTH-001", "core-auth", PASS)]
    suite = expected(*ran)
    assert summarize(ran, ICS, expected=suite).overall == CONFORMANT
    unrun = summarize(ran, ICS, expected=suite, unrun_items=["t::x"])
    assert unrun.overall == NOT_CONFORMANT and unrun.not_run == [{"case": None, "nodeid": "t::x", "reason": NOT_RUN}]
    errored = summarize(ran, ICS, expected=suite, errors=["collection error: t.py"])
    assert (
        errored.overall == NOT_CONFORMANT
        and errored.complete
        and errored.as_dict()["errors"] == ["collection error: t.py"]
    )
    stopped = summarize(ran, ICS, expected=suite, interrupted=True)
    assert stopped.overall == NOT_CONFORMANT and not stopped.complete and stopped.as_dict()["interrupted"] is True


def test_a_failed_teardown_is_merged_into_the_items_record() -> None:
    state = RunState(RunInfo("http://t", None, {}, ICS), expected={"IFX-IDS-001": "core-ids"})
    state.add_record(rec("IFX-IDS-001", "core-ids", PASS, "t::a"))
    state.add_record(rec("IFX-IDS-001", "core-ids", PASS, "t::b"))
    late = rec("IFX-IDS-001", "core-ids", INCONCLUSIVE, "t::a", reason="teardown failed: OSError: x")
    state.add_record(late | {"cause": "environment"})
    assert [r["verdict"] for r in state.records] == [INCONCLUSIVE, PASS]
    assert state.records[0]["reason"] == "teardown failed: OSError: x" and state.records[0]["cause"] == "environment"
    assert state.records[0]["duration"] == 1.0
    assert state.summary().overall == NOT_CONFORMANT
    assert merge_record(rec("C", "core-ids", FAIL, reason="A1: x"), late)["reason"] == "A1: x"  # FAIL stays


def test_classify_teardown() -> None:
    assert classify_teardown(Failure("ST-9: x")) == (FAIL, "teardown failed: ST-9: x", None)
    assert classify_teardown(OSError("disk")) == (INCONCLUSIVE, "teardown failed: OSError: disk", "environment")
    assert classify_teardown(Inconclusive("gone", "target")) == (INCONCLUSIVE, "teardown failed: gone", "target")


def test_run_state_unrun_items() -> None:
    state = RunState(RunInfo("http://t", None, {}, ICS), collected={"a", "b", "c"}, finished_items={"a"})
    assert state.unrun_items() == ["b", "c"]


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

    controller = _Controller(RunState(RunInfo("http://t", None, {}, ICS), records=records, expected=expected(*records)))
    session = SimpleNamespace(
        exitstatus=pytest.ExitCode.TESTS_FAILED,
        config=SimpleNamespace(option=SimpleNamespace(ats_records=None)),
        shouldstop=False,
        shouldfail=False,
    )
    controller.pytest_sessionfinish(session, session.exitstatus)
    assert session.exitstatus == exit_code
    assert controller.state.info.finished is not None
