"""What the monitor reads off one exchange: the operation, its parameters, the token, the bodies."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

from interflex.monitor._model import HttpExchange
from interflex.profile import OPERATIONS, Operation, allowed_methods, decode_path, is_valid_id, match_operation
from interflex.validation._har import API_BASE

NOT_JSON = object()  # a body that is not (complete, valid) JSON


_LITERALS = frozenset(part for op in OPERATIONS for part in op.path.split("/") if part and not part.startswith("{"))
_Route = tuple[str | None, Operation | None, tuple[tuple[str, str], ...], bool]


@lru_cache(maxsize=4096)
def _route_exact(method: str, path: str) -> _Route:
    """(path, operation, its parameters, whether the path is one of section 2 at all)."""
    matched = match_operation(method, path)
    if matched is None:
        return path, None, (), bool(allowed_methods(path))
    return path, matched[0], tuple(matched[1].items()), True


@lru_cache(maxsize=1024)
def _shape(method: str, shape: tuple[str, ...]) -> tuple[Operation, tuple[tuple[int, str], ...]] | None:
    """The operation of every path of this shape whose variable segments are valid ids, and where they are."""
    names = iter(("x",) * len(shape))
    example = "/".join(part if part != "*" else next(names) for part in shape)
    matched = match_operation(method, example)
    if matched is None:
        return None
    op = matched[0]
    template = op.path.split("/")
    return op, tuple((i, part[1:-1]) for i, part in enumerate(template) if part.startswith("{"))


@lru_cache(maxsize=8192)  # list and id-getter paths repeat; DELETE paths carry new ids
def _route(method: str, raw_path: str) -> _Route:
    """Route a path relative to the base URL. Paths differ in ids only, so the match is cached per
    shape (literal segments kept, the others `*`); a segment that is not a valid id takes the
    exact, uncached way (`match_operation` itself decides)."""
    path = raw_path if "%" not in raw_path else decode_path(raw_path)
    if path is None:
        return None, None, (), False
    segments = path.split("/")
    shape = tuple(part if not part or part in _LITERALS else "*" for part in segments)
    found = _shape(method, shape)
    if found is not None:
        op, where = found
        params = tuple((name, segments[i]) for i, name in where)
        if all(is_valid_id(value) for _, value in params):
            return path, op, params, True
    return _route_exact(method, path)


def _no_constants(name: str) -> None:
    raise ValueError(f"{name} is not JSON")


_DECODER = json.JSONDecoder(parse_constant=_no_constants)


def parse_body(body: bytes) -> Any:
    """The JSON value of a body; `NOT_JSON` when it is not JSON (NaN included), None when it is empty."""
    if not body.strip():
        return None
    try:
        return _DECODER.decode(body.decode("utf-8"))
    except (ValueError, RecursionError):  # UnicodeDecodeError is a ValueError
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
    before_fragment = exchange.url.partition("#")[0]
    path, _, query = before_fragment.partition("?")
    found = API_BASE.search(path)
    if found is None:
        return view
    raw = path[found.end() :]
    view.in_api = True
    view.query = query
    view.path, view.op, params, view.known_path = _route(exchange.method, raw)
    view.params = dict(params)
    view.token = bearer_token(exchange.request_headers)
    return view
