"""Validating proxy throughput and latency against direct access to the reference server (issue 10, "Speed").

The reference server and the proxy in front of it run as child processes (the proxy judges every
exchange with the monitor as in production; no capture files unless `--har`). The same client
loop runs against both in alternating slices, so that load from elsewhere on the machine hits both
alike: each keep-alive connection (`http.client`) POSTs an offer, GETs the offer list and DELETEs
the offer again.

    .venv/bin/python bench/proxy_bench.py [--seconds 10] [--rounds 10] [--connections 4] [--har]

Prints requests per second and p50/p99 latency for both, the ratio (target: >= 50 % of direct)
and the p50 latency the proxy adds (target: < 1 ms), and the CPU time per request of the server
and of the proxy process (Linux), which a busy machine distorts far less than rates and latencies.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

READY = "READY "


def serve(kind: str, upstream: str, har: str | None) -> None:
    """Child process: the reference server or the proxy on a free port; print its port, run until SIGTERM."""
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    if kind == "server":
        from reference_server import ReferenceServer

        running = ReferenceServer().start()
    else:
        from interflex.proxy import ValidatingProxy

        running = ValidatingProxy(upstream, har=har, keep_findings=False).start()
    print(READY + str(running.port), flush=True)
    stop.wait()
    running.stop()


def _spawn(kind: str, upstream: str = "", har: str | None = None) -> tuple[subprocess.Popen[str], int]:
    command = [sys.executable, __file__, "--serve", kind, "--upstream", upstream]
    proc = subprocess.Popen([*command, *(["--har-path", har] if har else [])], stdout=subprocess.PIPE, text=True)
    assert proc.stdout is not None
    line = proc.stdout.readline()
    if not line.startswith(READY):
        proc.kill()
        raise SystemExit(f"proxy_bench: the {kind} did not start")
    return proc, int(line[len(READY) :])


def _cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process so far (Linux /proc; 0.0 elsewhere)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _token(port: int) -> str:
    import requests

    from reference_server.demo import login

    with requests.Session() as session:
        return login(session, f"http://127.0.0.1:{port}/interflex/api/v1", "agg1")["access_token"]


def _client(port: int, token: str, worker: str, stop_at: float, latencies: list[float], errors: list[str]) -> None:
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


def _round(
    port: int, token: str, tag: str, seconds: float, connections: int, latencies: list[float], errors: list[str]
) -> float:
    """One measured slice: `connections` client threads for `seconds`; returns the elapsed time."""
    started = time.perf_counter()
    parts: list[list[float]] = [[] for _ in range(connections)]
    threads = [
        threading.Thread(target=_client, args=(port, token, f"{tag}{n}", started + seconds, parts[n], errors))
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


def measure(seconds: float, connections: int, rounds: int, har: str | None) -> dict[str, dict[str, float]]:
    """Direct and through the proxy, measured in alternating slices."""
    server, server_port = _spawn("server")
    procs = [server]
    try:
        proxy, proxy_port = _spawn("proxy", f"http://127.0.0.1:{server_port}", har)
        procs.append(proxy)
        ports = {"direct": server_port, "proxy": proxy_port}
        token = _token(server_port)
        latencies: dict[str, list[float]] = {kind: [] for kind in ports}
        elapsed = dict.fromkeys(ports, 0.0)
        cpu = {(kind, proc): 0.0 for kind in ports for proc in ("server", "proxy")}
        errors: list[str] = []
        for kind, port in ports.items():  # warm-up: imports, schema compilation, connection pools
            _client(port, token, f"warm-{kind}", time.perf_counter() + 0.5, [], errors)
        for number in range(rounds):
            for kind in ("direct", "proxy") if number % 2 == 0 else ("proxy", "direct"):
                tag = f"{kind}-{number}-"
                before = {"server": _cpu_seconds(server.pid), "proxy": _cpu_seconds(proxy.pid)}
                elapsed[kind] += _round(ports[kind], token, tag, seconds / rounds, connections, latencies[kind], errors)
                cpu[kind, "server"] += _cpu_seconds(server.pid) - before["server"]
                cpu[kind, "proxy"] += _cpu_seconds(proxy.pid) - before["proxy"]
    finally:
        for proc in procs:
            proc.terminate()
            proc.wait(timeout=30)
    if errors:
        raise SystemExit(f"proxy_bench: {len(errors)} unexpected answers, e.g. {errors[0]}")
    rows = {}
    for kind, values in latencies.items():
        cuts = statistics.quantiles(sorted(values), n=100)
        rows[kind] = {
            "requests": len(values),
            "rps": len(values) / elapsed[kind],
            "p50": cuts[49] * 1000,
            "p99": cuts[98] * 1000,
            "server_cpu": cpu[kind, "server"] / len(values) * 1000,
            "proxy_cpu": cpu[kind, "proxy"] / len(values) * 1000,
        }
    return rows


def main(argv: list[str] | None = None) -> int:
    """Run server and proxy and print the comparison."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=10.0, help="measured time per side (default 10)")
    parser.add_argument("--rounds", type=int, default=10, help="alternating slices per side (default 10)")
    parser.add_argument("--connections", type=int, default=4, help="parallel keep-alive connections (default 4)")
    parser.add_argument("--har", action="store_true", help="the proxy also writes a HAR capture (to a temp dir)")
    parser.add_argument("--serve", choices=["server", "proxy"], help=argparse.SUPPRESS)
    parser.add_argument("--upstream", default="", help=argparse.SUPPRESS)
    parser.add_argument("--har-path", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.serve:
        serve(args.serve, args.upstream, args.har_path)
        return 0
    with tempfile.TemporaryDirectory() as tmp:
        har = str(Path(tmp) / "bench.har") if args.har else None
        rows = measure(args.seconds, args.connections, args.rounds, har)
    print(
        f"loop: POST offer + GET offers + DELETE offer, {args.connections} keep-alive connections, "
        f"{args.seconds:g} s each in {args.rounds} alternating slices; proxy judging live"
        + (", writing a HAR" if args.har else "")
    )
    header = f"{'path':<8} {'requests':>9} {'req/s':>8} {'p50 ms':>7} {'p99 ms':>7}"
    print(header + f" {'CPU ms/request: server':>23} {'proxy':>6}")
    for kind, row in rows.items():
        print(
            f"{kind:<8} {row['requests']:>9.0f} {row['rps']:>8.0f} {row['p50']:>7.2f} {row['p99']:>7.2f} "
            f"{row['server_cpu']:>23.3f} {row['proxy_cpu']:>6.3f}"
        )
    ratio = rows["proxy"]["rps"] / rows["direct"]["rps"]
    added = rows["proxy"]["p50"] - rows["direct"]["p50"]
    print(f"ratio proxy/direct: {ratio:.0%} (target >= 50%); p50 added: {added:.2f} ms (target < 1 ms)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
