"""Secrets never reach evidence: redaction, evidence records, and the IXIT loader (C2)."""

from __future__ import annotations

from pathlib import Path

import pytest
from requests.structures import CaseInsensitiveDict

from ats.errors import ConfigError
from ats.ixit import default_ixit, load_ixit, parse_ixit
from ats.recorder import EVIDENCE_CAP, Exchange, Transport
from ats.redaction import MASK, redact, redact_headers


def test_redacts_secret_fields_in_json_form_and_headers() -> None:
    text = (
        '{"access_token": "eyJ.abc", "token_type": "bearer", "refresh_token": "r-1"} '
        "grant_type=password&username=dso1&password=p%40ss&client_secret=cs Authorization: Bearer tok-9"
    )
    out = redact(text)
    for secret in ("eyJ.abc", "r-1", "p%40ss", "=cs", "tok-9"):
        assert secret not in out
    assert '"token_type": "bearer"' in out and "username=dso1" in out and "Authorization: Bearer ***" in out


def test_redacts_known_secrets_and_their_url_encodings_but_not_field_names() -> None:
    out = redact("client_id=client&x=p@ss+1 y=p%40ss%2B1", ["client", "p@ss+1"])
    assert out == f"client_id={MASK}&x={MASK} y={MASK}"


def test_redact_headers_keeps_the_scheme() -> None:
    headers = {"Authorization": "Bearer abc", "X-Api-Key": "k-123", "Accept": "application/json"}
    assert redact_headers(headers, ["k-123"], ["X-Api-Key"]) == {
        "Authorization": f"Bearer {MASK}",
        "X-Api-Key": MASK,
        "Accept": "application/json",
    }


def test_exchange_record_is_redacted_and_capped() -> None:
    ex = Exchange(
        "POST",
        "https://h/x?refresh_token=r9",
        {"Authorization": "Bearer t0k"},
        b"password=pw",
        status=200,
        headers=CaseInsensitiveDict({"Content-Type": "application/json"}),
        body=b'{"access_token": "t0k"}' + b" " * (EVIDENCE_CAP + 10),
    )
    rec = ex.record(["t0k"])
    assert rec["url"] == f"https://h/x?refresh_token={MASK}"
    assert rec["request_headers"]["Authorization"] == f"Bearer {MASK}"
    assert rec["request_body"] == f"password={MASK}"
    assert "t0k" not in str(rec)
    assert rec["response_body"].endswith("[... 33 more bytes]")


def test_reference_ixit_loads() -> None:
    ixit = default_ixit()
    assert ixit.entity_ids == {"dso": "dso1", "agg1": "agg1", "agg2": "agg2"}
    assert ixit.ics == {"plausibility": True, "date-filter": True}
    assert ixit.trust_env is False and ixit.tls.verify is True
    assert ixit.with_target("http://h:1/interflex/api/v1/").target_url == "http://h:1/interflex/api/v1"


def _data(**changes: object) -> dict:
    data = {
        "target_url": "https://t/interflex/api/v1",
        "client": {"client_id": "c", "client_secret": "cs"},
        "dso": {"entity_id": "d", "username": "d", "password": "pd"},
        "aggregators": [
            {"entity_id": "a1", "username": "a1", "password": "p1"},
            {"entity_id": "a2", "username": "a2", "password": "p2"},
        ],
        "region_id": "r",
        "unit": "kW",
        "currency": "EUR",
    }
    data.update(changes)
    return data


def test_tls_headers_trust_env_reach_the_session(tmp_path: Path) -> None:
    (tmp_path / "ca.pem").write_text("x")
    (tmp_path / "ixit.yaml").write_text(
        "target_url: https://t/interflex/api/v1\nclient: {client_id: c, client_secret: cs}\n"
        "dso: {entity_id: d, username: d, password: pd}\naggregators:\n"
        "  - {entity_id: a1, username: a1, password: p1}\n  - {entity_id: a2, username: a2, password: p2}\n"
        "region_id: r\nunit: kW\ncurrency: EUR\ntls: {verify: ca.pem}\nheaders: {X-Api-Key: gw-key}\n"
        "trust_env: true\n"
    )
    ixit = load_ixit(tmp_path / "ixit.yaml")
    assert ixit.tls.verify == str(tmp_path / "ca.pem")
    assert set(ixit.secrets) == {"cs", "pd", "p1", "p2", "gw-key"}
    transport = Transport(ixit, 1.0)
    assert transport.session.trust_env is True and transport.session.verify == str(tmp_path / "ca.pem")
    assert transport.session.headers["X-Api-Key"] == "gw-key"
    assert Transport(parse_ixit(_data()), 1.0).session.trust_env is False


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"target_url": "ftp://x"}, "expected an http"),
        ({"client": None}, "'client' must be a mapping"),
        ({"currency": "eur"}, "ISO 4217"),
        ({"region_id": "bad id"}, "not a valid id"),
        ({"headers": {"X-Key": 5}}, "'headers' must map header names to string values"),
        ({"trust_env": "yes"}, "trust_env must be true or false"),
        ({"tls": {"verify": 3}}, "tls.verify must be"),
        (
            {
                "aggregators": [
                    {"entity_id": "d", "username": "x", "password": "y"},
                    {"entity_id": "a2", "username": "a2", "password": "p2"},
                ]
            },
            "different entity ids",
        ),
    ],
)
def test_invalid_ixit_values(changes: dict, message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        parse_ixit(_data(**changes), "ixit.yaml")
