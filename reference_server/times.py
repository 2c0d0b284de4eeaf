"""RFC 3339 date-times (P-01) as sortable keys, and the `valid_at` query parameter (DF-1).

Parsing is `interflex.validation.rfc3339_instant` (exact for leap seconds and long fractions);
`instant_key` turns its result into a string that SQLite orders like the instants.
"""

from __future__ import annotations

import re
import time
from datetime import UTC, datetime
from urllib.parse import parse_qsl

from interflex.validation import rfc3339_instant

_MINUTE_BIAS = 10**9  # keeps the minute count positive (year 0000 shifted by an offset) for fixed-width keys
_RFC3339 = re.compile(r"\d{4}-\d{2}-\d{2}[Tt]\d{2}:\d{2}:\d{2}(\.\d+)?([Zz]|[+-]\d{2}:\d{2})")


def _parse(value: object) -> datetime | None:
    if not isinstance(value, str) or not _RFC3339.fullmatch(value):
        return None
    text = value.upper().replace("Z", "+00:00")
    if text[17:19] == "60":  # a leap second: the same instant as :59 for our comparisons
        text = text[:17] + "59" + text[19:]
    try:
        return datetime.fromisoformat(text)
    except ValueError:
        return None


def instant_key(value: object) -> str | None:
    """A string that sorts like the instant of an RFC 3339 date-time; None when `value` is not one."""
    found = rfc3339_instant(value)
    if found is None:
        return None
    return f"{found.minute + _MINUTE_BIAS:015d}{found.second:02d}{found.fraction}"


_EPOCH = rfc3339_instant("1970-01-01T00:00:00Z")
assert _EPOCH is not None


def now_key() -> str:
    """`instant_key` of the current time (computed arithmetically: it runs on every POST)."""
    microseconds = time.time_ns() // 1000
    minute, microsecond = divmod(microseconds, 60_000_000)
    second, fraction = divmod(microsecond, 1_000_000)
    return f"{_EPOCH.minute + minute + _MINUTE_BIAS:015d}{second:02d}{f'{fraction:06d}'.rstrip('0')}"


def naive_utc(value: object) -> object:
    """The date-time converted to UTC with its offset stripped (fault `offer-offset-lost`)."""
    parsed = _parse(value)
    if parsed is None:
        return value
    try:
        return parsed.astimezone(UTC).replace(tzinfo=None).isoformat()
    except (OverflowError, ValueError):
        return value


_OFFSET_TIME = re.compile(r"(\d{4}-\d{2}-\d{2})[Tt](\d{2}:\d{2}):(\d{2}(?:\.\d+)?)([Zz]|[+-]\d{2}:\d{2})")


def utc_text(value: object) -> object:
    """The same instant written in UTC with `Z` (alternative `utc-times`); `value` itself when it is
    not a date-time or its UTC form leaves the years 0001-9999.

    Offsets are whole minutes, so seconds, a leap second `:60` and every fraction digit are kept as written.
    """
    found = _OFFSET_TIME.fullmatch(value) if isinstance(value, str) else None
    if found is None or rfc3339_instant(value) is None:
        return value
    date, hour_minute, seconds, offset = found.groups()
    offset = "+00:00" if offset in "Zz" else offset
    try:
        moment = datetime.fromisoformat(f"{date}T{hour_minute}:00{offset}").astimezone(UTC)
    except (OverflowError, ValueError):
        return value
    return f"{moment.year:04d}-{moment:%m-%dT%H:%M}:{seconds}Z"  # %Y is not zero-padded below 1000 everywhere


class QueryError(ValueError):
    """A query parameter breaks DF-1; the message says how."""


def valid_at(query_string: bytes, lenient: bool = False) -> str | None:
    """The `instant_key` of the `valid_at` query parameter (DF-1), None when absent.

    Malformed, empty or repeated values raise QueryError (or are ignored when `lenient`).
    """
    values = [v for k, v in parse_qsl(query_string.decode("latin-1"), keep_blank_values=True) if k == "valid_at"]
    if not values:
        return None
    if len(values) > 1:
        if lenient:
            return None
        raise QueryError("valid_at is repeated; give it once (DF-1)")
    moment = instant_key(values[0])
    if moment is None:
        if lenient:
            return None
        raise QueryError(f"valid_at {values[0]!r} is not an RFC 3339 date-time with offset (DF-1)")
    return moment
