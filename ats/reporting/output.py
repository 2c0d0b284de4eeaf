"""Write the certification report files of `--cert-report DIR`."""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from ats.reporting.certificate import render_certificate
from ats.reporting.digest import write_sha256sum

CERTIFICATE = "certificate.html"
RESULTS = "results.json"


def write_cert_report(directory: Path, doc: Mapping[str, Any]) -> list[Path]:
    """Write `certificate.html`, `results.json` and `results.json.sha256` into `directory`
    (created when missing); return the paths written."""
    directory.mkdir(parents=True, exist_ok=True)
    certificate = directory / CERTIFICATE
    certificate.write_text(render_certificate(doc), encoding="utf-8")
    results = directory / RESULTS
    results.write_text(json.dumps(doc, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    return [certificate, results, write_sha256sum(results)]
