"""Unit tests of the reports (issue 6) on hand-made verdict records (contract C4)."""

from __future__ import annotations

import hashlib
import json
import re
import shutil
import subprocess
import xml.etree.ElementTree as ET
from html.parser import HTMLParser
from pathlib import Path
from types import SimpleNamespace

import jsonschema
import pytest

from ats.reporting.certificate import SHOWN_BODY, SHOWN_EXCHANGES, render_certificate
from ats.reporting.digest import folder_digest, manifest, sha256_file, verify_sha256sum, write_sha256sum
from ats.reporting.document import elide_argv, environment, report_title, results_document, target_host
from ats.reporting.html import HtmlReportHooks
from ats.reporting.output import write_cert_report
from ats.reporting.svg import class_chart
from ats.run import RunInfo, RunState
from ats.verdicts import aggregate_cases, summarize
from interflex._data import schemas_dir

SECRET = "S3cr3t-Pa55w0rd-xyz"
TOKEN = "tok3nV4lue_AbCdEfGhIjKlMnOpQrStUvWxYz012345"
SCHEMA = json.loads((schemas_dir() / "results.schema.json").read_text(encoding="utf-8"))


def exchange(status: int | None = 200, body: str = '{"token_type": "mac"}', error: str | None = None) -> dict:
    return {
        "method": "POST",
        "url": "http://127.0.0.1:9/interflex/api/v1/oauth/token",
        "status": status,
        "request_headers": {"Content-Type": "application/x-www-form-urlencoded", "Authorization": "Bearer ***"},
        "request_body": "grant_type=password&username=dso1&password=***",
        "response_headers": {"Content-Type": "application/json"},
        "response_body": body,
        "elapsed_ms": 1.5,
        "error": error,
    }


def rec(
    case: str,
    cls: str,
    verdict: str,
    reason: str | None = None,
    cause: str | None = None,
    n: int = 0,
    exchanges: list | None = None,
) -> dict:
    return {
        "case": case,
        "title": f"title of {case}",
        "class": cls,
        "references": ["PROFILE 3", "A1"],
        "nodeid": f"ats/cases/test_x.py::test_{case.lower()}[{n}]",
        "verdict": verdict,
        "reason": reason,
        "cause": cause,
        "duration": 0.25,
        "exchanges": exchanges if exchanges is not None else [exchange()],
    }


RECORDS = [
    rec("IFX-AUTH-001", "core-auth", "PASS"),
    rec("IFX-AUTH-002", "core-auth", "PASS", n=0),
    rec("IFX-AUTH-002", "core-auth", "FAIL", "A1: token_type must be Bearer; the target sent 'mac'", n=1),
    rec("IFX-IDS-001", "core-ids", "PASS"),
    rec("IFX-REQ-001", "core-requests", "INCONCLUSIVE", "login of dso failed", "precondition"),
    rec("IFX-PLAUS-001", "plausibility", "N/A", "N/A: optional class plausibility is not declared in the ICS"),
    rec("IFX-REC-001", "recommended", "FAIL", "AU-6: a used refresh token SHOULD be rejected"),
]
ENV = {
    "catalog_sha256": "a" * 64,
    "schemas_sha256": "b" * 64,
    "python": "3.11.2",
    "implementation": "CPython",
    "platform": "Linux-x86_64",
    "packages": {"pytest": "9.2.0", "interflex-ats": "0.1.0"},
}


def info(**overrides) -> RunInfo:
    values = {
        "target_url": f"https://user:{SECRET}@flex.example.net:8443/interflex/api/v1",
        "server_header": "ExampleFlex/2.1",
        "entity_ids": {"dso": "dso1", "agg1": "agg1", "agg2": "agg2"},
        "ics": {"plausibility": False, "date-filter": True},
        "started": "2026-11-26T05:04:32Z",
        "finished": "2026-11-26T05:05:02Z",
        "suite_version": "0.1.0",
        "argv": ["interflex-ats", "--ixit", "ixit.yaml", "--api-token", TOKEN, f"--db-password={SECRET}", "-n", "2"],
        "secrets": [SECRET, TOKEN],
    }
    values.update(overrides)
    return RunInfo(**values)


def document(
    records: list[dict] = RECORDS, *, suite: dict | None = None, state: dict | None = None, **overrides
) -> dict:
    """The results document of `records`; `suite` (case id -> class) defaults to the records' own cases
    (a complete run); `state` passes completeness arguments (unrun_items, errors, ...) to `summarize`."""
    run = info(**overrides)
    suite = {r["case"]: r["class"] for r in records} if suite is None else suite
    return results_document(run, summarize(records, run.ics, expected=suite, **(state or {})), records, env=ENV)


# -- digests ---------------------------------------------------------------------------------
def test_folder_digest_is_sha256_of_the_sorted_sha256sum_manifest(tmp_path: Path) -> None:
    (tmp_path / "b.json").write_bytes(b'{"b": 1}')
    (tmp_path / "a.json").write_bytes(b'{"a": 1}')
    (tmp_path / ".hidden").write_bytes(b"ignored")
    (tmp_path / "sub").mkdir()
    a_sum, b_sum = hashlib.sha256(b'{"a": 1}').hexdigest(), hashlib.sha256(b'{"b": 1}').hexdigest()
    expected_manifest = f"{a_sum}  a.json\n{b_sum}  b.json\n"
    assert manifest(tmp_path) == expected_manifest
    assert folder_digest(tmp_path) == hashlib.sha256(expected_manifest.encode()).hexdigest()
    before = folder_digest(tmp_path)
    (tmp_path / "a.json").write_bytes(b'{"a": 2}')
    assert folder_digest(tmp_path) != before


@pytest.mark.skipif(shutil.which("sha256sum") is None, reason="coreutils sha256sum is not installed")
def test_schemas_digest_matches_the_documented_coreutils_command() -> None:
    """docs/reports.md: `cd schemas && LC_ALL=C sha256sum -- * | sha256sum`."""
    out = subprocess.run(
        "LC_ALL=C sha256sum -- * | sha256sum",
        shell=True,
        cwd=schemas_dir(),
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split()[0]
    assert folder_digest(schemas_dir()) == out == environment()["schemas_sha256"]


def test_sha256sum_file_verifies_and_detects_tampering(tmp_path: Path) -> None:
    target = tmp_path / "results.json"
    target.write_text('{"verdict": "CONFORMANT"}\n')
    sums = write_sha256sum(target)
    assert sums.name == "results.json.sha256"
    assert sums.read_text() == f"{sha256_file(target)}  results.json\n"
    assert verify_sha256sum(sums)
    target.write_text('{"verdict": "CONFORMANT "}\n')
    assert not verify_sha256sum(sums)


# -- results document --------------------------------------------------------------------------
def test_document_verdicts_come_from_ats_verdicts_and_validate_against_the_schema() -> None:
    doc = document()
    jsonschema.Draft202012Validator(SCHEMA, format_checker=jsonschema.FormatChecker()).validate(doc)
    suite = {r["case"]: r["class"] for r in RECORDS}
    assert doc["verdict"] == "NOT CONFORMANT" == summarize(RECORDS, info().ics, expected=suite).overall
    assert doc["complete"] is True and doc["not_run"] == [] and doc["errors"] == [] and doc["interrupted"] is False
    aggregated = aggregate_cases(RECORDS)
    assert [c["id"] for c in doc["cases"]] == [
        "IFX-AUTH-001",
        "IFX-AUTH-002",
        "IFX-IDS-001",
        "IFX-REQ-001",
        "IFX-PLAUS-001",
        "IFX-REC-001",
    ]
    for case in doc["cases"]:
        assert case["verdict"] == aggregated[case["id"]]["verdict"]
        assert case["references"] == ["PROFILE 3", "A1"]
    auth2 = doc["cases"][1]
    assert auth2["verdict"] == "FAIL" and auth2["tests"] == 2 and auth2["duration"] == 0.5
    assert auth2["message"].startswith("A1: token_type must be Bearer")
    assert [e["nodeid"] for e in auth2["evidence"]] == ["ats/cases/test_x.py::test_ifx-auth-002[1]"]
    assert doc["cases"][0]["evidence"] == [] and doc["cases"][0]["message"] is None
    assert doc["cases"][3]["cause"] == "precondition"
    classes = {c["name"]: c for c in doc["classes"]}
    assert classes["core-auth"]["counts"] == {"PASS": 1, "FAIL": 1, "WAIVED": 0, "INCONCLUSIVE": 0, "N/A": 0}
    assert classes["plausibility"] == {
        "name": "plausibility",
        "requirement": "optional",
        "gating": False,
        "counts": {"PASS": 0, "FAIL": 0, "WAIVED": 0, "INCONCLUSIVE": 0, "N/A": 1},
        "verdict": "N/A",
    }
    assert classes["recommended"]["gating"] is False and classes["recommended"]["verdict"] == "FAIL"
    assert doc["totals"] == {"PASS": 2, "FAIL": 2, "WAIVED": 0, "INCONCLUSIVE": 1, "N/A": 1}
    assert doc["run"] == {"started": "2026-11-26T05:04:32Z", "finished": "2026-11-26T05:05:02Z", "duration": 30.0}
    assert doc["suite"]["catalog_sha256"] == "a" * 64 and doc["reproduce"]["packages"]["pytest"] == "9.2.0"


def test_only_recommended_failures_keep_the_target_conformant() -> None:
    records = [rec("IFX-AUTH-001", "core-auth", "PASS"), rec("IFX-REC-001", "recommended", "FAIL", "SHOULD")]
    doc = document(records)
    assert doc["verdict"] == "CONFORMANT"
    jsonschema.validate(doc, SCHEMA)


def test_partial_run_document_says_so_and_validates() -> None:
    """Issue 5: a run that left out gating test cases is never CONFORMANT, and its results say why."""
    records = [rec("IFX-REC-001", "recommended", "PASS")]
    suite = {"IFX-REC-001": "recommended", "IFX-AUTH-001": "core-auth", "IFX-IDS-001": "core-ids"}
    doc = document(
        records, suite=suite, state={"deselected": [{"nodeid": "n", "case": "IFX-IDS-001", "class": "core-ids"}]}
    )
    jsonschema.Draft202012Validator(SCHEMA, format_checker=jsonschema.FormatChecker()).validate(doc)
    assert doc["verdict"] == "NOT CONFORMANT" and doc["complete"] is False and doc["interrupted"] is False
    assert doc["not_run"] == [
        {"case": "IFX-AUTH-001", "nodeid": None, "reason": "not run"},
        {"case": "IFX-IDS-001", "nodeid": None, "reason": "deselected"},
    ]
    page_html = render_certificate(doc)
    assert 'class="verdict nok"' in page_html and "Overall verdict: NOT CONFORMANT" in page_html
    assert "<b>PARTIAL RUN</b>: 2 gating test cases and 0 test items did not run" in page_html
    assert "IFX-IDS-001 (deselected)" in page_html


def test_interrupted_run_and_errors_in_the_certificate() -> None:
    records = [rec("IFX-AUTH-001", "core-auth", "PASS")]
    doc = document(
        records, state={"unrun_items": ["t::x"], "interrupted": True, "errors": [f"teardown failed: {SECRET}"]}
    )
    jsonschema.validate(doc, SCHEMA)
    assert doc["verdict"] == "NOT CONFORMANT" and doc["interrupted"] is True and doc["complete"] is False
    assert doc["errors"] == ["teardown failed: ***"]  # redacted like every free text
    page_html = render_certificate(doc)
    assert "PARTIAL RUN (interrupted)" in page_html and "t::x (not run)" in page_html
    assert "Errors outside the test cases" in page_html and SECRET not in page_html
    errors_only = render_certificate(document(records, state={"errors": ["collection error: x.py"]}))
    assert "collection error: x.py" in errors_only and "PARTIAL RUN" not in errors_only
    assert "Overall verdict: NOT CONFORMANT" in errors_only


def test_document_never_holds_secrets_or_url_userinfo() -> None:
    leaky = [
        rec(
            "IFX-AUTH-003",
            "core-auth",
            "FAIL",
            f"the target echoed {SECRET} and {TOKEN}",
            exchanges=[exchange(body=f'{{"echo": "{SECRET}", "t": "{TOKEN}"}}')],
        )
    ]
    text = json.dumps(document(leaky, server_header=f"Leaky/1 ({TOKEN})"))
    assert SECRET not in text and TOKEN not in text
    doc = document(leaky)
    assert doc["target"]["url"] == "https://***@flex.example.net:8443/interflex/api/v1"
    assert doc["target"]["host"] == "flex.example.net:8443"
    assert doc["reproduce"]["command"] == ("interflex-ats --ixit ixit.yaml --api-token '***' '--db-password=***' -n 2")


@pytest.mark.parametrize(
    ("argv", "expected"),
    [
        (["pytest", "--pyargs", "ats", "-k", "auth"], ["pytest", "--pyargs", "ats", "-k", "auth"]),
        (["x", "--client-secret", "v", "--x"], ["x", "--client-secret", "***", "--x"]),
        (["x", "--API_KEY=v"], ["x", "--API_KEY=***"]),
        (["x", "--target-url", "http://u:p@h/b"], ["x", "--target-url", "http://***@h/b"]),
        (["x", "--note", "has hunter2 inside"], ["x", "--note", "has *** inside"]),
    ],
)
def test_elide_argv(argv: list[str], expected: list[str]) -> None:
    assert elide_argv(argv, ["hunter2"]) == expected


def test_title_carries_host_and_utc_start_time() -> None:
    title = report_title("conformance certificate", "http://127.0.0.1:5123/x", "2026-11-26T06:04:32+01:00")
    assert title == "InterFlex conformance certificate \u2014 127.0.0.1:5123 \u2014 2026-11-26 05:04:32 UTC"
    assert target_host("") == "unknown target"


# -- certificate.html ------------------------------------------------------------------------------
class _Page(HTMLParser):
    """Collects tags, attributes and the visible text of a page."""

    def __init__(self) -> None:
        super().__init__()
        self.tags: list[tuple[str, dict]] = []
        self.text: list[str] = []
        self._stack: list[str] = []

    def handle_starttag(self, tag: str, attrs: list) -> None:
        self.tags.append((tag, dict(attrs)))
        self._stack.append(tag)

    def handle_endtag(self, tag: str) -> None:
        if tag in self._stack:
            while self._stack.pop() != tag:
                pass

    def handle_data(self, data: str) -> None:
        self.text.append((self._stack[-1] if self._stack else "", data))


def test_certificate_is_self_contained_and_shows_every_required_field() -> None:
    doc = document()
    page_html = render_certificate(doc)
    page = _Page()
    page.feed(page_html)
    tags = [t for t, _ in page.tags]
    assert "script" not in tags and "link" not in tags and "img" not in tags and "iframe" not in tags
    assert not re.search(r"""(src|href)\s*=\s*["']?(https?:)?//""", page_html)
    assert "url(" not in page_html and "@import" not in page_html
    title = "InterFlex conformance certificate \u2014 flex.example.net:8443 \u2014 2026-11-26 05:04:32 UTC"
    assert ("title", title) in page.text and ("h1", title) in page.text
    text = " ".join(t for _, t in page.text)
    for needle in (
        "Overall verdict: NOT CONFORMANT",
        "https://***@flex.example.net:8443/interflex/api/v1",
        "ExampleFlex/2.1",
        "dso: dso1",
        "date-filter: declared",
        "plausibility: not declared",
        "interflex-ats 0.1.0",
        "a" * 64,
        "b" * 64,
        "2026-11-26T05:04:32Z",
        "2026-11-26T05:05:02Z",
        "30.0 s",
        "Reproduce",
        "CPython 3.11.2",
        "pytest 9.2.0",
        "interflex-ats --ixit ixit.yaml --api-token '***'",
    ):
        assert needle in text, needle
    assert 'id="classes"' in page_html and page_html.count("<svg") == 1
    classes_table = page_html.split('id="classes"')[1].split("</table>")[0]
    for cls in ("core-auth", "core-ids", "core-requests", "plausibility", "recommended"):
        assert f"<td>{cls}</td>" in classes_table
    findings = page_html.split("Findings")[1].split("All test cases")[0]
    assert 'id="IFX-AUTH-002"' in findings and 'id="IFX-REQ-001"' in findings and 'id="IFX-REC-001"' in findings
    assert 'id="IFX-AUTH-001"' not in findings and 'id="IFX-PLAUS-001"' not in findings
    assert "login of dso failed" in findings and "precondition" in findings
    assert "grant_type=password&amp;username=dso1&amp;password=***" in findings
    assert SECRET not in page_html and TOKEN not in page_html


def test_certificate_escapes_target_data_and_caps_long_evidence() -> None:
    hostile = "<script>alert(1)</script>"
    many = [exchange(body=f"{i:02d}:" + "x" * (SHOWN_BODY + 47)) for i in range(SHOWN_EXCHANGES + 3)]
    doc = document([rec("IFX-ROB-001", "robustness", "FAIL", hostile, exchanges=many)], server_header=hostile)
    page_html = render_certificate(doc)
    assert "<script>" not in page_html and "&lt;script&gt;alert(1)&lt;/script&gt;" in page_html
    assert "3 earlier exchanges of this test are in results.json" in page_html
    assert "[50 more characters in results.json]" in page_html
    assert ">03:x" in page_html and f">{SHOWN_EXCHANGES + 2}:x" in page_html and ">02:x" not in page_html
    assert len(doc["cases"][0]["evidence"][0]["exchanges"]) == SHOWN_EXCHANGES + 3  # all kept in results.json


def test_certificate_of_a_conformant_run_has_no_findings() -> None:
    page_html = render_certificate(document([rec("IFX-AUTH-001", "core-auth", "PASS")]))
    assert "Overall verdict: CONFORMANT" in page_html and 'class="verdict ok"' in page_html
    assert "None: every test case passed or was not applicable." in page_html
    assert 'id="partial"' not in page_html


def test_chart_bars_are_proportional_to_the_counts() -> None:
    svg = class_chart(
        [
            {"name": "core-auth", "counts": {"PASS": 6, "FAIL": 2, "WAIVED": 0, "INCONCLUSIVE": 0, "N/A": 0}},
            {"name": "date-filter", "counts": {"PASS": 0, "FAIL": 0, "WAIVED": 0, "INCONCLUSIVE": 0, "N/A": 4}},
        ]
    )
    root = ET.fromstring(svg)
    ns = "{http://www.w3.org/2000/svg}"
    bars = [r for r in root.iter(f"{ns}rect") if r.find(f"{ns}title") is not None]
    widths = {r.find(f"{ns}title").text: float(r.get("width")) for r in bars}
    assert set(widths) == {"core-auth: 6 PASS", "core-auth: 2 FAIL", "date-filter: 4 N/A"}
    assert widths["core-auth: 6 PASS"] == pytest.approx(3 * widths["core-auth: 2 FAIL"])
    assert widths["date-filter: 4 N/A"] == pytest.approx(widths["core-auth: 6 PASS"] * 4 / 6)
    assert [r.get("fill") for r in bars] == ["#2e7d32", "#c62828", "#9e9e9e"]
    assert "no test case ran" in class_chart([])


def test_write_cert_report_writes_the_three_files(tmp_path: Path) -> None:
    doc = document()
    paths = write_cert_report(tmp_path / "out", doc)
    assert [p.name for p in paths] == ["certificate.html", "results.json", "results.json.sha256"]
    assert json.loads((tmp_path / "out" / "results.json").read_text()) == doc
    assert verify_sha256sum(tmp_path / "out" / "results.json.sha256")


# -- pytest-html hooks --------------------------------------------------------------------------------
def _cells() -> list[str]:
    return [
        '<td class="col-result">Failed</td>',
        '<td class="col-testId">t::x</td>',
        '<td class="col-duration">5 ms</td>',
        '<td class="col-links"></td>',
    ]


def test_html_rows_show_our_verdict_and_keep_pytest_html_filters_working() -> None:
    state = RunState(info=info(), records=list(RECORDS))
    hooks = HtmlReportHooks(state)
    header = ['<th class="sortable" data-column-type="result">Result</th>', "<th>Test</th>", "<th>D</th>", "<th>L</th>"]
    hooks.pytest_html_results_table_header(header)
    assert len(header) == 9 and "hidden" in header[0] and ">Verdict<" in header[1]
    cells = _cells()
    report = SimpleNamespace(user_properties=[("ats", RECORDS[2])])
    hooks.pytest_html_results_table_row(report, cells)
    assert len(cells) == len(header)
    assert cells[0] == '<td hidden class="col-result">Failed</td>'  # pytest-html filters on this text
    assert re.fullmatch(r'<td class="col-verdict" style="[^"]+">FAIL</td>', cells[1])
    assert cells[2:6] == [
        '<td class="col-case">IFX-AUTH-002</td>',
        '<td class="col-title">title of IFX-AUTH-002</td>',
        '<td class="col-class">core-auth</td>',
        '<td class="col-refs">PROFILE 3, A1</td>',
    ]
    plain = _cells()
    hooks.pytest_html_results_table_row(SimpleNamespace(user_properties=[]), plain)
    assert plain[1] == '<td class="col-verdict">Failed</td>' and plain[2] == '<td class="col-case"></td>'


def test_html_failing_rows_carry_evidence_and_summary_has_class_verdicts() -> None:
    pytest.importorskip("pytest_html")
    state = RunState(info=info(), records=list(RECORDS))
    hooks = HtmlReportHooks(state)
    failing = SimpleNamespace(user_properties=[("ats", RECORDS[2])])
    hooks.pytest_runtest_logreport(failing)
    [extra] = failing.extras
    assert extra["format_type"] == "html" and "A1: token_type must be Bearer" in extra["content"]
    assert "oauth/token" in extra["content"] and "password=***" in extra["content"]
    passing = SimpleNamespace(user_properties=[("ats", RECORDS[0])])
    hooks.pytest_runtest_logreport(passing)
    assert not hasattr(passing, "extras")
    title_holder = SimpleNamespace(title="report.html")
    hooks.pytest_html_report_title(title_holder)
    expected = "InterFlex conformance report \u2014 flex.example.net:8443 \u2014 2026-11-26 05:04:32 UTC"
    assert title_holder.title == expected
    prefix: list[str] = []
    hooks.pytest_html_results_summary(prefix, [], [], session=None)
    [fragment] = prefix
    assert "Overall verdict: NOT CONFORMANT" in fragment
    assert re.search(r"<td>core-auth</td><td>yes</td>.*?>1</td>.*?>1</td>.*?>0</td>.*?>0</td>.*?FAIL</td>", fragment)
    empty: list[str] = []
    HtmlReportHooks(RunState(info=info())).pytest_html_results_summary(empty, [], [], session=None)
    assert empty == []
