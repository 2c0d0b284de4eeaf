"""HTTP exchanges with the target, recorded as evidence (contract C3 `Exchange`, C4 records).

`Transport.send` performs one request with a total deadline and reads the response body as a
stream with a size limit (the IXIT's `max_response_bytes`, default 8 MiB), so a target that hangs,
drips, sends huge or highly compressed bodies or drops the connection never hangs the suite nor
fills its memory: timeouts and refused connections raise `Inconclusive(cause="environment")`, a
broken or oversized answer raises `Failure` with the exchange cut to its evidence.
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
READ_CHUNK = 64 * 1024  # bytes (decoded) read from the socket at a time
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
    body_size: int | None = None  # bytes received when `body` keeps only its start (`compact`, a cut body)

    @property
    def size(self) -> int:
        """Bytes of the response body as received (more than `len(body)` once compacted or cut)."""
        return len(self.body) if self.body_size is None else self.body_size

    def compact(self) -> None:
        """Keep only the part of the body that is evidence (the first EVIDENCE_CAP bytes).

        Called when the test no longer reads its exchanges, so that a run keeps at most EVIDENCE_CAP
        bytes per exchange however large the target's answers were.
        """
        if len(self.body) > EVIDENCE_CAP:
            self.body_size = self.size
            self.body = self.body[:EVIDENCE_CAP]

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
        if self.body_size is not None and not self.truncated:
            raise Inconclusive(
                f"{self.describe()}: the body ({self.size} bytes) was dropped from memory after the target sent "
                "more than the suite keeps per test case; it cannot be judged",
                "target",
            )
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
            "request_body": _evidence_body(self.request_body, secrets, len(self.request_body)),
            "response_headers": redact_headers(dict(self.headers), secrets, secret_headers),
            "response_body": _evidence_body(self.body, secrets, self.size) + (" [... cut]" if self.truncated else ""),
            "elapsed_ms": round(self.elapsed_ms, 2),
            "error": redact(self.error, secrets) if self.error else None,
        }


def _evidence_body(body: bytes, secrets: list[str], size: int) -> str:
    text = body[:EVIDENCE_CAP].decode("utf-8", errors="replace")
    suffix = f" [... {size - EVIDENCE_CAP} more bytes]" if size > EVIDENCE_CAP else ""
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


@dataclass
class Streak:
    """Consecutive requests the target left unanswered (timeouts, refusals), shared by the transports of
    one worker so that parallel probes stop asking a dead target as soon as a single thread would."""

    count: int = 0


class Transport:
    """A `requests.Session` configured from the IXIT, with deadlines and a response size limit."""

    def __init__(self, ixit: Ixit, timeout: float, unanswered: Streak | None = None) -> None:
        self.timeout = timeout
        self.max_body = ixit.max_response_bytes
        self.session = requests.Session()
        self.session.trust_env = ixit.trust_env
        self.session.verify = ixit.tls.verify
        if ixit.tls.verify is False:  # the IXIT asked for it: no warning on every request
            urllib3.disable_warnings(urllib3.exceptions.InsecureRequestWarning)
        if ixit.tls.cert:
            self.session.cert = ixit.tls.cert
        self.session.headers.update(ixit.headers)
        self.unanswered = unanswered or Streak()

    def close(self) -> None:
        """Close the pooled connections."""
        self.session.close()

    def send(self, method: str, url: str, headers: dict[str, str], body: bytes | None) -> Exchange:
        """Perform one request; the returned exchange carries the response (see module docstring)."""
        request = requests.Request(method, url, headers=headers, data=body or None)
        prepared = self.session.prepare_request(request)
        sent_headers = {k: v for k, v in prepared.headers.items() if k.lower() not in ("accept-encoding", "connection")}
        ex = Exchange(method, url, sent_headers, body or b"", started=time.time())
        if self.unanswered.count >= MAX_ENV_FAILURES:
            ex.error = "not sent: the target did not answer the previous requests"
            raise _Unanswered(ex, f"{MAX_ENV_FAILURES} earlier requests timed out or were refused; not retried")
        started = time.monotonic()
        try:
            response = self.session.send(prepared, stream=True, timeout=self.timeout, allow_redirects=False)
        except requests.Timeout:
            ex.elapsed_ms = (time.monotonic() - started) * 1000
            ex.error = f"timeout: no answer within {self.timeout:g} s"
            self.unanswered.count += 1
            raise _Unanswered(ex, f"the target did not answer within --ats-timeout {self.timeout:g} s") from None
        except requests.ConnectionError as exc:
            ex.elapsed_ms = (time.monotonic() - started) * 1000
            ex.error = f"connection error: {_root(exc)}"
            if _refused(exc):
                self.unanswered.count += 1
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
        self.unanswered.count = 0
        return ex

    def _read(self, response: requests.Response, started: float, ex: Exchange) -> bytes:
        """The body, read in decoded chunks; stops (with the start kept as evidence) past the size limit
        (also when Content-Length already announces more), at the deadline or when the connection breaks."""
        received = bytearray()

        def stop(
            failure: type[_Unanswered] | type[_Broken] | type[_TooLarge], reason: str, error: str = ""
        ) -> NoReturn:
            ex.truncated = True
            ex.body, ex.body_size = bytes(received[:EVIDENCE_CAP]), len(received)
            received.clear()
            ex.error = error or ex.error
            if failure is _Unanswered:
                self.unanswered.count += 1
            raise failure(ex, reason)

        late = f"the body was not complete within --ats-timeout {self.timeout:g} s"
        announced = _announced_size(response)
        oversized = announced > self.max_body  # announced too much: read only what is kept as evidence
        try:
            while chunk := response.raw.read1(READ_CHUNK, decode_content=True):
                received += chunk
                if len(received) > self.max_body or (oversized and len(received) >= EVIDENCE_CAP):
                    stop(_TooLarge, self._too_large(announced))
                if time.monotonic() - started > self.timeout:
                    stop(_Unanswered, late, f"timeout: body not complete within {self.timeout:g} s")
        except urllib3.exceptions.ReadTimeoutError:
            stop(_Unanswered, late, f"timeout: body not complete within {self.timeout:g} s")
        except (urllib3.exceptions.HTTPError, OSError) as exc:
            if oversized:  # it announced more than the limit: that is the finding
                stop(_TooLarge, self._too_large(announced))
            stop(
                _Broken,
                f"the connection closed in the middle of the body ({_root(exc)})",
                f"connection error while reading the body: {_root(exc)}",
            )
        return bytes(received)

    def _too_large(self, announced: int) -> str:
        said = f" (Content-Length {announced})" if announced > self.max_body else ""
        return (
            f"response body larger than {self.max_body} bytes{said}; reading stopped "
            "(the IXIT's max_response_bytes sets the limit, default 8 MiB)"
        )


def _announced_size(response: requests.Response) -> int:
    """The Content-Length of a response without Content-Encoding (0 when absent or unusable)."""
    if response.headers.get("Content-Encoding", "identity").strip().lower() not in ("", "identity"):
        return 0
    value = response.headers.get("Content-Length", "")
    return int(value) if value.isdigit() else 0


class _Unanswered(Inconclusive):
    """No answer (timeout, refused): INCONCLUSIVE with cause "environment"; carries the exchange."""

    def __init__(self, exchange: Exchange, reason: str) -> None:
        super().__init__(f"{exchange.method} {exchange.url}: {reason}", cause="environment")
        self.exchange = exchange


class _Broken(Failure):
    """A broken answer (connection dropped mid-way): FAIL; carries the exchange."""

    def __init__(self, exchange: Exchange, reason: str) -> None:
        super().__init__(
            f"PROFILE 1: the target must answer with a complete HTTP response; {exchange.method} "
            f"{exchange.url}: {reason}"
        )
        self.exchange = exchange


class _TooLarge(Failure):
    """A response body larger than the IXIT's `max_response_bytes`: FAIL; carries the exchange (cut)."""

    def __init__(self, exchange: Exchange, reason: str) -> None:
        super().__init__(f"{exchange.describe()}: {reason}")
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
