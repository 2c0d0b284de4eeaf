"""Only a complete run can be CONFORMANT (issue 5, PROFILE.md section 9), run like a user runs it.

A run that leaves gating test cases out (`--ats-class`, `-k`), stops early (`-x`, an interrupt) or has
pytest errors outside the test cases' verdicts (a failing teardown, a collection error) is NOT
CONFORMANT, exits non-zero and says why in the terminal, `--ats-records` and the certificate.
"""

from __future__ import annotations

import json
from pathlib import Path

import jsonschema
import pytest

from ats.catalog import catalog
from ats.verdicts import is_gating
from interflex._data import schemas_dir

TIMEOUT = 240
SCHEMA = json.loads((schemas_dir() / "results.schema.json").read_text(encoding="utf-8"))
PARTIAL = "gating test cases did not run \u2014 a certificate needs the whole suite"

FAIL_FIRST_RECOMMENDED = """
import pytest
from ats.verdicts import Failure

_failed = []

@pytest.hookimpl(trylast=True)
def pytest_collection_modifyitems(items):
    items.sort(key=lambda item: item.get_closest_marker("recommended") is None)

@pytest.fixture(autouse=True)
def _fail_first_recommended(request):
    if request.node.get_closest_marker("recommended") and not _failed:
        _failed.append(request.node.nodeid)
        raise Failure("REC: injected failure")
    yield
"""

TEARDOWN_ERRORS = """
import pytest

@pytest.fixture(autouse=True)
def _teardown_error(request):
    yield
    if request.node.name in ("test_ids_are_fresh[R1]", "test_token_response_no_store"):
        raise RuntimeError("injected teardown error")
"""

INTERRUPT = """
import pytest

@pytest.fixture(autouse=True)
def _interrupt(request):
    if request.node.name == "test_ids_are_fresh[R1]":
        raise KeyboardInterrupt
    yield
"""


def _run(pytester: pytest.Pytester, *args: str) -> pytest.RunResult:
    return pytester.runpytest_subprocess("-p", "no:cacheprovider", "--pyargs", "ats", *args, timeout=TIMEOUT)


def _output(result: pytest.RunResult) -> str:
    return result.stdout.str() + "\n" + result.stderr.str()


def _json(path: Path) -> dict:
    return json.loads(path.read_text(encoding="utf-8"))


def _gating_cases(ics: dict) -> set[str]:
    return {c for c, case in catalog().items() if is_gating(case.conformance_class, ics)}


def test_class_selection_is_a_partial_run_with_a_partial_certificate(pytester: pytest.Pytester) -> None:
    result = _run(pytester, "--ats-class", "recommended", "--cert-report", "cert", "--ats-records", "r.json")
    out = _output(result)
    assert result.ret == pytest.ExitCode.TESTS_FAILED, out
    data = _json(pytester.path / "r.json")
    summary = data["summary"]
    assert summary["overall"] == "NOT CONFORMANT" and summary["complete"] is False
    assert summary["classes"]["recommended"]["verdict"] == "PASS" and list(summary["classes"]) == ["recommended"]
    assert {e["case"] for e in summary["not_run"]} == _gating_cases(data["info"]["ics"])
    assert {e["reason"] for e in summary["not_run"]} == {"deselected"}
    assert f"partial run: {len(summary['not_run'])} {PARTIAL}" in out
    assert "overall verdict: NOT CONFORMANT" in out
    doc = _json(pytester.path / "cert" / "results.json")
    jsonschema.Draft202012Validator(SCHEMA, format_checker=jsonschema.FormatChecker()).validate(doc)
    assert doc["verdict"] == "NOT CONFORMANT" and doc["complete"] is False and doc["not_run"] == summary["not_run"]
    page = (pytester.path / "cert" / "certificate.html").read_text(encoding="utf-8")
    assert "Overall verdict: NOT CONFORMANT" in page and "<b>PARTIAL RUN</b>" in page


def test_one_case_by_keyword_is_a_partial_run(pytester: pytest.Pytester) -> None:
    result = _run(pytester, "-k", "test_post_ack", "--ats-records", "r.json")
    summary = _json(pytester.path / "r.json")["summary"]
    assert result.ret == pytest.ExitCode.TESTS_FAILED, _output(result)
    assert summary["overall"] == "NOT CONFORMANT" and summary["complete"] is False
    assert sum(c["counts"]["PASS"] for c in summary["classes"].values()) == 1
    assert PARTIAL in result.stdout.str() and "overall verdict: NOT CONFORMANT" in result.stdout.str()


def test_full_self_test_under_xdist_is_conformant_and_one_deselected_item_is_not(pytester: pytest.Pytester) -> None:
    full = _run(pytester, "-n", "2", "--ats-records", "full.json")
    summary = _json(pytester.path / "full.json")["summary"]
    assert full.ret == pytest.ExitCode.OK, _output(full)
    assert summary["overall"] == "CONFORMANT" and summary["complete"] is True and summary["not_run"] == []
    assert "partial run" not in full.stdout.str() and "overall verdict: CONFORMANT" in full.stdout.str()
    # -k on one parametrized item: the case still has records, the missing item is reported by the worker
    one_less = _run(pytester, "-n", "2", "-k", "not (test_ids_are_fresh and R1)", "--ats-records", "part.json")
    part = _json(pytester.path / "part.json")["summary"]
    assert one_less.ret == pytest.ExitCode.TESTS_FAILED, _output(one_less)
    assert part["overall"] == "NOT CONFORMANT" and part["complete"] is False
    assert part["not_run"] == [
        {"case": None, "nodeid": "cases/test_ids.py::test_ids_are_fresh[R1]", "reason": "deselected"}
    ]


def test_stopping_after_a_recommended_failure_is_not_conformant(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(failrec=FAIL_FIRST_RECOMMENDED)
    result = _run(pytester, "-p", "failrec", "-x", "--ats-records", "r.json")
    out = _output(result)
    summary = _json(pytester.path / "r.json")["summary"]
    assert result.ret == pytest.ExitCode.TESTS_FAILED, out
    assert summary["classes"] == {
        "recommended": {
            "gating": False,
            "counts": {"PASS": 0, "FAIL": 1, "WAIVED": 0, "INCONCLUSIVE": 0, "N/A": 0},
            "verdict": "FAIL",
        }
    }
    assert summary["overall"] == "NOT CONFORMANT" and summary["complete"] is False and summary["interrupted"] is True
    assert {e["reason"] for e in summary["not_run"]} == {"not run"}
    assert "INCOMPLETE (interrupted)" in out and "overall verdict: NOT CONFORMANT" in out


def test_failing_teardown_is_not_conformant(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(badteardown=TEARDOWN_ERRORS)
    result = _run(pytester, "-p", "badteardown", "--ats-records", "r.json")
    out = _output(result)
    data = _json(pytester.path / "r.json")
    assert result.ret == pytest.ExitCode.TESTS_FAILED, out
    assert data["summary"]["overall"] == "NOT CONFORMANT" and data["summary"]["complete"] is True
    ids = data["cases"]["IFX-IDS-002"]
    assert ids["verdict"] == "INCONCLUSIVE" and ids["cause"] == "environment"
    assert ids["reason"] == "teardown failed: RuntimeError: injected teardown error"
    assert data["cases"]["IFX-REC-001"]["verdict"] == "INCONCLUSIVE"  # not gating, but the run still fails:
    assert data["summary"]["errors"] == [
        "teardown failed: cases/test_ids.py::test_ids_are_fresh[R1]",
        "teardown failed: cases/test_recommended.py::test_token_response_no_store",
    ]
    assert len(data["records"]) == len({r["nodeid"] for r in data["records"]})  # one record per item
    assert "error outside the test cases: teardown failed" in out and "overall verdict: NOT CONFORMANT" in out


def test_collection_error_is_not_conformant(pytester: pytest.Pytester) -> None:
    pytester.mkpydir("broken")
    (pytester.path / "broken" / "test_broken.py").write_text("def test_x(:\n", encoding="utf-8")
    result = _run(pytester, "broken", "--continue-on-collection-errors", "--ats-records", "r.json")
    out = _output(result)
    summary = _json(pytester.path / "r.json")["summary"]
    assert result.ret == pytest.ExitCode.TESTS_FAILED, out
    assert summary["overall"] == "NOT CONFORMANT" and summary["complete"] is True
    assert all(c["verdict"] == "PASS" for c in summary["classes"].values() if c["gating"])
    assert summary["errors"] == ["collection error: broken/test_broken.py"]
    assert "error outside the test cases: collection error" in out


def test_interrupted_run_writes_an_interrupted_certificate(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(interrupt=INTERRUPT)
    result = _run(pytester, "-p", "interrupt", "--cert-report", "cert")
    out = _output(result)
    assert result.ret == pytest.ExitCode.INTERRUPTED, out
    assert "INCOMPLETE (interrupted)" in out and "overall verdict: NOT CONFORMANT" in out
    doc = _json(pytester.path / "cert" / "results.json")
    jsonschema.Draft202012Validator(SCHEMA, format_checker=jsonschema.FormatChecker()).validate(doc)
    assert doc["verdict"] == "NOT CONFORMANT" and doc["interrupted"] is True and doc["complete"] is False
    page = (pytester.path / "cert" / "certificate.html").read_text(encoding="utf-8")
    assert "PARTIAL RUN (interrupted)" in page and "Overall verdict: NOT CONFORMANT" in page
