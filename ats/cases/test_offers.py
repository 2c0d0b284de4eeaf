"""core-offers: the FlexibilityOffer life cycle O2/O3/O4 (PROFILE.md sections 2, 4, 5)."""

from __future__ import annotations

import pytest

from ats.cases._resources import (
    RESOURCES,
    delete_removes,
    delete_under_other_path,
    delete_unknown,
    duplicate_rejected,
    duplicate_under_other_path,
    expect_posted,
    post,
    post_and_round_trip,
)
from ats.checks import expect_round_trip
from ats.session import Api

RES = RESOURCES["offer"]


@pytest.mark.case("IFX-OFF-001")
def test_post_offer(api: Api) -> None:
    """O2: a valid offer is stored with 201 (200 conforms); the body is empty, {} or the object."""
    obj = api.prepare("offer")
    expect_posted(post(api, RES, obj), RES, obj)


@pytest.mark.case("IFX-OFF-002")
@pytest.mark.parametrize("offset", ["+01:00", "Z", "-03:30", "+05:45"])
def test_offer_round_trip_with_offsets(api: Api, offset: str) -> None:
    """ST-9, PROFILE 4, O3: times posted with any offset are listed as the same instants; numbers as numbers.

    Keeping the posted offset itself is a recommendation (IFX-REC-008), not required here.
    """
    times = {
        "timestamp": f"2026-03-29T01:30:00{offset}",
        "deadline": f"2099-10-25T02:30:00{offset}",
        "activation_time": f"2099-10-25T02:45:00{offset}",
    }
    obj = api.prepare("offer", flex_price=0.07, granularity=2.5, **times)
    post_and_round_trip(api, RES, obj, readers=("dso", "agg1"))


@pytest.mark.case("IFX-OFF-003")
@pytest.mark.parametrize("where", ["same path", "agg2's path"])
def test_duplicate_offer(api: Api, where: str) -> None:
    """ST-2: posting an offer_id that is already stored answers 409; the stored offer is unchanged.

    ST-2 across paths (ids are unique per kind across all paths, PROFILE 2): agg2 posts a plausible
    offer reusing the id of agg1's stored one; 409, and agg1's offer stays listed unchanged.
    """
    if where == "same path":
        duplicate_rejected(api, RES, api.prepare("offer"))
    else:
        stored = api.create_offer("agg1")
        duplicate_under_other_path(
            api, RES, stored, api.prepare("offer", agg="agg2", **{RES.id_field: stored[RES.id_field]})
        )


@pytest.mark.case("IFX-OFF-004")
def test_delete_offer(api: Api) -> None:
    """O4, ST-9: DELETE answers 204 (200 conforms) and the offer is gone from O3."""
    delete_removes(api, RES, api.prepare("offer"))


@pytest.mark.case("IFX-OFF-005")
def test_delete_unknown_offer(api: Api) -> None:
    """ST-4: O4 of an unknown offer id answers 404."""
    delete_unknown(api, RES)


@pytest.mark.case("IFX-OFF-006")
def test_dso_reads_all_offers(api: Api) -> None:
    """O3: a DSO reads the offers of every aggregator; an aggregator reads at least its own."""
    first, second = api.create_offer("agg1"), api.create_offer("agg2")
    everything = api.list("offer", as_="dso")
    for obj in (first, second):
        expect_round_trip(obj, everything, "offer_id", ref="O3, ST-9", where="O3 read by the DSO")
    for role, own in (("agg1", first), ("agg2", second)):
        expect_round_trip(own, api.list("offer", as_=role), "offer_id", ref="O3, ST-9", where=f"O3 read by {role}")


@pytest.mark.case("IFX-OFF-007")
def test_zero_power_offer(api: Api) -> None:
    """Finding 002: an offer with flexible_power 0 ("no flexibility available") is stored and listed."""
    post_and_round_trip(api, RES, api.prepare("offer", flexible_power=0), readers=("dso",))


@pytest.mark.case("IFX-OFF-008")
def test_offer_answering_a_request(api: Api) -> None:
    """P-03: an offer's optional request_id is stored and listed like every other field."""
    request = api.create_request()
    post_and_round_trip(api, RES, api.prepare("offer", request_id=request["request_id"]), readers=("dso",))


@pytest.mark.case("IFX-OFF-009")
def test_delete_offer_under_other_path(api: Api) -> None:
    """ST-4: agg2 deleting, under its own path, the id of a offer stored under agg1 answers 404; it stays listed."""
    delete_under_other_path(api, RES, api.create_offer("agg1"))
