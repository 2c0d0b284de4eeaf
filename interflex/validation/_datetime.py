"""RFC 3339 section 5.6 `date-time` parsing into comparable instants (PROFILE.md P-01).

Python's `datetime` cannot hold every valid RFC 3339 string: leap seconds (`23:59:60Z`),
more than six fraction digits, or year 0000/9999 shifted by an offset out of its range.
`rfc3339_instant` parses without `datetime`, so plausibility rules and the date filter can
compare any valid string exactly. It accepts exactly what the validator's engine
(jsonschema-rs `format: date-time`) accepts; `tests/test_validation_datetime.py` checks that.
"""

from __future__ import annotations

import re
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
    if not isinstance(value, str):
        return None
    found = _DATE_TIME.fullmatch(value)
    if found is None:
        return None
    year, month, day, hour, minute, second = (int(found.group(i)) for i in range(1, 7))
    fraction, sign, off_hour, off_minute = found.group(7, 8, 9, 10)
    if not 1 <= month <= 12 or day < 1:
        return None
    if day > (29 if month == 2 and _is_leap_year(year) else _DAYS_IN_MONTH[month - 1]):
        return None
    if hour > 23 or minute > 59 or second > 60:
        return None
    offset = 0
    if sign:
        if int(off_hour) > 23 or int(off_minute) > 59:
            return None
        offset = (int(off_hour) * 60 + int(off_minute)) * (1 if sign == "+" else -1)
    utc_minute = _days_from_civil(year, month, day) * 1440 + hour * 60 + minute - offset
    if second == 60 and utc_minute % 1440 != 1439:
        return None
    return Instant(utc_minute, second, (fraction or "").rstrip("0"))
