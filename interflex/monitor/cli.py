"""`interflex-monitor`: judge captured InterFlex traffic against the profile, both sides, across exchanges.

Exit status: 0 no errors, 1 errors, 2 usage error or unreadable input.
"""

from __future__ import annotations

import argparse
import bisect
import gc
import heapq
import os
import sys
from collections import deque
from collections.abc import Iterable, Iterator, Sequence
from contextlib import ExitStack, contextmanager
from pathlib import Path
from typing import Any, TextIO

from interflex.errors import ToolError
from interflex.ixit import load_ixit
from interflex.monitor._capture import read_capture
from interflex.monitor._model import HttpExchange, MonitorFinding, Platform
from interflex.monitor._monitor import NOTHING_KNOWN, Monitor
from interflex.monitor._platform import platform_from_ixit
from interflex.monitor._report import Summary, Writer

PROG = "interflex-monitor"
EXIT_CLEAN, EXIT_ERRORS, EXIT_INPUT = 0, 1, 2
_FILE_BITS = 32  # exchange index = capture number << 32 | position in that capture
REORDER_WINDOW = 4096  # exchanges held back to put a capture written in end order into start order
_GC_YOUNG = 50_000  # allocations between two collections of the youngest generation (Python's default: 700)

_DESCRIPTION = """\
Judge captured traffic between InterFlex clients and a platform against the wire profile
(PROFILE.md): every exchange on its own (operation ST-5, section 5 statuses, bodies ST-10
and CL-4, tokens AU-4 and CL-1, content types ST-3, 5xx ST-7) and across exchanges (who may
call AU-5/CL-3, fresh ids ID-1, duplicates ST-2, deletes ST-4, lists ST-9/ST-12, plausibility
PL-5/PL-7, client behaviour CL-2, CL-5...CL-8). Each finding names the rule and the side that
broke it: server or client. Overlapping exchanges may have been processed in either order;
nothing is reported that another order explains.

Each CAPTURE is chosen by its name:
  *.har                     HAR 1.2 (browser developer tools, mitmproxy, Charles, interflex-proxy)
  *.jsonl, *.ndjson         one exchange record per line (the suite's evidence record format)
  *.jsonl.gz, *.ndjson.gz   the suite's evidence bundle (--cert-report DIR/evidence.jsonl.gz)
Several captures are judged as one platform's traffic, merged by start time.
"""
_EPILOG = """\
--complete declares that the captures hold all traffic of the platform since it was empty;
then ST-4 (DELETE of an unknown id), ST-9 (posted object missing from a list) and ST-12
(listed object never posted) are errors, otherwise warnings or not judged.

exit status: 0 no errors (warnings allowed), 1 errors, 2 usage error or unreadable input.
See docs/monitor.md.
"""


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog=PROG, description=_DESCRIPTION, epilog=_EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("captures", nargs="+", metavar="CAPTURE", type=Path, help="HAR, JSON Lines or evidence bundle")
    parser.add_argument(
        "--ixit",
        type=Path,
        metavar="FILE",
        help="IXIT of the platform (PROFILE.md section 10): its users' roles and entities (AU-5, CL-3) "
        "and declared classes (plausibility, date-filter)",
    )
    parser.add_argument(
        "--complete", action="store_true", help="the captures hold all traffic since the platform was empty"
    )
    parser.add_argument(
        "--format",
        choices=("text", "json", "junit", "html"),
        default="text",
        help="text: one line per finding and a summary (default); json: findings and summary; "
        "junit: one test case per rule; html: a report page",
    )
    parser.add_argument("--output", type=Path, metavar="FILE", help="write the report here (default: standard output)")
    return parser


def in_start_order(exchanges: Iterable[HttpExchange], window: int = REORDER_WINDOW) -> Iterator[HttpExchange]:
    """The exchanges sorted by `started`, assuming none is more than `window` places late.

    The last `window` exchanges are held in start order; one that comes in order (the common
    case) is appended, a late one inserted at its place.
    """
    held: deque[tuple[float, int, HttpExchange]] = deque()
    last_started, last_index = float("-inf"), -1  # the last item of `held`
    for exchange in exchanges:
        started, index = exchange.started, exchange.index
        item = (started, index, exchange)
        if started > last_started or (started == last_started and index >= last_index):
            held.append(item)
            last_started, last_index = started, index
        else:
            bisect.insort(held, item, key=_start)
        if len(held) > window:
            yield held.popleft()[2]
    while held:
        yield held.popleft()[2]


def _start(item: tuple[float, int, HttpExchange]) -> tuple[float, int]:
    return item[0], item[1]


def _merged(paths: Sequence[Path]) -> Iterator[HttpExchange]:
    streams = [in_start_order(read_capture(path, first_index=n << _FILE_BITS)) for n, path in enumerate(paths)]
    if len(streams) == 1:
        return streams[0]
    return heapq.merge(*streams, key=lambda exchange: exchange.started)


def _where(finding: MonitorFinding, names: list[str]) -> dict[str, Any]:
    where = finding.as_dict()
    where["capture"] = names[finding.exchange >> _FILE_BITS]
    where["exchange"] = finding.exchange & ((1 << _FILE_BITS) - 1)
    return where


def _judge(paths: Sequence[Path], platform: Platform, complete: bool, writer: Writer, summary: Summary) -> None:
    names = [str(path) for path in paths]
    monitor = Monitor(platform, complete=complete)

    def emit(findings: list[MonitorFinding]) -> None:
        for finding in findings:
            where = _where(finding, names)
            summary.add(finding, where)
            writer.write(where)

    with _few_collections():
        for exchange in _merged(paths):
            summary.exchanges += 1
            findings = monitor.feed(exchange)
            if findings:
                emit(findings)
        emit(monitor.finish())


@contextmanager
def _few_collections() -> Iterator[None]:
    """Judging makes few reference cycles but many short-lived objects: what was loaded before
    (modules, schemas) is not walked by the collector, and young objects mostly die before a collection."""
    threshold = gc.get_threshold()
    gc.freeze()
    gc.set_threshold(_GC_YOUNG, *threshold[1:])
    try:
        yield
    finally:
        gc.set_threshold(*threshold)
        gc.unfreeze()


def _error(message: str) -> int:
    print(f"{PROG}: error: {message}", file=sys.stderr)
    return EXIT_INPUT


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the exit status."""
    args = _parser().parse_args(argv)
    try:
        platform = platform_from_ixit(load_ixit(args.ixit)) if args.ixit else NOTHING_KNOWN
    except ToolError as exc:
        return _error(str(exc))
    summary = Summary()
    names = [str(path) for path in args.captures]
    unreadable = None
    try:
        with ExitStack() as stack:
            out: TextIO = sys.stdout
            if args.output:
                out = stack.enter_context(args.output.open("w", encoding="utf-8"))
            writer = Writer(args.format, out)
            try:
                _judge(args.captures, platform, args.complete, writer, summary)
            except ToolError as exc:
                unreadable = str(exc)
            except (ValueError, TypeError, KeyError, AttributeError, RecursionError) as exc:  # a bug: one line
                where = f"after {summary.exchanges} exchanges"
                unreadable = f"internal error {where} ({type(exc).__name__}: {exc}); please report it"
            writer.close(summary, names, args.complete)
        if args.output:
            print(summary.line())
        sys.stdout.flush()
    except OSError as exc:
        if isinstance(exc, BrokenPipeError):  # piped into `head`: stop quietly
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
            return EXIT_INPUT
        return _error(f"{args.output}: cannot write: {exc.strerror or exc}")
    except KeyboardInterrupt:
        return 130
    if unreadable:
        return _error(unreadable)
    return EXIT_ERRORS if summary.errors else EXIT_CLEAN


if __name__ == "__main__":
    sys.exit(main())
