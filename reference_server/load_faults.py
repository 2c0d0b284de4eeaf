"""The fault modes that only show under concurrent traffic (`Fault.shows_under == "load"`).

Each models a common concurrency bug: a shared value read, then (after a storage round trip)
written back without a lock. One request at a time never sees it; `interflex-load` must.

- `ids-race`: the id getters read a counter, wait for the round trip, then store counter + 1, so
  two callers inside one round trip get the same id (ID-1).
- `lost-writes`: a POST reads the kind's version, waits, and is dropped (yet answered 201) when
  another POST of that kind committed meanwhile: the last writer wins (ST-9).
- `overload-503`: every request holds a backend connection for one round trip; with more than
  `OVERLOAD_LIMIT` requests in flight the server answers 503 (ST-7).
"""

from __future__ import annotations

import asyncio
import secrets
from collections import Counter
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

from starlette.responses import Response

ROUND_TRIP_S = 0.003  # the simulated storage round trip inside the racy sections
OVERLOAD_LIMIT = 4  # more requests in flight than this get 503 in `overload-503`


@dataclass
class LoadFaultState:
    """The shared (and deliberately unlocked) state of the load fault modes of one server."""

    epoch: str = field(default_factory=lambda: secrets.token_hex(4))
    counters: Counter[str] = field(default_factory=Counter)
    versions: Counter[str] = field(default_factory=Counter)
    in_flight: int = 0


async def racy_id(state: LoadFaultState, prefix: str) -> str:
    """`ids-race`: the next id of `prefix`, read and bumped across an await (no lock)."""
    number = state.counters[prefix]
    await asyncio.sleep(ROUND_TRIP_S)
    state.counters[prefix] = number + 1
    return f"{prefix}-{state.epoch}-{number}"


async def write_survives(state: LoadFaultState, kind: str) -> bool:
    """`lost-writes`: False when another write of `kind` committed while this one waited."""
    version = state.versions[kind]
    await asyncio.sleep(ROUND_TRIP_S)
    if state.versions[kind] != version:
        return False
    state.versions[kind] += 1
    return True


async def limited(state: LoadFaultState, handle: Callable[[], Awaitable[Response]], overloaded: Response) -> Response:
    """`overload-503`: `overloaded` while more than OVERLOAD_LIMIT requests are in flight, else `handle()`."""
    state.in_flight += 1
    try:
        if state.in_flight > OVERLOAD_LIMIT:
            return overloaded
        await asyncio.sleep(ROUND_TRIP_S)
        return await handle()
    finally:
        state.in_flight -= 1
