"""The reference server's fault modes seen through the validating proxy (issue 10, "Proof").

Conformant clients (the D3.5 client functions, `proxy_traffic.d35_cycle`, and
`examples/negotiation.py`) run one negotiation each through the proxy. Against the conformant
server the monitor reports no error; each fault mode whose deviation shows in such traffic gives
an error of `side: server` naming its rule. The other fault modes deviate only on requests that
conformant clients never send: their runs must report no error at all (no false finding).
The same table is in docs/monitor.md, "The validating proxy".
"""

from __future__ import annotations

import pytest
from proxy_traffic import d35_cycle, errors, proxied, run_negotiation

from reference_server import FAULTS

# fault mode -> the rules (any of them) an error of side `server` names
SHOWN: dict[str, set[str]] = {
    "token-type-mac": {"ST-10"},  # A1/A2 bodies: token_type must be "bearer"
    "expires-in-string": {"ST-10"},  # A1/A2 bodies: expires_in an integer
    "stale-ids": {"ID-1"},  # R1/O1/V1/K1/N1 return an id again
    "bare-id-string": {"ST-10"},  # id getters' bodies (P-05)
    "lists-lose-precision": {"ST-10", "ST-9"},  # R3 numbers as strings
    "offer-offset-lost": {"ST-10", "ST-9"},  # O3 times without offset (P-01)
    "no-activations": {"V1"},  # 404 is not a status of V1 (section 5)
    "activation-delete-keeps": {"ST-9"},  # a deleted activation still listed
    "ack-empty-list-404": {"K3"},  # 404 is not a status of K3
    "nack-post-202": {"N2"},  # 202 is not a status of N2
    "offer-request-id-dropped": {"ST-9"},  # O3 lists offers without their request_id (P-03)
    "activations-list-any-agg": {"ST-12"},  # V3 under agg2 lists agg1's activation
    "acks-list-any-agg": {"ST-12"},  # K3 under agg2 lists agg1's ACK
    "nacks-list-any-agg-to-dsos": {"ST-12"},  # N3 under agg1, read by the DSO, lists agg2's NACK
}
# fault mode -> why conformant client traffic never shows it
NOT_SHOWN: dict[str, str] = {
    "accept-any-password": "clients send only right passwords",
    "refresh-broken": "a platform may revoke or expire a refresh token at any time: A2's 400 invalid_grant conforms",
    "oauth-wrong-error-code": "clients send only right passwords",
    "no-auth-required": "clients always send their bearer token (CL-1)",
    "duplicate-request-accepted": "clients never post a stored id again (CL-5)",
    "offer-delete-unknown-204": "clients delete only what they stored",
    "offer-ids-per-aggregator": "clients never post another aggregator's offer id (CL-5)",
    "ack-delete-any-path": "clients delete only under their own path (CL-3)",
    "no-authz-check": "clients call only under their own paths (CL-3)",
    "agg-reads-foreign-activations": "aggregators read only their own activations (CL-3)",
    "malformed-json-500": "clients send only valid JSON (CL-4)",
    "accept-wrong-types": "clients send only valid objects (CL-4)",
    "method-not-allowed-404": "clients use only the methods of section 2 (CL-3)",
    "no-plausibility": "clients send only plausible objects (CL-4)",
    "pl5-unchecked": "clients activate only offers they read (CL-8, PL-5)",
    "date-filter-ignored": "neither the D3.5 functions nor the example send valid_at",
    "date-filter-lenient": "clients send only well-formed valid_at (CL-3)",
    "requests-list-any-dso": "the platform has one DSO: no request is posted under another DSO's path",
    "ids-race": "only concurrent id requests show it (interflex-load, docs/load.md)",
    "lost-writes": "only concurrent POSTs show it (interflex-load, docs/load.md)",
    "overload-503": "only many requests in flight at once show it (interflex-load, docs/load.md)",
}


def test_the_table_covers_every_fault_mode_once() -> None:
    assert SHOWN.keys() | NOT_SHOWN.keys() == FAULTS.keys() and not SHOWN.keys() & NOT_SHOWN.keys()


def test_conformant_server_and_clients_give_no_error() -> None:
    with proxied() as (_, proxy):
        assert d35_cycle("127.0.0.1", proxy.port)
        assert run_negotiation(proxy.base_url) == 0
        assert run_negotiation(proxy.base_url, "--nack", "--decline") == 0
    assert errors(proxy.findings) == []


@pytest.mark.parametrize("fault", sorted(FAULTS))
def test_fault_mode_through_the_proxy(fault: str) -> None:
    with proxied(fault) as (_, proxy):
        d35_cycle("127.0.0.1", proxy.port)
        run_negotiation(proxy.base_url)
    server_errors = errors(proxy.findings, "server")
    if fault in SHOWN:
        named = {f.rule for f in server_errors}
        assert named & SHOWN[fault], f"{fault}: expected a server error naming {SHOWN[fault]}, got {named or 'none'}"
    else:
        assert errors(proxy.findings) == [], f"{fault} cannot show in this traffic ({NOT_SHOWN[fault]})"
