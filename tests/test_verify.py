"""`interflex-ats verify` on a signed certification report with a waiver (issue 12, sections 2-4).

One suite run against the reference server in the fault mode `duplicate-request-accepted` (R2 accepts a
stored request_id: IFX-REQ-003 fails) with a waiver for IFX-REQ-003 and one for a passing case, signed
with a fresh key. The tests check the report, then tamper with each file of a copy and show that
`verify` catches it.
"""

from __future__ import annotations

import gzip
import html
import json
import re
import shutil
import subprocess
import sys
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from pathlib import Path

import jsonschema
import pytest

from ats.evidence import BUNDLE
from ats.signing import generate_key
from ats.verify import main as verify_main
from interflex._data import schemas_dir

FAULT = "duplicate-request-accepted"
FAILING = "IFX-REQ-003"
PASSING = "IFX-AUTH-001"
WAIVERS = f"""\
- case: {FAILING}
  reason: R2 overwrites duplicates until release 4.2 (ticket FLEX-311)
  approved_by: Jane Doe, test lab
  expires: 2999-12-31
- case: {PASSING}
  reason: a waiver nobody needs
  approved_by: John Roe
  expires: 2999-12-31
"""


@dataclass
class Signed:
    returncode: int
    output: str
    folder: Path
    key: Path
    html: Path
    junit: Path


@pytest.fixture(scope="module")
def signed(tmp_path_factory: pytest.TempPathFactory) -> Signed:
    base = tmp_path_factory.mktemp("signed")
    key, _public, _fp = generate_key(base / "lab.key")
    waivers = base / "waivers.yaml"
    waivers.write_text(WAIVERS, encoding="utf-8")
    folder, html, junit = base / "cert", base / "report.html", base / "junit.xml"
    command = [sys.executable, "-m", "ats.cli", "-p", "no:cacheprovider", "-n", "2", "--ats-examples", "2"]
    command += ["--ats-reference-fault", FAULT, "--cert-report", str(folder), "--sign-key", str(key)]
    command += ["--signer", "Test Lab <lab@example.org>", "--waivers", str(waivers)]
    command += ["--html", str(html), "--self-contained-html", "--junitxml", str(junit), "-q"]
    done = subprocess.run(command, capture_output=True, text=True, timeout=420, cwd=base)
    return Signed(done.returncode, done.stdout + done.stderr, folder, key, html, junit)


def _verify(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str]:
    code = verify_main(list(args))
    return code, capsys.readouterr().out


def _copy(signed: Signed, tmp_path: Path) -> Path:
    target = tmp_path / "copy"
    shutil.copytree(signed.folder, target)
    return target


def test_a_waived_failure_is_conformant_with_waivers(signed: Signed) -> None:
    assert signed.returncode == 0, signed.output[-3000:]
    assert "overall verdict: CONFORMANT WITH WAIVERS" in signed.output
    assert f"waiver {FAILING} [applied]: R2 overwrites duplicates" in signed.output
    assert "approved by Jane Doe, test lab, expires 2999-12-31" in signed.output
    assert f"waiver {PASSING} [unused]" in signed.output
    doc = json.loads((signed.folder / "results.json").read_text(encoding="utf-8"))
    schema = json.loads((schemas_dir() / "results.schema.json").read_text(encoding="utf-8"))
    jsonschema.validate(doc, schema)
    assert doc["verdict"] == "CONFORMANT WITH WAIVERS" and doc["totals"]["WAIVED"] == 1
    case = next(c for c in doc["cases"] if c["id"] == FAILING)
    assert case["verdict"] == "WAIVED" and case["evidence"]  # the finding and its evidence stay visible
    assert {w["case"]: w["status"] for w in doc["waivers"]} == {FAILING: "applied", PASSING: "unused"}
    page = (signed.folder / "certificate.html").read_text(encoding="utf-8")
    assert "Overall verdict: CONFORMANT WITH WAIVERS" in page and "approved by Jane Doe, test lab" in page
    report = signed.html.read_text(encoding="utf-8")
    assert "CONFORMANT WITH WAIVERS" in report and "R2 overwrites duplicates" in report


def test_the_html_rows_of_the_waived_case_say_waived(signed: Signed) -> None:
    report = signed.html.read_text(encoding="utf-8")
    blob = re.search(r'id="data-container" data-jsonblob="([^"]*)"', report)
    assert blob, "pytest-html's data container is missing"
    rows = [entry for entries in json.loads(html.unescape(blob.group(1)))["tests"].values() for entry in entries]
    verdicts = {}
    for entry in rows:
        case = re.search(r'<td class="col-case">([^<]*)</td>', entry["resultsTableRow"][2])
        verdict = re.search(r">([^<]*)</td>$", entry["resultsTableRow"][1])
        if case and verdict:
            verdicts.setdefault(case.group(1), set()).add((verdict.group(1), entry.get("verdict")))
    assert verdicts[FAILING] == {("WAIVED", "WAIVED")}  # its row failed in pytest's terms
    assert verdicts[PASSING] == {("PASS", "PASS")}  # an unused waiver changes nothing
    assert "FAIL" not in {v for pairs in verdicts.values() for v, _ in pairs}  # the waived case was the only FAIL


def test_junit_shows_the_waiver_as_a_skipped_test(signed: Signed) -> None:
    suite = ET.parse(signed.junit).getroot().find("testsuite")
    properties = {p.get("name"): p.get("value") for p in suite.iter("property")}
    assert properties["interflex-ats.verdict"] == "CONFORMANT WITH WAIVERS"
    waived = [t for t in suite.iter("testcase") if t.get("name", "").startswith(FAILING + " ")]
    assert waived and all(t.find("failure") is None for t in waived)
    skipped = [t.find("skipped") for t in waived if t.find("skipped") is not None]
    assert skipped and skipped[0].get("type") == "interflex-ats.waived"
    assert "approved by Jane Doe, test lab" in skipped[0].get("message") and "expires 2999-12-31" in skipped[0].get(
        "message"
    )
    assert suite.get("failures") == "0"


def test_certificate_names_the_signer_and_the_bundle(signed: Signed) -> None:
    doc = json.loads((signed.folder / "results.json").read_text(encoding="utf-8"))
    page = (signed.folder / "certificate.html").read_text(encoding="utf-8")
    assert doc["signature"]["signer"] == "Test Lab <lab@example.org>"
    assert "Test Lab &lt;lab@example.org&gt;" in page and doc["signature"]["fingerprint"] in page
    assert doc["evidence"]["sha256"] in page
    assert "PRIVATE KEY" not in signed.output and signed.key.read_text() not in page


def test_the_bundle_holds_every_exchange_with_its_case(signed: Signed) -> None:
    with gzip.open(signed.folder / BUNDLE, "rt", encoding="utf-8") as handle:
        records = [json.loads(line) for line in handle]
    doc = json.loads((signed.folder / "results.json").read_text(encoding="utf-8"))
    assert len(records) == doc["evidence"]["exchanges"] > 1000
    keys = {"method", "url", "status", "request_headers", "request_body", "response_headers", "response_body"}
    keys |= {"elapsed_ms", "error", "started", "caller", "truncated", "case", "nodeid", "worker"}
    assert all(set(r) == keys for r in records)
    starts = [r["started"] for r in records]
    assert starts == sorted(starts) and {r["worker"] for r in records} == {"gw0", "gw1"}
    assert {r["caller"] for r in records} >= {"dso1", "agg1", "agg2", None}
    deletes = [r for r in records if r["method"] == "DELETE" and r["case"] == "IFX-REQ-001"]
    assert deletes, "the clean-up deletions of a test are evidence too"
    assert all(r["request_headers"].get("Authorization", "***").endswith("***") for r in records)  # redacted
    # already reported: the exchanges of the failed case, and its rule ST-2 wherever else it shows (IFX-REC-006)
    assert not [f for f in doc["monitor"]["findings"] if f["case"] == FAILING or f["rule"] == "ST-2"]
    assert doc["monitor"]["left_out"]["reported"] >= 2


def test_verify_accepts_the_report_under_its_key(signed: Signed, capsys: pytest.CaptureFixture[str]) -> None:
    code, out = _verify(capsys, str(signed.folder), "--public-key", str(signed.key) + ".pub")
    assert code == 0 and out.splitlines()[-1] == "VERIFIED", out
    assert "ok    signature: valid, by Test Lab <lab@example.org>" in out
    fingerprint = json.loads((signed.folder / "results.json").read_text())["signature"]["fingerprint"]
    code, out = _verify(capsys, str(signed.folder), "--fingerprint", fingerprint.replace(" ", ":").upper(), "--regrade")
    assert code == 0 and "regrade: 0 findings" in out, out


def test_another_keys_fingerprint_fails(signed: Signed, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    _key, public, other = generate_key(tmp_path / "other.key")
    code, out = _verify(capsys, str(signed.folder), "--fingerprint", other)
    assert code == 1 and out.splitlines()[-1].startswith("NOT VERIFIED: signature: signed by key"), out
    code, out = _verify(capsys, str(signed.folder), "--public-key", str(public))
    assert code == 1 and "not by the given key" in out


def test_a_changed_verdict_is_caught(signed: Signed, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    folder = _copy(signed, tmp_path)
    results = folder / "results.json"
    results.write_text(results.read_text().replace('"verdict": "WAIVED"', '"verdict": "PASS"', 1))
    code, out = _verify(capsys, str(folder))
    assert code == 1 and "FAIL  results.json.sha256" in out and "FAIL  signature" in out, out
    # whoever recomputes the digest still cannot sign
    digest = subprocess.run(["sha256sum", "results.json"], cwd=folder, capture_output=True, text=True, check=True)
    (folder / "results.json.sha256").write_text(digest.stdout)
    code, out = _verify(capsys, str(folder))
    assert code == 1 and "ok    results.json.sha256" in out and "FAIL  signature" in out, out


def test_a_changed_exchange_is_caught(signed: Signed, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    folder = _copy(signed, tmp_path)
    with gzip.open(folder / BUNDLE, "rt", encoding="utf-8") as handle:
        lines = handle.readlines()
    lines[5] = lines[5].replace('"status": 2', '"status": 5', 1)
    with gzip.open(folder / BUNDLE, "wt", encoding="utf-8") as handle:
        handle.writelines(lines)
    code, out = _verify(capsys, str(folder))
    assert code == 1 and "FAIL  evidence: evidence.jsonl.gz has SHA-256" in out, out


def test_a_changed_signature_is_caught(signed: Signed, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    folder = _copy(signed, tmp_path)
    signature = bytearray((folder / "results.json.sig").read_bytes())
    signature[10] ^= 1
    (folder / "results.json.sig").write_bytes(bytes(signature))
    code, out = _verify(capsys, str(folder))
    assert code == 1 and "is not a valid signature of results.json" in out, out


def test_a_changed_certificate_is_caught(signed: Signed, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    folder = _copy(signed, tmp_path)
    page = folder / "certificate.html"
    text = page.read_text(encoding="utf-8")
    row = text.index(f'<td class="mono">{FAILING}</td>', text.index('<table id="cases">'))
    page.write_text(text[:row] + text[row:].replace("WAIVED", "PASS", 2), encoding="utf-8")
    code, out = _verify(capsys, str(folder))
    assert code == 1 and f"certificate: {FAILING}: the certificate shows PASS, results.json says WAIVED" in out, out
    page.write_text(text.replace("Implementation under test", "Implementation under tests"), encoding="utf-8")
    code, out = _verify(capsys, str(folder))
    assert code == 1 and "the page differs from the one results.json names" in out, out


def test_unreadable_input_exits_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out = _verify(capsys, str(tmp_path / "missing"))
    assert code == 2 and out.startswith("NOT VERIFIED:")
    (tmp_path / "results.json").write_text("{not json")
    code, out = _verify(capsys, str(tmp_path))
    assert code == 2 and "is not JSON" in out
    code, out = _verify(capsys, str(tmp_path), "--fingerprint", "abc")
    assert code == 2 and "64 hex digits" in out
