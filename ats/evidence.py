"""Evidence records of the evidence bundle `evidence.jsonl.gz` (written by `ats.reporting.evidence`).

One evidence record per line (contract C5): the C4 exchange keys of `ats.recorder.Exchange.record`
(redacted, bodies capped at 64 KiB) plus `started` (unix seconds), `caller` (the username the suite
sent as; tokens are redacted), `truncated` (a body was cut), `case`, `nodeid` and `worker`.

Where the exchanges travel: each test's exchanges (including its logins and the deletions of its
clean-up) ride on the item's teardown report (`PROPERTY` in `user_properties`), so they reach the
pytest-xdist controller like the verdict records do. The controller appends them to one temporary
JSON Lines file per worker (`ats.reporting.evidence.EvidenceSpool`; nothing accumulates in memory),
each test's records sorted by `started` (its probes may overlap, D-107), and at the end merges those
files, each in time order, into the bundle.
"""

from __future__ import annotations

import gzip
import json
import zlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from ats.recorder import EVIDENCE_CAP

BUNDLE = "evidence.jsonl.gz"
PROPERTY = "ats-evidence"  # user_properties name of a test's evidence records (teardown report)
MAIN = "main"  # `worker` of exchanges made without pytest-xdist


def evidence_records(api: Any, case: str, nodeid: str, worker: str) -> list[dict[str, Any]]:
    """The exchanges of one test (`ats.session.Api`) as evidence records (worker side, redacted)."""
    secrets, headers = api.ctx.secrets, list(api.ixit.headers)
    records = []
    for ex in api.exchanges:
        rec = ex.record(secrets, headers)
        cut = ex.truncated or ex.size > EVIDENCE_CAP or len(ex.request_body) > EVIDENCE_CAP
        rec.update(
            started=round(ex.started, 6),
            caller=ex.caller,
            truncated=cut,
            case=case,
            nodeid=nodeid,
            worker=worker,
        )
        records.append(rec)
    return records


def read_bundle(path: Path) -> Iterator[dict[str, Any]]:
    """The records of a bundle in file order; `ValueError` (one line) for a damaged file or line."""
    try:
        with gzip.open(path, "rt", encoding="utf-8") as handle:
            for number, line in enumerate(handle, 1):
                try:
                    record = json.loads(line)
                except ValueError:
                    raise ValueError(f"{path.name}:{number}: not a JSON evidence record") from None
                if not isinstance(record, dict):
                    raise ValueError(f"{path.name}:{number}: not a JSON evidence record")
                yield record
    except (OSError, EOFError, UnicodeDecodeError, zlib.error) as exc:
        raise ValueError(f"{path.name}: cannot read the gzip stream: {exc}") from None
