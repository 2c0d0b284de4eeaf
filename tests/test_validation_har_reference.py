"""`interflex-validate` on HAR captures of real traffic with the reference server.

A capture of all 22 operations and typical error answers of the conforming server has no
finding about any response (only the deliberately malformed requests are flagged); a capture of
a server in a fault mode shows the deviation the fault injects.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import requests

from interflex.profile import OPERATIONS
from interflex.samples import sample
from interflex.validation.cli import main
from reference_server import ReferenceServer
from reference_server.demo import CLIENT_ID, CLIENT_SECRET, PASSWORDS


def _entry(response: requests.Response) -> dict[str, Any]:
    request = response.request
    har_request: dict[str, Any] = {"method": request.method, "url": request.url, "headers": []}
    if request.body is not None:
        body = request.body.decode() if isinstance(request.body, bytes) else request.body
        har_request["postData"] = {"mimeType": request.headers.get("Content-Type", ""), "text": body}
    content = {"mimeType": response.headers.get("Content-Type", ""), "text": response.text}
    return {"request": har_request, "response": {"status": response.status_code, "headers": [], "content": content}}


class Recorder:
    """Sends requests as the demo users and keeps every exchange as a HAR entry."""

    def __init__(self, base_url: str) -> None:
        self.base_url, self.entries, self.tokens = base_url, [], {}
        self.session = requests.Session()

    def send(self, method: str, path: str, as_: str | None = "dso1", **kwargs: Any) -> requests.Response:
        headers = {"Authorization": f"Bearer {self.tokens[as_]}"} if as_ else {}
        headers |= kwargs.pop("headers", None) or {}
        response = self.session.request(method, self.base_url + path, headers=headers, timeout=30, **kwargs)
        self.entries.append(_entry(response))
        return response

    def login(self, user: str) -> None:
        form = {
            "grant_type": "password",
            "username": user,
            "password": PASSWORDS[user],
            "client_id": CLIENT_ID,
            "client_secret": CLIENT_SECRET,
        }
        token = self.send("POST", "/authentication/token", None, data=form).json()
        self.tokens[user] = token["access_token"]
        refreshed = self.send(
            "POST",
            "/authentication/refresh",
            None,
            data={
                "grant_type": "refresh_token",
                "refresh_token": token["refresh_token"],
                "client_id": CLIENT_ID,
                "client_secret": CLIENT_SECRET,
            },
        ).json()
        self.tokens[user] = refreshed.get("access_token", token["access_token"])

    def har(self, path: Path) -> Path:
        path.write_text(json.dumps({"log": {"version": "1.2", "entries": self.entries}}), encoding="utf-8")
        return path


def new_id(response: requests.Response, field: str) -> str:
    """The id an id getter answered, or a made-up one when the answer is broken (fault modes)."""
    body = response.json()
    return body[field] if isinstance(body, dict) and isinstance(body.get(field), str) else f"{field}-made-up"


def negotiate(rec: Recorder) -> None:
    """Every operation once (NG-1 order), then typical error answers."""
    for user in ("dso1", "agg1"):
        rec.login(user)
    dso, agg = "/dsos/dso1", "/aggregators/agg1"
    request_id = new_id(rec.send("GET", f"{dso}/flexibilityRequests/requestId"), "request_id")
    rec.send("POST", f"{dso}/flexibilityRequests", json=sample("FlexibilityRequest", request_id=request_id))
    rec.send("GET", f"{dso}/flexibilityRequests", as_="agg1")
    offer_id = new_id(rec.send("GET", f"{agg}/flexibilityOffers/offerId", as_="agg1"), "offer_id")
    rec.send(
        "POST",
        f"{agg}/flexibilityOffers",
        as_="agg1",
        json=sample("FlexibilityOffer", offer_id=offer_id, request_id=request_id),
    )
    rec.send("GET", "/aggregators/flexibilityOffers", params={"valid_at": "2000-01-01T00:00:00Z"})
    activation_id = new_id(rec.send("GET", f"{dso}/flexibilityActivations/activationId"), "activation_id")
    rec.send(
        "POST",
        f"{dso}/flexibilityActivations/agg1",
        json=sample("FlexibilityActivation", activation_id=activation_id, offer_id=offer_id),
    )
    rec.send("GET", f"{dso}/flexibilityActivations/agg1", as_="agg1")
    ack_id = new_id(rec.send("GET", f"{agg}/flexibilityActivations/acks/ackId", as_="agg1"), "ack_id")
    rec.send(
        "POST",
        f"{agg}/flexibilityActivations/acks",
        as_="agg1",
        json=sample("FlexibilityActivationAck", ack_id=ack_id, offer_id=offer_id, activation_id=activation_id),
    )
    rec.send("GET", f"{agg}/flexibilityActivations/acks")
    nack_id = new_id(rec.send("GET", f"{agg}/flexibilityActivations/nacks/nackId", as_="agg1"), "nack_id")
    rec.send(
        "POST",
        f"{agg}/flexibilityActivations/nacks",
        as_="agg1",
        json=sample("FlexibilityActivationNack", nack_id=nack_id, offer_id=offer_id),
    )
    rec.send("GET", f"{agg}/flexibilityActivations/nacks")
    rec.send("DELETE", f"{agg}/flexibilityActivations/nacks/{nack_id}", as_="agg1")
    rec.send("DELETE", f"{agg}/flexibilityActivations/acks/{ack_id}", as_="agg1")
    rec.send("DELETE", f"{dso}/flexibilityActivations/agg1/{activation_id}")
    rec.send("DELETE", f"{agg}/flexibilityOffers/{offer_id}", as_="agg1")
    rec.send("DELETE", f"{dso}/flexibilityRequests/{request_id}")
    # error answers: 401, 403, 404, 400, 415, 409-or-404 after delete, OAuth error
    rec.send("GET", f"{dso}/flexibilityRequests", as_=None)
    rec.send("POST", f"{dso}/flexibilityRequests", as_="agg1", json=sample("FlexibilityRequest"))
    rec.send("DELETE", f"{dso}/flexibilityRequests/{request_id}")
    rec.send("POST", f"{dso}/flexibilityRequests", data=b"{not json", headers={"Content-Type": "application/json"})
    rec.send("POST", f"{dso}/flexibilityRequests", data="x", headers={"Content-Type": "text/plain"})
    rec.send(
        "POST",
        "/authentication/token",
        None,
        data={
            "grant_type": "password",
            "username": "dso1",
            "password": "wrong",
            "client_id": CLIENT_ID,
            "client_secret": CLIENT_SECRET,
        },
    )


def run_json(capsys: pytest.CaptureFixture[str], path: Path) -> tuple[int, list[dict[str, Any]]]:
    code = main(["--format", "json", str(path)])
    return code, json.loads(capsys.readouterr().out)


def test_capture_of_the_reference_server_is_valid(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    with ReferenceServer() as server:
        rec = Recorder(server.base_url)
        negotiate(rec)
    code, results = run_json(capsys, rec.har(tmp_path / "reference.har"))
    assert code == 1  # the two malformed requests at the end
    response_errors = [
        (r["operation"], f)
        for r in results
        for f in r["findings"]
        if f["severity"] == "error" and not f["path"].startswith("/request/")
    ]
    assert response_errors == []
    invalid = [(r["operation"], {(f["rule"], f["path"]) for f in r["findings"]}) for r in results if not r["valid"]]
    assert [(operation.split()[0], findings) for operation, findings in invalid] == [
        ("R2", {("json", "/request/body")}),
        ("R2", {("json", "/request/body")}),
    ]
    assert all(operation.endswith(("-> 400", "-> 415")) for operation, _ in invalid)
    assert {r["operation"].split()[0] for r in results} == {op.id for op in OPERATIONS}
    assert {int(r["operation"].rsplit(" ", 1)[1]) for r in results} >= {200, 201, 204, 400, 401, 403, 404}


@pytest.mark.parametrize(
    ("fault", "operation", "finding"),
    [
        ("nack-post-202", "N2", ("status", "/response/status")),
        ("token-type-mac", "A1", ("pattern", "/response/body/token_type")),
        ("expires-in-string", "A2", ("type", "/response/body/expires_in")),
        ("bare-id-string", "O1", ("type", "/response/body")),
        ("lists-lose-precision", "R3", ("type", "/response/body/0/flexible_power")),
        ("offer-offset-lost", "O3", ("format", "/response/body/0/deadline")),
        ("ack-empty-list-404", "K3", ("status", "/response/status")),
    ],
)
def test_capture_of_a_faulty_server_shows_the_fault(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], fault: str, operation: str, finding: tuple[str, str]
) -> None:
    with ReferenceServer(fault=fault) as server:
        rec = Recorder(server.base_url)
        if fault == "ack-empty-list-404":
            rec.login("agg1")
            rec.send("GET", "/aggregators/agg1/flexibilityActivations/acks", as_="agg1")
        else:
            negotiate(rec)
    code, results = run_json(capsys, rec.har(tmp_path / "faulty.har"))
    assert code == 1
    found = {
        (r["operation"].split()[0], f["rule"], f["path"])
        for r in results
        for f in r["findings"]
        if f["severity"] == "error"
    }
    assert (operation, *finding) in found
