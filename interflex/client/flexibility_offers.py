"""D3.5 section 3.2.3: flexibility offers (O1-O4) and `create_offer`."""

from __future__ import annotations

from typing import Any

from interflex.client._d35 import call
from interflex.client._objects import build


def get_offer_id(host: str, port: int | str, entity_id: str, access_token: str, version: str = "v1") -> str:
    """O1: a new offer id for aggregator `entity_id` (D3.5 tables 16-17, ID-1, P-05)."""
    return call(host, port, version, "O1", path={"agg": entity_id}, token=access_token)


def post_offer(
    host: str, port: int | str, entity_id: str, access_token: str, offer: dict[str, Any], version: str = "v1"
) -> dict[str, Any]:
    """O2: post a FlexibilityOffer of aggregator `entity_id`; returns the JSON body or `{}` (tables 18-19)."""
    return call(host, port, version, "O2", path={"agg": entity_id}, token=access_token, body=offer)


def get_all_offers(host: str, port: int | str, access_token: str, version: str = "v1") -> list[dict[str, Any]]:
    """O3: all FlexibilityOffers the user may see (tables 20-21)."""
    return call(host, port, version, "O3", token=access_token)


def delete_offer(
    host: str, port: int | str, entity_id: str, access_token: str, offer_id: str, version: str = "v1"
) -> dict[str, Any]:
    """O4: delete offer `offer_id` of aggregator `entity_id`; returns the JSON body or `{}` (tables 22-23)."""
    return call(host, port, version, "O4", path={"agg": entity_id, "offerId": offer_id}, token=access_token)


def create_offer(
    offer_id: str,
    entity_id: str,
    timestamp: str,
    deadline: str,
    region_id: str,
    flexible_power: float,
    granularity: float,
    duration: float,
    unit: str,
    activation_time: str,
    flex_price: float,
    flex_type: str,
    currency: str,
) -> dict[str, Any]:
    """A validated FlexibilityOffer (tables 24-25); raises `InvalidObjectError` (a ValueError)."""
    return build(
        "FlexibilityOffer",
        offer_id=offer_id,
        entity_id=entity_id,
        timestamp=timestamp,
        deadline=deadline,
        region_id=region_id,
        flexible_power=flexible_power,
        granularity=granularity,
        duration=duration,
        unit=unit,
        activation_time=activation_time,
        flex_price=flex_price,
        flex_type=flex_type,
        currency=currency,
    )
