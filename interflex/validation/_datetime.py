"""RFC 3339 section 5.6 `date-time` parsing into comparable instants (PROFILE.md P-01).

Python's `datetime` cannot hold every valid RFC 3339 string: leap seconds (`23:59:60Z`),
more than six fraction digits, or year 0000/9999 shifted by an offset out of its range.
`rfc3339_instant` parses without `datetime`, so plausibility rules and the date filter can
compare any valid string exactly. It accepts exactly what the validator's engine
(jsonschema-rs `format: date-time`) accepts; `tests/test_validation_datetime.py` checks that.
"""

from __future__ import annotations

import re
from functools import lru_cache
from typing import NamedTuple

_DATE_TIME = re.compile(
    r"(\d{4})-(\d{2})-(\d{2})[Tt](\d{2}):(\d{2}):(\d{2})(?:\.(\d+))?(?:[Zz]|([+-])(\d{2}):(\d{2}))",
    re.ASCII,
)
_DAYS_IN_MONTH = (31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31)


class Instant(NamedTuple):
    """A point in time that orders correctly, leap seconds and long fractions included.

    `minute` counts UTC minutes from 0000-03-01, `second` is 0..60 (60: leap second),
    `fraction` the fraction digits without trailing zeros (compared as strings, which
    orders decimal fractions correctly once trailing zeros are gone).
    """

    minute: int
    second: int
    fraction: str


def _is_leap_year(year: int) -> bool:
    return year % 4 == 0 and (year % 100 != 0 or year % 400 == 0)


def _days_from_civil(year: int, month: int, day: int) -> int:
    """Days since 0000-03-01 of a proleptic Gregorian date (H. Hinnant's algorithm)."""
    year -= month <= 2
    era, year_of_era = divmod(year, 400)
    day_of_year = (153 * (month + (-3 if month > 2 else 9)) + 2) // 5 + day - 1
    day_of_era = year_of_era * 365 + year_of_era // 4 - year_of_era // 100 + day_of_year
    return era * 146097 + day_of_era


def rfc3339_instant(value: object) -> Instant | None:
    """Parse an RFC 3339 `date-time`; None when `value` is not one (P-01).

    Rules: `T`/`t` between date and time, `Z`/`z` or `+hh:mm`/`-hh:mm` offset (`-00:00` is
    UTC), any number of fraction digits, a real calendar date (2026-02-30 is invalid),
    hours 00-23, minutes 00-59, second 60 only where the time in UTC is 23:59:60
    (a leap second, RFC 3339 section 5.7; which days really had one is not checked).
    """
    return _parse(value) if isinstance(value, str) else None


@lru_cache(maxsize=4096)  # captures repeat the same deadlines and activation times
def _parse(value: str) -> Instant | None:
    found = _DATE_TIME.fullmatch(value)
    if found is None:
        return None
    year_text, month_text, day_text, hour_text, minute_text, second_text, fraction, sign, off_hour, off_minute = (
        found.groups()
    )
    year, month, day = int(year_text), int(month_text), int(day_text)
    hour, minute, second = int(hour_text), int(minute_text), int(second_text)
    if not 1 <= month <= 12 or day < 1:
        return None
    if day > (29 if month == 2 and _is_leap_year(year) else _DAYS_IN_MONTH[month - 1]):
        return None
    if hour > 23 or minute > 59 or second > 60:
        return None
    offset = 0
    if sign:
        offset_hours, offset_minutes = int(off_hour), int(off_minute)
        if offset_hours > 23 or offset_minutes > 59:
            return None
        offset = offset_hours * 60 + offset_minutes if sign == "+" else -(offset_hours * 60 + offset_minutes)
    utc_minute = _days_from_civil(year, month, day) * 1440 + hour * 60 + minute - offset
    if second == 60 and utc_minute % 1440 != 1439:
        return None
    return Instant(utc_minute, second, fraction.rstrip("0") if fraction else "")
