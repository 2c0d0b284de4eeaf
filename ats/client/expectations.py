"""What each client test case expects (the arguments of `ClientRun.expect`), as data: the test functions
of `ats/client/cases` and `case_verdicts` read the same table."""

from __future__ import annotations

from typing import Any

from ats.client import goals

ALTERNATIVES = ("alternatives-a", "alternatives-b")
DSO_PLAIN = ("ack", "nack")
AGGREGATOR_PLAIN = ("plain", "short-notice")

EXPECTATIONS: dict[str, tuple[dict[str, Any], ...]] = {
    "IFX-CL-AUTH-001": ({"checks": ("token-request",)},),
    "IFX-CL-AUTH-002": ({"checks": ("bearer",)},),
    "IFX-CL-AUTH-003": ({"checks": ("token-cycle",), "goal_in": ("tokens",)},),
    "IFX-CL-MSG-001": ({"checks": ("path",)},),
    "IFX-CL-MSG-002": ({"checks": ("body",)},),
    "IFX-CL-MSG-003": ({"checks": ("plausible",)},),
    "IFX-CL-MSG-004": ({"checks": ("ids",)},),
    "IFX-CL-MSG-005": ({"checks": ("conflict",), "goal_in": ("409",)},),
    "IFX-CL-RES-001": ({"checks": ("repeat",), "goal_in": ("503",)},),
    "IFX-CL-RES-002": (
        {"checks": ("repeat",), "goal_in": ("dropped",)},
        {"scenarios": ("dropped",), "verify": goals.stored_once},
    ),
    "IFX-CL-RES-003": ({"checks": ("repeat-4xx",)}, {"scenarios": ("400",), "verify": goals.posted}),
    "IFX-CL-RES-004": ({"goal_in": ALTERNATIVES},),
    "IFX-CL-NEG-001": ({"role": "dso", "scenarios": DSO_PLAIN, "verify": goals.dso_request},),
    "IFX-CL-NEG-002": (
        {"role": "dso", "scenarios": DSO_PLAIN, "verify": goals.dso_activations},
        {"role": "dso", "checks": ("neg-activate",)},
    ),
    "IFX-CL-NEG-003": ({"role": "dso", "scenarios": DSO_PLAIN, "verify": goals.dso_answers_read},),
    "IFX-CL-NEG-004": (
        {"role": "aggregator", "scenarios": AGGREGATOR_PLAIN, "verify": goals.aggregator_offers},
        {"role": "aggregator", "checks": ("neg-offer",)},
    ),
    "IFX-CL-NEG-005": (
        {"role": "aggregator", "scenarios": AGGREGATOR_PLAIN, "verify": goals.aggregator_answers},
        {"role": "aggregator", "checks": ("neg-answer",)},
    ),
    "IFX-CL-REC-001": ({"checks": ("polling",)},),
    "IFX-CL-REC-002": ({"checks": ("valid-at",)},),
    "IFX-CL-REC-003": ({"checks": ("tries",)},),
}
