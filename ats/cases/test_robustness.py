"""Robustness: bad input gets a 4xx, never a 5xx (PROFILE.md section 5, ST-1, ST-3, ST-5, ST-7).

Every negative request carries exactly one fault (ST-11): bodies start from a valid, plausible
object for their path (stored offer/activation first where PL-5/PL-7 need one) and change one
thing. Loops over many variants report every variant the target answered wrongly.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass
from functools import cache
from typing import Any

import pytest

from ats.checks import expect_status, find
from ats.recorder import Exchange
from ats.session import Api
from ats.verdicts import Failure
from interflex._data import schemas_dir
from interflex.profile import ID_FIELDS, OPERATIONS, OPERATIONS_BY_ID, SCHEMA_FILES, allowed_methods

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


def track_accepted(api: Api, kind: str, body: Any, agg: str) -> None:
    """Register a wrongly accepted body for deletion at teardown (a scalar id of the wrong type as text)."""
    obj_id = body.get(ID_FIELDS[FULL[kind]]) if isinstance(body, dict) else None
    if isinstance(obj_id, str | int | float) and not isinstance(obj_id, bool) and str(obj_id):
        api.track(kind, str(obj_id), agg=agg)


OFFER_FIELDS = (
    "offer_id",
    "flexible_power",
    "granularity",
    "duration",
    "unit",
    "activation_time",
    "flex_price",
    "flex_type",
    "currency",
)
ANSWER_FIELDS = ("offer_id", "activation_id", "flexible_power", "granularity", "duration", "unit", "activation_time")


def activation_body(api: Api, offer: dict[str, Any], **changes: Any) -> dict[str, Any]:
    """A plausible activation of the stored `offer` (PL-5 holds) with `changes`."""
    return api.build("activation", **{**{k: offer[k] for k in OFFER_FIELDS}, **changes})


def answer_body(api: Api, kind: str, activation: dict[str, Any], **changes: Any) -> dict[str, Any]:
    """A plausible ACK/NACK (`kind`) of the stored `activation` (PL-7 holds) with `changes`."""
    return api.build(kind, **{**{k: activation[k] for k in ANSWER_FIELDS}, **changes})


def target(api: Api, kind: str) -> Target:
    """The POST endpoint of `kind` with a template body valid for it (creating offer/activation first)."""
    path = {"dso": api.entity("dso"), "agg": api.entity("agg1")}
    if kind in ("request", "offer"):
        return Target(api, kind, path, api.build(kind))
    if kind == "activation":
        return Target(api, kind, path, activation_body(api, api.create_offer("agg1")))
    return Target(api, kind, path, answer_body(api, kind, api.create_activation("agg1")))


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


kinds = pytest.mark.parametrize("kind", KINDS)

MALFORMED = {
    "truncated": b'{"request_id": "x", ',
    "unquoted-keys": b"{request_id: 1}",
    "single-quotes": b"{'request_id': 'x'}",
    "trailing-comma": b'{"request_id": "x",}',
    "trailing-garbage": b'{"request_id": "x"} x',
    "two-objects": b"{}{}",
    "empty": b"",
    "bad-escape": b'{"request_id": "\\q"}',
    "invalid-utf8": b'{"request_id": "\xff\xfe"}',
    "nul-bytes": b"\x00\x00\x00\x00",
}


@pytest.mark.case("IFX-ROB-001")
@kinds
def test_malformed_json(api: Api, kind: str) -> None:
    """ST-1/ST-7: malformed JSON bodies answer 400/422, never 5xx."""
    path = {"dso": api.entity("dso"), "agg": api.entity("agg1")}
    results = [
        (
            label,
            api.call(
                POST_OP[kind], as_=ROLE[kind], path=path, content=payload, headers={"Content-Type": "application/json"}
            ),
        )
        for label, payload in MALFORMED.items()
    ]
    expect_all(results, REJECTED, "ST-1", "a malformed JSON body is rejected")


@pytest.mark.case("IFX-ROB-002")
@kinds
def test_non_standard_json_numbers(api: Api, kind: str) -> None:
    """ST-1: NaN and Infinity are not JSON (RFC 8259) and are rejected even inside a valid object."""
    t = target(api, kind)
    results = []
    for literal in ("NaN", "Infinity", "-Infinity"):
        body = t.body(flexible_power="__NUMBER__")
        text = json.dumps(body).replace('"__NUMBER__"', literal, 1)
        results.append((f"flexible_power {literal}", t.send(body, content=text.encode())))
    expect_all(results, REJECTED, "ST-1", "NaN/Infinity are not JSON numbers and must be rejected")


@pytest.mark.case("IFX-ROB-003")
@kinds
def test_body_not_an_object(api: Api, kind: str) -> None:
    """ST-1: a JSON body that is not an object (array, string, number, null, boolean) answers 400/422."""
    path = {"dso": api.entity("dso"), "agg": api.entity("agg1")}
    bodies: list[Any] = [[], [{}], "text", 5, None, True]
    results = [(json.dumps(b)[:30], api.call(POST_OP[kind], as_=ROLE[kind], path=path, json=b)) for b in bodies]
    expect_all(results, REJECTED, "ST-1", "a body that is not the expected object is rejected")


@pytest.mark.case("IFX-ROB-004")
@kinds
def test_wrong_content_type(api: Api, kind: str) -> None:
    """ST-3: a valid JSON body sent with a non-JSON content type answers 415 (400 conforms)."""
    t = target(api, kind)
    results = []
    for media_type in (
        "text/plain",
        "application/xml",
        "application/x-www-form-urlencoded",
        "application/octet-stream",
    ):
        body = t.body()
        results.append(
            (media_type, t.send(body, content=json.dumps(body).encode(), headers={"Content-Type": media_type}))
        )
    expect_all(results, (415, 400), "ST-3", "a body of a non-JSON content type is refused")


@pytest.mark.case("IFX-ROB-005")
@kinds
def test_json_media_type_variants_accepted(api: Api, kind: str) -> None:
    """ST-3: `application/json; charset=utf-8` and `application/*+json` are JSON and accepted."""
    t = target(api, kind)
    for media_type in ("application/json; charset=utf-8", "application/vnd.interflex+json"):
        body = t.body()
        ex = t.send(body, content=json.dumps(body).encode(), headers={"Content-Type": media_type})
        expect_status(
            ex,
            OPERATIONS_BY_ID[t.op].success,
            "ST-3",
            f"a valid object sent as {media_type} is JSON and must be accepted",
        )
        id_field = ID_FIELDS[FULL[kind]]
        listed = api.list(kind, as_="dso" if kind in ("request", "activation") else "agg1", agg="agg1")
        if find(listed, id_field, body[id_field]) is None:
            raise Failure(
                f"ST-3, ST-9: the object posted as {media_type} must be listed; {body[id_field]!r} is missing"
            )


@pytest.mark.case("IFX-ROB-006")
@kinds
def test_missing_required_field(api: Api, kind: str) -> None:
    """ST-1: a body missing any one required field answers 400/422."""
    t = target(api, kind)
    results = [(f"without {name}", t.send(t.body(**{name: DROP}))) for name in required(kind)]
    expect_all(results, REJECTED, "ST-1", f"a {FULL[kind]} missing a required field is rejected")


WRONG_TYPES = {"string": [123, 1.5, True, ["x"], {"x": "y"}], "number": ["5", True, [5], {"value": 5}]}


@pytest.mark.case("IFX-ROB-007")
@kinds
def test_wrong_type_per_field(api: Api, kind: str) -> None:
    """ST-1: a field of the wrong JSON type (a number as a string, a string as a number, ...) answers 400/422."""
    t = target(api, kind)
    results = [
        (f"{name}={value!r}", t.send(t.body(**{name: value})))
        for name, type_ in field_types(kind).items()
        for value in WRONG_TYPES[type_]
    ]
    expect_all(results, REJECTED, "ST-1", f"a {FULL[kind]} field of the wrong type is rejected")


@pytest.mark.case("IFX-ROB-008")
@kinds
def test_null_field(api: Api, kind: str) -> None:
    """ST-1, section 4: null is not a value of any field, required or optional."""
    t = target(api, kind)
    results = [(f"{name}=null", t.send(t.body(**{name: None}))) for name in field_types(kind)]
    expect_all(results, REJECTED, "ST-1", "a field set to null is rejected (null is not a value of any field)")


OUT_OF_RANGE: dict[str, dict[str, list[Any]]] = {
    "request": {"flexible_power": [0, -5], "duration": [0, -900]},
    "offer": {"flexible_power": [-1, -0.5], "granularity": [0, -10], "duration": [0, -1], "flex_price": [-0.01]},
    "activation": {"flexible_power": [0, -80], "granularity": [0], "duration": [0, -1], "flex_price": [-1]},
    "ack": {"flexible_power": [0, -1], "granularity": [0, -1], "duration": [0, -60]},
    "nack": {"flexible_power": [0, -1], "granularity": [0, -1], "duration": [0, -60]},
}


@pytest.mark.case("IFX-ROB-009")
@kinds
def test_number_out_of_range(api: Api, kind: str) -> None:
    """ST-1, section 4: power > 0 (≥ 0 for offers), granularity > 0, duration > 0, flex_price ≥ 0."""
    t = target(api, kind)
    results = [
        (f"{name}={value}", t.send(t.body(**{name: value})))
        for name, values in OUT_OF_RANGE[kind].items()
        for value in values
    ]
    expect_all(results, REJECTED, "ST-1", "a number out of its range of section 4 is rejected")


@pytest.mark.case("IFX-ROB-010")
@kinds
def test_code_out_of_range(api: Api, kind: str) -> None:
    """ST-1, P-02, finding 008: unit outside W/kW/MW, currency not ^[A-Z]{3}$, empty flex_type."""
    t = target(api, kind)
    bad: dict[str, list[Any]] = {"unit": ["GW", "kw", "KW", "", "watt"]}
    if "currency" in field_types(kind):
        bad["currency"] = ["eur", "EU", "EURO", "E1R", ""]
    if "flex_type" in field_types(kind):
        bad["flex_type"] = [""]
    results = [
        (f"{name}={value!r}", t.send(t.body(**{name: value}))) for name, values in bad.items() for value in values
    ]
    expect_all(results, REJECTED, "ST-1", "a unit, currency or flex_type out of range is rejected")


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


@pytest.mark.case("IFX-ROB-011")
@kinds
def test_bad_date_time(api: Api, kind: str) -> None:
    """ST-1, P-01: times are RFC 3339 date-times with an offset; impossible dates and naive times are rejected."""
    t = target(api, kind)
    names = [n for n in ("timestamp", "deadline", "activation_time") if n in field_types(kind)]
    results = [(f"{name}={value!r}", t.send(t.body(**{name: value}))) for name in names for value in BAD_TIMES]
    expect_all(results, REJECTED, "ST-1, P-01", "a time that is not an RFC 3339 date-time with offset is rejected")


BAD_IDS = ["", "-abc", ".abc", "a b", "x" * 65, "abc/def", "caf\u00e9", "id#1"]
ID_FIELD_NAMES = ("request_id", "offer_id", "activation_id", "ack_id", "nack_id", "entity_id", "region_id")


@pytest.mark.case("IFX-ROB-012")
@kinds
def test_bad_id_in_body(api: Api, kind: str) -> None:
    """ST-1, section 4, P-07: ids are 1-64 characters of ^[A-Za-z0-9][A-Za-z0-9._:-]*$ and never a path word."""
    t = target(api, kind)
    results = []
    for name in (n for n in field_types(kind) if n in ID_FIELD_NAMES):
        values = [*BAD_IDS, RESERVED[kind]] if name == ID_FIELDS[FULL[kind]] else BAD_IDS
        results += [(f"{name}={value[:20]!r}", t.send(t.body(**{name: value}))) for value in values]
    expect_all(results, REJECTED, "ST-1", "an id breaking the id pattern is rejected")


@pytest.mark.case("IFX-ROB-013")
@kinds
def test_unknown_fields_tolerated(api: Api, kind: str) -> None:
    """Section 4: unknown extra fields MUST be tolerated (dropped or echoed), not rejected."""
    t = target(api, kind)
    body = t.body(x_vendor_note="extra", x_vendor_score=3, x_vendor_obj={"a": [1, 2]})
    ex = t.send(body)
    expect_status(
        ex, OPERATIONS_BY_ID[t.op].success, "PROFILE 4", "unknown extra fields must be tolerated by receivers"
    )


def known_paths(api: Api) -> list[tuple[str, str | None]]:
    """One concrete path per operation path of section 2 with a role allowed on it (None: A1/A2)."""
    params = {
        "dso": api.entity("dso"),
        "agg": api.entity("agg1"),
        "requestId": api.new_id("req"),
        "offerId": api.new_id("off"),
        "activationId": api.new_id("act"),
        "ackId": api.new_id("ack"),
        "nackId": api.new_id("nack"),
    }
    seen: dict[str, str | None] = {}
    for op in OPERATIONS:
        path = op.url_path(**{p: params[p] for p in op.path_params})
        role = None if op.action in ("token", "refresh") else ("agg1" if op.access.startswith("agg") else "dso")
        seen.setdefault(path, role)
    return list(seen.items())


UNKNOWN_PATHS = [
    "/unknown",
    "/dsos",
    "/dsos/{dso}",
    "/aggregators",
    "/aggregators/{agg}",
    "/authentication",
    "/dsos/{dso}/flexibilityOffers",
    "/aggregators/{agg}/flexibilityRequests",
    "/dsos/{dso}/flexibilityRequests/requestId/extra",
    "/dsos/{dso}/flexibilityActivations/{agg}/a/b",
    "/aggregators/flexibilityOffers/extra/more",
    "/aggregators/{agg}/flexibilityActivations",
    "/aggregators/{agg}/flexibilityActivations/acks/ackId/more",
]


@pytest.mark.case("IFX-ROB-014")
def test_unknown_path(api: Api) -> None:
    """ST-5: a path that is not one of section 2 answers 404 (GET, POST and DELETE, with a valid token)."""
    results = []
    paths = [t.format(dso=api.entity("dso"), agg=api.entity("agg1")) for t in UNKNOWN_PATHS]
    for path in (p for p in paths if not allowed_methods(p)):  # entity ids of the IXIT cannot make them known
        results.append((f"GET {path}", api.raw("GET", path, as_="dso")))
        results.append((f"POST {path}", api.raw("POST", path, as_="dso", json={})))
    results.append(("DELETE /unknown/x", api.raw("DELETE", "/unknown/x", as_="dso")))
    expect_all(results, (404,), "ST-5", "a path that is not one of section 2 answers 404")


@pytest.mark.case("IFX-ROB-015")
def test_path_segment_breaking_id_pattern(api: Api) -> None:
    """ST-5, P-07: a {dso}/{agg}/id segment breaking the id pattern, or a literal path word, answers 404."""
    dso, agg, long_id = api.entity("dso"), api.entity("agg1"), "x" * 65
    cases = [
        ("GET", "/dsos/-bad/flexibilityRequests", "agg1"),  # R3: any authenticated user
        ("GET", "/dsos/a%20b/flexibilityRequests", "dso"),
        ("GET", "/dsos/requestId/flexibilityRequests", "dso"),
        ("GET", f"/dsos/{dso}/flexibilityActivations/a%20b", "dso"),  # V3: DSO {dso}
        ("GET", f"/dsos/{dso}/flexibilityActivations/offerId", "dso"),
        ("GET", "/aggregators/-x/flexibilityActivations/acks", "dso"),  # K3: any DSO
        ("GET", f"/aggregators/{long_id}/flexibilityActivations/nacks", "dso"),
        ("DELETE", f"/dsos/{dso}/flexibilityRequests/bad%21id", "dso"),
        ("DELETE", f"/aggregators/{agg}/flexibilityOffers/_x", "agg1"),
        ("DELETE", f"/dsos/{dso}/flexibilityActivations/{agg}/{long_id}", "dso"),
        ("DELETE", f"/aggregators/{agg}/flexibilityActivations/acks/.x", "agg1"),
        ("DELETE", f"/aggregators/{agg}/flexibilityActivations/nacks/caf%C3%A9", "agg1"),
    ]
    results = [(f"{method} {path[:70]}", api.raw(method, path, as_=role)) for method, path, role in cases]
    expect_all(results, (404,), "ST-5", "a path segment that is not a valid id is not a path of section 2")


PROBE_METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE")


@pytest.mark.case("IFX-ROB-016")
def test_unlisted_method(api: Api) -> None:
    """ST-5: a known path with a method section 2 does not list answers 405."""
    results = []
    for path, role in known_paths(api):
        for method in PROBE_METHODS:
            if method not in allowed_methods(path):
                results.append((f"{method} {path}", api.raw(method, path, as_=role)))
    expect_all(results, (405,), "ST-5", "a known path with an unlisted method answers 405")


@pytest.mark.case("IFX-ROB-017")
def test_options(api: Api) -> None:
    """ST-5: OPTIONS on a known path answers 405, or 200/204 carrying `Allow`."""
    problems = []
    for path, role in known_paths(api):
        ex = api.raw("OPTIONS", path, as_=role)
        if ex.status == 405 or (ex.status in (200, 204) and ex.headers.get("Allow")):
            continue
        problems.append(f"OPTIONS {path} -> {ex.status} (Allow {ex.headers.get('Allow')!r})")
    if problems:
        raise Failure(f"ST-5: OPTIONS must answer 405, or 200/204 with an Allow header; {'; '.join(problems[:8])}")


@pytest.mark.case("IFX-ROB-018")
def test_head_where_get(api: Api) -> None:
    """Section 2, ST-5: HEAD is allowed wherever GET is; it answers like GET (200), never 405."""
    dso, agg = api.entity("dso"), api.entity("agg1")
    cases = [
        (f"/dsos/{dso}/flexibilityRequests", "dso"),
        ("/aggregators/flexibilityOffers", "dso"),
        (f"/dsos/{dso}/flexibilityActivations/{agg}", "dso"),
        (f"/aggregators/{agg}/flexibilityActivations/acks", "agg1"),
        (f"/aggregators/{agg}/flexibilityActivations/nacks", "agg1"),
    ]
    results = [(f"HEAD {path}", api.raw("HEAD", path, as_=role)) for path, role in cases]
    expect_all(results, (200,), "ST-5, RFC 9110", "HEAD where GET is listed answers as GET does (200)")


@pytest.mark.case("IFX-ROB-019")
def test_huge_body(api: Api) -> None:
    """ST-1, ST-7: a huge invalid body (2 MiB array, 1 MiB id) answers 4xx (413 or 400/422), never 5xx."""
    path = {"dso": api.entity("dso")}
    array = b"[" + b"0," * (1024 * 1024) + b"0]"
    huge_id = json.dumps(api.build("request", request_id="x" * (1024 * 1024))).encode()
    results = [
        (label, api.call("R2", as_="dso", path=path, content=payload, headers={"Content-Type": "application/json"}))
        for label, payload in (("2 MiB array", array), ("1 MiB request_id", huge_id))
    ]
    expect_all(results, (400, 413, 422), "ST-1, ST-7", "a huge invalid body is rejected with a 4xx")


@pytest.mark.case("IFX-ROB-020")
def test_deep_nesting(api: Api) -> None:
    """ST-1, ST-7: deeply nested JSON (100 000 levels) answers 4xx, never 5xx."""
    depth = 100_000
    nested = b"[" * depth + b"]" * depth
    inside = json.dumps(api.build("request", region_id="__NEST__")).encode().replace(b'"__NEST__"', nested)
    results = [
        (label, api.call("R2", as_="dso", content=payload, headers={"Content-Type": "application/json"}))
        for label, payload in (("nested array body", nested), ("nested array in region_id", inside))
    ]
    expect_all(results, (400, 413, 422), "ST-1, ST-7", "deeply nested JSON is rejected with a 4xx")


@pytest.mark.case("IFX-ROB-021")
@pytest.mark.parametrize("op_id", ["A1", "A2"])
def test_auth_endpoint_garbage(api: Api, op_id: str) -> None:
    """AU-3, ST-7: garbage at the token endpoints answers 4xx, never 2xx or 5xx."""
    client = f"client_id={api.ixit.client_id}&client_secret={api.ixit.client_secret}".encode()
    grant = (
        b"grant_type=password&username=%ff%fe&password=x&"
        if op_id == "A1"
        else b"grant_type=refresh_token&refresh_token=%ff%fe%00&"
    )
    payloads = {
        "JSON body": (b'{"grant_type": "password"}', "application/json"),
        "binary": (b"\xff\xfe\x00\x01\x02", "application/x-www-form-urlencoded"),
        "empty": (b"", "application/x-www-form-urlencoded"),
        "invalid UTF-8 values": (grant + client, "application/x-www-form-urlencoded"),
        "repeated grant_type": (
            b"grant_type=password&grant_type=refresh_token&" + client,
            "application/x-www-form-urlencoded",
        ),
        "1 MiB value": (b"grant_type=" + b"x" * (1024 * 1024) + b"&" + client, "application/x-www-form-urlencoded"),
    }
    results = [
        (label, api.call(op_id, as_=None, content=body, headers={"Content-Type": media_type}))
        for label, (body, media_type) in payloads.items()
    ]
    expect_all(results, range(400, 500), "AU-3, ST-7", f"bad input to {op_id} answers a 4xx")


@pytest.mark.case("IFX-ROB-022")
def test_hostile_authorization_header(api: Api) -> None:
    """AU-4, ST-7: odd Authorization headers answer 401 (400 conforms), never 5xx."""
    values = [
        "Bearer",
        "Bearer ",
        "Bearer a b c",
        "Basic Zm9vOmJhcg==",
        "Bearer \u00e9\u00e8",
        "Token abc",
        "Bearer " + "x" * 4000,
        "Bearer ,,,",
        "Bearer\tabc",
    ]
    results = [(repr(v[:30]), api.call("R3", auth_header=v)) for v in values]
    expect_all(results, (400, 401), "AU-4, ST-7", "a malformed or unknown bearer answers 401 (400 conforms)")


@pytest.mark.case("IFX-ROB-024")
def test_several_faults(api: Api) -> None:
    """ST-11, P-09: a request with several faults answers the status of one of them (no order of checks)."""
    dso, agg = api.entity("dso"), api.entity("agg1")
    json_ct = {"Content-Type": "application/json"}
    results = [
        (
            "malformed JSON without a token",
            {400, 401, 422},
            api.call("R2", as_=None, content=b"{not json", headers=json_ct),
        ),
        (
            "malformed JSON on a foreign path",
            {400, 403, 422},
            api.call("R2", as_="agg1", content=b"{not json", headers=json_ct),
        ),
        (
            "text/plain body missing a field",
            {400, 415, 422},
            api.call(
                "R2",
                as_="dso",
                content=json.dumps({"request_id": api.new_id("req")}).encode(),
                headers={"Content-Type": "text/plain"},
            ),
        ),
        (
            "unknown id deleted by a foreign aggregator",
            {403, 404},
            api.call("O4", as_="agg2", path={"agg": agg, "offerId": api.new_id("off")}),
        ),
        ("unlisted method without a token", {401, 405}, api.raw("PUT", f"/dsos/{dso}/flexibilityRequests")),
        ("unknown path with an unknown token", {401, 404}, api.raw("GET", "/unknown", token="unknown-token")),
    ]
    bad = [
        f"{label} -> {ex.status} (expected {' or '.join(map(str, sorted(codes)))})"
        for label, codes, ex in results
        if ex.status not in codes
    ]
    if bad:
        refs = "ST-11, P-09, ST-7" if any(ex.status >= 500 for _, _, ex in results) else "ST-11, P-09"
        raise Failure(f"{refs}: a request with several faults answers the status of one of them; {'; '.join(bad)}")
