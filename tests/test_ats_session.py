"""The case authors' toolkit (contract C3): Api helpers against the reference server, and the checks."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from requests.structures import CaseInsensitiveDict

from ats.checks import (
    expect_oauth_error,
    expect_round_trip,
    expect_schema,
    expect_status,
    inconclusive,
    same_object,
)
from ats.ixit import default_ixit
from ats.recorder import Exchange
from ats.session import KINDS, Api, Context
from ats.verdicts import Failure, Inconclusive
from interflex.profile import is_valid_id
from interflex.validation import validate
from reference_server import ReferenceServer


@pytest.fixture(scope="module")
def context() -> Iterator[Context]:
    with ReferenceServer() as server:
        ctx = Context(default_ixit().with_target(server.base_url), timeout=5, worker="gw3")
        yield ctx
        ctx.close()


@pytest.fixture
def api(context: Context) -> Iterator[Api]:
    client = Api(context)
    yield client
    client.cleanup()


def _ex(status: int, body: bytes, content_type: str = "application/json") -> Exchange:
    return Exchange(
        "GET",
        "http://t/x",
        {},
        b"",
        status=status,
        body=body,
        headers=CaseInsensitiveDict({"Content-Type": content_type}),
    )


@pytest.mark.parametrize("kind", list(KINDS))
def test_build_gives_valid_plausible_objects(api: Api, kind: str) -> None:
    obj = api.build(kind, offer_id="o-1") if kind in ("activation", "ack", "nack") else api.build(kind)
    assert validate(obj, KINDS[kind], strict=True) == []
    assert obj["timestamp"].endswith("+01:00")


def test_new_ids_are_valid_unique_and_carry_the_worker_prefix(api: Api) -> None:
    ids = [api.new_id("a-very-long-kind-name") for _ in range(50)]
    assert len(set(ids)) == 50 and all(is_valid_id(i) and len(i) <= 64 for i in ids)
    assert all(i.startswith(api.ctx.prefix) for i in ids) and "w3" in api.ctx.prefix


def test_create_chain_and_cleanup(context: Context) -> None:
    api = Api(context)
    ack = api.create_ack("agg2")
    assert [o["offer_id"] for o in api.list("offer", as_="agg2") if o["offer_id"] == ack["offer_id"]]
    assert api.list("ack", agg="agg2")[0]["ack_id"] == ack["ack_id"]
    api.cleanup()
    assert api.list("ack", agg="agg2") == [] and api.list("activation", agg="agg2") == []
    assert not [o for o in api.list("offer") if o["offer_id"] == ack["offer_id"]]


def test_natural_roles_and_explicit_tokens(api: Api) -> None:
    assert api.call("K3", path={"agg": "agg2"}).status == 200  # as agg2, the path's aggregator
    assert api.call("O1", path={"agg": "agg2"}, as_="agg1").status == 403
    assert api.call("R3", as_=None).status == 401
    assert api.call("R3", token="nope").status == 401
    assert api.call("R3", auth_header="Basic eA==").status in (400, 401)


def test_precondition_failures_are_inconclusive(api: Api) -> None:
    with pytest.raises(Inconclusive) as info:
        api.create_offer("agg1", flexible_power="lots")
    assert info.value.cause == "precondition"


def test_list_failure_is_a_fail(api: Api) -> None:
    with pytest.raises(Failure, match="R3 answers 200"):
        api.list("request", as_=None)


def test_same_object_compares_numbers_as_numbers() -> None:
    posted = {"a": 5, "b": 1.5, "c": "2026-01-01T00:00:00+01:00", "d": True, "e": "x"}
    assert same_object(posted, {**posted, "a": 5.0, "extra": 1}) == []
    differences = same_object(posted, {"a": "5", "b": True, "c": "2025-12-31T23:00:00Z", "d": 1})
    assert [d.split(":")[0] for d in differences] == ["a", "b", "c", "d", "e"]


def test_same_object_compares_times_as_instants() -> None:
    posted = {"timestamp": "2026-01-01T00:00:00+01:00", "deadline": "2099-01-01T00:00:00Z", "activation_time": "x"}
    same_instants = {"timestamp": "2025-12-31T23:00:00Z", "deadline": "2099-01-01t05:30:00.000+05:30"}
    assert same_object(posted, {**same_instants, "activation_time": "x"}) == []
    assert [d.split(":")[0] for d in same_object(posted, {**same_instants, "activation_time": "x"}, True)] == [
        "timestamp",
        "deadline",
    ]
    other = {"timestamp": "2026-01-01T00:00:00", "deadline": "2099-01-01T00:00:01Z", "activation_time": "x"}
    assert [d.split(":")[0] for d in same_object(posted, other)] == ["timestamp", "deadline"]
    assert same_object({"deadline": "2099-01-01T00:00:00Z"}, {"deadline": 4070908800}) != []


def test_checks_messages_cite_the_reference() -> None:
    with pytest.raises(Failure, match=r"^ST-4: .*GET http://t/x -> 204"):
        expect_status(_ex(204, b""), 404, "ST-4")
    with pytest.raises(Failure, match=r"AU-3: error must be invalid_grant; .*'access_denied'"):
        expect_oauth_error(_ex(401, b'{"error": "access_denied"}'), "invalid_grant")
    with pytest.raises(Failure, match=r"ST-10: .*FlexibilityOffer\[\].*\[0\] error: /entity_id: .*required"):
        expect_schema(_ex(200, b'[{"offer_id": 1}]'), "FlexibilityOffer", array=True)
    with pytest.raises(Failure, match="not JSON"):
        expect_schema(_ex(200, b"<html>", "text/html"), "TokenResponse")
    with pytest.raises(Failure, match="missing from the list"):
        expect_round_trip({"offer_id": "o"}, [], "offer_id")
    with pytest.raises(Inconclusive, match="no region"):
        inconclusive("no region", "target")
