"""Bounded memory against hostile targets (issue 9 section 3): whatever a target sends, a suite run
stays under 400 MB peak RSS, and an oversized body is a FAIL of the operation's test case with the
evidence cut.

The target answers token requests normally (or not) and every other request with a 2 GiB body,
sent with Content-Length, chunked, close-delimited or as a gzip bomb (in turn, per request).
"""

from __future__ import annotations

import gzip
import json
import socket
import socketserver
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml

from ats.ixit import default_ixit

HUGE = 2 * 1024**3  # bytes each hostile body claims or decompresses to
PEAK_RSS_LIMIT = 400 * 1024 * 1024
TOKEN = json.dumps({"access_token": "tok", "token_type": "bearer", "expires_in": 600, "refresh_token": "r"}).encode()
KINDS = ("length", "chunked", "close", "gzip")
_BLOCK = b"[" + b"0," * (256 * 1024 - 1) + b"0]"
_GZIP_MEMBER = gzip.compress(b"0" * (16 * 1024 * 1024), compresslevel=9)  # ~16 KiB; members concatenate


class _Handler(socketserver.BaseRequestHandler):
    def handle(self) -> None:
        sock: socket.socket = self.request
        server: _HugeTarget = self.server  # type: ignore[assignment]
        data = b""
        while b"\r\n\r\n" not in data:
            chunk = sock.recv(65536)
            if not chunk:
                return
            data += chunk
        token = data.split(b" ", 2)[1].split(b"?")[0].endswith(b"/token")
        with server.lock:
            server.requests += 1
            kind = KINDS[server.requests % len(KINDS)]
        try:
            if token and server.token_ok:
                head = "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n"
                sock.sendall(head.format(len(TOKEN)).encode() + TOKEN)
            else:
                self._huge(sock, kind, server.stop)
        except OSError:
            return  # the suite stopped reading

    @staticmethod
    def _huge(sock: socket.socket, kind: str, stop: threading.Event) -> None:
        head = "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nConnection: close\r\n"
        if kind == "gzip":
            members = HUGE // (16 * 1024 * 1024)
            head += f"Content-Encoding: gzip\r\nContent-Length: {members * len(_GZIP_MEMBER)}\r\n\r\n"
            sock.sendall(head.encode())
            for _ in range(members):
                if stop.is_set():
                    return
                sock.sendall(_GZIP_MEMBER)
            return
        head += {"length": f"Content-Length: {HUGE}\r\n", "chunked": "Transfer-Encoding: chunked\r\n", "close": ""}[
            kind
        ]
        sock.sendall(head.encode() + b"\r\n")
        frame = f"{len(_BLOCK):x}\r\n".encode() + _BLOCK + b"\r\n" if kind == "chunked" else _BLOCK
        for _ in range(HUGE // len(_BLOCK)):
            if stop.is_set():
                return
            sock.sendall(frame)


class _HugeTarget(socketserver.ThreadingTCPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, token_ok: bool) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.token_ok = token_ok
        self.requests = 0
        self.lock = threading.Lock()
        self.stop = threading.Event()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}/interflex/api/v1"


@pytest.fixture
def target(request: pytest.FixtureRequest) -> Iterator[_HugeTarget]:
    server = _HugeTarget(token_ok=request.param)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.stop.set()
    server.shutdown()
    server.server_close()


# Runs the suite in a child and prints the child's peak RSS (ru_maxrss covers the child and its waited-for
# descendants, i.e. pytest-xdist workers too).
_MEASURE = """
import resource, subprocess, sys
proc = subprocess.run(sys.argv[1:], capture_output=True, text=True, timeout=400)
sys.stdout.write(proc.stdout[-20000:])
print("EXIT", proc.returncode)
print("PEAK_RSS_KB", resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)
"""


def _suite_peak_rss(tmp_path: Path, url: str, *extra: str) -> tuple[int, str, dict]:
    ixit = default_ixit()
    data = {
        "client": {"client_id": ixit.client_id, "client_secret": ixit.client_secret},
        "dso": vars(ixit.dso),
        "aggregators": [vars(a) for a in ixit.aggregators],
        "region_id": ixit.region_id,
        "unit": ixit.unit,
        "currency": ixit.currency,
        "ics": dict(ixit.ics),
    }
    (tmp_path / "ixit.yaml").write_text(yaml.safe_dump(data), encoding="utf-8")
    records = tmp_path / "records.json"
    command = [
        sys.executable,
        "-m",
        "pytest",
        "-p",
        "no:cacheprovider",
        "--pyargs",
        "ats",
        "-q",
        "--target-url",
        url,
        "--ixit",
        str(tmp_path / "ixit.yaml"),
        "--ats-timeout",
        "5",
        "--ats-examples",
        "2",
        "--ats-records",
        str(records),
        *extra,
    ]
    out = subprocess.run(
        [sys.executable, "-c", _MEASURE, *command], capture_output=True, text=True, timeout=420, cwd=tmp_path
    ).stdout
    peak = int(out.rsplit("PEAK_RSS_KB", 1)[1].split()[0]) * 1024
    return peak, out, json.loads(records.read_text(encoding="utf-8")) if records.exists() else {}


@pytest.mark.parametrize("target", [True], indirect=True, ids=["token-ok"])
def test_huge_bodies_keep_the_suite_under_400_mb(tmp_path: Path, target: _HugeTarget) -> None:
    peak, out, data = _suite_peak_rss(tmp_path, target.url)
    assert "EXIT 1" in out and data["summary"]["overall"] == "NOT CONFORMANT", out
    assert "Traceback" not in out and "INTERNALERROR" not in out, out
    assert peak < PEAK_RSS_LIMIT, f"peak RSS {peak / 1024**2:.0f} MB"
    failed = [r for r in data["records"] if r["verdict"] == "FAIL" and "larger than" in (r["reason"] or "")]
    assert failed, "no test case failed for the oversized body"
    for rec in failed:
        body = rec["exchanges"][-1]["response_body"]
        assert len(body) < 70 * 1024 and body.endswith("[... cut]")
