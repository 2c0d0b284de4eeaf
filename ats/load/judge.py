"""Every answer of a load run judged by the protocol monitor (`interflex.monitor`, contract C5).

One `Judge` per process feeds its users' exchanges to one `Monitor` in the order they started
(the monitor's contract), although under load they finish in any order: a finished exchange waits
until every exchange that started before it has finished. The monitor's errors against the server
go to the process's findings; its client-side findings are about this load generator, not the
target, and rules that need every worker's traffic (ID-1, ST-2, ST-4, ST-9, ST-12) are left to the
master's `Ledger` and the reconciliation, which see all of it.
"""

from __future__ import annotations

import heapq
import itertools
import re

from ats.load.findings import FindingLog
from ats.redaction import redact
from interflex.monitor import ERROR, SERVER, HttpExchange, Monitor, MonitorFinding, Platform
from interflex.profile import OPERATIONS_BY_ID

GLOBAL_RULES = frozenset({"ID-1", "ST-2", "ST-4", "ST-9", "ST-12"})  # judged on the master
_SNIPPET = 160


class Judge:
    """Feed exchanges to the monitor in start order; server errors land in `findings`."""

    def __init__(self, platform: Platform, findings: FindingLog, secrets: list[str]) -> None:
        self.monitor = Monitor(platform)
        self.findings = findings
        self.secrets = secrets
        self._numbers = itertools.count()
        self._running: list[tuple[float, int]] = []  # heap of (started, ticket) still running
        self._ended: set[int] = set()
        self._done: list[tuple[float, int, HttpExchange | None]] = []  # heap of finished exchanges

    def begin(self, started: float) -> int:
        """A request is about to be sent; its ticket for `end`."""
        ticket = next(self._numbers)
        heapq.heappush(self._running, (started, ticket))
        return ticket

    def end(self, ticket: int, exchange: HttpExchange | None) -> None:
        """The request of `ticket` finished (`exchange`), or was abandoned (None); judge what is ready."""
        self._ended.add(ticket)
        if exchange is not None:
            heapq.heappush(self._done, (exchange.started, ticket, exchange))
        while self._running and self._running[0][1] in self._ended:
            self._ended.discard(heapq.heappop(self._running)[1])
        oldest = self._running[0][0] if self._running else float("inf")
        while self._done and self._done[0][0] <= oldest:
            self._judge(heapq.heappop(self._done)[2])

    def flush(self) -> None:
        """Judge every finished exchange still waiting (end of the run)."""
        while self._done:
            self._judge(heapq.heappop(self._done)[2])
        self.findings_from(self.monitor.finish())
        self._running.clear()
        self._ended.clear()

    def _judge(self, exchange: HttpExchange | None) -> None:
        if exchange is not None:
            self.findings_from(self.monitor.feed(exchange), exchange)

    def findings_from(self, found: list[MonitorFinding], exchange: HttpExchange | None = None) -> None:
        """Keep the monitor's errors against the server (not those the master judges)."""
        for finding in found:
            if finding.severity != ERROR or finding.side != SERVER or finding.rule in GLOBAL_RULES:
                continue
            example = example_of(exchange, self.secrets) if exchange is not None else ""
            self.findings.add(finding.rule, finding.operation, _general(finding), example)


def _general(finding: MonitorFinding) -> str:
    """The message with concrete paths replaced by the operation's template: one group per kind of finding."""
    pattern = _TEMPLATES.get(finding.operation or "")
    return pattern[0].sub(pattern[1], finding.message) if pattern else finding.message


_TEMPLATES = {
    op_id: (re.compile(re.sub(r"\\{\w+\\}", r"[^/\\s,]+?", re.escape(op.path)) + r"(?=$|\s|: |,)"), op.path)
    for op_id, op in OPERATIONS_BY_ID.items()
}


def example_of(exchange: HttpExchange, secrets: list[str]) -> str:
    """`METHOD url -> status: body...`, redacted (never a request header or a token)."""
    answer = str(exchange.status) if exchange.status is not None else f"no answer ({exchange.error})"
    body = exchange.response_body[:_SNIPPET].decode("utf-8", "replace")
    more = "..." if len(exchange.response_body) > _SNIPPET else ""
    return redact(f"{exchange.method} {exchange.url} -> {answer}: {body}{more}", secrets).strip()
