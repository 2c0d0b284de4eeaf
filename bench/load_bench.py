"""interflex-load's own cost beside the reference server's throughput (issue 13, "Speed").

The reference server runs in its own process (uvicorn, one worker, no access log, in-memory
SQLite); interflex-load runs in another (local mode, one process) for each user count. Printed per
step: the target's throughput, the generator's and the server's CPU share while the users ran (of
one core each), and the CPU each spends per request. The generator is not the bottleneck while it
spends less per request than the server (each on its own core, the server saturates first) and
its per-core ceiling (1 s / its CPU per request) is above the rate asked for.

    .venv/bin/python bench/load_bench.py [--users 10,25,50] [--seconds 10]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
READY = "READY "


def serve() -> None:
    """Child process: the reference server on a free port, without access log, until killed."""
    import uvicorn

    from interflex.serving import listening_socket
    from reference_server.server import make_context, uvicorn_config

    sock = listening_socket("127.0.0.1", 0)
    print(READY + str(sock.getsockname()[1]), flush=True)
    uvicorn.Server(uvicorn_config(make_context(":memory:", None, 3600, None), access_log=False)).run(sockets=[sock])


def _cpu_s(pid: int) -> float:
    """CPU seconds (user + system) of a running process, from /proc (Linux)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def step(port: int, server_pid: int, users: int, seconds: float, workdir: Path) -> dict[str, float]:
    """One interflex-load run of `users` users for `seconds`; the numbers of that run."""
    ixit = workdir / "ixit.yaml"
    ixit.write_text((ROOT / "fixtures" / "ixit" / "reference.yaml").read_text(), encoding="utf-8")
    out = workdir / f"result-{users}.json"
    url = f"http://127.0.0.1:{port}/interflex/api/v1"
    command = [sys.executable, "-m", "ats.load.cli", "--ixit", str(ixit), "--target-url", url]
    command += ["--users", str(users), "--spawn-rate", str(users), "--run-time", f"{seconds}s", "--json", str(out)]
    samples: list[tuple[float, float]] = []  # (unix time, server CPU seconds), every 0.2 s
    done_flag = threading.Event()

    def sample() -> None:
        while not done_flag.wait(0.2):
            samples.append((time.time(), _cpu_s(server_pid)))

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    try:
        done = subprocess.run(command, capture_output=True, text=True, timeout=seconds + 120, cwd=ROOT)
    finally:
        done_flag.set()
        sampler.join()
    if done.returncode not in (0, 1):
        raise SystemExit(f"load_bench: interflex-load failed: {done.stderr.strip()[-500:]}")
    doc = json.loads(out.read_text(encoding="utf-8"))
    total = doc["total"]
    generator = doc["generator_cpu_percent"]
    started, stopped = doc["load_window"]
    during = [(t, c) for t, c in samples if started <= t <= stopped]
    server_cpu = (during[-1][1] - during[0][1]) / (during[-1][0] - during[0][0]) if len(during) > 1 else 0.0
    per_request_us = generator / 100 * seconds / max(total["requests"], 1) * 1e6
    return {
        "users": users,
        "rps": total["rps"],
        "p50_ms": total["p50_ms"],
        "p99_ms": total["p99_ms"],
        "generator_cpu_percent": generator,
        "server_cpu_percent": round(100 * server_cpu, 1),  # while the users ran
        "generator_us_per_request": round(per_request_us),
        "server_us_per_request": round(server_cpu * 1e6 / max(total["rps"], 1)),
        "generator_ceiling_rps": round(1e6 / per_request_us) if per_request_us else 0,
        "findings": len(doc["findings"]),
    }


def main() -> None:
    """Run the steps and print one line each."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--users", default="10,25,50", help="user counts to run, comma-separated")
    parser.add_argument("--seconds", type=float, default=10.0, help="run time of each step")
    parser.add_argument("--serve", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve:
        serve()
        return
    server = subprocess.Popen([sys.executable, __file__, "--serve"], stdout=subprocess.PIPE, text=True, cwd=ROOT)
    try:
        assert server.stdout is not None
        line = server.stdout.readline()
        if not line.startswith(READY):
            raise SystemExit("load_bench: the reference server did not start")
        port = int(line[len(READY) :])
        print(f"machine: {os.cpu_count()} cores (load from elsewhere on it shows in these numbers)")
        header = "users    rps  p50 ms  p99 ms  generator CPU %  server CPU %  generator us/req  server us/req  "
        header += "generator ceiling rps/core"
        print(header)
        with tempfile.TemporaryDirectory() as tmp:
            for users in (int(u) for u in args.users.split(",")):
                row = step(port, server.pid, users, args.seconds, Path(tmp))
                print(
                    f"{row['users']:>5} {row['rps']:>6.0f} {row['p50_ms']:>7} {row['p99_ms']:>7} "
                    f"{row['generator_cpu_percent']:>16.1f} {row['server_cpu_percent']:>13.1f} "
                    f"{row['generator_us_per_request']:>17} {row['server_us_per_request']:>14} "
                    f"{row['generator_ceiling_rps']:>26}"
                    + (f"  ({row['findings']} findings!)" if row["findings"] else ""),
                    flush=True,
                )
                time.sleep(1)
    finally:
        server.kill()
        server.wait()


if __name__ == "__main__":
    main()
