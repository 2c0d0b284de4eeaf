"""Client conformance (issue 11): the client IXIT, the harness, the example clients CONFORMANT in both roles
end to end with reports, the other legal choices of a client CONFORMANT too (no false FAIL), a fault client
NOT CONFORMANT end to end, manual mode, and redaction of the client's output."""

from __future__ import annotations

import json
import subprocess
import sys
import threading
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import yaml

from ats.client.ixit import load_client_ixit, parse_client_ixit
from ats.client.scenarios import SCENARIOS_BY_NAME, run_scenario
from ats.client.suite import ClientRun, case_verdicts
from ats.errors import ConfigError
from ats.verdicts import FAIL, INCONCLUSIVE, NA, PASS
from interflex.profile import CLIENT_CLASSES, MANDATORY

ROOT = Path(__file__).resolve().parents[1]
IXITS = ROOT / "fixtures" / "ixit"
EXAMPLES = ROOT / "examples" / "clients"
SCHEMA = json.loads((ROOT / "schemas" / "results.schema.json").read_text(encoding="utf-8"))


def _ixit_data(name: str, *extra: str, timeout: float = 20) -> dict[str, Any]:
    data = yaml.safe_load((IXITS / name).read_text(encoding="utf-8"))
    data["command"] = [*data["command"], *extra]
    data["timeout_s"] = timeout
    return data


def _write(tmp_path: Path, name: str, data: dict[str, Any]) -> Path:
    data = dict(data, cwd=str(IXITS))
    path = tmp_path / name
    path.write_text(yaml.safe_dump(data), encoding="utf-8")
    return path


# -- the client IXIT ---------------------------------------------------------------------------------------
def test_example_ixits_load() -> None:
    dso = load_client_ixit(IXITS / "client-dso.yaml")
    agg = load_client_ixit(IXITS / "client-aggregator.yaml")
    assert (dso.role, dso.entity_id, agg.role, agg.dso) == ("dso", "dso1", "aggregator", "dso1")
    argv = dso.argv(
        {"base_url": "http://h/x", "username": "u", "password": "p", "client_id": "c"}
        | {k: k for k in ("client_secret", "entity_id", "dso", "region_id", "unit", "currency")}
    )
    assert argv[0] == sys.executable and "http://h/x" in argv and "{" not in " ".join(argv)


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"role": "platform"}, "role must be one of dso, aggregator"),
        ({"entity_id": "a b"}, "entity_id must be an id"),
        ({"command": "python client.py"}, "command must be a non-empty list"),
        ({"command": ["{python}", "{pasword}"]}, "unknown placeholder {pasword}"),
        ({"command": ["no-such-program-xyz"]}, "is not an executable"),
        ({"timeout_s": 0}, "timeout_s must be a number"),
        ({"unit": "GW"}, "unit must be one of"),
        ({"surprise": 1}, "unknown keys ['surprise']"),
    ],
)
def test_bad_client_ixits_are_one_line_errors(change: dict[str, Any], message: str) -> None:
    data = {"role": "dso", "entity_id": "dso1", "command": ["{python}", "-c", "pass"], "timeout_s": 5, **change}
    with pytest.raises(ConfigError) as raised:
        parse_client_ixit(data, "x.yaml", IXITS)
    assert message in str(raised.value) and "\n" not in str(raised.value)


# -- end to end: the example clients and a fault client through interflex-ats ------------------------------
def _suite(tmp_path: Path, ixit: Path, name: str, *extra: str) -> tuple[subprocess.CompletedProcess[str], Path]:
    out = tmp_path / name
    command = [sys.executable, "-m", "ats.cli", "--client-ixit", str(ixit), "-p", "no:cacheprovider", "-q", *extra]
    if not extra:
        command += ["--cert-report", str(out), "--junitxml", str(out / "junit.xml")]
    done = subprocess.run(command, capture_output=True, text=True, timeout=300, cwd=tmp_path, check=False)
    return done, out


def _check_example(role: str, entity: str, done: subprocess.CompletedProcess[str], out: Path) -> None:
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-2000:]
    assert f"overall verdict ({role} client): CONFORMANT" in done.stdout
    doc = json.loads((out / "results.json").read_text(encoding="utf-8"))
    jsonschema.validate(doc, SCHEMA)
    assert doc["subject"] == "client" and doc["client"]["role"] == role and doc["client"]["entity_id"] == entity
    assert doc["verdict"] == "CONFORMANT" and doc["complete"] is True
    assert {c["name"] for c in doc["classes"]} == set(CLIENT_CLASSES)
    assert len(doc["client"]["scenarios"]) == 9
    certificate = (out / "certificate.html").read_text(encoding="utf-8")
    assert "client conformance certificate" in certificate and f"{role} client of entity {entity}" in certificate
    junit = (out / "junit.xml").read_text(encoding="utf-8")
    assert 'name="IFX-CL-AUTH-001 test_token_requests"' in junit


def _check_fault(done: subprocess.CompletedProcess[str], out: Path) -> None:
    assert done.returncode == 1, done.stdout[-3000:]
    doc = json.loads((out / "results.json").read_text(encoding="utf-8"))
    jsonschema.validate(doc, SCHEMA)
    failing = {c["id"]: c for c in doc["cases"] if c["verdict"] == FAIL}
    assert "IFX-CL-MSG-002" in failing and "P-01" in failing["IFX-CL-MSG-002"]["references"]
    assert 'is not a "date-time"' in failing["IFX-CL-MSG-002"]["message"]
    assert failing["IFX-CL-MSG-002"]["evidence"][0]["exchanges"], "the cited exchange is the evidence"


def test_end_to_end_runs(tmp_path: Path) -> None:
    """One batch of `interflex-ats --client-ixit` runs at once: both example clients CONFORMANT with their
    reports, a fault client NOT CONFORMANT, manual mode without anyone running the client NOT CONFORMANT at
    the timeout, and a bad client IXIT a one-line usage error."""
    fault = _ixit_data("client-dso.yaml")
    fault["command"] = ["{python}", str(EXAMPLES / "faulty_client.py"), "--fault", "naive-time", *fault["command"][2:]]
    bad = tmp_path / "bad.yaml"
    bad.write_text("role: dso\nentity_id: dso1\ncommand: []\n", encoding="utf-8")
    runs = {
        "dso": (_write(tmp_path, "dso.yaml", _ixit_data("client-dso.yaml")), ()),
        "aggregator": (_write(tmp_path, "aggregator.yaml", _ixit_data("client-aggregator.yaml")), ()),
        "naive-time": (_write(tmp_path, "fault.yaml", fault), ()),
        "manual": (_write(tmp_path, "manual.yaml", _ixit_data("client-dso.yaml", timeout=1)), ("--client-manual",)),
        "bad": (bad, ("--co",)),
    }
    with ThreadPoolExecutor(len(runs)) as pool:
        done = dict(zip(runs, pool.map(lambda n: _suite(tmp_path, runs[n][0], n, *runs[n][1]), runs), strict=True))
    _check_example("dso", "dso1", *done["dso"])
    _check_example("aggregator", "agg1", *done["aggregator"])
    _check_fault(*done["naive-time"])
    manual, _ = done["manual"]
    assert manual.returncode == 1 and manual.stderr.count("base URL       http://127.0.0.1:") == 9
    assert "overall verdict (dso client): NOT CONFORMANT" in manual.stdout
    usage, _ = done["bad"]
    assert usage.returncode == 4, usage.stdout + usage.stderr
    assert "command must be a non-empty list" in usage.stderr and "Traceback" not in usage.stderr


# -- no false FAIL: the other legal choices of a client ----------------------------------------------------
VARIANTS = {
    "dso own ids, A1 again instead of A2": ("client-dso.yaml", ["--own-ids", "--login-again"]),
    "aggregator own ids, no valid_at": ("client-aggregator.yaml", ["--own-ids"]),
    "aggregator without flexibility (0 kW offers)": ("client-aggregator.yaml", ["--capacity", "0"]),
}


def _variant(name: str) -> dict[str, tuple[str, str | None]]:
    file, extra = VARIANTS[name]
    data = _ixit_data(file, *extra)
    if "--own-ids" in extra and file == "client-aggregator.yaml":
        data["command"].remove("--valid-at")
    return case_verdicts(ClientRun(parse_client_ixit(data, name, IXITS)))


def test_legal_client_variants_stay_conformant() -> None:
    from ats.catalog import client_catalog

    cases = client_catalog()
    with ThreadPoolExecutor(len(VARIANTS)) as pool:
        outcomes = dict(zip(VARIANTS, pool.map(_variant, VARIANTS), strict=True))
    for name, verdicts in outcomes.items():
        bad = {
            c: v
            for c, v in verdicts.items()
            if CLIENT_CLASSES[cases[c].conformance_class] == MANDATORY and v[0] not in (PASS, NA)
        }
        assert not bad, f"{name}: {bad}"


# -- manual mode and the harness ---------------------------------------------------------------------------
def test_manual_mode_judges_a_client_run_by_hand() -> None:
    ixit = parse_client_ixit(_ixit_data("client-aggregator.yaml", timeout=15), "manual", IXITS)
    started: list[subprocess.Popen[bytes]] = []

    def person(platform: Any, client: Any, scenario: Any) -> None:
        values = {
            "base_url": platform.base_url,
            "username": client.username,
            "password": client.password,
            "client_id": platform.client_id,
            "client_secret": platform.client_secret,
            "entity_id": client.entity_id,
            "dso": ixit.dso,
            "region_id": ixit.region_id,
            "unit": ixit.unit,
            "currency": ixit.currency,
        }
        started.append(subprocess.Popen(ixit.argv(values), cwd=ixit.cwd, stdout=subprocess.DEVNULL))

    try:
        run = ClientRun(ixit, manual=person, only=("plain",))
        verdicts = case_verdicts(run)
    finally:
        for process in started:
            process.terminate()
            process.wait(10)
    assert run.results["aggregator-plain"].ended_by == "end condition"
    assert verdicts["IFX-CL-NEG-004"][0] == PASS and verdicts["IFX-CL-NEG-005"][0] == PASS


def test_client_output_is_kept_redacted() -> None:
    command = ["{python}", "-c", "import sys; print('my password is', sys.argv[1]); sys.exit(3)", "{password}"]
    ixit = parse_client_ixit({"role": "dso", "entity_id": "dso1", "command": command, "timeout_s": 5}, "x", IXITS)
    result = run_scenario(ixit, SCENARIOS_BY_NAME["dso-ack"])
    assert result.returncode == 3 and "my password is" in result.stdout
    from ats.client.suite import ClientRun as Run

    run = Run(ixit, only=("ack",))
    run._results = {"dso-ack": result}
    from ats.client.suite import scenario_summaries

    (summary,) = scenario_summaries(run)
    assert summary["stdout"].strip() == "my password is ***"
    assert result.client.password not in json.dumps(summary)


def test_harness_failure_is_inconclusive_not_fail() -> None:
    command = ["{python}", "-c", "pass"]
    ixit = parse_client_ixit({"role": "dso", "entity_id": "dso1", "command": command, "timeout_s": 5}, "x", IXITS)
    run = ClientRun(ixit, only=("ack",))
    result = run_scenario(ixit, SCENARIOS_BY_NAME["dso-ack"])
    result.harness_failed, result.error = True, "the harness platform did not start: test"
    run._results = {"dso-ack": result}
    assert case_verdicts(run)["IFX-CL-AUTH-001"][0] == INCONCLUSIVE


def test_scenarios_run_in_parallel_and_stop_their_clients() -> None:
    ixit = parse_client_ixit(
        {
            "role": "aggregator",
            "entity_id": "agg1",
            "command": ["{python}", "-c", "import time; time.sleep(60)"],
            "timeout_s": 1,
        },
        "sleeper",
        IXITS,
    )
    before = threading.active_count()
    run = ClientRun(ixit, only=("plain", "503", "409"), jobs=3)
    assert {r.ended_by for r in run.results.values()} == {"timeout"}
    assert all(r.returncode is not None for r in run.results.values())
    assert threading.active_count() <= before + 1


@pytest.mark.parametrize(
    ("first_post", "status", "stored"),
    [("503", 503, False), ("409", 409, False), ("400", 400, False), ("drop", None, True), (None, 201, True)],
)
def test_harness_platform_plays_the_deviation_on_the_first_post(
    first_post: str | None, status: int | None, stored: bool
) -> None:
    import requests

    from ats.client.platform import Deviation, HarnessPlatform, User
    from interflex.client import InterflexClient

    user = User("dso1", "pw-1", "dso", "dso1")
    platform = HarnessPlatform([user], deviation=Deviation(first_post)).start()
    try:
        client = InterflexClient(
            platform.base_url,
            client_id=platform.client_id,
            client_secret=platform.client_secret,
            username="dso1",
            password="pw-1",
        )
        token = client.authenticate()["access_token"]
        body = {
            "request_id": "req-1",
            "timestamp": "2026-01-01T00:00:00Z",
            "deadline": "2099-01-01T00:00:00Z",
            "region_id": "r",
            "flexible_power": 1,
            "duration": 1,
            "unit": "kW",
        }
        url = f"{platform.base_url}/dsos/dso1/flexibilityRequests"
        headers = {"Authorization": f"Bearer {token}"}
        try:
            answered = requests.post(url, json=body, headers=headers, timeout=5).status_code
        except requests.ConnectionError:
            answered = None
        listed = requests.get(url, headers=headers, timeout=5).json()
        again = requests.post(url, json=body, headers=headers, timeout=5).status_code
    finally:
        platform.stop()
    assert answered == status
    assert [r["request_id"] for r in listed] == (["req-1"] if stored else [])
    assert again == (409 if stored else 201), "the deviation plays once"
    captured = platform.recorder.snapshot()
    assert captured[1].party == "client" and captured[1].deviation == first_post
    assert captured[1].exchange.caller == "dso1" and captured[1].exchange.status == status


def test_harness_platform_revokes_a_token_and_refuses_huge_bodies() -> None:
    import requests

    from ats.client.platform import Deviation, HarnessPlatform, User
    from interflex.client import InterflexClient

    user = User("agg1", "pw-1", "aggregator", "agg1")
    platform = HarnessPlatform([user], deviation=Deviation(revoke_at=2)).start()
    try:
        client = InterflexClient(
            platform.base_url,
            client_id=platform.client_id,
            client_secret=platform.client_secret,
            username="agg1",
            password="pw-1",
        )
        token = client.authenticate()["access_token"]
        headers = {"Authorization": f"Bearer {token}"}
        url = f"{platform.base_url}/aggregators/flexibilityOffers"
        statuses = [requests.get(url, headers=headers, timeout=5).status_code for _ in range(3)]
        huge = requests.post(
            f"{platform.base_url}/aggregators/agg1/flexibilityOffers",
            data=b"x" * (3 << 20),
            headers={**headers, "Content-Type": "application/json"},
            timeout=10,
        ).status_code
    finally:
        platform.stop()
    assert statuses == [200, 401, 401]
    assert huge == 413
