"""Serving an ASGI app with uvicorn in a thread of this process, on a socket bound beforehand.

Used by the reference server (`reference_server.ReferenceServer`), the validating proxy
(`interflex.proxy.ValidatingProxy`) and the client harness platform (`ats.client.platform`).
Binding first lets port 0 pick a free port that is known before the server runs.
"""

from __future__ import annotations

import contextlib
import socket
import threading
import time

import uvicorn

from interflex.errors import ConfigError

START_TIMEOUT = 10.0  # seconds a server may take to accept connections
STOP_TIMEOUT = 10.0  # seconds a server may take to finish after it was told to exit


class ServeError(ConfigError, RuntimeError):
    """A server cannot listen or start (one line): a `ConfigError` for the command lines and a
    `RuntimeError` for callers of `ReferenceServer.start`, whose contract says so."""


def listening_socket(host: str, port: int) -> socket.socket:
    """A listening TCP socket on host:port (port 0: a free port); `ServeError` with one line if unusable."""
    if type(port) is not int or not 0 <= port <= 65535:
        raise ServeError(f"port {port!r} is not a TCP port number (0-65535)")
    try:
        family = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)[0][0]
        # IPPROTO_TCP explicitly: asyncio only sets TCP_NODELAY on accepted sockets of that protocol
        sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    except OSError as exc:
        raise ServeError(f"cannot use host {host!r}: {exc.strerror or exc}") from None
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((host, port))
        sock.listen(2048)
    except OSError as exc:
        sock.close()
        raise ServeError(f"cannot listen on {host}:{port}: {exc.strerror or exc}") from None
    return sock


class ServerThread:
    """`server` serving on `sock` in a daemon thread; `start()` returns once it accepts connections.

    `what` names the server in the error of a failed start ("the proxy did not start on ...").
    The thread owns the socket: `stop()` (idempotent) ends the server and closes it.
    """

    def __init__(self, server: uvicorn.Server, sock: socket.socket, what: str) -> None:
        self.server, self.sock, self.what = server, sock, what
        self.port: int = sock.getsockname()[1]
        self._thread = threading.Thread(target=self._serve, name=f"{what} on port {self.port}", daemon=True)

    def _serve(self) -> None:
        with contextlib.suppress(SystemExit):  # uvicorn's way to end a failed startup, which `start` reports
            self.server.run(sockets=[self.sock])

    @property
    def running(self) -> bool:
        """True while the server thread serves."""
        return self._thread.is_alive()

    def start(self, timeout: float = START_TIMEOUT) -> ServerThread:
        """Start the thread and wait until the server accepts connections; `ServeError` (stopped) if it
        does not within `timeout` seconds."""
        self._thread.start()
        deadline = time.monotonic() + timeout
        while not self.server.started and self._thread.is_alive() and time.monotonic() < deadline:
            time.sleep(0.005)
        if not self.server.started:
            host = self.sock.getsockname()[0]
            self.stop(timeout=5)
            raise ServeError(f"{self.what} did not start on {host}:{self.port}")
        return self

    def stop(self, timeout: float = STOP_TIMEOUT) -> None:
        """Tell the server to exit, wait up to `timeout` seconds for the thread, close the socket."""
        self.server.should_exit = True
        if self._thread.is_alive():
            self._thread.join(timeout=timeout)
        self.sock.close()
