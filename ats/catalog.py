"""The test case catalog `ats/catalog.yaml` (contract C3): loading and validation."""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import yaml

from ats.errors import ConfigError
from interflex.profile import CLIENT_CLASSES, CONFORMANCE_CLASSES

CATALOG_PATH = Path(__file__).with_name("catalog.yaml")
CODES: dict[str, str] = {
    "core-auth": "AUTH",
    "core-ids": "IDS",
    "core-requests": "REQ",
    "core-offers": "OFF",
    "core-activations": "ACT",
    "core-acks": "ACK",
    "core-nacks": "NACK",
    "authorization": "AUTHZ",
    "robustness": "ROB",
    "negotiation": "NEG",
    "plausibility": "PLAUS",
    "date-filter": "DATE",
    "recommended": "REC",
}
# Client classes (PROFILE.md sections 9 and 11): their cases live under `client_cases:` at the end of the
# catalog, ids IFX-CL-<CODE>-NNN, implemented in ats/client/cases (issue 11).
CLIENT_CODES: dict[str, str] = {
    "client-auth": "CL-AUTH",
    "client-messages": "CL-MSG",
    "client-resilience": "CL-RES",
    "client-negotiation": "CL-NEG",
    "client-recommended": "CL-REC",
}
FIELDS = ("id", "title", "class", "purpose", "references", "preconditions", "pass_criteria")
_ID = re.compile(r"IFX-((?:CL-)?[A-Z]+)-(\d{3})")
_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)  # libyaml when available: the catalog is long


@dataclass(frozen=True)
class Case:
    """One abstract test case of the catalog."""

    id: str
    title: str
    conformance_class: str
    purpose: str
    references: tuple[str, ...]
    preconditions: str
    pass_criteria: str

    @property
    def marker(self) -> str:
        """The pytest marker of its class (`core-auth` -> `core_auth`)."""
        return class_marker(self.conformance_class)


def class_marker(conformance_class: str) -> str:
    """Marker name of a conformance class."""
    return conformance_class.replace("-", "_")


def parse_catalog(data: object, source: str = str(CATALOG_PATH), *, client: bool = False) -> dict[str, Case]:
    """Validate catalog data; `ConfigError` naming the first bad entry. `client`: the `client_cases`
    section (client classes) instead of `cases` (the server suite's classes)."""
    key, codes = ("client_cases", CLIENT_CODES) if client else ("cases", CODES)
    classes = CLIENT_CLASSES if client else CONFORMANCE_CLASSES
    entries = data.get(key, ()) if isinstance(data, dict) else None
    if not isinstance(entries, list) and entries is not None:
        raise ConfigError(f"{source}: expected a mapping with a {key!r} list")
    cases: dict[str, Case] = {}
    for i, entry in enumerate(entries or []):
        where = f"{source}: {key}[{i}]"
        if not isinstance(entry, dict):
            raise ConfigError(f"{where}: expected a mapping")
        missing = [f for f in FIELDS if not entry.get(f)]
        if missing:
            raise ConfigError(f"{where} ({entry.get('id')}): missing {', '.join(missing)}")
        extra = set(entry) - set(FIELDS)
        if extra:
            raise ConfigError(f"{where} ({entry['id']}): unknown keys {sorted(extra)}")
        case_id, cls = str(entry["id"]), str(entry["class"])
        found = _ID.fullmatch(case_id)
        if cls not in classes:
            raise ConfigError(f"{where} ({case_id}): unknown class {cls!r}")
        if not found or found.group(1) != codes[cls]:
            raise ConfigError(f"{where}: id {case_id!r} must be IFX-{codes[cls]}-NNN for class {cls}")
        if case_id in cases:
            raise ConfigError(f"{where}: duplicate id {case_id}")
        refs = entry["references"]
        if not isinstance(refs, list) or not all(isinstance(r, str) and r for r in refs):
            raise ConfigError(f"{where} ({case_id}): references must be a list of strings")
        cases[case_id] = Case(
            case_id,
            str(entry["title"]),
            cls,
            str(entry["purpose"]).strip(),
            tuple(refs),
            str(entry["preconditions"]).strip(),
            str(entry["pass_criteria"]).strip(),
        )
    return cases


def load_catalog(path: str | Path = CATALOG_PATH, *, client: bool = False) -> dict[str, Case]:
    """Read and validate a catalog file: case id -> Case, in file order (`client`: the client section)."""
    try:
        data = yaml.load(Path(path).read_text(encoding="utf-8"), Loader=_LOADER)
    except (OSError, yaml.YAMLError) as exc:
        raise ConfigError(f"cannot read the test case catalog {path}: {exc}") from None
    return parse_catalog(data, str(path), client=client)


@cache
def catalog() -> dict[str, Case]:
    """The bundled catalog of the server suite, loaded once."""
    return load_catalog()


@cache
def client_catalog() -> dict[str, Case]:
    """The bundled catalog of the client suite (`client_cases`), loaded once."""
    return load_catalog(client=True)


def bound_tests(client: bool = False) -> dict[str, list[str]]:
    """Case id -> the tests of `ats/cases/test_*.py` (`client`: `ats/client/cases/test_*.py`) bound to it
    by `@pytest.mark.case` ("module::test")."""
    import importlib
    import inspect

    bindings: dict[str, list[str]] = {}
    folder, package = (
        (Path(__file__).parent / "client" / "cases", "ats.client.cases")
        if client
        else (
            Path(__file__).with_name("cases"),
            "ats.cases",
        )
    )
    for path in sorted(folder.glob("test_*.py")):
        module = importlib.import_module(f"{package}.{path.stem}")
        for name, obj in vars(module).items():
            targets = []
            if name.startswith("test") and inspect.isfunction(obj):
                targets.append((name, obj, []))
            elif name.startswith("Test") and inspect.isclass(obj):
                class_marks = list(getattr(obj, "pytestmark", []))
                targets += [
                    (f"{name}::{m}", f, class_marks)
                    for m, f in vars(obj).items()
                    if m.startswith("test") and inspect.isfunction(f)
                ]
            for test_name, func, extra in targets:
                marks = [*getattr(func, "pytestmark", []), *extra, *getattr(module, "pytestmark", [])]
                ids = [m.args[0] for m in marks if m.name == "case" and m.args] or [None]
                for case_id in ids:
                    bindings.setdefault(case_id, []).append(f"{path.name}::{test_name}")
    return bindings
