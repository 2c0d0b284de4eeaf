"""Ed25519 keys and signatures of certification reports (issue 12, section 2)."""

from __future__ import annotations

import os
import re
import stat
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from ats.cli import main as cli_main
from ats.errors import ConfigError
from ats.signing import (
    PASSPHRASE_ENV,
    fingerprint,
    generate_key,
    load_public_key,
    load_signing_key,
    parse_fingerprint,
    sign,
    signature_valid,
)


def test_keygen_writes_a_private_key_only_its_owner_reads(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert cli_main(["keygen", "--out", str(tmp_path / "lab.key")]) == 0
    out = capsys.readouterr().out
    assert stat.S_IMODE((tmp_path / "lab.key").stat().st_mode) == 0o600
    public = load_public_key(tmp_path / "lab.key.pub")
    assert f"fingerprint: {fingerprint(public)}" in out
    assert "PRIVATE KEY" not in out and (tmp_path / "lab.key").read_text() not in out
    assert re.fullmatch(r"[0-9a-f]{4}( [0-9a-f]{4}){15}", fingerprint(public))
    assert cli_main(["keygen", "--out", str(tmp_path / "lab.key")]) == 4  # never overwrites
    assert "exists" in capsys.readouterr().err


def test_a_signature_covers_the_exact_bytes(tmp_path: Path) -> None:
    _private, public_path, _fp = generate_key(tmp_path / "k")
    key = load_signing_key(tmp_path / "k")
    public = load_public_key(public_path)
    signature = sign(key, b'{"verdict": "CONFORMANT"}\n')
    assert len(signature) == 64 and signature_valid(public, signature, b'{"verdict": "CONFORMANT"}\n')
    assert not signature_valid(public, signature, b'{"verdict": "CONFORMANT"} \n')


def test_a_key_others_can_read_is_refused(tmp_path: Path) -> None:
    generate_key(tmp_path / "k")
    os.chmod(tmp_path / "k", 0o644)
    with pytest.raises(ConfigError, match=r"can be read by others \(mode 0644\); .*chmod 600"):
        load_signing_key(tmp_path / "k")


def test_an_encrypted_key_needs_its_passphrase(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    generate_key(tmp_path / "k", passphrase="correct horse")
    assert b"ENCRYPTED" in (tmp_path / "k").read_bytes()
    monkeypatch.setenv(PASSPHRASE_ENV, "correct horse")
    assert load_signing_key(tmp_path / "k") is not None
    monkeypatch.setenv(PASSPHRASE_ENV, "wrong")
    with pytest.raises(ConfigError, match="the passphrase is wrong"):
        load_signing_key(tmp_path / "k")


def test_keygen_encrypts_with_the_passphrase_from_the_environment(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv(PASSPHRASE_ENV, "correct horse")
    assert cli_main(["keygen", "--out", str(tmp_path / "k"), "--encrypt"]) == 0
    assert "encrypted" in capsys.readouterr().out and b"ENCRYPTED" in (tmp_path / "k").read_bytes()
    assert load_signing_key(tmp_path / "k") is not None
    monkeypatch.delenv(PASSPHRASE_ENV)
    with pytest.raises(ConfigError, match=f"is encrypted: set {PASSPHRASE_ENV} or run from a terminal"):
        load_signing_key(tmp_path / "k")


def test_a_key_of_another_kind_is_refused(tmp_path: Path) -> None:
    key = rsa.generate_private_key(public_exponent=65537, key_size=1024)
    pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    path = tmp_path / "rsa.key"
    path.write_bytes(pem)
    os.chmod(path, 0o600)
    with pytest.raises(ConfigError, match="is not an Ed25519 key"):
        load_signing_key(path)
    path.write_text("not a key")
    with pytest.raises(ConfigError, match="not a PEM private key"):
        load_signing_key(path)


def test_fingerprints_are_compared_in_any_spelling() -> None:
    digits = "ab" * 32
    assert parse_fingerprint(digits.upper()) == parse_fingerprint(":".join(digits[i : i + 2] for i in range(0, 64, 2)))
    with pytest.raises(ConfigError):
        parse_fingerprint("ab" * 31)


def test_a_bad_sign_key_stops_the_suite_with_exit_4(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    generate_key(tmp_path / "k")
    os.chmod(tmp_path / "k", 0o640)
    code = cli_main(["-p", "no:cacheprovider", "--cert-report", str(tmp_path / "c"), "--sign-key", str(tmp_path / "k")])
    assert code == 4
    err = capsys.readouterr().err
    assert "can be read by others" in err and "Traceback" not in err
