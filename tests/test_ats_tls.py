"""Protected targets: the IXIT's tls settings reach the HTTP client (C2)."""

from __future__ import annotations

import dataclasses
import shutil
import ssl
import subprocess
import threading
import warnings
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from ats.errors import ConfigError
from ats.ixit import Tls, default_ixit
from ats.session import Api, Context
from ats.target import probe

TOKEN = b'{"access_token": "a", "token_type": "bearer", "expires_in": 60, "refresh_token": "r"}'


class _Handler(BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        self.send_response(404)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def do_POST(self) -> None:
        self.rfile.read(int(self.headers.get("Content-Length", 0)))
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(TOKEN)))
        self.end_headers()
        self.wfile.write(TOKEN)

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture(scope="module")
def https(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Path]]:
    if shutil.which("openssl") is None:
        pytest.skip("openssl is needed to make a test certificate")
    folder = tmp_path_factory.mktemp("tls")
    subprocess.run(
        [
            "openssl",
            "req",
            "-x509",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-keyout",
            str(folder / "key.pem"),
            "-out",
            str(folder / "cert.pem"),
            "-days",
            "1",
            "-subj",
            "/CN=127.0.0.1",
            "-addext",
            "subjectAltName=IP:127.0.0.1",
        ],
        check=True,
        capture_output=True,
    )
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(folder / "cert.pem", folder / "key.pem")
    server.socket = context.wrap_socket(server.socket, server_side=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"https://127.0.0.1:{server.server_address[1]}/interflex/api/v1", folder / "cert.pem"
    server.shutdown()
    server.server_close()


def test_untrusted_certificate_is_a_one_line_config_error(https: tuple[str, Path]) -> None:
    url, _ = https
    with pytest.raises(ConfigError, match=r"TLS handshake failed .*see tls.verify / tls.cert in the IXIT"):
        probe(default_ixit().with_target(url), 2.0)


@pytest.mark.parametrize("verify", ["ca", False])
def test_ca_bundle_or_verify_false_reaches_the_target(https: tuple[str, Path], verify: str | bool) -> None:
    url, cert = https
    tls = Tls(verify=str(cert) if verify == "ca" else False)
    ixit = dataclasses.replace(default_ixit().with_target(url), tls=tls)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert probe(ixit, 2.0) is not None
        assert Api(Context(ixit, 2.0)).login("dso").status == 200
