"""Request-based negotiation end to end: NG-1 (PROFILE.md section 8, D3.5 section 3.4).

One DSO and two aggregators play section 8 through the API only: request (R1, R2), offers answering
it via `request_id` (R3, O1, O2, P-03), selection of the cheapest feasible offer from O3, activation
of the winner (V1, V2), the winner's ACK or NACK (V3, K1/K2 or N1/N2), the DSO reading it (K3/N3),
and every party deleting what it created (K4/N4, V4, O4, R4).
"""

from __future__ import annotations

from typing import Any

import pytest

from ats.cases._bodies import activation_body, answer_body
from ats.checks import expect_round_trip, expect_status, find
from ats.session import Api
from ats.verdicts import Failure
from interflex.profile import ID_FIELDS, OPERATIONS_BY_ID

AGGS = ("agg1", "agg2")
# ending -> (agg1 offer (power, price), agg2 offer (power, price)); power 0 = "cannot help" (finding 002)
SCENARIOS = {"ack": {"agg1": (100, 12.0), "agg2": (100, 8.5)}, "nack": {"agg1": (100, 15.0), "agg2": (0, 0.0)}}


def new_id(api: Api, op_id: str, role: str, agg: str = "agg1") -> str:
    """Get a fresh id from an id getter (R1, O1, V1, K1, N1) as `role`."""
    ex = api.call(op_id, as_=role, path={"agg": api.entity(agg)})
    expect_status(ex, 200, f"NG-1, {op_id}", f"{role} gets an id from {op_id}")
    return ex.json()[ID_FIELDS[OPERATIONS_BY_ID[op_id].kind]]  # the call checked the IdResponse and its field


def post(api: Api, op_id: str, role: str, body: dict[str, Any], kind: str, agg: str = "agg1") -> None:
    """POST `body` as `role` (deleted at teardown if the test stops early); FAIL unless it succeeds."""
    ex = api.call(op_id, as_=role, path={"agg": api.entity(agg)}, json=body)
    if 200 <= ex.status < 300:
        api.track(kind, body, agg=api.entity(agg))
    expect_status(ex, OPERATIONS_BY_ID[op_id].success, f"NG-1, {op_id}", f"{role} posts its {kind}")


def delete(api: Api, op_id: str, role: str, kind: str, obj_id: str, agg: str = "agg1") -> None:
    """DELETE as `role`; FAIL unless it succeeds and the object is gone from the owner's list."""
    param = OPERATIONS_BY_ID[op_id].path_params[-1]
    ex = api.call(op_id, as_=role, path={"agg": api.entity(agg), param: obj_id})
    expect_status(ex, OPERATIONS_BY_ID[op_id].success, f"NG-1, {op_id}", f"{role} deletes its {kind}")
    field = f"{kind}_id"
    if find(api.list(kind, as_=role, agg=agg), field, obj_id) is not None:
        raise Failure(f"NG-1, ST-9: after {op_id} the {kind} {obj_id!r} must be gone; it is still listed")


def negotiate(api: Api, ending: str) -> None:
    """Play section 8 with the given ending ("ack" or "nack")."""
    # 1. The DSO gets a request id and posts a request.
    request = api.build("request", request_id=new_id(api, "R1", "dso"), flexible_power=100)
    post(api, "R2", "dso", request, "request")
    # 2. Both aggregators read it and answer with an offer referring to it (P-03).
    offers = {}
    for agg in AGGS:
        expect_round_trip(request, api.list("request", as_=agg), "request_id", "NG-1, R3", f"R3 as read by {agg}")
        power, price = SCENARIOS[ending][agg]
        offer = api.build(
            "offer",
            offer_id=new_id(api, "O1", agg, agg),
            entity_id=api.entity(agg),
            request_id=request["request_id"],
            region_id=request["region_id"],
            unit=request["unit"],
            duration=request["duration"],
            flexible_power=power,
            flex_price=price,
        )
        post(api, "O2", agg, offer, "offer", agg)
        offers[agg] = offer
    # 3. The DSO finds the offers answering its request in O3 and activates the cheapest feasible one.
    listed = api.list("offer", as_="dso")
    answering = [o for o in listed if o.get("request_id") == request["request_id"]]
    for agg, offer in offers.items():
        if find(answering, "offer_id", offer["offer_id"]) is None:
            raise Failure(
                f"NG-1, P-03: the DSO finds the offers answering its request in O3 by request_id; the "
                f"offer {offer['offer_id']!r} of {agg} posted with request_id {request['request_id']!r} "
                f"is not among them ({len(answering)} listed offers carry that request_id)"
            )
        expect_round_trip(offer, answering, "offer_id", "NG-1, O3, P-03", "O3 as read by the DSO")
    feasible = [o for o in answering if o["flexible_power"] > 0 and o["unit"] == request["unit"]]
    chosen = min(feasible, key=lambda o: o["flex_price"])
    winner = next(agg for agg, offer in offers.items() if offer["offer_id"] == chosen["offer_id"])
    loser = next(agg for agg in AGGS if agg != winner)
    activation = activation_body(api, chosen, activation_id=new_id(api, "V1", "dso"))
    post(api, "V2", "dso", activation, "activation", winner)
    # 4. The winner reads its activation and answers; the loser has none.
    expect_round_trip(
        activation,
        api.list("activation", as_=winner, agg=winner),
        "activation_id",
        "NG-1, V3",
        f"V3 as read by the winner {winner}",
    )
    theirs = api.list("activation", as_=loser, agg=loser)
    ours = {o["offer_id"] for o in offers.values()}
    stray = [
        a.get("activation_id")
        for a in theirs
        if a.get("offer_id") in ours or a.get("activation_id") == activation["activation_id"]
    ]
    if stray:
        raise Failure(f"NG-1: the losing aggregator {loser} receives no activation; V3 lists {stray} for it")
    answer_op = {"ack": ("K1", "K2", "K3", "K4"), "nack": ("N1", "N2", "N3", "N4")}[ending]
    answer = answer_body(api, ending, activation, **{f"{ending}_id": new_id(api, answer_op[0], winner, winner)})
    if ending == "nack":
        answer["reason"] = "cannot deliver at the activation time"
    post(api, answer_op[1], winner, answer, ending, winner)
    # 5. The DSO reads the answer; every party deletes what it created.
    expect_round_trip(
        answer,
        api.list(ending, as_="dso", agg=winner),
        f"{ending}_id",
        f"NG-1, {answer_op[2]}",
        f"{answer_op[2]} as read by the DSO",
    )
    delete(api, answer_op[3], winner, ending, answer[f"{ending}_id"], winner)
    delete(api, "V4", "dso", "activation", activation["activation_id"], winner)
    for agg, offer in offers.items():
        delete(api, "O4", agg, "offer", offer["offer_id"], agg)
    delete(api, "R4", "dso", "request", request["request_id"])


@pytest.mark.case("IFX-NEG-001")
def test_negotiation_ack(api: Api) -> None:
    """NG-1: the negotiation ends with the cheaper aggregator (agg2) activated and acknowledging (ACK)."""
    negotiate(api, "ack")


@pytest.mark.case("IFX-NEG-002")
def test_negotiation_nack(api: Api) -> None:
    """NG-1: agg2 cannot help (power 0, finding 002); agg1 is activated and declines (NACK)."""
    negotiate(api, "nack")


@pytest.mark.case("IFX-NEG-003")
@pytest.mark.parametrize("reader", ["dso", "agg1"])
def test_offer_answers_request(api: Api, reader: str) -> None:
    """P-03: an offer's optional request_id is stored and returned by O3 (to the DSO and to its aggregator)."""
    request = api.create_request()
    offer = api.create_offer("agg1", request_id=request["request_id"])
    expect_round_trip(offer, api.list("offer", as_=reader), "offer_id", "NG-1, P-03", f"O3 as read by {reader}")


@pytest.mark.case("IFX-NEG-004")
def test_zero_power_offer(api: Api) -> None:
    """Finding 002: an aggregator that cannot help posts an offer of power 0; the DSO sees it as such."""
    request = api.create_request()
    offer = api.create_offer("agg2", request_id=request["request_id"], flexible_power=0, flex_price=0)
    expect_round_trip(offer, api.list("offer", as_="dso"), "offer_id", "NG-1, O3, finding 002", "O3 as read by the DSO")
