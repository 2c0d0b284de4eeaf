"""Shared bodies and checks of the negative and plausibility test cases (not a test module).

Field tables read from the JSON Schemas, plausible template bodies for each POST endpoint
(PL-4, PL-5, PL-7 hold), bad values of section 4, and `expect_all`, which reports every variant
a target answered wrongly. Every negative request built from these carries exactly one fault (ST-11).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from functools import cache
from typing import Any

from ats.recorder import Exchange
from ats.session import ACTIVATION_FROM_OFFER, ANSWER_FROM_ACTIVATION, Api, pick
from ats.verdicts import Failure
from interflex._data import schemas_dir
from interflex.profile import ID_FIELDS, SCHEMA_FILES

KINDS = ("request", "offer", "activation", "ack", "nack")
FULL = {
    "request": "FlexibilityRequest",
    "offer": "FlexibilityOffer",
    "activation": "FlexibilityActivation",
    "ack": "FlexibilityActivationAck",
    "nack": "FlexibilityActivationNack",
}
POST_OP = {"request": "R2", "offer": "O2", "activation": "V2", "ack": "K2", "nack": "N2"}
ROLE = {"request": "dso", "offer": "agg1", "activation": "dso", "ack": "agg1", "nack": "agg1"}
REJECTED = (400, 422)  # ST-1
DROP: Any = object()  # marks a field to remove from a body
STRING_DEFS = {"id", "dateTime", "currency", "nonEmptyString", "unit"}
RESERVED = {"request": "requestId", "offer": "offerId", "activation": "activationId", "ack": "ackId", "nack": "nackId"}
WRONG_TYPES = {"string": [123, 1.5, True, ["x"], {"x": "y"}], "number": ["5", True, [5], {"value": 5}]}
BAD_TIMES = [
    "2030-02-30T00:00:00Z",  # no such day
    "2030-13-01T00:00:00Z",  # no such month
    "2030-01-01T24:00:00Z",  # no such hour
    "2030-01-01T00:00:00",  # naive local time (P-01)
    "2030-01-01 00:00:00Z",  # space instead of T
    "2030-01-01T00:00:00+0100",  # offset without colon
    "2030-01-01T00:00Z",  # no seconds
    "2030-01-01",  # date only
    "01.01.2030 00:00",
    "tomorrow",
    "",
]
BAD_IDS = ["", "-abc", ".abc", "a b", "x" * 65, "abc/def", "caf\u00e9", "id#1"]
ID_FIELD_NAMES = ("request_id", "offer_id", "activation_id", "ack_id", "nack_id", "entity_id", "region_id")


@cache
def field_types(kind: str) -> dict[str, str]:
    """Field -> "string" or "number" for a resource kind, read from its JSON Schema."""
    schema = json.loads((schemas_dir() / SCHEMA_FILES[FULL[kind]]).read_text(encoding="utf-8"))
    types = {}
    for name, prop in schema["properties"].items():
        ref = prop.get("$ref", "").rsplit("/", 1)[-1]
        types[name] = "string" if ref in STRING_DEFS or prop.get("type") == "string" else "number"
    return types


@cache
def required(kind: str) -> tuple[str, ...]:
    """Required fields of a resource kind (its JSON Schema)."""
    schema = json.loads((schemas_dir() / SCHEMA_FILES[FULL[kind]]).read_text(encoding="utf-8"))
    return tuple(schema["required"])


def track_accepted(api: Api, kind: str, body: Any, agg: str) -> None:
    """Register a wrongly accepted body for deletion at teardown (a scalar id of the wrong type as text)."""
    obj_id = body.get(ID_FIELDS[FULL[kind]]) if isinstance(body, dict) else None
    if isinstance(obj_id, str | int | float) and not isinstance(obj_id, bool) and str(obj_id):
        api.track(kind, str(obj_id), agg=agg)


@dataclass
class Target:
    """A POST endpoint with a valid, plausible template body (PL-4, PL-5, PL-7 hold)."""

    api: Api
    kind: str
    path: dict[str, str]
    template: dict[str, Any]

    @property
    def op(self) -> str:
        """The POST operation id."""
        return POST_OP[self.kind]

    def body(self, **changes: Any) -> dict[str, Any]:
        """The template with a fresh id and `changes` applied (a value `DROP` removes the field)."""
        body = {**self.template, ID_FIELDS[FULL[self.kind]]: self.api.new_id(self.kind), **changes}
        return {k: v for k, v in body.items() if v is not DROP}

    def send(self, body: Any, *, content: bytes | None = None, headers: dict[str, str] | None = None) -> Exchange:
        """POST `body` as JSON (or `content` standing for it); an accepted object is deleted at teardown."""
        if content is not None:
            ex = self.api.call(
                self.op,
                as_=ROLE[self.kind],
                path=self.path,
                content=content,
                headers={"Content-Type": "application/json", **(headers or {})},
            )
        else:
            ex = self.api.call(self.op, as_=ROLE[self.kind], path=self.path, json=body, headers=headers)
        if 200 <= ex.status < 300:
            track_accepted(self.api, self.kind, body, self.path["agg"])
        return ex


def activation_body(api: Api, offer: dict[str, Any], **changes: Any) -> dict[str, Any]:
    """A plausible activation of the stored `offer` (PL-5 holds) with `changes`."""
    return api.build("activation", **{**pick(offer, ACTIVATION_FROM_OFFER), **changes})


def answer_body(api: Api, kind: str, activation: dict[str, Any], **changes: Any) -> dict[str, Any]:
    """A plausible ACK/NACK (`kind`) of the stored `activation` (PL-7 holds) with `changes` (`DROP` removes)."""
    body = api.build(kind, **{**pick(activation, ANSWER_FROM_ACTIVATION), **changes})
    return {k: v for k, v in body.items() if v is not DROP}


def target(api: Api, kind: str) -> Target:
    """The POST endpoint of `kind` with a template body valid for it (creating offer/activation first)."""
    path = {"dso": api.entity("dso"), "agg": api.entity("agg1")}
    if kind in ("request", "offer"):
        return Target(api, kind, path, api.build(kind))
    if kind == "activation":
        return Target(api, kind, path, activation_body(api, api.create_offer("agg1")))
    return Target(api, kind, path, answer_body(api, kind, api.create_activation("agg1")))


def send_all(api: Api, probes: Iterable[tuple[str, Callable[[], Exchange]]]) -> list[tuple[str, Exchange]]:
    """Send independent probes `(label, call)` in parallel (`Api.concurrently`, the IXIT's `parallel_requests`);
    `(label, exchange)` in the order given, as if sent one after the other."""
    probes = list(probes)
    return list(zip([label for label, _ in probes], api.concurrently(call for _, call in probes), strict=True))


def expect_all(results: Iterable[tuple[str, Exchange]], allowed: Iterable[int], ref: str, requirement: str) -> None:
    """FAIL listing every variant whose status is not in `allowed` (ST-7 named when one is a 5xx)."""
    results = list(results)
    allowed = set(allowed)
    bad = [(label, ex) for label, ex in results if ex.status not in allowed]
    if not bad:
        return
    refs = f"{ref}, ST-7" if any(ex.status >= 500 for _, ex in bad) else ref
    shown = "; ".join(f"{label} -> {ex.status} {ex.text[:80]!r}" for label, ex in bad[:8])
    more = f"; ... {len(bad) - 8} more" if len(bad) > 8 else ""
    codes = sorted(allowed)
    expected = f"{codes[0]}-{codes[-1]}" if len(codes) > 4 else " or ".join(map(str, codes))
    raise Failure(
        f"{refs}: {requirement} (expected {expected}); "
        f"{len(bad)} of {len(results)} requests were answered otherwise (first: {bad[0][1].describe()}): "
        f"{shown}{more}"
    )
