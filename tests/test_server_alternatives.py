"""Alternative modes (reference_server.ALTERNATIVES): each one changes exactly the behaviour it names.

Every probe runs against a clean server and against a server in the mode; the clean answer is
the reference server's strict option, the alternative answer is the other option PROFILE.md
allows. That the suite still passes every mode is `tests/test_alternatives.py`.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from interflex.profile import is_valid_id
from interflex.samples import sample
from reference_server import ALTERNATIVES, Alternative, ReferenceServer
from reference_server.demo import CLIENT_ID, CLIENT_SECRET, PASSWORDS, DemoClient, login

OFFERS, REQUESTS = "/aggregators/agg1/flexibilityOffers", "/dsos/dso1/flexibilityRequests"
ALL_OFFERS = "/aggregators/flexibilityOffers"
UUID4 = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}")
REFERENCES = re.compile(r"(PROFILE \d+|[ARKNOV]\d|AU-\d|ST-\d+|ID-1|PL-\d|DF-1|NG-1|P-\d\d|D-\d+)")


def _a1(c: DemoClient, username: str = "agg1", password: str | None = None, **client: str):
    form = {
        "grant_type": "password",
        "username": username,
        "password": PASSWORDS.get(username, "x") if password is None else password,
        "client_id": CLIENT_ID,
        "client_secret": CLIENT_SECRET,
        **client,
    }
    return c.session.post(c.base_url + "/authentication/token", data=form)


def _a2(c: DemoClient, refresh: str):
    form = {"grant_type": "refresh_token", "refresh_token": refresh, "client_id": CLIENT_ID, "client_secret": "client"}
    return c.session.post(c.base_url + "/authentication/refresh", data=form)


def _listed(c: DemoClient, path: str, as_: str = "dso1", **params: str) -> list:
    return c.call("GET", path, as_=as_, params=params).json()


def _posted(c: DemoClient) -> tuple[int, object]:
    obj = sample("FlexibilityRequest")
    answer = c.call("POST", REQUESTS, json=obj)
    return answer.status_code, "the object" if answer.text and answer.json() == obj else answer.text


def _deleted(c: DemoClient) -> tuple[int, str]:
    obj = sample("FlexibilityRequest")
    assert c.call("POST", REQUESTS, json=obj).status_code in (200, 201)
    answer = c.call("DELETE", f"{REQUESTS}/{obj['request_id']}")
    return answer.status_code, answer.text


def _rejections(c: DemoClient) -> tuple[int, int, int]:
    wrong_type = c.call("POST", REQUESTS, json=sample("FlexibilityRequest", flexible_power="5")).status_code
    implausible = c.call("POST", OFFERS, as_="agg1", json=sample("FlexibilityOffer", entity_id="agg2")).status_code
    return wrong_type, implausible, c.call("GET", ALL_OFFERS, params={"valid_at": "junk"}).status_code


def _echoed_unknown(c: DemoClient) -> bool:
    obj = sample("FlexibilityRequest", x_vendor_note="kept?")
    assert c.call("POST", REQUESTS, json=obj).status_code in (200, 201)
    listed = next(r for r in _listed(c, REQUESTS) if r["request_id"] == obj["request_id"])
    return "x_vendor_note" in listed


def _listed_timestamp(c: DemoClient) -> str:
    obj = sample("FlexibilityRequest", timestamp="2026-01-01T10:00:00.250+02:00")
    assert c.call("POST", REQUESTS, json=obj).status_code in (200, 201)
    return next(r for r in _listed(c, REQUESTS) if r["request_id"] == obj["request_id"])["timestamp"]


def _agg2_sees_agg1(c: DemoClient) -> bool:
    obj = sample("FlexibilityOffer")
    assert c.call("POST", OFFERS, as_="agg1", json=obj).status_code in (200, 201)
    return any(o["offer_id"] == obj["offer_id"] for o in _listed(c, ALL_OFFERS, as_="agg2"))


def _fresh_id(c: DemoClient) -> tuple[bool, bool]:
    value = c.call("GET", OFFERS + "/offerId", as_="agg1").json()["offer_id"]
    return is_valid_id(value), bool(UUID4.fullmatch(value))


def _old_access_after_refresh(c: DemoClient) -> int:
    tokens = login(c.session, c.base_url, "agg2")
    assert _a2(c, tokens["refresh_token"]).status_code == 200
    return c.call(
        "GET", ALL_OFFERS, as_=None, headers={"Authorization": f"Bearer {tokens['access_token']}"}
    ).status_code


def _refresh_twice(c: DemoClient) -> tuple[int, int]:
    refresh = login(c.session, c.base_url, "agg2")["refresh_token"]
    return _a2(c, refresh).status_code, _a2(c, refresh).status_code


def _content_types(c: DemoClient) -> tuple[str, str]:
    unknown_path = c.call("GET", "/unknown").headers["Content-Type"]
    return unknown_path.split(";")[0], _a1(c, password="wrong").headers["Content-Type"].split(";")[0]


def _order(c: DemoClient) -> bool:
    """True when two requests posted one after the other are listed oldest first."""
    ids = [sample("FlexibilityRequest") for _ in range(2)]
    for obj in ids:
        assert c.call("POST", REQUESTS, json=obj).status_code in (200, 201)
    wanted = [obj["request_id"] for obj in ids]
    return [r["request_id"] for r in _listed(c, REQUESTS) if r["request_id"] in wanted] == wanted


def _number_type(c: DemoClient) -> str:
    obj = sample("FlexibilityRequest", flexible_power=100)
    assert c.call("POST", REQUESTS, json=obj).status_code in (200, 201)
    listed = next(r for r in _listed(c, REQUESTS) if r["request_id"] == obj["request_id"])
    return type(listed["flexible_power"]).__name__


def _without_token(c: DemoClient) -> tuple[int, int]:
    bad = c.call("POST", REQUESTS, as_=None, json=sample("FlexibilityRequest", duration=-1)).status_code
    return bad, c.call("POST", REQUESTS, as_=None, json=sample("FlexibilityRequest")).status_code


def _should_headers(c: DemoClient) -> tuple[str | None, str | None, str | None]:
    no_store = _a1(c).headers.get("Cache-Control")
    challenge = c.call("GET", REQUESTS, as_=None).headers.get("WWW-Authenticate")
    return no_store, challenge, c.call("PUT", REQUESTS).headers.get("Allow")


def _oauth_error(c: DemoClient, **form: str) -> tuple[int, str]:
    answer = _a1(c, **form)
    return answer.status_code, answer.json()["error"]


def _extra_fields(c: DemoClient) -> tuple[bool, bool, bool]:
    obj = sample("FlexibilityRequest")
    assert c.call("POST", REQUESTS, json=obj).status_code in (200, 201)
    listed = next(r for r in _listed(c, REQUESTS) if r["request_id"] == obj["request_id"])
    fresh = c.call("GET", REQUESTS + "/requestId").json()
    return "x_received_at" in listed, "x_issued_at" in fresh, "scope" in _a1(c).json()


TEXT_PLAIN = {"Content-Type": "text/plain"}
PROBES: dict[str, tuple[Callable[[DemoClient], object], object, object]] = {
    "post-200": (_posted, (201, "the object"), (200, "{}")),
    "post-empty": (_posted, (201, "the object"), (201, "")),
    "delete-200": (_deleted, (204, ""), (200, "{}")),
    "unprocessable-422": (_rejections, (400, 400, 400), (422, 422, 422)),
    "content-type-400": (
        lambda c: (
            c.call("POST", REQUESTS, data=json.dumps(sample("FlexibilityRequest")), headers=TEXT_PLAIN).status_code
        ),
        415,
        400,
    ),
    "no-content-type-415": (
        lambda c: c.call("POST", REQUESTS, data=json.dumps(sample("FlexibilityRequest")).encode()).status_code,
        201,
        415,
    ),
    "drop-unknown-fields": (_echoed_unknown, True, False),
    "utc-times": (_listed_timestamp, "2026-01-01T10:00:00.250+02:00", "2026-01-01T08:00:00.250Z"),
    "offers-visible-to-all": (_agg2_sees_agg1, False, True),
    "literal-path-404": (
        lambda c: tuple(c.call(m, f"{REQUESTS}/requestId").status_code for m in ("DELETE", "PUT")),
        (405, 405),
        (404, 405),
    ),
    "options-204": (
        lambda c: (lambda r: (r.status_code, r.headers.get("Allow")))(c.call("OPTIONS", REQUESTS)),
        (405, "GET, HEAD, POST"),
        (204, "GET, HEAD, OPTIONS, POST"),
    ),
    "malformed-auth-400": (
        lambda c: c.call("GET", REQUESTS, as_=None, headers={"Authorization": "Token abc"}).status_code,
        401,
        400,
    ),
    "token-variants": (
        lambda c: (lambda b: (b["token_type"], type(b["expires_in"]).__name__, b["expires_in"]))(_a1(c).json()),
        ("bearer", "int", 3600),
        ("Bearer", "float", 3600),
    ),
    "uuid-ids": (_fresh_id, (True, False), (True, True)),
    "unknown-user-invalid-client": (
        lambda c: _oauth_error(c, username="nobody"),
        (400, "invalid_grant"),
        (401, "invalid_client"),
    ),
    "refresh-revokes-access": (_old_access_after_refresh, 200, 401),
    "refresh-reusable": (_refresh_twice, (200, 400), (200, 200)),
    "oauth-errors-401": (lambda c: _oauth_error(c, password="wrong"), (400, "invalid_grant"), (401, "invalid_grant")),
    "plain-errors": (_content_types, ("application/json", "application/json"), ("text/plain", "application/json")),
    "lists-newest-first": (_order, True, False),
    "numbers-as-floats": (_number_type, "int", "float"),
    "validate-before-auth": (_without_token, (401, 401), (400, 401)),
    "missing-client-invalid-request": (
        lambda c: _oauth_error(c, client_id="", client_secret=""),
        (401, "invalid_client"),
        (400, "invalid_request"),
    ),
    "extra-fields": (_extra_fields, (False, False, False), (True, True, True)),
    "json-charset": (
        lambda c: tuple(r.headers["Content-Type"] for r in (c.call("GET", REQUESTS), c.call("GET", "/unknown"))),
        ("application/json", "application/json"),
        ("application/json; charset=utf-8", "application/json; charset=utf-8"),
    ),
    "no-should-headers": (
        _should_headers,
        ("no-store", 'Bearer realm="interflex"', "GET, HEAD, POST"),
        (None, None, None),
    ),
}


def test_every_alternative_has_a_probe():
    assert set(PROBES) == set(ALTERNATIVES)


def test_alternatives_cite_the_profile():
    for alt in ALTERNATIVES.values():
        assert isinstance(alt, Alternative) and alt.description, alt
        assert alt.references and all(REFERENCES.fullmatch(ref) for ref in alt.references), alt


def test_unknown_or_conflicting_alternatives_are_value_errors():
    with pytest.raises(ValueError, match="options-204"):
        ReferenceServer(alternative="nope")
    with pytest.raises(ValueError, match="cannot be combined"):
        ReferenceServer(alternative=["post-200", "post-empty"])
    assert ReferenceServer(alternative=("uuid-ids", "post-200")).alternatives == {"uuid-ids", "post-200"}
    assert ReferenceServer(alternative="uuid-ids").alternatives == {"uuid-ids"}


@pytest.fixture(scope="module")
def clean() -> Iterator[DemoClient]:
    with ReferenceServer() as server:
        client = DemoClient(server.base_url)
        yield client
        client.close()


@pytest.mark.parametrize("name", sorted(PROBES))
def test_alternative_changes_its_behaviour(clean, name):
    probe, expected_clean, expected_alternative = PROBES[name]
    assert probe(clean) == expected_clean
    with ReferenceServer(alternative=name) as server:
        client = DemoClient(server.base_url)
        assert probe(client) == expected_alternative
        client.close()


def test_alternatives_combine():
    """Several modes at once each keep their behaviour."""
    with ReferenceServer(alternative=["post-200", "delete-200", "uuid-ids", "options-204"]) as server:
        client = DemoClient(server.base_url)
        assert _posted(client) == (200, "{}")
        assert _deleted(client) == (200, "{}")
        assert _fresh_id(client) == (True, True)
        assert client.call("OPTIONS", REQUESTS).status_code == 204
        client.close()


SERVER = (sys.executable, "-m", "reference_server")


def test_cli_lists_and_checks_alternatives():
    listed = subprocess.run([*SERVER, "--list-alternatives"], capture_output=True, text=True, check=True)
    assert [line.split()[0] for line in listed.stdout.splitlines()] == list(ALTERNATIVES)
    wrong = subprocess.run([*SERVER, "--alternative", "nope"], capture_output=True, text=True)
    assert wrong.returncode == 2 and "invalid choice" in wrong.stderr
    both = subprocess.run(
        [*SERVER, "--db", ":memory:", "--port", "0", "--alternative", "post-200", "--alternative", "post-empty"],
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert both.returncode == 2 and "cannot be combined" in both.stderr and "Traceback" not in both.stderr


def test_documented():
    doc = (Path(__file__).resolve().parent.parent / "docs" / "reference-server.md").read_text(encoding="utf-8")
    row = r"^\| `([a-z0-9-]+)` \| .* \| ([A-Z].*?) \| .* \| (?:yes|no)(?: \(IFX-[A-Z]+-\d{3}\))? \|$"
    rows = re.findall(row, doc, re.MULTILINE)
    assert [name for name, _ in rows] == list(ALTERNATIVES)
    assert [refs for _, refs in rows] == [", ".join(a.references) for a in ALTERNATIVES.values()]
