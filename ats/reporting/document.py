"""The results document: one JSON-ready dict that `results.json` holds and `certificate.html` renders.

Verdicts come from `ats.verdicts` (`aggregate_cases`, `Summary`); nothing here decides a verdict.
The document never holds a password, client secret, header secret or token: free-text fields that
can carry target or command-line data go through `ats.redaction.redact` with the run's secrets, and
secret-looking command-line option values and URL user-info are elided.
"""

from __future__ import annotations

import platform
import re
import shlex
from collections.abc import Iterable, Mapping, Sequence
from datetime import UTC, datetime
from importlib import metadata
from typing import Any, Protocol
from urllib.parse import urlsplit

from ats.catalog import CATALOG_PATH
from ats.redaction import MASK, redact
from ats.reporting.digest import folder_digest, sha256_file
from ats.verdicts import FAIL, INCONCLUSIVE, VERDICTS, Summary, aggregate_cases
from interflex._data import schemas_dir
from interflex.profile import CLIENT_CLASSES, CONFORMANCE_CLASSES

FORMAT = "interflex-ats-results/1"
EVIDENCE_VERDICTS = (FAIL, INCONCLUSIVE)
# The keys of an exchange in results.json (C4); the bundle's records have more.
EXCHANGE_KEYS = frozenset(
    [
        "method",
        "url",
        "status",
        "request_headers",
        "request_body",
        "response_headers",
        "response_body",
        "elapsed_ms",
        "error",
    ]
)
PACKAGES = (
    "interflex-ats",
    "pytest",
    "pytest-xdist",
    "pytest-html",
    "requests",
    "jsonschema",
    "jsonschema-rs",
    "hypothesis",
    "hypothesis-jsonschema",
    "PyYAML",
    "starlette",
    "uvicorn",
)
_SECRET_OPTION = re.compile(r"^--?[\w-]*(pass(word|wd)?|secret|token|api[-_]?key|credential)[\w-]*$", re.IGNORECASE)
_URL_USERINFO = re.compile(r"(?i)\b([a-z][a-z0-9+.-]*://)[^/@\s]+@")


class RunInfoLike(Protocol):
    """The fields of `ats.run.RunInfo` (contract C4) the document reads."""

    target_url: str
    server_header: str | None
    entity_ids: dict
    ics: dict
    started: str
    finished: str | None
    suite_version: str
    argv: list[str]
    secrets: list[str]
    reference_fault: str | None


def environment() -> dict[str, Any]:
    """Digests of the suite's inputs and the versions of Python and the packages that ran it."""
    packages = {}
    for name in PACKAGES:
        try:
            packages[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            continue
    return {
        "catalog_sha256": sha256_file(CATALOG_PATH) if CATALOG_PATH.is_file() else None,
        "schemas_sha256": folder_digest(schemas_dir()),
        "python": platform.python_version(),
        "implementation": platform.python_implementation(),
        "platform": platform.platform(),
        "packages": packages,
    }


def elide_argv(argv: Sequence[str], secrets: Iterable[str] = ()) -> list[str]:
    """The command line with secrets elided: known secrets, values of secret-named options
    (`--x-token V`, `--password=V`) and user-info in URLs become `***`."""
    secrets = list(secrets)
    result: list[str] = []
    hide_next = False
    for arg in argv:
        if hide_next:
            result.append(MASK)
            hide_next = False
            continue
        name, eq, _ = arg.partition("=")
        if _SECRET_OPTION.match(name):
            if eq:
                result.append(f"{name}={MASK}")
            else:
                result.append(arg)
                hide_next = True
            continue
        result.append(redact(_URL_USERINFO.sub(rf"\1{MASK}@", arg), secrets))
    return result


def _public_url(url: str) -> str:
    return _URL_USERINFO.sub(rf"\1{MASK}@", url or "")


def target_host(url: str) -> str:
    """`host[:port]` of a URL without user-info ("unknown target" when there is none)."""
    parts = urlsplit(url or "")
    host = parts.hostname or ""
    if host and parts.port:
        host = f"{host}:{parts.port}"
    return host or "unknown target"


def parse_utc(stamp: str | None) -> datetime | None:
    """An ISO 8601 time as an aware UTC datetime (None when absent or unparsable)."""
    if not stamp:
        return None
    try:
        moment = datetime.fromisoformat(stamp.replace("Z", "+00:00"))
    except ValueError:
        return None
    return (moment if moment.tzinfo else moment.replace(tzinfo=UTC)).astimezone(UTC)


def display_utc(stamp: str | None) -> str:
    """`2026-11-26 05:04:32 UTC` for an ISO time (the input unchanged when unparsable)."""
    moment = parse_utc(stamp)
    return moment.strftime("%Y-%m-%d %H:%M:%S UTC") if moment else (stamp or "unknown time")


def report_title(kind: str, target_url: str, started: str | None) -> str:
    """Title and heading of a report: its kind, the target's host and the run's UTC start time."""
    return f"InterFlex {kind} \u2014 {target_host(target_url)} \u2014 {display_utc(started)}"


def _headers(headers: Mapping[str, Any] | None, secrets: list[str]) -> dict[str, str]:
    return {str(k): redact(str(v), secrets) for k, v in (headers or {}).items()}


def redact_exchange(ex: Mapping[str, Any], secrets: list[str]) -> dict[str, Any]:
    """An exchange record redacted for a report (URL user-info, every secret); other keys kept as they are."""
    result = dict(ex)
    result.update(
        method=str(ex.get("method") or ""),
        url=redact(_public_url(str(ex.get("url") or "")), secrets),
        status=ex.get("status") if isinstance(ex.get("status"), int) else None,
        request_headers=_headers(ex.get("request_headers"), secrets),
        request_body=redact(str(ex.get("request_body") or ""), secrets),
        response_headers=_headers(ex.get("response_headers"), secrets),
        response_body=redact(str(ex.get("response_body") or ""), secrets),
        elapsed_ms=float(ex.get("elapsed_ms") or 0.0),
        error=redact(str(ex["error"]), secrets) if ex.get("error") else None,
    )
    return result


def evidence_item(rec: Mapping[str, Any], secrets: list[str]) -> dict[str, Any]:
    """The evidence of one FAIL/INCONCLUSIVE record: node id, verdict, reason, cause, redacted exchanges."""
    keys = EXCHANGE_KEYS
    exchanges = [
        {k: v for k, v in redact_exchange(ex, secrets).items() if k in keys} for ex in rec.get("exchanges") or []
    ]
    return {
        "nodeid": str(rec.get("nodeid") or ""),
        "verdict": rec["verdict"],
        "reason": redact(str(rec["reason"]), secrets) if rec.get("reason") else None,
        "cause": rec.get("cause"),
        "exchanges": exchanges,
    }


def _cases(records: list[Mapping[str, Any]], secrets: list[str], waived: Sequence[str]) -> list[dict[str, Any]]:
    order = {name: i for i, name in enumerate([*CONFORMANCE_CLASSES, *CLIENT_CLASSES])}
    aggregated = aggregate_cases(records, waived=waived)
    evidence: dict[str, list[dict[str, Any]]] = {}
    for rec in records:
        if rec["verdict"] in EVIDENCE_VERDICTS:
            evidence.setdefault(rec["case"], []).append(evidence_item(rec, secrets))
    cases = []
    for case in sorted(aggregated.values(), key=lambda c: (order.get(c["class"], len(order)), c["case"])):
        cases.append(
            {
                "id": case["case"],
                "title": case.get("title") or "",
                "class": case.get("class") or "",
                "verdict": case["verdict"],
                "duration": round(float(case.get("duration") or 0.0), 4),
                "message": redact(str(case["reason"]), secrets) if case.get("reason") else None,
                "cause": case.get("cause"),
                "references": [str(r) for r in case.get("references") or []],
                "tests": len(case.get("items") or []),
                "evidence": evidence.get(case["case"], []),
            }
        )
    return cases


def results_document(
    info: RunInfoLike,
    summary: Summary,
    records: Iterable[Mapping[str, Any]],
    *,
    env: Mapping[str, Any] | None = None,
    waivers: Sequence[Mapping[str, Any]] = (),
) -> dict[str, Any]:
    """The results document of a run (layout: `schemas/results.schema.json`, `docs/reports.md`).

    `info` is the run's `RunInfo`, `summary` its `ats.verdicts.summarize` result, `records` the C4
    verdict records; `env` defaults to `environment()` (digests, Python and package versions);
    `waivers` are the waiver statuses of the run (`ats.waivers.waiver_statuses`).
    """
    records = list(records)
    secrets = [s for s in (info.secrets or []) if s]
    env = dict(env if env is not None else environment())
    finished = info.finished or datetime.now(UTC).isoformat(timespec="seconds")
    start, end = parse_utc(info.started), parse_utc(finished)
    cases = _cases(records, secrets, summary.waived)
    totals = dict.fromkeys(VERDICTS, 0)
    for case in cases:
        totals[case["verdict"]] += 1
    argv = elide_argv(info.argv or [], secrets)
    subject = getattr(info, "subject", "server")
    client = _client_part(getattr(info, "client", None), secrets) if subject == "client" else None
    title = report_title("conformance certificate", info.target_url, info.started)
    if client is not None:
        title = f"InterFlex client conformance certificate \u2014 {client['role']} {client['entity_id']} \u2014 "
        title += display_utc(info.started)
    doc = {
        "format": FORMAT,
        "verdict": summary.overall,
        "complete": bool(summary.complete),
        "interrupted": bool(summary.interrupted),
        "not_run": [{"case": e.get("case"), "nodeid": e.get("nodeid"), "reason": e["reason"]} for e in summary.not_run],
        "errors": [redact(str(error), secrets) for error in summary.errors],
        "title": title,
        "subject": subject,
        "target": {
            "url": redact(_public_url(info.target_url), secrets),
            "host": f"{client['role']} client {client['entity_id']}" if client else target_host(info.target_url),
            "server": redact(info.server_header, secrets) if info.server_header else None,
            "entity_ids": {str(k): v for k, v in (info.entity_ids or {}).items()},
            "ics": {str(k): bool(v) for k, v in (info.ics or {}).items()},
            "reference_fault": info.reference_fault,
        },
        "suite": {
            "name": "interflex-ats",
            "version": info.suite_version,
            "catalog_sha256": env.get("catalog_sha256"),
            "schemas_sha256": env.get("schemas_sha256"),
        },
        "run": {
            "started": info.started,
            "finished": finished,
            "duration": round((end - start).total_seconds(), 3) if start and end else None,
        },
        "totals": totals,
        "classes": [
            {
                "name": name,
                "requirement": CONFORMANCE_CLASSES.get(name) or CLIENT_CLASSES.get(name, "unknown"),
                "gating": bool(cls.gating),
                "counts": {v: int(cls.counts.get(v, 0)) for v in VERDICTS},
                "verdict": cls.verdict,
            }
            for name, cls in summary.classes.items()
        ],
        "cases": cases,
        "waivers": [dict(w) for w in waivers],
        "reproduce": {
            "command": shlex.join(argv),
            "argv": argv,
            "suite_version": info.suite_version,
            "python": env.get("python"),
            "implementation": env.get("implementation"),
            "platform": env.get("platform"),
            "packages": dict(env.get("packages") or {}),
        },
    }
    if client is not None:
        doc["client"] = client
    return doc


def _client_part(client: Mapping[str, Any] | None, secrets: list[str]) -> dict[str, Any]:
    """The client under test of a client run (role, entity, command, scenarios with the client's output)."""
    client = dict(client or {})
    scenarios = []
    for entry in client.get("scenarios") or []:
        scenario = {str(k): v for k, v in entry.items()}
        for key in ("how", "stdout", "stderr", "description"):
            scenario[key] = redact(str(scenario.get(key) or ""), secrets)
        scenario["harness_notes"] = [redact(str(n), secrets) for n in scenario.get("harness_notes") or []]
        scenarios.append(scenario)
    return {
        "role": str(client.get("role") or ""),
        "entity_id": str(client.get("entity_id") or ""),
        "command": redact(str(client.get("command") or ""), secrets),
        "timeout_s": float(client.get("timeout_s") or 0.0),
        "scenarios": scenarios,
    }
