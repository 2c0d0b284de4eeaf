"""What the example DSO and aggregator clients share: their command line, token handling on the D3.5
functions, and posting an object the way PROFILE.md section 11 asks (CL-5 new id after a 409, CL-6
repetition with the same id and body after 1 s, 2 s, 4 s ..., at most 5 tries).

`dso_client.py` is built on the D3.5 client functions (`interflex.client.flexibility_requests`, ...),
`aggregator_client.py` on `InterflexClient`; both run as the client under test of the suite's client
conformance run (`interflex-ats --client-ixit fixtures/ixit/client-dso.yaml`, docs/client-conformance.md).
"""

from __future__ import annotations

import argparse
import time
import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlsplit

from interflex.client import AuthenticationError, ClientError, ConflictError, ServerError, TransportError
from interflex.client import authentication as d35_auth

MAX_TRIES = 5  # CL-6: at most 5 tries of one POST
MAX_NEW_IDS = 3  # CL-5: how often a 409 makes us take a new id before giving up


def arguments(description: str) -> argparse.ArgumentParser:
    """The options both example clients take (the placeholders of a client IXIT)."""
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--base-url", required=True, help="the platform, e.g. http://127.0.0.1:8080/interflex/api/v1")
    parser.add_argument("--user", required=True, help="the client's user name")
    parser.add_argument("--password", required=True, help="the user's password")
    parser.add_argument("--client-id", required=True, help="the OAuth client id")
    parser.add_argument("--client-secret", required=True, help="the OAuth client secret")
    parser.add_argument("--entity-id", required=True, help="the entity the client acts for ({dso} or {agg})")
    parser.add_argument("--region-id", default="region-1", help="the region of the negotiation")
    parser.add_argument("--unit", default="kW", help="W, kW or MW")
    parser.add_argument("--currency", default="EUR", help="ISO 4217 currency of prices")
    parser.add_argument("--poll", type=float, default=1.0, help="seconds between two reads of a list (CL-7)")
    parser.add_argument(
        "--own-ids", action="store_true", help="make ids (UUIDs) instead of asking the id getters (CL-5)"
    )
    return parser


def now() -> str:
    """The current time as RFC 3339 with Z (P-01)."""
    return datetime.now(UTC).replace(microsecond=0).isoformat().replace("+00:00", "Z")


def instant(value: object) -> datetime | None:
    """An RFC 3339 text as an aware datetime (None when it is not one)."""
    if not isinstance(value, str):
        return None
    try:
        moment = datetime.fromisoformat(value.upper().replace("Z", "+00:00"))
    except ValueError:
        return None
    return moment if moment.tzinfo else None


def own_id(prefix: str) -> str:
    """A client-made id matching the id pattern (finding 001, solution 1)."""
    return f"{prefix}-{uuid.uuid4().hex}"


def log(text: str) -> None:
    """One line of the client's log (stdout; the suite keeps it as evidence)."""
    print(f"{datetime.now(UTC).strftime('%H:%M:%S.%f')[:-3]} {text}", flush=True)


def retriable(exc: Exception) -> bool:
    """A failure CL-6 lets a client repeat: 5xx, 429, a timeout or a broken connection."""
    return isinstance(exc, ServerError | TransportError) or (isinstance(exc, ClientError) and exc.status == 429)


def post_object(
    what: str, new_id: Callable[[], str], build: Callable[[str], dict], post: Callable[[dict], Any]
) -> dict:
    """Post the object `build(id)`: repeat it unchanged after a retriable failure (waiting 1 s, 2 s, ...),
    take a new id after a 409 on a first try (CL-5), count a 409 on a repetition as stored (CL-6)."""
    obj, tries, new_ids, wait = build(new_id()), 0, 0, 1.0
    while True:
        tries += 1
        try:
            post(obj)
            return obj
        except ConflictError:
            if tries > 1:
                log(f"{what}: 409 on a repetition: the first try was stored")
                return obj
            new_ids += 1
            if new_ids > MAX_NEW_IDS:
                raise
            log(f"{what}: 409 on a first try: taking a new id")
            obj, tries, wait = build(new_id()), 0, 1.0
        except (ServerError, TransportError, ClientError) as exc:
            if not retriable(exc) or tries >= MAX_TRIES:
                raise
            log(f"{what}: {exc}; repeating in {wait:g} s")
            time.sleep(wait)
            wait *= 2


class Tokens:
    """Tokens for the D3.5 functions: log in (A1), refresh (A2) with the newest refresh token at half the
    token's lifetime and after a 401, then repeat the call once (CL-2). `login_again`: A1 instead of A2."""

    def __init__(self, args: argparse.Namespace, *, login_again: bool = False) -> None:
        parts = urlsplit(args.base_url)
        self.host, self.port = parts.hostname or "127.0.0.1", parts.port or 80
        self.version = parts.path.rstrip("/").rsplit("/", 1)[-1] or "v1"
        self.args = args
        self.login_again = login_again
        self.access: str | None = None
        self.refresh: str | None = None
        self.renew_at = 0.0

    def _keep(self, answer: dict[str, Any]) -> None:
        self.access, self.refresh = answer["access_token"], answer.get("refresh_token")
        lifetime = answer.get("expires_in")
        lifetime = float(lifetime) if isinstance(lifetime, int | float) and lifetime > 0 else 3600.0
        self.renew_at = time.monotonic() + lifetime / 2

    def login(self) -> None:
        a = self.args
        self._keep(
            d35_auth.authenticate(
                self.host, self.port, a.user, a.password, a.client_id, a.client_secret, version=self.version
            )
        )

    def renew(self) -> None:
        """A2 with the newest refresh token; A1 when there is none, it is refused, or `login_again`."""
        if self.refresh and not self.login_again:
            try:
                a = self.args
                self._keep(
                    d35_auth.refresh(self.host, self.port, self.refresh, a.client_id, a.client_secret, self.version)
                )
                return
            except ClientError:
                pass
        self.login()

    def token(self) -> str:
        if self.access is None:
            self.login()
        elif time.monotonic() >= self.renew_at:
            self.renew()
        assert self.access is not None
        return self.access

    def call(self, function: Callable[..., Any], *args: Any) -> Any:
        """`function(host, port, *args, token)` (the D3.5 argument order puts the token after the entity
        id: pass `TOKEN` where it goes); a 401 renews the tokens and repeats the call once."""
        token = self.token()
        try:
            return function(self.host, self.port, *[token if a is TOKEN else a for a in args], version=self.version)
        except AuthenticationError:
            self.renew()
            return function(
                self.host, self.port, *[self.access if a is TOKEN else a for a in args], version=self.version
            )


TOKEN = object()  # where `Tokens.call` puts the access token among a D3.5 function's arguments
