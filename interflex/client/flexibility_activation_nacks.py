"""D3.5 section 3.2.6: flexibility activation NACKs (N1-N4) and `create_activation_nack`.

D3.5 names two parameters after the ACK module (`flexibility_activation` in table 44,
`activation_ack_id` in table 48); they keep their positions here under the right names,
`flex_activation_nack` and `activation_nack_id`.
"""

from __future__ import annotations

from typing import Any

from interflex.client._d35 import call
from interflex.client._objects import build


def get_activation_nack_id(host: str, port: int | str, entity_id: str, access_token: str, version: str = "v1") -> str:
    """N1: a new NACK id for aggregator `entity_id` (ID-1, P-05; D3.5 lists no table for it)."""
    return call(host, port, version, "N1", path={"agg": entity_id}, token=access_token)


def post_activation_nack(
    host: str,
    port: int | str,
    entity_id: str,
    access_token: str,
    flex_activation_nack: dict[str, Any],
    version: str = "v1",
) -> dict[str, Any]:
    """N2: aggregator `entity_id` posts a NACK; returns the JSON body or `{}` (D3.5 tables 44-45)."""
    return call(host, port, version, "N2", path={"agg": entity_id}, token=access_token, body=flex_activation_nack)


def get_all_activation_nacks(
    host: str, port: int | str, access_token: str, aggregator: str, version: str = "v1"
) -> list[dict[str, Any]]:
    """N3: the NACKs of `aggregator` (tables 46-47)."""
    return call(host, port, version, "N3", path={"agg": aggregator}, token=access_token)


def delete_activation_nack(
    host: str, port: int | str, access_token: str, aggregator: str, activation_nack_id: str, version: str = "v1"
) -> dict[str, Any]:
    """N4: delete NACK `activation_nack_id` of `aggregator`; returns the JSON body or `{}` (tables 48-49)."""
    return call(host, port, version, "N4", path={"agg": aggregator, "nackId": activation_nack_id}, token=access_token)


def create_activation_nack(
    nack_id: str,
    timestamp: str,
    offer_id: str,
    flexible_power: float,
    granularity: float,
    duration: float,
    unit: str,
    activation_time: str,
) -> dict[str, Any]:
    """A validated FlexibilityActivationNack (tables 50-51); raises `InvalidObjectError` (a ValueError).

    The optional `activation_id` (P-04) and `reason` are not D3.5 arguments: add them to the dict.
    """
    return build(
        "FlexibilityActivationNack",
        nack_id=nack_id,
        timestamp=timestamp,
        offer_id=offer_id,
        flexible_power=flexible_power,
        granularity=granularity,
        duration=duration,
        unit=unit,
        activation_time=activation_time,
    )
