"""Valid, plausible sample objects of PROFILE.md section 4: the one builder used by the conformance
suite (`ats.session.Api.build`), the server tests, the benchmarks and the examples.

>>> sample("offer", offer_id="o-1")["entity_id"]
'agg1'
>>> Samples(unit="MW").activation({**sample("offer"), "offer_id": "o-1"})["offer_id"]
'o-1'
"""

from __future__ import annotations

import secrets
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

# Short kind names, with the schema names they stand for.
KINDS: dict[str, str] = {
    "request": "FlexibilityRequest",
    "offer": "FlexibilityOffer",
    "activation": "FlexibilityActivation",
    "ack": "FlexibilityActivationAck",
    "nack": "FlexibilityActivationNack",
}
CET = timezone(timedelta(hours=1))
# Fields an activation copies from the offer it activates, and an ACK/NACK from its activation
# (so that PL-5 and PL-7 hold).
ACTIVATION_FROM_OFFER = (
    "offer_id",
    "flexible_power",
    "granularity",
    "duration",
    "unit",
    "activation_time",
    "flex_price",
    "flex_type",
    "currency",
)
ANSWER_FROM_ACTIVATION = (
    "offer_id",
    "activation_id",
    "flexible_power",
    "granularity",
    "duration",
    "unit",
    "activation_time",
)
_ID_WORDS = {"request": "req", "offer": "off", "activation": "act", "ack": "ack", "nack": "nack"}


def short_kind(kind: str) -> str:
    """`offer` for "offer" or "FlexibilityOffer"; ValueError for anything else."""
    if kind in KINDS:
        return kind
    for short, full in KINDS.items():
        if kind == full:
            return short
    raise ValueError(f"unknown kind {kind!r}; expected one of {', '.join(KINDS)}")


def timestamp(delta: timedelta = timedelta(0), tz: timezone = CET) -> str:
    """RFC 3339 time `delta` from now, whole seconds, with an explicit offset (CET by default, P-01)."""
    return (datetime.now(UTC) + delta).astimezone(tz).replace(microsecond=0).isoformat()


def pick(obj: dict[str, Any], fields: tuple[str, ...]) -> dict[str, Any]:
    """The named fields of `obj` (the ones a referring object copies)."""
    return {k: obj[k] for k in fields}


def random_id(word: str) -> str:
    """A fresh valid id: `word`, a dash and 64 random bits."""
    return f"{word}-{secrets.token_hex(8)}"


@dataclass(frozen=True)
class Samples:
    """Builds objects for one platform: its region, unit and currency, the aggregator whose offers
    they are by default, and where fresh ids come from (`new_id(word)`)."""

    region_id: str = "region-1"
    unit: str = "kW"
    currency: str = "EUR"
    aggregator: str = "agg1"
    new_id: Callable[[str], str] = random_id

    def build(self, kind: str, **overrides: Any) -> dict[str, Any]:
        """A valid, plausible object of `kind` ("offer" or "FlexibilityOffer", ...) with `overrides`.

        Times are now (CET), deadlines a day ahead, activation times two hours ahead (PL-1, PL-2, PL-6),
        granularity ≤ flexible_power (PL-3). Activations, ACKs and NACKs refer to `offer_id` (and an
        ACK/NACK to `activation_id`) of `overrides`; without one, a fresh offer id is made.
        """
        kind = short_kind(kind)
        common = {"timestamp": timestamp(), "unit": self.unit, "duration": 900}
        if kind == "request":
            obj = {
                "request_id": self.new_id(_ID_WORDS[kind]),
                **common,
                "deadline": timestamp(timedelta(days=1)),
                "region_id": self.region_id,
                "flexible_power": 100,
            }
        elif kind == "offer":
            obj = {
                "offer_id": self.new_id(_ID_WORDS[kind]),
                "entity_id": self.aggregator,
                **common,
                "deadline": timestamp(timedelta(days=1)),
                "region_id": self.region_id,
                "flexible_power": 80,
                "granularity": 10,
                "activation_time": timestamp(timedelta(hours=2)),
                "flex_price": 12.5,
                "flex_type": "upward",
                "currency": self.currency,
            }
        else:
            base = {
                **common,
                "offer_id": overrides["offer_id"] if "offer_id" in overrides else self.new_id(_ID_WORDS["offer"]),
                "flexible_power": 80,
                "granularity": 10,
                "activation_time": timestamp(timedelta(hours=2)),
            }
            extra = {"flex_price": 12.5, "flex_type": "upward", "currency": self.currency}
            obj = {f"{kind}_id": self.new_id(_ID_WORDS[kind]), **base, **(extra if kind == "activation" else {})}
        obj.update(overrides)
        return obj

    def activation(self, offer: dict[str, Any], **overrides: Any) -> dict[str, Any]:
        """The activation of `offer`: its offer_id, power, unit, currency ... (PL-5 holds) with `overrides`."""
        return self.build("activation", **{**pick(offer, ACTIVATION_FROM_OFFER), **overrides})

    def answer(self, kind: str, activation: dict[str, Any], **overrides: Any) -> dict[str, Any]:
        """The ACK or NACK (`kind`) of `activation`, citing it by activation_id (P-04, PL-7), with `overrides`."""
        return self.build(kind, **{**pick(activation, ANSWER_FROM_ACTIVATION), **overrides})


DEMO = Samples()


def sample(kind: str, **overrides: Any) -> dict[str, Any]:
    """A valid, plausible object of `kind` for the demo entities (agg1's offer, region-1, kW, EUR)."""
    return DEMO.build(kind, **overrides)
