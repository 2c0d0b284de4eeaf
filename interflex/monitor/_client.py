"""How a client behaves over time: CL-2 (after a 401), CL-5 (ids posted once), CL-6 (repetitions), CL-7 (polling).

A client is known by its username (the exchange's `caller` or learnt from its token) or, failing
that, by its bearer token; exchanges of an unknown client are not judged here. What a client
"knew" is what had been answered before its request started: answers are `settle`d into this
state only once the capture has passed their end.
"""

from __future__ import annotations

from collections import deque
from urllib.parse import parse_qsl

from interflex.monitor._bounded import Bounded
from interflex.monitor._model import CLIENT, ERROR, WARNING, MonitorFinding, Platform
from interflex.monitor._view import View
from interflex.profile import ID_FIELDS

_LIMIT = 1 << 17
_POLLED = 1 << 14  # (client, list) pairs whose recent reads are kept for CL-7
MIN_WAIT = 1.0  # CL-6: seconds between a failed POST and its repetition
# A capture point stamps an answer when it has passed it on, the client acts when it received it: the two
# can be some milliseconds apart under load, so a wait is short only when it is short by more than this.
WAIT_TOLERANCE = 0.05
MAX_TRIES = 5  # CL-6 (SHOULD)
POLL_WINDOW, POLL_MAX = 10.0, 10  # CL-7: at most 10 reads of one list in any 10 s
_RETRYABLE = frozenset({429})


def client_of(view: View, caller: str | None) -> str | None:
    """The client's identity: its username, else its (hashed) token, else None."""
    if caller:
        return caller
    token = view.token
    return f"token:{hash(token):x}" if token and token != "***" else None


class _Retry:
    __slots__ = ("body", "finished", "gap", "tries")

    def __init__(self, body: int, finished: float) -> None:
        self.body, self.finished, self.gap, self.tries = body, finished, 0.0, 1


class ClientRules:
    """The state of every client's behaviour that later exchanges are judged against."""

    def __init__(self, platform: Platform) -> None:
        self.platform = platform
        self.posted: set[int] = set()  # hash((client, kind, id)): posted with 2xx or 409 (CL-5)
        self.retries: Bounded[int, _Retry] = Bounded(
            _LIMIT
        )  # hash((client, kind, id)) after 5xx, 429 or no answer (CL-6)
        self.refused: Bounded[int, int] = Bounded(_LIMIT)  # hash((client, request)) -> status of a 4xx POST
        self.unauthorized: Bounded[int, bool] = Bounded(_LIMIT)  # hash((token, method, url)) answered 401
        self.polls: Bounded[tuple[str, str], deque[float]] = Bounded(_POLLED)  # (client, list) -> last reads
        self.warned: Bounded[tuple[str, str, str], bool] = Bounded(_LIMIT)

    def _finding(self, view: View, severity: str, rule: str, message: str) -> MonitorFinding:
        op = view.op
        return MonitorFinding(severity, rule, CLIENT, view.exchange.index, message, op.id if op else None)

    def _post_key(self, view: View, client: str) -> int | None:
        op = view.op
        if op is None or op.action != "post" or op.kind is None:
            return None
        body = view.request_json
        object_id = body.get(ID_FIELDS[op.kind]) if isinstance(body, dict) else None
        return hash((client, op.kind, object_id)) if isinstance(object_id, str) else None

    def feed(self, view: View, client: str | None) -> list[MonitorFinding]:
        """Judge the request against what the client knew when it sent it."""
        if client is None or view.op is None:
            return []
        exchange = view.exchange
        findings = []
        token = view.token
        if (
            self.unauthorized
            and token
            and token != "***"
            and hash((token, exchange.method, exchange.url)) in self.unauthorized
        ):
            message = "repeated a request that answered 401 with the same token, without getting a new one first"
            findings.append(self._finding(view, ERROR, "CL-2", message))
        key = self._post_key(view, client) if view.op.action == "post" else None
        if key is not None:
            findings += self._post(view, key)
        refused = (
            self.refused.get(hash((client, exchange.method, exchange.url, exchange.request_body)))
            if self.refused and exchange.method == "POST"
            else None
        )
        if refused is not None:
            message = f"repeated unchanged a POST that answered {refused} (a 4xx is never repeated unchanged)"
            findings.append(self._finding(view, ERROR, "CL-6", message))
        if view.op.action == "list":
            findings += self._poll(view, client)
        return findings

    def _post(self, view: View, key: int) -> list[MonitorFinding]:
        op = view.op
        assert op is not None
        findings = []
        object_id = view.request_json[ID_FIELDS[op.kind or ""]]
        retry = self.retries.get(key)
        if key in self.posted:
            message = f"posted {object_id!r} again after it was stored or answered 409; a new object takes a new id"
            findings.append(self._finding(view, ERROR, "CL-5", message))
        elif retry is not None:
            gap = view.exchange.started - retry.finished
            if hash(view.exchange.request_body) != retry.body:
                findings.append(
                    self._finding(view, ERROR, "CL-6", f"repeated the POST of {object_id!r} with another body")
                )
            if gap < MIN_WAIT - WAIT_TOLERANCE:
                message = (
                    f"repeated the POST of {object_id!r} {gap:.2f} s after it failed; wait at least {MIN_WAIT:.0f} s"
                )
                findings.append(self._finding(view, ERROR, "CL-6", message))
            elif retry.tries >= 2 and gap < retry.gap:
                message = (
                    f"repeated the POST of {object_id!r} sooner than the time before (SHOULD back off exponentially)"
                )
                findings.append(self._finding(view, WARNING, "CL-6", message))
            if retry.tries >= MAX_TRIES:
                message = f"tried the POST of {object_id!r} more than {MAX_TRIES} times (SHOULD stop)"
                findings.append(self._finding(view, WARNING, "CL-6", message))
            retry.gap = max(gap, 0.0)
        return findings

    def _poll(self, view: View, client: str) -> list[MonitorFinding]:
        op = view.op
        assert op is not None
        started = view.exchange.started
        findings = []
        key = (client, view.path or "")
        reads = self.polls.get(key)
        if reads is None:
            reads = self.polls[key] = deque(maxlen=POLL_MAX + 1)
        reads.append(started)
        if len(reads) > POLL_MAX and started - reads[0] < POLL_WINDOW and self._once(client, "CL-7", view.path):
            within = started - reads[0]
            message = f"read {view.path} {len(reads)} times within {within:.1f} s (SHOULD: at most once a second)"
            findings.append(self._finding(view, WARNING, "CL-7", message))
        if (
            self.platform.date_filter
            and op.id in ("R3", "O3")
            and len(reads) > 1
            and "valid_at" not in dict(parse_qsl(view.query))
            and self._once(client, "valid_at", op.id)
        ):
            message = f"reads {op.id} repeatedly without valid_at, which the platform declares (SHOULD)"
            findings.append(self._finding(view, WARNING, "CL-7", message))
        return findings

    def _once(self, client: str, rule: str, where: str | None) -> bool:
        key = (client, rule, where or "")
        if key in self.warned:
            return False
        self.warned[key] = True
        return True

    def settle(self, view: View, client: str | None) -> None:
        """The client has the answer now: remember what later requests are judged against."""
        if client is None or view.op is None:
            return
        exchange, status = view.exchange, view.status
        token = view.token
        if status == 401 and token and token != "***":
            self.unauthorized[hash((token, exchange.method, exchange.url))] = True
        key = self._post_key(view, client) if view.op.action == "post" else None
        if key is None:
            return
        if status is not None and (200 <= status < 300 or status == 409):
            self.posted.add(key)
            self.retries.pop(key, None)
        elif status is None or status >= 500 or status in _RETRYABLE:
            retry = self.retries.get(key)
            if retry is None:
                self.retries[key] = _Retry(hash(exchange.request_body), exchange.finished)
            else:
                retry.finished, retry.tries = exchange.finished, retry.tries + 1
        else:
            self.retries.pop(key, None)
            if status != 401:
                self.refused[hash((client, exchange.method, exchange.url, exchange.request_body))] = status
