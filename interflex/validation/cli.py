"""`interflex-validate`: check InterFlex messages in JSON, JSON Lines and HAR files.

Exit status: 0 everything valid, 1 something invalid, 2 usage error or unreadable input.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import TextIO

from interflex.profile import KINDS
from interflex.validation._har import check_entry
from interflex.validation._inputs import HarEntry, InputError, Message, read, read_stdin
from interflex.validation._results import Result
from interflex.validation._validator import detect_kind, validate

PROG = "interflex-validate"
EXIT_VALID, EXIT_INVALID, EXIT_INPUT = 0, 1, 2

_DESCRIPTION = """\
Validate InterFlex messages against the wire profile (PROFILE.md): the JSON Schemas of
section 4 (date-times exactly RFC 3339, P-01) and the plausibility rules PL-1..PL-3.

Each PATH is chosen by its name:
  *.json            one message, or an array of messages (source FILE#/INDEX)
  *.jsonl, *.ndjson one message per line (source FILE:LINE; blank lines ignored)
  *.har             a HAR 1.2 capture: every entry whose URL path is one of the 22
                    operations (after /interflex/api/<version>) is checked: request body,
                    status (the profile's successes and section 5 errors) and response
                    body (Error object for a JSON 4xx); other entries are listed as skipped
  -                 standard input (source <stdin>), told by its content: a HAR capture,
                    one JSON message or array, or else JSON Lines (./- for a file named -)
"""
_EPILOG = """\
Without --kind, a message's kind is told from its id field (offer_id -> FlexibilityOffer,
a lone id field -> IdResponse, ...). Unknown fields are warnings (errors with --strict).

exit status: 0 all valid, 1 something invalid, 2 usage error or unreadable input
(missing file, not JSON, a bad line: the message names the file and line).
"""


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog=PROG, description=_DESCRIPTION, epilog=_EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "paths", nargs="+", metavar="PATH", type=Path, help="JSON, JSON Lines or HAR file; - for standard input"
    )
    parser.add_argument(
        "--kind",
        choices=KINDS,
        metavar="KIND",
        help=f"kind of every message in JSON/JSONL files (not HAR): {', '.join(KINDS)}",
    )
    parser.add_argument("--strict", action="store_true", help="report unknown fields as errors, not warnings")
    parser.add_argument(
        "--format",
        choices=("text", "json"),
        default="text",
        help="text: one line per message or exchange (default); json: one JSON array",
    )
    return parser


def _results(paths: Sequence[Path], kind: str | None, strict: bool, problems: list[str]) -> Iterator[Result]:
    """Every checked item of every path; unreadable input is appended to `problems`."""
    for path in paths:
        try:
            for item in read_stdin(sys.stdin.buffer if sys.stdin else None) if str(path) == "-" else read(path):
                if isinstance(item, InputError):
                    problems.append(str(item))
                    print(f"{PROG}: error: {item}", file=sys.stderr)
                elif isinstance(item, HarEntry):
                    yield check_entry(item, strict)
                else:
                    yield _check_message(item, kind, strict)
        except InputError as exc:
            problems.append(str(exc))
            print(f"{PROG}: error: {exc}", file=sys.stderr)


def _check_message(item: Message, kind: str | None, strict: bool) -> Result:
    return Result(item.source, kind or detect_kind(item.value), validate(item.value, kind, strict))


def _emit(results: Iterator[Result], fmt: str, out: TextIO) -> dict[str, int]:
    """Write the results as they come (captures can be large); return counts by verdict."""
    counts = {"valid": 0, "invalid": 0, "skipped": 0}
    if fmt == "json":
        out.write("[")
    for number, result in enumerate(results):
        counts["skipped" if result.skipped else "valid" if result.valid else "invalid"] += 1
        if fmt == "json":
            out.write(("\n" if number == 0 else ",\n") + json.dumps(result.as_dict(), ensure_ascii=False))
        else:
            out.write(result.as_line() + "\n")
    if fmt == "json":
        out.write("\n]\n" if sum(counts.values()) else "]\n")
    return counts


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the exit status."""
    parser = _parser()
    args = parser.parse_args(argv)
    if [str(path) for path in args.paths].count("-") > 1:
        parser.error("- (standard input) can be given only once")
    problems: list[str] = []
    try:
        counts = _emit(_results(args.paths, args.kind, args.strict, problems), args.format, sys.stdout)
        if args.format == "text":
            print(
                f"{counts['valid']} valid, {counts['invalid']} invalid, {counts['skipped']} skipped"
                + (f", {len(problems)} unreadable" if problems else "")
            )
        sys.stdout.flush()
    except BrokenPipeError:  # piped into `head`: stop quietly (Python docs, "Note on SIGPIPE")
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return EXIT_INPUT
    except KeyboardInterrupt:
        return 130
    if problems:
        return EXIT_INPUT
    return EXIT_INVALID if counts["invalid"] else EXIT_VALID


if __name__ == "__main__":
    sys.exit(main())
