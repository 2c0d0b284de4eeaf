"""Plausibility rules that need the path or the store: PL-4...PL-7 (PROFILE.md section 6).

PL-1...PL-3 concern a single message and come from `interflex.validation`.
"""

from __future__ import annotations

import json
from typing import Any

from reference_server.store import Store
from reference_server.times import now_key

REQUEST, OFFER, ACTIVATION = "FlexibilityRequest", "FlexibilityOffer", "FlexibilityActivation"
ACK, NACK = "FlexibilityActivationAck", "FlexibilityActivationNack"


def _number(value: object) -> float | None:
    return value if isinstance(value, int | float) and not isinstance(value, bool) else None


def _pl5(store: Store, obj: dict[str, Any], agg: str) -> list[str]:
    offer = store.get(OFFER, obj["offer_id"]) if isinstance(obj.get("offer_id"), str) else None
    if offer is None or offer.agg != agg:
        return [f"PL-5: offer_id {obj.get('offer_id')!r} is not a stored offer of aggregator {agg!r}"]
    stored = json.loads(offer.body)
    problems = []
    power, limit = _number(obj.get("flexible_power")), _number(stored.get("flexible_power"))
    if power is not None and limit is not None and power > limit:
        problems.append(f"PL-5: flexible_power {power} exceeds the offer's {limit}")
    problems += [
        f"PL-5: {field} {obj.get(field)!r} differs from the offer's {stored.get(field)!r}"
        for field in ("unit", "currency")
        if obj.get(field) != stored.get(field)
    ]
    return problems


def _pl7(store: Store, obj: dict[str, Any], agg: str) -> list[str]:
    offer_id = obj.get("offer_id")
    activations = store.find(ACTIVATION, agg=agg, offer_id=offer_id) if isinstance(offer_id, str) else []
    if not activations:
        return [f"PL-7: no activation of offer {offer_id!r} to aggregator {agg!r} is stored"]
    if "activation_id" in obj and obj["activation_id"] not in [a.id for a in activations]:
        return [f"PL-7: activation_id {obj['activation_id']!r} is not an activation of offer {offer_id!r} to {agg!r}"]
    return []


def check(
    store: Store, kind: str, obj: dict[str, Any], params: dict[str, str], deadline: str | None, skip_pl5: bool = False
) -> list[str]:
    """Break-downs of PL-4...PL-7 for an object about to be stored under the path `params`.

    `deadline` is the `instant_key` of the object's deadline (None when it has none).
    """
    problems: list[str] = []
    if kind == OFFER and obj.get("entity_id") != params["agg"]:
        problems.append(f"PL-4: entity_id {obj.get('entity_id')!r} is not the aggregator {params['agg']!r} of the path")
    if kind in (REQUEST, OFFER) and deadline is not None and deadline < now_key():
        problems.append(f"PL-6: deadline {obj['deadline']} is in the past")
    if kind == ACTIVATION and not skip_pl5:
        problems += _pl5(store, obj, params["agg"])
    if kind in (ACK, NACK):
        problems += _pl7(store, obj, params["agg"])
    return problems
