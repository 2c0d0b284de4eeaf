"""pytest plugin of the reports (registered via the pytest11 entry point `interflex_ats_reports`).

Thin glue over `ats.reporting`: the `--cert-report DIR`, `--sign-key`, `--signer` and `--waivers`
options, the evidence bundle and the monitor findings (`ats.reporting.evidence`,
`ats.reporting.monitoring`), the pytest-html hooks (`ats.reporting.html`), test case ids and waivers in
JUnit XML (`ats.reporting.junit`). It reads the controller's `ats.run.RunState` (contract C4) and does
nothing on pytest-xdist workers, nor in runs that are not conformance suite runs (the project's own
tests load this plugin too).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from ats.errors import ConfigError
from ats.evidence import BUNDLE, PROPERTY
from ats.run import RunState

_OUTPUT = pytest.StashKey[list]()
_KEY = pytest.StashKey[tuple]()  # (private key, signature object of results.json)


# Defined once, like `ats.plugin.OPTIONS` (so `interflex-ats --help` can list them too).
OPTIONS: list[tuple[str, dict[str, Any]]] = [
    (
        "--cert-report",
        {
            "dest": "ats_cert_report",
            "metavar": "DIR",
            "default": None,
            "help": "write the certification report into DIR (created when missing): certificate.html, "
            "results.json, results.json.sha256, the evidence bundle evidence.jsonl.gz (every HTTP exchange) "
            "and, with --sign-key, results.json.sig (docs/reports.md); check it with `interflex-ats verify DIR`",
        },
    ),
    (
        "--sign-key",
        {
            "dest": "ats_sign_key",
            "metavar": "KEY",
            "default": None,
            "help": "sign results.json of --cert-report with this Ed25519 private key (from `interflex-ats keygen`; "
            "mode 0600; an encrypted key's passphrase comes from INTERFLEX_ATS_KEY_PASSPHRASE or the terminal)",
        },
    ),
    (
        "--signer",
        {
            "dest": "ats_signer",
            "metavar": "NAME",
            "default": None,
            "help": "the signer's name shown with the key's fingerprint (default: `signer:` of the IXIT)",
        },
    ),
    (
        "--waivers",
        {
            "dest": "ats_waivers",
            "metavar": "FILE",
            "default": None,
            "help": "YAML list of approved waivers {case, reason, approved_by, expires: YYYY-MM-DD}: a FAIL of a "
            "waived case counts as WAIVED; all other gating cases passing gives CONFORMANT WITH WAIVERS (exit 0)",
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


def _ixit_signer(path: str | None) -> str | None:
    """The optional `signer:` label of the IXIT file (the IXIT loader ignores keys it does not know)."""
    if not path:
        return None
    try:
        data = yaml.safe_load(Path(path).read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, yaml.YAMLError):
        return None  # the IXIT was loaded before: it is readable
    signer = data.get("signer") if isinstance(data, dict) else None
    if signer is not None and (not isinstance(signer, str) or not signer.strip()):
        raise ConfigError(f"{path}: 'signer' must be a non-empty text")
    return signer.strip() if signer else None


def _configure_run(config: pytest.Config, state: RunState) -> None:
    """Load waivers and the signing key up front (a bad file stops the run before any test: exit 4)."""
    from ats.catalog import catalog
    from ats.waivers import load_waivers

    if config.getoption("ats_waivers"):
        state.waivers = load_waivers(config.getoption("ats_waivers"), catalog().keys())
    directory = config.getoption("ats_cert_report")
    if config.getoption("ats_sign_key"):
        if not directory:
            raise ConfigError("--sign-key signs the certification report: give --cert-report DIR too")
        from ats.reporting.output import signature_info
        from ats.signing import load_signing_key

        key = load_signing_key(config.invocation_params.dir / config.getoption("ats_sign_key"))
        signer = config.getoption("ats_signer") or _ixit_signer(config.getoption("ixit", None))
        config.stash[_KEY] = (key, signature_info(key, signer))
    if directory:
        from ats.reporting.evidence import EvidenceSpool

        spool = EvidenceSpool(state.info.secrets)
        config.add_cleanup(spool.close)
        in_process = not config.getoption("target_url", None) and not config.getoption("ixit", None)
        collector = EvidenceCollector(spool, state, _cert_dir(config, directory), in_process)
        config.pluginmanager.register(collector, "interflex-ats-evidence")


@pytest.hookimpl(trylast=True)
def pytest_configure(config: pytest.Config) -> None:
    directory = config.getoption("ats_cert_report", None)
    if directory and _cert_dir(config, directory).exists() and not _cert_dir(config, directory).is_dir():
        raise pytest.UsageError(f"--cert-report: {directory} exists and is not a directory")
    state = _run_state(config)
    if state is None:
        return
    try:
        _configure_run(config, state)
    except ConfigError as exc:
        raise pytest.UsageError(str(exc)) from None
    from ats.reporting.junit import JunitNames

    config.pluginmanager.register(JunitNames(config), "interflex-ats-junit-names")
    if config.getoption("htmlpath", None) and config.pluginmanager.hasplugin("html"):
        from ats.reporting.html import HtmlReportHooks

        config.pluginmanager.register(HtmlReportHooks(state), "interflex-ats-html")


class EvidenceCollector:
    """Controller side of the evidence bundle: take each test's evidence records off its teardown report
    (before JUnit XML or any other report sees them) and spool them; at session finish, before the other
    reports are written, write the bundle and judge it with the protocol monitor."""

    def __init__(self, spool: Any, state: RunState, folder: Path, in_process: bool) -> None:
        self.spool, self.state, self.folder, self.in_process = spool, state, folder, in_process
        self.judged: dict[str, Any] = {}
        self.problems: list[str] = []

    @pytest.hookimpl(tryfirst=True)
    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        found = [value for name, value in report.user_properties if name == PROPERTY]
        if found:
            report.user_properties = [(n, v) for n, v in report.user_properties if n != PROPERTY]
            for records in found:
                self.spool.add(records)

    @pytest.hookimpl(tryfirst=True)
    def pytest_sessionfinish(self) -> None:
        if not self.state.records:
            return
        from ats.reporting.monitoring import judge_bundle
        from ats.verdicts import FAIL, aggregate_cases
        from interflex.monitor import platform_from_ixit

        try:
            self.folder.mkdir(parents=True, exist_ok=True)
            bundle = self.spool.write_bundle(self.folder / BUNDLE)
        except OSError as exc:
            self.problems.append(f"cannot write the evidence bundle {self.folder / BUNDLE}: {exc.strerror or exc}")
            return
        self.judged["evidence"] = bundle.as_dict()
        failed = [c for c in aggregate_cases(self.state.records).values() if c["verdict"] == FAIL]
        cases, rules = {c["case"] for c in failed}, {r for c in failed for r in c["references"]}
        if self.state.ixit is None:
            return
        try:
            platform = platform_from_ixit(self.state.ixit)
            bundle = self.folder / BUNDLE
            self.judged["monitor"] = judge_bundle(bundle, platform, cases, rules, complete=self.in_process)
            self.state.monitor = self.judged["monitor"]
        except Exception as exc:  # a monitor error never costs the run its certificate
            self.problems.append(f"the protocol monitor could not judge the evidence: {type(exc).__name__}: {exc}")


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

    collector = config.pluginmanager.get_plugin("interflex-ats-evidence")
    summary = state.summary()
    doc = results_document(state.info, summary, state.records, waivers=state.waiver_statuses(summary))
    doc.update(collector.judged if collector is not None else {})
    key, signature = config.stash.get(_KEY, (None, None))
    if signature is not None:
        doc["signature"] = signature
    lines = list(collector.problems if collector is not None else [])
    try:
        paths = write_cert_report(_cert_dir(config, directory), doc, key)
    except OSError as exc:
        config.stash[_OUTPUT] = [*lines, f"cannot write the certification report to {directory}: {exc.strerror or exc}"]
        session.exitstatus = pytest.ExitCode.INTERNAL_ERROR
        return
    if "evidence" in doc:
        paths.insert(2, _cert_dir(config, directory) / BUNDLE)
    monitor = doc.get("monitor")
    if monitor is not None:
        found = len(monitor["findings"])
        lines.append(
            f"monitor findings: {found} (server-side, not reported by a failed test case; see the certificate)"
        )
    if signature is not None:
        lines.append(f"signed by {signature['signer'] or '(no label)'}, key {signature['fingerprint']}")
    config.stash[_OUTPUT] = [*lines, *(f"certification report: {Path(directory) / p.name}" for p in paths)]


def pytest_terminal_summary(terminalreporter: Any, config: pytest.Config) -> None:
    state = _run_state(config)
    if state is not None and state.waivers and state.records:
        for waiver in state.waiver_statuses(state.summary()):
            terminalreporter.write_line(
                f"waiver {waiver['case']} [{waiver['status']}]: {waiver['reason']} (approved by "
                f"{waiver['approved_by']}, expires {waiver['expires']}); {waiver['note']}"
            )
    for line in config.stash.get(_OUTPUT, []):
        terminalreporter.write_line(line)


def pytest_unconfigure(config: pytest.Config) -> None:
    for name in ("interflex-ats-junit-names", "interflex-ats-html", "interflex-ats-evidence"):
        plugin = config.pluginmanager.get_plugin(name)
        if plugin is not None:
            config.pluginmanager.unregister(plugin)
