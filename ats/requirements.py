"""The requirement ids of PROFILE.md that the server suite covers (a shipped copy, checked against the
profile by tests/test_catalog.py)."""

from __future__ import annotations

import itertools
import re

from interflex.profile import OPERATIONS

REQUIREMENTS: dict[str, str] = {
    **{op: "operation of PROFILE 2 (method, path, who may call, success)" for op in (o.id for o in OPERATIONS)},
    "AU-1": "A1 with valid credentials answers a TokenResponse",
    "AU-2": "A2 with a valid refresh token answers a working TokenResponse",
    "AU-3": "OAuth error codes of A1/A2 failures",
    "AU-4": "missing, unknown, expired or malformed bearer token -> 401 (400)",
    "AU-5": "a user that may not perform the operation -> 403",
    "AU-6": "(SHOULD) no-store, WWW-Authenticate, refresh token rotation",
    "ST-1": "malformed or invalid bodies -> 400 (422)",
    "ST-2": "duplicate object id -> 409",
    "ST-3": "non-JSON content type -> 415 (400)",
    "ST-4": "DELETE of an unknown id -> 404",
    "ST-5": "unknown path -> 404, unlisted method -> 405",
    "ST-6": "list of an entity without objects -> 200 []",
    "ST-7": "no client input produces a 5xx",
    "ST-8": "(SHOULD) error responses are JSON Error objects",
    "ST-9": "posted objects are listed field for field until deleted",
    "ST-10": "success bodies match their schema",
    "ST-11": "several faults: any matching status conforms",
    "ST-12": "a list under an entity's path holds only objects posted under that path",
    "ID-1": "ids returned by the id getters are new",
    "PL-1": "deadline >= timestamp",
    "PL-2": "activation_time >= timestamp",
    "PL-3": "granularity <= flexible_power",
    "PL-4": "an offer's entity_id equals {agg}",
    "PL-5": "an activation matches a stored offer of {agg}",
    "PL-6": "deadline not in the past when posted",
    "PL-7": "an ACK/NACK answers an activation to {agg}",
    "DF-1": "the valid_at date filter of R3 and O3",
    "NG-1": "request-based negotiation end to end",
    "P-01": "RFC 3339 times with explicit offset",
    "P-02": "unit is W, kW or MW",
    "P-03": "optional request_id on offers",
    "P-04": "optional activation_id on ACK/NACK",
    "P-05": "id getters answer a JSON object",
    "P-06": "status codes of section 5 and the Error object",
    "P-07": "literal path words are never ids",
    "P-08": "who may read lists",
    "P-09": "no required order of checks",
    "P-10": "lists under an entity's path show no other entity's objects",
}

ID_PATTERN = re.compile(
    r"(?<![\w-])(A[12]|[ROVKN][1-4]|AU-\d+|ST-\d+|ID-\d+|PL-\d+|DF-\d+|NG-\d+|CL-\d+|P-\d\d)(?![\w-])"
)
CLIENT_SECTION = "11"  # PROFILE.md section 11 (clients, CL-n): the client suite covers it, not the server suite
_HEADING = re.compile(r"^## (?:(\d+)\. )?", re.M)


def profile_ids(text: str) -> set[str]:
    """Every requirement id mentioned in a PROFILE.md text."""
    return set(ID_PATTERN.findall(text))


def server_ids(text: str) -> set[str]:
    """The requirement ids of a PROFILE.md text that the server suite covers.

    Those are the ids of sections 1-10 (what a server must do) and of the clarifications, except the
    client rules: section 11 defines them (CL-n), section 9 names CL-n only to list the client classes,
    and a clarification whose decision is section 11 or a CL-n rule (P-11) clarifies them. The client
    suite covers those.
    """
    kept: list[str] = []
    starts = [0, *(m.start() for m in _HEADING.finditer(text)), len(text)]
    for start, end in itertools.pairwise(starts):
        block = text[start:end]
        heading = _HEADING.match(block)
        if heading is not None and heading.group(1) == CLIENT_SECTION:
            continue
        kept += [line for line in block.splitlines() if not _decides_for_clients(line)]
    return {found for found in profile_ids("\n".join(kept)) if not found.startswith("CL-")}


def _decides_for_clients(line: str) -> bool:
    """True for a row of the clarifications table whose decision is a client rule (section 11 or CL-n)."""
    cells = [cell.strip() for cell in line.strip().strip("|").split("|")] if line.startswith("| P-") else []
    return len(cells) == 3 and (f"section {CLIENT_SECTION}" in cells[2] or "CL-" in cells[2])
