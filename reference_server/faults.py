"""Fault-injection modes: each makes the server deviate from PROFILE.md in exactly one way.

The conformance suite must FAIL at least one test case of the named class for every mode
(docs/contracts.md C1), except the modes that only show under concurrent traffic
(`shows_under == "load"`): `interflex-load` must find those (docs/load.md).
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Fault:
    """One fault mode: its name, what it breaks, and the conformance class that catches it."""

    name: str
    description: str
    conformance_class: str
    shows_under: str = "suite"  # "load": only concurrent traffic shows it (interflex-load, not the suite)


_TABLE: tuple[tuple[str, str, str], ...] = (
    ("token-type-mac", "core-auth", 'A1/A2 answer token_type "mac"'),
    ("expires-in-string", "core-auth", 'expires_in is a string ("3600") instead of an integer'),
    ("accept-any-password", "core-auth", "A1 accepts a wrong password for a known user"),
    ("refresh-broken", "core-auth", "A2 rejects valid refresh tokens with 400 invalid_grant"),
    ("oauth-wrong-error-code", "core-auth", 'a wrong password answers 401 {"error": "access_denied"}'),
    ("no-auth-required", "core-auth", "resource endpoints accept requests without any bearer token"),
    ("stale-ids", "core-ids", "R1/O1/V1/K1/N1 return the same id on every call"),
    ("bare-id-string", "core-ids", 'id getters answer a bare JSON string instead of {"offer_id": ...}'),
    ("duplicate-request-accepted", "core-requests", "R2 accepts an already stored request_id (201, overwrites)"),
    ("lists-lose-precision", "core-requests", "R3 returns flexible_power and duration as strings"),
    ("requests-list-any-dso", "core-requests", "R3 lists the requests posted under every DSO's path, whatever {dso}"),
    ("offer-offset-lost", "core-offers", "O3 returns times converted to UTC with the offset stripped (naive)"),
    ("offer-delete-unknown-204", "core-offers", "O4 of an unknown offer id answers 204"),
    (
        "offer-ids-per-aggregator",
        "core-offers",
        "O2 keeps offer ids unique per aggregator only: another aggregator's id is accepted and overwritten",
    ),
    ("no-activations", "core-activations", "the whole activation family (V1-V4) answers 404"),
    ("activation-delete-keeps", "core-activations", "V4 answers 204 but the activation stays listed"),
    (
        "activations-list-any-agg",
        "core-activations",
        "V3 lists the DSO's activations to every aggregator, whatever {agg}",
    ),
    ("ack-empty-list-404", "core-acks", "K3 answers 404 instead of [] when there are no ACKs"),
    ("ack-delete-any-path", "core-acks", "K4 deletes an ACK by its id under any aggregator's path"),
    ("acks-list-any-agg", "core-acks", "K3 lists the ACKs posted under every aggregator's path, whatever {agg}"),
    ("nack-post-202", "core-nacks", "N2 answers 202 (not 201/200)"),
    (
        "nacks-list-any-agg-to-dsos",
        "core-nacks",
        "N3 read by a DSO lists every aggregator's NACKs, whatever {agg} (an aggregator sees its path's only)",
    ),
    ("no-authz-check", "authorization", "any authenticated user may POST/DELETE under any {dso}/{agg}"),
    ("agg-reads-foreign-activations", "authorization", "V3 lets any aggregator read {dso}/{agg} activations"),
    ("malformed-json-500", "robustness", "a malformed JSON body answers 500"),
    ("accept-wrong-types", "robustness", 'POSTs accept wrong JSON types (e.g. flexible_power: "5")'),
    ("method-not-allowed-404", "robustness", "an unlisted method on a known path answers 404 (not 405)"),
    ("offer-request-id-dropped", "negotiation", "O2/O3 silently drop the optional request_id of offers (P-03)"),
    ("no-plausibility", "plausibility", "PL-1...PL-7 are not checked at all"),
    ("pl5-unchecked", "plausibility", "only PL-5 (activation matches a stored offer of {agg}) is not checked"),
    ("date-filter-ignored", "date-filter", "the valid_at query parameter is ignored"),
    ("date-filter-lenient", "date-filter", "a malformed, empty or repeated valid_at answers 200"),
)

# Faults that only show under concurrent load (reference_server/load_faults.py); the suite, one
# request at a time, cannot see them, interflex-load must (tests/test_load_faults.py).
_LOAD_TABLE: tuple[tuple[str, str, str], ...] = (
    ("ids-race", "core-ids", "id getters hand out the same id twice to concurrent callers (unlocked counter, ID-1)"),
    (
        "lost-writes",
        "core-requests",
        "a POST overlapping another POST of its kind answers 201 but is not stored (ST-9)",
    ),
    ("overload-503", "robustness", "answers 503 while more than 4 requests are in flight (ST-7)"),
)

FAULTS: dict[str, Fault] = {name: Fault(name, description, cls) for name, cls, description in _TABLE} | {
    name: Fault(name, description, cls, shows_under="load") for name, cls, description in _LOAD_TABLE
}


def check_fault(name: str | None) -> str | None:
    """Return `name` when it is None or a known fault; raise ValueError listing the valid names otherwise."""
    if name is not None and name not in FAULTS:
        raise ValueError(f"unknown fault {name!r}; valid names: {', '.join(FAULTS)}")
    return name
