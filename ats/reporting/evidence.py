"""The controller side of the evidence bundle: spool each test's evidence records, merge them at the end.

The gzip stream of the bundle carries no file name and no time stamp, so equal exchanges give
equal bytes (and an equal SHA-256 in `results.json`).
"""

from __future__ import annotations

import gzip
import heapq
import json
import shutil
import tempfile
from collections.abc import Iterable, Mapping
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

from ats.evidence import MAIN
from ats.reporting.digest import sha256_file
from ats.reporting.document import redact_exchange


@dataclass(frozen=True)
class BundleInfo:
    """What `results.json` says about the bundle (`evidence` object)."""

    file: str
    sha256: str
    exchanges: int
    bytes: int

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready form."""
        return {"file": self.file, "sha256": self.sha256, "exchanges": self.exchanges, "bytes": self.bytes}


class EvidenceSpool:
    """Controller side: evidence records spooled to one temporary file per worker, merged at the end."""

    def __init__(self, secrets: Iterable[str] = ()) -> None:
        self.secrets = [s for s in secrets if s]
        self.folder = Path(tempfile.mkdtemp(prefix="interflex-ats-evidence-"))
        self._files: dict[str, IO[str]] = {}

    def add(self, records: Iterable[Mapping[str, Any]]) -> None:
        """Append records (one test's exchanges) to their worker's file in time order, redacted once more.

        A test's probes may overlap (`Api.concurrently`, D-107) and are recorded in call order; the
        tests of one worker run one after the other, so sorting each test's records keeps every
        worker's file in time order, as the merge of `write_bundle` needs.
        """
        for rec in sorted(records, key=_record_started):
            worker = str(rec.get("worker") or MAIN)
            handle = self._files.get(worker)
            if handle is None:
                name = f"{len(self._files):03d}.jsonl"
                handle = self._files[worker] = (self.folder / name).open("w", encoding="utf-8")
            handle.write(json.dumps(redact_exchange(rec, self.secrets), ensure_ascii=False) + "\n")

    def write_bundle(self, path: Path) -> BundleInfo:
        """Merge the spooled records by `started` into a gzip JSON Lines file at `path`."""
        for handle in self._files.values():
            handle.flush()
        count = 0
        with ExitStack() as stack:
            sources = [stack.enter_context(Path(h.name).open(encoding="utf-8")) for h in self._files.values()]
            with path.open("wb") as raw, gzip.GzipFile(filename="", mode="wb", fileobj=raw, mtime=0) as out:
                for line in heapq.merge(*sources, key=_started):
                    out.write(line.encode("utf-8"))
                    count += 1
        return BundleInfo(path.name, sha256_file(path), count, path.stat().st_size)

    def close(self) -> None:
        """Close and delete the temporary files."""
        for handle in self._files.values():
            handle.close()
        self._files.clear()
        shutil.rmtree(self.folder, ignore_errors=True)


def _record_started(record: Mapping[str, Any]) -> float:
    value = record.get("started")
    return float(value) if isinstance(value, int | float) else 0.0


def _started(line: str) -> float:
    return _record_started(json.loads(line))
