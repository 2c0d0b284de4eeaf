"""The evidence bundle (issue 12, section 1) and the monitor findings of a run (issue 10, item 3)."""

from __future__ import annotations

import gzip
import json
import subprocess
import sys
from pathlib import Path

import pytest

from ats.evidence import BUNDLE, read_bundle
from ats.reporting.evidence import EvidenceSpool
from ats.reporting.monitoring import judge_bundle
from interflex.monitor import Participant, Platform

BASE = "http://127.0.0.1:1/interflex/api/v1"


def _rec(worker: str, started: float, body: str = "") -> dict:
    return {"method": "GET", "url": "http://u:p@h/x", "started": started, "worker": worker, "response_body": body}


def test_the_spool_merges_workers_by_start_time_into_stable_bytes(tmp_path: Path) -> None:
    def bundle(name: str) -> bytes:
        spool = EvidenceSpool(["s3cret"])
        try:
            spool.add([_rec("gw0", 1.0), _rec("gw0", 3.0, "a s3cret")])
            spool.add([_rec("gw1", 4.0), _rec("gw1", 2.0)])  # overlapping probes, recorded in call order
            spool.add([_rec("gw0", 6.0), _rec("gw0", 5.0)])
            info = spool.write_bundle(tmp_path / name)
        finally:
            spool.close()
        assert info.exchanges == 6 and not spool.folder.exists()
        return (tmp_path / name).read_bytes()

    first = bundle("a.jsonl.gz")
    assert first == bundle("b.jsonl.gz")  # no file name, no time stamp in the gzip header
    records = list(read_bundle(tmp_path / "a.jsonl.gz"))
    assert [r["started"] for r in records] == [1.0, 2.0, 3.0, 4.0, 5.0, 6.0]
    assert records[2]["response_body"] == "a ***" and records[0]["url"] == "http://***@h/x"


def test_a_damaged_bundle_is_one_line(tmp_path: Path) -> None:
    path = tmp_path / BUNDLE
    path.write_bytes(gzip.compress(b'{"method": "GET"}\n')[:-6])
    with pytest.raises(ValueError, match="cannot read the gzip stream"):
        list(read_bundle(path))


def _r2(index: int, case: str, status: int, token: bool = True) -> dict:
    """An R2 exchange of the DSO (a 500: a server finding; without a token: a client finding)."""
    body = {"request_id": f"r{index}", "timestamp": "2026-12-06T09:00:00+01:00", "unit": "kW", "duration": 900}
    body |= {"deadline": "2026-12-07T09:00:00+01:00", "region_id": "region-1", "flexible_power": 100}
    headers = {"Content-Type": "application/json", **({"Authorization": "Bearer ***"} if token else {})}
    return {
        "method": "POST",
        "url": f"{BASE}/dsos/dso1/flexibilityRequests",
        "status": status,
        "request_headers": headers,
        "request_body": json.dumps(body),
        "response_headers": {"content-type": "application/json"},
        "response_body": '{"error": "x"}',
        "started": 100.0 + index,
        "caller": "dso1" if token else None,
        "case": case,
    }


def test_monitor_findings_leave_out_what_the_run_reported(tmp_path: Path) -> None:
    path = tmp_path / BUNDLE
    records = [_r2(0, "IFX-A", 500), _r2(1, "IFX-B", 500), _r2(2, "IFX-C", 401, token=False)]
    path.write_bytes(gzip.compress("".join(json.dumps(r) + "\n" for r in records).encode()))
    platform = Platform((Participant("dso1", "dso", "dso1"),))
    judged = judge_bundle(path, platform, {"IFX-A"})  # IFX-A failed: its 500 is reported
    assert [(f["rule"], f["exchange"], f["case"]) for f in judged["findings"]] == [("ST-7", 1, "IFX-B")]
    assert judged["left_out"] == {"client": 1, "reported": 1} and judged["exchanges"] == 3
    assert judge_bundle(path, platform, {"IFX-A"}, {"ST-7"})["findings"] == []  # a failed case cites ST-7


def test_the_conformant_reference_server_gives_no_monitor_finding(tmp_path: Path) -> None:
    """A real check of the monitor's false-finding rate: every server-side finding here would be false."""
    command = [sys.executable, "-m", "ats.cli", "-p", "no:cacheprovider", "-n", "2", "--ats-examples", "2"]
    done = subprocess.run(
        [*command, "--cert-report", "cert", "-q"], capture_output=True, text=True, timeout=420, cwd=tmp_path
    )
    assert done.returncode == 0, done.stdout[-2000:]
    doc = json.loads((tmp_path / "cert" / "results.json").read_text(encoding="utf-8"))
    monitor = doc["monitor"]
    assert monitor["exchanges"] == doc["evidence"]["exchanges"] > 1000 and monitor["complete"] is True
    assert monitor["findings"] == [], json.dumps(monitor["findings"][:5], indent=1)
    assert monitor["left_out"]["reported"] == 0  # nothing failed
    assert "monitor findings: 0" in done.stdout
