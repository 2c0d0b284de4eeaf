"""The simulated participants of PROFILE.md section 8 as Locust users (imported only by interflex-load).

Several users share one IXIT account (D-90): a DSO user acts for the IXIT's DSO; aggregator users
take the IXIT's aggregators in turn. Each user logs in itself (A1), keeps its own token (A2 now
and then) and only ever deletes what it created itself, in an order that leaves no legitimate
reason for a rejection (D-91): a DSO user deletes an activation after reading its ACK/NACK, an
aggregator deletes an offer once its request is gone and an ACK/NACK once its activation is gone.
Each answer goes to the process's `Judge` (monitor) and its `Outbox` (ledger).
"""

from __future__ import annotations

import itertools
import json
import random
import ssl
import time
from collections import deque
from dataclasses import dataclass
from typing import Any, ClassVar
from urllib.parse import urlencode

from locust import FastHttpUser, constant, task

from ats.load import traffic
from ats.load.judge import Judge
from ats.load.ledger import DELETED, IN_DOUBT, PENDING, Outbox, Written
from interflex.ixit import Account, Ixit
from interflex.monitor import HttpExchange
from interflex.profile import ID_FIELDS, OPERATIONS_BY_ID

KEEP = 3  # live objects a user keeps of each kind before it deletes the oldest
PROBE_SHARE = 0.3  # how often the duplicate-probe task actually re-posts (ST-2)
FORM = "application/x-www-form-urlencoded"
_UNANSWERED_S = 20.0  # a DSO user deletes an activation nobody answered after this long


@dataclass
class RunContext:
    """What every user of one process shares: the IXIT, the judge and the outbox."""

    ixit: Ixit
    judge: Judge
    outbox: Outbox


@dataclass
class Answer:
    """A judged answer: status (None without one) and the parsed JSON body (None when empty or not JSON)."""

    status: int | None
    body: Any

    @property
    def ok(self) -> bool:
        """2xx."""
        return self.status is not None and 200 <= self.status < 300


def ssl_factory(ixit: Ixit) -> Any:
    """An SSL context factory honouring the IXIT's `tls` settings (verify, CA bundle, client cert)."""

    def factory() -> ssl.SSLContext:
        import gevent.ssl

        verify = ixit.tls.verify
        context = gevent.ssl.create_default_context(cafile=verify if isinstance(verify, str) else None)
        if verify is False:
            context.check_hostname = False
            context.verify_mode = ssl.CERT_NONE
        cert = ixit.tls.cert
        if cert:
            context.load_cert_chain(*((cert,) if isinstance(cert, str) else cert))
        return context

    return factory


class Participant(FastHttpUser):
    """A user of the platform: logs in, calls operations, judges and records every answer."""

    abstract = True
    wait_time = constant(0)
    network_timeout = 30.0
    connection_timeout = 10.0
    insecure = False

    role: ClassVar[str] = ""

    def on_start(self) -> None:
        self.ctx: RunContext = self.environment.interflex  # type: ignore[attr-defined]
        self.ixit = self.ctx.ixit
        self.account = self.pick_account()
        self.token = ""
        self.refresh_token = ""
        self.login()

    def pick_account(self) -> Account:
        """The IXIT account this user acts for."""
        raise NotImplementedError

    # one exchange -------------------------------------------------------------------------

    def call(
        self,
        op_id: str,
        path: str,
        *,
        body: Any = None,
        form: dict[str, str] | None = None,
        expect: frozenset[int] | None = None,
    ) -> Answer:
        """Send operation `op_id` to `path`; judge the answer; count it; an answer outside `expect`
        (default: the operation's successes) is a failure in Locust's statistics."""
        op = OPERATIONS_BY_ID[op_id]
        headers = dict(self.ixit.headers)
        data = b""
        if form is not None:
            data, headers["Content-Type"] = urlencode(form).encode(), FORM
        elif body is not None:
            data, headers["Content-Type"] = json.dumps(body).encode(), "application/json"
        if op.action not in ("token", "refresh"):
            headers["Authorization"] = f"Bearer {self.token}"
        judge, started = self.ctx.judge, time.time()
        ticket = judge.begin(started)
        exchange, parsed = None, None
        try:
            with self.client.request(
                op.method, path, name=op_id, data=data or None, headers=headers, catch_response=True
            ) as response:
                status = response.status_code or None
                content = response.content or b""
                error = None if status else str(getattr(response, "error", "") or "no answer")
                exchange = HttpExchange(
                    index=ticket,
                    method=op.method,
                    url=self.host + path,
                    request_headers={k.lower(): v for k, v in headers.items()},
                    request_body=data,
                    status=status,
                    response_headers=_judged_headers(response.headers),
                    response_body=content,
                    started=started,
                    finished=time.time(),
                    error=error,
                    caller=self.account.username,
                    truncated=op.action in ("list", "post"),  # the judge reads these bodies itself (D-93)
                )
                self.ctx.outbox.status(op_id, status)
                if status in (expect or op.success):
                    response.success()
                else:
                    response.failure(f"{op_id} answered {status}" if status else f"{op_id}: {error}")
                parsed = None
                if content:
                    try:
                        parsed = json.loads(content)
                    except ValueError:
                        parsed = None
        finally:
            judge.end(ticket, exchange, op_id, parsed if exchange is not None else None)
        return Answer(exchange.status if exchange else None, parsed)

    # authentication ---------------------------------------------------------------------------

    def login(self) -> None:
        """A1 with the account's password."""
        form = {"grant_type": "password", "username": self.account.username, "password": self.account.password}
        self._token("A1", form)

    @task(1)
    def refresh(self) -> None:
        """A2 with the newest refresh token now and then (AU-2); a fresh A1 when there is none."""
        if not self.refresh_token or random.random() > 0.05:
            return
        self._token("A2", {"grant_type": "refresh_token", "refresh_token": self.refresh_token})

    def _token(self, op_id: str, form: dict[str, str]) -> None:
        form = {**form, "client_id": self.ixit.client_id, "client_secret": self.ixit.client_secret}
        answer = self.call(op_id, traffic.path(op_id), form=form)
        body = answer.body if answer.ok and isinstance(answer.body, dict) else {}
        if isinstance(body.get("access_token"), str):
            self.token = body["access_token"]
            self.refresh_token = body.get("refresh_token") if isinstance(body.get("refresh_token"), str) else ""
        elif op_id == "A2":
            self.login()

    def resource(self, op_id: str, path: str, body: Any = None, expect: frozenset[int] | None = None) -> Answer:
        """A resource call; after a 401 one fresh login and one repetition (CL-2)."""
        answer = self.call(op_id, path, body=body, expect=expect)
        if answer.status == 401:
            self.login()
            answer = self.call(op_id, path, body=body, expect=expect)
        return answer

    # steps shared by both roles ------------------------------------------------------------------

    def new_id(self, op_id: str) -> str | None:
        """An id from the id getter `op_id` (recorded for ID-1)."""
        kind = OPERATIONS_BY_ID[op_id].kind
        assert kind is not None
        answer = self.resource(op_id, self.id_path(op_id))
        fresh = answer.body.get(ID_FIELDS[kind]) if answer.ok and isinstance(answer.body, dict) else None
        if not isinstance(fresh, str):
            return None
        self.ctx.outbox.issued(kind, fresh)
        return fresh

    def id_path(self, op_id: str) -> str:
        """The path of an id getter for this user."""
        raise NotImplementedError

    def post(self, op_id: str, path: str, obj: dict[str, Any], list_path: str, delete_path: str) -> bool:
        """POST `obj`; True (and recorded) when acknowledged. A 409 for a fresh id is the id getter's fault (ID-1)."""
        op = OPERATIONS_BY_ID[op_id]
        assert op.kind is not None
        object_id = obj[ID_FIELDS[op.kind]]
        answer = self.resource(op_id, path, obj)
        if answer.ok:
            self.ctx.outbox.wrote(Written(op.kind, object_id, list_path, self.account.username, delete_path, obj))
        elif answer.status == 409:
            self.ctx.outbox.findings.add(
                "ID-1",
                op.id[0] + "1",
                "an id fresh from the id getter was already stored: the POST answered 409",
                f"POST {path}: {op.kind} id {object_id!r}",
            )
        return answer.ok

    def delete(self, op_id: str, kind: str, object_id: str, path: str) -> None:
        """DELETE one of this user's acknowledged objects; a 404 means the target lost it (ST-9)."""
        outbox = self.ctx.outbox
        outbox.deleting(kind, object_id, PENDING)
        answer = self.resource(op_id, path)
        if answer.ok:
            outbox.deleting(kind, object_id, DELETED)
            return
        outbox.deleting(kind, object_id, IN_DOUBT)
        if answer.status == 404:
            outbox.findings.add(
                "ST-9",
                op_id,
                "an acknowledged object its owner never deleted is not stored: DELETE answered 404",
                f"DELETE {path}",
            )

    def repost(self, op_id: str, path: str, obj: dict[str, Any]) -> None:
        """ST-2 probe: POST one of this user's stored objects again; anything but a 409 (or a 5xx, ST-7) is ST-2."""
        answer = self.resource(op_id, path, obj, expect=frozenset({409}))
        if answer.ok:
            kind = OPERATIONS_BY_ID[op_id].kind
            assert kind is not None
            self.ctx.outbox.findings.add(
                "ST-2",
                op_id,
                "a POST of an id acknowledged before and never deleted was acknowledged again, not answered 409 "
                "(or the first POST was lost, ST-9)",
                f"POST {path}: {kind} id {obj[ID_FIELDS[kind]]!r} again",
            )


class DsoUser(Participant):
    """The DSO of section 8: posts requests, reads the offers, activates the cheapest, reads the answers."""

    weight = 1
    role = "dso"

    def pick_account(self) -> Account:
        return self.ixit.dso

    def on_start(self) -> None:
        super().on_start()
        self.dso = self.ixit.dso.entity_id
        self.requests: deque[dict[str, Any]] = deque()
        self.activations: deque[tuple[float, str, dict[str, Any]]] = deque()  # (posted at, agg, activation)
        self.activated: set[str] = set()  # offer ids this user activated

    def id_path(self, op_id: str) -> str:
        return traffic.path(op_id, dso=self.dso)

    @task(3)
    def post_request(self) -> None:
        """Step 1: R1, R2; the oldest of more than KEEP requests is deleted (R4)."""
        request_id = self.new_id("R1")
        if request_id is None:
            return
        body = traffic.request(self.ixit, request_id)
        collection = traffic.path("R2", dso=self.dso)
        if self.post("R2", collection, body, collection, traffic.path("R4", dso=self.dso, requestId=request_id)):
            self.requests.append(body)
        if len(self.requests) > KEEP:
            old = self.requests.popleft()["request_id"]
            self.delete("R4", "FlexibilityRequest", old, traffic.path("R4", dso=self.dso, requestId=old))

    @task(4)
    def activate(self) -> None:
        """Step 3: O3, then V1 and V2 for the cheapest offer answering one of this user's requests
        (at most KEEP activations waiting for an answer)."""
        answer = self.resource("O3", traffic.path("O3"))
        if not answer.ok or not isinstance(answer.body, list):
            return
        mine = {r["request_id"] for r in self.requests}
        chosen = traffic.cheapest(answer.body, mine, self.activated) if len(self.activations) < KEEP else None
        agg = chosen.get("entity_id") if chosen else None
        if chosen is None or agg not in {a.entity_id for a in self.ixit.aggregators}:
            return
        activation_id = self.new_id("V1")
        if activation_id is None:
            return
        body = traffic.activation(self.ixit, activation_id, chosen)
        collection = traffic.path("V2", dso=self.dso, agg=agg)
        gone = traffic.path("V4", dso=self.dso, agg=agg, activationId=activation_id)
        if self.post("V2", collection, body, collection, gone):
            self.activated.add(chosen["offer_id"])
            self.activations.append((time.monotonic(), agg, body))

    @task(2)
    def read_answers(self) -> None:
        """Step 5: K3 and N3 of the oldest activation's aggregator; an answered activation is deleted (V4)."""
        if not self.activations:
            return
        posted, agg, body = self.activations[0]
        answered = False
        for op_id in ("K3", "N3"):
            answer = self.resource(op_id, traffic.path(op_id, agg=agg))
            if answer.ok and isinstance(answer.body, list):
                answered |= any(
                    isinstance(a, dict) and a.get("activation_id") == body["activation_id"] for a in answer.body
                )
        if answered or time.monotonic() - posted > _UNANSWERED_S:
            self.activations.popleft()
            self.activated.discard(body["offer_id"])
            activation_id = body["activation_id"]
            path = traffic.path("V4", dso=self.dso, agg=agg, activationId=activation_id)
            self.delete("V4", "FlexibilityActivation", activation_id, path)

    @task(1)
    def probe_duplicate(self) -> None:
        """ST-2: now and then, post a stored request of this user again."""
        if self.requests and random.random() < PROBE_SHARE:
            self.repost("R2", traffic.path("R2", dso=self.dso), self.requests[-1])


class AggregatorUser(Participant):
    """An aggregator of section 8: answers requests with offers, activations with ACKs or NACKs."""

    weight = 2
    role = "aggregator"
    _turn: ClassVar[itertools.count] = itertools.count()

    def pick_account(self) -> Account:
        aggregators = self.ixit.aggregators
        return aggregators[next(AggregatorUser._turn) % len(aggregators)]

    def on_start(self) -> None:
        super().on_start()
        self.agg = self.account.entity_id
        self.dso = self.ixit.dso.entity_id
        self.answered_requests: deque[str] = deque(maxlen=200)
        self.offers: dict[str, dict[str, Any]] = {}  # offer id -> offer (answering request_id)
        self.answers: dict[str, tuple[str, str]] = {}  # activation id -> (kind, answer id)

    def id_path(self, op_id: str) -> str:
        return traffic.path(op_id, agg=self.agg)

    @task(3)
    def answer_requests(self) -> None:
        """Step 2: R3, then O1 and O2 answering one unanswered request; offers of vanished requests go (O4)."""
        answer = self.resource("R3", traffic.path("R3", dso=self.dso))
        if not answer.ok or not isinstance(answer.body, list):
            return
        listed = [r for r in answer.body if isinstance(r, dict) and isinstance(r.get("request_id"), str)]
        present = {r["request_id"] for r in listed}
        for offer_id, offer in list(self.offers.items()):
            if offer["request_id"] not in present:  # the DSO deleted its request: withdraw the offer
                del self.offers[offer_id]
                self.delete("O4", "FlexibilityOffer", offer_id, traffic.path("O4", agg=self.agg, offerId=offer_id))
        fresh = [r for r in listed if r["request_id"] not in self.answered_requests]
        if not fresh or len(self.offers) >= KEEP:
            return
        chosen = random.choice(fresh)
        self.answered_requests.append(chosen["request_id"])
        offer_id = self.new_id("O1")
        if offer_id is None:
            return
        body = traffic.offer(self.ixit, offer_id, self.agg, chosen)
        gone = traffic.path("O4", agg=self.agg, offerId=offer_id)
        if self.post("O2", traffic.path("O2", agg=self.agg), body, traffic.path("O3"), gone):
            self.offers[offer_id] = body

    @task(3)
    def answer_activations(self) -> None:
        """Step 4: V3, then an ACK (K1, K2) or NACK (N1, N2) per new activation of this user's offers.

        An answer whose activation is gone is deleted (K4/N4).
        """
        answer = self.resource("V3", traffic.path("V3", dso=self.dso, agg=self.agg))
        if not answer.ok or not isinstance(answer.body, list):
            return
        listed = [a for a in answer.body if isinstance(a, dict) and isinstance(a.get("activation_id"), str)]
        present = {a["activation_id"] for a in listed}
        for activation_id, (kind, answer_id) in list(self.answers.items()):
            if activation_id not in present:
                del self.answers[activation_id]
                op_id, word = ("K4", "ackId") if kind == "ack" else ("N4", "nackId")
                self.delete(op_id, _KINDS[kind], answer_id, traffic.path(op_id, agg=self.agg, **{word: answer_id}))
        for activated in listed:
            offer_id = activated.get("offer_id")
            mine = isinstance(offer_id, str) and offer_id in self.offers
            if not mine or activated["activation_id"] in self.answers or not traffic.answerable(activated):
                continue
            kind = "nack" if random.random() < 0.1 else "ack"
            getter, poster, deleter, word = (
                ("N1", "N2", "N4", "nackId") if kind == "nack" else ("K1", "K2", "K4", "ackId")
            )
            answer_id = self.new_id(getter)
            if answer_id is None:
                return
            body = traffic.answer(self.ixit, kind, answer_id, activated)
            collection = traffic.path(poster, agg=self.agg)
            gone = traffic.path(deleter, agg=self.agg, **{word: answer_id})
            if self.post(poster, collection, body, collection, gone):
                self.answers[activated["activation_id"]] = (kind, answer_id)
            return

    @task(1)
    def read_own_answers(self) -> None:
        """K3 or N3 of this aggregator."""
        op_id = random.choice(("K3", "N3"))
        self.resource(op_id, traffic.path(op_id, agg=self.agg))

    @task(1)
    def probe_duplicate(self) -> None:
        """ST-2: now and then, post a stored offer of this user again."""
        if self.offers and random.random() < PROBE_SHARE:
            self.repost("O2", traffic.path("O2", agg=self.agg), next(iter(self.offers.values())))


_KINDS = {"ack": "FlexibilityActivationAck", "nack": "FlexibilityActivationNack"}
_HEADERS = ("content-type", "www-authenticate", "allow", "cache-control")  # the response headers rules read


def _judged_headers(headers: Any) -> dict[str, str]:
    """The response headers the monitor's rules read (copying all of them costs time at every request)."""
    if not headers:
        return {}
    found = ((name, headers.get(name)) for name in _HEADERS)
    return {name: value for name, value in found if value is not None}
