"""D3.5 section 3.2.4: flexibility activations (V1-V4) and `create_activation`."""

from __future__ import annotations

from typing import Any

from interflex.client._d35 import call
from interflex.client._objects import build


def get_activation_id(host: str, port: int | str, entity_id: str, access_token: str, version: str = "v1") -> str:
    """V1: a new activation id for DSO `entity_id` (D3.5 tables 26-27, ID-1, P-05)."""
    return call(host, port, version, "V1", path={"dso": entity_id}, token=access_token)


def post_activation(
    host: str,
    port: int | str,
    entity_id: str,
    aggregator: str,
    access_token: str,
    flexibility_activation: dict[str, Any],
    version: str = "v1",
) -> dict[str, Any]:
    """V2: DSO `entity_id` activates an offer of `aggregator`; returns the JSON body or `{}` (tables 28-29)."""
    return call(
        host,
        port,
        version,
        "V2",
        path={"dso": entity_id, "agg": aggregator},
        token=access_token,
        body=flexibility_activation,
    )


def get_all_activations(
    host: str, port: int | str, entity_id: str, access_token: str, aggregator: str, version: str = "v1"
) -> list[dict[str, Any]]:
    """V3: the activations DSO `entity_id` sent to `aggregator` (tables 30-31)."""
    return call(host, port, version, "V3", path={"dso": entity_id, "agg": aggregator}, token=access_token)


def delete_activation(
    host: str,
    port: int | str,
    entity_id: str,
    access_token: str,
    aggregator: str,
    activation_id: str,
    version: str = "v1",
) -> dict[str, Any]:
    """V4: delete activation `activation_id`; returns the JSON body or `{}` (tables 32-33)."""
    path = {"dso": entity_id, "agg": aggregator, "activationId": activation_id}
    return call(host, port, version, "V4", path=path, token=access_token)


def create_activation(
    activation_id: str,
    timestamp: str,
    offer_id: str,
    flexible_power: float,
    granularity: float,
    duration: float,
    unit: str,
    activation_time: str,
    flex_price: float,
    flex_type: str,
    currency: str,
) -> dict[str, Any]:
    """A validated FlexibilityActivation (tables 34-35); raises `InvalidObjectError` (a ValueError)."""
    return build(
        "FlexibilityActivation",
        activation_id=activation_id,
        timestamp=timestamp,
        offer_id=offer_id,
        flexible_power=flexible_power,
        granularity=granularity,
        duration=duration,
        unit=unit,
        activation_time=activation_time,
        flex_price=flex_price,
        flex_type=flex_type,
        currency=currency,
    )
