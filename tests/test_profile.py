"""The operation table of interflex.profile against PROFILE.md section 2."""

import re
from pathlib import Path

import pytest

from interflex.profile import OPERATIONS, allowed_methods, decode_path, match_operation

ROOT = Path(__file__).resolve().parents[1]
PROFILE = ROOT / "docs" / "PROFILE.md"  # the shipped copy of the normative profile
SHARED_PROFILE = ROOT.parent / "shared" / "spec" / "PROFILE.md"  # the original, beside a workspace checkout


@pytest.mark.skipif(not SHARED_PROFILE.is_file(), reason="no original PROFILE.md beside this checkout to compare with")
def test_shipped_profile_is_the_original():
    assert PROFILE.read_text(encoding="utf-8") == SHARED_PROFILE.read_text(encoding="utf-8")


def test_operations_match_profile_table():
    rows = re.findall(r"^\| ([ARONVK]\d) \| (\w+) \| `([^`]+)` \|", PROFILE.read_text(), re.M)
    assert len(rows) == 22
    assert {(op.id, op.method, op.path) for op in OPERATIONS} == set(rows)


@pytest.mark.parametrize(
    ("method", "path", "expected"),
    [
        ("GET", "/dsos/dso1/flexibilityRequests/requestId", "R1"),
        ("HEAD", "/dsos/dso1/flexibilityRequests", "R3"),
        ("GET", "/dsos/dso1/flexibilityActivations/activationId", "V1"),
        ("GET", "/dsos/dso1/flexibilityActivations/agg1", "V3"),
        ("DELETE", "/aggregators/agg1/flexibilityActivations/acks/ack-1", "K4"),
        ("DELETE", "/dsos/dso1/flexibilityRequests/requestId", None),
        ("GET", "/dsos/bad id/flexibilityRequests", None),
        ("GET", "/dsos/dso1/flexibilityRequests\n", None),  # `$` would match before a final newline
        ("GET", "/dsos/dso1/flexibilityRequests/requestId\n", None),
        ("get", "/dsos/dso1/flexibilityRequests", None),  # method names are case-sensitive (RFC 9110)
    ],
)
def test_match_operation(method, path, expected):
    found = match_operation(method, path)
    assert (found[0].id if found else None) == expected


def test_allowed_methods_for_known_and_unknown_paths():
    assert allowed_methods("/aggregators/agg1/flexibilityActivations/acks") == {"GET", "HEAD", "POST"}
    assert allowed_methods("/dsos/dso1/flexibilityRequests/r-1") == {"DELETE"}
    assert allowed_methods("/nowhere") == frozenset()


@pytest.mark.parametrize(
    ("path", "decoded"),
    [
        ("/dsos/dso1/flexibilityRequests", "/dsos/dso1/flexibilityRequests"),
        ("/dsos/dso%31/flexibilityRequests", "/dsos/dso1/flexibilityRequests"),
        ("/dsos%2Fdso1/flexibilityRequests", None),  # an encoded slash never splits a segment
        ("/dsos/%FF/flexibilityRequests", None),  # not UTF-8
    ],
)
def test_decode_path(path, decoded):
    assert decode_path(path) == decoded


def test_trailing_newline_is_no_known_path():
    assert allowed_methods("/dsos/dso1/flexibilityRequests\n") == frozenset()
