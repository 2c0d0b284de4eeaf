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


def _rec(worker: str, started: float, body: str = "") -> dict:
    return {"method": "GET", "url": "http://u:p@h/x", "started": started, "worker": worker, "response_body": body}


def test_the_spool_merges_workers_by_start_time_into_stable_bytes(tmp_path: Path) -> None:
    def bundle(name: str) -> bytes:
        spool = EvidenceSpool(["s3cret"])
        try:
            spool.add([_rec("gw0", 1.0), _rec("gw0", 3.0, "a s3cret")])
            spool.add([_rec("gw1", 2.0), _rec("gw1", 4.0)])
            info = spool.write_bundle(tmp_path / name)
        finally:
            spool.close()
        assert info.exchanges == 4 and not spool.folder.exists()
        return (tmp_path / name).read_bytes()

    first = bundle("a.jsonl.gz")
    assert first == bundle("b.jsonl.gz")  # no file name, no time stamp in the gzip header
    records = list(read_bundle(tmp_path / "a.jsonl.gz"))
    assert [r["started"] for r in records] == [1.0, 2.0, 3.0, 4.0]
    assert records[2]["response_body"] == "a ***" and records[0]["url"] == "http://***@h/x"


def test_a_damaged_bundle_is_one_line(tmp_path: Path) -> None:
    path = tmp_path / BUNDLE
    path.write_bytes(gzip.compress(b'{"method": "GET"}\n')[:-6])
    with pytest.raises(ValueError, match="cannot read the gzip stream"):
        list(read_bundle(path))


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
