"""Suite wall time vs. a replay of the same number of plain `requests.Session` calls (issue 5).

Starts one reference server in this process, runs the whole conformance suite against it
(`pytest --pyargs ats --target-url ...`, default `--ats-examples`), counts the suite's HTTP
exchanges, then replays that many plain GETs (an id getter, with a bearer token) through one
`requests.Session(trust_env=False)` against the same server. Target: suite <= 3 x replay.

    .venv/bin/python bench/suite_bench.py
"""

from __future__ import annotations

import sys
import tempfile
import time
from pathlib import Path

import pytest
import requests

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


def main() -> int:
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


if __name__ == "__main__":
    sys.exit(main())
