"""Conformance findings of a load run, grouped: one entry per (rule, operation, what), counted.

Under load one fault repeats thousands of times; the result keeps every distinct finding with
its count, when it was first seen and a few examples (PROFILE.md ids as rules).
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

EXAMPLES = 3  # examples kept per finding
DISTINCT = 20  # distinct messages kept per (rule, operation); further ones are counted together
OTHERS = "(further findings of this rule and operation, counted together)"


@dataclass
class Finding:
    """One kind of deviation seen `count` times: rule (ST-7, ID-1, ...), operation (A1...N4 or None)."""

    rule: str
    operation: str | None
    message: str
    count: int = 0
    first_seen: float = 0.0
    examples: list[str] = field(default_factory=list)

    @property
    def key(self) -> tuple[str, str | None, str]:
        """What makes two findings the same one."""
        return (self.rule, self.operation, self.message)

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready form (also the wire form between workers and the master)."""
        return {
            "rule": self.rule,
            "operation": self.operation,
            "message": self.message,
            "count": self.count,
            "first_seen": self.first_seen,
            "examples": list(self.examples),
        }

    def __str__(self) -> str:
        where = f"{self.operation}: " if self.operation else ""
        times = f" ({self.count}x)" if self.count > 1 else ""
        return f"{self.rule}: {where}{self.message}{times}"


class FindingLog:
    """Findings grouped by key; `add` one occurrence, `merge` another log's dicts, `drain` the news."""

    def __init__(self) -> None:
        self._all: dict[tuple[str, str | None, str], Finding] = {}
        self._fresh: dict[tuple[str, str | None, str], Finding] = {}
        self._distinct: dict[tuple[str, str | None], int] = {}

    def add(self, rule: str, operation: str | None, message: str, example: str = "", count: int = 1) -> None:
        """Record `count` occurrences of one finding, with an example (a request line and what came back)."""
        if (rule, operation, message) not in self._all and self._distinct.get((rule, operation), 0) >= DISTINCT:
            message = OTHERS
        elif (rule, operation, message) not in self._all:
            self._distinct[(rule, operation)] = self._distinct.get((rule, operation), 0) + 1
        for table in (self._all, self._fresh):
            found = table.get((rule, operation, message))
            if found is None:
                found = table[(rule, operation, message)] = Finding(rule, operation, message, first_seen=time.time())
            found.count += count
            if example and len(found.examples) < EXAMPLES:
                found.examples.append(example)

    def merge(self, items: list[dict[str, Any]]) -> None:
        """Add findings in their dict form (from `drain` of another process)."""
        for item in items:
            key = (str(item["rule"]), item.get("operation"), str(item["message"]))
            if key not in self._all and self._distinct.get(key[:2], 0) >= DISTINCT:
                key = (key[0], key[1], OTHERS)
            elif key not in self._all:
                self._distinct[key[:2]] = self._distinct.get(key[:2], 0) + 1
            found = self._all.get(key)
            if found is None:
                found = self._all[key] = Finding(*key, first_seen=float(item.get("first_seen") or time.time()))
            found.count += int(item.get("count", 1))
            found.first_seen = min(found.first_seen, float(item.get("first_seen") or found.first_seen))
            room = EXAMPLES - len(found.examples)
            found.examples += [str(e) for e in item.get("examples", [])[: max(room, 0)]]

    def drain(self) -> list[dict[str, Any]]:
        """The findings added since the last drain, as dicts (for the master)."""
        fresh, self._fresh = self._fresh, {}
        return [f.as_dict() for f in fresh.values()]

    def all(self) -> list[Finding]:
        """Every finding, most frequent first."""
        return sorted(self._all.values(), key=lambda f: (-f.count, f.first_seen))

    def __len__(self) -> int:
        return len(self._all)
