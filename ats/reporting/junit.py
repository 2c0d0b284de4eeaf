"""Test case ids in the test names of pytest's own JUnit XML (`--junitxml`).

pytest's junitxml plugin names a `<testcase>` after the last part of the node id and keeps
attributes set on its per-test reporter before it opens the test case ("user-defined attributes"
survive `record_testreport`). On the controller, before junitxml sees a report carrying a verdict
record, `JunitNames` sets `name` to `"<case id> <pytest name>"`, e.g.
`IFX-AUTH-001 test_password_grant[dso]`. This works under pytest-xdist too, where
`record_xml_attribute` cannot (it is a no-op on workers).
"""

from __future__ import annotations

from typing import Any

import pytest

from ats.reporting.records import ats_record


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
