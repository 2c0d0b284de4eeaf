"""schemathesis, run as a user runs it, reaches the reference server's operations with a success.

The OpenAPI document's examples (the IXIT demo entities dso1/agg1) and links drive schemathesis'
examples and stateful phases. A token belongs to one user, so the run uses schemathesis' config
file to send the DSO's token to every operation and the aggregator agg1's token to the
aggregator-only ones (docs/user-guide.md, "External tools").
"""

from __future__ import annotations

import collections
import json
import os
import subprocess
import sys
from pathlib import Path
from urllib.parse import urlsplit

import pytest
import requests

from ats.ixit import default_ixit
from interflex.profile import OPERATIONS, match_operation
from reference_server import ReferenceServer

AGGREGATOR_ONLY = ["O1", "O2", "O4", "K1", "K2", "K3", "K4", "N1", "N2", "N3", "N4"]
CONFIG = f"""\
headers = {{ Authorization = "Bearer ${{INTERFLEX_DSO_TOKEN}}" }}

[[operations]]
include-operation-id = {json.dumps(AGGREGATOR_ONLY)}
headers = {{ Authorization = "Bearer ${{INTERFLEX_AGG_TOKEN}}" }}
"""
# These need a state the examples phase cannot build in its order (it posts ACKs/NACKs before the offers
# and activations they answer, sorted by path) or a runtime value (A2's refresh token); the stateful
# phase's links (O2 -> V2 -> K2/N2 -> K4/N4, A1 -> A2) reach them only in runs longer than this test
# affords (`--phases stateful -n 60` with `max-steps = 30` reaches K2 and N2 in about 40 s).
NOT_YET_REACHED = {"A2", "K2", "K4", "N2", "N4"}


def _token(base_url: str, role: str) -> str:
    ixit = default_ixit()
    account = ixit.dso if role == "dso" else ixit.aggregators[0]
    form = {
        "grant_type": "password",
        "username": account.username,
        "password": account.password,
        "client_id": ixit.client_id,
        "client_secret": ixit.client_secret,
    }
    return requests.post(f"{base_url}/authentication/token", data=form, timeout=10).json()["access_token"]


def _successes(har: Path) -> dict[str, collections.Counter]:
    statuses: dict[str, collections.Counter] = collections.defaultdict(collections.Counter)
    for entry in json.loads(har.read_text(encoding="utf-8"))["log"]["entries"]:
        path = urlsplit(entry["request"]["url"]).path.removeprefix("/interflex/api/v1")
        found = match_operation(entry["request"]["method"], path)
        statuses[found[0].id if found else "-"][entry["response"]["status"]] += 1
    return statuses


def test_examples_and_stateful_phases_reach_the_operations_with_a_success(tmp_path: Path) -> None:
    (tmp_path / "schemathesis.toml").write_text(CONFIG, encoding="utf-8")
    with ReferenceServer() as server:
        env = {
            **os.environ,
            "INTERFLEX_DSO_TOKEN": _token(server.base_url, "dso"),
            "INTERFLEX_AGG_TOKEN": _token(server.base_url, "agg1"),
        }
        command = [
            str(Path(sys.executable).with_name("schemathesis")),
            "--config-file",
            "schemathesis.toml",
            "run",
            f"{server.base_url}/openapi.yaml",
            "--phases",
            "examples,stateful",
            "--max-examples",
            "10",
            "--workers",
            "1",
            "--seed",
            "1",
            "--checks",
            "not_a_server_error",
            "--generation-database",
            "none",
            "--report",
            "har",
            "--report-har-path",
            "run.har",
            "--no-color",
        ]
        result = subprocess.run(command, capture_output=True, text=True, timeout=120, cwd=tmp_path, env=env)
    out = result.stdout + result.stderr
    assert result.returncode == 0, out
    statuses = _successes(tmp_path / "run.har")
    succeeded = {op for op, counts in statuses.items() if any(200 <= code < 300 for code in counts)}
    expected = {op.id for op in OPERATIONS} - NOT_YET_REACHED
    assert expected <= succeeded, f"no 2xx for {sorted(expected - succeeded)}: {dict(statuses)}"
    assert "Examples" in out and "Stateful" in out and "API Links" in out, out


@pytest.mark.parametrize("op_id", sorted(NOT_YET_REACHED))
def test_unreached_operations_have_examples_and_incoming_links(op_id: str) -> None:
    """What the longer runs need is in the document: an example request and a link to the operation."""
    from interflex.validation import openapi_document

    document = openapi_document()
    targets = {
        link["operationId"]
        for item in document["paths"].values()
        for operation in item.values()
        if isinstance(operation, dict)
        for response in operation.get("responses", {}).values()
        for link in response.get("links", {}).values()
    }
    assert op_id in targets
