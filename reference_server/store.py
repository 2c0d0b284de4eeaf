"""SQLite persistence: one connection, the single writer (WAL, synchronous=NORMAL, exclusive lock).

Each statement runs in autocommit mode, so an object is in the WAL file before its POST is
answered: it survives the process being killed (docs/reference-server.md, "Persistence").
Objects are kept as the JSON text that was accepted, so lists echo them exactly (ST-9).
The exclusive locking mode keeps a second server process off the same file.
"""

from __future__ import annotations

import sqlite3
import threading
from dataclasses import dataclass

_SCHEMA = """
CREATE TABLE IF NOT EXISTS objects (
    seq INTEGER PRIMARY KEY,
    kind TEXT NOT NULL,
    id TEXT NOT NULL,
    dso TEXT,
    agg TEXT,
    offer_id TEXT,
    deadline TEXT,
    body TEXT NOT NULL,
    UNIQUE (kind, id)
);
CREATE INDEX IF NOT EXISTS objects_owner ON objects (kind, agg, dso);
CREATE TABLE IF NOT EXISTS tokens (
    hash TEXT PRIMARY KEY,
    kind TEXT NOT NULL,
    username TEXT NOT NULL,
    expires REAL NOT NULL
);
"""


class StoreError(RuntimeError):
    """The database cannot be opened or used; one-line message."""


@dataclass(frozen=True)
class Stored:
    """One stored object's routing columns and JSON text."""

    kind: str
    id: str
    dso: str | None
    agg: str | None
    offer_id: str | None
    body: str


class Store:
    """Objects and tokens in one SQLite database (`":memory:"` or a file path)."""

    def __init__(self, path: str) -> None:
        try:
            self._db = sqlite3.connect(path, isolation_level=None, check_same_thread=False, timeout=1.0)
            if path != ":memory:":
                self._db.execute("PRAGMA journal_mode=WAL")
                self._db.execute("PRAGMA synchronous=NORMAL")
                self._db.execute("PRAGMA locking_mode=EXCLUSIVE")
            self._db.executescript(_SCHEMA)
        except sqlite3.Error as exc:
            hint = " (is another interflex-server using it?)" if "locked" in str(exc) else ""
            raise StoreError(f"cannot open database {path!r}: {exc}{hint}") from None
        self._lock = threading.Lock()

    def close(self) -> None:
        """Close the connection (idempotent)."""
        with self._lock:
            self._db.close()

    # objects -----------------------------------------------------------------------------

    def exists(self, kind: str, object_id: str) -> bool:
        """True when an object of `kind` with this id is stored (under any path)."""
        with self._lock:
            row = self._db.execute("SELECT 1 FROM objects WHERE kind=? AND id=?", (kind, object_id)).fetchone()
        return row is not None

    def insert(self, obj: Stored, deadline: str | None, replace: bool = False) -> bool:
        """Store `obj`; False when its id is already stored for its kind (unless `replace`).

        `deadline` is the `times.instant_key` of the object's deadline (for the date filter).
        """
        verb = "INSERT OR REPLACE" if replace else "INSERT"
        with self._lock:
            try:
                self._db.execute(
                    f"{verb} INTO objects (kind, id, dso, agg, offer_id, deadline, body) VALUES (?,?,?,?,?,?,?)",
                    (obj.kind, obj.id, obj.dso, obj.agg, obj.offer_id, deadline, obj.body),
                )
            except sqlite3.IntegrityError:
                return False
        return True

    def get(self, kind: str, object_id: str) -> Stored | None:
        """The stored object of `kind` with this id, or None."""
        with self._lock:
            row = self._db.execute(
                "SELECT kind, id, dso, agg, offer_id, body FROM objects WHERE kind=? AND id=?", (kind, object_id)
            ).fetchone()
        return Stored(*row) if row else None

    def find(
        self,
        kind: str,
        *,
        dso: str | None = None,
        agg: str | None = None,
        offer_id: str | None = None,
        valid_at: str | None = None,
    ) -> list[Stored]:
        """Stored objects of `kind` matching every given column, oldest first.

        `valid_at` (an instant key) keeps objects whose deadline is at or after that instant (DF-1).
        """
        sql = "SELECT kind, id, dso, agg, offer_id, body FROM objects WHERE kind=?"
        args: list[object] = [kind]
        for column, value in (("dso", dso), ("agg", agg), ("offer_id", offer_id)):
            if value is not None:
                sql += f" AND {column}=?"
                args.append(value)
        if valid_at is not None:
            sql += " AND deadline >= ?"
            args.append(valid_at)
        with self._lock:
            rows = self._db.execute(sql + " ORDER BY seq", args).fetchall()
        return [Stored(*row) for row in rows]

    def delete(self, kind: str, object_id: str, *, dso: str | None = None, agg: str | None = None) -> bool:
        """Delete the object stored under that path; False when there is none (ST-4)."""
        sql = "DELETE FROM objects WHERE kind=? AND id=?"
        args: list[object] = [kind, object_id]
        for column, value in (("dso", dso), ("agg", agg)):
            if value is not None:
                sql += f" AND {column}=?"
                args.append(value)
        with self._lock:
            return self._db.execute(sql, args).rowcount > 0

    # tokens (stored as SHA-256 hashes) ------------------------------------------------------

    def add_token(self, token_hash: str, kind: str, username: str, expires: float) -> None:
        """Remember an issued token by its hash."""
        with self._lock:
            self._db.execute("INSERT INTO tokens VALUES (?,?,?,?)", (token_hash, kind, username, expires))

    def token(self, token_hash: str, kind: str) -> tuple[str, float] | None:
        """(username, expiry) of a stored token of `kind`, or None."""
        with self._lock:
            row = self._db.execute(
                "SELECT username, expires FROM tokens WHERE hash=? AND kind=?", (token_hash, kind)
            ).fetchone()
        return (row[0], row[1]) if row else None

    def take_token(self, token_hash: str, kind: str) -> tuple[str, float] | None:
        """Remove a token and return (username, expiry); None when it was not stored (rotation)."""
        with self._lock:
            row = self._db.execute(
                "DELETE FROM tokens WHERE hash=? AND kind=? RETURNING username, expires", (token_hash, kind)
            ).fetchone()
        return (row[0], row[1]) if row else None

    def purge_tokens(self, now: float) -> None:
        """Forget expired tokens."""
        with self._lock:
            self._db.execute("DELETE FROM tokens WHERE expires < ?", (now,))
