"""pytest glue of the client suite: `interflex-ats --client-ixit FILE` (or `pytest --pyargs ats
--client-ixit FILE`) runs the test cases of `ats/client/cases` instead of the server suite.

`ats.plugin.pytest_configure` hands over to `configure` when `--client-ixit` is given; the server suite's
hooks then stay inert. Verdict records (contract C4), the run state, completeness (against the client
section of the catalog), the exit code and the reports are the server suite's, reused.
"""

from __future__ import annotations

import shlex
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from ats.catalog import Case, class_marker, client_catalog
from ats.client.ixit import ClientIxit, load_client_ixit
from ats.client.platform import HarnessPlatform, User
from ats.client.scenarios import Scenario
from ats.client.suite import ClientRun, scenario_summaries
from ats.errors import ConfigError
from ats.run import RunInfo, RunState
from ats.verdicts import FAIL, INCONCLUSIVE, VERDICTS
from interflex.profile import CLIENT_CLASSES

CLIENT_CASES_DIR = Path(__file__).resolve().parent / "cases"
ATS_DIR = CLIENT_CASES_DIR.parent.parent
RUN = pytest.StashKey[ClientRun]()
EVIDENCE = pytest.StashKey[list]()
_CASE = pytest.StashKey[Case]()


def configure(config: pytest.Config) -> None:
    """Set up a client run (controller only: the client suite runs scenarios in parallel itself)."""
    for name in CLIENT_CLASSES:
        config.addinivalue_line("markers", f"{class_marker(name)}: client test case of class {name}")
    if getattr(config.option, "numprocesses", None) or hasattr(config, "workerinput"):
        raise pytest.UsageError("--client-ixit runs its scenarios in parallel itself: leave out -n")
    if config.option.client_jobs < 1:
        raise pytest.UsageError("--client-jobs must be at least 1")
    try:
        ixit = load_client_ixit(config.option.client_ixit)
    except ConfigError as exc:
        raise pytest.UsageError(str(exc)) from None
    from ats.plugin import RUN_KEY, _Controller

    manual = _manual_waiter(config, ixit) if config.option.client_manual else None
    run = ClientRun(ixit, jobs=config.option.client_jobs, manual=manual)
    config.stash[RUN] = run
    info = RunInfo(
        target_url="",
        server_header=None,
        entity_ids={ixit.role: ixit.entity_id},
        ics={},
        argv=["pytest", *config.invocation_params.args],
        subject="client",
        client={
            "role": ixit.role,
            "entity_id": ixit.entity_id,
            "command": "(run by hand: --client-manual)" if manual else shlex.join(ixit.command),
            "timeout_s": ixit.timeout_s,
            "scenarios": [],
        },
    )
    state = RunState(info=info, expected={c.id: c.conformance_class for c in client_catalog().values()})
    config.stash[RUN_KEY] = state

    class ClientController(_Controller):
        """The server suite's controller with the client's summary and scenario report."""

        @pytest.hookimpl(tryfirst=True)
        def pytest_sessionfinish(self, session: pytest.Session, exitstatus: int) -> None:
            info.client["scenarios"] = scenario_summaries(run)  # type: ignore[index]
            info.secrets = run.secrets()
            super().pytest_sessionfinish(session, exitstatus)

        def pytest_terminal_summary(self, terminalreporter: Any) -> None:
            _terminal_summary(self.state, run, terminalreporter)

    controller = ClientController(state)
    config.pluginmanager.register(controller, "interflex-ats-client-controller")
    config.pluginmanager.register(ClientHooks(), "interflex-ats-client")
    config.add_cleanup(lambda: config.pluginmanager.unregister(controller))


class ClientHooks:
    """Collection, case binding and verdict records of the client test cases."""

    def pytest_ignore_collect(self, collection_path: Path, config: pytest.Config) -> bool | None:
        path = collection_path.resolve()
        inside = path == ATS_DIR or ATS_DIR in path.parents
        wanted = path == CLIENT_CASES_DIR or CLIENT_CASES_DIR in path.parents or path in CLIENT_CASES_DIR.parents
        return True if inside and not wanted else None

    def pytest_report_header(self, config: pytest.Config) -> list[str]:
        run = config.stash[RUN]
        ixit = run.ixit
        how = "by hand (--client-manual)" if run.manual else f"command {shlex.join(ixit.command)}"
        return [
            f"interflex-ats client conformance: {ixit.role} client of entity {ixit.entity_id}, {how}; "
            f"{len(run.scenarios)} scenarios of at most {ixit.timeout_s:g} s, {run.jobs} at a time"
        ]

    @pytest.hookimpl(tryfirst=True)
    def pytest_collection_modifyitems(self, config: pytest.Config, items: list[pytest.Item]) -> None:
        cases = client_catalog()
        for item in items:
            if CLIENT_CASES_DIR not in Path(str(item.path)).resolve().parents:
                continue
            marker = item.get_closest_marker("case")
            case = cases.get(marker.args[0]) if marker is not None and marker.args else None
            if case is None:
                raise pytest.UsageError(f"{item.nodeid}: needs @pytest.mark.case with an id of the client catalog")
            item.stash[_CASE] = case
            item.add_marker(case.marker)

    def pytest_deselected(self, items: list[pytest.Item]) -> None:
        """Remember deselected client test cases (-k, -m): such a run is partial, never CONFORMANT."""
        from ats.plugin import RUN_KEY

        state = items[0].config.stash.get(RUN_KEY, None) if items else None
        if state is not None:
            state.deselected += [
                {"nodeid": item.nodeid, "case": case.id, "class": case.conformance_class}
                for item in items
                if (case := item.stash.get(_CASE, None)) is not None
            ]

    @pytest.hookimpl(wrapper=True)
    def pytest_runtest_makereport(self, item: pytest.Item, call: pytest.CallInfo[None]) -> Iterator[None]:
        report = yield
        case = item.stash.get(_CASE, None)
        if case is None or not (call.when == "call" or (call.when == "setup" and not report.passed)):
            return report
        from ats.plugin import case_record, finding_header
        from ats.recorder import format_evidence

        exchanges = item.stash.get(EVIDENCE, [])
        rec = case_record(item, case, report, call, exchanges, item.config.stash[RUN].secrets())
        report.user_properties = [*report.user_properties, ("ats", rec)]
        verdict = rec["verdict"]
        if verdict in (FAIL, INCONCLUSIVE):
            header = finding_header(rec)
            evidence = format_evidence(exchanges) or "(no HTTP exchange)"
            if verdict == INCONCLUSIVE:
                report.outcome = "skipped"
                report.longrepr = (str(item.path), (item.location[1] or 0) + 1, header)
            else:
                report.longrepr = f"{header}\n\nHTTP exchanges of {case.id}:\n{evidence}"
        return report


def _terminal_summary(state: RunState, run: ClientRun, tr: Any) -> None:
    if not state.records:
        return
    from ats.plugin import summary_notes
    from ats.verdicts import CONFORMANT

    ixit = run.ixit
    summary = state.summary()
    tr.write_sep("=", "InterFlex client conformance")
    tr.write_line(f"client under test: {ixit.role} {ixit.entity_id} ({state.info.client['command']})")  # type: ignore[index]
    for entry in state.info.client["scenarios"]:  # type: ignore[index]
        tr.write_line(f"  scenario {entry['name']:<26} {entry['how']}, {entry['exchanges']} requests")
    tr.write_line(f"{'class':<20} {'gating':<7}" + "".join(f"{v:>14}" for v in VERDICTS) + "   verdict")
    for name, cls in summary.classes.items():
        counts = "".join(f"{cls.counts[v]:>14}" for v in VERDICTS)
        tr.write_line(f"{name:<20} {'yes' if cls.gating else 'no':<7}{counts}   {cls.verdict}")
    for line in summary_notes(summary):
        tr.write_line(line, red=True, bold=True)
    ok = summary.overall == CONFORMANT
    tr.write_sep("=", f"overall verdict ({ixit.role} client): {summary.overall}", green=ok, red=not ok, bold=True)


def _manual_waiter(config: pytest.Config, ixit: ClientIxit) -> Any:
    """Print each scenario's base URL and (throw-away) credentials for a client run by hand."""

    def wait(platform: HarnessPlatform, client: User, scenario: Scenario) -> None:
        capture = config.pluginmanager.getplugin("capturemanager")
        lines = [
            "",
            f"== scenario {scenario.name}: {scenario.description}",
            f"   run the {ixit.role} client now (within {ixit.timeout_s:g} s) against:",
            f"   base URL       {platform.base_url}",
            f"   username       {client.username}   password {client.password}",
            f"   client_id      {platform.client_id}   client_secret {platform.client_secret}",
            f"   entity_id      {client.entity_id}   region_id {ixit.region_id}   dso {ixit.dso}",
            "   the scenario ends when the negotiation is complete or the time is up",
        ]
        if capture is not None:
            with capture.global_and_fixture_disabled():
                print("\n".join(lines), file=sys.stderr, flush=True)
        else:
            print("\n".join(lines), file=sys.stderr, flush=True)

    return wait
