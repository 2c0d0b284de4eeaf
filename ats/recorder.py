"""HTTP exchanges with the target, recorded as evidence (contract C3 `Exchange`, C4 records).

`Transport.send` performs one request with a total deadline and a cap on the body it reads, so a
target that hangs, drips, sends huge bodies or drops the connection never hangs the suite:
timeouts and refused connections raise `Inconclusive(cause="environment")`, a broken or oversized
answer raises `Failure`.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, field
from typing import Any, NoReturn

import requests
import urllib3
from requests.structures import CaseInsensitiveDict

from ats.ixit import Ixit
from ats.redaction import redact, redact_headers
from ats.verdicts import Failure, Inconclusive

EVIDENCE_CAP = 64 * 1024  # bytes of each body kept as evidence (C4)
READ_CAP = 8 * 1024 * 1024  # bytes of a response body read at most
MAX_ENV_FAILURES = 3  # consecutive timeouts/refusals after which further requests fail fast


@dataclass
class Exchange:
    """One request and its response (contract C3)."""

    method: str
    url: str
    request_headers: dict[str, str]
    request_body: bytes
    status: int = 0
    headers: CaseInsensitiveDict = field(default_factory=CaseInsensitiveDict)
    body: bytes = b""
    elapsed_ms: float = 0.0
    error: str | None = None
    op: str | None = None
    truncated: bool = False
    started: float = 0.0  # unix seconds when the request was sent (evidence bundle)
    caller: str | None = None  # the username whose credentials the request carried, when known

    @property
    def text(self) -> str:
        """The body decoded as UTF-8 (undecodable bytes replaced)."""
        return self.body.decode("utf-8", errors="replace")

    @property
    def content_type(self) -> str:
        """The media type of the response without parameters, lower case ("" when absent)."""
        return self.headers.get("Content-Type", "").split(";")[0].strip().lower()

    def json(self) -> Any:
        """The body parsed as JSON; `Failure` when it is not JSON (PROFILE.md section 1)."""
        try:
            return json.loads(self.body)
        except (ValueError, UnicodeDecodeError):
            snippet = self.text[:200]
            raise Failure(
                f"PROFILE 1: response bodies are JSON; {self.describe()} sent a body that is not JSON "
                f"(Content-Type {self.headers.get('Content-Type')!r}): {snippet!r}"
            ) from None

    def describe(self) -> str:
        """Short form for messages: `O2 POST <url> -> 201`."""
        prefix = f"{self.op} " if self.op else ""
        outcome = self.status if self.status else (self.error or "no response")
        return f"{prefix}{self.method} {self.url} -> {outcome}"

    def record(self, secrets: list[str], secret_headers: list[str] = ()) -> dict[str, Any]:
        """The exchange as a redacted, JSON-ready C4 evidence dict (bodies capped at 64 KiB)."""
        return {
            "method": self.method,
            "url": redact(self.url, secrets),
            "status": self.status or None,
            "request_headers": redact_headers(self.request_headers, secrets, secret_headers),
            "request_body": _evidence_body(self.request_body, secrets),
            "response_headers": redact_headers(dict(self.headers), secrets, secret_headers),
            "response_body": _evidence_body(self.body, secrets) + (" [... cut]" if self.truncated else ""),
            "elapsed_ms": round(self.elapsed_ms, 2),
            "error": redact(self.error, secrets) if self.error else None,
        }


def _evidence_body(body: bytes, secrets: list[str]) -> str:
    text = body[:EVIDENCE_CAP].decode("utf-8", errors="replace")
    suffix = f" [... {len(body) - EVIDENCE_CAP} more bytes]" if len(body) > EVIDENCE_CAP else ""
    return redact(text, secrets) + suffix


def format_evidence(records: list[dict[str, Any]], limit: int = 2000) -> str:
    """Human-readable evidence of recorded (already redacted) exchanges, bodies shortened to `limit`."""
    lines = []
    for i, ex in enumerate(records, 1):
        lines.append(f"#{i} {ex['method']} {ex['url']} -> {ex['status'] or ex['error']} ({ex['elapsed_ms']} ms)")
        for name, value in ex["request_headers"].items():
            lines.append(f"   > {name}: {value}")
        if ex["request_body"]:
            lines.append(f"   > {_short(ex['request_body'], limit)}")
        for name, value in ex["response_headers"].items():
            lines.append(f"   < {name}: {value}")
        if ex["response_body"]:
            lines.append(f"   < {_short(ex['response_body'], limit)}")
    return "\n".join(lines)


def _short(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[:limit] + f" [... {len(text) - limit} more characters]"


class Transport:
    """A `requests.Session` configured from the IXIT, with deadlines and read caps."""

    def __init__(self, ixit: Ixit, timeout: float) -> None:
        self.timeout = timeout
        self.session = requests.Session()
        self.session.trust_env = ixit.trust_env
        self.session.verify = ixit.tls.verify
        if ixit.tls.verify is False:  # the IXIT asked for it: no warning on every request
            urllib3.disable_warnings(urllib3.exceptions.InsecureRequestWarning)
        if ixit.tls.cert:
            self.session.cert = ixit.tls.cert
        self.session.headers.update(ixit.headers)
        self.env_failures = 0

    def close(self) -> None:
        """Close the pooled connections."""
        self.session.close()

    def send(self, method: str, url: str, headers: dict[str, str], body: bytes | None) -> Exchange:
        """Perform one request; the returned exchange carries the response (see module docstring)."""
        request = requests.Request(method, url, headers=headers, data=body or None)
        prepared = self.session.prepare_request(request)
        sent_headers = {k: v for k, v in prepared.headers.items() if k.lower() not in ("accept-encoding", "connection")}
        ex = Exchange(method, url, sent_headers, body or b"", started=time.time())
        if self.env_failures >= MAX_ENV_FAILURES:
            ex.error = "not sent: the target did not answer the previous requests"
            raise _Unanswered(ex, f"{MAX_ENV_FAILURES} earlier requests timed out or were refused; not retried")
        started = time.monotonic()
        try:
            response = self.session.send(prepared, stream=True, timeout=self.timeout, allow_redirects=False)
        except requests.Timeout:
            ex.elapsed_ms = (time.monotonic() - started) * 1000
            ex.error = f"timeout: no answer within {self.timeout:g} s"
            self.env_failures += 1
            raise _Unanswered(ex, f"the target did not answer within --ats-timeout {self.timeout:g} s") from None
        except requests.ConnectionError as exc:
            ex.elapsed_ms = (time.monotonic() - started) * 1000
            ex.error = f"connection error: {_root(exc)}"
            if _refused(exc):
                self.env_failures += 1
                raise _Unanswered(ex, f"cannot connect to the target: {_root(exc)}") from None
            raise _Broken(ex, f"the connection closed without a complete HTTP response ({_root(exc)})") from None
        except requests.RequestException as exc:
            ex.elapsed_ms = (time.monotonic() - started) * 1000
            ex.error = f"request error: {_root(exc)}"
            raise _Broken(ex, f"the request failed: {_root(exc)}") from None
        ex.status = response.status_code
        ex.headers = CaseInsensitiveDict(response.headers)
        try:
            ex.body = self._read(response, started, ex)
        finally:
            response.close()
            ex.elapsed_ms = (time.monotonic() - started) * 1000
        self.env_failures = 0
        return ex

    def _read(self, response: requests.Response, started: float, ex: Exchange) -> bytes:
        chunks: list[bytes] = []
        size = 0

        def stop(kind: type[_Unanswered] | type[_Broken], reason: str, error: str | None = None) -> NoReturn:
            ex.truncated = True
            ex.body = b"".join(chunks)
            if error:
                ex.error = error
            if kind is _Unanswered:
                self.env_failures += 1
            raise kind(ex, reason)

        late = f"the body was not complete within --ats-timeout {self.timeout:g} s"
        try:
            while chunk := response.raw.read1(64 * 1024, decode_content=True):
                chunks.append(chunk)
                size += len(chunk)
                if size > READ_CAP:
                    stop(_Broken, f"the response body exceeds {READ_CAP // (1024 * 1024)} MiB; reading stopped")
                if time.monotonic() - started > self.timeout:
                    stop(_Unanswered, late, f"timeout: body not complete within {self.timeout:g} s")
        except urllib3.exceptions.ReadTimeoutError:
            stop(_Unanswered, late, f"timeout: body not complete within {self.timeout:g} s")
        except (urllib3.exceptions.HTTPError, OSError) as exc:
            stop(
                _Broken,
                f"the connection closed in the middle of the body ({_root(exc)})",
                f"connection error while reading the body: {_root(exc)}",
            )
        return b"".join(chunks)


class _Unanswered(Inconclusive):
    """No answer (timeout, refused): INCONCLUSIVE with cause "environment"; carries the exchange."""

    def __init__(self, exchange: Exchange, reason: str) -> None:
        super().__init__(f"{exchange.method} {exchange.url}: {reason}", cause="environment")
        self.exchange = exchange


class _Broken(Failure):
    """A broken answer (connection dropped, oversized body): FAIL; carries the exchange."""

    def __init__(self, exchange: Exchange, reason: str) -> None:
        super().__init__(
            f"PROFILE 1: the target must answer with a complete HTTP response; {exchange.method} "
            f"{exchange.url}: {reason}"
        )
        self.exchange = exchange


def _root(exc: BaseException) -> str:
    while exc.__context__ is not None and exc.__context__ is not exc and len(str(exc)) > 200:
        exc = exc.__context__
    text = str(exc)
    return text if len(text) <= 300 else text[:300] + "..."


def _refused(exc: requests.ConnectionError) -> bool:
    text = repr(exc)
    return any(
        word in text
        for word in (
            "NewConnectionError",
            "ConnectTimeout",
            "Connection refused",
            "Name or service not known",
            "nodename nor servname",
            "Failed to resolve",
        )
    )
