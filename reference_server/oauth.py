"""A1 (password grant) and A2 (refresh-token grant), PROFILE.md section 3 (AU-1...AU-3, AU-6)."""

from __future__ import annotations

import json
from urllib.parse import parse_qsl

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response

from interflex.profile import Operation
from reference_server.accounts import hash_password, verify_password
from reference_server.context import Context
from reference_server.responses import BodyTooLarge, error, media_type, read_body

FORM = "application/x-www-form-urlencoded"
_PARAMETERS = frozenset({"grant_type", "username", "password", "refresh_token", "client_id", "client_secret"})
_NO_STORE = {"Cache-Control": "no-store", "Pragma": "no-cache"}
_DUMMY_HASH = hash_password("no such user", n=4096)  # keeps unknown-user logins as slow as real ones


class OAuthError(Exception):
    """An RFC 6749 section 5.2 error: status, `error` code and description."""

    def __init__(self, status: int, code: str, description: str) -> None:
        super().__init__(description)
        self.status, self.code, self.description = status, code, description


def _no_store(ctx: Context) -> dict[str, str]:
    """AU-6 (SHOULD): token responses are not cached; left out in the alternative `no-should-headers`."""
    return {} if ctx.alternative("no-should-headers") else _NO_STORE


def _oauth_error(ctx: Context, exc: OAuthError) -> Response:
    status = 401 if ctx.alternative("oauth-errors-401") else exc.status  # AU-3: "400 or 401"
    return error(status, exc.code, exc.description, headers=_no_store(ctx))


async def _form(request: Request) -> dict[str, str]:
    kind = media_type(request)
    if kind is not None and kind != FORM:
        raise OAuthError(400, "invalid_request", f"the body must be {FORM}, not {kind}")
    try:
        text = (await read_body(request)).decode("utf-8")
        pairs = parse_qsl(text, keep_blank_values=True, max_num_fields=50, errors="strict")
    except (UnicodeDecodeError, ValueError):
        raise OAuthError(400, "invalid_request", "the body is not a valid UTF-8 form") from None
    form: dict[str, str] = {}
    for key, value in pairs:
        if key not in _PARAMETERS:
            continue  # RFC 6749 section 3.2: unrecognized parameters are ignored
        if key in form:
            raise OAuthError(400, "invalid_request", f"parameter {key!r} is repeated")
        form[key] = value
    return form


async def _check_client(ctx: Context, form: dict[str, str]) -> None:
    client_id, secret = form.get("client_id"), form.get("client_secret")
    if not client_id or not secret:
        if ctx.alternative("missing-client-invalid-request"):  # AU-3: "invalid_client or invalid_request"
            raise OAuthError(400, "invalid_request", "client_id and client_secret are required")
        raise OAuthError(401, "invalid_client", "client_id and client_secret are required")
    stored = ctx.accounts.clients.get(client_id, _DUMMY_HASH)
    if not await run_in_threadpool(verify_password, secret, stored) or client_id not in ctx.accounts.clients:
        raise OAuthError(401, "invalid_client", "unknown client or wrong client secret")


def _check_grant(form: dict[str, str], expected: str) -> None:
    grant = form.get("grant_type")
    if not grant:
        raise OAuthError(400, "invalid_request", "grant_type is required")
    if grant != expected:
        raise OAuthError(400, "unsupported_grant_type", f"this endpoint supports grant_type={expected} only")


def _required(form: dict[str, str], name: str) -> str:
    value = form.get(name)
    if not value:
        raise OAuthError(400, "invalid_request", f"{name} is required")
    return value


async def _password_grant(ctx: Context, form: dict[str, str]) -> str:
    username, password = _required(form, "username"), _required(form, "password")
    user = ctx.accounts.users.get(username)
    matches = await run_in_threadpool(verify_password, password, user.password_hash if user else _DUMMY_HASH)
    if user is None and ctx.alternative("unknown-user-invalid-client"):
        raise OAuthError(401, "invalid_client", "unknown username")  # AU-3 names no code for it (D-5)
    if user is None or not (matches or ctx.faulty("accept-any-password")):
        if ctx.faulty("oauth-wrong-error-code"):
            raise OAuthError(401, "access_denied", "wrong username or password")
        raise OAuthError(400, "invalid_grant", "wrong username or password")
    return username


def _refresh_grant(ctx: Context, form: dict[str, str]) -> str:
    token = _required(form, "refresh_token")
    if ctx.faulty("refresh-broken"):
        raise OAuthError(400, "invalid_grant", "refresh token rejected")
    username = ctx.tokens.redeem(token, rotate=not ctx.alternative("refresh-reusable"))  # AU-6 rotation: a SHOULD
    if username is None or username not in ctx.accounts.users:
        raise OAuthError(400, "invalid_grant", "unknown, used or expired refresh token")
    return username


async def token_endpoint(ctx: Context, op: Operation, request: Request) -> Response:
    """A1 or A2: authenticate the client, check the grant, answer a TokenResponse (AU-1, AU-2)."""
    try:
        form = await _form(request)
        await _check_client(ctx, form)
        if op.action == "token":
            _check_grant(form, "password")
            username = await _password_grant(ctx, form)
        else:
            _check_grant(form, "refresh_token")
            username = _refresh_grant(ctx, form)
    except OAuthError as exc:
        return _oauth_error(ctx, exc)
    except BodyTooLarge:
        return error(413, "payload_too_large", "the request body is too large", headers=_no_store(ctx))
    access, refresh = ctx.tokens.issue(username)
    variants = ctx.alternative("token-variants")  # AU-1: token_type in any case; an integral float (D-6)
    expires: int | float | str = float(ctx.tokens.lifetime) if variants else ctx.tokens.lifetime
    if ctx.faulty("expires-in-string"):
        expires = str(ctx.tokens.lifetime)
    body = {
        "access_token": access,
        "token_type": "mac" if ctx.faulty("token-type-mac") else "Bearer" if variants else "bearer",
        "expires_in": expires,
        "refresh_token": refresh,
    }
    if ctx.alternative("extra-fields"):
        body["scope"] = "interflex"  # RFC 6749 5.1; unknown to the profile, tolerated (D-8)
    return Response(json.dumps(body), 200, headers=_no_store(ctx), media_type="application/json")
