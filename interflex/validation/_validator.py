"""`validate`: schema checks (jsonschema-rs), unknown fields and plausibility PL-1..PL-3."""

from __future__ import annotations

from typing import Any

import jsonschema_rs

from interflex.profile import ID_FIELDS, KINDS
from interflex.validation._findings import ERROR, WARNING, Finding, json_pointer
from interflex.validation._plausibility import PLAUSIBILITY_KINDS, plausibility
from interflex.validation._schemas import compiled, fields

_ID_RESPONSE_FIELDS = frozenset(ID_FIELDS.values())
# Fields that only full objects carry: with one of them a message is not an IdResponse.
_OBJECT_FIELDS = frozenset().union(*(fields(kind) for kind in ID_FIELDS)) - _ID_RESPONSE_FIELDS
_DETECT_ORDER = (
    ("access_token", "TokenResponse"),
    ("nack_id", "FlexibilityActivationNack"),
    ("ack_id", "FlexibilityActivationAck"),
    ("activation_id", "FlexibilityActivation"),
    ("offer_id", "FlexibilityOffer"),
    ("request_id", "FlexibilityRequest"),
    ("error", "Error"),
)


def detect_kind(message: object) -> str | None:
    """Tell a message's kind from its id field; None when it cannot be told.

    A single id field (plus unknown fields only) is an IdResponse; otherwise the most
    specific id field decides (`nack_id` before `ack_id` before `activation_id` ...),
    `access_token` means TokenResponse and `error` means Error.
    """
    if not isinstance(message, dict):
        return None
    keys = message.keys()
    if len(keys & _ID_RESPONSE_FIELDS) == 1 and not keys & _OBJECT_FIELDS:
        return "IdResponse"
    for field, kind in _DETECT_ORDER:
        if field in keys:
            return kind
    return None


def _json_type(value: object) -> str:
    for python_type, name in (
        (dict, "an object"),
        (list, "an array"),
        (str, "a string"),
        (bool, "a boolean"),
        (int | float, "a number"),
        (type(None), "null"),
    ):
        if isinstance(value, python_type):
            return name
    return f"a {type(value).__name__} (not JSON)"


def schema_findings(validator: jsonschema_rs.Validator, message: object) -> list[Finding]:
    """Every error of a compiled validator as findings: JSON pointer, keyword as rule."""
    findings = []
    for error in validator.iter_errors(message):
        path = list(error.instance_path)
        rule = str(error.schema_path[-1]) if error.schema_path else "schema"
        if rule == "required":
            path.append(error.kind.property)  # point at the missing member
        findings.append(Finding(ERROR, json_pointer(path), rule, error.message))
    return findings


def validate(message: object, kind: str | None = None, strict: bool = False) -> list[Finding]:
    """Check one parsed JSON message; return every finding (empty: valid, no warnings).

    `kind` is one of `interflex.profile.KINDS`; None detects it (`detect_kind`), and an
    undetectable message gets one error with rule `kind`. Findings carry a JSON pointer and
    the JSON-Schema keyword, `PL-1`..`PL-3` or `unknown-field` as rule. Unknown fields are
    warnings, errors with `strict=True`. Never raises for any input, except `ValueError`
    for an unknown `kind` argument.
    """
    if kind is None:
        kind = detect_kind(message)
        if kind is None:
            return [
                Finding(
                    ERROR,
                    "",
                    "kind",
                    f"cannot tell the message's kind: {_json_type(message)} without "
                    "a known id field (request_id, offer_id, activation_id, ack_id, nack_id, access_token, "
                    "error); give the kind",
                )
            ]
    elif kind not in KINDS:
        raise ValueError(f"unknown kind {kind!r}; expected one of {', '.join(KINDS)}")
    validator = compiled(kind)
    try:
        findings = [] if validator.is_valid(message) else schema_findings(validator, message)
    except ValueError as exc:  # a Python value JSON cannot hold (set, bytes, non-str key), or nesting too deep
        what = "nested too deeply to check" if "recursion" in str(exc).lower() else f"not a JSON value: {exc}"
        return [Finding(ERROR, "", "type", what)]
    if isinstance(message, dict):
        findings += _extra_findings(kind, message, strict)
    return findings


def _extra_findings(kind: str, message: dict[str, Any], strict: bool) -> list[Finding]:
    known = fields(kind)
    severity = ERROR if strict else WARNING
    findings = [
        Finding(severity, json_pointer([key]), "unknown-field", f"{key!r} is not a field of {kind}")
        for key in message
        if key not in known
    ]
    if kind in PLAUSIBILITY_KINDS:
        findings += plausibility(kind, message)
    return findings
