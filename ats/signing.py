"""Ed25519 keys and detached signatures of `results.json` (issue 12).

- `generate_key(out)` writes a private key (PKCS#8 PEM, mode 0600; encrypted with a passphrase when
  one is given) and `<out>.pub` (SubjectPublicKeyInfo PEM).
- `load_signing_key(path)` refuses a key file that group or others may read, asks for the passphrase
  of an encrypted key (environment variable `PASSPHRASE_ENV`, else a prompt on the terminal) and
  accepts only Ed25519 keys. Every problem is a `ConfigError` with one line; the key is never printed.
- The fingerprint of a key is the SHA-256 of its raw 32-byte public key, in lower-case hex grouped
  by four (`fingerprint`); `parse_fingerprint` accepts it with or without spaces or colons.
- A signature is the 64 raw bytes of Ed25519 over the exact bytes of the file (`results.json.sig`),
  so `openssl pkeyutl -verify -pubin -inkey KEY.pub -rawin -in results.json -sigfile results.json.sig`
  checks it too.
"""

from __future__ import annotations

import base64
import getpass
import hashlib
import os
import re
import stat
from pathlib import Path

from cryptography.exceptions import InvalidSignature, UnsupportedAlgorithm
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from ats.errors import ConfigError

PASSPHRASE_ENV = "INTERFLEX_ATS_KEY_PASSPHRASE"
ALGORITHM = "Ed25519"
_HEX64 = re.compile(r"^[0-9a-f]{64}$")


def raw_public(key: Ed25519PublicKey) -> bytes:
    """The 32 raw bytes of a public key."""
    return key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)


def fingerprint(key: Ed25519PublicKey) -> str:
    """SHA-256 of the raw public key, lower-case hex in groups of four: `3f2a 9c01 ...`."""
    digest = hashlib.sha256(raw_public(key)).hexdigest()
    return " ".join(digest[i : i + 4] for i in range(0, 64, 4))


def parse_fingerprint(text: str) -> str:
    """A fingerprint given by a user, normalised to `fingerprint`'s form; `ConfigError` when malformed."""
    digits = re.sub(r"[\s:]", "", text).lower()
    if not _HEX64.match(digits):
        raise ConfigError("--fingerprint: expected the 64 hex digits of a SHA-256 (spaces and colons allowed)")
    return " ".join(digits[i : i + 4] for i in range(0, 64, 4))


def public_key_text(key: Ed25519PublicKey) -> str:
    """The raw public key in base64 (as `results.json` carries it)."""
    return base64.b64encode(raw_public(key)).decode("ascii")


def public_key_from_text(text: str) -> Ed25519PublicKey:
    """A public key from its base64 raw form; `ValueError` when it is not one."""
    raw = base64.b64decode(text, validate=True)
    return Ed25519PublicKey.from_public_bytes(raw)


def generate_key(out: Path, passphrase: str | None = None) -> tuple[Path, Path, str]:
    """Write a new private key to `out` (mode 0600, never overwriting) and its public key to `out.pub`;
    return both paths and the fingerprint. `ConfigError` when a file exists or cannot be written."""
    public_path = out.with_name(out.name + ".pub")
    for path in (out, public_path):
        if path.exists():
            raise ConfigError(f"{path} exists: keygen never overwrites a key")
    key = Ed25519PrivateKey.generate()
    encryption = (
        serialization.BestAvailableEncryption(passphrase.encode("utf-8"))
        if passphrase
        else serialization.NoEncryption()
    )
    private_pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, encryption)
    public_pem = key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    try:
        fd = os.open(out, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "wb") as handle:
            handle.write(private_pem)
        os.chmod(out, 0o600)  # whatever the umask
        public_path.write_bytes(public_pem)
    except OSError as exc:
        raise ConfigError(f"cannot write the key to {out}: {exc.strerror or exc}") from None
    return out, public_path, fingerprint(key.public_key())


def _ask(prompt: str) -> str | None:
    """A passphrase typed on the terminal (None when there is no terminal)."""
    try:
        with open("/dev/tty", "rb"):
            pass
    except OSError:
        return None
    try:
        return getpass.getpass(prompt)
    except (EOFError, KeyboardInterrupt):
        return None


def passphrase_from_user(prompt: str, confirm: bool = False) -> str | None:
    """The passphrase from `PASSPHRASE_ENV`, else asked on the terminal (twice with `confirm`)."""
    if os.environ.get(PASSPHRASE_ENV):
        return os.environ[PASSPHRASE_ENV]
    first = _ask(prompt)
    if first and confirm and _ask("the same passphrase again: ") != first:
        raise ConfigError("the two passphrases differ")
    return first


def load_signing_key(path: str | Path) -> Ed25519PrivateKey:
    """The Ed25519 private key of `--sign-key` (see the module docstring); `ConfigError` otherwise."""
    path = Path(path)
    try:
        mode = path.stat().st_mode
        if os.name == "posix" and mode & (stat.S_IRWXG | stat.S_IRWXO):
            raise ConfigError(
                f"--sign-key: {path} can be read by others (mode {stat.S_IMODE(mode):04o}); "
                f"a private key must be private: chmod 600 {path}"
            )
        data = path.read_bytes()
    except OSError as exc:
        raise ConfigError(f"--sign-key: cannot read {path}: {exc.strerror or exc}") from None
    password: bytes | None = None
    if b"ENCRYPTED" in data.split(b"\n", 1)[0]:
        phrase = passphrase_from_user(f"passphrase of {path}: ")
        if not phrase:
            raise ConfigError(f"--sign-key: {path} is encrypted: set {PASSPHRASE_ENV} or run from a terminal")
        password = phrase.encode("utf-8")
    try:
        key = serialization.load_pem_private_key(data, password=password)
    except (ValueError, TypeError, UnsupportedAlgorithm):
        what = "the passphrase is wrong" if password else "it is not a PEM private key (or it is encrypted)"
        raise ConfigError(f"--sign-key: cannot load {path}: {what}") from None
    if not isinstance(key, Ed25519PrivateKey):
        raise ConfigError(
            f"--sign-key: {path} is not an Ed25519 key ({type(key).__name__.removeprefix('_')}); "
            "make one with `interflex-ats keygen --out KEY`"
        )
    return key


def load_public_key(path: str | Path) -> Ed25519PublicKey:
    """An Ed25519 public key from a PEM file (`KEY.pub`); `ConfigError` otherwise."""
    try:
        data = Path(path).read_bytes()
    except OSError as exc:
        raise ConfigError(f"--public-key: cannot read {path}: {exc.strerror or exc}") from None
    try:
        key = serialization.load_pem_public_key(data)
    except (ValueError, UnsupportedAlgorithm):
        raise ConfigError(f"--public-key: {path} is not a PEM public key") from None
    if not isinstance(key, Ed25519PublicKey):
        raise ConfigError(f"--public-key: {path} is not an Ed25519 public key")
    return key


def sign(key: Ed25519PrivateKey, data: bytes) -> bytes:
    """The 64-byte Ed25519 signature of `data`."""
    return key.sign(data)


def signature_valid(key: Ed25519PublicKey, signature: bytes, data: bytes) -> bool:
    """True when `signature` is `key`'s signature of exactly `data`."""
    try:
        key.verify(signature, data)
    except InvalidSignature:
        return False
    return True
