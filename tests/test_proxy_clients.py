"""Client faults through the validating proxy (issue 10, "Proof"): a small client that breaks one
client rule of PROFILE.md section 11 at a time, against the conformant reference server. Each run
gives an error of `side: client` naming the rule broken, and no error of the server."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import pytest
import requests
from proxy_traffic import CLIENT, PASSWORDS, errors, proxied

TIMEOUT = 10


class Client:
    """One user's client: logs in with A1 and sends what a test tells it to (requests, keep-alive)."""

    def __init__(self, base_url: str, user: str) -> None:
        self.base_url, self.session = base_url, requests.Session()
        form = {"grant_type": "password", "username": user, "password": PASSWORDS[user]}
        form |= dict(zip(("client_id", "client_secret"), CLIENT, strict=True))
        response = self.session.post(f"{base_url}/authentication/token", data=form, timeout=TIMEOUT)
        self.token = response.json()["access_token"]

    def call(self, method: str, path: str, *, token: bool = True, **kwargs: object) -> int:
        headers = {"Authorization": f"Bearer {self.token}"} if token else {}
        response = self.session.request(method, self.base_url + path, headers=headers, timeout=TIMEOUT, **kwargs)
        return response.status_code


def offer(offer_id: str, agg: str = "agg1", **overrides: object) -> dict[str, object]:
    now = datetime.now(UTC).replace(microsecond=0)
    return {
        "offer_id": offer_id,
        "entity_id": agg,
        "timestamp": now.isoformat(),
        "deadline": (now + timedelta(minutes=10)).isoformat(),
        "region_id": "region-1",
        "flexible_power": 40.0,
        "granularity": 10.0,
        "duration": 900.0,
        "unit": "kW",
        "activation_time": (now + timedelta(minutes=30)).isoformat(),
        "flex_price": 100.0,
        "flex_type": "load-reduction",
        "currency": "EUR",
        **overrides,
    }


OFFERS = "/aggregators/{}/flexibilityOffers"


def no_token(base_url: str) -> None:
    """CL-1: a resource request without the bearer token."""
    agg1 = Client(base_url, "agg1")
    assert agg1.call("GET", "/aggregators/flexibilityOffers", token=False) == 401


def foreign_path(base_url: str) -> None:
    """CL-3: agg1 asks for an offer id under agg2's path."""
    agg1 = Client(base_url, "agg1")
    assert agg1.call("GET", OFFERS.format("agg2") + "/offerId") == 403


def naive_times(base_url: str) -> None:
    """CL-4: an offer whose times carry no offset (P-01)."""
    agg1 = Client(base_url, "agg1")
    naive = (datetime.now(UTC) + timedelta(minutes=30)).replace(microsecond=0, tzinfo=None).isoformat()
    assert agg1.call("POST", OFFERS.format("agg1"), json=offer("offer-naive-1", activation_time=naive)) == 400


def id_reused(base_url: str) -> None:
    """CL-5: agg1 posts a new offer under an id it already posted successfully."""
    agg1 = Client(base_url, "agg1")
    assert agg1.call("POST", OFFERS.format("agg1"), json=offer("offer-mine-1")) in (200, 201)
    assert agg1.call("POST", OFFERS.format("agg1"), json=offer("offer-mine-1", flex_price=90.0)) == 409


def repeated_4xx(base_url: str) -> None:
    """CL-6: agg1 repeats a POST answered 400 at once, unchanged (the first POST also breaks CL-4)."""
    agg1 = Client(base_url, "agg1")
    body = offer("offer-bad-1", flexible_power="40")
    assert agg1.call("POST", OFFERS.format("agg1"), json=body) == 400
    assert agg1.call("POST", OFFERS.format("agg1"), json=body) == 400


@pytest.mark.parametrize(
    ("rule", "client"),
    [("CL-1", no_token), ("CL-3", foreign_path), ("CL-4", naive_times), ("CL-5", id_reused), ("CL-6", repeated_4xx)],
)
def test_a_client_fault_is_a_client_error_naming_its_rule(rule: str, client: Callable[[str], None]) -> None:
    with proxied() as (_, proxy):
        client(proxy.base_url)
    named = {f.rule for f in errors(proxy.findings, "client")}
    assert rule in named, f"{client.__doc__}: expected a client error {rule}, got {named or 'none'}"
    assert errors(proxy.findings, "server") == []
