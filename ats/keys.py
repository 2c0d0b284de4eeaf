"""`interflex-ats keygen`: make the Ed25519 key pair that signs certification reports (`--sign-key`)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from ats.errors import ConfigError
from ats.signing import PASSPHRASE_ENV, generate_key, passphrase_from_user

DESCRIPTION = f"""\
Writes an Ed25519 private key to KEY (PEM, mode 0600) and its public key to KEY.pub, and prints the
public key's fingerprint (SHA-256 of the raw key). Give KEY to `interflex-ats --cert-report DIR
--sign-key KEY`; give KEY.pub (or the fingerprint) to whoever checks the report with
`interflex-ats verify DIR --public-key KEY.pub`. The private key is never printed.

With --encrypt the key is encrypted with a passphrase: taken from the environment variable
{PASSPHRASE_ENV} when set, else asked twice on the terminal. Signing asks for it the same way.
"""


def main(argv: list[str]) -> int:
    """Run keygen; 0 on success, 4 on a configuration error (one line)."""
    parser = argparse.ArgumentParser(
        prog="interflex-ats keygen", description=DESCRIPTION, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--out", required=True, metavar="KEY", help="private key file to create (never overwritten)")
    parser.add_argument(
        "--encrypt", action="store_true", help=f"encrypt the key with a passphrase ({PASSPHRASE_ENV} or prompt)"
    )
    args = parser.parse_args(argv)
    try:
        passphrase = None
        if args.encrypt:
            passphrase = passphrase_from_user("passphrase for the new key: ", confirm=True)
            if not passphrase:
                raise ConfigError(f"--encrypt: no passphrase: set {PASSPHRASE_ENV} or run from a terminal")
        private, public, fingerprint = generate_key(Path(args.out), passphrase)
    except ConfigError as exc:
        print(f"interflex-ats keygen: {exc}", file=sys.stderr)
        return 4
    print(f"private key: {private} (mode 0600{', encrypted' if passphrase else ''}; keep it secret)")
    print(f"public key:  {public}")
    print(f"fingerprint: {fingerprint}")
    return 0
