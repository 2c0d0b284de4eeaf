"""`interflex-validate`: formats, HAR checks, output, exit codes, and broken input without tracebacks."""

from __future__ import annotations

import io
import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from interflex._data import fixtures_dir
from interflex.validation.cli import main

SAMPLES = fixtures_dir() / "messages" / "samples"
OFFER = fixtures_dir() / "messages" / "flexibility-offer" / "valid" / "basic.json"


def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = main(list(args))
    out, err = capsys.readouterr()
    return code, out, err


def run_json(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, list[dict[str, Any]]]:
    code, out, _ = run(capsys, "--format", "json", *args)
    return code, json.loads(out)


def test_jsonl_sample_reports_each_line_with_its_number(capsys: pytest.CaptureFixture[str]) -> None:
    code, results = run_json(capsys, str(SAMPLES / "messages.jsonl"))
    assert code == 1
    source = str(SAMPLES / "messages.jsonl")
    assert [(r["source"], r["kind"], r["valid"]) for r in results] == [
        (f"{source}:1", "FlexibilityRequest", True),
        (f"{source}:2", "FlexibilityOffer", True),  # line 3 is blank
        (f"{source}:4", "FlexibilityActivation", False),
        (f"{source}:5", "IdResponse", True),
        (f"{source}:6", "FlexibilityActivationNack", False),
    ]
    assert [f["rule"] for f in results[2]["findings"]] == ["PL-2"]
    assert [(f["rule"], f["path"]) for f in results[4]["findings"]] == [("type", "/flexible_power")]


def _har_expectations() -> list[tuple[str, str]]:
    """(verdict, comment) of every sample HAR entry; the comment starts with the expected verdict."""
    entries = json.loads((SAMPLES / "capture.har").read_text(encoding="utf-8"))["log"]["entries"]
    return [(entry["comment"].split(":")[0], entry["comment"]) for entry in entries]


def test_har_sample_verdicts(capsys: pytest.CaptureFixture[str]) -> None:
    code, results = run_json(capsys, str(SAMPLES / "capture.har"))
    assert code == 1
    expected = _har_expectations()
    assert len(results) == len(expected)
    for index, (result, (verdict, comment)) in enumerate(zip(results, expected, strict=True)):
        assert result["source"] == f"{SAMPLES / 'capture.har'}#/log/entries/{index}"
        got = "skipped" if "skipped" in result else "valid" if result["valid"] else "invalid"
        assert got == verdict, (comment, result)


def test_har_findings_point_into_the_exchange(capsys: pytest.CaptureFixture[str]) -> None:
    _, results = run_json(capsys, str(SAMPLES / "capture.har"))
    by_op = {r["operation"]: {(f["rule"], f["path"]) for f in r["findings"]} for r in results if "operation" in r}
    assert by_op["O1 GET /aggregators/agg1/flexibilityOffers/offerId -> 200"] == {
        ("required", "/response/body/offer_id")
    }
    assert by_op["O3 GET /aggregators/flexibilityOffers -> 200"] == {("type", "/response/body/1/flexible_power")}
    assert by_op["O4 DELETE /aggregators/agg1/flexibilityOffers/off-404 -> 500"] == {("status", "/response/status")}
    assert by_op["N2 POST /aggregators/agg1/flexibilityActivations/nacks -> 202"] == {("status", "/response/status")}
    assert by_op["O2 POST /aggregators/agg1/flexibilityOffers -> 201"] == {("PL-3", "/request/body/granularity")}
    assert by_op["A1 POST /authentication/token -> 200"] == set()


def har(tmp_path: Path, *entries: dict[str, Any]) -> Path:
    path = tmp_path / "capture.har"
    path.write_text(json.dumps({"log": {"version": "1.2", "entries": list(entries)}}), encoding="utf-8")
    return path


LOGIN = "grant_type=password&username=dso1&password=p&client_id=client&client_secret=s"


def entry(
    method: str, url: str, status: int, body: Any = None, request_body: Any = None, mime: str = "application/json"
) -> dict[str, Any]:
    request: dict[str, Any] = {"method": method, "url": url, "headers": []}
    if url.endswith("/authentication/token"):
        request["postData"] = {"mimeType": "application/x-www-form-urlencoded", "text": LOGIN}
    if request_body is not None:
        request["postData"] = {"mimeType": "application/json", "text": json.dumps(request_body)}
    text = "" if body is None else body if isinstance(body, str) else json.dumps(body)
    response = {"status": status, "headers": [], "content": {"mimeType": mime, "text": text}}
    return {"request": request, "response": response}


BASE = "https://platform.example/interflex/api/v2"


@pytest.mark.parametrize(
    ("exchange", "findings"),
    [
        (entry("GET", BASE + "/dsos/dso1/flexibilityRequests", 200, []), set()),
        (entry("HEAD", BASE + "/dsos/dso1/flexibilityRequests", 200, ""), set()),
        (entry("GET", BASE + "/dsos/dso1/flexibilityRequests", 200, {"request_id": "r"}), {("type", "/response/body")}),
        (
            entry("GET", BASE + "/dsos/dso1/flexibilityRequests", 200, "not json", mime="text/plain"),
            {("json", "/response/body")},
        ),
        (
            entry("GET", BASE + "/dsos/dso1/flexibilityRequests", 404, {"error": "not_found"}),
            {("status", "/response/status")},
        ),
        (
            entry("GET", BASE + "/dsos/dso1/flexibilityRequests/requestId", 200, '"abc"'),
            {("type", "/response/body"), ("oneOf", "/response/body")},
        ),
        (entry("DELETE", BASE + "/dsos/dso1/flexibilityRequests/r1", 204, ""), set()),
        (entry("DELETE", BASE + "/dsos/dso1/flexibilityRequests/r1", 200, {}), set()),
        (entry("DELETE", BASE + "/dsos/dso1/flexibilityRequests/r1", 204, {}), {("body", "/response/body")}),
        (
            entry("DELETE", BASE + "/dsos/dso1/flexibilityRequests/r1", 200, {"deleted": True}),
            {("body", "/response/body")},
        ),
        (
            entry("DELETE", BASE + "/dsos/dso1/flexibilityRequests/r1", 404, {"code": 404}),
            {("required", "/response/body/error"), ("unknown-field", "/response/body/code")},
        ),
        (entry("DELETE", BASE + "/dsos/dso1/flexibilityRequests/r1", 404, "<html>", mime="text/html"), set()),
        (entry("DELETE", BASE + "/dsos/dso1/flexibilityRequests/r1", 404, "<html>"), {("json", "/response/body")}),
        (
            entry(
                "POST",
                BASE + "/authentication/token",
                200,
                {"access_token": "a", "token_type": "mac", "expires_in": 1, "refresh_token": "r"},
            ),
            {("pattern", "/response/body/token_type")},
        ),
        (entry("POST", BASE + "/authentication/token", 401, {"error": "invalid_grant"}), set()),
        (  # AU-3: A1/A2 failures carry one of the five OAuth error codes
            entry("POST", BASE + "/authentication/token", 401, {"error": "access_denied"}),
            {("AU-3", "/response/body/error")},
        ),
        (
            entry("POST", BASE + "/authentication/token", 403, {"error": "access_denied"}),
            {("status", "/response/status"), ("AU-3", "/response/body/error")},
        ),
        (
            entry(
                "GET", "http://h/interflex/api/v1/aggregators/agg%31/flexibilityOffers/offerId", 200, {"offer_id": "o"}
            ),
            set(),
        ),
    ],
)
def test_har_exchange_checks(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], exchange: dict[str, Any], findings: set[tuple[str, str]]
) -> None:
    code, results = run_json(capsys, str(har(tmp_path, exchange)))
    assert {(f["rule"], f["path"]) for f in results[0]["findings"]} == findings
    assert code == (1 if findings else 0)


@pytest.mark.parametrize(
    ("op_path", "form", "findings"),
    [
        ("/authentication/token", "grant_type=password&username=u&password=p&client_id=c&client_secret=s", set()),
        (
            "/authentication/token",
            "grant_type=password&username=u&client_id=c&client_secret=s",
            {("required", "/request/body/password")},
        ),
        (
            "/authentication/refresh",
            "grant_type=password&refresh_token=r&client_id=c&client_secret=s",
            {("const", "/request/body/grant_type")},
        ),
        ("/authentication/refresh", "grant_type=refresh_token&refresh_token=r&client_id=c&client_secret=", set()),
    ],
)
def test_har_token_forms_are_checked(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], op_path: str, form: str, findings: set[tuple[str, str]]
) -> None:
    """Section 3: the form fields of A1 and A2."""
    exchange = entry("POST", BASE + op_path, 400, {"error": "invalid_request"})
    exchange["request"]["postData"] = {"mimeType": "application/x-www-form-urlencoded", "text": form}
    code, results = run_json(capsys, str(har(tmp_path, exchange)))
    assert {(f["rule"], f["path"]) for f in results[0]["findings"]} == findings
    assert code == (1 if findings else 0)


@pytest.mark.parametrize(
    "url",
    [
        BASE + "/dsos%2Fdso1/flexibilityRequests",  # an encoded slash never splits a segment (ST-5: 404)
        BASE + "/dsos/dso1/flexibilityRequests%0A",  # a trailing newline is no path of section 2
    ],
)
def test_har_near_miss_paths_are_skipped_not_judged(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], url: str
) -> None:
    code, results = run_json(capsys, str(har(tmp_path, entry("GET", url, 404, {"error": "not_found"}))))
    assert code == 0 and results[0]["findings"] == [] and "not one of the 22 operations" in results[0]["skipped"]


def test_har_post_body_missing_from_capture_is_a_warning(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, results = run_json(capsys, str(har(tmp_path, entry("POST", BASE + "/dsos/dso1/flexibilityRequests", 201))))
    assert code == 0
    assert [(f["severity"], f["path"]) for f in results[0]["findings"]] == [("warning", "/request/body")]


def test_text_output_has_one_line_per_item_and_a_summary(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(capsys, str(SAMPLES / "messages.jsonl"), str(OFFER))
    lines = out.splitlines()
    assert code == 1 and err == ""
    assert len(lines) == 5 + 1 + 1
    prefix = f"{SAMPLES / 'messages.jsonl'}:4: FlexibilityActivation: INVALID: error: /activation_time"
    assert lines[2].startswith(prefix)
    assert lines[2].endswith("[PL-2]")
    assert lines[5] == f"{OFFER}: FlexibilityOffer: valid"
    assert lines[6] == "4 valid, 2 invalid, 0 skipped"


def test_kind_option_overrides_detection(capsys: pytest.CaptureFixture[str]) -> None:
    code, results = run_json(capsys, "--kind", "Error", str(OFFER))
    assert code == 1
    assert results[0]["kind"] == "Error"
    assert ("required", "/error") in {(f["rule"], f["path"]) for f in results[0]["findings"]}


def test_json_array_file_is_a_list_of_messages(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "batch.json"
    path.write_text(json.dumps([{"offer_id": "a"}, {"offer_id": "offerId"}, []]), encoding="utf-8")
    code, results = run_json(capsys, str(path))
    assert code == 1
    assert [(r["source"], r["valid"]) for r in results] == [
        (f"{path}#/0", True),
        (f"{path}#/1", False),
        (f"{path}#/2", False),
    ]


def test_empty_array_and_empty_har_are_nothing_to_check(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "empty.json").write_text("[]", encoding="utf-8")
    code, results = run_json(capsys, str(tmp_path / "empty.json"), str(har(tmp_path)))
    assert (code, results) == (0, [])


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("missing.json", None, "missing.json: no such file"),
        ("broken.json", b'{"offer_id": ', "broken.json: not JSON"),
        ("nan.json", b'{"flexible_power": NaN, "offer_id": "o"}', "nan.json: not JSON: NaN is not JSON"),
        ("deep.json", b"[" * 100_000 + b"]" * 100_000, "deep.json: not JSON"),
        ("garbage.json", bytes(range(256)) * 4, "garbage.json: not UTF-8 text"),
        ("garbage.har", b"\x89PNG\r\n\x1a\n\x00\x00", "garbage.har: not UTF-8 text"),
        ("bad.jsonl", b'{"offer_id": "a"}\n\n{"offer_id": \n{"offer_id": "b"}\n', "bad.jsonl:3: not JSON"),
        ("latin1.jsonl", b'{"offer_id": "a"}\n{"error": "\xe9"}\n', "latin1.jsonl:2: not UTF-8 text"),
        ("noentries.har", b'{"log": {"version": "1.2"}}', "noentries.har: not a HAR 1.2 capture: no log.entries"),
        ("list.har", b"[1, 2]", "list.har: not a HAR 1.2 capture"),
        ("badentry.har", b'{"log": {"entries": [42]}}', "badentry.har#/log/entries/0: not a HAR entry"),
        ("directory.json", "dir", "directory.json: is a directory"),
    ],
)
def test_unreadable_input_exits_2_naming_file_and_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], name: str, content: bytes | str | None, message: str
) -> None:
    path = tmp_path / name
    if content == "dir":
        path.mkdir()
    elif content is not None:
        path.write_bytes(content)
    code, _out, err = run(capsys, str(path), str(OFFER))
    assert code == 2
    assert f"interflex-validate: error: {tmp_path / message}" in err
    assert len(err.splitlines()) == 1


def test_bad_jsonl_line_does_not_stop_the_rest(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "bad.jsonl"
    path.write_text('{"offer_id": "a"}\nnot json\n{"offer_id": 5}\n', encoding="utf-8")
    code, results = run_json(capsys, str(path))
    assert code == 2
    assert [(r["source"], r["valid"]) for r in results] == [(f"{path}:1", True), (f"{path}:3", False)]


@pytest.mark.parametrize(
    "args", [[], ["--kind", "Offer", "x.json"], ["--format", "xml", "x.json"], ["--bogus", "x.json"]]
)
def test_usage_errors_exit_2(args: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_info:
        main(args)
    assert exit_info.value.code == 2
    assert "usage: interflex-validate" in capsys.readouterr().err


def test_help_explains_formats_and_exit_codes(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_info:
        main(["--help"])
    assert exit_info.value.code == 0
    text = capsys.readouterr().out
    for words in (".jsonl", ".har", "--strict", "--kind", "--format", "exit status", "FlexibilityOffer", "skipped"):
        assert words in text


def test_console_script_never_prints_a_traceback(tmp_path: Path) -> None:
    """The real process: binary garbage and a missing file give one line each and exit 2."""
    garbage = tmp_path / "capture.jsonl"
    garbage.write_bytes(bytes(range(128, 256)) + bytes(range(10)))  # no newline: one bad line
    done = subprocess.run(
        [sys.executable, "-m", "interflex.validation.cli", str(garbage), str(tmp_path / "none.har"), str(OFFER)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 2
    assert "Traceback" not in done.stderr
    assert f"{garbage}:1: not UTF-8 text" in done.stderr
    assert "none.har: no such file" in done.stderr
    assert done.stdout.splitlines()[-1] == "1 valid, 0 invalid, 0 skipped, 2 unreadable"


def _stdin(monkeypatch: pytest.MonkeyPatch, data: bytes) -> None:
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(data), encoding="utf-8"))


@pytest.mark.parametrize(
    ("path", "source"),
    [(SAMPLES / "messages.jsonl", ":"), (SAMPLES / "capture.har", "#/log/entries/"), (OFFER, "")],
)
def test_dash_reads_standard_input_told_by_its_content(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], path: Path, source: str
) -> None:
    """`-` gives the same results as the file (JSON Lines, HAR, JSON), with the source `<stdin>`."""
    from_file = run_json(capsys, str(path))
    _stdin(monkeypatch, path.read_bytes())
    code, results = run_json(capsys, "-")
    assert code == from_file[0]
    assert results == [{**r, "source": r["source"].replace(str(path), "<stdin>")} for r in from_file[1]]
    assert all(r["source"].startswith(f"<stdin>{source}") for r in results)


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"", "<stdin>: empty; expected JSON, JSON Lines or a HAR capture"),
        (b'{"offer_id":\n  "a"', "<stdin>: not JSON: "),
        (b"\xff\xfe{}", "<stdin>: not UTF-8 text (byte 0)"),
        (b'{"log": {"version": "1.2"}}', "<stdin>: not a HAR 1.2 capture: no log.entries array"),
    ],
)
def test_unreadable_standard_input_exits_2(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], data: bytes, message: str
) -> None:
    _stdin(monkeypatch, data)
    code, _out, err = run(capsys, "-", str(OFFER))
    assert code == 2
    assert err.startswith(f"interflex-validate: error: {message}") and len(err.splitlines()) == 1


def test_standard_input_json_lines_keep_going_after_a_bad_line(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    _stdin(monkeypatch, b'{"offer_id": "a"}\nnot json\n\xff\n{"offer_id": 5}\n')
    code, out, err = run(capsys, "-")
    assert code == 2
    assert err.splitlines() == [
        "interflex-validate: error: <stdin>:2: not JSON: Expecting value: line 1 column 1 (char 0)",
        "interflex-validate: error: <stdin>:3: not UTF-8 text",
    ]
    assert out.splitlines()[0] == "<stdin>:1: IdResponse: valid" and out.splitlines()[1].startswith("<stdin>:4: ")


def test_standard_input_once_only(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_info:
        main(["-", "-"])
    assert exit_info.value.code == 2
    assert "- (standard input) can be given only once" in capsys.readouterr().err


def test_console_script_reads_a_pipe() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "interflex.validation.cli", "-"],
        input=(SAMPLES / "messages.jsonl").read_bytes(),
        capture_output=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 1 and done.stderr == b""
    assert done.stdout.decode().splitlines()[-1] == "3 valid, 2 invalid, 0 skipped"
