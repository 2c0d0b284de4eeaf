"""The reference server's load-only fault modes (`Fault.shows_under == "load"`, reference_server/load_faults.py).

Each is invisible one request at a time (the conformance suite's view) and shows as soon as
requests overlap. Probed here directly with threads; tests/test_load_cli.py shows that
`interflex-load` finds each of them.
"""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor

import pytest

from interflex.samples import sample
from reference_server import FAULTS, ReferenceServer
from reference_server.demo import DemoClient

LOAD_FAULTS = sorted(name for name, fault in FAULTS.items() if fault.shows_under == "load")
REQUEST_IDS = "/dsos/dso1/flexibilityRequests/requestId"
REQUESTS = "/dsos/dso1/flexibilityRequests"


def _in_parallel(base_url: str, job: Callable[[DemoClient, int], object], count: int = 48) -> list:
    """Run `job(client, i)` from 8 threads at once, one keep-alive client per thread, each logged in first."""
    clients = [DemoClient(base_url) for _ in range(8)]
    for client in clients:
        client.token("dso1")  # A1 one at a time, before the threads start
    idle = list(clients)
    local = threading.local()

    def run(i: int) -> object:
        if not hasattr(local, "client"):
            local.client = idle.pop()
        return job(local.client, i)

    try:
        with ThreadPoolExecutor(8) as pool:
            return list(pool.map(run, range(count)))
    finally:
        for client in clients:
            client.close()


def _new_id(client: DemoClient, _: int) -> tuple[int, str]:
    response = client.call("GET", REQUEST_IDS)
    return response.status_code, response.text


def _post(client: DemoClient, _: int) -> tuple[int, str]:
    obj = sample("FlexibilityRequest")
    return client.call("POST", REQUESTS, json=obj).status_code, obj["request_id"]


def _ids_race(base_url: str) -> tuple[int, int]:
    """(statuses that are not 200, ids handed out twice) for 48 concurrent R1 calls."""
    answers = _in_parallel(base_url, _new_id)
    twice = sum(n - 1 for n in Counter(text for _, text in answers).values())
    return sum(status != 200 for status, _ in answers), twice


def _lost_writes(base_url: str) -> tuple[int, int]:
    """(POSTs not answered 201, acknowledged requests missing from R3) for 48 concurrent R2 calls."""
    answers = _in_parallel(base_url, _post)
    client = DemoClient(base_url)
    listed = {obj["request_id"] for obj in client.call("GET", REQUESTS).json()}
    client.close()
    return sum(status != 201 for status, _ in answers), sum(rid not in listed for _, rid in answers)


def _overload(base_url: str) -> tuple[int, int]:
    """(answers that are 5xx, answers that are neither 200 nor 5xx) for 48 concurrent R1 calls."""
    statuses = [status for status, _ in _in_parallel(base_url, _new_id)]
    return sum(s >= 500 for s in statuses), sum(s != 200 and s < 500 for s in statuses)


PROBES = {"ids-race": _ids_race, "lost-writes": _lost_writes, "overload-503": _overload}


def _sequential(base_url: str) -> tuple[int, int, int]:
    """(non-2xx answers, distinct ids out of 10, requests missing) for one client, one request at a time."""
    client = DemoClient(base_url)
    try:
        ids = [_new_id(client, i) for i in range(10)]
        posts = [_post(client, i) for i in range(10)]
        listed = {obj["request_id"] for obj in client.call("GET", REQUESTS).json()}
    finally:
        client.close()
    bad = sum(status not in (200, 201) for status, _ in ids + posts)
    return bad, len({text for _, text in ids}), sum(rid not in listed for _, rid in posts)


def test_every_load_fault_has_a_probe() -> None:
    assert sorted(PROBES) == LOAD_FAULTS
    assert all(FAULTS[name].description for name in LOAD_FAULTS)


@pytest.fixture(scope="module")
def clean() -> Iterator[str]:
    with ReferenceServer() as server:
        yield server.base_url


# What each fault does to 48 concurrent calls: ids-race and lost-writes keep every status but hand
# out ids twice / lose writes; overload-503 answers 5xx and nothing else.
FAULTY = {"ids-race": lambda r: r[0] == 0 and r[1] > 0, "lost-writes": lambda r: r[0] == 0 and r[1] > 0}
FAULTY["overload-503"] = lambda r: r[0] > 0 and r[1] == 0


@pytest.mark.parametrize("name", LOAD_FAULTS)
def test_load_fault_shows_only_under_concurrency(clean: str, name: str) -> None:
    with ReferenceServer(fault=name) as server:
        assert _sequential(server.base_url) == (0, 10, 0)  # one request at a time: conformant
        faulty = PROBES[name](server.base_url)
    assert FAULTY[name](faulty), faulty
    assert PROBES[name](clean) == (0, 0)
