"""`interflex-load`: conformance under load, on Locust, with every answer judged (docs/load.md).

    interflex-load --target-url URL --ixit FILE [--users N] [--spawn-rate R] [--run-time 60s]
                   [--master [--expect-workers N] | --worker --master-host H] [--html OUT] [--json OUT]

Exit status: 0 no finding and every IXIT capacity threshold holds, 1 otherwise, 2 the run could
not be made (options, IXIT, target, workers). Locust (and gevent's monkey-patching) is imported
only inside `main`, never by importing this module.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from pathlib import Path

_DURATION = re.compile(r"(?:(\d+)h)?(?:(\d+)m(?!s))?(?:(\d+(?:\.\d+)?)s?)?")


def duration(text: str) -> float:
    """Seconds of a Locust-style duration: `90`, `45s`, `2m`, `1h30m`, `1m30s`."""
    match = _DURATION.fullmatch(text.strip())
    if not text.strip() or match is None or not any(match.groups()):
        raise argparse.ArgumentTypeError(f"not a duration: {text!r} (examples: 30s, 2m, 1h30m)")
    hours, minutes, seconds = (float(g) if g else 0.0 for g in match.groups())
    total = hours * 3600 + minutes * 60 + seconds
    if total <= 0:
        raise argparse.ArgumentTypeError("the run time must be longer than 0 s")
    return total


def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        value = 0
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected a whole number >= 1, got {text!r}")
    return value


def _positive_float(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        value = 0.0
    if not 0 < value < float("inf"):
        raise argparse.ArgumentTypeError(f"expected a number > 0, got {text!r}")
    return value


def _port(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        value = -1
    if not 1 <= value <= 65535:
        raise argparse.ArgumentTypeError(f"expected a TCP port (1-65535), got {text!r}")
    return value


def parser() -> argparse.ArgumentParser:
    """The command line of interflex-load."""
    p = argparse.ArgumentParser(
        prog="interflex-load",
        description=(
            "Play PROFILE.md section 8 with many DSO and aggregator users at once (on Locust) and judge every "
            "answer: 5xx (ST-7), bodies (ST-10), statuses, ids handed out twice (ID-1), duplicates accepted "
            "(ST-2); then read every list: nothing acknowledged lost (ST-9, ST-12). Exit 0 only without findings "
            "and with the IXIT's capacity thresholds met; 1 otherwise; 2 when the run cannot be made."
        ),
        epilog="Several machines: start 'interflex-load --master --expect-workers N ...' on one and "
        "'interflex-load --worker --master-host HOST --ixit FILE' on each of the others (docs/load.md).",
    )
    p.add_argument("--ixit", required=True, type=Path, help="IXIT YAML file: accounts, region, unit, currency")
    p.add_argument("--target-url", help="base URL of the target (overrides the IXIT's target_url)")
    p.add_argument("--users", type=_positive_int, default=10, help="concurrent users in all (default 10)")
    p.add_argument("--spawn-rate", type=_positive_float, default=10.0, help="users started per second (default 10)")
    p.add_argument("--run-time", type=duration, default=60.0, help="how long the load runs: 30s, 2m, 1h (default 60s)")
    p.add_argument("--html", type=Path, help="write Locust's HTML report, with the findings, to this file")
    p.add_argument("--json", type=Path, help="write the result (rps, latencies, findings, verdict) as JSON")
    mode = p.add_mutually_exclusive_group()
    mode.add_argument("--master", action="store_true", help="run no users; drive workers and merge their results")
    mode.add_argument("--worker", action="store_true", help="run the users a master assigns (needs --master-host)")
    p.add_argument("--master-host", help="worker: the host of the master")
    p.add_argument("--master-port", type=_port, default=5557, help="master's port for workers (default 5557)")
    p.add_argument("--master-bind-host", default="*", help="master: interface to listen on for workers (default all)")
    p.add_argument("--expect-workers", type=_positive_int, default=1, help="master: workers to wait for (default 1)")
    p.add_argument(
        "--expect-workers-timeout",
        type=duration,
        default=60.0,
        help="master: how long to wait for them (default 60s)",
    )
    p.add_argument("-v", "--verbose", action="store_true", help="show Locust's own log lines")
    return p


def main(argv: list[str] | None = None) -> int:
    """Entry point of interflex-load."""
    p = parser()
    args = p.parse_args(argv)
    if args.worker and not args.master_host:
        p.error("--worker needs --master-host")
    if args.master_host and not args.worker:
        p.error("--master-host is for workers (--worker)")
    import locust  # noqa: F401  (first: gevent's monkey-patching before anything opens sockets)

    from ats.load import report
    from ats.load.run import Settings, run_local, run_master, run_worker
    from interflex.errors import ToolError
    from interflex.ixit import load_ixit

    _logging(args.verbose)
    try:
        ixit = load_ixit(args.ixit).with_target(args.target_url)
        if not ixit.target_url and not args.worker:
            raise ToolError("no target: give --target-url or target_url in the IXIT")
        if args.worker:
            run_worker(ixit, args.master_host, args.master_port)
            return 0
        settings = Settings(
            users=args.users,
            spawn_rate=args.spawn_rate,
            run_time_s=args.run_time,
            html=args.html,
            json=args.json,
            expect_workers=args.expect_workers,
            expect_workers_timeout_s=args.expect_workers_timeout,
            master_bind_host=args.master_bind_host,
            master_port=args.master_port,
        )
        doc = run_master(ixit, settings) if args.master else run_local(ixit, settings)
        if args.json is not None:
            args.json.write_text(json.dumps(doc, indent=1) + "\n", encoding="utf-8")
    except ToolError as exc:
        print(f"interflex-load: error: {exc}", file=sys.stderr)
        return 2
    except OSError as exc:
        print(f"interflex-load: error: {exc.strerror or exc}: {getattr(exc, 'filename', '') or ''}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130
    print(report.summary(doc))
    return 0 if doc["verdict"] == "PASS" else 1


def _logging(verbose: bool) -> None:
    """Locust logs at INFO with -v; otherwise only its warnings and errors."""
    import logging

    logging.basicConfig(
        level=logging.INFO if verbose else logging.WARNING,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
        stream=sys.stderr,
    )


if __name__ == "__main__":
    sys.exit(main())
