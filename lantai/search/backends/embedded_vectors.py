"""Passage vectors of the embedded backend: a SQLite table plus a :class:`VectorStore`.

Layout, next to ``index.sqlite``:

* ``passages`` (in the SQLite database): one row per passage — ``id`` (the vector key),
  ``record`` (the record's rowid), ``page``, ``char_start``, ``char_end``. Filters are joined
  against ``records`` in SQL, so every filter the keyword path knows applies to vectors too;
* ``passage_journal`` (SQLite): the passage keys added or removed by a committed transaction
  whose vectors are not yet committed, with the writer that owns them;
* ``<data_dir>/vectors/``: the vector store (float16, exact search for small archives, a usearch
  HNSW graph above its threshold), keyed by passage id;
* ``meta`` key ``embedding``: ``{"model": model_id, "dim": dim}`` of the embedder that built the
  vectors, written in the transaction of the first ones. Opening an index that holds vectors
  with another model raises :class:`IndexMismatch` naming both.

Crash consistency. SQLite and the vector files cannot commit atomically together, so the
order is fixed: passages and journal rows are written inside the record's SQLite transaction;
after its COMMIT the vectors are added to the store and the store is committed; then the
journal rows are deleted. The vector store never sees an uncommitted transaction (vectors are
buffered until :meth:`PassageIndex.commit`, dropped by :meth:`PassageIndex.rollback`). Passage
ids are ``AUTOINCREMENT``: an id is never reused once committed, so a key in the store always
belongs to the passage SQLite knows under that id, or to none. A crash between the two commits
therefore leaves:

* keys in the store whose passages SQLite no longer has (removed records): ignored by search,
  because keys are always mapped back through SQLite (filtered searches only ever ask for keys
  SQLite lists), and removed by the repair;
* passages without vectors (added records): not found by semantic search until the repair
  re-embeds their records (at most one batch).

The repair runs when the index is opened and the journal holds rows of a writer that is gone
(a dead process, or an instance of this process whose commit failed), or when the number of
passages and of vectors disagree. It runs under SQLite's write lock, so it never races a writer.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import threading
import uuid
from collections import OrderedDict
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from lantai.errors import IndexMismatch, LantaiError
from lantai.search.vectors import VectorStore

if TYPE_CHECKING:
    import sqlite3

    from lantai.search.backends.base import PassageVectors
    from lantai.search.backends.embedded import EmbeddedBackend
    from lantai.search.embeddings.base import Embedder

log = logging.getLogger(__name__)

VECTORS_DIR = "vectors"
META_KEY = "embedding"
#: Live vectors above which a new store answers through its HNSW graph (exact below).
ANN_THRESHOLD = 20_000
#: Allowed-key lists kept per connection (web server thread) and filter — the public gate
#: alone is the usual one — up to this many bytes in all (8 bytes per passage each).
_ALLOWED_CACHE_BYTES = 64 << 20
# SQLite's default limit on bound parameters is 32766; stay well below it.
_IN_CHUNK = 5_000
# Tokens of the writers of this process that are between a SQLite COMMIT and the vector
# commit; their journal rows must not be "repaired" by another instance in this process.
_IN_FLIGHT: set[str] = set()
_IN_FLIGHT_LOCK = threading.Lock()


@dataclass(frozen=True)
class PassageHit:
    """The best passage of one record for a query vector."""

    record: int  # rowid in ``records``
    score: float  # cosine similarity
    page: int
    start: int
    end: int


@dataclass(frozen=True)
class RepairReport:
    """What :meth:`PassageIndex.repair` fixed."""

    removed_vectors: int = 0  # orphan keys dropped from the store
    reembedded_records: int = 0  # records whose passages had no vectors
    skipped: bool = False  # another writer is mid-commit; it will finish the job


class PassageIndex:
    """Passages of an :class:`EmbeddedBackend` and their vectors. Use :meth:`open`."""

    def __init__(self, backend: EmbeddedBackend, embedder: Embedder, store: VectorStore) -> None:
        self._backend = backend
        self._embedder = embedder
        self._store = store
        self._token = f"{os.getpid()}:{uuid.uuid4().hex[:12]}"
        # passage key -> vector to add, or None to remove; applied at commit
        self._pending: dict[int, np.ndarray | None] = {}
        self._writes = 0  # commits by this instance (invalidates the allowed-key cache)
        # (id(conn), where, args) -> (conn, version, keys); holding ``conn`` keeps its id from
        # being reused by another connection while the entry lives
        self._cache: OrderedDict[tuple[Any, ...], tuple[Any, tuple[int, int], np.ndarray]] = (
            OrderedDict())
        self._cache_lock = threading.Lock()
        self._record_model = False  # write the model into ``meta`` with the next passages
        self._model_in_txn = False

    # -- opening ---------------------------------------------------------------------------
    @classmethod
    def open(cls, backend: EmbeddedBackend, embedder: Embedder) -> PassageIndex:
        """Attach to ``backend``'s database: create the tables, check the model, repair."""
        conn = backend._conn()
        with backend._write_lock:
            conn.execute("BEGIN IMMEDIATE")
            try:
                conn.execute(
                    "CREATE TABLE IF NOT EXISTS passages (id INTEGER PRIMARY KEY AUTOINCREMENT, "
                    "record INTEGER NOT NULL, page INTEGER NOT NULL, char_start INTEGER NOT NULL, "
                    "char_end INTEGER NOT NULL)")
                conn.execute("CREATE INDEX IF NOT EXISTS passages_record ON passages(record)")
                conn.execute("CREATE TABLE IF NOT EXISTS passage_journal "
                             "(id INTEGER PRIMARY KEY, added INTEGER NOT NULL, writer TEXT)")
                conn.execute("COMMIT")
            except BaseException:
                conn.execute("ROLLBACK")
                raise
        directory = backend.path.parent / VECTORS_DIR
        wanted = {"model": embedder.model_id, "dim": embedder.dim}
        stored = backend.metadata().get(META_KEY)
        has_passages = _has_passages(conn)
        # An index without passages has no vectors to disagree with: it adopts this model.
        if stored is not None and stored != wanted and has_passages:
            raise IndexMismatch(
                f"the index at {backend.path.parent} was built with the embedding model "
                f"{stored.get('model')!r} (dimension {stored.get('dim')}), but this Lantai is "
                f"configured with {embedder.model_id!r} (dimension {embedder.dim}); set "
                f"embedding.model back, or rebuild the index with `lantai index --rebuild "
                f"--embeddings CATALOG`")
        if has_passages and VectorStore.exists(directory):
            store = VectorStore.open(directory, dim=embedder.dim)
        else:
            # No passages: whatever the directory holds (a store left by a deleted database)
            # is stale; this new store replaces it at its first commit.
            store = VectorStore(directory, embedder.dim, ann_threshold=ANN_THRESHOLD)
        index = cls(backend, embedder, store)
        # The model is recorded with the first vectors (in their transaction), so an index
        # says it was built with a model exactly when it holds that model's vectors.
        index._record_model = stored != wanted
        if index._needs_repair(conn):
            index.repair()
        return index

    def has_vectors(self) -> bool:
        """Whether any record has passages (semantic and hybrid search are possible)."""
        return _has_passages(self._backend._conn())

    # -- writing (called by EmbeddedBackend inside its transaction) -------------------------
    def write(self, conn: sqlite3.Connection, rowid: int, vectors: PassageVectors) -> None:
        """Store a record's passages (inside the caller's transaction); vectors wait for
        :meth:`commit`."""
        n = len(vectors.pages)
        matrix = np.asarray(vectors.vectors, dtype=np.float32)
        if matrix.shape != (n, self._embedder.dim):
            raise IndexMismatch(
                f"record rowid {rowid}: {n} passages but vectors of shape {matrix.shape}; "
                f"expected ({n}, {self._embedder.dim})")
        if n == 0:
            return
        self._begin_flight()
        if self._record_model and not self._model_in_txn:
            conn.execute("INSERT OR REPLACE INTO meta VALUES (?, ?)", (META_KEY, json.dumps(
                {"model": self._embedder.model_id, "dim": self._embedder.dim},
                ensure_ascii=False)))
            self._model_in_txn = True
        for i in range(n):
            cur = conn.execute(
                "INSERT INTO passages (record, page, char_start, char_end) VALUES (?, ?, ?, ?)",
                (rowid, vectors.pages[i], vectors.starts[i], vectors.ends[i]))
            key = int(cur.lastrowid or 0)
            conn.execute("INSERT OR REPLACE INTO passage_journal VALUES (?, 1, ?)",
                         (key, self._token))
            self._pending[key] = matrix[i]

    def remove(self, conn: sqlite3.Connection, rowid: int) -> None:
        """Drop a record's passages (inside the caller's transaction)."""
        keys = [row[0] for row in conn.execute("SELECT id FROM passages WHERE record = ?",
                                               (rowid,))]
        if not keys:
            return
        self._begin_flight()
        conn.execute("DELETE FROM passages WHERE record = ?", (rowid,))
        conn.executemany("INSERT OR REPLACE INTO passage_journal VALUES (?, 0, ?)",
                         [(k, self._token) for k in keys])
        for key in keys:
            self._pending[key] = None

    def commit(self) -> None:
        """Persist the vectors of the transaction the caller just committed to SQLite."""
        if self._model_in_txn:
            self._record_model = self._model_in_txn = False
            self._backend._write_json_metadata(self._backend._conn())
        if not self._pending:
            self._end_flight()
            return
        pending, self._pending = self._pending, {}
        added = [k for k, v in pending.items() if v is not None]
        removed = [k for k, v in pending.items() if v is None]
        try:
            if added:
                matrix = np.stack([pending[k] for k in added])  # type: ignore[misc]
                self._store.add(np.asarray(added, dtype=np.int64), matrix)
            if removed:
                self._store.remove(np.asarray(removed, dtype=np.int64))
            self._store.commit()
        except BaseException as exc:
            # Forget the uncommitted changes; the journal keeps what must be redone and the
            # next open of the index repairs it.
            self._reload_store()
            self._end_flight()
            raise LantaiError(
                f"the records were saved but their passage vectors could not be written to "
                f"{self._store.directory} ({exc}); they are re-embedded when the index is next "
                f"opened") from exc
        self._writes += 1
        self._clear_journal(list(pending))
        self._end_flight()

    def rollback(self) -> None:
        """The caller's transaction was rolled back: forget its passages."""
        self._pending = {}
        self._model_in_txn = False
        self._end_flight()

    # -- reading ---------------------------------------------------------------------------
    def search(self, conn: sqlite3.Connection, query: np.ndarray, k: int,
               where: Sequence[str] = (), args: Sequence[Any] = ()) -> list[PassageHit]:
        """The ``k`` best records (by their best passage) among those matching ``where``.

        ``where`` are SQL conditions on ``records r`` (the backend's filters); they select
        the allowed passage keys *before* the vector search, so ``k`` hits come back whenever
        ``k`` records qualify.
        """
        if k < 1:
            return []
        self._refresh()
        if len(self._store) == 0:
            return []
        allowed = self._allowed(conn, tuple(where), tuple(args)) if where else None
        if allowed is not None and allowed.shape[0] == 0:
            return []
        want = 2 * k + 8
        while True:
            found = self._store.search(query, want, allowed=allowed)
            best = self._best_per_record(conn, found)
            # Records are ranked by their best passage, so the first k distinct records in
            # passage order are the answer; fewer means more passages are needed, unless the
            # store had no more to give.
            if len(best) >= k or len(found) < want:
                return best[:k]
            want *= 4

    def record_vectors(self, conn: sqlite3.Connection, rowid: int) -> np.ndarray | None:
        """The stored vectors of one record's passages (in passage order), or None."""
        self._refresh()
        keys = [row[0] for row in conn.execute(
            "SELECT id FROM passages WHERE record = ? ORDER BY id", (rowid,))]
        keys = [k for k in keys if k in self._store]
        if not keys:
            return None
        return self._store.get(np.asarray(keys, dtype=np.int64))

    def close(self) -> None:
        """Release the vector store's memory maps."""
        self._store.close()

    # -- repair ----------------------------------------------------------------------------
    def repair(self) -> RepairReport:
        """Make the vector store agree with SQLite after a crash (see the module docstring)."""
        backend = self._backend
        conn = backend._conn()
        with backend._write_lock:
            conn.execute("BEGIN IMMEDIATE")
            try:
                journal = conn.execute(
                    "SELECT id, added, writer FROM passage_journal").fetchall()
                if any(_writer_alive(w) for w in {row[2] for row in journal}):
                    conn.execute("ROLLBACK")
                    return RepairReport(skipped=True)
                # Every journal row belongs to a writer that is gone: this repair owns them.
                conn.execute("DELETE FROM passage_journal")
                with contextlib.suppress(LantaiError):
                    self._store.refresh()
                gone = _existing(conn, [r[0] for r in journal], negate=True)
                removed = self._store.remove(np.asarray(gone, dtype=np.int64)) if gone else 0
                added = _existing(conn, [r[0] for r in journal if r[1]])
                missing_records = self._records_without_vectors(conn, added)
                records = backend._load(missing_records)
                if records:
                    log.warning("re-embedding %d record(s) whose passage vectors were lost",
                                len(records))
                rowids = sorted(records)
                vectors = backend.embed_records([records[r] for r in rowids])
                for rowid, passages in zip(rowids, vectors, strict=True):
                    self.remove(conn, rowid)
                    self.write(conn, rowid, passages)
                conn.execute("COMMIT")
            except BaseException:
                conn.execute("ROLLBACK")
                self.rollback()
                self._reload_store()
                raise
            if self._pending:
                self.commit()
            else:
                self._store.commit()
        return RepairReport(removed_vectors=int(removed), reembedded_records=len(records))

    def _needs_repair(self, conn: sqlite3.Connection) -> bool:
        if conn.execute("SELECT 1 FROM passage_journal LIMIT 1").fetchone() is not None:
            return True
        count = conn.execute("SELECT count(*) FROM passages").fetchone()[0]
        return bool(count != len(self._store))

    def _records_without_vectors(self, conn: sqlite3.Connection, added: list[int]
                                 ) -> list[int]:
        """Rowids of records with a passage the store lacks: the journal names them after a
        crash; a full scan is only needed when the counts still disagree (a vector store
        deleted or restored from an older backup)."""
        lost = [k for k in added if k not in self._store]
        count = conn.execute("SELECT count(*) FROM passages").fetchone()[0]
        if count - len(lost) <= len(self._store):
            # (more vectors than passages: orphans, which search ignores)
            return sorted(_records_of(conn, lost))
        missing: set[int] = set()
        for key, record in conn.execute("SELECT id, record FROM passages"):
            if record not in missing and key not in self._store:
                missing.add(record)
        return sorted(missing)

    # -- internals -------------------------------------------------------------------------
    def _allowed(self, conn: sqlite3.Connection, where: tuple[str, ...],
                 args: tuple[Any, ...]) -> np.ndarray:
        """Sorted passage keys of the records matching ``where``, cached until data changes.

        The cache matters at scale: the public gate alone admits most passages, and listing
        100,000 keys from SQLite costs more than the vector search itself.
        """
        version = (int(conn.execute("PRAGMA data_version").fetchone()[0]), self._writes)
        key = (id(conn), where, args)
        with self._cache_lock:
            cached = self._cache.get(key)
            if cached is not None and cached[0] is conn and cached[1] == version:
                self._cache.move_to_end(key)
                return cached[2]
        sql = ("SELECT p.id FROM passages p JOIN records r ON r.rowid = p.record WHERE "
               + " AND ".join(where))
        keys = np.fromiter((row[0] for row in conn.execute(sql, args)), dtype=np.int64)
        keys.sort()
        with self._cache_lock:
            self._cache[key] = (conn, version, keys)
            self._cache.move_to_end(key)
            while len(self._cache) > 1 and sum(
                    entry[2].nbytes for entry in self._cache.values()) > _ALLOWED_CACHE_BYTES:
                self._cache.popitem(last=False)
        return keys

    def _best_per_record(self, conn: sqlite3.Connection,
                         found: list[tuple[int, float]]) -> list[PassageHit]:
        """Passages (best first) to one hit per record; keys SQLite does not know are
        orphans of an interrupted commit and are skipped."""
        located: dict[int, tuple[int, int, int, int]] = {}
        for chunk in _chunks([key for key, _ in found], _IN_CHUNK):
            marks = ",".join("?" * len(chunk))
            for pid, record, page, start, end in conn.execute(
                    f"SELECT id, record, page, char_start, char_end FROM passages "
                    f"WHERE id IN ({marks})", chunk):
                located[pid] = (record, page, start, end)
        best: dict[int, PassageHit] = {}
        for key, score in found:
            where = located.get(key)
            if where is None or where[0] in best:
                continue
            best[where[0]] = PassageHit(where[0], score, where[1], where[2], where[3])
        return list(best.values())

    def _refresh(self) -> None:
        # Another process (the indexer) may have committed vectors since we opened the store.
        # A store with uncommitted changes (a failed commit in this instance) stays as it is.
        with contextlib.suppress(LantaiError):
            self._store.refresh()

    def _reload_store(self) -> None:
        directory = self._store.directory
        self._store.close()
        if VectorStore.exists(directory):
            self._store = VectorStore.open(directory, dim=self._embedder.dim)
        else:
            self._store = VectorStore(directory, self._embedder.dim,
                                      ann_threshold=ANN_THRESHOLD)

    def _clear_journal(self, keys: list[int]) -> None:
        conn = self._backend._conn()
        try:
            conn.execute("BEGIN IMMEDIATE")
            for chunk in _chunks(keys, _IN_CHUNK):
                conn.execute(f"DELETE FROM passage_journal WHERE id IN "
                             f"({','.join('?' * len(chunk))}) AND writer = ?",
                             [*chunk, self._token])
            conn.execute("COMMIT")
        except Exception as exc:
            # Harmless: the rows only make the next open check these keys again.
            with contextlib.suppress(Exception):
                conn.execute("ROLLBACK")
            log.warning("could not clear the passage journal: %s", exc)

    def _begin_flight(self) -> None:
        with _IN_FLIGHT_LOCK:
            _IN_FLIGHT.add(self._token)

    def _end_flight(self) -> None:
        with _IN_FLIGHT_LOCK:
            _IN_FLIGHT.discard(self._token)


def _has_passages(conn: sqlite3.Connection) -> bool:
    return conn.execute("SELECT 1 FROM passages LIMIT 1").fetchone() is not None


def _existing(conn: sqlite3.Connection, keys: list[int], *, negate: bool = False) -> list[int]:
    """Those of ``keys`` that are (or, with ``negate``, are not) passages in SQLite."""
    present: set[int] = set()
    for chunk in _chunks(keys, _IN_CHUNK):
        marks = ",".join("?" * len(chunk))
        present.update(row[0] for row in conn.execute(
            f"SELECT id FROM passages WHERE id IN ({marks})", chunk))
    return [k for k in keys if (k in present) != negate]


def _records_of(conn: sqlite3.Connection, keys: list[int]) -> set[int]:
    records: set[int] = set()
    for chunk in _chunks(keys, _IN_CHUNK):
        marks = ",".join("?" * len(chunk))
        records.update(row[0] for row in conn.execute(
            f"SELECT DISTINCT record FROM passages WHERE id IN ({marks})", chunk))
    return records


def _writer_alive(token: str | None) -> bool:
    """Whether the writer that journalled some keys may still commit their vectors."""
    if not token or ":" not in token:
        return False
    pid_text, _ = token.split(":", 1)
    try:
        pid = int(pid_text)
    except ValueError:
        return False
    if pid == os.getpid():
        with _IN_FLIGHT_LOCK:
            return token in _IN_FLIGHT
    if os.name != "posix":
        # Without a safe liveness probe, assume the other process is still working.
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _chunks(items: list[int], size: int) -> Iterator[list[int]]:
    for start in range(0, len(items), size):
        yield items[start:start + size]


def vectors_dir(data_dir: Path) -> Path:
    """Where the embedded backend keeps the vector store of an index in ``data_dir``."""
    return Path(data_dir) / VECTORS_DIR
