"""TLS on both sides of the proxy: the upstream's certificate checked (system CAs, a CA bundle, or not
at all) and TLS on the listening side (`--certfile/--keyfile`)."""

from __future__ import annotations

import ssl
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests
from proxy_traffic import EchoUpstream
from tls_certs import self_signed

from interflex.errors import ConfigError
from interflex.proxy import ValidatingProxy
from interflex.proxy._upstream import tls_verify

TIMEOUT = 10


@pytest.fixture(scope="module")
def certificate(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """A self-signed certificate for 127.0.0.1 and its key (PEM files)."""
    return self_signed(tmp_path_factory.mktemp("tls"))


@pytest.fixture
def https_upstream(certificate: tuple[Path, Path]) -> Iterator[EchoUpstream]:
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(*certificate)
    with EchoUpstream(tls=context) as upstream:
        yield upstream


@pytest.mark.parametrize("trust", ["bundle", "insecure"])
def test_an_https_upstream_is_reached_with_its_ca_bundle_or_insecure(
    https_upstream: EchoUpstream, certificate: tuple[Path, Path], trust: str
) -> None:
    verify = tls_verify(str(certificate[0]), False) if trust == "bundle" else tls_verify(None, True)
    with ValidatingProxy(https_upstream.origin, verify=verify) as proxy:
        response = requests.get(proxy.url + "/over-tls", timeout=TIMEOUT)
    assert response.status_code == 200 and response.json()["target"] == "/over-tls"


def test_an_untrusted_upstream_certificate_is_a_502_saying_why(https_upstream: EchoUpstream) -> None:
    with ValidatingProxy(https_upstream.origin) as proxy:
        response = requests.get(proxy.url + "/over-tls", timeout=TIMEOUT)
    assert response.status_code == 502 and "CERTIFICATE_VERIFY_FAILED" in response.json()["error_description"]


def test_the_proxy_serves_tls_with_certfile_and_keyfile(certificate: tuple[Path, Path]) -> None:
    with (
        EchoUpstream() as upstream,
        ValidatingProxy(upstream.origin, certfile=certificate[0], keyfile=certificate[1]) as proxy,
    ):
        assert proxy.url.startswith("https://")
        response = requests.get(proxy.url + "/x", verify=str(certificate[0]), timeout=TIMEOUT)
    assert response.status_code == 200 and response.json()["target"] == "/x"


def test_unusable_tls_files_are_one_line_config_errors(certificate: tuple[Path, Path], tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"--ca-bundle .*missing\.pem: cannot load"):
        tls_verify(str(tmp_path / "missing.pem"), False)
    with pytest.raises(ConfigError, match="both a certificate file and a key file"):
        ValidatingProxy("http://127.0.0.1:1", certfile=certificate[0])
    with pytest.raises(ConfigError, match="cannot use the TLS certificate or key"):
        ValidatingProxy("http://127.0.0.1:1", certfile=certificate[0], keyfile=certificate[0]).start()
