"""The D3.5-compatible client functions (D3.5 section 3.2) against the in-process reference server."""

from __future__ import annotations

import inspect
import socket
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from types import ModuleType

import pytest

from interflex.client import (
    AuthenticationError,
    BadRequestError,
    ConflictError,
    ConnectError,
    ForbiddenError,
    InvalidObjectError,
    NotFoundError,
)
from interflex.client import authentication as auth
from interflex.client import flexibility_activation_acks as acks
from interflex.client import flexibility_activation_nacks as nacks
from interflex.client import flexibility_activations as acts
from interflex.client import flexibility_offers as offers
from interflex.client import flexibility_requests as reqs
from reference_server import ReferenceServer

CLIENT = ("client", "client")
HOST = "127.0.0.1"
_V = ("version", "v1")

# D3.5 tables 2-51 (issue 4): function -> (parameter, default) in order; `...` = no default.
# Renamed from D3.5 (same position): post_activation_nack's `flexibility_activation` ->
# `flex_activation_nack`, delete_activation_nack's `activation_ack_id` -> `activation_nack_id`.
D35: dict[ModuleType, dict[str, list[str | tuple[str, str]]]] = {
    auth: {
        "authenticate": ["host", "port", "username", "user_secret", "client_id", "client_secret", _V],
        "refresh": ["host", "port", "refresh_token", "client_id", "client_secret", _V],
    },
    reqs: {
        "get_request_id": ["host", "port", "entity_id", "access_token", _V],
        "post_request": ["host", "port", "entity_id", "access_token", "request", _V],
        "get_all_requests": ["host", "port", "entity_id", "access_token", _V],
        "delete_request": ["host", "port", "entity_id", "access_token", "request_id", _V],
        "create_request": ["request_id", "timestamp", "deadline", "region_id", "flexible_power", "duration", "unit"],
    },
    offers: {
        "get_offer_id": ["host", "port", "entity_id", "access_token", _V],
        "post_offer": ["host", "port", "entity_id", "access_token", "offer", _V],
        "get_all_offers": ["host", "port", "access_token", _V],
        "delete_offer": ["host", "port", "entity_id", "access_token", "offer_id", _V],
        "create_offer": [
            "offer_id",
            "entity_id",
            "timestamp",
            "deadline",
            "region_id",
            "flexible_power",
            "granularity",
            "duration",
            "unit",
            "activation_time",
            "flex_price",
            "flex_type",
            "currency",
        ],
    },
    acts: {
        "get_activation_id": ["host", "port", "entity_id", "access_token", _V],
        "post_activation": ["host", "port", "entity_id", "aggregator", "access_token", "flexibility_activation", _V],
        "get_all_activations": ["host", "port", "entity_id", "access_token", "aggregator", _V],
        "delete_activation": ["host", "port", "entity_id", "access_token", "aggregator", "activation_id", _V],
        "create_activation": [
            "activation_id",
            "timestamp",
            "offer_id",
            "flexible_power",
            "granularity",
            "duration",
            "unit",
            "activation_time",
            "flex_price",
            "flex_type",
            "currency",
        ],
    },
    acks: {
        "get_activation_ack_id": ["host", "port", "entity_id", "access_token", _V],
        "post_activation_ack": ["host", "port", "entity_id", "access_token", "flex_activation_ack", _V],
        "get_all_activation_acks": ["host", "port", "access_token", "aggregator", _V],
        "delete_activation_ack": ["host", "port", "access_token", "aggregator", "activation_ack_id", _V],
        "create_activation_ack": [
            "ack_id",
            "timestamp",
            "offer_id",
            "flexible_power",
            "granularity",
            "duration",
            "unit",
            "activation_time",
        ],
    },
    nacks: {
        "get_activation_nack_id": ["host", "port", "entity_id", "access_token", _V],
        "post_activation_nack": ["host", "port", "entity_id", "access_token", "flex_activation_nack", _V],
        "get_all_activation_nacks": ["host", "port", "access_token", "aggregator", _V],
        "delete_activation_nack": ["host", "port", "access_token", "aggregator", "activation_nack_id", _V],
        "create_activation_nack": [
            "nack_id",
            "timestamp",
            "offer_id",
            "flexible_power",
            "granularity",
            "duration",
            "unit",
            "activation_time",
        ],
    },
}


@pytest.mark.parametrize("module", list(D35), ids=lambda m: m.__name__.rsplit(".", 1)[1])
def test_d35_signatures(module: ModuleType) -> None:
    """Names, order and defaults of every function match D3.5 section 3.2 (positional-or-keyword)."""
    public = {
        name
        for name, function in inspect.getmembers(module, inspect.isfunction)
        if function.__module__ == module.__name__ and not name.startswith("_")
    }
    assert public == set(D35[module])
    for name, expected in D35[module].items():
        parameters = inspect.signature(getattr(module, name)).parameters.values()
        actual = [p.name if p.default is inspect.Parameter.empty else (p.name, p.default) for p in parameters]
        assert actual == expected, name
        assert all(p.kind is inspect.Parameter.POSITIONAL_OR_KEYWORD for p in parameters), name


@pytest.fixture(scope="module")
def port() -> Iterator[int]:
    with ReferenceServer() as server:
        yield server.port


def _login(port: int, user: str) -> str:
    return auth.authenticate(HOST, port, user, f"{user}-demo", *CLIENT)["access_token"]


@pytest.fixture(scope="module")
def tokens(port: int) -> dict[str, str]:
    return {user: _login(port, user) for user in ("dso1", "agg1", "agg2")}


def _times() -> tuple[str, str, str]:
    now = datetime.now(UTC).replace(microsecond=0)
    return tuple(t.isoformat() for t in (now, now + timedelta(minutes=10), now + timedelta(minutes=30)))


def _offer(port: int, tokens: dict[str, str], agg: str = "agg1", power: float = 20) -> dict:
    timestamp, deadline, activation_time = _times()
    offer_id = offers.get_offer_id(HOST, port, agg, tokens[agg])
    offer = offers.create_offer(
        offer_id,
        agg,
        timestamp,
        deadline,
        "region-1",
        power,
        5,
        900,
        "kW",
        activation_time,
        12.5,
        "load-reduction",
        "EUR",
    )
    offers.post_offer(HOST, port, agg, tokens[agg], offer)
    return offer


def _activation(port: int, tokens: dict[str, str], agg: str = "agg1") -> dict:
    offer = _offer(port, tokens, agg)
    activation_id = acts.get_activation_id(HOST, port, "dso1", tokens["dso1"])
    activation = acts.create_activation(
        activation_id,
        offer["timestamp"],
        offer["offer_id"],
        10,
        5,
        900,
        "kW",
        offer["activation_time"],
        12.5,
        "load-reduction",
        "EUR",
    )
    acts.post_activation(HOST, port, "dso1", agg, tokens["dso1"], activation)
    return activation


def _subset(posted: dict, listed: list[dict], id_field: str) -> dict:
    """The listed object with `posted`'s id, restricted to the posted fields (ST-9)."""
    found = [item for item in listed if item.get(id_field) == posted[id_field]]
    assert len(found) == 1, f"{posted[id_field]} listed {len(found)} times"
    return {key: found[0].get(key) for key in posted}


# -- authentication (A1, A2) -------------------------------------------------------------------


def test_authenticate_and_refresh(port: int) -> None:
    token = auth.authenticate(HOST, port, "dso1", "dso1-demo", *CLIENT)
    assert token["token_type"].lower() == "bearer"
    assert isinstance(token["expires_in"], int) and token["expires_in"] > 0
    renewed = auth.refresh(HOST, port, token["refresh_token"], *CLIENT)
    assert renewed["access_token"] != token["access_token"]
    assert reqs.get_request_id(HOST, port, "dso1", renewed["access_token"])  # AU-2: the new token works
    with pytest.raises(BadRequestError) as caught:  # AU-6: a used refresh token is rejected
        auth.refresh(HOST, port, token["refresh_token"], *CLIENT)
    assert caught.value.error == "invalid_grant"
    assert caught.value.operation == "A2"


def test_authenticate_wrong_password(port: int) -> None:
    with pytest.raises(BadRequestError) as caught:
        auth.authenticate(HOST, port, "dso1", "not-the-password", *CLIENT)
    assert (caught.value.status, caught.value.error, caught.value.operation) == (400, "invalid_grant", "A1")
    assert "not-the-password" not in str(caught.value) + repr(caught.value)


def test_authenticate_wrong_client_secret(port: int) -> None:
    with pytest.raises(AuthenticationError) as caught:
        auth.authenticate(HOST, port, "dso1", "dso1-demo", "client", "wrong-secret")
    assert (caught.value.status, caught.value.error) == (401, "invalid_client")
    assert "wrong-secret" not in str(caught.value)


def test_connection_refused() -> None:
    with socket.socket() as sock:
        sock.bind((HOST, 0))
        closed_port = sock.getsockname()[1]
    with pytest.raises(ConnectError) as caught:
        auth.authenticate(HOST, closed_port, "dso1", "dso1-demo", *CLIENT)
    assert caught.value.status is None and caught.value.operation == "A1"
    assert "Connection refused" in str(caught.value)


def test_version_goes_into_the_url(port: int, tokens: dict[str, str]) -> None:
    with pytest.raises(NotFoundError) as caught:
        reqs.get_request_id(HOST, port, "dso1", tokens["dso1"], version="v2")
    assert "/interflex/api/v2/dsos/dso1/" in str(caught.value)


# -- requests (R1-R4) --------------------------------------------------------------------------


def test_request_round_trip(port: int, tokens: dict[str, str]) -> None:
    request_id = reqs.get_request_id(HOST, port, "dso1", tokens["dso1"])
    assert isinstance(request_id, str) and request_id != reqs.get_request_id(HOST, port, "dso1", tokens["dso1"])
    timestamp, deadline, _ = _times()
    request = reqs.create_request(request_id, timestamp, deadline, "region-1", 50.0, 900, "kW")
    assert isinstance(reqs.post_request(HOST, port, "dso1", tokens["dso1"], request), dict)
    listed = reqs.get_all_requests(HOST, port, "dso1", tokens["agg1"])  # R3: any authenticated user
    assert _subset(request, listed, "request_id") == request
    assert reqs.delete_request(HOST, port, "dso1", tokens["dso1"], request_id) == {}
    assert request_id not in {r["request_id"] for r in reqs.get_all_requests(HOST, port, "dso1", tokens["dso1"])}


def test_request_errors(port: int, tokens: dict[str, str]) -> None:
    timestamp, deadline, _ = _times()
    request = reqs.create_request(
        reqs.get_request_id(HOST, port, "dso1", tokens["dso1"]), timestamp, deadline, "region-1", 5, 60, "W"
    )
    reqs.post_request(HOST, port, "dso1", tokens["dso1"], request)
    with pytest.raises(ConflictError) as caught:  # ST-2
        reqs.post_request(HOST, port, "dso1", tokens["dso1"], request)
    assert caught.value.status == 409 and caught.value.operation == "R2"
    with pytest.raises(ForbiddenError):  # AU-5: an aggregator may not fetch a DSO's request id
        reqs.get_request_id(HOST, port, "dso1", tokens["agg1"])
    with pytest.raises(AuthenticationError) as caught:  # AU-4
        reqs.get_all_requests(HOST, port, "dso1", "not-a-token")
    assert caught.value.status == 401 and caught.value.response.headers["WWW-Authenticate"].startswith("Bearer")
    with pytest.raises(BadRequestError) as caught:  # ST-1: a required field missing
        reqs.post_request(HOST, port, "dso1", tokens["dso1"], {k: v for k, v in request.items() if k != "unit"})
    assert caught.value.status in (400, 422)
    with pytest.raises(NotFoundError):  # ST-4
        reqs.delete_request(HOST, port, "dso1", tokens["dso1"], "no-such-request")


def test_create_request_rejects_invalid_values() -> None:
    timestamp, deadline, _ = _times()
    with pytest.raises(ValueError, match="PL-1") as caught:  # deadline before timestamp
        reqs.create_request("r-1", deadline, timestamp, "region-1", 5, 60, "kW")
    assert isinstance(caught.value, InvalidObjectError) and caught.value.kind == "FlexibilityRequest"
    with pytest.raises(InvalidObjectError) as caught:
        reqs.create_request("r-1", timestamp, deadline, "region-1", "5", 60, "kWh")
    assert {f.path for f in caught.value.findings} == {"/flexible_power", "/unit"}


# -- offers (O1-O4) ----------------------------------------------------------------------------


def test_offer_round_trip(port: int, tokens: dict[str, str]) -> None:
    offer = _offer(port, tokens, "agg2", power=0)  # finding 002: 0 kW means "no flexibility"
    listed = offers.get_all_offers(HOST, port, tokens["dso1"])  # a DSO sees all offers
    assert _subset(offer, listed, "offer_id") == offer
    assert offers.delete_offer(HOST, port, "agg2", tokens["agg2"], offer["offer_id"]) == {}
    assert offer["offer_id"] not in {o["offer_id"] for o in offers.get_all_offers(HOST, port, tokens["dso1"])}


def test_offer_errors(port: int, tokens: dict[str, str]) -> None:
    offer = _offer(port, tokens, "agg1")
    with pytest.raises(ConflictError):
        offers.post_offer(HOST, port, "agg1", tokens["agg1"], offer)
    with pytest.raises(ForbiddenError) as caught:  # AU-5: agg2 posts under agg1
        offers.post_offer(HOST, port, "agg1", tokens["agg2"], {**offer, "offer_id": "offer-of-someone-else"})
    assert caught.value.operation == "O2"
    with pytest.raises(ForbiddenError):
        offers.get_offer_id(HOST, port, "agg1", tokens["dso1"])
    with pytest.raises(NotFoundError):
        offers.delete_offer(HOST, port, "agg1", tokens["agg1"], "no-such-offer")
    with pytest.raises(AuthenticationError):
        offers.get_all_offers(HOST, port, "expired-or-unknown")


def test_create_offer_rejects_granularity_above_power() -> None:
    timestamp, deadline, activation_time = _times()
    with pytest.raises(InvalidObjectError, match="PL-3"):
        offers.create_offer(
            "o-1",
            "agg1",
            timestamp,
            deadline,
            "region-1",
            5,
            10,
            900,
            "kW",
            activation_time,
            1.0,
            "load-reduction",
            "EUR",
        )
    with pytest.raises(InvalidObjectError, match="currency"):
        offers.create_offer(
            "o-1",
            "agg1",
            timestamp,
            deadline,
            "region-1",
            5,
            1,
            900,
            "kW",
            activation_time,
            1.0,
            "load-reduction",
            "euro",
        )


# -- activations (V1-V4) -----------------------------------------------------------------------


def test_activation_round_trip(port: int, tokens: dict[str, str]) -> None:
    activation = _activation(port, tokens, "agg1")
    for reader in ("dso1", "agg1"):  # V3: DSO {dso} or aggregator {agg}
        listed = acts.get_all_activations(HOST, port, "dso1", tokens[reader], "agg1")
        assert _subset(activation, listed, "activation_id") == activation
    assert acts.delete_activation(HOST, port, "dso1", tokens["dso1"], "agg1", activation["activation_id"]) == {}
    listed = acts.get_all_activations(HOST, port, "dso1", tokens["dso1"], "agg1")
    assert activation["activation_id"] not in {a["activation_id"] for a in listed}


def test_activation_errors(port: int, tokens: dict[str, str]) -> None:
    activation = _activation(port, tokens, "agg1")
    with pytest.raises(ConflictError):
        acts.post_activation(HOST, port, "dso1", "agg1", tokens["dso1"], activation)
    with pytest.raises(ForbiddenError):  # agg2 may not read agg1's activations
        acts.get_all_activations(HOST, port, "dso1", tokens["agg2"], "agg1")
    with pytest.raises(ForbiddenError):
        acts.get_activation_id(HOST, port, "dso1", tokens["agg1"])
    with pytest.raises(BadRequestError):  # PL-5: the offer is not stored
        acts.post_activation(
            HOST,
            port,
            "dso1",
            "agg1",
            tokens["dso1"],
            {**activation, "activation_id": "act-unknown-offer", "offer_id": "no-such-offer"},
        )
    with pytest.raises(NotFoundError):
        acts.delete_activation(HOST, port, "dso1", tokens["dso1"], "agg1", "no-such-activation")
    with pytest.raises(InvalidObjectError, match="PL-2"):  # activation_time before timestamp
        acts.create_activation(
            "a-1",
            activation["activation_time"],
            "o-1",
            10,
            5,
            900,
            "kW",
            activation["timestamp"],
            1.0,
            "load-reduction",
            "EUR",
        )


# -- ACKs (K1-K4) and NACKs (N1-N4) ---------------------------------------------------------------


def test_ack_round_trip_and_errors(port: int, tokens: dict[str, str]) -> None:
    activation = _activation(port, tokens, "agg1")
    ack_id = acks.get_activation_ack_id(HOST, port, "agg1", tokens["agg1"])
    ack = acks.create_activation_ack(
        ack_id, activation["timestamp"], activation["offer_id"], 10, 5, 900, "kW", activation["activation_time"]
    )
    ack["activation_id"] = activation["activation_id"]  # P-04
    acks.post_activation_ack(HOST, port, "agg1", tokens["agg1"], ack)
    for reader in ("agg1", "dso1"):  # K3: aggregator {agg} or any DSO
        assert _subset(ack, acks.get_all_activation_acks(HOST, port, tokens[reader], "agg1"), "ack_id") == ack
    with pytest.raises(ConflictError):
        acks.post_activation_ack(HOST, port, "agg1", tokens["agg1"], ack)
    with pytest.raises(ForbiddenError):
        acks.get_all_activation_acks(HOST, port, tokens["agg2"], "agg1")
    with pytest.raises(ForbiddenError):
        acks.get_activation_ack_id(HOST, port, "agg1", tokens["agg2"])
    with pytest.raises(BadRequestError):  # PL-7: no activation of that offer to agg2
        acks.post_activation_ack(HOST, port, "agg2", tokens["agg2"], {**ack, "ack_id": "ack-without-activation"})
    assert acks.delete_activation_ack(HOST, port, tokens["agg1"], "agg1", ack_id) == {}
    assert ack_id not in {a["ack_id"] for a in acks.get_all_activation_acks(HOST, port, tokens["agg1"], "agg1")}
    with pytest.raises(NotFoundError):
        acks.delete_activation_ack(HOST, port, tokens["agg1"], "agg1", ack_id)
    with pytest.raises(InvalidObjectError, match="flexible_power"):
        acks.create_activation_ack("k-1", activation["timestamp"], "o-1", 0, 5, 900, "kW", activation["timestamp"])


def test_nack_round_trip_and_errors(port: int, tokens: dict[str, str]) -> None:
    activation = _activation(port, tokens, "agg2")
    nack_id = nacks.get_activation_nack_id(HOST, port, "agg2", tokens["agg2"])
    nack = nacks.create_activation_nack(
        nack_id, activation["timestamp"], activation["offer_id"], 10, 5, 900, "kW", activation["activation_time"]
    )
    nack |= {"activation_id": activation["activation_id"], "reason": "no units left"}
    nacks.post_activation_nack(HOST, port, "agg2", tokens["agg2"], nack)
    for reader in ("agg2", "dso1"):
        assert _subset(nack, nacks.get_all_activation_nacks(HOST, port, tokens[reader], "agg2"), "nack_id") == nack
    with pytest.raises(ConflictError):
        nacks.post_activation_nack(HOST, port, "agg2", tokens["agg2"], nack)
    with pytest.raises(ForbiddenError):
        nacks.post_activation_nack(HOST, port, "agg2", tokens["agg1"], {**nack, "nack_id": "nack-by-the-wrong-agg"})
    with pytest.raises(AuthenticationError):
        nacks.get_activation_nack_id(HOST, port, "agg2", "bogus")
    with pytest.raises(ForbiddenError):
        nacks.get_all_activation_nacks(HOST, port, tokens["agg1"], "agg2")
    assert nacks.delete_activation_nack(HOST, port, tokens["agg2"], "agg2", nack_id) == {}
    with pytest.raises(NotFoundError):
        nacks.delete_activation_nack(HOST, port, tokens["agg2"], "agg2", nack_id)
    with pytest.raises(InvalidObjectError, match="nack_id"):
        nacks.create_activation_nack(
            "nackId", activation["timestamp"], "o-1", 5, 5, 900, "kW", activation["timestamp"]
        )  # P-07: a literal path word is no id
