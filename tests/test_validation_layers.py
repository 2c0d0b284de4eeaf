"""Import directions of docs/ARCHITECTURE.md (docs/contracts.md, top): core -> server, suite -> command lines.

`interflex` imports neither `ats` nor `reference_server`; `reference_server` never imports
`ats`; `ats` imports `reference_server` only lazily (inside a function, to start the
in-process self-test target), never at module level.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def _imports(path: Path) -> list[tuple[str, bool]]:
    """(imported top-level package, at module level?) for every import in a file."""
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    module_level = {id(node) for node in tree.body}
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [(alias.name.split(".")[0], id(node) in module_level) for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.append((node.module.split(".")[0], id(node) in module_level))
    return found


def _files(package: str) -> list[Path]:
    return sorted((ROOT / package).rglob("*.py"))


@pytest.mark.parametrize(
    ("package", "forbidden"), [("interflex", {"ats", "reference_server"}), ("reference_server", {"ats"})]
)
def test_lower_layers_do_not_import_upper_ones(package: str, forbidden: set[str]) -> None:
    files = _files(package)
    assert files
    wrong = [
        f"{path.relative_to(ROOT)} imports {name}" for path in files for name, _ in _imports(path) if name in forbidden
    ]
    assert wrong == []


def test_ats_imports_reference_server_only_lazily() -> None:
    wrong = [
        str(path.relative_to(ROOT))
        for path in _files("ats")
        for name, top in _imports(path)
        if name == "reference_server" and top
    ]
    assert wrong == []


def test_the_checker_sees_imports(tmp_path: Path) -> None:
    sample = tmp_path / "sample.py"
    sample.write_text("import ats.plugin\nfrom reference_server import x\ndef f():\n    import reference_server\n")
    assert _imports(sample) == [("ats", True), ("reference_server", True), ("reference_server", False)]
