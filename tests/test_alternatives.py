"""The false-FAIL guard: the suite never FAILs a conformant server that takes the OTHER options
PROFILE.md allows (the mirror image of `tests/test_fault_modes.py`).

The whole suite runs against the reference server in alternative modes
(`--ats-reference-alternative NAME,...`, reference_server.ALTERNATIVES): once with every mode
combined, and once per bundle of `BUNDLES`. A bundle holds modes that change disjoint behaviour
(none can hide another's false FAIL), so every mode also runs apart from the modes it overlaps
with: 6 runs instead of 27 (about 20 s on 2 cores instead of 80 s), plus one of the strict
default. Each run must be CONFORMANT with exit code 0 and no FAIL or INCONCLUSIVE in any gating
class. `recommended` (never gating) must show exactly what `SHOULD_BREAKS` (a mode drops a
SHOULD: FAIL) and `SHOULD_NOT_MET` (the mode no longer produces the situation a SHOULD is about:
INCONCLUSIVE) list, which also shows the mode was active. `MET` checks in the recorded exchanges
that the suite really met the mode's behaviour where the wire shows it (each exchange carries the
`case` that made it); None marks a mode seen only as the FAILs of `SHOULD_BREAKS`.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from ats.docs import run_suite
from reference_server import ALTERNATIVES
from reference_server.alternatives import CONFLICTS

SHOULD_BREAKS: dict[str, set[str]] = {
    "utc-times": {"IFX-REC-008"},  # lists keep the posted offsets (D-2)
    "offers-visible-to-all": {"IFX-REC-007"},  # section 9: an aggregator does not see others' offers
    "refresh-reusable": {"IFX-REC-004"},  # AU-6 rotation
    "plain-errors": {"IFX-REC-006"},  # ST-8 Error objects
    "no-should-headers": {"IFX-REC-001", "IFX-REC-002", "IFX-REC-003", "IFX-REC-005"},  # AU-6, ST-5 headers
}
SHOULD_NOT_MET: dict[str, set[str]] = {
    "literal-path-404": {"IFX-REC-005"},  # POST .../activationId answers 404 (D-3): no 405 to check Allow on
}
BUNDLES: tuple[tuple[str, ...], ...] = (
    ("post-200", "malformed-auth-400", "options-204", "token-variants", "missing-client-invalid-request"),
    ("post-empty", "delete-200", "unprocessable-422", "uuid-ids", "refresh-revokes-access"),
    (
        "utc-times",
        "content-type-400",
        "literal-path-404",
        "unknown-user-invalid-client",
        "lists-newest-first",
        "extra-fields",
    ),
    ("drop-unknown-fields", "numbers-as-floats", "no-content-type-415", "oauth-errors-401", "plain-errors"),
    ("validate-before-auth", "refresh-reusable", "no-should-headers", "offers-visible-to-all", "json-charset"),
)
# Everything combinable at once: of each conflicting pair, the later name (post-empty) stays out.
COMBINED = tuple(n for n in ALTERNATIVES if not any(n == sorted(pair)[1] for pair in CONFLICTS))

Exchange = dict
RESOURCE = re.compile(r"/interflex/api/v1/(dsos|aggregators)/")
LITERAL_END = re.compile(r"/(requestId|offerId|activationId|ackId|nackId)$")
UUID4 = re.compile(r'"[a-z_]+_id": ?"[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}"')


def _header(headers: dict, name: str) -> str | None:
    return next((v for k, v in headers.items() if k.lower() == name), None)


def _resource(e: Exchange) -> bool:
    return bool(RESOURCE.search(e["url"]))


def _token_endpoint(e: Exchange) -> bool:
    return "/authentication/" in e["url"]


def _listed_powers(e: Exchange) -> list:
    """The flexible_power values 101, 102, 103 of a listed array, in the order listed."""
    try:
        items = json.loads(e["response_body"])
    except ValueError:
        return []
    powers = [item.get("flexible_power") for item in items if isinstance(item, dict)] if isinstance(items, list) else []
    return [p for p in powers if p in (101, 102, 103)]


MET: dict[str, Callable[[Exchange], bool] | None] = {
    "post-200": lambda e: _resource(e) and e["method"] == "POST" and e["status"] == 200 and e["response_body"] == "{}",
    "post-empty": lambda e: _resource(e) and e["method"] == "POST" and e["status"] == 201 and not e["response_body"],
    "delete-200": lambda e: e["method"] == "DELETE" and e["status"] == 200 and e["response_body"] == "{}",
    "unprocessable-422": lambda e: e["status"] == 422,
    "content-type-400": lambda e: (
        _resource(e) and e["status"] == 400 and "unsupported_media_type" in e["response_body"]
    ),
    "no-content-type-415": lambda e: (  # IFX-ROB-025 posts bodies without a Content-Type
        _resource(e)
        and e["method"] == "POST"
        and _header(e["request_headers"], "content-type") is None
        and e["status"] == 415
    ),
    "drop-unknown-fields": lambda e: (  # IFX-ROB-013 posts vendor fields; the echo of the stored object lacks them
        _resource(e)
        and e["method"] == "POST"
        and e["status"] in (200, 201)
        and "x_vendor_note" in (e["request_body"] or "")
        and bool(e["response_body"])
        and "x_vendor_note" not in e["response_body"]
    ),
    "utc-times": lambda e: e["method"] == "GET" and "T00:30:00Z" in e["response_body"],  # IFX-REC-008's 01:30+01:00
    "offers-visible-to-all": None,  # seen as the FAIL of IFX-REC-007
    "literal-path-404": lambda e: (
        e["method"] in ("POST", "DELETE") and bool(LITERAL_END.search(e["url"])) and e["status"] == 404
    ),
    "options-204": lambda e: e["method"] == "OPTIONS" and e["status"] == 204,
    "malformed-auth-400": lambda e: (
        _resource(e) and e["status"] == 400 and "Authorization header" in e["response_body"]
    ),
    "token-variants": lambda e: (
        '"token_type": "Bearer"' in e["response_body"] and '"expires_in": 3600.0' in e["response_body"]
    ),
    "uuid-ids": lambda e: e["method"] == "GET" and bool(UUID4.search(e["response_body"])),
    "unknown-user-invalid-client": lambda e: (
        _token_endpoint(e) and e["status"] == 401 and "unknown username" in e["response_body"]
    ),
    "refresh-revokes-access": lambda e: (  # IFX-AUTH-015 presents the old access token after A2
        e["case"] == "IFX-AUTH-015" and _resource(e) and e["status"] == 401
    ),
    "refresh-reusable": None,  # seen as the FAIL of IFX-REC-004
    "oauth-errors-401": lambda e: _token_endpoint(e) and e["status"] == 401 and "invalid_grant" in e["response_body"],
    "plain-errors": lambda e: (
        _resource(e) and e["status"] >= 400 and "text/plain" in (_header(e["response_headers"], "content-type") or "")
    ),
    "lists-newest-first": lambda e: (  # IFX-REQ-008 posts powers 101, 102, 103 one after another
        e["case"] == "IFX-REQ-008" and e["method"] == "GET" and _listed_powers(e) == [103, 102, 101]
    ),
    "numbers-as-floats": lambda e: e["method"] == "GET" and '"duration":900.0' in e["response_body"],
    "validate-before-auth": lambda e: (
        _resource(e)
        and e["method"] == "POST"
        and e["status"] in (400, 415, 422)
        and _header(e["request_headers"], "authorization") is None
    ),
    "missing-client-invalid-request": lambda e: (
        _token_endpoint(e)
        and '"invalid_request"' in e["response_body"]
        and "client_id and client_secret" in e["response_body"]
    ),
    "extra-fields": lambda e: e["method"] == "GET" and e["status"] == 200 and '"x_received_at"' in e["response_body"],
    "json-charset": lambda e: (
        _resource(e) and "charset=utf-8" in (_header(e["response_headers"], "content-type") or "")
    ),
    "no-should-headers": None,  # seen as the FAILs of IFX-REC-001/002/003/005
}


def expected_recommended(names: tuple[str, ...]) -> tuple[set[str], set[str]]:
    """(FAIL, INCONCLUSIVE) recommended cases of a run in the modes `names`."""
    failing = set().union(*(SHOULD_BREAKS.get(n, set()) for n in names))
    not_met = set().union(*(SHOULD_NOT_MET.get(n, set()) for n in names)) - failing
    return failing, not_met


def test_every_alternative_is_listed():
    assert set(MET) == set(ALTERNATIVES)
    assert set(SHOULD_BREAKS) | set(SHOULD_NOT_MET) <= set(ALTERNATIVES)
    assert len(COMBINED) == len(ALTERNATIVES) - len(CONFLICTS)
    bundled = [n for bundle in BUNDLES for n in bundle]
    assert sorted(bundled) == sorted(ALTERNATIVES), "every mode is in exactly one bundle"


@pytest.mark.parametrize(
    "names", [(), COMBINED, *BUNDLES], ids=["strict", "all", *(f"bundle{i}" for i in range(1, len(BUNDLES) + 1))]
)
def test_alternative_is_conformant(names: tuple[str, ...]) -> None:
    """`names` () is the strict default: there `MET` must see no mode at all (the predicates discriminate)."""
    data = run_suite(None, ("--ats-reference-alternative", ",".join(names)) if names else ())
    summary, cases = data["summary"], data["cases"]
    assert ("--ats-reference-alternative" in data["info"]["argv"]) == bool(names)
    gating = {name: cls for name, cls in summary["classes"].items() if cls["gating"]}
    bad = {c: v["verdict"] for c, v in cases.items() if v["verdict"] in ("FAIL", "INCONCLUSIVE")}
    assert all(cls["counts"]["FAIL"] == 0 and cls["counts"]["INCONCLUSIVE"] == 0 for cls in gating.values()), bad
    assert summary["overall"] == "CONFORMANT", bad
    assert data["returncode"] == 0
    failing, not_met = expected_recommended(names)
    assert {c for c, v in bad.items() if v == "FAIL"} == failing
    assert {c for c, v in bad.items() if v == "INCONCLUSIVE"} == not_met
    assert all(cases[c]["class"] == "recommended" for c in bad)
    exchanges = [{**e, "case": r["case"]} for r in data["records"] for e in r["exchanges"]]
    seen = {n for n, met in MET.items() if met is not None and any(met(e) for e in exchanges)}
    unmet = [n for n in names if MET[n] is not None and n not in seen]
    assert not unmet, f"the suite never met the behaviour of {unmet}"
    assert names or not seen, f"the strict server shows the behaviour of {sorted(seen)}"


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["nope"], "unknown alternative 'nope'"),
        (["post-200,post-empty"], "cannot be combined"),
        (["post-200", "--target-url", "http://127.0.0.1:9/interflex/api/v1"], "only applies to the in-process"),
    ],
)
def test_option_is_checked_up_front(tmp_path: Path, args: list[str], message: str) -> None:
    cmd = [sys.executable, "-m", "pytest", "--pyargs", "ats", "-p", "no:cacheprovider", "--ats-reference-alternative"]
    done = subprocess.run([*cmd, *args], cwd=tmp_path, capture_output=True, text=True, timeout=60, check=False)
    assert done.returncode == 4, done.stdout[-500:]
    assert message in done.stdout + done.stderr and "Traceback" not in done.stderr
