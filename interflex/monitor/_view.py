"""What the monitor reads off one exchange: the operation, its parameters, the token, the bodies."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any
from urllib.parse import urlsplit

from interflex.monitor._model import HttpExchange
from interflex.profile import Operation, allowed_methods, decode_path, match_operation
from interflex.validation._har import api_path

NOT_JSON = object()  # a body that is not (complete, valid) JSON


@lru_cache(maxsize=4096)
def _route(method: str, raw_path: str) -> tuple[str | None, Operation | None, tuple[tuple[str, str], ...], bool]:
    """(decoded path, operation, its parameters, whether the path is one of section 2 at all)."""
    path = decode_path(raw_path)
    if path is None:
        return None, None, (), False
    matched = match_operation(method, path)
    if matched is None:
        return path, None, (), bool(allowed_methods(path))
    return path, matched[0], tuple(matched[1].items()), True


def parse_body(body: bytes) -> Any:
    """The JSON value of a body; `NOT_JSON` when it is not JSON, None when it is empty."""
    if not body.strip():
        return None
    try:
        return json.loads(body)
    except (ValueError, RecursionError):
        return NOT_JSON


@dataclass(slots=True)
class View:
    """One exchange as the rules see it. `op` is None outside the 22 operations."""

    exchange: HttpExchange
    in_api: bool = False  # the URL is under /interflex/api/<version>
    path: str | None = None
    known_path: bool = False  # the path is one of section 2 (with some method)
    op: Operation | None = None
    params: dict[str, str] = field(default_factory=dict)
    query: str = ""
    token: str | None = None  # the bearer token ("***" when redacted); None without one
    _request: Any = None
    _response: Any = None
    _parsed: int = 0

    @property
    def status(self) -> int | None:
        """The response status (None: no response)."""
        return self.exchange.status

    @property
    def ok(self) -> bool:
        """The request succeeded (2xx)."""
        status = self.exchange.status
        return status is not None and 200 <= status < 300

    @property
    def request_json(self) -> Any:
        """The request body as JSON (None: empty, `NOT_JSON`: not JSON)."""
        if not self._parsed & 1:
            self._request, self._parsed = parse_body(self.exchange.request_body), self._parsed | 1
        return self._request

    @property
    def response_json(self) -> Any:
        """The response body as JSON (None: empty, `NOT_JSON`: not JSON or cut)."""
        if not self._parsed & 2:
            body = NOT_JSON if self.exchange.truncated else parse_body(self.exchange.response_body)
            self._response, self._parsed = body, self._parsed | 2
        return self._response


def bearer_token(headers: Any) -> str | None:
    """The token of an `Authorization: Bearer <token>` header; None when missing or malformed."""
    value = headers.get("authorization")
    if not isinstance(value, str):
        return None
    scheme, _, token = value.strip().partition(" ")
    token = token.strip()
    return token if scheme.lower() == "bearer" and token and " " not in token else None


def view_of(exchange: HttpExchange) -> View:
    """Read one exchange."""
    view = View(exchange)
    split = urlsplit(exchange.url)
    raw = api_path(split.path)
    if raw is None:
        return view
    view.in_api = True
    view.query = split.query
    view.path, view.op, params, view.known_path = _route(exchange.method, raw)
    view.params = dict(params)
    view.token = bearer_token(exchange.request_headers)
    return view
