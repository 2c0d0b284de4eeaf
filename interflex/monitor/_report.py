"""Render the monitor's findings: text lines, JSON, JUnit XML, a self-contained HTML page."""

from __future__ import annotations

import html
import json
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, TextIO
from xml.sax.saxutils import escape, quoteattr

from interflex.monitor._model import ERROR, MonitorFinding
from interflex.monitor._rules import RULES

_KEPT_PER_RULE = 200  # findings listed per rule in JUnit and HTML (all are counted)


@dataclass
class Summary:
    """Counts over a run, and a bounded sample of findings per (rule, side) for JUnit and HTML."""

    exchanges: int = 0
    errors: int = 0
    warnings: int = 0
    by_rule: Counter[tuple[str, str, str]] = field(default_factory=Counter)  # (rule, side, severity)
    kept: dict[tuple[str, str], list[dict[str, Any]]] = field(default_factory=dict)

    def add(self, finding: MonitorFinding, where: dict[str, Any]) -> None:
        """Count one finding; keep its rendering when the rule has room."""
        if finding.severity == ERROR:
            self.errors += 1
        else:
            self.warnings += 1
        self.by_rule[(finding.rule, finding.side, finding.severity)] += 1
        kept = self.kept.setdefault((finding.rule, finding.side), [])
        if len(kept) < _KEPT_PER_RULE:
            kept.append(where)

    def line(self) -> str:
        """The closing line of the text output."""
        sides: Counter[str] = Counter()
        for (_, side, severity), count in self.by_rule.items():
            if severity == ERROR:
                sides[side] += count
        split = f" (server {sides['server']}, client {sides['client']})" if self.errors else ""
        return f"{self.exchanges} exchanges, {self.errors} errors{split}, {self.warnings} warnings"


def text_line(where: dict[str, Any]) -> str:
    """One finding as a line: `capture#n OP severity side RULE: message`."""
    op = f" {where['operation']}" if where.get("operation") else ""
    return (
        f"{where['capture']}#{where['exchange']}{op}: {where['severity']}: {where['side']}: "
        f"{where['message']} [{where['rule']}]"
    )


class Writer:
    """Streams findings in one format to `out`; `close(summary)` writes the end."""

    def __init__(self, fmt: str, out: TextIO) -> None:
        self.fmt, self.out, self.count = fmt, out, 0
        if fmt == "json":
            out.write('{"findings": [')

    def write(self, where: dict[str, Any]) -> None:
        """One finding, as soon as it is known (text and JSON stream; JUnit and HTML wait)."""
        if self.fmt == "text":
            self.out.write(text_line(where) + "\n")
        elif self.fmt == "json":
            self.out.write(("\n" if self.count == 0 else ",\n") + json.dumps(where, ensure_ascii=False))
        self.count += 1

    def close(self, summary: Summary, captures: list[str], complete: bool) -> None:
        """The closing part: summary line, JSON summary, or the whole JUnit/HTML document."""
        render: dict[str, Callable[[], str]] = {
            "text": lambda: summary.line() + "\n",
            "json": lambda: _json_end(summary, captures, complete, self.count),
            "junit": lambda: _junit(summary, captures),
            "html": lambda: _html(summary, captures, complete),
        }
        self.out.write(render[self.fmt]())


def _json_end(summary: Summary, captures: list[str], complete: bool, count: int) -> str:
    totals = {
        "captures": captures,
        "complete": complete,
        "exchanges": summary.exchanges,
        "errors": summary.errors,
        "warnings": summary.warnings,
    }
    return ("\n" if count else "") + "],\n" + f'"summary": {json.dumps(totals, ensure_ascii=False)}}}\n'


def _rule_rows(summary: Summary) -> list[tuple[str, str, int, int]]:
    """(rule, side, errors, warnings) for every rule and side that has findings, in rule order."""
    order = {rule: n for n, rule in enumerate(RULES)}
    keys = sorted({(rule, side) for rule, side, _ in summary.by_rule}, key=lambda k: (order.get(k[0], 999), k))
    return [(r, s, summary.by_rule[(r, s, "error")], summary.by_rule[(r, s, "warning")]) for r, s in keys]


def _junit(summary: Summary, captures: list[str]) -> str:
    """One test case per rule judged (passing when it has no errors), failures listing findings."""
    failed = {(rule, side) for rule, side, errors, _ in _rule_rows(summary) if errors}
    cases = []
    for rule, title in RULES.items():
        for side in ("server", "client"):
            if rule.startswith("CL-") != (side == "client") and (rule, side) not in failed:
                continue
            name = quoteattr(f"{rule} ({side})")
            kept = summary.kept.get((rule, side), [])
            body = "\n".join(text_line(w) for w in kept if w["severity"] == ERROR)
            failure = (
                f"<failure message={quoteattr(f'{rule}: {title}')}>{escape(body)}</failure>"
                if (rule, side) in failed
                else ""
            )
            warnings = "\n".join(text_line(w) for w in kept if w["severity"] != ERROR)
            out = f"<system-out>{escape(warnings)}</system-out>" if warnings else ""
            cases.append(f'  <testcase classname="interflex-monitor" name={name}>{failure}{out}</testcase>')
    suite = quoteattr(", ".join(captures))
    return (
        '<?xml version="1.0" encoding="utf-8"?>\n'
        f'<testsuites><testsuite name="interflex-monitor" hostname={suite} tests="{len(cases)}" '
        f'failures="{len(failed)}" errors="0">\n' + "\n".join(cases) + "\n</testsuite></testsuites>\n"
    )


def _html(summary: Summary, captures: list[str], complete: bool) -> str:
    esc = html.escape
    rows = []
    for rule, side, errors, warnings in _rule_rows(summary):
        rows.append(
            f"<tr><td>{esc(rule)}</td><td>{esc(side)}</td><td>{errors}</td><td>{warnings}</td>"
            f"<td>{esc(RULES.get(rule, ''))}</td></tr>"
        )
    details = []
    for rule, side, _, _ in _rule_rows(summary):
        for where in summary.kept.get((rule, side), []):
            details.append(
                f'<tr class="{esc(where["severity"])}"><td>{esc(where["capture"])}#{where["exchange"]}</td>'
                f"<td>{esc(where.get('operation') or '')}</td><td>{esc(where['severity'])}</td>"
                f"<td>{esc(side)}</td><td>{esc(rule)}</td><td>{esc(where['message'])}</td></tr>"
            )
    verdict = "no errors" if not summary.errors else f"{summary.errors} errors"
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>interflex-monitor: {esc(verdict)}</title>
<style>body{{font-family:sans-serif;margin:2em}}table{{border-collapse:collapse}}
td,th{{border:1px solid #ccc;padding:.2em .5em;text-align:left;vertical-align:top}}
tr.error td{{background:#fdd}}tr.warning td{{background:#ffd}}</style></head><body>
<h1>interflex-monitor</h1>
<p>{esc(", ".join(captures))}: {summary.exchanges} exchanges{" (complete capture)" if complete else ""},
<strong>{summary.errors} errors</strong>, {summary.warnings} warnings.</p>
<h2>Rules with findings</h2>
<table><tr><th>rule</th><th>side</th><th>errors</th><th>warnings</th><th>what it checks</th></tr>
{"".join(rows)}</table>
<h2>Findings</h2><p>At most {_KEPT_PER_RULE} per rule and side are listed; the counts above are complete.</p>
<table><tr><th>exchange</th><th>op</th><th>severity</th><th>side</th><th>rule</th><th>message</th></tr>
{"".join(details)}</table>
</body></html>
"""
