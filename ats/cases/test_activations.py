"""core-activations: the FlexibilityActivation life cycle V2/V3/V4 (PROFILE.md sections 2, 4, 5)."""

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

RES = RESOURCES["activation"]


@pytest.mark.case("IFX-ACT-001")
def test_post_activation(api: Api) -> None:
    """V2: a valid activation of a stored offer is stored with 201 (200 conforms)."""
    obj = api.prepare("activation")
    expect_posted(post(api, RES, obj), RES, obj)


@pytest.mark.case("IFX-ACT-002")
def test_activation_round_trip(api: Api) -> None:
    """ST-9, V3: the DSO and the addressed aggregator both list the activation field for field."""
    obj = api.prepare("activation", flexible_power=40, flex_price=9.75, activation_time="2099-06-01T12:00:00+02:00")
    post_and_round_trip(api, RES, obj, readers=("dso", "agg1"))


@pytest.mark.case("IFX-ACT-003")
@pytest.mark.parametrize("where", ["same path", "agg2's path"])
def test_duplicate_activation(api: Api, where: str) -> None:
    """ST-2: posting an activation_id that is already stored answers 409; the stored one is unchanged.

    ST-2 across paths (ids are unique per kind across all paths, PROFILE 2): the DSO posts to agg2 a plausible
    activation reusing the id of agg1's stored one; 409, and agg1's activation stays listed unchanged.
    """
    if where == "same path":
        duplicate_rejected(api, RES, api.prepare("activation"))
    else:
        stored = api.create_activation("agg1")
        duplicate_under_other_path(
            api, RES, stored, api.prepare("activation", agg="agg2", **{RES.id_field: stored[RES.id_field]})
        )


@pytest.mark.case("IFX-ACT-004")
def test_delete_activation(api: Api) -> None:
    """V4, ST-9: DELETE answers 204 (200 conforms) and the activation is gone from V3."""
    delete_removes(api, RES, api.prepare("activation"))


@pytest.mark.case("IFX-ACT-005")
def test_delete_unknown_activation(api: Api) -> None:
    """ST-4: V4 of an unknown activation id answers 404."""
    delete_unknown(api, RES)


@pytest.mark.case("IFX-ACT-006")
def test_empty_activation_list(api: Api) -> None:
    """ST-6: V3 of an aggregator entity without activations answers 200 []."""
    empty_list(api, RES, {"dso": api.entity("dso"), "agg": api.new_id("agg")}, as_="dso")


@pytest.mark.case("IFX-ACT-007")
def test_delete_activation_under_other_path(api: Api) -> None:
    """ST-4: the DSO deleting under agg2's path the id of an activation stored under agg1 answers 404; it stays."""
    delete_under_other_path(api, RES, api.create_activation("agg1"))


@pytest.mark.case("IFX-ACT-008")
def test_activation_listed_only_under_its_path(api: Api) -> None:
    """ST-12, P-10: an activation to agg1 is not listed by V3 under {dso}/agg2 (read by the DSO or agg2)
    nor under another DSO's {dso}/agg1 (read by agg1)."""
    stored = api.create_activation("agg1")
    other_agg = RES.path(api, "agg2")
    other_dso = {**RES.path(api), "dso": api.new_id("dso")}
    readers = (("dso", other_agg), ("agg2", other_agg), ("agg1", other_dso))
    listed_only_under_own_path(api, RES, stored, ("dso", RES.path(api)), readers)
