"""Suite wall time: against the local reference server, or through a delaying proxy (a remote target).

Without `--rtt-ms`: starts one reference server in this process, runs the whole conformance suite
against it (`pytest --pyargs ats --target-url ...`, default `--ats-examples`), counts the suite's
HTTP exchanges, then replays that many plain GETs (an id getter, with a bearer token) through one
`requests.Session(trust_env=False)` against the same server. Target: suite <= 3 x replay (issue 5).

With `--rtt-ms N`: puts a TCP proxy adding N ms round-trip time (bench/delay_proxy.py) in front of
the reference server and runs the suite as a user would (`interflex-ats --target-url <proxy>`),
sequentially and with each `--workers` value, and prints the times side by side with the verdict,
the recorded exchanges and the TCP connections opened (issue 9 section 7). Goal: CONFORMANT in under
15 s at 20 ms. The suite runs with Python's default of caching byte code (PYTHONDONTWRITEBYTECODE is
removed from its environment), so only the first run compiles the modules.

    .venv/bin/python bench/suite_bench.py
    .venv/bin/python bench/suite_bench.py --rtt-ms 20 --workers 0,auto,4
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests
from delay_proxy import DelayProxy  # bench/ is on sys.path when this script runs

from ats import recorder
from reference_server import ReferenceServer


def run_suite(base_url: str) -> tuple[float, int, int]:
    """(seconds, HTTP exchanges, exit code) of one in-process suite run."""
    count = 0
    original = recorder.Transport.send

    def counting(self: recorder.Transport, *args: object, **kwargs: object) -> recorder.Exchange:
        nonlocal count
        count += 1
        return original(self, *args, **kwargs)

    recorder.Transport.send = counting  # type: ignore[method-assign]
    try:
        with tempfile.TemporaryDirectory() as tmp:
            started = time.perf_counter()
            code = pytest.main(
                [
                    "--pyargs",
                    "ats",
                    "-q",
                    "--no-header",
                    "-p",
                    "no:cacheprovider",
                    "--target-url",
                    base_url,
                    "--ats-records",
                    str(Path(tmp) / "records.json"),
                ]
            )
            elapsed = time.perf_counter() - started
    finally:
        recorder.Transport.send = original  # type: ignore[method-assign]
    return elapsed, count, int(code)


def replay(base_url: str, calls: int) -> float:
    """Seconds for `calls` plain GETs of O1 with a bearer token through one Session."""
    session = requests.Session()
    session.trust_env = False
    token = session.post(
        f"{base_url}/authentication/token",
        data={
            "grant_type": "password",
            "username": "agg1",
            "password": "agg1-demo",
            "client_id": "client",
            "client_secret": "client",
        },
        timeout=10,
    ).json()["access_token"]
    url = f"{base_url}/aggregators/agg1/flexibilityOffers/offerId"
    headers = {"Authorization": f"Bearer {token}"}
    started = time.perf_counter()
    for _ in range(calls):
        session.get(url, headers=headers, timeout=10).raise_for_status()
    return time.perf_counter() - started


def run_remote(base_url: str, workers: str) -> tuple[float, str, int]:
    """(seconds, overall verdict, recorded exchanges) of one suite run in a subprocess; workers "0" = sequential."""
    with tempfile.TemporaryDirectory() as tmp:
        records = Path(tmp) / "records.json"
        command = [sys.executable, "-m", "ats.cli", "-q", "--no-header", "-p", "no:cacheprovider"]
        command += ["--target-url", base_url, "--ats-records", str(records)]
        command += ["-n", workers] if workers != "0" else []
        environment = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
        started = time.perf_counter()
        subprocess.run(command, capture_output=True, text=True, timeout=900, cwd=tmp, env=environment)
        elapsed = time.perf_counter() - started
        if not records.exists():
            return elapsed, "no records (the run failed)", 0
        data = json.loads(records.read_text(encoding="utf-8"))
    return elapsed, data["summary"]["overall"], sum(len(r["exchanges"]) for r in data["records"])


def remote(rtt_ms: float, workers: list[str]) -> int:
    """Print the suite's time through a proxy adding `rtt_ms`, for each worker count; 0 when all CONFORMANT.

    The reference server runs in its own process (`python -m reference_server`), as a remote target
    has its own CPU; the proxy runs in this one.
    """
    print(f"suite against the reference server through a proxy adding {rtt_ms:g} ms round-trip time")
    print(f"{'workers':>8} {'seconds':>8} {'exchanges':>10} {'connections':>12}  verdict")
    ok = True
    with _server_process() as port:
        for count in workers:
            with DelayProxy("127.0.0.1", port, rtt_ms) as proxy:
                url = f"http://127.0.0.1:{proxy.port}/interflex/api/v1"
                seconds, verdict, exchanges = run_remote(url, count)
                connections = proxy.connections
            label = "none" if count == "0" else count
            print(f"{label:>8} {seconds:8.1f} {exchanges:10d} {connections:12d}  {verdict}", flush=True)
            ok = ok and verdict == "CONFORMANT"
    return 0 if ok else 1


@contextlib.contextmanager
def _server_process() -> Iterator[int]:
    """A reference server (in-memory database) in a child process on a free port; stopped at the end."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    command = [sys.executable, "-m", "reference_server", "--port", str(port), "--db", ":memory:"]
    child = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                requests.get(f"http://127.0.0.1:{port}/interflex/api/v1/openapi.yaml", timeout=1)
                break
            except requests.RequestException:
                if time.monotonic() > deadline or child.poll() is not None:
                    raise SystemExit("the reference server did not start") from None
                time.sleep(0.2)
        yield port
    finally:
        child.terminate()
        try:
            child.wait(timeout=10)
        except subprocess.TimeoutExpired:
            child.kill()


def local() -> int:
    """The issue-5 comparison: in-process suite run vs. a replay of as many plain requests."""
    with ReferenceServer() as server:
        suite_s, exchanges, code = run_suite(server.base_url)
        replay_s = replay(server.base_url, exchanges)
    ratio = suite_s / replay_s
    print(f"suite: {suite_s:.2f} s for {exchanges} HTTP exchanges (exit code {code})")
    print(
        f"replay: {replay_s:.2f} s for {exchanges} plain requests.Session GETs "
        f"({replay_s / exchanges * 1000:.2f} ms each)"
    )
    print(f"ratio suite/replay: {ratio:.2f} x (target <= 3 x)")
    return 0 if code == 0 else 1


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--rtt-ms",
        type=float,
        metavar="MS",
        help="put a proxy adding MS milliseconds round-trip time in front of the target and time the suite "
        "sequentially and with each --workers value",
    )
    parser.add_argument(
        "--workers",
        default="0,auto",
        metavar="LIST",
        help="with --rtt-ms: comma-separated pytest-xdist -n values to time, 0 = sequential (default 0,auto)",
    )
    args = parser.parse_args(argv)
    if args.rtt_ms is None:
        return local()
    if args.rtt_ms < 0:
        parser.error("--rtt-ms must be >= 0")
    workers = [w.strip() for w in args.workers.split(",") if w.strip()]
    if not workers or not all(w == "auto" or w.isdigit() for w in workers):
        parser.error("--workers: expected numbers or 'auto', e.g. 0,auto,4")
    return remote(args.rtt_ms, workers)


if __name__ == "__main__":
    sys.exit(main())
