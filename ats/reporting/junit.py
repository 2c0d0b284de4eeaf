"""Test case ids in the test names of pytest's own JUnit XML (`--junitxml`).

pytest's junitxml plugin names a `<testcase>` after the last part of the node id and keeps
attributes set on its per-test reporter before it opens the test case ("user-defined attributes"
survive `record_testreport`). On the controller, before junitxml sees a report carrying a verdict
record, `JunitNames` sets `name` to `"<case id> <pytest name>"`, e.g.
`IFX-AUTH-001 test_password_grant[dso]`. This works under pytest-xdist too, where
`record_xml_attribute` cannot (it is a no-op on workers).

Waivers: whether a waiver applies is known only at the end of the run (never to an incomplete
run), so at session finish, before junitxml writes the file, the `<failure>` of each test of a
WAIVED case becomes `<skipped type="interflex-ats.waived">` with the waiver (reason, approver, end
date) as its message, like pytest's own xfail; the test suite gets the properties
`interflex-ats.verdict` (the overall verdict) and one `interflex-ats.waiver` per waiver.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import pytest

from ats.reporting.records import ats_record

WAIVED_TYPE = "interflex-ats.waived"


class JunitNames:
    """Renames JUnit XML test cases of conformance test cases (controller only)."""

    def __init__(self, config: pytest.Config) -> None:
        self.config = config

    def _xml(self) -> Any:
        try:
            from _pytest.junitxml import xml_key
        except ImportError:  # pragma: no cover - a future pytest without it: names stay pytest's
            return None
        return self.config.stash.get(xml_key, None)

    @pytest.hookimpl(tryfirst=True)
    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        rec = ats_record(report)
        xml = self._xml() if rec else None
        if xml is None:
            return
        from _pytest.junitxml import mangle_test_address

        name = mangle_test_address(report.nodeid)[-1]
        xml.node_reporter(report).add_attribute("name", f"{rec['case']} {name}")

    def pytest_sessionfinish(self, session: pytest.Session) -> None:
        from ats.plugin import RUN_KEY

        xml, state = self._xml(), self.config.stash.get(RUN_KEY, None)
        if xml is None or state is None or not state.records:
            return
        summary = state.summary()
        statuses = state.waiver_statuses(summary)
        xml.add_global_property("interflex-ats.verdict", summary.overall)
        for waiver in statuses:
            line = f"{waiver['case']} [{waiver['status']}]: {waiver['reason']} (approved by {waiver['approved_by']}, "
            xml.add_global_property("interflex-ats.waiver", f"{line}expires {waiver['expires']}) {waiver['note']}")
        mark_waived(xml, [w for w in statuses if w["case"] in summary.waived])


def mark_waived(xml: Any, waivers: Sequence[Mapping[str, Any]]) -> None:
    """Turn the `<failure>` of every test of the waived cases into a `<skipped>` naming the waiver."""
    by_case = {w["case"]: w for w in waivers}
    for reporter in xml.node_reporters_ordered:
        testcase = reporter.to_xml()  # finalized reporters return their element
        waiver = by_case.get(str(testcase.get("name", "")).split(" ", 1)[0])
        failure = testcase.find("failure") if waiver else None
        if failure is None:
            continue
        message = (
            f"WAIVED {waiver['case']}: {waiver['reason']} (approved by {waiver['approved_by']}, "
            f"expires {waiver['expires']}); finding: {failure.get('message', '')}"
        )
        failure.tag = "skipped"
        failure.attrib.clear()
        failure.set("type", WAIVED_TYPE)
        failure.set("message", message)
        xml.stats["failure"] -= 1
        xml.stats["skipped"] += 1
