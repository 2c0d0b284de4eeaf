"""`Monitor`: the stateful judge of a stream of exchanges (contract C5)."""

from __future__ import annotations

import heapq
from collections.abc import Iterable, Iterator

from interflex.monitor._client import ClientRules, client_of
from interflex.monitor._identity import Identities
from interflex.monitor._model import HttpExchange, MonitorFinding, Platform
from interflex.monitor._objects import ObjectRules, record
from interflex.monitor._single import LastLists, single_findings
from interflex.monitor._store import Store
from interflex.monitor._view import View, view_of

NOTHING_KNOWN = Platform()  # no IXIT: users are learnt from the capture where possible
_PRUNE_EVERY = 1024  # exchanges between two clean-ups of the object store


class Monitor:
    """Judge exchanges fed in the order they started; `finish()` at the end of the capture.

    Rules on one exchange report at once. Rules across exchanges report once every exchange
    that may have been processed before this one is known, i.e. when an exchange that
    started after this one's end is fed (or at `finish()`): the server may have processed
    overlapping exchanges in either order, and a finding must hold for every such order.

    `complete=True` declares that the capture holds all traffic of the platform since it was
    empty: rules that need the whole history (ST-4, ST-9 missing objects, ST-12 objects never
    posted) then report errors instead of warnings. Not thread-safe: feed from one thread.
    """

    def __init__(self, platform: Platform = NOTHING_KNOWN, *, complete: bool = False) -> None:
        self.platform = platform
        self.complete = complete
        self.store = Store(complete)
        self.identities = Identities(platform)
        self.objects = ObjectRules(self.store, platform)
        self.clients = ClientRules(platform)
        self._pending: list[tuple[float, int, View, str | None, str | None]] = []  # by end: judged once passed
        self._lists = LastLists()
        self._now = float("-inf")
        self._fed = 0

    def feed(self, exchange: HttpExchange) -> list[MonitorFinding]:
        """Judge one exchange; returns the findings known now (some are about earlier exchanges)."""
        if exchange.started > self._now:
            self._now = exchange.started
        pending = self._pending
        findings = self._due(self._now) if pending and pending[0][0] < self._now else []
        view = view_of(exchange)
        if view.in_api:
            found = single_findings(view, self.platform, self._lists)
            if found:
                findings += found
        op = view.op
        if op is not None:
            caller = self.identities.caller(view)
            found = self.identities.feed(view, caller)
            client = client_of(view, caller)
            found += self.clients.feed(view, client)
            action = op.action
            if action == "new_id":
                found += self.objects.hand_out(view, caller)
            elif action == "post":
                found += self.objects.posted_by_other(view, caller)
                record(self.store, view)
            elif action == "delete":
                record(self.store, view)
            if found:
                findings += found
            if op.kind is not None:  # A1/A2 leave nothing to judge later
                heapq.heappush(pending, (exchange.finished, self._fed, view, caller, client))
        self._fed += 1
        if self._fed % _PRUNE_EVERY == 0:
            horizon = min([self._now, *(item[2].exchange.started for item in pending)])
            self.store.prune(horizon)
        return findings

    def _due(self, now: float) -> list[MonitorFinding]:
        findings: list[MonitorFinding] = []
        pending, judge, settle, participants = (
            self._pending,
            self.objects.judge,
            self.clients.settle,
            self.identities.participants,
        )
        while pending and pending[0][0] < now:
            _, _, view, caller, client = heapq.heappop(pending)
            found = judge(view, participants.get(caller) if caller else None)  # `Identities.participant`
            if found:
                findings += found
            settle(view, client)
        return findings

    def finish(self) -> list[MonitorFinding]:
        """End of the capture: judge every exchange still pending."""
        return self._due(float("inf"))


def judge(
    exchanges: Iterable[HttpExchange], platform: Platform = NOTHING_KNOWN, complete: bool = False
) -> Iterator[MonitorFinding]:
    """Every finding of a whole capture, as it becomes known."""
    monitor = Monitor(platform, complete=complete)
    for exchange in exchanges:
        yield from monitor.feed(exchange)
    yield from monitor.finish()
