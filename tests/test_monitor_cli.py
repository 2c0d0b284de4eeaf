"""`interflex-monitor`: the hand-made captures of fixtures/captures, formats, inputs and exit statuses."""

from __future__ import annotations

import gzip
import json
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from interflex.ixit import load_ixit
from interflex.monitor import CaptureError, HttpExchange, exchange_from_record, judge, platform_from_ixit, read_capture
from interflex.monitor._capture import exchange_from_har
from interflex.monitor.cli import in_start_order, main

ROOT = Path(__file__).resolve().parents[1]
CAPTURES = ROOT / "fixtures" / "captures"
IXIT = ROOT / "fixtures" / "ixit" / "reference.yaml"
HARS = sorted(CAPTURES.glob("*.har"))


def run(capsys: pytest.CaptureFixture[str], *args: str | Path) -> tuple[int, str, str]:
    status = main([str(a) for a in args])
    out, err = capsys.readouterr()
    return status, out, err


def test_every_capture_has_its_expected_findings() -> None:
    assert len(HARS) >= 5 and all(har.with_suffix(".expected.json").exists() for har in HARS)


@pytest.mark.parametrize("har", HARS, ids=[h.stem for h in HARS])
def test_capture_gives_the_expected_findings(har: Path, capsys: pytest.CaptureFixture[str]) -> None:
    expected = json.loads(har.with_suffix(".expected.json").read_text(encoding="utf-8"))
    args = ["--format", "json", "--ixit", ROOT / expected["ixit"], har] + (
        ["--complete"] if expected["complete"] else []
    )
    status, out, err = run(capsys, *args)
    report = json.loads(out)
    found = [{k: f[k] for k in ("exchange", "severity", "side", "rule")} for f in report["findings"]]
    assert found == expected["findings"]
    errors = any(f["severity"] == "error" for f in found)
    assert (status, err) == (1 if errors else 0, "")
    assert report["summary"]["errors"] == sum(f["severity"] == "error" for f in found)


def test_seeded_captures_cover_both_sides() -> None:
    sides = {}
    for name in ("server-faults", "client-faults"):
        expected = json.loads((CAPTURES / f"{name}.expected.json").read_text(encoding="utf-8"))
        sides[name] = {f["rule"] for f in expected["findings"] if f["side"] == name.split("-")[0]}
    assert {"ID-1", "ST-1", "ST-2", "ST-4", "ST-5", "ST-7", "ST-9", "ST-10", "AU-4", "AU-5", "PL-7"} - {
        "ST-2"
    } <= sides["server-faults"]
    assert {"CL-1", "CL-2", "CL-3", "CL-4", "CL-5", "CL-6"} <= sides["client-faults"]


def test_text_report_names_capture_exchange_rule_and_side(capsys: pytest.CaptureFixture[str]) -> None:
    status, out, _ = run(capsys, "--ixit", IXIT, "--complete", CAPTURES / "server-faults.har")
    assert status == 1
    assert "server-faults.har#4 R1: error: server: R1 returned 'req-1' again [ID-1]" in out
    assert out.splitlines()[-1].startswith("16 exchanges, 19 errors (server 14, client 5), 1 warnings")


def test_without_ixit_or_complete_whole_history_rules_soften(capsys: pytest.CaptureFixture[str]) -> None:
    status, out, _ = run(capsys, "--format", "json", CAPTURES / "server-faults.har")
    found = {(f["rule"], f["severity"]) for f in json.loads(out)["findings"]}
    assert not {rule for rule, _ in found} & {"ST-4", "AU-5"}  # off-7 may predate the capture; roles unknown
    assert status == 1


def test_junit_and_html_reports(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    junit = tmp_path / "monitor.xml"
    status, out, _ = run(capsys, "--format", "junit", "--output", junit, "--ixit", IXIT, CAPTURES / "client-faults.har")
    assert status == 1 and out.startswith("14 exchanges, ")
    suite = ET.parse(junit).getroot().find("testsuite")
    assert suite is not None
    failed = {case.get("name") for case in suite.iter("testcase") if case.find("failure") is not None}
    assert {"CL-1 (client)", "CL-6 (client)", "ST-7 (server)"} <= failed and "ST-9 (server)" not in failed
    page = tmp_path / "monitor.html"
    run(capsys, "--format", "html", "--output", page, CAPTURES / "client-faults.har")
    text = page.read_text(encoding="utf-8")
    assert text.startswith("<!DOCTYPE html>") and "CL-6" in text and "<script" not in text


def records(har: Path) -> list[dict[str, object]]:
    """The capture as evidence records (what the suite's bundle holds), tokens redacted, callers named."""
    out = []
    for exchange in read_capture(har):
        token = exchange.request_headers.get("authorization", "")
        out.append(
            {
                "method": exchange.method,
                "url": exchange.url,
                "status": exchange.status,
                "request_headers": {**exchange.request_headers, **({"authorization": "Bearer ***"} if token else {})},
                "request_body": exchange.request_body.decode(),
                "response_headers": dict(exchange.response_headers),
                "response_body": exchange.response_body.decode(),
                "elapsed_ms": (exchange.finished - exchange.started) * 1000,
                "error": exchange.error,
                "started": exchange.started,
                "caller": token.removeprefix("Bearer tok-") or None,
                "truncated": False,
                "case": "IFX-X-001",
            }
        )
    return out


def test_evidence_bundle_and_json_lines_judge_like_the_har(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    har = CAPTURES / "server-faults.har"
    lines = "".join(json.dumps(record) + "\n" for record in records(har))
    bundle, plain = tmp_path / "evidence.jsonl.gz", tmp_path / "capture.ndjson"
    bundle.write_bytes(gzip.compress(lines.encode()))
    plain.write_text("\n" + lines, encoding="utf-8")  # blank lines are skipped
    expected = [
        (f.exchange, f.rule, f.side) for f in judge(read_capture(har), platform_from_ixit(load_ixit(IXIT)), True)
    ]
    for capture in (bundle, plain):
        status, out, _ = run(capsys, "--format", "json", "--complete", "--ixit", IXIT, capture)
        got = [(f["exchange"], f["rule"], f["side"]) for f in json.loads(out)["findings"]]
        assert got == expected and status == 1


def test_several_captures_are_merged_by_start_time(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """The logins in one capture identify the callers of the other (merged by start time)."""
    all_records = records(CAPTURES / "server-faults.har")
    first, second = tmp_path / "a.jsonl", tmp_path / "b.jsonl"
    first.write_text("".join(json.dumps(r | {"caller": None}) + "\n" for r in all_records[::2]), encoding="utf-8")
    second.write_text("".join(json.dumps(r | {"caller": None}) + "\n" for r in all_records[1::2]), encoding="utf-8")
    _, out, _ = run(capsys, "--format", "json", "--complete", first, second)
    found = json.loads(out)["findings"]
    assert {f["capture"] for f in found} == {str(first), str(second)}
    assert ("ID-1", str(first), 2) in {(f["rule"], f["capture"], f["exchange"]) for f in found}  # record 4: a.jsonl#2


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("missing.har", None, "missing.har: no such file"),
        ("cut.har", '{"log": {"entries": [{"request": {', "not a HAR 1.2 capture: not JSON"),
        ("nolog.har", '{"entries": []}', "not a HAR 1.2 capture: no log.entries array"),
        ("entry.har", '{"log": {"entries": [42]}}', "entry.har#/log/entries/0: not a HAR entry"),
        ("binary.har", b"\xff\xfe\x00{", "not UTF-8"),
        ("bad.jsonl", '{"method": "GET", "url": "/x"}\n{oops\n', "bad.jsonl:2: not JSON"),
        ("array.jsonl", "[1, 2]\n", "array.jsonl:1: not an exchange record"),
        ("nourl.jsonl", '{"method": "GET"}\n', "nourl.jsonl:1: an exchange record needs"),
        ("bad.jsonl.gz", b"not gzip at all", "bad.jsonl.gz: cannot read"),
        ("capture.txt", "", "unknown capture type"),
    ],
)
def test_unreadable_input_is_one_line_and_exit_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], name: str, content: str | bytes | None, message: str
) -> None:
    path = tmp_path / name
    if isinstance(content, bytes):
        path.write_bytes(content)
    elif content is not None:
        path.write_text(content, encoding="utf-8")
    status, _, err = run(capsys, path)
    assert status == 2
    assert err.startswith("interflex-monitor: error: ") and message in err and err.count("\n") == 1
    with pytest.raises(CaptureError):
        list(read_capture(path))


def test_bad_ixit_and_unwritable_output_exit_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    bad = tmp_path / "ixit.yaml"
    bad.write_text("target_url: [", encoding="utf-8")
    status, _, err = run(capsys, "--ixit", bad, CAPTURES / "negotiation-valid.har")
    assert status == 2 and err.count("\n") == 1 and "Traceback" not in err
    status, _, err = run(capsys, "--output", tmp_path / "no" / "dir.txt", CAPTURES / "negotiation-valid.har")
    assert status == 2 and "cannot write" in err


def test_usage_errors_and_help(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_info:
        main(["--format", "xml", "x.har"])
    assert exit_info.value.code == 2
    with pytest.raises(SystemExit):
        main(["--help"])
    assert "--complete" in capsys.readouterr().out


def test_record_fields_are_read_leniently() -> None:
    exchange = exchange_from_record(
        {"method": "get", "url": "/interflex/api/v1/x", "status": True, "elapsed_ms": "9"}, 7
    )
    assert (exchange.method, exchange.status, exchange.started, exchange.finished, exchange.index) == (
        "GET",
        None,
        7.0,
        7.0,
        7,
    )
    with pytest.raises(ValueError):
        exchange_from_record({"url": "/x"}, 0)


def test_times_beyond_a_float_are_read_as_missing() -> None:
    """A JSON integer too large for a float (`time`, `started`, `elapsed_ms`) is no time, not a traceback."""
    huge = 10**400
    record = exchange_from_record({"method": "GET", "url": "/x", "started": huge, "elapsed_ms": huge}, 3)
    assert (record.started, record.finished) == (3.0, 3.0)
    entry = {
        "startedDateTime": "2026-12-01T00:00:00Z",
        "time": huge,
        "request": {"method": "GET", "url": "/x", "headers": []},
        "response": {"status": 200, "headers": [], "content": {"text": ""}},
    }
    har = exchange_from_har(entry, 0)
    assert har.finished == har.started == 1796083200.0


def test_large_har_is_streamed(tmp_path: Path) -> None:
    """Entries come one by one from a HAR split across read chunks (numbers at chunk edges included)."""
    entry = json.loads((CAPTURES / "negotiation-valid.har").read_text(encoding="utf-8"))["log"]["entries"][1]
    path = tmp_path / "big.har"
    with path.open("w", encoding="utf-8") as handle:
        handle.write(
            '{"log": {"version": "1.2", "creator": {"name": "x"}, "pages": [{"title": "entries"}], "entries": ['
        )
        handle.write(",".join([json.dumps(entry)] * 3000))
        handle.write('], "comment": 12345}}')
    assert sum(1 for _ in read_capture(path)) == 3000


def test_in_start_order_restores_order_within_the_window() -> None:
    exchanges = [HttpExchange(i, "GET", "/x", started=float(i)) for i in range(50)]
    ended_order = sorted(exchanges, key=lambda e: (e.started // 5, -e.started))  # late by up to 4 places
    assert [e.index for e in in_start_order(ended_order, window=5)] == list(range(50))


def test_a_har_request_body_cut_by_the_proxy_is_not_judged(tmp_path: Path) -> None:
    """`request.bodySize` larger than the text kept (interflex-proxy over `--max-body`): no false CL-4."""
    entries = json.loads((CAPTURES / "negotiation-valid.har").read_text(encoding="utf-8"))["log"]["entries"]
    login = entries[0]
    post = next(e for e in entries if e["request"]["method"] == "POST" and "flexibilityRequests" in e["request"]["url"])
    whole = post["request"]["postData"]["text"].encode()
    post["request"]["postData"]["text"] = whole[:40].decode()
    post["request"]["bodySize"] = len(whole)
    path = tmp_path / "cut.har"
    path.write_text(json.dumps({"log": {"version": "1.2", "creator": {"name": "x"}, "entries": [login, post]}}))
    cut = list(read_capture(path))[1]
    assert cut.truncated and cut.request_body == whole[:40]
    assert [f for f in judge([cut]) if f.rule == "CL-4"] == []
    post["request"]["bodySize"] = len(whole[:40])  # the same text, declared whole: judged
    path.write_text(json.dumps({"log": {"version": "1.2", "creator": {"name": "x"}, "entries": [post]}}))
    assert {f.rule for f in judge(read_capture(path))} == {"CL-4", "ST-1"}  # judged: broken, and accepted


def test_a_base64_request_body_is_decoded() -> None:
    entry = {
        "startedDateTime": "2026-12-01T09:00:00Z",
        "time": 1,
        "request": {
            "method": "POST",
            "url": "/interflex/api/v1/x",
            "bodySize": 3,
            "postData": {"mimeType": "application/octet-stream", "text": "/wAB", "encoding": "base64"},
        },
        "response": {"status": 404},
    }
    exchange = exchange_from_har(entry, 0)
    assert (exchange.request_body, exchange.truncated) == (b"\xff\x00\x01", False)
