"""Hostile targets: hangs, drips, huge bodies, non-JSON, wrong content types and dropped connections
end in a clear FAIL or INCONCLUSIVE with evidence, never a hang or a crash of the suite."""

from __future__ import annotations

import dataclasses
import gzip
import socket
import socketserver
import threading
import time
from collections.abc import Iterator

import pytest
import yaml

from ats.ixit import default_ixit
from ats.recorder import EVIDENCE_CAP, MAX_ENV_FAILURES
from ats.session import Api, Context
from ats.verdicts import Failure, Inconclusive
from interflex.ixit import DEFAULT_MAX_RESPONSE_BYTES

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
        elif mode.startswith("huge"):
            _send_huge(sock, mode, self.server.size)  # type: ignore[attr-defined]
        elif mode == "drip":
            sock.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n")
            for _ in range(100):
                if stop.wait(0.2):
                    return
                try:
                    sock.sendall(b" ")
                except OSError:
                    return


def _send_huge(sock: socket.socket, mode: str, size: int) -> None:
    """A body of `size` bytes: huge (Content-Length), huge-chunked, huge-close (no length), huge-gzip (a bomb),
    huge-liar (announces `size`, sends 1 KiB)."""
    block = b"[" + b"0," * 32767 + b"0"
    head = "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nConnection: close\r\n"
    try:
        if mode == "huge-gzip":
            member = gzip.compress(b"0" * (1024 * 1024))
            count = size // (1024 * 1024) + 1
            sock.sendall(f"{head}Content-Encoding: gzip\r\nContent-Length: {count * len(member)}\r\n\r\n".encode())
            for _ in range(count):
                sock.sendall(member)
            return
        if mode == "huge-liar":
            sock.sendall(f"{head}Content-Length: {size}\r\n\r\n".encode() + block[:1024])
            return
        framing = {"huge": f"Content-Length: {size}\r\n", "huge-chunked": "Transfer-Encoding: chunked\r\n"}
        sock.sendall(f"{head}{framing.get(mode, '')}\r\n".encode())
        frame = f"{len(block):x}\r\n".encode() + block + b"\r\n" if mode == "huge-chunked" else block
        for _ in range(size // len(block) + 1):
            sock.sendall(frame)
        if mode == "huge-chunked":
            sock.sendall(b"0\r\n\r\n")
        _close_gracefully(sock)
    except OSError:
        return


def _close_gracefully(sock: socket.socket) -> None:
    """End the answer and read what the client still sends (its request body), so that closing sends no
    reset that would discard the answer in flight."""
    sock.shutdown(socket.SHUT_WR)
    sock.settimeout(5)
    while sock.recv(65536):
        pass


class _Stub(socketserver.ThreadingTCPServer):
    daemon_threads = True
    allow_reuse_address = True


@pytest.fixture
def stub() -> Iterator[_Stub]:
    server = _Stub(("127.0.0.1", 0), _Handler)
    server.stop = threading.Event()  # type: ignore[attr-defined]
    server.size = DEFAULT_MAX_RESPONSE_BYTES * 2  # type: ignore[attr-defined]
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.stop.set()  # type: ignore[attr-defined]
    server.shutdown()
    server.server_close()


def _api(stub: _Stub, mode: str, timeout: float = TIMEOUT, **ixit: object) -> Api:
    stub.mode = mode  # type: ignore[attr-defined]
    url = f"http://127.0.0.1:{stub.server_address[1]}/interflex/api/v1"
    return Api(Context(dataclasses.replace(default_ixit().with_target(url), **ixit), timeout=timeout))


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


@pytest.mark.parametrize("mode", ["huge", "huge-chunked", "huge-close", "huge-gzip", "huge-liar"])
def test_body_larger_than_the_limit_is_cut_and_fails(stub: _Stub, mode: str) -> None:
    api = _api(stub, mode, timeout=10)
    with pytest.raises(Failure, match=f"response body larger than {DEFAULT_MAX_RESPONSE_BYTES} bytes"):
        api.login("dso")
    exchange, record = api.exchanges[0], api.records()[0]
    assert record["status"] == 200 and exchange.truncated
    assert len(exchange.body) <= EVIDENCE_CAP  # only the evidence stays in memory
    assert len(record["response_body"]) < EVIDENCE_CAP + 100 and record["response_body"].endswith("[... cut]")


def test_announced_size_ends_the_exchange_early(stub: _Stub) -> None:
    """Content-Length above the limit: only the evidence is read, not the 16 MiB."""
    api = _api(stub, "huge", timeout=10)
    with pytest.raises(Failure, match=r"Content-Length 16777216"):
        api.login("dso")
    assert api.exchanges[0].size <= EVIDENCE_CAP + 64 * 1024


def test_max_response_bytes_of_the_ixit_raises_the_limit(stub: _Stub) -> None:
    stub.size = 3 * 1024 * 1024  # type: ignore[attr-defined]
    with pytest.raises(Failure, match="larger than 2097152 bytes"):
        _api(stub, "huge-chunked", timeout=10, max_response_bytes=2 * 1024 * 1024).login("dso")
    api = _api(stub, "huge-chunked", timeout=10, max_response_bytes=4 * 1024 * 1024)
    assert api.login("dso", check=False).size > 3 * 1024 * 1024


def test_compacted_bodies_keep_their_evidence_and_cannot_be_judged_again(stub: _Stub) -> None:
    stub.size = 1024 * 1024  # type: ignore[attr-defined]
    api = _api(stub, "huge-chunked", timeout=10)
    exchange = api.login("dso", check=False)
    before = api.records()
    api.cleanup()
    assert len(exchange.body) == EVIDENCE_CAP and exchange.size > 1024 * 1024
    assert api.records() == before  # the evidence is the same
    with pytest.raises(Inconclusive, match="dropped from memory"):
        exchange.json()


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
    assert time.monotonic() - started < TIMEOUT  # no wait for an answer: nothing was sent
    assert api.exchanges[-1].error.startswith("not sent") and len(api.exchanges) == MAX_ENV_FAILURES + 1


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
