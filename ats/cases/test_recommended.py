"""Recommended: every SHOULD of PROFILE.md (class `recommended`, reported, never gating).

AU-6 (Cache-Control: no-store on token responses, WWW-Authenticate: Bearer on 401s, refresh token
rotation), ST-5 (Allow on 405), ST-8 (error responses are JSON Error objects), section 9 (an
aggregator does not see other aggregators' offers in O3) and lists keeping the offset times were
posted with (asked for by the issue; section 4 compares times as instants, so it is only reported).
When the target does not produce the situation a SHOULD is about (e.g. no 401 at all), the case is
INCONCLUSIVE: the MUST is tested elsewhere.
"""

from __future__ import annotations

import json
from collections.abc import Callable

import pytest

from ats.checks import expect_error_object, expect_oauth_error, expect_round_trip, find, inconclusive
from ats.recorder import Exchange
from ats.session import Api
from ats.verdicts import Failure
from interflex.profile import allowed_methods


def tokens(value: str | None) -> set[str]:
    """Lower-case comma-separated tokens of a header value."""
    return {t.strip().lower() for t in (value or "").split(",") if t.strip()}


def fresh_refresh_token(api: Api, role: str = "dso") -> str:
    """A refresh token from a fresh (uncached) login; INCONCLUSIVE when login fails."""
    ex = api.login(role)
    body = ex.json() if ex.status == 200 else {}
    token = body.get("refresh_token") if isinstance(body, dict) else None
    if not isinstance(token, str) or not token:
        inconclusive(f"login as {role} did not answer a refresh token ({ex.describe()})", "target")
    return token


def refresh(api: Api, refresh_token: str) -> Exchange:
    """A2 with `refresh_token` and the IXIT client."""
    return api.call(
        "A2",
        data={
            "grant_type": "refresh_token",
            "refresh_token": refresh_token,
            "client_id": api.ixit.client_id,
            "client_secret": api.ixit.client_secret,
        },
    )


def expect_no_store(ex: Exchange, op_id: str) -> None:
    """FAIL unless a 200 token response carries Cache-Control: no-store."""
    if ex.status != 200:
        inconclusive(f"{op_id} did not answer 200 ({ex.describe()}); nothing to check", "target")
    if "no-store" not in tokens(ex.headers.get("Cache-Control")):
        raise Failure(
            f"AU-6: token responses should carry Cache-Control: no-store; {ex.describe()} sent "
            f"Cache-Control {ex.headers.get('Cache-Control')!r}"
        )


@pytest.mark.case("IFX-REC-001")
def test_token_response_no_store(api: Api) -> None:
    """AU-6: A1's token response carries Cache-Control: no-store."""
    expect_no_store(api.login("dso"), "A1")


@pytest.mark.case("IFX-REC-002")
def test_refresh_response_no_store(api: Api) -> None:
    """AU-6: A2's token response carries Cache-Control: no-store."""
    expect_no_store(refresh(api, fresh_refresh_token(api)), "A2")


@pytest.mark.case("IFX-REC-003")
@pytest.mark.parametrize("how", ["no token", "unknown token"])
@pytest.mark.parametrize("op_id", ["R3", "O3", "K3"])
def test_www_authenticate_on_401(api: Api, op_id: str, how: str) -> None:
    """AU-6: a 401 of a resource endpoint carries WWW-Authenticate: Bearer."""
    token = None if how == "no token" else "unknown-" + api.new_id("token")
    ex = api.call(op_id, as_=None, token=token)
    if ex.status != 401:
        inconclusive(f"{ex.describe()} did not answer 401 (AU-4 is checked by core-auth)", "target")
    challenge = ex.headers.get("WWW-Authenticate", "")
    if not challenge.lower().startswith("bearer"):
        raise Failure(
            f"AU-6: 401 responses should carry WWW-Authenticate: Bearer ...; {ex.describe()} sent "
            f"WWW-Authenticate {challenge!r}"
        )


@pytest.mark.case("IFX-REC-004")
def test_used_refresh_token_rejected(api: Api) -> None:
    """AU-6: a refresh token, once used, is rejected with invalid_grant (rotation)."""
    used = fresh_refresh_token(api)
    first = refresh(api, used)
    if first.status != 200:
        inconclusive(f"A2 with a fresh refresh token did not answer 200 ({first.describe()})", "target")
    expect_oauth_error(refresh(api, used), "invalid_grant", ref="AU-6")


@pytest.mark.case("IFX-REC-005")
@pytest.mark.parametrize(
    ("method", "template", "role"),
    [
        ("PUT", "/dsos/{dso}/flexibilityRequests", "dso"),
        ("DELETE", "/aggregators/flexibilityOffers", "dso"),
        ("POST", "/dsos/{dso}/flexibilityActivations/activationId", "dso"),
        ("PATCH", "/aggregators/{agg}/flexibilityActivations/acks/{id}", "agg1"),
        ("GET", "/authentication/token", None),
    ],
)
def test_allow_on_405(api: Api, method: str, template: str, role: str | None) -> None:
    """ST-5: a 405 carries Allow with the methods section 2 lists for the path."""
    path = template.format(dso=api.entity("dso"), agg=api.entity("agg1"), id=api.new_id("ack"))
    ex = api.raw(method, path, as_=role)
    if ex.status != 405:
        inconclusive(f"{ex.describe()} did not answer 405 (checked by robustness)", "target")
    allow = {t.upper() for t in tokens(ex.headers.get("Allow"))}
    listed = set(allowed_methods(path)) - {"HEAD"}
    if not allow or not listed <= allow or method in allow:
        raise Failure(
            f"ST-5: a 405 should carry Allow listing {', '.join(sorted(listed))}; {ex.describe()} sent "
            f"Allow {ex.headers.get('Allow')!r}"
        )


def _malformed(api: Api) -> Exchange:
    return api.call("R2", as_="dso", content=b"{not json", headers={"Content-Type": "application/json"})


def _unauthenticated(api: Api) -> Exchange:
    return api.call("R3", as_=None)


def _tracked(api: Api, ex: Exchange, body: dict) -> Exchange:
    if 200 <= ex.status < 300:
        api.track("request", body)
    return ex


def _forbidden(api: Api) -> Exchange:
    body = api.build("request")
    return _tracked(api, api.call("R2", as_="agg1", json=body), body)


def _unknown_path(api: Api) -> Exchange:
    return api.raw("GET", "/unknown", as_="dso")


def _unknown_delete(api: Api) -> Exchange:
    return api.call("R4", as_="dso", path={"requestId": api.new_id("req")})


def _method(api: Api) -> Exchange:
    return api.raw("PUT", f"/dsos/{api.entity('dso')}/flexibilityRequests", as_="dso")


def _duplicate(api: Api) -> Exchange:
    return api.call("R2", as_="dso", json=api.create_request())


def _media_type(api: Api) -> Exchange:
    body = api.build("request")
    return _tracked(
        api, api.call("R2", as_="dso", content=json.dumps(body).encode(), headers={"Content-Type": "text/plain"}), body
    )


ERRORS: dict[str, Callable[[Api], Exchange]] = {
    "400 malformed JSON": _malformed,
    "401 no token": _unauthenticated,
    "403 foreign path": _forbidden,
    "404 unknown path": _unknown_path,
    "404 unknown id": _unknown_delete,
    "405 method": _method,
    "409 duplicate": _duplicate,
    "415 media type": _media_type,
}


@pytest.mark.case("IFX-REC-006")
@pytest.mark.parametrize("situation", list(ERRORS))
def test_error_object(api: Api, situation: str) -> None:
    """ST-8, P-06: error responses are application/json Error objects."""
    ex = ERRORS[situation](api)
    if ex.status < 400:
        inconclusive(
            f"{ex.describe()} is not an error response (the status is checked by the mandatory classes)", "target"
        )
    expect_error_object(ex, ref="ST-8, P-06")


@pytest.mark.case("IFX-REC-007")
@pytest.mark.parametrize(("owner", "reader"), [("agg1", "agg2"), ("agg2", "agg1")])
def test_offers_private_between_aggregators(api: Api, owner: str, reader: str) -> None:
    """Section 9: an aggregator does not see other aggregators' offers in O3."""
    offer = api.create_offer(owner)
    if find(api.list("offer", as_=reader), "offer_id", offer["offer_id"]) is not None:
        raise Failure(
            f"PROFILE 9 (recommended): an aggregator should not see other aggregators' offers; O3 as read "
            f"by {reader} lists {owner}'s offer {offer['offer_id']!r}"
        )


@pytest.mark.case("IFX-REC-008")
@pytest.mark.parametrize("offset", ["+01:00", "Z", "-03:30", "+05:45"])
@pytest.mark.parametrize("kind", ["request", "offer"])
def test_lists_keep_posted_offsets(api: Api, kind: str, offset: str) -> None:
    """PROFILE 4, ST-9 (recommended): R3/O3 return times as the exact strings posted, offset included.

    The profile compares times as instants (the mandatory round trips do); keeping the offset is reported only.
    """
    times = {"timestamp": f"2026-03-29T01:30:00{offset}", "deadline": f"2099-10-25T02:30:00{offset}"}
    if kind == "offer":
        times["activation_time"] = f"2099-10-25T02:45:00{offset}"
        obj = api.create_offer("agg1", **times)
    else:
        obj = api.create_request(**times)
    list_op = "R3" if kind == "request" else "O3"
    expect_round_trip(
        obj,
        api.list(kind, as_="dso"),
        f"{kind}_id",
        ref="PROFILE 4, ST-9 (recommended)",
        where=f"{list_op} read by the DSO (times compared as exact strings)",
        exact_times=True,
    )
