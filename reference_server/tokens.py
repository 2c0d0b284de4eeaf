"""Bearer and refresh tokens: 256-bit random values from `secrets`, stored as SHA-256 hashes.

Tokens live in the database (table `tokens`), so they survive a restart on the same file;
a refresh token is removed when used (rotation, AU-6). Access tokens stay valid until they
expire, also after a refresh, unless `revoke_on_refresh` (alternative `refresh-revokes-access`):
then redeeming a refresh token revokes the access token issued with it (pairs are remembered
in memory, so only within one server process).
"""

from __future__ import annotations

import hashlib
import secrets
import time
from collections.abc import Callable

from reference_server.store import Store

ACCESS = "access"
REFRESH = "refresh"


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8", "surrogatepass")).hexdigest()


class Tokens:
    """Issues, resolves and rotates tokens; `lifetime` seconds for both kinds."""

    def __init__(
        self, store: Store, lifetime: int, clock: Callable[[], float] = time.time, revoke_on_refresh: bool = False
    ) -> None:
        self._store = store
        self.lifetime = lifetime
        self._clock = clock
        self._cache: dict[str, tuple[str, float]] = {}
        self.revoke_on_refresh = revoke_on_refresh
        self._pairs: dict[str, tuple[str, float]] = {}  # refresh hash -> (access hash, expiry)

    def issue(self, username: str) -> tuple[str, str]:
        """New (access token, refresh token) for `username`."""
        now = self._clock()
        self._store.purge_tokens(now)
        self._cache = {h: v for h, v in self._cache.items() if v[1] >= now}
        access, refresh = secrets.token_urlsafe(32), secrets.token_urlsafe(32)
        expires = now + self.lifetime
        self._store.add_token(_hash(access), ACCESS, username, expires)
        self._store.add_token(_hash(refresh), REFRESH, username, expires)
        self._cache[_hash(access)] = (username, expires)
        if self.revoke_on_refresh:
            self._pairs = {h: v for h, v in self._pairs.items() if v[1] >= now}
            self._pairs[_hash(refresh)] = (_hash(access), expires)
        return access, refresh

    def user(self, access_token: str) -> str | None:
        """The username of a valid, unexpired access token; None otherwise."""
        key = _hash(access_token)
        found = self._cache.get(key) or self._store.token(key, ACCESS)
        if found is None or found[1] < self._clock():
            return None
        self._cache[key] = found
        return found[0]

    def redeem(self, refresh_token: str, rotate: bool = True) -> str | None:
        """Use up a refresh token: its username when it was valid and unused, else None.

        `rotate=False` (alternative `refresh-reusable`) leaves it valid until it expires.
        """
        key = _hash(refresh_token)
        found = self._store.take_token(key, REFRESH) if rotate else self._store.token(key, REFRESH)
        if found is None or found[1] < self._clock():
            return None
        paired = self._pairs.pop(key, None)
        if paired is not None:
            self._cache.pop(paired[0], None)
            self._store.take_token(paired[0], ACCESS)
        return found[0]
