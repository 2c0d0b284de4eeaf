"""What the capture shows of the platform's objects, with every order concurrency allows.

Each object (kind, id) keeps the few POST and DELETE events that may still decide its state:
an event is dropped once another certain event surely came after it and surely before anything
still to be judged. An exchange is judged against the *possible states* of an object at its
processing point: the state after any event that may have been the last one before it (the
server may have processed overlapping exchanges in either order, and a POST or DELETE without
an answer may or may not have happened). A rule is broken only when no possible state explains
what the exchange shows.

Memory: live objects and their pending events; deleted objects become a 64-bit hash in `gone`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from interflex.validation._datetime import rfc3339_instant
from interflex.validation._schemas import fields

_TIME_FIELDS = frozenset({"timestamp", "deadline", "activation_time"})
UNKNOWN = "unknown"  # a possible state: the capture does not say (no history before it)
ABSENT = "absent"


def _normal(name: str, value: Any) -> Any:
    """A value as ST-9 compares it: numbers as numbers (never bools), times as instants."""
    if isinstance(value, bool) or value is None:
        return ("b", value)
    if isinstance(value, int | float):
        return ("n", float(value))
    if name in _TIME_FIELDS and isinstance(value, str):
        instant = rfc3339_instant(value)
        return ("t", instant) if instant is not None else ("s", value)
    if isinstance(value, str):
        return ("s", value)
    return ("j", repr(value))


@dataclass(frozen=True, slots=True)
class Stored:
    """An object as posted: the path key it lives under and its known fields."""

    path: Any
    raw: dict[str, Any]  # the known fields as posted (for ST-9, PL-5, PL-7, CL-8 and messages)

    def listed_as_posted(self, listed: dict[str, Any]) -> bool:
        """The common case: every known field listed exactly as posted (same values and types)."""
        try:
            return self.raw.items() <= listed.items()
        except TypeError:  # an unhashable value (a list where a number belongs): `differences` compares
            return False

    def differences(self, listed: dict[str, Any]) -> list[str]:
        """Field-for-field differences of a listed copy (fields only in the list are ignored)."""
        if self.listed_as_posted(listed):
            return []
        found = []
        for name, value in self.raw.items():
            if name not in listed:
                found.append(f"{name} missing (posted {value!r})")
                continue
            other = listed[name]
            if (other != value or type(other) is not type(value)) and _normal(name, other) != _normal(name, value):
                found.append(f"{name}: posted {value!r}, listed {other!r}")
        return found


def stored(kind: str, path: Any, body: dict[str, Any]) -> Stored:
    """The `Stored` form of a posted body of `kind`."""
    known = fields(kind)
    if known.issuperset(body):  # the common case: no unknown field, so the body itself (never modified)
        return Stored(path, body)
    return Stored(path, {name: value for name, value in body.items() if name in known})


@dataclass(slots=True)
class Event:
    """A POST (`value` set) or DELETE (`value` None) of one object, in its time interval."""

    started: float
    finished: float
    certain: bool  # answered 2xx; otherwise (no answer, 5xx) it may or may not have happened
    value: Stored | None
    index: int  # the exchange


@dataclass(slots=True)
class History:
    """The events of one object that may still decide its state."""

    events: list[Event] = field(default_factory=list)
    initial: bool = True  # the state before the capture may still be the current one
    indexed: set[tuple[Any, ...]] = field(default_factory=set)  # keys of `Store.by_path`/`Store.refs` naming it


class Store:
    """Every object the capture shows, per kind, with `possible` states at any exchange."""

    def __init__(self, complete: bool) -> None:
        self.complete = complete
        self.objects: dict[tuple[str, str], History] = {}
        self.gone: set[int] = set()  # hash((kind, id)) of objects certainly deleted and forgotten
        self.by_path: dict[tuple[str, Any], set[str]] = {}  # (kind, path) -> ids with a POST there
        self.refs: dict[tuple[str, str, Any], set[str]] = {}  # (kind, field, value) -> ids
        self._unsettled: set[tuple[str, str]] = set()  # objects whose events may still be pruned

    def add(self, kind: str, object_id: str, event: Event) -> None:
        """Record a POST or DELETE event."""
        key = (kind, object_id)
        history = self.objects.get(key)
        if history is None:
            history = self.objects[key] = History()
            self.gone.discard(hash(key))
        history.events.append(event)
        self._unsettled.add(key)
        value = event.value
        if value is not None:
            where = (kind, value.path)
            ids = self.by_path.get(where)
            if ids is None:
                ids = self.by_path[where] = set()
            ids.add(object_id)
            history.indexed.add(where)
            for name in _REFERENCE_FIELDS.get(kind, ()):
                field_value = value.raw.get(name)
                if isinstance(field_value, str):
                    self.refs.setdefault((kind, name, field_value), set()).add(object_id)
                    history.indexed.add((kind, name, field_value))

    def possible(
        self, kind: str, object_id: str, started: float, finished: float, exclude: int = -1
    ) -> list[Stored | str]:
        """The states the object may be in when an exchange [started, finished] is processed.

        Each is a `Stored`, `ABSENT`, or `UNKNOWN` (the capture does not show the history).
        `exclude` is the exchange being judged, whose own event does not count.
        """
        history = self.objects.get((kind, object_id))
        if history is None:
            if hash((kind, object_id)) in self.gone:
                return [ABSENT]
            return [ABSENT if self.complete else UNKNOWN]
        events = [e for e in history.events if e.index != exclude and e.started <= finished]
        if len(events) <= 1:  # the common cases: no other event, or one certain event surely before
            if not events:
                return [ABSENT if self.complete else UNKNOWN] if history.initial else []
            only = events[0]
            if only.certain and only.finished < started:
                return [ABSENT if only.value is None else only.value]
        certain_before = [e for e in events if e.certain and e.finished < started]
        states: list[Stored | str] = []
        if history.initial and not certain_before:
            states.append(ABSENT if self.complete else UNKNOWN)
        for event in events:
            if any(f.started > event.finished for f in certain_before if f is not event):
                continue  # a certain event surely came after it and before the exchange
            states.append(ABSENT if event.value is None else event.value)
        return states

    def prune(self, horizon: float) -> None:
        """Forget what nothing starting at `horizon` or later can still be explained by."""
        unsettled = set()
        for key in self._unsettled:
            history = self.objects.get(key)
            if history is None:
                continue
            events = history.events
            only = events[0] if len(events) == 1 else None
            if only is not None and only.started <= only.finished:  # the common case: one event
                if only.finished >= horizon:
                    unsettled.add(key)
                elif only.certain:
                    history.initial = False
                    if only.value is None:
                        self._forget(key, history)
                continue
            settled = [e for e in events if e.certain and e.finished < horizon]
            if settled:
                history.initial = False
                history.events = [e for e in history.events if not any(f.started > e.finished for f in settled)]
            if any(e.finished >= horizon for e in history.events):
                unsettled.add(key)
            elif not history.initial and all(e.value is None and e.certain for e in history.events):
                self._forget(key, history)
        self._unsettled = unsettled

    def _forget(self, key: tuple[str, str], history: History) -> None:
        del self.objects[key]
        self.gone.add(hash(key))
        object_id = key[1]
        for index_key in history.indexed:
            index = self.by_path if len(index_key) == 2 else self.refs
            ids = index.get(index_key)  # type: ignore[call-overload]
            if ids is not None:
                ids.discard(object_id)
                if not ids:
                    del index[index_key]  # type: ignore[arg-type]

    def deleted(self, kind: str, object_id: str) -> bool:
        """Whether the capture shows a DELETE of the object (remembered or forgotten)."""
        history = self.objects.get((kind, object_id))
        if history is None:
            return hash((kind, object_id)) in self.gone
        return not history.initial or any(e.value is None for e in history.events)

    def ids_under(self, kind: str, path: Any) -> set[str]:
        """Ids of `kind` with a POST under `path` that are not forgotten."""
        return self.by_path.get((kind, path), set())

    def referring(self, kind: str, name: str, value: Any) -> list[str]:
        """Ids of `kind` whose posted `name` field equals `value` (and that are not forgotten)."""
        return list(self.refs.get((kind, name, value), ()))


# Fields that other rules look objects up by (PL-5, PL-7, CL-8).
_REFERENCE_FIELDS: dict[str, tuple[str, ...]] = {
    "FlexibilityOffer": ("request_id",),
    "FlexibilityActivation": ("offer_id",),
    "FlexibilityActivationAck": ("offer_id", "activation_id"),
    "FlexibilityActivationNack": ("offer_id", "activation_id"),
}
