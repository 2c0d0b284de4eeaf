"""One client conformance run: the scenarios of the client's role, run once (in parallel) when the first
test case needs them, and `ClientRun.expect`, which turns findings and unmet goals into a verdict."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable
from typing import Any

from ats.client import goals
from ats.client.ixit import ClientIxit
from ats.client.judge import Finding, ScenarioJudge
from ats.client.platform import Captured
from ats.client.scenarios import ScenarioResult, Waiter, run_scenarios, scenarios_for
from ats.redaction import redact, redact_headers
from ats.verdicts import Failure, Inconclusive

SHOWN = 6  # problems spelled out in a reason; the rest are counted
EVIDENCE = 20  # exchanges kept as a record's evidence
OUTPUT_TAIL = 4096  # characters of the client's stdout/stderr in reports

Problem = tuple[str, str, list[int]]  # (scenario, message, exchange indexes)


class ClientRun:
    """The scenarios of one client run and their judges; thread-safe lazy start."""

    def __init__(
        self, ixit: ClientIxit, *, jobs: int = 8, manual: Waiter | None = None, only: Iterable[str] | None = None
    ) -> None:
        """`only`: run just these scenarios (short names, e.g. "503"; the project's own tests use it: cases
        then judge only what ran); the suite always runs every scenario of the role."""
        self.ixit = ixit
        self.jobs = jobs
        self.manual = manual
        chosen = None if only is None else {f"{ixit.role}-{name}" for name in only}
        self.scenarios = [s for s in scenarios_for(ixit.role) if chosen is None or s.name in chosen]
        self._results: dict[str, ScenarioResult] | None = None
        self._judges: dict[str, ScenarioJudge] = {}
        self._lock = threading.Lock()

    @property
    def results(self) -> dict[str, ScenarioResult]:
        """Every scenario's result (runs them on first use)."""
        with self._lock:
            if self._results is None:
                self._results = run_scenarios(self.ixit, self.scenarios, jobs=self.jobs, manual=self.manual)
            return self._results

    def judge(self, name: str) -> ScenarioJudge:
        with self._lock:
            if name not in self._judges:
                assert self._results is not None
                self._judges[name] = ScenarioJudge(self._results[name])
            return self._judges[name]

    def secrets(self) -> list[str]:
        return [s for r in (self._results or {}).values() for s in r.secrets]

    def expect(
        self,
        *,
        checks: Iterable[str] = (),
        scenarios: Iterable[str] | None = None,
        goal_in: Iterable[str] = (),
        verify: Callable[[ScenarioJudge], list[str]] | None = None,
        role: str | None = None,
        evidence: Callable[[list[dict[str, Any]]], None] = lambda _: None,
    ) -> None:
        """The verdict of one test case: N/A for another `role`; FAIL naming every finding of `checks` in
        `scenarios` (default: all of the role), every unmet goal in `goal_in` and every problem `verify`
        finds in `scenarios`; INCONCLUSIVE when the harness itself failed."""
        import pytest

        if role is not None and role != self.ixit.role:
            article = "an" if self.ixit.role == "aggregator" else "a"
            under_test = f"{article} {self.ixit.role} client"
            pytest.skip(f"N/A: this test case applies to {role} clients; the client under test is {under_test}")
        results = self.results
        goal_in = [name for g in goal_in if (name := f"{self.ixit.role}-{g}") in results]
        names = [f"{self.ixit.role}-{s}" for s in scenarios] if scenarios is not None else list(results)
        names = [name for name in names if name in results]
        for name in {*names, *goal_in}:
            if results[name].harness_failed:
                raise Inconclusive(f"scenario {name}: {results[name].error}", "environment")
        checks = set(checks)
        problems: list[Problem] = []
        for name in names:
            judge = self.judge(name)
            problems += [(name, str(f), _cited(f)) for f in judge.findings if f.check in checks]
            if verify is not None:
                problems += [(name, f"{p}; {results[name].how_it_ended()}", []) for p in verify(judge)]
        for name in goal_in:
            unmet = goals.goal(self.judge(name))
            if unmet:
                problems.append(
                    (
                        name,
                        f"the client did not complete its negotiation: {unmet[0]}; "
                        f"{results[name].how_it_ended()}{_last_words(results[name])}",
                        [],
                    )
                )
        if problems:
            evidence(self._evidence(problems))
            raise Failure(_reason(problems))

    def _evidence(self, problems: list[Problem]) -> list[dict[str, Any]]:
        """The cited exchanges (or the last ones of the first failing scenario), redacted."""
        records: list[dict[str, Any]] = []
        for name, _, cited in problems:
            result = self.results[name]
            wanted = set(cited)
            chosen = [c for c in result.exchanges if c.exchange.index in wanted] if wanted else []
            if not chosen and not records:
                chosen = result.client_exchanges[-EVIDENCE:]
            records += [exchange_record(c, result.secrets, name) for c in chosen]
            if len(records) >= EVIDENCE:
                break
        return records[:EVIDENCE]


def _cited(finding: Finding) -> list[int]:
    return [] if finding.exchange is None else [finding.exchange]


def _last_words(result: ScenarioResult) -> str:
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    return f"; its last error output: {lines[-1][:300]!r}" if lines and result.ended_by == "exit" else ""


def _reason(problems: list[Problem]) -> str:
    lines = [f"{scenario}: {message}" for scenario, message, _ in problems[:SHOWN]]
    if len(problems) > SHOWN:
        lines.append(f"... and {len(problems) - SHOWN} more")
    return "\n".join(lines)


def exchange_record(captured: Captured, secrets: list[str], scenario: str) -> dict[str, Any]:
    """A captured exchange as a redacted C4 evidence dict (bodies capped at 64 KiB by the capture)."""
    ex = captured.exchange
    who = "client" if captured.party == "client" else f"harness ({ex.caller})"
    deviation = f"; the harness answered in its place: {captured.deviation}" if captured.deviation else ""
    return {
        "method": ex.method,
        "url": redact(f"[{scenario} #{ex.index} {who}] {ex.url}", secrets),
        "status": ex.status,
        "request_headers": redact_headers(dict(ex.request_headers), secrets),
        "request_body": redact(ex.request_body.decode("utf-8", "replace"), secrets),
        "response_headers": redact_headers(dict(ex.response_headers), secrets),
        "response_body": redact(ex.response_body.decode("utf-8", "replace"), secrets),
        "elapsed_ms": round(max(ex.finished - ex.started, 0.0) * 1000, 2),
        "error": redact((ex.error or "") + deviation, secrets) or None,
    }


def scenario_summaries(run: ClientRun) -> list[dict[str, Any]]:
    """Per scenario: what it did, how the client's run ended, and the client's output (redacted, tails)."""
    summaries = []
    for name, result in (run._results or {}).items():
        secrets = result.secrets
        summaries.append(
            {
                "name": name,
                "description": result.scenario.description,
                "ended_by": result.ended_by,
                "how": redact(result.how_it_ended(), secrets),
                "returncode": result.returncode,
                "duration": round(result.finished - result.started, 3),
                "exchanges": len(result.client_exchanges),
                "overflow": result.overflow,
                "stdout": redact(result.stdout[-OUTPUT_TAIL:], secrets),
                "stderr": redact(result.stderr[-OUTPUT_TAIL:], secrets),
                "harness_notes": [redact(n, secrets) for n in result.knowledge.errors[:10]],
            }
        )
    return summaries


class Case:
    """`ClientRun.expect` for one test case: the exchanges a FAIL cites become the test's evidence."""

    def __init__(self, run: ClientRun, keep: Callable[[list[dict[str, Any]]], None]) -> None:
        self.run, self.keep = run, keep

    def expect(self, **kwargs: Any) -> None:
        """See `ClientRun.expect`."""
        self.run.expect(evidence=self.keep, **kwargs)


def case_verdicts(run: ClientRun) -> dict[str, tuple[str, str | None]]:
    """Every client test case's verdict and reason, without pytest's runner (the project's own tests and
    `python -m ats.docs` use it); the same expectations as `ats/client/cases`."""
    import pytest

    from ats.client.expectations import EXPECTATIONS
    from ats.verdicts import FAIL, INCONCLUSIVE, NA, PASS

    verdicts: dict[str, tuple[str, str | None]] = {}
    for case_id, expectations in EXPECTATIONS.items():
        try:
            for kwargs in expectations:
                run.expect(**kwargs)
            verdicts[case_id] = (PASS, None)
        except Failure as exc:
            verdicts[case_id] = (FAIL, str(exc))
        except Inconclusive as exc:
            verdicts[case_id] = (INCONCLUSIVE, exc.reason)
        except pytest.skip.Exception as exc:
            verdicts[case_id] = (NA, str(exc.msg))
    return verdicts
