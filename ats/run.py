"""Run state on the controller (contract C4): verdict records, run information, the summary."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from importlib.metadata import PackageNotFoundError, version
from typing import Any

from ats.verdicts import Summary, summarize


def suite_version() -> str:
    """The installed version of the suite's distribution."""
    try:
        return version("interflex-ats")
    except PackageNotFoundError:
        return "0+unknown"


def utc_now() -> str:
    """The current time, ISO 8601 UTC with seconds."""
    return datetime.now(UTC).replace(microsecond=0).isoformat().replace("+00:00", "Z")


@dataclass
class RunInfo:
    """What the reports say about the run; `secrets` (for redaction checks) is never serialised."""

    target_url: str
    server_header: str | None
    entity_ids: dict[str, str]
    ics: dict[str, bool]
    started: str = field(default_factory=utc_now)
    finished: str | None = None
    suite_version: str = field(default_factory=suite_version)
    argv: list[str] = field(default_factory=list)
    secrets: list[str] = field(default_factory=list, repr=False)
    reference_fault: str | None = None  # self-test runs only (--ats-reference-fault)
    classes: list[str] = field(default_factory=list)  # --ats-class selection; empty: every class

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready form without the secrets."""
        data = asdict(self)
        data.pop("secrets")
        return data


@dataclass
class RunState:
    """Controller-side state of one suite run: records of every test item and the run info."""

    info: RunInfo
    records: list[dict[str, Any]] = field(default_factory=list)

    def summary(self) -> Summary:
        """Class verdict counts and the overall verdict of the records so far."""
        return summarize(self.records, self.info.ics)
