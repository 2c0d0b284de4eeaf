"""The proxy never alters traffic (issue 10, "Proof"): the whole conformance suite run through the
validating proxy against the reference server is still CONFORMANT, with the same verdict for every
test case as the same suite run directly against the same server."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from proxy_traffic import proxied

SUITE = str(Path(sys.executable).with_name("interflex-ats"))


def run_suite(target_url: str, folder: Path) -> dict:
    """`interflex-ats --target-url URL` in `folder`; its results.json."""
    folder.mkdir()
    command = [SUITE, "--target-url", target_url, "--ats-examples", "3", "-p", "no:cacheprovider", "-q"]
    command += ["-n", "2", "--cert-report", "cert"]
    result = subprocess.run(command, cwd=folder, capture_output=True, text=True, timeout=450)
    assert (folder / "cert" / "results.json").is_file(), result.stdout[-2000:] + result.stderr[-2000:]
    return json.loads((folder / "cert" / "results.json").read_text(encoding="utf-8"))


def test_the_suite_through_the_proxy_gives_the_same_verdicts(tmp_path: Path) -> None:
    with proxied(max_body=64 * 1024) as (server, proxy):
        direct = run_suite(server.base_url, tmp_path / "direct")
        through = run_suite(proxy.base_url, tmp_path / "proxy")
    print(f"suite run direct {direct['run']['duration']} s, through the proxy {through['run']['duration']} s")
    assert direct["verdict"] == through["verdict"] == "CONFORMANT"
    verdicts = {case["id"]: case["verdict"] for case in direct["cases"]}
    assert {case["id"]: case["verdict"] for case in through["cases"]} == verdicts
    assert proxy.summary.exchanges > 500 and proxy.summary.judging_failures == 0
