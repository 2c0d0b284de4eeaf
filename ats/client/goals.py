"""CL-8 from the client's side, and the goal of a scenario: did the client do what its role needs?

Each function returns the problems found (empty: satisfied), each one sentence naming what the client
did not do, so a client that never does what a scenario needs gets a FAIL whose reason names the cause.
"""

from __future__ import annotations

from ats.client.judge import ScenarioJudge, Sent

_REQUEST, _OFFER, _ACTIVATION = "FlexibilityRequest", "FlexibilityOffer", "FlexibilityActivation"
_ACK, _NACK = "FlexibilityActivationAck", "FlexibilityActivationNack"


def _ok(sent: Sent) -> bool:
    return sent.status is not None and 200 <= sent.status < 300


def _read(judge: ScenarioJudge, op_id: str, after: float = 0.0, **params: str) -> bool:
    """The client read `op_id` (2xx) under these path parameters, starting at or after `after`."""
    return any(
        s.op is not None
        and s.op.id == op_id
        and _ok(s)
        and s.ex.started >= after
        and all(s.params.get(k) == v for k, v in params.items())
        for s in judge.sent
    )


def dso_request(judge: ScenarioJudge) -> list[str]:
    """A DSO client stores one request (R1 or its own id, R2) and reads the offers (O3)."""
    stored = judge.stored_of(_REQUEST)
    if not stored:
        posted = judge.posts(_REQUEST)
        return [f"the client stored no request (R2){' in ' + str(len(posted)) + ' tries' if posted else ''}"]
    problems = []
    if len(stored) > 1:
        ids = ", ".join(s.object_id or "?" for s in stored)
        problems.append(f"the client stored {len(stored)} requests ({ids}); it runs one negotiation for one request")
    if not _read(judge, "O3", after=stored[0].ex.finished):
        problems.append("the client never read the offers (O3) after posting its request")
    return problems


def dso_activations(judge: ScenarioJudge) -> list[str]:
    """A DSO client activates only offers answering its request with power > 0, once each, under the offering
    aggregator's path, with the offer's offer_id, unit and currency and at most its power (CL-8, PL-5); and it
    activates the one feasible offer the harness made."""
    k = judge.knowledge
    requests = {s.object_id for s in judge.stored_of(_REQUEST)}
    problems, per_offer = [], {}
    for sent in judge.stored_of(_ACTIVATION):
        body = sent.body if isinstance(sent.body, dict) else {}
        offer_id = body.get("offer_id")
        offer = k.offers.get(offer_id) if isinstance(offer_id, str) else None
        if offer is None:
            problems.append(f"activation {sent.object_id} names no offer the aggregators made ({offer_id!r})")
            continue
        per_offer.setdefault(offer_id, []).append(sent.object_id)
        if offer.get("request_id") not in requests:
            problems.append(
                f"activation {sent.object_id} activates offer {offer_id}, which answers no request of its own"
            )
        elif offer_id in k.decoys:
            problems.append(f"activation {sent.object_id} activates offer {offer_id} of flexible_power 0")
        if k.offer_agg.get(offer_id) != sent.params.get("agg"):
            problems.append(f"activation {sent.object_id} is not under the path of the offering aggregator")
        for name in ("unit", "currency"):
            if body.get(name) != offer.get(name):
                problems.append(f"activation {sent.object_id}: {name} is not the offer's")
        power, limit = body.get("flexible_power"), offer.get("flexible_power")
        if isinstance(power, int | float) and isinstance(limit, int | float) and power > limit:
            problems.append(f"activation {sent.object_id}: flexible_power {power:g} exceeds the offer's {limit:g}")
    for offer_id, ids in per_offer.items():
        if len(ids) > 1:
            problems.append(f"offer {offer_id} was activated {len(ids)} times ({', '.join(map(str, ids))})")
    feasible = [o for o, offer in k.offers.items() if o not in k.decoys and offer.get("request_id") in requests]
    if requests and feasible and not any(o in per_offer for o in feasible):
        problems.append(f"the client never activated the one feasible offer ({feasible[0]}) answering its request")
    return problems


def dso_answers_read(judge: ScenarioJudge) -> list[str]:
    """A DSO client reads the ACK or NACK (K3/N3) of each activation it posted, after it was posted."""
    k = judge.knowledge
    activations = [s.object_id for s in judge.stored_of(_ACTIVATION)]
    answered = [a for a in activations if a in k.answers]
    if not answered:
        return ["no activation of the client was answered, so it had no ACK or NACK to read (it never activated)"]
    problems = []
    for activation_id in answered:
        kind, _, when = k.answers[activation_id]
        op = "K3" if kind == "ack" else "N3"
        agg = k.activation_agg.get(activation_id, "")
        if not _read(judge, op, after=when, agg=agg):
            problems.append(f"the client never read the {kind.upper()} ({op} of {agg}) of activation {activation_id}")
    return problems


def aggregator_offers(judge: ScenarioJudge) -> list[str]:
    """An aggregator client reads its DSO's requests (R3) and answers each with exactly one offer carrying the
    request's request_id and its own entity_id (CL-8, P-03, PL-4)."""
    k = judge.knowledge
    if not k.requests:
        return ["the harness DSO could not post its requests (see the notes)"]
    problems = []
    dso = judge.result.counterparts[0].entity_id
    if not _read(judge, "R3", dso=dso):
        problems.append(f"the client never read the requests (R3) of {dso}")
    for request_id in k.requests:
        offers = [
            s for s in judge.stored_of(_OFFER) if isinstance(s.body, dict) and s.body.get("request_id") == request_id
        ]
        if not offers:
            problems.append(f"the client stored no offer answering request {request_id} (O2 with its request_id)")
        elif len(offers) > 1:
            problems.append(f"the client stored {len(offers)} offers for request {request_id}; exactly one is needed")
        for sent in offers:
            if sent.body.get("entity_id") != judge.user.entity_id:
                problems.append(f"offer {sent.object_id}: entity_id is not the client's own")
    return problems


def aggregator_answers(judge: ScenarioJudge) -> list[str]:
    """An aggregator client reads its activations (V3) and answers each with exactly one ACK or NACK whose
    offer_id and activation_id are the activation's (CL-8, P-04, PL-7)."""
    k = judge.knowledge
    if not k.activations:
        offers = judge.stored_of(_OFFER)
        if offers and all(isinstance(s.body, dict) and s.body.get("flexible_power") == 0 for s in offers):
            return []  # it offered 0 kW (finding 002): nothing to activate, nothing to answer
        return ["the harness DSO activated no offer of the client (no offer with flexible_power > 0 was stored)"]
    problems = []
    if not _read(judge, "V3", agg=judge.user.entity_id):
        problems.append("the client never read its activations (V3)")
    answers = [*judge.stored_of(_ACK), *judge.stored_of(_NACK)]
    for activation_id, activation in k.activations.items():
        mine = [s for s in answers if isinstance(s.body, dict) and s.body.get("activation_id") == activation_id]
        loose = [
            s
            for s in answers
            if isinstance(s.body, dict)
            and "activation_id" not in s.body
            and s.body.get("offer_id") == activation.get("offer_id")
        ]
        if not mine and loose:
            problems.append(f"the answer to activation {activation_id} does not carry its activation_id (P-04)")
        elif not mine:
            problems.append(f"the client stored no ACK or NACK (K2/N2) for activation {activation_id}")
        elif len(mine) + len(loose) > 1:
            problems.append(f"activation {activation_id} was answered {len(mine) + len(loose)} times; exactly once")
        for sent in mine:
            if sent.body.get("offer_id") != activation.get("offer_id"):
                problems.append(f"the answer {sent.object_id} to {activation_id} names another offer_id")
    return problems


def goal(judge: ScenarioJudge) -> list[str]:
    """What the client did not achieve of its role's negotiation in this scenario (empty: all of it)."""
    if judge.role == "dso":
        for check in (dso_request, dso_activations, dso_answers_read):
            problems = check(judge)
            if problems:
                return problems
        return []
    return aggregator_offers(judge) + aggregator_answers(judge)


def stored_once(judge: ScenarioJudge) -> list[str]:
    """Nothing the client meant once was stored twice: one request per DSO run, one offer per request, one
    ACK or NACK per activation (CL-6: a repetition reuses the id, so a 409 on it means "stored")."""
    problems = []
    if judge.role == "dso":
        requests = judge.stored_of(_REQUEST)
        if len(requests) > 1:
            problems.append(f"the client stored {len(requests)} requests for one negotiation")
        return problems
    per_request: dict[object, int] = {}
    for sent in judge.stored_of(_OFFER):
        key = sent.body.get("request_id") if isinstance(sent.body, dict) else None
        per_request[key] = per_request.get(key, 0) + 1
    problems += [f"the client stored {n} offers for request {r}" for r, n in per_request.items() if n > 1]
    per_activation: dict[object, int] = {}
    for sent in [*judge.stored_of(_ACK), *judge.stored_of(_NACK)]:
        key = sent.body.get("activation_id") if isinstance(sent.body, dict) else None
        per_activation[key] = per_activation.get(key, 0) + 1
    problems += [f"the client stored {n} answers to activation {a}" for a, n in per_activation.items() if n > 1]
    return problems


def posted(judge: ScenarioJudge) -> list[str]:
    """The client posted at least one object (what a scenario deviating on the first POST needs)."""
    return (
        [] if judge.posts() else ["the client never posted an object (R2/O2/V2/K2/N2), so the scenario tested nothing"]
    )
