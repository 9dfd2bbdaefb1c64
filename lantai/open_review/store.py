"""Review decisions, dismissed flags, verified marks and the hash-chained audit log, in the
archive's own SQLite database (``<data_dir>/review.sqlite3``).

**Decisions drive the index.** A decision (or a batch of them) is written in one SQLite
transaction together with its log entries — all of it or none — and only then applied to the
search index with the backend's status-only update. If the process dies between the two, the
next :meth:`ReviewStore.reconcile` (run when a review command or the web app starts) applies
the latest decision of every record again, so the public side always ends up agreeing with the
decisions.

**The log is append-only and chained**: each entry stores the SHA-256 of the previous entry's
hash and its own canonical content; :meth:`ReviewStore.verify_log` recomputes the chain and
names the first entry that was changed, removed or inserted.
"""

from __future__ import annotations

import datetime
import hashlib
import json
import sqlite3
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from lantai.catalog.model import OpenStatus
from lantai.search.backends.base import SearchBackend, StatusChange
from lantai.sqlite_state import SqliteState

DB_FILE = "review.sqlite3"
GENESIS = "0" * 64

_SCHEMA = """
CREATE TABLE IF NOT EXISTS decisions (
    id INTEGER PRIMARY KEY,
    archival_code TEXT NOT NULL,
    status TEXT NOT NULL,
    reason TEXT NOT NULL,
    basis TEXT NOT NULL,
    reviewer TEXT NOT NULL,
    time REAL NOT NULL,
    batch TEXT NOT NULL,
    override TEXT NOT NULL DEFAULT '',
    review_again TEXT NOT NULL DEFAULT '',
    applied INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX IF NOT EXISTS decisions_code ON decisions(archival_code, id);
CREATE TABLE IF NOT EXISTS dismissals (
    archival_code TEXT NOT NULL,
    finding TEXT NOT NULL,
    reviewer TEXT NOT NULL,
    time REAL NOT NULL,
    note TEXT NOT NULL,
    PRIMARY KEY (archival_code, finding)
);
CREATE TABLE IF NOT EXISTS verified (
    archival_code TEXT PRIMARY KEY,
    reviewer TEXT NOT NULL,
    time REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS coreview (
    archival_code TEXT PRIMARY KEY,
    batch TEXT NOT NULL,
    unit TEXT NOT NULL,
    sent REAL NOT NULL,
    proposed TEXT NOT NULL,
    opinion TEXT NOT NULL DEFAULT '',
    note TEXT NOT NULL DEFAULT '',
    returned REAL
);
CREATE TABLE IF NOT EXISTS log (
    seq INTEGER PRIMARY KEY,
    time REAL NOT NULL,
    actor TEXT NOT NULL,
    action TEXT NOT NULL,
    target TEXT NOT NULL,
    detail TEXT NOT NULL,
    prev TEXT NOT NULL,
    hash TEXT NOT NULL
);
CREATE TRIGGER IF NOT EXISTS log_no_update BEFORE UPDATE ON log
    BEGIN SELECT RAISE(ABORT, 'the review log is append-only'); END;
CREATE TRIGGER IF NOT EXISTS log_no_delete BEFORE DELETE ON log
    BEGIN SELECT RAISE(ABORT, 'the review log is append-only'); END;
"""


@dataclass(frozen=True)
class Decision:
    archival_code: str
    status: OpenStatus
    reason: str
    basis: str
    reviewer: str
    time: float
    batch: str
    override: str = ""
    review_again: str = ""  # ISO date: a delayed record comes back to the queue then


@dataclass(frozen=True)
class LogEntry:
    seq: int
    time: float
    actor: str
    action: str
    target: str
    detail: dict[str, Any]
    prev: str
    hash: str


def _entry_hash(prev: str, seq: int, when: float, actor: str, action: str, target: str,
                detail: str) -> str:
    canonical = json.dumps([prev, seq, repr(when), actor, action, target, detail],
                           ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


class ReviewStore(SqliteState):
    """One archive's review state. Safe to share between threads."""

    def __init__(self, path: Path, *, clock: Callable[[], float] = time.time) -> None:
        self.clock = clock
        super().__init__(path, _SCHEMA, synchronous="FULL")

    @classmethod
    def in_data_dir(cls, data_dir: Path) -> ReviewStore:
        return cls(Path(data_dir) / DB_FILE)


    # -- the log -----------------------------------------------------------------------------
    def _log(self, conn: sqlite3.Connection, actor: str, action: str, target: str,
             detail: dict[str, Any]) -> None:
        row = conn.execute("SELECT seq, hash FROM log ORDER BY seq DESC LIMIT 1").fetchone()
        seq, prev = (row[0] + 1, row[1]) if row else (1, GENESIS)
        when = self.clock()
        text = json.dumps(detail, ensure_ascii=False, sort_keys=True)
        digest = _entry_hash(prev, seq, when, actor, action, target, text)
        conn.execute("INSERT INTO log (seq, time, actor, action, target, detail, prev, hash) "
                     "VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                     (seq, when, actor, action, target, text, prev, digest))

    def log(self, limit: int | None = None, target: str | None = None) -> list[LogEntry]:
        sql = "SELECT seq, time, actor, action, target, detail, prev, hash FROM log"
        args: list[Any] = []
        if target is not None:
            sql += " WHERE target = ?"
            args.append(target)
        sql += " ORDER BY seq DESC"
        if limit:
            sql += " LIMIT ?"
            args.append(limit)
        return [LogEntry(r[0], r[1], r[2], r[3], r[4], json.loads(r[5]), r[6], r[7])
                for r in self._conn().execute(sql, args)]

    def verify_log(self) -> tuple[int, str | None]:
        """(entries checked, the first problem or None): every entry must carry the hash of
        the one before it and hash to its own content, with no gap in the numbering."""
        prev, expected, count = GENESIS, 1, 0
        for r in self._conn().execute("SELECT seq, time, actor, action, target, detail, prev, "
                                      "hash FROM log ORDER BY seq"):
            seq, when, actor, action, target, detail, stored_prev, digest = r
            if seq != expected:
                return count, f"entry {expected} is missing (the next one is {seq})"
            if stored_prev != prev:
                return count, f"entry {seq} does not follow entry {seq - 1} (chain broken)"
            if _entry_hash(stored_prev, seq, when, actor, action, target, detail) != digest:
                return count, f"entry {seq} was changed after it was written"
            prev, expected, count = digest, expected + 1, count + 1
        return count, None

    # -- decisions ---------------------------------------------------------------------------
    def record(self, decisions: Sequence[Decision]) -> None:
        """Write a batch of decisions and their log entries: all of them, or none."""
        with self._tx() as conn:
            for d in decisions:
                conn.execute(
                    "INSERT INTO decisions (archival_code, status, reason, basis, reviewer, "
                    "time, batch, override, review_again) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    (d.archival_code, d.status.value, d.reason, d.basis, d.reviewer, d.time,
                     d.batch, d.override, d.review_again))
                self._log(conn, d.reviewer, "decision", d.archival_code, {
                    "status": d.status.value, "reason": d.reason, "basis": d.basis,
                    "batch": d.batch, "override": d.override,
                    "review_again": d.review_again})

    def apply(self, backend: SearchBackend, codes: Sequence[str] | None = None) -> int:
        """Bring the index in line with the latest decision of ``codes`` (every record with a
        decision not yet applied, when None); returns how many records were updated."""
        conn = self._conn()
        if codes is None:
            rows = conn.execute(
                "SELECT d.archival_code, d.status, d.reason, d.basis, d.reviewer, d.time, d.id "
                "FROM decisions d JOIN (SELECT archival_code, max(id) AS id FROM decisions "
                "GROUP BY archival_code) last ON last.id = d.id WHERE d.applied = 0").fetchall()
        else:
            rows = []
            for start in range(0, len(codes), 500):
                chunk = list(codes[start:start + 500])
                rows += conn.execute(
                    "SELECT d.archival_code, d.status, d.reason, d.basis, d.reviewer, d.time, "
                    "d.id FROM decisions d JOIN (SELECT archival_code, max(id) AS id FROM "
                    f"decisions WHERE archival_code IN ({','.join('?' * len(chunk))}) "
                    "GROUP BY archival_code) last ON last.id = d.id", chunk).fetchall()
        if not rows:
            return 0
        changes = [StatusChange(code, OpenStatus(status), {
            "审核结论": status, "审核理由": reason, "审核依据": basis, "审核人": reviewer,
            "审核日期": datetime.date.fromtimestamp(when).isoformat()})
            for code, status, reason, basis, reviewer, when, _ in rows]
        report = backend.update_status(changes)
        with self._tx() as conn:
            conn.executemany("UPDATE decisions SET applied = 1 WHERE id = ?",
                             [(row[6],) for row in rows])
        return report.updated

    def reconcile(self, backend: SearchBackend) -> int:
        """After a crash: apply every decision that was recorded but not applied."""
        return self.apply(backend)

    def latest(self, code: str) -> Decision | None:
        row = self._conn().execute(
            "SELECT archival_code, status, reason, basis, reviewer, time, batch, override, "
            "review_again FROM decisions WHERE archival_code = ? ORDER BY id DESC LIMIT 1",
            (code,)).fetchone()
        return Decision(row[0], OpenStatus(row[1]), *row[2:]) if row else None

    def decided(self) -> dict[str, Decision]:
        """The latest decision of every record that has one."""
        rows = self._conn().execute(
            "SELECT d.archival_code, d.status, d.reason, d.basis, d.reviewer, d.time, d.batch, "
            "d.override, d.review_again FROM decisions d JOIN (SELECT archival_code, "
            "max(id) AS id FROM decisions GROUP BY archival_code) last ON last.id = d.id")
        return {r[0]: Decision(r[0], OpenStatus(r[1]), *r[2:]) for r in rows}

    # -- co-review by the unit that created or transferred the records ----------------------
    def send_for_coreview(self, codes: Sequence[str], unit: str, proposed: OpenStatus,
                          reviewer: str, batch: str) -> None:
        with self._tx() as conn:
            for code in codes:
                conn.execute("INSERT OR REPLACE INTO coreview (archival_code, batch, unit, sent, "
                             "proposed) VALUES (?, ?, ?, ?, ?)",
                             (code, batch, unit, self.clock(), proposed.value))
                self._log(conn, reviewer, "coreview.send", code,
                          {"unit": unit, "batch": batch, "proposed": proposed.value})

    def record_opinions(self, opinions: Sequence[tuple[str, OpenStatus, str]], actor: str
                        ) -> None:
        """The co-reviewing unit's opinions (档号, opinion, note): all of them, or none."""
        with self._tx() as conn:
            for code, opinion, note in opinions:
                conn.execute("UPDATE coreview SET opinion = ?, note = ?, returned = ? "
                             "WHERE archival_code = ?",
                             (opinion.value, note, self.clock(), code))
                self._log(conn, actor, "coreview.return", code,
                          {"opinion": opinion.value, "note": note})

    def coreviews(self, code: str | None = None) -> dict[str, dict[str, Any]]:
        """Co-review state by 档号: every record's, or only ``code``'s."""
        sql = ("SELECT archival_code, batch, unit, sent, proposed, opinion, note, returned "
               "FROM coreview")
        rows = self._conn().execute(*((sql + " WHERE archival_code = ?", (code,)) if code
                                      else (sql,)))
        return {r[0]: {"batch": r[1], "unit": r[2], "sent": r[3], "proposed": r[4],
                       "opinion": r[5], "note": r[6], "returned": r[7]} for r in rows}

    # -- dismissals and verification ---------------------------------------------------------
    def dismiss(self, code: str, finding_key: str, reviewer: str, note: str = "") -> None:
        with self._tx() as conn:
            conn.execute("INSERT OR REPLACE INTO dismissals (archival_code, finding, reviewer, "
                         "time, note) VALUES (?, ?, ?, ?, ?)",
                         (code, finding_key, reviewer, self.clock(), note))
            self._log(conn, reviewer, "dismiss", code, {"finding": finding_key, "note": note})

    def dismissed(self, code: str) -> set[str]:
        return {r[0] for r in self._conn().execute(
            "SELECT finding FROM dismissals WHERE archival_code = ?", (code,))}

    def all_dismissed(self) -> dict[str, set[str]]:
        out: dict[str, set[str]] = {}
        for code, finding in self._conn().execute("SELECT archival_code, finding FROM "
                                                  "dismissals"):
            out.setdefault(code, set()).add(finding)
        return out

    def verify(self, code: str, reviewer: str) -> None:
        with self._tx() as conn:
            conn.execute("INSERT OR REPLACE INTO verified (archival_code, reviewer, time) "
                         "VALUES (?, ?, ?)", (code, reviewer, self.clock()))
            self._log(conn, reviewer, "verify", code, {})

    def verified(self) -> set[str]:
        return {r[0] for r in self._conn().execute("SELECT archival_code FROM verified")}

    def is_verified(self, code: str) -> bool:
        return self._conn().execute("SELECT 1 FROM verified WHERE archival_code = ?",
                                    (code,)).fetchone() is not None
