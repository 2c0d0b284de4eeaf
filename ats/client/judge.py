"""Judging one scenario: the rules of PROFILE.md section 11 (CL-1 … CL-9) over the client's exchanges.

The harness platform sees all of the traffic (the capture is complete) and knows every object the
counterparts made, so each rule is judged exactly. The protocol monitor (contract C5) judges the same
exchanges where it is available; its client findings are added (`monitor_findings`). Each finding carries a
`check`, the key by which the client test cases (`ats/client/cases`) pick what they judge.
"""

from __future__ import annotations

import itertools
import json
import re
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass
from functools import cached_property
from typing import Any
from urllib.parse import parse_qs

from ats.client.platform import Captured
from ats.client.scenarios import ScenarioResult
from interflex import profile
from interflex.profile import ID_FIELDS, Operation, match_operation
from interflex.validation import validate

BASE = "/interflex/api/v1"
REPEAT_WAIT = 1.0  # CL-6: at least 1 s before a repetition
MAX_TRIES = 5  # CL-6 (SHOULD): at most 5 tries
POLL_WINDOW, POLL_MAX = 10.0, 10  # CL-7: at most once per second on average over any 10 s
_QUERY_SAFE = re.compile(r"[A-Za-z0-9._~%:-]*")
_ANSWER_KINDS = ("FlexibilityActivationAck", "FlexibilityActivationNack")


@dataclass(frozen=True)
class Finding:
    """One broken rule in one scenario: `check` (which test case judges it), the rule id, the exchange
    (its index in the capture, None for a finding about the run as a whole) and the message."""

    check: str
    rule: str
    scenario: str
    exchange: int | None
    message: str

    def __str__(self) -> str:
        where = f" (exchange #{self.exchange})" if self.exchange is not None else ""
        return f"{self.rule} in scenario {self.scenario}{where}: {self.message}"


@dataclass
class Sent:
    """A client exchange with what the judge needs parsed once."""

    captured: Captured
    op: Operation | None
    params: dict[str, str]
    path: str | None
    body: Any  # parsed JSON body of a POST (None when absent or not JSON)

    @property
    def ex(self) -> Any:
        return self.captured.exchange

    @property
    def status(self) -> int | None:
        return self.ex.status

    @property
    def token(self) -> str | None:
        value = self.ex.request_headers.get("authorization", "")
        scheme, _, token = value.partition(" ")
        return token.strip() if scheme.lower() == "bearer" and token.strip() else None

    @property
    def object_id(self) -> str | None:
        if self.op is None or self.op.action != "post" or not isinstance(self.body, dict):
            return None
        value = self.body.get(ID_FIELDS[self.op.kind or ""])
        return value if isinstance(value, str) else None


def _parse(captured: Captured) -> Sent:
    ex = captured.exchange
    raw = ex.url.split("?", 1)[0]
    path = profile.decode_path(raw[len(BASE) :]) if raw.startswith(BASE + "/") else None
    found = match_operation(ex.method, path) if path is not None else None
    op, params = found if found else (None, {})
    body = None
    if op is not None and op.action == "post" and not ex.truncated:
        try:
            body = json.loads(ex.request_body.decode("utf-8"))
        except (UnicodeDecodeError, ValueError, RecursionError):
            body = None
    return Sent(captured, op, params, path, body)


def _failed_post(sent: Sent) -> bool:
    """A POST a client MAY repeat (CL-6): 5xx, 429, no answer."""
    return sent.status is None or sent.status >= 500 or sent.status == 429


def may_call(op: Operation, role: str, entity: str, params: dict[str, str]) -> bool:
    """The "who may call" column of section 2 for a client of `role` acting for `entity` (CL-3)."""
    dso, agg = role == "dso", role == "aggregator"
    own_dso, own_agg = dso and params.get("dso") == entity, agg and params.get("agg") == entity
    return {
        profile.ANYONE: True,
        profile.AUTHENTICATED: True,
        profile.OFFERS_LIST: True,
        profile.DSO_SELF: own_dso,
        profile.AGG_SELF: own_agg,
        profile.DSO_SELF_OR_AGG_SELF: own_dso or own_agg,
        profile.AGG_SELF_OR_ANY_DSO: dso or own_agg,
    }.get(op.access, False)


def _number(value: object) -> float | None:
    return float(value) if isinstance(value, int | float) and not isinstance(value, bool) else None


class ScenarioJudge:
    """All findings of one scenario (`findings`), and what the client achieved (`stored`, goal checks)."""

    def __init__(self, result: ScenarioResult) -> None:
        self.result = result
        self.name = result.scenario.name
        self.role = result.scenario.role
        self.user = result.client
        self.sent = [_parse(c) for c in result.client_exchanges]
        self.knowledge = result.knowledge

    def _f(self, check: str, rule: str, sent: Sent | None, message: str) -> Finding:
        return Finding(check, rule, self.name, sent.ex.index if sent else None, message)

    @cached_property
    def findings(self) -> list[Finding]:
        """Every finding of the scenario (own checks and the monitor's client findings)."""
        own = [
            *self._auth(),
            *self._token_cycle(),
            *self._paths(),
            *self._bodies(),
            *self._ids(),
            *self._repetitions(),
            *self._polling(),
        ]
        seen = {(f.check, f.exchange) for f in own}
        return own + [f for f in monitor_findings(self) if (f.check, f.exchange) not in seen]

    def posts(self, kind: str | None = None) -> list[Sent]:
        """The client's resource POSTs (of one kind), in order."""
        return [s for s in self.sent if s.op is not None and s.op.action == "post" and kind in (None, s.op.kind)]

    @cached_property
    def stored(self) -> dict[tuple[str, str], Sent]:
        """(kind, id) -> the client's POST that stored it: a 2xx, or a 409 on a repetition (CL-6)."""
        stored: dict[tuple[str, str], Sent] = {}
        failed: set[tuple[str, str]] = set()
        for sent in self.posts():
            key = (sent.op.kind or "", sent.object_id or "")
            if not sent.object_id:
                continue
            if (sent.status is not None and 200 <= sent.status < 300) or (sent.status == 409 and key in failed):
                stored.setdefault(key, sent)
            if _failed_post(sent):
                failed.add(key)
        return stored

    def stored_of(self, kind: str) -> list[Sent]:
        return [s for (k, _), s in self.stored.items() if k == kind]

    # -- CL-1 ----------------------------------------------------------------------------------------
    def _auth(self) -> Iterator[Finding]:
        for sent in self.sent:
            if sent.op is not None and sent.op.id in ("A1", "A2"):
                yield from self._token_request(sent)
                continue
            if "authorization" not in sent.ex.request_headers:
                yield self._f("bearer", "CL-1", sent, f"{_what(sent)} carries no Authorization header")
            elif sent.token is None:
                yield self._f(
                    "bearer", "CL-1", sent, f"{_what(sent)}: the Authorization header is not 'Bearer <token>'"
                )
            elif sent.ex.caller != self.user.username:
                yield self._f(
                    "bearer",
                    "CL-1",
                    sent,
                    f"{_what(sent)} carries a bearer token that A1/A2 never issued to the client",
                )

    def _token_request(self, sent: Sent) -> Iterator[Finding]:
        client_id, client_secret = self.result.client_id, self.result.client_secret
        content_type = sent.ex.request_headers.get("content-type", "").split(";")[0].strip().lower()
        if content_type != "application/x-www-form-urlencoded":
            yield self._f(
                "token-request",
                "CL-1",
                sent,
                f"{sent.op.id} body sent as {content_type or 'no content type'}, "
                "not application/x-www-form-urlencoded (PROFILE 3)",
            )
            return
        form = parse_qs(sent.ex.request_body.decode("utf-8", "replace"), keep_blank_values=True)
        grant = "password" if sent.op.id == "A1" else "refresh_token"
        needed = ("username", "password") if sent.op.id == "A1" else ("refresh_token",)
        missing = [k for k in ("grant_type", *needed, "client_id", "client_secret") if not form.get(k)]
        if missing:
            yield self._f("token-request", "CL-1", sent, f"{sent.op.id} without {', '.join(missing)} (PROFILE 3)")
        elif form["grant_type"][0] != grant:
            yield self._f("token-request", "CL-1", sent, f"{sent.op.id} with grant_type {form['grant_type'][0]!r}")
        elif (client_id, client_secret) != (form["client_id"][0], form["client_secret"][0]) and client_secret:
            yield self._f("token-request", "CL-1", sent, f"{sent.op.id} with client credentials other than the IXIT's")
        elif sent.op.id == "A1" and form["username"][0] != self.user.username:
            yield self._f("token-request", "CL-1", sent, f"A1 for the user {form['username'][0]!r}, not the client's")

    # -- CL-2 ----------------------------------------------------------------------------------------
    def _token_cycle(self) -> Iterator[Finding]:
        rejected: dict[str, float] = {}  # token -> when its 401 arrived
        issued: list[tuple[float, str]] = []  # (finished, refresh token) of the client's A1/A2 answers
        for sent in self.sent:
            ex = sent.ex
            if sent.op is not None and sent.op.id == "A2":
                form = parse_qs(ex.request_body.decode("utf-8", "replace"))
                presented = (form.get("refresh_token") or [""])[0]
                known = sorted((done, token) for done, token in issued if done <= ex.started)
                if presented in {token for _, token in known} and presented != known[-1][1]:
                    yield self._f(
                        "token-cycle", "CL-2", sent, "A2 presented a refresh token after a newer one had been received"
                    )
            if sent.op is not None and sent.op.id in ("A1", "A2") and ex.status == 200:
                try:
                    answer = json.loads(ex.response_body)
                except ValueError:
                    answer = {}
                if isinstance(answer, dict) and isinstance(answer.get("refresh_token"), str):
                    issued.append((ex.finished, answer["refresh_token"]))
                continue
            token = sent.token
            if token in rejected and ex.started >= rejected[token]:
                yield self._f(
                    "token-cycle",
                    "CL-2",
                    sent,
                    f"{_what(sent)} presented an access token again after it was answered 401 (no new token first)",
                )
            if ex.status == 401 and token and token not in rejected:
                rejected[token] = ex.finished

    # -- CL-3 ----------------------------------------------------------------------------------------
    def _paths(self) -> Iterator[Finding]:
        entity = self.user.entity_id
        for sent in self.sent:
            if sent.op is None:
                yield self._f(
                    "path", "CL-3", sent, f"{sent.ex.method} {_short(sent.ex.url)} is no operation of PROFILE 2"
                )
                continue
            if not may_call(sent.op, self.role, entity, sent.params):
                yield self._f(
                    "path",
                    "CL-3",
                    sent,
                    f"{sent.op.id} {sent.ex.method} {_short(sent.ex.url)}: a {self.role} acting for {entity!r} may not "
                    "call it there (PROFILE 2, who may call)",
                )
            query = sent.ex.url.partition("?")[2]
            for part in query.split("&") if query else ():
                name, _, value = part.partition("=")
                if name == "valid_at" and not _QUERY_SAFE.fullmatch(value):
                    yield self._f("path", "CL-3", sent, f"valid_at value {value[:60]!r} is not percent-encoded")
            if sent.op.id == "V2" and isinstance(self.body_offer(sent), dict):
                owner = self.knowledge.offer_agg.get(self.body_offer(sent)["offer_id"])
                if owner is not None and owner != sent.params.get("agg"):
                    yield self._f(
                        "path", "CL-3", sent, f"V2 under {sent.params.get('agg')!r}, but the offer is {owner!r}'s"
                    )

    def body_offer(self, sent: Sent) -> dict | None:
        """The offer an activation names, if the harness knows it."""
        offer_id = sent.body.get("offer_id") if isinstance(sent.body, dict) else None
        return self.knowledge.offers.get(offer_id) if isinstance(offer_id, str) else None

    # -- CL-4 ----------------------------------------------------------------------------------------
    def _bodies(self) -> Iterator[Finding]:
        for sent in self.posts():
            if sent.ex.truncated:
                continue
            media = sent.ex.request_headers.get("content-type", "")
            kind, _, parameters = media.partition(";")
            charset = parameters.partition("charset=")[2].strip().strip('"').lower()
            if kind.strip().lower() != "application/json" or (charset and charset not in ("utf-8", "utf8")):
                yield self._f("body", "CL-4", sent, f"{sent.op.id} body sent as {media or 'no content type'!r}")
            if sent.body is None:
                yield self._f("body", "CL-4", sent, f"{sent.op.id} body is not JSON in UTF-8")
                continue
            for finding in validate(sent.body, sent.op.kind):
                if finding.severity != "error":
                    continue
                check, rule = ("plausible", "CL-4") if finding.rule.startswith("PL-") else ("body", "CL-4")
                yield self._f(
                    check, rule, sent, f"{sent.op.id} body: {finding.path or '/'}: {finding.message} [{finding.rule}]"
                )
            if isinstance(sent.body, dict):
                yield from self._plausible(sent)

    def _plausible(self, sent: Sent) -> Iterator[Finding]:
        body, op, k = sent.body, sent.op, self.knowledge
        assert op is not None
        deadline = _instant(body.get("deadline"))
        if op.id in ("R2", "O2") and deadline is not None and deadline < sent.ex.started - 1.0:
            yield self._f("plausible", "CL-4", sent, f"{op.id}: the deadline had passed when it was posted [PL-6]")
        if op.id == "O2" and body.get("entity_id") != sent.params.get("agg"):
            yield self._f("plausible", "CL-4", sent, "O2: the offer's entity_id is not the {agg} of its path [PL-4]")
        if op.id == "V2":
            offer = self.body_offer(sent)
            if offer is None or k.offer_agg.get(body.get("offer_id")) != sent.params.get("agg"):
                yield self._f("plausible", "CL-4", sent, "V2: offer_id names no offer of the {agg} of its path [PL-5]")
            else:
                power, limit = _number(body.get("flexible_power")), _number(offer.get("flexible_power"))
                if power is not None and limit is not None and power > limit:
                    yield self._f(
                        "plausible", "CL-4", sent, f"V2: flexible_power {power:g} exceeds the offer's {limit:g} [PL-5]"
                    )
                for name in ("unit", "currency"):
                    if body.get(name) != offer.get(name):
                        yield self._f("plausible", "CL-4", sent, f"V2: {name} differs from the offer's [PL-5]")
        if op.id in ("K2", "N2"):
            agg = sent.params.get("agg")
            mine = {a: act for a, act in k.activations.items() if k.activation_agg.get(a) == agg}
            if not any(act.get("offer_id") == body.get("offer_id") for act in mine.values()):
                yield self._f(
                    "plausible", "CL-4", sent, f"{op.id}: offer_id names no offer activated to {agg!r} [PL-7]"
                )
            elif "activation_id" in body and body.get("activation_id") not in mine:
                yield self._f(
                    "plausible", "CL-4", sent, f"{op.id}: activation_id names no activation to {agg!r} [PL-7]"
                )

    # -- CL-5 ----------------------------------------------------------------------------------------
    def _ids(self) -> Iterator[Finding]:
        attempts: dict[tuple[str, str], list[Sent]] = defaultdict(list)
        done: set[tuple[str, str]] = set()
        conflicted: set[tuple[str, str]] = set()
        for sent in self.posts():
            if not sent.object_id:
                continue
            key = (sent.op.kind or "", sent.object_id)
            earlier = attempts[key]
            repetition = bool(earlier) and _failed_post(earlier[-1])
            if key in conflicted:
                yield self._f(
                    "conflict",
                    "CL-5",
                    sent,
                    f"{sent.op.id} posted id {sent.object_id!r} again after a 409 on a POST that was not a "
                    "repetition; a new id is needed first",
                )
            elif key in done:
                yield self._f(
                    "ids", "CL-5", sent, f"{sent.op.id} posted id {sent.object_id!r}, already posted successfully"
                )
            if (sent.status is not None and 200 <= sent.status < 300) or (sent.status == 409 and repetition):
                done.add(key)
            elif sent.status == 409 and not repetition:
                conflicted.add(key)
            earlier.append(sent)

    # -- CL-6 ----------------------------------------------------------------------------------------
    def _repetitions(self) -> Iterator[Finding]:
        by_id: dict[tuple[str, str], list[Sent]] = defaultdict(list)
        for sent in self.posts():
            if sent.object_id:
                by_id[(sent.op.kind or "", sent.object_id)].append(sent)
        for tries in by_id.values():
            for before, after in itertools.pairwise(tries):
                if not _failed_post(before):
                    continue
                waited = after.ex.started - before.ex.finished
                if waited < REPEAT_WAIT - 0.005:
                    yield self._f(
                        "repeat",
                        "CL-6",
                        after,
                        f"{after.op.id} repeated {waited:.2f} s after the failure (at least 1 s)",
                    )
                if after.body != before.body:
                    yield self._f("repeat", "CL-6", after, f"{after.op.id} repeated with the same id but another body")
            failures = sum(1 for s in tries if _failed_post(s))
            if len(tries) > MAX_TRIES and failures >= MAX_TRIES:
                yield self._f("tries", "CL-6", tries[-1], f"{tries[0].op.id} tried {len(tries)} times (at most 5)")
        refused: list[Sent] = []
        for sent in self.sent:
            if sent.ex.method in ("POST", "DELETE") and sent.op is not None and sent.op.id not in ("A1", "A2"):
                again = next(
                    (
                        r
                        for r in refused
                        if r.ex.method == sent.ex.method
                        and r.ex.url == sent.ex.url
                        and r.ex.request_body == sent.ex.request_body
                        and sent.ex.started >= r.ex.finished
                    ),
                    None,
                )
                if again is not None:
                    yield self._f(
                        "repeat-4xx",
                        "CL-6",
                        sent,
                        f"{sent.op.id} repeated unchanged after it was answered {again.status} (exchange "
                        f"#{again.ex.index})",
                    )
                if sent.status is not None and 400 <= sent.status < 500 and sent.status not in (401, 429):
                    refused.append(sent)

    # -- CL-7 ----------------------------------------------------------------------------------------
    def _polling(self) -> Iterator[Finding]:
        reads: dict[str, list[Sent]] = defaultdict(list)
        for sent in self.sent:
            if sent.op is not None and sent.op.action == "list":
                reads[sent.ex.url.split("?", 1)[0]].append(sent)
        for path, listed in reads.items():
            times = [s.ex.started for s in listed]
            low = 0
            for high, moment in enumerate(times):
                while moment - times[low] >= POLL_WINDOW:
                    low += 1
                if high - low + 1 > POLL_MAX:
                    yield self._f(
                        "polling", "CL-7", listed[high], f"{high - low + 1} reads of {_short(path)} within 10 s"
                    )
                    break
        for op_id in ("R3", "O3"):
            listed = [s for s in self.sent if s.op is not None and s.op.id == op_id]
            if len(listed) >= 3 and not any("valid_at=" in s.ex.url for s in listed):
                yield self._f(
                    "valid-at", "CL-7", listed[-1], f"{op_id} read {len(listed)} times without valid_at (date-filter)"
                )


def _what(sent: Sent) -> str:
    return f"{sent.op.id if sent.op else sent.ex.method} {_short(sent.ex.url)}"


def _short(url: str, limit: int = 120) -> str:
    return url if len(url) <= limit else url[:limit] + "..."


def _instant(value: object) -> float | None:
    from datetime import datetime

    if not isinstance(value, str):
        return None
    try:
        moment = datetime.fromisoformat(value.upper().replace("Z", "+00:00"))
    except ValueError:
        return None
    return moment.timestamp() if moment.tzinfo is not None else None


_NEGOTIATION_CHECKS = {"V2": "neg-activate", "O2": "neg-offer", "K2": "neg-answer", "N2": "neg-answer"}


def _monitor_check(rule: str, op: str | None, message: str) -> str | None:
    """The check (test case) a client finding of the monitor belongs to."""
    if rule == "CL-1":
        return "token-request" if op in ("A1", "A2") else "bearer"
    if rule == "CL-4":
        return "plausible" if "PL-" in message else "body"
    if rule == "CL-6":
        return "repeat-4xx" if "unchanged" in message else "repeat"
    if rule == "CL-8":
        return _NEGOTIATION_CHECKS.get(op or "")
    return {"CL-2": "token-cycle", "CL-3": "path", "CL-5": "ids"}.get(rule)


def monitor_findings(judge: ScenarioJudge) -> list[Finding]:
    """The protocol monitor's (contract C5) client errors on the client's exchanges of this scenario, fed the
    whole capture (the counterparts' exchanges too) as complete; mapped to checks by rule."""
    from interflex.monitor import Participant, Platform
    from interflex.monitor import judge as monitor_judge

    result = judge.result
    users = [result.client, *result.counterparts]
    platform = Platform(
        tuple(Participant(u.username, u.role, u.entity_id) for u in users),
        plausibility=True,
        date_filter=True,
        client_id=result.client_id or None,
    )
    own = {c.exchange.index for c in result.client_exchanges}
    found = []
    try:
        for finding in monitor_judge([c.exchange for c in result.exchanges], platform, True):
            if finding.side != "client" or finding.severity != "error" or finding.exchange not in own:
                continue
            check = _monitor_check(finding.rule, finding.operation, finding.message)
            if check is not None:
                message = f"{finding.operation or 'request'}: {finding.message} (monitor)"
                found.append(Finding(check, finding.rule, judge.name, finding.exchange, message))
    except Exception as exc:
        judge.result.knowledge.errors.append(f"the protocol monitor failed on this capture: {type(exc).__name__}")
    return found
