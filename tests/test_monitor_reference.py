"""The monitor on real traffic of the reference server: zero errors when it conforms, the rule when it does not.

Traffic is recorded below `requests` (every exchange the D3.5 client and `examples/negotiation.py`
send), then judged as one complete capture (the server starts empty).
"""

from __future__ import annotations

import contextlib
import importlib.util
import sys
import time
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
import requests

from interflex.client import InterflexClient, InterflexError, authentication, flexibility_requests
from interflex.ixit import default_ixit
from interflex.monitor import HttpExchange, MonitorFinding, judge, platform_from_ixit
from reference_server import ReferenceServer

EXAMPLE = Path(__file__).resolve().parents[1] / "examples" / "negotiation.py"


class Recorder:
    """Every exchange sent through `requests.Session` while installed, as `HttpExchange` values."""

    def __init__(self) -> None:
        self.exchanges: list[HttpExchange] = []

    def install(self, monkeypatch: pytest.MonkeyPatch) -> None:
        recorder, original = self, requests.Session.send

        def send(session: requests.Session, request: requests.PreparedRequest, **kwargs: Any) -> requests.Response:
            started = time.time()
            try:
                response = original(session, request, **kwargs)
            except requests.RequestException as exc:
                recorder.add(request, None, started, str(exc))
                raise
            recorder.add(request, response, started, None)
            return response

        monkeypatch.setattr(requests.Session, "send", send)

    def add(
        self, request: requests.PreparedRequest, response: requests.Response | None, started: float, error: str | None
    ) -> None:
        body = request.body or b""
        self.exchanges.append(
            HttpExchange(
                index=len(self.exchanges),
                method=str(request.method),
                url=str(request.url),
                request_headers={k.lower(): v for k, v in request.headers.items()},
                request_body=body.encode() if isinstance(body, str) else body,
                status=response.status_code if response is not None else None,
                response_headers={k.lower(): v for k, v in response.headers.items()} if response is not None else {},
                response_body=response.content if response is not None else b"",
                started=started,
                finished=time.time(),
                error=error,
            )
        )


@pytest.fixture(scope="module")
def example() -> Iterator[ModuleType]:
    spec = importlib.util.spec_from_file_location("negotiation_example_monitor", EXAMPLE)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    yield module
    del sys.modules[spec.name]


def client(server: ReferenceServer, user: str) -> InterflexClient:
    return InterflexClient(
        server.base_url, client_id="client", client_secret="client", username=user, password=f"{user}-demo"
    )


def negotiate(example: ModuleType, server: ReferenceServer, **options: bool) -> None:
    ixit = replace(default_ixit(), target_url=server.base_url)
    negotiation = example.Negotiation(ixit, server.base_url, **options)
    try:
        negotiation.run()
    except example.StepFailed:
        negotiation.clean_up_quietly()
    finally:
        negotiation.close()


def life_cycles(server: ReferenceServer, example: ModuleType) -> None:
    """Every resource posted, listed, deleted and listed again, a refresh, and empty lists (D3.5 client)."""
    dso, agg = client(server, "dso1"), client(server, "agg1")
    now = example._now()
    for party in (dso, agg):
        with contextlib.suppress(InterflexError):
            party.authenticate()
    steps = [
        lambda: agg.get_all_activation_acks("agg1"),
        lambda: agg.get_all_activation_nacks("agg1"),
        lambda: dso.refresh(),
    ]
    request = example.build_request(dso.get_request_id("dso1"), default_ixit(), now)
    steps += [
        lambda: dso.post_request("dso1", request),
        lambda: dso.get_all_requests("dso1"),
        lambda: dso.post_request("dso1", request),  # a second POST of a stored id: 409 (ST-2)
        lambda: agg.get_all_requests("dso1"),
        lambda: dso.delete_request("dso1", request["request_id"]),
        lambda: dso.get_all_requests("dso1"),
        lambda: agg.delete_offer("agg1", "never-posted"),
    ]
    for step in steps:
        with contextlib.suppress(InterflexError):
            step()


def d35_functions(server: ReferenceServer, example: ModuleType) -> None:
    """The D3.5 module functions (each call its own connection): log in, refresh, a request's life cycle."""
    host, port = server.host, server.port
    tokens = authentication.authenticate(host, port, "dso1", "dso1-demo", "client", "client")
    tokens = authentication.refresh(host, port, tokens["refresh_token"], "client", "client")
    token = tokens["access_token"]
    request_id = flexibility_requests.get_request_id(host, port, "dso1", token)
    request = example.build_request(request_id, default_ixit(), example._now())
    flexibility_requests.post_request(host, port, "dso1", token, request)
    assert request_id in {r["request_id"] for r in flexibility_requests.get_all_requests(host, port, "dso1", token)}
    flexibility_requests.delete_request(host, port, "dso1", token, request_id)
    flexibility_requests.get_all_requests(host, port, "dso1", token)


def record(monkeypatch: pytest.MonkeyPatch, example: ModuleType, fault: str | None = None) -> list[HttpExchange]:
    recorder = Recorder()
    recorder.install(monkeypatch)
    with ReferenceServer(fault=fault) as server:
        negotiate(example, server)
        negotiate(example, server, nack=True, decline=True)
        life_cycles(server, example)
        d35_functions(server, example)
        negotiate(example, server)
    monkeypatch.undo()
    return recorder.exchanges


def findings(exchanges: list[HttpExchange]) -> list[MonitorFinding]:
    return list(judge(exchanges, platform_from_ixit(default_ixit()), complete=True))


def test_conformant_reference_server_gives_no_findings(monkeypatch: pytest.MonkeyPatch, example: ModuleType) -> None:
    exchanges = record(monkeypatch, example)
    assert len(exchanges) > 60
    judged = findings(exchanges)
    assert [str(f) for f in judged if f.side == "server"] == []
    client_errors = {f.rule for f in judged if f.severity == "error"}
    assert client_errors == {"CL-5"}, judged  # the deliberate second POST of a stored request id


@pytest.mark.parametrize(
    ("fault", "rule"),
    [
        ("stale-ids", "ID-1"),
        ("lists-lose-precision", "ST-10"),
        ("expires-in-string", "ST-10"),
        ("no-activations", "V1"),
        ("nack-post-202", "N2"),
        ("ack-empty-list-404", "K3"),
        ("offer-request-id-dropped", "ST-9"),
        ("duplicate-request-accepted", "ST-2"),
        ("offer-delete-unknown-204", "ST-4"),
    ],
)
def test_fault_modes_show_as_server_errors(
    monkeypatch: pytest.MonkeyPatch, example: ModuleType, fault: str, rule: str
) -> None:
    judged = findings(record(monkeypatch, example, fault))
    server_errors = {f.rule for f in judged if f.side == "server" and f.severity == "error"}
    assert rule in server_errors, [str(f) for f in judged]
