"""The `Finding`: one thing wrong with a message, with a JSON pointer and a rule id."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import asdict, dataclass

ERROR = "error"
WARNING = "warning"


@dataclass(frozen=True)
class Finding:
    """One problem in a message.

    `path` is a JSON pointer into the message ("" for the whole message), `rule` the
    JSON-Schema keyword, a plausibility rule (`PL-1`...) or `unknown-field`.
    """

    severity: str
    path: str
    rule: str
    message: str

    def __str__(self) -> str:
        return f"{self.severity}: {self.path or '/'}: {self.message} [{self.rule}]"

    def as_dict(self) -> dict[str, str]:
        """The finding as a plain JSON-ready dict."""
        return asdict(self)


def is_valid(findings: Iterable[Finding]) -> bool:
    """A message is valid exactly when no finding is an error."""
    return all(f.severity != ERROR for f in findings)


def json_pointer(parts: Iterable[object]) -> str:
    """RFC 6901 pointer for a sequence of keys and indexes."""
    return "".join("/" + str(p).replace("~", "~0").replace("/", "~1") for p in parts)
