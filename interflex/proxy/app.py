"""The forwarding ASGI application: every request goes to the upstream unchanged, streamed.

Only hop-by-hop headers are rewritten (`_headers.end_to_end`) and `Host` is the upstream's; the
path and query are sent byte for byte as received. Each exchange is captured on the way
(bodies up to the limit) and handed to the judge after the response is complete, so judging
never delays or changes the traffic.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import AsyncIterator, Callable

import aiohttp
from starlette.types import ASGIApp, Receive, Scope, Send
from yarl import URL

from interflex.proxy._capture import BodyCapture, Capture, log_path
from interflex.proxy._headers import end_to_end
from interflex.proxy._upstream import Upstream

log = logging.getLogger("interflex.proxy")


class ClientGone(Exception):
    """The client disconnected before its request body was complete."""


class ResponseBrokenOff(Exception):
    """The upstream broke off a response already being forwarded: the client connection is closed.

    Raised out of the ASGI application on purpose (uvicorn then drops the connection, so the client
    sees the failure instead of a shortened body); `quiet_uvicorn_errors` keeps it out of the log.
    """


class Forwarder:
    """The ASGI app that forwards to `upstream` and hands every `Capture` to `submit`."""

    def __init__(self, upstream: Upstream, submit: Callable[[Capture], None], max_body: int) -> None:
        self.upstream = upstream
        self.submit = submit
        self.max_body = max_body
        self.session: aiohttp.ClientSession | None = None
        self.count = 0  # exchanges begun; also the index of the next one

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        index, self.count = self.count, self.count + 1
        target = self.upstream.target(scope["raw_path"], scope["query_string"])
        headers = end_to_end(scope["headers"], drop_host=True)
        capture = Capture(
            index=index,
            method=scope["method"],
            url=self.upstream.origin + target.decode("latin-1"),
            started=time.time(),
            request_headers=[(b"host", self.upstream.host_header), *headers],
            request_body=BodyCapture(self.max_body),
            response_body=BodyCapture(self.max_body),
            http_version=scope.get("http_version", "1.1"),
        )
        try:
            await self._forward(scope, receive, send, target, capture)
        finally:
            capture.finished = time.time()
            if capture.status is None and capture.error is None:  # cancelled: the proxy is stopping
                capture.error = "no answer: the exchange was cut short"
            self.submit(capture)

    async def _forward(self, scope: Scope, receive: Receive, send: Send, target: bytes, capture: Capture) -> None:
        assert self.session is not None, "the proxy's lifespan did not start"
        gone: list[bool] = []
        try:
            body = await _request_body(scope, receive, capture.request_body, gone)
            response = await self.session.request(
                capture.method,
                URL(self.upstream.origin + target.decode("latin-1"), encoded=True),
                headers=[(name.decode("latin-1"), _header_text(value)) for name, value in capture.request_headers],
                data=body,
                allow_redirects=False,
                timeout=self.upstream.client_timeout,
            )
        except Exception as exc:
            await self._no_answer(send, capture, exc, gone)
            return
        try:
            await self._relay(send, response, capture)
        finally:
            response.close() if capture.error else response.release()

    async def _no_answer(self, send: Send, capture: Capture, exc: Exception, gone: list[bool]) -> None:
        if gone:
            capture.error = "the client disconnected before its request was complete"
            log.info("#%d %s %s: %s", capture.index, capture.method, log_path(capture.url), capture.error)
        elif isinstance(exc, (aiohttp.ClientConnectorError, aiohttp.ConnectionTimeoutError)):
            await self._gateway_error(send, capture, 502, "bad_gateway", f"upstream unreachable: {_why(exc)}")
        elif isinstance(exc, TimeoutError):
            reason = f"upstream did not answer within {self.upstream.timeout['read']:g} s ({type(exc).__name__})"
            await self._gateway_error(send, capture, 504, "gateway_timeout", reason)
        else:  # another aiohttp error, or anything else the upstream call raised
            await self._gateway_error(send, capture, 502, "bad_gateway", f"upstream failed: {_why(exc)}")

    async def _relay(self, send: Send, response: aiohttp.ClientResponse, capture: Capture) -> None:
        capture.status = response.status
        capture.reason = response.reason or ""
        capture.response_headers = end_to_end(response.raw_headers)
        await send({"type": "http.response.start", "status": response.status, "headers": capture.response_headers})
        try:
            async for chunk in response.content.iter_any():
                capture.response_body.add(chunk)
                await send({"type": "http.response.body", "body": chunk, "more_body": True})
        except (aiohttp.ClientError, TimeoutError) as exc:
            capture.error = f"the upstream broke off the response body: {_why(exc)}"
            log.error("#%d %s %s: %s", capture.index, capture.method, log_path(capture.url), capture.error)
            raise ResponseBrokenOff(capture.error) from None
        await send({"type": "http.response.body", "body": b"", "more_body": False})

    async def _gateway_error(self, send: Send, capture: Capture, status: int, code: str, reason: str) -> None:
        """The proxy's own answer when the upstream gave none: an Error object (PROFILE.md section 4)."""
        capture.error = reason
        log.error("#%d %s %s: %s -> %d", capture.index, capture.method, log_path(capture.url), reason, status)
        body = json.dumps({"error": code, "error_description": f"interflex-proxy: {reason}"}).encode()
        headers = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]
        await send({"type": "http.response.start", "status": status, "headers": headers})
        await send({"type": "http.response.body", "body": body, "more_body": False})


async def _request_body(
    scope: Scope, receive: Receive, body: BodyCapture, gone: list[bool]
) -> bytes | AsyncIterator[bytes] | None:
    """The request body for aiohttp, captured on the way: None without one; the bytes when the first
    chunk received is the whole body (aiohttp then sends head and body in one write, so the upstream
    gets them together); else a stream of the chunks (`gone` gets an entry when the client disconnects
    midway)."""
    names = {name for name, _ in scope["headers"]}
    if b"content-length" not in names and b"transfer-encoding" not in names:
        return None

    async def chunk() -> tuple[bytes, bool]:
        message = await receive()
        if message["type"] == "http.disconnect":
            gone.append(True)
            raise ClientGone
        data = message.get("body", b"")
        body.add(data)
        return data, message.get("more_body", False)

    first, more = await chunk()
    if not more:
        return first

    async def chunks() -> AsyncIterator[bytes]:
        data, going_on = first, True
        while True:
            if data:
                yield data
            if not going_on:
                return
            data, going_on = await chunk()

    return chunks()


def _header_text(value: bytes) -> str:
    """A header value for aiohttp, which sends values UTF-8 encoded: UTF-8 (and ASCII) passes byte
    for byte; other bytes (obsolete Latin-1 text, RFC 9110 section 5.5) go as the UTF-8 of their
    Latin-1 reading (D-68)."""
    try:
        return value.decode("utf-8")
    except UnicodeDecodeError:
        return value.decode("latin-1")


def _why(exc: Exception) -> str:
    return str(exc).splitlines()[0] if str(exc).strip() else type(exc).__name__


def build_app(forwarder: Forwarder, session_factory: Callable[[], aiohttp.ClientSession]) -> ASGIApp:
    """The ASGI application: every HTTP request to the forwarder, its upstream session opened and
    closed in the lifespan.

    A bare ASGI callable, not a Starlette application: the proxy has one route and no middleware,
    and Starlette's router and exception layers would only add CPU to every request (D-68).
    """

    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            await forwarder(scope, receive, send)
        elif scope["type"] == "lifespan":
            await _lifespan(forwarder, session_factory, receive, send)

    return app


async def _lifespan(
    forwarder: Forwarder, session_factory: Callable[[], aiohttp.ClientSession], receive: Receive, send: Send
) -> None:
    """ASGI lifespan: the upstream session lives from startup to shutdown."""
    while True:
        message = await receive()
        if message["type"] == "lifespan.startup":
            forwarder.session = session_factory()
            await send({"type": "lifespan.startup.complete"})
        elif message["type"] == "lifespan.shutdown":
            if forwarder.session is not None:
                await forwarder.session.close()
            await send({"type": "lifespan.shutdown.complete"})
            return
