"""`interflex-ats verify DIR`: check a certification report offline (issue 12, docs/reports.md).

Checks, one line each: results.json against results.json.sha256; the signature results.json.sig
(by the given key or fingerprint when one is given); the evidence bundle against its SHA-256 and
exchange count in results.json, and that it holds exchanges of every test case that ran (PASS, FAIL
or WAIVED: an N/A case is skipped before it sends anything, an INCONCLUSIVE one may have stopped
before its first request); the certificate against its SHA-256 in results.json and its verdicts
against results.json. `--regrade` judges the bundle again with the installed protocol monitor and
lists every finding the results did not report (information: it never changes the outcome).
Exit 0 VERIFIED, 1 NOT VERIFIED (a check failed), 2 unreadable input.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import re
import sys
import time
from collections import Counter
from html import unescape
from pathlib import Path
from typing import Any

from ats.errors import ConfigError
from ats.evidence import BUNDLE, read_bundle
from ats.reporting.output import CERTIFICATE, RESULTS, SIGNATURE
from ats.signing import (
    fingerprint,
    load_public_key,
    parse_fingerprint,
    public_key_from_text,
    signature_valid,
)
from ats.verdicts import FAIL, PASS, WAIVED

NEEDS_EXCHANGES = (PASS, FAIL, WAIVED)  # verdicts of cases that must have exchanges in the bundle
_OVERALL = re.compile(r'id="overall">Overall verdict: ([^<]+)</div>')
_CASES_TABLE = re.compile(r'<table id="cases">(.*?)</table>', re.S)
_CASE_ROW = re.compile(r'<tr><td class="mono">([^<]+)</td>.*?<span class="v v-[^"]*">([^<]+)</span>', re.S)


class Unreadable(Exception):
    """The report cannot be checked at all (exit 2)."""


class Checks:
    """Collects one line per check; remembers the first failure."""

    def __init__(self) -> None:
        self.failure: str | None = None

    def ok(self, what: str, detail: str) -> None:
        print(f"ok    {what}: {detail}")

    def fail(self, what: str, detail: str) -> None:
        print(f"FAIL  {what}: {detail}")
        self.failure = self.failure or f"{what}: {detail}"

    def note(self, what: str, detail: str) -> None:
        print(f"note  {what}: {detail}")


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _digest_file(checks: Checks, folder: Path, data: bytes) -> None:
    sums = folder / (RESULTS + ".sha256")
    try:
        expected, _, name = sums.read_text(encoding="utf-8").strip().partition("  ")
    except (OSError, UnicodeDecodeError):
        checks.fail(sums.name, "missing or unreadable")
        return
    actual = hashlib.sha256(data).hexdigest()
    if name != RESULTS or expected != actual:
        checks.fail(sums.name, f"results.json has SHA-256 {actual}, the file says {expected or '(nothing)'}")
    else:
        checks.ok(sums.name, "results.json matches its SHA-256")


def _signature(checks: Checks, folder: Path, data: bytes, doc: dict[str, Any], key: Any, pinned: str | None) -> None:
    declared = doc.get("signature")
    sig_path = folder / SIGNATURE
    required = key is not None or pinned is not None
    if not isinstance(declared, dict):
        if required:
            checks.fail("signature", "the report is not signed, but a key was given")
        elif sig_path.exists():
            checks.fail("signature", f"{SIGNATURE} exists but results.json declares no signature")
        else:
            checks.note("signature", "none: the report is not signed (its digest shows changes, not who made them)")
        return
    try:
        signature = sig_path.read_bytes()
        embedded = public_key_from_text(str(declared.get("public_key")))
    except OSError:
        checks.fail("signature", f"{SIGNATURE} is missing or unreadable")
        return
    except ValueError:
        checks.fail("signature", "results.json carries no valid Ed25519 public key")
        return
    signer = declared.get("signer") or "(no label)"
    if fingerprint(embedded) != declared.get("fingerprint"):
        checks.fail("signature", "the fingerprint in results.json is not that of its public key")
        return
    used = key if key is not None else embedded
    if pinned is not None and fingerprint(embedded) != pinned:
        checks.fail("signature", f"signed by key {fingerprint(embedded)}, not by the expected {pinned}")
    elif key is not None and fingerprint(key) != fingerprint(embedded):
        checks.fail("signature", f"signed by key {fingerprint(embedded)}, not by the given key {fingerprint(key)}")
    elif not signature_valid(used, signature, data):
        checks.fail("signature", f"{SIGNATURE} is not a valid signature of results.json by {fingerprint(used)}")
    elif required:
        checks.ok("signature", f"valid, by {signer}, key {fingerprint(used)} (the expected key)")
    else:
        checks.ok("signature", f"valid, by {signer}, key {fingerprint(used)} (not pinned: give --fingerprint)")


def _bundle(checks: Checks, folder: Path, doc: dict[str, Any]) -> None:
    declared = doc.get("evidence")
    if not isinstance(declared, dict):
        checks.fail("evidence", "results.json declares no evidence bundle")
        return
    path = folder / BUNDLE
    if not path.is_file():
        checks.fail("evidence", f"{BUNDLE} is missing")
        return
    actual = _sha256(path)
    if actual != declared.get("sha256"):
        checks.fail("evidence", f"{BUNDLE} has SHA-256 {actual}, results.json says {declared.get('sha256')}")
        return
    per_case: Counter[str] = Counter()
    try:
        for record in read_bundle(path):
            per_case[str(record.get("case"))] += 1
    except ValueError as exc:
        checks.fail("evidence", str(exc))
        return
    total = sum(per_case.values())
    if total != declared.get("exchanges"):
        checks.fail("evidence", f"{BUNDLE} holds {total} exchanges, results.json says {declared.get('exchanges')}")
        return
    missing = [c["id"] for c in doc.get("cases") or [] if c.get("verdict") in NEEDS_EXCHANGES and not per_case[c["id"]]]
    if missing:
        checks.fail("evidence", f"no exchange of the test cases that ran: {', '.join(missing[:10])}")
        return
    checks.ok("evidence", f"{BUNDLE} matches its SHA-256: {total} exchanges of {len(per_case)} test cases")


def certificate_verdicts(page: str) -> tuple[str | None, dict[str, str]]:
    """The overall verdict and the verdict of each test case shown by a certificate page."""
    overall = _OVERALL.search(page)
    table = _CASES_TABLE.search(page)
    rows = _CASE_ROW.findall(table.group(1)) if table else []
    return (unescape(overall.group(1)) if overall else None), {unescape(c): unescape(v) for c, v in rows}


def _certificate(checks: Checks, folder: Path, doc: dict[str, Any]) -> None:
    path = folder / CERTIFICATE
    try:
        raw = path.read_bytes()
        page = raw.decode("utf-8")
    except (OSError, UnicodeDecodeError):
        checks.fail("certificate", f"{CERTIFICATE} is missing or unreadable")
        return
    overall, cases = certificate_verdicts(page)
    expected = {c["id"]: c["verdict"] for c in doc.get("cases") or []}
    if overall != doc.get("verdict"):
        checks.fail("certificate", f"shows the overall verdict {overall!r}, results.json says {doc.get('verdict')!r}")
        return
    differ = sorted(set(cases.items()) ^ set(expected.items()))
    if differ:
        case = differ[0][0]
        checks.fail(
            "certificate", f"{case}: the certificate shows {cases.get(case)}, results.json says {expected.get(case)}"
        )
        return
    if doc.get("certificate_sha256") and hashlib.sha256(raw).hexdigest() != doc["certificate_sha256"]:
        checks.fail("certificate", "the verdicts agree, but the page differs from the one results.json names")
        return
    checks.ok("certificate", f"{doc.get('verdict')}, {len(cases)} test case verdicts agree with results.json")


def regrade(folder: Path, doc: dict[str, Any]) -> list[dict[str, Any]]:
    """The findings of the installed monitor on the bundle that the results did not report."""
    from ats.reporting.monitoring import finding_key, judge_bundle, platform_from_dict

    monitor = doc.get("monitor") if isinstance(doc.get("monitor"), dict) else {}
    platform = platform_from_dict(monitor["platform"]) if monitor.get("platform") else None
    if platform is None:
        from interflex.monitor import Platform

        platform = Platform()
    failed = [c for c in doc.get("cases") or [] if c.get("verdict") in (FAIL, WAIVED)]
    cases, rules = {c["id"] for c in failed}, {r for c in failed for r in c.get("references") or []}
    known = {finding_key(f) for f in monitor.get("findings") or []}
    judged = judge_bundle(folder / BUNDLE, platform, cases, rules, complete=bool(monitor.get("complete")))
    return [f for f in judged["findings"] if finding_key(f) not in known]


def _load(folder: Path) -> tuple[bytes, dict[str, Any]]:
    if not folder.is_dir():
        raise Unreadable(f"{folder} is not a directory")
    try:
        data = (folder / RESULTS).read_bytes()
        doc = json.loads(data)
    except OSError as exc:
        raise Unreadable(f"cannot read {folder / RESULTS}: {exc.strerror or exc}") from None
    except (ValueError, UnicodeDecodeError):
        raise Unreadable(f"{folder / RESULTS} is not JSON") from None
    if not isinstance(doc, dict) or not str(doc.get("format", "")).startswith("interflex-ats-results/"):
        raise Unreadable(f"{folder / RESULTS} is not an interflex-ats results document")
    return data, doc


def run(folder: Path, key: Any = None, pinned: str | None = None, with_regrade: bool = False) -> int:
    """Check the report in `folder`; print one line per check and the outcome; return the exit status."""
    try:
        data, doc = _load(folder)
    except Unreadable as exc:
        print(f"NOT VERIFIED: {exc}")
        return 2
    checks = Checks()
    _digest_file(checks, folder, data)
    _signature(checks, folder, data, doc, key, pinned)
    _bundle(checks, folder, doc)
    _certificate(checks, folder, doc)
    if with_regrade and (folder / BUNDLE).is_file() and checks.failure is None:
        started = time.monotonic()
        try:
            found = regrade(folder, doc)
        except ValueError as exc:
            checks.fail("regrade", str(exc))
        except Exception as exc:  # a judging error of the installed monitor is reported, never a traceback
            checks.fail("regrade", f"the monitor could not judge the bundle: {type(exc).__name__}: {exc}")
        else:
            seconds = time.monotonic() - started
            for f in found:
                print(
                    f"regrade #{f['exchange']} {f.get('operation') or '-'} {f['severity']} {f['rule']} "
                    f"({f['side']}, {f.get('case') or 'no test case'}): {f['message']}"
                )
            checks.note(
                "regrade",
                f"{len(found)} findings of the installed monitor the results did not report ({seconds:.1f} s)",
            )
    if checks.failure is not None:
        print(f"NOT VERIFIED: {checks.failure}")
        return 1
    print("VERIFIED")
    return 0


def main(argv: list[str]) -> int:
    """`interflex-ats verify DIR [--public-key PUB | --fingerprint HEX] [--regrade]`."""
    parser = argparse.ArgumentParser(
        prog="interflex-ats verify",
        description=__doc__.split("\n\n", 1)[1],
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("folder", metavar="DIR", help="the folder written by --cert-report DIR")
    who = parser.add_mutually_exclusive_group()
    who.add_argument("--public-key", metavar="PUB", help="the signature must be by this Ed25519 public key (PEM)")
    who.add_argument("--fingerprint", metavar="HEX", help="the signature must be by the key with this fingerprint")
    parser.add_argument("--regrade", action="store_true", help="judge the evidence again with the installed monitor")
    args = parser.parse_args(argv)
    try:
        key = load_public_key(args.public_key) if args.public_key else None
        pinned = parse_fingerprint(args.fingerprint) if args.fingerprint else None
    except ConfigError as exc:
        print(f"NOT VERIFIED: {exc}")
        return 2
    return run(Path(args.folder), key, pinned, args.regrade)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
