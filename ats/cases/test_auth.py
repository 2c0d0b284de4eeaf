"""core-auth: OAuth 2.0 style authentication, A1/A2 and bearer tokens (PROFILE.md section 3)."""

from __future__ import annotations

import pytest

from ats.cases._resources import RESOURCES
from ats.checks import expect_oauth_error, expect_schema, expect_status, inconclusive
from ats.session import Api, short_kind
from ats.verdicts import Failure
from interflex.profile import OAUTH_ERRORS, OPERATIONS, Operation

RESOURCE_OPS = [op for op in OPERATIONS if op.action not in ("token", "refresh")]


def _password_form(api: Api, role: str = "dso", **changes: str | None) -> dict[str, str]:
    account = api.account(role)
    form = {
        "grant_type": "password",
        "username": account.username,
        "password": account.password,
        "client_id": api.ixit.client_id,
        "client_secret": api.ixit.client_secret,
    }
    form.update(changes)
    return {k: v for k, v in form.items() if v is not None}


def _refresh_form(api: Api, token: str | None, **changes: str | None) -> dict[str, str]:
    form = {
        "grant_type": "refresh_token",
        "refresh_token": token,
        "client_id": api.ixit.client_id,
        "client_secret": api.ixit.client_secret,
    }
    form.update(changes)
    return {k: v for k, v in form.items() if v is not None}


def _fresh_tokens(api: Api, role: str = "agg2") -> dict:
    """A precondition: tokens from a fresh login (their format is tested by IFX-AUTH-001/002, not here)."""
    ex = api.login(role, check=False)
    body = ex.json() if ex.status == 200 else None
    if not isinstance(body, dict) or not all(isinstance(body.get(k), str) for k in ("access_token", "refresh_token")):
        inconclusive(f"precondition: login as {role} gave no tokens ({ex.describe()})", "precondition")
    return body


@pytest.mark.case("IFX-AUTH-001")
@pytest.mark.parametrize("role", ["dso", "agg1", "agg2"])
def test_password_grant(api: Api, role: str) -> None:
    """AU-1, A1: valid credentials -> 200 TokenResponse whose access token opens a resource endpoint."""
    ex = api.call("A1", data=_password_form(api, role))
    requirement = (
        f"A1 with valid credentials answers 200 with a TokenResponse (the IXIT's {role} account: "
        "if the target rejects it, check the IXIT's username, password and client first)"
    )
    expect_status(ex, 200, "AU-1", requirement)
    body = expect_schema(ex, "TokenResponse", ref="AU-1")
    read = api.call("R3", token=body["access_token"])
    expect_status(read, 200, "AU-1, R3", "the access token of A1 is accepted by resource endpoints")


@pytest.mark.case("IFX-AUTH-002")
def test_token_fields_and_types(api: Api) -> None:
    """AU-1: token_type "bearer" (any case), expires_in an integer > 0, tokens non-empty strings.

    "Integer" as the TokenResponse JSON Schema (`type: integer`) defines it: an integral number,
    so 3600.0 conforms; 3600.5, "3600" and booleans do not.
    """
    ex = api.login("dso", check=False)
    requirement = (
        "A1 with valid credentials answers 200 with a TokenResponse (the IXIT's dso account: "
        "if the target rejects it, check the IXIT's username, password and client first)"
    )
    expect_status(ex, 200, "AU-1", requirement)
    body = ex.json()
    if not isinstance(body, dict):
        raise Failure(f"AU-1: A1 answers a TokenResponse object; {ex.describe()} sent {ex.text[:200]!r}")
    problems = []
    if not isinstance(body.get("token_type"), str) or body["token_type"].lower() != "bearer":
        problems.append(f'token_type is {body.get("token_type")!r}, not "bearer"')
    expires = body.get("expires_in")
    integral = isinstance(expires, int | float) and not isinstance(expires, bool) and float(expires).is_integer()
    if not integral or expires <= 0:
        problems.append(f"expires_in is {expires!r}, not an integer > 0")
    for field in ("access_token", "refresh_token"):
        if not isinstance(body.get(field), str) or not body[field]:
            problems.append(f"{field} is not a non-empty string")
    if problems:
        raise Failure(
            f"AU-1: a TokenResponse has token_type bearer, integer expires_in > 0 and string tokens; "
            f"A1 answered: {'; '.join(problems)}"
        )


@pytest.mark.case("IFX-AUTH-003")
def test_wrong_password(api: Api) -> None:
    """AU-3: a wrong password -> 400/401 invalid_grant."""
    ex = api.call("A1", data=_password_form(api, "dso", password=api.account("dso").password + "-wrong"))
    expect_oauth_error(ex, "invalid_grant")


@pytest.mark.case("IFX-AUTH-004")
def test_unknown_user(api: Api) -> None:
    """AU-3: an unknown username -> 400/401 with an OAuth error object.

    AU-3 names invalid_grant for a wrong password only; for an unknown username any of its five
    codes conforms (invalid_request, invalid_client, invalid_grant, unauthorized_client,
    unsupported_grant_type).
    """
    ex = api.call("A1", data=_password_form(api, "dso", username=api.new_id("nobody")))
    expect_oauth_error(ex, OAUTH_ERRORS)


@pytest.mark.case("IFX-AUTH-005")
@pytest.mark.parametrize("grant", ["password", "refresh_token"])
def test_wrong_client_secret(api: Api, grant: str) -> None:
    """AU-3: wrong client credentials at A1 and A2 -> 400/401 invalid_client."""
    wrong = api.ixit.client_secret + "-wrong"
    if grant == "password":
        ex = api.call("A1", data=_password_form(api, "agg1", client_secret=wrong))
    else:
        refresh = _fresh_tokens(api)["refresh_token"]
        ex = api.call("A2", data=_refresh_form(api, refresh, client_secret=wrong))
    expect_oauth_error(ex, "invalid_client")


@pytest.mark.case("IFX-AUTH-006")
def test_missing_client_credentials(api: Api) -> None:
    """AU-3: A1 without client_id and client_secret -> invalid_client or invalid_request."""
    ex = api.call("A1", data=_password_form(api, "dso", client_id=None, client_secret=None))
    expect_oauth_error(ex, ("invalid_client", "invalid_request"))


@pytest.mark.case("IFX-AUTH-007")
@pytest.mark.parametrize("missing", ["grant_type", "username", "password"])
def test_missing_parameter(api: Api, missing: str) -> None:
    """AU-3: A1 with one (non-client) parameter missing -> invalid_request."""
    ex = api.call("A1", data=_password_form(api, "dso", **{missing: None}))
    expect_oauth_error(ex, "invalid_request")


@pytest.mark.case("IFX-AUTH-008")
@pytest.mark.parametrize(
    ("op", "grant"),
    [("A1", "client_credentials"), ("A1", "refresh_token"), ("A2", "password"), ("A2", "authorization_code")],
)
def test_unsupported_grant_type(api: Api, op: str, grant: str) -> None:
    """AU-3: a grant type other than password at A1 / refresh_token at A2 -> unsupported_grant_type."""
    if op == "A1":
        form = _password_form(api, "dso", grant_type=grant)
        if grant == "refresh_token":
            form["refresh_token"] = _fresh_tokens(api)["refresh_token"]
    else:
        form = _refresh_form(api, _fresh_tokens(api)["refresh_token"], grant_type=grant)
        if grant == "password":
            account = api.account("agg2")
            form.update(username=account.username, password=account.password)
    expect_oauth_error(api.call(op, data=form), "unsupported_grant_type")


@pytest.mark.case("IFX-AUTH-009")
def test_refresh(api: Api) -> None:
    """AU-2, A2: a valid refresh token -> 200 TokenResponse whose access token opens resource endpoints."""
    refresh = _fresh_tokens(api, "agg2")["refresh_token"]
    ex = api.call("A2", data=_refresh_form(api, refresh))
    expect_status(ex, 200, "AU-2", "A2 with a valid refresh token answers 200 with a TokenResponse")
    body = expect_schema(ex, "TokenResponse", ref="AU-2")
    read = api.call("O3", token=body["access_token"])
    expect_status(read, 200, "AU-2, O3", "the access token of A2 is accepted like one from A1")


@pytest.mark.case("IFX-AUTH-015")
def test_access_token_after_refresh(api: Api) -> None:
    """AU-2, AU-6: after A2 the earlier access token either still works or answers 401 (the server's choice;
    a revoked token is an unknown one, AU-4); the new access token works either way, also after the old one
    was presented."""
    tokens = _fresh_tokens(api, "agg2")
    before = api.call("O3", token=tokens["access_token"])
    if before.status != 200:
        inconclusive(
            f"precondition: the access token of a fresh A1 was not accepted ({before.describe()})", "precondition"
        )
    ex = api.call("A2", data=_refresh_form(api, tokens["refresh_token"]))
    if ex.status != 200:
        inconclusive(f"precondition: A2 gave no tokens ({ex.describe()}; IFX-AUTH-009 judges A2)", "precondition")
    fresh = ex.json()["access_token"]  # a TokenResponse: api.call checked the 200 body (ST-10)
    old = api.call("O3", token=tokens["access_token"])
    expect_status(
        old,
        (200, 401),
        "AU-6, AU-4",
        "the access token issued before a refresh stays valid (200) or is revoked (401): the server's choice",
    )
    new = api.call("O3", token=fresh)
    expect_status(new, 200, "AU-2, O3", "the access token of A2 is accepted like one from A1")


@pytest.mark.case("IFX-AUTH-010")
def test_unknown_refresh_token(api: Api) -> None:
    """AU-3: an unknown refresh token -> 400/401 invalid_grant."""
    ex = api.call("A2", data=_refresh_form(api, api.new_id("no-such-refresh-token")))
    expect_oauth_error(ex, "invalid_grant")


@pytest.mark.case("IFX-AUTH-011")
@pytest.mark.parametrize("missing", ["refresh_token", "grant_type"])
def test_refresh_missing_parameter(api: Api, missing: str) -> None:
    """AU-3: A2 without refresh_token or grant_type -> invalid_request."""
    form = _refresh_form(api, _fresh_tokens(api)["refresh_token"], **{missing: None})
    expect_oauth_error(api.call("A2", data=form), "invalid_request")


@pytest.mark.case("IFX-AUTH-012")
@pytest.mark.parametrize("op", RESOURCE_OPS, ids=lambda op: op.id)
def test_missing_bearer(api: Api, op: Operation) -> None:
    """AU-4: every resource endpoint answers a request without Authorization with 401."""
    kwargs: dict = {}
    path = {"dso": api.entity("dso"), "agg": api.entity("agg1")}
    kind = short_kind(op.kind)
    if op.action == "post":  # a valid, plausible body, so the missing token is the request's only fault (ST-11)
        kwargs["json"] = api.prepare(kind)
    elif op.action == "delete":  # a stored object: an unknown id would be a second fault (404 conforms, ST-11)
        obj = getattr(api, f"create_{kind}")()
        path[RESOURCES[kind].id_param] = obj[RESOURCES[kind].id_field]
    ex = api.call(op.id, as_=None, path=path, **kwargs)
    expect_status(ex, 401, "AU-4", f"{op.id} without a bearer token answers 401")


@pytest.mark.case("IFX-AUTH-013")
@pytest.mark.parametrize(
    "value", ["Bearer", "Bearer ", "Basic ZHNvMTpzZWNyZXQ=", "Token abc", "Bearer a b c", "bearer-without-scheme"]
)
def test_malformed_authorization(api: Api, value: str) -> None:
    """AU-4: a malformed Authorization header -> 401 (400 conforms)."""
    ex = api.call("R3", auth_header=value)
    expect_status(ex, (400, 401), "AU-4", "a malformed Authorization header answers 401 (400 conforms)")


@pytest.mark.case("IFX-AUTH-014")
@pytest.mark.parametrize("op_id", ["R3", "O3", "R1", "O1"])
def test_unknown_bearer(api: Api, op_id: str) -> None:
    """AU-4: a well-formed but unknown bearer token -> 401."""
    ex = api.call(op_id, token=api.new_id("unknown-token"))
    expect_status(ex, 401, "AU-4", "an unknown bearer token answers 401")
