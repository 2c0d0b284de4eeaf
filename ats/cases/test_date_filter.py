"""Date filter: DF-1 on R3 and O3 (PROFILE.md section 7, finding 004; optional class `date-filter`).

Three objects with deadlines 25 h, 26 h and 27 h ahead are created; `valid_at` equal to the middle
deadline (as an instant, written with any offset) must return the middle and the late one and not
the early one. Malformed, empty or repeated `valid_at` values answer 400.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest

from ats.checks import expect_status, find
from ats.session import Api
from ats.verdicts import Failure
from interflex.samples import CET

LIST_OP = {"request": "R3", "offer": "O3"}
ID_FIELD = {"request": "request_id", "offer": "offer_id"}
REJECTED = (400, 422)  # DF-1 names 400; ST-1 lets 422 conform for any value out of range
kinds = pytest.mark.parametrize("kind", ["request", "offer"])


def create_three(api: Api, kind: str) -> tuple[list[str], datetime]:
    """Objects of `kind` with deadlines 25 h, 26 h, 27 h ahead; return their ids and the middle deadline."""
    base = (datetime.now(UTC) + timedelta(hours=25)).replace(microsecond=0)
    ids = []
    for hours in (0, 1, 2):
        deadline = (base + timedelta(hours=hours)).astimezone(CET).isoformat()
        if kind == "request":
            obj = api.create_request(deadline=deadline)
        else:
            obj = api.create_offer("agg1", deadline=deadline)
        ids.append(obj[ID_FIELD[kind]])
    return ids, base + timedelta(hours=1)


def check_filtered(api: Api, kind: str, ids: list[str], valid_at: str, expected: tuple[bool, bool, bool]) -> None:
    """List `kind` as the DSO with `valid_at`; FAIL unless exactly the `expected` ones of `ids` are returned."""
    items: list[Any] = api.list(kind, as_="dso", query={"valid_at": valid_at})
    for obj_id, wanted, label in zip(ids, expected, ("25 h", "26 h", "27 h"), strict=True):
        present = find(items, ID_FIELD[kind], obj_id) is not None
        if present != wanted:
            verb = "must be returned" if wanted else "must not be returned"
            raise Failure(
                f"DF-1: with valid_at={valid_at}, only objects whose deadline >= valid_at are returned; "
                f"{LIST_OP[kind]} {'omitted' if wanted else 'returned'} {obj_id!r} (deadline in {label}), "
                f"which {verb}"
            )


@pytest.mark.case("IFX-DATE-001")
@kinds
def test_filter_by_deadline(api: Api, kind: str) -> None:
    """DF-1: valid_at equal to a deadline keeps it (>=) and later ones, drops earlier ones; no filter keeps all."""
    ids, middle = create_three(api, kind)
    check_filtered(api, kind, ids, middle.astimezone(CET).isoformat(), (False, True, True))
    items = api.list(kind, as_="dso")
    missing = [i for i in ids if find(items, ID_FIELD[kind], i) is None]
    if missing:
        raise Failure(
            f"DF-1, ST-9: without valid_at every stored object is returned; {LIST_OP[kind]} omitted "
            f"{', '.join(missing)}"
        )


@pytest.mark.case("IFX-DATE-002")
@kinds
def test_filter_offsets(api: Api, kind: str) -> None:
    """DF-1, P-01: valid_at compares as an instant; `+hh:mm` offsets arrive percent-encoded (%2B)."""
    ids, middle = create_three(api, kind)
    plus = middle.astimezone(timezone(timedelta(hours=5, minutes=30))).isoformat()
    check_filtered(api, kind, ids, plus, (False, True, True))
    just_after = (middle + timedelta(seconds=1)).astimezone(timezone(timedelta(hours=-3, minutes=-30))).isoformat()
    check_filtered(api, kind, ids, just_after, (False, False, True))
    utc = (middle - timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M:%SZ")
    check_filtered(api, kind, ids, utc, (True, True, True))


BAD_VALUES = [
    "yesterday",
    "2030-02-30T00:00:00Z",
    "2030-01-01T00:00:00",
    "2030-01-01",
    "2030-01-01 00:00:00Z",
    "2030-01-01T00:00:00+0100",
    "1893456000",
]


def expect_rejected(api: Api, kind: str, query: list[tuple[str, str]] | None, what: str, raw: str = "") -> None:
    """FAIL unless the list answers 400 (422 conforms) for this `valid_at`."""
    if raw:
        path = (
            "/dsos/{}/flexibilityRequests".format(api.entity("dso"))
            if kind == "request"
            else "/aggregators/flexibilityOffers"
        )
        ex = api.raw("GET", path + raw, as_="dso")
    else:
        ex = api.call(LIST_OP[kind], as_="dso", query=query)
    expect_status(ex, REJECTED, "DF-1", f"{what} valid_at must answer 400")


@pytest.mark.case("IFX-DATE-003")
@kinds
def test_malformed_valid_at(api: Api, kind: str) -> None:
    """DF-1: a valid_at that is not an RFC 3339 date-time with offset answers 400."""
    for value in BAD_VALUES:
        expect_rejected(api, kind, [("valid_at", value)], f"a malformed ({value!r})")


@pytest.mark.case("IFX-DATE-004")
@kinds
def test_empty_valid_at(api: Api, kind: str) -> None:
    """DF-1: an empty valid_at (`valid_at=` or a bare `valid_at`) answers 400."""
    expect_rejected(api, kind, [("valid_at", "")], "an empty")
    expect_rejected(api, kind, None, "an empty (bare `valid_at`)", raw="?valid_at")


@pytest.mark.case("IFX-DATE-005")
@kinds
def test_repeated_valid_at(api: Api, kind: str) -> None:
    """DF-1: valid_at given twice (the same or different values) answers 400."""
    first = (datetime.now(UTC) + timedelta(hours=1)).replace(microsecond=0)
    one, two = first.isoformat(), (first + timedelta(hours=1)).isoformat()
    expect_rejected(api, kind, [("valid_at", one), ("valid_at", one)], "a repeated (same value)")
    expect_rejected(api, kind, [("valid_at", one), ("valid_at", two)], "a repeated (two values)")
