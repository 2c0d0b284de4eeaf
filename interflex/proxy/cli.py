"""`interflex-proxy`: a validating reverse proxy in front of an InterFlex platform.

Exit status: 0 stopped with no error findings, 1 stopped with error findings, 2 usage or setup error.
"""

from __future__ import annotations

import argparse
import logging
import signal
import sys
import threading
from collections.abc import Sequence
from pathlib import Path
from types import FrameType

from interflex.errors import ConfigError
from interflex.ixit import load_ixit
from interflex.monitor import MonitorFinding, Platform, platform_from_ixit
from interflex.proxy._upstream import tls_verify
from interflex.proxy.server import DEFAULT_MAX_BODY, ValidatingProxy

PROG = "interflex-proxy"
EXIT_CLEAN, EXIT_FINDINGS, EXIT_SETUP = 0, 1, 2
DEFAULT_LISTEN = "127.0.0.1:8081"

_DESCRIPTION = """\
A validating reverse proxy for the InterFlex API (PROFILE.md). Point DSO and aggregator clients
at it instead of the platform: it forwards every request unchanged (only hop-by-hop headers are
rewritten), streams bodies both ways, and judges each exchange with the protocol monitor as it
passes. Findings are printed live, one line each: "error: #12 R2: server: ... [ST-2]" (side
"server" or "client": who broke the rule). Stop it with Ctrl-C or SIGTERM: it judges the end of
the capture, finishes the files and prints a summary.
"""
_EPILOG = """\
examples:
  interflex-proxy --upstream http://127.0.0.1:8080 --har capture.har --findings findings.jsonl
  interflex-proxy --upstream https://platform.example:8443/interflex/api/v1 --ixit ixit.yaml \\
      --ca-bundle platform-ca.pem --listen 127.0.0.1:9000
  # clients then use http://127.0.0.1:9000/interflex/api/v1 as their base URL

The upstream may be the platform's origin or its base URL: paths are forwarded as the client sent
them (a path before /interflex/api/<version> in --upstream is put in front of them).
The HAR capture holds every request as sent, passwords and tokens included: it is created readable
by its owner only; keep it so. Re-judge it later with `interflex-monitor capture.har`.

exit status: 0 no error findings, 1 error findings, 2 usage or setup error
Documentation: docs/monitor.md, "The validating proxy".
"""


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog=PROG, description=_DESCRIPTION, epilog=_EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--upstream", required=True, metavar="URL", help="the platform: http(s)://host[:port][/path]")
    parser.add_argument(
        "--listen",
        default=DEFAULT_LISTEN,
        metavar="HOST:PORT",
        help=f"where clients connect (default {DEFAULT_LISTEN}, loopback only; port 0: any free port)",
    )
    parser.add_argument(
        "--ixit",
        type=Path,
        metavar="FILE",
        help="IXIT of the platform (PROFILE.md section 10): its users' roles and entities and its optional "
        "classes, so access rules (AU-5, CL-3) are judged for every user; without it users are learnt "
        "from the traffic where possible",
    )
    parser.add_argument(
        "--complete",
        action="store_true",
        help="the traffic is complete (all of the platform's traffic since it was empty): rules that need the "
        "whole history report errors, not warnings",
    )
    parser.add_argument("--har", type=Path, metavar="OUT.har", help="write the capture as HAR 1.2 (streamed)")
    parser.add_argument("--findings", type=Path, metavar="OUT.jsonl", help="write the findings as JSON Lines")
    parser.add_argument("--certfile", type=Path, metavar="FILE", help="serve TLS with this certificate (PEM)")
    parser.add_argument("--keyfile", type=Path, metavar="FILE", help="... and this private key (PEM)")
    trust = parser.add_mutually_exclusive_group()
    trust.add_argument("--ca-bundle", metavar="FILE", help="check the upstream's certificate against these CAs")
    trust.add_argument("--insecure", action="store_true", help="do not check the upstream's certificate")
    parser.add_argument(
        "--max-body",
        type=int,
        default=DEFAULT_MAX_BODY,
        metavar="BYTES",
        help=f"bodies up to this size are kept and judged (default {DEFAULT_MAX_BODY}); larger ones are "
        "forwarded whole but not judged, with a warning",
    )
    parser.add_argument(
        "--timeout", type=float, default=30.0, metavar="SECONDS", help="upstream connect/read timeout (default 30)"
    )
    return parser


def parse_listen(value: str) -> tuple[str, int]:
    """`HOST:PORT`, `[IPv6]:PORT` or `:PORT` (loopback) as (host, port); `ConfigError` when malformed."""
    host, sep, port = value.rpartition(":")
    if not sep or not port.isdigit() or int(port) > 65535:
        raise ConfigError(f"--listen {value!r} must be HOST:PORT with a port 0-65535")
    host = host[1:-1] if host.startswith("[") and host.endswith("]") else host
    return host or "127.0.0.1", int(port)


def _log_to_stderr() -> None:
    """The proxy's own log lines (start, upstream failures, bodies not judged) on stderr, one line each."""
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter(f"{PROG}: %(message)s"))
    log = logging.getLogger("interflex.proxy")
    log.addHandler(handler)
    log.setLevel(logging.INFO)
    log.propagate = False


def _print_finding(finding: MonitorFinding) -> None:
    print(finding, flush=True)


def main(argv: Sequence[str] | None = None) -> int:
    """Run the proxy until SIGINT/SIGTERM; returns the exit status."""
    args = _parser().parse_args(argv)
    _log_to_stderr()
    try:
        host, port = parse_listen(args.listen)
        platform = platform_from_ixit(load_ixit(args.ixit)) if args.ixit else Platform()
        proxy = ValidatingProxy(
            args.upstream,
            platform,
            complete=args.complete,
            host=host,
            port=port,
            har=args.har,
            findings_file=args.findings,
            max_body=args.max_body,
            verify=tls_verify(args.ca_bundle, args.insecure),
            certfile=args.certfile,
            keyfile=args.keyfile,
            timeout=args.timeout,
            on_finding=_print_finding,
            keep_findings=False,
        )
        stop = threading.Event()

        def on_signal(signum: int, frame: FrameType | None) -> None:
            stop.set()

        previous = {sig: signal.signal(sig, on_signal) for sig in (signal.SIGINT, signal.SIGTERM)}
        try:
            proxy.start()
        except ConfigError:
            for sig, handler in previous.items():
                signal.signal(sig, handler)
            raise
    except ConfigError as exc:
        print(f"{PROG}: error: {exc}", file=sys.stderr)
        return EXIT_SETUP
    judged = "with the IXIT's users" if args.ixit else "users learnt from the traffic"
    logging.getLogger("interflex.proxy").info(
        "%s -> %s (clients use %s; %s%s); stop with Ctrl-C",
        proxy.url,
        proxy.upstream.origin + proxy.upstream.prefix.decode(),
        proxy.base_url,
        judged,
        ", complete capture" if args.complete else "",
    )
    try:
        while not stop.wait(0.5):
            if not proxy.running:
                print(f"{PROG}: error: the proxy stopped unexpectedly", file=sys.stderr)
                break
    finally:
        summary = proxy.stop()
    print("summary: " + "\n".join(summary.lines()), flush=True)
    for written in (args.har, args.findings):
        if written is not None:
            print(f"wrote {written}", flush=True)
    return EXIT_FINDINGS if summary.errors else EXIT_CLEAN


if __name__ == "__main__":
    sys.exit(main())
