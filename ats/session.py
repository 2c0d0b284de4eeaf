"""The recorded HTTP client of one test case (contract C3 `api` fixture).

`Context` lives once per worker process (IXIT, connection pool, cached tokens, id prefix);
`Api` is created for every test, records every exchange as evidence and deletes what the test
created when it ends (in reverse order, also when it fails).
"""

from __future__ import annotations

import itertools
import json as jsonlib
import secrets as secrets_module
import threading
import time
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from functools import partial
from typing import Any, TypeVar
from urllib.parse import quote, urlencode

from ats.ixit import Account, Ixit
from ats.recorder import Exchange, Transport
from ats.verdicts import Failure, Inconclusive
from interflex.profile import (
    AGG_SELF,
    AGG_SELF_OR_ANY_DSO,
    ID_FIELDS,
    OPERATIONS_BY_ID,
    match_operation,
)
from interflex.samples import ACTIVATION_FROM_OFFER, ANSWER_FROM_ACTIVATION, KINDS, Samples, pick, short_kind

T = TypeVar("T")
_UNSET: Any = object()
_AUTO: Any = "auto"

_OPS: dict[str, dict[str, str]] = {
    "request": {"new_id": "R1", "post": "R2", "list": "R3", "delete": "R4", "param": "requestId"},
    "offer": {"new_id": "O1", "post": "O2", "list": "O3", "delete": "O4", "param": "offerId"},
    "activation": {"new_id": "V1", "post": "V2", "list": "V3", "delete": "V4", "param": "activationId"},
    "ack": {"new_id": "K1", "post": "K2", "list": "K3", "delete": "K4", "param": "ackId"},
    "nack": {"new_id": "N1", "post": "N2", "list": "N3", "delete": "N4", "param": "nackId"},
}
DEFAULT_TOKEN_LIFETIME = 300.0  # seconds a token is reused when the target gives no usable expires_in
BODY_BUDGET = 64 * 1024 * 1024  # bytes of response bodies a test keeps whole; older ones are compacted


class Context:
    """Per-process state shared by every test: IXIT, transport, tokens, unique id prefix."""

    def __init__(self, ixit: Ixit, timeout: float = 10.0, worker: str = "") -> None:
        self.ixit = ixit
        self.timeout = timeout
        self.base_url = ixit.target_url.rstrip("/")
        self.transport = Transport(ixit, timeout)
        self.prefix = f"t{secrets_module.token_hex(3)}{worker.replace('gw', 'w')}"
        self.counter = itertools.count(1)
        self.tokens: dict[str, str | Inconclusive] = {}
        self.token_renewal: dict[str, float] = {}
        self.token_lock = threading.RLock()  # one login per role, also when probes run in parallel
        self.secrets: list[str] = list(ixit.secrets)
        self._probe_transports: list[Transport] = []
        self._probe_pool: ThreadPoolExecutor | None = None
        self._local = threading.local()

    def close(self) -> None:
        """Stop the probe threads and release every connection pool."""
        if self._probe_pool is not None:
            self._probe_pool.shutdown(wait=True, cancel_futures=True)
        for transport in (self.transport, *self._probe_transports):
            transport.close()

    def sender(self) -> Transport:
        """The transport of the calling thread: the main one, or a probe thread's own (its own connections)."""
        return getattr(self._local, "transport", self.transport)

    def probe_pool(self) -> ThreadPoolExecutor:
        """The threads that send independent probes in parallel (the IXIT's `parallel_requests`), made once."""
        if self._probe_pool is None:
            self._probe_pool = ThreadPoolExecutor(
                self.ixit.parallel_requests, thread_name_prefix="ats-probe", initializer=self._start_probe_thread
            )
        return self._probe_pool

    def _start_probe_thread(self) -> None:
        transport = Transport(self.ixit, self.timeout, self.transport.unanswered)
        self._probe_transports.append(transport)
        self._local.transport = transport

    def remember_secret(self, value: object) -> None:
        """Add a token seen on the wire to the values redacted from evidence."""
        if isinstance(value, str) and value and value not in self.secrets:
            self.secrets.append(value)


class Api:
    """The recorded HTTP client of one test (see docs/contracts.md C3 for every method)."""

    def __init__(self, context: Context) -> None:
        self.ctx = context
        self.ixit = context.ixit
        self.exchanges: list[Exchange] = []
        self._created: list[tuple[str, str, dict[str, str], str]] = []
        self._probe = threading.local()  # a probe thread's own list of exchanges (`concurrently`)

    # -- accounts -------------------------------------------------------------------------
    def account(self, role: str) -> Account:
        """The IXIT account of `dso`, `agg1`, `agg2` (...)."""
        if role == "dso":
            return self.ixit.dso
        if role.startswith("agg") and role[3:].isdigit() and 1 <= int(role[3:]) <= len(self.ixit.aggregators):
            return self.ixit.aggregators[int(role[3:]) - 1]
        raise ValueError(f"unknown role {role!r}; expected dso, agg1, agg2")

    def entity(self, role: str) -> str:
        """The entity id of a role."""
        return self.account(role).entity_id

    def _role_of(self, entity_id: str) -> str | None:
        return next((role for role, eid in self.ixit.entity_ids.items() if eid == entity_id), None)

    # -- requests -------------------------------------------------------------------------
    def login(self, role: str, check: bool = True) -> Exchange:
        """A fresh A1 password grant for `role` (not cached); with `check` a 200 body is validated (ST-10)."""
        ex = self._password_grant(role)
        if check:
            self._check_success_body("A1", ex)
        return ex

    def _password_grant(self, role: str) -> Exchange:
        account = self.account(role)
        ex = self._send(
            "POST",
            OPERATIONS_BY_ID["A1"].path,
            data={
                "grant_type": "password",
                "username": account.username,
                "password": account.password,
                "client_id": self.ixit.client_id,
                "client_secret": self.ixit.client_secret,
            },
        )
        ex.op = "A1"
        return ex

    def token(self, role: str) -> str:
        """An access token of `role`, cached per worker (renewed after 80 % of `expires_in`).

        A failed login raises Inconclusive (cause "precondition", or "environment" for timeouts) and is
        cached too, so the tests needing that token do not each wait for the target again.
        """
        with self.ctx.token_lock:
            return self._token(role)

    def _token(self, role: str) -> str:
        cached = self.ctx.tokens.get(role)
        if isinstance(cached, Inconclusive):
            raise Inconclusive(cached.reason, cached.cause)
        if cached is not None and time.monotonic() < self.ctx.token_renewal.get(role, 0.0):
            return cached
        try:  # a token that works is used even when its TokenResponse breaks the profile (core-auth says so)
            ex = self._password_grant(role)
        except Inconclusive as exc:
            self.ctx.tokens[role] = Inconclusive(f"login as {role} failed earlier: {exc.reason}", exc.cause)
            raise
        except Failure as exc:
            self.ctx.tokens[role] = Inconclusive(f"login as {role} failed: {exc}", "precondition")
            raise self.ctx.tokens[role] from None
        body = _json_or_none(ex)
        token = body.get("access_token") if isinstance(body, dict) else None
        if ex.status != 200 or not isinstance(token, str) or not token:
            reason = f"login as {role} (A1) failed: answered {ex.status} {ex.text[:200]!r} (check the IXIT account)"
            self.ctx.tokens[role] = Inconclusive(reason, "precondition")
            raise Inconclusive(reason, "precondition")
        lifetime = body.get("expires_in")
        lifetime = (
            lifetime
            if isinstance(lifetime, int | float) and not isinstance(lifetime, bool) and lifetime > 0
            else DEFAULT_TOKEN_LIFETIME
        )
        self.ctx.tokens[role] = token
        self.ctx.token_renewal[role] = time.monotonic() + lifetime * 0.8  # log in again before it expires
        return token

    def call(
        self,
        op_id: str,
        *,
        as_: str | None = _AUTO,
        path: dict[str, str] | None = None,
        json: Any = _UNSET,
        data: dict[str, str] | None = None,
        content: bytes | None = None,
        headers: dict[str, str] | None = None,
        query: dict[str, Any] | list[tuple[str, Any]] | None = None,
        token: str | None = None,
        method: str | None = None,
        auth_header: str | None = None,
    ) -> Exchange:
        """Call operation `op_id` (A1…N4) of PROFILE.md section 2 and record the exchange.

        `as_` defaults to the operation's natural caller (the DSO for DSO operations and list
        reads, the path's aggregator for aggregator operations, nobody for A1/A2); None sends no
        token. `path` fills `{dso}` (default the IXIT DSO), `{agg}` (default agg1) and id segments.
        The success body of A1/A2/id getters/lists is validated against its schema (ST-10).
        """
        op = OPERATIONS_BY_ID[op_id]
        params = {"dso": self.ixit.dso.entity_id, "agg": self.entity("agg1"), **(path or {})}
        missing = [p for p in op.path_params if p not in params]
        if missing:
            raise ValueError(f"{op_id} needs path parameter(s) {missing}")
        rel = op.path.format(**{k: quote(str(v), safe="") for k, v in params.items()})
        if as_ is _AUTO:
            as_ = self._natural_role(op, params)
        ex = self._send(
            method or op.method,
            rel,
            as_=as_,
            json=json,
            data=data,
            content=content,
            headers=headers,
            query=query,
            token=token,
            auth_header=auth_header,
        )
        ex.op = op_id if method is None or method.upper() == op.method else None
        if ex.op:
            self._check_success_body(op_id, ex)
        return ex

    def raw(self, method: str, path: str, *, as_: str | None = None, **kwargs: Any) -> Exchange:
        """Send `method` to a path relative to the base URL (no default token) and record it."""
        ex = self._send(method, path, as_=as_, **kwargs)
        found = match_operation(method, path.split("?")[0])
        ex.op = found[0].id if found else None
        return ex

    def _natural_role(self, op: Any, params: dict[str, str]) -> str | None:
        if op.action in ("token", "refresh"):
            return None
        if op.access in (AGG_SELF, AGG_SELF_OR_ANY_DSO):
            return self._role_of(params["agg"]) or "agg1"
        return "dso"

    def _send(
        self,
        method: str,
        rel: str,
        *,
        as_: str | None = None,
        json: Any = _UNSET,
        data: dict[str, str] | None = None,
        content: bytes | None = None,
        headers: dict[str, str] | None = None,
        query: Any = None,
        token: str | None = None,
        auth_header: str | None = None,
    ) -> Exchange:
        sent: dict[str, str] = {"Accept": "application/json"}
        body: bytes | None = None
        if json is not _UNSET:
            body = jsonlib.dumps(json).encode()
            sent["Content-Type"] = "application/json"
        elif data is not None:
            body = urlencode(data).encode()
            sent["Content-Type"] = "application/x-www-form-urlencoded"
            self.ctx.remember_secret(data.get("refresh_token"))
        elif content is not None:
            body = content
        if auth_header is not None:
            sent["Authorization"] = auth_header
        elif token is not None:
            sent["Authorization"] = f"Bearer {token}"
        elif as_ is not None:
            sent["Authorization"] = f"Bearer {self.token(as_)}"
        for name, value in (headers or {}).items():  # a None value removes a default header
            for existing in [k for k in sent if k.lower() == name.lower()]:
                del sent[existing]
            if value is not None:
                sent[name] = value
        url = self.ctx.base_url + rel
        if query:
            url += "?" + urlencode(query, doseq=True)
        caller = self._caller(as_ if auth_header is None and token is None else None, token)
        sink = getattr(self._probe, "exchanges", None)
        try:
            ex = self.ctx.sender().send(method.upper(), url, sent, body)
        except (Inconclusive, Failure) as exc:
            exc.exchange.caller = caller  # type: ignore[attr-defined]
            (self.exchanges if sink is None else sink).append(exc.exchange)  # type: ignore[attr-defined]
            raise
        ex.caller = caller
        if sink is None:
            self.exchanges.append(ex)
            self._bound_memory()
        else:
            sink.append(ex)
        if ex.body and b"_token" in ex.body:
            found = _json_or_none(ex)
            if isinstance(found, dict):
                self.ctx.remember_secret(found.get("access_token"))
                self.ctx.remember_secret(found.get("refresh_token"))
        return ex

    def concurrently(self, calls: Iterable[Callable[[], T]]) -> list[T]:
        """Run independent probes (calls that each send their own requests), at most the IXIT's
        `parallel_requests` at a time, each on its own connection; their results in the order of `calls`.

        The exchanges are recorded in that order too, as if sent one after the other. When calls raise,
        the first exception in that order is raised once all have ended. With `parallel_requests: 1`
        the calls run one after the other in this thread.
        """
        calls = list(calls)
        nested = hasattr(self._probe, "exchanges")  # a probe never waits for the threads it runs on
        if self.ixit.parallel_requests == 1 or len(calls) < 2 or nested:
            return [call() for call in calls]
        futures = [self.ctx.probe_pool().submit(self._run_probe, call) for call in calls]
        results: list[T] = []
        error: BaseException | None = None
        for future in futures:
            exchanges, result, raised = future.result()
            self.exchanges.extend(exchanges)
            results.append(result)  # type: ignore[arg-type]
            error = error or raised
        self._bound_memory()
        if error is not None:
            raise error
        return results

    def _run_probe(self, call: Callable[[], T]) -> tuple[list[Exchange], T | None, BaseException | None]:
        self._probe.exchanges = exchanges = []
        try:
            return exchanges, call(), None
        except Exception as exc:  # handed to the test's thread, raised there in the order of the calls
            return exchanges, None, exc
        finally:
            del self._probe.exchanges

    def _bound_memory(self) -> None:
        """Keep whole at most BODY_BUDGET bytes of response bodies, the newest; older ones keep only their
        evidence (a test reading such a body again is INCONCLUSIVE, see `Exchange.json`)."""
        kept = 0
        for ex in reversed(self.exchanges):
            kept += len(ex.body)
            if kept > BODY_BUDGET:
                ex.compact()

    def _caller(self, role: str | None, token: str | None) -> str | None:
        """The username a request acts as (evidence `caller`): the role's, or the owner of a cached token."""
        if token is not None:
            role = next((r for r, t in self.ctx.tokens.items() if t == token), None)
        return self.account(role).username if role is not None else None

    def _check_success_body(self, op_id: str, ex: Exchange) -> None:
        op = OPERATIONS_BY_ID[op_id]
        if ex.status not in op.success or op.response_schema is None:
            return
        from ats.checks import expect_schema  # checks import session helpers lazily, avoid a cycle

        if ex.content_type != "application/json" and not ex.content_type.endswith("+json"):
            raise Failure(
                f"PROFILE 1: response bodies are application/json; {ex.describe()} sent Content-Type "
                f"{ex.headers.get('Content-Type')!r}"
            )
        expect_schema(ex, op.response_schema, array=op.action == "list", ref="ST-10")
        if op.action == "new_id":
            field = ID_FIELDS[op.kind]
            body = ex.json()
            if field not in body:
                raise Failure(
                    f'P-05, ST-10: {op_id} must answer {{"{field}": "..."}}; {ex.describe()} answered {ex.text[:200]!r}'
                )

    # -- objects --------------------------------------------------------------------------
    def new_id(self, kind: str = "x") -> str:
        """An id unique per run, worker and call; valid per PROFILE.md section 4, at most 64 characters."""
        return f"{self.ctx.prefix}-{kind[:12]}-{next(self.ctx.counter)}"[:64]

    def build(self, kind: str, **overrides: Any) -> dict[str, Any]:
        """A valid, plausible object of `kind` (request, offer, activation, ack, nack) with `overrides`
        (`interflex.samples`: the IXIT's region, unit and currency, agg1's offers, ids from `new_id`).

        Activations, ACKs and NACKs need `offer_id` (and ACK/NACK may take `activation_id`) in overrides.
        """
        samples = Samples(self.ixit.region_id, self.ixit.unit, self.ixit.currency, self.entity("agg1"), self.new_id)
        return samples.build(kind, **overrides)

    def _post(self, kind: str, obj: dict[str, Any], path: dict[str, str], role: str) -> dict[str, Any]:
        ops = _OPS[kind]
        ex = self.call(ops["post"], as_=role, path=path, json=obj)
        if ex.status not in OPERATIONS_BY_ID[ops["post"]].success:
            raise Inconclusive(
                f"precondition: could not create a {kind} ({ex.describe()}: {ex.text[:200]!r})", "precondition"
            )
        self.track(kind, obj, **path)
        return obj

    def create_request(self, **overrides: Any) -> dict[str, Any]:
        """Post a valid FlexibilityRequest as the DSO (R2); deleted at teardown."""
        return self._post("request", self.build("request", **overrides), {"dso": self.ixit.dso.entity_id}, "dso")

    def create_offer(self, agg: str = "agg1", **overrides: Any) -> dict[str, Any]:
        """Post a valid FlexibilityOffer as aggregator role `agg` (O2); deleted at teardown."""
        obj = self.build("offer", entity_id=self.entity(agg), **overrides)
        return self._post("offer", obj, {"agg": self.entity(agg)}, agg)

    def prepare(self, kind: str, agg: str = "agg1", **overrides: Any) -> dict[str, Any]:
        """A valid object of `kind` ready to post for aggregator role `agg`, with its prerequisites created.

        An offer is `agg`'s own; an activation answers a fresh offer of `agg`; an ACK/NACK answers a
        fresh activation to `agg` (PL-4, PL-5, PL-7 hold). The object itself is not posted.
        """
        kind = short_kind(kind)
        if kind == "request":
            return self.build("request", **overrides)
        if kind == "offer":
            return self.build("offer", **{"entity_id": self.entity(agg), **overrides})
        if kind == "activation":
            offer = self.create_offer(agg)
            return self.build("activation", **{**pick(offer, ACTIVATION_FROM_OFFER), **overrides})
        activation = self.create_activation(agg)
        return self.build(kind, **{**pick(activation, ANSWER_FROM_ACTIVATION), **overrides})

    def create_activation(self, agg: str = "agg1", offer: dict[str, Any] | None = None, **overrides: Any) -> dict:
        """Post a valid FlexibilityActivation of an offer of `agg` (creating the offer when none is given)."""
        offer = offer or self.create_offer(agg)
        obj = self.build("activation", **{**pick(offer, ACTIVATION_FROM_OFFER), **overrides})
        return self._post("activation", obj, {"dso": self.ixit.dso.entity_id, "agg": self.entity(agg)}, "dso")

    def _answer(self, kind: str, agg: str, activation: dict[str, Any] | None, overrides: dict[str, Any]) -> dict:
        activation = activation or self.create_activation(agg)
        obj = self.build(kind, **{**pick(activation, ANSWER_FROM_ACTIVATION), **overrides})
        return self._post(kind, obj, {"agg": self.entity(agg)}, agg)

    def create_ack(self, agg: str = "agg1", activation: dict[str, Any] | None = None, **overrides: Any) -> dict:
        """Post a valid ACK of an activation to `agg` (creating offer and activation when none is given)."""
        return self._answer("ack", agg, activation, overrides)

    def create_nack(self, agg: str = "agg1", activation: dict[str, Any] | None = None, **overrides: Any) -> dict:
        """Post a valid NACK of an activation to `agg` (creating offer and activation when none is given)."""
        return self._answer("nack", agg, activation, overrides)

    def track(self, kind: str, obj: dict[str, Any] | str, agg: str | None = None, dso: str | None = None) -> None:
        """Register an object the test posted itself for deletion at teardown.

        `agg` is an entity id (or a role name such as "agg2"); it defaults to the offer's `entity_id` or agg1.
        """
        kind = short_kind(kind)
        obj_id = obj if isinstance(obj, str) else obj[ID_FIELDS[KINDS[kind]]]
        if agg is not None and agg not in self.ixit.entity_ids.values() and agg in self.ixit.entity_ids:
            agg = self.entity(agg)
        if agg is None:
            agg = obj.get("entity_id") if isinstance(obj, dict) and kind == "offer" else None
        params = {"dso": dso or self.ixit.dso.entity_id, "agg": agg or self.entity("agg1"), _OPS[kind]["param"]: obj_id}
        role = "dso" if kind in ("request", "activation") else (self._role_of(params["agg"]) or "agg1")
        self._created.append((kind, obj_id, params, role))

    def list(
        self, kind: str, as_: str | None = _AUTO, agg: str = "agg1", query: Any = None, dso: str | None = None
    ) -> list[dict[str, Any]]:
        """Read a resource list (R3/O3/V3/K3/N3); a non-200 answer or a schema violation is a FAIL."""
        from ats.checks import expect_status

        kind = short_kind(kind)
        op_id = _OPS[kind]["list"]
        agg_id = self.entity(agg) if agg in self.ixit.entity_ids else agg
        ex = self.call(op_id, as_=as_, path={"dso": dso or self.ixit.dso.entity_id, "agg": agg_id}, query=query)
        expect_status(ex, 200, "ST-6, ST-9", f"{op_id} answers 200 with an array")
        return ex.json()

    def cleanup(self) -> None:
        """Delete everything this test created, in parallel like independent probes (`concurrently`), recorded
        newest first; errors are ignored (best effort).

        The test's exchanges then keep only their evidence (`Exchange.compact`): the runner holds
        on to them until the end of the run.
        """
        created, self._created = self._created, []
        deletions = [partial(self._delete, kind, params, role) for kind, _obj_id, params, role in reversed(created)]
        self.exchanges += [ex for ex in self.concurrently(deletions) if ex is not None]
        for ex in self.exchanges:
            ex.compact()

    def _delete(self, kind: str, params: dict[str, str], role: str) -> Exchange | None:
        """DELETE one created object (R4, O4, V4, K4, N4: independent of each other, section 8 step 5)."""
        op = OPERATIONS_BY_ID[_OPS[kind]["delete"]]
        rel = op.path.format(**{k: quote(str(v), safe="") for k, v in params.items() if k in op.path_params})
        try:
            auth = {"Authorization": f"Bearer {self.token(role)}"}
            ex = self.ctx.sender().send("DELETE", self.ctx.base_url + rel, auth, None)
        except (Inconclusive, Failure) as exc:
            ex = getattr(exc, "exchange", None)  # a sent DELETE stays evidence even when it failed
            if ex is None:
                return None
        ex.caller = self.account(role).username
        return ex

    def records(self) -> list[dict[str, Any]]:
        """The exchanges of this test as redacted C4 evidence dicts."""
        return [ex.record(self.ctx.secrets, list(self.ixit.headers)) for ex in self.exchanges]


def _json_or_none(ex: Exchange) -> Any:
    try:
        return jsonlib.loads(ex.body)
    except (ValueError, UnicodeDecodeError):
        return None
