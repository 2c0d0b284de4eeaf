#!/usr/bin/env python3
"""An example aggregator client, built on `InterflexClient`: it serves until SIGTERM (PROFILE.md section 8,
steps 2 and 4; CL-8).

Every --poll seconds it
- reads the requests of the DSO it serves (R3, with --valid-at: only those whose deadline has not passed)
  and answers each request for its region once: an offer (O1 or --own-ids, O2) carrying the request's
  request_id and its own entity_id, for as much of the request as --capacity allows (0 kW when it has
  none, finding 002);
- reads its activations from that DSO (V3) and answers each once: an ACK (K1, K2), or a NACK (N1, N2)
  when the activation starts in less than --notice seconds; both carry the activation's offer_id and
  activation_id (P-04).

    python examples/clients/aggregator_client.py --base-url URL --user U --password P --client-id C \\
        --client-secret S --entity-id agg1 --dso dso1 [--capacity 100] [--own-ids] [--valid-at]
"""

from __future__ import annotations

import signal
import sys
import threading
from datetime import UTC, datetime
from typing import Any

from roles import arguments, instant, log, now, own_id, post_object

from interflex.client import InterflexClient, InterflexError
from interflex.client.flexibility_activation_acks import create_activation_ack
from interflex.client.flexibility_activation_nacks import create_activation_nack
from interflex.client.flexibility_offers import create_offer

MAX_ATTEMPTS = 3  # tries to answer one request or activation before giving up on it


def _number(value: object) -> float | None:
    return float(value) if isinstance(value, int | float) and not isinstance(value, bool) else None


class AggregatorClient:
    """The serving loop; the methods are the steps (the fault clients override some)."""

    def __init__(self, args: Any) -> None:
        self.args, self.agg, self.dso = args, args.entity_id, args.dso
        self.client = InterflexClient(
            args.base_url,
            client_id=args.client_id,
            client_secret=args.client_secret,
            username=args.user,
            password=args.password,
            timeout=10,
        )
        self.attempts: dict[str, int] = {}  # request or activation id -> tries so far
        self.done: set[str] = set()  # requests and activations answered
        self.stop = threading.Event()

    def new_id(self, getter: Any, prefix: str) -> str:
        return own_id(prefix) if self.args.own_ids else getter(self.agg)

    def serve(self) -> None:
        while not self.stop.is_set():
            try:
                self.answer_requests()
                self.answer_activations()
            except InterflexError as exc:
                log(f"error: {exc}")
            self.stop.wait(self.args.poll)

    def _once(self, key: str, what: str, action: Any) -> None:
        """Run `action` for `key` unless it is done or failed `MAX_ATTEMPTS` times."""
        if key in self.done or self.attempts.get(key, 0) >= MAX_ATTEMPTS:
            return
        self.attempts[key] = self.attempts.get(key, 0) + 1
        try:
            action()
            self.done.add(key)
        except InterflexError as exc:
            log(f"{what}: {exc}")

    def read_requests(self) -> list[dict[str, Any]]:
        valid_at = datetime.now(UTC) if self.args.valid_at else None
        return self.client.get_all_requests(self.dso, valid_at=valid_at)

    def answer_requests(self) -> None:
        for request in self.read_requests():
            if not isinstance(request, dict) or request.get("region_id") != self.args.region_id:
                continue
            rid = request.get("request_id")
            if isinstance(rid, str):
                self._once(rid, f"offer for {rid}", lambda r=request: self.offer(r))

    def build_offer(self, offer_id: str, request: dict[str, Any]) -> dict[str, Any]:
        power = min(self.args.capacity, _number(request.get("flexible_power")) or 0.0)
        offer = create_offer(
            offer_id,
            self.agg,
            now(),
            request["deadline"],
            request["region_id"],
            power,
            min(10.0, power) if power > 0 else 10.0,
            _number(request.get("duration")) or 900.0,
            request["unit"],
            request.get("activation_time") or request["deadline"],
            120.0 if power > 0 else 0.0,
            "load-reduction",
            self.args.currency,
        )
        offer["request_id"] = request["request_id"]  # P-03
        return offer

    def offer(self, request: dict[str, Any]) -> None:
        offer = post_object(
            "O2",
            lambda: self.new_id(self.client.get_offer_id, "offer"),
            lambda i: self.build_offer(i, request),
            lambda o: self.client.post_offer(self.agg, o),
        )
        log(f"offered {offer['flexible_power']:g} {offer['unit']} for request {request['request_id']}")

    def answer_activations(self) -> None:
        for activation in self.client.get_all_activations(self.dso, self.agg):
            aid = activation.get("activation_id") if isinstance(activation, dict) else None
            if isinstance(aid, str):
                self._once(aid, f"answer to {aid}", lambda a=activation: self.answer(a))

    def answer(self, activation: dict[str, Any]) -> None:
        start = instant(activation.get("activation_time"))
        late = start is None or (start - datetime.now(UTC)).total_seconds() < self.args.notice
        fields = (
            now(),
            activation["offer_id"],
            activation["flexible_power"],
            activation["granularity"],
            activation["duration"],
            activation["unit"],
            activation["activation_time"],
        )
        if late:
            posted = post_object(
                "N2",
                lambda: self.new_id(self.client.get_activation_nack_id, "nack"),
                lambda i: {
                    **create_activation_nack(i, *fields),
                    "activation_id": activation["activation_id"],
                    "reason": "too short notice",
                },
                lambda n: self.client.post_activation_nack(self.agg, n),
            )
        else:
            posted = post_object(
                "K2",
                lambda: self.new_id(self.client.get_activation_ack_id, "ack"),
                lambda i: {**create_activation_ack(i, *fields), "activation_id": activation["activation_id"]},
                lambda k: self.client.post_activation_ack(self.agg, k),
            )
        answer_id = posted.get("nack_id" if late else "ack_id")
        log(f"answered activation {activation['activation_id']} with {'NACK' if late else 'ACK'} {answer_id}")


def main(client: type[AggregatorClient] = AggregatorClient, argv: list[str] | None = None) -> int:
    parser = arguments(__doc__.splitlines()[0])
    parser.add_argument("--dso", required=True, help="the DSO whose requests the aggregator answers")
    parser.add_argument("--capacity", type=float, default=100.0, help="flexible power it can offer (0: none)")
    parser.add_argument("--notice", type=float, default=60.0, help="NACK activations starting sooner (s)")
    parser.add_argument("--valid-at", action="store_true", help="read requests with valid_at=now (CL-7, DF-1)")
    args = parser.parse_args(argv)
    aggregator = client(args)
    signal.signal(signal.SIGTERM, lambda *_: aggregator.stop.set())
    try:
        aggregator.serve()
    except KeyboardInterrupt:
        pass
    finally:
        aggregator.client.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
