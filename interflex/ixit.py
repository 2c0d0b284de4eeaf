"""The IXIT: what the tester is told about the target (PROFILE.md section 10, contract C2).

target_url: http://127.0.0.1:8080/interflex/api/v1
client: {client_id: client, client_secret: client}
dso: {entity_id: dso1, username: dso1, password: secret}
aggregators: [{entity_id: agg1, ...}, {entity_id: agg2, ...}]     # at least two
region_id: region-1
unit: kW
currency: EUR
ics: {plausibility: true, date-filter: true}
tls: {verify: false | "ca.pem", cert: "client.pem" | ["cert.pem", "key.pem"]}   # optional
headers: {X-Api-Key: "..."}     # optional, sent with every request, values are secrets
trust_env: false                # optional, honour environment proxies only when true
capacity: {min_rps: 500, p99_ms: 250}   # optional, thresholds of interflex-load (docs/load.md)
max_response_bytes: 8388608     # optional, largest response body read (default 8 MiB, at least 64 KiB)
parallel_requests: 4            # optional, independent probes of one test case in flight at once (1-16, default 4)
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import yaml

from interflex.errors import ConfigError
from interflex.profile import CONFORMANCE_CLASSES, OPTIONAL, is_valid_id

OPTIONAL_CLASSES = tuple(name for name, gating in CONFORMANCE_CLASSES.items() if gating == OPTIONAL)
UNITS = ("W", "kW", "MW")
DEFAULT_MAX_RESPONSE_BYTES = 8 * 1024 * 1024  # a larger response body ends the exchange (a FAIL)
MIN_MAX_RESPONSE_BYTES = 64 * 1024
DEFAULT_PARALLEL_REQUESTS = 4  # independent probes of one test case sent at once (D-107)
MAX_PARALLEL_REQUESTS = 16


@dataclass(frozen=True)
class Account:
    """A user of the target: the entity it acts for and its credentials."""

    entity_id: str
    username: str
    password: str


@dataclass(frozen=True)
class Tls:
    """TLS settings: `verify` True/False or a CA bundle path; `cert` a client cert (file or (cert, key))."""

    verify: bool | str = True
    cert: str | tuple[str, str] | None = None


@dataclass(frozen=True)
class Ixit:
    """A loaded, validated IXIT (contract C2)."""

    target_url: str
    client_id: str
    client_secret: str
    dso: Account
    aggregators: list[Account]
    region_id: str
    unit: str
    currency: str
    ics: dict[str, bool] = field(default_factory=dict)
    tls: Tls = field(default_factory=Tls)
    headers: dict[str, str] = field(default_factory=dict)
    trust_env: bool = False
    capacity: dict[str, float] = field(default_factory=dict)  # interflex-load thresholds: min_rps, p99_ms
    max_response_bytes: int = DEFAULT_MAX_RESPONSE_BYTES
    parallel_requests: int = DEFAULT_PARALLEL_REQUESTS

    @property
    def secrets(self) -> list[str]:
        """Every value that must never appear in evidence or reports."""
        values = [self.client_secret, self.dso.password, *(a.password for a in self.aggregators)]
        return [v for v in (*values, *self.headers.values()) if v]

    @property
    def entity_ids(self) -> dict[str, str]:
        """Role -> entity id: `dso`, `agg1`, `agg2`, ..."""
        ids = {"dso": self.dso.entity_id}
        ids.update({f"agg{i}": a.entity_id for i, a in enumerate(self.aggregators, 1)})
        return ids

    def with_target(self, target_url: str | None) -> Ixit:
        """A copy whose target URL is `target_url` (`--target-url` overrides the file)."""
        return self if not target_url else dataclasses.replace(self, target_url=_url(target_url, "--target-url"))


def _url(value: object, where: str) -> str:
    if not isinstance(value, str) or not value.strip():
        raise ConfigError(f"{where}: expected an http(s) URL, got {value!r}")
    parts = urlsplit(value.strip())
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise ConfigError(f"{where}: expected an http(s) URL such as http://host:8080/interflex/api/v1, got {value!r}")
    return value.strip().rstrip("/")


def _mapping(data: dict, key: str, source: str) -> dict:
    value = data.get(key)
    if not isinstance(value, dict):
        got = type(value).__name__ if value is not None else "nothing"
        raise ConfigError(f"{source}: '{key}' must be a mapping, got {got}")
    return value


def _text(data: dict, key: str, where: str) -> str:
    value = data.get(key)
    if isinstance(value, int | float) and not isinstance(value, bool):
        value = str(value)
    if not isinstance(value, str) or not value:
        raise ConfigError(f"{where}: '{key}' is missing or not a non-empty string")
    return value


def _account(data: object, where: str) -> Account:
    if not isinstance(data, dict):
        raise ConfigError(f"{where}: expected a mapping with entity_id, username, password")
    account = Account(_text(data, "entity_id", where), _text(data, "username", where), _text(data, "password", where))
    if not is_valid_id(account.entity_id):
        raise ConfigError(f"{where}: entity_id {account.entity_id!r} is not a valid id (PROFILE.md section 4)")
    return account


def _tls(data: object, source: str) -> Tls:
    if data is None:
        return Tls()
    if not isinstance(data, dict) or set(data) - {"verify", "cert"}:
        raise ConfigError(f"{source}: 'tls' must be a mapping with 'verify' and/or 'cert'")
    verify = data.get("verify", True)
    if not isinstance(verify, bool | str):
        raise ConfigError(f"{source}: tls.verify must be true, false or a CA bundle path")
    cert = data.get("cert")
    if isinstance(cert, list) and len(cert) == 2 and all(isinstance(c, str) for c in cert):
        cert = (cert[0], cert[1])
    elif cert is not None and not isinstance(cert, str):
        raise ConfigError(f"{source}: tls.cert must be a file path or a list [cert, key]")
    base = Path(source).parent if source != "<ixit>" else Path.cwd()
    for path in [verify if isinstance(verify, str) else None, *(cert if isinstance(cert, tuple) else (cert,))]:
        if path and not (base / path).is_file():
            raise ConfigError(f"{source}: tls file {path!r} not found")
    if isinstance(verify, str):
        verify = str(base / verify)
    if isinstance(cert, str):
        cert = str(base / cert)
    elif isinstance(cert, tuple):
        cert = (str(base / cert[0]), str(base / cert[1]))
    return Tls(verify=verify, cert=cert)


def _capacity(data: object, source: str) -> dict[str, float]:
    """The optional `capacity` thresholds: positive numbers under `min_rps` and/or `p99_ms`."""
    if data is None:
        return {}
    if not isinstance(data, dict) or not data or set(data) - {"min_rps", "p99_ms"}:
        raise ConfigError(f"{source}: 'capacity' must be a mapping with min_rps and/or p99_ms")
    for key, value in data.items():
        if isinstance(value, bool) or not isinstance(value, int | float) or not 0 < value < float("inf"):
            raise ConfigError(f"{source}: capacity.{key} must be a positive number, got {value!r}")
    return {key: float(value) for key, value in data.items()}


def parse_ixit(data: Any, source: str = "<ixit>") -> Ixit:
    """Validate an IXIT mapping; raise `ConfigError` with one line naming the first problem."""
    if not isinstance(data, dict):
        raise ConfigError(f"{source}: expected a YAML mapping (PROFILE.md section 10)")
    client = _mapping(data, "client", source)
    dso = _account(data.get("dso"), f"{source}: dso")
    aggregators = data.get("aggregators")
    if not isinstance(aggregators, list) or len(aggregators) < 2:
        raise ConfigError(f"{source}: 'aggregators' must list at least two aggregator accounts")
    aggs = [_account(a, f"{source}: aggregators[{i}]") for i, a in enumerate(aggregators)]
    entities = [dso.entity_id, *(a.entity_id for a in aggs)]
    if len(set(entities)) != len(entities):
        raise ConfigError(f"{source}: the dso and aggregators must have different entity ids, got {entities}")
    region_id = _text(data, "region_id", source)
    if not is_valid_id(region_id):
        raise ConfigError(f"{source}: region_id {region_id!r} is not a valid id")
    unit = _text(data, "unit", source)
    if unit not in UNITS:
        raise ConfigError(f"{source}: unit must be one of {', '.join(UNITS)}, got {unit!r}")
    currency = _text(data, "currency", source)
    if len(currency) != 3 or not currency.isascii() or not currency.isupper():
        raise ConfigError(f"{source}: currency must be an ISO 4217 code such as EUR, got {currency!r}")
    ics = data.get("ics") or {}
    if not isinstance(ics, dict):
        raise ConfigError(f"{source}: 'ics' must be a mapping of optional class -> true/false")
    for name, value in ics.items():
        if name not in OPTIONAL_CLASSES:
            raise ConfigError(f"{source}: ics: unknown optional class {name!r}; expected {', '.join(OPTIONAL_CLASSES)}")
        if not isinstance(value, bool):
            raise ConfigError(f"{source}: ics.{name} must be true or false, got {value!r}")
    headers = data.get("headers") or {}
    if not isinstance(headers, dict) or not all(isinstance(k, str) and isinstance(v, str) for k, v in headers.items()):
        raise ConfigError(f"{source}: 'headers' must map header names to string values")
    trust_env = data.get("trust_env", False)
    if not isinstance(trust_env, bool):
        raise ConfigError(f"{source}: trust_env must be true or false")
    return Ixit(
        target_url=_url(data.get("target_url"), f"{source}: target_url") if data.get("target_url") else "",
        client_id=_text(client, "client_id", f"{source}: client"),
        client_secret=_text(client, "client_secret", f"{source}: client"),
        dso=dso,
        aggregators=aggs,
        region_id=region_id,
        unit=unit,
        currency=currency,
        ics=dict(ics),
        tls=_tls(data.get("tls"), source),
        headers=dict(headers),
        trust_env=trust_env,
        capacity=_capacity(data.get("capacity"), source),
        max_response_bytes=_max_response_bytes(data.get("max_response_bytes", DEFAULT_MAX_RESPONSE_BYTES), source),
        parallel_requests=_parallel_requests(data.get("parallel_requests", DEFAULT_PARALLEL_REQUESTS), source),
    )


def _parallel_requests(value: object, source: str) -> int:
    if not isinstance(value, int) or isinstance(value, bool) or not 1 <= value <= MAX_PARALLEL_REQUESTS:
        raise ConfigError(
            f"{source}: parallel_requests must be a whole number from 1 (one request at a time) "
            f"to {MAX_PARALLEL_REQUESTS}, got {value!r}"
        )
    return value


def _max_response_bytes(value: object, source: str) -> int:
    if not isinstance(value, int) or isinstance(value, bool) or value < MIN_MAX_RESPONSE_BYTES:
        raise ConfigError(
            f"{source}: max_response_bytes must be a whole number of bytes >= {MIN_MAX_RESPONSE_BYTES}, got {value!r}"
        )
    return value


def load_ixit(path: str | Path) -> Ixit:
    """Read and validate an IXIT YAML file; `ConfigError` (one line) when unreadable or invalid.

    `target_url` may be missing from the file when `--target-url` gives it (see `Ixit.with_target`).
    """
    try:
        text = Path(path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"cannot read IXIT file {str(path)!r}: {getattr(exc, 'strerror', None) or exc}") from None
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" (line {mark.line + 1})" if mark else ""
        raise ConfigError(f"IXIT file {str(path)!r} is not valid YAML{where}: {getattr(exc, 'problem', exc)}") from None
    return parse_ixit(data, str(path))


def default_ixit() -> Ixit:
    """The IXIT of the bundled reference server's default accounts (`fixtures/ixit/reference.yaml`)."""
    from interflex._data import fixtures_dir

    path = fixtures_dir() / "ixit" / "reference.yaml"
    if path.is_file():
        return load_ixit(path)
    return parse_ixit(  # the defaults of contract C1, used until the fixture file exists
        {
            "target_url": "http://127.0.0.1:8080/interflex/api/v1",
            "client": {"client_id": "client", "client_secret": "client"},
            "dso": {"entity_id": "dso1", "username": "dso1", "password": "dso1-demo"},
            "aggregators": [
                {"entity_id": "agg1", "username": "agg1", "password": "agg1-demo"},
                {"entity_id": "agg2", "username": "agg2", "password": "agg2-demo"},
            ],
            "region_id": "region-1",
            "unit": "kW",
            "currency": "EUR",
            "ics": {"plausibility": True, "date-filter": True},
        },
        "<default ixit>",
    )
