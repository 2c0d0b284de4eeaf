"""The result of a load run: throughput and latency per operation, findings, thresholds, verdict.

`result(...)` builds one JSON-ready dict (the `--json` file); `summary(result)` is its text form.
The verdict is PASS only when there is no finding and every IXIT `capacity` threshold holds.
"""

from __future__ import annotations

import html
from typing import Any

from ats.load.findings import Finding
from interflex.profile import OPERATIONS

OPERATION_ORDER = [op.id for op in OPERATIONS]


def operation_stats(entries: dict[str, dict[str, float]], statuses: dict[str, int]) -> dict[str, dict[str, Any]]:
    """Per operation: `entries` (from Locust: requests, failures, rps, p50_ms...) plus status counts."""
    by_op: dict[str, dict[str, int]] = {}
    for key, count in statuses.items():
        op_id, _, status = key.partition(" ")
        by_op.setdefault(op_id, {})[status] = by_op.setdefault(op_id, {}).get(status, 0) + count
    names = [n for n in OPERATION_ORDER if n in entries or n in by_op]
    return {name: {**entries.get(name, {}), "statuses": dict(sorted(by_op.get(name, {}).items()))} for name in names}


def thresholds(capacity: dict[str, float], total: dict[str, float]) -> dict[str, dict[str, Any]]:
    """Each IXIT `capacity` threshold with the measured value and whether it holds."""
    checks = {}
    if "min_rps" in capacity:
        rps = float(total.get("rps", 0.0))
        checks["min_rps"] = {
            "required": capacity["min_rps"],
            "measured": round(rps, 1),
            "ok": rps >= capacity["min_rps"],
        }
    if "p99_ms" in capacity:
        p99 = float(total.get("p99_ms", float("inf")))
        checks["p99_ms"] = {"required": capacity["p99_ms"], "measured": p99, "ok": p99 <= capacity["p99_ms"]}
    return checks


def result(
    *,
    target: str,
    users: int,
    workers: int,
    run_time_s: float,
    operations: dict[str, dict[str, Any]],
    total: dict[str, float],
    findings: list[Finding],
    capacity: dict[str, float],
    not_cleaned: int,
) -> dict[str, Any]:
    """The whole result (the `--json` document)."""
    checks = thresholds(capacity, total)
    passed = not findings and all(c["ok"] for c in checks.values())
    return {
        "target": target,
        "users": users,
        "workers": workers,
        "run_time_s": run_time_s,
        "total": total,
        "operations": operations,
        "findings": [f.as_dict() for f in findings],
        "thresholds": checks,
        "objects_not_cleaned_up": not_cleaned,
        "verdict": "PASS" if passed else "FAIL",
    }


def _ms(value: Any) -> str:
    return f"{value:.0f}" if isinstance(value, int | float) else "-"


def summary(doc: dict[str, Any]) -> str:
    """The result as text: one line per operation, then findings, thresholds and the verdict."""
    lines = [f"{'op':<4} {'requests':>9} {'failures':>9} {'rps':>8} {'p50':>6} {'p95':>6} {'p99':>6}  statuses"]
    rows = [*doc["operations"].items(), ("all", doc["total"])]
    for name, row in rows:
        statuses = " ".join(f"{k}:{v}" for k, v in row.get("statuses", {}).items())
        lines.append(
            f"{name:<4} {row.get('requests', 0):>9} {row.get('failures', 0):>9} {row.get('rps', 0.0):>8.1f} "
            f"{_ms(row.get('p50_ms')):>6} {_ms(row.get('p95_ms')):>6} {_ms(row.get('p99_ms')):>6}  {statuses}"
        )
    lines.append("(latencies in ms)")
    for item in doc["findings"]:
        where = f"{item['operation']}: " if item["operation"] else ""
        lines.append(f"FINDING {item['rule']}: {where}{item['message']} ({item['count']}x)")
        lines += [f"    e.g. {example}" for example in item["examples"][:1]]
    for name, check in doc["thresholds"].items():
        state = "holds" if check["ok"] else "MISSED"
        lines.append(f"threshold {name}: required {check['required']:g}, measured {check['measured']:g}: {state}")
    if doc.get("generator_cpu_percent") is not None:
        lines.append(f"load generator CPU: {doc['generator_cpu_percent']:g} % of one core (near 100: add workers)")
    count = len(doc["findings"])
    lines.append(f"verdict: {doc['verdict']} ({count} finding{'s' if count != 1 else ''})")
    return "\n".join(lines)


def findings_html(doc: dict[str, Any]) -> str:
    """An HTML section with the findings, thresholds and verdict (added to Locust's report)."""
    rows = "".join(
        f"<tr><td>{html.escape(f['rule'])}</td><td>{html.escape(f['operation'] or '')}</td>"
        f"<td>{html.escape(f['message'])}</td><td>{f['count']}</td>"
        f"<td>{'<br>'.join(html.escape(e) for e in f['examples'])}</td></tr>"
        for f in doc["findings"]
    )
    checks = "".join(
        f"<li>{html.escape(name)}: required {c['required']:g}, measured {c['measured']:g}: "
        f"{'holds' if c['ok'] else 'MISSED'}</li>"
        for name, c in doc["thresholds"].items()
    )
    table = (
        "<table border='1' cellpadding='4'><tr><th>rule</th><th>operation</th><th>finding</th><th>count</th>"
        f"<th>examples</th></tr>{rows}</table>"
        if rows
        else "<p>No conformance finding.</p>"
    )
    return (
        "<section id='interflex-findings' style='font-family:sans-serif;margin:2em'>"
        f"<h2>InterFlex conformance under load: {doc['verdict']}</h2>{table}"
        f"{f'<ul>{checks}</ul>' if checks else ''}</section>"
    )
