"""Plausibility: PL-1…PL-7 (PROFILE.md section 6, finding 003; optional class `plausibility`).

For each rule, one test case posts objects breaking it (only it: ST-11) and expects 400/422; a
second posts the boundary that must still pass, so that a rule is not over-applied (equal
instants, the same instant written with another offset, equal powers, power 0, optional fields).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest

from ats.cases._bodies import DROP, POST_OP, ROLE, activation_body, answer_body, expect_all
from ats.recorder import Exchange
from ats.session import Api
from interflex.profile import OPERATIONS_BY_ID
from interflex.samples import timestamp

REJECTED = (400, 422)
ACCEPTED = tuple(sorted(OPERATIONS_BY_ID["R2"].success))
PLUS5 = timezone(timedelta(hours=5))


def at(hours: float) -> str:
    """An RFC 3339 time `hours` from now (offset +01:00)."""
    return timestamp(timedelta(hours=hours))


def post(api: Api, kind: str, body: dict[str, Any], agg: str = "agg1") -> Exchange:
    """POST `body` of `kind` under aggregator role `agg`'s path (as its owner); accepted objects are deleted later."""
    path = {"dso": api.entity("dso"), "agg": api.entity(agg)}
    role = "dso" if ROLE[kind] == "dso" else agg
    ex = api.call(POST_OP[kind], as_=role, path=path, json=body)
    if 200 <= ex.status < 300:
        api.track(kind, body, agg=api.entity(agg))
    return ex


def same_instant_pair() -> tuple[str, str]:
    """One instant 1 h from now written twice: with offset +05:00 and in UTC (`Z`)."""
    moment = (datetime.now(UTC) + timedelta(hours=1)).replace(microsecond=0)
    return moment.astimezone(PLUS5).isoformat(), moment.strftime("%Y-%m-%dT%H:%M:%SZ")


@pytest.mark.case("IFX-PLAUS-001")
@pytest.mark.parametrize("kind", ["request", "offer"])
def test_pl1_deadline_before_timestamp(api: Api, kind: str) -> None:
    """PL-1: a deadline before the timestamp is rejected (both in the future, so PL-6 holds)."""
    extra = {"activation_time": at(3)} if kind == "offer" else {}
    ex = post(api, kind, api.build(kind, timestamp=at(2), deadline=at(1), **extra))
    expect_all([("deadline 1 h before timestamp", ex)], REJECTED, "PL-1", "deadline >= timestamp")


@pytest.mark.case("IFX-PLAUS-002")
@pytest.mark.parametrize("kind", ["request", "offer"])
def test_pl1_boundary(api: Api, kind: str) -> None:
    """PL-1 boundary: deadline == timestamp passes, also when the same instant carries another offset."""
    extra = {"activation_time": at(3)} if kind == "offer" else {}
    local, utc = same_instant_pair()
    same = at(1)
    results = [
        ("deadline == timestamp", post(api, kind, api.build(kind, timestamp=same, deadline=same, **extra))),
        (
            f"timestamp {local}, deadline {utc}",
            post(api, kind, api.build(kind, timestamp=local, deadline=utc, **extra)),
        ),
    ]
    expect_all(results, ACCEPTED, "PL-1", "a deadline equal (as an instant) to the timestamp is plausible")


@pytest.mark.case("IFX-PLAUS-003")
@pytest.mark.parametrize("kind", ["offer", "activation"])
def test_pl2_activation_before_timestamp(api: Api, kind: str) -> None:
    """PL-2: an activation_time before the timestamp is rejected."""
    if kind == "offer":
        body = api.build("offer", timestamp=at(2), deadline=at(3), activation_time=at(1))
    else:
        body = activation_body(api, api.create_offer("agg1"), timestamp=at(2), activation_time=at(1))
    expect_all(
        [("activation_time 1 h before timestamp", post(api, kind, body))],
        REJECTED,
        "PL-2",
        "activation_time >= timestamp",
    )


@pytest.mark.case("IFX-PLAUS-004")
@pytest.mark.parametrize("kind", ["offer", "activation"])
def test_pl2_boundary(api: Api, kind: str) -> None:
    """PL-2 boundary: activation_time == timestamp passes, also with the same instant in another offset."""
    local, utc = same_instant_pair()
    same = at(1)
    offer = api.create_offer("agg1") if kind == "activation" else None
    results = []
    for label, ts, act in (
        ("activation_time == timestamp", same, same),
        (f"timestamp {local}, activation_time {utc}", local, utc),
    ):
        if offer is None:
            body = api.build("offer", timestamp=ts, deadline=at(2), activation_time=act)
        else:
            body = activation_body(api, offer, timestamp=ts, activation_time=act)
        results.append((label, post(api, kind, body)))
    expect_all(results, ACCEPTED, "PL-2", "an activation_time equal (as an instant) to the timestamp is plausible")


def pl3_body(api: Api, kind: str, power: float, granularity: float) -> dict[str, Any]:
    """A plausible object of `kind` except for the given flexible_power and granularity."""
    if kind == "offer":
        return api.build("offer", flexible_power=power, granularity=granularity)
    if kind == "activation":
        return activation_body(api, api.create_offer("agg1"), flexible_power=power, granularity=granularity)
    return answer_body(api, kind, api.create_activation("agg1"), flexible_power=power, granularity=granularity)


@pytest.mark.case("IFX-PLAUS-005")
@pytest.mark.parametrize("kind", ["offer", "activation", "ack", "nack"])
def test_pl3_granularity_above_power(api: Api, kind: str) -> None:
    """PL-3: granularity > flexible_power (> 0) is rejected."""
    ex = post(api, kind, pl3_body(api, kind, 5, 6.5))
    expect_all([("flexible_power 5, granularity 6.5", ex)], REJECTED, "PL-3", "granularity <= flexible_power")


@pytest.mark.case("IFX-PLAUS-006")
@pytest.mark.parametrize("kind", ["offer", "activation", "ack", "nack"])
def test_pl3_boundary(api: Api, kind: str) -> None:
    """PL-3 boundary: granularity == flexible_power passes; an offer of power 0 may have any granularity."""
    results = [("granularity == flexible_power", post(api, kind, pl3_body(api, kind, 7.5, 7.5)))]
    if kind == "offer":
        results.append(("flexible_power 0, granularity 10", post(api, kind, pl3_body(api, kind, 0, 10))))
    expect_all(results, ACCEPTED, "PL-3", "PL-3 only applies when granularity exceeds a positive flexible_power")


@pytest.mark.case("IFX-PLAUS-007")
def test_pl4_foreign_entity(api: Api) -> None:
    """PL-4: an offer whose entity_id is another aggregator than the path's {agg} is rejected."""
    ex = post(api, "offer", api.build("offer", entity_id=api.entity("agg2")), agg="agg1")
    expect_all([("agg1 posts an offer with entity_id agg2", ex)], REJECTED, "PL-4", "entity_id equals {agg}")


@pytest.mark.case("IFX-PLAUS-008")
def test_pl4_boundary(api: Api) -> None:
    """PL-4 boundary: each aggregator's offer with its own entity_id passes."""
    results = [
        (
            f"{agg} posts an offer with entity_id {api.entity(agg)}",
            post(api, "offer", api.build("offer", entity_id=api.entity(agg)), agg=agg),
        )
        for agg in ("agg1", "agg2")
    ]
    expect_all(results, ACCEPTED, "PL-4", "an offer whose entity_id is its path's {agg} is plausible")


def other(values: tuple[str, ...], current: str) -> str:
    """A valid value different from `current`."""
    return next(v for v in values if v != current)


@pytest.mark.case("IFX-PLAUS-009")
def test_pl5_activation_not_matching_offer(api: Api) -> None:
    """PL-5: an activation must name a stored offer of {agg} and keep within its power, unit and currency."""
    offer = api.create_offer("agg1", flexible_power=50, granularity=5)
    foreign = api.create_offer("agg2")
    variants = {
        "offer_id never stored": activation_body(api, offer, offer_id=api.new_id("off")),
        "offer of agg2 activated under agg1": activation_body(api, offer, offer_id=foreign["offer_id"]),
        "flexible_power above the offer's": activation_body(api, offer, flexible_power=50.5),
        "another unit": activation_body(api, offer, unit=other(("W", "kW", "MW"), offer["unit"])),
        "another currency": activation_body(api, offer, currency=other(("EUR", "USD", "CHF"), offer["currency"])),
    }
    results = [(label, post(api, "activation", body)) for label, body in variants.items()]
    expect_all(results, REJECTED, "PL-5", "an activation matches a stored offer of {agg}")


@pytest.mark.case("IFX-PLAUS-010")
def test_pl5_boundary(api: Api) -> None:
    """PL-5 boundary: an activation of the offer's full power, or of less, passes."""
    offer = api.create_offer("agg1", flexible_power=50, granularity=5)
    results = [
        ("flexible_power == the offer's", post(api, "activation", activation_body(api, offer))),
        ("flexible_power below the offer's", post(api, "activation", activation_body(api, offer, flexible_power=20))),
    ]
    expect_all(results, ACCEPTED, "PL-5", "an activation within its offer is plausible")


@pytest.mark.case("IFX-PLAUS-011")
@pytest.mark.parametrize("kind", ["request", "offer"])
def test_pl6_deadline_in_the_past(api: Api, kind: str) -> None:
    """PL-6: a request or offer whose deadline has passed is rejected (PL-1/PL-2 hold)."""
    extra = {"activation_time": at(-48)} if kind == "offer" else {}
    ex = post(api, kind, api.build(kind, timestamp=at(-48), deadline=at(-24), **extra))
    expect_all([("deadline one day ago", ex)], REJECTED, "PL-6", "the deadline is not in the past")


@pytest.mark.case("IFX-PLAUS-012")
@pytest.mark.parametrize("kind", ["request", "offer"])
def test_pl6_boundary(api: Api, kind: str) -> None:
    """PL-6 boundary: an old timestamp with a deadline still ahead passes."""
    ts = at(-24)  # one base time: two calls could straddle a second boundary and break PL-2
    extra = {"activation_time": ts} if kind == "offer" else {}
    ex = post(api, kind, api.build(kind, timestamp=ts, deadline=at(1), **extra))
    expect_all(
        [("timestamp one day ago, deadline in 1 h", ex)], ACCEPTED, "PL-6", "only the deadline must not be in the past"
    )


@pytest.mark.case("IFX-PLAUS-013")
@pytest.mark.parametrize("kind", ["ack", "nack"])
def test_pl7_answer_without_activation(api: Api, kind: str) -> None:
    """PL-7: an ACK/NACK must name an offer activated to {agg}, and its activation_id such an activation.

    The two offer_id variants carry no activation_id (optional, P-04), so the offer_id rule is tested alone.
    """
    activation = api.create_activation("agg1")
    other_activation = api.create_activation("agg1")
    not_activated = api.create_offer("agg1")
    variants = [
        (
            "offer of agg1 without activation (no activation_id)",
            answer_body(api, kind, activation, offer_id=not_activated["offer_id"], activation_id=DROP),
            "agg1",
        ),
        (
            "offer_id never stored (no activation_id)",
            answer_body(api, kind, activation, offer_id=api.new_id("off"), activation_id=DROP),
            "agg1",
        ),
        ("agg2 answers an activation to agg1", answer_body(api, kind, activation), "agg2"),
        ("activation_id never stored", answer_body(api, kind, activation, activation_id=api.new_id("act")), "agg1"),
        (
            "activation_id of another offer's activation",
            answer_body(api, kind, activation, activation_id=other_activation["activation_id"]),
            "agg1",
        ),
    ]
    results = [(label, post(api, kind, body, agg=agg)) for label, body, agg in variants]
    expect_all(results, REJECTED, "PL-7", f"a {kind.upper()} answers an activation to {{agg}}")


@pytest.mark.case("IFX-PLAUS-014")
@pytest.mark.parametrize("kind", ["ack", "nack"])
def test_pl7_boundary(api: Api, kind: str) -> None:
    """PL-7 boundary: with the matching activation_id, or without the optional activation_id, it passes."""
    activation = api.create_activation("agg1")
    without = answer_body(api, kind, activation)
    del without["activation_id"]
    results = [
        ("matching activation_id", post(api, kind, answer_body(api, kind, activation))),
        ("no activation_id (optional, P-04)", post(api, kind, without)),
    ]
    expect_all(results, ACCEPTED, "PL-7", f"a {kind.upper()} of an activation to {{agg}} is plausible")
