#!/usr/bin/env python3
"""An example DSO client, built on the D3.5 client functions: one request-based negotiation (PROFILE.md
section 8, steps 1, 3 and 5; CL-8), then exit.

1. get a request id (R1, or make one with --own-ids) and post a FlexibilityRequest for the region (R2);
2. read the offers (O3) every --poll seconds until one answers the request (its request_id) and covers
   it; take the cheapest such offer with flexible_power > 0;
3. get an activation id (V1) and activate the offer under the offering aggregator's path (V2) with the
   offer's offer_id, unit and currency and at most its power (PL-5);
4. read the aggregator's ACKs (K3) and NACKs (N3) until the activation's answer is there;
5. delete the activation and the request (V4, R4).

    python examples/clients/dso_client.py --base-url URL --user U --password P --client-id C \\
        --client-secret S --entity-id dso1 [--region-id region-1] [--own-ids] [--login-again]

Exit status 0 when the negotiation ended in an ACK or a NACK, 1 when it could not be completed.
"""

from __future__ import annotations

import sys
import time
from datetime import UTC, datetime, timedelta
from typing import Any

from roles import TOKEN, Tokens, arguments, instant, log, now, own_id, post_object

from interflex.client import InterflexError
from interflex.client import flexibility_activation_acks as acks
from interflex.client import flexibility_activation_nacks as nacks
from interflex.client import flexibility_activations as activations
from interflex.client import flexibility_offers as offers
from interflex.client import flexibility_requests as requests_

REQUESTED = 40.0
OFFER_WAIT = 60.0  # seconds to wait for a feasible offer


def _number(value: object) -> float | None:
    return float(value) if isinstance(value, int | float) and not isinstance(value, bool) else None


class DsoClient:
    """One negotiation of a DSO; the methods are the steps (the fault clients override some)."""

    def __init__(self, args: Any, tokens: Tokens) -> None:
        self.args, self.tokens, self.dso = args, tokens, args.entity_id

    def new_id(self, getter: Any, prefix: str) -> str:
        return own_id(prefix) if self.args.own_ids else self.tokens.call(getter, self.dso, TOKEN)

    def build_request(self, request_id: str) -> dict[str, Any]:
        start = datetime.now(UTC).replace(microsecond=0)
        request = requests_.create_request(
            request_id,
            now(),
            (start + timedelta(minutes=10)).isoformat().replace("+00:00", "Z"),
            self.args.region_id,
            REQUESTED,
            900.0,
            self.args.unit,
        )
        request["activation_time"] = (start + timedelta(minutes=30)).isoformat().replace("+00:00", "Z")
        return request

    def read_offers(self) -> list[dict[str, Any]]:
        return self.tokens.call(offers.get_all_offers, TOKEN)

    def feasible(self, offer: Any, request: dict[str, Any]) -> bool:
        """An offer answering `request` (P-03) that covers some of it, in its unit and our currency."""
        deadline = instant(offer.get("deadline")) if isinstance(offer, dict) else None
        return (
            isinstance(offer, dict)
            and offer.get("request_id") == request["request_id"]
            and (_number(offer.get("flexible_power")) or 0.0) > 0
            and _number(offer.get("flex_price")) is not None
            and offer.get("unit") == request["unit"]
            and offer.get("currency") == self.args.currency
            and isinstance(offer.get("offer_id"), str)
            and isinstance(offer.get("entity_id"), str)
            and deadline is not None
            and deadline >= datetime.now(UTC)
        )

    def build_activation(self, activation_id: str, offer: dict[str, Any], request: dict[str, Any]) -> dict[str, Any]:
        power = min(_number(offer["flexible_power"]) or 0.0, request["flexible_power"])
        return activations.create_activation(
            activation_id,
            now(),
            offer["offer_id"],
            power,
            min(_number(offer.get("granularity")) or power, power),
            _number(offer.get("duration")) or request["duration"],
            offer["unit"],
            offer["activation_time"],
            _number(offer["flex_price"]),
            offer["flex_type"],
            offer["currency"],
        )

    def run(self) -> str:
        """The negotiation; returns its outcome. Raises InterflexError or RuntimeError."""
        request = post_object(
            "R2",
            lambda: self.new_id(requests_.get_request_id, "req"),
            self.build_request,
            lambda r: self.tokens.call(requests_.post_request, self.dso, TOKEN, r),
        )
        log(f"posted request {request['request_id']}")
        chosen = self.wait_for_offer(request)
        agg = chosen["entity_id"]
        log(f"activating offer {chosen['offer_id']} of {agg} ({chosen['flex_price']} {chosen['currency']})")
        activation = post_object(
            "V2",
            lambda: self.new_id(activations.get_activation_id, "act"),
            lambda i: self.build_activation(i, chosen, request),
            lambda a: self.tokens.call(activations.post_activation, self.dso, agg, TOKEN, a),
        )
        outcome = self.wait_for_answer(agg, activation)
        self.tokens.call(activations.delete_activation, self.dso, TOKEN, agg, activation["activation_id"])
        self.tokens.call(requests_.delete_request, self.dso, TOKEN, request["request_id"])
        return outcome

    def wait_for_offer(self, request: dict[str, Any]) -> dict[str, Any]:
        deadline = time.monotonic() + OFFER_WAIT
        while time.monotonic() < deadline:
            feasible = [o for o in self.read_offers() if self.feasible(o, request)]
            if feasible:
                return min(feasible, key=lambda o: (_number(o["flex_price"]), o["offer_id"]))
            time.sleep(self.args.poll)
        raise RuntimeError(f"no feasible offer for request {request['request_id']} within {OFFER_WAIT:g} s")

    def wait_for_answer(self, agg: str, activation: dict[str, Any]) -> str:
        activation_id = activation["activation_id"]
        while True:
            for label, read in (("ACK", acks.get_all_activation_acks), ("NACK", nacks.get_all_activation_nacks)):
                for answer in self.tokens.call(read, TOKEN, agg):
                    if isinstance(answer, dict) and answer.get("activation_id") == activation_id:
                        return f"{agg} answered activation {activation_id} with a {label}"
            time.sleep(self.args.poll)


def main(client: type[DsoClient] = DsoClient, argv: list[str] | None = None) -> int:
    parser = arguments(__doc__.splitlines()[0])
    parser.add_argument("--login-again", action="store_true", help="log in again (A1) instead of refreshing (A2)")
    args = parser.parse_args(argv)
    try:
        log(client(args, Tokens(args, login_again=args.login_again)).run())
    except (InterflexError, RuntimeError, ValueError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130
    return 0


if __name__ == "__main__":
    sys.exit(main())
