"""The other side of PROFILE.md section 8, played by the harness while the client under test runs.

For a DSO client: two aggregators answer each of its requests (one offer that covers it, one of
`flexible_power` 0, finding 002; the second also posts a cheaper offer that answers no request, which a
DSO must not activate, CL-8) and ACK or NACK each activation of their offers. For an aggregator client: a
DSO posts requests for the client's region and activates each offer of the client with power > 0.
Every party polls the platform with a short period and marks its requests with the harness header.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta, timezone
from typing import TYPE_CHECKING, Any

import requests

from ats.client.platform import HARNESS_HEADER, HarnessPlatform, User
from interflex.client import InterflexClient, InterflexError

POLL = 0.05  # seconds between the counterparts' reads
if TYPE_CHECKING:
    from ats.client.scenarios import Plan

REQUESTED = 40.0
PRICE = 100.0


def rfc3339(moment: datetime, offset: timedelta | None = None) -> str:
    """An aware datetime as RFC 3339 text: with Z, or at the given UTC offset (CL-9: any offset)."""
    if offset is None:
        return moment.astimezone(UTC).replace(microsecond=0).isoformat().replace("+00:00", "Z")
    return moment.astimezone(timezone(offset)).replace(microsecond=0).isoformat()


def _number(value: object) -> float | None:
    return float(value) if isinstance(value, int | float) and not isinstance(value, bool) else None


@dataclass
class Knowledge:
    """What the counterparts did and saw: the judge reads it (ids of the harness's own objects, the
    client's objects the harness answered, and when)."""

    requests: dict[str, dict] = field(default_factory=dict)  # request_id -> request (harness DSO's, or the client's)
    offers: dict[str, dict] = field(default_factory=dict)  # offer_id -> offer (harness aggregators', or the client's)
    offer_agg: dict[str, str] = field(default_factory=dict)  # offer_id -> aggregator entity (path)
    activations: dict[str, dict] = field(default_factory=dict)  # activation_id -> activation
    activation_agg: dict[str, str] = field(default_factory=dict)  # activation_id -> aggregator entity (path)
    answers: dict[str, tuple[str, dict, float]] = field(default_factory=dict)  # activation_id -> (kind, body, time)
    decoys: set[str] = field(default_factory=set)  # offers a DSO must not activate (0 kW, or answering no request)
    errors: list[str] = field(default_factory=list)  # the counterparts' own failures (for INCONCLUSIVE causes)
    finished_at: float | None = None  # when the scenario's end condition first held


class _Party:
    def __init__(self, platform: HarnessPlatform, user: User, session: requests.Session) -> None:
        self.user = user
        self.client = InterflexClient(
            platform.base_url,
            client_id=platform.client_id,
            client_secret=platform.client_secret,
            username=user.username,
            password=user.password,
            timeout=5,
            session=session,
        )


class Counterparts(threading.Thread):
    """Plays the counterparts of one scenario until `stop()`; `knowledge` holds what happened."""

    def __init__(self, platform: HarnessPlatform, role: str, client: User, others: list[User], plan: Plan) -> None:
        super().__init__(daemon=True, name="client-harness-parties")
        self.platform, self.role, self.client_user, self.plan = platform, role, client, plan
        self.knowledge = Knowledge()
        self._stop_event = threading.Event()
        self._session = requests.Session()
        self._session.headers[HARNESS_HEADER] = platform.harness_key
        self._session.trust_env = False
        self.parties = [_Party(platform, user, self._session) for user in others]
        self._lock = threading.Lock()

    def _time(self, moment: datetime) -> str:
        return rfc3339(moment, self.plan.offset)

    def stop(self) -> None:
        self._stop_event.set()
        self.join(timeout=10)
        self._session.close()

    def _sleep(self, seconds: float) -> bool:
        """Wait; False when the scenario is being stopped."""
        return not self._stop_event.wait(seconds)

    def run(self) -> None:
        try:
            if self.role == "dso":
                self._serve_dso_client()
            else:
                self._serve_aggregator_client()
        except Exception as exc:
            self.knowledge.errors.append(f"the harness counterparts stopped: {type(exc).__name__}: {exc}")

    def _try(self, what: str, action: Any) -> Any:
        try:
            return action()
        except InterflexError as exc:
            message = f"{what}: {exc}"
            if message not in self.knowledge.errors[-20:]:
                self.knowledge.errors.append(message)
            return None

    # -- a DSO client: two aggregators ---------------------------------------------------------------
    def _serve_dso_client(self) -> None:
        first, second = self.parties
        dso = self.client_user.entity_id
        answered: set[str] = set()
        seen_activations: dict[str, float] = {}
        while self._sleep(POLL):
            listed = self._try("R3 as " + first.user.entity_id, lambda: first.client.get_all_requests(dso)) or []
            for request in listed:
                rid = request.get("request_id") if isinstance(request, dict) else None
                if not isinstance(rid, str) or rid in answered:
                    continue
                answered.add(rid)
                self.knowledge.requests[rid] = request
                if not self._sleep(self.plan.offer_delay):
                    return
                self._offer(first, request, _number(request.get("flexible_power")) or REQUESTED, PRICE, rid)
                self._offer(second, request, 0.0, 0.0, rid)
                self._offer(second, request, _number(request.get("flexible_power")) or REQUESTED, 1.0, None)
            for party in (first, second):
                agg = party.user.entity_id
                activations = self._try(f"V3 as {agg}", lambda p=party, a=agg: p.client.get_all_activations(dso, a))
                for activation in activations or []:
                    aid = activation.get("activation_id") if isinstance(activation, dict) else None
                    if not isinstance(aid, str) or aid in seen_activations:
                        continue
                    seen_activations[aid] = time.time()
                    self.knowledge.activations[aid] = activation
                    self.knowledge.activation_agg[aid] = agg
            for aid, seen in list(seen_activations.items()):
                if aid in self.knowledge.answers or time.time() - seen < self.plan.answer_delay:
                    continue
                agg = self.knowledge.activation_agg[aid]
                party = first if agg == first.user.entity_id else second
                activation = self.knowledge.activations[aid]
                ours = activation.get("offer_id") in self.knowledge.offers and agg == first.user.entity_id
                self._answer(party, activation, "ack" if ours and self.plan.answer == "ack" else "nack")
            if self.knowledge.answers and self.knowledge.finished_at is None:
                self.knowledge.finished_at = time.time()

    def _offer(self, party: _Party, request: dict, power: float, price: float, request_id: str | None) -> None:
        now = datetime.now(UTC)
        offer_id = self._try(f"O1 as {party.user.entity_id}", lambda: party.client.get_offer_id(party.user.entity_id))
        if offer_id is None:
            return
        offer = {
            "offer_id": offer_id,
            "entity_id": party.user.entity_id,
            "timestamp": self._time(now),
            "deadline": request.get("deadline") if isinstance(request.get("deadline"), str) else self._time(now),
            "region_id": request.get("region_id", "region-1"),
            "flexible_power": power,
            "granularity": 10.0,
            "duration": _number(request.get("duration")) or 900.0,
            "unit": request.get("unit", "kW"),
            "activation_time": request.get("activation_time") or self._time(now + timedelta(minutes=30)),
            "flex_price": price,
            "flex_type": "load-reduction",
            "currency": self.plan.currency,
        }
        if request_id is not None:
            offer["request_id"] = request_id
        if power == 0 or request_id is None:
            self.knowledge.decoys.add(offer["offer_id"])
        self.knowledge.offers[offer["offer_id"]] = offer
        self.knowledge.offer_agg[offer["offer_id"]] = party.user.entity_id
        self._try(f"O2 as {party.user.entity_id}", lambda: party.client.post_offer(party.user.entity_id, offer))

    def _answer(self, party: _Party, activation: dict, kind: str) -> None:
        agg = party.user.entity_id
        get_id = party.client.get_activation_ack_id if kind == "ack" else party.client.get_activation_nack_id
        post = party.client.post_activation_ack if kind == "ack" else party.client.post_activation_nack
        answer_id = self._try(f"{'K1' if kind == 'ack' else 'N1'} as {agg}", lambda: get_id(agg))
        if answer_id is None:
            return
        power = _number(activation.get("flexible_power")) or 1.0
        body = {
            "ack_id" if kind == "ack" else "nack_id": answer_id,
            "timestamp": self._time(datetime.now(UTC)),
            "offer_id": activation.get("offer_id"),
            "flexible_power": power,
            "granularity": min(_number(activation.get("granularity")) or power, power),
            "duration": _number(activation.get("duration")) or 900.0,
            "unit": activation.get("unit", "kW"),
            "activation_time": activation.get("activation_time") or self._time(datetime.now(UTC)),
            "activation_id": activation.get("activation_id"),
        }
        if kind == "nack":
            body["reason"] = "not deliverable (test harness)"
        self.knowledge.answers[body["activation_id"]] = (kind, body, time.time())
        self._try(f"{'K2' if kind == 'ack' else 'N2'} as {agg}", lambda: post(agg, body))

    # -- an aggregator client: one DSO ----------------------------------------------------------------
    def _serve_aggregator_client(self) -> None:
        (dso,) = self.parties
        dso_id, agg = dso.user.entity_id, self.client_user.entity_id
        if not self._sleep(self.plan.offer_delay):
            return
        for number in range(self.plan.requests):
            self._post_request(dso, number)
        activated: set[str] = set()
        while self._sleep(POLL):
            offers = self._try("O3 as " + dso_id, dso.client.get_all_offers) or []
            for offer in offers:
                if not isinstance(offer, dict) or not isinstance(offer.get("offer_id"), str):
                    continue
                if offer.get("entity_id") != agg or offer.get("request_id") not in self.knowledge.requests:
                    continue
                oid = offer["offer_id"]
                self.knowledge.offers.setdefault(oid, offer)
                self.knowledge.offer_agg.setdefault(oid, agg)
                power = _number(offer.get("flexible_power"))
                if oid in activated or not power or power <= 0:
                    continue
                activated.add(oid)
                if not self._sleep(self.plan.answer_delay):
                    return
                self._activate(dso, offer)
            for op, kind, read in (
                ("K3", "ack", dso.client.get_all_activation_acks),
                ("N3", "nack", dso.client.get_all_activation_nacks),
            ):
                for answer in self._try(f"{op} as {dso_id}", lambda r=read: r(agg)) or []:
                    aid = answer.get("activation_id") if isinstance(answer, dict) else None
                    if aid is None and isinstance(answer, dict):
                        aid = next(
                            (
                                a
                                for a, act in self.knowledge.activations.items()
                                if act["offer_id"] == answer.get("offer_id")
                            ),
                            None,
                        )
                    if isinstance(aid, str) and aid in self.knowledge.activations:
                        self.knowledge.answers.setdefault(aid, (kind, answer, time.time()))
            if self._complete() and self.knowledge.finished_at is None:
                self.knowledge.finished_at = time.time()

    def _complete(self) -> bool:
        """Every request answered by an offer of the client, every activation by an ACK or NACK."""
        offered = {o.get("request_id") for o in self.knowledge.offers.values()}
        return set(self.knowledge.requests) <= offered and set(self.knowledge.activations) <= set(
            self.knowledge.answers
        )

    def _post_request(self, dso: _Party, number: int) -> None:
        now = datetime.now(UTC)
        request_id = self._try("R1", lambda: dso.client.get_request_id(dso.user.entity_id))
        if request_id is None:
            return
        request = {
            "request_id": request_id,
            "timestamp": self._time(now),
            "deadline": self._time(now + self.plan.deadline_in),
            "region_id": self.plan.region_id,
            "flexible_power": REQUESTED + 10 * number,
            "duration": 900.0,
            "unit": self.plan.unit,
            "activation_time": self._time(now + self.plan.activation_in),
        }
        self.knowledge.requests[request_id] = request
        self._try("R2", lambda: dso.client.post_request(dso.user.entity_id, request))

    def _activate(self, dso: _Party, offer: dict) -> None:
        dso_id, agg = dso.user.entity_id, self.client_user.entity_id
        request = self.knowledge.requests[offer["request_id"]]
        power = min(_number(offer.get("flexible_power")) or 0.0, request["flexible_power"])
        activation_id = self._try("V1", lambda: dso.client.get_activation_id(dso_id))
        if activation_id is None:
            return
        granularity = _number(offer.get("granularity")) or power
        activation = {
            "activation_id": activation_id,
            "timestamp": self._time(datetime.now(UTC)),
            "offer_id": offer["offer_id"],
            "flexible_power": power,
            "granularity": min(granularity, power),
            "duration": _number(offer.get("duration")) or 900.0,
            "unit": offer.get("unit"),
            "activation_time": offer.get("activation_time"),
            "flex_price": _number(offer.get("flex_price")) or 0.0,
            "flex_type": offer.get("flex_type") or "load-reduction",
            "currency": offer.get("currency"),
        }
        self.knowledge.activations[activation_id] = activation
        self.knowledge.activation_agg[activation_id] = agg
        self._try("V2", lambda: dso.client.post_activation(dso_id, agg, activation))
