"""Concurrency: a conformant server that processes overlapping exchanges in any order is never blamed.

A simulated platform (requests of two DSOs, ids shared across their paths) processes each
exchange at a random point of its [started, finished] interval; some answers are lost (no
response or a 503) after the change was or was not made. Whatever the interleaving, the monitor
must report nothing against the server, also with the capture declared complete. Hand-made
overlaps check the cases the issue names, and that real faults are still found.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from unittest.mock import patch

from hypothesis import given, settings
from hypothesis import strategies as st

from interflex.monitor import HttpExchange, Monitor, MonitorFinding, Participant, Platform
from interflex.monitor import _monitor as monitor_module

BASE = "http://platform.test/interflex/api/v1"
PLATFORM = Platform(participants=(Participant("dso1", "dso", "dso1"), Participant("dso2", "dso", "dso2")))
IDS = ("a", "b", "c")


def body(request_id: str, power: int) -> dict[str, object]:
    return {
        "request_id": request_id,
        "timestamp": "2030-01-01T10:00:00Z",
        "deadline": "2030-01-01T12:00:00Z",
        "region_id": "region-1",
        "flexible_power": power,
        "duration": 900,
        "unit": "kW",
    }


@dataclass(frozen=True)
class Call:
    action: str  # post, delete, list, getter
    dso: str
    object_id: str
    start: float
    duration: float
    point: float  # where in its interval the server processes it (0..1)
    lost: str  # "" answered, "none" no answer, "503"
    applied: bool  # for a lost answer: whether the server made the change


calls = st.builds(
    Call,
    action=st.sampled_from(("post", "post", "delete", "list", "list", "getter")),
    dso=st.sampled_from(("dso1", "dso2")),
    object_id=st.sampled_from(IDS),
    start=st.floats(0, 10, allow_nan=False),
    duration=st.floats(0, 3, allow_nan=False),
    point=st.floats(0, 1),
    lost=st.sampled_from(("", "", "", "", "none", "503")),
    applied=st.booleans(),
)


def simulate(history: list[Call]) -> list[HttpExchange]:
    """Run the calls through a conformant platform in processing order; return the capture."""
    stored: dict[str, tuple[str, dict[str, object]]] = {}
    fresh = 0
    answers: dict[int, tuple[int | None, object]] = {}
    order = sorted(range(len(history)), key=lambda i: history[i].start + history[i].point * history[i].duration)
    for i in order:
        call = history[i]
        lost = call.lost and call.action in ("post", "delete")
        if lost and not call.applied:
            answers[i] = (None if call.lost == "none" else 503, None)
            continue
        if call.action == "post":
            if call.object_id in stored:
                status = 409
            else:
                stored[call.object_id] = (call.dso, body(call.object_id, i + 1))
                status = 201
            answer: object = None
        elif call.action == "delete":
            found = stored.get(call.object_id)
            status = 204 if found and found[0] == call.dso else 404
            if status == 204:
                del stored[call.object_id]
            answer = None
        elif call.action == "list":
            status, answer = 200, [value for dso, value in stored.values() if dso == call.dso]
        else:
            fresh += 1
            status, answer = 200, {"request_id": f"fresh-{fresh}"}
        answers[i] = (None if lost and call.lost == "none" else 503 if lost else status, None if lost else answer)
    exchanges = []
    for i, call in enumerate(history):
        status, answer = answers[i]
        path = f"/dsos/{call.dso}/flexibilityRequests"
        method, request = {
            "post": ("POST", json.dumps(body(call.object_id, i + 1)).encode()),
            "delete": ("DELETE", b""),
            "list": ("GET", b""),
            "getter": ("GET", b""),
        }[call.action]
        path += {"delete": f"/{call.object_id}", "getter": "/requestId"}.get(call.action, "")
        exchanges.append(
            HttpExchange(
                index=i,
                method=method,
                url=BASE + path,
                request_headers={"authorization": "Bearer ***", "content-type": "application/json"},
                request_body=request,
                status=status,
                response_headers={"content-type": "application/json"} if answer is not None else {},
                response_body=b"" if answer is None else json.dumps(answer).encode(),
                started=call.start,
                finished=call.start + call.duration,
                caller=call.dso,
            )
        )
    return exchanges


def judge(exchanges: list[HttpExchange], complete: bool = True) -> list[MonitorFinding]:
    """Judge with the object store pruned after every exchange (as a long capture prunes it)."""
    monitor = Monitor(PLATFORM, complete=complete)
    found: list[MonitorFinding] = []
    with patch.object(monitor_module, "_PRUNE_EVERY", 1):
        for exchange in sorted(exchanges, key=lambda e: e.started):
            found += monitor.feed(exchange)
    return found + monitor.finish()


@settings(max_examples=300, deadline=None)
@given(st.lists(calls, max_size=25))
def test_no_interleaving_of_a_conformant_server_is_blamed(history: list[Call]) -> None:
    server = [str(f) for f in judge(simulate(history)) if f.side == "server" and f.rule != "ST-7"]
    assert server == []


def call(action: str, start: float, duration: float, point: float, object_id: str = "a", lost: str = "") -> Call:
    return Call(action, "dso1", object_id, start, duration, point, lost, True)


def server_rules(history: list[Call], complete: bool = True) -> list[tuple[int, str]]:
    return [(f.exchange, f.rule) for f in judge(simulate(history), complete) if f.side == "server"]


def test_post_overlapping_a_list_may_or_may_not_be_in_it() -> None:
    for point in (0.0, 1.0):  # the list processed before, then after the POST
        assert server_rules([call("post", 0, 2, 0.5), call("list", 1, 2, point)]) == []


def test_delete_overlapping_a_list_may_or_may_not_have_removed_it() -> None:
    for point in (0.0, 1.0):
        assert server_rules([call("post", 0, 1, 0.5), call("delete", 2, 2, 0.5), call("list", 3, 2, point)]) == []


def test_a_post_without_answer_may_or_may_not_have_stored() -> None:
    for applied in (True, False):
        history = [Call("post", "dso1", "a", 0, 1, 0.5, "none", applied), call("list", 2, 1, 0.5)]
        assert server_rules(history) == []


def test_sequential_list_missing_a_stored_object_is_found() -> None:
    exchanges = simulate([call("post", 0, 1, 0.5), call("list", 2, 1, 0.5)])
    exchanges[1] = HttpExchange(
        **{**{f: getattr(exchanges[1], f) for f in HttpExchange.__slots__}, "response_body": b"[]"}
    )
    assert [(f.exchange, f.rule, f.severity) for f in judge(exchanges) if f.side == "server"] == [(1, "ST-9", "error")]


def test_a_later_list_still_showing_a_deleted_object_is_found() -> None:
    history = [call("post", 0, 1, 0.5), call("delete", 2, 1, 0.5), call("list", 3.5, 1, 0.5)]
    exchanges = simulate(history)
    listed = json.dumps([body("a", 1)]).encode()
    exchanges[2] = HttpExchange(
        **{**{f: getattr(exchanges[2], f) for f in HttpExchange.__slots__}, "response_body": listed}
    )
    assert [(f.exchange, f.rule) for f in judge(exchanges) if f.side == "server"] == [(2, "ST-9")]
