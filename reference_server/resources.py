"""Resource operations of PROFILE.md section 2: id getters, POST, list and DELETE (R1...N4)."""

from __future__ import annotations

import json
import secrets
import uuid
from collections.abc import Awaitable
from datetime import UTC, datetime
from functools import cache

from starlette.requests import Request
from starlette.responses import Response

from interflex._data import schemas_dir
from interflex.profile import ID_FIELDS, SCHEMA_FILES, Operation
from interflex.validation import validate
from reference_server import load_faults, plausibility
from reference_server.accounts import User
from reference_server.context import Context
from reference_server.responses import (
    BodyTooLarge,
    dumps,
    error,
    is_json_media_type,
    json_response,
    media_type,
    parse_json,
    read_body,
)
from reference_server.store import Stored
from reference_server.times import QueryError, instant_key, naive_utc, utc_text, valid_at

_ID_PREFIX = {
    "FlexibilityRequest": "req",
    "FlexibilityOffer": "offer",
    "FlexibilityActivation": "act",
    "FlexibilityActivationAck": "ack",
    "FlexibilityActivationNack": "nack",
}
_TIME_FIELDS = ("timestamp", "deadline", "activation_time")


def new_id(
    ctx: Context, op: Operation, params: dict[str, str], user: User | None, request: Request
) -> Response | Awaitable[Response]:
    """R1/O1/V1/K1/N1: a fresh id, never issued before nor stored for that kind (ID-1)."""
    kind = op.kind
    assert kind is not None
    if ctx.faulty("ids-race"):
        return _racy_new_id(ctx, kind)
    if ctx.faulty("stale-ids"):
        fresh = f"{_ID_PREFIX[kind]}-0001"
    else:
        fresh = _random_id(ctx, kind)
        while ctx.store.exists(kind, fresh):  # 122 or 128 random bits: practically never loops
            fresh = _random_id(ctx, kind)
    return _id_response(ctx, kind, fresh)


async def _racy_new_id(ctx: Context, kind: str) -> Response:
    """Fault `ids-race`: ids from an unlocked counter (reference_server/load_faults.py)."""
    fresh = await load_faults.racy_id(ctx.load, _ID_PREFIX[kind])
    while ctx.store.exists(kind, fresh):
        fresh = await load_faults.racy_id(ctx.load, _ID_PREFIX[kind])
    return _id_response(ctx, kind, fresh)


def _id_response(ctx: Context, kind: str, fresh: str) -> Response:
    body: object = fresh if ctx.faulty("bare-id-string") else {ID_FIELDS[kind]: fresh}
    if ctx.alternative("extra-fields") and isinstance(body, dict):
        body["x_issued_at"] = _now()  # unknown fields are tolerated by receivers (PROFILE 4, D-8)
    return json_response(json.dumps(body))


def _random_id(ctx: Context, kind: str) -> str:
    """A kind prefix and 128 random bits, or a UUID4 (alternative `uuid-ids`: any valid id conforms, ID-1)."""
    return str(uuid.uuid4()) if ctx.alternative("uuid-ids") else f"{_ID_PREFIX[kind]}-{secrets.token_hex(16)}"


@cache
def _known_fields(kind: str) -> frozenset[str]:
    """The fields the JSON Schema of `kind` declares (section 4)."""
    schema = json.loads((schemas_dir() / SCHEMA_FILES[kind]).read_text(encoding="utf-8"))
    return frozenset(schema["properties"])


def _rejected(ctx: Context, code: str, description: str) -> Response:
    """ST-1/PL-n/DF-1: 400, or 422 in the alternative `unprocessable-422` (ST-1: "400 (422 conforms)")."""
    return error(422 if ctx.alternative("unprocessable-422") else 400, code, description)


def _as_stored(ctx: Context, kind: str, obj: dict) -> dict:
    """The object as stored: unknown fields dropped (`drop-unknown-fields`, section 4 "MAY drop them"),
    times in UTC (`utc-times`, section 4 "compared as instants"); unchanged by default."""
    if ctx.alternative("drop-unknown-fields"):
        obj = {k: v for k, v in obj.items() if k in _known_fields(kind)}
    if ctx.alternative("utc-times"):
        obj = {k: utc_text(v) if k in _TIME_FIELDS else v for k, v in obj.items()}
    if ctx.alternative("extra-fields"):
        obj = {**obj, "x_received_at": _now()}
    if ctx.alternative("numbers-as-floats"):
        obj = {k: _as_float(v) if k in _known_fields(kind) else v for k, v in obj.items()}
    return obj


def _now() -> str:
    return datetime.now(UTC).replace(microsecond=0).isoformat().replace("+00:00", "Z")


def _as_float(value: object) -> object:
    """An integral number as the equal float (100 -> 100.0); anything else, or a too large int, unchanged."""
    if isinstance(value, int) and not isinstance(value, bool) and abs(value) <= 2**53:
        return float(value)
    return value


def _schema_errors(ctx: Context, obj: object, kind: str) -> list[str]:
    """ST-1 and PL-1...PL-3 errors of the validator (warnings, e.g. unknown fields, are ignored)."""
    errors = []
    for finding in validate(obj, kind):
        if finding.severity != "error":
            continue
        if ctx.faulty("accept-wrong-types") and finding.rule == "type" and finding.path:
            continue
        if ctx.faulty("no-plausibility") and finding.rule.startswith("PL-"):
            continue
        errors.append(str(finding))
    return errors


def _column(value: object) -> str | None:
    return value if isinstance(value, str) or value is None else dumps(value)


async def checked_body(ctx: Context, op: Operation, params: dict[str, str], request: Request) -> dict | Response:
    """The body of a POST to `op` under the path `params` when it passes ST-1...ST-3 and PL-n; else the error."""
    kind = op.kind
    assert kind is not None
    content_type = media_type(request)
    if content_type is not None and not is_json_media_type(content_type):
        status = 400 if ctx.alternative("content-type-400") else 415  # ST-3: "415 (400 conforms)"
        return error(status, "unsupported_media_type", f"the body must be application/json, not {content_type}")
    if content_type is None and ctx.alternative("no-content-type-415"):  # ST-3: "MAY be parsed as JSON"
        return error(415, "unsupported_media_type", "the body must be sent as application/json")
    try:
        obj = parse_json(await read_body(request))
    except BodyTooLarge:
        return error(413, "payload_too_large", "the request body is larger than 1 MiB")
    except ValueError as exc:
        if ctx.faulty("malformed-json-500"):
            return error(500, "server_error", "internal error while reading the body")
        return _rejected(ctx, "invalid_json", f"the body is not valid JSON: {exc}")
    errors = _schema_errors(ctx, obj, kind)
    if errors:
        return _rejected(ctx, "invalid_request", f"the body is not a valid {kind}: " + "; ".join(errors))
    assert isinstance(obj, dict)
    deadline = instant_key(obj.get("deadline"))
    if not ctx.faulty("no-plausibility"):
        problems = plausibility.check(ctx.store, kind, obj, params, deadline, skip_pl5=ctx.faulty("pl5-unchecked"))
        if problems:
            return _rejected(ctx, "implausible", "; ".join(problems))
    return obj


async def post(ctx: Context, op: Operation, params: dict[str, str], user: User | None, request: Request) -> Response:
    """R2/O2/V2/K2/N2: check and store an object; 201 with the stored object (ST-1...ST-3, PL-n).

    The body may have been checked already, before authentication (alternative `validate-before-auth`).
    """
    kind = op.kind
    assert kind is not None
    obj = getattr(request.state, "checked_body", None)
    if obj is None:
        obj = await checked_body(ctx, op, params, request)
        if isinstance(obj, Response):
            return obj
    deadline = instant_key(obj.get("deadline"))
    if ctx.faulty("offer-request-id-dropped") and kind == "FlexibilityOffer":
        obj.pop("request_id", None)
    obj = _as_stored(ctx, kind, obj)
    object_id = _column(obj[ID_FIELDS[kind]])
    assert object_id is not None
    text = dumps(obj)
    stored = Stored(kind, object_id, params.get("dso"), params.get("agg"), _column(obj.get("offer_id")), text)
    replace = (ctx.faulty("duplicate-request-accepted") and kind == "FlexibilityRequest") or (
        ctx.faulty("offer-ids-per-aggregator") and kind == "FlexibilityOffer" and _stored_elsewhere(ctx, stored)
    )
    lost = ctx.faulty("lost-writes") and not await load_faults.write_survives(ctx.load, kind)
    if lost and not ctx.store.exists(kind, object_id):  # acknowledged, but a concurrent write "won"
        return json_response(text, 201)
    if not ctx.store.insert(stored, deadline, replace=replace):
        return error(409, "conflict", f"a {kind} with id {object_id!r} is already stored (ST-2)")
    if ctx.faulty("nack-post-202") and kind == "FlexibilityActivationNack":
        return json_response(text, 202)
    if ctx.alternative("post-200"):  # PROFILE 2: "201 (200 conforms)", "MAY return ... {}"
        return json_response("{}", 200)
    if ctx.alternative("post-empty"):  # PROFILE 2: "MAY return an empty body"
        return Response(status_code=201)
    return json_response(text, 201)


def _stored_elsewhere(ctx: Context, obj: Stored) -> bool:
    """True when an object of the same kind and id is stored under another aggregator's path."""
    existing = ctx.store.get(obj.kind, obj.id)
    return existing is not None and existing.agg != obj.agg


def _degrade(ctx: Context, op: Operation, bodies: list[str]) -> list[str]:
    """Apply the list faults `lists-lose-precision` (R3) and `offer-offset-lost` (O3)."""
    if ctx.faulty("lists-lose-precision") and op.id == "R3":
        fields, change = ("flexible_power", "duration"), str
    elif ctx.faulty("offer-offset-lost") and op.id == "O3":
        fields, change = _TIME_FIELDS, naive_utc
    else:
        return bodies
    changed = []
    for body in bodies:
        obj = json.loads(body)
        for field in fields:
            if field in obj:
                obj[field] = change(obj[field])
        changed.append(dumps(obj))
    return changed


# ST-12 leak faults: fault -> (list operation, path segment it ignores, only for callers of this role or all)
_LIST_LEAKS: dict[str, tuple[str, str, str | None]] = {
    "requests-list-any-dso": ("R3", "dso", None),
    "activations-list-any-agg": ("V3", "agg", None),
    "acks-list-any-agg": ("K3", "agg", None),
    "nacks-list-any-agg-to-dsos": ("N3", "agg", "dso"),
}


def list_objects(ctx: Context, op: Operation, params: dict[str, str], user: User | None, request: Request) -> Response:
    """R3/O3/V3/K3/N3: the stored objects, exactly as posted (ST-6, ST-9), date-filtered (DF-1)."""
    kind = op.kind
    assert kind is not None
    moment = None
    if op.id in ("R3", "O3") and not ctx.faulty("date-filter-ignored"):
        try:
            moment = valid_at(request.scope.get("query_string", b""), lenient=ctx.faulty("date-filter-lenient"))
        except QueryError as exc:
            return _rejected(ctx, "invalid_request", str(exc))  # DF-1: 400 (422 conforms, D-7)
    if op.id == "O3":
        # An aggregator sees its own offers ("at least its own"; all of them in `offers-visible-to-all`).
        mine = user is not None and user.role == "aggregator" and not ctx.alternative("offers-visible-to-all")
        own = user.entity_id if mine and user is not None else None
        found = ctx.store.find(kind, agg=own, valid_at=moment)
    else:
        owner = {"dso": params.get("dso"), "agg": params.get("agg")}
        for fault, (op_id, column, role) in _LIST_LEAKS.items():
            if ctx.faulty(fault) and op.id == op_id and (role is None or (user is not None and user.role == role)):
                owner[column] = None  # the leak: this path segment no longer narrows the list (ST-12)
        found = ctx.store.find(kind, valid_at=moment, **owner)
    if not found and ctx.faulty("ack-empty-list-404") and op.id == "K3":
        return error(404, "not_found", "no ACKs")
    if ctx.alternative("lists-newest-first"):
        found.reverse()
    bodies = _degrade(ctx, op, [s.body for s in found])
    return json_response("[" + ",".join(bodies) + "]")


def delete(ctx: Context, op: Operation, params: dict[str, str], user: User | None, request: Request) -> Response:
    """R4/O4/V4/K4/N4: delete the object stored under that path; 404 when there is none (ST-4)."""
    kind = op.kind
    assert kind is not None
    object_id = params[op.path_params[-1]]
    owner = {"dso": params.get("dso"), "agg": params.get("agg")}
    if ctx.faulty("activation-delete-keeps") and op.id == "V4":
        gone = ctx.store.get(kind, object_id)
        deleted = gone is not None and gone.dso == owner["dso"] and gone.agg == owner["agg"]
    elif ctx.faulty("ack-delete-any-path") and op.id == "K4":
        deleted = ctx.store.delete(kind, object_id)
    else:
        deleted = ctx.store.delete(kind, object_id, **owner)
    if not deleted and not (ctx.faulty("offer-delete-unknown-204") and op.id == "O4"):
        return error(404, "not_found", f"no {kind} {object_id!r} is stored under this path")
    if ctx.alternative("delete-200"):  # PROFILE 2: "204 (200 conforms)", "a 200 DELETE MAY carry {}"
        return json_response("{}", 200)
    return Response(status_code=204)
