"""Validating proxy throughput and latency against direct access to the reference server (issue 10, "Speed").

The reference server and the proxy in front of it run as child processes (the proxy judges every
exchange with the monitor as in production; no capture files unless `--har`). The same client
loop runs against both in alternating slices, so that load from elsewhere on the machine hits both
alike: each keep-alive connection (`http.client`) POSTs an offer, GETs the offer list and DELETEs
the offer again.

    .venv/bin/python bench/proxy_bench.py [--seconds 2] [--rounds 6] [--connections 16] [--har]

Three processes: the server, the proxy and this one, the client (keep-alive `http.client`
connections in threads). Each round measures slices at `--connections` connections (default 16,
enough to keep both paths busy), at 4 and at a single connection, direct and proxied in alternating
order. Prints the medians over the rounds of requests per second, p50/p99 latency and the CPU time
per request of client, server and proxy (Linux), the per-round ratios (target: >= 50 % of direct
requests per second, measured at `--connections`, where both paths run at their capacity; < 1 ms
added to p50, measured at one connection, where latency is the proxy's own cost rather than
queueing: D-69), and the load average, which distorts rates and latencies on a shared machine far
more than CPU times.
"""

from __future__ import annotations

import argparse
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

from server_bench import agg1_token, offer_loop  # the same client loop as the server bench, side by side

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


def _slice(port: int, token: str, tag: str, seconds: float, connections: int, errors: list[str]) -> tuple[list, float]:
    """`connections` client threads for `seconds`: the latencies and the elapsed time."""
    started = time.perf_counter()
    parts: list[list[float]] = [[] for _ in range(connections)]
    threads = [
        threading.Thread(target=offer_loop, args=(port, token, f"{tag}{n}", started + seconds, parts[n], errors))
        for n in range(connections)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return [value for part in parts for value in part], time.perf_counter() - started


def _measure_slice(
    procs: dict[str, int], port: int, token: str, tag: str, seconds: float, connections: int, errors: list[str]
) -> dict[str, float]:
    """One slice: requests per second, p50/p99 latency (ms) and CPU ms per request of every process."""
    before = {name: _cpu_seconds(pid) for name, pid in procs.items()}
    latencies, elapsed = _slice(port, token, tag, seconds, connections, errors)
    cuts = statistics.quantiles(latencies, n=100)
    row = {"rps": len(latencies) / elapsed, "p50": cuts[49] * 1000, "p99": cuts[98] * 1000}
    for name, pid in procs.items():
        row[name] = (_cpu_seconds(pid) - before[name]) / len(latencies) * 1000
    return row


def measure(seconds: float, connections: int, rounds: int, har: str | None) -> dict[tuple[str, int], list[dict]]:
    """Per round, direct and proxied in alternating order, at `connections` and at one connection."""
    server, server_port = _spawn("server")
    procs = [server]
    try:
        proxy, proxy_port = _spawn("proxy", f"http://127.0.0.1:{server_port}", har)
        procs.append(proxy)
        ports = {"direct": server_port, "proxy": proxy_port}
        pids = {"client": os.getpid(), "server": server.pid, "proxy": proxy.pid}
        token = agg1_token(server_port)
        errors: list[str] = []
        for kind, port in ports.items():  # warm-up: imports, schema compilation, connection pools
            _slice(port, token, f"warm-{kind}-", 1.0, connections, errors)
        results: dict[tuple[str, int], list[dict]] = {}
        for number in range(rounds):
            for width in dict.fromkeys((connections, 4, 1)):
                for kind in ("direct", "proxy") if number % 2 == 0 else ("proxy", "direct"):
                    tag = f"{kind}-{width}-{number}-"
                    row = _measure_slice(pids, ports[kind], token, tag, seconds, width, errors)
                    results.setdefault((kind, width), []).append(row)
    finally:
        for proc in procs:
            proc.terminate()
            proc.wait(timeout=30)
    if errors:
        raise SystemExit(f"proxy_bench: {len(errors)} unexpected answers, e.g. {errors[0]}")
    return results


def _median(rows: list[dict], key: str) -> float:
    return statistics.median(row[key] for row in rows)


def report(results: dict[tuple[str, int], list[dict]], connections: int) -> list[str]:
    """The table of medians over the rounds, the ratios and whether the targets are met."""
    lines = [
        f"{'path':<7} {'conns':>5} {'req/s':>7} {'p50 ms':>7} {'p99 ms':>7}   CPU ms/request: {'client':>6} "
        f"{'server':>6} {'proxy':>6}"
    ]
    for (kind, width), rows in results.items():
        lines.append(
            f"{kind:<7} {width:>5} {_median(rows, 'rps'):>7.0f} {_median(rows, 'p50'):>7.2f} "
            f"{_median(rows, 'p99'):>7.2f}   {'':>15} {_median(rows, 'client'):>6.3f} "
            f"{_median(rows, 'server'):>6.3f} {_median(rows, 'proxy'):>6.3f}"
        )
    met = []
    for width in dict.fromkeys((connections, 4, 1)):
        direct, proxied = results["direct", width], results["proxy", width]
        ratio = statistics.median(p["rps"] / d["rps"] for d, p in zip(direct, proxied, strict=True))
        added = statistics.median(p["p50"] - d["p50"] for d, p in zip(direct, proxied, strict=True))
        of_medians = _median(proxied, "rps") / _median(direct, "rps")
        lines.append(
            f"{width} connection{'s' if width > 1 else ''}: proxy/direct req/s {ratio:.0%} (target >= 50%), "
            f"p50 added {added:.2f} ms (target < 1 ms): medians of the per-round pairs "
            f"(ratio of the medians above: {of_medians:.0%})"
        )
        if width == connections:
            met.append(("throughput", ratio >= 0.5))
        if width == 1:
            met.append(("latency", added < 1.0))
    lines.append(
        "targets: "
        + ", ".join(f"{name} {'met' if ok else 'NOT met'}" for name, ok in met)
        + f" (throughput at {connections} connections, latency added at 1 connection)"
    )
    return lines


def main(argv: list[str] | None = None) -> int:
    """Run server and proxy and print the comparison."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=2.0, help="length of one measured slice (default 2)")
    parser.add_argument("--rounds", type=int, default=6, help="rounds of alternating slices (default 6)")
    parser.add_argument(
        "--connections",
        type=int,
        default=16,
        help="parallel keep-alive connections of the throughput target (default 16)",
    )
    parser.add_argument("--har", action="store_true", help="the proxy also writes a HAR capture (to a temp dir)")
    parser.add_argument("--serve", choices=["server", "proxy"], help=argparse.SUPPRESS)
    parser.add_argument("--upstream", default="", help=argparse.SUPPRESS)
    parser.add_argument("--har-path", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.serve:
        serve(args.serve, args.upstream, args.har_path)
        return 0
    load_before = os.getloadavg()
    with tempfile.TemporaryDirectory() as tmp:
        har = str(Path(tmp) / "bench.har") if args.har else None
        results = measure(args.seconds, args.connections, args.rounds, har)
    load_after = os.getloadavg()
    print(
        f"loop: POST offer + GET offers + DELETE offer; {args.rounds} rounds of {args.seconds:g} s slices, "
        "direct and proxied alternating; proxy judging live" + (", writing a HAR" if args.har else "")
    )
    print(f"load average (1 min) before {load_before[0]:.1f}, after {load_after[0]:.1f}; {os.cpu_count()} CPUs")
    print("\n".join(report(results, args.connections)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
