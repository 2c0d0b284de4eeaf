"""The validating proxy forwards traffic unchanged and streamed, captures it and never lets judging
interfere (issue 10, "Three ways in" item 2). Upstream: an echo server (`proxy_traffic.EchoUpstream`).
"""

from __future__ import annotations

import base64
import gzip
import json
import logging
import os
import socket
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests
from proxy_traffic import EchoUpstream, errors, proxied

from interflex.monitor import HttpExchange, Monitor, MonitorFinding, judge, read_capture
from interflex.proxy import ValidatingProxy

TIMEOUT = 10


@pytest.fixture
def echo() -> Iterator[EchoUpstream]:
    with EchoUpstream() as upstream:
        yield upstream


@pytest.fixture
def proxy(echo: EchoUpstream, tmp_path: Path) -> Iterator[ValidatingProxy]:
    with ValidatingProxy(echo.origin, har=tmp_path / "c.har", findings_file=tmp_path / "f.jsonl", timeout=1) as running:
        yield running


def echoed(response: requests.Response) -> dict:
    assert response.status_code == 200, response.text
    return response.json()


def raw_exchange(port: int, request: bytes) -> tuple[bytes, bytes]:
    """Send `request` as it is; the response head and body (read up to its Content-Length)."""
    with socket.create_connection(("127.0.0.1", port), timeout=TIMEOUT) as sock:
        sock.sendall(request)
        data = b""
        while b"\r\n\r\n" not in data:
            data += sock.recv(65536)
        head, _, body = data.partition(b"\r\n\r\n")
        length = int(
            next(line.split(b":")[1] for line in head.split(b"\r\n") if line.lower().startswith(b"content-length"))
        )
        while len(body) < length:
            body += sock.recv(65536)
    return head, body


def test_path_query_and_end_to_end_headers_pass_byte_for_byte(proxy: ValidatingProxy, echo: EchoUpstream) -> None:
    target = "/interflex/api/v1/dsos/a%2Fb/%2E%2E/x%20y/../z?valid_at=2026-01-01T00%3A00%3A00%2B01%3A00&b&a=1&a=2"
    head, body = raw_exchange(
        proxy.port,
        f"GET {target} HTTP/1.1\r\nHost: proxy.example\r\nX-Twice: 1\r\nAccept: */*\r\nX-Twice: 2\r\n"
        "Connection: keep-alive, X-Private\r\nX-Private: hop\r\nKeep-Alive: timeout=3\r\nTE: trailers\r\n"
        "Proxy-Authorization: Basic cHJveHk=\r\nUpgrade: h2c\r\nAuthorization: Bearer t0ken\r\n\r\n".encode(),
    )
    assert head.startswith(b"HTTP/1.1 200 ")
    seen = json.loads(body)
    assert seen["target"] == target
    assert [(name.lower(), value) for name, value in seen["headers"]] == [
        ("host", echo.origin.removeprefix("http://")),
        ("x-twice", "1"),
        ("accept", "*/*"),
        ("x-twice", "2"),
        ("authorization", "Bearer t0ken"),
    ]


def test_a_utf8_header_value_passes_byte_for_byte(proxy: ValidatingProxy) -> None:
    head, body = raw_exchange(proxy.port, b"GET /x HTTP/1.1\r\nHost: p\r\nX-Name: Caf\xc3\xa9 \xe2\x82\xac\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 200 ")
    assert ["x-name", b"Caf\xc3\xa9 \xe2\x82\xac".decode("latin-1")] in json.loads(body)["headers"]


def test_response_status_headers_and_body_pass_unchanged(proxy: ValidatingProxy, echo: EchoUpstream) -> None:
    direct = requests.post(echo.origin + "/x", data=b"\x00\xffbody", timeout=TIMEOUT)
    through = requests.post(proxy.url + "/x", data=b"\x00\xffbody", timeout=TIMEOUT)
    assert through.status_code == direct.status_code == 200
    assert base64.b64decode(echoed(through)["body"]) == b"\x00\xffbody"
    raw = through.raw.headers
    assert raw.getlist("Set-Cookie") == ["a=1", "b=2"]
    assert through.headers["X-End"] == "kept" and through.headers["Server"] == direct.headers["Server"]
    assert "X-Hop" not in through.headers and "Keep-Alive" not in through.headers
    assert int(through.headers["Content-Length"]) == len(through.content)


def test_gzip_passes_encoded_and_is_captured_decoded(proxy: ValidatingProxy, tmp_path: Path) -> None:
    response = requests.get(proxy.url + "/gzip", headers={"Accept-Encoding": "gzip"}, stream=True, timeout=TIMEOUT)
    raw = response.raw.read(decode_content=False)
    assert response.headers["Content-Encoding"] == "gzip" and gzip.decompress(raw) == b'{"zipped": true}'
    proxy.stop()
    entry = json.loads((tmp_path / "c.har").read_text())["log"]["entries"][0]
    assert entry["response"]["content"]["text"] == '{"zipped": true}'


def test_response_body_streams_before_the_upstream_finishes(proxy: ValidatingProxy, echo: EchoUpstream) -> None:
    with requests.get(proxy.url + "/stream", stream=True, timeout=TIMEOUT) as response:
        chunks = response.iter_content(chunk_size=None)
        assert next(chunks) == b"first"  # the upstream is still waiting for `release`
        echo.release.set()
        assert b"".join(chunks) == b"second"


def test_request_body_streams_before_the_client_finishes(proxy: ValidatingProxy, echo: EchoUpstream) -> None:
    def body() -> Iterator[bytes]:
        yield b"part one;"
        assert echo.first_chunk.wait(5), "the first chunk did not reach the upstream while the body was open"
        yield b"part two"

    response = requests.post(proxy.url + "/echo", data=body(), timeout=TIMEOUT)
    assert base64.b64decode(echoed(response)["body"]) == b"part one;part two"


def test_a_body_over_the_limit_is_forwarded_whole_but_not_judged(
    echo: EchoUpstream, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    with ValidatingProxy(echo.origin, max_body=1000, har=tmp_path / "c.har") as proxy:
        response = requests.post(proxy.url + "/interflex/api/v1/x", data=b"y" * 5000, timeout=TIMEOUT)
        assert len(base64.b64decode(echoed(response)["body"])) == 5000
        assert len(requests.get(proxy.url + "/big/3000", timeout=TIMEOUT).content) == 3000
    assert proxy.summary.not_judged == 2
    assert "body over the 1000-byte limit" in caplog.text and "not judged" in caplog.text
    entries = json.loads((tmp_path / "c.har").read_text())["log"]["entries"]
    assert entries[0]["request"]["bodySize"] == 5000 and len(entries[0]["request"]["postData"]["text"]) == 1000
    assert entries[1]["response"]["content"]["size"] == 3000 and len(entries[1]["response"]["content"]["text"]) == 1000


def test_unreachable_upstream_is_the_proxys_own_502_and_nobody_is_blamed(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    with socket.socket() as free:
        free.bind(("127.0.0.1", 0))
        closed_port = free.getsockname()[1]
    with ValidatingProxy(f"http://127.0.0.1:{closed_port}", har=tmp_path / "c.har") as proxy:
        response = requests.get(proxy.base_url + "/aggregators/flexibilityOffers", timeout=TIMEOUT)
    assert response.status_code == 502 and response.headers["Content-Type"] == "application/json"
    assert response.json()["error"] == "bad_gateway" and "unreachable" in response.json()["error_description"]
    assert proxy.summary.upstream_errors == 1 and errors(proxy.findings, "server") == []
    assert "upstream unreachable" in caplog.text and "-> 502" in caplog.text
    response_entry = json.loads((tmp_path / "c.har").read_text())["log"]["entries"][0]["response"]
    assert response_entry["status"] == 0 and "unreachable" in response_entry["_error"]


def test_a_silent_upstream_gives_504(proxy: ValidatingProxy) -> None:
    response = requests.get(proxy.url + "/slow", timeout=TIMEOUT)
    assert response.status_code == 504 and response.json()["error"] == "gateway_timeout"
    assert proxy.settle() and proxy.summary.upstream_errors == 0  # counted at stop
    assert proxy.stop().upstream_errors == 1


def test_a_broken_off_response_breaks_the_client_connection_in_one_log_line(
    proxy: ValidatingProxy, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.INFO), pytest.raises(requests.exceptions.RequestException):
        requests.get(proxy.url + "/broken", timeout=TIMEOUT).content  # noqa: B018
    assert echoed(requests.get(proxy.url + "/after", timeout=TIMEOUT))["target"] == "/after"
    assert "broke off the response body" in caplog.text and "Traceback" not in caplog.text
    assert all(record.exc_info is None for record in caplog.records if record.name.startswith("uvicorn"))


def test_an_exception_in_judging_is_logged_and_traffic_flows(
    proxy: ValidatingProxy, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    def broken(self: Monitor, exchange: object) -> list:
        raise RuntimeError("monitor bug")

    monkeypatch.setattr(Monitor, "feed", broken)
    for n in range(3):
        assert echoed(requests.get(f"{proxy.url}/n{n}", timeout=TIMEOUT))["target"] == f"/n{n}"
    summary = proxy.stop()
    assert summary.exchanges == 3 and summary.judging_failures == 3
    assert "judging #0 failed (RuntimeError: monitor bug); traffic is not affected" in caplog.text


def test_the_har_is_valid_at_every_step_private_and_judged_again_alike(tmp_path: Path) -> None:
    har, jsonl = tmp_path / "c.har", tmp_path / "f.jsonl"
    with proxied(har=har, findings_file=jsonl) as (_, proxy):
        bearer = {"Authorization": "Bearer not-a-token-from-A1"}
        requests.get(proxy.base_url + "/aggregators/flexibilityOffers", headers=bearer, timeout=TIMEOUT)
        requests.get(proxy.base_url + "/nowhere", timeout=TIMEOUT)
        assert proxy.settle()
        assert len(json.loads(har.read_text())["log"]["entries"]) == 2  # complete while the proxy runs
    assert os.stat(har).st_mode & 0o777 == 0o600
    live = proxy.findings
    assert live and [json.loads(line) for line in jsonl.read_text().splitlines()] == [f.as_dict() for f in live]
    again = list(judge(read_capture(har), proxy.platform))
    assert [(f.rule, f.side, f.exchange) for f in again] == [(f.rule, f.side, f.exchange) for f in live]


def test_exchanges_are_judged_in_the_order_they_started(echo: EchoUpstream, monkeypatch: pytest.MonkeyPatch) -> None:
    fed: list[tuple[int, str]] = []
    original = Monitor.feed

    def recording(self: Monitor, exchange: HttpExchange) -> list[MonitorFinding]:
        fed.append((exchange.index, exchange.url.rsplit("/", 1)[1]))
        return original(self, exchange)

    monkeypatch.setattr(Monitor, "feed", recording)
    proxy = ValidatingProxy(echo.origin)
    with proxy, requests.get(proxy.url + "/stream", stream=True, timeout=TIMEOUT) as slow:  # #0 stays open
        assert echoed(requests.get(proxy.url + "/one", timeout=TIMEOUT))["target"] == "/one"
        assert echoed(requests.get(proxy.url + "/two", timeout=TIMEOUT))["target"] == "/two"
        assert fed == []  # #1 and #2 are done but wait for #0
        echo.release.set()
        assert slow.content == b"firstsecond"
    assert fed == [(0, "stream"), (1, "one"), (2, "two")]


def test_a_client_gone_midway_is_logged_and_the_proxy_carries_on(
    proxy: ValidatingProxy, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    with socket.create_connection(("127.0.0.1", proxy.port), timeout=TIMEOUT) as sock:
        sock.sendall(b"POST /half HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\n0123456789")
    assert echoed(requests.get(proxy.url + "/after", timeout=TIMEOUT))["target"] == "/after"
    summary = proxy.stop()
    assert summary.exchanges == 2 and summary.judging_failures == 0
    assert "#0 POST /half: the client disconnected before its request was complete" in caplog.text
    assert all(record.exc_info is None for record in caplog.records)
