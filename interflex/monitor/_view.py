"""What the monitor reads off one exchange: the operation, its parameters, the token, the bodies."""

from __future__ import annotations

import json
import re
from functools import lru_cache
from json.scanner import make_scanner
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


def _route(method: str, raw_path: str) -> _Route:
    """Route a path relative to the base URL. Paths differ in ids only, so the match is cached per
    shape (literal segments kept, the others `*`); a segment that is not a valid id takes the
    exact, uncached way (`match_operation` itself decides)."""
    path = raw_path if "%" not in raw_path else decode_path(raw_path)
    if path is None:
        return None, None, (), False
    segments = path.split("/")
    found = _shape(method, tuple([part if not part or part in _LITERALS else "*" for part in segments]))
    if found is not None:
        op, where = found
        params = tuple([(name, segments[i]) for i, name in where])
        for _, value in params:
            if not is_valid_id(value):
                return _route_exact(method, path)
        return path, op, params, True
    return _route_exact(method, path)


def _no_constants(name: str) -> None:
    raise ValueError(f"{name} is not JSON")


_SCAN = make_scanner(json.JSONDecoder(parse_constant=_no_constants))  # what `JSONDecoder.decode` calls
_WHITESPACE = " \t\n\r"
_BLANKS = re.compile(r"[ \t\n\r]*")


def parse_body(body: bytes) -> Any:
    """The JSON value of a body; `NOT_JSON` when it is not JSON (NaN included), None when it is empty."""
    if not body or body.isspace():
        return None
    try:
        text = body.decode("utf-8")
        start = 0 if text[0] not in _WHITESPACE else _BLANKS.match(text).end()  # type: ignore[union-attr]
        value, end = _SCAN(text, start)
    except (ValueError, RecursionError, StopIteration):  # UnicodeDecodeError is a ValueError
        return NOT_JSON
    if end == len(text) or _BLANKS.match(text, end).end() == len(text):  # type: ignore[union-attr]
        return value
    return NOT_JSON


_UNSET: Any = object()
_NO_PARAMS: dict[str, str] = {}  # shared, never modified
_Where = tuple[bool, str | None, Operation | None, dict[str, str], bool, str]
_WHERE: dict[tuple[str, str], _Where] = {}  # (method, url) -> where it goes; list and getter URLs repeat
_WHERE_LIMIT = 1 << 14


class View:
    """One exchange as the rules see it. `op` is None outside the 22 operations.

    Bodies are parsed once, when a rule first asks (`request_json`, `response_json`); `params`
    may be shared between views of the same URL and is never modified.
    """

    __slots__ = (
        "_request",
        "_response",
        "exchange",
        "in_api",
        "known_path",
        "ok",
        "op",
        "params",
        "path",
        "query",
        "status",
        "token",
        "valid_request",
    )

    def __init__(
        self,
        exchange: HttpExchange,
        in_api: bool = False,
        path: str | None = None,
        op: Operation | None = None,
        params: dict[str, str] = _NO_PARAMS,
        known_path: bool = False,
        query: str = "",
        token: str | None = None,
    ) -> None:
        self.exchange = exchange
        self.in_api = in_api  # the URL is under /interflex/api/<version>
        self.path = path
        self.op = op
        self.params = params
        self.known_path = known_path  # the path is one of section 2 (with some method)
        self.query = query
        self.token = token  # the bearer token ("***" when redacted); None without one
        status = exchange.status
        self.status = status  # None: no response
        self.ok = status is not None and 200 <= status < 300  # the request succeeded (2xx)
        self._request: Any = _UNSET
        self._response: Any = _UNSET
        self.valid_request = False  # the request body is a valid object of its operation's kind

    @property
    def request_json(self) -> Any:
        """The request body as JSON (None: empty, `NOT_JSON`: not JSON)."""
        value = self._request
        if value is _UNSET:
            value = self._request = parse_body(self.exchange.request_body)
        return value

    @property
    def response_json(self) -> Any:
        """The response body as JSON (None: empty, `NOT_JSON`: not JSON or cut)."""
        value = self._response
        if value is _UNSET:
            exchange = self.exchange
            value = self._response = NOT_JSON if exchange.truncated else parse_body(exchange.response_body)
        return value


def bearer_token(headers: Any) -> str | None:
    """The token of an `Authorization: Bearer <token>` header; None when missing or malformed."""
    value = headers.get("authorization")
    if not isinstance(value, str):
        return None
    if value[:7] == "Bearer " and value[7:8] > " " and value[-1] > " " and " " not in value[7:]:
        return value[7:]  # the common case, exactly `Bearer <token>`
    scheme, _, token = value.strip().partition(" ")
    token = token.strip()
    return token if scheme.lower() == "bearer" and token and " " not in token else None


def _where(method: str, url: str) -> _Where:
    """(in the API, path, operation, its parameters, path of section 2, query) of a request line."""
    path, _, query = url.partition("#")[0].partition("?")
    found = API_BASE.search(path)
    if found is None:
        return False, None, None, _NO_PARAMS, False, ""
    path, op, params, known_path = _route(method, path[found.end() :])
    return True, path, op, dict(params) if params else _NO_PARAMS, known_path, query


# (method, URL up to its last "/") -> the parent's path, the operation, its other parameters and the name of
# the last one, for URLs that end in an object's id (a DELETE's names a new one each time)
_BY_PARENT: dict[tuple[str, str], tuple[str, Operation, dict[str, str], str]] = {}


def _where_of_object(method: str, url: str) -> _Where:
    """`_where` of a URL not seen before: one that names another id under a parent routed before
    (no query, fragment or percent-encoding) is routed from that parent's entry."""
    parent, _, last = url.rpartition("/")
    known = _BY_PARENT.get((method, parent))
    if known is not None and last not in _LITERALS and is_valid_id(last):
        parent_path, op, params, name = known
        return True, f"{parent_path}/{last}", op, {**params, name: last}, True, ""
    where = _where(method, url)
    op, params = where[2], where[3]
    name = op.path[op.path.rfind("{") + 1 : -1] if op is not None and op.path.endswith("}") else ""
    if name and params.get(name) == last and last not in _LITERALS and not any(c in url for c in "?#%"):
        if len(_BY_PARENT) >= _WHERE_LIMIT:
            _BY_PARENT.clear()
        assert op is not None and where[1] is not None
        others = {key: value for key, value in params.items() if key != name}
        _BY_PARENT[(method, parent)] = (where[1][: -len(last) - 1], op, others, name)
    return where


def view_of(exchange: HttpExchange) -> View:
    """Read one exchange."""
    key = (exchange.method, exchange.url)
    where = _WHERE.get(key)
    if where is None:
        where = _where_of_object(*key)
        if where[2] is None or where[2].action != "delete":  # a DELETE's URL names a new id each time
            if len(_WHERE) >= _WHERE_LIMIT:
                _WHERE.clear()
            _WHERE[key] = where
    in_api, path, op, params, known_path, query = where
    if not in_api:
        return View(exchange)
    return View(exchange, True, path, op, params, known_path, query, bearer_token(exchange.request_headers))
