"""`pytest --target-url URL` / `pytest --ixit FILE` without test paths runs the conformance suite exactly
as `interflex-ats` does (issue 9 §1); with test paths that leave the suite out, pytest runs them as before
and says in one line how to run the suite. Every run starts in an empty folder, as a vendor's would."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

from reference_server import ReferenceServer

TIMEOUT = 300
HINT = "interflex-ats: --target-url/--ixit apply to the conformance suite"


def _run(pytester: pytest.Pytester, *args: str) -> pytest.RunResult:
    return pytester.runpytest_subprocess("-p", "no:cacheprovider", *args, timeout=TIMEOUT)


def _interflex_ats(pytester: pytest.Pytester, *args: str) -> pytest.RunResult:
    script = str(Path(sys.executable).with_name("interflex-ats"))
    return pytester.run(script, "-p", "no:cacheprovider", *args, timeout=TIMEOUT)


def _output(result: pytest.RunResult) -> str:
    return result.stdout.str() + "\n" + result.stderr.str()


def _verdicts(path: Path) -> dict[str, str]:
    data = json.loads(path.read_text(encoding="utf-8"))
    return {r["nodeid"]: r["verdict"] for r in data["records"]} | {"overall": data["summary"]["overall"]}


def test_target_url_alone_runs_the_whole_suite_with_reports_and_xdist(pytester: pytest.Pytester) -> None:
    with ReferenceServer() as server:
        result = _run(
            pytester, "--target-url", server.base_url, "-n", "2", "--cert-report", "cert", "--junitxml", "junit.xml"
        )
    out = _output(result)
    assert result.ret == pytest.ExitCode.OK, out
    assert "overall verdict: CONFORMANT" in out and HINT not in out
    assert (pytester.path / "cert" / "certificate.html").is_file() and (pytester.path / "junit.xml").is_file()
    results = json.loads((pytester.path / "cert" / "results.json").read_text(encoding="utf-8"))
    assert results["complete"] is True and len(results["cases"]) > 100


def test_same_verdicts_as_interflex_ats(pytester: pytest.Pytester) -> None:
    """Against a faulty target both ways give the same items, verdicts and exit code (`--ixit` alone as well;
    one class keeps it short: a partial run, NOT CONFORMANT either way)."""
    ixit = pytester.path / "ixit.yaml"
    with ReferenceServer(fault="nack-post-202") as server:
        ixit.write_text(
            (Path(__file__).parents[1] / "fixtures/ixit/reference.yaml")
            .read_text(encoding="utf-8")
            .replace("http://127.0.0.1:8080/interflex/api/v1", server.base_url),
            encoding="utf-8",
        )
        selection = ("--ixit", str(ixit), "--ats-class", "core-nacks")
        plain = _run(pytester, *selection, "--ats-records", "plain.json")
        cli = _interflex_ats(pytester, *selection, "--ats-records", "cli.json")
    assert plain.ret == cli.ret == pytest.ExitCode.TESTS_FAILED, _output(plain)
    plain_verdicts, cli_verdicts = _verdicts(pytester.path / "plain.json"), _verdicts(pytester.path / "cli.json")
    assert plain_verdicts == cli_verdicts
    assert plain_verdicts["overall"] == "NOT CONFORMANT" and "FAIL" in plain_verdicts.values()
    assert len(plain_verdicts) > 5


def test_test_paths_without_the_suite_run_as_before_with_one_hint(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(test_plain="def test_plain():\n    assert True\n")
    with ReferenceServer() as server:
        result = _run(pytester, "test_plain.py", "--target-url", server.base_url, "-n", "2")
    out = _output(result)
    assert result.ret == pytest.ExitCode.OK, out
    result.assert_outcomes(passed=1)
    assert out.count(HINT) == 1 and "InterFlex conformance" not in out


def test_testpaths_give_way_to_the_suite_but_runs_without_suite_options_do_not(pytester: pytest.Pytester) -> None:
    """A project with `testpaths` (like this repository): `pytest` runs its tests, `pytest --target-url` the suite."""
    pytester.makeini("[pytest]\ntestpaths = checks\n")
    pytester.mkpydir("checks").joinpath("test_own.py").write_text("def test_own():\n    assert True\n")
    own = _run(pytester, "--collect-only", "-q")
    assert own.ret == pytest.ExitCode.OK and "checks/test_own.py::test_own" in own.stdout.str()
    assert HINT not in _output(own)
    with ReferenceServer() as server:
        suite = _run(pytester, "--target-url", server.base_url, "--collect-only", "-q")
    nodeids = [line for line in suite.stdout.lines if "::" in line]
    assert suite.ret == pytest.ExitCode.OK, _output(suite)
    assert len(nodeids) > 100 and all(n.startswith("cases/test_") for n in nodeids), nodeids[:3]
