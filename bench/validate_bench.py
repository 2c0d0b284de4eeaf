"""Messages per second: `interflex.validation.validate` vs a bare jsonschema validator, same run.

    .venv/bin/python bench/validate_bench.py [--count 20000] [--repeat 3]

The baseline is `jsonschema.Draft202012Validator`, created once per kind, schema checks only
(no format checker), collecting all errors like `validate` does. Ours includes the
`date-time` format check, unknown fields and plausibility PL-1..PL-3. The messages are the
valid and invalid examples of `fixtures/messages/` (resource kinds), cycled to `--count`; each
valid message gets its own `timestamp` (as in real traffic), so the validator's cache of parsed
date-times only helps with the repeated deadlines and activation times.
Issue 2's target: ratio >= 10 on valid messages.
"""

from __future__ import annotations

import argparse
import json
import time
from collections.abc import Callable
from itertools import cycle, islice
from typing import Any

import jsonschema
from referencing import Registry, Resource

from interflex._data import fixtures_dir, schemas_dir
from interflex.profile import RESOURCE_KINDS, SCHEMA_FILES
from interflex.validation import validate
from interflex.validation._datetime import _parse

Message = tuple[str, Any]  # (kind, message)


def _examples(verdict: str) -> list[Message]:
    found = []
    for kind in RESOURCE_KINDS:
        folder = fixtures_dir() / "messages" / SCHEMA_FILES[kind].removesuffix(".json") / verdict
        found += [(kind, json.loads(p.read_text(encoding="utf-8"))) for p in sorted(folder.glob("*.json"))]
    return found


def _unique_timestamps(messages: list[Message]) -> list[Message]:
    """Copies with distinct timestamps where that keeps the example valid (not the leap-second one)."""
    keeps_valid = {id(m): not validate(m | {"timestamp": "2026-11-26T08:00:00+01:00"}, k) for k, m in messages}
    out = []
    for index, (kind, message) in enumerate(messages):
        seconds, millis = divmod(index % 7_200_000, 1000)
        stamp = f"2026-11-26T{8 + seconds // 3600:02d}:{seconds // 60 % 60:02d}:{seconds % 60:02d}.{millis:03d}+01:00"
        out.append((kind, message | {"timestamp": stamp} if keeps_valid[id(message)] else message))
    return out


def _baseline() -> Callable[[str, Any], list[Any]]:
    def load(name: str) -> dict[str, Any]:
        return json.loads((schemas_dir() / name).read_text(encoding="utf-8"))

    registry: Registry = Registry().with_resources(
        (schema["$id"], Resource.from_contents(schema))
        for schema in [load("defs.json"), *(load(SCHEMA_FILES[k]) for k in RESOURCE_KINDS)]
    )
    validators = {k: jsonschema.Draft202012Validator(load(SCHEMA_FILES[k]), registry=registry) for k in RESOURCE_KINDS}
    return lambda kind, message: list(validators[kind].iter_errors(message))


def _ours(kind: str, message: Any) -> list[Any]:
    return validate(message, kind)


def _rate(check: Callable[[str, Any], list[Any]], messages: list[Message], repeat: int) -> float:
    """Best of `repeat` runs, in messages per second; each run starts with no parsed date-time cached."""
    best = float("inf")
    for _ in range(repeat):
        _parse.cache_clear()
        start = time.perf_counter()
        for kind, message in messages:
            check(kind, message)
        best = min(best, time.perf_counter() - start)
    return len(messages) / best


def main(argv: list[str] | None = None) -> None:
    """Run the benchmark and print the table."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--count", type=int, default=20000, help="messages per measurement (default 20000)")
    parser.add_argument("--repeat", type=int, default=3, help="runs per measurement, best counts (default 3)")
    args = parser.parse_args(argv)
    baseline = _baseline()
    for kind, message in _unique_timestamps(_examples("valid")):  # warm up; both must accept them
        assert not baseline(kind, message) and not _ours(kind, message), (kind, message)
    rows = []
    for verdict in ("valid", "invalid"):
        messages = list(islice(cycle(_examples(verdict)), args.count))
        if verdict == "valid":
            messages = _unique_timestamps(messages)
        base, ours = _rate(baseline, messages, args.repeat), _rate(_ours, messages, args.repeat)
        rows.append((verdict, base, ours))
    print(f"{'messages':<10}{'jsonschema (bare) msg/s':>26}{'interflex validate msg/s':>27}{'ratio':>9}")
    for verdict, base, ours in rows:
        print(f"{verdict:<10}{base:>26,.0f}{ours:>27,.0f}{ours / base:>8.1f}x")


if __name__ == "__main__":
    main()
