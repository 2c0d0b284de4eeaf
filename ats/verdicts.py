"""Verdicts and their aggregation: pure Python, no pytest (PROFILE.md section 9).

A test item ends PASS, FAIL, INCONCLUSIVE or N/A. `aggregate_cases` folds the items of one test
case into one verdict; `summarize` folds cases into class verdicts and the overall verdict.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from interflex.profile import CONFORMANCE_CLASSES, MANDATORY, OPTIONAL

PASS = "PASS"
FAIL = "FAIL"
INCONCLUSIVE = "INCONCLUSIVE"
NA = "N/A"
VERDICTS: tuple[str, ...] = (PASS, FAIL, INCONCLUSIVE, NA)

CONFORMANT = "CONFORMANT"
NOT_CONFORMANT = "NOT CONFORMANT"

CAUSES: tuple[str, ...] = ("target", "environment", "precondition")


class Failure(AssertionError):
    """A finding about the target: the profile requires X, the target did Y (verdict FAIL)."""


class Inconclusive(Exception):
    """A precondition of a test could not be established (verdict INCONCLUSIVE).

    `cause` says why: "target" (the target misbehaved outside the tested requirement),
    "environment" (timeout, refused connection) or "precondition" (e.g. login failed).
    """

    def __init__(self, reason: str, cause: str = "precondition") -> None:
        if cause not in CAUSES:
            raise ValueError(f"unknown cause {cause!r}; expected one of {', '.join(CAUSES)}")
        super().__init__(reason)
        self.reason = reason
        self.cause = cause


def fold(verdicts: Iterable[str]) -> str:
    """One verdict for many: any FAIL, else any INCONCLUSIVE, else all N/A (or none) N/A, else PASS."""
    seen = set(verdicts)
    for verdict in (FAIL, INCONCLUSIVE):
        if verdict in seen:
            return verdict
    return NA if seen <= {NA} else PASS


def aggregate_cases(records: Iterable[Mapping[str, Any]]) -> dict[str, dict[str, Any]]:
    """One entry per test case id: its class, title, references, verdict, the reason of the
    first decisive item, total duration and the node ids of its items (in record order)."""
    cases: dict[str, dict[str, Any]] = {}
    for rec in records:
        case = cases.setdefault(
            rec["case"],
            {
                "case": rec["case"],
                "title": rec.get("title"),
                "class": rec.get("class"),
                "references": list(rec.get("references") or []),
                "verdicts": [],
                "items": [],
                "duration": 0.0,
                "reason": None,
                "cause": None,
            },
        )
        case["verdicts"].append(rec["verdict"])
        case["items"].append(rec.get("nodeid"))
        case["duration"] += float(rec.get("duration") or 0.0)
    for case in cases.values():
        case["verdict"] = fold(case.pop("verdicts"))
    for rec in records:
        case = cases[rec["case"]]
        if case["reason"] is None and rec["verdict"] == case["verdict"] and rec.get("reason"):
            case["reason"], case["cause"] = rec.get("reason"), rec.get("cause")
    return cases


@dataclass
class ClassSummary:
    """Verdict counts (per test case) of one conformance class and the class verdict."""

    gating: bool
    counts: dict[str, int] = field(default_factory=lambda: dict.fromkeys(VERDICTS, 0))
    verdict: str = NA

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready form."""
        return {"gating": self.gating, "counts": dict(self.counts), "verdict": self.verdict}


@dataclass
class Summary:
    """Class summaries and the overall verdict of a run."""

    classes: dict[str, ClassSummary]
    overall: str

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready form."""
        return {"overall": self.overall, "classes": {name: c.as_dict() for name, c in self.classes.items()}}


def is_gating(conformance_class: str, ics: Mapping[str, bool]) -> bool:
    """Mandatory classes and declared optional classes gate the overall verdict; `recommended` never."""
    gating = CONFORMANCE_CLASSES.get(conformance_class)
    return gating == MANDATORY or (gating == OPTIONAL and ics.get(conformance_class) is True)


def summarize(records: Iterable[Mapping[str, Any]], ics: Mapping[str, bool]) -> Summary:
    """Counts per class (in the profile's class order) and CONFORMANT exactly when every test case of
    every gating class passes (N/A only occurs in classes that do not gate)."""
    cases = aggregate_cases(list(records))
    order = {name: i for i, name in enumerate(CONFORMANCE_CLASSES)}
    classes: dict[str, ClassSummary] = {}
    per_class: dict[str, list[str]] = {}
    for case in sorted(cases.values(), key=lambda c: (order.get(c["class"], len(order)), c["case"])):
        per_class.setdefault(case["class"], []).append(case["verdict"])
    for name, verdicts in per_class.items():
        summary = ClassSummary(gating=is_gating(name, ics))
        for verdict in verdicts:
            summary.counts[verdict] += 1
        summary.verdict = fold(verdicts)
        classes[name] = summary
    conformant = all(c.verdict in (PASS, NA) for c in classes.values() if c.gating)
    return Summary(classes=classes, overall=CONFORMANT if conformant else NOT_CONFORMANT)
