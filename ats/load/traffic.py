"""The messages of PROFILE.md section 8 as the simulated participants send them (plain Python).

Every body is valid (section 4) and plausible (PL-1...PL-7), whatever the platform declares (built
by `interflex.samples`), so that a rejection is never the load generator's fault: a request for
the IXIT's region, offers answering it (P-03, `flexible_power` 0 when the aggregator cannot help,
finding 002), an activation copying its offer (PL-5), an ACK or NACK copying its activation
(PL-7, P-04).
"""

from __future__ import annotations

import random
from typing import Any

from interflex.ixit import Ixit
from interflex.profile import OPERATIONS_BY_ID
from interflex.samples import ACTIVATION_FROM_OFFER, ANSWER_FROM_ACTIVATION, Samples


def path(op_id: str, **params: str) -> str:
    """The path of operation `op_id` (section 2) with its parameters."""
    return OPERATIONS_BY_ID[op_id].url_path(**params)


def _samples(ixit: Ixit, aggregator: str = "agg1") -> Samples:
    return Samples(region_id=ixit.region_id, unit=ixit.unit, currency=ixit.currency, aggregator=aggregator)


def request(ixit: Ixit, request_id: str) -> dict[str, Any]:
    """A DSO's FlexibilityRequest for the IXIT's region (step 1)."""
    return _samples(ixit).build("request", request_id=request_id, flexible_power=random.choice((50, 100, 250)))


def offer(ixit: Ixit, offer_id: str, entity_id: str, answered: dict[str, Any]) -> dict[str, Any]:
    """An aggregator's FlexibilityOffer answering `answered` (step 2); one in ten offers nothing (power 0)."""
    power = 0 if random.random() < 0.1 else min(_number(answered.get("flexible_power")), 100.0)
    return _samples(ixit, entity_id).build(
        "offer",
        offer_id=offer_id,
        flexible_power=power,
        flex_price=round(random.uniform(5, 50), 2),
        request_id=answered["request_id"],
    )


def activation(ixit: Ixit, activation_id: str, chosen: dict[str, Any]) -> dict[str, Any]:
    """The DSO's FlexibilityActivation of the offer `chosen` (step 3, PL-5: its power, unit, currency)."""
    return _samples(ixit).activation(chosen, activation_id=activation_id)


def answer(ixit: Ixit, kind: str, answer_id: str, activated: dict[str, Any]) -> dict[str, Any]:
    """An ACK (`kind` "ack") or NACK ("nack") of the activation `activated` (step 4, PL-7, P-04)."""
    extra = {"reason": "not available under load test"} if kind == "nack" else {}
    return _samples(ixit).answer(kind, activated, **{f"{kind}_id": answer_id}, **extra)


def cheapest(offers: list[Any], request_ids: set[str], taken: set[str]) -> dict[str, Any] | None:
    """The cheapest offer with power > 0 answering one of `request_ids`, not yet activated (`taken`)."""
    fitting = [
        o
        for o in offers
        if isinstance(o, dict)
        and all(isinstance(o.get(key), str) for key in ("offer_id", "request_id", "entity_id"))
        and o.get("request_id") in request_ids
        and o.get("offer_id") not in taken
        and _positive(o.get("flexible_power"))
        and all(key in o for key in ACTIVATION_FROM_OFFER)
    ]
    return min(fitting, key=lambda o: _number(o.get("flex_price")), default=None)


def answerable(activated: dict[str, Any]) -> bool:
    """The activation carries every field an ACK or NACK copies from it."""
    return all(key in activated for key in ANSWER_FROM_ACTIVATION)


def _positive(value: object) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and value > 0


def _number(value: object) -> float:
    return float(value) if isinstance(value, int | float) and not isinstance(value, bool) else float("inf")
