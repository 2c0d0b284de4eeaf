"""Every client rule can fail: each fault client of examples/clients/faulty_client.py (one broken rule each)
gets a FAIL in its rule's class, and each hostile client a bounded, clean NOT CONFORMANT; the harness never
crashes. The faults run in parallel, each only in the scenarios that show it (`Fault.scenarios`); the whole
suite per fault is what `python -m ats.docs --client-faults` runs for the table in docs/ATS.md."""

from __future__ import annotations

import importlib.util
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest

from ats.catalog import client_catalog
from ats.client.ixit import parse_client_ixit
from ats.client.suite import ClientRun, case_verdicts
from ats.verdicts import FAIL, NA, PASS
from interflex.profile import CLIENT_CLASSES, MANDATORY

EXAMPLES = Path(__file__).resolve().parents[1] / "examples" / "clients"
TIMEOUT = 8.0  # each scenario's timeout_s in these runs


def _faults_module() -> Any:
    spec = importlib.util.spec_from_file_location("faulty_client", EXAMPLES / "faulty_client.py")
    assert spec and spec.loader
    sys.path.insert(0, str(EXAMPLES))
    try:
        module = importlib.util.module_from_spec(spec)
        sys.modules[spec.name] = module
        spec.loader.exec_module(module)
    finally:
        sys.path.remove(str(EXAMPLES))
    return module


FAULTY = _faults_module()


def fault_ixit(name: str, role: str, timeout: float = TIMEOUT) -> Any:
    """A client IXIT starting the fault client `name` in `role`."""
    command = ["{python}", "faulty_client.py", "--fault", name, "--base-url", "{base_url}", "--user", "{username}"]
    command += ["--password", "{password}", "--client-id", "{client_id}", "--client-secret", "{client_secret}"]
    command += ["--entity-id", "{entity_id}", "--region-id", "{region_id}", "--currency", "{currency}"]
    command += ["--dso", "{dso}"] if role == "aggregator" else []
    data = {"role": role, "entity_id": "dso1" if role == "dso" else "agg1", "command": command, "timeout_s": timeout}
    return parse_client_ixit(data, f"fault {name}", EXAMPLES)


def _run(name: str) -> tuple[dict[str, tuple[str, str | None]], float]:
    fault = FAULTY.ALL[name]
    started = time.monotonic()
    run = ClientRun(fault_ixit(name, fault.role), only=fault.scenarios, jobs=2)
    verdicts = case_verdicts(run)
    return verdicts, time.monotonic() - started


@pytest.fixture(scope="module")
def outcomes() -> dict[str, tuple[dict[str, tuple[str, str | None]], float]]:
    with ThreadPoolExecutor(6) as pool:
        return dict(zip(FAULTY.ALL, pool.map(_run, FAULTY.ALL), strict=True))


def _classes(verdicts: dict[str, tuple[str, str | None]]) -> dict[str, str]:
    cases = client_catalog()
    return {case_id: cases[case_id].conformance_class for case_id, (verdict, _) in verdicts.items() if verdict == FAIL}


@pytest.mark.parametrize("name", list(FAULTY.FAULTS))
def test_fault_fails_in_its_rules_class(name: str, outcomes: dict) -> None:
    fault = FAULTY.FAULTS[name]
    verdicts, _ = outcomes[name]
    failing = _classes(verdicts)
    assert fault.conformance_class in failing.values(), f"{name}: no FAIL in {fault.conformance_class}: {verdicts}"
    reasons = " ".join(verdicts[c][1] or "" for c, cls in failing.items() if cls == fault.conformance_class)
    assert fault.rule in reasons or fault.conformance_class == "client-negotiation" or "negotiation" in reasons, reasons


@pytest.mark.parametrize("name", list(FAULTY.HOSTILE))
def test_hostile_client_is_not_conformant_within_bounds(name: str, outcomes: dict) -> None:
    verdicts, took = outcomes[name]
    gating = [c for c, cls in _classes(verdicts).items() if CLIENT_CLASSES[cls] == MANDATORY]
    assert gating, f"{name}: no gating FAIL: {verdicts}"
    assert took < TIMEOUT + 5 + 15, f"{name} took {took:.1f} s"


def test_every_case_has_a_verdict_and_other_role_cases_are_na(outcomes: dict) -> None:
    verdicts, _ = outcomes["naive-time"]
    assert set(verdicts) == set(client_catalog())
    assert verdicts["IFX-CL-NEG-004"][0] == NA and verdicts["IFX-CL-NEG-005"][0] == NA
    assert verdicts["IFX-CL-AUTH-001"][0] == PASS


def test_fault_table_names_each_fault_once() -> None:
    assert not set(FAULTY.FAULTS) & set(FAULTY.HOSTILE)
    for fault in FAULTY.ALL.values():
        assert fault.conformance_class in CLIENT_CLASSES
        assert fault.role in ("dso", "aggregator")


def test_fault_table_of_the_docs_covers_every_fault_client() -> None:
    from ats import docs

    matrix = docs.load_client_fault_matrix()
    assert set(matrix) == set(FAULTY.ALL), "run: python -m ats.docs --client-faults"
    cases = client_catalog()
    for name, row in matrix.items():
        assert row["overall"] == "NOT CONFORMANT", name
        assert set(row["failing"]) <= set(cases), name
        if name in FAULTY.FAULTS:
            assert row["class"] in {cases[c].conformance_class for c in row["failing"]}, name
