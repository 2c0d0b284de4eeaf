"""Traffic for the proxy proofs: what conformant clients send, made with the D3.5 client functions
(`interflex.client`) and with `examples/negotiation.py`, plus the helpers to run them through a proxy.
"""

from __future__ import annotations

import base64
import contextlib
import gzip
import importlib.util
import io
import json
import ssl
import sys
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from types import ModuleType

from interflex.client import InterflexError
from interflex.client import authentication as auth
from interflex.client import flexibility_activation_acks as acks
from interflex.client import flexibility_activation_nacks as nacks
from interflex.client import flexibility_activations as acts
from interflex.client import flexibility_offers as offers
from interflex.client import flexibility_requests as reqs
from interflex.ixit import default_ixit
from interflex.monitor import ERROR, MonitorFinding, platform_from_ixit
from interflex.proxy import ValidatingProxy
from reference_server import ReferenceServer

EXAMPLE = Path(__file__).resolve().parents[1] / "examples" / "negotiation.py"
CLIENT = ("client", "client")
PASSWORDS = {"dso1": "dso1-demo", "agg1": "agg1-demo", "agg2": "agg2-demo"}
PLATFORM = platform_from_ixit(default_ixit())


def errors(findings: list[MonitorFinding], side: str | None = None) -> list[MonitorFinding]:
    """The error findings (of one side)."""
    return [f for f in findings if f.severity == ERROR and (side is None or f.side == side)]


@contextlib.contextmanager
def proxied(fault: str | None = None, **options: object) -> Iterator[tuple[ReferenceServer, ValidatingProxy]]:
    """A reference server (in `fault` mode) behind a validating proxy that knows the demo users."""
    options.setdefault("platform", PLATFORM)
    with ReferenceServer(fault=fault) as server, ValidatingProxy(server.base_url, **options) as proxy:  # type: ignore[arg-type]
        yield server, proxy


def _moment(delta: timedelta = timedelta()) -> str:
    return (datetime.now(UTC) + delta).replace(microsecond=0).isoformat()


def d35_cycle(host: str, port: int) -> bool:
    """One full negotiation with the D3.5 functions only, as conformant DSO and aggregator clients do
    (50 exchanges); True when it ran to the end.

    Stops at the first answer the client functions reject (a server fault): the traffic up to
    there is what the monitor judges. Every operation of section 2 is used, lists are read after
    each post and after each delete, and the first K3 and N3 are read while still empty.
    """
    try:
        _d35_cycle(host, port)
    except InterflexError:
        return False
    return True


def _d35_cycle(host: str, port: int) -> None:
    tokens = {user: auth.authenticate(host, port, user, password, *CLIENT) for user, password in PASSWORDS.items()}
    dso = auth.refresh(host, port, tokens["dso1"]["refresh_token"], *CLIENT)["access_token"]
    agg1, agg2 = tokens["agg1"]["access_token"], tokens["agg2"]["access_token"]

    request_id = reqs.get_request_id(host, port, "dso1", dso)
    request_id = reqs.get_request_id(host, port, "dso1", dso)  # a client may ask twice and use the newer id
    request = reqs.create_request(request_id, _moment(), _moment(timedelta(minutes=10)), "region-1", 40.0, 900.0, "kW")
    request["activation_time"] = _moment(timedelta(minutes=30))  # optional, not a D3.5 argument
    reqs.post_request(host, port, "dso1", dso, request)
    reqs.get_all_requests(host, port, "dso1", dso)
    reqs.get_all_requests(host, port, "dso1", agg1)

    posted_offers = []
    for agg, token, power in (("agg1", agg1, 40.0), ("agg2", agg2, 20.0)):
        offer = offers.create_offer(
            offers.get_offer_id(host, port, agg, token), agg, _moment(), request["deadline"], "region-1",
            power, 10.0, 900.0, "kW", request["activation_time"], 100.0, "load-reduction", "EUR",
        )  # fmt: skip
        offer["request_id"] = request_id  # P-03
        offers.post_offer(host, port, agg, token, offer)
        offers.get_all_offers(host, port, token)
        posted_offers.append((agg, token, offer))
    offers.get_all_offers(host, port, dso)

    answers = []
    for (agg, token, offer), module in zip(posted_offers, (acks, nacks), strict=True):
        activation = acts.create_activation(
            acts.get_activation_id(host, port, "dso1", dso), _moment(), offer["offer_id"], offer["flexible_power"],
            10.0, 900.0, "kW", offer["activation_time"], 100.0, "load-reduction", "EUR",
        )  # fmt: skip
        acts.post_activation(host, port, "dso1", agg, dso, activation)
        acts.get_all_activations(host, port, "dso1", dso, agg)
        acts.get_all_activations(host, port, "dso1", token, agg)
        answers.append(_answer(host, port, module, agg, token, activation))
        _list_answers(host, port, module, token, agg)
    for agg, _, _ in posted_offers:  # the DSO reads the ACK or NACK of each activation it posted
        _list_answers(host, port, acks, dso, agg)
        _list_answers(host, port, nacks, dso, agg)

    for agg, token, module, answer_id, activation_id in answers:
        if module is acks:
            acks.delete_activation_ack(host, port, token, agg, answer_id)
        else:
            nacks.delete_activation_nack(host, port, token, agg, answer_id)
        _list_answers(host, port, module, token, agg)
        acts.delete_activation(host, port, "dso1", dso, agg, activation_id)
        acts.get_all_activations(host, port, "dso1", dso, agg)
    for agg, token, offer in posted_offers:
        offers.delete_offer(host, port, agg, token, offer["offer_id"])
        offers.get_all_offers(host, port, token)
    reqs.delete_request(host, port, "dso1", dso, request_id)
    reqs.get_all_requests(host, port, "dso1", dso)


def _answer(host: str, port: int, module: ModuleType, agg: str, token: str, activation: dict) -> tuple:
    """The aggregator reads its (empty) answers, then ACKs (acks) or NACKs (nacks) the activation."""
    _list_answers(host, port, module, token, agg)
    fields = (
        _moment(), activation["offer_id"], activation["flexible_power"], activation["granularity"],
        activation["duration"], activation["unit"], activation["activation_time"],
    )  # fmt: skip
    if module is acks:
        answer = acks.create_activation_ack(acks.get_activation_ack_id(host, port, agg, token), *fields)
        answer["activation_id"] = activation["activation_id"]  # P-04
        acks.post_activation_ack(host, port, agg, token, answer)
        return agg, token, acks, answer["ack_id"], activation["activation_id"]
    answer = nacks.create_activation_nack(nacks.get_activation_nack_id(host, port, agg, token), *fields)
    answer["activation_id"] = activation["activation_id"]
    nacks.post_activation_nack(host, port, agg, token, answer)
    return agg, token, nacks, answer["nack_id"], activation["activation_id"]


def _list_answers(host: str, port: int, module: ModuleType, token: str, agg: str) -> None:
    if module is acks:
        acks.get_all_activation_acks(host, port, token, agg)
    else:
        nacks.get_all_activation_nacks(host, port, token, agg)


def negotiation_module() -> ModuleType:
    """`examples/negotiation.py` as a module (it is a script, not part of a package)."""
    name = "negotiation_example_for_proxy"
    if name not in sys.modules:
        spec = importlib.util.spec_from_file_location(name, EXAMPLE)
        assert spec and spec.loader
        module = importlib.util.module_from_spec(spec)
        sys.modules[name] = module  # dataclasses look their module up there
        spec.loader.exec_module(module)
    return sys.modules[name]


def run_negotiation(base_url: str, *flags: str) -> int:
    """Run the example against `base_url` in this process (its output swallowed); its exit status."""
    with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
        return negotiation_module().main(["--base-url", base_url, *flags])


class _EchoHandler(BaseHTTPRequestHandler):
    """Answers with what it received (JSON), or with one of the special paths' behaviours."""

    protocol_version = "HTTP/1.1"
    server: EchoUpstream

    def _body(self) -> bytes:
        if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
            parts = []
            while size := int(self.rfile.readline().split(b";")[0].strip(), 16):
                parts.append(self.rfile.read(size))
                self.rfile.readline()
                self.server.first_chunk.set()
            while self.rfile.readline().strip():  # trailer section
                pass
            return b"".join(parts)
        return self.rfile.read(int(self.headers.get("Content-Length") or 0))

    def _send(self, status: int, body: bytes, headers: list[tuple[str, str]]) -> None:
        self.send_response(status)
        for name, value in headers:
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def _handle(self) -> None:
        body = self._body()
        path = self.path.split("?", 1)[0]
        if path == "/slow":
            time.sleep(2)
        if path == "/stream":
            self.send_response(200)
            self.send_header("Transfer-Encoding", "chunked")
            self.end_headers()
            for part in (b"first", b"second"):
                self.wfile.write(b"%x\r\n%s\r\n" % (len(part), part))
                self.wfile.flush()
                self.server.release.wait(5)
            self.wfile.write(b"0\r\n\r\n")
            return
        if path == "/broken":
            self.send_response(200)
            self.send_header("Content-Length", "100")
            self.end_headers()
            self.wfile.write(b"0123456789")
            self.wfile.flush()
            self.close_connection = True
            return
        if path == "/gzip":
            self._send(
                200,
                gzip.compress(b'{"zipped": true}'),
                [("Content-Type", "application/json"), ("Content-Encoding", "gzip")],
            )
            return
        if path.startswith("/big/"):
            self._send(200, b"x" * int(path[5:]), [("Content-Type", "application/octet-stream")])
            return
        echo = {
            "method": self.command,
            "target": self.path,
            "headers": [[name, value] for name, value in self.headers.items()],
            "body": base64.b64encode(body).decode(),
        }
        headers = [
            ("Content-Type", "application/json"),
            ("Set-Cookie", "a=1"),
            ("Set-Cookie", "b=2"),
            ("Connection", "X-Hop"),
            ("X-Hop", "dropped"),
            ("Keep-Alive", "timeout=5"),
            ("X-End", "kept"),
        ]
        self._send(200, json.dumps(echo).encode(), headers)

    do_GET = do_POST = do_PUT = do_DELETE = do_PATCH = do_HEAD = do_OPTIONS = _handle

    def log_message(self, *args: object) -> None:
        pass


class EchoUpstream(ThreadingHTTPServer):
    """An HTTP/1.1 upstream that echoes requests (http.server in a thread), optionally with TLS.

    Special paths: `/slow` answers after 2 s; `/stream` sends a chunk, waits for `release`, sends
    another; `/broken` breaks off its body; `/gzip` answers gzip-encoded JSON; `/big/N` N bytes.
    `first_chunk` is set when the first chunk of a chunked request body arrived.
    """

    daemon_threads = True

    def __init__(self, tls: ssl.SSLContext | None = None) -> None:
        super().__init__(("127.0.0.1", 0), _EchoHandler)
        if tls is not None:
            self.socket = tls.wrap_socket(self.socket, server_side=True)
        self.release = threading.Event()
        self.first_chunk = threading.Event()
        self.origin = f"{'https' if tls else 'http'}://127.0.0.1:{self.server_address[1]}"
        self._thread = threading.Thread(target=self.serve_forever, daemon=True)

    def handle_error(self, request: object, client_address: object) -> None:
        """A request the proxy broke off (its client went away) is no error here."""

    def __enter__(self) -> EchoUpstream:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.release.set()
        self.shutdown()
        self.server_close()
