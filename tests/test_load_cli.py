"""interflex-load end to end against the reference server (issue 13, "Proof"), each run a few seconds.

Conformant → exit 0 and zero findings; each load-only fault mode → exit 1 with its rule; master and
two workers on loopback → one merged result; an unmet capacity threshold → exit 1 without findings.
interflex-load always runs as a subprocess (it imports Locust, which monkey-patches with gevent).
"""

from __future__ import annotations

import json
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import uvicorn
import yaml
from tls_certs import self_signed

from interflex.serving import ServerThread, listening_socket
from reference_server import ReferenceServer
from reference_server.server import make_context, uvicorn_config

ROOT = Path(__file__).resolve().parent.parent
LOAD = [sys.executable, "-m", "ats.load.cli"]
TIMEOUT_S = 120
CORE = {"A1", "R1", "R2", "R3", "O1", "O2", "O3", "V1", "V2", "V3", "K1", "K2", "K3"}  # section 8 end to end
STARTED = {"A1", "R1", "R2", "R3", "O1", "O2"}  # what even a short run on a busy machine gets to


def _ixit(tmp_path: Path, base_url: str, **extra: Any) -> Path:
    data = yaml.safe_load((ROOT / "fixtures" / "ixit" / "reference.yaml").read_text(encoding="utf-8"))
    path = tmp_path / "ixit.yaml"
    path.write_text(yaml.safe_dump({**data, "target_url": base_url, **extra}), encoding="utf-8")
    return path


def _load(*args: str | Path, timeout: float = TIMEOUT_S) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*LOAD, *map(str, args)], capture_output=True, text=True, timeout=timeout, cwd=ROOT)


def _run(
    tmp_path: Path, base_url: str, *extra: str, users: int = 6, seconds: int = 3, **ixit: Any
) -> tuple[int, dict, str]:
    out = tmp_path / "result.json"
    args = ["--ixit", _ixit(tmp_path, base_url, **ixit), "--users", str(users), "--run-time", f"{seconds}s"]
    args += ["--json", out]
    done = _load(*args, *extra)
    assert done.returncode in (0, 1), done.stderr[-2000:]
    return done.returncode, json.loads(out.read_text(encoding="utf-8")), done.stdout


@pytest.fixture
def server(request: pytest.FixtureRequest) -> Iterator[ReferenceServer]:
    with ReferenceServer(fault=getattr(request, "param", None)) as running:
        yield running


def test_conformant_server_passes_with_zero_findings(tmp_path: Path, server: ReferenceServer) -> None:
    html = tmp_path / "report.html"
    code, doc, stdout = _run(tmp_path, server.base_url, "--html", str(html), seconds=5, capacity={"p99_ms": 60000})
    assert doc["findings"] == [] and doc["verdict"] == "PASS" and code == 0, stdout
    assert set(doc["operations"]) >= CORE, stdout
    assert doc["total"]["requests"] > 50 and doc["total"]["rps"] > 0
    assert all(row["p50_ms"] <= row["p95_ms"] <= row["p99_ms"] for row in doc["operations"].values())
    assert doc["thresholds"]["p99_ms"]["ok"] and doc["objects_not_cleaned_up"] == 0
    assert "verdict: PASS (0 findings)" in stdout
    page = html.read_text(encoding="utf-8")
    assert "InterFlex conformance under load: PASS" in page and "locust" in page.lower()


# Options the profile allows at once (reference_server.ALTERNATIVES): a false finding is as bad as a missed one.
ALLOWED = (
    "post-empty,delete-200,utc-times,offers-visible-to-all,token-variants,uuid-ids,refresh-revokes-access,"
    "lists-newest-first,numbers-as-floats,extra-fields,json-charset,validate-before-auth,no-should-headers,plain-errors"
)


def test_allowed_alternatives_give_no_finding(tmp_path: Path) -> None:
    with ReferenceServer(alternative=ALLOWED.split(",")) as server:
        code, doc, stdout = _run(tmp_path, server.base_url)
    assert doc["findings"] == [] and code == 0, stdout
    assert set(doc["operations"]) >= STARTED, stdout


@pytest.mark.parametrize(
    ("server", "rule"), [("ids-race", "ID-1"), ("lost-writes", "ST-9"), ("overload-503", "ST-7")], indirect=["server"]
)
def test_each_load_fault_is_found(tmp_path: Path, server: ReferenceServer, rule: str) -> None:
    code, doc, stdout = _run(tmp_path, server.base_url, users=8)
    assert code == 1 and doc["verdict"] == "FAIL"
    assert rule in {f["rule"] for f in doc["findings"]}, stdout
    assert f"FINDING {rule}:" in stdout


def test_unmet_capacity_threshold_fails_without_findings(tmp_path: Path, server: ReferenceServer) -> None:
    code, doc, stdout = _run(tmp_path, server.base_url, users=2, capacity={"min_rps": 1e9})
    assert code == 1 and doc["findings"] == [] and doc["thresholds"]["min_rps"]["ok"] is False
    assert "threshold min_rps: required 1e+09" in stdout and "MISSED" in stdout


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_master_and_two_workers_give_one_merged_result(tmp_path: Path, server: ReferenceServer) -> None:
    ixit, port, out = _ixit(tmp_path, server.base_url), str(_free_port()), tmp_path / "merged.json"
    worker = [*LOAD, "--ixit", str(ixit), "--worker", "--master-host", "127.0.0.1", "--master-port", port]
    workers = [subprocess.Popen(worker, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, cwd=ROOT) for _ in "12"]
    try:
        done = _load(
            *("--ixit", ixit, "--master", "--master-bind-host", "127.0.0.1", "--master-port", port),
            *("--expect-workers", "2", "--expect-workers-timeout", "60s", "--users", "6", "--run-time", "3s"),
            *("--json", out),
        )
        for process in workers:
            process.wait(timeout=30)  # the master tells its workers to quit
    finally:
        for process in workers:
            if process.poll() is None:
                process.kill()
                process.wait()
    doc = json.loads(out.read_text(encoding="utf-8"))
    assert done.returncode == 0 and doc["findings"] == [], done.stdout
    assert doc["workers"] == 2 and doc["users"] == 6
    assert set(doc["operations"]) >= STARTED and doc["total"]["requests"] > 20
    written = sum(row["statuses"].get("201", 0) for row in doc["operations"].values())
    assert written > 0 and doc["objects_not_cleaned_up"] == 0


def test_help_and_usage_errors() -> None:
    assert _load("--help", timeout=60).returncode == 0
    done = _load("--ixit", "x.yaml", "--worker", timeout=60)
    assert done.returncode == 2 and "--worker needs --master-host" in done.stderr


def test_unusable_ixit_or_target_is_one_line_and_exit_2(tmp_path: Path) -> None:
    missing = _load("--ixit", tmp_path / "none.yaml", "--run-time", "1s", timeout=60)
    assert missing.returncode == 2 and missing.stderr.strip().count("\n") == 0
    assert "cannot read IXIT file" in missing.stderr and "Traceback" not in missing.stderr
    closed = f"http://127.0.0.1:{_free_port()}/interflex/api/v1"
    unreachable = _load("--ixit", _ixit(tmp_path, closed), "--run-time", "1s", timeout=60)
    assert unreachable.returncode == 2 and "cannot log in" in unreachable.stderr
    assert "Traceback" not in unreachable.stderr and "dso1-demo" not in unreachable.stderr


def test_busy_master_port_is_one_line_and_exit_2(tmp_path: Path, server: ReferenceServer) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = str(taken.getsockname()[1])
        done = _load(
            *("--ixit", _ixit(tmp_path, server.base_url), "--master", "--master-bind-host", "127.0.0.1"),
            *("--master-port", port, "--run-time", "1s"),
            timeout=60,
        )
    assert done.returncode == 2 and done.stderr.strip().splitlines() == [
        f"interflex-load: error: the master cannot listen on 127.0.0.1:{port} (port in use?)"
    ]


@pytest.fixture
def tls_server(tmp_path: Path) -> Iterator[tuple[str, Path]]:
    """The reference server behind TLS (uvicorn's own), with the CA file that verifies it."""

    cert, key = self_signed(tmp_path)
    context = make_context(":memory:", None, 3600, None)
    config = uvicorn_config(context, access_log=False)
    config.ssl_certfile, config.ssl_keyfile = str(cert), str(key)
    serving = ServerThread(uvicorn.Server(config), listening_socket("127.0.0.1", 0), "the TLS server").start()
    try:
        yield f"https://127.0.0.1:{serving.port}/interflex/api/v1", cert
    finally:
        serving.stop()
        context.store.close()


def test_tls_target_verified_with_the_ixit_ca(tmp_path: Path, tls_server: tuple[str, Path]) -> None:
    url, ca = tls_server
    code, doc, stdout = _run(tmp_path, url, users=3, tls={"verify": str(ca)})
    assert code == 0 and doc["findings"] == [] and doc["total"]["requests"] > 20, stdout
    unverified = _load("--ixit", _ixit(tmp_path, url), "--run-time", "1s", timeout=60)  # default CAs: refused
    assert unverified.returncode == 2 and "cannot log in" in unverified.stderr
