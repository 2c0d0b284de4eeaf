"""The messages of PROFILE.md section 8 as the simulated participants send them (plain Python).

Every body is valid (section 4) and plausible (PL-1...PL-7), whatever the platform declares, so
that a rejection is never the load generator's fault: a request for the IXIT's region, offers
answering it (P-03, `flexible_power` 0 when the aggregator cannot help, finding 002), an
activation copying its offer (PL-5), an ACK or NACK copying its activation (PL-7, P-04).
"""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta
from typing import Any

from interflex.ixit import Ixit
from interflex.profile import OPERATIONS_BY_ID

ACTIVATION_FIELDS = ("granularity", "duration", "unit", "activation_time", "flex_price", "flex_type", "currency")
ANSWER_FIELDS = ("granularity", "duration", "unit", "activation_time")


def now(delta_s: float = 0.0) -> str:
    """An RFC 3339 instant with an explicit offset (P-01), `delta_s` seconds from now."""
    return (datetime.now(UTC) + timedelta(seconds=delta_s)).isoformat(timespec="seconds")


def path(op_id: str, **params: str) -> str:
    """The path of operation `op_id` (section 2) with its parameters."""
    return OPERATIONS_BY_ID[op_id].url_path(**params)


def request(ixit: Ixit, request_id: str) -> dict[str, Any]:
    """A DSO's FlexibilityRequest for the IXIT's region (step 1)."""
    return {
        "request_id": request_id,
        "timestamp": now(),
        "deadline": now(3600),
        "region_id": ixit.region_id,
        "flexible_power": random.choice((50, 100, 250)),
        "duration": 900,
        "unit": ixit.unit,
        "activation_time": now(7200),
    }


def offer(ixit: Ixit, offer_id: str, entity_id: str, answered: dict[str, Any]) -> dict[str, Any]:
    """An aggregator's FlexibilityOffer answering `answered` (step 2); one in ten offers nothing (power 0)."""
    power = 0 if random.random() < 0.1 else min(float(answered.get("flexible_power") or 10), 100.0)
    return {
        "offer_id": offer_id,
        "entity_id": entity_id,
        "timestamp": now(),
        "deadline": now(3600),
        "region_id": ixit.region_id,
        "flexible_power": power,
        "granularity": 5,
        "duration": 900,
        "unit": ixit.unit,
        "activation_time": now(7200),
        "flex_price": round(random.uniform(5, 50), 2),
        "flex_type": "load-reduction",
        "currency": ixit.currency,
        "request_id": answered["request_id"],
    }


def activation(activation_id: str, chosen: dict[str, Any]) -> dict[str, Any]:
    """The DSO's FlexibilityActivation of the offer `chosen` (step 3, PL-5: its power, unit, currency)."""
    body = {"activation_id": activation_id, "timestamp": now(), "offer_id": chosen["offer_id"]}
    body["flexible_power"] = chosen["flexible_power"]
    body.update({key: chosen[key] for key in ACTIVATION_FIELDS})
    return body


def answer(kind_field: str, answer_id: str, activated: dict[str, Any]) -> dict[str, Any]:
    """An ACK (`ack_id`) or NACK (`nack_id`) of the activation `activated` (step 4, PL-7, P-04)."""
    body = {kind_field: answer_id, "timestamp": now(), "offer_id": activated["offer_id"]}
    body["activation_id"] = activated["activation_id"]
    body["flexible_power"] = activated["flexible_power"]
    body.update({key: activated[key] for key in ANSWER_FIELDS})
    if kind_field == "nack_id":
        body["reason"] = "not available under load test"
    return body


def cheapest(offers: list[Any], request_ids: set[str], taken: set[str]) -> dict[str, Any] | None:
    """The cheapest offer with power > 0 answering one of `request_ids`, not yet activated (`taken`)."""
    fitting = [
        o
        for o in offers
        if isinstance(o, dict)
        and o.get("request_id") in request_ids
        and o.get("offer_id") not in taken
        and _positive(o.get("flexible_power"))
        and all(key in o for key in ACTIVATION_FIELDS)
    ]
    return min(fitting, key=lambda o: _number(o.get("flex_price")), default=None)


def _positive(value: object) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and value > 0


def _number(value: object) -> float:
    return float(value) if isinstance(value, int | float) and not isinstance(value, bool) else float("inf")
