"""Robustness: bad input gets a 4xx, never a 5xx (PROFILE.md section 5, ST-1, ST-3, ST-5, ST-7).

Every negative request carries exactly one fault (ST-11): bodies start from a valid, plausible
object for their path (stored offer/activation first where PL-5/PL-7 need one) and change one
thing. Loops over many variants report every variant the target answered wrongly.
"""

from __future__ import annotations

import json
from functools import partial
from itertools import combinations
from typing import Any

import pytest

from ats.cases._bodies import (
    BAD_IDS,
    BAD_TIMES,
    DROP,
    FULL,
    ID_FIELD_NAMES,
    KINDS,
    POST_OP,
    REJECTED,
    RESERVED,
    ROLE,
    WRONG_TYPES,
    Target,
    expect_all,
    field_types,
    required,
    send_all,
    target,
)
from ats.cases._resources import RESOURCES, listed
from ats.checks import expect_no_5xx, expect_round_trip, expect_status, find
from ats.session import Api
from ats.verdicts import Failure
from interflex.profile import (
    ID_FIELDS,
    OPERATIONS,
    OPERATIONS_BY_ID,
    RESERVED_WORDS,
    allowed_methods,
    match_operation,
)

kinds = pytest.mark.parametrize("kind", KINDS)
LIST_OP = {"request": "R3", "offer": "O3", "activation": "V3", "ack": "K3", "nack": "N3"}

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
    call = partial(api.call, POST_OP[kind], as_=ROLE[kind], path=path, headers={"Content-Type": "application/json"})
    results = send_all(api, [(label, partial(call, content=payload)) for label, payload in MALFORMED.items()])
    expect_all(results, REJECTED, "ST-1", "a malformed JSON body is rejected")


@pytest.mark.case("IFX-ROB-002")
@kinds
def test_non_standard_json_numbers(api: Api, kind: str) -> None:
    """ST-1: NaN and Infinity are not JSON (RFC 8259) and are rejected even inside a valid object."""
    t = target(api, kind)
    probes = []
    for literal in ("NaN", "Infinity", "-Infinity"):
        body = t.body(flexible_power="__NUMBER__")
        text = json.dumps(body).replace('"__NUMBER__"', literal, 1)
        probes.append((f"flexible_power {literal}", partial(t.send, body, content=text.encode())))
    results = send_all(api, probes)
    expect_all(results, REJECTED, "ST-1", "NaN/Infinity are not JSON numbers and must be rejected")


@pytest.mark.case("IFX-ROB-003")
@kinds
def test_body_not_an_object(api: Api, kind: str) -> None:
    """ST-1: a JSON body that is not an object (array, string, number, null, boolean) answers 400/422."""
    path = {"dso": api.entity("dso"), "agg": api.entity("agg1")}
    bodies: list[Any] = [[], [{}], "text", 5, None, True]
    call = partial(api.call, POST_OP[kind], as_=ROLE[kind], path=path)
    results = send_all(api, [(json.dumps(b)[:30], partial(call, json=b)) for b in bodies])
    expect_all(results, REJECTED, "ST-1", "a body that is not the expected object is rejected")


@pytest.mark.case("IFX-ROB-004")
@kinds
def test_wrong_content_type(api: Api, kind: str) -> None:
    """ST-3: a valid JSON body sent with a non-JSON content type answers 415 (400 conforms)."""
    t = target(api, kind)
    probes = []
    for media_type in (
        "text/plain",
        "application/xml",
        "application/x-www-form-urlencoded",
        "application/octet-stream",
    ):
        body = t.body()
        probes.append(
            (media_type, partial(t.send, body, content=json.dumps(body).encode(), headers={"Content-Type": media_type}))
        )
    results = send_all(api, probes)
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
        expect_listed(api, t, body, f"posted as {media_type}")


def expect_listed(api: Api, t: Target, body: dict[str, Any], how: str) -> None:
    """ST-3, ST-9: the accepted `body` is in its list (read without validating every item: ST-10 is core's,
    and objects other cases of a faulty target wrongly stored must not decide a robustness case)."""
    id_field = ID_FIELDS[FULL[t.kind]]
    list_op = OPERATIONS_BY_ID[LIST_OP[t.kind]]
    list_path = list_op.url_path(**{p: t.path[p] for p in list_op.path_params})
    read = api.raw("GET", list_path, as_="dso" if t.kind in ("request", "activation") else "agg1")
    expect_status(read, 200, "ST-9", f"{LIST_OP[t.kind]} answers 200 with an array")
    listed = read.json()
    if not isinstance(listed, list) or find(listed, id_field, body[id_field]) is None:
        raise Failure(f"ST-3, ST-9: the object {how} must be listed; {body[id_field]!r} is missing")


@pytest.mark.case("IFX-ROB-025")
@kinds
def test_body_without_content_type(api: Api, kind: str) -> None:
    """ST-3: a valid JSON body sent without any Content-Type MAY be parsed as JSON: then it is stored and
    listed like one sent as application/json; a target that does not parse it refuses it with 415 (400
    conforms). Never a 5xx."""
    t = target(api, kind)
    body = t.body()
    ex = t.send(body, content=json.dumps(body).encode(), headers={"Content-Type": None})
    expect_no_5xx(ex)
    if ex.status in OPERATIONS_BY_ID[t.op].success:
        expect_listed(api, t, body, "accepted without a Content-Type")
        return
    expect_status(
        ex,
        (415, 400),
        "ST-3",
        "a body without any Content-Type is parsed as JSON (201, 200 conforms) or refused with 415 (400 conforms)",
    )


@pytest.mark.case("IFX-ROB-006")
@kinds
def test_missing_required_field(api: Api, kind: str) -> None:
    """ST-1: a body missing any one required field answers 400/422."""
    t = target(api, kind)
    results = send_all(api, [(f"without {name}", partial(t.send, t.body(**{name: DROP}))) for name in required(kind)])
    expect_all(results, REJECTED, "ST-1", f"a {FULL[kind]} missing a required field is rejected")


@pytest.mark.case("IFX-ROB-007")
@kinds
def test_wrong_type_per_field(api: Api, kind: str) -> None:
    """ST-1: a field of the wrong JSON type (a number as a string, a string as a number, ...) answers 400/422."""
    t = target(api, kind)
    probes = [
        (f"{name}={value!r}", partial(t.send, t.body(**{name: value})))
        for name, type_ in field_types(kind).items()
        for value in WRONG_TYPES[type_]
    ]
    results = send_all(api, probes)
    expect_all(results, REJECTED, "ST-1", f"a {FULL[kind]} field of the wrong type is rejected")


@pytest.mark.case("IFX-ROB-008")
@kinds
def test_null_field(api: Api, kind: str) -> None:
    """ST-1, section 4: null is not a value of any field, required or optional."""
    t = target(api, kind)
    results = send_all(api, [(f"{name}=null", partial(t.send, t.body(**{name: None}))) for name in field_types(kind)])
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
    probes = [
        (f"{name}={value}", partial(t.send, t.body(**{name: value})))
        for name, values in OUT_OF_RANGE[kind].items()
        for value in values
    ]
    results = send_all(api, probes)
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
    probes = [
        (f"{name}={value!r}", partial(t.send, t.body(**{name: value})))
        for name, values in bad.items()
        for value in values
    ]
    results = send_all(api, probes)
    expect_all(results, REJECTED, "ST-1", "a unit, currency or flex_type out of range is rejected")


@pytest.mark.case("IFX-ROB-011")
@kinds
def test_bad_date_time(api: Api, kind: str) -> None:
    """ST-1, P-01: times are RFC 3339 date-times with an offset; impossible dates and naive times are rejected."""
    t = target(api, kind)
    names = [n for n in ("timestamp", "deadline", "activation_time") if n in field_types(kind)]
    probes = [(f"{name}={value!r}", partial(t.send, t.body(**{name: value}))) for name in names for value in BAD_TIMES]
    results = send_all(api, probes)
    expect_all(results, REJECTED, "ST-1, P-01", "a time that is not an RFC 3339 date-time with offset is rejected")


WORD_OF_FIELD = {f"{kind}_id": word for kind, word in RESERVED.items()}


def path_words(field: str) -> list[str]:
    """P-07 literal path words to try in an id `field`: its own kind's word; every word for entity/region ids."""
    return [WORD_OF_FIELD[field]] if field in WORD_OF_FIELD else sorted(RESERVED_WORDS)


@pytest.mark.case("IFX-ROB-012")
@kinds
def test_bad_id_in_body(api: Api, kind: str) -> None:
    """ST-1, section 4, P-07: ids are 1-64 characters of ^[A-Za-z0-9][A-Za-z0-9._:-]*$ and never a path word.

    The literal words (requestId ... nackId) are tried in the object's own id, in referencing ids
    (offer_id, activation_id, request_id) and in entity_id/region_id; each body has that one fault.
    """
    t = target(api, kind)
    probes = []
    for name in (n for n in field_types(kind) if n in ID_FIELD_NAMES):
        probes += [(f"{name}={value[:20]!r}", partial(t.send, t.body(**{name: value}))) for value in BAD_IDS]
        probes += [(f"{name}={word!r} (P-07)", partial(t.send, t.body(**{name: word}))) for word in path_words(name)]
    results = send_all(api, probes)
    expect_all(results, REJECTED, "ST-1, P-07", "an id breaking the id pattern, or a literal path word, is rejected")


@pytest.mark.case("IFX-ROB-013")
@kinds
def test_unknown_fields_tolerated(api: Api, kind: str) -> None:
    """Section 4: unknown extra fields MUST be tolerated (dropped or echoed), not rejected.

    The object is accepted and listed with its profile fields intact (ST-9); whether the unknown
    fields are dropped or echoed is the server's choice (section 4), so they are not compared.
    """
    t = target(api, kind)
    extras = {"x_vendor_note": "extra", "x_vendor_score": 3, "x_vendor_obj": {"a": [1, 2]}}
    body = t.body(**extras)
    ex = t.send(body)
    expect_status(
        ex, OPERATIONS_BY_ID[t.op].success, "PROFILE 4", "unknown extra fields must be tolerated by receivers"
    )
    res = RESOURCES[kind]
    known = {k: v for k, v in body.items() if k not in extras}
    expect_round_trip(known, listed(api, res), res.id_field, ref=f"PROFILE 4, ST-9, {res.list}", where=res.list)


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
    probes = []
    paths = [t.format(dso=api.entity("dso"), agg=api.entity("agg1")) for t in UNKNOWN_PATHS]
    for path in (p for p in paths if not allowed_methods(p)):  # entity ids of the IXIT cannot make them known
        probes.append((f"GET {path}", partial(api.raw, "GET", path, as_="dso")))
        probes.append((f"POST {path}", partial(api.raw, "POST", path, as_="dso", json={})))
    probes.append(("DELETE /unknown/x", partial(api.raw, "DELETE", "/unknown/x", as_="dso")))
    results = send_all(api, probes)
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
    results = send_all(
        api, [(f"{method} {path[:70]}", partial(api.raw, method, path, as_=role)) for method, path, role in cases]
    )
    expect_all(results, (404,), "ST-5", "a path segment that is not a valid id is not a path of section 2")


PROBE_METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE")


def id_segment_reading(method: str, path: str) -> bool:
    """True when `method` on `path` is an operation once a P-07 literal word of the path is read as an id.

    E.g. DELETE /dsos/d/flexibilityRequests/requestId is R4 with requestId taken as the id segment.
    """
    segments = path.split("/")
    literal = [i for i, segment in enumerate(segments) if segment in RESERVED_WORDS]
    for size in range(1, len(literal) + 1):
        for chosen in combinations(literal, size):
            replaced = ["x0" if i in chosen else segment for i, segment in enumerate(segments)]
            if match_operation(method, "/".join(replaced)) is not None:
                return True
    return False


@pytest.mark.case("IFX-ROB-016")
def test_unlisted_method(api: Api) -> None:
    """ST-5: a known path with a method section 2 does not list answers 405.

    Exception (ST-5 with P-07): where a literal word of the path (requestId ... nackId) read as an id
    would make the method an operation (DELETE on an id getter's path, POST on V1's path, which V2
    overlaps), 404 (the segment is not a valid id) conforms as well as 405 (the literal wins).
    """
    probes = [
        (f"{method} {path}", partial(api.raw, method, path, as_=role))
        for path, role in known_paths(api)
        for method in PROBE_METHODS
        if method not in allowed_methods(path)
    ]
    strict, lenient = [], []
    for label, ex in send_all(api, probes):
        method, path = label.split(" ", 1)
        (lenient if id_segment_reading(method, path) else strict).append((label, ex))
    expect_all(strict, (405,), "ST-5", "a known path with an unlisted method answers 405")
    expect_all(
        lenient,
        (404, 405),
        "ST-5, P-07",
        "an unlisted method on a path whose literal word could be read as an id answers 405 (404 conforms)",
    )


@pytest.mark.case("IFX-ROB-017")
def test_options(api: Api) -> None:
    """ST-5: OPTIONS on a known path answers 405, or 200/204 carrying `Allow`."""
    problems = []
    probes = [(path, partial(api.raw, "OPTIONS", path, as_=role)) for path, role in known_paths(api)]
    for path, ex in send_all(api, probes):
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
    results = send_all(api, [(f"HEAD {path}", partial(api.raw, "HEAD", path, as_=role)) for path, role in cases])
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
    probes = [
        (label, partial(api.call, op_id, as_=None, content=body, headers={"Content-Type": media_type}))
        for label, (body, media_type) in payloads.items()
    ]
    results = send_all(api, probes)
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
    results = send_all(api, [(repr(v[:30]), partial(api.call, "R3", auth_header=v)) for v in values])
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
