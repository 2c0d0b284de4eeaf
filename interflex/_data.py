"""Locate the data folders (`schemas/`, `fixtures/`) in a checkout or an installed wheel."""

from __future__ import annotations

from pathlib import Path

_PACKAGE_DIR = Path(__file__).resolve().parent


def data_path(name: str) -> Path:
    """Return the folder `name` ("schemas" or "fixtures").

    A wheel ships them as `interflex/_data/<name>`; a source checkout (editable
    install) has them at the repository's top level.
    """
    for candidate in (_PACKAGE_DIR / "_data" / name, _PACKAGE_DIR.parent / name):
        if candidate.is_dir():
            return candidate
    raise FileNotFoundError(f"data folder {name!r} not found beside the interflex package")


def schemas_dir() -> Path:
    """The folder of the JSON Schemas and the OpenAPI document."""
    return data_path("schemas")


def fixtures_dir() -> Path:
    """The folder of example messages, IXIT and accounts files."""
    return data_path("fixtures")
