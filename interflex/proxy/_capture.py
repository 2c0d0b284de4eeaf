"""What the proxy keeps of one exchange while it passes, and its `HttpExchange` for the monitor."""

from __future__ import annotations

import zlib
from dataclasses import dataclass, field

from interflex.monitor import HttpExchange
from interflex.proxy._headers import RawHeaders


class BodyCapture:
    """The first `limit` bytes of a body streaming through, and the size of the whole body."""

    __slots__ = ("kept", "limit", "parts", "size")

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.parts: list[bytes] = []
        self.kept = 0
        self.size = 0

    def add(self, chunk: bytes) -> None:
        """Count `chunk` and keep what fits under the limit."""
        self.size += len(chunk)
        room = self.limit - self.kept
        if room > 0 and chunk:
            part = chunk[:room]
            self.parts.append(part)
            self.kept += len(part)

    @property
    def cut(self) -> bool:
        """True when the body was larger than the limit (only its beginning is kept)."""
        return self.size > self.kept

    def data(self) -> bytes:
        """The bytes kept."""
        return self.parts[0] if len(self.parts) == 1 else b"".join(self.parts)


@dataclass(slots=True)
class Capture:
    """One exchange as the proxy forwarded it: request as sent upstream, response as received.

    `status` is None when the upstream gave no response (`error` says why; the client then got
    the proxy's own 502/504). Times are Unix seconds.
    """

    index: int
    method: str
    url: str
    started: float
    request_headers: RawHeaders
    request_body: BodyCapture
    response_body: BodyCapture
    http_version: str = "1.1"
    status: int | None = None
    reason: str = ""
    response_headers: RawHeaders = field(default_factory=list)
    finished: float = 0.0
    error: str | None = None


def header_dict(headers: RawHeaders) -> dict[str, str]:
    """Lower-case names to values; repeated headers joined with ", " (RFC 9110 section 5.3)."""
    result: dict[str, str] = {}
    for raw_name, raw_value in headers:
        name, value = raw_name.decode("latin-1").lower(), raw_value.decode("latin-1")
        result[name] = f"{result[name]}, {value}" if name in result else value
    return result


def decoded_body(body: BodyCapture, encoding: str | None) -> tuple[bytes, bool]:
    """The response body without its `Content-Encoding` (gzip, deflate), and whether it is whole.

    A body cut at the limit, or in an encoding the proxy does not decode, is not whole: its
    rules are not judged.
    """
    data = body.data()
    coding = (encoding or "identity").strip().lower()
    if coding == "identity":
        return data, not body.cut
    if body.cut or coding not in ("gzip", "x-gzip", "deflate"):
        return b"", False
    wbits = 47 if coding != "deflate" else 15  # 47: gzip or zlib header; deflate is zlib-wrapped
    try:
        inflater = zlib.decompressobj(wbits)
        plain = inflater.decompress(data, body.limit + 1)
    except zlib.error:
        if coding != "deflate":
            return b"", False
        try:  # some servers send raw deflate without the zlib wrapper
            inflater = zlib.decompressobj(-15)
            plain = inflater.decompress(data, body.limit + 1)
        except zlib.error:
            return b"", False
    if len(plain) > body.limit or inflater.unconsumed_tail:
        return b"", False
    return plain, True


def to_exchange(capture: Capture) -> HttpExchange:
    """The capture as the monitor's `HttpExchange` (bodies decoded; `truncated` when not whole)."""
    response_headers = header_dict(capture.response_headers)
    response_body, whole = decoded_body(capture.response_body, response_headers.get("content-encoding"))
    return HttpExchange(
        index=capture.index,
        method=capture.method,
        url=capture.url,
        request_headers=header_dict(capture.request_headers),
        request_body=capture.request_body.data(),
        status=capture.status,
        response_headers=response_headers,
        response_body=response_body,
        started=capture.started,
        finished=capture.finished,
        error=capture.error,
        # a response broken off midway is incomplete even under the limit
        truncated=capture.request_body.cut or not whole or (capture.error is not None and capture.status is not None),
    )


def log_path(url: str) -> str:
    """The path of a URL or request target for a log line, without its query (which may hold a secret)."""
    if "://" in url:
        url = "/" + url.split("://", 1)[1].partition("/")[2]
    return url.split("?", 1)[0]
