"""pytest plugin of the reports (registered via the pytest11 entry point `interflex_ats_reports`).

Thin glue over `ats.reporting`: the `--cert-report DIR` option, the pytest-html hooks
(`ats.reporting.html`), test case ids in JUnit XML test names (`ats.reporting.junit`). It reads
the controller's `ats.run.RunState` (contract C4) and does nothing on pytest-xdist workers, nor in
runs that are not conformance suite runs (the project's own tests load this plugin too).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from ats.run import RunState

_OUTPUT = pytest.StashKey[list]()


# Defined once, like `ats.plugin.OPTIONS` (so `interflex-ats --help` can list them too).
OPTIONS: list[tuple[str, dict[str, Any]]] = [
    (
        "--cert-report",
        {
            "dest": "ats_cert_report",
            "metavar": "DIR",
            "default": None,
            "help": "write the certification report into DIR (created when missing): certificate.html, "
            "results.json, results.json.sha256 (docs/reports.md)",
        },
    ),
]


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("interflex-ats", "InterFlex conformance suite")
    for name, kwargs in OPTIONS:
        group.addoption(name, **kwargs)


def _cert_dir(config: pytest.Config, directory: str) -> Path:
    """`--cert-report DIR` relative to where pytest started (a test may change the working directory)."""
    return config.invocation_params.dir / directory


def _run_state(config: pytest.Config) -> RunState | None:
    """The conformance run's state on the controller; None on workers and in other pytest runs."""
    if hasattr(config, "workerinput"):
        return None
    from ats.plugin import RUN_KEY

    return config.stash.get(RUN_KEY, None)


@pytest.hookimpl(trylast=True)
def pytest_configure(config: pytest.Config) -> None:
    directory = config.getoption("ats_cert_report", None)
    if directory and _cert_dir(config, directory).exists() and not _cert_dir(config, directory).is_dir():
        raise pytest.UsageError(f"--cert-report: {directory} exists and is not a directory")
    state = _run_state(config)
    if state is None:
        return
    from ats.reporting.junit import JunitNames

    config.pluginmanager.register(JunitNames(config), "interflex-ats-junit-names")
    if config.getoption("htmlpath", None) and config.pluginmanager.hasplugin("html"):
        from ats.reporting.html import HtmlReportHooks

        config.pluginmanager.register(HtmlReportHooks(state), "interflex-ats-html")


@pytest.hookimpl(trylast=True)
def pytest_sessionfinish(session: pytest.Session) -> None:
    config = session.config
    directory = config.getoption("ats_cert_report", None)
    state = _run_state(config)
    if not directory or state is None:
        return
    if not state.records:
        config.stash[_OUTPUT] = ["no conformance test case ran: no certification report written"]
        return
    from ats.reporting.document import results_document
    from ats.reporting.output import write_cert_report

    doc = results_document(state.info, state.summary(), state.records)
    try:
        paths = write_cert_report(_cert_dir(config, directory), doc)
    except OSError as exc:
        config.stash[_OUTPUT] = [f"cannot write the certification report to {directory}: {exc.strerror or exc}"]
        session.exitstatus = pytest.ExitCode.INTERNAL_ERROR
        return
    config.stash[_OUTPUT] = [f"certification report: {Path(directory) / p.name}" for p in paths]


def pytest_terminal_summary(terminalreporter: Any, config: pytest.Config) -> None:
    for line in config.stash.get(_OUTPUT, []):
        terminalreporter.write_line(line)


def pytest_unconfigure(config: pytest.Config) -> None:
    for name in ("interflex-ats-junit-names", "interflex-ats-html"):
        plugin = config.pluginmanager.get_plugin(name)
        if plugin is not None:
            config.pluginmanager.unregister(plugin)
