"""`InterflexClient` and the exception tree, against the in-process reference server."""

from __future__ import annotations

import http.server
import inspect
import json
import re
import socket
import ssl
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
import requests

import interflex.client
from interflex.client import (
    AuthenticationError,
    BadRequestError,
    ClientError,
    ConflictError,
    ConnectError,
    ForbiddenError,
    HTTPStatusError,
    InterflexClient,
    InterflexError,
    InvalidResponseError,
    NotFoundError,
    RequestTimeout,
    ServerError,
    TransportError,
    _exceptions,
    flexibility_requests,
)
from interflex.client._exceptions import status_error_class
from interflex.profile import OPERATIONS
from reference_server import ReferenceServer

# A self-signed test-only certificate for 127.0.0.1 (valid 2000-2100) and its key.
TEST_CERT = """\
-----BEGIN CERTIFICATE-----
MIIBXTCCAQKgAwIBAgIBATAKBggqhkjOPQQDAjAUMRIwEAYDVQQDDAkxMjcuMC4w
LjEwIBcNMDAwMTAxMDAwMDAwWhgPMjEwMDAxMDEwMDAwMDBaMBQxEjAQBgNVBAMM
CTEyNy4wLjAuMTBZMBMGByqGSM49AgEGCCqGSM49AwEHA0IABKwzgNLILiXqzqfj
Q4KsimCoTBl+sBTFHx7xQRckfW5E5IN4CJiFNHiMTg7Z76H3zhPOlzYfm/JmsQU5
e4PdAWKjQzBBMA8GA1UdEQQIMAaHBH8AAAEwDwYDVR0TAQH/BAUwAwEB/zAdBgNV
HQ4EFgQUd8O+EEo7tbeF2Zau0CJk3fZQd5gwCgYIKoZIzj0EAwIDSQAwRgIhAJI8
Rue5VL6HhsuUj088d4EW50F0J+VZ904MiruojLubAiEAxF9YH3WmGaKT1A5HS7JL
pILFsdg/uUOGdymsSVQdU2A=
-----END CERTIFICATE-----
"""
TEST_KEY = """\
-----BEGIN PRIVATE KEY-----
MIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQgDOE8orFUJu/m28mX
iqe7v0zwcO8ukkhS5/NiynYSZI+hRANCAASsM4DSyC4l6s6n40OCrIpgqEwZfrAU
xR8e8UEXJH1uROSDeAiYhTR4jE4O2e+h984Tzpc2H5vyZrEFOXuD3QFi
-----END PRIVATE KEY-----
"""


class TokenHandler(http.server.BaseHTTPRequestHandler):
    """Answers every POST with a TokenResponse (a stand-in for A1 behind TLS)."""

    def do_POST(self) -> None:
        self.rfile.read(int(self.headers.get("Content-Length", 0)))
        body = json.dumps({"access_token": "a", "token_type": "bearer", "expires_in": 60, "refresh_token": "r"})
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body.encode())

    def log_message(self, format: str, *args: object) -> None:
        pass


@pytest.fixture
def https_url(tmp_path: Path) -> Iterator[str]:
    (tmp_path / "cert.pem").write_text(TEST_CERT)
    (tmp_path / "key.pem").write_text(TEST_KEY)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(tmp_path / "cert.pem", tmp_path / "key.pem")
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), TokenHandler)
    server.socket = context.wrap_socket(server.socket, server_side=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"https://127.0.0.1:{server.server_address[1]}/interflex/api/v1"
    server.shutdown()
    server.server_close()
    thread.join()


class RecordingSession(requests.Session):
    """A session that remembers (op path, Authorization) of every request it sends."""

    def __init__(self) -> None:
        super().__init__()
        self.sent: list[tuple[str, str, str | None]] = []

    def request(self, method: str, url: str, **kwargs: Any) -> requests.Response:  # type: ignore[override]
        self.sent.append((method, url.split("/api/v1", 1)[1], (kwargs.get("headers") or {}).get("Authorization")))
        return super().request(method, url, **kwargs)

    def paths(self) -> list[str]:
        return [path for _, path, _ in self.sent]


class RevokingSession(RecordingSession):
    """Replaces the bearer token of the first `times` resource requests by a revoked one (→ 401)."""

    def __init__(self, times: int) -> None:
        super().__init__()
        self.times = times

    def request(self, method: str, url: str, **kwargs: Any) -> requests.Response:  # type: ignore[override]
        headers = kwargs.get("headers") or {}
        if self.times and "Authorization" in headers:
            self.times -= 1
            kwargs["headers"] = {**headers, "Authorization": "Bearer revoked-token"}
        return super().request(method, url, **kwargs)


def make_client(base_url: str, user: str, **kwargs: Any) -> InterflexClient:
    return InterflexClient(
        base_url, client_id="client", client_secret="client", username=user, password=f"{user}-demo", **kwargs
    )


@pytest.fixture(scope="module")
def base_url() -> Iterator[str]:
    with ReferenceServer() as server:
        yield server.base_url


@pytest.fixture(scope="module")
def clients(base_url: str) -> Iterator[dict[str, InterflexClient]]:
    made = {user: make_client(base_url, user) for user in ("dso1", "agg1", "agg2")}
    yield made
    for client in made.values():
        client.close()


@pytest.fixture
def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _times() -> tuple[str, str, str]:
    now = datetime.now(UTC).replace(microsecond=0)
    return tuple(t.isoformat() for t in (now, now + timedelta(minutes=10), now + timedelta(minutes=30)))


def _post_offer(client: InterflexClient, agg: str, power: float = 20.0) -> dict[str, Any]:
    timestamp, deadline, activation_time = _times()
    offer = {
        "offer_id": client.get_offer_id(agg),
        "entity_id": agg,
        "timestamp": timestamp,
        "deadline": deadline,
        "region_id": "region-1",
        "flexible_power": power,
        "granularity": 5.0,
        "duration": 900.0,
        "unit": "kW",
        "activation_time": activation_time,
        "flex_price": 30.0,
        "flex_type": "load-reduction",
        "currency": "EUR",
    }
    client.post_offer(agg, offer)
    return offer


def _post_activation(clients: dict[str, InterflexClient], agg: str) -> dict[str, Any]:
    offer = _post_offer(clients[agg], agg)
    activation = {
        "activation_id": clients["dso1"].get_activation_id("dso1"),
        "timestamp": offer["timestamp"],
        "offer_id": offer["offer_id"],
        "flexible_power": 10.0,
        "granularity": 5.0,
        "duration": 900.0,
        "unit": "kW",
        "activation_time": offer["activation_time"],
        "flex_price": 30.0,
        "flex_type": "load-reduction",
        "currency": "EUR",
    }
    clients["dso1"].post_activation("dso1", agg, activation)
    return activation


def _answer(activation: dict[str, Any], id_field: str, answer_id: str) -> dict[str, Any]:
    keep = (
        "timestamp",
        "offer_id",
        "flexible_power",
        "granularity",
        "duration",
        "unit",
        "activation_time",
        "activation_id",
    )
    return {id_field: answer_id, **{key: activation[key] for key in keep}}


def _listed(objects: list[dict[str, Any]], field: str, value: str) -> list[dict[str, Any]]:
    return [item for item in objects if item.get(field) == value]


# -- public surface ------------------------------------------------------------------------------


def test_all_is_complete() -> None:
    exported = set(interflex.client.__all__)
    public = {name for name in dir(interflex.client) if not name.startswith("_")}
    modules = {
        "authentication",
        "flexibility_requests",
        "flexibility_offers",
        "flexibility_activations",
        "flexibility_activation_acks",
        "flexibility_activation_nacks",
    }
    assert exported == public - modules
    exceptions = {
        name
        for name, obj in vars(_exceptions).items()
        if inspect.isclass(obj) and issubclass(obj, Exception) and obj.__module__ == _exceptions.__name__
    }
    assert exceptions <= exported
    for name in exceptions:  # the documented tree names every exception
        assert re.search(rf"\b{name}\b", interflex.client.__doc__), name
        assert re.search(rf"\b{name}\b", _exceptions.__doc__), name


def test_exception_tree() -> None:
    assert issubclass(ConnectError, TransportError) and issubclass(RequestTimeout, TransportError)
    assert issubclass(TransportError, InterflexError) and issubclass(InvalidResponseError, InterflexError)
    for cls in (BadRequestError, AuthenticationError, ForbiddenError, NotFoundError, ConflictError):
        assert issubclass(cls, ClientError)
    assert issubclass(ClientError, HTTPStatusError) and issubclass(ServerError, HTTPStatusError)
    assert issubclass(HTTPStatusError, InterflexError)
    assert issubclass(interflex.client.InvalidObjectError, ValueError)


@pytest.mark.parametrize(
    ("status", "expected"),
    [
        (400, BadRequestError),
        (422, BadRequestError),
        (401, AuthenticationError),
        (403, ForbiddenError),
        (404, NotFoundError),
        (409, ConflictError),
        (405, ClientError),
        (415, ClientError),
        (500, ServerError),
        (503, ServerError),
        (302, HTTPStatusError),
    ],
)
def test_status_classes(status: int, expected: type) -> None:
    assert status_error_class(status) is expected


def test_constructor_signature() -> None:
    parameters = inspect.signature(InterflexClient).parameters.values()
    assert [(p.name, p.kind.name, p.default) for p in parameters] == [
        ("base_url", "POSITIONAL_OR_KEYWORD", inspect.Parameter.empty),
        *(
            (name, "KEYWORD_ONLY", inspect.Parameter.empty)
            for name in ("client_id", "client_secret", "username", "password")
        ),
        ("timeout", "KEYWORD_ONLY", 10),
        ("verify", "KEYWORD_ONLY", True),
        ("session", "KEYWORD_ONLY", None),
    ]


def test_one_method_per_operation() -> None:
    """Every operation A1...N4 has exactly one public method whose docstring starts with its id."""
    by_op: dict[str, list[str]] = {}
    for name, method in inspect.getmembers(InterflexClient, inspect.isfunction):
        found = re.match(r"([ARONVK]\d): ", inspect.getdoc(method) or "")
        if not name.startswith("_") and found:
            by_op.setdefault(found.group(1), []).append(name)
    assert {op: len(names) for op, names in by_op.items()} == {op.id: 1 for op in OPERATIONS}


def test_repr_and_errors_hide_secrets(base_url: str) -> None:
    client = make_client(base_url, "dso1")
    token = client.authenticate()
    shown = repr(client) + str(client.__dict__.get("_tokens"))
    assert "dso1-demo" not in shown and token["access_token"] not in shown and token["refresh_token"] not in shown
    client.close()


# -- authentication ------------------------------------------------------------------------------


def test_authenticate_and_refresh(base_url: str) -> None:
    session = RecordingSession()
    with make_client(base_url, "agg1", session=session) as client:
        first = client.authenticate()
        assert first["token_type"].lower() == "bearer" and first["expires_in"] > 0
        second = client.refresh()
        assert second["access_token"] != first["access_token"]
        client.get_offer_id("agg1")
    assert session.paths()[:3] == [
        "/authentication/token",
        "/authentication/refresh",
        "/aggregators/agg1/flexibilityOffers/offerId",
    ]
    assert session.sent[2][2] == f"Bearer {second['access_token']}"


def test_wrong_password(base_url: str) -> None:
    client = InterflexClient(
        base_url, client_id="client", client_secret="client", username="dso1", password="wrong-password-123"
    )
    with pytest.raises(BadRequestError) as caught:  # AU-3: 400 invalid_grant
        client.get_request_id("dso1")
    error = caught.value
    assert (error.status, error.error, error.operation) == (400, "invalid_grant", "A1")
    assert error.error_description and error.response.status_code == 400
    assert "wrong-password-123" not in str(error) + repr(error)


def test_first_call_logs_in_and_keeps_the_connection(base_url: str) -> None:
    session = RecordingSession()
    with make_client(base_url, "dso1", session=session) as client:
        ids = {client.get_request_id("dso1") for _ in range(3)}
    assert len(ids) == 3  # ID-1
    assert session.paths().count("/authentication/token") == 1
    pools = session.get_adapter(base_url).poolmanager.pools
    counts = [(pools[key].num_requests, pools[key].num_connections) for key in pools.keys()]  # noqa: SIM118 (no __iter__)
    assert counts == [(4, 1)]  # keep-alive: one connection for all four calls


def test_token_without_a_numeric_lifetime() -> None:
    """A server answering `expires_in: "3600"` (a string): no early refresh, the calls still work."""
    with ReferenceServer(fault="expires-in-string") as server:
        session = RecordingSession()
        client = make_client(server.base_url, "agg1", session=session)
        assert client.get_offer_id("agg1") != client.get_offer_id("agg1")
    assert session.paths().count("/authentication/token") == 1


def test_refresh_before_expiry() -> None:
    """A token about to expire is refreshed (A2) before the call instead of failing with 401.

    The client renews min(30 s, lifetime / 2) ahead: 1.5 s before a 3 s token's end. (The reference
    server gives refresh tokens the same lifetime, so the refresh must come before the end.)
    """
    with ReferenceServer(token_lifetime=3) as server:
        session = RecordingSession()
        client = make_client(server.base_url, "dso1", session=session)
        client.get_request_id("dso1")
        time.sleep(1.6)
        client.get_request_id("dso1")
    assert session.paths() == [
        "/authentication/token",
        "/dsos/dso1/flexibilityRequests/requestId",
        "/authentication/refresh",
        "/dsos/dso1/flexibilityRequests/requestId",
    ]


def test_login_again_when_refresh_is_rejected() -> None:
    with ReferenceServer(token_lifetime=2, fault="refresh-broken") as server:
        session = RecordingSession()
        client = make_client(server.base_url, "dso1", session=session)
        client.get_request_id("dso1")
        with pytest.raises(BadRequestError) as caught:  # the explicit A2 shows the rejection
            client.refresh()
        assert (caught.value.error, caught.value.operation) == ("invalid_grant", "A2")
        time.sleep(1.1)
        assert client.get_request_id("dso1")
    assert session.paths()[2:] == [
        "/authentication/refresh",  # the explicit refresh()
        "/authentication/refresh",  # the early renewal, rejected ...
        "/authentication/token",  # ... so the client logs in again
        "/dsos/dso1/flexibilityRequests/requestId",
    ]


def test_refresh_once_on_401(base_url: str) -> None:
    session = RevokingSession(times=1)
    client = make_client(base_url, "dso1", session=session)
    assert client.get_request_id("dso1")
    assert session.paths() == [
        "/authentication/token",
        "/dsos/dso1/flexibilityRequests/requestId",
        "/authentication/refresh",
        "/dsos/dso1/flexibilityRequests/requestId",
    ]
    assert session.sent[1][2] == "Bearer revoked-token" and session.sent[3][2] != "Bearer revoked-token"


def test_second_401_is_raised(base_url: str) -> None:
    session = RevokingSession(times=2)
    client = make_client(base_url, "dso1", session=session)
    with pytest.raises(AuthenticationError) as caught:
        client.get_request_id("dso1")
    assert (caught.value.status, caught.value.error, caught.value.operation) == (401, "invalid_token", "R1")
    assert session.paths().count("/dsos/dso1/flexibilityRequests/requestId") == 2  # retried exactly once


# -- every resource operation ----------------------------------------------------------------------


def test_requests(clients: dict[str, InterflexClient]) -> None:
    dso = clients["dso1"]
    timestamp, deadline, activation_time = _times()
    request = {
        "request_id": dso.get_request_id("dso1"),
        "timestamp": timestamp,
        "deadline": deadline,
        "region_id": "region-1",
        "flexible_power": 7.5,
        "duration": 600.0,
        "unit": "MW",
        "activation_time": activation_time,
    }
    assert isinstance(dso.post_request("dso1", request), dict)
    assert _listed(clients["agg2"].get_all_requests("dso1"), "request_id", request["request_id"]) == [request]
    later = datetime.now(UTC) + timedelta(minutes=20)  # DF-1: the request's deadline is before it
    assert _listed(dso.get_all_requests("dso1", valid_at=later), "request_id", request["request_id"]) == []
    assert _listed(dso.get_all_requests("dso1", valid_at=timestamp), "request_id", request["request_id"]) == [request]
    with pytest.raises(ValueError, match="timezone"):
        dso.get_all_requests("dso1", valid_at=datetime(2030, 1, 1))
    with pytest.raises(BadRequestError) as caught:  # DF-1: a malformed valid_at
        dso.get_all_requests("dso1", valid_at="yesterday")
    assert caught.value.operation == "R3"
    with pytest.raises(ConflictError):
        dso.post_request("dso1", request)
    assert dso.delete_request("dso1", request["request_id"]) == {}
    assert _listed(dso.get_all_requests("dso1"), "request_id", request["request_id"]) == []
    with pytest.raises(NotFoundError) as caught:
        dso.delete_request("dso1", request["request_id"])
    assert (caught.value.status, caught.value.operation) == (404, "R4")


def test_offers(clients: dict[str, InterflexClient]) -> None:
    agg = clients["agg1"]
    offer = _post_offer(agg, "agg1")
    assert _listed(clients["dso1"].get_all_offers(), "offer_id", offer["offer_id"]) == [offer]
    assert _listed(agg.get_all_offers(valid_at=datetime.now(UTC)), "offer_id", offer["offer_id"]) == [offer]
    with pytest.raises(BadRequestError):  # DF-1
        agg.get_all_offers(valid_at="2030-01-01 00:00")
    with pytest.raises(ForbiddenError):  # O1: only the aggregator {agg}
        clients["dso1"].get_offer_id("agg1")
    with pytest.raises(ForbiddenError) as caught:  # AU-5
        clients["agg2"].delete_offer("agg1", offer["offer_id"])
    assert (caught.value.status, caught.value.operation) == (403, "O4")
    with pytest.raises(BadRequestError) as caught:  # PL-4: entity_id is not the path's aggregator
        agg.post_offer("agg1", {**offer, "offer_id": agg.get_offer_id("agg1"), "entity_id": "agg2"})
    assert caught.value.status in (400, 422)
    assert agg.delete_offer("agg1", offer["offer_id"]) == {}
    assert _listed(clients["dso1"].get_all_offers(), "offer_id", offer["offer_id"]) == []


def test_activations(clients: dict[str, InterflexClient]) -> None:
    dso = clients["dso1"]
    activation = _post_activation(clients, "agg2")
    assert _listed(
        clients["agg2"].get_all_activations("dso1", "agg2"), "activation_id", activation["activation_id"]
    ) == [activation]
    with pytest.raises(ForbiddenError):  # V1: only the DSO {dso}
        clients["agg2"].get_activation_id("dso1")
    with pytest.raises(ForbiddenError):  # V3: only DSO {dso} or aggregator {agg}
        clients["agg1"].get_all_activations("dso1", "agg2")
    with pytest.raises(ConflictError):
        dso.post_activation("dso1", "agg2", activation)
    assert dso.delete_activation("dso1", "agg2", activation["activation_id"]) == {}
    assert _listed(dso.get_all_activations("dso1", "agg2"), "activation_id", activation["activation_id"]) == []
    with pytest.raises(NotFoundError):
        dso.delete_activation("dso1", "agg2", activation["activation_id"])


def test_acks(clients: dict[str, InterflexClient]) -> None:
    agg = clients["agg1"]
    activation = _post_activation(clients, "agg1")
    ack = _answer(activation, "ack_id", agg.get_activation_ack_id("agg1"))
    assert isinstance(agg.post_activation_ack("agg1", ack), dict)
    assert _listed(clients["dso1"].get_all_activation_acks("agg1"), "ack_id", ack["ack_id"]) == [ack]
    with pytest.raises(ForbiddenError):  # K1: only the aggregator {agg}
        clients["agg2"].get_activation_ack_id("agg1")
    with pytest.raises(ConflictError):
        agg.post_activation_ack("agg1", ack)
    with pytest.raises(ForbiddenError):
        clients["agg2"].get_all_activation_acks("agg1")
    assert agg.delete_activation_ack("agg1", ack["ack_id"]) == {}
    assert _listed(agg.get_all_activation_acks("agg1"), "ack_id", ack["ack_id"]) == []
    with pytest.raises(NotFoundError):
        agg.delete_activation_ack("agg1", ack["ack_id"])


def test_nacks(clients: dict[str, InterflexClient]) -> None:
    agg = clients["agg2"]
    activation = _post_activation(clients, "agg2")
    nack = {**_answer(activation, "nack_id", agg.get_activation_nack_id("agg2")), "reason": "maintenance"}
    assert isinstance(agg.post_activation_nack("agg2", nack), dict)
    assert _listed(clients["dso1"].get_all_activation_nacks("agg2"), "nack_id", nack["nack_id"]) == [nack]
    with pytest.raises(ForbiddenError):  # N3: aggregator {agg} or any DSO
        clients["agg1"].get_all_activation_nacks("agg2")
    with pytest.raises(BadRequestError):  # PL-7: activation_id of no activation to agg2
        agg.post_activation_nack(
            "agg2", {**nack, "nack_id": agg.get_activation_nack_id("agg2"), "activation_id": "act-unknown"}
        )
    with pytest.raises(ForbiddenError):
        clients["dso1"].get_activation_nack_id("agg2")
    assert agg.delete_activation_nack("agg2", nack["nack_id"]) == {}
    assert _listed(agg.get_all_activation_nacks("agg2"), "nack_id", nack["nack_id"]) == []
    with pytest.raises(NotFoundError):
        agg.delete_activation_nack("agg2", nack["nack_id"])


def test_path_segments_are_encoded(clients: dict[str, InterflexClient]) -> None:
    """An id with a slash stays one path segment: the server answers 404 for it (ST-5), not another route."""
    with pytest.raises(NotFoundError) as caught:
        clients["dso1"].delete_request("dso1", "../../aggregators/agg1")
    assert "/flexibilityRequests/..%2F..%2Faggregators%2Fagg1:" in str(caught.value)
    with pytest.raises(NotFoundError) as caught:  # not normalised away to DELETE /dsos/dso1/
        clients["dso1"].delete_request("dso1", "..")
    assert caught.value.status == 404 and "/flexibilityRequests/%2E%2E:" in str(caught.value)


# -- transport failures and bad answers --------------------------------------------------------------


def test_connection_refused(closed_port: int) -> None:
    client = make_client(f"http://127.0.0.1:{closed_port}/interflex/api/v1", "dso1")
    with pytest.raises(ConnectError) as caught:
        client.get_request_id("dso1")
    error = caught.value
    assert (error.status, error.response, error.operation) == (None, None, "A1")
    assert "Connection refused" in str(error) and "dso1-demo" not in str(error)


def test_timeout() -> None:
    """A server that accepts connections but never answers: RequestTimeout after `timeout` seconds."""
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen(1)
        port = listener.getsockname()[1]
        client = make_client(f"http://127.0.0.1:{port}/interflex/api/v1", "dso1", timeout=0.2)
        started = time.monotonic()
        with pytest.raises(RequestTimeout) as caught:
            client.authenticate()
        assert time.monotonic() - started < 5
    assert caught.value.operation == "A1" and "0.2 s" in str(caught.value)


@pytest.mark.filterwarnings("ignore::urllib3.exceptions.InsecureRequestWarning")
def test_https(https_url: str, tmp_path: Path) -> None:
    """TLS is verified by default; `verify` takes a CA bundle path or False."""
    with pytest.raises(TransportError, match="certificate verify failed") as caught:
        make_client(https_url, "dso1").authenticate()
    assert not isinstance(caught.value, ConnectError | RequestTimeout)
    assert make_client(https_url, "dso1", verify=str(tmp_path / "cert.pem")).authenticate()["access_token"] == "a"
    assert make_client(https_url, "dso1", verify=False).authenticate()["access_token"] == "a"
    session = requests.Session()
    session.verify = str(tmp_path / "cert.pem")  # a session brought along keeps its own TLS setting
    assert make_client(https_url, "dso1", session=session).authenticate()["access_token"] == "a"


@pytest.mark.filterwarnings("ignore::urllib3.exceptions.InsecureRequestWarning")
def test_https_to_a_plain_http_server(base_url: str) -> None:
    client = make_client(base_url.replace("http://", "https://"), "dso1", verify=False)
    with pytest.raises(TransportError) as caught:
        client.authenticate()
    assert not isinstance(caught.value, ConnectError | RequestTimeout)
    assert caught.value.operation == "A1"


def test_invalid_id_response() -> None:
    """A server answering a bare JSON string instead of {"request_id": ...} (P-05)."""
    with ReferenceServer(fault="bare-id-string") as server:
        client = make_client(server.base_url, "dso1")
        with pytest.raises(InvalidResponseError) as caught:
            client.get_request_id("dso1")
    assert (caught.value.status, caught.value.operation) == (200, "R1")
    assert "P-05" in str(caught.value)


class DeepJsonHandler(http.server.BaseHTTPRequestHandler):
    """A hostile server: every answer is 200 with JSON nested 100,000 levels deep."""

    def do_GET(self) -> None:
        body = b"[" * 100_000 + b"]" * 100_000
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:
        pass


@pytest.fixture
def deep_json_url() -> Iterator[str]:
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), DeepJsonHandler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/interflex/api/v1"
    server.shutdown()
    server.server_close()
    thread.join()


def test_deeply_nested_json_is_an_invalid_response(deep_json_url: str) -> None:
    with pytest.raises(InvalidResponseError) as caught:
        flexibility_requests.get_request_id("127.0.0.1", urlsplit(deep_json_url).port, "dso1", "t")
    assert "nested too deeply" in str(caught.value) and caught.value.operation == "R1"


def test_token_with_control_characters_is_never_shown(base_url: str) -> None:
    host, port = urlsplit(base_url).hostname, urlsplit(base_url).port
    with pytest.raises(TransportError) as caught:
        flexibility_requests.get_request_id(host, port, "dso1", "SECRET-TOKEN\r\nX-Injected: y")
    assert "SECRET-TOKEN" not in str(caught.value) and "SECRET-TOKEN" not in repr(caught.value)
    assert caught.value.__cause__ is None and caught.value.__suppress_context__
