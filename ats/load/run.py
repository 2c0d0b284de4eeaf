"""Running the load on Locust: local, master or worker (imported only by interflex-load: it imports locust).

Local and master runs end alike: stop the users, judge what is still waiting, merge every
process's outbox into one `Ledger`, reconcile the lists, clean up, and build the result from
Locust's (merged) statistics. A worker only runs users; its outbox rides on Locust's worker
reports (`report_to_master`) and a final flush the master asks for (custom message).
"""

from __future__ import annotations

import logging
import re
import resource
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import gevent
import requests
from locust.env import Environment
from locust.exception import RPCError
from locust.html import get_html_report
from locust.runners import Runner

from ats.load import report
from ats.load.judge import Judge
from ats.load.ledger import Ledger, Outbox
from ats.load.reconcile import Target, clean_up, reconcile
from ats.load.users import AggregatorUser, DsoUser, RunContext, ssl_factory
from interflex.errors import ConfigError
from interflex.ixit import Ixit
from interflex.monitor import platform_from_ixit

FLUSH, FLUSHED = "interflex-flush", "interflex-flushed"
STOP_TIMEOUT_S = 3.0  # users finish their current step before they are stopped
_log = logging.getLogger("interflex-load")


@dataclass
class Settings:
    """What a run needs besides the IXIT (from the command line)."""

    users: int
    spawn_rate: float
    run_time_s: float
    html: Path | None = None
    json: Path | None = None
    expect_workers: int = 1
    expect_workers_timeout_s: float = 60.0
    master_bind_host: str = "*"
    master_port: int = 5557


def _environment(ixit: Ixit) -> tuple[Environment, Outbox]:
    """A Locust environment whose users share one judge and outbox, aimed at the IXIT's target."""
    for user_class in (DsoUser, AggregatorUser):
        user_class.ssl_context_factory = staticmethod(ssl_factory(ixit))
    env = Environment(user_classes=[DsoUser, AggregatorUser], host=ixit.target_url, stop_timeout=STOP_TIMEOUT_S)
    outbox = Outbox()
    env.interflex = RunContext(ixit, Judge(platform_from_ixit(ixit), outbox.findings, ixit.secrets), outbox)  # type: ignore[attr-defined]
    return env, outbox


def check_accounts(ixit: Ixit) -> None:
    """Log in once with every IXIT account before the load; ConfigError (one line) when one cannot."""
    target = Target(ixit)
    try:
        for account in (ixit.dso, *ixit.aggregators):
            target.token(account)
    except requests.RequestException as exc:
        raise ConfigError(f"cannot log in at {ixit.target_url} before the load: {_reason(exc)}") from None
    except ValueError:
        raise ConfigError(f"cannot log in at {ixit.target_url}: A1 did not answer JSON") from None
    finally:
        target.close()


def _reason(exc: Exception) -> str:
    """The gist of a requests error ("[Errno 111] Connection refused", a TLS failure, ...), one short line."""
    text = str(exc)
    found = re.search(r"\[Errno -?\d+\] [^'\")]+|certificate verify failed[^'\")]*|Read timed out", text)
    return found.group(0) if found else text[:200]


def run_local(ixit: Ixit, settings: Settings) -> dict[str, Any]:
    """Run every user in this process; the result."""
    check_accounts(ixit)
    env, outbox = _environment(ixit)
    runner = env.create_local_runner()
    cpu, started = _cpu_s(), time.time()
    runner.start(settings.users, settings.spawn_rate)
    gevent.sleep(settings.run_time_s)
    runner.stop()
    cpu, stopped = _cpu_s() - cpu, time.time()
    env.interflex.judge.flush()  # type: ignore[attr-defined]
    ledger = Ledger()
    ledger.merge(outbox.drain())
    doc = _finish(env, runner, ledger, ixit, settings, workers=0)
    doc["generator_cpu_percent"] = round(100 * cpu / (stopped - started), 1)  # of one core, while users ran
    doc["load_window"] = [started, stopped]  # unix seconds
    return doc


def run_master(ixit: Ixit, settings: Settings) -> dict[str, Any]:
    """Drive workers (which run the users) and merge their results; the result."""
    check_accounts(ixit)
    env, _ = _environment(ixit)
    try:
        runner = env.create_master_runner(settings.master_bind_host, settings.master_port)
    except (SystemExit, RPCError):  # Locust exits when the port is taken
        where = f"{settings.master_bind_host}:{settings.master_port}"
        raise ConfigError(f"the master cannot listen on {where} (port in use?)") from None
    ledger = Ledger()
    flushed: set[str] = set()

    def on_report(client_id: str, data: dict[str, Any]) -> None:
        batch = data.get("interflex")
        if isinstance(batch, dict):
            ledger.merge(batch)

    env.events.worker_report.add_listener(on_report)
    runner.register_message(FLUSHED, lambda environment, msg: flushed.add(msg.node_id))
    try:
        _wait(lambda: len(runner.clients.ready) >= settings.expect_workers, settings.expect_workers_timeout_s)
    except TimeoutError:
        runner.quit()
        raise ConfigError(
            f"only {len(runner.clients.ready)} of {settings.expect_workers} workers connected within "
            f"{settings.expect_workers_timeout_s:g} s (start them with --worker --master-host ...)"
        ) from None
    expected = {client.id for client in runner.clients.ready}  # stopped workers leave `clients` for a while
    runner.start(settings.users, settings.spawn_rate)
    gevent.sleep(settings.run_time_s)
    runner.stop()
    for client_id in expected:
        runner.send_message(FLUSH, client_id=client_id)
    try:
        _wait(lambda: expected <= flushed, 30.0 + STOP_TIMEOUT_S)
    except TimeoutError:
        _log.warning("workers %s sent no final report; their last seconds are missing", sorted(expected - flushed))
    return _finish(env, runner, ledger, ixit, settings, workers=len(expected))


def run_worker(ixit: Ixit, master_host: str, master_port: int) -> None:
    """Run the users the master assigns until it says quit."""
    env, outbox = _environment(ixit)
    try:
        runner = env.create_worker_runner(master_host, master_port)
    except (ConnectionError, RPCError):
        raise ConfigError(f"no master answered at {master_host}:{master_port}") from None
    judge = env.interflex.judge  # type: ignore[attr-defined]

    def on_report(client_id: str, data: dict[str, Any]) -> None:
        data["interflex"] = outbox.drain()

    def on_flush(environment: Environment, msg: Any) -> None:
        judge.flush()
        data: dict[str, Any] = {}
        env.events.report_to_master.fire(client_id=runner.client_id, data=data)
        runner.send_message("stats", data)  # Locust's own stats message, with the outbox on it
        runner.send_message(FLUSHED)

    env.events.report_to_master.add_listener(on_report)
    runner.register_message(FLUSH, on_flush)
    runner.greenlet.join()


def _cpu_s() -> float:
    """CPU seconds (user + system) this process has used."""
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def _wait(condition: Callable[[], bool], timeout_s: float) -> None:
    """Sleep (cooperatively) until `condition()`; TimeoutError after `timeout_s`."""
    with gevent.Timeout(timeout_s, TimeoutError):
        while not condition():
            gevent.sleep(0.1)


def _entry(entry: Any) -> dict[str, float]:
    return {
        "requests": entry.num_requests,
        "failures": entry.num_failures,
        "rps": round(entry.total_rps, 1),
        "p50_ms": entry.get_response_time_percentile(0.5),
        "p95_ms": entry.get_response_time_percentile(0.95),
        "p99_ms": entry.get_response_time_percentile(0.99),
        "max_ms": round(entry.max_response_time or 0, 1),
    }


def _finish(
    env: Environment, runner: Runner, ledger: Ledger, ixit: Ixit, settings: Settings, workers: int
) -> dict[str, Any]:
    """Reconcile, clean up, build the result, write the reports; stop the runner."""
    ledger.finish()
    target = Target(ixit)
    try:
        reconcile(target, ledger)
        not_cleaned = clean_up(target, ledger.live.values())
    except requests.RequestException as exc:
        ledger.findings.add("ST-9", None, "the lists could not be read after the load", str(exc)[:200])
        not_cleaned = len(ledger.live)
    finally:
        target.close()
    stats = env.stats
    entries = {entry.name: _entry(entry) for entry in stats.entries.values()}
    statuses: dict[str, int] = {}
    for key, count in ledger.statuses.items():
        statuses[key.partition(" ")[2]] = statuses.get(key.partition(" ")[2], 0) + count
    total = {**_entry(stats.total), "statuses": dict(sorted(statuses.items()))}
    doc = report.result(
        target=ixit.target_url,
        users=settings.users,
        workers=workers,
        run_time_s=settings.run_time_s,
        operations=report.operation_stats(entries, dict(ledger.statuses)),
        total=total,
        findings=ledger.findings.all(),
        capacity=ixit.capacity,
        not_cleaned=not_cleaned,
    )
    if settings.html is not None:
        head, body_end, tail = get_html_report(env, show_download_link=False).rpartition("</body>")
        settings.html.write_text(head + report.findings_html(doc) + body_end + tail, encoding="utf-8")
    runner.quit()
    return doc
