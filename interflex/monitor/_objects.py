"""Rules across exchanges about the platform's objects: ID-1, ST-2, ST-4, ST-9, ST-12, PL-5, PL-7, CL-8.

Each exchange is judged once every exchange that may have been processed before it is known
(`Monitor` defers it until the capture has passed its end), against the possible states of
the objects it touches (`Store.possible`): a finding needs every possible state to break the rule.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any
from urllib.parse import parse_qsl

from interflex.monitor._model import CLIENT, ERROR, SERVER, WARNING, MonitorFinding, Participant, Platform
from interflex.monitor._store import ABSENT, UNKNOWN, Event, Store, Stored, stored
from interflex.monitor._view import View
from interflex.profile import ID_FIELDS, OPERATIONS, Operation
from interflex.validation import rfc3339_instant

_R, _O, _V = "FlexibilityRequest", "FlexibilityOffer", "FlexibilityActivation"
_K, _N = "FlexibilityActivationAck", "FlexibilityActivationNack"


def path_key(op: Operation, params: dict[str, str]) -> Any:
    """The entity path an object lives under (R: dso, O/K/N: agg, V: (dso, agg)); None for O3."""
    kind = op.kind
    if kind == _R:
        return params.get("dso")
    if kind == _V:
        return (params.get("dso"), params.get("agg"))
    return params.get("agg")


def _describe(kind: str, path: Any) -> str:
    if kind == _V:
        return f"/dsos/{path[0]}/flexibilityActivations/{path[1]}"
    return f"{'/dsos/' if kind == _R else '/aggregators/'}{path}"


_LAST_PARAM = {op.id: op.path_params[-1] for op in OPERATIONS if op.path_params}  # the object's id in a DELETE


def _delete_id(op: Operation, params: dict[str, str]) -> str | None:
    name = _LAST_PARAM.get(op.id)
    return params.get(name) if name else None


def _body_id(kind: str, body: Any) -> str | None:
    value = body.get(ID_FIELDS[kind]) if isinstance(body, dict) else None
    return value if isinstance(value, str) else None


def record(store: Store, view: View) -> None:
    """Add the exchange's POST or DELETE to the store (a 2xx is certain; no answer or a 5xx may have happened)."""
    op, status = view.op, view.status
    if op is None or op.kind is None or op.action not in ("post", "delete"):
        return
    if status is not None and status < 500 and not view.ok:
        return  # a 4xx (or 3xx, 1xx) changed nothing
    exchange = view.exchange
    if op.action == "delete":
        object_id = _delete_id(op, view.params)
        value = None
    else:
        body = view.request_json
        object_id = _body_id(op.kind, body)
        value = stored(op.kind, path_key(op, view.params), body) if object_id else None
    if object_id is not None and (op.action == "delete" or value is not None):
        store.add(op.kind, object_id, Event(exchange.started, exchange.finished, view.ok, value, exchange.index))


class ObjectRules:
    """The deferred, cross-exchange judgment of one exchange."""

    def __init__(self, store: Store, platform: Platform) -> None:
        self.store = store
        self.platform = platform
        # hash((kind, id)) -> hash(username) of who got it, 0 when unknown; a tuple of them when the
        # server handed it out more than once (ID-1, CL-5)
        self.handed_out: dict[int, int | tuple[int, ...]] = {}

    def _finding(self, view: View, severity: str, rule: str, side: str, message: str) -> MonitorFinding:
        op = view.op
        return MonitorFinding(severity, rule, side, view.exchange.index, message, op.id if op else None)

    def _states(self, view: View, kind: str, object_id: str) -> list[Stored | str]:
        exchange = view.exchange
        return self.store.possible(kind, object_id, exchange.started, exchange.finished, exchange.index)

    def hand_out(self, view: View, caller: str | None) -> list[MonitorFinding]:
        """ID-1, at once: an id getter returned an id it returned before (any order of the two)."""
        op = view.op
        if op is None or op.action != "new_id" or not view.ok or op.kind is None:
            return []
        object_id = _body_id(op.kind, view.response_json)
        if object_id is None:
            return []
        key = hash((op.kind, object_id))
        recipient = hash(caller) if caller else 0
        before = self.handed_out.get(key)
        if before is None:
            self.handed_out[key] = recipient
            return []
        recipients = before if isinstance(before, tuple) else (before,)
        if recipient not in recipients:  # each user it went to may post it (D-56)
            self.handed_out[key] = (*recipients, recipient)
        return [self._finding(view, ERROR, "ID-1", SERVER, f"{op.id} returned {object_id!r} again")]

    def posted_by_other(self, view: View, caller: str | None) -> list[MonitorFinding]:
        """CL-5, at once: a POST of an id that the id getter handed only to other users (D-56)."""
        op = view.op
        if op is None or op.action != "post" or op.kind is None or not caller:
            return []
        object_id = _body_id(op.kind, view.request_json)
        got = self.handed_out.get(hash((op.kind, object_id))) if object_id else None
        if got is None:
            return []
        recipients = got if isinstance(got, tuple) else (got,)
        if 0 in recipients or hash(caller) in recipients:
            return []
        message = f"{op.id} posted {object_id!r}, an id the id getter returned to another user"
        return [self._finding(view, ERROR, "CL-5", CLIENT, message)]

    def judge(self, view: View, who: Participant | None) -> list[MonitorFinding]:
        """The cross-exchange rules of one exchange whose processing time is now settled."""
        op = view.op
        if op is None or op.kind is None:
            return []
        if op.action == "new_id":
            return self._new_id(view, op.kind)
        if op.action == "post":
            return self._post(view, op, who)
        if op.action == "delete":
            return self._delete(view, op)
        if op.action == "list" and view.ok:
            return self._list(view, op, who)
        return []

    def _new_id(self, view: View, kind: str) -> list[MonitorFinding]:
        object_id = _body_id(kind, view.response_json) if view.ok else None
        if object_id is None:
            return []
        states = self._states(view, kind, object_id)
        if _all_stored(states):
            message = f"returned {object_id!r}, the id of a stored {kind}"
            return [self._finding(view, ERROR, "ID-1", SERVER, message)]
        return []

    def _post(self, view: View, op: Operation, who: Participant | None) -> list[MonitorFinding]:
        kind = op.kind
        assert kind is not None
        body = view.request_json
        object_id = _body_id(kind, body)
        if object_id is None or not isinstance(body, dict):
            return []
        findings = []
        states = self._states(view, kind, object_id)
        if view.ok and _all_stored(states):
            message = f"answered {view.status} to a POST of {object_id!r}, which is stored; not 409"
            findings.append(self._finding(view, ERROR, "ST-2", SERVER, message))
        if view.status == 409 and self.store.complete and states and all(s == ABSENT for s in states):
            message = f"answered 409 to a POST of {object_id!r}, which is not stored"
            findings.append(self._finding(view, ERROR, "ST-2", SERVER, message))
        if kind == _V:
            findings += self._activation(view, body)
        elif kind in (_K, _N):
            findings += self._answer(view, kind, body)
        elif kind == _O and view.ok:
            findings += self._second(view, _O, "request_id", body.get("request_id"), (_O,), "offer for request")
        return findings

    def _violations(self, findings_for: Iterable[list[str]]) -> list[str]:
        """The first state's problems when every possible state has one; else nothing."""
        first: list[str] = []
        for problems in findings_for:
            if not problems:
                return []
            first = first or problems
        return first

    def _activation(self, view: View, body: dict[str, Any]) -> list[MonitorFinding]:
        """PL-5 (server with `plausibility`, client CL-4 always), CL-3 (under the offer's {agg}), CL-8."""
        offer_id = body.get("offer_id")
        agg = view.params.get("agg")
        if not isinstance(offer_id, str):
            return []
        states = self._states(view, _O, offer_id)
        if not states or UNKNOWN in states:
            return []
        findings = []
        wrong_agg = self._violations(
            [] if s == ABSENT else ([] if s.path == agg else [f"offer {offer_id!r} is aggregator {s.path}'s"])
            for s in states
        )
        if wrong_agg:
            message = f"V2 under aggregator {agg}: {wrong_agg[0]}; activations go under the offering aggregator"
            findings.append(self._finding(view, ERROR, "CL-3", CLIENT, message))
        problems = self._violations(_pl5(s, offer_id, agg, body) for s in states)
        if problems:
            findings.append(self._finding(view, ERROR, "CL-4", CLIENT, f"PL-5: {problems[0]}"))
            if view.ok and self.platform.plausibility:
                message = f"accepted ({view.status}) an activation breaking PL-5: {problems[0]}"
                findings.append(self._finding(view, ERROR, "PL-5", SERVER, message))
        negotiation = self._violations(_cl8_offer(s, offer_id) for s in states)
        if negotiation:
            findings.append(self._finding(view, ERROR, "CL-8", CLIENT, f"activated {negotiation[0]}"))
        if view.ok:
            findings += self._second(view, _V, "offer_id", offer_id, (_V,), "activation of offer")
        return findings

    def _answer(self, view: View, kind: str, body: dict[str, Any]) -> list[MonitorFinding]:
        """PL-7 (server with `plausibility`, client CL-4 always) and CL-8 (one ACK or NACK per activation)."""
        offer_id, activation_id = body.get("offer_id"), body.get("activation_id")
        agg = view.params.get("agg")
        problems: list[str] = []
        if isinstance(activation_id, str):
            states = self._states(view, _V, activation_id)
            if states and UNKNOWN not in states:
                problems = self._violations(_pl7(s, activation_id, offer_id, agg) for s in states)
        elif isinstance(offer_id, str) and self.store.complete:
            ids = self.store.referring(_V, "offer_id", offer_id)
            possible = [
                s for other in ids for s in self._states(view, _V, other) if isinstance(s, Stored) and s.path[1] == agg
            ]
            if not possible:
                problems = [f"no activation of offer {offer_id!r} to aggregator {agg} is stored"]
        findings = []
        if problems:
            findings.append(self._finding(view, ERROR, "CL-4", CLIENT, f"PL-7: {problems[0]}"))
            if view.ok and self.platform.plausibility:
                message = f"accepted ({view.status}) a {kind} breaking PL-7: {problems[0]}"
                findings.append(self._finding(view, ERROR, "PL-7", SERVER, message))
        if view.ok:
            field, value = (
                ("activation_id", activation_id) if isinstance(activation_id, str) else ("offer_id", offer_id)
            )
            findings += self._second(view, kind, field, value, (_K, _N), f"ACK or NACK for {field}")
        return findings

    def _second(
        self, view: View, kind: str, field: str, value: object, kinds: tuple[str, ...], what: str
    ) -> list[MonitorFinding]:
        """CL-8: a second object of `kinds` under the same path answering the same `value`."""
        if not isinstance(value, str):
            return []
        body_id = _body_id(kind, view.request_json)
        path = path_key(view.op, view.params) if view.op else None
        for other_kind in kinds:
            for other in self.store.referring(other_kind, field, value):
                if other_kind == kind and other == body_id:
                    continue
                states = self._states(view, other_kind, other)
                if states and all(isinstance(s, Stored) and _same_party(kind, s.path, path) for s in states):
                    message = f"a second {what} {value!r} (the first is {other!r}); exactly one is posted"
                    return [self._finding(view, ERROR, "CL-8", CLIENT, message)]
        return []

    def _delete(self, view: View, op: Operation) -> list[MonitorFinding]:
        """ST-4: a 2xx DELETE of an id not stored under its path, or a 404 for a stored one."""
        kind = op.kind
        object_id = _delete_id(op, view.params)
        if kind is None or object_id is None or not (view.ok or view.status == 404):
            return []
        states = self._states(view, kind, object_id)
        if not states or UNKNOWN in states:
            return []
        path = path_key(op, view.params)
        here = [s for s in states if isinstance(s, Stored) and s.path == path]
        severity = ERROR if self.store.complete else WARNING
        if view.ok and not here:
            message = (
                f"answered {view.status} to a DELETE of {object_id!r}, which is not stored under this path; not 404"
            )
            return [self._finding(view, severity, "ST-4", SERVER, message)]
        if view.status == 404 and len(here) == len(states):
            message = f"answered 404 to a DELETE of {object_id!r}, which is stored under this path"
            return [self._finding(view, severity, "ST-4", SERVER, message)]
        return []

    def _list(self, view: View, op: Operation, who: Participant | None) -> list[MonitorFinding]:
        """ST-9 (listed as posted, missing, deleted still listed) and ST-12 (only objects of this path)."""
        kind = op.kind
        body = view.response_json
        if kind is None or not isinstance(body, list):
            return []
        field = ID_FIELDS[kind]
        path = None if op.id == "O3" else path_key(op, view.params)
        findings = []
        listed: dict[str, dict[str, Any]] = {}
        for item in body:
            object_id = item.get(field) if type(item) is dict else None
            if type(object_id) is str:
                listed[object_id] = item
        exchange = view.exchange
        objects, started, index = self.store.objects, exchange.started, exchange.index
        for object_id, item in listed.items():
            history = objects.get((kind, object_id))
            if history is not None and len(events := history.events) == 1:  # the common case, decided at once:
                only = events[0]  # posted once, surely before, and listed as posted
                value = only.value
                if (
                    value is not None
                    and only.certain
                    and only.finished < started
                    and only.index != index
                    and (path is None or value.path == path)
                ):
                    try:
                        if value.raw.items() <= item.items():  # `Stored.listed_as_posted`, without the call
                            continue
                    except TypeError:  # an unhashable value: `_listed` compares field for field
                        pass
            problem = self._listed(view, kind, path, object_id, item)
            if problem:
                findings.append(self._finding(view, ERROR, *problem))
        severity = ERROR if self.store.complete else WARNING
        for object_id in self._expected(view, kind, path, who, listed):
            message = f"{kind} {object_id!r}, posted and not deleted, is missing from the list"
            findings.append(self._finding(view, severity, "ST-9", SERVER, message))
        return findings

    def _listed(
        self, view: View, kind: str, path: Any, object_id: str, item: dict[str, Any]
    ) -> tuple[str, str, str] | None:
        states = self._states(view, kind, object_id)
        if not states or UNKNOWN in states:
            return None
        here = [s for s in states if isinstance(s, Stored) and (path is None or s.path == path)]
        if here:
            differences = [s.differences(item) for s in here]
            if all(differences):
                return "ST-9", SERVER, f"{object_id!r} is listed unlike it was posted: {'; '.join(differences[0])}"
            return None
        elsewhere = [s for s in states if isinstance(s, Stored)]
        if elsewhere:
            where = _describe(kind, elsewhere[0].path)
            return "ST-12", SERVER, f"{object_id!r}, posted under {where}, is listed under another path"
        if self.store.deleted(kind, object_id):
            return "ST-9", SERVER, f"{object_id!r} is listed though it was deleted"
        return "ST-12", SERVER, f"{object_id!r} is listed but was not posted before (complete capture)"

    def _expected(self, view: View, kind: str, path: Any, who: Participant | None, listed: dict[str, Any]) -> list[str]:
        """Ids that every possible state puts in this list and that it lacks."""
        query = parse_qsl(view.query, keep_blank_values=True) if view.query else []
        if query and (len(query) > 1 or query[0][0] != "valid_at"):
            return []
        valid_at = rfc3339_instant(query[0][1]) if query else None
        if query and valid_at is None:
            return []
        if path is not None:
            candidates: Iterable[str] = self.store.ids_under(kind, path)
        elif who is not None and who.role == "dso":
            candidates = [i for (k, p), ids in self.store.by_path.items() if k == kind for i in ids]
        elif who is not None:
            candidates = self.store.ids_under(kind, who.entity_id)
        else:
            return []
        if isinstance(candidates, set) and candidates <= listed.keys():
            return []  # the common case: everything expected is listed
        missing = []
        for object_id in candidates:
            if object_id in listed:
                continue
            states = self._states(view, kind, object_id)
            if states and all(_belongs(s, path, valid_at) for s in states):
                missing.append(object_id)
        return sorted(missing)  # the same findings in the same order whatever the hash seed


def _all_stored(states: list[Stored | str]) -> bool:
    """Whether the object is stored in every possible state (and there is one)."""
    for state in states:
        if type(state) is not Stored:
            return False
    return bool(states)


def _same_party(kind: str, path: Any, other: Any) -> bool:
    """Whether two objects were posted by the same party: the DSO for activations, else the same path."""
    return path[0] == other[0] if kind == _V else path == other


def _belongs(state: Stored | str, path: Any, valid_at: Any) -> bool:
    if not isinstance(state, Stored) or (path is not None and state.path != path):
        return False
    if valid_at is None:
        return True
    deadline = rfc3339_instant(state.raw.get("deadline"))
    return deadline is not None and deadline >= valid_at


def _number(value: object) -> float | None:
    return float(value) if isinstance(value, int | float) and not isinstance(value, bool) else None


def _pl5(state: Stored | str, offer_id: str, agg: str | None, body: dict[str, Any]) -> list[str]:
    if not isinstance(state, Stored):
        return [f"offer {offer_id!r} is not stored"]
    offer = state.raw
    problems = [] if state.path == agg else [f"offer {offer_id!r} is not aggregator {agg}'s"]
    power, offered = _number(body.get("flexible_power")), _number(offer.get("flexible_power"))
    if power is not None and offered is not None and power > offered:
        problems.append(f"flexible_power {body['flexible_power']} exceeds the offer's {offer['flexible_power']}")
    for name in ("unit", "currency"):
        if name in body and name in offer and body[name] != offer[name]:
            problems.append(f"{name} {body[name]!r} is not the offer's {offer[name]!r}")
    return problems


def _cl8_offer(state: Stored | str, offer_id: str) -> list[str]:
    if not isinstance(state, Stored):
        return []
    if _number(state.raw.get("flexible_power")) == 0:
        return [f"offer {offer_id!r}, which has flexible_power 0"]
    if "request_id" not in state.raw:
        return [f"offer {offer_id!r}, which answers no request (no request_id)"]
    return []


def _pl7(state: Stored | str, activation_id: str, offer_id: object, agg: str | None) -> list[str]:
    if not isinstance(state, Stored):
        return [f"activation {activation_id!r} is not stored"]
    problems = []
    if state.path[1] != agg:
        problems.append(f"activation {activation_id!r} is addressed to aggregator {state.path[1]}, not {agg}")
    if state.raw.get("offer_id") != offer_id:
        problems.append(f"activation {activation_id!r} is of offer {state.raw.get('offer_id')!r}, not {offer_id!r}")
    return problems
