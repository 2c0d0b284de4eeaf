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
from contextlib import asynccontextmanager
from typing import Any

import httpx
from starlette.applications import Starlette
from starlette.routing import Mount
from starlette.types import Receive, Scope, Send

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
        self.transport: httpx.AsyncHTTPTransport | None = None
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
            await self._forward(scope, receive, send, target, headers, capture)
        finally:
            capture.finished = time.time()
            if capture.status is None and capture.error is None:  # cancelled: the proxy is stopping
                capture.error = "no answer: the exchange was cut short"
            self.submit(capture)

    async def _forward(
        self, scope: Scope, receive: Receive, send: Send, target: bytes, headers: list, capture: Capture
    ) -> None:
        assert self.transport is not None, "the proxy's lifespan did not start"
        request = httpx.Request(
            capture.method,
            self.upstream.url,
            headers=headers,
            content=_request_body(scope, receive, capture.request_body),
            extensions={"target": target, "timeout": self.upstream.timeout},
        )
        try:
            response = await self.transport.handle_async_request(request)
        except ClientGone:
            capture.error = "the client disconnected before its request was complete"
            log.info("#%d %s %s: %s", capture.index, capture.method, log_path(capture.url), capture.error)
            return
        except (httpx.ConnectError, httpx.ConnectTimeout) as exc:
            await self._gateway_error(send, capture, 502, "bad_gateway", f"upstream unreachable: {_why(exc)}")
            return
        except httpx.TimeoutException as exc:
            reason = f"upstream did not answer within {self.upstream.timeout['read']:g} s ({type(exc).__name__})"
            await self._gateway_error(send, capture, 504, "gateway_timeout", reason)
            return
        except Exception as exc:  # httpx.HTTPError, or anything else the upstream call raised
            await self._gateway_error(send, capture, 502, "bad_gateway", f"upstream failed: {_why(exc)}")
            return
        try:
            await self._relay(send, response, capture)
        finally:
            await response.aclose()

    async def _relay(self, send: Send, response: httpx.Response, capture: Capture) -> None:
        capture.status = response.status_code
        capture.reason = response.reason_phrase
        capture.response_headers = end_to_end(response.headers.raw)
        await send({"type": "http.response.start", "status": response.status_code, "headers": capture.response_headers})
        try:
            async for chunk in response.aiter_raw():
                capture.response_body.add(chunk)
                await send({"type": "http.response.body", "body": chunk, "more_body": True})
        except httpx.HTTPError as exc:
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


def _request_body(scope: Scope, receive: Receive, body: BodyCapture) -> AsyncIterator[bytes] | bytes | None:
    """The request body for httpx: None without one, else a stream that captures on the way."""
    names = {name for name, _ in scope["headers"]}
    if b"content-length" not in names and b"transfer-encoding" not in names:
        return None

    async def chunks() -> AsyncIterator[bytes]:
        while True:
            message = await receive()
            if message["type"] == "http.disconnect":
                raise ClientGone
            chunk = message.get("body", b"")
            if chunk:
                body.add(chunk)
                yield chunk
            if not message.get("more_body", False):
                return

    return chunks()


def _why(exc: Exception) -> str:
    return str(exc).splitlines()[0] if str(exc).strip() else type(exc).__name__


def build_app(forwarder: Forwarder, transport_factory: Callable[[], httpx.AsyncHTTPTransport]) -> Starlette:
    """The Starlette application: the forwarder at every path, its upstream transport in the lifespan."""

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[dict[str, Any]]:
        forwarder.transport = transport_factory()
        try:
            yield {}
        finally:
            await forwarder.transport.aclose()

    return Starlette(routes=[Mount("/", app=forwarder)], lifespan=lifespan)
