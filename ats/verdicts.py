"""Verdicts and their aggregation: pure Python, no pytest (PROFILE.md section 9).

A test item ends PASS, FAIL, INCONCLUSIVE or N/A. `aggregate_cases` folds the items of one test
case into one verdict; `summarize` folds cases into class verdicts and the overall verdict. The overall
verdict is CONFORMANT only for a complete run: every catalog test case of every gating class has
records, every collected item ran, and no error happened outside the test cases (issue 5).

Waivers (issue 12): in a complete run, the FAIL items of a case under a valid waiver count as WAIVED,
a verdict of its own; a run whose gating cases all pass except WAIVED ones is CONFORMANT WITH WAIVERS.
A waiver never turns an INCONCLUSIVE into anything else and never applies to an incomplete run.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from interflex.profile import CLIENT_CLASSES, CONFORMANCE_CLASSES, MANDATORY, OPTIONAL

PASS = "PASS"
FAIL = "FAIL"
INCONCLUSIVE = "INCONCLUSIVE"
NA = "N/A"
WAIVED = "WAIVED"
VERDICTS: tuple[str, ...] = (PASS, FAIL, WAIVED, INCONCLUSIVE, NA)

CONFORMANT = "CONFORMANT"
CONFORMANT_WITH_WAIVERS = "CONFORMANT WITH WAIVERS"
NOT_CONFORMANT = "NOT CONFORMANT"
PASSING: tuple[str, ...] = (CONFORMANT, CONFORMANT_WITH_WAIVERS)  # overall verdicts that exit 0

CAUSES: tuple[str, ...] = ("target", "environment", "precondition")

DESELECTED = "deselected"  # a gating test case was not selected (--ats-class, -k, -m)
NOT_RUN = "not run"  # selected or collected, but the run stopped before it (-x, --maxfail, interrupt)


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
    """One verdict for many: any FAIL, else any INCONCLUSIVE, else any WAIVED, else all N/A (or none) N/A,
    else PASS."""
    seen = set(verdicts)
    for verdict in (FAIL, INCONCLUSIVE, WAIVED):
        if verdict in seen:
            return verdict
    return NA if seen <= {NA} else PASS


def item_verdict(rec: Mapping[str, Any], waived: Collection[str] = ()) -> str:
    """The verdict of one test item: its record's, except that a FAIL of a waived case is WAIVED."""
    return WAIVED if rec["verdict"] == FAIL and rec["case"] in waived else rec["verdict"]


def aggregate_cases(records: Iterable[Mapping[str, Any]], waived: Collection[str] = ()) -> dict[str, dict[str, Any]]:
    """One entry per test case id: its class, title, references, verdict, the reason of the
    first decisive item, total duration and the node ids of its items (in record order).
    `waived`: case ids under a valid waiver (their FAIL items count as WAIVED)."""
    records = list(records)
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
        case["verdicts"].append(item_verdict(rec, waived))
        case["items"].append(rec.get("nodeid"))
        case["duration"] += float(rec.get("duration") or 0.0)
    for case in cases.values():
        case["verdict"] = fold(case.pop("verdicts"))
    for rec in records:
        case = cases[rec["case"]]
        if case["reason"] is None and item_verdict(rec, waived) == case["verdict"] and rec.get("reason"):
            case["reason"], case["cause"] = rec.get("reason"), rec.get("cause")
    return cases


def merge_record(old: Mapping[str, Any], new: Mapping[str, Any]) -> dict[str, Any]:
    """One record for one test item from its decisive record and a later one (a failed teardown):
    the folded verdict, and the reason, cause and exchanges of the record that decided it."""
    merged = dict(old)
    verdict = fold([old["verdict"], new["verdict"]])
    if verdict != old["verdict"]:
        merged.update(verdict=verdict, reason=new.get("reason"), cause=new.get("cause"))
    merged["duration"] = float(old.get("duration") or 0.0) + float(new.get("duration") or 0.0)
    if len(new.get("exchanges") or []) > len(old.get("exchanges") or []):
        merged["exchanges"] = list(new["exchanges"])
    return merged


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
    """Class summaries and the overall verdict of a run.

    `complete` is False when a gating test case or a collected item did not run; `not_run` lists them
    (`{"case": id | None, "nodeid": str | None, "reason": "deselected" | "not run"}`); `errors` are
    pytest errors outside the verdict of a test case (collection errors, failed teardowns, failing
    non-suite tests, internal errors); `interrupted` says the run stopped early (interrupt, -x).
    """

    classes: dict[str, ClassSummary]
    overall: str
    complete: bool = True
    not_run: list[dict[str, Any]] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    interrupted: bool = False
    waived: list[str] = field(default_factory=list)  # case ids whose verdict a waiver made WAIVED

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready form."""
        return {
            "overall": self.overall,
            "complete": self.complete,
            "interrupted": self.interrupted,
            "not_run": [dict(entry) for entry in self.not_run],
            "errors": list(self.errors),
            "waived": list(self.waived),
            "classes": {name: c.as_dict() for name, c in self.classes.items()},
        }


def is_gating(conformance_class: str, ics: Mapping[str, bool]) -> bool:
    """Mandatory classes and declared optional classes gate the overall verdict; `recommended` never.
    The client classes (`CLIENT_CLASSES`) gate the same way in a client run."""
    gating = CONFORMANCE_CLASSES.get(conformance_class) or CLIENT_CLASSES.get(conformance_class)
    return gating == MANDATORY or (gating == OPTIONAL and ics.get(conformance_class) is True)


def catalog_classes() -> dict[str, str]:
    """Test case id -> conformance class of the bundled catalog (`ats/catalog.yaml`)."""
    from ats.catalog import catalog

    return {case_id: case.conformance_class for case_id, case in catalog().items()}


def summarize(
    records: Iterable[Mapping[str, Any]],
    ics: Mapping[str, bool],
    *,
    expected: Mapping[str, str] | None = None,
    unrun_items: Iterable[str] = (),
    deselected: Iterable[Mapping[str, str]] = (),
    errors: Iterable[str] = (),
    interrupted: bool = False,
    waivers: Collection[str] = (),
) -> Summary:
    """Counts per class (in the profile's class order) and the overall verdict: CONFORMANT exactly when
    the run is complete, no error happened outside the test cases, and every test case of every gating
    class passes (N/A only occurs in classes that do not gate).

    `expected` maps every test case id of the suite to its class (default: the bundled catalog); a gating
    case without records makes the run partial. `unrun_items` are node ids that were collected but never
    ran; `deselected` are deselected items (`{"nodeid", "case", "class"}`), partial when gating;
    `errors` are pytest errors outside the test cases; `interrupted`: the run stopped early.
    `waivers` are the case ids under a valid (unexpired) waiver; they apply only to a complete run.
    """
    records = list(records)
    cases = aggregate_cases(records)
    expected = catalog_classes() if expected is None else expected
    unrun = sorted(set(unrun_items))
    dropped = {d["nodeid"]: d for d in deselected if is_gating(d["class"], ics)}
    dropped_cases = {d["case"] for d in dropped.values()}
    not_run: list[dict[str, Any]] = [
        {"case": case_id, "nodeid": None, "reason": DESELECTED if case_id in dropped_cases else NOT_RUN}
        for case_id, cls in sorted(expected.items())
        if case_id not in cases and is_gating(cls, ics)
    ]
    not_run += [
        {"case": None, "nodeid": nodeid, "reason": DESELECTED}
        for nodeid, d in sorted(dropped.items())
        if d["case"] in cases  # items of a case that ran only in part (e.g. -k on parametrized items)
    ]
    not_run += [{"case": None, "nodeid": nodeid, "reason": NOT_RUN} for nodeid in unrun]
    complete = not not_run and not interrupted
    if complete and waivers:
        cases = aggregate_cases(records, waived=waivers)
    order = {name: i for i, name in enumerate([*CONFORMANCE_CLASSES, *CLIENT_CLASSES])}
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
    errors = list(errors)
    passed = all(c.verdict in (PASS, NA, WAIVED) for c in classes.values() if c.gating)
    with_waivers = any(c.counts[WAIVED] for c in classes.values() if c.gating)
    overall = NOT_CONFORMANT
    if passed and complete and not errors:
        overall = CONFORMANT_WITH_WAIVERS if with_waivers else CONFORMANT
    return Summary(
        classes=classes,
        overall=overall,
        complete=complete,
        not_run=not_run,
        errors=errors,
        interrupted=interrupted,
        waived=sorted(c["case"] for c in cases.values() if c["verdict"] == WAIVED),
    )
