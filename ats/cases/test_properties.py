"""Property-based cases (hypothesis): generated objects against the target.

Valid objects come from the resource's JSON Schema (`defs.json` references inlined, numbers kept
at most 10^6, no unknown fields, no NUL characters) and are then made plausible: the IXIT's unit,
region_id and currency (a server may check real codes), times with assorted offsets around now
(PL-1, PL-2, PL-6), granularity <= power (PL-3), the path's aggregator (PL-4), a stored offer or
activation to refer to (PL-5, PL-7) and a fresh id with the run prefix. They must be accepted and
listed field for field (ST-9; times compared as instants, PROFILE 4). Each invalid object is a valid
one with exactly one mutation that the schema rejects (ST-11); it must answer 400/422. Runs are
derandomized; `--ats-examples` sets the examples per case; nothing is shrunk (each example costs
HTTP exchanges). The examples are drawn first and then posted, in parallel (independent probes,
D-107); the list is read once all are posted, so each accepted object must still be listed then."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta, timezone
from functools import cache, partial
from typing import Any, TypeVar

import pytest
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from hypothesis_jsonschema import from_schema

from ats.cases._bodies import (
    BAD_IDS,
    BAD_TIMES,
    DROP,
    FULL,
    ID_FIELD_NAMES,
    POST_OP,
    ROLE,
    WRONG_TYPES,
    field_types,
    required,
    track_accepted,
)
from ats.checks import expect_round_trip, expect_status
from ats.recorder import Exchange
from ats.session import Api
from ats.verdicts import Failure
from interflex._data import schemas_dir
from interflex.profile import ID_FIELDS, OPERATIONS_BY_ID, SCHEMA_FILES
from interflex.validation import is_valid, validate

T = TypeVar("T")
MAX_NUMBER = 1_000_000
OFFSETS = [
    UTC,
    timezone(timedelta(hours=1)),
    timezone(timedelta(hours=2)),
    timezone(timedelta(hours=-5)),
    timezone(timedelta(hours=5, minutes=30)),
    timezone(timedelta(hours=-9, minutes=-30)),
    timezone(timedelta(hours=14)),
]


@cache
def resolved_schema(kind: str) -> dict[str, Any]:
    """The JSON Schema of `kind` with `defs.json` references inlined and numbers bounded by `MAX_NUMBER`."""
    defs = json.loads((schemas_dir() / "defs.json").read_text(encoding="utf-8"))["$defs"]
    schema = json.loads((schemas_dir() / SCHEMA_FILES[FULL[kind]]).read_text(encoding="utf-8"))
    properties = {}
    for name, prop in schema["properties"].items():
        ref = prop.get("$ref")
        inlined = dict(defs[ref.rsplit("/", 1)[-1]]) if ref else {k: v for k, v in prop.items() if k != "description"}
        if inlined.get("type") == "number":
            inlined["maximum"] = MAX_NUMBER
        properties[name] = inlined
    return {"type": "object", "properties": properties, "required": schema["required"]}


@cache
def schema_objects(kind: str) -> st.SearchStrategy[dict[str, Any]]:
    """Objects of `kind`: every required field and some optional ones, each drawn by `from_schema`.

    (Composed per field: hypothesis-jsonschema 0.23's own object strategy breaks on current hypothesis.)
    """
    schema = resolved_schema(kind)
    fields = {name: from_schema(prop, allow_x00=False) for name, prop in schema["properties"].items()}
    return st.fixed_dictionaries(
        {k: fields[k] for k in schema["required"]},
        optional={k: v for k, v in fields.items() if k not in schema["required"]},
    )


def rfc3339(moment: datetime, tz: timezone) -> str:
    """`moment` in offset `tz`, whole seconds, `Z` for UTC."""
    text = moment.astimezone(tz).replace(microsecond=0).isoformat()
    return text.replace("+00:00", "Z")


@st.composite
def plausible(draw: st.DrawFn, kind: str, context: dict[str, Any]) -> dict[str, Any]:
    """A schema-valid object of `kind` made plausible for agg1's path (`context`: stored offer/activation)."""
    obj = draw(schema_objects(kind))
    now = datetime.now(UTC)
    start = now - timedelta(seconds=draw(st.integers(0, 86_400)))
    obj["timestamp"] = rfc3339(start, draw(st.sampled_from(OFFSETS)))
    if kind in ("request", "offer"):
        obj["deadline"] = rfc3339(
            now + timedelta(seconds=draw(st.integers(3_600, 30 * 86_400))), draw(st.sampled_from(OFFSETS))
        )
    if "activation_time" in obj or kind != "request":
        obj["activation_time"] = rfc3339(
            start + timedelta(seconds=draw(st.integers(0, 7 * 86_400))), draw(st.sampled_from(OFFSETS))
        )
    for field in ("unit", "region_id", "currency"):  # the IXIT's values: a server may check real codes/regions
        if field in obj:
            obj[field] = context[field]
    if kind == "offer":
        obj["entity_id"] = context["agg"]
    if kind == "activation":
        offer = context["offer"]
        obj.update(
            offer_id=offer["offer_id"],
            unit=offer["unit"],
            currency=offer["currency"],
            flexible_power=min(obj["flexible_power"], offer["flexible_power"]),
        )
    if kind in ("ack", "nack"):
        obj["offer_id"] = context["activation"]["offer_id"]
        if "activation_id" in obj:
            obj["activation_id"] = context["activation"]["activation_id"]
    if obj.get("flexible_power", 0) > 0 and "granularity" in obj:
        obj["granularity"] = min(obj["granularity"], obj["flexible_power"])
    return obj


def prepare(api: Api, kind: str) -> dict[str, Any]:
    """What generated objects of `kind` refer to: agg1's entity id, the IXIT's unit, region and currency,
    a stored offer, a stored activation."""
    ixit = api.ixit
    context: dict[str, Any] = {
        "agg": api.entity("agg1"),
        "unit": ixit.unit,
        "region_id": ixit.region_id,
        "currency": ixit.currency,
    }
    if kind == "activation":
        context["offer"] = api.create_offer("agg1", flexible_power=MAX_NUMBER, granularity=1)
    if kind in ("ack", "nack"):
        context["activation"] = api.create_activation("agg1")
    return context


def post(api: Api, kind: str, obj: dict[str, Any]) -> Exchange:
    """POST `obj` to agg1's (or the DSO's) path; an accepted object is deleted at teardown."""
    path = {"dso": api.entity("dso"), "agg": api.entity("agg1")}
    ex = api.call(POST_OP[kind], as_=ROLE[kind], path=path, json=obj)
    if 200 <= ex.status < 300:
        track_accepted(api, kind, obj, path["agg"])
    return ex


def property_settings(examples: int) -> settings:
    """Derandomized, no deadline, no shrinking, no example database (evidence is the HTTP record)."""
    return settings(
        max_examples=examples,
        derandomize=True,
        deadline=None,
        database=None,
        phases=(Phase.explicit, Phase.generate),
        report_multiple_bugs=False,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much, HealthCheck.function_scoped_fixture],
    )


def generated(strategy: st.SearchStrategy[T], examples: int) -> list[T]:
    """The `examples` values hypothesis draws from `strategy` (derandomized, `property_settings`)."""
    drawn: list[T] = []

    @property_settings(examples)
    @given(strategy)
    def draw(value: T) -> None:
        drawn.append(value)

    draw()
    return drawn


def check_round_trips(api: Api, kind: str, examples: int) -> None:
    """Generated plausible objects of `kind` are accepted (ST-10 success) and listed field for field (ST-9)."""
    context = prepare(api, kind)
    op = OPERATIONS_BY_ID[POST_OP[kind]]
    id_field = ID_FIELDS[FULL[kind]]
    valid = plausible(kind, context).filter(lambda o: is_valid(validate(o, FULL[kind])))
    objects = [{**obj, id_field: api.new_id(kind)} for obj in generated(valid, examples)]
    for obj, ex in zip(objects, api.concurrently(partial(post, api, kind, obj) for obj in objects), strict=True):
        expect_status(
            ex,
            op.success,
            f"ST-9, {op.id}",
            f"a valid, plausible {FULL[kind]} is accepted (generated: {json.dumps(obj)[:400]})",
        )
    lister = "dso" if kind in ("request", "activation") else "agg1"
    listed = api.list(kind, as_=lister, agg="agg1")
    for obj in objects:
        expect_round_trip(obj, listed, id_field, "ST-9", f"the list of {FULL[kind]} as read by {lister}")


@pytest.mark.case("IFX-REQ-101")
def test_generated_requests_round_trip(api: Api, ats_examples: int) -> None:
    """ST-9: generated valid FlexibilityRequests are accepted and listed by R3 field for field."""
    check_round_trips(api, "request", ats_examples)


@pytest.mark.case("IFX-OFF-101")
def test_generated_offers_round_trip(api: Api, ats_examples: int) -> None:
    """ST-9: generated valid FlexibilityOffers are accepted and listed by O3 field for field."""
    check_round_trips(api, "offer", ats_examples)


@pytest.mark.case("IFX-ACT-101")
def test_generated_activations_round_trip(api: Api, ats_examples: int) -> None:
    """ST-9: generated valid FlexibilityActivations are accepted and listed by V3 field for field."""
    check_round_trips(api, "activation", ats_examples)


@pytest.mark.case("IFX-ACK-101")
def test_generated_acks_round_trip(api: Api, ats_examples: int) -> None:
    """ST-9: generated valid ACKs are accepted and listed by K3 field for field."""
    check_round_trips(api, "ack", ats_examples)


@pytest.mark.case("IFX-NACK-101")
def test_generated_nacks_round_trip(api: Api, ats_examples: int) -> None:
    """ST-9: generated valid NACKs are accepted and listed by N3 field for field."""
    check_round_trips(api, "nack", ats_examples)


@st.composite
def mutation(draw: st.DrawFn, kind: str) -> tuple[str, str, Any]:
    """One schema-breaking change: (description, field, new value or DROP)."""
    types = field_types(kind)
    how = draw(st.sampled_from(["drop", "type", "null", "range"]))
    if how == "drop":
        field = draw(st.sampled_from(required(kind)))
        return f"without {field}", field, DROP
    field = draw(st.sampled_from(sorted(types)))
    if how == "type":
        value = draw(st.sampled_from(WRONG_TYPES[types[field]]))
    elif how == "null":
        value = None
    elif types[field] == "number":  # >= 0 for flex_price and an offer's power, > 0 for the others
        non_negative = field == "flex_price" or (field == "flexible_power" and kind == "offer")
        value = draw(st.floats(max_value=-1e-6 if non_negative else 0, allow_nan=False, allow_infinity=False))
    elif field in ("timestamp", "deadline", "activation_time"):
        value = draw(st.sampled_from(BAD_TIMES))
    elif field in ID_FIELD_NAMES:
        value = draw(st.sampled_from(BAD_IDS))
    else:
        value = draw(st.text(max_size=6))
    return f"{field}={value!r}", field, value


def mutated(obj: dict[str, Any], change: tuple[str, str, Any]) -> dict[str, Any]:
    """`obj` with the change applied."""
    _, field, value = change
    result = {k: v for k, v in obj.items() if k != field}
    if value is not DROP:
        result[field] = value
    return result


@pytest.mark.case("IFX-ROB-023")
@pytest.mark.parametrize("kind", list(POST_OP))
def test_mutated_objects_rejected(api: Api, ats_examples: int, kind: str) -> None:
    """ST-1, ST-11: a generated valid object with exactly one schema-breaking mutation answers 400/422."""
    context = prepare(api, kind)
    id_field = ID_FIELDS[FULL[kind]]

    def invalid(pair: tuple[dict[str, Any], tuple[str, str, Any]]) -> bool:
        return not is_valid(f for f in validate(mutated(*pair), FULL[kind]) if not f.rule.startswith("PL-"))

    probes = []
    for obj, change in generated(st.tuples(plausible(kind, context), mutation(kind)).filter(invalid), ats_examples):
        if change[1] != id_field:
            obj = {**obj, id_field: api.new_id(kind)}
        probes.append((change, mutated(obj, change)))
    answers = api.concurrently(partial(post, api, kind, body) for _, body in probes)
    bad = [
        (change, body, ex) for (change, body), ex in zip(probes, answers, strict=True) if ex.status not in (400, 422)
    ]
    if bad:
        change, body, ex = bad[0]
        refs = "ST-1, ST-7" if any(answer.status >= 500 for *_, answer in bad) else "ST-1"
        more = f"; {len(bad) - 1} more of the {len(probes)} generated bodies were answered otherwise" if bad[1:] else ""
        raise Failure(
            f"{refs}: a {FULL[kind]} with one invalid field ({change[0]}) is rejected with 400 or "
            f"422; {ex.describe()} ({ex.text[:200]!r}); body {json.dumps(body)[:300]}{more}"
        )
