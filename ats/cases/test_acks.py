"""core-acks: the FlexibilityActivationAck life cycle K2/K3/K4 (PROFILE.md sections 2, 4, 5)."""

from __future__ import annotations

import pytest

from ats.cases._resources import (
    RESOURCES,
    delete_removes,
    delete_under_other_path,
    delete_unknown,
    duplicate_rejected,
    duplicate_under_other_path,
    empty_list,
    expect_posted,
    listed_only_under_own_path,
    post,
    post_and_round_trip,
)
from ats.session import Api

RES = RESOURCES["ack"]


@pytest.mark.case("IFX-ACK-001")
def test_post_ack(api: Api) -> None:
    """K2: a valid ACK of an activation to the aggregator is stored with 201 (200 conforms)."""
    obj = api.prepare("ack")
    expect_posted(post(api, RES, obj), RES, obj)


@pytest.mark.case("IFX-ACK-002")
def test_ack_round_trip(api: Api) -> None:
    """ST-9, K3: the aggregator and the DSO both list the ACK field for field."""
    post_and_round_trip(api, RES, api.prepare("ack", granularity=0.5), readers=("agg1", "dso"))


@pytest.mark.case("IFX-ACK-003")
@pytest.mark.parametrize("where", ["same path", "agg2's path"])
def test_duplicate_ack(api: Api, where: str) -> None:
    """ST-2: posting a ack_id that is already stored answers 409; the stored one is unchanged.

    ST-2 across paths (ids are unique per kind across all paths, PROFILE 2): agg2 posts a plausible
    ACK reusing the id of agg1's stored one; 409, and agg1's ACK stays listed unchanged.
    """
    if where == "same path":
        duplicate_rejected(api, RES, api.prepare("ack"))
    else:
        stored = api.create_ack("agg1")
        duplicate_under_other_path(
            api, RES, stored, api.prepare("ack", agg="agg2", **{RES.id_field: stored[RES.id_field]})
        )


@pytest.mark.case("IFX-ACK-004")
def test_delete_ack(api: Api) -> None:
    """K4, ST-9: DELETE answers 204 (200 conforms) and the ACK is gone from K3."""
    delete_removes(api, RES, api.prepare("ack"))


@pytest.mark.case("IFX-ACK-005")
def test_delete_unknown_ack(api: Api) -> None:
    """ST-4: K4 of an unknown ack id answers 404."""
    delete_unknown(api, RES)


@pytest.mark.case("IFX-ACK-006")
def test_empty_ack_list(api: Api) -> None:
    """ST-6: K3 of an aggregator entity without ACKs answers 200 [] (read by a DSO)."""
    empty_list(api, RES, {"agg": api.new_id("agg")}, as_="dso")


@pytest.mark.case("IFX-ACK-007")
def test_ack_without_activation_id(api: Api) -> None:
    """P-04: a ACK without the optional activation_id (offer_id only, as in D3.5) is stored and listed."""
    obj = api.prepare("ack")
    del obj["activation_id"]
    post_and_round_trip(api, RES, obj, readers=("agg1",))


@pytest.mark.case("IFX-ACK-008")
def test_delete_ack_under_other_path(api: Api) -> None:
    """ST-4: agg2 deleting, under its own path, the id of a ACK stored under agg1 answers 404; it stays listed."""
    delete_under_other_path(api, RES, api.create_ack("agg1"))


@pytest.mark.case("IFX-ACK-009")
def test_ack_listed_only_under_its_aggregator(api: Api) -> None:
    """ST-12, P-10: agg1's ACK is not listed by K3 under agg2's path, read by agg2 or by the DSO."""
    stored = api.create_ack("agg1")
    other = RES.path(api, "agg2")
    listed_only_under_own_path(api, RES, stored, ("agg1", RES.path(api)), (("agg2", other), ("dso", other)))
