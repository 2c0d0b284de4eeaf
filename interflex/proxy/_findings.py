"""The findings file: one JSON object per finding and line, written as they are found."""

from __future__ import annotations

import json
from pathlib import Path

from interflex.monitor import MonitorFinding


class FindingsFile:
    """JSON Lines of `MonitorFinding.as_dict()`, flushed per line (follow it with `tail -f`)."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self._file = self.path.open("w", encoding="utf-8")

    def add(self, finding: MonitorFinding) -> None:
        """Append one finding."""
        self._file.write(json.dumps(finding.as_dict(), ensure_ascii=False) + "\n")
        self._file.flush()

    def close(self) -> None:
        """Close the file (idempotent)."""
        self._file.close()
