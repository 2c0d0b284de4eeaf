"""The pre-flight login of every IXIT account (issue 9 §4, D-20), called directly: which answers stop a run
(no access token at all), which do not (a token with other faults, no answer), and what the lines say."""

from __future__ import annotations

import dataclasses
import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from ats.ixit import Ixit, default_ixit
from ats.target import preflight
from reference_server import ReferenceServer


@pytest.mark.parametrize("fault", [None, "token-type-mac", "expires-in-string"])
def test_tokens_with_other_faults_pass_the_preflight(fault: str | None) -> None:
    with ReferenceServer(fault=fault) as server:
        assert preflight(default_ixit().with_target(server.base_url), 5.0) == []


def test_wrong_client_secret_names_every_account_and_the_client() -> None:
    ixit = dataclasses.replace(default_ixit(), client_secret="wrong-client-secret")
    with ReferenceServer() as server:
        lines = preflight(ixit.with_target(server.base_url), 5.0)
    assert lines == [
        f"IXIT account {where} (user {user}): the target answered 401 invalid_client; check client_id and client_secret"
        for where, user in (("dso", "dso1"), ("aggregators[0]", "agg1"), ("aggregators[1]", "agg2"))
    ]


class _TokenStub(BaseHTTPRequestHandler):
    """Answers every request with `answer` (status, JSON body) of its server; `hang` waits instead."""

    def do_POST(self) -> None:
        self.rfile.read(int(self.headers.get("Content-Length", 0)))
        status, body = self.server.answer  # type: ignore[attr-defined]
        if status == 0:
            self.server.release.wait(5)  # type: ignore[attr-defined]
            return
        payload = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def stub() -> Iterator[ThreadingHTTPServer]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _TokenStub)
    server.daemon_threads = True
    server.release = threading.Event()  # type: ignore[attr-defined]
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield server
    server.release.set()  # type: ignore[attr-defined]
    server.shutdown()
    server.server_close()


def _ixit(stub: ThreadingHTTPServer) -> Ixit:
    return default_ixit().with_target(f"http://127.0.0.1:{stub.server_address[1]}/interflex/api/v1")


@pytest.mark.parametrize(
    ("answer", "expected"),
    [
        ((200, {"token_type": "bearer", "expires_in": 60}), "answered 200 without an access_token string; check this"),
        ((200, {"access_token": 42, "token_type": "bearer"}), "answered 200 without an access_token string"),
        ((500, ["oops"]), "answered 500; check this account and the target URL (A1 must answer a TokenResponse)"),
        ((401, {"error": "access_denied\nsecond line"}), "answered 401 access_deniedsecondline; check this"),
    ],
)
def test_answers_without_a_token_stop_the_run(stub: ThreadingHTTPServer, answer: tuple, expected: str) -> None:
    stub.answer = answer  # type: ignore[attr-defined]
    lines = preflight(_ixit(stub), 2.0)
    assert len(lines) == 3 and all(expected in line and "\n" not in line for line in lines), lines
    assert lines[0].startswith("IXIT account dso (user dso1): the target answered ")


def test_a_password_echoed_by_the_target_is_not_printed(stub: ThreadingHTTPServer) -> None:
    ixit = _ixit(stub)
    stub.answer = (400, {"error": ixit.dso.password})  # type: ignore[attr-defined]
    lines = preflight(ixit, 2.0)
    assert lines[0] == "IXIT account dso (user dso1): the target answered 400 ***; check this account and the " + (
        "target URL (A1 must answer a TokenResponse)"
    )
    assert not any(secret in line for line in lines for secret in ixit.secrets)


def test_a_token_with_other_faults_passes(stub: ThreadingHTTPServer) -> None:
    stub.answer = (200, {"access_token": "t", "token_type": "mac", "expires_in": "3600"})  # type: ignore[attr-defined]
    assert preflight(_ixit(stub), 2.0) == []


def test_no_answer_is_left_to_the_test_cases(stub: ThreadingHTTPServer) -> None:
    stub.answer = (0, None)  # type: ignore[attr-defined]
    assert preflight(_ixit(stub), 0.3) == []
