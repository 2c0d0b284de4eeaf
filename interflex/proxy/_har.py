"""A HAR 1.2 file written one entry at a time, a valid HAR after every entry.

Entries are not kept in memory: each is appended and followed by the closing brackets, which
the next entry overwrites, so the file is complete even when the proxy is killed.
"""

from __future__ import annotations

import base64
import json
import os
from datetime import UTC, datetime
from http import HTTPStatus
from pathlib import Path
from typing import Any, BinaryIO
from urllib.parse import parse_qsl, urlsplit

from interflex import __version__
from interflex.proxy._capture import Capture, decoded_body, header_dict
from interflex.proxy._headers import RawHeaders

_HEAD = {"version": "1.2", "creator": {"name": "interflex-proxy", "version": __version__}}
_TAIL = b"\n]}}\n"


def open_private(path: str | Path) -> BinaryIO:
    """Create or truncate `path` for writing, readable by its owner only (captures hold credentials)."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    return os.fdopen(fd, "wb")


class HarWriter:
    """Append entries to a HAR file; `close()` when done (the file is valid HAR at every step)."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self._file = open_private(self.path)
        self._first = True
        head = json.dumps(_HEAD)[:-1]  # without the closing brace: the entries follow
        self._write(f'{{"log": {head}, "entries": [\n'.encode())

    def add(self, entry: dict[str, Any]) -> None:
        """Append one entry."""
        text = json.dumps(entry, ensure_ascii=False).encode()
        self._write(text if self._first else b",\n" + text)
        self._first = False

    def _write(self, data: bytes) -> None:
        self._file.write(data)
        end = self._file.tell()
        self._file.write(_TAIL)
        self._file.flush()
        self._file.seek(end)

    def close(self) -> None:
        """Finish the file (idempotent)."""
        if not self._file.closed:
            self._file.seek(0, os.SEEK_END)
            self._file.close()


def _pairs(headers: RawHeaders) -> list[dict[str, str]]:
    return [{"name": name.decode("latin-1"), "value": value.decode("latin-1")} for name, value in headers]


def _content(data: bytes) -> dict[str, str]:
    try:
        return {"text": data.decode("utf-8")}
    except UnicodeDecodeError:
        return {"text": base64.b64encode(data).decode("ascii"), "encoding": "base64"}


def _instant(seconds: float) -> str:
    return datetime.fromtimestamp(seconds, UTC).isoformat(timespec="microseconds").replace("+00:00", "Z")


def har_entry(capture: Capture) -> dict[str, Any]:
    """The HAR 1.2 entry of one exchange.

    No response from the upstream: `status` 0 and `response._error` (as browsers write it). A body
    over the limit keeps its beginning; `content.size` and `request.bodySize` tell the real size,
    so a reader sees that the text was cut.
    """
    request_headers = header_dict(capture.request_headers)
    response_headers = header_dict(capture.response_headers)
    elapsed = max(capture.finished - capture.started, 0.0) * 1000
    request: dict[str, Any] = {
        "method": capture.method,
        "url": capture.url,
        "httpVersion": f"HTTP/{capture.http_version}",
        "cookies": [],
        "headers": _pairs(capture.request_headers),
        "queryString": [{"name": k, "value": v} for k, v in parse_qsl(urlsplit(capture.url).query, True)],
        "headersSize": -1,
        "bodySize": capture.request_body.size,
    }
    if capture.request_body.size or "content-type" in request_headers:
        mime = request_headers.get("content-type", "")
        request["postData"] = {"mimeType": mime, **_content(capture.request_body.data())}
    body, whole = decoded_body(capture.response_body, response_headers.get("content-encoding"))
    content: dict[str, Any] = {"size": len(body), "mimeType": response_headers.get("content-type", "")}
    if whole:
        content.update(_content(body))
    elif "content-encoding" not in response_headers:
        content.update(_content(capture.response_body.data()), size=capture.response_body.size)
    else:  # encoded and cut, or not decodable: no text, and a size that says the text is missing
        content.update(text="", size=capture.response_body.size, comment="encoded body not kept")
    response: dict[str, Any] = {
        "status": capture.status or 0,
        "statusText": capture.reason or _reason(capture.status),
        "httpVersion": f"HTTP/{capture.http_version}" if capture.status else "",
        "cookies": [],
        "headers": _pairs(capture.response_headers),
        "content": content,
        "redirectURL": response_headers.get("location", ""),
        "headersSize": -1,
        "bodySize": capture.response_body.size if capture.status else -1,
    }
    if capture.error:
        response["_error"] = capture.error
    return {
        "startedDateTime": _instant(capture.started),
        "time": round(elapsed, 3),
        "request": request,
        "response": response,
        "cache": {},
        "timings": {"send": 0, "wait": round(elapsed, 3), "receive": 0},
    }


def _reason(status: int | None) -> str:
    try:
        return HTTPStatus(status).phrase if status else ""
    except ValueError:
        return ""
