"""The wheel ships the data inside `interflex/_data/` and works when installed (not editable).

Builds the wheel with pip (hatchling from PyPI through build isolation), checks its file
list, installs it with `--target` into a temporary folder and runs `interflex-validate`
from another folder with only that installation first on the path.
"""

from __future__ import annotations

import os
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from interflex.profile import SCHEMA_FILES

ROOT = Path(__file__).resolve().parent.parent


def _run(args: list[str], cwd: Path, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(args, cwd=cwd, env=env, capture_output=True, text=True, timeout=180, check=False)


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("wheel")
    done = _run([sys.executable, "-m", "pip", "wheel", str(ROOT), "--no-deps", "-q", "-w", str(out)], cwd=out)
    assert done.returncode == 0, f"building the wheel failed: {done.stderr[-2000:]}"
    [built] = out.glob("*.whl")
    return built


def test_wheel_contains_the_data_and_no_top_level_data_packages(wheel: Path) -> None:
    names = set(zipfile.ZipFile(wheel).namelist())
    schemas = {f"interflex/_data/schemas/{name}" for name in [*SCHEMA_FILES.values(), "defs.json", "openapi.yaml"]}
    assert schemas <= names
    fixtures = {
        "interflex/_data/fixtures/" + path.relative_to(ROOT / "fixtures").as_posix()
        for path in (ROOT / "fixtures").rglob("*")
        if path.is_file()
    }
    assert any(name.startswith("interflex/_data/fixtures/messages/flexibility-offer/invalid/") for name in fixtures)
    assert fixtures <= names
    if (ROOT / "ats" / "catalog.yaml").is_file():
        assert "ats/catalog.yaml" in names
    top_level = {name.split("/")[0] for name in names if not name.split("/")[0].endswith(".dist-info")}
    assert top_level <= {"interflex", "ats", "reference_server"}
    assert not top_level & {"schemas", "fixtures", "reports"}
    entry_points = next(name for name in names if name.endswith(".dist-info/entry_points.txt"))
    assert "interflex-validate = interflex.validation.cli:main" in zipfile.ZipFile(wheel).read(entry_points).decode()


def test_installed_wheel_validates_fixtures_from_another_folder(wheel: Path, tmp_path: Path) -> None:
    site = tmp_path / "site"
    done = _run(
        [sys.executable, "-m", "pip", "install", "--no-deps", "-q", "--target", str(site), str(wheel)], cwd=tmp_path
    )
    assert done.returncode == 0, done.stderr[-2000:]
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    env = {**os.environ, "PYTHONPATH": str(site)}
    where = _run(
        [sys.executable, "-c", "import interflex._data as d; print(d.__file__); print(d.schemas_dir())"],
        cwd=elsewhere,
        env=env,
    )
    package = site / "interflex"
    assert where.stdout.splitlines() == [str(package / "_data.py"), str(package / "_data" / "schemas")]
    messages = site / "interflex" / "_data" / "fixtures" / "messages"
    script = site / "bin" / "interflex-validate"
    assert script.is_file()  # pip --target installs the console script too
    command = [str(script)]
    valid = _run([*command, str(messages / "flexibility-offer" / "valid" / "basic.json")], cwd=elsewhere, env=env)
    assert valid.returncode == 0, valid.stderr
    invalid = _run([*command, "--format", "json", str(messages / "samples" / "capture.har")], cwd=elsewhere, env=env)
    assert invalid.returncode == 1, invalid.stderr
    assert '"operation": "N2 POST /aggregators/agg1/flexibilityActivations/nacks -> 202"' in invalid.stdout
