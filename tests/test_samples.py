"""`interflex.samples`: the one builder of valid, plausible objects (suite, server tests, benchmarks, example)."""

from __future__ import annotations

import doctest

import pytest

import interflex.samples
from interflex.samples import ACTIVATION_FROM_OFFER, ANSWER_FROM_ACTIVATION, DEMO, KINDS, Samples, pick, sample
from interflex.validation import is_valid, validate


@pytest.mark.parametrize("kind", KINDS)
def test_every_kind_is_valid_and_plausible(kind: str) -> None:
    findings = validate(sample(kind), KINDS[kind])
    assert is_valid(findings), findings
    assert sample(KINDS[kind]).keys() == sample(kind).keys()  # the schema name works as well


def test_references_copy_what_plausibility_needs() -> None:
    offer = sample("offer")
    activation = DEMO.activation(offer, flexible_power=40)
    assert pick(activation, ACTIVATION_FROM_OFFER) == {**pick(offer, ACTIVATION_FROM_OFFER), "flexible_power": 40}
    nack = DEMO.answer("nack", activation, reason="busy")
    assert pick(nack, ANSWER_FROM_ACTIVATION) == pick(activation, ANSWER_FROM_ACTIVATION)
    assert nack["reason"] == "busy" and is_valid(validate(nack, "FlexibilityActivationNack"))


def test_platform_values_and_ids_come_from_the_builder() -> None:
    words: list[str] = []
    samples = Samples("region-9", "MW", "CHF", aggregator="agg7", new_id=lambda word: words.append(word) or "id-1")
    offer = samples.build("offer")
    assert (offer["region_id"], offer["unit"], offer["currency"], offer["entity_id"]) == (
        "region-9",
        "MW",
        "CHF",
        "agg7",
    )
    assert offer["offer_id"] == "id-1" and words == ["off"]
    samples.build("ack", offer_id="o-1")
    assert words == ["off", "ack"]  # a given offer_id takes no fresh id
    assert sample("request")["request_id"] != sample("request")["request_id"]


def test_unknown_kind_is_a_value_error() -> None:
    with pytest.raises(ValueError, match="unknown kind 'offers'"):
        sample("offers")


def test_doctest() -> None:
    assert doctest.testmod(interflex.samples).failed == 0
