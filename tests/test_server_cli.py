"""Reference server start-up: the Python API (docs/contracts.md C1), the command line, and durability
of answered POSTs across SIGKILL (issue 3, "Persistence and concurrency")."""

from __future__ import annotations

import io
import re
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests

from interflex.samples import sample
from reference_server import FAULTS, ReferenceServer
from reference_server.accounts import verify_password
from reference_server.cli import main
from reference_server.demo import DemoClient, login

REQUESTS = "/dsos/dso1/flexibilityRequests"


def test_start_is_fast_and_base_url_has_no_trailing_slash():
    server = ReferenceServer()
    started = time.perf_counter()
    server.start()
    try:
        assert time.perf_counter() - started < 1.0
        assert re.fullmatch(r"http://127\.0\.0\.1:\d+/interflex/api/v1", server.base_url)
        assert requests.get(server.base_url + REQUESTS, timeout=5).status_code == 401
    finally:
        server.stop()
    server.stop()  # idempotent
    with pytest.raises(requests.ConnectionError):
        requests.get(server.base_url + REQUESTS, timeout=5)


def test_servers_are_independent():
    with ReferenceServer() as first, ReferenceServer() as second:
        assert first.base_url != second.base_url
        one, two = DemoClient(first.base_url), DemoClient(second.base_url)
        assert one.call("POST", REQUESTS, json=sample("FlexibilityRequest")).status_code == 201
        assert len(one.call("GET", REQUESTS).json()) == 1 and two.call("GET", REQUESTS).json() == []
        one.close()
        two.close()


def test_busy_port_is_a_runtime_error():
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        with pytest.raises(RuntimeError, match="cannot listen"):
            ReferenceServer(port=busy.getsockname()[1]).start()


@pytest.mark.parametrize(
    ("kwargs", "error", "message"),
    [
        ({"accounts": "/nonexistent/accounts.yaml"}, RuntimeError, "cannot read accounts file"),
        ({"db": "/nonexistent/dir/x.db"}, RuntimeError, "cannot open database"),
        ({"token_lifetime": 0}, ValueError, "token_lifetime"),
        ({"host": "no-such-host.invalid"}, RuntimeError, "cannot"),
    ],
)
def test_bad_settings_are_clear_errors(kwargs, error, message):
    with pytest.raises(error, match=message):
        ReferenceServer(**kwargs).start()


def test_not_a_database_file_is_a_runtime_error(tmp_path):
    bogus = tmp_path / "bogus.db"
    bogus.write_bytes(b"this is not sqlite" * 100)
    with pytest.raises(RuntimeError, match="cannot open database"):
        ReferenceServer(db=str(bogus)).start()


def test_a_second_server_on_the_same_file_is_refused(tmp_path):
    db = str(tmp_path / "shared.db")
    with ReferenceServer(db=db), pytest.raises(RuntimeError, match="database is locked"):
        ReferenceServer(db=db).start()
    with ReferenceServer(db=db):  # free again once the first one stopped
        pass


def test_ids_differ_across_restarts(tmp_path):
    db = str(tmp_path / "ids.db")
    seen = set()
    for _ in range(2):
        with ReferenceServer(db=db) as server:
            client = DemoClient(server.base_url)
            seen |= {client.call("GET", REQUESTS + "/requestId").json()["request_id"] for _ in range(20)}
            client.close()
    assert len(seen) == 40


# ---------------------------------------------------------------- the command line


def _cli(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    """Run `interflex-server` in-process: (exit status, stdout, stderr)."""
    try:
        status = main(list(args))
    except SystemExit as exc:
        status = exc.code if isinstance(exc.code, int) else 1
    out, err = capsys.readouterr()
    return status, out, err


def test_list_faults(capsys):
    status, out, _ = _cli(capsys, "--list-faults")
    assert status == 0
    lines = out.strip().splitlines()
    assert [line.split()[0] for line in lines] == list(FAULTS)
    assert all(FAULTS[line.split()[0]].description in line for line in lines)


def test_hash_password_reads_stdin(capsys, monkeypatch):
    monkeypatch.setattr("sys.stdin", io.StringIO("s3cret\n"))
    status, out, _ = _cli(capsys, "--hash-password")
    assert status == 0
    assert verify_password("s3cret", out.strip())


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--accounts", "/nonexistent.yaml"], "cannot read accounts file"),
        (["--db", "/nonexistent/dir/x.db"], "cannot open database"),
        (["--fault", "nope"], "invalid choice"),
        (["--token-lifetime", "0"], "--token-lifetime"),
        (["--port", "x"], "invalid int value"),
        (["--port", "99999", "--db", ":memory:"], "not a TCP port number"),
        (["--port", "-1", "--db", ":memory:"], "not a TCP port number"),
    ],
)
def test_bad_arguments_are_one_line_errors(capsys, args, message):
    status, _, err = _cli(capsys, *args)
    assert status == 2
    assert message in err and "Traceback" not in err


def test_bad_accounts_file_is_one_line_error(capsys, tmp_path):
    path = tmp_path / "accounts.yaml"
    path.write_text("clients:\n  - client_id: c\n    secret_hash: plaintext\nusers: []\n", encoding="utf-8")
    status, _, err = _cli(capsys, "--accounts", str(path))
    assert status == 2 and err.count("\n") == 1
    assert "secret_hash is not a scrypt/pbkdf2 hash" in err


def test_busy_port_is_one_line_error(capsys):
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        status, _, err = _cli(capsys, "--port", str(busy.getsockname()[1]), "--db", ":memory:")
    assert status == 2 and "Address already in use" in err and err.count("\n") == 1


class _Process:
    """`interflex-server` as a child process on a free port."""

    def __init__(self, db: Path) -> None:
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "reference_server", "--port", "0", "--db", str(db)],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        assert self.proc.stderr is not None
        banner = self.proc.stderr.readline()
        found = re.search(r"(http://\S+/interflex/api/v1)", banner)
        assert found, banner
        self.base_url = found.group(1)
        deadline = time.monotonic() + 10
        while True:
            try:
                requests.get(self.base_url + "/openapi.yaml", timeout=1)
                break
            except requests.ConnectionError:
                assert time.monotonic() < deadline, "the server did not come up"
                time.sleep(0.05)

    def kill(self) -> str:
        self.proc.send_signal(signal.SIGKILL)
        out, _ = self.proc.communicate(timeout=10)
        return out


@pytest.fixture
def spawn(tmp_path) -> Iterator[type[_Process]]:
    started: list[_Process] = []

    def start(db: Path) -> _Process:
        process = _Process(db)
        started.append(process)
        return process

    yield start  # type: ignore[misc]
    for process in started:
        if process.proc.poll() is None:
            process.proc.kill()
            process.proc.communicate(timeout=10)


def test_answered_posts_survive_sigkill(spawn, tmp_path):
    db = tmp_path / "durable.db"
    first = spawn(db)
    with requests.Session() as session:
        token = login(session, first.base_url, "dso1")["access_token"]
        objects = [sample("FlexibilityRequest") for _ in range(5)]
        for obj in objects:
            response = session.post(first.base_url + REQUESTS, json=obj, headers={"Authorization": f"Bearer {token}"})
            assert response.status_code == 201
    log = first.kill()
    assert f'"POST /interflex/api/v1{REQUESTS} HTTP/1.1" 201' in log  # one access-log line per request
    second = spawn(db)
    with requests.Session() as session:
        token = login(session, second.base_url, "dso1")["access_token"]
        listed = session.get(second.base_url + REQUESTS, headers={"Authorization": f"Bearer {token}"}).json()
        assert listed == objects
        again = session.post(second.base_url + REQUESTS, json=objects[0], headers={"Authorization": f"Bearer {token}"})
        assert again.status_code == 409
    second.kill()


def test_access_log_masks_secrets_in_query_strings(spawn, tmp_path):
    server = spawn(tmp_path / "log.db")
    with requests.Session() as session:
        token = login(session, server.base_url, "dso1")["access_token"]
        session.get(server.base_url + REQUESTS, params={"access_token": token, "valid_at": "x"})
        session.post(server.base_url + "/authentication/token?password=agg1-demo&client_secret=client")
    log = server.kill()
    assert token not in log and "agg1-demo" not in log and "client_secret=client" not in log
    assert f"{REQUESTS}?access_token=***&valid_at=x" in log  # the line is kept, only the values are masked
    assert "/authentication/token?password=***&client_secret=***" in log


def test_list_faults_into_a_closed_pipe_is_quiet():
    shell = f"{sys.executable} -m reference_server --list-faults | head -1"
    result = subprocess.run(shell, shell=True, capture_output=True, text=True, timeout=30)
    assert result.stdout.split()[0] in FAULTS
    assert "Traceback" not in result.stderr and "BrokenPipe" not in result.stderr
