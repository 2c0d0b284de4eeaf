"""Reference server authentication: A1/A2 (AU-1...AU-3), bearer tokens (AU-4), AU-6, tokens and passwords."""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest
import requests
import yaml

from interflex.validation import is_valid, validate
from reference_server import ReferenceServer
from reference_server.accounts import (
    AccountsError,
    check_hash_format,
    hash_password,
    load_accounts,
    parse_accounts,
    verify_password,
)
from reference_server.demo import DemoClient
from reference_server.store import Store
from reference_server.tokens import Tokens

GOOD = {
    "grant_type": "password",
    "username": "agg1",
    "password": "agg1-demo",
    "client_id": "client",
    "client_secret": "client",
}


@pytest.fixture(scope="module")
def server() -> Iterator[ReferenceServer]:
    with ReferenceServer() as running:
        yield running


@pytest.fixture
def http() -> Iterator[requests.Session]:
    with requests.Session() as session:
        yield session


def token_call(http, server, form, path="/authentication/token", **kwargs):
    return http.post(server.base_url + path, data=form, timeout=10, **kwargs)


def refresh_form(refresh_token: str) -> dict[str, str]:
    return {
        "grant_type": "refresh_token",
        "refresh_token": refresh_token,
        "client_id": "client",
        "client_secret": "client",
    }


def test_password_grant_answers_token_response(http, server):
    response = token_call(http, server, GOOD)
    assert response.status_code == 200
    body = response.json()
    assert is_valid(validate(body, "TokenResponse")) and body["token_type"] == "bearer"  # AU-1
    assert body["expires_in"] == 3600
    assert response.headers["cache-control"] == "no-store"  # AU-6
    assert len(body["access_token"]) >= 22 and body["access_token"] != body["refresh_token"]  # >= 128 bits


def test_refresh_grant_rotates(http, server):
    first = token_call(http, server, GOOD).json()
    response = token_call(http, server, refresh_form(first["refresh_token"]), "/authentication/refresh")
    assert response.status_code == 200 and response.headers["cache-control"] == "no-store"
    second = response.json()
    assert is_valid(validate(second, "TokenResponse")) and second["access_token"] != first["access_token"]
    listed = http.get(
        server.base_url + "/aggregators/flexibilityOffers",
        headers={"Authorization": f"Bearer {second['access_token']}"},
    )
    assert listed.status_code == 200  # AU-2
    reused = token_call(http, server, refresh_form(first["refresh_token"]), "/authentication/refresh")
    assert reused.status_code == 400 and reused.json()["error"] == "invalid_grant"  # AU-6 rotation


@pytest.mark.parametrize(
    ("change", "status", "code"),
    [
        ({"password": "wrong"}, 400, "invalid_grant"),
        ({"username": "nobody"}, 400, "invalid_grant"),
        ({"client_secret": "wrong"}, 401, "invalid_client"),
        ({"client_id": "other"}, 401, "invalid_client"),
        ({"client_id": None}, 401, "invalid_client"),
        ({"client_secret": None}, 401, "invalid_client"),
        ({"username": None}, 400, "invalid_request"),
        ({"password": None}, 400, "invalid_request"),
        ({"password": ""}, 400, "invalid_request"),
        ({"grant_type": None}, 400, "invalid_request"),
        ({"grant_type": "client_credentials"}, 400, "unsupported_grant_type"),
        ({"grant_type": "refresh_token"}, 400, "unsupported_grant_type"),
    ],
)
def test_password_grant_errors(http, server, change, status, code):
    form = {k: v for k, v in {**GOOD, **change}.items() if v is not None}
    response = token_call(http, server, form)
    assert response.status_code == status
    assert response.json()["error"] == code  # AU-3
    assert response.headers["cache-control"] == "no-store"


@pytest.mark.parametrize(
    ("form", "code"),
    [
        (
            {
                "grant_type": "refresh_token",
                "refresh_token": "unknown",
                "client_id": "client",
                "client_secret": "client",
            },
            "invalid_grant",
        ),
        ({"grant_type": "refresh_token", "client_id": "client", "client_secret": "client"}, "invalid_request"),
        (
            {"grant_type": "password", "refresh_token": "x", "client_id": "client", "client_secret": "client"},
            "unsupported_grant_type",
        ),
        ({"grant_type": "refresh_token", "refresh_token": "x", "client_id": "client"}, "invalid_client"),
    ],
)
def test_refresh_grant_errors(http, server, form, code):
    response = token_call(http, server, form, "/authentication/refresh")
    assert response.status_code in (400, 401) and response.json()["error"] == code


@pytest.mark.parametrize(
    ("body", "headers"),
    [
        ('{"grant_type": "password"}', {"Content-Type": "application/json"}),
        (
            "grant_type=password&grant_type=password&username=agg1&password=agg1-demo&client_id=client&client_secret=client",
            {"Content-Type": "application/x-www-form-urlencoded"},
        ),
        (b"grant_type=%ff", {"Content-Type": "application/x-www-form-urlencoded"}),
    ],
)
def test_malformed_token_requests_are_invalid_request(http, server, body, headers):
    response = http.post(server.base_url + "/authentication/token", data=body, headers=headers)
    assert response.status_code == 400 and response.json()["error"] == "invalid_request"


def test_form_with_charset_parameter_is_accepted(http, server):
    headers = {"Content-Type": "application/x-www-form-urlencoded; charset=utf-8"}
    response = http.post(server.base_url + "/authentication/token", data=GOOD, headers=headers)
    assert response.status_code == 200


@pytest.mark.parametrize(
    "authorization",
    [
        None,
        "Bearer unknown-token",
        "Bearer",
        "Basic YWdnMTphZ2cxLWRlbW8=",
        "Bearer a b",
        "bearer",
    ],
)
def test_resource_endpoints_need_a_valid_bearer_token(http, server, authorization):
    headers = {"Authorization": authorization} if authorization is not None else {}
    response = http.get(server.base_url + "/dsos/dso1/flexibilityRequests", headers=headers)
    assert response.status_code == 401  # AU-4
    assert response.headers["www-authenticate"].startswith("Bearer")  # AU-6
    assert is_valid(validate(response.json(), "Error"))


def test_bearer_scheme_is_case_insensitive(http, server):
    token = token_call(http, server, GOOD).json()["access_token"]
    headers = {"Authorization": f"bearer {token}"}
    response = http.get(server.base_url + "/aggregators/flexibilityOffers", headers=headers)
    assert response.status_code == 200


def test_tokens_expire_after_the_lifetime():
    with ReferenceServer(token_lifetime=1) as server:
        client = DemoClient(server.base_url)
        body = {"Authorization": f"Bearer {client.token('agg1')}"}
        refresh = token_call(client.session, server, GOOD).json()
        assert refresh["expires_in"] == 1
        assert client.session.get(server.base_url + "/aggregators/flexibilityOffers", headers=body).status_code == 200
        time.sleep(1.2)
        assert client.session.get(server.base_url + "/aggregators/flexibilityOffers", headers=body).status_code == 401
        again = token_call(client.session, server, refresh_form(refresh["refresh_token"]), "/authentication/refresh")
        assert again.status_code == 400 and again.json()["error"] == "invalid_grant"
        client.close()


def test_tokens_survive_a_restart_on_the_same_file(tmp_path):
    db = str(tmp_path / "tokens.db")
    with ReferenceServer(db=db) as server, requests.Session() as http:
        issued = token_call(http, server, GOOD).json()
    with ReferenceServer(db=db) as server, requests.Session() as http:
        response = http.get(
            server.base_url + "/aggregators/flexibilityOffers",
            headers={"Authorization": f"Bearer {issued['access_token']}"},
        )
        assert response.status_code == 200
        assert token_call(http, server, refresh_form(issued["refresh_token"]), "/authentication/refresh").ok


def test_token_service_with_a_fake_clock():
    now = [1000.0]
    tokens = Tokens(Store(":memory:"), lifetime=60, clock=lambda: now[0])
    access, refresh = tokens.issue("agg1")
    assert tokens.user(access) == "agg1" and tokens.user(refresh) is None
    now[0] += 60
    assert tokens.user(access) == "agg1"
    now[0] += 1
    assert tokens.user(access) is None
    assert tokens.redeem(refresh) is None
    access, refresh = tokens.issue("agg1")
    assert tokens.redeem(refresh) == "agg1" and tokens.redeem(refresh) is None


# ---------------------------------------------------------------- passwords and the accounts file


def test_password_hashes_are_salted_and_verified():
    first, second = hash_password("s3cret", n=1024), hash_password("s3cret", n=1024)
    assert first != second and first.startswith("scrypt:1024:8:1$")
    assert verify_password("s3cret", first) and not verify_password("s3cret!", first)
    assert not verify_password("s3cret", "plain-text") and not verify_password("x", "scrypt:1:2$a$b")


def test_pbkdf2_hashes_are_accepted():
    import base64
    import hashlib

    salt = b"0123456789abcdef"
    digest = hashlib.pbkdf2_hmac("sha256", b"pw", salt, 1000)
    stored = f"pbkdf2_sha256:1000${base64.b64encode(salt).decode()}${base64.b64encode(digest).decode()}"
    assert verify_password("pw", stored) and not verify_password("pw2", stored)


@pytest.mark.parametrize(
    "stored",
    [
        "pbkdf2_sha256:100000000000$c2FsdA==$aGFzaA==",  # a login would take hours
        "pbkdf2_sha256:0$c2FsdA==$aGFzaA==",
        "pbkdf2_sha256:1000$$aGFzaA==",  # empty salt
        "pbkdf2_sha256:1000$c2FsdA==$",  # empty hash
        "scrypt:3:8:1$c2FsdA==$aGFzaA==",  # N is not a power of two
        "scrypt:1048576:8:1$c2FsdA==$aGFzaA==",  # needs 1 GiB: over the memory limit
    ],
)
def test_unusable_hashes_are_refused_when_loading(stored):
    assert not check_hash_format(stored)
    data = {"clients": [{"client_id": "c", "secret_hash": stored}], "users": []}
    with pytest.raises(AccountsError, match="secret_hash is not a scrypt/pbkdf2 hash"):
        parse_accounts(data)


def test_duplicate_client_ids_are_refused():
    entry = {"client_id": "c", "secret_hash": hash_password("x", n=1024)}
    user = {"username": "u", "password_hash": hash_password("y", n=1024), "role": "dso", "entity_id": "dso1"}
    with pytest.raises(AccountsError, match="duplicate client_id 'c'"):
        parse_accounts({"clients": [entry, dict(entry)], "users": [user]})


def test_bundled_accounts_match_the_contract():
    accounts = load_accounts()
    assert verify_password("client", accounts.clients["client"])
    roles = {(u.username, u.role, u.entity_id) for u in accounts.users.values()}
    assert roles == {("dso1", "dso", "dso1"), ("agg1", "aggregator", "agg1"), ("agg2", "aggregator", "agg2")}
    for name in ("dso1", "agg1", "agg2"):
        assert verify_password(f"{name}-demo", accounts.users[name].password_hash)


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ([], "top-level lists"),
        ({"clients": [], "users": []}, "at least one client"),
        ({"clients": [{"client_id": "c"}], "users": []}, "secret_hash"),
        ({"clients": [{"client_id": "c", "secret_hash": "plain"}], "users": []}, "not a scrypt/pbkdf2 hash"),
        (
            {"clients": [], "users": [{"username": "u", "password_hash": "x", "role": "admin", "entity_id": "e"}]},
            "role",
        ),
        (
            {"clients": [], "users": [{"username": "u", "password_hash": "x", "role": "dso", "entity_id": "a b"}]},
            "id pattern",
        ),
    ],
)
def test_bad_accounts_are_one_line_errors(data, message):
    with pytest.raises(AccountsError, match=message) as info:
        parse_accounts(data)
    assert "\n" not in str(info.value)


def test_accounts_file_errors(tmp_path):
    with pytest.raises(AccountsError, match="cannot read"):
        load_accounts(tmp_path / "missing.yaml")
    bad = tmp_path / "bad.yaml"
    bad.write_text("clients: [\n", encoding="utf-8")
    with pytest.raises(AccountsError, match="not valid YAML"):
        load_accounts(bad)


def test_custom_accounts_file_is_used(tmp_path):
    path = tmp_path / "accounts.yaml"
    path.write_text(
        yaml.safe_dump(
            {
                "clients": [{"client_id": "tool", "secret_hash": hash_password("tool-secret", n=1024)}],
                "users": [
                    {
                        "username": "ops",
                        "password_hash": hash_password("pw", n=1024),
                        "role": "dso",
                        "entity_id": "dsoX",
                    }
                ],
            }
        ),
        encoding="utf-8",
    )
    form = {
        "grant_type": "password",
        "username": "ops",
        "password": "pw",
        "client_id": "tool",
        "client_secret": "tool-secret",
    }
    with ReferenceServer(accounts=path) as server, requests.Session() as http:
        token = token_call(http, server, form).json()["access_token"]
        auth = {"Authorization": f"Bearer {token}"}
        assert http.get(server.base_url + "/dsos/dsoX/flexibilityRequests/requestId", headers=auth).status_code == 200
        assert http.get(server.base_url + "/dsos/dso1/flexibilityRequests/requestId", headers=auth).status_code == 403
        assert token_call(http, server, GOOD).status_code == 401  # the demo client is not in this file
