"""core-nacks: the FlexibilityActivationNack life cycle N2/N3/N4 (PROFILE.md sections 2, 4, 5)."""

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

RES = RESOURCES["nack"]


@pytest.mark.case("IFX-NACK-001")
def test_post_nack(api: Api) -> None:
    """N2: a valid NACK of an activation to the aggregator is stored with 201 (200 conforms)."""
    obj = api.prepare("nack")
    expect_posted(post(api, RES, obj), RES, obj)


@pytest.mark.case("IFX-NACK-002")
def test_nack_round_trip(api: Api) -> None:
    """ST-9, N3: the aggregator and the DSO both list the NACK field for field."""
    post_and_round_trip(api, RES, api.prepare("nack", granularity=0.5), readers=("agg1", "dso"))


@pytest.mark.case("IFX-NACK-003")
@pytest.mark.parametrize("where", ["same path", "agg2's path"])
def test_duplicate_nack(api: Api, where: str) -> None:
    """ST-2: posting a nack_id that is already stored answers 409; the stored one is unchanged.

    ST-2 across paths (ids are unique per kind across all paths, PROFILE 2): agg2 posts a plausible
    NACK reusing the id of agg1's stored one; 409, and agg1's NACK stays listed unchanged.
    """
    if where == "same path":
        duplicate_rejected(api, RES, api.prepare("nack"))
    else:
        stored = api.create_nack("agg1")
        duplicate_under_other_path(
            api, RES, stored, api.prepare("nack", agg="agg2", **{RES.id_field: stored[RES.id_field]})
        )


@pytest.mark.case("IFX-NACK-004")
def test_delete_nack(api: Api) -> None:
    """N4, ST-9: DELETE answers 204 (200 conforms) and the NACK is gone from N3."""
    delete_removes(api, RES, api.prepare("nack"))


@pytest.mark.case("IFX-NACK-005")
def test_delete_unknown_nack(api: Api) -> None:
    """ST-4: N4 of an unknown nack id answers 404."""
    delete_unknown(api, RES)


@pytest.mark.case("IFX-NACK-006")
def test_empty_nack_list(api: Api) -> None:
    """ST-6: N3 of an aggregator entity without NACKs answers 200 [] (read by a DSO)."""
    empty_list(api, RES, {"agg": api.new_id("agg")}, as_="dso")


@pytest.mark.case("IFX-NACK-007")
def test_nack_without_activation_id(api: Api) -> None:
    """P-04: a NACK without the optional activation_id (offer_id only, as in D3.5) is stored and listed."""
    obj = api.prepare("nack")
    del obj["activation_id"]
    post_and_round_trip(api, RES, obj, readers=("agg1",))


@pytest.mark.case("IFX-NACK-008")
def test_nack_reason(api: Api) -> None:
    """PROFILE 4: a NACK's optional reason is stored and listed like every other field."""
    post_and_round_trip(api, RES, api.prepare("nack", reason="unit in maintenance"), readers=("agg1", "dso"))


@pytest.mark.case("IFX-NACK-009")
def test_delete_nack_under_other_path(api: Api) -> None:
    """ST-4: agg2 deleting, under its own path, the id of a NACK stored under agg1 answers 404; it stays listed."""
    delete_under_other_path(api, RES, api.create_nack("agg1"))


@pytest.mark.case("IFX-NACK-010")
def test_nack_listed_only_under_its_aggregator(api: Api) -> None:
    """ST-12, P-10: agg1's NACK is not listed by N3 under agg2's path, read by agg2 or by the DSO."""
    stored = api.create_nack("agg1")
    other = RES.path(api, "agg2")
    listed_only_under_own_path(api, RES, stored, ("agg1", RES.path(api)), (("agg2", other), ("dso", other)))
