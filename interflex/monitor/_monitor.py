"""`Monitor`: the stateful judge of a stream of exchanges (contract C5)."""

from __future__ import annotations

from collections.abc import Iterable, Iterator

from interflex.monitor._model import HttpExchange, MonitorFinding, Platform
from interflex.monitor._single import single_findings
from interflex.monitor._view import view_of

NOTHING_KNOWN = Platform()  # no IXIT: users are learnt from the capture where possible


class Monitor:
    """Judge exchanges fed in the order they started; `finish()` at the end of the capture.

    `complete=True` declares that the capture holds all traffic of the platform since it was
    empty: rules that need the whole history then report errors instead of warnings.
    Not thread-safe: feed from one thread (or one event loop).
    """

    def __init__(self, platform: Platform = NOTHING_KNOWN, *, complete: bool = False) -> None:
        self.platform = platform
        self.complete = complete

    def feed(self, exchange: HttpExchange) -> list[MonitorFinding]:
        """Judge one exchange; returns the findings known now (some come from earlier exchanges)."""
        view = view_of(exchange)
        return single_findings(view, self.platform)

    def finish(self) -> list[MonitorFinding]:
        """End of the capture: the findings still pending and the whole-history rules."""
        return []


def judge(
    exchanges: Iterable[HttpExchange], platform: Platform = NOTHING_KNOWN, complete: bool = False
) -> Iterator[MonitorFinding]:
    """Every finding of a whole capture, as it becomes known."""
    monitor = Monitor(platform, complete=complete)
    for exchange in exchanges:
        yield from monitor.feed(exchange)
    yield from monitor.finish()
