"""Hostile targets: hangs, drips, huge bodies, non-JSON, wrong content types and dropped connections
end in a clear FAIL or INCONCLUSIVE with evidence, never a hang or a crash of the suite."""

from __future__ import annotations

import socket
import socketserver
import threading
import time
from collections.abc import Iterator

import pytest
import yaml

from ats.ixit import default_ixit
from ats.recorder import EVIDENCE_CAP, MAX_ENV_FAILURES, READ_CAP
from ats.session import Api, Context
from ats.verdicts import Failure, Inconclusive

TIMEOUT = 0.5
TOKEN = b'{"access_token": "a", "token_type": "bearer", "expires_in": 60, "refresh_token": "r"}'


class _Handler(socketserver.BaseRequestHandler):
    def handle(self) -> None:
        sock: socket.socket = self.request
        data = b""
        while b"\r\n\r\n" not in data:
            chunk = sock.recv(65536)
            if not chunk:
                return
            data += chunk
        path = data.split(b" ", 2)[1]
        mode = self.server.mode if path.endswith(b"/token") else "probe"  # type: ignore[attr-defined]
        stop: threading.Event = self.server.stop  # type: ignore[attr-defined]
        if mode == "probe":
            sock.sendall(b"HTTP/1.1 404 Not Found\r\nServer: stub\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")
        elif mode == "hang":
            stop.wait(30)
        elif mode == "close":
            sock.shutdown(socket.SHUT_RDWR)
        elif mode == "html":
            sock.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nContent-Length: 13\r\n\r\n<html></html>")
        elif mode == "wrong-type":
            head = f"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: {len(TOKEN)}\r\n\r\n"
            sock.sendall(head.encode() + TOKEN)
        elif mode == "huge":
            size = READ_CAP * 2
            sock.sendall(
                f"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: {size}\r\n\r\n".encode()
            )
            block = b"[" + b"0," * 32767 + b"0"
            try:
                for _ in range(size // len(block)):
                    sock.sendall(block)
            except OSError:
                return
        elif mode == "drip":
            sock.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n")
            for _ in range(100):
                if stop.wait(0.2):
                    return
                try:
                    sock.sendall(b" ")
                except OSError:
                    return


class _Stub(socketserver.ThreadingTCPServer):
    daemon_threads = True
    allow_reuse_address = True


@pytest.fixture
def stub() -> Iterator[_Stub]:
    server = _Stub(("127.0.0.1", 0), _Handler)
    server.stop = threading.Event()  # type: ignore[attr-defined]
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.stop.set()  # type: ignore[attr-defined]
    server.shutdown()
    server.server_close()


def _api(stub: _Stub, mode: str) -> Api:
    stub.mode = mode  # type: ignore[attr-defined]
    url = f"http://127.0.0.1:{stub.server_address[1]}/interflex/api/v1"
    return Api(Context(default_ixit().with_target(url), timeout=TIMEOUT))


@pytest.mark.parametrize("mode", ["hang", "drip"])
def test_no_answer_in_time_is_inconclusive_environment(stub: _Stub, mode: str) -> None:
    api = _api(stub, mode)
    started = time.monotonic()
    with pytest.raises(Inconclusive) as info:
        api.login("dso")
    assert time.monotonic() - started < TIMEOUT + 1.5
    assert info.value.cause == "environment" and "--ats-timeout" in info.value.reason
    record = api.records()[0]
    assert record["error"].startswith("timeout") and record["method"] == "POST"


def test_dropped_connection_is_a_fail_with_evidence(stub: _Stub) -> None:
    api = _api(stub, "close")
    with pytest.raises(Failure, match="connection closed"):
        api.login("dso")
    assert api.records()[0]["status"] is None and "connection" in api.records()[0]["error"]


def test_huge_body_is_cut_and_fails(stub: _Stub) -> None:
    api = _api(stub, "huge")
    with pytest.raises(Failure, match="exceeds 8 MiB"):
        api.login("dso")
    record = api.records()[0]
    assert record["status"] == 200
    assert len(record["response_body"]) < EVIDENCE_CAP + 100 and record["response_body"].endswith("[... cut]")


@pytest.mark.parametrize(
    ("mode", "message"), [("html", "Content-Type 'text/html'"), ("wrong-type", "Content-Type 'text/plain'")]
)
def test_success_without_json_fails(stub: _Stub, mode: str, message: str) -> None:
    api = _api(stub, mode)
    with pytest.raises(Failure, match=message):
        api.login("dso")
    with pytest.raises(Failure, match="not JSON"):
        api.exchanges[0].body = b"<html>"
        api.exchanges[0].json()


def test_failed_login_is_cached_as_inconclusive_precondition(stub: _Stub) -> None:
    api = _api(stub, "html")
    with pytest.raises(Inconclusive) as first:
        api.token("dso")
    with pytest.raises(Inconclusive) as second:
        api.token("dso")
    assert first.value.cause == second.value.cause == "precondition"
    assert len(api.exchanges) == 1


def test_unanswered_target_fails_fast_after_repeated_timeouts(stub: _Stub) -> None:
    api = _api(stub, "hang")
    for _ in range(MAX_ENV_FAILURES):
        with pytest.raises(Inconclusive):
            api.login("dso")
    started = time.monotonic()
    with pytest.raises(Inconclusive, match="not retried"):
        api.login("dso")
    assert time.monotonic() - started < 0.2


def test_suite_against_a_hanging_target_ends_inconclusive(pytester: pytest.Pytester, stub: _Stub) -> None:
    stub.mode = "hang"  # type: ignore[attr-defined]
    url = f"http://127.0.0.1:{stub.server_address[1]}/interflex/api/v1"
    ixit = pytester.path / "ixit.yaml"
    ixit.write_text(
        yaml.safe_dump(
            {
                "client": {"client_id": "c", "client_secret": "s3cret-c"},
                "dso": {"entity_id": "dso1", "username": "dso1", "password": "s3cret-d"},
                "aggregators": [
                    {"entity_id": "agg1", "username": "agg1", "password": "s3cret-1"},
                    {"entity_id": "agg2", "username": "agg2", "password": "s3cret-2"},
                ],
                "region_id": "r",
                "unit": "kW",
                "currency": "EUR",
            }
        )
    )
    started = time.monotonic()
    result = pytester.runpytest_subprocess(
        "-p",
        "no:cacheprovider",
        "--pyargs",
        "ats.cases.test_requests",
        "--target-url",
        url,
        "--ixit",
        str(ixit),
        "--ats-timeout",
        "0.3",
        "-rs",
        timeout=120,
    )
    out = result.stdout.str() + result.stderr.str()
    assert result.ret == 1, out
    assert time.monotonic() - started < 60
    assert "Traceback" not in out and "INTERNALERROR" not in out
    assert "INCONCLUSIVE (environment)" in out and "Server: stub" in out
    assert "overall verdict: NOT CONFORMANT" in out
    assert "s3cret" not in out


def test_refused_connection_is_inconclusive_environment() -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    api = Api(Context(default_ixit().with_target(f"http://127.0.0.1:{port}/interflex/api/v1"), timeout=TIMEOUT))
    with pytest.raises(Inconclusive, match="cannot connect") as info:
        api.call("R3", as_=None)
    assert info.value.cause == "environment" and api.records()[0]["error"].startswith("connection error")
