"""`interflex.serving`: a uvicorn server in a thread on a socket bound first (reference server, proxy,
client harness platform)."""

from __future__ import annotations

from typing import Any

import pytest
import requests
import uvicorn

from interflex.errors import ConfigError
from interflex.serving import ServeError, ServerThread, listening_socket


async def hello(scope: dict[str, Any], receive: Any, send: Any) -> None:
    if scope["type"] == "lifespan":
        message = await receive()
        if message["type"] == "lifespan.startup":
            await send({"type": "lifespan.startup.failed", "message": "no database"})
        return
    await send({"type": "http.response.start", "status": 200, "headers": [(b"content-type", b"text/plain")]})
    await send({"type": "http.response.body", "body": b"hello"})


def _server(lifespan: str = "off") -> uvicorn.Server:
    return uvicorn.Server(uvicorn.Config(hello, lifespan=lifespan, log_config=None, log_level="critical"))


def test_serves_on_a_free_port_until_stopped() -> None:
    serving = ServerThread(_server(), listening_socket("127.0.0.1", 0), "the test server").start()
    try:
        assert serving.running and serving.port > 0
        assert requests.get(f"http://127.0.0.1:{serving.port}/", timeout=5).text == "hello"
    finally:
        serving.stop()
        serving.stop()  # idempotent
    assert not serving.running and serving.sock.fileno() == -1
    with pytest.raises(requests.ConnectionError):
        requests.get(f"http://127.0.0.1:{serving.port}/", timeout=5)


def test_a_server_that_cannot_start_is_one_line_and_leaves_nothing_open() -> None:
    serving = ServerThread(_server(lifespan="on"), listening_socket("127.0.0.1", 0), "the test server")
    with pytest.raises(ServeError, match=rf"^the test server did not start on 127\.0\.0\.1:{serving.port}$"):
        serving.start()
    assert not serving.running and serving.sock.fileno() == -1


@pytest.mark.parametrize(
    ("host", "port", "message"),
    [
        ("127.0.0.1", 70000, "port 70000 is not a TCP port number (0-65535)"),
        ("127.0.0.1", True, "port True is not a TCP port number (0-65535)"),
        ("no-such-host.invalid", 0, "cannot use host 'no-such-host.invalid'"),
    ],
)
def test_an_unusable_address_is_one_line(host: str, port: Any, message: str) -> None:
    with pytest.raises(ServeError) as caught:
        listening_socket(host, port)
    assert str(caught.value).startswith(message) and "\n" not in str(caught.value)


def test_a_busy_port_is_a_config_error_and_a_runtime_error() -> None:
    with listening_socket("127.0.0.1", 0) as busy:
        port = busy.getsockname()[1]
        with pytest.raises(ServeError, match=f"cannot listen on 127.0.0.1:{port}") as caught:
            listening_socket("127.0.0.1", port)
    assert isinstance(caught.value, ConfigError) and isinstance(caught.value, RuntimeError)
