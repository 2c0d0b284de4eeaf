"""`interflex-server`: run the reference server, list its fault and alternative modes, or hash a password."""

from __future__ import annotations

import argparse
import getpass
import os
import sys

import uvicorn

from interflex.serving import listening_socket
from reference_server.accounts import hash_password
from reference_server.alternatives import ALTERNATIVES
from reference_server.faults import FAULTS
from reference_server.server import make_context, uvicorn_config


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="interflex-server",
        description="The InterFlex reference server: PROFILE.md, all 22 operations, under /interflex/api/v1.",
    )
    parser.add_argument("--host", default="127.0.0.1", help="interface to listen on (default: %(default)s)")
    parser.add_argument("--port", type=int, default=8080, help="TCP port, 0 for a free one (default: %(default)s)")
    parser.add_argument(
        "--db", default="interflex.db", metavar="PATH", help="SQLite database file, or :memory: (default: %(default)s)"
    )
    parser.add_argument("--accounts", metavar="FILE", help="accounts YAML file (default: the bundled demo accounts)")
    parser.add_argument(
        "--token-lifetime",
        type=int,
        default=3600,
        metavar="SECONDS",
        help="lifetime of access and refresh tokens (default: %(default)s)",
    )
    parser.add_argument(
        "--fault",
        metavar="NAME",
        choices=sorted(FAULTS),
        help="deviate from the profile in one way (see --list-faults)",
    )
    parser.add_argument("--list-faults", action="store_true", help="print the fault modes and exit")
    parser.add_argument(
        "--alternative",
        metavar="NAME",
        action="append",
        choices=sorted(ALTERNATIVES),
        help="take another option the profile allows (repeatable; see --list-alternatives)",
    )
    parser.add_argument("--list-alternatives", action="store_true", help="print the alternative modes and exit")
    parser.add_argument(
        "--hash-password",
        action="store_true",
        help="read a password (prompt, or one line of stdin) and print its hash for the accounts file",
    )
    return parser


def _read_password() -> str:
    if sys.stdin.isatty():
        first = getpass.getpass("password: ")
        if first != getpass.getpass("again: "):
            raise ValueError("the two passwords differ")
        return first
    return sys.stdin.readline().rstrip("\r\n")


def _print_lines(lines: list[str]) -> int:
    try:
        for line in lines:
            print(line)
        sys.stdout.flush()
    except BrokenPipeError:  # piped into `head`: stop quietly (Python docs, "Note on SIGPIPE")
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
    return 0


def _list_faults() -> int:
    width = max(map(len, FAULTS))
    return _print_lines([f"{f.name:<{width}}  {f.conformance_class:<16}  {f.description}" for f in FAULTS.values()])


def _list_alternatives() -> int:
    width = max(map(len, ALTERNATIVES))
    return _print_lines(
        [f"{a.name:<{width}}  {', '.join(a.references):<20}  {a.description}" for a in ALTERNATIVES.values()]
    )


def main(argv: list[str] | None = None) -> int:
    """Entry point of `interflex-server` and `python -m reference_server`."""
    parser = _parser()
    args = parser.parse_args(argv)
    if args.list_faults:
        return _list_faults()
    if args.list_alternatives:
        return _list_alternatives()
    try:
        if args.hash_password:
            password = _read_password()
            if not password:
                raise ValueError("the password is empty")
            print(hash_password(password))
            return 0
        if args.token_lifetime <= 0:
            raise ValueError("--token-lifetime must be a positive number of seconds")
        context = make_context(args.db, args.accounts, args.token_lifetime, args.fault, args.alternative)
        sock = listening_socket(args.host, args.port)
    except (RuntimeError, ValueError) as exc:
        parser.exit(2, f"interflex-server: error: {exc}\n")
    except KeyboardInterrupt:
        return 130
    host, port = sock.getsockname()[:2]
    shown = f"[{host}]" if ":" in host else host
    fault = f", fault mode {args.fault!r}" if args.fault else ""
    if args.alternative:
        fault += f", alternatives {', '.join(sorted(context.alternatives))}"
    print(
        f"InterFlex reference server at http://{shown}:{port}/interflex/api/v1 (database {args.db}{fault})",
        file=sys.stderr,
        flush=True,
    )
    try:
        uvicorn.Server(uvicorn_config(context, access_log=True)).run(sockets=[sock])
    finally:
        sock.close()
        context.store.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
