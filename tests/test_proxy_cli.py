"""`interflex-proxy` as a user runs it: help, one-line setup errors (exit 2), live findings, files
and a summary at SIGTERM/SIGINT (exit 1 with error findings), never a secret on the terminal."""

from __future__ import annotations

import json
import queue
import re
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests

from interflex._data import fixtures_dir
from reference_server import ReferenceServer

CLI = str(Path(sys.executable).with_name("interflex-proxy"))
IXIT = fixtures_dir() / "ixit" / "reference.yaml"
TIMEOUT = 10


@pytest.fixture(scope="module")
def server() -> Iterator[ReferenceServer]:
    with ReferenceServer() as running:
        yield running


def test_help_explains_the_options_and_exit_status() -> None:
    result = subprocess.run([CLI, "--help"], capture_output=True, text=True, timeout=TIMEOUT)
    assert result.returncode == 0
    for word in ("--upstream", "--listen", "--ixit", "--complete", "--har", "--findings", "--ca-bundle", "exit status"):
        assert word in result.stdout


@pytest.fixture
def busy_port() -> Iterator[int]:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen()
        yield sock.getsockname()[1]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--upstream", "ftp://host"], "must be an http:// or https:// URL"),
        (["--listen", "nohost"], "must be HOST:PORT"),
        (["--ixit", "missing.yaml"], "cannot read IXIT file"),
        (["--certfile", "cert.pem"], "needs both a certificate file and a key file"),
        (["--ca-bundle", "missing.pem"], "cannot load"),
        (["--har", "no/such/dir/c.har"], "cannot write"),
        (["--max-body", "-1"], "body limit"),
        (["--listen", "127.0.0.1:{busy}"], "cannot listen on 127.0.0.1:"),
    ],
)
def test_setup_errors_are_one_line_and_exit_2(
    args: list[str], message: str, server: ReferenceServer, busy_port: int, tmp_path: Path
) -> None:
    command = [CLI, "--upstream", server.base_url, *(a.format(busy=busy_port) for a in args)]
    result = subprocess.run(command, capture_output=True, text=True, timeout=TIMEOUT, cwd=tmp_path)
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and message in lines[0] and lines[0].startswith("interflex-proxy: error:"), result.stderr


def _started(proc: subprocess.Popen[str], lines: queue.Queue[str]) -> str:
    """The proxy's URL from its start line on stderr."""
    deadline = time.monotonic() + TIMEOUT
    while time.monotonic() < deadline:
        try:
            line = lines.get(timeout=0.2)
        except queue.Empty:
            assert proc.poll() is None, "the proxy exited at start"
            continue
        found = re.search(r"clients use (\S+);", line)
        if found:
            return found.group(1)
    raise AssertionError("the proxy did not report its start")


@pytest.mark.parametrize("stop", [signal.SIGTERM, signal.SIGINT])
def test_a_run_prints_findings_live_writes_files_and_a_summary_at_the_signal(
    stop: signal.Signals, server: ReferenceServer, tmp_path: Path
) -> None:
    har, findings = tmp_path / "capture.har", tmp_path / "findings.jsonl"
    command = [CLI, "--upstream", server.base_url, "--listen", "127.0.0.1:0", "--ixit", str(IXIT)]
    command += ["--har", str(har), "--findings", str(findings)]
    proc = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    err_lines: queue.Queue[str] = queue.Queue()
    err_text: list[str] = []

    def pump() -> None:
        assert proc.stderr is not None
        for line in proc.stderr:
            err_text.append(line)
            err_lines.put(line)

    reader = threading.Thread(target=pump, daemon=True)
    reader.start()
    try:
        base_url = _started(proc, err_lines)
        form = {"grant_type": "password", "username": "agg1", "password": "agg1-demo"}
        form |= {"client_id": "client", "client_secret": "client"}
        token = requests.post(base_url + "/authentication/token", data=form, timeout=TIMEOUT).json()["access_token"]
        bearer = {"Authorization": f"Bearer {token}"}
        assert requests.get(base_url + "/aggregators/flexibilityOffers", headers=bearer, timeout=TIMEOUT).ok
        assert requests.get(base_url + "/aggregators/flexibilityOffers", timeout=TIMEOUT).status_code == 401  # CL-1
        time.sleep(0.3)
        proc.send_signal(stop)
        out, _ = proc.communicate(timeout=TIMEOUT)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()
    reader.join(TIMEOUT)
    errors = "".join(err_text)
    assert proc.returncode == 1, out + errors
    assert re.search(r"^error: #2 O3: client: .*\[CL-1\]$", out, re.M), out
    assert "summary: 3 exchanges, 1 errors" in out and f"wrote {har}" in out
    assert "Traceback" not in errors
    for secret in ("agg1-demo", token, "client_secret=client"):
        assert secret not in out + errors
    assert len(json.loads(har.read_text())["log"]["entries"]) == 3
    assert [json.loads(line)["rule"] for line in findings.read_text().splitlines()] == ["CL-1"]


def test_no_error_findings_exit_0(server: ReferenceServer) -> None:
    proc = subprocess.Popen(
        [CLI, "--upstream", server.base_url, "--listen", "127.0.0.1:0"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    lines: queue.Queue[str] = queue.Queue()
    threading.Thread(target=lambda: [lines.put(line) for line in proc.stderr or []], daemon=True).start()
    try:
        base_url = _started(proc, lines)
        form = {"grant_type": "password", "username": "dso1", "password": "dso1-demo"}
        form |= {"client_id": "client", "client_secret": "client"}
        assert requests.post(base_url + "/authentication/token", data=form, timeout=TIMEOUT).ok
        proc.terminate()
        out, _ = proc.communicate(timeout=TIMEOUT)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()
    assert proc.returncode == 0 and "summary: 1 exchanges, 0 errors, 0 warnings" in out
