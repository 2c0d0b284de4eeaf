"""Smoke test: `bench/validate_bench.py` runs and prints its table (numbers come from real runs only)."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

BENCH = Path(__file__).resolve().parent.parent / "bench" / "validate_bench.py"


def test_bench_runs_with_a_tiny_count() -> None:
    done = subprocess.run(
        [sys.executable, str(BENCH), "--count", "40", "--repeat", "1"],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert "jsonschema (bare) msg/s" in lines[0] and "interflex validate msg/s" in lines[0]
    assert [line.split()[0] for line in lines[1:]] == ["valid", "invalid"]
    assert all(re.search(r"\d+\.\dx$", line) for line in lines[1:])
