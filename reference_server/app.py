"""The Starlette application: one dispatcher driven by `interflex.profile.OPERATIONS`.

Every request under the base path is matched with `match_operation` (literal segments win,
P-07; id segments must match the id pattern) and `allowed_methods` (405 with `Allow`, ST-5),
then authenticated (AU-4), authorized by the operation's "who may call" rule (AU-5) and
handed to the handler of its action.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Awaitable, Callable
from functools import cache
from itertools import combinations

import yaml
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.types import Receive, Scope, Send

from interflex import profile
from interflex.profile import Operation
from interflex.validation import bundled_openapi
from reference_server import load_faults, resources
from reference_server.accounts import User
from reference_server.context import Context
from reference_server.oauth import token_endpoint
from reference_server.responses import error

BASE_PATH = f"{profile.API_PREFIX}/{profile.DEFAULT_VERSION}"
_REALM = 'Bearer realm="interflex"'
_ACTIVATION_OPS = frozenset({"V1", "V2", "V3", "V4"})
_log = logging.getLogger("reference_server")

Handler = Callable[[Context, Operation, dict[str, str], User | None, Request], Response | Awaitable[Response]]
_HANDLERS: dict[str, Handler] = {
    "new_id": resources.new_id,
    "post": resources.post,
    "list": resources.list_objects,
    "delete": resources.delete,
}


def relative_path(raw_path: bytes) -> str | None:
    """The path below BASE_PATH with each segment percent-decoded; None when it is not below it
    or a segment decodes to something containing "/" (an encoded slash never splits a segment).
    """
    try:
        path = raw_path.decode("ascii")
    except UnicodeDecodeError:
        return None
    if not path.startswith(BASE_PATH + "/"):
        return None
    return profile.decode_path(path[len(BASE_PATH) :])


def _unauthorized(ctx: Context, description: str, code: str | None = "invalid_token", status: int = 401) -> Response:
    """401 (or 400) with the AU-6 challenge `WWW-Authenticate: Bearer ...` (left out in `no-should-headers`)."""
    challenge = f'{_REALM}, error="{code}", error_description="{description}"' if code else _REALM
    headers = {} if ctx.alternative("no-should-headers") else {"WWW-Authenticate": challenge}
    return error(status, code or "invalid_token", description, headers=headers)


def authenticate(ctx: Context, request: Request) -> User | Response | None:
    """The user of the bearer token (AU-4); None means "anonymous" (fault `no-auth-required` only)."""
    header = request.headers.get("authorization")
    if header is None:
        if ctx.faulty("no-auth-required"):
            return None
        return _unauthorized(ctx, "a bearer token is required", None)
    scheme, _, token = header.partition(" ")
    token = token.strip(" ")
    if scheme.lower() != "bearer" or not token or " " in token:
        status = 400 if ctx.alternative("malformed-auth-400") else 401  # AU-4: "401 (400 conforms)"
        return _unauthorized(ctx, "the Authorization header is not 'Bearer <token>'", "invalid_request", status)
    username = ctx.tokens.user(token)
    user = ctx.accounts.users.get(username) if username else None
    if user is None:
        return _unauthorized(ctx, "unknown or expired access token")
    return user


def permitted(ctx: Context, op: Operation, user: User | None, params: dict[str, str]) -> bool:
    """The "who may call" column of section 2 (AU-5, P-08)."""
    if user is None or op.access in (profile.ANYONE, profile.AUTHENTICATED, profile.OFFERS_LIST):
        return True
    if ctx.faulty("no-authz-check") and op.action in ("post", "delete"):
        return True
    is_dso, is_agg = user.role == "dso", user.role == "aggregator"
    own_dso = is_dso and user.entity_id == params.get("dso")
    own_agg = is_agg and user.entity_id == params.get("agg")
    if op.access == profile.DSO_SELF:
        return own_dso
    if op.access == profile.AGG_SELF:
        return own_agg
    if op.access == profile.DSO_SELF_OR_AGG_SELF:
        return own_dso or own_agg or (is_agg and ctx.faulty("agg-reads-foreign-activations"))
    if op.access == profile.AGG_SELF_OR_ANY_DSO:
        return is_dso or own_agg
    return False


@cache
def openapi_text() -> str:
    """The YAML text served at `/openapi.yaml`: `interflex.validation.bundled_openapi()`."""
    return yaml.safe_dump(bundled_openapi(), sort_keys=False, allow_unicode=True)


def _openapi() -> Response:
    """The self-contained OpenAPI document (`interflex.validation.bundled_openapi`)."""
    try:
        text = openapi_text()
    except (OSError, ValueError, yaml.YAMLError) as exc:
        _log.warning("cannot serve the OpenAPI document: %s", exc)
        return error(404, "not_found", "this installation has no usable OpenAPI document (schemas/openapi.yaml)")
    return Response(text, media_type="application/yaml")


def _activation_path(path: str) -> bool:
    """True when `path` is one of the activation family's paths (V1-V4), whatever the method."""
    matches = (profile.match_operation(method, path) for method in ("GET", "POST", "DELETE"))
    return any(found is not None and found[0].id in _ACTIVATION_OPS for found in matches)


def _not_found(path: str) -> Response:
    return error(404, "not_found", f"no operation of the InterFlex profile at {path}")


def literal_read_as_id(method: str, path: str) -> bool:
    """True when `method` on `path` is an operation once a P-07 literal word of the path is read as an
    id (DELETE .../flexibilityRequests/requestId is R4, POST .../flexibilityActivations/activationId is V2)."""
    segments = path.split("/")
    literal = [i for i, segment in enumerate(segments) if segment in profile.RESERVED_WORDS]
    for size in range(1, len(literal) + 1):
        for chosen in combinations(literal, size):
            replaced = ["x0" if i in chosen else segment for i, segment in enumerate(segments)]
            if profile.match_operation(method, "/".join(replaced)) is not None:
                return True
    return False


def _unlisted_method(ctx: Context, method: str, path: str, allowed: frozenset[str], shown: str) -> Response:
    """ST-5: 405 with `Allow` for a known path, or an alternative the profile allows (404 per D-3, OPTIONS 204)."""
    if ctx.alternative("options-204"):
        allowed = allowed | {"OPTIONS"}
        if method == "OPTIONS":
            return Response(status_code=204, headers={"Allow": ", ".join(sorted(allowed))})
    if ctx.alternative("literal-path-404") and literal_read_as_id(method, path):
        return _not_found(shown)  # the literal word read as an id that is never valid (D-3)
    description = f"{method} is not allowed here; allowed: {', '.join(sorted(allowed))}"
    headers = {} if ctx.alternative("no-should-headers") else {"Allow": ", ".join(sorted(allowed))}
    return error(405, "method_not_allowed", description, headers=headers)


async def dispatch(ctx: Context, request: Request) -> Response:
    """Route one request by the profile's operation table and run its handler."""
    method = request.method  # case-sensitive (RFC 9110 9.1): "get" is not GET
    raw = request.scope.get("raw_path") or request.scope["path"].encode("utf-8", "surrogateescape")
    path = relative_path(raw)
    shown = raw.decode("ascii", "replace")[:200]
    if path is None:
        return _not_found(shown)
    if path == "/openapi.yaml" and method in ("GET", "HEAD"):
        return _openapi()
    if ctx.faulty("no-activations") and _activation_path(path):
        return _not_found(shown)
    found = profile.match_operation(method, path)
    if found is None:
        allowed = frozenset({"GET", "HEAD"}) if path == "/openapi.yaml" else profile.allowed_methods(path)
        if allowed and not ctx.faulty("method-not-allowed-404"):
            return _unlisted_method(ctx, method, path, allowed, shown)
        return _not_found(shown)
    op, params = found
    if op.action in ("token", "refresh"):
        return await token_endpoint(ctx, op, request)
    if op.action == "post" and ctx.alternative("validate-before-auth"):  # ST-11, P-09: no order of checks
        checked = await resources.checked_body(ctx, op, params, request)
        if isinstance(checked, Response):
            return checked
        request.state.checked_body = checked
    user = authenticate(ctx, request)
    if isinstance(user, Response):
        return user
    if not permitted(ctx, op, user, params):
        who = f"{user.role} {user.entity_id!r}" if user else "anonymous"
        return error(403, "forbidden", f"{who} may not call {op.id} {op.method} {op.path} here")
    result = _HANDLERS[op.action](ctx, op, params, user, request)
    return await result if isinstance(result, Awaitable) else result


async def _server_error(request: Request, exc: Exception) -> Response:
    _log.exception("internal error on %s %s", request.method, request.url.path)
    return error(500, "server_error", "internal server error")


def build_app(ctx: Context) -> Starlette:
    """The ASGI application serving `ctx` under BASE_PATH (every other path answers a JSON 404).

    `dispatch` is the router's default endpoint, so it sees every request: Starlette's path
    patterns would miss paths with a (percent-encoded) newline and answer a plain-text 404.
    """
    app = Starlette(exception_handlers={Exception: _server_error})
    app.router.default = _Endpoint(ctx)
    app.router.redirect_slashes = False
    return app


class _Endpoint:
    """The router's default ASGI app: every request, whatever its method or path, goes to `dispatch`."""

    def __init__(self, ctx: Context) -> None:
        self.ctx = ctx

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        request = Request(scope, receive)
        if self.ctx.faulty("overload-503"):
            busy = error(503, "server_busy", "too many requests in flight")
            response = await load_faults.limited(self.ctx.load, lambda: dispatch(self.ctx, request), busy)
        else:
            response = await dispatch(self.ctx, request)
        if self.ctx.alternative("plain-errors") and response.status_code >= 400:
            response = _plain_error(request, response)
        if self.ctx.alternative("json-charset") and response.headers.get("content-type") == "application/json":
            response.headers["content-type"] = "application/json; charset=utf-8"
        await response(scope, receive, send)


_TOKEN_PATHS = frozenset(op.path for op in profile.OPERATIONS if op.action in ("token", "refresh"))


def _plain_error(request: Request, response: Response) -> Response:
    """Alternative `plain-errors`: an Error object as one text/plain line (ST-8 is a SHOULD); A1/A2 keep
    their OAuth error objects (AU-3), and other headers (Allow, WWW-Authenticate) are kept."""
    raw = request.scope.get("raw_path") or b""
    if relative_path(raw) in _TOKEN_PATHS or not isinstance(response.body, bytes):
        return response
    try:
        found = json.loads(response.body)
        text = f"{found['error']}: {found.get('error_description', '')}"
    except (ValueError, TypeError, KeyError):
        return response
    kept = {k: v for k, v in response.headers.items() if k not in ("content-type", "content-length")}
    return Response(text, status_code=response.status_code, headers=kept, media_type="text/plain")
