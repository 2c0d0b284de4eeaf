"""Every answer of a load run judged by the protocol monitor (`interflex.monitor`, contract C5).

One `Judge` per process feeds its users' exchanges to one `Monitor` in the order they started
(the monitor's contract), although under load they finish in any order: a finished exchange waits
until every exchange that started before it has finished. The monitor's errors against the server
go to the process's findings; its client-side findings are about this load generator, not the
target, and rules that need every worker's traffic (ID-1, ST-2, ST-4, ST-9, ST-12) are left to the
master's `Ledger` and the reconciliation, which see all of it.

Cheap per request (D-93): list bodies (R3, O3, V3, K3, N3) are judged here, each distinct object
once (objects never change once stored, so a listed object equal to one already judged is not
judged again), and the monitor judges the rest of those exchanges with the body marked unread
(`truncated`); POST bodies are the generator's own valid ones, so the monitor skips them too
(it would only judge the client, CL-4). Everything else goes to the monitor whole.
"""

from __future__ import annotations

import dataclasses
import heapq
import itertools
import re
from typing import Any

from ats.load.findings import FindingLog
from ats.redaction import redact
from interflex.monitor import ERROR, SERVER, HttpExchange, Monitor, MonitorFinding, Platform
from interflex.profile import ID_FIELDS, OPERATIONS_BY_ID
from interflex.validation import validate

GLOBAL_RULES = frozenset({"ID-1", "ST-2", "ST-4", "ST-9", "ST-12"})  # judged on the master
_SNIPPET = 160
_VALID_CACHE = 100_000  # listed objects remembered as valid (then forgotten all at once)


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
        self._valid: dict[tuple[str, Any], dict] = {}  # (kind, id) -> a listed object already judged valid

    def begin(self, started: float) -> int:
        """A request is about to be sent; its ticket for `end`."""
        ticket = next(self._numbers)
        heapq.heappush(self._running, (started, ticket))
        return ticket

    def end(self, ticket: int, exchange: HttpExchange | None, op_id: str = "", listed: Any = None) -> None:
        """The request of `ticket` (operation `op_id`) finished (`exchange`, its parsed body `listed`
        when a list), or was abandoned (None); judge what is ready."""
        self._ended.add(ticket)
        if exchange is not None:
            op = OPERATIONS_BY_ID.get(op_id)
            if op is not None and op.action == "list" and exchange.status in op.success:
                self._judge_list(op_id, exchange, listed)
            if op is not None and op.action in ("list", "post") and not exchange.truncated:
                exchange = dataclasses.replace(exchange, truncated=True)
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

    def _judge_list(self, op_id: str, exchange: HttpExchange, listed: Any) -> None:
        """ST-10 for a list answer: a JSON array of valid objects of its kind, each distinct object judged once."""
        kind = OPERATIONS_BY_ID[op_id].kind
        assert kind is not None
        if not isinstance(listed, list):
            what = "is not a JSON array" if listed is not None or exchange.response_body.strip() else "is empty"
            self.findings.add("ST-10", op_id, f"{op_id} success body {what}", example_of(exchange, self.secrets))
            return
        id_field = ID_FIELDS[kind]
        for item in listed:
            key = (kind, item.get(id_field)) if isinstance(item, dict) else None
            if key is not None and self._valid.get(key) == item:
                continue
            errors = [f for f in validate(item, kind) if f.severity == ERROR and not f.rule.startswith("PL-")]
            if errors:
                message = f"{op_id} success body: a listed object is not a valid {kind}: {errors[0].path or '/'} "
                message += f"[{errors[0].rule}]"
                self.findings.add("ST-10", op_id, message, example_of(exchange, self.secrets))
            elif key is not None:
                if len(self._valid) >= _VALID_CACHE:
                    self._valid.clear()
                self._valid[key] = item

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
    """The message with concrete paths replaced by the operation's template and quoted values by `"..."`
    (those with a digit: ids, times): one group per kind of finding (the examples keep the values)."""
    pattern = _TEMPLATES.get(finding.operation or "")
    message = pattern[0].sub(pattern[1], finding.message) if pattern else finding.message
    return _QUOTED.sub('"..."', message)


_QUOTED = re.compile(r""""[^"]*\d[^"]*"|'[^']*\d[^']*'""")  # quoted values with a digit: ids, times, numbers


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
