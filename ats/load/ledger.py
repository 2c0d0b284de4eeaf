"""What every simulated user was told by the target, gathered in one place (the master).

Each process keeps an `Outbox`: ids the id getters handed out, objects whose POST was
acknowledged (2xx), DELETEs sent and how they ended, findings, status counts. `drain()` empties
it into a msgpack/JSON-ready dict; in distributed mode it rides on Locust's worker reports to the
master, where a `Ledger` merges every batch. At the end the ledger judges what needs all users'
traffic at once: ids handed out twice (ID-1), one id acknowledged twice (ST-2), and it tells the
reconciliation (`ats.load.reconcile`) what must be listed and what must be gone (ST-9, ST-12).
"""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass
from typing import Any

from ats.load.findings import FindingLog

PENDING, DELETED, IN_DOUBT = "pending", "deleted", "in-doubt"


@dataclass
class Written:
    """An object whose POST the target acknowledged: where it must be listed, and by whom it may be deleted."""

    kind: str
    id: str
    list_path: str  # the list (R3/O3/V3/K3/N3 path) that must show it until it is deleted
    owner: str  # username of the account that posted it (and deletes it)
    delete_path: str  # R4/O4/V4/K4/N4 path of the object
    obj: dict[str, Any]


class Outbox:
    """One process's record of the run since the last `drain()` (not thread-safe; gevent-safe)."""

    def __init__(self) -> None:
        self.findings = FindingLog()
        self._reset()

    def _reset(self) -> None:
        self._issued: dict[str, list[str]] = defaultdict(list)
        self._writes: list[list[Any]] = []
        self._deletes: list[list[str]] = []
        self._statuses: Counter[str] = Counter()

    def issued(self, kind: str, object_id: str) -> None:
        """An id getter handed out `object_id` (ID-1)."""
        self._issued[kind].append(object_id)

    def wrote(self, written: Written) -> None:
        """A POST of `written` was acknowledged (2xx)."""
        w = written
        self._writes.append([w.kind, w.id, w.list_path, w.owner, w.delete_path, w.obj])

    def deleting(self, kind: str, object_id: str, state: str) -> None:
        """A DELETE of an acknowledged object: PENDING when sent, then DELETED (2xx) or IN_DOUBT (no clear answer)."""
        self._deletes.append([kind, object_id, state])

    def status(self, operation: str, status: int | None) -> None:
        """Count one answer of `operation` (None: no answer: a connection error or timeout)."""
        self._statuses[f"{operation} {status if status is not None else 'none'}"] += 1

    def drain(self) -> dict[str, Any]:
        """Everything recorded since the last drain, as a dict of lists (wire form)."""
        batch = {
            "issued": dict(self._issued),
            "writes": self._writes,
            "deletes": self._deletes,
            "statuses": dict(self._statuses),
            "findings": self.findings.drain(),
        }
        self._reset()
        return batch


class Ledger:
    """The master's merge of every process's batches; judges ID-1 and ST-2 across all of them."""

    def __init__(self) -> None:
        self.findings = FindingLog()
        self.statuses: Counter[str] = Counter()
        self._issued: dict[str, set[str]] = defaultdict(set)
        self.live: dict[tuple[str, str], Written] = {}
        self._acknowledged: Counter[tuple[str, str]] = Counter()
        self.deletes: dict[tuple[str, str], str] = {}  # (kind, id) -> PENDING / DELETED / IN_DOUBT
        self.deleted_paths: dict[tuple[str, str], str] = {}  # (kind, id) -> list path it was deleted from

    def merge(self, batch: dict[str, Any]) -> None:
        """Add one `Outbox.drain()` batch (from this process or a worker)."""
        for kind, ids in batch.get("issued", {}).items():
            seen = self._issued[kind]
            for object_id in ids:
                if object_id in seen:
                    self.findings.add(
                        "ID-1",
                        _ID_GETTERS.get(kind),
                        "an id getter handed out an id it had handed out before (to this or another user)",
                        f"{kind} id {object_id!r}",
                    )
                seen.add(object_id)
        for kind, object_id, list_path, owner, delete_path, obj in batch.get("writes", []):
            key = (kind, object_id)
            self._acknowledged[key] += 1
            self.live[key] = Written(kind, object_id, list_path, owner, delete_path, obj)
        for kind, object_id, state in batch.get("deletes", []):
            key = (kind, object_id)
            if self.deletes.get(key) != DELETED:
                self.deletes[key] = state
            if state == DELETED and key in self.live:
                self.deleted_paths[key] = self.live.pop(key).list_path
        self.statuses.update(batch.get("statuses", {}))
        self.findings.merge(batch.get("findings", []))

    def finish(self) -> None:
        """ST-2: an id of one kind acknowledged by two POSTs while no DELETE of it was ever sent."""
        for (kind, object_id), count in self._acknowledged.items():
            if count > 1 and (kind, object_id) not in self.deletes:
                self.findings.add(
                    "ST-2",
                    _POSTS.get(kind),
                    "two POSTs of one id were acknowledged while no DELETE of it was sent, not one answered 409 "
                    "(or the first was lost, ST-9)",
                    f"{kind} id {object_id!r} acknowledged {count} times",
                    count=count - 1,
                )

    def to_check(self) -> tuple[list[Written], dict[tuple[str, str], str]]:
        """(objects that must be listed, (kind, id) -> list path of objects that must be gone).

        Objects whose DELETE got no clear answer are in neither: the target may have done either.
        """
        listed = [w for key, w in self.live.items() if self.deletes.get(key) not in (PENDING, IN_DOUBT)]
        gone = {key: path for key, path in self.deleted_paths.items() if key not in self.live}
        return listed, gone


_ID_GETTERS = {"FlexibilityRequest": "R1", "FlexibilityOffer": "O1", "FlexibilityActivation": "V1"}
_ID_GETTERS |= {"FlexibilityActivationAck": "K1", "FlexibilityActivationNack": "N1"}
_POSTS = {kind: op[0] + "2" for kind, op in _ID_GETTERS.items()}
