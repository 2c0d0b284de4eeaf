"""pytest-html (4.x) integration: verdict columns, evidence of failing rows, verdict summary, title.

Registered by `ats.reporting.plugin` on the controller only when `--html` is active and the run
is a conformance suite run; every hook is `optionalhook` so pytest without pytest-html is unaffected.

pytest-html's script filters, sorts and colours rows by the text of the `col-result` cell (its
outcome words), so that cell stays (hidden) and a visible "Verdict" column shows the suite's verdict.
"""

from __future__ import annotations

from html import escape
from typing import Any

import pytest

from ats.plugin import EVIDENCE_SECTION
from ats.reporting.certificate import EVIDENCE_CSS, render_evidence
from ats.reporting.document import evidence_item, report_title
from ats.reporting.records import ats_record
from ats.run import RunState
from ats.verdicts import FAIL, INCONCLUSIVE, PASSING, VERDICTS, WAIVED

_EVIDENCE_BANNER = f"{' ' + EVIDENCE_SECTION + ' ':-^80}\n"  # how pytest-html heads a report section
VERDICT_COLORS = {
    "PASS": "#1b5e20",
    "FAIL": "#b71c1c",
    "WAIVED": "#6a1b9a",
    "INCONCLUSIVE": "#bf360c",
    "N/A": "#616161",
}


def _td(column: str, text: str, style: str = "") -> str:
    style_attr = f' style="{style}"' if style else ""
    return f'<td class="col-{column}"{style_attr}>{text}</td>'


def _verdict_td(verdict: str) -> str:
    color = VERDICT_COLORS.get(verdict, "inherit")
    return _td("verdict", escape(verdict), f"color:{color};font-weight:bold")


def _case_td(case: str) -> str:
    return _td("case", escape(case))


def show_waived_rows(tests: dict[str, list[dict[str, Any]]], waived: list[str]) -> None:
    """Turn the FAIL verdict cell of each row of a waived case into WAIVED (pytest-html's row data)."""
    failed, cases = _verdict_td(FAIL), {_case_td(case) for case in waived}
    for entries in tests.values():
        for entry in entries:
            row = entry.get("resultsTableRow") or []
            if len(row) > 2 and row[1] == failed and row[2] in cases:
                row[1] = _verdict_td(WAIVED)
                entry["verdict"] = WAIVED  # the sort key pytest-html took from the cell


class HtmlReportHooks:
    """The pytest-html hooks of one conformance run (state: the run and pytest-html's report data)."""

    def __init__(self, state: RunState) -> None:
        self.state = state
        self.report_data: Any = None

    def _title(self) -> str:
        return report_title("conformance report", self.state.info.target_url, self.state.info.started)

    @pytest.hookimpl(optionalhook=True)
    def pytest_html_report_title(self, report: Any) -> None:
        self.report_data = report
        report.title = self._title()

    @pytest.hookimpl(optionalhook=True)
    def pytest_html_results_table_header(self, cells: list[str]) -> None:
        cells[0] = '<th class="sortable" data-column-type="result" hidden>Result</th>'
        cells[1:1] = [
            '<th class="sortable" data-column-type="verdict">Verdict</th>',
            '<th class="sortable" data-column-type="case">Test case</th>',
            "<th>Title</th>",
            '<th class="sortable" data-column-type="class">Class</th>',
            "<th>References</th>",
        ]

    @pytest.hookimpl(optionalhook=True)
    def pytest_html_results_table_row(self, report: Any, cells: list[str]) -> None:
        rec = ats_record(report)
        cells[0] = cells[0].replace("<td ", "<td hidden ", 1)
        if rec is None:  # not a test case (e.g. a teardown error row): pytest's word, no case data
            outcome = cells[0].split(">", 1)[1].rsplit("</td>", 1)[0]
            row = [_td("verdict", outcome), _td("case", ""), _td("title", ""), _td("class", ""), _td("refs", "")]
        else:
            row = [
                _verdict_td(str(rec.get("verdict"))),
                _case_td(str(rec.get("case") or "")),
                _td("title", escape(str(rec.get("title") or ""))),
                _td("class", escape(str(rec.get("class") or ""))),
                _td("refs", escape(", ".join(map(str, rec.get("references") or [])))),
            ]
        cells[1:1] = row

    @pytest.hookimpl(optionalhook=True)
    def pytest_html_results_summary(
        self, prefix: list[str], summary: list[str], postfix: list[str], session: Any
    ) -> None:
        if self.report_data is not None:  # the target and start time are final now
            self.report_data.title = self._title()
        if not self.state.records:
            return
        waived = self.state.summary().waived
        if waived and self.report_data is not None:  # known only now: rows were made as the tests ended
            show_waived_rows(self.report_data.data.get("tests") or {}, waived)
        prefix.append(verdict_summary_html(self.state))

    @pytest.hookimpl(optionalhook=True)
    def pytest_html_results_table_html(self, report: Any, data: list[str]) -> None:
        """A failing row shows its evidence once, in the HTML extra: the log keeps pytest's own output
        without the evidence as text (and an INCONCLUSIVE row its finding, not pytest's skip tuple)."""
        rec = ats_record(report)
        if rec is None or rec.get("verdict") not in (FAIL, INCONCLUSIVE):
            return
        if isinstance(report.longrepr, tuple) and data:  # (path, line, finding) of a skip
            data[0] = escape(str(report.longrepr[2])) + "\n"
        marker = escape(f"\n\nHTTP exchanges of {rec.get('case')}:\n")
        data[:] = [entry.split(marker)[0] for entry in data if not entry.startswith(_EVIDENCE_BANNER)]

    def pytest_runtest_logreport(self, report: Any) -> None:
        """Attach the finding and the recorded (redacted) exchanges to failing rows as an HTML extra."""
        rec = ats_record(report)
        if rec is None or rec.get("verdict") not in (FAIL, INCONCLUSIVE):
            return
        from pytest_html import extras

        item = evidence_item(rec, self.state.info.secrets)
        report.extras = [*getattr(report, "extras", []), extras.html(render_evidence(item))]


def verdict_summary_html(state: RunState) -> str:
    """Verdict counts per conformance class and the overall verdict, as an HTML fragment."""
    summary = state.summary()
    head = "".join(f"<th>{escape(v)}</th>" for v in VERDICTS)
    rows = "".join(
        f"<tr><td>{escape(name)}</td><td>{'yes' if cls.gating else 'no'}</td>"
        + "".join(f'<td style="text-align:right">{cls.counts.get(v, 0)}</td>' for v in VERDICTS)
        + f'<td style="color:{VERDICT_COLORS.get(cls.verdict, "inherit")};font-weight:bold">'
        f"{escape(cls.verdict)}</td></tr>"
        for name, cls in summary.classes.items()
    )
    color = "#1b5e20" if summary.overall in PASSING else "#b71c1c"
    partial = ""
    if not summary.complete:
        label = "PARTIAL RUN (interrupted)" if summary.interrupted else "PARTIAL RUN"
        partial = (
            f'<p id="ats-partial"><b>{label}</b>: {len(summary.not_run)} gating test cases or items did not run.</p>'
        )
    return (
        f"<style>{EVIDENCE_CSS}</style>"
        f'<p id="ats-overall" style="font-size:20px;font-weight:bold;color:{color}">'
        f"Overall verdict: {escape(summary.overall)}</p>{partial}"
        '<table id="ats-classes" style="border-collapse:collapse;margin-bottom:8px" border="1" cellpadding="3">'
        f"<tr><th>Conformance class</th><th>Gating</th>{head}<th>Class verdict</th></tr>{rows}</table>"
        "<p>Counts are test cases; the rows below show each test's verdict (a failing row of a case under an "
        "applied waiver shows WAIVED).</p>"
        f"{_waivers_html(state.waiver_statuses(summary))}{_monitor_html(state.monitor)}"
    )


def _waivers_html(waivers: list[dict[str, Any]]) -> str:
    if not waivers:
        return ""
    rows = "".join(
        "<tr>"
        + "".join(f"<td>{escape(str(w[k]))}</td>" for k in ("case", "status", "reason", "approved_by", "expires"))
        + f"<td>{escape(w['note'])}</td></tr>"
        for w in waivers
    )
    return (
        '<table id="ats-waivers" style="border-collapse:collapse;margin-bottom:8px" border="1" cellpadding="3">'
        "<tr><th>Waiver for</th><th>Status</th><th>Reason</th><th>Approved by</th><th>Expires</th><th>Note</th></tr>"
        f"{rows}</table>"
    )


def _monitor_html(monitor: dict[str, Any] | None) -> str:
    if monitor is None:
        return ""
    rows = "".join(
        f"<tr><td>{f['exchange']}</td><td>{escape(f['severity'])}</td><td>{escape(f['rule'])}</td>"
        f"<td>{escape(str(f.get('case') or ''))}</td><td>{escape(f['message'])}</td></tr>"
        for f in monitor["findings"]
    )
    return (
        f'<p id="ats-monitor">Monitor findings (server side, not reported by a failed test case; they never change a '
        f"verdict): {len(monitor['findings'])}</p>"
        + (
            '<table style="border-collapse:collapse" border="1" cellpadding="3"><tr><th>Exchange</th><th>Severity</th>'
            f"<th>Rule</th><th>Test case</th><th>Message</th></tr>{rows}</table>"
            if rows
            else ""
        )
    )
