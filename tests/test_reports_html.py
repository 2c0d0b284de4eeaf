"""The pytest-html report of a suite run shows a failing row's evidence once (issue 9 §6): the recorded
exchanges as the HTML extra, not a second time as text in the row's log."""

from __future__ import annotations

import html
import json
import re

import pytest


def _rows(page: str) -> list[dict]:
    blob = re.search(r'data-jsonblob="([^"]*)"', page).group(1)
    return [row for rows in json.loads(html.unescape(blob))["tests"].values() for row in rows]


def _verdict(row: dict) -> str:
    return re.search(r'class="col-verdict"[^>]*>([^<]*)<', "".join(row["resultsTableRow"])).group(1)


def test_failing_rows_show_their_evidence_once(pytester: pytest.Pytester) -> None:
    result = pytester.runpytest_subprocess(
        "-p",
        "no:cacheprovider",
        "--pyargs",
        "ats.cases.test_auth",
        "--ats-reference-fault",
        "accept-any-password",
        "--html",
        "report.html",
        "--self-contained-html",
        timeout=240,
    )
    assert result.ret == pytest.ExitCode.TESTS_FAILED, result.stdout.str()
    assert "HTTP exchanges of IFX-AUTH-003" in result.stdout.str()  # the terminal keeps the text evidence
    rows = _rows((pytester.path / "report.html").read_text(encoding="utf-8"))
    failing = [row for row in rows if _verdict(row) == "FAIL"]
    assert failing and len(failing) < len(rows)
    for row in failing:
        extras = "".join(e["content"] for e in row["extras"] if e["format_type"] == "html")
        header = "Content-Type: application/x-www-form-urlencoded"  # of the recorded A1 request
        assert extras.count('<table class="evidence">') == 1 and extras.count(header) == 1
        assert header not in row["log"] and "interflex-ats evidence" not in row["log"], row["log"]
        assert row["log"].startswith("FAIL IFX-AUTH-003 [PROFILE 3, A1, AU-3, RFC 6749 5.2]: AU-3: ")
    passing = next(row for row in rows if _verdict(row) == "PASS")
    assert passing["extras"] == []


@pytest.mark.parametrize(
    ("verdict", "longrepr", "sections", "log"),
    [
        (  # INCONCLUSIVE: pytest's skip tuple becomes the finding; the evidence section goes
            "INCONCLUSIVE",
            ("/x/test_requests.py", 22, "INCONCLUSIVE (environment) IFX-REQ-001 [R2]: no answer"),
            [("interflex-ats evidence", "#1 POST http://t/x -> None"), ("Captured stdout call", "hello")],
            ["INCONCLUSIVE (environment) IFX-REQ-001 [R2]: no answer\n", ("Captured stdout call", "hello")],
        ),
        (  # a FAIL by a plain exception: the traceback stays, the section with finding and evidence goes
            "FAIL",
            "Traceback ...\nKeyError: 'x'",
            [("interflex-ats evidence", "FAIL IFX-REQ-001 [R2]: KeyError: 'x'\n\n#1 POST http://t/x -> 201")],
            ["Traceback ...\nKeyError: &#x27;x&#x27;\n"],
        ),
    ],
)
def test_the_log_of_other_failing_rows_keeps_no_text_evidence(
    verdict: str, longrepr: object, sections: list, log: list
) -> None:
    from types import SimpleNamespace

    from ats.reporting.html import HtmlReportHooks

    rec = {"case": "IFX-REQ-001", "verdict": verdict}
    report = SimpleNamespace(user_properties=[("ats", rec)], longrepr=longrepr)
    data = [html.escape(str(longrepr)) + "\n"]
    data += [_section(*section) for section in sections]
    HtmlReportHooks(None).pytest_html_results_table_html(report, data)  # type: ignore[arg-type]
    assert data == [entry if isinstance(entry, str) else _section(*entry) for entry in log]


def _section(name: str, text: str) -> str:
    """A report section as pytest-html 4 puts it into a row's log."""
    return f"{' ' + html.escape(name) + ' ':-^80}\n{html.escape(text)}"
