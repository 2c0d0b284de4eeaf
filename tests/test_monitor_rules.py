"""One test per rule of the monitor: hand-made exchanges, the finding (rule, side, severity) expected.

`Traffic` builds a capture the way a platform would see it: users log in with A1 (so the monitor
learns their tokens), then call the operations; each exchange takes 10 ms and they do not overlap
unless a test says so.
"""

from __future__ import annotations

import json
import re
from typing import Any
from urllib.parse import urlencode

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from interflex.monitor import HttpExchange, Monitor, MonitorFinding, Participant, Platform
from interflex.profile import OPERATIONS

BASE = "http://platform.test/interflex/api/v1"
USERS = (
    Participant("dso1", "dso", "dso1"),
    Participant("agg1", "aggregator", "agg1"),
    Participant("agg2", "aggregator", "agg2"),
)
PLATFORM = Platform(participants=USERS, plausibility=True, date_filter=True, client_id="client")
JSON = {"content-type": "application/json"}
SEGMENTS = (
    "dsos",
    "aggregators",
    "dso1",
    "agg1",
    "flexibilityRequests",
    "flexibilityOffers",
    "flexibilityActivations",
    "requestId",
    "offerId",
    "acks",
    "nacks",
    "ackId",
    "r-1",
    "o-1",
    "",
    "%2F",
    "authentication",
    "token",
    "refresh",
)
FIELDS = (
    "request_id",
    "offer_id",
    "activation_id",
    "ack_id",
    "nack_id",
    "entity_id",
    "deadline",
    "timestamp",
    "flexible_power",
    "unit",
    "currency",
    "access_token",
    "refresh_token",
    "expires_in",
    "error",
)


def request(request_id: str = "r-1", **changes: Any) -> dict[str, Any]:
    body = {
        "request_id": request_id,
        "timestamp": "2030-01-01T10:00:00Z",
        "deadline": "2030-01-01T12:00:00Z",
        "region_id": "region-1",
        "flexible_power": 40,
        "duration": 900,
        "unit": "kW",
    }
    return {**body, **changes}


def offer(offer_id: str = "o-1", agg: str = "agg1", request_id: str = "r-1", **changes: Any) -> dict[str, Any]:
    body = {
        "offer_id": offer_id,
        "entity_id": agg,
        "timestamp": "2030-01-01T10:05:00Z",
        "deadline": "2030-01-01T12:00:00Z",
        "region_id": "region-1",
        "flexible_power": 40,
        "granularity": 10,
        "duration": 900,
        "unit": "kW",
        "activation_time": "2030-01-01T13:00:00Z",
        "flex_price": 120,
        "flex_type": "up",
        "currency": "EUR",
        "request_id": request_id,
    }
    return {**body, **changes}


def activation(activation_id: str = "v-1", offer_id: str = "o-1", **changes: Any) -> dict[str, Any]:
    body = {
        "activation_id": activation_id,
        "timestamp": "2030-01-01T10:10:00Z",
        "offer_id": offer_id,
        "flexible_power": 40,
        "granularity": 10,
        "duration": 900,
        "unit": "kW",
        "activation_time": "2030-01-01T13:00:00Z",
        "flex_price": 120,
        "flex_type": "up",
        "currency": "EUR",
    }
    return {**body, **changes}


def ack(
    ack_id: str = "k-1", offer_id: str = "o-1", activation_id: str | None = "v-1", **changes: Any
) -> dict[str, Any]:
    body = {
        "ack_id": ack_id,
        "timestamp": "2030-01-01T10:15:00Z",
        "offer_id": offer_id,
        "flexible_power": 40,
        "granularity": 10,
        "duration": 900,
        "unit": "kW",
        "activation_time": "2030-01-01T13:00:00Z",
    }
    if activation_id is not None:
        body["activation_id"] = activation_id
    return {**body, **changes}


class Traffic:
    """A capture under construction; `judge()` runs the monitor over it."""

    def __init__(self, platform: Platform = PLATFORM, complete: bool = True) -> None:
        self.platform, self.complete = platform, complete
        self.exchanges: list[HttpExchange] = []
        self.clock = 1000.0

    def add(
        self,
        method: str,
        path: str,
        status: int | None,
        *,
        body: Any = None,
        answer: Any = None,
        user: str | None = None,
        headers: dict[str, str] | None = None,
        raw: bytes | None = None,
        started: float | None = None,
        took: float = 0.01,
    ) -> int:
        """One exchange; `user` sends its token (from `login`); returns its index."""
        request_headers = dict(headers if headers is not None else (JSON if body is not None else {}))
        if user is not None:
            request_headers["authorization"] = f"Bearer token-{user}"
        start = self.clock if started is None else started
        index = len(self.exchanges)
        self.exchanges.append(
            HttpExchange(
                index=index,
                method=method,
                url=BASE + path,
                request_headers=request_headers,
                request_body=raw if raw is not None else (b"" if body is None else json.dumps(body).encode()),
                status=status,
                response_headers=JSON if answer is not None else {},
                response_body=b"" if answer is None else json.dumps(answer).encode(),
                started=start,
                finished=start + took,
            )
        )
        if started is None:
            self.clock += took + 0.01
        return index

    def login(self, user: str, expires_in: int = 3600, refresh: str | None = None) -> int:
        form = {
            "grant_type": "password",
            "username": user,
            "password": "pw",
            "client_id": "client",
            "client_secret": "s",
        }
        token = {"access_token": f"token-{user}", "token_type": "bearer", "expires_in": expires_in}
        token["refresh_token"] = refresh or f"refresh-{user}"
        headers = {"content-type": "application/x-www-form-urlencoded"}
        return self.add(
            "POST", "/authentication/token", 200, raw=urlencode(form).encode(), answer=token, headers=headers
        )

    def judge(self) -> list[MonitorFinding]:
        monitor = Monitor(self.platform, complete=self.complete)
        found = []
        for exchange in sorted(self.exchanges, key=lambda e: e.started):
            found += monitor.feed(exchange)
        return found + monitor.finish()


def logged_in(*users: str, **options: Any) -> Traffic:
    traffic = Traffic(**options)
    for user in users or ("dso1", "agg1", "agg2"):
        traffic.login(user)
    return traffic


def rules(found: list[MonitorFinding], severity: str = "error") -> set[tuple[str, str]]:
    """(rule, side) of the findings of one severity."""
    return {(f.rule, f.side) for f in found if f.severity == severity}


def negotiation(traffic: Traffic) -> None:
    """A conformant negotiation (section 8): request, offer, activation, ACK, deletes."""
    t = traffic
    t.add("GET", "/dsos/dso1/flexibilityRequests/requestId", 200, answer={"request_id": "r-1"}, user="dso1")
    t.add("POST", "/dsos/dso1/flexibilityRequests", 201, body=request(), user="dso1")
    t.add("GET", "/dsos/dso1/flexibilityRequests", 200, answer=[request()], user="agg1")
    t.add("GET", "/aggregators/agg1/flexibilityOffers/offerId", 200, answer={"offer_id": "o-1"}, user="agg1")
    t.add("POST", "/aggregators/agg1/flexibilityOffers", 201, body=offer(), user="agg1")
    t.add("GET", "/aggregators/flexibilityOffers", 200, answer=[offer()], user="dso1")
    t.add("GET", "/dsos/dso1/flexibilityActivations/activationId", 200, answer={"activation_id": "v-1"}, user="dso1")
    t.add("POST", "/dsos/dso1/flexibilityActivations/agg1", 201, body=activation(), user="dso1")
    t.add("GET", "/dsos/dso1/flexibilityActivations/agg1", 200, answer=[activation()], user="agg1")
    t.add("GET", "/aggregators/agg1/flexibilityActivations/acks/ackId", 200, answer={"ack_id": "k-1"}, user="agg1")
    t.add("POST", "/aggregators/agg1/flexibilityActivations/acks", 201, body=ack(), user="agg1")
    t.add("GET", "/aggregators/agg1/flexibilityActivations/acks", 200, answer=[ack()], user="dso1")
    t.add("DELETE", "/aggregators/agg1/flexibilityActivations/acks/k-1", 204, user="agg1")
    t.add("DELETE", "/dsos/dso1/flexibilityActivations/agg1/v-1", 204, user="dso1")
    t.add("DELETE", "/aggregators/agg1/flexibilityOffers/o-1", 204, user="agg1")
    t.add("DELETE", "/dsos/dso1/flexibilityRequests/r-1", 204, user="dso1")
    t.add("GET", "/dsos/dso1/flexibilityRequests", 200, answer=[], user="dso1")


def test_a_conformant_negotiation_gives_no_findings() -> None:
    traffic = logged_in()
    negotiation(traffic)
    assert traffic.judge() == []


def test_traffic_outside_the_api_is_ignored() -> None:
    traffic = Traffic()
    traffic.exchanges.append(HttpExchange(0, "GET", "http://platform.test/favicon.ico", status=500))
    assert traffic.judge() == []


# -- one exchange ---------------------------------------------------------------------------------


def test_st7_5xx_is_a_server_error() -> None:
    traffic = logged_in("dso1")
    traffic.add("GET", "/dsos/dso1/flexibilityRequests", 503, user="dso1")
    assert rules(traffic.judge()) == {("ST-7", "server")}


def test_unknown_path_is_cl3_and_a_2xx_is_st5() -> None:
    traffic = logged_in("dso1")
    traffic.add("GET", "/dsos/dso1/flexibilityThings", 404, user="dso1")
    traffic.add("PUT", "/dsos/dso1/flexibilityRequests", 200, user="dso1")
    traffic.add("OPTIONS", "/dsos/dso1/flexibilityRequests", 204, user="dso1")  # ST-5: OPTIONS may answer
    traffic.add("GET", "/openapi.yaml", 200)  # the API's description (D-59)
    found = traffic.judge()
    assert [(f.exchange, f.rule, f.side) for f in found] == [
        (1, "CL-3", "client"),
        (2, "CL-3", "client"),
        (2, "ST-5", "server"),
    ]


def test_status_not_in_section_5_names_the_operation() -> None:
    traffic = logged_in("agg1")
    traffic.add(
        "POST", "/aggregators/agg1/flexibilityActivations/nacks", 202, body=ack("n-1") | {"nack_id": "n-1"}, user="agg1"
    )
    traffic.add("GET", "/aggregators/agg1/flexibilityActivations/acks", 429, user="agg1")
    found = traffic.judge()
    assert rules(found) >= {("N2", "server")}
    assert rules(found, "warning") == {("K3", "server")}  # 429: rate limiting, not in section 5 (D-51)


def test_a_304_to_a_conditional_get_is_caching() -> None:
    traffic = logged_in("dso1")
    traffic.add("GET", "/dsos/dso1/flexibilityRequests", 304, user="dso1", headers={"if-none-match": '"v1"'})
    traffic.add("GET", "/dsos/dso1/flexibilityRequests", 304, user="dso1")
    assert [(f.exchange, f.rule) for f in traffic.judge() if f.severity == "error"] == [(2, "R3")]


def test_st10_bad_success_body() -> None:
    traffic = logged_in("dso1", complete=False)
    traffic.add("GET", "/dsos/dso1/flexibilityRequests/requestId", 200, answer="r-9", user="dso1")
    traffic.add("GET", "/dsos/dso1/flexibilityRequests", 200, answer=[request(flexible_power="40")], user="dso1")
    assert rules(traffic.judge()) == {("ST-10", "server")}


def test_cut_bodies_are_not_judged() -> None:
    traffic = logged_in("dso1")
    cut_post = b'{"request_id": "r-1", "timest'
    traffic.add("POST", "/dsos/dso1/flexibilityRequests", 413, raw=cut_post, answer={}, user="dso1", headers=JSON)
    traffic.add("GET", "/dsos/dso1/flexibilityRequests", 200, answer=[], user="dso1")
    for index in (1, 2):
        cut = traffic.exchanges[index]
        cut_body = cut.response_body[:1]
        traffic.exchanges[index] = HttpExchange(
            **{**{f: getattr(cut, f) for f in HttpExchange.__slots__}, "truncated": True, "response_body": cut_body}
        )
    assert traffic.judge() == []


def test_unknown_fields_in_answers_are_tolerated() -> None:
    traffic = logged_in("dso1")
    traffic.add(
        "GET", "/dsos/dso1/flexibilityRequests/requestId", 200, answer={"request_id": "r-9", "x": 1}, user="dso1"
    )
    assert traffic.judge() == []


def test_st8_error_body_is_a_warning_and_au3_an_error() -> None:
    traffic = logged_in("dso1")
    traffic.add("GET", "/dsos/dso1/flexibilityRequests", 403, answer={"message": "no"}, user="dso1")
    form = urlencode(
        {"grant_type": "password", "username": "x", "password": "y", "client_id": "c", "client_secret": "s"}
    )
    headers = {"content-type": "application/x-www-form-urlencoded"}
    traffic.add(
        "POST", "/authentication/token", 401, raw=form.encode(), answer={"error": "access_denied"}, headers=headers
    )
    traffic.add(
        "POST", "/authentication/token", 413, raw=b"x" * 99, answer={"error": "payload_too_large"}, headers=headers
    )
    found = traffic.judge()
    assert rules(found, "warning") == {("ST-8", "server")}
    assert [(f.exchange, f.rule) for f in found if f.side == "server" and f.severity == "error"] == [(2, "AU-3")]


def test_cl1_token_form_and_bearer_token_au4_when_accepted() -> None:
    traffic = Traffic()
    traffic.add("POST", "/authentication/token", 400, body={"username": "dso1"})
    traffic.add("GET", "/dsos/dso1/flexibilityRequests", 401)
    traffic.add("GET", "/dsos/dso1/flexibilityRequests", 200, answer=[], headers={"authorization": "Basic abc"})
    found = traffic.judge()
    assert [(f.exchange, f.rule, f.side) for f in found if f.rule != "CL-1"] == [(2, "AU-4", "server")]
    assert {f.exchange for f in found if f.rule == "CL-1"} == {0, 1, 2}


def test_cl4_bad_body_and_st1_when_accepted() -> None:
    traffic = logged_in("dso1")
    traffic.add("POST", "/dsos/dso1/flexibilityRequests", 400, body=request("r-1", unit="GW"), user="dso1")
    traffic.add("POST", "/dsos/dso1/flexibilityRequests", 201, body=request("r-2", duration=0), user="dso1")
    found = traffic.judge()
    assert [(f.exchange, f.rule, f.side) for f in found] == [
        (1, "CL-4", "client"),
        (2, "CL-4", "client"),
        (2, "ST-1", "server"),
    ]


def test_st3_non_json_content_type() -> None:
    traffic = logged_in("dso1")
    body = json.dumps(request()).encode()
    traffic.add(
        "POST", "/dsos/dso1/flexibilityRequests", 201, raw=body, headers={"content-type": "text/plain"}, user="dso1"
    )
    traffic.add(
        "POST",
        "/dsos/dso1/flexibilityRequests",
        415,
        raw=body.replace(b"r-1", b"r-2"),
        headers={"content-type": "text/plain"},
        user="dso1",
    )
    found = traffic.judge()
    assert rules(found) == {("CL-4", "client"), ("ST-3", "server")}
    assert [f.exchange for f in found if f.rule == "ST-3"] == [1]


def test_plausibility_pl1_pl3_pl4_pl6_only_where_declared() -> None:
    implausible = [
        ("/dsos/dso1/flexibilityRequests", request("r-1", deadline="2030-01-01T09:00:00Z"), "PL-1"),
        ("/aggregators/agg1/flexibilityOffers", offer("o-1", granularity=50), "PL-3"),
        ("/aggregators/agg1/flexibilityOffers", offer("o-2", request_id="r-2", entity_id="agg2"), "PL-4"),
    ]
    for platform, expected in ((PLATFORM, True), (Platform(participants=USERS), False)):
        traffic = logged_in("dso1", "agg1", platform=platform)
        for path, body, _ in implausible:
            traffic.add("POST", path, 201, body=body, user=path.split("/")[2])
        found = traffic.judge()
        assert {r for r, s in rules(found) if s == "client"} == {"CL-4"}  # the client always breaks CL-4
        server = {r for r, s in rules(found) if s == "server"}
        assert server == ({rule for *_, rule in implausible} if expected else set())


def test_pl6_past_deadline_with_real_clock() -> None:
    traffic = Traffic()
    traffic.clock = 1.8e9  # Unix time: PL-6 compares it with the deadline
    traffic.login("dso1")
    past = request(deadline="2020-01-01T00:00:00Z", timestamp="2020-01-01T00:00:00Z")
    traffic.add("POST", "/dsos/dso1/flexibilityRequests", 201, body=past, user="dso1")
    assert rules(traffic.judge()) == {("CL-4", "client"), ("PL-6", "server")}


def test_df1_date_filter() -> None:
    traffic = logged_in("dso1")
    traffic.add("POST", "/dsos/dso1/flexibilityRequests", 201, body=request(), user="dso1")
    traffic.add(
        "GET", "/dsos/dso1/flexibilityRequests?valid_at=2030-01-01T13%3A00%3A00Z", 200, answer=[request()], user="dso1"
    )
    traffic.add("GET", "/dsos/dso1/flexibilityRequests?valid_at=yesterday", 200, answer=[request()], user="dso1")
    traffic.add("GET", "/dsos/dso1/flexibilityRequests?valid_at=2030-01-01T13:00:00+01:00", 400, user="dso1")
    found = traffic.judge()
    assert [(f.exchange, f.rule, f.side) for f in found if f.severity == "error"] == [
        (2, "DF-1", "server"),
        (3, "DF-1", "server"),
        (4, "CL-3", "client"),
    ]


# -- who calls ---------------------------------------------------------------------------------------


def test_au5_and_cl3_for_a_caller_who_may_not_call() -> None:
    traffic = logged_in("dso1", "agg1")
    traffic.add("POST", "/dsos/dso1/flexibilityRequests", 201, body=request(), user="agg1")
    traffic.add("GET", "/aggregators/agg2/flexibilityActivations/acks/ackId", 403, user="agg1")
    traffic.add("GET", "/aggregators/agg2/flexibilityActivations/acks", 200, answer=[], user="dso1")  # any DSO may
    found = traffic.judge()
    assert [(f.exchange, f.rule, f.side) for f in found if f.rule in ("AU-5", "CL-3")] == [
        (2, "CL-3", "client"),
        (2, "AU-5", "server"),
        (3, "CL-3", "client"),
    ]


def test_caller_comes_from_the_record_when_tokens_are_redacted() -> None:
    traffic = Traffic()
    traffic.add(
        "POST", "/dsos/dso1/flexibilityRequests", 201, body=request(), headers={**JSON, "authorization": "Bearer ***"}
    )
    traffic.exchanges[0] = HttpExchange(
        **{**{f: getattr(traffic.exchanges[0], f) for f in HttpExchange.__slots__}, "caller": "agg1"}
    )
    assert rules(traffic.judge()) == {("CL-3", "client"), ("AU-5", "server")}


def test_refresh_chain_keeps_the_user() -> None:
    traffic = logged_in("agg1")
    form = urlencode(
        {"grant_type": "refresh_token", "refresh_token": "refresh-agg1", "client_id": "c", "client_secret": "s"}
    )
    answer = {"access_token": "token-new", "token_type": "bearer", "expires_in": 60, "refresh_token": "refresh-2"}
    headers = {"content-type": "application/x-www-form-urlencoded"}
    traffic.add("POST", "/authentication/refresh", 200, raw=form.encode(), answer=answer, headers=headers)
    traffic.add(
        "POST",
        "/dsos/dso1/flexibilityRequests",
        403,
        body=request(),
        headers={**JSON, "authorization": "Bearer token-new"},
    )
    traffic.add(
        "POST",
        "/authentication/refresh",
        200,
        raw=form.encode(),
        answer=answer | {"refresh_token": "r-3"},
        headers=headers,
    )
    found = traffic.judge()
    assert [(f.exchange, f.rule, f.side, f.severity) for f in found] == [
        (2, "CL-3", "client", "error"),  # agg1, known through the refreshed token
        (3, "CL-2", "client", "error"),  # the old refresh token presented again
        (3, "AU-6", "server", "warning"),  # and accepted
    ]


def test_expired_token_is_a_cl2_warning_and_au4_when_accepted() -> None:
    traffic = Traffic()
    traffic.login("dso1", expires_in=5)
    traffic.clock += 10
    traffic.add("GET", "/dsos/dso1/flexibilityRequests", 200, answer=[], user="dso1")
    found = traffic.judge()
    assert rules(found) == {("AU-4", "server")}
    assert rules(found, "warning") == {("CL-2", "client")}  # D-105: the client may rely on the 401


def test_expired_token_answered_401_then_refreshed_is_no_error() -> None:
    """CL-2's 401 branch: a client that refreshes only after the 401 conforms (D-105)."""
    traffic = Traffic(Platform(participants=USERS))  # no date-filter: reading R3 twice is no CL-7 warning
    traffic.login("dso1", expires_in=5)
    traffic.clock += 10
    traffic.add("GET", "/dsos/dso1/flexibilityRequests", 401, user="dso1")
    form = urlencode(
        {"grant_type": "refresh_token", "refresh_token": "refresh-dso1", "client_id": "c", "client_secret": "s"}
    )
    answer = {"access_token": "token-new", "token_type": "bearer", "expires_in": 60, "refresh_token": "refresh-2"}
    headers = {"content-type": "application/x-www-form-urlencoded"}
    traffic.add("POST", "/authentication/refresh", 200, raw=form.encode(), answer=answer, headers=headers)
    traffic.add("GET", "/dsos/dso1/flexibilityRequests", 200, answer=[], headers={"authorization": "Bearer token-new"})
    found = traffic.judge()
    assert rules(found) == set()
    assert [(f.exchange, f.rule, f.side) for f in found] == [(1, "CL-2", "client")]
    assert "may rely on the 401" in found[0].message


def test_cl2_repeating_after_401_without_a_new_token() -> None:
    traffic = logged_in("dso1")
    traffic.add("GET", "/dsos/dso1/flexibilityRequests", 401, user="dso1")
    traffic.add("GET", "/dsos/dso1/flexibilityRequests", 401, user="dso1")
    assert [(f.exchange, f.rule) for f in traffic.judge() if f.severity == "error"] == [(2, "CL-2")]


# -- objects ------------------------------------------------------------------------------------------


def test_id1_an_id_returned_twice_or_of_a_stored_object() -> None:
    traffic = logged_in("dso1")
    getter = "/dsos/dso1/flexibilityRequests/requestId"
    traffic.add("GET", getter, 200, answer={"request_id": "r-1"}, user="dso1")
    traffic.add("GET", getter, 200, answer={"request_id": "r-1"}, user="dso1")
    traffic.add("POST", "/dsos/dso1/flexibilityRequests", 201, body=request("own-1"), user="dso1")
    traffic.add("GET", getter, 200, answer={"request_id": "own-1"}, user="dso1")
    assert [(f.exchange, f.rule, f.side) for f in traffic.judge()] == [(2, "ID-1", "server"), (4, "ID-1", "server")]


def test_st2_duplicate_accepted_and_cl5_posting_it_again() -> None:
    traffic = logged_in("dso1")
    traffic.add("POST", "/dsos/dso1/flexibilityRequests", 201, body=request(), user="dso1")
    traffic.add("POST", "/dsos/dso1/flexibilityRequests", 201, body=request(), user="dso1")
    assert [(f.exchange, f.rule, f.side) for f in traffic.judge()] == [(2, "CL-5", "client"), (2, "ST-2", "server")]


def test_cl5_id_handed_to_another_user() -> None:
    traffic = logged_in("agg1", "agg2")
    traffic.add("GET", "/aggregators/agg1/flexibilityOffers/offerId", 200, answer={"offer_id": "o-1"}, user="agg1")
    traffic.add("POST", "/aggregators/agg2/flexibilityOffers", 201, body=offer("o-1", "agg2"), user="agg2")
    assert rules(traffic.judge()) == {("CL-5", "client")}


def test_cl5_not_blamed_for_an_id_the_server_handed_to_several_users() -> None:
    """A server breaking ID-1 (fault `stale-ids`) hands one id to two users: posting it is the server's fault (D-56)."""
    traffic = logged_in("agg1", "agg2")
    getter = "/aggregators/{}/flexibilityOffers/offerId"
    traffic.add("GET", getter.format("agg1"), 200, answer={"offer_id": "o-1"}, user="agg1")
    traffic.add("GET", getter.format("agg2"), 200, answer={"offer_id": "o-1"}, user="agg2")
    traffic.add("POST", "/aggregators/agg2/flexibilityOffers", 201, body=offer("o-1", "agg2", "r-0"), user="agg2")
    traffic.add("GET", getter.format("agg1"), 200, answer={"offer_id": "o-2"}, user="agg1")
    traffic.add("GET", getter.format("agg1"), 200, answer={"offer_id": "o-2"}, user="agg1")
    traffic.add("POST", "/aggregators/agg2/flexibilityOffers", 201, body=offer("o-2", "agg2", "r-1"), user="agg2")
    found = [(f.exchange, f.rule, f.side) for f in traffic.judge()]
    assert found == [(3, "ID-1", "server"), (6, "ID-1", "server"), (7, "CL-5", "client")]


@pytest.mark.parametrize(("complete", "severity"), [(True, "error"), (False, "warning")])
def test_st4_delete_of_an_unknown_id(complete: bool, severity: str) -> None:
    traffic = logged_in("agg1", complete=complete)
    traffic.add("POST", "/aggregators/agg1/flexibilityOffers", 201, body=offer(), user="agg1")
    traffic.add("DELETE", "/aggregators/agg1/flexibilityOffers/o-1", 204, user="agg1")
    traffic.add("DELETE", "/aggregators/agg1/flexibilityOffers/o-1", 204, user="agg1")
    traffic.add("DELETE", "/aggregators/agg1/flexibilityOffers/never", 204, user="agg1")
    found = [(f.exchange, f.rule, f.severity) for f in traffic.judge()]
    expected = [(3, "ST-4", severity)] + ([(4, "ST-4", "error")] if complete else [])
    assert found == expected


def test_st9_listed_unlike_posted_missing_and_deleted_still_listed() -> None:
    traffic = logged_in("dso1")
    path = "/dsos/dso1/flexibilityRequests"
    traffic.add("POST", path, 201, body=request("r-1", timestamp="2030-01-01T11:00:00+01:00"), user="dso1")
    traffic.add("POST", path, 201, body=request("r-2"), user="dso1")
    traffic.add("GET", path, 200, answer=[request("r-1"), request("r-2", flexible_power=40.0)], user="dso1")  # same
    traffic.add("GET", path, 200, answer=[request("r-1", flexible_power=41)], user="dso1")  # differs, r-2 missing
    traffic.add("DELETE", path + "/r-1", 204, user="dso1")
    traffic.add("GET", path, 200, answer=[request("r-1"), request("r-2")], user="dso1")
    found = [(f.exchange, f.rule, f.severity, f.message.split(" ")[0]) for f in traffic.judge() if f.rule == "ST-9"]
    assert found == [
        (4, "ST-9", "error", "'r-1'"),
        (4, "ST-9", "error", "FlexibilityRequest"),
        (6, "ST-9", "error", "'r-1'"),
    ]


def test_st9_missing_is_a_warning_without_complete() -> None:
    traffic = logged_in("dso1", complete=False)
    traffic.add("POST", "/dsos/dso1/flexibilityRequests", 201, body=request(), user="dso1")
    traffic.add("GET", "/dsos/dso1/flexibilityRequests", 200, answer=[], user="dso1")
    assert rules(traffic.judge(), "warning") == {("ST-9", "server")}


def test_st9_missing_objects_are_reported_in_id_order_whatever_the_hash_seed() -> None:
    traffic = logged_in("dso1")
    ids = [f"r-{n}" for n in (7, 3, 9, 1, 5, 8, 2)]
    for request_id in ids:
        traffic.add("POST", "/dsos/dso1/flexibilityRequests", 201, body=request(request_id), user="dso1")
    traffic.add("GET", "/dsos/dso1/flexibilityRequests", 200, answer=[], user="dso1")
    missing = [f.message.split("'")[1] for f in traffic.judge() if f.rule == "ST-9"]
    assert missing == sorted(ids)


def test_st12_object_of_another_path_or_never_posted() -> None:
    traffic = logged_in("dso1", "agg1", "agg2")
    traffic.add("POST", "/aggregators/agg2/flexibilityActivations/acks", 201, body=ack(activation_id=None), user="agg2")
    traffic.add(
        "GET", "/aggregators/agg1/flexibilityActivations/acks", 200, answer=[ack(activation_id=None)], user="dso1"
    )
    traffic.add(
        "GET",
        "/aggregators/agg1/flexibilityActivations/nacks",
        200,
        answer=[ack("n-1") | {"nack_id": "n-1"}],
        user="dso1",
    )
    found = [(f.exchange, f.rule, f.side) for f in traffic.judge() if f.rule == "ST-12"]
    assert found == [(4, "ST-12", "server"), (5, "ST-12", "server")]


def test_o3_missing_offers_only_for_the_caller_who_must_see_them() -> None:
    traffic = logged_in()
    traffic.add("POST", "/aggregators/agg1/flexibilityOffers", 201, body=offer(), user="agg1")
    traffic.add("GET", "/aggregators/flexibilityOffers", 200, answer=[], user="agg2")  # others' offers: optional
    traffic.add("GET", "/aggregators/flexibilityOffers", 200, answer=[], user="agg1")  # its own: missing
    traffic.add("GET", "/aggregators/flexibilityOffers", 200, answer=[], user="dso1")  # a DSO sees all: missing
    assert [(f.exchange, f.rule) for f in traffic.judge()] == [(5, "ST-9"), (6, "ST-9")]


def test_pl5_activation_of_a_foreign_or_bigger_offer() -> None:
    traffic = logged_in("dso1", "agg1")
    traffic.add("POST", "/aggregators/agg1/flexibilityOffers", 201, body=offer(), user="agg1")
    traffic.add(
        "POST", "/dsos/dso1/flexibilityActivations/agg1", 201, body=activation("v-1", flexible_power=50), user="dso1"
    )
    traffic.add("POST", "/dsos/dso1/flexibilityActivations/agg2", 201, body=activation("v-2"), user="dso1")
    found = [(f.exchange, f.rule, f.side) for f in traffic.judge()]
    assert found == [
        (3, "CL-4", "client"),
        (3, "PL-5", "server"),
        (4, "CL-3", "client"),  # V2 not under the offering aggregator's path
        (4, "CL-4", "client"),
        (4, "PL-5", "server"),
        (4, "CL-8", "client"),  # the second activation of the offer
    ]


def test_pl7_ack_of_an_activation_to_another_aggregator() -> None:
    traffic = logged_in("dso1", "agg1", "agg2")
    traffic.add("POST", "/aggregators/agg1/flexibilityOffers", 201, body=offer(), user="agg1")
    traffic.add("POST", "/dsos/dso1/flexibilityActivations/agg1", 201, body=activation(), user="dso1")
    traffic.add("POST", "/aggregators/agg2/flexibilityActivations/acks", 201, body=ack(), user="agg2")
    traffic.add(
        "POST", "/aggregators/agg2/flexibilityActivations/acks", 400, body=ack("k-2", activation_id=None), user="agg2"
    )
    found = [(f.exchange, f.rule, f.side) for f in traffic.judge()]
    assert found == [(5, "CL-4", "client"), (5, "PL-7", "server"), (6, "CL-4", "client")]


def test_cl8_negotiation_from_the_clients_side() -> None:
    traffic = logged_in("dso1", "agg1")
    traffic.add("POST", "/aggregators/agg1/flexibilityOffers", 201, body=offer("o-0", flexible_power=0), user="agg1")
    traffic.add("POST", "/aggregators/agg1/flexibilityOffers", 201, body=offer("o-1"), user="agg1")  # 2nd for r-1
    traffic.add(
        "POST",
        "/dsos/dso1/flexibilityActivations/agg1",
        201,
        body=activation("v-0", "o-0", flexible_power=1),
        user="dso1",
    )
    traffic.add("POST", "/dsos/dso1/flexibilityActivations/agg1", 201, body=activation("v-1"), user="dso1")
    traffic.add("POST", "/aggregators/agg1/flexibilityActivations/acks", 201, body=ack("k-1"), user="agg1")
    traffic.add(
        "POST", "/aggregators/agg1/flexibilityActivations/nacks", 201, body=ack("n-1") | {"nack_id": "n-1"}, user="agg1"
    )
    found = [(f.exchange, f.rule) for f in traffic.judge() if f.rule == "CL-8"]
    assert found == [(3, "CL-8"), (4, "CL-8"), (7, "CL-8")]


# -- client behaviour ---------------------------------------------------------------------------------


def test_cl6_repetition_rules() -> None:
    traffic = logged_in("dso1")
    path = "/dsos/dso1/flexibilityRequests"
    traffic.add("POST", path, 503, body=request("r-1"), user="dso1")
    traffic.add("POST", path, 201, body=request("r-1", flexible_power=41), user="dso1")  # too soon, another body
    traffic.add("POST", path, None, body=request("r-2"), user="dso1")
    traffic.clock += 1.5
    traffic.add("POST", path, 409, body=request("r-2"), user="dso1")  # a fine repetition: stored
    traffic.add("POST", path, 400, body=request("r-3", unit="GW"), user="dso1")
    traffic.add("POST", path, 400, body=request("r-3", unit="GW"), user="dso1")  # a 4xx repeated unchanged
    found = [(f.exchange, f.rule, f.side) for f in traffic.judge() if f.rule == "CL-6"]
    assert found == [(2, "CL-6", "client"), (2, "CL-6", "client"), (6, "CL-6", "client")]


def test_cl7_polling_too_often_is_a_warning() -> None:
    traffic = logged_in("agg1")
    for _ in range(12):
        traffic.add("GET", "/aggregators/agg1/flexibilityActivations/acks", 200, answer=[], user="agg1")
    found = traffic.judge()
    assert [(f.rule, f.severity) for f in found] == [("CL-7", "warning")]


# -- robustness ---------------------------------------------------------------------------------------

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=8),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.sampled_from(FIELDS), inner, max_size=4),
    max_leaves=8,
)


@settings(max_examples=300, deadline=None)
@given(
    st.lists(
        st.tuples(
            st.sampled_from(("GET", "POST", "DELETE", "HEAD", "PUT", "OPTIONS")),
            st.lists(st.sampled_from(SEGMENTS), max_size=5),
            st.sampled_from(("", "?valid_at=2030-01-01T00:00:00Z", "?valid_at=x&valid_at=", "?a=%ZZ")),
            st.one_of(
                st.none(), st.sampled_from((200, 201, 204, 304, 400, 401, 404, 409, 429, 503)), st.integers(-5, 999)
            ),
            json_values | st.binary(max_size=20),
            json_values | st.binary(max_size=20),
            st.sampled_from(("token-dso1", "token-agg1", "***", "", "x y")),
            st.floats(-1e12, 1e12),
            st.floats(0, 100),
        ),
        max_size=20,
    )
)
def test_any_traffic_is_judged_without_an_exception(calls: list[tuple[Any, ...]]) -> None:
    traffic = logged_in()
    for method, segments, query, status, sent, answer, token, started, took in calls:
        raw = sent if isinstance(sent, bytes) else json.dumps(sent).encode()
        body = answer if not isinstance(answer, bytes) else None
        headers = {**JSON, "authorization": f"Bearer {token}"}
        traffic.add(
            method,
            "/" + "/".join(segments) + query,
            status,
            raw=raw,
            answer=body,
            headers=headers,
            started=started,
            took=took,
        )
    for finding in traffic.judge():
        assert finding.severity in ("error", "warning") and finding.side in ("server", "client")


def test_a_list_answered_again_with_the_same_bytes_is_still_judged_against_the_objects() -> None:
    """An unchanged list body skips parsing and validation, never the rules across exchanges (ST-9)."""
    traffic = logged_in("dso1")
    traffic.add("POST", "/dsos/dso1/flexibilityRequests", 201, body=request(), user="dso1")
    for _ in range(2):
        traffic.add("GET", "/dsos/dso1/flexibilityRequests", 200, answer=[request()], user="dso1")
    traffic.add("DELETE", "/dsos/dso1/flexibilityRequests/r-1", 204, user="dso1")
    traffic.add("GET", "/dsos/dso1/flexibilityRequests", 200, answer=[request()], user="dso1")
    traffic.add("GET", "/dsos/dso1/flexibilityRequests", 200, answer=[request(flexible_power="40")], user="dso1")
    traffic.add("GET", "/dsos/dso1/flexibilityRequests", 200, answer=[request(flexible_power="40")], user="dso1")
    found = [(f.exchange, f.rule) for f in traffic.judge() if f.severity == "error"]
    assert found == [(5, "ST-9"), (6, "ST-10"), (6, "ST-9"), (7, "ST-10"), (7, "ST-9")]


def test_new_exchange_equals_the_dataclass() -> None:
    from interflex.monitor._model import new_exchange

    values = (3, "GET", "/x", {"a": "b"}, b"q", 200, {}, b"r", 1.0, 2.0, None, "dso1", True)
    made = new_exchange(*values)
    assert made == HttpExchange(*values) and made.caller == "dso1"
    with pytest.raises(AttributeError):
        made.url = "/y"  # type: ignore[misc]
    assert type(made) is HttpExchange


def test_a_url_routed_from_its_parent_is_routed_as_on_its_own() -> None:
    """DELETE URLs name a new id each time: `view_of` routes one from the last URL under the same parent
    (operation, parameters, path), which must give exactly what routing the whole URL gives (ST-5, ST-4)."""
    from interflex.monitor._view import _BY_PARENT, _where, _where_of_object

    for op in OPERATIONS:
        parent = BASE + re.sub(r"[{][a-z_]+[}]", "p-1", op.path.rsplit("/", 1)[0])
        for method in ("DELETE", "GET", "POST"):
            for last in ("r-1", "r-2", "requestId", "acks", "x%41", "a?b", "a#b/c", "", "-x", "r-3"):
                url = f"{parent}/{last}"
                assert _where_of_object(method, url) == _where(method, url), url
        if op.path.endswith("}"):  # the later ids were routed from the parent
            assert _BY_PARENT[(op.method, parent)][1] == op
