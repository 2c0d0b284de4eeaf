"""D3.5 section 3.2.5: flexibility activation ACKs (K1-K4) and `create_activation_ack`."""

from __future__ import annotations

from typing import Any

from interflex.client._d35 import call
from interflex.client._objects import build


def get_activation_ack_id(host: str, port: int | str, entity_id: str, access_token: str, version: str = "v1") -> str:
    """K1: a new ACK id for aggregator `entity_id` (ID-1, P-05; D3.5 lists no table for it)."""
    return call(host, port, version, "K1", path={"agg": entity_id}, token=access_token)


def post_activation_ack(
    host: str,
    port: int | str,
    entity_id: str,
    access_token: str,
    flex_activation_ack: dict[str, Any],
    version: str = "v1",
) -> dict[str, Any]:
    """K2: aggregator `entity_id` posts an ACK; returns the JSON body or `{}` (D3.5 tables 36-37)."""
    return call(host, port, version, "K2", path={"agg": entity_id}, token=access_token, body=flex_activation_ack)


def get_all_activation_acks(
    host: str, port: int | str, access_token: str, aggregator: str, version: str = "v1"
) -> list[dict[str, Any]]:
    """K3: the ACKs of `aggregator` (tables 38-39)."""
    return call(host, port, version, "K3", path={"agg": aggregator}, token=access_token)


def delete_activation_ack(
    host: str, port: int | str, access_token: str, aggregator: str, activation_ack_id: str, version: str = "v1"
) -> dict[str, Any]:
    """K4: delete ACK `activation_ack_id` of `aggregator`; returns the JSON body or `{}` (tables 40-41)."""
    return call(host, port, version, "K4", path={"agg": aggregator, "ackId": activation_ack_id}, token=access_token)


def create_activation_ack(
    ack_id: str,
    timestamp: str,
    offer_id: str,
    flexible_power: float,
    granularity: float,
    duration: float,
    unit: str,
    activation_time: str,
) -> dict[str, Any]:
    """A validated FlexibilityActivationAck (tables 42-43); raises `InvalidObjectError` (a ValueError).

    The optional `activation_id` (P-04) is not a D3.5 argument: add it to the returned dict.
    """
    return build(
        "FlexibilityActivationAck",
        ack_id=ack_id,
        timestamp=timestamp,
        offer_id=offer_id,
        flexible_power=flexible_power,
        granularity=granularity,
        duration=duration,
        unit=unit,
        activation_time=activation_time,
    )
