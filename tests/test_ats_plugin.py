"""The suite's pytest plugin, run like a user runs it (pytester subprocesses).

Up-front validation (one-line errors, no traceback), inertness in other runs, collection of
`--pyargs ats`, verdicts and exit codes, N/A for undeclared classes, INCONCLUSIVE after a failed
login, evidence with redaction, and pytest-xdist.
"""

from __future__ import annotations

import json
import socket
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
import requests
import yaml

from ats.ixit import default_ixit
from reference_server import ReferenceServer

TIMEOUT = 240


def _run(pytester: pytest.Pytester, *args: str) -> pytest.RunResult:
    return pytester.runpytest_subprocess("-p", "no:cacheprovider", *args, timeout=TIMEOUT)


def _output(result: pytest.RunResult) -> str:
    return result.stdout.str() + "\n" + result.stderr.str()


def _ixit_data(**changes: object) -> dict:
    ixit = default_ixit()
    data = {
        "target_url": ixit.target_url,
        "client": {"client_id": ixit.client_id, "client_secret": ixit.client_secret},
        "dso": vars(ixit.dso).copy(),
        "aggregators": [vars(a).copy() for a in ixit.aggregators],
        "region_id": ixit.region_id,
        "unit": ixit.unit,
        "currency": ixit.currency,
        "ics": dict(ixit.ics),
    }
    data.update(changes)
    return data


def _write_ixit(pytester: pytest.Pytester, data: object, name: str = "ixit.yaml") -> str:
    path = pytester.path / name
    path.write_text(data if isinstance(data, str) else yaml.safe_dump(data), encoding="utf-8")
    return str(path)


def _records(path: Path) -> dict:
    return json.loads(path.read_text(encoding="utf-8"))


def _usage_error(result: pytest.RunResult, message: str) -> None:
    out = _output(result)
    assert result.ret == pytest.ExitCode.USAGE_ERROR, out
    assert message in out
    assert "Traceback" not in out and "INTERNALERROR" not in out


@pytest.fixture(scope="module")
def server() -> ReferenceServer:
    with ReferenceServer() as running:
        yield running


def test_unreadable_ixit(pytester: pytest.Pytester) -> None:
    _usage_error(_run(pytester, "--pyargs", "ats", "--ixit", "missing.yaml"), "cannot read IXIT file 'missing.yaml'")


def test_ixit_not_yaml(pytester: pytest.Pytester) -> None:
    path = _write_ixit(pytester, "dso: [unclosed\n")
    _usage_error(_run(pytester, "--pyargs", "ats", "--ixit", path), "is not valid YAML")


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"aggregators": [{"entity_id": "agg1", "username": "agg1", "password": "x"}]}, "at least two aggregator"),
        ({"dso": {"entity_id": "dso1", "username": "dso1"}}, "dso: 'password' is missing"),
        ({"unit": "kWh"}, "unit must be one of W, kW, MW"),
        ({"ics": {"plausability": True}}, "unknown optional class 'plausability'"),
        ({"tls": {"verify": "no-such-ca.pem"}}, "tls file 'no-such-ca.pem' not found"),
    ],
)
def test_invalid_ixit(pytester: pytest.Pytester, changes: dict, message: str) -> None:
    path = _write_ixit(pytester, _ixit_data(**changes))
    _usage_error(_run(pytester, "--pyargs", "ats", "--ixit", path), message)


def test_unknown_class(pytester: pytest.Pytester) -> None:
    _usage_error(
        _run(pytester, "--pyargs", "ats", "--ats-class", "core-auth,core-magic"),
        "--ats-class: unknown conformance class 'core-magic'",
    )


def test_unknown_reference_fault(pytester: pytest.Pytester) -> None:
    _usage_error(
        _run(pytester, "--pyargs", "ats", "--ats-reference-fault", "no-such-fault"),
        "cannot start the bundled reference server: unknown fault 'no-such-fault'",
    )


def test_unreachable_target(pytester: pytest.Pytester) -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    url = f"http://127.0.0.1:{port}/interflex/api/v1"
    _usage_error(_run(pytester, "--pyargs", "ats", "--target-url", url), f"target {url} is unreachable")


def test_plugin_is_inert_in_other_runs(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(test_plain="def test_plain():\n    assert True\n")
    result = _run(pytester, "-v")
    out = _output(result)
    assert result.ret == 0
    assert "InterFlex conformance" not in out and "(Server:" not in out and "interflex-ats:" not in out


def test_pyargs_collects_only_the_cases(pytester: pytest.Pytester) -> None:
    result = _run(pytester, "--pyargs", "ats", "--collect-only", "-q")
    nodeids = [line for line in result.stdout.lines if "::" in line]
    assert result.ret == 0, _output(result)
    assert len(nodeids) > 100
    assert all("cases/test_" in n for n in nodeids), [n for n in nodeids if "cases/test_" not in n][:5]


def test_longest_cases_are_handed_out_first(pytester: pytest.Pytester) -> None:
    """D-109: the modules with the longest cases come first, so that pytest-xdist workers end together."""
    result = _run(pytester, "--pyargs", "ats", "--collect-only", "-q")
    modules = list(
        dict.fromkeys(line.split("::")[0].rsplit("/", 1)[-1] for line in result.stdout.lines if "::" in line)
    )
    assert result.ret == 0, _output(result)
    assert modules[:4] == ["test_properties.py", "test_negotiation.py", "test_robustness.py", "test_ids.py"]
    assert len(modules) > 10


def test_cli_help_and_pass_through(pytester: pytest.Pytester) -> None:
    help_run = pytester.run(sys.executable, "-m", "ats.cli", "--help", timeout=TIMEOUT)
    assert help_run.ret == 0 and "--target-url URL" in help_run.stdout.str() and "--ixit FILE" in help_run.stdout.str()
    assert "--cert-report DIR" in help_run.stdout.str()
    run = pytester.run(
        sys.executable, "-m", "ats.cli", "--collect-only", "-q", "--ats-class", "core-ids", timeout=TIMEOUT
    )
    assert run.ret == 0, run.stderr.str()
    assert "test_ids.py::test_ids_are_fresh[R1]" in run.stdout.str()
    assert "test_auth.py" not in run.stdout.str()


def test_external_target_undeclared_class_is_na(pytester: pytest.Pytester, server: ReferenceServer) -> None:
    path = _write_ixit(pytester, _ixit_data(ics={"plausibility": False, "date-filter": False}))
    out_file = pytester.path / "records.json"
    result = _run(
        pytester,
        "--pyargs",
        "ats",
        "--ixit",
        path,
        "--target-url",
        server.base_url,
        "--ats-class",
        "core-ids,plausibility",
        "--ats-records",
        str(out_file),
    )
    data = _records(out_file)
    assert result.ret == 1, _output(result)  # a partial run: never CONFORMANT (issue 5)
    assert data["summary"]["overall"] == "NOT CONFORMANT" and data["summary"]["complete"] is False
    assert {c["verdict"] for c in data["cases"].values()} <= {"PASS", "N/A"}
    not_run = {e["case"] for e in data["summary"]["not_run"]}
    assert not_run and not any(c.startswith(("IFX-IDS-", "IFX-PLAUS-", "IFX-DATE-")) for c in not_run)
    plaus = data["summary"]["classes"]["plausibility"]
    assert plaus["gating"] is False and plaus["verdict"] == "N/A" and plaus["counts"]["N/A"] > 0
    assert data["summary"]["classes"]["core-ids"]["verdict"] == "PASS"
    assert data["info"]["target_url"] == server.base_url and data["info"]["server_header"]
    assert data["info"]["classes"] == ["core-ids", "plausibility"]
    assert "only the classes core-ids, plausibility were selected (--ats-class)" in _output(result)
    assert "a certificate needs the whole suite" in _output(result)
    assert "InterFlex conformance" in result.stdout.str() and "overall verdict: NOT CONFORMANT" in result.stdout.str()


def test_preflight_stops_a_run_whose_ixit_account_cannot_log_in(
    pytester: pytest.Pytester, server: ReferenceServer
) -> None:
    """Issue 9 §4: one line per failing account, exit code 4, no test case, no report (also under xdist)."""
    data = _ixit_data()
    data["dso"]["password"] = "not-the-password"
    data["aggregators"][1]["password"] = "not-the-password-either"
    path = _write_ixit(pytester, data)
    result = _run(
        pytester,
        "--pyargs",
        "ats",
        "--ixit",
        path,
        "--target-url",
        server.base_url,
        "-n",
        "2",
        "--cert-report",
        "cert",
        "--ats-records",
        "records.json",
    )
    out = _output(result)
    _usage_error(result, "IXIT account dso (user dso1): the target answered 400 invalid_grant; check the password")
    assert out.count("IXIT account") == 2 and out.count("IXIT account dso ") == 1
    assert "IXIT account aggregators[1] (user agg2): the target answered 400 invalid_grant; check the password" in out
    assert "aggregators[0]" not in out and "not-the-password" not in out
    assert not (pytester.path / "cert").exists() and not (pytester.path / "records.json").exists()


def test_failure_shows_redacted_evidence(pytester: pytest.Pytester) -> None:
    out_file = pytester.path / "records.json"
    result = _run(
        pytester,
        "--pyargs",
        "ats.cases.test_auth",
        "--ats-reference-fault",
        "accept-any-password",
        "--ats-records",
        str(out_file),
    )
    out = _output(result)
    assert result.ret == 1
    assert "overall verdict: NOT CONFORMANT" in out
    assert "FAIL IFX-AUTH-003 [PROFILE 3, A1, AU-3, RFC 6749 5.2]: AU-3:" in out
    assert "HTTP exchanges of IFX-AUTH-003" in out and "password=***" in out
    text = out_file.read_text()
    for secret in default_ixit().secrets:
        if len(secret) > 6:
            assert secret not in out and secret not in text
    records = _records(out_file)["records"]
    failed = next(r for r in records if r["case"] == "IFX-AUTH-003")
    assert failed["verdict"] == "FAIL" and failed["exchanges"][0]["status"] == 200
    assert '"access_token": "***"' in failed["exchanges"][0]["response_body"]
    bearer = [ex for r in records for ex in r["exchanges"] if "Authorization" in ex["request_headers"]]
    assert bearer and all(ex["request_headers"]["Authorization"].endswith("***") for ex in bearer)


def test_xdist_merges_records_on_the_controller(pytester: pytest.Pytester) -> None:
    out_file = pytester.path / "records.json"
    result = _run(
        pytester,
        "-n",
        "2",
        "--pyargs",
        "ats.cases.test_requests",
        "ats.cases.test_offers",
        "--ats-records",
        str(out_file),
    )
    data = _records(out_file)
    assert result.ret == 1, _output(result)  # two modules of the suite: a partial run
    outcomes = result.parseoutcomes()
    assert len(data["records"]) == outcomes["passed"] > 10
    assert len({r["nodeid"] for r in data["records"]}) == len(data["records"])
    assert {c["verdict"] for c in data["cases"].values()} == {"PASS"}
    assert data["summary"]["overall"] == "NOT CONFORMANT" and data["summary"]["complete"] is False
    assert result.stdout.str().count("InterFlex conformance") == 1


def test_tests_delete_what_they_create(pytester: pytest.Pytester, server: ReferenceServer) -> None:
    result = _run(
        pytester,
        "-n",
        "2",
        "--pyargs",
        "ats.cases.test_requests",
        "ats.cases.test_activations",
        "ats.cases.test_acks",
        "ats.cases.test_nacks",
        "--target-url",
        server.base_url,
    )
    assert result.ret == 1, _output(result)  # a partial run (never CONFORMANT) whose tests all pass:
    assert "overall verdict: NOT CONFORMANT" in result.stdout.str() and result.parseoutcomes().keys() == {"passed"}
    from ats.session import Api, Context

    api = Api(Context(default_ixit().with_target(server.base_url)))
    for kind in ("request", "offer", "activation", "ack", "nack"):
        assert api.list(kind) == [], kind
    assert api.list("offer", as_="agg2") == []


def test_concurrent_runs_against_one_target_do_not_collide(tmp_path: Path, server: ReferenceServer) -> None:
    import subprocess

    cmd = [
        sys.executable,
        "-m",
        "pytest",
        "-p",
        "no:cacheprovider",
        "--pyargs",
        "ats",
        "-q",
        "--target-url",
        server.base_url,
        "--ats-class",
        "core-ids,core-requests,core-offers,core-acks",
    ]
    runs = [
        subprocess.Popen(
            [*cmd, "--ats-records", str(tmp_path / f"r{i}.json")],
            cwd=tmp_path,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        for i in range(2)
    ]
    outputs = [run.communicate(timeout=TIMEOUT)[0] for run in runs]
    for i, run in enumerate(runs):
        assert run.returncode == 1, outputs[i][-3000:]  # --ats-class: a partial run, never CONFORMANT
        data = _records(tmp_path / f"r{i}.json")
        assert {c["verdict"] for c in data["cases"].values()} == {"PASS"}, outputs[i][-3000:]
        assert data["summary"]["complete"] is False and data["summary"]["errors"] == []


class _NoStoreStripper(BaseHTTPRequestHandler):
    """A proxy to the reference server that drops Cache-Control from token responses (an AU-6 SHOULD)."""

    upstream = ""

    def _forward(self) -> None:
        body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
        headers = {k: v for k, v in self.headers.items() if k.lower() not in ("host", "content-length")}
        with requests.Session() as session:
            session.trust_env = False
            answer = session.request(
                self.command, self.upstream + self.path, headers=headers, data=body, allow_redirects=False, timeout=10
            )
        self.send_response(answer.status_code)
        for name, value in answer.headers.items():
            dropped = name.lower() == "cache-control" and "/authentication/" in self.path
            if not dropped and name.lower() not in (
                "content-length",
                "transfer-encoding",
                "connection",
                "server",
                "date",
            ):
                self.send_header(name, value)
        self.send_header("Content-Length", str(len(answer.content)))
        self.end_headers()
        self.wfile.write(answer.content)

    do_GET = do_POST = do_DELETE = do_PUT = do_PATCH = do_OPTIONS = do_HEAD = _forward

    def log_message(self, *args: object) -> None:
        pass


def test_recommended_failures_do_not_gate(pytester: pytest.Pytester, server: ReferenceServer) -> None:
    _NoStoreStripper.upstream = server.base_url.split("/interflex")[0]
    proxy = ThreadingHTTPServer(("127.0.0.1", 0), _NoStoreStripper)
    threading.Thread(target=proxy.serve_forever, daemon=True).start()
    out_file = pytester.path / "records.json"
    try:
        result = _run(
            pytester,
            "--pyargs",
            "ats",
            "--target-url",
            f"http://127.0.0.1:{proxy.server_address[1]}/interflex/api/v1",
            "-n",
            "2",
            "--ats-records",
            str(out_file),
        )
    finally:
        proxy.shutdown()
        proxy.server_close()
    data = _records(out_file)
    assert data["cases"]["IFX-REC-001"]["verdict"] == "FAIL" and "no-store" in data["cases"]["IFX-REC-001"]["reason"]
    assert data["summary"]["classes"]["recommended"]["verdict"] == "FAIL"
    assert all(c["verdict"] == "PASS" for c in data["summary"]["classes"].values() if c["gating"]), data["summary"]
    assert data["summary"]["overall"] == "CONFORMANT" and data["summary"]["complete"] is True
    assert result.ret == 0, _output(result)
    assert "overall verdict: CONFORMANT" in result.stdout.str()


def test_suite_leaves_no_hypothesis_folder_in_the_working_directory(pytester: pytest.Pytester) -> None:
    """The property-based cases run without an example database: nothing lands in the vendor's folder."""
    result = _run(pytester, "--pyargs", "ats", "--ats-class", "core-offers", "-k", "generated")
    result.assert_outcomes(passed=1)  # IFX-OFF-101, a hypothesis property (a partial run: exit 1)
    assert not (pytester.path / ".hypothesis").exists()
