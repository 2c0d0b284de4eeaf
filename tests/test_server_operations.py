"""Reference server: every operation's success and error paths (PROFILE.md sections 2, 4, 5),
the authorization column (AU-5), plausibility PL-1...PL-7 (section 6) and DF-1 (section 7)."""

from __future__ import annotations

import http.client
import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from urllib.parse import urlsplit

import pytest

from interflex.samples import sample
from interflex.validation import is_valid, validate
from reference_server import ReferenceServer
from reference_server.demo import DemoClient

R, OF, V = "FlexibilityRequest", "FlexibilityOffer", "FlexibilityActivation"
K, N = "FlexibilityActivationAck", "FlexibilityActivationNack"
REQUESTS, OFFERS = "/dsos/dso1/flexibilityRequests", "/aggregators/agg1/flexibilityOffers"
ACTIVATIONS, ACKS, NACKS = (
    "/dsos/dso1/flexibilityActivations/agg1",
    "/aggregators/agg1/flexibilityActivations/acks",
    "/aggregators/agg1/flexibilityActivations/nacks",
)


@pytest.fixture(scope="module")
def api() -> Iterator[DemoClient]:
    with ReferenceServer() as server:
        client = DemoClient(server.base_url)
        yield client
        client.close()


def _iso(delta: timedelta, tz: timedelta = timedelta()) -> str:
    from datetime import timezone

    return (datetime.now(UTC) + delta).astimezone(timezone(tz)).replace(microsecond=0).isoformat()


def post(api: DemoClient, path: str, obj: dict, as_: str, status: int = 201) -> dict:
    response = api.call("POST", path, as_=as_, json=obj)
    assert response.status_code == status, response.text
    return obj


def offer(api: DemoClient, agg: str = "agg1", **overrides: object) -> dict:
    return post(api, f"/aggregators/{agg}/flexibilityOffers", sample(OF, entity_id=agg, **overrides), agg)


def activation(api: DemoClient, agg: str = "agg1", **overrides: object) -> dict:
    overrides.setdefault("offer_id", offer(api, agg)["offer_id"])
    return post(api, f"/dsos/dso1/flexibilityActivations/{agg}", sample(V, **overrides), "dso1")


def listed(api: DemoClient, path: str, as_: str, **params: str) -> list[dict]:
    response = api.call("GET", path, as_=as_, params=params)
    assert response.status_code == 200, response.text
    return response.json()


def assert_error(response, status: int) -> dict:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/json")
    body = response.json()
    assert is_valid(validate(body, "Error")), body  # ST-8
    return body


# ---------------------------------------------------------------- id getters (ID-1, P-05)


@pytest.mark.parametrize(
    ("path", "who", "field"),
    [
        (REQUESTS + "/requestId", "dso1", "request_id"),
        (OFFERS + "/offerId", "agg1", "offer_id"),
        ("/dsos/dso1/flexibilityActivations/activationId", "dso1", "activation_id"),
        (ACKS + "/ackId", "agg1", "ack_id"),
        (NACKS + "/nackId", "agg1", "nack_id"),
    ],
)
def test_id_getters_answer_fresh_id_objects(api, path, who, field):
    ids = set()
    for _ in range(5):
        response = api.call("GET", path, as_=who)
        assert response.status_code == 200
        body = response.json()
        assert list(body) == [field] and is_valid(validate(body, "IdResponse"))
        ids.add(body[field])
    assert len(ids) == 5


def test_issued_ids_are_accepted_by_post(api):
    request_id = api.call("GET", REQUESTS + "/requestId").json()["request_id"]
    post(api, REQUESTS, sample(R, request_id=request_id), "dso1")
    assert request_id in [r["request_id"] for r in listed(api, REQUESTS, "dso1")]


# ---------------------------------------------------------------- POST + list round trip (ST-9)


def test_request_round_trip_keeps_numbers_and_offsets(api):
    obj = sample(
        R,
        flexible_power=12.75,
        duration=900,
        timestamp=_iso(timedelta(), timedelta(hours=1)),
        deadline=_iso(timedelta(hours=3), timedelta(hours=-5)),
        activation_time=_iso(timedelta(hours=4)),
    )
    response = api.call("POST", REQUESTS, json=obj)
    assert response.status_code == 201 and response.json() == obj
    stored = next(r for r in listed(api, REQUESTS, "agg2") if r["request_id"] == obj["request_id"])
    assert stored == obj
    assert isinstance(stored["duration"], int) and stored["deadline"].endswith("-05:00")


def test_unknown_fields_are_stored_and_echoed(api):
    obj = offer(api, vendor_note={"x": [1, 2.5, "y"]})
    stored = next(o for o in listed(api, "/aggregators/flexibilityOffers", "agg1") if o["offer_id"] == obj["offer_id"])
    assert stored == obj


@pytest.mark.parametrize(
    ("path", "kind", "who"),
    [
        (REQUESTS, R, "dso1"),
        (OFFERS, OF, "agg1"),
        (ACTIVATIONS, V, "dso1"),
        (ACKS, K, "agg1"),
        (NACKS, N, "agg1"),
    ],
)
def test_post_list_delete_cycle(api, path, kind, who):
    overrides: dict = {}
    if kind in (K, N):
        act = activation(api)
        overrides = {"offer_id": act["offer_id"], "activation_id": act["activation_id"]}
    elif kind == V:
        overrides = {"offer_id": offer(api)["offer_id"]}
    obj = post(api, path, sample(kind, **overrides), who)
    id_field = next(iter(obj))
    assert obj in listed(api, path if kind != OF else "/aggregators/flexibilityOffers", who)
    assert api.call("POST", path, as_=who, json=obj).status_code == 409  # ST-2
    response = api.call("DELETE", f"{path}/{obj[id_field]}", as_=who)
    assert response.status_code == 204 and response.content == b""
    assert obj not in listed(api, path if kind != OF else "/aggregators/flexibilityOffers", who)
    assert_error(api.call("DELETE", f"{path}/{obj[id_field]}", as_=who), 404)  # ST-4


def test_ids_are_unique_per_kind_across_paths(api):
    first = offer(api, "agg1")
    response = api.call(
        "POST",
        "/aggregators/agg2/flexibilityOffers",
        as_="agg2",
        json=sample(OF, entity_id="agg2", offer_id=first["offer_id"]),
    )
    assert_error(response, 409)


def test_same_id_for_different_kinds_is_fine(api):
    shared = "shared-id-1"
    post(api, REQUESTS, sample(R, request_id=shared), "dso1")
    offer(api, offer_id=shared)


def test_delete_under_another_path_is_404(api):
    obj = offer(api, "agg1")
    assert_error(api.call("DELETE", f"/aggregators/agg2/flexibilityOffers/{obj['offer_id']}", as_="agg2"), 404)
    act = activation(api, "agg1")
    assert_error(api.call("DELETE", f"/dsos/dso1/flexibilityActivations/agg2/{act['activation_id']}"), 404)


@pytest.mark.parametrize(
    "path",
    [
        "/dsos/dso9/flexibilityRequests",
        "/dsos/dso1/flexibilityActivations/agg9",
        "/aggregators/agg9/flexibilityActivations/acks",
        "/aggregators/agg9/flexibilityActivations/nacks",
    ],
)
def test_empty_lists_are_200_empty_arrays(api, path):
    assert listed(api, path, "dso1") == []  # ST-6


@pytest.mark.parametrize(
    ("body", "rule"),
    [
        ({"request_id": "r-1"}, "required"),
        ([], "type"),
        ("text", "type"),
        (None, "type"),
        (7, "type"),
    ],
)
def test_invalid_bodies_are_400_with_findings(api, body, rule):
    response = api.call("POST", REQUESTS, data=json.dumps(body), headers={"Content-Type": "application/json"})
    error = assert_error(response, 400)
    assert rule in error["error_description"]


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("flexible_power", "5"),
        ("flexible_power", 0),
        ("duration", -1),
        ("unit", "kWh"),
        ("timestamp", "2026-01-01 10:00:00"),
        ("deadline", "2026-01-01T10:00:00"),
        ("region_id", "bad id"),
        ("request_id", "requestId"),
        ("activation_time", None),
    ],
)
def test_field_rules_are_enforced(api, field, value):
    assert_error(api.call("POST", REQUESTS, json=sample(R, **{field: value})), 400)  # ST-1


def test_post_success_codes_and_head(api):
    assert api.call("HEAD", REQUESTS).status_code == 200
    response = api.call("HEAD", REQUESTS + "/requestId")
    assert response.status_code == 200 and response.content == b""


# ---------------------------------------------------------------- routing (P-07, ST-5)


def test_literal_segment_wins_over_parameter(api):
    body = api.call("GET", "/dsos/dso1/flexibilityActivations/activationId").json()
    assert list(body) == ["activation_id"]


@pytest.mark.parametrize(
    ("method", "path", "allow"),
    [
        ("DELETE", REQUESTS + "/requestId", "GET, HEAD"),
        ("PUT", REQUESTS, "GET, HEAD, POST"),
        ("POST", "/aggregators/flexibilityOffers", "GET, HEAD"),
        ("GET", "/authentication/token", "POST"),
        ("PATCH", OFFERS + "/o-1", "DELETE"),
        ("OPTIONS", ACKS, "GET, HEAD, POST"),
    ],
)
def test_unlisted_method_is_405_with_allow(api, method, path, allow):
    response = api.call(method, path)
    assert_error(response, 405)
    assert response.headers["allow"] == allow


@pytest.mark.parametrize(
    "path",
    [
        "/dsos/dso1/flexibilityRequests/",
        "/dsos/bad%20id/flexibilityRequests",
        "/dsos/requestId/flexibilityRequests",
        "/dsos/" + "d" * 65 + "/flexibilityRequests",
        "/dsos/dso1/flexibilityRequests/x/y",
        "/nothing",
        "/",
        "/aggregators/agg1/flexibilityOffers/offerId/x",
        "/dsos//flexibilityRequests",
        "/dsos/dso1%2Fx/flexibilityRequests",
    ],
)
def test_unknown_paths_are_404(api, path):
    assert_error(api.call("GET", path), 404)
    assert_error(api.call("DELETE", path), 404)


def test_outside_the_base_path_is_json_404(api):
    response = api.session.get(api.base_url.rsplit("/interflex", 1)[0] + "/elsewhere")
    assert_error(response, 404)


def test_openapi_document_is_served(api):
    response = api.session.get(api.base_url + "/openapi.yaml")
    assert response.status_code == 200
    assert "openapi:" in response.text


# ---------------------------------------------------------------- authorization (AU-5, section 2)


@pytest.mark.parametrize(
    ("method", "path", "who", "status"),
    [
        ("GET", REQUESTS + "/requestId", "agg1", 403),
        ("GET", "/dsos/dso2/flexibilityRequests/requestId", "dso1", 403),
        ("POST", REQUESTS, "agg1", 403),
        ("GET", REQUESTS, "agg1", 200),
        ("DELETE", REQUESTS + "/x-1", "agg1", 403),
        ("GET", OFFERS + "/offerId", "agg2", 403),
        ("GET", OFFERS + "/offerId", "dso1", 403),
        ("POST", OFFERS, "agg2", 403),
        ("POST", OFFERS, "dso1", 403),
        ("DELETE", OFFERS + "/x-1", "agg2", 403),
        ("GET", "/dsos/dso1/flexibilityActivations/activationId", "agg1", 403),
        ("POST", ACTIVATIONS, "agg1", 403),
        ("POST", "/dsos/dso2/flexibilityActivations/agg1", "dso1", 403),
        ("GET", ACTIVATIONS, "agg1", 200),
        ("GET", ACTIVATIONS, "agg2", 403),
        ("GET", "/dsos/dso2/flexibilityActivations/agg1", "dso1", 403),
        ("GET", "/dsos/dso2/flexibilityActivations/agg1", "agg1", 200),
        ("DELETE", ACTIVATIONS + "/x-1", "agg1", 403),
        ("GET", ACKS + "/ackId", "dso1", 403),
        ("POST", ACKS, "agg2", 403),
        ("GET", ACKS, "agg2", 403),
        ("GET", ACKS, "dso1", 200),
        ("DELETE", ACKS + "/x-1", "dso1", 403),
        ("GET", NACKS + "/nackId", "agg2", 403),
        ("POST", NACKS, "dso1", 403),
        ("GET", NACKS, "agg2", 403),
        ("GET", NACKS, "dso1", 200),
        ("DELETE", NACKS + "/x-1", "agg2", 403),
    ],
)
def test_who_may_call(api, method, path, who, status):
    response = api.call(method, path, as_=who, json={})
    if status == 403:
        assert_error(response, 403)
    else:
        assert response.status_code == status


def test_offer_list_dso_sees_all_aggregator_only_its_own(api):
    mine, theirs = offer(api, "agg1"), offer(api, "agg2")
    as_dso = listed(api, "/aggregators/flexibilityOffers", "dso1")
    assert mine in as_dso and theirs in as_dso
    as_agg2 = listed(api, "/aggregators/flexibilityOffers", "agg2")
    assert theirs in as_agg2 and mine not in as_agg2


# ---------------------------------------------------------------- plausibility (section 6)


def _past(hours: float = 1) -> str:
    return _iso(timedelta(hours=-hours))


@pytest.mark.parametrize(
    ("path", "who", "obj", "rule"),
    [
        (REQUESTS, "dso1", lambda: sample(R, deadline=_past(0.5), timestamp=_past(0.1)), "PL-1"),
        (OFFERS, "agg1", lambda: sample(OF, activation_time=_past(1)), "PL-2"),
        (OFFERS, "agg1", lambda: sample(OF, flexible_power=4, granularity=5), "PL-3"),
        (OFFERS, "agg1", lambda: sample(OF, entity_id="agg2"), "PL-4"),
        (REQUESTS, "dso1", lambda: sample(R, timestamp=_past(2), deadline=_past(1)), "PL-6"),
        (OFFERS, "agg1", lambda: sample(OF, timestamp=_past(2), deadline=_past(1)), "PL-6"),
    ],
)
def test_single_message_and_path_rules(api, path, who, obj, rule):
    error = assert_error(api.call("POST", path, as_=who, json=obj()), 400)
    assert rule in error["error_description"]


def test_zero_power_offer_skips_pl3(api):
    offer(api, flexible_power=0, granularity=5)  # finding 002


@pytest.mark.parametrize(
    "change",
    [
        {"offer_id": "no-such-offer"},
        "more-power",
        {"unit": "MW"},
        {"currency": "USD"},
        "agg2-offer",
    ],
)
def test_pl5_activation_must_match_a_stored_offer_of_agg(api, change):
    stored = offer(api, "agg1")
    if change == "agg2-offer":
        change = {"offer_id": offer(api, "agg2")["offer_id"]}
    elif change == "more-power":
        change = {"flexible_power": stored["flexible_power"] + 1}
    body = sample(V, **{"offer_id": stored["offer_id"], **change})
    error = assert_error(api.call("POST", ACTIVATIONS, json=body), 400)
    assert "PL-5" in error["error_description"]
    activation(api, offer_id=stored["offer_id"], flexible_power=stored["flexible_power"])


@pytest.mark.parametrize(("path", "kind"), [(ACKS, K), (NACKS, N)])
def test_pl7_ack_needs_an_activation_to_agg(api, path, kind):
    lone_offer = offer(api, "agg1")
    error = assert_error(api.call("POST", path, as_="agg1", json=sample(kind, offer_id=lone_offer["offer_id"])), 400)
    assert "PL-7" in error["error_description"]
    act, other = activation(api), activation(api)
    wrong = sample(kind, offer_id=act["offer_id"], activation_id=other["activation_id"])
    assert "PL-7" in assert_error(api.call("POST", path, as_="agg1", json=wrong), 400)["error_description"]
    foreign = activation(api, "agg2")
    body = sample(kind, offer_id=foreign["offer_id"])
    assert "PL-7" in assert_error(api.call("POST", path, as_="agg1", json=body), 400)["error_description"]
    post(api, path, sample(kind, offer_id=act["offer_id"], activation_id=act["activation_id"]), "agg1")


# ---------------------------------------------------------------- date filter (DF-1)


def test_valid_at_filters_requests_and_offers(api):
    soon = post(api, "/dsos/dso3/flexibilityRequests", sample(R, deadline=_iso(timedelta(hours=1))), "dso1", 403)
    del soon
    early = post(api, REQUESTS, sample(R, deadline=_iso(timedelta(hours=1))), "dso1")
    late = post(api, REQUESTS, sample(R, deadline=_iso(timedelta(hours=10), timedelta(hours=2))), "dso1")
    cut = _iso(timedelta(hours=5), timedelta(hours=-3))
    found = listed(api, REQUESTS, "dso1", valid_at=cut)
    assert late in found and early not in found
    assert early in listed(api, REQUESTS, "dso1")
    exact = listed(api, REQUESTS, "dso1", valid_at=late["deadline"])
    assert late in exact  # deadline >= valid_at, compared as instants
    off_early, off_late = offer(api, deadline=_iso(timedelta(hours=1))), offer(api, deadline=_iso(timedelta(hours=9)))
    found = listed(api, "/aggregators/flexibilityOffers", "dso1", valid_at=cut)
    assert off_late in found and off_early not in found


@pytest.mark.parametrize(
    "query",
    [
        "valid_at=",
        "valid_at=tomorrow",
        "valid_at=2026-01-01T10:00:00",
        "valid_at=2026-01-01%2010:00:00Z",
        "valid_at=2026-01-01T10:00:00Z&valid_at=2026-01-02T10:00:00Z",
        "valid_at=%ZZ",
        "valid_at=2026-13-01T10:00:00Z",
    ],
)
@pytest.mark.parametrize("path", [REQUESTS, "/aggregators/flexibilityOffers"])
def test_bad_valid_at_is_400(api, path, query):
    assert_error(api.call("GET", f"{path}?{query}"), 400)


def test_other_query_parameters_are_ignored(api):
    assert api.call("GET", REQUESTS + "?foo=bar&x").status_code == 200


def test_id_getter_never_returns_a_stored_id(monkeypatch):
    """ID-1: an id equal to a stored object's id (e.g. one a client chose itself) is never handed out."""
    suffixes = iter(["0" * 32, "0" * 32, "1" * 32])
    chosen = sample(R, request_id="req-" + "0" * 32)
    with ReferenceServer() as server:
        client = DemoClient(server.base_url)
        post(client, REQUESTS, chosen, "dso1")
        monkeypatch.setattr("reference_server.resources.secrets.token_hex", lambda _: next(suffixes))
        assert client.call("GET", REQUESTS + "/requestId").json() == {"request_id": "req-" + "1" * 32}
        client.close()


def test_missing_openapi_document_is_a_json_404(api, monkeypatch):
    from reference_server import app

    def missing() -> dict:
        raise FileNotFoundError("schemas/openapi.yaml")

    monkeypatch.setattr(app, "bundled_openapi", missing)
    app.openapi_text.cache_clear()
    try:
        assert_error(api.session.get(api.base_url + "/openapi.yaml"), 404)
    finally:
        monkeypatch.undo()
        app.openapi_text.cache_clear()
    assert api.session.get(api.base_url + "/openapi.yaml").status_code == 200


def test_server_header_names_the_reference_server(api: DemoClient) -> None:
    """The certificate shows the target's `Server` header: the reference server names itself."""
    response = api.call("GET", REQUESTS, as_="dso1")
    assert response.headers["Server"].startswith("interflex-reference-server/")
    assert "uvicorn" not in response.headers["Server"]


@pytest.mark.parametrize(
    ("method", "path", "status"),
    [
        ("GET", REQUESTS + "%0A", 404),  # ST-5: a trailing encoded newline is no path of section 2
        ("POST", REQUESTS + "%0A", 404),
        ("GET", REQUESTS + "/requestId%0A", 404),
        ("get", REQUESTS, 405),  # RFC 9110 9.1: method names are case-sensitive, "get" is not listed
        ("post", REQUESTS, 405),
    ],
)
def test_near_miss_paths_and_methods(api: DemoClient, method: str, path: str, status: int) -> None:
    obj = sample(R)
    # http.client sends the method as given (requests would upper-case it).
    connection = http.client.HTTPConnection(urlsplit(api.base_url).netloc, timeout=10)
    headers = {"Authorization": f"Bearer {api.token('dso1')}", "Content-Type": "application/json"}
    connection.request(method, urlsplit(api.base_url).path + path, body=json.dumps(obj), headers=headers)
    response = connection.getresponse()
    assert response.status == status
    assert json.loads(response.read())["error"]
    connection.close()
    assert obj not in listed(api, REQUESTS, "dso1")
