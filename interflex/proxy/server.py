"""`ValidatingProxy`: the validating proxy on uvicorn in a background thread (tests, the CLI)."""

from __future__ import annotations

import contextlib
import importlib.util
import logging
import ssl
from pathlib import Path
from types import TracebackType

import uvicorn

from interflex.errors import ConfigError
from interflex.monitor import Monitor, MonitorFinding, Platform
from interflex.proxy._findings import FindingsFile
from interflex.proxy._har import HarWriter
from interflex.proxy._judge import FindingSink, LiveJudge, Summary
from interflex.proxy._upstream import make_session, parse_upstream
from interflex.proxy.app import Forwarder, ResponseBrokenOff, build_app
from interflex.serving import ServeError, ServerThread, listening_socket

DEFAULT_MAX_BODY = 1024 * 1024
# uvloop and httptools (C) save about 0.3 ms of CPU per forwarded request; where they are not
# installed (uvloop has no Windows build) the proxy runs on asyncio and h11 alike (D-68).
EVENT_LOOP = "uvloop" if importlib.util.find_spec("uvloop") else "asyncio"
HTTP_PARSER = "httptools" if importlib.util.find_spec("httptools") else "h11"


class _QuietBrokenOff(logging.Filter):
    """uvicorn logs an exception leaving the app with a traceback; a broken-off upstream response is
    already reported in one line by the proxy."""

    def filter(self, record: logging.LogRecord) -> bool:
        return not (record.exc_info and isinstance(record.exc_info[1], ResponseBrokenOff))


class ValidatingProxy:
    """A reverse proxy to `upstream` that judges every exchange with the monitor as it passes.

        with ValidatingProxy(server.base_url, platform) as proxy:
            requests.get(proxy.base_url + "/dsos/dso1/flexibilityRequests", ...)
        proxy.findings     # every MonitorFinding, in the order found
        proxy.summary      # counts, complete after stop()

    `har`/`findings_file`: write the capture (HAR 1.2) and the findings (JSON Lines) there.
    `verify`: True (system CAs), False, or an `ssl.SSLContext` for the upstream's certificate.
    `certfile`/`keyfile`: serve TLS. `on_finding` is called on the judging thread for each finding.
    Configuration problems raise `ConfigError` (one line).
    """

    def __init__(
        self,
        upstream: str,
        platform: Platform | None = None,
        *,
        complete: bool = False,
        host: str = "127.0.0.1",
        port: int = 0,
        har: str | Path | None = None,
        findings_file: str | Path | None = None,
        max_body: int = DEFAULT_MAX_BODY,
        verify: ssl.SSLContext | bool = True,
        certfile: str | Path | None = None,
        keyfile: str | Path | None = None,
        timeout: float = 30.0,
        on_finding: FindingSink | None = None,
        keep_findings: bool = True,
    ) -> None:
        if max_body < 0:
            raise ConfigError(f"the body limit must be 0 or more bytes, not {max_body}")
        if (certfile is None) != (keyfile is None):
            raise ConfigError("TLS on the listening side needs both a certificate file and a key file")
        self.upstream = parse_upstream(upstream, timeout)
        self.platform, self.complete = platform or Platform(), complete
        self.host, self.port = host, port
        self.har_path, self.findings_path = har, findings_file
        self.max_body, self.verify = max_body, verify
        self.certfile, self.keyfile = certfile, keyfile
        self.on_finding, self.keep_findings = on_finding, keep_findings
        self._findings: list[MonitorFinding] = []
        self._judge: LiveJudge | None = None
        self._forwarder: Forwarder | None = None
        self._serving: ServerThread | None = None
        self._files: list[HarWriter | FindingsFile] = []
        self.summary = Summary()

    @property
    def url(self) -> str:
        """`http(s)://host:port` of the proxy."""
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"{'https' if self.certfile else 'http'}://{host}:{self.port}"

    @property
    def base_url(self) -> str:
        """The API base URL clients use through the proxy, e.g. `http://127.0.0.1:8081/interflex/api/v1`."""
        return self.url + self.upstream.api_base

    @property
    def running(self) -> bool:
        """True while the server thread serves."""
        return self._serving is not None and self._serving.running

    @property
    def findings(self) -> list[MonitorFinding]:
        """The findings so far (all of them after `stop()`)."""
        return list(self._findings)

    def settle(self, timeout: float = 5.0) -> bool:
        """Wait until every exchange that reached the proxy so far is answered and judged; False on timeout."""
        if self._judge is None or self._forwarder is None:
            return True
        return self._judge.settle(self._forwarder.count, timeout)

    def start(self) -> ValidatingProxy:
        """Open the output files, start serving; returns once the proxy accepts connections."""
        if self._serving is not None:
            return self
        self._open_files()
        sinks: list[FindingSink] = [f.add for f in self._files if isinstance(f, FindingsFile)]
        if self.keep_findings:
            sinks.append(self._findings.append)
        if self.on_finding is not None:
            sinks.append(self.on_finding)
        har = next((f for f in self._files if isinstance(f, HarWriter)), None)
        judge = LiveJudge(Monitor(self.platform, complete=self.complete), sinks=sinks, har=har)
        try:
            sock = listening_socket(self.host, self.port)
        except ServeError:
            self._close(judge)
            raise
        self.port = sock.getsockname()[1]
        forwarder = Forwarder(self.upstream, judge.submit, self.max_body)
        config = uvicorn.Config(
            build_app(forwarder, lambda: make_session(self.verify)),
            http=HTTP_PARSER,
            loop=EVENT_LOOP,
            ws="none",  # an Upgrade request is plain HTTP here: Upgrade is hop-by-hop and not forwarded
            lifespan="on",
            log_config=None,
            log_level="warning",
            access_log=False,
            proxy_headers=False,  # X-Forwarded-* are the upstream's business, passed on unchanged
            server_header=False,  # the upstream's Server and Date headers pass unchanged
            date_header=False,
            timeout_keep_alive=15,
            timeout_graceful_shutdown=2,
            ssl_certfile=str(self.certfile) if self.certfile else None,
            ssl_keyfile=str(self.keyfile) if self.keyfile else None,
        )
        try:
            config.load()
        except (OSError, ssl.SSLError) as exc:
            sock.close()
            self._close(judge)
            reason = getattr(exc, "strerror", None) or exc
            raise ConfigError(f"cannot use the TLS certificate or key: {reason}") from None
        uvicorn_errors = logging.getLogger("uvicorn.error")
        if not any(isinstance(f, _QuietBrokenOff) for f in uvicorn_errors.filters):
            uvicorn_errors.addFilter(_QuietBrokenOff())
        try:
            self._serving = ServerThread(uvicorn.Server(config), sock, "the proxy").start()
        except ServeError:
            self._close(judge)
            raise
        self._judge, self._forwarder = judge, forwarder
        return self

    def stop(self) -> Summary:
        """Stop serving, judge what is left and the end of the capture, close the files (idempotent)."""
        serving, judge = self._serving, self._judge
        self._serving = self._judge = self._forwarder = None
        if serving is not None:
            serving.stop()
        if judge is not None:
            self._close(judge)
        return self.summary

    def _open_files(self) -> None:
        try:
            if self.har_path is not None:
                self._files.append(HarWriter(self.har_path))
            if self.findings_path is not None:
                self._files.append(FindingsFile(self.findings_path))
        except OSError as exc:
            for opened in self._files:
                opened.close()
            self._files = []
            raise ConfigError(f"cannot write {exc.filename}: {exc.strerror or exc}") from None

    def _close(self, judge: LiveJudge) -> None:
        self.summary = judge.close()
        for opened in self._files:
            with contextlib.suppress(OSError):
                opened.close()
        self._files = []

    def __enter__(self) -> ValidatingProxy:
        return self.start()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()
