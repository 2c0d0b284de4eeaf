"""SHA-256 digests of the suite's inputs (catalog, schemas) and of the reports it writes.

The schemas digest is defined so anyone can recompute it with coreutils::

    cd schemas && LC_ALL=C sha256sum -- * | sha256sum

i.e. the SHA-256 of the `sha256sum` manifest ("<hex>  <name>\\n" per file) of every regular,
non-hidden file directly in the schemas folder, sorted by file name (bytewise).
"""

from __future__ import annotations

import hashlib
from pathlib import Path

_CHUNK = 1 << 16


def sha256_file(path: Path) -> str:
    """Hex SHA-256 of a file's bytes."""
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while chunk := handle.read(_CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def manifest(folder: Path) -> str:
    """The `sha256sum` manifest of the regular, non-hidden files directly in `folder`, sorted by name."""
    files = sorted(
        (p for p in folder.iterdir() if p.is_file() and not p.name.startswith(".")),
        key=lambda p: p.name.encode(),
    )
    return "".join(f"{sha256_file(p)}  {p.name}\n" for p in files)


def folder_digest(folder: Path) -> str:
    """Hex SHA-256 of `manifest(folder)` (see the module docstring)."""
    return hashlib.sha256(manifest(folder).encode()).hexdigest()


def write_sha256sum(path: Path) -> Path:
    """Write `<path>.sha256` in `sha256sum` format (checkable with `sha256sum -c`); return its path."""
    target = path.with_name(path.name + ".sha256")
    target.write_text(f"{sha256_file(path)}  {path.name}\n", encoding="utf-8")
    return target


def verify_sha256sum(sum_file: Path) -> bool:
    """True when every line of a `sha256sum` file matches the file it names (beside it)."""
    lines = sum_file.read_text(encoding="utf-8").splitlines()
    for line in lines:
        expected, sep, name = line.partition("  ")
        if not sep or sha256_file(sum_file.parent / name) != expected:
            return False
    return bool(lines)
