"""Write the certification report files of `--cert-report DIR`."""

from __future__ import annotations

import hashlib
import json
from collections.abc import MutableMapping
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from ats.reporting.certificate import render_certificate
from ats.reporting.digest import write_sha256sum
from ats.signing import ALGORITHM, fingerprint, public_key_text, sign

CERTIFICATE = "certificate.html"
RESULTS = "results.json"
SIGNATURE = "results.json.sig"


def signature_info(key: Ed25519PrivateKey, signer: str | None) -> dict[str, Any]:
    """The `signature` object of results.json for a signing key: algorithm, public key, fingerprint, label."""
    public = key.public_key()
    return {
        "algorithm": ALGORITHM,
        "public_key": public_key_text(public),
        "fingerprint": fingerprint(public),
        "signer": signer,
        "file": SIGNATURE,
    }


def write_cert_report(
    directory: Path, doc: MutableMapping[str, Any], signing_key: Ed25519PrivateKey | None = None
) -> list[Path]:
    """Write `certificate.html`, then `results.json` (with the certificate's SHA-256), `results.json.sha256`
    and, with a `signing_key`, the detached signature `results.json.sig` of the exact bytes of
    results.json, into `directory` (created when missing); return the paths written."""
    directory.mkdir(parents=True, exist_ok=True)
    certificate = directory / CERTIFICATE
    page = render_certificate(doc).encode("utf-8")
    certificate.write_bytes(page)
    doc["certificate_sha256"] = hashlib.sha256(page).hexdigest()
    results = directory / RESULTS
    data = (json.dumps(doc, indent=2, ensure_ascii=False) + "\n").encode("utf-8")
    results.write_bytes(data)
    paths = [certificate, results, write_sha256sum(results)]
    if signing_key is not None:
        signature = directory / SIGNATURE
        signature.write_bytes(sign(signing_key, data))
        paths.append(signature)
    else:
        (directory / SIGNATURE).unlink(missing_ok=True)  # never leave the signature of an earlier run
    return paths
