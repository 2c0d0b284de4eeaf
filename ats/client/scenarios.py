"""Scenarios: one run of the client under test against a harness platform set up for it.

A scenario names what the platform does differently (deviations of the instrument, short token
lifetimes, the reference server's alternative modes), how the counterparts behave, and when it ends: a DSO
client exits by itself after one negotiation; an aggregator client is stopped (SIGTERM) once every request
has its offer and every activation its ACK or NACK. Every scenario ends at the latest after the IXIT's
`timeout_s`.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from ats.client.ixit import ClientIxit
from ats.client.parties import Counterparts, Knowledge
from ats.client.platform import Captured, Deviation, HarnessPlatform, User, new_secret
from ats.client.process import ClientProcess

GRACE = 1.5  # seconds the client may go on after the end condition first held (a second ACK shows up here)
HARNESS_AGGREGATORS = ("harness-agg1", "harness-agg2")

# Alternative modes of the reference server the CL-9 scenarios combine (two sets: post-200 and post-empty
# cannot be combined).
ALTERNATIVES_A = (
    "post-200",
    "delete-200",
    "extra-fields",
    "lists-newest-first",
    "utc-times",
    "uuid-ids",
    "json-charset",
    "token-variants",
    "numbers-as-floats",
    "refresh-revokes-access",
)
ALTERNATIVES_B = (
    "post-empty",
    "drop-unknown-fields",
    "unprocessable-422",
    "plain-errors",
    "oauth-errors-401",
    "no-should-headers",
    "refresh-reusable",
    "missing-client-invalid-request",
)


@dataclass(frozen=True)
class Scenario:
    """One way of running the client: the platform's deviations, alternative modes, token lifetime, and the
    counterparts' timing (which test cases need the client to complete its negotiation where is
    `ats.client.expectations`)."""

    name: str
    role: str
    description: str
    deviation: Deviation = field(default_factory=Deviation)
    token_lifetime: int = 3600
    alternatives: tuple[str, ...] = ()
    answer: str = "ack"  # what the harness aggregator answers to a DSO client's activation
    offer_delay: float = 0.0  # counterparts wait this long before offering (DSO client) or requesting
    answer_delay: float = 0.0  # ... before answering an activation (DSO client) or activating (aggregator)
    requests: int = 2  # requests the harness DSO posts for an aggregator client
    activation_in: timedelta = timedelta(minutes=30)
    deadline_in: timedelta = timedelta(minutes=10)
    offset: timedelta | None = None  # the counterparts write their times at this UTC offset (else with Z)


def _both(name: str, description: str, **kwargs: Any) -> list[Scenario]:
    return [Scenario(f"{role}-{name}", role, description, **kwargs) for role in ("dso", "aggregator")]


SCENARIOS: tuple[Scenario, ...] = (
    Scenario("dso-ack", "dso", "plain negotiation; the winning aggregator ACKs the activation (PROFILE 8)"),
    Scenario("dso-nack", "dso", "plain negotiation; the winning aggregator NACKs the activation", answer="nack"),
    Scenario(
        "aggregator-plain",
        "aggregator",
        "plain negotiation: the DSO posts two requests and activates each offer with power > 0 (PROFILE 8)",
    ),
    Scenario(
        "aggregator-short-notice",
        "aggregator",
        "one request whose activation starts in 30 s: the client may ACK or NACK (a NACK is as good as an ACK)",
        requests=1,
        activation_in=timedelta(seconds=30),
        deadline_in=timedelta(seconds=20),
    ),
    *_both(
        "tokens",
        "short-lived tokens (2 s) and one revoked access token (401) while the counterparts take 2.5 s per step (CL-2)",
        token_lifetime=2,
        deviation=Deviation(revoke_at=3),
        offer_delay=2.5,
        answer_delay=2.5,
        requests=1,
    ),
    *_both(
        "503", "the client's first POST is answered 503 once and not stored (CL-6, CL-9)", deviation=Deviation("503")
    ),
    *_both(
        "dropped",
        "the client's first POST is stored but the connection is closed without an answer (CL-6)",
        deviation=Deviation("drop"),
    ),
    *_both(
        "409",
        "the client's first POST (not a repetition) is answered 409 and not stored (CL-5)",
        deviation=Deviation("409"),
    ),
    *_both(
        "400",
        "the client's first POST is answered 400 and not stored; the client need not reach its goal (CL-6)",
        deviation=Deviation("400"),
    ),
    *_both(
        "alternatives-a",
        "the platform takes other options the profile allows: " + ", ".join(ALTERNATIVES_A) + " (CL-9)",
        alternatives=ALTERNATIVES_A,
    ),
    *_both(
        "alternatives-b",
        "the platform takes other options the profile allows: " + ", ".join(ALTERNATIVES_B) + "; the other "
        "parties write their times at UTC-05:30 (CL-9)",
        alternatives=ALTERNATIVES_B,
        offset=timedelta(hours=-5, minutes=-30),
    ),
)
SCENARIOS_BY_NAME: dict[str, Scenario] = {s.name: s for s in SCENARIOS}


def scenarios_for(role: str) -> list[Scenario]:
    """The scenarios of a role, in catalog order."""
    return [s for s in SCENARIOS if s.role == role]


@dataclass
class Plan:
    """What the counterparts need: the scenario's timings and the client IXIT's region, unit, currency."""

    offer_delay: float
    answer_delay: float
    answer: str
    requests: int
    activation_in: timedelta
    deadline_in: timedelta
    offset: timedelta | None
    region_id: str
    unit: str
    currency: str


@dataclass
class ScenarioResult:
    """What one scenario produced: the capture, what the counterparts did, how the client's run ended."""

    scenario: Scenario
    client: User
    exchanges: list[Captured]
    overflow: int
    knowledge: Knowledge
    argv: list[str]
    started: float
    finished: float
    ended_by: str  # "exit", "end condition", "timeout", "not started", "manual"
    returncode: int | None
    stdout: str
    stderr: str
    secrets: list[str]
    base_url: str
    error: str | None = None  # the client could not be started, or the harness itself failed
    counterparts: list[User] = field(default_factory=list)  # the users the harness plays
    client_id: str = ""  # the OAuth client id of the platform
    client_secret: str = field(default="", repr=False)
    harness_failed: bool = False  # the harness platform itself failed (INCONCLUSIVE, cause environment)

    @property
    def client_exchanges(self) -> list[Captured]:
        """The exchanges the client under test sent, in the order they started."""
        return [c for c in self.exchanges if c.party == "client"]

    def how_it_ended(self) -> str:
        """One line: how the client's run ended (for reasons and reports)."""
        took = f"after {self.finished - self.started:.1f} s"
        if self.ended_by == "exit":
            return f"the client exited with status {self.returncode} {took}"
        if self.ended_by == "timeout":
            return f"the scenario timed out {took} and the client was stopped (SIGTERM)"
        if self.ended_by == "not started":
            return self.error or "the client could not be started"
        return f"the scenario ended ({self.ended_by}) {took}"


def _users(ixit: ClientIxit) -> tuple[User, list[User]]:
    client = User(ixit.entity_id, new_secret(), ixit.role, ixit.entity_id)
    if ixit.role == "dso":
        names = [n if n != ixit.entity_id else n + "-x" for n in HARNESS_AGGREGATORS]
        return client, [User(n, new_secret(), "aggregator", n) for n in names]
    return client, [User(ixit.dso, new_secret(), "dso", ixit.dso)]


Waiter = Callable[[HarnessPlatform, User, Scenario], None]


def run_scenario(ixit: ClientIxit, scenario: Scenario, *, manual: Waiter | None = None) -> ScenarioResult:
    """Run one scenario: platform up, counterparts on, the client's command (or a person, `manual`),
    until it exits, the end condition holds (plus `GRACE`) or `timeout_s` passes. Never raises for the
    client's behaviour; a harness failure is in `error`."""
    client, others = _users(ixit)
    platform = HarnessPlatform(
        [client, *others],
        deviation=scenario.deviation,
        token_lifetime=scenario.token_lifetime,
        alternatives=scenario.alternatives,
    )
    started = time.time()
    try:
        platform.start()
    except (RuntimeError, ValueError, OSError) as exc:
        return _failed(scenario, client, platform, started, f"the harness platform did not start: {exc}")
    plan = Plan(
        scenario.offer_delay,
        scenario.answer_delay,
        scenario.answer,
        scenario.requests,
        scenario.activation_in,
        scenario.deadline_in,
        scenario.offset,
        ixit.region_id,
        ixit.unit,
        ixit.currency,
    )
    parties = Counterparts(platform, ixit.role, client, others, plan)
    values = {
        "base_url": platform.base_url,
        "username": client.username,
        "password": client.password,
        "client_id": platform.client_id,
        "client_secret": platform.client_secret,
        "entity_id": client.entity_id,
        "dso": ixit.dso,
        "region_id": ixit.region_id,
        "unit": ixit.unit,
        "currency": ixit.currency,
    }
    argv = ixit.argv(values) if manual is None else []
    process: ClientProcess | None = None
    try:
        parties.start()
        if manual is not None:
            manual(platform, client, scenario)
            ended_by = _wait(ixit, scenario, parties.knowledge, lambda: True, started)
            returncode = None
        else:
            process = ClientProcess(argv, ixit.cwd, ixit.env)
            if process.start_error:
                ended_by = "not started"
            else:
                ended_by = _wait(ixit, scenario, parties.knowledge, process.running, started)
                process.stop(ended_by)
            returncode = process.returncode
    finally:
        parties.stop()
        platform.stop()
    return ScenarioResult(
        scenario=scenario,
        client=client,
        exchanges=platform.recorder.snapshot(),
        overflow=platform.recorder.overflow,
        knowledge=parties.knowledge,
        argv=argv,
        started=started,
        finished=time.time(),
        ended_by=ended_by,
        returncode=returncode,
        stdout=process.stdout if process else "",
        stderr=process.stderr if process else "",
        secrets=[*platform.secrets, *platform.recorder.access, *platform.recorder.refresh],
        base_url=platform.base_url,
        error=process.start_error if process else None,
        counterparts=others,
        client_id=platform.client_id,
        client_secret=platform.client_secret,
    )


def _wait(
    ixit: ClientIxit, scenario: Scenario, knowledge: Knowledge, running: Callable[[], bool], started: float
) -> str:
    """Wait until the client stops by itself ("exit"), the end condition held `GRACE` s ("end condition"),
    or `timeout_s` passed ("timeout")."""
    deadline = started + ixit.timeout_s
    while time.time() < deadline:
        if not running():
            return "exit"
        done = knowledge.finished_at
        if done is not None and time.time() - done >= GRACE and ixit.role == "aggregator":
            return "end condition"
        if done is not None and time.time() - done >= GRACE + 5.0:  # a DSO client that does not exit
            return "end condition"
        time.sleep(0.02)
    return "timeout"


def _failed(scenario: Scenario, client: User, platform: HarnessPlatform, started: float, error: str) -> ScenarioResult:
    return ScenarioResult(
        scenario=scenario,
        client=client,
        exchanges=[],
        overflow=0,
        knowledge=Knowledge(),
        argv=[],
        started=started,
        finished=time.time(),
        ended_by="not started",
        returncode=None,
        stdout="",
        stderr="",
        secrets=platform.secrets,
        base_url="",
        error=error,
        harness_failed=True,
    )


def run_scenarios(
    ixit: ClientIxit, scenarios: Iterable[Scenario], *, jobs: int = 4, manual: Waiter | None = None
) -> dict[str, ScenarioResult]:
    """Run scenarios, `jobs` at a time (one at a time in manual mode); name -> result."""
    chosen = list(scenarios)
    if manual is not None or jobs <= 1:
        return {s.name: run_scenario(ixit, s, manual=manual) for s in chosen}
    with ThreadPoolExecutor(max(1, min(jobs, len(chosen)))) as pool:
        return dict(zip((s.name for s in chosen), pool.map(lambda s: run_scenario(ixit, s), chosen), strict=True))
