"""Fault-injection modes (docs/contracts.md C1): each one changes exactly the behaviour it names.

Every probe runs against a clean server and against a server with the fault; the clean answer
is the profile's, the faulty answer is the documented deviation.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta, timezone

import pytest

from interflex.profile import CONFORMANCE_CLASSES
from interflex.samples import sample
from reference_server import FAULTS, Fault, ReferenceServer
from reference_server.demo import CLIENT_ID, CLIENT_SECRET, DemoClient, login

CONTRACT = {
    "token-type-mac": "core-auth",
    "expires-in-string": "core-auth",
    "accept-any-password": "core-auth",
    "refresh-broken": "core-auth",
    "oauth-wrong-error-code": "core-auth",
    "no-auth-required": "core-auth",
    "stale-ids": "core-ids",
    "bare-id-string": "core-ids",
    "duplicate-request-accepted": "core-requests",
    "lists-lose-precision": "core-requests",
    "requests-list-any-dso": "core-requests",
    "offer-offset-lost": "core-offers",
    "offer-delete-unknown-204": "core-offers",
    "offer-ids-per-aggregator": "core-offers",
    "no-activations": "core-activations",
    "activation-delete-keeps": "core-activations",
    "activations-list-any-agg": "core-activations",
    "ack-empty-list-404": "core-acks",
    "ack-delete-any-path": "core-acks",
    "acks-list-any-agg": "core-acks",
    "nack-post-202": "core-nacks",
    "nacks-list-any-agg-to-dsos": "core-nacks",
    "no-authz-check": "authorization",
    "agg-reads-foreign-activations": "authorization",
    "malformed-json-500": "robustness",
    "accept-wrong-types": "robustness",
    "method-not-allowed-404": "robustness",
    "offer-request-id-dropped": "negotiation",
    "no-plausibility": "plausibility",
    "pl5-unchecked": "plausibility",
    "date-filter-ignored": "date-filter",
    "date-filter-lenient": "date-filter",
    "ids-race": "core-ids",
    "lost-writes": "core-requests",
    "overload-503": "robustness",
}
OFFERS, REQUESTS = "/aggregators/agg1/flexibilityOffers", "/dsos/dso1/flexibilityRequests"
ACTIVATIONS = "/dsos/dso1/flexibilityActivations/agg1"


def test_fault_table_is_the_contract():
    assert {name: fault.conformance_class for name, fault in FAULTS.items()} == CONTRACT
    assert all(
        isinstance(f, Fault) and f.description and f.conformance_class in CONFORMANCE_CLASSES for f in FAULTS.values()
    )


def test_unknown_fault_is_a_value_error_listing_the_names():
    with pytest.raises(ValueError, match="no-authz-check"):
        ReferenceServer(fault="nope")


def _password_form(password: str) -> dict[str, str]:
    return {
        "grant_type": "password",
        "username": "agg1",
        "password": password,
        "client_id": CLIENT_ID,
        "client_secret": CLIENT_SECRET,
    }


def _a1(c: DemoClient, password: str = "agg1-demo"):
    return c.session.post(c.base_url + "/authentication/token", data=_password_form(password))


def _refresh(c: DemoClient) -> int:
    refresh = login(c.session, c.base_url, "agg1")["refresh_token"]
    form = {
        "grant_type": "refresh_token",
        "refresh_token": refresh,
        "client_id": CLIENT_ID,
        "client_secret": CLIENT_SECRET,
    }
    return c.session.post(c.base_url + "/authentication/refresh", data=form).status_code


def _post(c: DemoClient, path: str, obj: dict, as_: str) -> int:
    return c.call("POST", path, as_=as_, json=obj).status_code


def _offer(c: DemoClient, **overrides: object) -> dict:
    obj = sample("FlexibilityOffer", **overrides)
    assert _post(c, OFFERS, obj, "agg1") == 201
    return obj


def _activation(c: DemoClient) -> dict:
    obj = sample("FlexibilityActivation", offer_id=_offer(c)["offer_id"])
    assert _post(c, ACTIVATIONS, obj, "dso1") == 201
    return obj


def _listed(c: DemoClient, path: str, as_: str = "dso1", **params: str) -> list:
    return c.call("GET", path, as_=as_, params=params).json()


def _twice(c: DemoClient, obj: dict) -> int:
    _post(c, REQUESTS, obj, "dso1")
    return _post(c, REQUESTS, obj, "dso1")


def _offset_kept(c: DemoClient) -> bool:
    stamp = datetime.now(UTC).astimezone(timezone(timedelta(hours=2))).replace(microsecond=0).isoformat()
    obj = _offer(c, timestamp=stamp)
    return obj in _listed(c, "/aggregators/flexibilityOffers")


def _activation_kept(c: DemoClient) -> tuple[int, bool]:
    obj = _activation(c)
    status = c.call("DELETE", f"{ACTIVATIONS}/{obj['activation_id']}").status_code
    return status, obj in _listed(c, ACTIVATIONS)


def _nack(c: DemoClient) -> int:
    act = _activation(c)
    return _post(
        c,
        "/aggregators/agg1/flexibilityActivations/nacks",
        sample("FlexibilityActivationNack", offer_id=act["offer_id"]),
        "agg1",
    )


def _offer_id_reused_by_agg2(c: DemoClient) -> tuple[int, str]:
    stored = _offer(c)
    copy = sample("FlexibilityOffer", offer_id=stored["offer_id"], entity_id="agg2")
    status = _post(c, "/aggregators/agg2/flexibilityOffers", copy, "agg2")
    owner = next(o for o in _listed(c, "/aggregators/flexibilityOffers") if o["offer_id"] == stored["offer_id"])
    return status, owner["entity_id"]


def _ack_deleted_by_agg2(c: DemoClient) -> tuple[int, bool]:
    act = _activation(c)
    ack = sample("FlexibilityActivationAck", offer_id=act["offer_id"], activation_id=act["activation_id"])
    assert _post(c, "/aggregators/agg1/flexibilityActivations/acks", ack, "agg1") == 201
    status = c.call("DELETE", f"/aggregators/agg2/flexibilityActivations/acks/{ack['ack_id']}", as_="agg2").status_code
    return status, ack in _listed(c, "/aggregators/agg1/flexibilityActivations/acks", as_="agg1")


def _listed_elsewhere(c: DemoClient, obj: dict, id_field: str, path: str, readers: tuple[str, ...]) -> tuple:
    """ST-12: for each reader, whether `obj` shows in the list of another entity's `path`."""
    return tuple(any(o[id_field] == obj[id_field] for o in _listed(c, path, as_=reader)) for reader in readers)


def _request_leak(c: DemoClient) -> tuple:
    obj = sample("FlexibilityRequest")
    assert _post(c, REQUESTS, obj, "dso1") == 201
    return _listed_elsewhere(c, obj, "request_id", "/dsos/dso9/flexibilityRequests", ("dso1", "agg1"))


def _activation_leak(c: DemoClient) -> tuple:
    path = "/dsos/dso1/flexibilityActivations/agg2"
    return _listed_elsewhere(c, _activation(c), "activation_id", path, ("dso1", "agg2"))


READERS = ("agg2", "dso1")  # who reads agg2's ACKs/NACKs in the ST-12 probes


def _answer_leak(kind: str) -> Callable[[DemoClient], tuple]:
    def probe(c: DemoClient) -> tuple:
        act = _activation(c)
        answer = sample(kind, offer_id=act["offer_id"], activation_id=act["activation_id"])
        assert _post(c, f"/aggregators/agg1/flexibilityActivations/{kind}s", answer, "agg1") == 201
        return _listed_elsewhere(c, answer, f"{kind}_id", f"/aggregators/agg2/flexibilityActivations/{kind}s", READERS)

    return probe


def _request_id_kept(c: DemoClient) -> tuple[bool, bool]:
    obj = sample("FlexibilityOffer", request_id="req-1")
    echoed = c.call("POST", OFFERS, as_="agg1", json=obj).json()
    listed = next(o for o in _listed(c, "/aggregators/flexibilityOffers") if o["offer_id"] == obj["offer_id"])
    return "request_id" in echoed, "request_id" in listed


def _plausibility(c: DemoClient) -> tuple[int, int]:
    pl5 = sample("FlexibilityActivation", offer_id="no-such-offer")
    pl4 = sample("FlexibilityOffer", entity_id="agg2")
    return _post(c, ACTIVATIONS, pl5, "dso1"), _post(c, OFFERS, pl4, "agg1")


def _filtered(c: DemoClient) -> int:
    _offer(c, deadline=(datetime.now(UTC) + timedelta(minutes=30)).isoformat())
    return len(_listed(c, "/aggregators/flexibilityOffers", valid_at="2999-01-01T00:00:00Z"))


PROBES: dict[str, tuple[Callable[[DemoClient], object], object, object]] = {
    "token-type-mac": (lambda c: _a1(c).json()["token_type"], "bearer", "mac"),
    "expires-in-string": (lambda c: _a1(c).json()["expires_in"], 3600, "3600"),
    "accept-any-password": (lambda c: _a1(c, "wrong").status_code, 400, 200),
    "refresh-broken": (_refresh, 200, 400),
    "oauth-wrong-error-code": (
        lambda c: (_a1(c, "wrong").status_code, _a1(c, "wrong").json()["error"]),
        (400, "invalid_grant"),
        (401, "access_denied"),
    ),
    "no-auth-required": (lambda c: c.call("GET", REQUESTS, as_=None).status_code, 401, 200),
    "stale-ids": (lambda c: len({c.call("GET", OFFERS + "/offerId", as_="agg1").text for _ in range(3)}), 3, 1),
    "bare-id-string": (lambda c: type(c.call("GET", OFFERS + "/offerId", as_="agg1").json()).__name__, "dict", "str"),
    "duplicate-request-accepted": (lambda c: _twice(c, sample("FlexibilityRequest")), 409, 201),
    "lists-lose-precision": (
        lambda c: (
            [type(_post(c, REQUESTS, sample("FlexibilityRequest"), "dso1")).__name__]
            + [type(v).__name__ for r in _listed(c, REQUESTS)[:1] for v in (r["flexible_power"], r["duration"])]
        ),
        ["int", "int", "int"],
        ["int", "str", "str"],
    ),
    "requests-list-any-dso": (_request_leak, (False, False), (True, True)),
    "offer-offset-lost": (_offset_kept, True, False),
    "offer-delete-unknown-204": (lambda c: c.call("DELETE", OFFERS + "/unknown-1", as_="agg1").status_code, 404, 204),
    "offer-ids-per-aggregator": (_offer_id_reused_by_agg2, (409, "agg1"), (201, "agg2")),
    "no-activations": (lambda c: c.call("GET", "/dsos/dso1/flexibilityActivations/activationId").status_code, 200, 404),
    "activation-delete-keeps": (_activation_kept, (204, False), (204, True)),
    "activations-list-any-agg": (_activation_leak, (False, False), (True, True)),
    "ack-empty-list-404": (
        lambda c: c.call("GET", "/aggregators/agg1/flexibilityActivations/acks", as_="agg1").status_code,
        200,
        404,
    ),
    "ack-delete-any-path": (_ack_deleted_by_agg2, (404, True), (204, False)),
    "acks-list-any-agg": (_answer_leak("ack"), (False, False), (True, True)),
    "nack-post-202": (_nack, 201, 202),
    "nacks-list-any-agg-to-dsos": (_answer_leak("nack"), (False, False), (False, True)),  # READERS: agg2, dso1
    "no-authz-check": (lambda c: _post(c, OFFERS, sample("FlexibilityOffer"), "agg2"), 403, 201),
    "agg-reads-foreign-activations": (lambda c: c.call("GET", ACTIVATIONS, as_="agg2").status_code, 403, 200),
    "malformed-json-500": (
        lambda c: c.call("POST", REQUESTS, data="{", headers={"Content-Type": "application/json"}).status_code,
        400,
        500,
    ),
    "accept-wrong-types": (
        lambda c: _post(c, REQUESTS, sample("FlexibilityRequest", flexible_power="5"), "dso1"),
        400,
        201,
    ),
    "method-not-allowed-404": (lambda c: c.call("PUT", REQUESTS).status_code, 405, 404),
    "offer-request-id-dropped": (_request_id_kept, (True, True), (False, False)),
    "no-plausibility": (
        lambda c: _post(c, OFFERS, sample("FlexibilityOffer", flexible_power=1, granularity=2), "agg1"),
        400,
        201,
    ),
    "pl5-unchecked": (_plausibility, (400, 400), (201, 400)),
    "date-filter-ignored": (_filtered, 0, 1),
    "date-filter-lenient": (
        lambda c: c.call("GET", "/aggregators/flexibilityOffers?valid_at=junk").status_code,
        400,
        200,
    ),
}


def test_every_fault_has_a_probe():
    """Faults that only show under concurrency are probed in tests/test_load_faults.py."""
    assert set(PROBES) == {name for name, fault in FAULTS.items() if fault.shows_under == "suite"}
    assert {fault.shows_under for fault in FAULTS.values()} == {"suite", "load"}


@pytest.fixture(scope="module")
def clean() -> Iterator[DemoClient]:
    with ReferenceServer() as server:
        client = DemoClient(server.base_url)
        yield client
        client.close()


@pytest.mark.parametrize("name", sorted(PROBES))
def test_fault_changes_its_behaviour(clean, name):
    probe, expected_clean, expected_faulty = PROBES[name]
    assert probe(clean) == expected_clean
    with ReferenceServer(fault=name) as server:
        faulty = DemoClient(server.base_url)
        assert probe(faulty) == expected_faulty
        faulty.close()
