"""interflex-load's parts that need no Locust: findings, ledger, judge order, bodies, reconciliation, result.

None of these modules may import Locust (it monkey-patches the process with gevent): checked in
a fresh interpreter and statically.
"""

from __future__ import annotations

import argparse
import ast
import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from ats.load import findings as findings_module
from ats.load import report, traffic
from ats.load.cli import duration
from ats.load.findings import FindingLog
from ats.load.judge import Judge
from ats.load.ledger import DELETED, IN_DOUBT, PENDING, Ledger, Outbox, Written
from ats.load.reconcile import Target, clean_up, reconcile
from interflex.errors import ConfigError
from interflex.ixit import default_ixit, parse_ixit
from interflex.monitor import HttpExchange, platform_from_ixit
from interflex.samples import sample
from interflex.validation import validate
from reference_server import ReferenceServer
from reference_server.demo import DemoClient

ROOT = Path(__file__).resolve().parent.parent
LOCUST_MODULES = {"run.py", "users.py"}  # the only modules of ats/load that may import locust or gevent


def test_importing_the_load_package_does_not_import_locust() -> None:
    code = (
        "import sys, ats.plugin, ats.load, ats.load.cli, ats.load.findings, ats.load.judge, ats.load.ledger, "
        "ats.load.reconcile, ats.load.report, ats.load.traffic; "
        "print(sorted(m for m in sys.modules if m.split('.')[0] in ('locust', 'gevent')))"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=True)
    assert done.stdout.strip() == "[]"


def test_locust_is_imported_only_where_the_cli_alone_goes() -> None:
    for path in sorted((ROOT / "ats").rglob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        top = [node for node in tree.body if isinstance(node, ast.Import | ast.ImportFrom)]
        names = {alias.name for node in top if isinstance(node, ast.Import) for alias in node.names}
        names |= {node.module or "" for node in top if isinstance(node, ast.ImportFrom)}
        heavy = {n for n in names if n.split(".")[0] in ("locust", "gevent") or n in ("ats.load.run", "ats.load.users")}
        if path.parent.name == "load" and path.name in LOCUST_MODULES:
            continue
        assert not heavy, f"{path.relative_to(ROOT)} imports {sorted(heavy)} at module level"


# findings ---------------------------------------------------------------------------------------


def test_findings_are_grouped_counted_and_bounded(monkeypatch: pytest.MonkeyPatch) -> None:
    log = FindingLog()
    for i in range(5):
        log.add("ST-7", "R1", "answered 503", f"example {i}")
    assert [(f.rule, f.count, len(f.examples)) for f in log.all()] == [("ST-7", 5, findings_module.EXAMPLES)]
    monkeypatch.setattr(findings_module, "DISTINCT", 2)
    for i in range(4):
        log.add("ST-10", "R3", f"message {i}")
    assert sorted(f.message for f in log.all() if f.rule == "ST-10") == sorted(
        ["message 0", "message 1", findings_module.OTHERS]
    )
    merged = FindingLog()
    merged.merge(log.drain())
    merged.merge(log.drain())  # nothing new
    assert sum(f.count for f in merged.all()) == 9


# ledger -----------------------------------------------------------------------------------------


def _written(object_id: str, obj: dict | None = None, path: str = "/dsos/dso1/flexibilityRequests") -> Written:
    obj = obj or sample("FlexibilityRequest", request_id=object_id)
    return Written("FlexibilityRequest", object_id, path, "dso1", f"{path}/{object_id}", obj)


def test_ledger_finds_ids_handed_out_twice_across_processes() -> None:
    first, second, ledger = Outbox(), Outbox(), Ledger()
    first.issued("FlexibilityOffer", "o-1")
    second.issued("FlexibilityOffer", "o-2")
    second.issued("FlexibilityOffer", "o-1")
    ledger.merge(first.drain())
    ledger.merge(second.drain())
    assert [(f.rule, f.operation, f.count) for f in ledger.findings.all()] == [("ID-1", "O1", 1)]


def test_ledger_st2_only_without_any_delete_and_what_reconciliation_checks() -> None:
    one, ledger = Outbox(), Ledger()
    for object_id in ("twice", "twice", "deleted", "doubtful", "kept"):
        one.wrote(_written(object_id))
    one.deleting("FlexibilityRequest", "deleted", PENDING)
    one.deleting("FlexibilityRequest", "deleted", DELETED)
    one.deleting("FlexibilityRequest", "doubtful", PENDING)
    one.deleting("FlexibilityRequest", "doubtful", IN_DOUBT)
    ledger.merge(one.drain())
    ledger.finish()
    assert [(f.rule, f.examples) for f in ledger.findings.all()] == [
        ("ST-2", ["FlexibilityRequest id 'twice' acknowledged 2 times"])
    ]
    listed, gone = ledger.to_check()
    assert sorted(w.id for w in listed) == ["kept", "twice"]
    assert gone == {("FlexibilityRequest", "deleted"): "/dsos/dso1/flexibilityRequests"}


# judge ------------------------------------------------------------------------------------------


def _exchange(index: int, started: float, status: int = 200) -> HttpExchange:
    url = "http://127.0.0.1:1/interflex/api/v1/dsos/dso1/flexibilityRequests/requestId"
    body = b'{"request_id": "r-%d"}' % index if status == 200 else b'{"error": "busy"}'
    return HttpExchange(
        index,
        "GET",
        url,
        {"authorization": "Bearer t"},
        b"",
        status,
        {"content-type": "application/json"},
        body,
        started,
        started + 1,
        caller="dso1",
    )


def test_judge_feeds_the_monitor_in_start_order_and_keeps_server_errors() -> None:
    log = FindingLog()
    judge = Judge(platform_from_ixit(default_ixit()), log, ["secret"])
    fed: list[int] = []
    feed = judge.monitor.feed
    judge.monitor.feed = lambda exchange: (fed.append(exchange.index), feed(exchange))[1]  # type: ignore[method-assign]
    first, second, third = judge.begin(1.0), judge.begin(2.0), judge.begin(3.0)
    judge.end(third, _exchange(third, 3.0, 503))
    judge.end(second, _exchange(second, 2.0))
    assert fed == []  # the first one is still running
    judge.end(first, None)  # abandoned (no answer)
    assert fed == [second, third]
    judge.flush()
    assert [(f.rule, f.operation, f.message) for f in log.all()] == [
        ("ST-7", "R1", "GET /dsos/{dso}/flexibilityRequests/requestId answered 503")
    ]


def test_list_bodies_are_judged_per_distinct_object() -> None:
    log = FindingLog()
    judge = Judge(platform_from_ixit(default_ixit()), log, [])
    fed: list[HttpExchange] = []
    judge.monitor.feed = lambda exchange: fed.append(exchange) or []  # type: ignore[method-assign]
    good = sample("FlexibilityRequest")
    bad = {**sample("FlexibilityRequest"), "duration": "900"}
    url = "http://127.0.0.1:1/interflex/api/v1/dsos/dso1/flexibilityRequests"
    for listed in ([good, bad], [good, bad], {"not": "a list"}):
        ticket = judge.begin(1.0)
        body = json.dumps(listed).encode()
        exchange = HttpExchange(ticket, "GET", url, {}, b"", 200, {}, body, 1.0, 1.1, caller="dso1")
        judge.end(ticket, exchange, "R3", listed)
    assert all(e.truncated for e in fed) and len(fed) == 3  # the monitor does not read list bodies again
    assert [(f.rule, f.operation, f.count) for f in log.all()] == [("ST-10", "R3", 2), ("ST-10", "R3", 1)]
    assert judge._valid == {("FlexibilityRequest", good["request_id"]): good}


# traffic ----------------------------------------------------------------------------------------


def test_section_8_bodies_are_valid_and_plausible() -> None:
    ixit = default_ixit()
    request = traffic.request(ixit, "r-1")
    offers = [traffic.offer(ixit, f"o-{i}", "agg1", request) for i in range(30)]
    chosen = traffic.cheapest(offers, {"r-1"}, set())
    assert chosen is not None and chosen["flexible_power"] > 0
    assert chosen["flex_price"] == min(o["flex_price"] for o in offers if o["flexible_power"] > 0)
    assert traffic.cheapest(offers, {"r-2"}, set()) is None
    activation = traffic.activation(ixit, "a-1", chosen)
    assert traffic.answerable(activation)
    messages = [request, *offers, activation, traffic.answer(ixit, "ack", "k-1", activation)]
    messages.append(traffic.answer(ixit, "nack", "n-1", activation))
    assert messages[-1]["nack_id"] == "n-1" and messages[-2]["activation_id"] == "a-1"
    assert [f for m in messages for f in validate(m) if f.severity == "error"] == []


def test_odd_target_data_never_breaks_a_user() -> None:
    ixit = default_ixit()
    odd = [
        None,
        [],
        {"offer_id": ["o"], "request_id": "r-1"},
        {**traffic.offer(ixit, "o-1", "agg1", {"request_id": "r-1"})},
    ]
    odd[3].update(entity_id={"not": "a string"}, flexible_power=50)
    assert traffic.cheapest(odd, {"r-1"}, set()) is None
    offer = traffic.offer(ixit, "o-2", "agg1", {"request_id": "r-1", "flexible_power": "lots"})
    assert [f for f in validate(offer) if f.severity == "error"] == []


# command line pieces, IXIT capacity, result ------------------------------------------------------


@pytest.mark.parametrize(("text", "seconds"), [("90", 90), ("45s", 45), ("2m", 120), ("1h30m", 5400), ("1m30s", 90)])
def test_durations(text: str, seconds: float) -> None:
    assert duration(text) == seconds


@pytest.mark.parametrize("text", ["", "abc", "0", "5x", "-3"])
def test_bad_durations(text: str) -> None:
    with pytest.raises(argparse.ArgumentTypeError):
        duration(text)


def _ixit_data(**extra: object) -> dict:
    return {
        "client": {"client_id": "c", "client_secret": "s"},
        "dso": {"entity_id": "dso1", "username": "dso1", "password": "p"},
        "aggregators": [{"entity_id": f"agg{i}", "username": f"agg{i}", "password": "p"} for i in (1, 2)],
        "region_id": "region-1",
        "unit": "kW",
        "currency": "EUR",
        **extra,
    }


def test_ixit_capacity_is_optional_and_checked() -> None:
    assert parse_ixit(_ixit_data()).capacity == {}
    assert parse_ixit(_ixit_data(capacity={"min_rps": 500, "p99_ms": 250.5})).capacity == {
        "min_rps": 500.0,
        "p99_ms": 250.5,
    }
    for bad in ({"min_rps": 0}, {"p99_ms": "fast"}, {"rps": 5}, {}, [1], {"min_rps": True}):
        with pytest.raises(ConfigError, match="capacity"):
            parse_ixit(_ixit_data(capacity=bad))


def test_verdict_needs_no_finding_and_every_threshold() -> None:
    total = {"requests": 10, "failures": 0, "rps": 100.0, "p99_ms": 80}
    args = {"target": "t", "users": 1, "workers": 0, "run_time_s": 1.0, "operations": {}, "total": total}
    good = report.result(**args, findings=[], capacity={"min_rps": 50, "p99_ms": 100}, not_cleaned=0)
    assert good["verdict"] == "PASS" and all(c["ok"] for c in good["thresholds"].values())
    slow = report.result(**args, findings=[], capacity={"p99_ms": 50}, not_cleaned=0)
    assert slow["verdict"] == "FAIL" and "p99_ms: required 50, measured 80: MISSED" in report.summary(slow)
    log = FindingLog()
    log.add("ST-7", "R1", "answered 503")
    bad = report.result(**args, findings=log.all(), capacity={}, not_cleaned=0)
    assert bad["verdict"] == "FAIL" and "FINDING ST-7: R1: answered 503 (1x)" in report.summary(bad)
    assert "<td>ST-7</td>" in report.findings_html(bad)


# reconciliation ---------------------------------------------------------------------------------


@pytest.fixture
def server() -> Iterator[ReferenceServer]:
    with ReferenceServer() as running:
        yield running


def test_reconciliation_finds_lost_changed_and_undeleted_objects(server: ReferenceServer) -> None:
    client = DemoClient(server.base_url)
    path = "/dsos/dso1/flexibilityRequests"
    stored = [sample("FlexibilityRequest") for _ in range(4)]
    for obj in stored:
        assert client.call("POST", path, json=obj).status_code == 201
    client.close()
    kept, changed, undeleted, cleaned = stored
    lost = sample("FlexibilityRequest")  # acknowledged (says the ledger) but never stored
    outbox = Outbox()
    for obj in (kept, {**changed, "flexible_power": 1}, lost, undeleted, cleaned):
        outbox.wrote(_written(obj["request_id"], obj))
    outbox.deleting("FlexibilityRequest", undeleted["request_id"], DELETED)
    ledger = Ledger()
    ledger.merge(outbox.drain())
    target = Target(default_ixit().with_target(server.base_url))
    try:
        reconcile(target, ledger)
        messages = sorted((f.rule, f.message, f.count) for f in ledger.findings.all())
        assert messages == [
            ("ST-9", "a listed object differs from the one posted", 1),
            ("ST-9", "an acknowledged object that was never deleted is missing", 1),
            ("ST-9", "an object whose DELETE was acknowledged is still listed", 1),
        ]
        assert clean_up(target, ledger.live.values()) == 1  # the lost one cannot be deleted
        assert target.call("GET", path, target.ixit.dso).json() == [undeleted]
    finally:
        target.close()
