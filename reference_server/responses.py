"""JSON responses, Error objects (ST-8) and request-body reading with a size limit."""

from __future__ import annotations

import json
import math

from starlette.requests import ClientDisconnect, Request
from starlette.responses import Response

MAX_BODY_BYTES = 1_048_576  # 1 MiB: larger bodies answer 413 (documented limit)
_DRAIN_BYTES = 16 * MAX_BODY_BYTES  # read (and discard) up to this much of a too-large body before answering
JSON = "application/json"


def json_response(text: str | bytes, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    """A response carrying already serialised JSON."""
    return Response(text, status_code=status, headers=headers, media_type=JSON)


def error(status: int, code: str, description: str, headers: dict[str, str] | None = None) -> Response:
    """An Error object response: `{"error": code, "error_description": description}`."""
    body = json.dumps({"error": code, "error_description": description})
    return Response(body, status_code=status, headers=headers, media_type=JSON)


def media_type(request: Request) -> str | None:
    """The request's media type in lower case without parameters; None when there is no Content-Type."""
    value = request.headers.get("content-type")
    return None if value is None else value.split(";", 1)[0].strip().lower()


def is_json_media_type(value: str | None) -> bool:
    """ST-3: `application/json` (with any parameters) and `application/*+json` are JSON."""
    return value == JSON or (value is not None and value.startswith("application/") and value.endswith("+json"))


class BodyTooLarge(Exception):
    """The request body is larger than MAX_BODY_BYTES."""


async def read_body(request: Request) -> bytes:
    """Read the body, raising BodyTooLarge past the limit (also for bodies streamed without Content-Length).

    A too-large body is drained up to a bound first, so that the client gets to read the 413.
    """
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > _DRAIN_BYTES:
        raise BodyTooLarge
    chunks: list[bytes] = []
    size = 0
    try:
        async for chunk in request.stream():
            size += len(chunk)
            if size > _DRAIN_BYTES:
                break
            if size <= MAX_BODY_BYTES:
                chunks.append(chunk)
    except ClientDisconnect:
        pass
    if size > MAX_BODY_BYTES:
        raise BodyTooLarge
    return b"".join(chunks)


def _reject_constant(name: str) -> float:
    raise ValueError(f"{name} is not a JSON number")


def _finite_float(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):
        raise ValueError(f"number {text} is out of range")
    return value


def parse_json(body: bytes) -> object:
    """Parse a strict UTF-8 JSON body (PROFILE 1; no NaN/Infinity, finite numbers); ValueError says what is wrong.

    A UTF-8 byte order mark is tolerated; other encodings (UTF-16, ...) are not UTF-8 and rejected.
    """
    try:
        text = body.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise ValueError(f"the body is not UTF-8 ({exc.reason} at byte {exc.start})") from None
    try:
        return json.loads(text, parse_constant=_reject_constant, parse_float=_finite_float)
    except RecursionError:
        raise ValueError("JSON nested too deeply") from None


def dumps(value: object) -> str:
    """Compact JSON text of an accepted object (ASCII, so any string survives encoding)."""
    return json.dumps(value, separators=(",", ":"))
