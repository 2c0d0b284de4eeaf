"""The bundled demo accounts and a client logged in with them: for tests, benchmarks and examples.

Valid sample objects come from `interflex.samples`.
"""

from __future__ import annotations

from typing import Any

import requests

CLIENT_ID = CLIENT_SECRET = "client"
PASSWORDS: dict[str, str] = {"dso1": "dso1-demo", "agg1": "agg1-demo", "agg2": "agg2-demo"}


def login(session: requests.Session, base_url: str, username: str) -> dict[str, Any]:
    """A1 for a demo user; the TokenResponse (raises for a non-200 answer)."""
    form = {
        "grant_type": "password",
        "username": username,
        "password": PASSWORDS[username],
        "client_id": CLIENT_ID,
        "client_secret": CLIENT_SECRET,
    }
    response = session.post(f"{base_url}/authentication/token", data=form, timeout=10)
    response.raise_for_status()
    return response.json()


class DemoClient:
    """A keep-alive HTTP client for a server with the demo accounts; logs users in on first use.

    `call(method, path, as_="dso1", **requests_kwargs)` sends to `base_url + path` with that
    user's bearer token (`as_=None`: no Authorization header).
    """

    def __init__(self, base_url: str) -> None:
        self.base_url = base_url
        self.session = requests.Session()
        self._tokens: dict[str, str] = {}

    def token(self, username: str) -> str:
        """The cached access token of a demo user."""
        if username not in self._tokens:
            self._tokens[username] = login(self.session, self.base_url, username)["access_token"]
        return self._tokens[username]

    def call(self, method: str, path: str, as_: str | None = "dso1", **kwargs: Any) -> requests.Response:
        """Send one request; extra keyword arguments go to `requests.Session.request`."""
        headers = dict(kwargs.pop("headers", None) or {})
        if as_ is not None:
            headers.setdefault("Authorization", f"Bearer {self.token(as_)}")
        return self.session.request(method, self.base_url + path, headers=headers, timeout=30, **kwargs)

    def close(self) -> None:
        """Close the keep-alive connections."""
        self.session.close()
