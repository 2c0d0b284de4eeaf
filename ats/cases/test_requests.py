"""core-requests: the FlexibilityRequest life cycle R2/R3/R4 (PROFILE.md sections 2, 4, 5)."""

from __future__ import annotations

import pytest

from ats.cases._resources import (
    RESOURCES,
    delete_removes,
    delete_unknown,
    duplicate_rejected,
    empty_list,
    expect_posted,
    listed_only_under_own_path,
    post,
    post_and_round_trip,
)
from ats.checks import expect_round_trip
from ats.session import Api

RES = RESOURCES["request"]


@pytest.mark.case("IFX-REQ-001")
def test_post_request(api: Api) -> None:
    """R2: a valid request is stored with 201 (200 conforms); the body is empty, {} or the object."""
    obj = api.build("request")
    expect_posted(post(api, RES, obj), RES, obj)


@pytest.mark.case("IFX-REQ-002")
@pytest.mark.parametrize("variant", ["plain", "activation_time", "decimals", "utc"])
def test_request_round_trip(api: Api, variant: str) -> None:
    """ST-9, R3: a posted request is listed field for field (numbers as numbers, times as instants, PROFILE 4)."""
    overrides = {
        "plain": {},
        "activation_time": {"activation_time": api.build("offer")["activation_time"]},
        "decimals": {"flexible_power": 123.456, "duration": 1800.5, "unit": "MW"},
        "utc": {"timestamp": "2026-01-01T00:00:00Z", "deadline": "2099-12-31T23:59:59+05:30"},
    }[variant]
    readers = ("dso", "agg1") if variant == "plain" else ("dso",)
    post_and_round_trip(api, RES, api.build("request", **overrides), readers)


@pytest.mark.case("IFX-REQ-003")
def test_duplicate_request(api: Api) -> None:
    """ST-2: posting a request_id that is already stored answers 409; the stored request is unchanged."""
    duplicate_rejected(api, RES, api.build("request"))


@pytest.mark.case("IFX-REQ-004")
def test_delete_request(api: Api) -> None:
    """R4, ST-9: DELETE answers 204 (200 conforms) and the request is gone from R3."""
    delete_removes(api, RES, api.build("request"))


@pytest.mark.case("IFX-REQ-005")
def test_delete_unknown_request(api: Api) -> None:
    """ST-4: R4 of an unknown request id answers 404."""
    delete_unknown(api, RES)


@pytest.mark.case("IFX-REQ-006")
def test_empty_request_list(api: Api) -> None:
    """ST-6: R3 of a DSO entity without requests answers 200 []."""
    empty_list(api, RES, {"dso": api.new_id("dso")}, as_="dso")


@pytest.mark.case("IFX-REQ-007")
def test_request_listed_only_under_its_dso(api: Api) -> None:
    """ST-12, P-10: R3 under another DSO's path never lists the DSO's request, whoever reads (R3: any user)."""
    stored = api.create_request()
    other = {**RES.path(api), "dso": api.new_id("dso")}
    readers = (("dso", other), ("agg1", other), ("agg2", other))
    listed_only_under_own_path(api, RES, stored, ("dso", RES.path(api)), readers)


@pytest.mark.case("IFX-REQ-008")
def test_several_requests_listed_in_any_order(api: Api) -> None:
    """ST-9: three requests posted one after another (powers 101, 102, 103) are all listed by R3, each field for
    field; the profile sets no order (PROFILE 2), so any order conforms."""
    posted = [api.create_request(flexible_power=power) for power in (101, 102, 103)]
    items = api.list("request", as_="dso")
    for obj in posted:
        expect_round_trip(obj, items, RES.id_field, ref="ST-9, R3", where="R3 after three requests were posted")
