"""Read captures into `HttpExchange` values: HAR 1.2, JSON Lines of evidence records, evidence bundles.

Every problem with a file is a `CaptureError` (one line naming the file and, where known, the
entry or line). HAR files are read entry by entry (`_har_stream`), so a capture of a million
exchanges never sits in memory as one JSON document.
"""

from __future__ import annotations

import base64
import binascii
import gzip
import json
import math
import zlib
from collections.abc import Iterator, Mapping
from datetime import datetime
from pathlib import Path
from typing import Any

from interflex.errors import ToolError
from interflex.monitor._har_stream import HarStreamError, har_entries
from interflex.monitor._model import HttpExchange, new_exchange


class CaptureError(ToolError):
    """A capture that cannot be read: one line naming the file and the entry or line."""


def _header(headers: dict[str, str], name: object, text: object) -> None:
    if not isinstance(name, str) or name[:1] == ":":  # HTTP/2 pseudo-headers in browser HARs
        return
    key = name.lower()
    if not isinstance(text, str):
        text = "" if text is None else str(text)
    headers[key] = f"{headers[key]}, {text}" if key in headers else text


def _headers(value: object) -> dict[str, str]:
    """Headers as a dict with lower-case names, from a HAR list or a record's mapping."""
    headers: dict[str, str] = {}
    if isinstance(value, list):
        for item in value:
            if isinstance(item, dict):
                name, text = item.get("name"), item.get("value")
                if type(name) is str and type(text) is str and name[:1] != ":":
                    key = name.lower()
                    if key not in headers:  # the common case: a string header, first of its name
                        headers[key] = text
                        continue
                _header(headers, name, text)
    elif isinstance(value, Mapping):
        for name, text in value.items():
            _header(headers, name, text)
    return headers


def _body(text: object) -> bytes:
    return text.encode("utf-8", errors="replace") if isinstance(text, str) else b""


_NUMBER_TYPES = (int, float)  # a tuple: `int | float` would build a union object per call


def _number(value: object, default: float = 0.0) -> float:
    """A finite JSON number as a float; `default` for anything else (an integer beyond a float's range too)."""
    if type(value) is float:  # the common case
        return value if value - value == 0.0 else default  # not inf or NaN
    if not isinstance(value, _NUMBER_TYPES) or isinstance(value, bool):
        return default
    try:
        number = float(value)
    except OverflowError:
        return default
    return number if math.isfinite(number) else default


def exchange_from_record(record: dict[str, Any], index: int) -> HttpExchange:
    """One evidence record (C4 keys plus `started`, `caller`, `truncated`) as an `HttpExchange`.

    Raises `ValueError` when the record lacks `method` or `url`; missing timing makes the
    exchange start at `index` seconds and take `elapsed_ms` (none: no time at all).
    """
    method, url = record.get("method"), record.get("url")
    if not isinstance(method, str) or not isinstance(url, str):
        raise ValueError("an exchange record needs string fields method and url")
    status = record.get("status")
    started = _number(record.get("started"), float(index))
    elapsed = max(_number(record.get("elapsed_ms")), 0.0) / 1000.0
    caller = record.get("caller")
    error = record.get("error")
    return new_exchange(
        index,
        method.upper(),
        url,
        _headers(record.get("request_headers")),
        _body(record.get("request_body")),
        status if isinstance(status, int) and not isinstance(status, bool) and status > 0 else None,
        _headers(record.get("response_headers")),
        _body(record.get("response_body")),
        started,
        started + elapsed,
        error if isinstance(error, str) else None,
        caller if isinstance(caller, str) and caller else None,
        record.get("truncated") is True,
    )


def _har_time(value: object) -> float | None:
    if not isinstance(value, str):
        return None
    try:
        return datetime.fromisoformat(value.replace("z", "Z")).timestamp()
    except ValueError:
        return None


def _har_text(part: object) -> bytes | None:
    """The bytes of a HAR `content` or `postData` text (base64 when `encoding` says so); None without one."""
    if not isinstance(part, dict):
        return None
    text = part.get("text")
    if not isinstance(text, str):
        return None
    if part.get("encoding") == "base64":
        try:
            return base64.b64decode(text, validate=True)
        except (binascii.Error, ValueError):
            pass
    return text.encode("utf-8", errors="replace")


def exchange_from_har(entry: object, index: int) -> HttpExchange:
    """One HAR 1.2 entry as an `HttpExchange`; `ValueError` when it is not an entry."""
    request, response = (entry.get("request"), entry.get("response")) if isinstance(entry, dict) else (None, None)
    if not isinstance(request, dict) or not isinstance(response, dict):
        raise ValueError("not a HAR entry (needs request and response objects)")
    method, url = request.get("method"), request.get("url")
    if not isinstance(method, str) or not isinstance(url, str):
        raise ValueError("a HAR request needs method and url")
    started = _har_time(entry.get("startedDateTime"))
    started = float(index) if started is None else started
    status = response.get("status")
    # a body is cut when the HAR gives a larger size than its text: `request.bodySize` (`interflex-proxy`
    # keeps the beginning of a body over `--max-body` and writes its whole size) or `content.size`
    request_body = _har_text(request.get("postData"))
    if request_body is None:
        request_body, request_cut = b"", False
    else:
        size = request.get("bodySize")
        request_cut = isinstance(size, int) and not isinstance(size, bool) and size > len(request_body)
    content = response.get("content")
    body = _har_text(content)
    if body is None:
        body, cut = b"", False
    else:
        size = content.get("size")
        cut = isinstance(size, int) and size > len(body) and content.get("compression") is None
    error = response.get("_error")
    error = error if isinstance(error, str) else None
    valid_status = isinstance(status, int) and not isinstance(status, bool) and status > 0
    return new_exchange(
        index,
        method.upper(),
        url,
        _headers(request.get("headers")),
        request_body,
        status if valid_status else None,
        _headers(response.get("headers")),
        body,
        started,
        started + max(_number(entry.get("time")), 0.0) / 1000.0,
        error or (None if valid_status else "no response"),
        None,
        cut or request_cut,
    )


def _read_har(path: Path, first: int) -> Iterator[HttpExchange]:
    try:
        with path.open("rb") as handle:
            for index, entry in enumerate(har_entries(handle)):
                try:
                    yield exchange_from_har(entry, first + index)
                except ValueError as exc:
                    raise CaptureError(f"{path}#/log/entries/{index}: {exc}") from None
    except HarStreamError as exc:
        raise CaptureError(f"{path}: not a HAR 1.2 capture: {exc}") from None


def _read_lines(path: Path, lines: Iterator[bytes], first: int) -> Iterator[HttpExchange]:
    index = first
    for number, raw in enumerate(lines, start=1):
        if not raw.strip():
            continue
        try:
            record = json.loads(raw)
        except (UnicodeDecodeError, ValueError, RecursionError) as exc:
            reason = "not UTF-8" if isinstance(exc, UnicodeDecodeError) else "not JSON"
            raise CaptureError(f"{path}:{number}: {reason}") from None
        if not isinstance(record, dict):
            raise CaptureError(f"{path}:{number}: not an exchange record (a JSON object)")
        if "started" not in record:  # no timing: one second per record of this file, in file order
            record["started"] = float(index - first)
        try:
            yield exchange_from_record(record, index)
        except ValueError as exc:
            raise CaptureError(f"{path}:{number}: {exc}") from None
        index += 1


def _read_jsonl(path: Path, first: int) -> Iterator[HttpExchange]:
    opener = gzip.open if path.name.lower().endswith(".gz") else open
    with opener(path, "rb") as handle:
        try:
            yield from _read_lines(path, iter(handle), first)
        except (OSError, EOFError, zlib.error) as exc:  # a damaged gzip stream
            raise CaptureError(f"{path}: cannot read: {exc}") from None


def read_capture(path: str | Path, *, first_index: int = 0) -> Iterator[HttpExchange]:
    """The exchanges of one capture file, in file order, numbered from `first_index`.

    `.har`: HAR 1.2 (browsers, mitmproxy, Charles); `.jsonl`, `.ndjson`: one evidence record per
    line; `.jsonl.gz`, `.ndjson.gz`: the suite's evidence bundle. Raises `CaptureError`.
    """
    path = Path(path)
    name = path.name.lower()
    if not path.exists():
        raise CaptureError(f"{path}: no such file")
    if path.is_dir():
        raise CaptureError(f"{path}: is a directory")
    if name.endswith(".har"):
        reader = _read_har(path, first_index)
    elif name.endswith((".jsonl", ".ndjson", ".jsonl.gz", ".ndjson.gz")):
        reader = _read_jsonl(path, first_index)
    else:
        raise CaptureError(f"{path}: unknown capture type (expected .har, .jsonl, .ndjson or .jsonl.gz)")
    try:
        yield from reader
    except PermissionError as exc:
        raise CaptureError(f"{path}: cannot read: {exc.strerror}") from None
    except OSError as exc:
        raise CaptureError(f"{path}: cannot read: {exc.strerror or exc}") from None
