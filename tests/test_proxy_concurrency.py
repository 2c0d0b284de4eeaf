"""Concurrency through the validating proxy (issue 10, "Proof"): four clients at once against the
conformant reference server give no false finding. Their exchanges overlap and reach the monitor
in one of many orders; the monitor must not report what another legal order explains.
"""

from __future__ import annotations

import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor

from proxy_traffic import EXAMPLE, d35_cycle, errors, proxied

from interflex.monitor import WARNING

CLIENTS = 4


def test_four_clients_at_once_give_no_false_finding() -> None:
    with proxied() as (_, proxy):
        with ThreadPoolExecutor(CLIENTS) as pool:  # four D3.5 negotiations, same users, overlapping
            assert all(pool.map(lambda _: d35_cycle("127.0.0.1", proxy.port), range(CLIENTS)))
        runs = [
            subprocess.Popen(
                [sys.executable, str(EXAMPLE), "--base-url", proxy.base_url],
                stdout=subprocess.DEVNULL,
                stderr=subprocess.PIPE,
                text=True,
            )
            for _ in range(CLIENTS)
        ]
        for run in runs:
            _, err = run.communicate(timeout=60)
            assert run.returncode == 0, err
    findings = proxy.findings
    assert proxy.summary.exchanges > CLIENTS * (50 + 20)
    assert errors(findings) == []
    # the only warnings: clients reading lists faster than CL-7 recommends (they do)
    assert {(f.severity, f.rule, f.side) for f in findings} <= {(WARNING, "CL-7", "client")}
