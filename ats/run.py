"""Run state on the controller (contract C4): verdict records, run information, the summary."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from datetime import UTC, date, datetime
from importlib.metadata import PackageNotFoundError, version
from typing import Any

from ats.ixit import Ixit
from ats.verdicts import Summary, aggregate_cases, merge_record, summarize
from ats.waivers import Waiver, valid_cases, waiver_statuses


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
    subject: str = "server"  # "client" in a client conformance run (--client-ixit)
    client: dict[str, Any] | None = None  # client runs: role, entity_id, command, timeout_s, scenarios

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready form without the secrets."""
        data = asdict(self)
        data.pop("secrets")
        return data


@dataclass
class RunState:
    """Controller-side state of one suite run: records of every test item, the run info, and what
    completeness needs: the collected node ids, the node ids that finished (teardown reported),
    errors outside the test cases and whether the run stopped early; the waivers of `--waivers` and
    the IXIT (for the protocol monitor; never serialised)."""

    info: RunInfo
    records: list[dict[str, Any]] = field(default_factory=list)
    collected: set[str] = field(default_factory=set)
    finished_items: set[str] = field(default_factory=set)
    deselected: list[dict[str, str]] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    interrupted: bool = False
    expected: dict[str, str] | None = None  # test case id -> class of the suite; None: the bundled catalog
    waivers: list[Waiver] = field(default_factory=list)
    ixit: Ixit | None = field(default=None, repr=False)
    monitor: dict[str, Any] | None = None  # the monitor findings on the evidence bundle (ats.reporting.monitoring)

    def day(self) -> date:
        """The UTC date the run started: the day waivers are judged by."""
        return datetime.fromisoformat(self.info.started.replace("Z", "+00:00")).astimezone(UTC).date()

    def add_record(self, rec: dict[str, Any]) -> None:
        """Add a verdict record; a second record of the same item (a failed teardown) is merged into the first."""
        nodeid = rec.get("nodeid")
        same = (i for i in range(len(self.records) - 1, -1, -1) if nodeid and self.records[i].get("nodeid") == nodeid)
        index = next(same, None)
        if index is None:
            self.records.append(rec)
        else:
            self.records[index] = merge_record(self.records[index], rec)

    def unrun_items(self) -> list[str]:
        """Collected node ids that never finished (stopped by -x, --maxfail or an interrupt)."""
        return sorted(self.collected - self.finished_items)

    def summary(self) -> Summary:
        """Class verdict counts and the overall verdict of the records so far (contract C4)."""
        return summarize(
            self.records,
            self.info.ics,
            expected=self.expected,
            unrun_items=self.unrun_items(),
            deselected=self.deselected,
            errors=self.errors,
            interrupted=self.interrupted,
            waivers=valid_cases(self.waivers, self.day()),
        )

    def waiver_statuses(self, summary: Summary) -> list[dict[str, Any]]:
        """What became of each waiver (`ats.waivers.waiver_statuses`)."""
        return waiver_statuses(self.waivers, summary, aggregate_cases(self.records), self.day())
