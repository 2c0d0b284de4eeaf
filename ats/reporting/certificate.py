"""`certificate.html`: one self-contained, printable page rendered from the results document.

No script and no external asset: inline CSS and an inline SVG chart. Everything shown comes from
`results_document` (so the page and `results.json` never disagree); every text is HTML-escaped.
"""

from __future__ import annotations

from collections.abc import Mapping
from html import escape
from typing import Any

from ats.reporting.svg import class_chart
from ats.verdicts import FAIL, INCONCLUSIVE, PASSING, VERDICTS, WAIVED

SHOWN_EXCHANGES = 10  # the last N exchanges of a failing test are printed; all are in results.json
_NO_FINDING = "<p>None: every test case passed or was not applicable.</p>"
SHOWN_BODY = 4096  # characters of each body printed; the full (64 KiB capped) body is in results.json

_CSS = """
@page { size: A4; margin: 14mm; }
* { box-sizing: border-box; }
body { font-family: "DejaVu Sans", Arial, sans-serif; color: #1a1a1a; margin: 24px auto; max-width: 1000px;
       font-size: 13px; line-height: 1.4; -webkit-print-color-adjust: exact; print-color-adjust: exact; }
h1 { font-size: 22px; margin: 0 0 4px; }
h2 { font-size: 17px; border-bottom: 2px solid #333; padding-bottom: 2px; margin-top: 26px; }
h3 { font-size: 14px; margin: 16px 0 4px; }
table { border-collapse: collapse; width: 100%; margin: 6px 0; }
th, td { border: 1px solid #bbb; padding: 3px 6px; text-align: left; vertical-align: top; }
th { background: #eee; }
td.n { text-align: right; font-variant-numeric: tabular-nums; }
tr { page-break-inside: avoid; }
.verdict { font-size: 30px; font-weight: bold; padding: 14px 18px; margin: 14px 0; border: 4px solid;
           text-align: center; letter-spacing: 1px; }
.verdict.ok { color: #1b5e20; border-color: #2e7d32; background: #e8f5e9; }
.verdict.nok { color: #b71c1c; border-color: #c62828; background: #ffebee; }
.partial { border: 4px dashed #c62828; background: #fff3e0; padding: 8px 14px; margin: -6px 0 14px; }
.partial b { font-size: 18px; color: #b71c1c; }
.finding { border: 1px solid #bbb; border-left: 6px solid #c62828; padding: 6px 10px; margin: 10px 0; }
.finding.INCONCLUSIVE { border-left-color: #ef6c00; }
.finding.WAIVED { border-left-color: #7b1fa2; }
.waiver { background: #f3e5f5; border: 1px solid #ce93d8; padding: 4px 8px; margin: 4px 0; }
dl.kv { display: grid; grid-template-columns: max-content 1fr; gap: 2px 14px; margin: 6px 0; }
dl.kv dt { font-weight: bold; } dl.kv dd { margin: 0; overflow-wrap: anywhere; }
@media print { body { margin: 0; max-width: none; } }
"""
# Styles of the evidence fragments (`render_evidence`); the pytest-html report embeds them too.
EVIDENCE_CSS = """
code, pre, .mono { font-family: "DejaVu Sans Mono", monospace; font-size: 11.5px; }
pre { white-space: pre-wrap; overflow-wrap: anywhere; background: #f6f6f6; border: 1px solid #ddd; padding: 4px;
      margin: 2px 0; }
table.evidence { border-collapse: collapse; width: 100%; table-layout: fixed; }
table.evidence th, table.evidence td { border: 1px solid #bbb; padding: 3px 6px; text-align: left;
                                       vertical-align: top; overflow-wrap: anywhere; }
.v { font-weight: bold; white-space: nowrap; }
.v-PASS { color: #1b5e20; } .v-FAIL { color: #b71c1c; } .v-INCONCLUSIVE { color: #bf360c; } .v-NA { color: #616161; }
.v-WAIVED { color: #6a1b9a; }
.muted { color: #555; }
"""


def _e(value: object) -> str:
    return escape("" if value is None else str(value))


def _verdict(verdict: str) -> str:
    css = "NA" if verdict == "N/A" else verdict
    return f'<span class="v v-{_e(css)}">{_e(verdict)}</span>'


def _kv(rows: list[tuple[str, str]]) -> str:
    return '<dl class="kv">' + "".join(f"<dt>{_e(k)}</dt><dd>{v}</dd>" for k, v in rows) + "</dl>"


def _body(text: str) -> str:
    if not text:
        return '<span class="muted">(empty)</span>'
    cut = len(text) - SHOWN_BODY
    shown = text[:SHOWN_BODY]
    note = f'<br><span class="muted">[{cut} more characters in results.json]</span>' if cut > 0 else ""
    return f"<pre>{_e(shown)}</pre>{note}"


def _headers(headers: Mapping[str, str]) -> str:
    return "<pre>" + _e("\n".join(f"{k}: {v}" for k, v in headers.items())) + "</pre>" if headers else ""


def _exchange(ex: Mapping[str, Any]) -> str:
    status = ex["status"] if ex.get("status") is not None else "no response"
    error = f' <span class="v v-FAIL">{_e(ex["error"])}</span>' if ex.get("error") else ""
    return (
        "<tr>"
        f'<td class="mono">{_e(ex["method"])} {_e(ex["url"])}<br>&rarr; <b>{_e(status)}</b>{error}'
        f'<br><span class="muted">{float(ex.get("elapsed_ms") or 0):.1f} ms</span></td>'
        f"<td>{_headers(ex.get('request_headers') or {})}{_body(ex.get('request_body') or '')}</td>"
        f"<td>{_headers(ex.get('response_headers') or {})}{_body(ex.get('response_body') or '')}</td>"
        "</tr>"
    )


def render_evidence(item: Mapping[str, Any], *, skip_reason: str | None = None) -> str:
    """One failing test (`item` from `evidence_item`) as an HTML fragment: verdict, cause, node id, its
    reason (unless equal to `skip_reason`, already shown) and its last `SHOWN_EXCHANGES` exchanges."""
    exchanges = item["exchanges"]
    hidden = max(len(exchanges) - SHOWN_EXCHANGES, 0)
    cause = f" (cause: {_e(item['cause'])})" if item.get("cause") else ""
    parts = [f'<p class="mono">{_verdict(item["verdict"])}{cause} {_e(item["nodeid"])}</p>']
    if item["reason"] and item["reason"] != skip_reason:
        parts.append(f"<pre>{_e(item['reason'])}</pre>")
    if hidden:
        parts.append(f'<p class="muted">{hidden} earlier exchanges of this test are in results.json.</p>')
    if exchanges:
        parts.append(
            '<table class="evidence"><tr><th style="width:30%">Request &rarr; status</th>'
            "<th>Request headers and body</th><th>Response headers and body</th></tr>"
            + "".join(_exchange(ex) for ex in exchanges[hidden:])
            + "</table>"
        )
    else:
        parts.append('<p class="muted">No HTTP exchange was recorded.</p>')
    return "".join(parts)


def _waiver_line(waiver: Mapping[str, Any]) -> str:
    return (
        f"<b>Waiver</b> ({_e(waiver['status'])}): {_e(waiver['reason'])} &mdash; approved by "
        f"{_e(waiver['approved_by'])}, expires {_e(waiver['expires'])}. {_e(waiver['note'])}"
    )


def _finding(case: Mapping[str, Any], waiver: Mapping[str, Any] | None = None) -> str:
    parts = [
        f'<div class="finding {_e(case["verdict"])}" id="{_e(case["id"])}">',
        f"<h3>{_verdict(case['verdict'])} {_e(case['id'])} &mdash; {_e(case['title'])}</h3>",
        _kv(
            [
                ("Class", _e(case["class"])),
                ("References", _e(", ".join(case["references"]))),
                ("Reason", f"<pre>{_e(case['message'] or '(no reason recorded)')}</pre>"),
                ("Cause", _e(case["cause"] or "\u2014")),
            ]
        ),
    ]
    if waiver is not None:
        parts.append(f'<p class="waiver">{_waiver_line(waiver)}</p>')
    parts.extend(render_evidence(item, skip_reason=case["message"]) for item in case["evidence"])
    parts.append("</div>")
    return "".join(parts)


def _waivers(doc: Mapping[str, Any]) -> str:
    waivers = doc.get("waivers") or []
    if not waivers:
        return "<p>No waiver was given for this run.</p>"
    rows = "".join(
        f'<tr><td class="mono">{_e(w["case"])}</td><td>{_e(w["status"])}</td><td>{_e(w["reason"])}</td>'
        f"<td>{_e(w['approved_by'])}</td><td>{_e(w['expires'])}</td><td>{_e(w['note'])}</td></tr>"
        for w in waivers
    )
    return (
        '<table id="waivers"><tr><th>Test case</th><th>Status</th><th>Reason</th><th>Approved by</th>'
        f"<th>Expires</th><th>Note</th></tr>{rows}</table>"
    )


def _monitor(doc: Mapping[str, Any]) -> str:
    monitor = doc.get("monitor")
    if not monitor:
        return "<p>The protocol monitor did not judge this run (no evidence bundle).</p>"
    left = monitor["left_out"]
    intro = (
        f"<p>The protocol monitor judged all {monitor['exchanges']} exchanges of the evidence bundle. Shown: the "
        f"server-side findings the test cases did not already report ({left['reported']} on exchanges of failed "
        f"test cases and {left['client']} client-side findings about the suite's own deliberate requests are left "
        "out). Monitor findings never change a verdict.</p>"
    )
    if not monitor["findings"]:
        return intro + '<p id="monitor-findings">None.</p>'
    rows = "".join(
        f'<tr><td class="n">{f["exchange"]}</td><td>{_e(f["severity"])}</td><td>{_e(f["rule"])}</td>'
        f'<td>{_e(f.get("operation") or "")}</td><td class="mono">{_e(f.get("case") or "")}</td>'
        f"<td>{_e(f['message'])}</td></tr>"
        for f in monitor["findings"]
    )
    return (
        intro + '<table id="monitor-findings"><tr><th>Exchange</th><th>Severity</th><th>Rule</th><th>Operation</th>'
        f"<th>Test case</th><th>Message</th></tr>{rows}</table>"
    )


def _signature_and_evidence(doc: Mapping[str, Any]) -> str:
    rows = []
    signature = doc.get("signature")
    if signature:
        label = _e(signature.get("signer") or "(no label)")
        rows.append(("Signed by", f'{label}, key <span class="mono">{_e(signature["fingerprint"])}</span>'))
        rows.append(("Signature", f"{_e(signature['algorithm'])}, detached in {_e(signature['file'])}"))
    else:
        rows.append(("Signed by", "not signed (results.json.sha256 detects changes, not who made them)"))
    evidence = doc.get("evidence")
    if evidence:
        rows.append(("Evidence bundle", f"{_e(evidence['file'])}: {evidence['exchanges']} HTTP exchanges"))
        rows.append(("Bundle SHA-256", f'<span class="mono">{_e(evidence["sha256"])}</span>'))
    return _kv(rows)


def _class_table(doc: Mapping[str, Any]) -> str:
    head = "".join(f"<th>{_e(v)}</th>" for v in VERDICTS)
    rows = []
    for cls in doc["classes"]:
        counts = "".join(f'<td class="n">{cls["counts"][v]}</td>' for v in VERDICTS)
        gating = "yes" if cls["gating"] else "no"
        rows.append(
            f"<tr><td>{_e(cls['name'])}</td><td>{_e(cls['requirement'])}</td><td>{gating}</td>"
            f"{counts}<td>{_verdict(cls['verdict'])}</td></tr>"
        )
    totals = "".join(f'<td class="n"><b>{doc["totals"][v]}</b></td>' for v in VERDICTS)
    rows.append(f'<tr><th colspan="3">All test cases</th>{totals}<th>{_e(doc["verdict"])}</th></tr>')
    return (
        '<table id="classes"><tr><th>Conformance class</th><th>Requirement</th><th>Gating</th>'
        f"{head}<th>Class verdict</th></tr>{''.join(rows)}</table>"
    )


def _case_table(doc: Mapping[str, Any]) -> str:
    rows = "".join(
        f'<tr><td class="mono">{_e(c["id"])}</td><td>{_e(c["title"])}</td><td>{_e(c["class"])}</td>'
        f'<td>{_verdict(c["verdict"])}</td><td class="n">{c["duration"]:.3f}</td></tr>'
        for c in doc["cases"]
    )
    return (
        '<table id="cases"><tr><th>Test case</th><th>Title</th><th>Class</th><th>Verdict</th>'
        f"<th>Duration (s)</th></tr>{rows}</table>"
    )


def _partial_note(doc: Mapping[str, Any], shown: int = 20) -> str:
    """The prominent note of a partial or interrupted run and of errors outside the test cases ("" otherwise)."""
    if doc["complete"] and not doc["errors"]:
        return ""
    parts = ['<div class="partial" id="partial">']
    if not doc["complete"]:
        label = "PARTIAL RUN (interrupted)" if doc["interrupted"] else "PARTIAL RUN"
        cases = [e for e in doc["not_run"] if e["case"]]
        items = [e for e in doc["not_run"] if not e["case"]]
        parts.append(
            f"<p><b>{label}</b>: {len(cases)} gating test cases and {len(items)} test items did not run. "
            "This is not a certificate: a certificate needs the whole suite.</p>"
        )
        listed = ", ".join(f"{_e(e['case'] or e['nodeid'])} ({_e(e['reason'])})" for e in doc["not_run"][:shown])
        more = f" and {len(doc['not_run']) - shown} more" if len(doc["not_run"]) > shown else ""
        parts.append(f'<p class="mono">{listed}{more}</p>')
    if doc["errors"]:
        errors = "".join(f"<li>{_e(error)}</li>" for error in doc["errors"][:shown])
        parts.append(f"<p><b>Errors outside the test cases</b> (the run cannot be CONFORMANT):</p><ul>{errors}</ul>")
    parts.append("</div>")
    return "".join(parts)


_CLIENT_RULE = " (for a client: of every mandatory client class)"


def _subtitle(client: Mapping[str, Any] | None) -> str:
    if client is None:
        return "InterFlex wire profile conformance assessment by the InterFlex abstract test suite."
    return (
        f"InterFlex client conformance assessment of a {client['role']} client (PROFILE.md section 11) by the "
        "InterFlex abstract test suite, which played the platform and the other parties."
    )


def _client_rows(client: Mapping[str, Any]) -> str:
    return _kv(
        [
            ("Client under test", _e(f"{client['role']} client of entity {client['entity_id']}")),
            ("Command", f'<span class="mono">{_e(client["command"])}</span>'),
            ("Scenario timeout", _e(f"{client['timeout_s']:g} s")),
        ]
    )


def _scenarios(client: Mapping[str, Any]) -> str:
    """The scenarios of a client run: how each ended, and the client's output (redacted tails)."""
    rows = []
    for entry in client["scenarios"]:
        output = "".join(
            f"<details><summary>{name}</summary><pre>{_e(entry[name][-SHOWN_BODY:])}</pre></details>"
            for name in ("stdout", "stderr")
            if entry[name]
        )
        rows.append(
            f'<tr><td class="mono">{_e(entry["name"])}</td><td>{_e(entry["description"])}</td>'
            f'<td>{_e(entry["how"])}</td><td class="n">{entry["exchanges"]}</td><td>{output}</td></tr>'
        )
    return (
        '<h2>Scenarios</h2><table id="scenarios"><tr><th>Scenario</th><th>What the platform did</th>'
        f"<th>How the client's run ended</th><th>Requests</th><th>Client output</th></tr>{''.join(rows)}</table>"
    )


def render_certificate(doc: Mapping[str, Any]) -> str:
    """The certificate page for a results document (`results_document`)."""
    target, suite, run, rep = doc["target"], doc["suite"], doc["run"], doc["reproduce"]
    ok = doc["verdict"] in PASSING
    entity_ids = ", ".join(
        f"{k}: {', '.join(map(str, v)) if isinstance(v, list) else v}" for k, v in target["entity_ids"].items()
    )
    ics = ", ".join(f"{k}: {'declared' if v else 'not declared'}" for k, v in target["ics"].items())
    findings = [c for c in doc["cases"] if c["verdict"] in (FAIL, INCONCLUSIVE, WAIVED)]
    waiver_of = {w["case"]: w for w in doc.get("waivers") or []}
    packages = ", ".join(f"{k} {v}" for k, v in rep["packages"].items())
    fault = target.get("reference_fault")
    duration = "unknown" if run["duration"] is None else f"{run['duration']:.1f} s"
    partial = _partial_note(doc)
    client = doc.get("client") if doc.get("subject") == "client" else None
    implementation = (
        _client_rows(client)
        if client
        else _kv(
            [
                ("Target URL", f'<span class="mono">{_e(target["url"])}</span>'),
                ("Server header", _e(target["server"] or "(not sent)")),
                ("IXIT entity ids", _e(entity_ids or "(none)")),
                ("Declared ICS", _e(ics or "(no optional class declared)")),
                *([("Reference fault mode", _e(fault))] if fault else []),
            ]
        )
    )
    suite_and_run = _kv(
        [
            ("Suite version", _e(f"{suite['name']} {suite['version']}")),
            ("Catalog SHA-256", f'<span class="mono">{_e(suite["catalog_sha256"])}</span>'),
            ("Schemas SHA-256", f'<span class="mono">{_e(suite["schemas_sha256"])}</span>'),
            ("Started (UTC)", _e(run["started"])),
            ("Finished (UTC)", _e(run["finished"])),
            ("Duration", _e(duration)),
        ]
    )
    reproduce = _kv(
        [
            ("Command line", f"<pre>{_e(rep['command'])}</pre>"),
            ("Suite version", _e(rep["suite_version"])),
            ("Python", _e(f"{rep['implementation']} {rep['python']} on {rep['platform']}")),
            ("Packages", _e(packages)),
        ]
    )
    return f"""<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{_e(doc["title"])}</title>
<style>{_CSS}{EVIDENCE_CSS}</style>
</head>
<body>
<h1>{_e(doc["title"])}</h1>
<p class="muted">{_e(_subtitle(client))}</p>
<div class="verdict {"ok" if ok else "nok"}" id="overall">Overall verdict: {_e(doc["verdict"])}</div>
{partial}<p>{", ".join(f"{doc['totals'][v]} {v}" for v in VERDICTS)} of {len(doc["cases"])} test cases.
A target is CONFORMANT when every test case of every mandatory class and of every declared optional class
passes{_CLIENT_RULE if client else ""}; CONFORMANT WITH WAIVERS when the only failures are covered by approved,
unexpired waivers.</p>

<h2>Implementation under test</h2>
{implementation}

<h2>Test suite and run</h2>
{suite_and_run}

{_scenarios(client) if client else ""}
<h2>Signature and evidence</h2>
{_signature_and_evidence(doc)}

<h2>Results by conformance class</h2>
{_class_table(doc)}
{class_chart(doc["classes"])}

<h2>Waivers</h2>
{_waivers(doc)}

<h2>Findings: every FAIL, WAIVED and INCONCLUSIVE</h2>
{"".join(_finding(c, waiver_of.get(c["id"])) for c in findings) or _NO_FINDING}

<h2>Monitor findings</h2>
{_monitor(doc)}

<h2>All test cases</h2>
{_case_table(doc)}

<h2>Reproduce</h2>
{reproduce}
<p class="muted">Secrets (passwords, client secret, header values, tokens) are never printed; they appear as ***.
results.json holds the same content; results.json.sha256 holds its digest, results.json.sig (when signed) its
signature; check everything with <span class="mono">interflex-ats verify DIR</span>.</p>
</body>
</html>
"""
