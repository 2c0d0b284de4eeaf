"""The upstream: where the proxy forwards to, and the connection pool (aiohttp, D-68) that does it."""

from __future__ import annotations

import re
import ssl
from dataclasses import dataclass
from functools import cached_property
from urllib.parse import urlsplit

import aiohttp

from interflex.errors import ConfigError
from interflex.profile import API_PREFIX

_API_BASE = re.compile(re.escape(API_PREFIX) + r"/[^/]+/?$")
DEFAULT_API_BASE = f"{API_PREFIX}/v1"


@dataclass(frozen=True)
class Upstream:
    """The upstream's origin, the path prefix put before every request path, and timeouts.

    `upstream("https://host:8443/interflex/api/v1")` and `upstream("https://host:8443")` both
    forward `/interflex/api/v1/...` to the same place: a trailing `/interflex/api/<version>` is
    the API base (clients keep it in their paths), anything before it is a prefix the proxy adds.
    """

    origin: str  # "https://host:8443"
    prefix: bytes  # b"/gateway" or b""
    api_base: str  # "/interflex/api/v1": where clients of the proxy find the API
    timeout: dict[str, float]  # seconds: "connect", and "read" (each read of the response)

    @cached_property
    def host_header(self) -> bytes:
        """The `Host` the upstream receives."""
        return urlsplit(self.origin).netloc.encode("idna")

    @cached_property
    def client_timeout(self) -> aiohttp.ClientTimeout:
        """aiohttp's timeouts: connecting, and each read of the response."""
        return aiohttp.ClientTimeout(total=None, connect=self.timeout["connect"], sock_read=self.timeout["read"])

    def target(self, raw_path: bytes, query: bytes) -> bytes:
        """The request target sent upstream: prefix, path and query exactly as the client sent them."""
        return self.prefix + raw_path + (b"?" + query if query else b"")


def parse_upstream(url: str, timeout: float = 30.0) -> Upstream:
    """Check and split the `--upstream` URL; `ConfigError` with one line when unusable."""
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as exc:
        raise ConfigError(f"--upstream {url!r} is not a URL ({exc})") from None
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ConfigError(f"--upstream {url!r} must be an http:// or https:// URL with a host")
    if parts.query or parts.fragment or parts.username or parts.password:
        raise ConfigError(f"--upstream {url!r} must not have a query, fragment or user info")
    if not timeout > 0:
        raise ConfigError(f"the upstream timeout must be positive, not {timeout!r}")
    host = f"[{parts.hostname}]" if ":" in parts.hostname else parts.hostname
    origin = f"{parts.scheme}://{host}" + (f":{port}" if port else "")
    path = parts.path.rstrip("/")
    found = _API_BASE.search(path)
    api_base = found.group(0).rstrip("/") if found else DEFAULT_API_BASE
    prefix = path[: found.start()] if found else path
    timeouts = dict.fromkeys(("connect", "read"), timeout)
    return Upstream(origin, prefix.encode(), api_base, timeouts)


def tls_verify(ca_bundle: str | None, insecure: bool) -> ssl.SSLContext | bool:
    """How to check the upstream's certificate: system CAs, a CA bundle, or not at all."""
    if insecure:
        return False
    if ca_bundle is None:
        return True
    try:
        return ssl.create_default_context(cafile=ca_bundle)
    except (OSError, ssl.SSLError) as exc:
        raise ConfigError(f"--ca-bundle {ca_bundle}: cannot load ({getattr(exc, 'strerror', None) or exc})") from None


def make_session(verify: ssl.SSLContext | bool) -> aiohttp.ClientSession:
    """The upstream client: an aiohttp session used as a bare connection pool (D-66, D-68).

    Nothing of a client's own is applied: no cookie jar, no redirects, no decompression, no
    default `User-Agent`, `Accept`, `Accept-Encoding` or `Content-Type`, no environment proxies.
    Connections are kept alive; `verify` as for `ssl` in aiohttp (True: system CAs).
    """
    return aiohttp.ClientSession(
        connector=aiohttp.TCPConnector(limit=0, ssl=verify, keepalive_timeout=5.0),
        cookie_jar=aiohttp.DummyCookieJar(),
        skip_auto_headers=("User-Agent", "Accept", "Accept-Encoding", "Content-Type"),
        auto_decompress=False,
        trust_env=False,
        requote_redirect_url=False,
    )
