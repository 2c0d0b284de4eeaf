"""pytest plugin of the InterFlex conformance suite (registered via the `pytest11` entry point).

Thin glue: options, markers, fixtures, verdict records (contract C4) and the terminal summary.
The plugin is inert unless the run's arguments point at the test cases (`pytest --pyargs ats`,
`interflex-ats`, a path inside `ats/cases`, or `--target-url`/`--ixit` without test paths). On the
controller it validates options and the IXIT up front, starts the bundled reference server when no
target is given (once per run, shared by pytest-xdist workers), probes the target and logs in every
IXIT account once (pre-flight); workers record verdicts, the controller merges them.
"""

from __future__ import annotations

import importlib.util
import json
import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

import ats
from ats.catalog import Case, catalog, class_marker
from ats.errors import ConfigError
from ats.evidence import MAIN, evidence_records
from ats.evidence import PROPERTY as EVIDENCE_PROPERTY
from ats.ixit import Ixit, default_ixit, load_ixit
from ats.recorder import format_evidence
from ats.run import RunInfo, RunState, utc_now
from ats.session import Api, Context
from ats.target import preflight, probe, resolve_ixit, selected_alternatives, selected_classes, start_reference_server
from ats.verdicts import (
    FAIL,
    INCONCLUSIVE,
    NA,
    PASS,
    PASSING,
    VERDICTS,
    Failure,
    Inconclusive,
    aggregate_cases,
)
from interflex.profile import CONFORMANCE_CLASSES, OPTIONAL

RUN_KEY = pytest.StashKey[RunState]()
_ACTIVE = pytest.StashKey[bool]()
_SETUP = pytest.StashKey[dict]()
_CASE = pytest.StashKey[Case]()
_API = pytest.StashKey[Api]()
_HINT = pytest.StashKey[bool]()
TEARDOWN_RECORD = "ats-teardown"  # user_properties name of the record of a failed teardown
EVIDENCE_SECTION = "interflex-ats evidence"  # report section holding a finding's exchanges as text

ATS_DIR = Path(ats.__file__).resolve().parent
CASES_DIR = ATS_DIR / "cases"
DEFAULT_TIMEOUT = 10.0
DEFAULT_EXAMPLES = 10

# Defined once; used by pytest (below) and by `interflex-ats --help` (ats.cli).
OPTIONS: list[tuple[str, dict[str, Any]]] = [
    (
        "--target-url",
        {
            "metavar": "URL",
            "help": "base URL of the implementation under test, e.g. "
            "https://host/interflex/api/v1 (overrides target_url of the IXIT); without a target the "
            "bundled reference server is started in-process and tested (self-test)",
        },
    ),
    (
        "--ixit",
        {
            "metavar": "FILE",
            "help": "IXIT YAML file: accounts, region, unit, currency, declared ICS, "
            "tls, headers (PROFILE.md section 10); default: the reference server's accounts",
        },
    ),
    (
        "--ats-timeout",
        {
            "type": float,
            "default": DEFAULT_TIMEOUT,
            "metavar": "SECONDS",
            "help": f"timeout of each HTTP request to the target (default {DEFAULT_TIMEOUT:g})",
        },
    ),
    (
        "--ats-examples",
        {
            "type": int,
            "default": DEFAULT_EXAMPLES,
            "metavar": "N",
            "help": f"hypothesis examples per property-based test case (default {DEFAULT_EXAMPLES})",
        },
    ),
    (
        "--ats-class",
        {
            "action": "append",
            "default": [],
            "metavar": "CLASS",
            "help": "run only these conformance classes (repeatable or comma-separated), for debugging: "
            "a partial run is never CONFORMANT: " + ", ".join(CONFORMANCE_CLASSES),
        },
    ),
    (
        "--ats-records",
        {
            "metavar": "FILE",
            "help": "write every verdict record, the per-case verdicts and the "
            "summary as JSON to FILE (for tooling and the suite's self-tests)",
        },
    ),
    (
        "--ats-reference-fault",
        {
            "metavar": "NAME",
            "help": "self-test of the suite: start the in-process "
            "reference server in this fault mode (see reference_server.FAULTS)",
        },
    ),
    (
        "--ats-reference-alternative",
        {
            "action": "append",
            "default": [],
            "metavar": "NAME",
            "help": "self-test of the suite: start the in-process reference server taking this other option "
            "the profile allows (repeatable or comma-separated; see reference_server.ALTERNATIVES); "
            "the run must stay CONFORMANT",
        },
    ),
]


def pytest_addoption(parser: pytest.Parser) -> None:
    from ats.client.options import OPTIONS as CLIENT_OPTIONS

    group = parser.getgroup("interflex-ats", "InterFlex conformance suite")
    for name, kwargs in [*OPTIONS, *CLIENT_OPTIONS]:
        group.addoption(name, dest=name.lstrip("-").replace("-", "_"), **kwargs)


# -- activation and up-front validation --------------------------------------------------------
def _arg_path(arg: str, config: pytest.Config) -> Path | None:
    target = arg.split("::")[0]
    if config.option.pyargs and not Path(target).exists():
        try:
            spec = importlib.util.find_spec(target)
        except (ImportError, ValueError):
            return None
        if spec is None:
            return None
        if spec.submodule_search_locations:
            return Path(next(iter(spec.submodule_search_locations))).resolve()
        return Path(spec.origin).resolve() if spec.origin else None
    return (config.invocation_params.dir / target).resolve()


def is_ats_run(config: pytest.Config) -> bool:
    """True when the run's arguments include the test cases (or a folder holding them)."""
    for arg in config.args:
        path = _arg_path(arg, config)
        if path and (path == CASES_DIR or CASES_DIR in path.parents or path in CASES_DIR.parents):
            return True
    return False


def _target_given(config: pytest.Config) -> bool:
    return bool(config.option.target_url or config.option.ixit) and not config.option.help


@pytest.hookimpl(tryfirst=True)
def pytest_load_initial_conftests(early_config: pytest.Config, args: list[str]) -> None:
    """`pytest --target-url URL` / `pytest --ixit FILE` / `pytest --client-ixit FILE` without test paths runs
    the suite as `interflex-ats` does (`--pyargs ats`), decided before pytest loads conftests and picks its
    test paths."""
    known = early_config.known_args_namespace
    if (known.target_url or known.ixit or known.client_ixit) and not known.file_or_dir and not known.help:
        args.extend(["--pyargs", "ats"])  # pytest parses `args` (this very list) once more after this hook
        known.file_or_dir, known.pyargs = ["ats"], True


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "case(id): binds the test to a test case of ats/catalog.yaml")
    for name in CONFORMANCE_CLASSES:
        config.addinivalue_line("markers", f"{class_marker(name)}: test case of conformance class {name}")
    active = is_ats_run(config) and not config.option.help
    config.stash[_ACTIVE] = active
    if active and (config.option.client_ixit or config.option.client_manual):
        if not config.option.client_ixit:
            raise pytest.UsageError("--client-manual needs --client-ixit FILE (the client's role and entity)")
        from ats.client.plugin import configure as configure_client_run

        config.stash[_ACTIVE] = False  # the server suite's hooks stay inert; ats.client.plugin takes over
        configure_client_run(config)
        return
    if not active:
        config.stash[_HINT] = _target_given(config) and not hasattr(config, "workerinput")
        return
    if _runs_cases(config):  # a pytest-xdist controller only hands them out: no hypothesis to load there
        _load_hypothesis_profile(config.option.ats_examples)
        _keep_hypothesis_out_of_the_working_directory(config)
    if getattr(config.option, "maxschedchunk", False) is None:
        config.option.maxschedchunk = 1  # pytest-xdist: hand out cases one by one, longest first (LONGEST_FIRST)
    try:
        classes = selected_classes(config.option.ats_class)
        if config.option.ats_timeout <= 0 or config.option.ats_examples < 1:
            raise ConfigError("--ats-timeout must be > 0 and --ats-examples >= 1")
        worker = hasattr(config, "workerinput")
        setup = dict(config.workerinput["ats"]) if worker else _controller_setup(config, classes)
    except ConfigError as exc:
        raise pytest.UsageError(str(exc)) from None
    setup["classes"] = classes
    config.stash[_SETUP] = setup


def _runs_cases(config: pytest.Config) -> bool:
    """True in a pytest-xdist worker and in a run without workers; False in a pytest-xdist controller."""
    distributed = config.getoption("dist", "no") != "no" and bool(config.getoption("tx", None))
    return hasattr(config, "workerinput") or not distributed


def _controller_setup(config: pytest.Config, classes: list[str]) -> dict[str, Any]:
    fault = config.option.ats_reference_fault
    alternatives = selected_alternatives(config.option.ats_reference_alternative)
    in_process = not config.option.target_url and not config.option.ixit
    for given, option in ((fault, "--ats-reference-fault"), (alternatives, "--ats-reference-alternative")):
        if given and not in_process:
            raise ConfigError(f"{option} only applies to the in-process reference server (no --target-url, no --ixit)")
    ixit = resolve_ixit(config.option.ixit, config.option.target_url) if not in_process else default_ixit()
    if in_process:
        server = start_reference_server(fault, alternatives)
        config.add_cleanup(server.stop)
        ixit = ixit.with_target(server.base_url)
    server_header = probe(ixit, min(config.option.ats_timeout, 10.0))
    failed_logins = preflight(ixit, config.option.ats_timeout)
    if failed_logins:
        raise pytest.UsageError(*failed_logins)
    info = RunInfo(
        target_url=ixit.target_url,
        server_header=server_header,
        entity_ids=ixit.entity_ids,
        ics=dict(ixit.ics),
        argv=["pytest", *config.invocation_params.args],
        secrets=list(ixit.secrets),
        reference_fault=fault,
        classes=classes,
    )
    state = RunState(info=info, ixit=ixit)
    config.stash[RUN_KEY] = state
    controller = _Controller(state)
    config.pluginmanager.register(controller, "interflex-ats-controller")
    config.add_cleanup(lambda: config.pluginmanager.unregister(controller))
    return {"target_url": ixit.target_url, "ics": dict(ixit.ics)}


def _load_hypothesis_profile(examples: int) -> None:
    from hypothesis import HealthCheck, settings

    settings.register_profile(
        "interflex-ats",
        max_examples=examples,
        derandomize=True,
        deadline=None,
        database=None,
        suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
    )
    settings.load_profile("interflex-ats")


def _keep_hypothesis_out_of_the_working_directory(config: pytest.Config) -> None:
    """Hypothesis caches into `./.hypothesis`; a suite run keeps no example database, so its files (the
    Unicode tables it builds once: about 200 MB of memory and seconds of CPU in every process that builds
    them) go to a per-user cache folder instead, or a temporary one when that cannot be written (unless
    HYPOTHESIS_STORAGE_DIRECTORY says where)."""
    if os.environ.get("HYPOTHESIS_STORAGE_DIRECTORY"):
        return
    from hypothesis.configuration import set_hypothesis_home_dir

    folder = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "interflex-ats" / "hypothesis"
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError:
        folder = Path(tempfile.mkdtemp(prefix="interflex-ats-hypothesis-"))
        config.add_cleanup(lambda: shutil.rmtree(folder, ignore_errors=True))
    set_hypothesis_home_dir(folder)


@pytest.hookimpl(optionalhook=True)
def pytest_configure_node(node: Any) -> None:
    """pytest-xdist (controller): hand the resolved target to each worker."""
    setup = node.config.stash.get(_SETUP, None)
    if setup is not None:
        node.workerinput["ats"] = {"target_url": setup["target_url"], "ics": setup["ics"]}


def pytest_ignore_collect(collection_path: Path, config: pytest.Config) -> bool | None:
    """In a suite run, collect nothing of the `ats` package outside `ats/cases`."""
    if not config.stash.get(_ACTIVE, False):
        return None
    path = collection_path.resolve()
    if path != ATS_DIR and ATS_DIR in path.parents and path != CASES_DIR and CASES_DIR not in path.parents:
        return True
    return None


def pytest_terminal_summary(terminalreporter: Any, config: pytest.Config) -> None:
    """`--target-url`/`--ixit` with test paths that do not include the suite: say how to run it."""
    if config.stash.get(_HINT, False):
        terminalreporter.write_line(
            "interflex-ats: --target-url/--ixit apply to the conformance suite, which these test paths do not "
            "include; to run it, give no test paths (pytest --target-url URL --ixit FILE) or run interflex-ats",
            yellow=True,
        )


def pytest_report_header(config: pytest.Config) -> list[str] | None:
    state = config.stash.get(RUN_KEY, None)
    if state is None:
        return None
    info = state.info
    ics = ", ".join(f"{k}={'yes' if v else 'no'}" for k, v in info.ics.items()) or "none declared"
    fault = f", reference fault {info.reference_fault}" if info.reference_fault else ""
    alternatives = selected_alternatives(config.option.ats_reference_alternative)
    fault += f", reference alternatives {', '.join(alternatives)}" if alternatives else ""
    return [
        f"interflex-ats {info.suite_version}: target {info.target_url} (Server: {info.server_header}{fault}); "
        f"ICS: {ics}"
    ]


# -- collection ------------------------------------------------------------------------------
@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(session: pytest.Session, config: pytest.Config, items: list[pytest.Item]) -> None:
    if not config.stash.get(_ACTIVE, False):
        return
    cases = catalog()
    classes = config.stash[_SETUP]["classes"]
    keep, deselected = [], []
    for item in items:
        path = Path(str(item.path)).resolve()
        if CASES_DIR not in path.parents:
            keep.append(item)
            continue
        marker = item.get_closest_marker("case")
        if marker is None or not marker.args:
            raise pytest.UsageError(f"{item.nodeid}: a test of ats/cases needs @pytest.mark.case('IFX-...')")
        case = cases.get(marker.args[0])
        if case is None:
            raise pytest.UsageError(f"{item.nodeid}: test case {marker.args[0]!r} is not in ats/catalog.yaml")
        item.stash[_CASE] = case
        item.add_marker(case.marker)
        (deselected if classes and case.conformance_class not in classes else keep).append(item)
    if deselected:
        config.hook.pytest_deselected(items=deselected)
        items[:] = keep
    items.sort(key=_longest_first)


# Modules whose cases take longest against a remote target (many sequential round trips) run first, so that
# pytest-xdist workers end together instead of waiting for one long case handed out last.
LONGEST_FIRST = ("test_properties.py", "test_negotiation.py", "test_robustness.py", "test_ids.py")


def _longest_first(item: pytest.Item) -> int:
    name = Path(str(item.path)).name
    return LONGEST_FIRST.index(name) if name in LONGEST_FIRST else len(LONGEST_FIRST)


def pytest_deselected(items: list[pytest.Item]) -> None:
    """Remember deselected test items (--ats-class, -k, -m): a run that leaves out gating items is partial.
    A pytest-xdist worker hands them to the controller in `workeroutput` (read in `pytest_testnodedown`)."""
    entries = [
        {"nodeid": item.nodeid, "case": case.id, "class": case.conformance_class}
        for item in items
        if (case := item.stash.get(_CASE, None)) is not None
    ]
    if not entries:
        return
    config = items[0].config
    if hasattr(config, "workeroutput"):
        config.workeroutput.setdefault("ats_deselected", []).extend(entries)
    elif (state := config.stash.get(RUN_KEY, None)) is not None:
        state.deselected.extend(entries)


# -- fixtures --------------------------------------------------------------------------------
@pytest.fixture(scope="session")
def ats_context(request: pytest.FixtureRequest) -> Iterator[Context]:
    """Per-process state: IXIT, connection pool, cached tokens, unique id prefix."""
    config = request.config
    setup = config.stash.get(_SETUP, None)
    if setup is None:
        pytest.skip("not an interflex-ats run (the suite runs with `pytest --pyargs ats` or `interflex-ats`)")
    try:
        ixit = default_ixit() if not config.option.ixit else load_ixit(config.option.ixit)
    except ConfigError as exc:
        raise pytest.UsageError(str(exc)) from None
    worker = config.workerinput["workerid"] if hasattr(config, "workerinput") else ""
    context = Context(ixit.with_target(setup["target_url"]), config.option.ats_timeout, worker)
    yield context
    context.close()


@pytest.fixture(scope="session")
def ixit(ats_context: Context) -> Ixit:
    """The IXIT of the target under test (contract C2)."""
    return ats_context.ixit


@pytest.fixture(scope="session")
def ats_examples(request: pytest.FixtureRequest) -> int:
    """Hypothesis examples per property (`--ats-examples`)."""
    return request.config.option.ats_examples


@pytest.fixture
def api(request: pytest.FixtureRequest, ats_context: Context) -> Iterator[Api]:
    """The recorded HTTP client of this test; deletes what the test created at teardown."""
    client = Api(ats_context)
    request.node.stash[_API] = client
    try:
        yield client
    finally:
        client.cleanup()


# -- verdicts --------------------------------------------------------------------------------
def pytest_runtest_setup(item: pytest.Item) -> None:
    case = item.stash.get(_CASE, None)
    if case is None:
        return
    optional = CONFORMANCE_CLASSES[case.conformance_class] == OPTIONAL
    if optional and not item.config.stash[_SETUP]["ics"].get(case.conformance_class):
        pytest.skip(f"N/A: optional class {case.conformance_class} is not declared in the ICS")


def _leaves(exc: BaseException) -> list[BaseException]:
    if isinstance(exc, BaseExceptionGroup):
        return [leaf for sub in exc.exceptions for leaf in _leaves(sub)]
    return [exc]


def classify(exc: BaseException | None, passed: bool, skipped_reason: str | None) -> tuple[str, str | None, str | None]:
    """(verdict, reason, cause) of a test phase from its outcome and exception."""
    if passed:
        return PASS, None, None
    if skipped_reason is not None:
        if skipped_reason.startswith("N/A"):
            return NA, skipped_reason, None
        return INCONCLUSIVE, f"the test was skipped: {skipped_reason}", "precondition"
    leaves = _leaves(exc) if exc is not None else []
    failure = next((e for e in leaves if isinstance(e, AssertionError)), None)
    if failure is not None:
        reason = str(failure).split("\nassert ")[0].strip() or "assertion failed"
        notes = "\n".join(str(n) for n in getattr(failure, "__notes__", ()))  # e.g. hypothesis' falsifying example
        return FAIL, f"{reason}\n{notes[:2000]}" if notes else reason, None
    inconclusive = next((e for e in leaves if isinstance(e, Inconclusive)), None)
    if inconclusive is not None:
        return INCONCLUSIVE, inconclusive.reason, inconclusive.cause
    error = leaves[0] if leaves else exc
    return FAIL, f"{type(error).__name__}: {error}", None


def classify_teardown(exc: BaseException | None) -> tuple[str, str, str | None]:
    """(verdict, reason, cause) of a failed teardown: FAIL for a finding about the target (an assertion),
    INCONCLUSIVE with its cause for `Inconclusive`, else INCONCLUSIVE with cause "environment"."""
    verdict, reason, cause = classify(exc, False, None)
    if verdict == FAIL and not any(isinstance(e, AssertionError) for e in (_leaves(exc) if exc else [])):
        verdict, cause = INCONCLUSIVE, "environment"
    return verdict, f"teardown failed: {reason}", cause


def case_record(
    item: pytest.Item,
    case: Case,
    report: pytest.TestReport,
    call: pytest.CallInfo[None],
    exchanges: list[dict[str, Any]],
    secrets: list[str],
    teardown: bool = False,
) -> dict[str, Any]:
    """The verdict record of a test item's decisive phase (or of its failed teardown), reason redacted.

    Shared by the server suite and the client suite (`ats.client.plugin`)."""
    exc = call.excinfo.value if call.excinfo is not None else None
    skipped_reason = None
    if report.skipped and call.excinfo is not None and call.excinfo.errisinstance(pytest.skip.Exception):
        skipped_reason = str(getattr(exc, "msg", exc))
    verdict, reason, cause = classify_teardown(exc) if teardown else classify(exc, report.passed, skipped_reason)
    if reason:
        from ats.redaction import redact

        reason = redact(reason, secrets)
    return {
        "case": case.id,
        "title": case.title,
        "class": case.conformance_class,
        "references": list(case.references),
        "nodeid": item.nodeid,
        "verdict": verdict,
        "reason": reason,
        "cause": cause,
        "duration": round(report.duration, 4),
        "exchanges": exchanges,
    }


def finding_header(rec: dict[str, Any]) -> str:
    """`FAIL IFX-REQ-003 [ST-2]: reason` (`INCONCLUSIVE (cause) ...`): the first line of a finding."""
    cause = f" ({rec['cause']})" if rec.get("cause") else ""
    return f"{rec['verdict']}{cause} {rec['case']} [{', '.join(rec['references'])}]: {rec['reason']}"


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Iterator[None]:
    report = yield
    case = item.stash.get(_CASE, None)
    api = item.stash.get(_API, None)
    if call.when == "teardown" and case and api and item.config.getoption("ats_cert_report", None):
        worker = item.config.workerinput["workerid"] if hasattr(item.config, "workerinput") else MAIN
        records = evidence_records(api, case.id, item.nodeid, worker)  # to the bundle (ats.evidence)
        report.user_properties = [*report.user_properties, (EVIDENCE_PROPERTY, records)]
    teardown = call.when == "teardown" and report.failed
    decisive = call.when == "call" or (call.when == "setup" and not report.passed)
    if case is None or not (decisive or teardown):
        return report
    exchanges = api.records() if api is not None else []
    rec = case_record(item, case, report, call, exchanges, api.ctx.secrets if api is not None else [], teardown)
    if teardown:  # merged into the item's record on the controller; the pytest error report stays as it is
        report.user_properties = [*report.user_properties, (TEARDOWN_RECORD, rec)]
        return report
    report.user_properties = [*report.user_properties, ("ats", rec)]
    verdict, exc = rec["verdict"], call.excinfo.value if call.excinfo is not None else None
    if verdict in (FAIL, INCONCLUSIVE):
        header = finding_header(rec)
        evidence = format_evidence(exchanges) or "(no HTTP exchange)"
        if verdict == INCONCLUSIVE:
            _path, lineno, _ = item.location
            report.outcome = "skipped"
            report.longrepr = (str(item.path), (lineno or 0) + 1, header)
            report.sections.append((EVIDENCE_SECTION, evidence))
        elif isinstance(exc, Failure) or (exc is not None and any(isinstance(e, Failure) for e in _leaves(exc))):
            report.longrepr = f"{header}\n\nHTTP exchanges of {case.id}:\n{evidence}"
        else:
            report.sections.append((EVIDENCE_SECTION, f"{header}\n\n{evidence}"))
    return report


def write_records(state: RunState, path: str) -> None:
    """Dump the run (info without secrets, records, per-case verdicts, summary) as JSON."""
    data = {
        "info": state.info.as_dict(),
        "summary": state.summary().as_dict(),
        "cases": aggregate_cases(state.records),
        "records": state.records,
    }
    Path(path).write_text(json.dumps(data, indent=1), encoding="utf-8")


class _Controller:
    """Controller-side hooks of a suite run: merge records, track completeness and errors outside the
    test cases, set the exit code, print the summary. The verdict logic is `ats.run`/`ats.verdicts`."""

    def __init__(self, state: RunState) -> None:
        self.state = state

    def pytest_collection_finish(self, session: pytest.Session) -> None:
        self.state.collected.update(item.nodeid for item in session.items)  # after deselection

    @pytest.hookimpl(optionalhook=True)
    def pytest_xdist_node_collection_finished(self, node: Any, ids: list[str]) -> None:
        self.state.collected.update(ids)  # pytest-xdist: what a worker collected (after its deselection)

    @pytest.hookimpl(optionalhook=True)
    def pytest_testnodedown(self, node: Any, error: Any) -> None:
        self.state.deselected.extend(getattr(node, "workeroutput", {}).get("ats_deselected", []))

    def pytest_collectreport(self, report: pytest.CollectReport) -> None:
        if report.failed:
            self.state.errors.append(f"collection error: {report.nodeid or 'session'}")

    def pytest_internalerror(self) -> None:
        self.state.errors.append("internal error of pytest or a plugin")

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        records = [value for name, value in report.user_properties if name in ("ats", TEARDOWN_RECORD)]
        for rec in records:
            self.state.add_record(rec)
        if report.when == "teardown":
            self.state.finished_items.add(report.nodeid)
        if report.failed and report.when == "teardown":
            self.state.errors.append(f"teardown failed: {report.nodeid}")
        elif report.failed and not records:
            self.state.errors.append(f"test outside the suite failed: {report.nodeid}")  # e.g. `pytest .`

    @pytest.hookimpl(tryfirst=True)
    def pytest_sessionfinish(self, session: pytest.Session, exitstatus: int) -> None:
        self.state.info.finished = utc_now()
        stopped = session.shouldstop or session.shouldfail  # interrupt, -x / --maxfail
        self.state.interrupted = exitstatus == pytest.ExitCode.INTERRUPTED or bool(stopped)
        if not self.state.records:
            return
        if session.config.option.ats_records:
            write_records(self.state, session.config.option.ats_records)
        if exitstatus in (pytest.ExitCode.OK, pytest.ExitCode.TESTS_FAILED):
            conformant = self.state.summary().overall in PASSING
            session.exitstatus = pytest.ExitCode.OK if conformant else pytest.ExitCode.TESTS_FAILED

    def pytest_terminal_summary(self, terminalreporter: Any) -> None:
        if not self.state.records:
            return
        summary = self.state.summary()
        tr = terminalreporter
        tr.write_sep("=", "InterFlex conformance")
        tr.write_line(f"target: {self.state.info.target_url} (Server: {self.state.info.server_header or '-'})")
        tr.write_line(f"{'class':<18} {'gating':<7}" + "".join(f"{v:>14}" for v in VERDICTS) + "   verdict")
        for name, cls in summary.classes.items():
            counts = "".join(f"{cls.counts[v]:>14}" for v in VERDICTS)
            tr.write_line(f"{name:<18} {'yes' if cls.gating else 'no':<7}{counts}   {cls.verdict}")
        if self.state.info.classes:
            tr.write_line(f"only the classes {', '.join(self.state.info.classes)} were selected (--ats-class)")
        for line in summary_notes(summary):
            tr.write_line(line, red=True, bold=True)
        conformant = summary.overall in PASSING
        tr.write_sep("=", f"overall verdict: {summary.overall}", green=conformant, red=not conformant, bold=True)


def summary_notes(summary: Any, shown: int = 10) -> list[str]:
    """Why a run cannot be CONFORMANT beyond its verdicts: partial run, interruption, errors."""
    lines = []
    if summary.interrupted:
        lines.append("INCOMPLETE (interrupted): the run stopped before every test ran")
    if not summary.complete:
        cases = [e for e in summary.not_run if e["case"]]
        items = [e for e in summary.not_run if not e["case"]]
        what = f"{len(cases)} gating test cases" if cases else f"{len(items)} gating test items"
        lines.append(f"partial run: {what} did not run \u2014 a certificate needs the whole suite")
        for entry in (cases or items)[:shown]:
            lines.append(f"  {entry['case'] or entry['nodeid']}: {entry['reason']}")
        if len(cases or items) > shown:
            lines.append(f"  ... and {len(cases or items) - shown} more")
        if cases and items:
            lines.append(f"  and {len(items)} test items (e.g. {items[0]['nodeid']})")
    for error in summary.errors[:shown]:
        lines.append(f"error outside the test cases: {error}")
    if len(summary.errors) > shown:
        lines.append(f"... and {len(summary.errors) - shown} more errors")
    return lines


__all__ = ["OPTIONS", "RUN_KEY", "classify", "classify_teardown", "is_ats_run", "summary_notes"]
