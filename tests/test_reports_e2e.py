"""End to end: the suite against the in-process reference server in a fault mode writes every report
(issue 6) — with and without pytest-xdist — consistently, validated, digested and without secrets.

The server runs in this process with accounts whose passwords, client secret and API key are random
per run, and records every token it issues, so the reports can be searched for all of them.
"""

from __future__ import annotations

import gzip
import html
import json
import re
import secrets
import subprocess
import sys
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import jsonschema
import pytest
import yaml

from ats.reporting.digest import verify_sha256sum
from interflex._data import schemas_dir
from reference_server import FAULTS, ReferenceServer
from reference_server.accounts import hash_password
from reference_server.tokens import Tokens

# Fault modes of the reference server (docs/contracts.md C1): each makes the target fail in one class.
FAULT = "offer-delete-unknown-204"  # core-offers: O4 of an unknown id answers 204
TOKEN_FAULT = "token-type-mac"  # core-auth: token responses (with tokens) become evidence
SUITE = ["--pyargs", "ats"]
SUITE_OPTIONS = ["--ats-examples", "2"]
SERIAL_CLASSES = "core-auth,core-offers,plausibility,date-filter"  # the run without xdist: a smaller selection
TOKEN_SHAPE = re.compile(r'"(?:access_token|refresh_token)"\s*:\s*"(?!\*\*\*")[^"]+"')


@dataclass
class Target:
    """The running server, the IXIT file for it and every secret it must never leak."""

    server: ReferenceServer
    fault: str
    ixit: Path
    secrets: list[str]
    tokens: list[str] = field(default_factory=list)


@dataclass
class Run:
    """One suite run: its exit code, output and report files."""

    returncode: int
    output: str
    folder: Path

    @property
    def cert(self) -> Path:
        return self.folder / "cert"

    def files(self) -> list[Path]:
        """The files the run wrote, without tool caches such as `.hypothesis/`."""
        files = (p for p in self.folder.rglob("*") if p.is_file())
        return sorted(p for p in files if not p.relative_to(self.folder).parts[0].startswith("."))

    def results(self) -> dict:
        return json.loads((self.cert / "results.json").read_text(encoding="utf-8"))


@pytest.fixture
def target(request: pytest.FixtureRequest, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Target]:
    """The reference server in the fault mode `request.param` (default FAULT) with random secrets."""
    fault = getattr(request, "param", FAULT)
    folder = tmp_path / "target"
    folder.mkdir()
    words = {name: f"{name}-{secrets.token_urlsafe(12)}" for name in ("client", "dso1", "agg1", "agg2", "apikey")}
    fast = {"n": 1024, "r": 8, "p": 1}
    accounts = {
        "clients": [{"client_id": "client", "secret_hash": hash_password(words["client"], **fast)}],
        "users": [
            {
                "username": "dso1",
                "password_hash": hash_password(words["dso1"], **fast),
                "role": "dso",
                "entity_id": "dso1",
            },
            *(
                {"username": a, "password_hash": hash_password(words[a], **fast), "role": "aggregator", "entity_id": a}
                for a in ("agg1", "agg2")
            ),
        ],
    }
    (folder / "accounts.yaml").write_text(yaml.safe_dump(accounts), encoding="utf-8")
    issued: list[str] = []
    original = Tokens.issue

    def recording_issue(self: Tokens, username: str) -> tuple[str, str]:
        pair = original(self, username)
        issued.extend(pair)
        return pair

    monkeypatch.setattr(Tokens, "issue", recording_issue)
    with ReferenceServer(accounts=folder / "accounts.yaml", fault=fault) as server:
        ixit = {
            "target_url": server.base_url,
            "client": {"client_id": "client", "client_secret": words["client"]},
            "dso": {"entity_id": "dso1", "username": "dso1", "password": words["dso1"]},
            "aggregators": [{"entity_id": a, "username": a, "password": words[a]} for a in ("agg1", "agg2")],
            "region_id": "region-1",
            "unit": "kW",
            "currency": "EUR",
            "ics": {"plausibility": True, "date-filter": False},
            "headers": {"X-Api-Key": words["apikey"]},
        }
        (folder / "ixit.yaml").write_text(yaml.safe_dump(ixit), encoding="utf-8")
        yield Target(server, fault, folder / "ixit.yaml", list(words.values()), issued)


def run_suite(target: Target, folder: Path, *extra: str, cli: bool = False) -> Run:
    """Run the suite in `folder` as `pytest --pyargs ats ...` or, with `cli`, as `interflex-ats ...`."""
    folder.mkdir()
    cli_script = str(Path(sys.executable).with_name("interflex-ats"))
    command = [cli_script] if cli else [sys.executable, "-m", "pytest", *SUITE]
    args = [
        *command,
        *SUITE_OPTIONS,
        "--ixit",
        str(target.ixit),
        "-p",
        "no:cacheprovider",
        "-q",
        "--cert-report",
        "cert",
        "--html",
        "report.html",
        "--self-contained-html",
        "--junitxml",
        "junit.xml",
        *extra,
    ]
    proc = subprocess.run(args, cwd=folder, capture_output=True, text=True, timeout=600)
    return Run(proc.returncode, proc.stdout + proc.stderr, folder)


@pytest.mark.parametrize(("mode", "target"), [("xdist", FAULT), ("serial", TOKEN_FAULT)], indirect=["target"])
def test_suite_run_writes_consistent_reports(mode: str, target: Target, tmp_path: Path) -> None:
    """One run per mode: `pytest --pyargs ats -n 2`, and `interflex-ats` without xdist on fewer classes."""
    extra = ("-n", "2") if mode == "xdist" else ("--ats-class", SERIAL_CLASSES)
    run = run_suite(target, tmp_path / mode, *extra, cli=mode == "serial")
    try:
        check_every_report_file_is_written(run)
        check_results_json_is_valid_and_reports_the_fault(run, target.fault)
        check_digest_file_matches_results_json(run)
        check_certificate_title_heading_and_content(run)
        check_pytest_html_report_shows_verdicts_and_summary(run)
        check_junit_xml_names_carry_case_ids(run)
        check_no_secret_or_token_in_any_report_file(run, target)
        check_partial_run_is_marked(run, partial=mode == "serial")
        if mode == "serial":
            assert [c["name"] for c in run.results()["classes"]] == SERIAL_CLASSES.split(",")
    except (AssertionError, OSError) as exc:
        raise AssertionError(f"{exc}\n--- end of the suite's output ---\n{run.output[-4000:]}") from exc


def check_partial_run_is_marked(run: Run, partial: bool) -> None:
    """Issue 5: `--ats-class` makes a partial run; every report says so, the whole suite's does not."""
    doc = run.results()
    assert doc["complete"] is (not partial) and bool(doc["not_run"]) is partial and doc["errors"] == []
    page = (run.cert / "certificate.html").read_text(encoding="utf-8")
    html_report = (run.folder / "report.html").read_text(encoding="utf-8")
    assert ("<b>PARTIAL RUN</b>" in page) is partial and ('id="ats-partial"' in html_report) is partial
    assert ("a certificate needs the whole suite" in run.output) is partial


def check_every_report_file_is_written(run: Run) -> None:
    assert run.returncode == 1  # NOT CONFORMANT -> tests failed (issue 5)
    names = {str(p.relative_to(run.folder)) for p in run.files()}
    assert names == {
        "cert/certificate.html",
        "cert/results.json",
        "cert/results.json.sha256",
        "cert/evidence.jsonl.gz",
        "report.html",
        "junit.xml",
    }
    assert "certification report: cert/certificate.html" in run.output


def check_results_json_is_valid_and_reports_the_fault(run: Run, fault: str) -> None:
    doc = run.results()
    schema = json.loads((schemas_dir() / "results.schema.json").read_text(encoding="utf-8"))
    jsonschema.Draft202012Validator(schema, format_checker=jsonschema.FormatChecker()).validate(doc)
    assert doc["verdict"] == "NOT CONFORMANT"
    fault_class = FAULTS[fault].conformance_class
    failing = [c for c in doc["cases"] if c["verdict"] == "FAIL"]
    assert any(c["class"] == fault_class for c in failing)
    assert all(c["message"] and c["evidence"] for c in failing)
    assert all(e["exchanges"] for c in failing for e in c["evidence"] if c["class"] == fault_class)
    ids = [c["id"] for c in doc["cases"]]
    assert len(ids) == len(set(ids)) > 10
    classes = {c["name"]: c for c in doc["classes"]}
    assert classes[fault_class]["verdict"] == "FAIL"
    assert classes["date-filter"]["gating"] is False  # not declared in this IXIT
    for cls in doc["classes"]:
        assert sum(cls["counts"].values()) == sum(1 for c in doc["cases"] if c["class"] == cls["name"])
    assert doc["target"]["url"] == doc["target"]["url"].split("@")[-1]  # no user-info
    assert doc["target"]["entity_ids"] == {"dso": "dso1", "agg1": "agg1", "agg2": "agg2"}
    assert doc["target"]["ics"] == {"plausibility": True, "date-filter": False}
    assert doc["run"]["started"] <= doc["run"]["finished"]
    command = doc["reproduce"]["command"]
    assert "--pyargs ats" in command and "/target/ixit.yaml" in command and "--cert-report cert" in command


def check_digest_file_matches_results_json(run: Run) -> None:
    sums = run.cert / "results.json.sha256"
    assert re.fullmatch(r"[0-9a-f]{64}  results\.json\n", sums.read_text(encoding="utf-8"))
    assert verify_sha256sum(sums)


def check_certificate_title_heading_and_content(run: Run) -> None:
    doc = run.results()
    page = (run.cert / "certificate.html").read_text(encoding="utf-8")
    host = doc["target"]["host"]
    assert host.startswith("127.0.0.1:") and host in doc["title"]
    assert f"<title>{html.escape(doc['title'])}</title>" in page and f"<h1>{html.escape(doc['title'])}</h1>" in page
    assert "<script" not in page
    assert "Overall verdict: NOT CONFORMANT" in page
    for case in doc["cases"]:
        assert (f'id="{case["id"]}"' in page) == (case["verdict"] in ("FAIL", "INCONCLUSIVE"))


def check_pytest_html_report_shows_verdicts_and_summary(run: Run) -> None:
    doc = run.results()
    page = (run.folder / "report.html").read_text(encoding="utf-8")
    assert f'<title id="head-title">{html.escape(doc["title"].replace("certificate", "report"))}</title>' in page
    assert "Overall verdict: NOT CONFORMANT" in page and 'id="ats-classes"' in page
    blob = re.search(r'data-jsonblob="([^"]*)"', page).group(1)
    tests = [t for rows in json.loads(html.unescape(blob))["tests"].values() for t in rows]
    case_verdicts = {c["id"]: c["verdict"] for c in doc["cases"]}
    seen = set()
    for test in tests:
        row = "".join(test["resultsTableRow"])
        verdict = re.search(r'class="col-verdict"[^>]*>([^<]*)<', row).group(1)
        case = re.search(r'class="col-case">([^<]*)<', row).group(1)
        assert verdict in ("PASS", "FAIL", "INCONCLUSIVE", "N/A"), row
        assert re.match(r"IFX-[A-Z]+-\d{3}$", case)
        seen.add(case)
        if verdict == "FAIL":
            assert case_verdicts[case] == "FAIL"
            extras = " ".join(e["content"] for e in test["extras"] if e["format_type"] == "html")
            assert "Request headers and body" in extras and "FAIL" in extras
    assert seen == set(case_verdicts)


def check_junit_xml_names_carry_case_ids(run: Run) -> None:
    doc = run.results()
    cases = list(ET.parse(run.folder / "junit.xml").getroot().iter("testcase"))
    assert cases and all(re.match(r"IFX-[A-Z]+-\d{3} test_", c.get("name")) for c in cases)
    assert {c.get("name").split()[0] for c in cases} == {c["id"] for c in doc["cases"]}
    failed = {c.get("name").split()[0] for c in cases if c.find("failure") is not None}
    assert failed == {c["id"] for c in doc["cases"] if c["verdict"] == "FAIL"}
    assert sum(c["tests"] for c in doc["cases"]) == len(cases)


def check_no_secret_or_token_in_any_report_file(run: Run, target: Target) -> None:
    """No IXIT secret and no issued token in any file, while the evidence that carried them is there, masked:
    authenticated requests (`Bearer ***`) for FAULT, token responses (`"access_token": "***"`) for TOKEN_FAULT."""
    assert len(target.tokens) >= 6  # the suite did log in: these are the tokens the target issued
    marker = '"access_token": "***"' if target.fault == TOKEN_FAULT else "Bearer ***"
    seen = False
    for path in run.files():
        data = gzip.decompress(path.read_bytes()) if path.suffix == ".gz" else path.read_bytes()  # the bundle too
        text = data.decode("utf-8")
        for secret in [*target.secrets, *target.tokens]:
            assert secret not in text, f"{path.name} contains a secret"
        plain = html.unescape(text).replace('\\"', '"')
        assert not TOKEN_SHAPE.search(plain), path.name
        seen |= marker in plain
    assert seen, marker


# -- a real browser ---------------------------------------------------------------------------------
CHROMIUM = next((p for p in ("/usr/bin/chromium", "/usr/bin/chromium-browser") if Path(p).exists()), None)


def chromium(page: Path, profile: Path, *mode: str) -> subprocess.CompletedProcess:
    args = [
        CHROMIUM,
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--hide-scrollbars",
        "--force-color-profile=srgb",
        f"--user-data-dir={profile}",
        *mode,
        page.as_uri(),
    ]
    return subprocess.run(args, capture_output=True, text=True, timeout=120, check=True)


def png_pixels(path: Path) -> tuple[int, int, list[bytes]]:
    """Width, height and RGB(A) rows of an 8-bit, non-interlaced truecolour PNG (what chromium writes)."""
    import struct
    import zlib

    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    pos, idat, header = 8, b"", None
    while pos < len(data):
        length, kind = struct.unpack(">I4s", data[pos : pos + 8])
        chunk = data[pos + 8 : pos + 8 + length]
        header = chunk if kind == b"IHDR" else header
        idat += chunk if kind == b"IDAT" else b""
        pos += 12 + length
    width, height, depth, color, _, _, interlace = struct.unpack(">IIBBBBB", header)
    assert depth == 8 and color in (2, 6) and interlace == 0
    bpp = 3 if color == 2 else 4
    raw, stride, rows, prev = zlib.decompress(idat), width * bpp, [], bytearray(width * bpp)
    for y in range(height):
        kind, line = raw[y * (stride + 1)], bytearray(raw[y * (stride + 1) + 1 : (y + 1) * (stride + 1)])
        for i in range(stride):
            a = line[i - bpp] if i >= bpp else 0
            b, c = prev[i], prev[i - bpp] if i >= bpp else 0
            if kind == 1:
                line[i] = (line[i] + a) & 0xFF
            elif kind == 2:
                line[i] = (line[i] + b) & 0xFF
            elif kind == 3:
                line[i] = (line[i] + (a + b) // 2) & 0xFF
            elif kind == 4:
                p = a + b - c
                pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
                line[i] = (line[i] + (a if pa <= pb and pa <= pc else b if pb <= pc else c)) & 0xFF
        rows.append(bytes(line))
        prev = line
    return width, height, [bytes(r[i : i + 3]) for r in rows for i in range(0, stride, bpp)]


@pytest.mark.skipif(CHROMIUM is None, reason="no chromium binary (Debian: apt-get install chromium; .ci/run does)")
def test_certificate_renders_in_headless_chromium(target: Target, tmp_path: Path) -> None:
    run = run_suite(target, tmp_path / "run", "--ats-class", "core-auth,core-offers")
    assert run.returncode == 1, run.output[-3000:]
    doc = run.results()
    page = run.cert / "certificate.html"
    dom = chromium(page, tmp_path / "profile", "--dump-dom").stdout
    assert re.search(r'id="overall"[^>]*>Overall verdict: NOT CONFORMANT<', dom)
    table = dom.split('id="classes"')[1].split("</table>")[0]
    for cls in doc["classes"]:
        assert re.search(rf"<td>{re.escape(cls['name'])}</td>.*?>{cls['verdict']}</span>", table), cls["name"]
    shot = tmp_path / "certificate.png"
    chromium(page, tmp_path / "profile", f"--screenshot={shot}", "--window-size=1000,1200")
    width, height, pixels = png_pixels(shot)
    assert (width, height) == (1000, 1200)
    colours = {}
    for px in pixels:
        colours[px] = colours.get(px, 0) + 1
    non_white = sum(n for px, n in colours.items() if px != b"\xff\xff\xff")
    assert non_white > 0.05 * width * height  # not a blank page
    assert colours.get(bytes.fromhex("ffebee"), 0) > 20_000  # the NOT CONFORMANT banner's background
    assert colours.get(bytes.fromhex("eeeeee"), 0) > 2_000  # the class table's header cells
    assert colours.get(bytes.fromhex("c62828"), 0) > 200  # FAIL bars of the chart (and the banner border)
    assert colours.get(bytes.fromhex("2e7d32"), 0) > 200  # PASS bars of the chart
