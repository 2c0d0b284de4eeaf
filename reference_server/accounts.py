"""Accounts file: OAuth clients and users with salted password hashes (docs/reference-server.md).

Hash format: `scrypt:N:r:p$<salt base64>$<hash base64>` or
`pbkdf2_sha256:ITERATIONS$<salt base64>$<hash base64>`; compared with `hmac.compare_digest`.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
from dataclasses import dataclass
from pathlib import Path

import yaml

from interflex._data import fixtures_dir
from interflex.profile import is_valid_id

ROLES = ("dso", "aggregator")
DEFAULT_SCRYPT = (2**14, 8, 1)
_SCRYPT_MAXMEM = 2**26
_PBKDF2_MAX_ITERATIONS = 10_000_000  # a login must stay well under a second or two
_NOT_A_HASH = "is not a scrypt/pbkdf2 hash (make one with: interflex-server --hash-password)"


class AccountsError(ValueError):
    """The accounts file cannot be used; the message is one line naming the problem."""


@dataclass(frozen=True)
class User:
    """A user: login name, role ("dso" or "aggregator") and the entity id it acts for."""

    username: str
    role: str
    entity_id: str
    password_hash: str


@dataclass(frozen=True)
class Accounts:
    """Clients (client_id -> secret hash) and users (username -> User)."""

    clients: dict[str, str]
    users: dict[str, User]


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def hash_password(
    password: str, n: int = DEFAULT_SCRYPT[0], r: int = DEFAULT_SCRYPT[1], p: int = DEFAULT_SCRYPT[2]
) -> str:
    """Return a salted scrypt hash of `password` in the accounts-file format."""
    salt = secrets.token_bytes(16)
    digest = hashlib.scrypt(password.encode("utf-8"), salt=salt, n=n, r=r, p=p, maxmem=_SCRYPT_MAXMEM, dklen=32)
    return f"scrypt:{n}:{r}:{p}${_b64(salt)}${_b64(digest)}"


def _usable_params(scheme: str, params: list[int]) -> bool:
    """Parameters a login can afford: scrypt N a power of two within the memory limit, bounded PBKDF2."""
    if scheme == "scrypt":
        n, r, p = params
        return n > 1 and n & (n - 1) == 0 and r > 0 and p > 0 and 128 * n * r * p < _SCRYPT_MAXMEM
    return 0 < params[0] <= _PBKDF2_MAX_ITERATIONS


def _parse_hash(stored: str) -> tuple[str, list[int], bytes, bytes]:
    scheme_params, salt, digest = stored.split("$")
    scheme, *params = scheme_params.split(":")
    if scheme not in ("scrypt", "pbkdf2_sha256") or len(params) != (3 if scheme == "scrypt" else 1):
        raise ValueError(scheme_params)
    numbers = [int(v) for v in params]
    decoded = base64.b64decode(salt, validate=True), base64.b64decode(digest, validate=True)
    if not _usable_params(scheme, numbers) or not all(decoded):
        raise ValueError(scheme_params)
    return scheme, numbers, *decoded


def check_hash_format(stored: object) -> bool:
    """True when `stored` is a password hash this module can verify."""
    if not isinstance(stored, str):
        return False
    try:
        _parse_hash(stored)
    except ValueError:
        return False
    return True


def verify_password(password: str, stored: str) -> bool:
    """Constant-time check of `password` against a stored hash (False on any malformed input)."""
    try:
        scheme, params, salt, expected = _parse_hash(stored)
        secret = password.encode("utf-8")
        if scheme == "scrypt":
            n, r, p = params
            actual = hashlib.scrypt(secret, salt=salt, n=n, r=r, p=p, maxmem=_SCRYPT_MAXMEM, dklen=len(expected))
        else:
            actual = hashlib.pbkdf2_hmac("sha256", secret, salt, params[0], dklen=len(expected))
    except (ValueError, UnicodeError, MemoryError):
        return False
    return hmac.compare_digest(actual, expected)


def default_accounts_path() -> Path:
    """The bundled demo accounts file (`fixtures/accounts.yaml`)."""
    return fixtures_dir() / "accounts.yaml"


def _require(entry: object, where: str, keys: tuple[str, ...]) -> dict:
    if not isinstance(entry, dict):
        raise AccountsError(f"{where}: expected a mapping with keys {', '.join(keys)}")
    for key in keys:
        if not isinstance(entry.get(key), str) or not entry[key]:
            raise AccountsError(f"{where}: missing or non-string {key!r}")
    return entry


def parse_accounts(data: object, source: str = "accounts file") -> Accounts:
    """Build `Accounts` from the parsed YAML document; AccountsError names the first problem."""
    if not isinstance(data, dict) or not all(isinstance(data.get(k), list) for k in ("clients", "users")):
        raise AccountsError(f"{source}: expected top-level lists 'clients' and 'users'")
    clients: dict[str, str] = {}
    for i, entry in enumerate(data["clients"]):
        entry = _require(entry, f"{source}: clients[{i}]", ("client_id", "secret_hash"))
        if not check_hash_format(entry["secret_hash"]):
            raise AccountsError(f"{source}: clients[{i}]: secret_hash {_NOT_A_HASH}")
        if entry["client_id"] in clients:
            raise AccountsError(f"{source}: clients[{i}]: duplicate client_id {entry['client_id']!r}")
        clients[entry["client_id"]] = entry["secret_hash"]
    users: dict[str, User] = {}
    for i, entry in enumerate(data["users"]):
        entry = _require(entry, f"{source}: users[{i}]", ("username", "password_hash", "role", "entity_id"))
        if entry["role"] not in ROLES:
            raise AccountsError(f"{source}: users[{i}]: role must be one of {', '.join(ROLES)}")
        if not is_valid_id(entry["entity_id"]):
            raise AccountsError(f"{source}: users[{i}]: entity_id {entry['entity_id']!r} breaks the id pattern")
        if not check_hash_format(entry["password_hash"]):
            raise AccountsError(f"{source}: users[{i}]: password_hash {_NOT_A_HASH}")
        if entry["username"] in users:
            raise AccountsError(f"{source}: users[{i}]: duplicate username {entry['username']!r}")
        users[entry["username"]] = User(entry["username"], entry["role"], entry["entity_id"], entry["password_hash"])
    if not clients or not users:
        raise AccountsError(f"{source}: needs at least one client and one user")
    return Accounts(clients, users)


def load_accounts(path: str | Path | None = None) -> Accounts:
    """Load an accounts YAML file (None: the bundled demo accounts)."""
    path = Path(path) if path is not None else default_accounts_path()
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise AccountsError(f"cannot read accounts file {path}: {exc.strerror or exc}") from None
    except (yaml.YAMLError, UnicodeDecodeError) as exc:
        raise AccountsError(f"accounts file {path} is not valid YAML: {str(exc).splitlines()[0]}") from None
    return parse_accounts(data, str(path))
