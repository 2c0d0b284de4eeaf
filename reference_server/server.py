"""`ReferenceServer`: the reference server on uvicorn in a background thread (docs/contracts.md C1)."""

from __future__ import annotations

import contextlib
import logging
import re
from collections.abc import Iterable
from pathlib import Path
from types import TracebackType

import uvicorn
import uvicorn.config

from interflex import __version__
from interflex.serving import ServeError, ServerThread, listening_socket
from reference_server.accounts import AccountsError, load_accounts
from reference_server.alternatives import check_alternatives
from reference_server.app import BASE_PATH, build_app
from reference_server.context import Context
from reference_server.faults import check_fault
from reference_server.store import Store, StoreError
from reference_server.tokens import Tokens

KEEP_ALIVE_SECONDS = 15  # idle keep-alive connections are closed after this (uvicorn's default is 5)
SERVER_HEADER = f"interflex-reference-server/{__version__}"


_SECRET_QUERY_VALUE = re.compile(r"(?i)\b(access_token|refresh_token|token|password|client_secret)=[^&\s]*")


class _RedactQuerySecrets(logging.Filter):
    """Access-log lines never show a token or password sent in a query string."""

    def filter(self, record: logging.LogRecord) -> bool:
        args = record.args
        if isinstance(args, tuple) and len(args) > 2 and isinstance(args[2], str):
            record.args = (*args[:2], _SECRET_QUERY_VALUE.sub(r"\1=***", args[2]), *args[3:])
        return True


def uvicorn_config(context: Context, *, access_log: bool) -> uvicorn.Config:
    """uvicorn's configuration for serving `context` (the CLI's and the in-process server's).

    Without an access log the host process's logging configuration is left alone; with it,
    secrets in query strings are masked.
    """
    config = uvicorn.Config(
        build_app(context),
        log_level="info" if access_log else "warning",
        access_log=access_log,
        log_config=uvicorn.config.LOGGING_CONFIG if access_log else None,
        lifespan="off",
        # asyncio and h11 even where uvloop and httptools are installed (for the proxy, D-68): h11
        # limits the request head (docs/reference-server.md), and the server is the proxy's speed
        # baseline (D-69), which must not move with what else is installed.
        loop="asyncio",
        http="h11",
        timeout_keep_alive=KEEP_ALIVE_SECONDS,
        timeout_graceful_shutdown=2,
        server_header=False,
        headers=[("server", SERVER_HEADER)],
    )
    access_logger = logging.getLogger("uvicorn.access")
    if access_log and not any(isinstance(f, _RedactQuerySecrets) for f in access_logger.filters):
        access_logger.addFilter(_RedactQuerySecrets())
    return config


def make_context(
    db: str,
    accounts: str | Path | None,
    token_lifetime: int,
    fault: str | None,
    alternatives: str | Iterable[str] | None = None,
) -> Context:
    """Open the database and accounts; RuntimeError with one clear line when either is unusable.

    An unknown fault or alternative, or two conflicting alternatives, is a ValueError.
    """
    check_fault(fault)
    chosen = check_alternatives(alternatives)
    if not isinstance(token_lifetime, int) or isinstance(token_lifetime, bool) or token_lifetime <= 0:
        raise ValueError(f"token_lifetime must be a positive integer number of seconds, not {token_lifetime!r}")
    try:
        loaded = load_accounts(accounts)
    except AccountsError as exc:
        raise RuntimeError(str(exc)) from None
    try:
        store = Store(db)
    except StoreError as exc:
        raise RuntimeError(str(exc)) from None
    tokens = Tokens(store, token_lifetime, revoke_on_refresh="refresh-revokes-access" in chosen)
    return Context(store, loaded, tokens, fault, chosen)


class ReferenceServer:
    """The reference server in a background thread: `start()`, `base_url`, `stop()`, or `with`.

    `alternative`: one name or several of `reference_server.ALTERNATIVES` (another option the
    profile allows); an unknown or conflicting name is a ValueError.
    """

    def __init__(
        self,
        db: str = ":memory:",
        accounts: str | Path | None = None,
        token_lifetime: int = 3600,
        fault: str | None = None,
        host: str = "127.0.0.1",
        port: int = 0,
        access_log: bool = False,
        alternative: str | Iterable[str] | None = None,
    ) -> None:
        self.fault = check_fault(fault)
        self.alternatives = check_alternatives(alternative)
        self._args = (db, accounts, token_lifetime, fault, self.alternatives)
        self.host, self.port = host, port
        self.access_log = access_log
        self._serving: ServerThread | None = None
        self._context: Context | None = None

    @property
    def base_url(self) -> str:
        """`http://host:port/interflex/api/v1` (no trailing slash)."""
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.port}{BASE_PATH}"

    def start(self) -> ReferenceServer:
        """Start serving; returns once the server accepts connections (RuntimeError if it cannot)."""
        if self._serving is not None:
            return self
        context = make_context(*self._args)
        try:
            sock = listening_socket(self.host, self.port)
            self.port = sock.getsockname()[1]
            server = uvicorn.Server(uvicorn_config(context, access_log=self.access_log))
            self._serving = ServerThread(server, sock, "the reference server").start()
        except ServeError:
            context.store.close()
            raise
        self._context = context
        return self

    def stop(self) -> None:
        """Stop serving and close the database (idempotent)."""
        serving, context = self._serving, self._context
        self._serving = self._context = None
        if serving is not None:
            serving.stop()
        if context is not None:
            with contextlib.suppress(Exception):
                context.store.close()

    def __enter__(self) -> ReferenceServer:
        return self.start()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()
