"""`examples/negotiation.py`: PROFILE.md section 8 (NG-1) end to end, run like a user runs it."""

from __future__ import annotations

import importlib.util
import re
import socket
import subprocess
import sys
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from types import ModuleType

import pytest

from interflex.client import InterflexClient
from reference_server import ReferenceServer

EXAMPLE = Path(__file__).resolve().parents[1] / "examples" / "negotiation.py"


def make_client(base_url: str, user: str) -> InterflexClient:
    return InterflexClient(base_url, client_id="client", client_secret="client", username=user, password=f"{user}-demo")


def run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, str(EXAMPLE), *args], capture_output=True, text=True, timeout=60)


def steps(output: str) -> list[tuple[str, str]]:
    """(actor, op id) of every numbered step, checking the numbers run 1, 2, 3, ..."""
    found = re.findall(r"^ *(\d+)\. (\S+) +([ARONVK]\d) ", output, re.M)
    assert [int(n) for n, _, _ in found] == list(range(1, len(found) + 1))
    return [(actor, op) for _, actor, op in found]


@pytest.fixture(scope="module")
def example() -> Iterator[ModuleType]:
    spec = importlib.util.spec_from_file_location("negotiation_example", EXAMPLE)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up there
    spec.loader.exec_module(module)
    yield module
    del sys.modules[spec.name]


@pytest.fixture(scope="module")
def server() -> Iterator[ReferenceServer]:
    with ReferenceServer() as running:
        yield running


def test_ack_ending_with_the_bundled_server() -> None:
    result = run()
    assert result.returncode == 0, result.stderr
    assert result.stderr == ""
    sequence = steps(result.stdout)
    assert sequence == [
        ("dso1", "A1"),
        ("agg1", "A1"),
        ("agg2", "A1"),
        ("dso1", "R1"),
        ("dso1", "R2"),
        ("agg1", "R3"),
        ("agg1", "O1"),
        ("agg1", "O2"),
        ("agg2", "R3"),
        ("agg2", "O1"),
        ("agg2", "O2"),
        ("dso1", "O3"),
        ("dso1", "V1"),
        ("dso1", "V2"),
        ("agg1", "V3"),
        ("agg1", "K1"),
        ("agg1", "K2"),
        ("dso1", "K3"),
        ("agg1", "K4"),
        ("dso1", "V4"),
        ("agg2", "O4"),
        ("agg1", "O4"),
        ("dso1", "R4"),
    ]
    assert "selects agg1's offer" in result.stdout and "cheapest feasible (120.00 EUR)" in result.stdout
    assert "Negotiation complete: agg1 delivers (ACK)" in result.stdout


def test_nack_ending_with_an_ixit(server: ReferenceServer, tmp_path: Path) -> None:
    """`--ixit` against a running server; the second aggregator declines (0 kW) and the winner NACKs."""
    ixit = tmp_path / "ixit.yaml"
    ixit.write_text(
        f"target_url: {server.base_url}\n"
        "client: {client_id: client, client_secret: client}\n"
        "dso: {entity_id: dso1, username: dso1, password: dso1-demo}\n"
        "aggregators:\n"
        "  - {entity_id: agg2, username: agg2, password: agg2-demo}\n"
        "  - {entity_id: agg1, username: agg1, password: agg1-demo}\n"
        "region_id: region-7\nunit: MW\ncurrency: CHF\n",
        encoding="utf-8",
    )
    result = run("--ixit", str(ixit), "--nack", "--decline")
    assert result.returncode == 0, result.stderr
    assert f"at {server.base_url} (given server)" in result.stdout
    sequence = steps(result.stdout)
    assert sequence[14:19] == [("agg2", "V3"), ("agg2", "N1"), ("agg2", "N2"), ("dso1", "N3"), ("agg2", "N4")]
    assert "0 MW, no flexibility available (finding 002)" in result.stdout
    assert "in region-7" in result.stdout and "(120.00 CHF)" in result.stdout
    assert "Negotiation complete: agg2 refuses (NACK)" in result.stdout
    assert "agg1-demo" not in result.stdout
    dso = make_client(server.base_url, "dso1")
    assert (dso.get_all_requests("dso1"), dso.get_all_offers(), dso.get_all_activations("dso1", "agg2")) == ([], [], [])
    assert dso.get_all_activation_nacks("agg2") == []  # step 5: everything created was deleted


def test_dead_url_gives_one_line_error() -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    result = run("--base-url", f"http://127.0.0.1:{port}/interflex/api/v1")
    assert result.returncode == 1
    assert "Traceback" not in result.stderr
    assert result.stderr.count("\n") == 1 and result.stderr.startswith("error: step 1 (dso1 A1): ")
    assert "Connection refused" in result.stderr


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (None, "cannot read IXIT file '{path}': No such file or directory"),
        ("dso: [\n", "IXIT file '{path}' is not valid YAML (line 2): "),
        ("client: {client_id: client, client_secret: client}\n", "{path}: dso: expected a mapping"),
    ],
)
def test_bad_ixit_gives_one_line_error(tmp_path: Path, content: str | None, message: str) -> None:
    """The IXIT is read by `ats.ixit.load_ixit` (contract C2): its one-line ConfigError, exit status 2."""
    ixit = tmp_path / "ixit.yaml"
    if content is not None:
        ixit.write_text(content, encoding="utf-8")
    result = run("--ixit", str(ixit))
    assert result.returncode == 2
    assert result.stderr.startswith("error: " + message.format(path=ixit)) and result.stderr.count("\n") == 1


def test_bad_base_url_gives_one_line_error() -> None:
    result = run("--base-url", "ftp://127.0.0.1/interflex/api/v1")
    assert (result.returncode, result.stderr) == (
        2,
        "error: base URL 'ftp://127.0.0.1/interflex/api/v1' must start with http:// or https://\n",
    )


@pytest.mark.parametrize(
    ("fault", "error"),
    [
        ("no-activations", r"step 13 \(dso1 V1\): V1 GET \S+: HTTP 404 not_found: .*"),
        ("offer-request-id-dropped", r"step 12 \(dso1 O3\): no offer to activate for \S+: .*\(P-03\)"),
        ("offer-offset-lost", r"step 12 \(dso1 O3\): .*none of the 2 offers .* \(2 not a valid FlexibilityOffer\)"),
    ],
)
def test_failed_step_exits_nonzero(
    example: ModuleType, capsys: pytest.CaptureFixture[str], fault: str, error: str
) -> None:
    """A faulty server: the step that fails is named on one line, exit status 1, and the objects are cleaned up."""
    with ReferenceServer(fault=fault) as faulty:
        assert example.main(["--base-url", faulty.base_url]) == 1
        leftovers = make_client(faulty.base_url, "dso1").get_all_requests("dso1")
    assert re.fullmatch(f"error: {error}\n", capsys.readouterr().err)
    assert leftovers == []  # clean_up_quietly deleted the request


def _offer(offer_id: str, price: float, **changes: object) -> dict:
    """A valid FlexibilityOffer answering req-1, with `changes` applied (None removes a field)."""
    now = datetime.now(UTC)
    offer = {
        "offer_id": offer_id,
        "entity_id": "agg1",
        "timestamp": now.isoformat(),
        "deadline": (now + timedelta(minutes=5)).isoformat(),
        "region_id": "region-1",
        "flexible_power": 40.0,
        "granularity": 5.0,
        "duration": 900.0,
        "unit": "kW",
        "activation_time": (now + timedelta(minutes=10)).isoformat(),
        "flex_price": price,
        "flex_type": "load-reduction",
        "currency": "EUR",
        "request_id": "req-1",
    }
    return {key: value for key, value in (offer | changes).items() if value is not None}


def test_select_offer_picks_the_cheapest_feasible(example: ModuleType) -> None:
    request = {"request_id": "req-1", "flexible_power": 40.0, "unit": "kW", "region_id": "region-1"}
    past = datetime.now(UTC) - timedelta(minutes=1)
    infeasible = [
        _offer("zero", 1.0, flexible_power=0.0),  # finding 002: no flexibility
        _offer("short", 2.0, flexible_power=39.9),
        _offer("other-request", 3.0, request_id="req-2"),
        _offer("no-request", 3.0, request_id=None),
        _offer("watts", 4.0, unit="W"),
        _offer("dollars", 5.0, currency="USD"),
        _offer("elsewhere", 6.0, region_id="region-2"),
        _offer("expired", 7.0, timestamp=(past - timedelta(minutes=1)).isoformat(), deadline=past.isoformat()),
        _offer("priceless", 8.0, flex_price="cheap"),
        _offer("incomplete", 9.0, flex_type=None),  # not a valid FlexibilityOffer
        ["not", "an", "offer"],
    ]
    assert example.select_offer(infeasible, request, "EUR") is None
    offers = [*infeasible, _offer("b", 20.0), _offer("pricey", 25.0, flexible_power=100.0), _offer("a", 20.0)]
    assert example.select_offer(offers, request, "EUR")["offer_id"] == "a"
