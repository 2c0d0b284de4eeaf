"""The reports plugin is harmless outside conformance runs (issue 6): the project's own tests load it too."""

from __future__ import annotations

import xml.etree.ElementTree as ET

import pytest

PLAIN = """
def test_good():
    assert True

def test_bad():
    assert 1 == 2
"""


def test_plain_run_keeps_pytest_html_and_junit_untouched(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(test_plain=PLAIN)
    result = pytester.runpytest(
        "-p",
        "no:cacheprovider",
        "--html",
        "r.html",
        "--self-contained-html",
        "--junitxml",
        "j.xml",
        "--cert-report",
        "cert",
    )
    result.assert_outcomes(passed=1, failed=1)
    page = (pytester.path / "r.html").read_text(encoding="utf-8")
    assert '<th class="sortable" data-column-type="result">Result</th>' in page
    assert "Verdict" not in page and "Overall verdict" not in page and "InterFlex" not in page
    names = sorted(c.get("name") for c in ET.parse(pytester.path / "j.xml").getroot().iter("testcase"))
    assert names == ["test_bad", "test_good"]
    assert not (pytester.path / "cert").exists()


def test_plain_run_without_pytest_html(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(test_plain=PLAIN)
    result = pytester.runpytest("-p", "no:cacheprovider", "-p", "no:html")
    result.assert_outcomes(passed=1, failed=1)


def test_cert_report_must_be_a_directory(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(test_plain=PLAIN)
    (pytester.path / "taken").write_text("a file")
    result = pytester.runpytest("-p", "no:cacheprovider", "--cert-report", "taken")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(["ERROR: --cert-report: taken exists and is not a directory"])


def test_cert_report_option_is_in_the_suite_group(pytester: pytest.Pytester) -> None:
    result = pytester.runpytest("--help")
    text = result.stdout.str()
    group = text.split("InterFlex conformance suite:")[1].split("\n\n")[0]
    assert "--cert-report=DIR" in group and "--target-url=URL" in group
