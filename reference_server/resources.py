"""Resource operations of PROFILE.md section 2: id getters, POST, list and DELETE (R1...N4)."""

from __future__ import annotations

import json
import secrets

from starlette.requests import Request
from starlette.responses import Response

from interflex.profile import ID_FIELDS, Operation
from interflex.validation import validate
from reference_server import plausibility
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
from reference_server.times import QueryError, instant_key, naive_utc, valid_at

_ID_PREFIX = {
    "FlexibilityRequest": "req",
    "FlexibilityOffer": "offer",
    "FlexibilityActivation": "act",
    "FlexibilityActivationAck": "ack",
    "FlexibilityActivationNack": "nack",
}
_TIME_FIELDS = ("timestamp", "deadline", "activation_time")


def new_id(ctx: Context, op: Operation, params: dict[str, str], user: User | None, request: Request) -> Response:
    """R1/O1/V1/K1/N1: a fresh id, never issued before nor stored for that kind (ID-1)."""
    kind = op.kind
    assert kind is not None
    if ctx.faulty("stale-ids"):
        fresh = f"{_ID_PREFIX[kind]}-0001"
    else:
        fresh = f"{_ID_PREFIX[kind]}-{secrets.token_hex(16)}"
        while ctx.store.exists(kind, fresh):  # 128 random bits: practically never loops
            fresh = f"{_ID_PREFIX[kind]}-{secrets.token_hex(16)}"
    body = fresh if ctx.faulty("bare-id-string") else {ID_FIELDS[kind]: fresh}
    return json_response(json.dumps(body))


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


async def post(ctx: Context, op: Operation, params: dict[str, str], user: User | None, request: Request) -> Response:
    """R2/O2/V2/K2/N2: check and store an object; 201 with the stored object (ST-1...ST-3, PL-n)."""
    kind = op.kind
    assert kind is not None
    content_type = media_type(request)
    if content_type is not None and not is_json_media_type(content_type):
        return error(415, "unsupported_media_type", f"the body must be application/json, not {content_type}")
    try:
        obj = parse_json(await read_body(request))
    except BodyTooLarge:
        return error(413, "payload_too_large", "the request body is larger than 1 MiB")
    except ValueError as exc:
        if ctx.faulty("malformed-json-500"):
            return error(500, "server_error", "internal error while reading the body")
        return error(400, "invalid_json", f"the body is not valid JSON: {exc}")
    errors = _schema_errors(ctx, obj, kind)
    if errors:
        return error(400, "invalid_request", f"the body is not a valid {kind}: " + "; ".join(errors))
    assert isinstance(obj, dict)
    deadline = instant_key(obj.get("deadline"))
    if not ctx.faulty("no-plausibility"):
        problems = plausibility.check(ctx.store, kind, obj, params, deadline, skip_pl5=ctx.faulty("pl5-unchecked"))
        if problems:
            return error(400, "implausible", "; ".join(problems))
    if ctx.faulty("offer-request-id-dropped") and kind == "FlexibilityOffer":
        obj.pop("request_id", None)
    object_id = _column(obj[ID_FIELDS[kind]])
    assert object_id is not None
    text = dumps(obj)
    stored = Stored(kind, object_id, params.get("dso"), params.get("agg"), _column(obj.get("offer_id")), text)
    replace = (ctx.faulty("duplicate-request-accepted") and kind == "FlexibilityRequest") or (
        ctx.faulty("offer-ids-per-aggregator") and kind == "FlexibilityOffer" and _stored_elsewhere(ctx, stored)
    )
    if not ctx.store.insert(stored, deadline, replace=replace):
        return error(409, "conflict", f"a {kind} with id {object_id!r} is already stored (ST-2)")
    status = 202 if ctx.faulty("nack-post-202") and kind == "FlexibilityActivationNack" else 201
    return json_response(text, status)


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


def list_objects(ctx: Context, op: Operation, params: dict[str, str], user: User | None, request: Request) -> Response:
    """R3/O3/V3/K3/N3: the stored objects, exactly as posted (ST-6, ST-9), date-filtered (DF-1)."""
    kind = op.kind
    assert kind is not None
    moment = None
    if op.id in ("R3", "O3") and not ctx.faulty("date-filter-ignored"):
        try:
            moment = valid_at(request.scope.get("query_string", b""), lenient=ctx.faulty("date-filter-lenient"))
        except QueryError as exc:
            return error(400, "invalid_request", str(exc))
    if op.id == "O3":
        own = user.entity_id if user is not None and user.role == "aggregator" else None
        found = ctx.store.find(kind, agg=own, valid_at=moment)
    else:
        found = ctx.store.find(kind, dso=params.get("dso"), agg=params.get("agg"), valid_at=moment)
    if not found and ctx.faulty("ack-empty-list-404") and op.id == "K3":
        return error(404, "not_found", "no ACKs")
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
    return Response(status_code=204)
