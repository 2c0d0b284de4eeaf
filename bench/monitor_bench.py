"""`interflex-monitor` speed and memory on a large generated capture (issue 10, "Speed").

Generates a conformant capture of a busy platform: many DSOs and aggregators, each cycle a DSO
gets an id and posts a request, someone reads a DSO's request list, an aggregator gets an id and
posts an offer, reads its (empty) ACK list, and the oldest object is deleted once `--live`
objects are stored, so the platform holds a steady number of live objects. The capture is
written as HAR (or JSON Lines), then judged by `interflex-monitor` in a child process; the run
reports exchanges per second (reading and parsing the file included) and the child's peak RSS.

    .venv/bin/python bench/monitor_bench.py                                   # 200,000 exchanges, HAR
    .venv/bin/python bench/monitor_bench.py --exchanges 1000000 --format jsonl  # the memory target

Targets: >= 20,000 exchanges/s on one core; 1,000,000 exchanges with 10,000 live objects in
< 300 MB. The capture must give no findings (a finding here is a false one: the run says so).
"""

from __future__ import annotations

import argparse
import json
import os
import random
import resource
import subprocess
import sys
import tempfile
import time
from collections import deque
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

BASE = "https://platform.bench/interflex/api/v1"
T0 = datetime(2026, 12, 1, tzinfo=UTC)
JSON = "application/json"


def _request(request_id: str) -> dict[str, Any]:
    return {
        "request_id": request_id,
        "timestamp": "2026-12-01T09:00:00Z",
        "deadline": "2026-12-01T18:00:00+01:00",
        "region_id": "region-1",
        "flexible_power": 40,
        "duration": 900,
        "unit": "kW",
    }


def _offer(offer_id: str, agg: str, request_id: str) -> dict[str, Any]:
    return {
        "offer_id": offer_id,
        "entity_id": agg,
        "timestamp": "2026-12-01T09:05:00Z",
        "deadline": "2026-12-01T18:00:00+01:00",
        "region_id": "region-1",
        "flexible_power": 40,
        "granularity": 10,
        "duration": 900,
        "unit": "kW",
        "activation_time": "2026-12-01T19:00:00+01:00",
        "flex_price": 120.5,
        "flex_type": "up",
        "currency": "EUR",
        "request_id": request_id,
    }


Exchange = tuple[str, str, str | None, Any, int, Any]  # method, path, user, request body, status, answer


def traffic(count: int, live: int, dsos: int, aggregators: int, seed: int = 1) -> Iterator[Exchange]:
    """A conformant capture of `count` exchanges holding about `live` objects once warmed up."""
    rng = random.Random(seed)
    users = [f"dso{i}" for i in range(dsos)] + [f"agg{i}" for i in range(aggregators)]
    emitted = 0
    for user in users:
        form = f"grant_type=password&username={user}&password=pw&client_id=c&client_secret=s"
        answer = {
            "access_token": f"tok-{user}",
            "token_type": "bearer",
            "expires_in": 86400,
            "refresh_token": f"r-{user}",
        }
        yield ("POST", "/authentication/token", None, form, 200, answer)
        emitted += 1
    requests: dict[str, dict[str, dict[str, Any]]] = {f"dso{i}": {} for i in range(dsos)}
    oldest: deque[tuple[str, str, str]] = deque()  # (kind, owner, id) in posting order
    serial = 0
    while emitted < count:
        serial += 1
        dso, agg = f"dso{rng.randrange(dsos)}", f"agg{rng.randrange(aggregators)}"
        request_id, offer_id = f"req-{serial}", f"off-{serial}"
        body = _request(request_id)
        offer = _offer(offer_id, agg, request_id)
        reader = f"dso{rng.randrange(dsos)}"
        cycle: list[Exchange] = [
            ("GET", f"/dsos/{dso}/flexibilityRequests/requestId", dso, None, 200, {"request_id": request_id}),
            ("POST", f"/dsos/{dso}/flexibilityRequests", dso, body, 201, None),
            ("GET", f"/dsos/{reader}/flexibilityRequests", agg, None, 200, None),  # filled in below
            ("GET", f"/aggregators/{agg}/flexibilityOffers/offerId", agg, None, 200, {"offer_id": offer_id}),
            ("POST", f"/aggregators/{agg}/flexibilityOffers", agg, offer, 201, offer),
            ("GET", f"/aggregators/{agg}/flexibilityActivations/acks", agg, None, 200, []),
        ]
        for method, path, user, sent, status, answer in cycle:
            if path == f"/dsos/{dso}/flexibilityRequests" and method == "POST":
                requests[dso][request_id] = body
                oldest.append(("R", dso, request_id))
            if method == "POST" and "flexibilityOffers" in path:
                oldest.append(("O", agg, offer_id))
            if answer is None and method == "GET":
                answer = list(requests[reader].values())
            yield (method, path, user, sent, status, answer)
            emitted += 1
        while len(oldest) > live:
            kind, owner, object_id = oldest.popleft()
            if kind == "R":
                del requests[owner][object_id]
                yield ("DELETE", f"/dsos/{owner}/flexibilityRequests/{object_id}", owner, None, 204, None)
            else:
                yield ("DELETE", f"/aggregators/{owner}/flexibilityOffers/{object_id}", owner, None, 204, None)
            emitted += 1


def _headers(pairs: dict[str, str]) -> list[dict[str, str]]:
    return [{"name": name, "value": value} for name, value in pairs.items()]


def har_entry(exchange: Exchange, number: int) -> dict[str, Any]:
    """One exchange as a HAR 1.2 entry (1 ms apart, 0.5 ms each)."""
    method, path, user, sent, status, answer = exchange
    headers = {"Authorization": f"Bearer tok-{user}"} if user else {}
    request: dict[str, Any] = {"method": method, "url": BASE + path, "httpVersion": "HTTP/1.1", "headersSize": -1}
    if sent is not None:
        form = isinstance(sent, str)
        headers["Content-Type"] = "application/x-www-form-urlencoded" if form else JSON
        request["postData"] = {"mimeType": headers["Content-Type"], "text": sent if form else json.dumps(sent)}
    request["headers"] = _headers(headers)
    text = "" if answer is None else json.dumps(answer)
    content = {"size": len(text), "mimeType": JSON if text else "", "text": text}
    response = {"status": status, "headers": _headers({"Content-Type": JSON} if text else {}), "content": content}
    started = (T0 + timedelta(milliseconds=number)).isoformat().replace("+00:00", "Z")
    return {"startedDateTime": started, "time": 0.5, "request": request, "response": response}


def record(exchange: Exchange, number: int) -> dict[str, Any]:
    """One exchange as an evidence record (JSON Lines)."""
    method, path, user, sent, status, answer = exchange
    headers = {"authorization": f"Bearer tok-{user}"} if user else {}
    if sent is not None:
        headers["content-type"] = "application/x-www-form-urlencoded" if isinstance(sent, str) else JSON
    return {
        "method": method,
        "url": BASE + path,
        "status": status,
        "request_headers": headers,
        "request_body": "" if sent is None else sent if isinstance(sent, str) else json.dumps(sent),
        "response_headers": {"content-type": JSON} if answer is not None else {},
        "response_body": "" if answer is None else json.dumps(answer),
        "elapsed_ms": 0.5,
        "error": None,
        "started": T0.timestamp() + number / 1000,
    }


def write_capture(path: Path, fmt: str, args: argparse.Namespace) -> int:
    """Write the capture; returns the number of exchanges."""
    count = 0
    with path.open("w", encoding="utf-8") as out:
        if fmt == "har":
            out.write('{"log": {"version": "1.2", "creator": {"name": "monitor_bench", "version": "1"}, "entries": [\n')
        for count, exchange in enumerate(traffic(args.exchanges, args.live, args.dsos, args.aggregators), 1):
            if fmt == "har":
                out.write(("" if count == 1 else ",\n") + json.dumps(har_entry(exchange, count)))
            else:
                out.write(json.dumps(record(exchange, count)) + "\n")
        if fmt == "har":
            out.write("\n]}}\n")
    return count


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--exchanges", type=int, default=200_000)
    parser.add_argument("--live", type=int, default=10_000, help="objects stored at any time once warmed up")
    parser.add_argument("--dsos", type=int, default=400)
    parser.add_argument("--aggregators", type=int, default=400)
    parser.add_argument("--format", choices=("har", "jsonl"), default="har")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / f"capture.{args.format}"
        began = time.perf_counter()
        count = write_capture(path, args.format, args)
        size = path.stat().st_size
        print(
            f"capture: {count} exchanges, {size / 1e6:.0f} MB {args.format}, "
            f"written in {time.perf_counter() - began:.0f} s"
        )
        command = [sys.executable, "-m", "interflex.monitor.cli", "--complete", str(path)]
        began = time.perf_counter()
        cpu = os.times()
        result = subprocess.run(command, capture_output=True, text=True, check=False)
        wall = time.perf_counter() - began
        child = os.times()
        cpu_seconds = (child.children_user - cpu.children_user) + (child.children_system - cpu.children_system)
        peak_mb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    summary = result.stdout.strip().splitlines()[-1] if result.stdout.strip() else result.stderr.strip()
    print(f"monitor: {summary} (exit {result.returncode})")
    print(
        f"{count / wall:,.0f} exchanges/s wall, {count / cpu_seconds:,.0f} exchanges/s per CPU second, "
        f"peak RSS {peak_mb:.0f} MB"
    )
    if result.returncode != 0:
        print("FALSE FINDINGS: the generated capture is conformant", file=sys.stderr)
        print("\n".join(result.stdout.splitlines()[:10]), file=sys.stderr)
    return result.returncode


if __name__ == "__main__":
    sys.exit(main())
