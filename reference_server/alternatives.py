"""Alternative modes: the mirror image of fault modes.

The reference server takes the strict option wherever PROFILE.md allows several; each
alternative mode makes it take ONE other allowed option instead, staying conformant. The
conformance suite must report every mode CONFORMANT (`tests/test_alternatives.py`): a FAIL
there is a false FAIL of the suite. Modes combine, except the pairs in `CONFLICTS`.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass


@dataclass(frozen=True)
class Alternative:
    """One alternative mode: its name, the behaviour it switches to, and the profile text allowing it."""

    name: str
    description: str
    references: tuple[str, ...]


_TABLE: tuple[tuple[str, str, tuple[str, ...]], ...] = (
    ("post-200", "successful POSTs answer 200 {} (not 201 with the stored object)", ("PROFILE 2",)),
    ("post-empty", "successful POSTs answer 201 with an empty body", ("PROFILE 2",)),
    ("delete-200", "successful DELETEs answer 200 {} (not 204)", ("PROFILE 2",)),
    (
        "unprocessable-422",
        "bad bodies (ST-1), implausible objects (PL-n) and a bad valid_at (DF-1) answer 422, not 400",
        ("ST-1", "PROFILE 6", "D-7"),
    ),
    ("content-type-400", "a body with a non-JSON content type answers 400, not 415", ("ST-3",)),
    (
        "no-content-type-415",
        "a body sent without any Content-Type is not parsed as JSON: 415",
        ("ST-3",),
    ),
    (
        "drop-unknown-fields",
        "unknown fields of posted objects are dropped, not stored and echoed",
        ("PROFILE 4", "D-8"),
    ),
    (
        "utc-times",
        "times are stored and returned converted to UTC with Z (the same instants)",
        ("PROFILE 4", "ST-9", "D-2"),
    ),
    ("offers-visible-to-all", "O3 shows an aggregator every aggregator's offers", ("O3", "D-12")),
    (
        "literal-path-404",
        "a method on a path with a P-07 literal word that is an operation once the word is read as an id "
        "(DELETE .../requestId, POST .../flexibilityActivations/activationId) answers 404, not 405",
        ("ST-5", "P-07", "D-3"),
    ),
    ("options-204", "OPTIONS on a known path answers 204 with Allow (not 405)", ("ST-5",)),
    ("malformed-auth-400", "a malformed Authorization header answers 400, not 401", ("AU-4",)),
    ("token-variants", 'token responses carry token_type "Bearer" and expires_in 3600.0', ("AU-1", "D-6")),
    ("uuid-ids", "R1/O1/V1/K1/N1 return UUID4 strings", ("ID-1", "PROFILE 4")),
    ("unknown-user-invalid-client", "A1 with an unknown username answers 401 invalid_client", ("AU-3", "D-5")),
    (
        "refresh-revokes-access",
        "A2 revokes the access token issued with the refresh token it redeems",
        ("AU-6",),
    ),
    ("refresh-reusable", "refresh tokens are not rotated: a used one works again until it expires", ("AU-6",)),
    ("oauth-errors-401", "every A1/A2 failure answers 401 (with the same OAuth error code)", ("AU-3",)),
    (
        "plain-errors",
        "errors of resource endpoints are text/plain lines, not JSON Error objects (A1/A2 keep OAuth errors)",
        ("ST-8", "AU-3"),
    ),
    ("lists-newest-first", "lists return the newest object first (the profile sets no order)", ("PROFILE 2", "ST-9")),
    (
        "numbers-as-floats",
        "integral numbers are stored and returned as floats (100 -> 100.0)",
        ("PROFILE 4", "ST-9"),
    ),
    (
        "validate-before-auth",
        "POST bodies are checked (415, 413, 400, PL-n) before the bearer token (401) and the caller (403)",
        ("ST-11", "P-09"),
    ),
    (
        "missing-client-invalid-request",
        "A1/A2 without client credentials answer 400 invalid_request (not 401 invalid_client)",
        ("AU-3",),
    ),
    (
        "extra-fields",
        "responses carry fields the profile does not name: x_received_at on stored objects, x_issued_at on "
        "IdResponses, scope on TokenResponses",
        ("PROFILE 4", "D-8"),
    ),
    ("json-charset", "JSON responses are labelled application/json; charset=utf-8", ("PROFILE 1", "ST-3")),
    (
        "no-should-headers",
        "no Cache-Control: no-store on token responses, no WWW-Authenticate on 401, no Allow on 405 (SHOULDs)",
        ("AU-6", "ST-5"),
    ),
)

ALTERNATIVES: dict[str, Alternative] = {name: Alternative(name, desc, refs) for name, desc, refs in _TABLE}

# Pairs of modes that choose different options for the same behaviour.
CONFLICTS: tuple[frozenset[str], ...] = (frozenset({"post-200", "post-empty"}),)


def check_alternatives(names: str | Iterable[str] | None) -> frozenset[str]:
    """The set of modes named by `names` (one name, several, or None); ValueError for an unknown
    name (listing the valid ones) or two conflicting modes."""
    if names is None:
        return frozenset()
    chosen = frozenset([names] if isinstance(names, str) else names)
    for name in sorted(chosen):
        if name not in ALTERNATIVES:
            raise ValueError(f"unknown alternative {name!r}; valid names: {', '.join(ALTERNATIVES)}")
    for pair in CONFLICTS:
        if pair <= chosen:
            raise ValueError(f"the alternatives {' and '.join(sorted(pair))} cannot be combined")
    return chosen
