"""Shared plumbing of the six D3.5 modules: their base URL and a one-shot call of `send`."""

from __future__ import annotations

from typing import Any

import requests

from interflex.client._transport import send
from interflex.profile import API_PREFIX


def base_url(host: str, port: int | str, version: str) -> str:
    """D3.5's base URL convention: `http://{host}:{port}/interflex/api/{version}`."""
    return f"http://{host}:{port}{API_PREFIX}/{version}"


def call(host: str, port: int | str, version: str, op_id: str, **kwargs: Any) -> Any:
    """Perform one operation with a short-lived session (D3.5 functions keep no state)."""
    with requests.Session() as session:
        return send(session, base_url(host, port, version), op_id, **kwargs)
