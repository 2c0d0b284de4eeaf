"""D3.5 section 3.2.2: flexibility requests (R1-R4) and `create_request`."""

from __future__ import annotations

from typing import Any

from interflex.client._d35 import call
from interflex.client._objects import build


def get_request_id(host: str, port: int | str, entity_id: str, access_token: str, version: str = "v1") -> str:
    """R1: a new request id for DSO `entity_id` (D3.5 tables 6-7, ID-1, P-05)."""
    return call(host, port, version, "R1", path={"dso": entity_id}, token=access_token)


def post_request(
    host: str, port: int | str, entity_id: str, access_token: str, request: dict[str, Any], version: str = "v1"
) -> dict[str, Any]:
    """R2: post a FlexibilityRequest of DSO `entity_id`; returns the server's JSON body or `{}` (tables 8-9)."""
    return call(host, port, version, "R2", path={"dso": entity_id}, token=access_token, body=request)


def get_all_requests(
    host: str, port: int | str, entity_id: str, access_token: str, version: str = "v1"
) -> list[dict[str, Any]]:
    """R3: all FlexibilityRequests of DSO `entity_id` (tables 10-11)."""
    return call(host, port, version, "R3", path={"dso": entity_id}, token=access_token)


def delete_request(
    host: str, port: int | str, entity_id: str, access_token: str, request_id: str, version: str = "v1"
) -> dict[str, Any]:
    """R4: delete request `request_id` of DSO `entity_id`; returns the JSON body or `{}` (tables 12-13)."""
    return call(host, port, version, "R4", path={"dso": entity_id, "requestId": request_id}, token=access_token)


def create_request(
    request_id: str,
    timestamp: str,
    deadline: str,
    region_id: str,
    flexible_power: float,
    duration: float,
    unit: str,
) -> dict[str, Any]:
    """A validated FlexibilityRequest (tables 14-15); raises `InvalidObjectError` (a ValueError)."""
    return build(
        "FlexibilityRequest",
        request_id=request_id,
        timestamp=timestamp,
        deadline=deadline,
        region_id=region_id,
        flexible_power=flexible_power,
        duration=duration,
        unit=unit,
    )
