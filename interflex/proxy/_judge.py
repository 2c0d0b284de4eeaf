"""The judging side of the proxy: one worker thread feeds the monitor in order of start.

The event loop only hands finished captures over (`submit`, never blocking); the worker puts
them back in the order the requests arrived, writes the HAR entry, feeds the monitor and passes
each finding on. An exception while judging is logged and the next exchange is judged as usual.
"""

from __future__ import annotations

import contextlib
import logging
import queue
import threading
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field

from interflex.monitor import ERROR, Monitor, MonitorFinding
from interflex.proxy._capture import Capture, log_path, to_exchange
from interflex.proxy._har import HarWriter, har_entry

log = logging.getLogger("interflex.proxy")

FindingSink = Callable[[MonitorFinding], None]
_STOP = object()
# The judging thread sleeps this long after the first exchange of a batch: under load it wakes up
# (and takes the interpreter lock from the event loop) once per batch, not once per exchange.
_BATCH_WINDOW = 0.005


@dataclass
class Summary:
    """What passed through the proxy and what the monitor found in it."""

    exchanges: int = 0
    not_judged: int = 0  # bodies over the limit or undecodable: forwarded, body rules not judged
    upstream_errors: int = 0  # no response from the upstream (the client got the proxy's 502/504)
    judging_failures: int = 0  # exceptions inside the monitor (logged; traffic unaffected)
    findings: Counter[tuple[str, str, str]] = field(default_factory=Counter)  # (severity, rule, side)

    @property
    def errors(self) -> int:
        """Number of error findings."""
        return sum(n for (severity, _, _), n in self.findings.items() if severity == ERROR)

    @property
    def warnings(self) -> int:
        """Number of warning findings."""
        return sum(self.findings.values()) - self.errors

    def lines(self) -> list[str]:
        """The summary as text lines."""
        lines = [
            f"{self.exchanges} exchanges, {self.errors} errors, {self.warnings} warnings"
            + (f", {self.not_judged} not judged (body over the limit)" if self.not_judged else "")
            + (f", {self.upstream_errors} without upstream response" if self.upstream_errors else "")
            + (f", {self.judging_failures} judging failures (see log)" if self.judging_failures else "")
        ]
        for (severity, rule, side), count in sorted(self.findings.items()):
            lines.append(f"  {severity:<7} {rule:<6} {side:<6} {count}")
        return lines


class LiveJudge:
    """Judge captures submitted from any thread, in index order, on one worker thread."""

    def __init__(self, monitor: Monitor, *, sinks: list[FindingSink], har: HarWriter | None = None) -> None:
        self.monitor = monitor
        self.summary = Summary()
        self._sinks = sinks
        self._har = har
        self._queue: queue.SimpleQueue[object] = queue.SimpleQueue()
        self._waiting: dict[int, Capture] = {}
        self._next = 0
        self._idle = threading.Condition()
        self._done = 0
        self._thread = threading.Thread(target=self._run, name="interflex-proxy-judge", daemon=True)
        self._thread.start()

    def submit(self, capture: Capture) -> None:
        """Hand a finished exchange over (thread-safe, never blocks)."""
        self._queue.put(capture)

    def settle(self, count: int, timeout: float = 5.0) -> bool:
        """Wait until the first `count` exchanges are judged; False on timeout."""
        with self._idle:
            return self._idle.wait_for(lambda: self._done >= count, timeout)

    def close(self) -> Summary:
        """Judge what is left, then the end of the capture (`Monitor.finish`); close the HAR."""
        if self._thread.is_alive():
            self._queue.put(_STOP)
            self._thread.join()
        return self.summary

    def _run(self) -> None:
        stopping = False
        while not stopping:
            batch = [self._queue.get()]
            time.sleep(_BATCH_WINDOW)  # wake up once per batch of exchanges, not once per exchange
            with contextlib.suppress(queue.Empty):
                while True:
                    batch.append(self._queue.get_nowait())
            for item in batch:
                if item is _STOP:
                    stopping = True
                else:
                    assert isinstance(item, Capture)
                    self._take(item)
        for index in sorted(self._waiting):  # only after a lost request: judge the rest in order
            self._judge(self._waiting.pop(index))
        self._emit_all(self._guarded("the end of the capture", self.monitor.finish) or [])
        if self._har is not None:
            self._har.close()

    def _take(self, capture: Capture) -> None:
        """Judge `capture` and every waiting one after it, once all before it are judged."""
        self._waiting[capture.index] = capture
        while self._next in self._waiting:
            self._judge(self._waiting.pop(self._next))
            self._next += 1

    def _judge(self, capture: Capture) -> None:
        summary = self.summary
        summary.exchanges += 1
        if capture.status is None:
            summary.upstream_errors += 1
        if self._har is not None:
            self._write_har(capture)
        exchange = to_exchange(capture)
        if exchange.truncated and exchange.error is None:
            summary.not_judged += 1
            log.warning(
                "#%d %s %s: body over the %d-byte limit (or not decodable): forwarded, its body not judged",
                capture.index,
                capture.method,
                log_path(capture.url),
                capture.request_body.limit,
            )
        self._emit_all(self._guarded(f"#{capture.index}", lambda: self.monitor.feed(exchange)) or [])
        with self._idle:
            self._done += 1
            self._idle.notify_all()

    def _guarded(self, what: str, judge: Callable[[], list[MonitorFinding]]) -> list[MonitorFinding] | None:
        try:
            return judge()
        except Exception as exc:  # a monitor bug must never stop the proxy
            self.summary.judging_failures += 1
            log.error("judging %s failed (%s: %s); traffic is not affected", what, type(exc).__name__, exc)
            return None

    def _emit_all(self, findings: list[MonitorFinding]) -> None:
        for finding in findings:
            self.summary.findings[(finding.severity, finding.rule, finding.side)] += 1
            for sink in self._sinks:
                try:
                    sink(finding)
                except Exception as exc:
                    log.error("cannot pass on a finding (%s: %s)", type(exc).__name__, exc)

    def _write_har(self, capture: Capture) -> None:
        assert self._har is not None
        try:
            self._har.add(har_entry(capture))
        except OSError as exc:
            log.error("cannot write the HAR capture %s (%s); capture stopped", self._har.path, exc.strerror or exc)
            self._har.close()
            self._har = None
