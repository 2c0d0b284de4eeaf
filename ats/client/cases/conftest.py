"""The fixture of the client test cases: the run's scenarios, bound to the test for its evidence."""

from __future__ import annotations

import pytest

from ats.client.plugin import EVIDENCE, RUN
from ats.client.suite import Case


@pytest.fixture
def client(request: pytest.FixtureRequest) -> Case:
    """The client under test's scenarios (run once, on first use), for `expect`."""
    run = request.config.stash.get(RUN, None)
    if run is None:
        pytest.skip("not a client conformance run (interflex-ats --client-ixit FILE)")
    return Case(run, lambda records: request.node.stash.__setitem__(EVIDENCE, records))
