#!/usr/bin/env python3
"""Request-based flexibility negotiation (PROFILE.md section 8, NG-1; D3.5 figure 3-2).

One DSO and two aggregators negotiate through an InterFlex server with
`interflex.client.InterflexClient`, and every message is printed as a numbered step:

1. the DSO gets a request id (R1) and posts a FlexibilityRequest (R2);
2. both aggregators read the DSO's requests (R3), get an offer id (O1) and post an offer
   answering the request (O2, `request_id` per P-03): the first a cheap one, the second a
   pricier one, or with `--decline` an offer of 0 kW (finding 002);
3. the DSO reads all offers (O3), picks the cheapest feasible one, gets an activation id (V1)
   and activates it (V2);
4. the winner reads its activations (V3) and acknowledges (K1, K2), or with `--nack` refuses
   (N1, N2); the DSO reads the answer (K3/N3);
5. everybody deletes what they created (K4/N4, V4, O4, R4).

    python examples/negotiation.py                       # bundled reference server, in-process
    python examples/negotiation.py --nack --decline
    python examples/negotiation.py --ixit my-ixit.yaml   # a running server (IXIT: PROFILE.md section 10)
    python examples/negotiation.py --base-url http://127.0.0.1:8080/interflex/api/v1 --ixit my-ixit.yaml

Exit status: 0 when the negotiation completed, 1 when a step failed, 2 for a usage or setup error.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import requests

from ats.errors import ConfigError
from ats.ixit import Account, Ixit, default_ixit, load_ixit
from interflex.client import InterflexClient, InterflexError
from interflex.samples import Samples
from interflex.validation import is_valid, validate

REQUESTED_POWER = 40.0
DURATION = 900.0
PRICES = (120.0, 150.0)  # the first aggregator's offer, the second's
SAMPLES = Samples()  # activations and answers copy every platform value from what they refer to


class SetupError(Exception):
    """A bad base URL or a bundled server that cannot start (exit status 2, like a bad IXIT)."""


class StepFailed(Exception):
    """A step of the negotiation did not do what PROFILE.md section 8 requires (exit status 1)."""


def _now() -> datetime:
    return datetime.now(UTC).replace(microsecond=0)


def _rfc3339(moment: datetime) -> str:
    return moment.isoformat().replace("+00:00", "Z")


def _instant(value: object) -> datetime | None:
    if not isinstance(value, str):
        return None
    try:
        moment = datetime.fromisoformat(value.upper().replace("Z", "+00:00"))
    except ValueError:
        return None
    return moment if moment.tzinfo is not None else None


def _number(value: object) -> float | None:
    return float(value) if isinstance(value, int | float) and not isinstance(value, bool) else None


def _checked(kind: str, message: dict[str, Any]) -> dict[str, Any]:
    findings = validate(message, kind)
    if not is_valid(findings):
        raise StepFailed(f"built an invalid {kind}: " + "; ".join(map(str, findings)))
    return message


def build_request(request_id: str, ixit: Ixit, now: datetime) -> dict[str, Any]:
    """The DSO's FlexibilityRequest: offers until now + 10 min, activation at now + 30 min (PL-1, PL-6)."""
    samples = Samples(ixit.region_id, ixit.unit, ixit.currency)
    return _checked(
        "FlexibilityRequest",
        samples.build(
            "request",
            request_id=request_id,
            timestamp=_rfc3339(now),
            deadline=_rfc3339(now + timedelta(minutes=10)),
            flexible_power=REQUESTED_POWER,
            duration=DURATION,
            activation_time=_rfc3339(now + timedelta(minutes=30)),
        ),
    )


def build_offer(offer_id: str, agg: str, request: dict[str, Any], power: float, price: float, currency: str) -> dict:
    """An offer answering `request` (P-03); `power` 0 means "no flexibility available" (finding 002)."""
    samples = Samples(request["region_id"], request["unit"], currency, aggregator=agg)
    answered = {k: request[k] for k in ("request_id", "deadline", "duration", "activation_time")}
    return _checked(
        "FlexibilityOffer",
        samples.build(
            "offer",
            offer_id=offer_id,
            flexible_power=power,
            flex_price=price if power else 0.0,
            flex_type="load-reduction",
            **answered,
        ),
    )


def build_activation(activation_id: str, offer: dict[str, Any], power: float) -> dict[str, Any]:
    """The activation of `offer` for `power` (≤ the offer's power, same unit and currency: PL-3, PL-5)."""
    activation = SAMPLES.activation(
        offer, activation_id=activation_id, flexible_power=power, granularity=min(offer["granularity"], power)
    )
    return _checked("FlexibilityActivation", activation)


def build_answer(kind: str, answer_id: str, activation: dict[str, Any]) -> dict[str, Any]:
    """The winner's ACK or NACK (`kind`) of `activation`, citing it by `activation_id` (P-04, PL-7)."""
    if kind == "FlexibilityActivationNack":
        answer = SAMPLES.answer(kind, activation, nack_id=answer_id, reason="units unavailable at the activation time")
    else:
        answer = SAMPLES.answer(kind, activation, ack_id=answer_id)
    return _checked(kind, answer)


def select_offer(offers: list[dict[str, Any]], request: dict[str, Any], currency: str) -> dict[str, Any] | None:
    """The cheapest feasible offer answering `request` (PROFILE.md section 8, step 3), or None.

    Feasible: it is a valid FlexibilityOffer that names the request (P-03), covers the requested
    power in the request's unit and region, is priced in `currency`, and its deadline has not
    passed. Ties go to the lower id.
    """
    now = datetime.now(UTC)
    feasible = [
        offer
        for offer in offers
        if is_valid(validate(offer, "FlexibilityOffer"))
        and offer.get("request_id") == request["request_id"]
        and (_number(offer.get("flexible_power")) or 0.0) >= request["flexible_power"]
        and _number(offer.get("flex_price")) is not None
        and offer.get("unit") == request["unit"]
        and offer.get("region_id") == request["region_id"]
        and offer.get("currency") == currency
        and (deadline := _instant(offer.get("deadline"))) is not None
        and deadline >= now
    ]
    return min(feasible, key=lambda offer: (offer["flex_price"], str(offer.get("offer_id"))), default=None)


@dataclass
class Party:
    account: Account
    client: InterflexClient

    @property
    def name(self) -> str:
        return self.account.entity_id


class Negotiation:
    """The message sequence of PROFILE.md section 8, printed as numbered steps."""

    def __init__(self, ixit: Ixit, base_url: str, *, nack: bool = False, decline: bool = False) -> None:
        self.ixit = ixit
        self.nack = nack
        self.decline = decline
        self.number = 0
        self._undo: list[tuple[Party, str, str, Callable[[], object]]] = []
        self._session = requests.Session()  # shared keep-alive pool with the IXIT's TLS, headers, proxies
        self._session.headers.update(ixit.headers)
        self._session.verify, self._session.cert = ixit.tls.verify, ixit.tls.cert
        self._session.trust_env = ixit.trust_env

        def party(account: Account) -> Party:
            client = InterflexClient(
                base_url,
                client_id=ixit.client_id,
                client_secret=ixit.client_secret,
                username=account.username,
                password=account.password,
                session=self._session,
            )
            return Party(account, client)

        self.dso = party(ixit.dso)
        self.first, self.second = (party(account) for account in ixit.aggregators[:2])

    def close(self) -> None:
        self._session.close()

    # -- printing and error handling -----------------------------------------------------------

    def _print(self, actor: str, op: str, text: str) -> None:
        self.number += 1
        print(f"{self.number:3}. {actor:<6} {op:<3} {text}", flush=True)

    def _note(self, actor: str, text: str) -> None:
        print(f"     {actor:<6}     {text}", flush=True)

    def _fail(self, party: Party, op: str, text: str) -> StepFailed:
        return StepFailed(f"step {self.number + 1} ({party.name} {op}): {text}")

    def _do(self, party: Party, op: str, action: Callable[[], Any], describe: Callable[[Any], str]) -> Any:
        """Run one operation; print it as the next step, or raise `StepFailed` naming the step."""
        try:
            result = action()
        except InterflexError as exc:
            raise self._fail(party, op, str(exc)) from None
        self._print(party.name, op, describe(result))
        return result

    def _expect_listed(self, party: Party, op: str, listed: list[dict[str, Any]], field: str, value: str) -> None:
        if not any(isinstance(item, dict) and item.get(field) == value for item in listed):
            raise StepFailed(f"step {self.number} ({party.name} {op}): {value} is not in the list (ST-9)")

    # -- the five phases of PROFILE.md section 8 ----------------------------------------------------

    def run(self) -> str:
        """Run every step; return the closing summary. Raises `StepFailed`."""
        for party in (self.dso, self.first, self.second):
            self._do(
                party,
                "A1",
                party.client.authenticate,
                lambda r, p=party: (
                    f"logs in as {p.account.username} ({r.get('token_type')} token, {r.get('expires_in')} s)"
                ),
            )
        request = self._post_request()
        self._offer(self.first, request, REQUESTED_POWER, PRICES[0])
        self._offer(self.second, request, 0.0 if self.decline else REQUESTED_POWER, PRICES[1])
        winner, activation = self._activate(request)
        loser = self.second if winner is self.first else self.first
        self._answer(winner, activation)
        self._note(loser.name, "receives no activation: its offer counts as rejected after the deadline (finding 005)")
        while self._undo:
            party, op, what, delete = self._undo.pop()
            self._do(party, op, delete, lambda _, w=what: f"deletes {w}")
        verdict = "refuses (NACK)" if self.nack else "delivers (ACK)"
        return (
            f"Negotiation complete: {winner.name} {verdict} {activation['flexible_power']:g} "
            f"{activation['unit']} for request {request['request_id']}."
        )

    def _post_request(self) -> dict[str, Any]:
        dso = self.dso
        request_id = self._do(dso, "R1", lambda: dso.client.get_request_id(dso.name), lambda r: f"gets request id {r}")
        request = build_request(request_id, self.ixit, _now())
        self._do(
            dso,
            "R2",
            lambda: dso.client.post_request(dso.name, request),
            lambda _: (
                f"posts request {request_id}: {REQUESTED_POWER:g} {request['unit']} for {DURATION:g} s "
                f"in {request['region_id']}, offers until {request['deadline']}"
            ),
        )
        self._undo.append((dso, "R4", f"request {request_id}", lambda: dso.client.delete_request(dso.name, request_id)))
        return request

    def _offer(self, agg: Party, request: dict[str, Any], power: float, price: float) -> None:
        dso_name, request_id, unit = self.dso.name, request["request_id"], request["unit"]
        stored = self._do(
            agg,
            "R3",
            lambda: agg.client.get_all_requests(dso_name),
            lambda rs: f"reads {dso_name}'s requests: {len(rs)} stored",
        )
        self._expect_listed(agg, "R3", stored, "request_id", request_id)
        offer_id = self._do(agg, "O1", lambda: agg.client.get_offer_id(agg.name), lambda r: f"gets offer id {r}")
        offer = build_offer(offer_id, agg.name, request, power, price, self.ixit.currency)
        what = (
            f"{power:g} {unit} at {price:.2f} {self.ixit.currency}"
            if power
            else f"0 {unit}, no flexibility available (finding 002)"
        )
        self._do(
            agg,
            "O2",
            lambda: agg.client.post_offer(agg.name, offer),
            lambda _: f"posts offer {offer_id} for {request_id}: {what}",
        )
        self._undo.append((agg, "O4", f"offer {offer_id}", lambda: agg.client.delete_offer(agg.name, offer_id)))

    def _activate(self, request: dict[str, Any]) -> tuple[Party, dict[str, Any]]:
        dso, request_id = self.dso, request["request_id"]

        def answering(offers: list[Any]) -> list[dict[str, Any]]:
            return [o for o in offers if isinstance(o, dict) and o.get("request_id") == request_id]

        offers = self._do(
            dso,
            "O3",
            dso.client.get_all_offers,
            lambda os: f"reads all offers: {len(answering(os))} answer {request_id}",
        )
        chosen = select_offer(offers, request, self.ixit.currency)
        if chosen is None:
            answers = answering(offers)
            invalid = sum(not is_valid(validate(o, "FlexibilityOffer")) for o in answers)
            why = (
                f"none of the {len(answers)} offers answering it is feasible ({invalid} not a valid FlexibilityOffer)"
                if answers
                else "no offer carries its request_id (P-03)"
            )
            raise StepFailed(f"step {self.number} ({dso.name} O3): no offer to activate for {request_id}: {why}")
        winner = next((a for a in (self.first, self.second) if a.name == chosen.get("entity_id")), None)
        if winner is None:
            raise StepFailed(f"step {self.number} ({dso.name} O3): the chosen offer names an unknown aggregator")
        self._note(
            dso.name,
            f"selects {winner.name}'s offer {chosen['offer_id']}, the cheapest feasible "
            f"({chosen['flex_price']:.2f} {chosen['currency']})",
        )
        activation_id = self._do(
            dso, "V1", lambda: dso.client.get_activation_id(dso.name), lambda r: f"gets activation id {r}"
        )
        activation = build_activation(activation_id, chosen, REQUESTED_POWER)
        self._do(
            dso,
            "V2",
            lambda: dso.client.post_activation(dso.name, winner.name, activation),
            lambda _: (
                f"activates offer {chosen['offer_id']} of {winner.name}: {REQUESTED_POWER:g} "
                f"{chosen['unit']} at {chosen['activation_time']}"
            ),
        )
        self._undo.append(
            (
                dso,
                "V4",
                f"activation {activation_id}",
                lambda: dso.client.delete_activation(dso.name, winner.name, activation_id),
            )
        )
        received = self._do(
            winner,
            "V3",
            lambda: winner.client.get_all_activations(dso.name, winner.name),
            lambda acts: f"reads its activations from {dso.name}: {len(acts)} stored",
        )
        self._expect_listed(winner, "V3", received, "activation_id", activation_id)
        return winner, activation

    def _answer(self, winner: Party, activation: dict[str, Any]) -> None:
        client, name, dso = winner.client, winner.name, self.dso
        if self.nack:
            ops, kind, field, label = ("N1", "N2", "N3", "N4"), "FlexibilityActivationNack", "nack_id", "NACK"
            new_id, post, read, delete = (
                client.get_activation_nack_id,
                client.post_activation_nack,
                dso.client.get_all_activation_nacks,
                client.delete_activation_nack,
            )
            verb = "refuses"
        else:
            ops, kind, field, label = ("K1", "K2", "K3", "K4"), "FlexibilityActivationAck", "ack_id", "ACK"
            new_id, post, read, delete = (
                client.get_activation_ack_id,
                client.post_activation_ack,
                dso.client.get_all_activation_acks,
                client.delete_activation_ack,
            )
            verb = "acknowledges"
        answer_id = self._do(winner, ops[0], lambda: new_id(name), lambda r: f"gets {label} id {r}")
        answer = build_answer(kind, answer_id, activation)
        self._do(
            winner,
            ops[1],
            lambda: post(name, answer),
            lambda _: f"{verb} activation {activation['activation_id']} ({label} {answer_id})",
        )
        self._undo.append((winner, ops[3], f"{label} {answer_id}", lambda: delete(name, answer_id)))
        listed = self._do(dso, ops[2], lambda: read(name), lambda xs: f"reads {name}'s {label}s: {len(xs)} stored")
        self._expect_listed(dso, ops[2], listed, field, answer_id)

    def clean_up_quietly(self) -> None:
        """Best effort after a failed step: delete what was created, ignoring errors."""
        while self._undo:
            *_, delete = self._undo.pop()
            with suppress(InterflexError):
                delete()


@contextmanager
def _target(base_url: str | None) -> Iterator[tuple[str, str]]:
    if base_url:
        if not base_url.startswith(("http://", "https://")):
            raise SetupError(f"base URL {base_url!r} must start with http:// or https://")
        yield base_url, "given server"
        return
    try:
        from reference_server import ReferenceServer
    except ImportError as exc:
        raise SetupError(f"cannot load the bundled reference server ({exc})") from None
    server = ReferenceServer()
    try:
        server.start()
    except (RuntimeError, ValueError) as exc:
        raise SetupError(f"cannot start the bundled reference server: {exc}") from None
    try:
        yield server.base_url, "bundled reference server, in-process"
    finally:
        server.stop()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--base-url",
        help="the server's base URL (overrides the IXIT's target_url); "
        "without it and without an IXIT target the bundled reference server runs in-process",
    )
    parser.add_argument(
        "--ixit",
        type=Path,
        metavar="FILE",
        help="IXIT file with the accounts (PROFILE.md section 10); default: the demo accounts of "
        "fixtures/ixit/reference.yaml",
    )
    parser.add_argument("--nack", action="store_true", help="the winning aggregator refuses the activation")
    parser.add_argument("--decline", action="store_true", help="the second aggregator offers 0 kW (finding 002)")
    args = parser.parse_args(argv)
    try:
        ixit = load_ixit(args.ixit) if args.ixit else replace(default_ixit(), target_url="")
        with _target(args.base_url or ixit.target_url) as (base_url, label):
            print(f"Request-based flexibility negotiation at {base_url} ({label})", flush=True)
            negotiation = Negotiation(ixit, base_url, nack=args.nack, decline=args.decline)
            try:
                print(negotiation.run())
            except StepFailed as exc:
                negotiation.clean_up_quietly()
                print(f"error: {exc}", file=sys.stderr)
                return 1
            finally:
                negotiation.close()
    except (SetupError, ConfigError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("error: interrupted", file=sys.stderr)
        return 130
    return 0


if __name__ == "__main__":
    sys.exit(main())
