"""Compiled schema validators (jsonschema-rs) plus the single-message plausibility rules."""

from __future__ import annotations

import json
from datetime import datetime
from functools import cache
from typing import Any

import jsonschema_rs

from interflex._data import schemas_dir
from interflex.profile import ID_FIELDS, KINDS, SCHEMA_FILES
from interflex.validation._findings import ERROR, WARNING, Finding, json_pointer

_ID_RESPONSE_FIELDS = frozenset(ID_FIELDS.values())


@cache
def _schema(kind: str) -> dict[str, Any]:
    return json.loads((schemas_dir() / SCHEMA_FILES[kind]).read_text(encoding="utf-8"))


@cache
def _compiled(kind: str) -> jsonschema_rs.Validator:
    defs = json.loads((schemas_dir() / "defs.json").read_text(encoding="utf-8"))
    registry = jsonschema_rs.Registry([(defs["$id"], defs)])
    return jsonschema_rs.Draft202012Validator(_schema(kind), validate_formats=True, registry=registry)


def detect_kind(message: object) -> str | None:
    """Guess a message's kind from its id field; None when it cannot be told."""
    if not isinstance(message, dict):
        return None
    keys = message.keys()
    if len(keys) == 1 and next(iter(keys)) in _ID_RESPONSE_FIELDS:
        return "IdResponse"
    for field, kind in (
        ("access_token", "TokenResponse"),
        ("nack_id", "FlexibilityActivationNack"),
        ("ack_id", "FlexibilityActivationAck"),
        ("activation_id", "FlexibilityActivation"),
        ("offer_id", "FlexibilityOffer"),
        ("request_id", "FlexibilityRequest"),
        ("error", "Error"),
    ):
        if field in keys:
            return kind
    return None


def _keyword(error: jsonschema_rs.ValidationError) -> str:
    name = type(error.kind).__name__
    return name[:1].lower() + name[1:]


def _instant(value: object) -> datetime | None:
    if not isinstance(value, str):
        return None
    try:
        return datetime.fromisoformat(value.upper().replace("Z", "+00:00"))
    except ValueError:
        return None


def _plausibility(message: dict[str, Any]) -> list[Finding]:
    findings = []
    timestamp = _instant(message.get("timestamp"))
    for rule, field in (("PL-1", "deadline"), ("PL-2", "activation_time")):
        later = _instant(message.get(field))
        if timestamp and later and later < timestamp:
            findings.append(Finding(ERROR, f"/{field}", rule, f"{field} {message[field]} is before timestamp {message['timestamp']}"))
    power, granularity = message.get("flexible_power"), message.get("granularity")
    if (
        all(isinstance(v, int | float) and not isinstance(v, bool) for v in (power, granularity))
        and power > 0
        and granularity > power
    ):
        findings.append(Finding(ERROR, "/granularity", "PL-3", f"granularity {granularity} exceeds flexible_power {power}"))
    return findings


def validate(message: object, kind: str | None = None, strict: bool = False) -> list[Finding]:
    """Check one message; return every finding (an empty list means valid, no warnings).

    `kind` is one of `interflex.profile.KINDS`; None detects it from the id field.
    Unknown fields are warnings, or errors with `strict=True`.
    """
    if kind is None:
        kind = detect_kind(message)
        if kind is None:
            return [Finding(ERROR, "", "kind", "cannot tell the message's kind: no known id field (request_id, offer_id, ...)")]
    elif kind not in KINDS:
        raise ValueError(f"unknown kind {kind!r}; expected one of {', '.join(KINDS)}")
    findings = [
        Finding(ERROR, json_pointer(e.instance_path), _keyword(e), e.message)
        for e in _compiled(kind).iter_errors(message)
    ]
    if isinstance(message, dict):
        known = _schema(kind)["properties"]
        severity = ERROR if strict else WARNING
        findings += [
            Finding(severity, json_pointer([key]), "unknown-field", f"{key!r} is not a field of {kind}")
            for key in message
            if key not in known
        ]
        if kind in ID_FIELDS:
            findings += _plausibility(message)
    return findings
