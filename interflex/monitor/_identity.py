"""Who sent a request: token -> user learnt from A1/A2, access rules (AU-5, CL-3) and token life (AU-4, AU-6, CL-2).

Tokens are kept only as 64-bit hashes (never the secret itself); a redacted token (`***`, as
in the suite's evidence) identifies nobody, so the exchange's `caller` is used instead.
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import parse_qs

from interflex.monitor._bounded import Bounded
from interflex.monitor._model import CLIENT, ERROR, SERVER, WARNING, MonitorFinding, Participant, Platform
from interflex.monitor._view import View
from interflex.profile import (
    AGG_SELF,
    AGG_SELF_OR_ANY_DSO,
    DSO_SELF,
    DSO_SELF_OR_AGG_SELF,
    Operation,
)

_REDACTED = "***"
_LIMIT = 1 << 17  # tokens, used refresh tokens and 401 answers remembered at most
EXPIRY_MARGIN = 1.0  # seconds of clock tolerance before a token counts as expired


@dataclass(frozen=True, slots=True)
class Token:
    """What an access token stands for: its user and when it surely expired (capture clock)."""

    username: str | None
    expires: float


def may_call(op: Operation, params: dict[str, str], who: Participant) -> bool:
    """The "who may call" column of section 2 for one participant."""
    dso = who.role == "dso"
    mine = who.entity_id
    if op.access == DSO_SELF:
        return dso and params.get("dso") == mine
    if op.access == AGG_SELF:
        return not dso and params.get("agg") == mine
    if op.access == DSO_SELF_OR_AGG_SELF:
        return params.get("dso") == mine if dso else params.get("agg") == mine
    if op.access == AGG_SELF_OR_ANY_DSO:
        return dso or params.get("agg") == mine
    return True  # anyone, any authenticated user, O3


def _form(view: View) -> dict[str, str]:
    text = view.exchange.request_body.decode("utf-8", errors="replace")
    return {name: values[0] for name, values in parse_qs(text, keep_blank_values=True).items()}


class Identities:
    """Token -> user, and the rules about who called and with which token."""

    def __init__(self, platform: Platform) -> None:
        self.participants = {p.username: p for p in platform.participants}
        self.access: Bounded[int, Token] = Bounded(_LIMIT)
        self.refresh: Bounded[int, str | None] = Bounded(_LIMIT)
        self.rotated: Bounded[int, float] = Bounded(_LIMIT)  # refresh token -> when A2 replaced it

    def caller(self, view: View) -> str | None:
        """The username that sent the request: the exchange's `caller`, else learnt from its token."""
        if view.exchange.caller:
            return view.exchange.caller
        token = view.token
        if token is None or token == _REDACTED:
            return None
        known = self.access.get(hash(token))
        return known.username if known else None

    def participant(self, username: str | None) -> Participant | None:
        """The participant of a username, when the platform description names it."""
        return self.participants.get(username) if username else None

    def feed(self, view: View, caller: str | None) -> list[MonitorFinding]:
        """Learn tokens from A1/A2; judge AU-5/CL-3 (access), AU-4/CL-2 (expired token), CL-2/AU-6 (refresh)."""
        op = view.op
        if op is None:
            return []
        if op.action in ("token", "refresh"):
            return self._authentication(view)
        findings = self._expired(view)
        who = self.participants.get(caller) if caller and self.participants else None
        if who is not None and not may_call(op, view.params, who):
            where = f"{view.exchange.method} {view.path}"
            message = f"{who.role} {who.entity_id} ({who.username}) may not call {op.id}: {where}"
            findings.append(MonitorFinding(ERROR, "CL-3", CLIENT, view.exchange.index, message, op.id))
            if view.ok:
                message = f"{op.id} answered {view.status} to {who.role} {who.entity_id}, who may not call it; not 403"
                findings.append(MonitorFinding(ERROR, "AU-5", SERVER, view.exchange.index, message, op.id))
        return findings

    def _expired(self, view: View) -> list[MonitorFinding]:
        token = view.token
        known = self.access.get(hash(token)) if token and token != _REDACTED else None
        if known is None or view.exchange.started <= known.expires + EXPIRY_MARGIN:
            return []
        index, op_id = view.exchange.index, view.op.id if view.op else None
        late = view.exchange.started - known.expires
        message = f"sent a token {late:.0f} s after its expires_in passed (the client may rely on the 401)"
        findings = [MonitorFinding(WARNING, "CL-2", CLIENT, index, message, op_id)]  # D-105
        if view.ok:
            message = f"accepted ({view.status}) a token {late:.0f} s after it expired; not 401"
            findings.append(MonitorFinding(ERROR, "AU-4", SERVER, index, message, op_id))
        return findings

    def _authentication(self, view: View) -> list[MonitorFinding]:
        op, exchange = view.op, view.exchange
        assert op is not None
        form = _form(view)
        findings = []
        username: str | None = exchange.caller
        if op.action == "token":
            username = username or form.get("username")
        else:
            presented = form.get("refresh_token")
            if presented and presented != _REDACTED:
                key = hash(presented)
                username = username or self.refresh.get(key)
                replaced = self.rotated.get(key)
                if replaced is not None and replaced < exchange.started:
                    message = "presented a refresh token again after A2 returned a newer one"
                    findings.append(MonitorFinding(ERROR, "CL-2", CLIENT, exchange.index, message, op.id))
                    if view.ok:
                        message = "accepted a refresh token that was already used (rotation, SHOULD)"
                        findings.append(MonitorFinding(WARNING, "AU-6", SERVER, exchange.index, message, op.id))
        body = view.response_json
        if view.ok and isinstance(body, dict):
            self._learn(view, body, username, form.get("refresh_token"))
        return findings

    def _learn(self, view: View, body: dict[str, object], username: str | None, presented: str | None) -> None:
        access, refresh, lifetime = body.get("access_token"), body.get("refresh_token"), body.get("expires_in")
        if isinstance(access, str) and access != _REDACTED:
            seconds = lifetime if isinstance(lifetime, int | float) and not isinstance(lifetime, bool) else None
            expires = view.exchange.finished + seconds if seconds is not None and seconds > 0 else float("inf")
            self.access[hash(access)] = Token(username, expires)
        if isinstance(refresh, str) and refresh != _REDACTED:
            self.refresh[hash(refresh)] = username
            if presented and presented != refresh and presented != _REDACTED:
                self.rotated[hash(presented)] = view.exchange.finished
