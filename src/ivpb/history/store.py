"""The audit history's file: an append-only SQLite database.

One table, `audits`: per audit the index columns (when, which inventory sources, the inventory's
git commit, the --limit it ran with, its exit code, its counts per status and per clause) and the
whole report as JSON, zlib-compressed. Triggers refuse every UPDATE and DELETE: nothing in ivpb
changes or removes an audit once recorded, and the file says so to anyone who opens it.

The file is marked as ivpb's (SQLite's application_id, "ivpb", and user_version, the format), so a
database of another program or a file that is not SQLite is refused with one line, never changed.
Two audits recording at once: SQLite's own file lock serialises the writers (each waits up to
BUSY_SECONDS), in the default rollback journal, which leaves no files beside the history.
"""

from __future__ import annotations

import json
import sqlite3
import zlib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ivpb.errors import UserError
from ivpb.statuses import STATUSES

FILE_NAME = "history.sqlite"
APPLICATION_ID = int.from_bytes(b"ivpb", "big")
FORMAT = 1  # PRAGMA user_version: the table's layout
BUSY_SECONDS = 60.0

_APPEND_ONLY = "SELECT RAISE(ABORT, 'the ivpb audit history is append-only')"
SCHEMA = (f"""CREATE TABLE audits (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    generated_at TEXT NOT NULL,
    inventory TEXT NOT NULL,
    git_commit TEXT,
    audit_limit TEXT,
    exit_code INTEGER NOT NULL,
    {", ".join(f"{s} INTEGER NOT NULL" for s in STATUSES)},
    clauses TEXT NOT NULL,
    report BLOB NOT NULL
)""",
          f"CREATE TRIGGER audits_no_update BEFORE UPDATE ON audits BEGIN {_APPEND_ONLY}; END",
          f"CREATE TRIGGER audits_no_delete BEFORE DELETE ON audits BEGIN {_APPEND_ONLY}; END",
          f"PRAGMA application_id = {APPLICATION_ID}",
          f"PRAGMA user_version = {FORMAT}")
COLUMNS = f"generated_at, inventory, git_commit, audit_limit, exit_code, {', '.join(STATUSES)}, clauses"
INDEX = f"id, {COLUMNS}"


@dataclass(frozen=True)
class Entry:
    """One recorded audit, without its report."""

    id: int
    generated_at: str
    inventory: list[str]
    commit: str | None
    limit: str | None
    exit_code: int
    counts: dict[str, int]
    clauses: dict[str, dict[str, int]]

    def covers(self, other: Entry) -> bool:
        """Whether this audit asked every host `other` asked: a full audit, or one of the same --limit."""
        return self.limit is None or self.limit == other.limit

    def as_dict(self) -> dict[str, Any]:
        return {"id": self.id, "generated_at": self.generated_at, "inventory": self.inventory,
                "git_commit": self.commit, "limit": self.limit, "exit_code": self.exit_code,
                "counts": self.counts, "clauses": self.clauses}


class Store:
    """An open history file; open() checks that it is one (or makes it)."""

    def __init__(self, path: Path, db: sqlite3.Connection) -> None:
        self.path, self.db = path, db

    @classmethod
    def open(cls, path: Path, create: bool = False) -> Store:
        if not create and not path.is_file():
            raise UserError(f"{path}: no audit history here (ivpb audit records one; --history PATH reads another)")
        try:
            if create:
                path.parent.mkdir(parents=True, exist_ok=True)
            db = sqlite3.connect(f"{path.resolve().as_uri()}?mode={'rwc' if create else 'rw'}", uri=True,
                                 timeout=BUSY_SECONDS, isolation_level=None)
        except (OSError, sqlite3.Error) as exc:
            raise UserError(f"{path}: cannot open the audit history: {_reason(exc)}") from None
        store = cls(path, db)
        try:
            store._check(create)
        except sqlite3.OperationalError as exc:  # locked longer than BUSY_SECONDS, unreadable
            db.close()
            raise UserError(f"{path}: cannot open the audit history: {_reason(exc)}") from None
        except sqlite3.Error as exc:  # not SQLite, or damaged
            db.close()
            raise UserError(f"{path}: not an ivpb audit history: {_reason(exc)}") from None
        except UserError:
            db.close()
            raise
        return store

    def _check(self, create: bool) -> None:
        """Ours and of a format this ivpb reads; a new, empty file is made ours (under the write
        lock, so that of two audits starting at once one makes it and the other finds it made)."""
        if self._ours():
            return
        if create:  # emptiness is judged under the lock too: another audit may have just made it
            self.db.execute("BEGIN IMMEDIATE")
            try:
                if self._empty():
                    for statement in SCHEMA:
                        self.db.execute(statement)
                self.db.execute("COMMIT")
            except BaseException:
                if self.db.in_transaction:
                    self.db.execute("ROLLBACK")
                raise
            if self._ours():
                return
        raise UserError(f"{self.path}: not an ivpb audit history (a SQLite database of something else); "
                        "pass --history with another file")

    def _ours(self) -> bool:
        if self.db.execute("PRAGMA application_id").fetchone()[0] != APPLICATION_ID:
            return False
        version = self.db.execute("PRAGMA user_version").fetchone()[0]
        if version != FORMAT:
            raise UserError(f"{self.path}: an ivpb audit history of format {version}; this ivpb reads format {FORMAT}")
        return True

    def _empty(self) -> bool:
        return self.db.execute("SELECT count(*) FROM sqlite_master").fetchone()[0] == 0

    def close(self) -> None:
        self.db.close()

    def append(self, report: dict[str, Any], commit: str | None, limit: str | None) -> Entry:
        """Record one audit's report; its entry (with the id it got)."""
        summary = report.get("summary", {})
        counts = {s: int(summary.get("totals", {}).get(s, 0)) for s in STATUSES}
        clauses = {cid: {s: int(c.get("counts", {}).get(s, 0)) for s in STATUSES}
                   for cid, c in summary.get("clauses", {}).items()}
        # ASCII JSON: a lone surrogate from a host (a non-UTF-8 file name) stays a \udcxx escape
        blob = zlib.compress(json.dumps(report, separators=(",", ":")).encode("ascii"))
        row = (report["generated_at"], json.dumps(report.get("inventory", [])), commit, limit, report["exit_code"],
               *counts.values(), json.dumps(clauses, ensure_ascii=False), blob)
        try:
            cur = self.db.execute(f"INSERT INTO audits ({COLUMNS}, report) VALUES ({', '.join('?' * len(row))})", row)
        except sqlite3.Error as exc:
            raise UserError(f"{self.path}: cannot record the audit: {_reason(exc)}") from None
        return Entry(id=cur.lastrowid, generated_at=report["generated_at"], inventory=list(report.get("inventory", [])),
                     commit=commit, limit=limit, exit_code=report["exit_code"], counts=counts, clauses=clauses)

    def entries(self) -> list[Entry]:
        """Every audit, oldest first."""
        return [_entry(row) for row in self._query(f"SELECT {INDEX} FROM audits ORDER BY id")]

    def entry(self, audit_id: int) -> Entry | None:
        rows = self._query(f"SELECT {INDEX} FROM audits WHERE id = ?", (audit_id,))
        return _entry(rows[0]) if rows else None

    def report(self, audit_id: int) -> dict[str, Any]:
        rows = self._query("SELECT report FROM audits WHERE id = ?", (audit_id,))
        if not rows:
            raise UserError(f"{self.path}: no audit {audit_id}")
        try:
            return json.loads(zlib.decompress(rows[0][0]))
        except (zlib.error, TypeError, ValueError) as exc:
            raise UserError(f"{self.path}: audit {audit_id}: its report cannot be read: {exc}") from None

    def _query(self, sql: str, params: tuple = ()) -> list[tuple]:
        try:
            return self.db.execute(sql, params).fetchall()
        except sqlite3.Error as exc:
            raise UserError(f"{self.path}: cannot read the audit history: {_reason(exc)}") from None


def _entry(row: tuple) -> Entry:
    n = len(STATUSES)
    return Entry(id=row[0], generated_at=row[1], inventory=json.loads(row[2]), commit=row[3], limit=row[4],
                 exit_code=row[5], counts=dict(zip(STATUSES, row[6 : 6 + n], strict=True)),
                 clauses=json.loads(row[6 + n]))


def _reason(exc: Exception) -> str:
    return getattr(exc, "strerror", None) or str(exc)
