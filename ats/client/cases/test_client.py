"""The client test cases (PROFILE.md section 11, CL-1 … CL-9): each judges the exchanges of one or more
scenarios of the client's role (ats/client/scenarios.py) and, where a scenario needs it, whether the client
completed its negotiation. Cases of the other role are N/A."""

from __future__ import annotations

import pytest

from ats.client.expectations import EXPECTATIONS
from ats.client.suite import Case


def expect(client: Case, case_id: str) -> None:
    """Judge the case as `ats.client.expectations` says."""
    for kwargs in EXPECTATIONS[case_id]:
        client.expect(**kwargs)


# -- client-auth ------------------------------------------------------------------------------------------
@pytest.mark.case("IFX-CL-AUTH-001")
def test_token_requests(client: Case) -> None:
    expect(client, "IFX-CL-AUTH-001")


@pytest.mark.case("IFX-CL-AUTH-002")
def test_bearer_token_on_every_resource_request(client: Case) -> None:
    expect(client, "IFX-CL-AUTH-002")


@pytest.mark.case("IFX-CL-AUTH-003")
def test_token_life_cycle(client: Case) -> None:
    expect(client, "IFX-CL-AUTH-003")


# -- client-messages --------------------------------------------------------------------------------------
@pytest.mark.case("IFX-CL-MSG-001")
def test_operations_and_paths_of_the_role(client: Case) -> None:
    expect(client, "IFX-CL-MSG-001")


@pytest.mark.case("IFX-CL-MSG-002")
def test_post_bodies_are_valid_objects(client: Case) -> None:
    expect(client, "IFX-CL-MSG-002")


@pytest.mark.case("IFX-CL-MSG-003")
def test_post_bodies_are_plausible(client: Case) -> None:
    expect(client, "IFX-CL-MSG-003")


@pytest.mark.case("IFX-CL-MSG-004")
def test_ids_are_never_reused(client: Case) -> None:
    expect(client, "IFX-CL-MSG-004")


@pytest.mark.case("IFX-CL-MSG-005")
def test_new_id_after_a_conflict(client: Case) -> None:
    expect(client, "IFX-CL-MSG-005")


# -- client-resilience ------------------------------------------------------------------------------------
@pytest.mark.case("IFX-CL-RES-001")
def test_repetition_after_a_503(client: Case) -> None:
    expect(client, "IFX-CL-RES-001")


@pytest.mark.case("IFX-CL-RES-002")
def test_repetition_after_a_broken_connection(client: Case) -> None:
    expect(client, "IFX-CL-RES-002")


@pytest.mark.case("IFX-CL-RES-003")
def test_no_unchanged_repetition_after_a_4xx(client: Case) -> None:
    expect(client, "IFX-CL-RES-003")


@pytest.mark.case("IFX-CL-RES-004")
def test_tolerates_every_option_of_the_platform(client: Case) -> None:
    expect(client, "IFX-CL-RES-004")


# -- client-negotiation -----------------------------------------------------------------------------------
@pytest.mark.case("IFX-CL-NEG-001")
def test_dso_posts_its_request_and_reads_the_offers(client: Case) -> None:
    expect(client, "IFX-CL-NEG-001")


@pytest.mark.case("IFX-CL-NEG-002")
def test_dso_activates_only_matching_offers(client: Case) -> None:
    expect(client, "IFX-CL-NEG-002")


@pytest.mark.case("IFX-CL-NEG-003")
def test_dso_reads_the_ack_or_nack(client: Case) -> None:
    expect(client, "IFX-CL-NEG-003")


@pytest.mark.case("IFX-CL-NEG-004")
def test_aggregator_answers_each_request_with_one_offer(client: Case) -> None:
    expect(client, "IFX-CL-NEG-004")


@pytest.mark.case("IFX-CL-NEG-005")
def test_aggregator_answers_each_activation_once(client: Case) -> None:
    expect(client, "IFX-CL-NEG-005")


# -- client-recommended -----------------------------------------------------------------------------------
@pytest.mark.case("IFX-CL-REC-001")
def test_polling_rate(client: Case) -> None:
    expect(client, "IFX-CL-REC-001")


@pytest.mark.case("IFX-CL-REC-002")
def test_valid_at_when_polling(client: Case) -> None:
    expect(client, "IFX-CL-REC-002")


@pytest.mark.case("IFX-CL-REC-003")
def test_at_most_five_tries(client: Case) -> None:
    expect(client, "IFX-CL-REC-003")
