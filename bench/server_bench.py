"""Reference server throughput against a bare Starlette endpoint on uvicorn (issue 3, "Performance").

Both servers run as child processes with the same uvicorn settings (one worker, h11, no access
log), measured in alternating slices so that load from elsewhere on the machine hits both alike.
Each client connection (keep-alive, `http.client`) loops: POST an offer, GET the offer list,
DELETE the offer again (so the list stays one offer long and the run measures per-request
cost, not a growing list). The bare app parses the POSTed JSON and answers 201 with it, answers
the GET with a one-offer list and the DELETE with 204: the framework's ceiling.

    .venv/bin/python bench/server_bench.py [--seconds 10] [--rounds 10] [--connections 4] [--db file|memory]

Prints requests per second and p50/p99 latency per server and the ratio (target: >= 50 %).
"""

from __future__ import annotations

import argparse
import http.client
import json
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

READY = "READY "


def _bare_app() -> Any:
    from starlette.applications import Starlette
    from starlette.requests import Request
    from starlette.responses import Response
    from starlette.routing import Route

    from interflex.samples import sample

    listed = json.dumps([sample("FlexibilityOffer")])

    async def offers(request: Request) -> Response:
        if request.method == "POST":
            body = json.loads(await request.body())
            return Response(json.dumps(body), 201, media_type="application/json")
        return Response(listed, media_type="application/json")

    async def delete(request: Request) -> Response:
        return Response(status_code=204)

    return Starlette(
        routes=[
            Route("/interflex/api/v1/aggregators/agg1/flexibilityOffers", offers, methods=["POST"]),
            Route("/interflex/api/v1/aggregators/flexibilityOffers", offers, methods=["GET"]),
            Route("/interflex/api/v1/aggregators/agg1/flexibilityOffers/{offer_id}", delete, methods=["DELETE"]),
        ]
    )


def serve(kind: str, db: str) -> None:
    """Child process: serve the bare app or the reference server on a free port, print its port."""
    import uvicorn

    from interflex.serving import listening_socket
    from reference_server.app import build_app
    from reference_server.server import make_context

    app = _bare_app() if kind == "bare" else build_app(make_context(db, None, 3600, None))
    sock = listening_socket("127.0.0.1", 0)
    print(READY + str(sock.getsockname()[1]), flush=True)
    config = uvicorn.Config(app, log_level="warning", access_log=False, lifespan="off", http="h11")
    uvicorn.Server(config).run(sockets=[sock])


def _spawn(kind: str, db: str) -> tuple[subprocess.Popen[str], int]:
    proc = subprocess.Popen(
        [sys.executable, __file__, "--serve", kind, "--db-path", db], stdout=subprocess.PIPE, text=True
    )
    assert proc.stdout is not None
    line = proc.stdout.readline()
    if not line.startswith(READY):
        proc.kill()
        raise SystemExit(f"server_bench: the {kind} server did not start")
    return proc, int(line[len(READY) :])


def agg1_token(port: int) -> str:
    """An access token of the demo aggregator agg1."""
    import requests

    from reference_server.demo import login

    with requests.Session() as session:
        return login(session, f"http://127.0.0.1:{port}/interflex/api/v1", "agg1")["access_token"]


def offer_loop(
    port: int, token: str, worker: object, stop_at: float, latencies: list[float], errors: list[str]
) -> None:
    """POST an offer, GET the offers, DELETE the offer, until `stop_at`; latencies and errors appended."""
    from interflex.samples import sample

    conn = http.client.HTTPConnection("127.0.0.1", port)
    base = "/interflex/api/v1/aggregators"
    headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
    template = sample("FlexibilityOffer")
    i = 0
    while time.perf_counter() < stop_at:
        offer_id = f"bench-{worker}-{i}"
        body = json.dumps({**template, "offer_id": offer_id})
        for method, path, payload, expected in (
            ("POST", f"{base}/agg1/flexibilityOffers", body, 201),
            ("GET", f"{base}/flexibilityOffers", None, 200),
            ("DELETE", f"{base}/agg1/flexibilityOffers/{offer_id}", None, 204),
        ):
            started = time.perf_counter()
            conn.request(method, path, body=payload, headers=headers)
            response = conn.getresponse()
            response.read()
            latencies.append(time.perf_counter() - started)
            if response.status != expected:
                errors.append(f"{method} {path}: {response.status}")
        i += 1
    conn.close()


def _round(port: int, token: str, seconds: float, connections: int, latencies: list[float], errors: list[str]) -> float:
    """One measured slice: `connections` client threads for `seconds`; returns the elapsed time."""
    started = time.perf_counter()
    parts: list[list[float]] = [[] for _ in range(connections)]
    threads = [
        threading.Thread(target=offer_loop, args=(port, token, n, started + seconds, parts[n], errors))
        for n in range(connections)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    elapsed = time.perf_counter() - started
    for part in parts:
        latencies.extend(part)
    return elapsed


def measure(db: str, seconds: float, connections: int, rounds: int) -> dict[str, dict[str, float]]:
    """Both servers, measured in alternating slices (so that load from elsewhere hits both alike)."""
    servers = {kind: _spawn(kind, db) for kind in ("bare", "reference")}
    try:
        tokens = {"bare": "none", "reference": agg1_token(servers["reference"][1])}
        latencies: dict[str, list[float]] = {kind: [] for kind in servers}
        elapsed = dict.fromkeys(servers, 0.0)
        errors: list[str] = []
        for kind, (_, port) in servers.items():  # warm-up: imports, schema compilation, caches
            offer_loop(port, tokens[kind], -1, time.perf_counter() + 0.5, [], errors)
        for number in range(rounds):
            for kind in ("bare", "reference") if number % 2 == 0 else ("reference", "bare"):
                port = servers[kind][1]
                elapsed[kind] += _round(port, tokens[kind], seconds / rounds, connections, latencies[kind], errors)
    finally:
        for proc, _ in servers.values():
            proc.terminate()
            proc.wait(timeout=10)
    if errors:
        raise SystemExit(f"server_bench: {len(errors)} unexpected answers, e.g. {errors[0]}")
    rows = {}
    for kind, values in latencies.items():
        cuts = statistics.quantiles(sorted(values), n=100)
        rows[kind] = {
            "requests": len(values),
            "rps": len(values) / elapsed[kind],
            "p50": cuts[49] * 1000,
            "p99": cuts[98] * 1000,
        }
    return rows


def main(argv: list[str] | None = None) -> int:
    """Run both servers and print the comparison."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=10.0, help="measured time per server (default 10)")
    parser.add_argument("--rounds", type=int, default=10, help="alternating slices per server (default 10)")
    parser.add_argument("--connections", type=int, default=4, help="parallel keep-alive connections (default 4)")
    parser.add_argument(
        "--db",
        choices=["file", "memory"],
        default="file",
        help="reference server database: a WAL file in a temp dir (default) or :memory:",
    )
    parser.add_argument("--serve", choices=["bare", "reference"], help=argparse.SUPPRESS)
    parser.add_argument("--db-path", default=":memory:", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.serve:
        serve(args.serve, args.db_path)
        return 0
    with tempfile.TemporaryDirectory() as tmp:
        db = str(Path(tmp) / "bench.db") if args.db == "file" else ":memory:"
        rows = measure(db, args.seconds, args.connections, args.rounds)
    print(
        f"loop: POST offer + GET offers + DELETE offer, {args.connections} keep-alive connections, "
        f"{args.seconds:g} s each in {args.rounds} alternating slices, reference database: {args.db}"
    )
    print(f"{'server':<10} {'requests':>9} {'req/s':>8} {'p50 ms':>7} {'p99 ms':>7}")
    for kind, row in rows.items():
        print(f"{kind:<10} {row['requests']:>9.0f} {row['rps']:>8.0f} {row['p50']:>7.2f} {row['p99']:>7.2f}")
    ratio = rows["reference"]["rps"] / rows["bare"]["rps"]
    print(f"ratio reference/bare: {ratio:.0%} (target >= 50%)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
