"""D3.5 section 3.2.1: authentication (A1, A2), as in the original client."""

from __future__ import annotations

from typing import Any

from interflex.client._d35 import call


def authenticate(
    host: str,
    port: int | str,
    username: str,
    user_secret: str,
    client_id: str,
    client_secret: str,
    version: str = "v1",
) -> dict[str, Any]:
    """A1: log in with the password grant and return the TokenResponse (D3.5 tables 2-3, AU-1)."""
    form = {
        "grant_type": "password",
        "username": username,
        "password": user_secret,
        "client_id": client_id,
        "client_secret": client_secret,
    }
    return call(host, port, version, "A1", form=form)


def refresh(
    host: str,
    port: int | str,
    refresh_token: str,
    client_id: str,
    client_secret: str,
    version: str = "v1",
) -> dict[str, Any]:
    """A2: exchange a refresh token for a new TokenResponse (D3.5 tables 4-5, AU-2)."""
    form = {
        "grant_type": "refresh_token",
        "refresh_token": refresh_token,
        "client_id": client_id,
        "client_secret": client_secret,
    }
    return call(host, port, version, "A2", form=form)
