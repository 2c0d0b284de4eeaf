"""RFC 3339 section 5.6 date-times (PROFILE.md P-01): what is accepted, and instants that order right.

`rfc3339_instant` (used by PL-1/PL-2) and the engine's `format: date-time` must agree on
every string, or a plausibility rule would silently skip a time the schema accepted.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import jsonschema_rs
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from interflex.validation import rfc3339_instant, validate

ENGINE = jsonschema_rs.Draft202012Validator({"type": "string", "format": "date-time"}, validate_formats=True)

ACCEPTED = [
    "2026-11-26T10:00:00Z",
    "2026-11-26T10:00:00+01:00",
    "2026-11-26t10:00:00z",  # lower-case t and z (P-01)
    "2026-11-26T10:00:00-00:00",  # "unknown local offset": UTC (RFC 3339 4.3)
    "2026-11-26T10:00:00.5Z",
    "2026-11-26T10:00:00.123456789012+05:30",  # any number of fraction digits
    "2024-02-29T00:00:00Z",  # leap day
    "2000-02-29T00:00:00Z",
    "2016-12-31T23:59:60Z",  # leap second at 23:59:60 UTC (RFC 3339 5.7)
    "2016-12-31T22:59:60-01:00",  # the same leap second in another offset
    "2026-11-26T23:59:60Z",  # leap seconds are not checked against the IERS table
    "0000-01-01T00:00:00+01:00",
    "9999-12-31T23:59:59-23:59",
]
REJECTED = [
    "2026-02-30T00:00:00Z",  # no such day
    "2100-02-29T00:00:00Z",  # not a leap year
    "2026-11-26T10:00:00",  # no offset (naive local time)
    "2026-11-26 10:00:00Z",  # space instead of T
    "2026-11-26T24:00:00Z",
    "2026-11-26T10:60:00Z",
    "2026-11-26T10:00:61Z",
    "2026-11-26T10:00:60Z",  # second 60 is not at 23:59 UTC
    "2016-12-31T23:59:60+01:00",  # 22:59:60 UTC
    "2026-11-26T10:00:00+24:00",
    "2026-11-26T10:00:00+01:60",
    "2026-11-26T10:00:00+0100",
    "2026-11-26T10:00:00+01",
    "2026-11-26T10:00:00+\u0661\u0660:00",  # Arabic-Indic digits in the offset
    "2026-11-26T10:00Z",
    "2026-11-26T10:00:00.Z",
    "2026-11-26T10:00:00,5Z",
    "2026-11-26T10:00:00Z\n",
    " 2026-11-26T10:00:00Z",
    "2026-11-26",
    "20261126T100000Z",
    "\uff12\uff10\uff12\uff16-11-26T10:00:00Z",  # fullwidth (non-ASCII) digits
    "",
]


@pytest.mark.parametrize("value", ACCEPTED)
def test_accepted_date_times(value: str) -> None:
    assert ENGINE.is_valid(value)
    assert rfc3339_instant(value) is not None
    request = {
        "request_id": "r",
        "timestamp": value,
        "deadline": "9999-12-31T23:59:59-23:59",
        "region_id": "x",
        "flexible_power": 1,
        "duration": 1,
        "unit": "W",
    }
    assert validate(request) == []


@pytest.mark.parametrize("value", REJECTED)
def test_rejected_date_times(value: str) -> None:
    assert not ENGINE.is_valid(value)
    assert rfc3339_instant(value) is None


@pytest.mark.parametrize("value", [None, 5, 1.5, True, ["2026-11-26T10:00:00Z"], b"2026-11-26T10:00:00Z"])
def test_non_strings_are_not_date_times(value: object) -> None:
    assert rfc3339_instant(value) is None


def test_instants_ignore_offset_and_trailing_zeros() -> None:
    assert rfc3339_instant("2026-11-26T10:00:00.500+01:00") == rfc3339_instant("2026-11-26t09:00:00.5z")
    assert rfc3339_instant("2026-11-26T09:00:00-00:00") == rfc3339_instant("2026-11-26T09:00:00Z")


def test_leap_second_sits_between_its_neighbours() -> None:
    before, leap, after = (
        rfc3339_instant(v) for v in ("2016-12-31T23:59:59.999999999Z", "2016-12-31T23:59:60Z", "2017-01-01T00:00:00Z")
    )
    assert before < leap < after
    assert rfc3339_instant("2016-12-31T23:59:60.5Z") > leap


_DIGITS = st.integers(min_value=0, max_value=99).map(lambda n: f"{n:02d}")
_NEAR_RFC3339 = st.builds(
    "{}-{}-{}{}{}:{}:{}{}{}".format,
    st.sampled_from(["2026", "2024", "2100", "2000", "0000", "9999", "1900"]),
    st.sampled_from(["01", "02", "04", "06", "12", "13", "00"]),
    st.sampled_from(["01", "28", "29", "30", "31", "32", "00"]),
    st.sampled_from(["T", "t", " ", "_"]),
    st.sampled_from(["00", "09", "22", "23", "24"]),
    st.sampled_from(["00", "29", "59", "60"]),
    st.sampled_from(["00", "30", "59", "60", "61"]),
    st.sampled_from(["", "", ".", ".5", ".000", ".123456789"]),
    st.sampled_from(
        [
            "Z",
            "z",
            "",
            "+00:00",
            "-00:00",
            "+01:00",
            "-01:00",
            "+05:30",
            "+23:59",
            "-23:59",
            "+24:00",
            "+01:60",
            "+0100",
            "Z\n",
        ]
    ),
)


@settings(max_examples=500, deadline=None)
@given(_NEAR_RFC3339)
def test_parser_agrees_with_the_engine(value: str) -> None:
    assert ENGINE.is_valid(value) == (rfc3339_instant(value) is not None)


@settings(max_examples=300, deadline=None)
@given(
    st.datetimes(min_value=datetime(2, 1, 1), max_value=datetime(9998, 12, 31)),
    st.datetimes(min_value=datetime(2, 1, 1), max_value=datetime(9998, 12, 31)),
    st.integers(min_value=-(24 * 60 - 1), max_value=24 * 60 - 1),
    st.integers(min_value=-(24 * 60 - 1), max_value=24 * 60 - 1),
)
def test_instants_order_like_datetimes(a: datetime, b: datetime, offset_a: int, offset_b: int) -> None:
    aware_a = a.replace(tzinfo=timezone(timedelta(minutes=offset_a)))
    aware_b = b.replace(tzinfo=timezone(timedelta(minutes=offset_b)))
    text_a, text_b = aware_a.isoformat(), aware_b.isoformat()
    instant_a, instant_b = rfc3339_instant(text_a), rfc3339_instant(text_b)
    assert instant_a is not None and instant_b is not None
    assert (instant_a < instant_b) == (aware_a.astimezone(UTC) < aware_b.astimezone(UTC))
    assert (instant_a == instant_b) == (aware_a == aware_b)
