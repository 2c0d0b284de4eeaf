"""Testing the tester: the suite catches every fault mode of the reference server and passes the
fault-free server (issue 5, "Testing the tester"). Faults that only show under concurrent load
(`shows_under == "load"`) are interflex-load's to find (tests/test_load_faults.py).

Each fault run executes only the fault's own conformance class (that is what the assertion is about;
`python -m ats.docs --faults` runs the whole suite per fault for the table in docs/ATS.md).
"""

from __future__ import annotations

import pytest

from ats.docs import load_fault_matrix, run_suite
from reference_server import FAULTS

# Faults that exist to prove one test case can FAIL: that case must FAIL, whatever else does.
PROVES: dict[str, str] = {
    "requests-list-any-dso": "IFX-REQ-007",  # ST-12 per list operation
    "activations-list-any-agg": "IFX-ACT-008",
    "acks-list-any-agg": "IFX-ACK-009",
    "nacks-list-any-agg-to-dsos": "IFX-NACK-010",
}


def test_proving_faults_exist() -> None:
    assert set(PROVES) <= set(FAULTS)


@pytest.mark.parametrize("name", sorted(n for n, f in FAULTS.items() if f.shows_under == "suite"))
def test_fault_is_caught(name: str) -> None:
    fault = FAULTS[name]
    data = run_suite(name, ("--ats-class", fault.conformance_class))
    summary = data["summary"]
    assert data["info"]["reference_fault"] == name
    assert summary["overall"] == "NOT CONFORMANT"
    assert data["returncode"] == 1
    assert summary["classes"][fault.conformance_class]["counts"]["FAIL"] >= 1, summary
    failing = {case for case, v in data["cases"].items() if v["verdict"] == "FAIL"}
    assert name not in PROVES or PROVES[name] in failing, f"{PROVES.get(name)} did not FAIL"
    documented = {c for c in load_fault_matrix().get(name, {}).get("failing", []) if c in data["cases"]}
    assert documented <= failing, f"docs/ATS.md lists cases this run did not fail: {sorted(documented - failing)}"


def test_fault_free_server_is_conformant() -> None:
    data = run_suite(None, ("-n", "4"))
    counts = {v: sum(c["counts"][v] for c in data["summary"]["classes"].values()) for v in ("FAIL", "INCONCLUSIVE")}
    assert data["summary"]["overall"] == "CONFORMANT", data["summary"]
    assert counts == {"FAIL": 0, "INCONCLUSIVE": 0}
    assert data["returncode"] == 0
    assert len(data["cases"]) > 100
    assert {r["verdict"] for r in data["records"]} <= {"PASS", "N/A"}
