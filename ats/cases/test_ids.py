"""core-ids: the id getters R1, O1, V1, K1, N1 (PROFILE.md section 2, ID-1, P-05)."""

from __future__ import annotations

import pytest

from ats.cases._resources import RESOURCES, expect_posted, post
from ats.checks import expect_schema, expect_status
from ats.session import Api
from ats.verdicts import Failure
from interflex.profile import ID_FIELDS, OPERATIONS, OPERATIONS_BY_ID, is_valid_id

GETTERS = [op for op in OPERATIONS if op.action == "new_id"]
CALLS = 12  # ids fetched per getter for the freshness check
KIND_OF = {"R1": "request", "O1": "offer", "V1": "activation", "K1": "ack", "N1": "nack"}


def _new_id(api: Api, op_id: str) -> str:
    op = next(o for o in GETTERS if o.id == op_id)
    ex = api.call(op_id)  # status, Content-Type, IdResponse schema and id field are checked by the call
    if ex.status != 200:
        raise Failure(f'{op_id}, P-05: the id getter answers 200 {{"{ID_FIELDS[op.kind]}": ...}}; {ex.describe()}')
    value = ex.json()[ID_FIELDS[op.kind]]
    if not is_valid_id(value):
        raise Failure(f"{op_id}, PROFILE 4: the returned id must match the id pattern; got {value!r}")
    return value


@pytest.mark.case("IFX-IDS-001")
@pytest.mark.parametrize("op_id", [op.id for op in GETTERS])
def test_id_getter_answers_id_response(api: Api, op_id: str) -> None:
    """R1/O1/V1/K1/N1, P-05, ST-10: 200 with an IdResponse holding exactly its id field, a valid id."""
    _new_id(api, op_id)


@pytest.mark.case("IFX-IDS-002")
@pytest.mark.parametrize("op_id", [op.id for op in GETTERS])
def test_ids_are_fresh(api: Api, op_id: str) -> None:
    """ID-1: every call returns an id never returned before."""
    seen: list[str] = [_new_id(api, op_id) for _ in range(CALLS)]
    repeated = sorted({v for v in seen if seen.count(v) > 1})
    if repeated:
        raise Failure(
            f"ID-1: each id returned by {op_id} is new; {CALLS} calls returned {len(set(seen))} distinct "
            f"ids, repeated: {repeated[:5]}"
        )


@pytest.mark.case("IFX-IDS-003")
@pytest.mark.parametrize("op_id", [op.id for op in GETTERS])
def test_fetched_id_can_be_used(api: Api, op_id: str) -> None:
    """ID-1: an id from the getter is not taken: an object posted with it is stored; the next id differs."""
    kind = KIND_OF[op_id]
    res = RESOURCES[kind]
    obj = api.prepare(kind)
    obj[res.id_field] = _new_id(api, op_id)
    expect_posted(post(api, res, obj), res, obj)
    following = _new_id(api, op_id)
    if following == obj[res.id_field]:
        raise Failure(
            f"ID-1: an id getter never returns the id of a stored object; {op_id} returned "
            f"{following!r} again after an object with it was stored"
        )


@pytest.mark.case("IFX-IDS-004")
@pytest.mark.parametrize("op_id", ["O1", "K1", "N1"])
def test_ids_are_unique_across_aggregators(api: Api, op_id: str) -> None:
    """ID-1, PROFILE 2: ids are unique per kind across all paths, so two aggregators never get the same id."""
    field = ID_FIELDS[OPERATIONS_BY_ID[op_id].kind]
    seen = []
    for role in ("agg1", "agg2"):
        for _ in range(CALLS // 2):
            ex = api.call(op_id, path={"agg": api.entity(role)})
            expect_status(ex, 200, f"{op_id}, P-05", f'{role} gets {{"{field}": ...}} from its id getter')
            seen.append(expect_schema(ex, "IdResponse", ref=f"{op_id}, P-05, ST-10")[field])
    if len(set(seen)) != len(seen):
        raise Failure(
            f"ID-1: ids are unique per kind across all paths; {op_id} for agg1 and agg2 returned "
            f"{len(seen)} ids with repeats: {sorted({v for v in seen if seen.count(v) > 1})[:5]}"
        )
