"""After the load: read every list and check that nothing acknowledged was lost (ST-9, ST-12, ST-10).

Every object whose POST was acknowledged and that was not deleted must be listed, field for field
(`ats.checks.same_object`: numbers as numbers, times as instants, extra fields ignored); every
object whose DELETE was acknowledged must be gone; a list under an entity's path holds no object
this run posted under another path (ST-12). Objects whose DELETE got no clear answer are not
judged. Lists are read as the DSO, who may read all of them (section 2). Afterwards the objects the
run left behind are deleted by their owners, so that repeated runs start alike.
"""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Iterable
from typing import Any

import requests

from ats.checks import same_object
from ats.load.findings import FindingLog
from ats.load.ledger import Ledger, Written
from interflex.ixit import Account, Ixit
from interflex.profile import ID_FIELDS, OPERATIONS_BY_ID
from interflex.validation import validate

_LISTS = {"R3": "FlexibilityRequest", "O3": "FlexibilityOffer", "V3": "FlexibilityActivation"}
_LISTS |= {"K3": "FlexibilityActivationAck", "N3": "FlexibilityActivationNack"}
_DELETE_ORDER = ("FlexibilityActivationAck", "FlexibilityActivationNack", "FlexibilityActivation")
_DELETE_ORDER += ("FlexibilityOffer", "FlexibilityRequest")
TIMEOUT_S = 30.0


class Target:
    """A plain HTTP client of the target for the reconciliation: one session, tokens per account."""

    def __init__(self, ixit: Ixit) -> None:
        self.ixit = ixit
        self.session = requests.Session()
        self.session.trust_env = ixit.trust_env
        self.session.verify = ixit.tls.verify
        self.session.cert = ixit.tls.cert
        self.session.headers.update(ixit.headers)
        self._tokens: dict[str, str] = {}

    def token(self, account: Account) -> str:
        """An access token of `account` (A1, once)."""
        if account.username not in self._tokens:
            form = {
                "grant_type": "password",
                "username": account.username,
                "password": account.password,
                "client_id": self.ixit.client_id,
                "client_secret": self.ixit.client_secret,
            }
            answer = self.session.post(self.ixit.target_url + "/authentication/token", data=form, timeout=TIMEOUT_S)
            body = answer.json() if answer.status_code == 200 else None
            token = body.get("access_token") if isinstance(body, dict) else None
            if not isinstance(token, str):
                raise requests.RequestException(f"A1 for {account.username!r} answered {answer.status_code}")
            self._tokens[account.username] = token
        return self._tokens[account.username]

    def call(self, method: str, path: str, account: Account) -> requests.Response:
        """One request as `account`."""
        headers = {"Authorization": f"Bearer {self.token(account)}"}
        return self.session.request(method, self.ixit.target_url + path, headers=headers, timeout=TIMEOUT_S)

    def close(self) -> None:
        """Close the session."""
        self.session.close()


def _op_of_list(path: str) -> str:
    for op_id in _LISTS:
        op = OPERATIONS_BY_ID[op_id]
        if len(op.path.split("/")) == len(path.split("/")) and all(
            t == p or t.startswith("{") for t, p in zip(op.path.split("/"), path.split("/"), strict=True)
        ):
            return op_id
    raise ValueError(f"not a list path: {path}")


def read_list(target: Target, path: str, findings: FindingLog) -> list[dict[str, Any]] | None:
    """The list at `path` read as the DSO, schema-checked (ST-10); None when it cannot be read."""
    op_id = _op_of_list(path)
    kind = _LISTS[op_id]
    answer = target.call("GET", path, target.ixit.dso)
    where = f"GET {path} -> {answer.status_code}"
    if answer.status_code >= 500:
        findings.add("ST-7", op_id, f"the reconciliation's read of the list answered {answer.status_code}", where)
        return None
    if answer.status_code != 200:
        findings.add(op_id, op_id, f"the reconciliation's read of the list answered {answer.status_code}", where)
        return None
    try:
        items = answer.json()
    except ValueError:
        items = None
    if not isinstance(items, list):
        findings.add("ST-10", op_id, "the list is not a JSON array", where)
        return None
    for item in items:
        if any(f.severity == "error" and not f.rule.startswith("PL-") for f in validate(item, kind)):
            findings.add("ST-10", op_id, f"a listed object is not a valid {kind}", f"{where}: {json.dumps(item)[:160]}")
    return [item for item in items if isinstance(item, dict)]  # invalid ones too: ST-9 compares them as well


def reconcile(target: Target, ledger: Ledger) -> None:
    """Compare every list the run wrote to with the ledger; findings go to `ledger.findings`."""
    findings = ledger.findings
    must_list, must_be_gone = ledger.to_check()
    by_path: dict[str, list[Written]] = defaultdict(list)
    for written in must_list:
        by_path[written.list_path].append(written)
    gone_by_path: dict[str, set[tuple[str, str]]] = defaultdict(set)
    for key, path in must_be_gone.items():
        gone_by_path[path].add(key)
    home = {key: w.list_path for key, w in ledger.live.items()}
    for path in sorted(set(by_path) | set(gone_by_path)):
        items = read_list(target, path, findings)
        if items is None:
            continue
        op_id = _op_of_list(path)
        kind = _LISTS[op_id]
        field = ID_FIELDS[kind]
        listed = {item[field]: item for item in items if isinstance(item.get(field), str)}
        for written in by_path.get(path, []):
            found = listed.get(written.id)
            example = f"GET {path}: {kind} id {written.id!r}"
            if found is None:
                findings.add("ST-9", op_id, "an acknowledged object that was never deleted is missing", example)
            elif differences := same_object(written.obj, found):
                findings.add(
                    "ST-9", op_id, "a listed object differs from the one posted", f"{example}: {differences[0]}"
                )
        for key in gone_by_path.get(path, set()):
            if key[1] in listed:
                findings.add("ST-9", op_id, "an object whose DELETE was acknowledged is still listed", f"{key[1]!r}")
        if op_id != "O3":
            for object_id in listed:
                other = home.get((kind, object_id))
                if other is not None and other != path:
                    findings.add("ST-12", op_id, "the list shows an object posted under another path", object_id)


def clean_up(target: Target, live: Iterable[Written]) -> int:
    """Delete what the run left behind, as each object's owner; the number not deleted."""
    live = list(live)
    accounts = {a.username: a for a in (target.ixit.dso, *target.ixit.aggregators)}
    left = 0
    for kind in _DELETE_ORDER:
        for written in (w for w in live if w.kind == kind):
            account = accounts.get(written.owner)
            try:
                ok = account is not None and target.call("DELETE", written.delete_path, account).status_code < 300
            except requests.RequestException:
                ok = False
            left += not ok
    return left
