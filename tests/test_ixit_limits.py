"""IXIT keys `max_response_bytes` (issue 9 section 3: default 8 MiB, larger on request) and `parallel_requests`
(section 7), checked up front."""

from __future__ import annotations

import dataclasses

import pytest

from interflex.errors import ConfigError
from interflex.ixit import (
    DEFAULT_MAX_RESPONSE_BYTES,
    DEFAULT_PARALLEL_REQUESTS,
    MAX_PARALLEL_REQUESTS,
    MIN_MAX_RESPONSE_BYTES,
    default_ixit,
    parse_ixit,
)


def _data(**changes: object) -> dict:
    ixit = default_ixit()
    return {
        "client": {"client_id": ixit.client_id, "client_secret": ixit.client_secret},
        "dso": dataclasses.asdict(ixit.dso),
        "aggregators": [dataclasses.asdict(a) for a in ixit.aggregators],
        "region_id": ixit.region_id,
        "unit": ixit.unit,
        "currency": ixit.currency,
        **changes,
    }


def test_default_is_8_mib() -> None:
    assert parse_ixit(_data()).max_response_bytes == DEFAULT_MAX_RESPONSE_BYTES == 8 * 1024 * 1024


def test_a_larger_limit_is_taken() -> None:
    assert parse_ixit(_data(max_response_bytes=64 * 1024 * 1024)).max_response_bytes == 64 * 1024 * 1024


@pytest.mark.parametrize("value", [MIN_MAX_RESPONSE_BYTES - 1, 0, -5, "8MiB", 1.5e7, True, None])
def test_bad_values_are_one_line_errors(value: object) -> None:
    with pytest.raises(ConfigError, match="max_response_bytes must be a whole number of bytes >= 65536") as info:
        parse_ixit(_data(max_response_bytes=value), "ixit.yaml")
    assert str(info.value).startswith("ixit.yaml: ") and "\n" not in str(info.value)


def test_parallel_requests_default_and_bounds() -> None:
    """IXIT key `parallel_requests` (issue 9 section 7, D-107): 4 by default, 1 (one at a time) to 16."""
    assert parse_ixit(_data()).parallel_requests == DEFAULT_PARALLEL_REQUESTS == 4
    assert parse_ixit(_data(parallel_requests=1)).parallel_requests == 1
    assert parse_ixit(_data(parallel_requests=MAX_PARALLEL_REQUESTS)).parallel_requests == 16


@pytest.mark.parametrize("value", [0, 17, -1, "4", 2.0, True, None])
def test_bad_parallel_requests_are_one_line_errors(value: object) -> None:
    with pytest.raises(ConfigError, match="parallel_requests must be a whole number from 1") as info:
        parse_ixit(_data(parallel_requests=value), "ixit.yaml")
    assert str(info.value).startswith("ixit.yaml: ") and "\n" not in str(info.value)
