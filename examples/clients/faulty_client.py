#!/usr/bin/env python3
"""Test clients that break one client rule each (PROFILE.md section 11), and hostile ones: the proof that
the client conformance suite catches every rule (tests/test_client_conformance_faults.py, docs/ATS.md).

    python examples/clients/faulty_client.py --fault NAME [the options of dso_client.py or
        aggregator_client.py, by the fault's role]
    python examples/clients/faulty_client.py --list        # name, role, class, rule, what it does

Each fault is the example DSO or aggregator client with one deviation; a client IXIT starts it like the
example (fixtures/ixit/client-*.yaml) with `--fault NAME` in front of the other options.
"""

from __future__ import annotations

import contextlib
import signal
import socket
import sys
import threading
import time
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import aggregator_client
import dso_client
import roles

from interflex.client import BadRequestError, InterflexClient, InterflexError


@dataclass(frozen=True)
class Fault:
    """One test client: its role, the class that must FAIL, the rule it breaks, what it does, and the
    scenarios (short names) that show the fault (the fast test runs just those)."""

    role: str
    conformance_class: str
    rule: str
    description: str
    scenarios: tuple[str, ...]


FAULTS: dict[str, Fault] = {
    "no-bearer": Fault("dso", "client-auth", "CL-1", "sends resource requests without a bearer token", ("ack",)),
    "no-refresh-after-401": Fault(
        "dso",
        "client-auth",
        "CL-2",
        "never refreshes; after a 401 it repeats the request with the same token",
        ("tokens",),
    ),
    "foreign-path": Fault(
        "aggregator", "client-messages", "CL-3", "also reads another aggregator's activations (V3)", ("plain",)
    ),
    "naive-time": Fault(
        "dso", "client-messages", "CL-4", "posts its request with a timestamp without offset", ("ack",)
    ),
    "implausible-activation": Fault(
        "dso", "client-messages", "CL-4", "activates twice the power the offer has (PL-5)", ("ack",)
    ),
    "reused-id": Fault("aggregator", "client-messages", "CL-5", "posts every offer with the same own id", ("plain",)),
    "repeat-after-400": Fault(
        "aggregator", "client-resilience", "CL-6", "repeats a POST unchanged after a 400", ("400",)
    ),
    "repeat-without-wait": Fault(
        "dso", "client-resilience", "CL-6", "repeats a failed POST at once, without waiting 1 s", ("503",)
    ),
    "second-ack": Fault(
        "aggregator", "client-negotiation", "CL-8", "answers each activation with two ACKs", ("plain",)
    ),
    "crash-on-unknown-field": Fault(
        "dso", "client-resilience", "CL-9", "stops when an offer carries a field it does not know", ("alternatives-a",)
    ),
}
# Hostile clients: each must end in a bounded, clean NOT CONFORMANT (any class).
HOSTILE: dict[str, Fault] = {
    "hang": Fault("dso", "client-negotiation", "CL-8", "sends nothing and ignores SIGTERM", ("ack",)),
    "flood": Fault("aggregator", "client-negotiation", "CL-7", "reads R3 as fast as it can from 4 threads", ("plain",)),
    "garbage": Fault(
        "dso", "client-messages", "CL-4", "sends bytes that are not HTTP, a 3 MiB body and broken JSON", ("ack",)
    ),
    "exit": Fault("dso", "client-negotiation", "CL-8", "exits at once", ("ack",)),
}
ALL = {**FAULTS, **HOSTILE}


# -- DSO faults ---------------------------------------------------------------------------------------------
class NoBearerTokens(roles.Tokens):
    def call(self, function: Any, *args: Any) -> Any:
        self.token()  # logs in, as a client would, but never sends the token
        return function(self.host, self.port, *[None if a is roles.TOKEN else a for a in args], version=self.version)


class NoRefreshTokens(roles.Tokens):
    def token(self) -> str:
        if self.access is None:
            self.login()
        assert self.access is not None
        return self.access

    def call(self, function: Any, *args: Any) -> Any:
        token = self.token()
        filled = [token if a is roles.TOKEN else a for a in args]
        for attempt in range(3):
            try:
                return function(self.host, self.port, *filled, version=self.version)
            except InterflexError as exc:
                if exc.status != 401 or attempt == 2:
                    raise
                time.sleep(0.2)  # the same token again
        raise AssertionError("unreachable")


class NaiveTime(dso_client.DsoClient):
    def build_request(self, request_id: str) -> dict[str, Any]:
        request = super().build_request(request_id)
        request["timestamp"] = request["timestamp"].replace("Z", "")  # P-01: no offset
        return request


class ImplausibleActivation(dso_client.DsoClient):
    def build_activation(self, activation_id: str, offer: dict[str, Any], request: dict[str, Any]) -> dict[str, Any]:
        activation = super().build_activation(activation_id, offer, request)
        activation["flexible_power"] = 2 * float(offer["flexible_power"])
        return activation


class CrashOnUnknownField(dso_client.DsoClient):
    KNOWN = frozenset(
        {"offer_id", "entity_id", "timestamp", "deadline", "region_id", "flexible_power", "granularity", "duration"}
        | {"unit", "activation_time", "flex_price", "flex_type", "currency", "request_id"}
    )

    def read_offers(self) -> list[dict[str, Any]]:
        offers = super().read_offers()
        for offer in offers:
            unknown = set(offer) - self.KNOWN
            if unknown:
                raise ValueError(f"unexpected field {sorted(unknown)[0]!r} in an offer")
        return offers


def _post_without_wait(what: str, new_id: Any, build: Any, post: Any) -> dict:
    obj = build(new_id())
    for _ in range(5):
        try:
            post(obj)
            return obj
        except InterflexError as exc:
            if not roles.retriable(exc):
                raise
    return obj


# -- aggregator faults -------------------------------------------------------------------------------------
class ForeignPath(aggregator_client.AggregatorClient):
    def answer_activations(self) -> None:
        with contextlib.suppress(InterflexError):
            self.client.get_all_activations(self.dso, self.agg + "x")
        super().answer_activations()


class ReusedId(aggregator_client.AggregatorClient):
    def new_id(self, getter: Any, prefix: str) -> str:
        return f"{prefix}-1" if prefix == "offer" else super().new_id(getter, prefix)


class SecondAck(aggregator_client.AggregatorClient):
    def answer(self, activation: dict[str, Any]) -> None:
        super().answer(activation)
        super().answer(activation)


def _post_again_after_400(what: str, new_id: Any, build: Any, post: Any) -> dict:
    obj = build(new_id())
    for attempt in range(3):
        try:
            post(obj)
            return obj
        except BadRequestError:
            if attempt == 2:
                raise
    return obj


# -- hostile -----------------------------------------------------------------------------------------------
def hang() -> int:
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    while True:
        time.sleep(1)


def flood(args: Any) -> int:
    client = InterflexClient(
        args.base_url,
        client_id=args.client_id,
        client_secret=args.client_secret,
        username=args.user,
        password=args.password,
    )
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())

    def hammer() -> None:
        while not stop.is_set():
            with contextlib.suppress(InterflexError):
                client.get_all_requests(args.dso)

    threads = [threading.Thread(target=hammer, daemon=True) for _ in range(4)]
    for thread in threads:
        thread.start()
    stop.wait()
    return 0


def garbage(args: Any) -> int:
    parts = urlsplit(args.base_url)
    address = (parts.hostname or "127.0.0.1", parts.port or 80)
    base = parts.path
    for payload in (
        b"\x00\xff garbage that is not HTTP\r\n\r\n",
        b"POST " + base.encode() + b"/dsos/x/flexibilityRequests HTTP/1.1\r\nHost: x\r\nContent-Type: application/json"
        b"\r\nContent-Length: 3145728\r\n\r\n" + b"[" * 3145728,
        b"POST " + base.encode() + b"/dsos/x/flexibilityRequests HTTP/1.1\r\nHost: x\r\nContent-Type: application/json"
        b'\r\nContent-Length: 9\r\nConnection: close\r\n\r\n{"broken"',
    ):
        try:
            with socket.create_connection(address, timeout=5) as sock:
                sock.sendall(payload)
                sock.recv(4096)
        except OSError:
            pass
    return 0


def main() -> int:
    argv = sys.argv[1:]
    if argv[:1] in (["-h"], ["--help"]):
        print(__doc__)
        return 0
    if "--list" in argv:
        for name, fault in ALL.items():
            print(f"{name:<24} {fault.role:<11} {fault.conformance_class:<19} {fault.rule:<5} {fault.description}")
        return 0
    if len(argv) < 2 or argv[0] != "--fault" or argv[1] not in ALL:
        print(f"usage: faulty_client.py --fault NAME [client options]; NAME one of {', '.join(ALL)}", file=sys.stderr)
        return 2
    name, rest = argv[1], argv[2:]
    if name == "exit":
        return 0
    if name == "hang":
        return hang()
    if ALL[name].role == "dso":
        return _dso(name, rest)
    return _aggregator(name, rest)


def _dso(name: str, argv: list[str]) -> int:
    tokens = {"no-bearer": NoBearerTokens, "no-refresh-after-401": NoRefreshTokens}.get(name)
    client = {
        "naive-time": NaiveTime,
        "implausible-activation": ImplausibleActivation,
        "crash-on-unknown-field": CrashOnUnknownField,
    }.get(name, dso_client.DsoClient)
    if name == "repeat-without-wait":
        dso_client.post_object = _post_without_wait
    if name == "garbage":
        parser = roles.arguments("garbage")
        return garbage(parser.parse_known_args(argv)[0])
    if tokens is not None:
        dso_client.Tokens = tokens
    return dso_client.main(client, argv)


def _aggregator(name: str, argv: list[str]) -> int:
    if name == "flood":
        parser = roles.arguments("flood")
        parser.add_argument("--dso", required=True)
        return flood(parser.parse_known_args(argv)[0])
    if name == "repeat-after-400":
        aggregator_client.post_object = _post_again_after_400
    client = {"foreign-path": ForeignPath, "reused-id": ReusedId, "second-ack": SecondAck}.get(
        name, aggregator_client.AggregatorClient
    )
    return aggregator_client.main(client, argv)


if __name__ == "__main__":
    sys.exit(main())
