"""The example messages of `fixtures/messages/` give the verdicts their layout promises.

Layout: `<kind>/valid/<name>.json` (no finding at all), `<kind>/invalid/<rule>__<field>__<name>.json`
(errors with exactly that rule at exactly that field; `root` is the whole message, several
rules are joined by `+`), `<kind>/warning/<rule>__<field>__<name>.json` (valid with exactly
that warning; invalid with --strict). `<kind>` is the schema file's name without `.json`.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from interflex._data import fixtures_dir
from interflex.profile import KINDS, SCHEMA_FILES
from interflex.validation import is_valid, validate
from interflex.validation._schemas import load_file
from interflex.validation.cli import main

MESSAGES = fixtures_dir() / "messages"
KIND_OF_FOLDER = {file.removesuffix(".json"): kind for kind, file in SCHEMA_FILES.items()}
FILES = sorted(p for p in MESSAGES.glob("*/*/*.json") if p.parts[-3] in KIND_OF_FOLDER)


def expectation(path: Path) -> tuple[str, str, set[tuple[str, str]]]:
    """(kind, verdict folder, expected {(rule, pointer)}) of a fixture file."""
    kind, verdict = KIND_OF_FOLDER[path.parts[-3]], path.parts[-2]
    if verdict == "valid":
        return kind, verdict, set()
    rules, field, _name = path.stem.split("__")
    pointer = "" if field == "root" else "/" + field
    return kind, verdict, {(rule, pointer) for rule in rules.split("+")}


def load(path: Path) -> Any:
    return json.loads(path.read_text(encoding="utf-8"))


def test_layout_is_complete() -> None:
    """Every file sits in a known kind and verdict folder; every kind has valid and invalid examples."""
    assert len(FILES) == len(list(MESSAGES.glob("*/*/*.json"))) - len(list(MESSAGES.glob("samples/*/*.json")))
    assert {p.parts[-2] for p in FILES} == {"valid", "invalid", "warning"}
    for folder in KIND_OF_FOLDER:
        verdicts = {p.parts[-2] for p in FILES if p.parts[-3] == folder}
        assert {"valid", "invalid"} <= verdicts, folder


def _keywords(node: object) -> set[str]:
    """Every validation keyword used in a schema (the field rules of section 4)."""
    checks = {
        "type",
        "format",
        "pattern",
        "minLength",
        "maxLength",
        "not",
        "enum",
        "minimum",
        "exclusiveMinimum",
        "required",
        "oneOf",
        "const",
    }
    if isinstance(node, dict):
        return (checks & node.keys()) | set().union(*(_keywords(v) for v in node.values()))
    if isinstance(node, list):
        return set().union(*(_keywords(v) for v in node))
    return set()


def test_every_field_rule_and_pl_rule_has_an_invalid_example() -> None:
    """Issue 2: at least one invalid example per field rule of section 4 and per PL rule."""
    covered = {rule for p in FILES if p.parts[-2] == "invalid" for rule, _ in expectation(p)[2]}
    used = _keywords(load_file("defs.json")) | set().union(*(_keywords(load_file(SCHEMA_FILES[k])) for k in KINDS))
    assert used - covered == set()
    assert {"PL-1", "PL-2", "PL-3"} <= covered
    # PL rules for every kind they apply to (section 6)
    pl_kinds = {(rule, p.parts[-3]) for p in FILES if p.parts[-2] == "invalid" for rule, _ in expectation(p)[2]}
    for rule, kinds in {
        "PL-1": ["flexibility-request", "flexibility-offer"],
        "PL-2": ["flexibility-offer", "flexibility-activation"],
        "PL-3": [
            "flexibility-offer",
            "flexibility-activation",
            "flexibility-activation-ack",
            "flexibility-activation-nack",
        ],
    }.items():
        assert {(rule, k) for k in kinds} <= pl_kinds


@pytest.mark.parametrize("path", FILES, ids=lambda p: "/".join(p.parts[-3:]))
def test_library_verdict_matches_layout(path: Path) -> None:
    kind, verdict, expected = expectation(path)
    findings = validate(load(path), kind)
    if verdict == "valid":
        assert findings == []
    elif verdict == "invalid":
        assert {(f.rule, f.path) for f in findings if f.severity == "error"} == expected
        assert not is_valid(findings)
    else:
        assert {(f.rule, f.path) for f in findings} == expected
        assert all(f.severity == "warning" for f in findings)
        assert not is_valid(validate(load(path), kind, strict=True))


def _cli_json(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, list[dict[str, Any]]]:
    code = main([*args, "--format", "json"])
    return code, json.loads(capsys.readouterr().out)


@pytest.mark.parametrize("folder", sorted(KIND_OF_FOLDER))
def test_cli_verdicts_match_layout(folder: str, capsys: pytest.CaptureFixture[str]) -> None:
    paths = [p for p in FILES if p.parts[-3] == folder]
    code, results = _cli_json(capsys, "--kind", KIND_OF_FOLDER[folder], *map(str, paths))
    assert code == 1  # every folder has invalid examples
    assert [r["source"] for r in results] == [str(p) for p in paths]
    for path, result in zip(paths, results, strict=True):
        kind, verdict, expected = expectation(path)
        assert result["kind"] == kind
        assert result["valid"] is (verdict != "invalid"), path
        if verdict != "valid":
            assert {(f["rule"], f["path"]) for f in result["findings"]} == expected, path


def test_cli_detects_kinds_of_valid_examples(capsys: pytest.CaptureFixture[str]) -> None:
    paths = [p for p in FILES if p.parts[-2] == "valid"]
    code, results = _cli_json(capsys, *map(str, paths))
    assert code == 0
    assert [r["kind"] for r in results] == [KIND_OF_FOLDER[p.parts[-3]] for p in paths]


def test_cli_strict_turns_warnings_into_errors(capsys: pytest.CaptureFixture[str]) -> None:
    paths = [str(p) for p in FILES if p.parts[-2] == "warning"]
    assert main(paths) == 0
    assert main(["--strict", *paths]) == 1
    capsys.readouterr()
