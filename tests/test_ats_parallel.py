"""Independent probes in flight at once (`Api.concurrently`, IXIT `parallel_requests`, issue 9 section 7, D-107).

A small threading HTTP server on loopback counts the requests in flight; a barrier proves that the
probes of one call really overlap, and the recorded evidence keeps the order of the calls.
"""

from __future__ import annotations

import contextlib
import dataclasses
import socket
import threading
import time
from collections.abc import Iterator
from functools import partial
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from ats.ixit import default_ixit
from ats.recorder import MAX_ENV_FAILURES
from ats.session import Api, Context
from ats.verdicts import Failure, Inconclusive


class _Counting(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.lock = threading.Lock()
        self.in_flight = 0
        self.most_in_flight = 0
        self.barrier: threading.Barrier | None = None


class _Handler(BaseHTTPRequestHandler):
    server: _Counting

    def do_GET(self) -> None:
        with self.server.lock:
            self.server.in_flight += 1
            self.server.most_in_flight = max(self.server.most_in_flight, self.server.in_flight)
        status = 200
        try:
            if self.server.barrier is not None:
                self.server.barrier.wait()
            delay = self.path.rsplit("/", 1)[-1]
            time.sleep(float(delay) if delay.replace(".", "", 1).isdigit() else 0.01)
        except threading.BrokenBarrierError:
            status = 503
        finally:
            with self.server.lock:
                self.server.in_flight -= 1
        body = b"{}"
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def server() -> Iterator[_Counting]:
    httpd = _Counting()
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield httpd
    httpd.shutdown()
    httpd.server_close()
    thread.join(timeout=5)


@contextlib.contextmanager
def _api(server: _Counting, parallel: int) -> Iterator[Api]:
    ixit = dataclasses.replace(default_ixit(), parallel_requests=parallel)
    context = Context(ixit.with_target(f"http://127.0.0.1:{server.server_port}/api"), timeout=5)
    try:
        yield Api(context)
    finally:
        context.close()


def test_probes_are_in_flight_at_once(server: _Counting) -> None:
    server.barrier = threading.Barrier(4, timeout=5)  # only 4 requests in flight together pass it
    with _api(server, parallel=4) as api:
        results = api.concurrently(partial(api.raw, "GET", f"/probe/p{i}") for i in range(8))
        assert [ex.status for ex in results] == [200] * 8
    assert server.most_in_flight == 4


def test_one_at_a_time_when_the_ixit_says_1(server: _Counting) -> None:
    with _api(server, parallel=1) as api:
        results = api.concurrently(partial(api.raw, "GET", f"/probe/p{i}") for i in range(5))
        assert [ex.status for ex in results] == [200] * 5
    assert server.most_in_flight == 1


def test_results_and_evidence_keep_the_order_of_the_calls(server: _Counting) -> None:
    delays = ["0.3", "0.2", "0.1", "0"]  # the last call is answered first
    with _api(server, parallel=4) as api:
        results = api.concurrently(partial(api.raw, "GET", f"/probe/{d}") for d in delays)
        assert [ex.url.rsplit("/", 1)[-1] for ex in results] == delays
        assert [ex.url.rsplit("/", 1)[-1] for ex in api.exchanges] == delays


def test_the_first_failure_in_call_order_is_raised_after_all_ended(server: _Counting) -> None:
    def failing(api: Api, path: str, message: str) -> None:
        api.raw("GET", path)
        raise Failure(message)

    with _api(server, parallel=4) as api:
        calls = [
            partial(api.raw, "GET", "/probe/0"),
            partial(failing, api, "/probe/0.2", "second call"),
            partial(failing, api, "/probe/0", "third call"),
            partial(api.raw, "GET", "/probe/0.1"),
        ]
        with pytest.raises(Failure, match="second call"):
            api.concurrently(calls)
        assert [ex.url.rsplit("/", 1)[-1] for ex in api.exchanges] == ["0", "0.2", "0", "0.1"]


def test_parallel_probes_stop_asking_a_silent_target_together() -> None:
    """Three unanswered requests end the asking for every probe thread of the worker (a shared streak): of
    12 probes against a target that accepts connections and never answers, at most 6 wait for a timeout."""
    listener = socket.create_server(("127.0.0.1", 0))
    held: list[socket.socket] = []

    def accept() -> None:
        with contextlib.suppress(OSError):
            while True:
                held.append(listener.accept()[0])

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    ixit = dataclasses.replace(default_ixit(), parallel_requests=4)
    context = Context(ixit.with_target(f"http://127.0.0.1:{listener.getsockname()[1]}/api"), timeout=0.5)
    try:
        api = Api(context)
        with pytest.raises(Inconclusive) as info:
            api.concurrently(partial(api.raw, "GET", f"/probe/p{i}") for i in range(12))
        assert info.value.cause == "environment"
        assert len(api.exchanges) == 12 and all(ex.error for ex in api.exchanges)
        # at most MAX_ENV_FAILURES (3) + the other 3 threads' requests already in flight or sent before the
        # streak reached 3; without the shared streak each of the 4 threads would time out 3 times (12)
        timeouts = sum(ex.error.startswith("timeout") for ex in api.exchanges)
        assert timeouts <= MAX_ENV_FAILURES + 3
        assert sum(ex.error.startswith("not sent") for ex in api.exchanges) == 12 - timeouts
    finally:
        context.close()
        listener.close()
        for held_socket in held:
            held_socket.close()
        thread.join(timeout=5)
