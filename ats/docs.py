"""Generate `docs/ATS.md` from the catalog, the requirement ids and the fault matrix.

python -m ats.docs            # rewrite docs/ATS.md
python -m ats.docs --check    # exit 1 when docs/ATS.md is out of date
python -m ats.docs --faults   # first re-run the suite against every reference fault (ats/fault_matrix.json)
python -m ats.docs --client-faults   # first re-run the client suite per fault client (ats/client/fault_matrix.json)
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
from collections.abc import Mapping
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from ats.catalog import CLIENT_CODES, CODES, bound_tests, catalog, client_catalog
from ats.requirements import REQUIREMENTS
from interflex.profile import CLIENT_CLASSES, CONFORMANCE_CLASSES

FAULT_MATRIX = Path(__file__).with_name("fault_matrix.json")
CLIENT_FAULT_MATRIX = Path(__file__).with_name("client") / "fault_matrix.json"
DOC_PATH = Path(__file__).resolve().parent.parent / "docs" / "ATS.md"
FAULTY_CLIENT = Path(__file__).resolve().parent.parent / "examples" / "clients" / "faulty_client.py"


def load_fault_matrix() -> dict[str, dict]:
    """Fault name -> {"class", "description", "overall", "failing": [case ids]} of the last self-test run."""
    return json.loads(FAULT_MATRIX.read_text(encoding="utf-8")) if FAULT_MATRIX.is_file() else {}


def run_suite(fault: str | None, extra: tuple[str, ...] = ()) -> dict:
    """Run the whole suite in a subprocess against the in-process reference server; its records JSON."""
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "records.json"
        cmd = [
            sys.executable,
            "-m",
            "pytest",
            "--pyargs",
            "ats",
            "-q",
            "-p",
            "no:cacheprovider",
            "-p",
            "no:schemathesis",
            "--ats-records",
            str(out),
            *extra,
        ]
        if fault:
            cmd += ["--ats-reference-fault", fault]
        done = subprocess.run(cmd, cwd=tmp, capture_output=True, text=True, timeout=600, check=False)
        if not out.is_file():
            raise RuntimeError(f"the suite run (fault {fault}) wrote no records: {done.stdout[-2000:]}{done.stderr}")
        data = json.loads(out.read_text(encoding="utf-8"))
        data["returncode"] = done.returncode
        return data


def build_fault_matrix(jobs: int = 2) -> dict[str, dict]:
    """Run the suite once per reference fault and collect the failing test cases."""
    from reference_server import FAULTS

    def one(name: str) -> tuple[str, dict]:
        data = run_suite(name)
        failing = sorted(c for c, v in data["cases"].items() if v["verdict"] == "FAIL")
        fault = FAULTS[name]
        return name, {
            "class": fault.conformance_class,
            "description": fault.description,
            "overall": data["summary"]["overall"],
            "failing": failing,
        }

    with ThreadPoolExecutor(jobs) as pool:  # load-only faults (`shows_under == "load"`) are interflex-load's
        return dict(pool.map(one, [name for name, fault in FAULTS.items() if fault.shows_under == "suite"]))


def load_client_fault_matrix() -> dict[str, dict]:
    """Fault client -> {"role", "class", "rule", "description", "overall", "failing": [case ids]} of the last
    full client run per fault client (`python -m ats.docs --client-faults`)."""
    path = CLIENT_FAULT_MATRIX
    return json.loads(path.read_text(encoding="utf-8")) if path.is_file() else {}


def _fault_clients() -> list[dict]:
    """The fault and hostile clients of examples/clients/faulty_client.py (`--list`)."""
    done = subprocess.run(
        [sys.executable, str(FAULTY_CLIENT), "--list"], capture_output=True, text=True, timeout=60, check=True
    )
    rows = []
    for line in done.stdout.splitlines():
        name, role, cls, rule, description = line.split(None, 4)
        rows.append({"name": name, "role": role, "class": cls, "rule": rule, "description": description})
    return rows


def build_client_fault_matrix(jobs: int = 2) -> dict[str, dict]:
    """Run the whole client suite once per fault client; its overall verdict and failing test cases."""
    import yaml

    def one(row: dict) -> tuple[str, dict]:
        command = ["{python}", str(FAULTY_CLIENT), "--fault", row["name"], "--base-url", "{base_url}"]
        command += ["--user", "{username}", "--password", "{password}", "--client-id", "{client_id}"]
        command += ["--client-secret", "{client_secret}", "--entity-id", "{entity_id}", "--region-id", "{region_id}"]
        command += ["--dso", "{dso}"] if row["role"] == "aggregator" else []
        entity = "dso1" if row["role"] == "dso" else "agg1"
        with tempfile.TemporaryDirectory() as tmp:
            ixit = Path(tmp) / "client.yaml"
            data = {"role": row["role"], "entity_id": entity, "command": command, "timeout_s": 10}
            ixit.write_text(yaml.safe_dump(data), encoding="utf-8")
            data = run_suite(None, ("--client-ixit", str(ixit)))
        failing = sorted(c for c, v in data["cases"].items() if v["verdict"] == "FAIL")
        return row["name"], {
            **{k: row[k] for k in ("role", "class", "rule", "description")},
            "overall": data["summary"]["overall"],
            "failing": failing,
        }

    with ThreadPoolExecutor(jobs) as pool:
        return dict(pool.map(one, _fault_clients()))


def _cell(text: str) -> str:
    return " ".join(str(text).split()).replace("|", "\\|")


def render() -> str:
    """The Markdown of docs/ATS.md."""
    cases = catalog()
    bindings = bound_tests()
    lines = [
        "# The InterFlex abstract test suite (ATS)",
        "",
        "<!-- generated by `python -m ats.docs` from ats/catalog.yaml; do not edit by hand -->",
        "",
        "Every test case of the conformance suite: its conformance class (PROFILE.md section 9), purpose, the",
        "requirements it covers, preconditions and pass criteria, and the pytest test that implements it",
        "(`ats/cases/`). The suite runs with `interflex-ats` or `pytest --pyargs ats` (see docs/user-guide.md).",
        "",
        "## Conformance classes",
        "",
        "| class | code | gating | test cases |",
        "|---|---|---|---|",
    ]
    lines += _classes(CONFORMANCE_CLASSES, CODES, cases, bindings, "test cases")
    lines += [
        "## Traceability: requirement -> test cases",
        "",
        "Every requirement id of PROFILE.md and the test cases citing it.",
        "",
        "| requirement | what | test cases |",
        "|---|---|---|",
    ]
    for req, what in REQUIREMENTS.items():
        covering = [c.id for c in cases.values() if req in c.references]
        lines.append(f"| {req} | {_cell(what)} | {', '.join(covering) or '**uncovered**'} |")
    matrix = load_fault_matrix()
    lines += [
        "",
        "## Fault modes of the reference server -> failing test cases",
        "",
        "The suite's self-test (`tests/test_fault_modes.py`) runs the suite against the reference server in",
        "each fault mode (`--ats-reference-fault NAME`); every fault must be caught by at least one FAIL in its",
        "class. The test cases that failed in the last full run per fault (`python -m ats.docs --faults`):",
        "",
        "| fault | class | deviation | overall | failing test cases |",
        "|---|---|---|---|---|",
    ]
    for name, row in matrix.items():
        own = [c for c in row["failing"] if cases.get(c) and cases[c].conformance_class == row["class"]]
        other = [c for c in row["failing"] if c not in own]
        shown = ", ".join(f"**{c}**" for c in own) + (", " if own and other else "") + ", ".join(other)
        lines.append(f"| `{name}` | `{row['class']}` | {_cell(row['description'])} | {row['overall']} | {shown} |")
    lines += ["", "Bold: test cases of the fault's own class.", ""]
    lines += _client_section()
    return "\n".join(lines)


def _classes(
    classes: Mapping[str, str], codes: Mapping[str, str], cases: Mapping[str, Any], bindings: Mapping, noun: str
) -> list[str]:
    """The rows of a class table (its header already written), the count, and every case per class."""
    lines = []
    for name, gating in classes.items():
        count = sum(1 for c in cases.values() if c.conformance_class == name)
        lines.append(f"| `{name}` | {codes[name]} | {gating} | {count} |")
    lines += ["", f"{len(cases)} {noun} in total.", ""]
    for name in classes:
        members = [c for c in cases.values() if c.conformance_class == name]
        if not members:
            continue
        lines += [f"## Class `{name}`", ""]
        for case in members:
            tests = ", ".join(f"`{t}`" for t in bindings.get(case.id, [])) or "**not implemented**"
            lines += [
                f"### {case.id}: {_cell(case.title)}",
                "",
                f"- **Purpose:** {_cell(case.purpose)}",
                f"- **References:** {', '.join(case.references)}",
                f"- **Preconditions:** {_cell(case.preconditions)}",
                f"- **Pass criteria:** {_cell(case.pass_criteria)}",
                f"- **Implemented by:** {tests}",
                "",
            ]
    return lines


def _client_section() -> list[str]:
    """The client test cases (`client_cases`) and the fault-client table."""
    cases = client_catalog()
    bindings = bound_tests(client=True)
    lines = [
        "# Client conformance (PROFILE.md section 11)",
        "",
        "The client suite (`interflex-ats --client-ixit FILE`, docs/client-conformance.md) plays the platform and",
        "the other parties, runs the client under test in scenarios and judges its exchanges (`ats/client/`).",
        "",
        "| class | code | gating | test cases |",
        "|---|---|---|---|",
    ]
    lines += _classes(CLIENT_CLASSES, CLIENT_CODES, cases, bindings, "client test cases")
    lines += [
        "## Fault clients -> failing test cases",
        "",
        "Every client rule can fail: each test client of `examples/clients/faulty_client.py` breaks one rule",
        "(`--fault NAME`); the hostile ones hang, flood, send garbage or exit at once. Each must end NOT CONFORMANT",
        "with a FAIL in its rule's class (`tests/test_client_conformance_faults.py`). The test cases that failed in",
        "the last full client run per fault client (`python -m ats.docs --client-faults`):",
        "",
        "| fault client | role | class | rule | what it does | overall | failing test cases |",
        "|---|---|---|---|---|---|---|",
    ]
    for name, row in load_client_fault_matrix().items():
        own = [c for c in row["failing"] if cases.get(c) and cases[c].conformance_class == row["class"]]
        other = [c for c in row["failing"] if c not in own]
        shown = ", ".join(f"**{c}**" for c in own) + (", " if own and other else "") + ", ".join(other)
        lines.append(
            f"| `{name}` | {row['role']} | `{row['class']}` | {row['rule']} | {_cell(row['description'])} | "
            f"{row['overall']} | {shown} |"
        )
    lines += ["", "Bold: test cases of the fault client's own class.", ""]
    return lines


def main(argv: list[str] | None = None) -> int:
    """Command line: write, check or refresh docs/ATS.md."""
    parser = argparse.ArgumentParser(prog="python -m ats.docs", description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="exit 1 when docs/ATS.md is out of date")
    parser.add_argument("--faults", action="store_true", help="re-run the suite per fault first (a few minutes)")
    parser.add_argument(
        "--client-faults", action="store_true", help="re-run the client suite per fault client first (a few minutes)"
    )
    parser.add_argument("--output", type=Path, default=DOC_PATH)
    args = parser.parse_args(argv)
    if args.faults:
        FAULT_MATRIX.write_text(json.dumps(build_fault_matrix(), indent=1) + "\n", encoding="utf-8")
    if args.client_faults:
        matrix = build_client_fault_matrix()
        CLIENT_FAULT_MATRIX.write_text(json.dumps(matrix, indent=1) + "\n", encoding="utf-8")
    text = render()
    if args.check:
        current = args.output.read_text(encoding="utf-8") if args.output.is_file() else ""
        if current != text:
            print(f"{args.output} is out of date: run python -m ats.docs", file=sys.stderr)
            return 1
        return 0
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(text, encoding="utf-8")
    print(f"wrote {args.output}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
