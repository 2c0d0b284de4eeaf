"""The catalog (ats/catalog.yaml) and the test cases in ats/cases/ agree in both directions,
every requirement id of PROFILE.md is covered, and docs/ATS.md is generated from them."""

from __future__ import annotations

from pathlib import Path

import pytest

from ats import docs
from ats.catalog import CODES, bound_tests, catalog, load_catalog, parse_catalog
from ats.errors import ConfigError
from ats.requirements import REQUIREMENTS, profile_ids, server_ids
from interflex.profile import CONFORMANCE_CLASSES

PROFILE = Path(__file__).resolve().parents[1] / "docs" / "PROFILE.md"  # the shipped copy of the normative profile


def test_catalog_is_valid() -> None:
    cases = load_catalog()
    assert len(cases) > 100
    assert set(CODES) == set(CONFORMANCE_CLASSES)
    for case in cases.values():
        assert case.id.startswith(f"IFX-{CODES[case.conformance_class]}-")


def test_every_catalog_case_is_implemented_exactly_once() -> None:
    bindings = bound_tests()
    missing = sorted(set(catalog()) - set(bindings))
    twice = {case: tests for case, tests in bindings.items() if case is not None and len(tests) > 1}
    assert not missing, f"catalog ids without a test: {missing}"
    assert not twice, f"ids bound by more than one test: {twice}"


def test_every_test_is_a_catalog_case() -> None:
    bindings = bound_tests()
    assert None not in bindings, f"tests without @pytest.mark.case: {bindings.get(None)}"
    unknown = sorted(set(bindings) - set(catalog()))
    assert not unknown, f"test case ids not in ats/catalog.yaml: {unknown}"


def test_every_requirement_is_covered() -> None:
    cited = {ref for case in catalog().values() for ref in case.references}
    uncovered = [req for req in REQUIREMENTS if req not in cited]
    assert not uncovered, f"requirement ids of PROFILE.md without a test case: {uncovered}"


def test_every_class_has_cases() -> None:
    classes = {case.conformance_class for case in catalog().values()}
    assert classes == set(CONFORMANCE_CLASSES)


def test_shipped_requirement_ids_match_the_profile() -> None:
    """The server suite covers every id of PROFILE.md sections 1-10 and the clarifications (not section 11)."""
    assert server_ids(PROFILE.read_text(encoding="utf-8")) == set(REQUIREMENTS)


def test_only_the_client_rules_are_left_to_the_client_suite() -> None:
    text = PROFILE.read_text(encoding="utf-8")
    assert profile_ids(text) - server_ids(text) == {f"CL-{n}" for n in range(1, 10)} | {"P-11"}


def test_profile_ids_are_parsed() -> None:
    text = "AU-3 Failures (A1, A2) ... PL-1…PL-7, P-07, CL-4 and ST-10; not AU-n, not XA1"
    assert profile_ids(text) == {"AU-3", "A1", "A2", "PL-1", "PL-7", "P-07", "CL-4", "ST-10"}


def test_server_ids_leave_out_section_11_and_its_clarifications() -> None:
    text = (
        "# Profile\nids: A1 ...\n## 5. Status codes\n- ST-1 bad bodies (P-01)\n"
        "## 9. Classes\n| `client-auth` | mandatory | CL-1, CL-2 |\n"
        "## 11. Clients\n- CL-3 paths (ST-3)\n"
        "## Clarifications\n| P-01 | times | RFC 3339 |\n| P-11 | clients | section 11 |\n| P-12 | x | CL-3 |\n"
    )
    assert server_ids(text) == {"A1", "ST-1", "P-01"}


@pytest.mark.parametrize(
    ("entry", "message"),
    [
        ({"id": "IFX-AUTH-1"}, "missing"),
        ({"id": "IFX-OFF-001"}, "must be IFX-AUTH-NNN"),
        ({"class": "core-authx"}, "unknown class"),
        ({"references": "A1"}, "references must be a list"),
        ({"extra": 1}, "unknown keys"),
    ],
)
def test_bad_entries_are_rejected(entry: dict, message: str) -> None:
    good = {
        "id": "IFX-AUTH-001",
        "title": "t",
        "class": "core-auth",
        "purpose": "p",
        "references": ["A1"],
        "preconditions": "none",
        "pass_criteria": "c",
    }
    bad = {**good, **entry}
    if entry.get("id") == "IFX-AUTH-1":
        bad.pop("title")
    with pytest.raises(ConfigError, match=message):
        parse_catalog({"cases": [bad]}, "catalog.yaml")


def test_duplicate_ids_are_rejected() -> None:
    entry = {
        "id": "IFX-AUTH-001",
        "title": "t",
        "class": "core-auth",
        "purpose": "p",
        "references": ["A1"],
        "preconditions": "none",
        "pass_criteria": "c",
    }
    with pytest.raises(ConfigError, match="duplicate id IFX-AUTH-001"):
        parse_catalog({"cases": [entry, dict(entry)]})


def test_ats_doc_is_up_to_date() -> None:
    assert docs.DOC_PATH.read_text(encoding="utf-8") == docs.render(), "run: python -m ats.docs"


def test_ats_doc_traces_every_requirement_and_fault() -> None:
    text = docs.render()
    assert "**uncovered**" not in text and "**not implemented**" not in text
    for req in REQUIREMENTS:
        assert f"\n| {req} |" in text
    from reference_server import FAULTS

    matrix = docs.load_fault_matrix()
    assert set(matrix) == {name for name, fault in FAULTS.items() if fault.shows_under == "suite"}
    for name, row in matrix.items():
        assert f"| `{name}` |" in text
        assert set(row["failing"]) <= set(catalog()), f"{name}: unknown case ids in ats/fault_matrix.json"
