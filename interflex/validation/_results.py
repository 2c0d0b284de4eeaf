"""One checked item (message or HTTP exchange) of the CLI, and its text and JSON renderings."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from interflex.validation._findings import Finding, is_valid


@dataclass
class Result:
    """The verdict on one message or exchange; `skipped` holds the reason when it was not checked."""

    source: str
    kind: str | None
    findings: list[Finding] = field(default_factory=list)
    operation: str | None = None  # "O2 POST /aggregators/agg1/flexibilityOffers -> 201" for HAR entries
    skipped: str | None = None

    @property
    def valid(self) -> bool | None:
        """True/False, or None for a skipped item."""
        return None if self.skipped else is_valid(self.findings)

    def as_dict(self) -> dict[str, Any]:
        """The JSON form: `{"source", "kind", "valid", "findings"}` (+ `operation`/`skipped` when set)."""
        out: dict[str, Any] = {
            "source": self.source,
            "kind": self.kind,
            "valid": self.valid,
            "findings": [f.as_dict() for f in self.findings],
        }
        if self.operation is not None:
            out["operation"] = self.operation
        if self.skipped is not None:
            out["skipped"] = self.skipped
        return out

    def as_line(self) -> str:
        """One line: source, what was checked, verdict, findings separated by `; `."""
        what = self.operation or self.kind or "?"
        if self.skipped:
            return _one_line(f"{self.source}: skipped: {self.skipped}")
        verdict = "valid" if self.valid else "INVALID"
        text = f"{self.source}: {what}: {verdict}"
        if self.findings:
            text += ": " + "; ".join(str(f) for f in self.findings)
        return _one_line(text)


def _one_line(text: str) -> str:
    return text.replace("\r", "\\r").replace("\n", "\\n")
