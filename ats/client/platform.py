"""The harness platform: the reference server in-process, wrapped by an instrument that records every
exchange and plays a scenario's deviations (503 once, stored-then-connection-closed, 409, 400, a revoked
token) on the client's requests.

The reference server is imported lazily (docs/ARCHITECTURE.md: `ats` imports `reference_server` only
where it starts it). The counterparts of the scenario (`ats.client.parties`) talk to the same platform and
mark their requests with a per-platform header, so the instrument never deviates on them and the judge
can tell the client's exchanges from theirs.
"""

from __future__ import annotations

import contextlib
import json
import secrets
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs

from interflex.monitor import HttpExchange
from interflex.profile import match_operation

HARNESS_HEADER = "x-interflex-harness"
BODY_CAP = 64 * 1024  # bytes of each body kept in the capture
MAX_BODY = 2 * 1024 * 1024  # a request body larger than this is refused with 413 without reading it all
MAX_EXCHANGES = 20_000  # exchanges kept per scenario; a flood beyond it is counted, not kept
_BASE = "/interflex/api/v1"
_FAST_HASH = (1024, 8, 1)  # scrypt parameters of the throw-away accounts: logins stay fast


@dataclass(frozen=True)
class Deviation:
    """What the instrument does to the client's requests in one scenario.

    `first_post`: "503" (answered 503 once, not stored), "drop" (stored, then the connection is closed
    without an answer), "409" (answered 409, not stored), "400" (answered 400, not stored), or None.
    `revoke_at`: the client's n-th resource request revokes the access token it carries (401 from then on).
    """

    first_post: str | None = None
    revoke_at: int | None = None


@dataclass(frozen=True)
class User:
    """An account of the harness platform."""

    username: str
    password: str = field(repr=False)
    role: str
    entity_id: str


@dataclass
class Captured:
    """One exchange and who sent it: "client" (the client under test) or "harness" (a counterpart)."""

    exchange: HttpExchange
    party: str
    deviation: str | None = None  # what the instrument did instead of the platform ("503", "drop", ...)


def _header(headers: list[tuple[bytes, bytes]], name: bytes) -> str | None:
    for key, value in headers:
        if key.lower() == name:
            return value.decode("latin-1")
    return None


def _bearer(value: str | None) -> str | None:
    if not value:
        return None
    scheme, _, token = value.partition(" ")
    return token.strip() if scheme.lower() == "bearer" and token.strip() else None


class Recorder:
    """The capture of one platform: exchanges in the order they started, token -> user, thread-safe."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.items: list[Captured] = []
        self.overflow = 0
        self.access: dict[str, str] = {}  # access token -> username (from A1/A2 answers)
        self.refresh: dict[str, str] = {}  # refresh token -> username

    def add(self, captured: Captured) -> None:
        with self._lock:
            if len(self.items) >= MAX_EXCHANGES:
                self.overflow += 1
                return
            self.items.append(captured)

    def snapshot(self) -> list[Captured]:
        """The exchanges so far, in the order they started."""
        with self._lock:
            items = list(self.items)
        return sorted(items, key=lambda c: (c.exchange.started, c.exchange.index))

    def learn_tokens(self, op_id: str, request_body: bytes, status: int, response_body: bytes) -> str | None:
        """Remember the tokens an A1/A2 answer issued; the username the request was for."""
        form = parse_qs(request_body.decode("utf-8", "replace"))
        user = None
        if op_id == "A1":
            user = (form.get("username") or [None])[0]
        elif op_id == "A2":
            with self._lock:
                user = self.refresh.get((form.get("refresh_token") or [""])[0])
        if status == 200 and user:
            with contextlib.suppress(ValueError, AttributeError, TypeError):
                answer = json.loads(response_body)
                with self._lock:
                    if isinstance(answer.get("access_token"), str):
                        self.access[answer["access_token"]] = user
                    if isinstance(answer.get("refresh_token"), str):
                        self.refresh[answer["refresh_token"]] = user
        return user

    def user_of(self, token: str | None) -> str | None:
        with self._lock:
            return self.access.get(token) if token else None


class Instrument:
    """ASGI wrapper of the reference server's app: records exchanges, plays the scenario's deviations."""

    def __init__(self, app: Any, recorder: Recorder, deviation: Deviation, harness_key: str) -> None:
        self.app = app
        self.recorder = recorder
        self.deviation = deviation
        self.key = harness_key
        self._index = 0
        self._lock = threading.Lock()
        self._posted = False
        self._resource_calls = 0
        self.revoked: set[str] = set()

    def _next_index(self) -> int:
        with self._lock:
            self._index += 1
            return self._index

    async def __call__(self, scope: dict, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.time()
        index = self._next_index()
        headers = scope.get("headers") or []
        party = "harness" if _header(headers, HARNESS_HEADER.encode()) == self.key else "client"
        body, too_large = await _read_body(receive)
        raw_path = (scope.get("raw_path") or scope["path"].encode()).decode("latin-1")
        query = scope.get("query_string") or b""
        url = raw_path + ("?" + query.decode("latin-1") if query else "")
        method = scope["method"]
        found = match_operation(method, raw_path[len(_BASE) :]) if raw_path.startswith(_BASE + "/") else None
        op = found[0] if found else None
        token = _bearer(_header(headers, b"authorization"))
        injected = None if party == "harness" or too_large else self._deviate(op, token)
        status, out_headers, out_body, error = 413, [], b"", None
        if too_large:
            out_body = b'{"error": "payload_too_large", "error_description": "request body over 2 MiB"}'
            out_headers = [(b"content-type", b"application/json")]
        elif injected in ("503", "409", "400", "401"):
            status, out_headers, out_body = _canned(injected)
        else:
            status, out_headers, out_body = await _call_app(self.app, scope, body)
        caller = None
        if op is not None and op.id in ("A1", "A2"):
            caller = self.recorder.learn_tokens(op.id, body, status, out_body)
        elif token:
            caller = self.recorder.user_of(token)
        # `finished` is taken before the answer goes out: the client cannot have it earlier, so a wait the
        # judge measures from here (CL-6) is never shorter than the client's own, whatever the scheduling.
        answered = time.time()
        if injected == "drop":
            error = "the harness closed the connection without answering (the object was stored)"
            _close_connection(send)
        else:
            await send({"type": "http.response.start", "status": status, "headers": out_headers})
            await send({"type": "http.response.body", "body": out_body})
        exchange = HttpExchange(
            index=index,
            method=method,
            url=url,
            request_headers={k.decode("latin-1").lower(): v.decode("latin-1") for k, v in headers},
            request_body=body[:BODY_CAP],
            status=None if injected == "drop" else status,
            response_headers={k.decode("latin-1").lower(): v.decode("latin-1") for k, v in out_headers},
            response_body=out_body[:BODY_CAP],
            started=started,
            finished=answered,
            error=error,
            caller=caller,
            truncated=len(body) > BODY_CAP or len(out_body) > BODY_CAP or too_large,
        )
        self.recorder.add(Captured(exchange, party, injected))

    def _deviate(self, op: Any, token: str | None) -> str | None:
        """The deviation to play on this client request, if any (each plays once, except a revoked token)."""
        with self._lock:
            if token is not None and token in self.revoked:
                return "401"
            if op is None or op.id in ("A1", "A2"):
                return None
            self._resource_calls += 1
            if self.deviation.revoke_at is not None and self._resource_calls == self.deviation.revoke_at and token:
                self.revoked.add(token)
                return "401"
            if op.action == "post" and not self._posted:
                self._posted = True
                return self.deviation.first_post
        return None


async def _read_body(receive: Any) -> tuple[bytes, bool]:
    chunks, size = [], 0
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            break
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > MAX_BODY:
            return b"".join(chunks), True
        chunks.append(chunk)
        if not message.get("more_body", False):
            break
    return b"".join(chunks), False


async def _call_app(app: Any, scope: dict, body: bytes) -> tuple[int, list, bytes]:
    sent = False
    status, headers, parts = 500, [], []

    async def receive() -> dict:
        nonlocal sent
        if sent:
            return {"type": "http.disconnect"}
        sent = True
        return {"type": "http.request", "body": body, "more_body": False}

    async def send(message: dict) -> None:
        nonlocal status, headers
        if message["type"] == "http.response.start":
            status, headers = message["status"], list(message.get("headers") or [])
        elif message["type"] == "http.response.body":
            parts.append(message.get("body", b""))

    await app(scope, receive, send)
    return status, headers, b"".join(parts)


_CANNED = {
    "503": (503, "server_error", "temporarily unavailable (test harness: once)", [(b"retry-after", b"1")]),
    "409": (409, "conflict", "an object with this id is already stored (test harness)", []),
    "400": (400, "invalid_request", "rejected by the test harness", []),
    "401": (401, "invalid_token", "the access token was revoked (test harness)", []),
}


def _canned(kind: str) -> tuple[int, list, bytes]:
    status, code, description, extra = _CANNED[kind]
    body = json.dumps({"error": code, "error_description": description}).encode()
    headers = [(b"content-type", b"application/json"), *extra]
    if kind == "401":
        headers.append((b"www-authenticate", f'Bearer realm="interflex", error="{code}"'.encode()))
    return status, headers, body


def _close_connection(send: Any) -> None:
    """Close the client's connection without an answer (uvicorn: through the cycle's transport)."""
    cycle = getattr(send, "__self__", None)
    transport = getattr(cycle, "transport", None)
    if transport is None:
        raise RuntimeError("the harness cannot close this connection")  # the server answers 500 instead
    cycle.disconnected = True
    transport.close()


def _accounts_yaml(client_id: str, client_secret: str, users: list[User]) -> str:
    from reference_server.accounts import hash_password

    lines = ["clients:", f"  - client_id: {json.dumps(client_id)}"]
    lines.append(f"    secret_hash: {json.dumps(hash_password(client_secret, *_FAST_HASH))}")
    lines.append("users:")
    for user in users:
        lines += [
            f"  - username: {json.dumps(user.username)}",
            f"    password_hash: {json.dumps(hash_password(user.password, *_FAST_HASH))}",
            f"    role: {user.role}",
            f"    entity_id: {json.dumps(user.entity_id)}",
        ]
    return "\n".join(lines) + "\n"


def new_secret() -> str:
    """A fresh random credential of the harness platform (never starting with "-", which a command line
    would read as an option)."""
    return "s" + secrets.token_urlsafe(18)


class HarnessPlatform:
    """The reference server with the instrument, on 127.0.0.1 and a free port; `start()`, `stop()`."""

    def __init__(
        self,
        users: list[User],
        *,
        deviation: Deviation = Deviation(),
        token_lifetime: int = 3600,
        alternatives: tuple[str, ...] = (),
    ) -> None:
        self.users = users
        self.client_id = "client-" + secrets.token_hex(3)
        self.client_secret = new_secret()
        self.harness_key = secrets.token_hex(16)
        self.recorder = Recorder()
        self.deviation = deviation
        self.token_lifetime = token_lifetime
        self.alternatives = alternatives
        self.port = 0
        self._serving: Any = None  # interflex.serving.ServerThread (imported with uvicorn, lazily)
        self._store: Any = None

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}{_BASE}"

    @property
    def secrets(self) -> list[str]:
        """Every credential of the platform (for redaction)."""
        return [self.client_secret, self.harness_key, *(u.password for u in self.users)]

    def start(self) -> HarnessPlatform:
        """Start serving; RuntimeError with one line when the server cannot start."""
        import uvicorn

        from interflex.serving import ServerThread, listening_socket
        from reference_server.server import make_context, uvicorn_config

        with tempfile.TemporaryDirectory(prefix="interflex-client-harness-") as folder:
            accounts = Path(folder) / "accounts.yaml"
            accounts.write_text(_accounts_yaml(self.client_id, self.client_secret, self.users), encoding="utf-8")
            context = make_context(":memory:", accounts, self.token_lifetime, None, self.alternatives)
        self._store = context.store
        config = uvicorn_config(context, access_log=False)
        config.app = Instrument(config.app, self.recorder, self.deviation, self.harness_key)
        try:
            sock = listening_socket("127.0.0.1", 0)
            self.port = sock.getsockname()[1]
            self._serving = ServerThread(uvicorn.Server(config), sock, "the harness platform").start()
        except RuntimeError:  # a ServeError
            self.stop()
            raise
        return self

    def stop(self) -> None:
        """Stop serving (idempotent)."""
        serving, store = self._serving, self._store
        self._serving = self._store = None
        if serving is not None:
            serving.stop()
        if store is not None:
            with contextlib.suppress(Exception):
                store.close()
