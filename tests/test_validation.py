"""The validator library against PROFILE.md section 4 and 6, and the engine pitfalls of issue 2."""

from __future__ import annotations

import copy
import json
import re

import jsonschema
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from interflex._data import fixtures_dir, schemas_dir
from interflex.profile import KINDS, SCHEMA_FILES
from interflex.validation import Finding, detect_kind, is_valid, validate
from interflex.validation._schemas import schema

MESSAGES = fixtures_dir() / "messages"


def basic(kind: str) -> dict:
    """The valid `basic.json` example of `kind` (a fresh copy)."""
    return json.loads((MESSAGES / SCHEMA_FILES[kind][:-5] / "valid" / "basic.json").read_text(encoding="utf-8"))


def errors(findings: list[Finding]) -> set[tuple[str, str]]:
    return {(f.rule, f.path) for f in findings if f.severity == "error"}


@pytest.mark.parametrize("kind", KINDS)
def test_basic_example_of_every_kind_is_valid_and_detected(kind: str) -> None:
    message = basic(kind)
    assert validate(message, kind) == []
    assert detect_kind(message) == kind
    assert validate(message) == []


def test_all_errors_are_reported_with_pointers_and_keywords() -> None:
    """Issue 2: every error, not only the first; each with its JSON pointer and keyword."""
    offer = basic("FlexibilityOffer")
    offer.update(deadline="2026-11-26 12:00:00Z", unit="GW", currency="eur", flex_price=-1, flexible_power="5")
    del offer["flex_type"]
    assert errors(validate(offer)) == {
        ("format", "/deadline"),
        ("enum", "/unit"),
        ("pattern", "/currency"),
        ("minimum", "/flex_price"),
        ("type", "/flexible_power"),
        ("required", "/flex_type"),  # a missing member: the pointer names it
    }


def test_anchored_pattern_rejects_trailing_newline() -> None:
    """`^...$` in Python's re.search accepts "EUR\\n"; the profile's pattern must not."""
    currency_pattern = json.loads((schemas_dir() / "defs.json").read_text())
    assert currency_pattern["$defs"]["currency"]["pattern"] == "^[A-Z]{3}$"
    assert re.search("^[A-Z]{3}$", "EUR\n") is not None  # the pitfall is real for a re-based engine
    offer = basic("FlexibilityOffer") | {"currency": "EUR\n", "offer_id": "off-1\n"}
    assert errors(validate(offer)) == {("pattern", "/currency"), ("pattern", "/offer_id")}


@pytest.mark.parametrize(
    "value",
    ["2026-02-30T00:00:00Z", "2026-11-26T10:00:00", "2026-11-26 10:00:00Z", "2026-11-26T10:00:00Z\n", "26.11.2026"],
)
def test_date_time_format_is_checked(value: str) -> None:
    """P-01. A bare jsonschema validator skips `format` silently; ours must not."""
    request = basic("FlexibilityRequest") | {"timestamp": value}
    assert jsonschema.Draft202012Validator({"type": "string", "format": "date-time"}).is_valid(value)
    assert errors(validate(request)) == {("format", "/timestamp")}


@pytest.mark.parametrize(
    ("kind", "field"),
    [
        ("FlexibilityRequest", "flexible_power"),
        ("FlexibilityOffer", "flex_price"),
        ("TokenResponse", "expires_in"),
        ("FlexibilityActivationAck", "duration"),
    ],
)
def test_booleans_are_not_numbers(kind: str, field: str) -> None:
    message = basic(kind) | {field: True}
    assert errors(validate(message, kind)) == {("type", f"/{field}")}


def test_unknown_fields_are_warnings_or_errors_when_strict() -> None:
    offer = basic("FlexibilityOffer") | {"vendor_note": "x"}
    tolerant = validate(offer)
    assert [(f.severity, f.rule, f.path) for f in tolerant] == [("warning", "unknown-field", "/vendor_note")]
    assert is_valid(tolerant)
    strict = validate(offer, strict=True)
    assert [(f.severity, f.rule, f.path) for f in strict] == [("error", "unknown-field", "/vendor_note")]
    assert not is_valid(strict)


def test_unknown_field_pointer_is_escaped() -> None:
    findings = validate({"error": "x", "a/b~c": 1})
    assert [f.path for f in findings] == ["/a~1b~0c"]


@pytest.mark.parametrize("message", [[], [{"offer_id": "o"}], None, "offer", 5, 1.5, True, {}])
def test_undetectable_messages_get_one_kind_error(message: object) -> None:
    findings = validate(message)
    assert len(findings) == 1
    assert (findings[0].severity, findings[0].rule, findings[0].path) == ("error", "kind", "")


@pytest.mark.parametrize("message", [[], None, "offer", 5, True])
@pytest.mark.parametrize("kind", KINDS)
def test_non_objects_of_a_given_kind_are_type_errors(message: object, kind: str) -> None:
    findings = validate(message, kind)
    assert ("type", "") in errors(findings)
    assert not is_valid(findings)


@pytest.mark.parametrize("message", [{1: "x"}, {"offer_id": {1, 2}}, b"{}", object(), {"offer_id": ("a",)}])
def test_python_values_json_cannot_hold_are_findings_not_exceptions(message: object) -> None:
    findings = validate(message, "FlexibilityOffer")
    assert not is_valid(findings)


def test_deep_nesting_is_a_finding_not_a_crash() -> None:
    nested: list = []
    for _ in range(100_000):
        nested = [nested]
    findings = validate(basic("FlexibilityOffer") | {"timestamp": nested})
    assert [(f.rule, f.path) for f in findings] == [("type", "")]
    assert "nested too deeply" in findings[0].message


def test_unknown_kind_argument_raises_value_error() -> None:
    with pytest.raises(ValueError, match="FlexibilityOffer"):
        validate({}, "Offer")


@pytest.mark.parametrize(
    ("message", "kind"),
    [
        ({"offer_id": "o"}, "IdResponse"),
        ({"nack_id": "n", "issued": 1}, "IdResponse"),  # an unknown extra field keeps it an IdResponse
        ({"offer_id": "o", "timestamp": "x"}, "FlexibilityOffer"),
        ({"offer_id": "o", "request_id": "r", "flex_price": 1}, "FlexibilityOffer"),
        ({"ack_id": "a", "activation_id": "v", "offer_id": "o"}, "FlexibilityActivationAck"),
        ({"nack_id": "a", "activation_id": "v"}, "FlexibilityActivationNack"),
        ({"activation_id": "v", "offer_id": "o"}, "FlexibilityActivation"),
        ({"request_id": "r", "deadline": "x"}, "FlexibilityRequest"),
        ({"access_token": "t"}, "TokenResponse"),
        ({"error": "invalid_grant"}, "Error"),
        ({"token_type": "bearer"}, None),
        ([{"offer_id": "o"}], None),
    ],
)
def test_detect_kind(message: object, kind: str | None) -> None:
    assert detect_kind(message) == kind


def test_id_response_needs_exactly_one_id_field() -> None:
    assert errors(validate({}, "IdResponse")) == {("oneOf", "")}
    assert errors(validate({"offer_id": "o", "ack_id": "a"}, "IdResponse")) == {("oneOf", "")}


def test_reserved_path_words_are_not_ids() -> None:
    """P-07: requestId, offerId, ... are never valid ids."""
    assert errors(validate({"offer_id": "offerId"})) == {("not", "/offer_id")}


def test_null_is_not_a_value_of_optional_fields() -> None:
    request = basic("FlexibilityRequest") | {"activation_time": None}
    assert errors(validate(request)) == {("type", "/activation_time")}


# --- plausibility PL-1..PL-3 (section 6) ---------------------------------------------------


def test_pl1_compares_instants_not_strings() -> None:
    request = basic("FlexibilityRequest")
    # "09:30:00Z" < "10:00:00+01:00" as strings, but 09:30Z is after 09:00Z.
    assert validate(request | {"timestamp": "2026-11-26T10:00:00+01:00", "deadline": "2026-11-26T09:30:00Z"}) == []
    # "10:30:00+01:00" > "10:00:00Z" as strings, but 09:30Z is before 10:00Z.
    late = request | {"timestamp": "2026-11-26T10:00:00Z", "deadline": "2026-11-26T10:30:00+01:00"}
    assert errors(validate(late)) == {("PL-1", "/deadline")}


def test_pl_rules_apply_to_their_kinds_only() -> None:
    """PL-1: requests, offers; PL-2: offers, activations; PL-3: offers, activations, ACKs, NACKs."""
    early = "2000-01-01T00:00:00Z"
    assert validate(basic("FlexibilityRequest") | {"activation_time": early}) == []
    assert validate(basic("FlexibilityActivationAck") | {"activation_time": early}) == []
    assert validate(basic("FlexibilityActivationNack") | {"activation_time": early}) == []
    assert errors(validate(basic("FlexibilityOffer") | {"activation_time": early})) == {("PL-2", "/activation_time")}
    assert errors(validate(basic("FlexibilityActivation") | {"activation_time": early})) == {
        ("PL-2", "/activation_time")
    }
    for kind in ("FlexibilityOffer", "FlexibilityActivation", "FlexibilityActivationAck", "FlexibilityActivationNack"):
        assert errors(validate(basic(kind) | {"granularity": 1000})) == {("PL-3", "/granularity")}, kind


def test_pl3_does_not_apply_to_zero_power_offers() -> None:
    """Finding 002: an offer of 0 says "no flexibility"; granularity may exceed it."""
    assert validate(basic("FlexibilityOffer") | {"flexible_power": 0, "granularity": 50}) == []


def test_equal_instants_satisfy_pl1_and_pl2() -> None:
    offer = basic("FlexibilityOffer") | {
        "timestamp": "2026-11-26T10:00:00.000+01:00",
        "deadline": "2026-11-26T09:00:00Z",
        "activation_time": "2026-11-26t09:00:00z",
    }
    assert validate(offer) == []


@pytest.mark.parametrize(
    ("timestamp", "deadline", "expected"),
    [
        ("2016-12-31T23:59:60Z", "2016-12-31T23:59:59.9Z", {("PL-1", "/deadline")}),  # leap second is later
        ("2016-12-31T23:59:60Z", "2017-01-01T00:00:00Z", set()),
        ("2016-12-31T23:59:60.5Z", "2016-12-31T23:59:60.25Z", {("PL-1", "/deadline")}),
        ("2026-11-26T10:00:00.1234567891Z", "2026-11-26T10:00:00.123456789Z", {("PL-1", "/deadline")}),
        ("0000-01-01T00:30:00+01:00", "0000-01-01T00:00:00Z", set()),  # before year 1 in UTC
        ("9999-12-31T23:59:59-23:59", "9999-12-31T23:59:59Z", {("PL-1", "/deadline")}),  # after year 9999 in UTC
        ("2026-11-26T10:00:00-00:00", "2026-11-26T10:00:00Z", set()),
        ("not a time", "2026-11-26T10:00:00Z", {("format", "/timestamp")}),  # PL-1 skipped, no crash
        ("2026-11-26T10:00:00Z", 5, {("type", "/deadline")}),
    ],
)
def test_unusual_but_valid_times_compare_as_instants(timestamp: str, deadline: object, expected: set) -> None:
    request = basic("FlexibilityRequest") | {"timestamp": timestamp, "deadline": deadline}
    request.pop("activation_time")
    assert errors(validate(request)) == expected


def test_pl3_ignores_non_numbers_and_booleans() -> None:
    offer = basic("FlexibilityOffer") | {"flexible_power": True, "granularity": 5}
    assert errors(validate(offer)) == {("type", "/flexible_power")}


def test_validate_does_not_modify_the_message() -> None:
    offer = basic("FlexibilityOffer") | {"x": 1, "deadline": "2000-01-01T00:00:00Z"}
    before = copy.deepcopy(offer)
    validate(offer, strict=True)
    assert offer == before


def test_finding_renders_as_line_and_dict() -> None:
    finding = Finding("error", "/unit", "enum", "'GW' is not one of ...")
    assert str(finding) == "error: /unit: 'GW' is not one of ... [enum]"
    assert finding.as_dict() == {
        "severity": "error",
        "path": "/unit",
        "rule": "enum",
        "message": "'GW' is not one of ...",
    }


_JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=8),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=8), children, max_size=5),
    max_leaves=12,
)
_FIELD_NAMES = st.sampled_from(sorted({name for kind in KINDS for name in schema(kind)["properties"]}))
_MESSAGES = st.dictionaries(_FIELD_NAMES, _JSON, max_size=8) | _JSON


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(message=_MESSAGES, kind=st.none() | st.sampled_from(KINDS), strict=st.booleans())
def test_any_json_value_gets_findings_never_an_exception(message: object, kind: str | None, strict: bool) -> None:
    findings = validate(message, kind, strict)
    assert all(f.severity in ("error", "warning") for f in findings)
    assert all(f.path == "" or f.path.startswith("/") for f in findings)
    assert is_valid(findings) == all(f.severity == "warning" for f in findings)
