"""The embedded default backend: SQLite FTS5 (BM25) in one file, no server.

Layout in ``<data_dir>/index.sqlite``:

* ``records``: one row per 档号 with the filter/facet columns and the whole record as
  zlib-compressed JSON (the original script, for display and snippets);
* ``fts``: a *contentless* FTS5 table holding the analyzer's token streams (uni/bi/words per
  field). Contentless keeps the index small; a delete re-analyses the stored record to tell FTS5
  which tokens to remove, which is safe because an index refuses to open with a different
  analyzer (see :meth:`EmbeddedBackend._check_metadata`);
* ``meta``: the resolved configuration (schema, analyzer fingerprint, backend), also written
  to ``index.json`` beside the database for people to read.

Each batch of :meth:`upsert` is one transaction: a killed import loses at most the batch in
flight, and re-running it is idempotent (upsert by 档号).
"""

from __future__ import annotations

import heapq
import json
import shutil
import sqlite3
import threading
import zlib
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime
from functools import partial
from operator import itemgetter
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

import numpy as np

from lantai.catalog.hierarchy import Level, natural_code, path_of
from lantai.catalog.model import OpenStatus, Record
from lantai.config import Settings
from lantai.errors import IndexMismatch, Unavailable
from lantai.indexing.documents import (
    COLUMNS,
    FIELD_COLUMNS,
    Analysed,
    analyse_chunks,
    chunks,
    token_row,
)
from lantai.search.backends.base import (
    SCHEMA_VERSION,
    Capability,
    IndexReport,
    PassageVectors,
    RawHits,
    SearchBackend,
    SearchRequest,
    SortOrder,
    StatusChange,
    StatusReport,
    VectorHit,
)
from lantai.search.facets import FACETS, Filters, facet_values
from lantai.search.query import (
    OR_CANDIDATE_BUDGET,
    Clause,
    QueryPlan,
    bigrams_of,
    choose_candidates,
)
from lantai.text.analysis import Analyzer

if TYPE_CHECKING:
    from lantai.search.backends.embedded_vectors import PassageIndex
    from lantai.search.embeddings.base import Embedder

#: FTS5 segment-merge settings: SQLite's defaults for everyday writes, and lazier merging
#: during bulk loads (the import optimizes the index at the end of a large load).
DEFAULT_MERGE_POLICY = {"automerge": 4, "crisismerge": 16}
BULK_MERGE_POLICY = {"automerge": 16, "crisismerge": 64}
#: Filter/facet columns of ``records``: the hierarchy, then one per facet (see
#: :data:`~lantai.search.facets.FACETS`); ``series`` and ``file`` are 目录 and 案卷.
_TREE_COLUMNS: tuple[str, ...] = ("archive", "fonds", "series", "file")
_VALUE_COLUMNS: tuple[str, ...] = tuple(dict.fromkeys(
    (*_TREE_COLUMNS, *(n for n, f in FACETS.items() if not f.multi))))
#: Facets with several values per record (主题词) live in ``record_values`` instead.
_MULTI: tuple[str, ...] = tuple(n for n, f in FACETS.items() if f.multi)


def _quote(token: str) -> str:
    return '"' + token.replace('"', '""') + '"'


def _clause_expr(clause: Clause) -> str:
    """A clause's units (or any of its alternatives) in its fields."""
    exprs = [_units_expr(units, clause) for units in clause.variants]
    return exprs[0] if len(exprs) == 1 else "(" + " OR ".join(exprs) + ")"


def _units_expr(units: tuple[str, ...], clause: Clause) -> str:
    kind = "uni" if len(units) == 1 else "bi"
    cols = " ".join(FIELD_COLUMNS[f][kind] for f in clause.fields)
    tokens = units if kind == "uni" else bigrams_of(units)
    return "{" + cols + "} : " + _quote(" ".join(tokens))


def _any_expr(kind: str, tokens: Sequence[str]) -> str | None:
    cols = " ".join(c[kind] for c in FIELD_COLUMNS.values() if kind in c)
    if not tokens:
        return None
    return "{" + cols + "} : (" + " OR ".join(_quote(t) for t in tokens) + ")"


def fts_expression(
    plan: QueryPlan, df: Callable[[Sequence[str]], dict[str, int]] | None = None,
    budget: int = 0,
) -> tuple[str | None, str | None]:
    """(match expression, exclusion expression) for a plan; None where there is none.

    Every user token is double-quoted, so no FTS5 operator or syntax error can come from input.

    OR-ranked plans (questions, partial matches) would score nearly every record if any
    character could match. With ``df`` (document frequencies), candidates are the records
    holding one of the *rarest* query terms, taken rarest first until their document
    frequencies add up to ``budget``; every term still counts in the score. This is the
    top-k shortcut of dynamic pruning (rare terms dominate BM25), done in the query plan.
    """
    parts = [_clause_expr(c) for c in plan.required]
    if plan.is_or:
        kinds = {"bi": plan.should_bigrams, "uni": plan.should_units, "w": plan.should_words}
        everything = [e for e in (_any_expr(k, t) for k, t in kinds.items()) if e]
        if df is not None:
            freq = df([t for tokens in kinds.values() for t in tokens])
            chosen = choose_candidates(kinds, freq, budget)
            candidates = [e for e in (_any_expr(k, t) for k, t in chosen.items()) if e]
            if not candidates:
                return "\"\"", None  # no query term occurs anywhere: match nothing
            parts.append("(" + " OR ".join(candidates) + ") AND (" + " OR ".join(everything)
                         + ")")
        elif everything:
            parts.append("(" + " OR ".join(everything) + ")")
    match = " AND ".join(parts) if parts else None
    excluded = " OR ".join(_clause_expr(c) for c in plan.excluded) or None
    return match, excluded


class EmbeddedBackend(SearchBackend):
    """SQLite FTS5 backend (the default)."""

    name: ClassVar[str] = "embedded"
    capabilities: ClassVar[frozenset[Capability]] = frozenset({Capability.OPTIMIZE})

    def __init__(self, settings: Settings, analyzer: Analyzer | None = None,
                 embedder: Embedder | None = None, *,
                 path: Path | None = None, create: bool = True,
                 for_rebuild: bool = False) -> None:
        super().__init__(settings, analyzer, embedder)
        self.path = path or Path(settings.data_dir) / "index.sqlite"
        if not self.path.exists() and not create:
            raise Unavailable(f"no index at {self.path}: run `lantai index CATALOG` first")
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._local = threading.local()
        self._write_lock = threading.Lock()
        try:
            self._init_schema()
        except IndexMismatch:
            if not for_rebuild:
                raise
            self._remove_files()  # built differently, and about to be replaced anyway
            self._init_schema()
        self._passages: PassageIndex | None = None
        self._open_passages()
        self._load_labels()

    def _open_passages(self) -> None:
        if self.embedder is not None:
            from lantai.search.backends.embedded_vectors import PassageIndex

            self._passages = PassageIndex.open(self, self.embedder)

    def supports_vectors(self) -> bool:
        return self._passages is not None and self._passages.has_vectors()

    def _knn(self, request: SearchRequest, plan: QueryPlan, vector: np.ndarray,
             k: int) -> list[VectorHit]:
        if self._passages is None:
            return super()._knn(request, plan, vector, k)
        # The same restrictions as keyword search, applied before ranking: filters (with the
        # public gate), periods named in the query, and excluded terms.
        where, args = _filter_sql(request.filters)
        _period_sql(plan, where, args)
        _, excluded = fts_expression(plan)
        if excluded:
            where.append("r.rowid NOT IN (SELECT rowid FROM fts WHERE fts MATCH ?)")
            args.append(excluded)
        conn = self._conn()
        found = self._passages.search(conn, vector, k, where, args)
        records = self._load([h.record for h in found])
        gate = set(request.filters.open_status)
        hits = []
        for h in found:
            record = records.get(h.record)
            # Re-check the gate on the loaded record: it must hold even if a cached list of
            # allowed passages were ever stale.
            if record is None or (gate and record.open_status not in gate):
                continue
            hits.append(VectorHit(record, h.score, h.page, h.start, h.end))
        return hits

    def _record_vectors(self, archival_code: str) -> np.ndarray | None:
        if self._passages is None:
            return None
        conn = self._conn()
        row = conn.execute("SELECT rowid FROM records WHERE code = ?",
                           (archival_code,)).fetchone()
        return None if row is None else self._passages.record_vectors(conn, row[0])

    # -- connections -----------------------------------------------------------------------
    def _conn(self) -> sqlite3.Connection:
        conn: sqlite3.Connection | None = getattr(self._local, "conn", None)
        if conn is None:
            conn = sqlite3.connect(self.path, timeout=30, isolation_level=None,
                                   check_same_thread=False)
            conn.execute("PRAGMA journal_mode=WAL")
            conn.execute("PRAGMA synchronous=NORMAL")
            conn.execute("PRAGMA cache_size=-65536")
            conn.execute("PRAGMA temp_store=MEMORY")
            self._local.conn = conn
            self._all_conns().append(conn)
        return conn

    def _all_conns(self) -> list[sqlite3.Connection]:
        if not hasattr(self, "_conns"):
            self._conns: list[sqlite3.Connection] = []
        return self._conns

    def close(self) -> None:
        passages: PassageIndex | None = getattr(self, "_passages", None)
        if passages is not None:
            passages.close()
        for conn in self._all_conns():
            conn.close()
        self._conns = []
        self._local = threading.local()

    def _init_schema(self) -> None:
        conn = self._conn()
        with self._write_lock:
            conn.execute("BEGIN IMMEDIATE")
            try:
                conn.execute("CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT)")
                values = ", ".join(f"{c} {'INTEGER' if c in _INT_COLUMNS else 'TEXT'}"
                                   for c in _VALUE_COLUMNS)
                conn.execute(f"""
                    CREATE TABLE IF NOT EXISTS records (
                        rowid INTEGER PRIMARY KEY,
                        code TEXT NOT NULL UNIQUE, d0 INTEGER, d1 INTEGER, {values},
                        sort_code TEXT NOT NULL, item TEXT)""")
                conn.execute("CREATE TABLE IF NOT EXISTS record_values (rowid INTEGER NOT NULL, "
                             "facet TEXT NOT NULL, value TEXT NOT NULL)")
                conn.execute("CREATE INDEX IF NOT EXISTS record_values_value ON "
                             "record_values(facet, value, rowid)")
                conn.execute("CREATE INDEX IF NOT EXISTS record_values_rowid ON "
                             "record_values(rowid)")
                # the compressed record lives apart, so scanning matches reads compact rows
                conn.execute("CREATE TABLE IF NOT EXISTS record_data "
                             "(rowid INTEGER PRIMARY KEY, data BLOB NOT NULL)")
                for col in ("fonds", "category", "year", "decade", "open_status", "d0"):
                    conn.execute(
                        f"CREATE INDEX IF NOT EXISTS records_{col} ON records({col})")
                # browsing: children of a node grouped, and the files of a node in order,
                # both from this one covering index
                conn.execute("CREATE INDEX IF NOT EXISTS records_tree ON records(archive, "
                             "fonds, series, file, open_status, sort_code)")
                conn.execute("CREATE INDEX IF NOT EXISTS records_sort ON records(sort_code)")
                # how many records each 案卷 (or 目录, for files without volumes) holds per
                # open status, kept with every write: browsing a node's children reads these
                # few rows instead of counting a fonds of 100,000 files
                conn.execute("""
                    CREATE TABLE IF NOT EXISTS tree_counts (
                        archive TEXT NOT NULL, fonds TEXT NOT NULL, series TEXT NOT NULL,
                        file TEXT NOT NULL, open_status TEXT NOT NULL, n INTEGER NOT NULL,
                        PRIMARY KEY (archive, fonds, series, file, open_status))
                    WITHOUT ROWID""")
                cols = ", ".join(COLUMNS)
                conn.execute(
                    f"CREATE VIRTUAL TABLE IF NOT EXISTS fts USING fts5({cols}, "
                    "content='', tokenize='ascii', detail=full)")
                self._check_metadata(conn)
                conn.execute("COMMIT")
            except BaseException:
                conn.execute("ROLLBACK")
                raise

    def _wanted_metadata(self) -> dict[str, Any]:
        return {"schema_version": SCHEMA_VERSION, "backend": self.name,
                "analysis": self.analyzer.fingerprint(), "fts_columns": list(COLUMNS)}

    def _check_metadata(self, conn: sqlite3.Connection) -> None:
        stored = dict(conn.execute("SELECT key, value FROM meta").fetchall())
        wanted = self._wanted_metadata()
        if not stored:
            now = datetime.now(UTC).isoformat(timespec="seconds")
            rows = [(k, json.dumps(v, ensure_ascii=False)) for k, v in wanted.items()]
            rows.append(("created", json.dumps(now)))
            conn.executemany("INSERT INTO meta VALUES (?, ?)", rows)
            self._write_json_metadata(conn)
            return
        for key, value in wanted.items():
            have = json.loads(stored.get(key, "null"))
            if have != value:
                raise IndexMismatch(
                    f"the index at {self.path} was built with {key}={have}, but this Lantai "
                    f"uses {key}={value}; rebuild it with `lantai index --rebuild CATALOG`")

    def _write_json_metadata(self, conn: sqlite3.Connection) -> None:
        meta = {k: json.loads(v) for k, v in conn.execute("SELECT key, value FROM meta")}
        target = self.path.with_name("index.json")
        tmp = target.with_suffix(".json.tmp")
        tmp.write_text(json.dumps(meta, ensure_ascii=False, indent=2), encoding="utf-8")
        tmp.replace(target)

    def metadata(self) -> dict[str, Any]:
        rows = self._conn().execute("SELECT key, value FROM meta").fetchall()
        return {k: json.loads(v) for k, v in rows}

    def set_metadata(self, key: str, value: Any) -> None:
        conn = self._conn()
        with self._write_lock:
            conn.execute("INSERT OR REPLACE INTO meta VALUES (?, ?)",
                         (key, json.dumps(value, ensure_ascii=False)))
            self._write_json_metadata(conn)

    # -- writing ---------------------------------------------------------------------------
    def upsert(self, records: Iterable[Record], *, batch_size: int = 500,
               workers: int = 1) -> IndexReport:
        """Insert or replace records; ``workers`` > 1 analyses text in parallel processes
        while this process writes (SQLite has one writer)."""
        indexed = 0
        failed: list[tuple[str, str]] = []
        bulk = workers > 1
        if bulk:  # merge FTS5 segments less often while loading: −30 % writer CPU, measured
            self._merge_policy(BULK_MERGE_POLICY)
        try:
            columns = partial(_record_columns, archive=self.settings.archive.code)
            for analysed, errors in analyse_chunks(chunks(records, batch_size), self.analyzer,
                                                   workers=workers, extra=columns):
                failed.extend(errors)
                vectors = self.embed_records([a[0] for a in analysed]) if self._passages else None
                indexed += self._write_analysed(analysed, vectors)
        finally:
            if bulk:
                self._merge_policy(DEFAULT_MERGE_POLICY)
        return IndexReport(indexed=indexed, failed=tuple(failed))

    def _merge_policy(self, policy: dict[str, int]) -> None:
        with self._write_lock:
            for option, value in policy.items():
                self._conn().execute("INSERT INTO fts(fts, rank) VALUES (?, ?)", (option, value))

    def _write_analysed(self, batch: list[Analysed],
                        vectors: list[PassageVectors] | None = None) -> int:
        with self._transaction() as conn:
            tree: Counter[tuple[str, ...]] = Counter()
            for i, (record, tokens, columns) in enumerate(batch):
                old = self._find(conn, record.archival_code)
                rowid = None
                if old is not None:
                    rowid = old[0]
                    self._remove_row(conn, *old, tree=tree)
                cur = conn.execute(_INSERT_RECORD, (rowid, *columns[:-2]))
                rowid = int(cur.lastrowid or 0)
                conn.executemany("INSERT INTO record_values (rowid, facet, value) "
                                 "VALUES (?, ?, ?)",
                                 [(rowid, facet, value) for facet, values in columns[-2]
                                  for value in values])
                tree[tuple(columns[p] or "" for p in _TREE_KEY)] += 1
                conn.execute("INSERT INTO record_data (rowid, data) VALUES (?, ?)",
                             (rowid, columns[-1]))
                conn.execute(
                    f"INSERT INTO fts (rowid, {', '.join(COLUMNS)}) "
                    f"VALUES (?{', ?' * len(COLUMNS)})", (rowid, *tokens))
                if self._passages is not None and vectors is not None:
                    self._passages.write(conn, rowid, vectors[i])
            _add_tree_counts(conn, tree)
        return len(batch)

    @contextmanager
    def _transaction(self) -> Iterator[sqlite3.Connection]:
        """One write transaction; the passage vectors commit after SQLite or roll back."""
        conn = self._conn()
        with self._write_lock:
            conn.execute("BEGIN IMMEDIATE")
            try:
                yield conn
                conn.execute("COMMIT")
            except BaseException:
                conn.execute("ROLLBACK")
                if self._passages is not None:
                    self._passages.rollback()
                raise
            if self._passages is not None:
                self._passages.commit()

    @staticmethod
    def _find(conn: sqlite3.Connection, code: str) -> tuple[int, bytes] | None:
        row = conn.execute("SELECT r.rowid, d.data FROM records r JOIN record_data d "
                           "ON d.rowid = r.rowid WHERE r.code = ?", (code,)).fetchone()
        return None if row is None else (int(row[0]), row[1])

    def _remove_row(self, conn: sqlite3.Connection, rowid: int, data: bytes, *,
                    tree: Counter[tuple[str, ...]]) -> None:
        """Delete a stored record: its tokens (re-analysed), rows and passages."""
        self._delete_tokens(conn, rowid, _decode(data))
        tree[_tree_key(conn, rowid)] -= 1
        conn.execute("DELETE FROM records WHERE rowid = ?", (rowid,))
        conn.execute("DELETE FROM record_values WHERE rowid = ?", (rowid,))
        conn.execute("DELETE FROM record_data WHERE rowid = ?", (rowid,))
        if self._passages is not None:
            self._passages.remove(conn, rowid)

    def _delete_tokens(self, conn: sqlite3.Connection, rowid: int, record: Record) -> None:
        tokens = token_row(record, self.analyzer)
        conn.execute(
            f"INSERT INTO fts (fts, rowid, {', '.join(COLUMNS)}) "
            f"VALUES ('delete', ?{', ?' * len(COLUMNS)})", (rowid, *tokens))

    def delete(self, archival_codes: Sequence[str]) -> int:
        removed = 0
        with self._transaction() as conn:
            tree: Counter[tuple[str, ...]] = Counter()
            for code in archival_codes:
                old = self._find(conn, code)
                if old is not None:
                    self._remove_row(conn, *old, tree=tree)
                    removed += 1
            _add_tree_counts(conn, tree)
        return removed

    def optimize(self) -> None:
        """Merge FTS5 segments (after a bulk load) for faster queries."""
        with self._write_lock:
            self._conn().execute("INSERT INTO fts(fts) VALUES ('optimize')")

    def _iter_records(self, filters: Filters) -> Iterator[Record]:
        where, args = _filter_sql(filters)
        where_sql = (" WHERE " + " AND ".join(where)) if where else ""
        # a connection of its own: a long export must not hold the shared one's cursor
        conn = sqlite3.connect(self.path, timeout=30, isolation_level=None,
                               check_same_thread=False)
        try:
            rows = conn.execute("SELECT d.data FROM records r JOIN record_data d ON "
                                f"d.rowid = r.rowid{where_sql} ORDER BY r.sort_code", args)
            for (data,) in rows:
                yield _decode(data)
        finally:
            conn.close()

    def _update_status(self, changes: list[StatusChange]) -> StatusReport:
        updated = 0
        missing: list[str] = []
        with self._transaction() as conn:
            tree: Counter[tuple[str, ...]] = Counter()
            for change in changes:
                old = self._find(conn, change.archival_code)
                if old is None:
                    missing.append(change.archival_code)
                    continue
                record = self._changed_record(_decode(old[1]), change)
                # only the status column and the stored record change: the tokens and the
                # passage vectors stay as they are (the status is not analysed text)
                key = _tree_key(conn, old[0])
                conn.execute("UPDATE records SET open_status = ? WHERE rowid = ?",
                             (record.open_status.value, old[0]))
                tree[key] -= 1
                tree[(*key[:-1], record.open_status.value)] += 1
                conn.execute("UPDATE record_data SET data = ? WHERE rowid = ?",
                             (_encode(record), old[0]))
                updated += 1
            _add_tree_counts(conn, tree)
        return StatusReport(updated=updated, missing=tuple(missing))

    def _get_many(self, archival_codes: Sequence[str]) -> dict[str, Record]:
        out: dict[str, Record] = {}
        for start in range(0, len(archival_codes), 500):
            chunk = list(archival_codes[start:start + 500])
            rows = self._conn().execute(
                "SELECT d.data FROM records r JOIN record_data d ON d.rowid = r.rowid "
                f"WHERE r.code IN ({','.join('?' * len(chunk))})", chunk)
            for (data,) in rows:
                record = _decode(data)
                out[record.archival_code] = record
        return out

    def _children(self, filters: Filters, level: Level) -> list[tuple[str, int]]:
        column = _TREE_COLUMNS[level - 1]
        where, args = _filter_sql(filters)
        where_sql = (" WHERE " + " AND ".join(where)) if where else ""
        tree_only = set(filters.facet_filters()) <= {*_TREE_COLUMNS, "open_status"} and (
            filters.date_from is None and filters.date_to is None)
        if tree_only:  # the kept counts answer it (the same column names)
            sql = (f"SELECT r.{column}, sum(r.n) FROM tree_counts r{where_sql} "
                   f"GROUP BY r.{column} HAVING sum(r.n) > 0")
        else:
            sql = f"SELECT r.{column}, count(*) FROM records r{where_sql} GROUP BY r.{column}"
        rows = self._conn().execute(sql, args).fetchall()
        return sorted(((v or "", int(n)) for v, n in rows), key=lambda vn: natural_code(vn[0]))

    def _leaves(self, filters: Filters, offset: int, limit: int) -> tuple[int, list[Record]]:
        where, args = _filter_sql(filters)
        where_sql = (" WHERE " + " AND ".join(where)) if where else ""
        conn = self._conn()
        total = int(conn.execute(f"SELECT count(*) FROM records r{where_sql}",
                                 args).fetchone()[0])
        ids = [row[0] for row in conn.execute(
            f"SELECT r.rowid FROM records r{where_sql} ORDER BY r.sort_code LIMIT ? OFFSET ?",
            [*args, limit, offset])]
        records = self._load(ids)
        return total, [records[i] for i in ids]

    def health(self) -> dict[str, Any]:
        conn = self._conn()
        try:
            conn.execute("SELECT count(*) FROM meta").fetchone()
        except sqlite3.Error as exc:
            raise Unavailable(f"the index at {self.path} cannot be read: {exc}") from exc
        size = sum(p.stat().st_size for p in self.path.parent.glob(self.path.name + "*"))
        return {"backend": self.name, "path": str(self.path), "size_bytes": size,
                "records": self._count_filtered(Filters()),
                "public_records": self._count_filtered(Filters(open_status=(OpenStatus.OPEN,))),
                "vectors": self.supports_vectors()}

    def _remove_files(self) -> None:
        from lantai.search.backends.embedded_vectors import vectors_dir

        for conn in self._all_conns():
            conn.close()
        self._conns = []
        self._local = threading.local()
        for suffix in ("", "-wal", "-shm"):
            Path(str(self.path) + suffix).unlink(missing_ok=True)
        self.path.with_name("index.json").unlink(missing_ok=True)
        shutil.rmtree(vectors_dir(self.path.parent), ignore_errors=True)

    def drop(self) -> None:
        with self._write_lock:
            if self._passages is not None:
                self._passages.close()
                self._passages = None
            self._remove_files()
        self._init_schema()
        self._open_passages()
        self._load_labels()

    # -- reading ---------------------------------------------------------------------------
    def _get(self, archival_code: str) -> Record | None:
        row = self._conn().execute("SELECT d.data FROM records r JOIN record_data d "
                                   "ON d.rowid = r.rowid WHERE r.code = ?",
                                   (archival_code,)).fetchone()
        return None if row is None else _decode(row[0])

    def _count_filtered(self, filters: Filters) -> int:
        where, args = _filter_sql(filters)
        where_sql = (" WHERE " + " AND ".join(where)) if where else ""
        return int(self._conn().execute(f"SELECT count(*) FROM records r{where_sql}",
                                        args).fetchone()[0])

    def _term_frequencies(self, terms: Sequence[str]) -> dict[str, int]:
        return self._document_frequencies(terms)

    def _document_frequencies(self, terms: Sequence[str]) -> dict[str, int]:
        """How many records hold each term (any column), cached; the cache is dropped when the
        index has grown or shrunk by more than a tenth, since it only steers query planning."""
        conn = self._conn()
        size = self._count_filtered(Filters())
        cache: dict[str, int] | None = getattr(self._local, "df", None)
        if cache is None or abs(size - self._local.df_size) > max(100, size // 10):
            conn.execute("CREATE VIRTUAL TABLE IF NOT EXISTS temp.fts_vocab "
                         "USING fts5vocab(main, fts, 'row')")
            cache = self._local.df = {}
            self._local.df_size = size
        missing = list({t for t in terms if t not in cache})
        if missing:
            for start in range(0, len(missing), 500):
                chunk = missing[start:start + 500]
                found = dict(conn.execute(
                    f"SELECT term, doc FROM temp.fts_vocab WHERE term IN "
                    f"({','.join('?' * len(chunk))})", chunk).fetchall())
                for term in chunk:
                    cache[term] = int(found.get(term, 0))
            if len(cache) > 200_000:
                cache.clear()
        return {t: cache[t] for t in terms if t in cache}

    def _weights(self) -> str:
        s = self.settings.search
        base = {"title": s.title_weight, "body": s.body_weight, "meta": s.meta_weight,
                "creator": s.meta_weight}
        kind = {"uni": s.unigram_weight, "bi": 1.0, "w": s.word_weight}
        weights = []
        for col in COLUMNS:
            fld, k = col.split("_")
            weights.append(base[fld] * kind[k])
        return ", ".join(f"{w:.4f}" for w in weights)

    def _search(self, request: SearchRequest, plan: QueryPlan) -> RawHits:
        where, args = _filter_sql(request.filters)
        match, excluded = fts_expression(plan, self._document_frequencies, OR_CANDIDATE_BUDGET)
        _period_sql(plan, where, args)
        if excluded:
            where.append("r.rowid NOT IN (SELECT rowid FROM fts WHERE fts MATCH ?)")
            args.append(excluded)
        conn = self._conn()
        offset = (request.page - 1) * request.size
        limit = request.size
        where_sql = (" WHERE " + " AND ".join(where)) if where else ""
        if match is None:
            return self._browse(conn, request, where_sql, args, offset, limit)
        # MATERIALIZED: evaluate the full-text match once, then look records up by rowid
        # (left to itself the planner may loop over records and re-run MATCH per row).
        single = [name for name in request.facets if name not in _MULTI]
        facet_cols = "".join(f", r.{name}" for name in single)
        sql = (f"WITH m AS MATERIALIZED (SELECT rowid, bm25(fts, {self._weights()}) AS score "
               f"FROM fts WHERE fts MATCH ?) "
               f"SELECT m.rowid, m.score, r.sort_code, r.d0{facet_cols} FROM m "
               f"CROSS JOIN records r ON r.rowid = m.rowid{where_sql}")
        rows = conn.execute(sql, [match, *args]).fetchall()
        total = len(rows)
        key = _sort_key(request.sort)
        page = heapq.nsmallest(offset + limit, rows, key=key)[offset:]
        facets: dict[str, list[tuple[str, int]]] = {}
        for name in request.facets:
            if name in _MULTI:
                facets[name] = self._multi_facet(
                    conn, name, "(SELECT rowid FROM fts WHERE fts MATCH ?)", [match],
                    where_sql, args, request.facet_size) if rows else []
        for position, name in enumerate(single, start=4):
            counts = Counter(map(itemgetter(position), rows))
            counts.pop(None, None)
            counts.pop("", None)
            facets[name] = [(str(v), c) for v, c in
                            sorted(counts.items(), key=lambda kv: (-kv[1], str(kv[0])))
                            [: request.facet_size]]
        facets = {name: facets[name] for name in request.facets}  # the order asked for
        records = self._load([row[0] for row in page])
        # bm25() is "lower is better"; expose a positive score, higher is better
        scored = [(records[row[0]], -float(row[1])) for row in page]
        return RawHits(total=total, scored=scored, facets=facets)

    def _browse(self, conn: sqlite3.Connection, request: SearchRequest, where_sql: str,
                args: list[Any], offset: int, limit: int) -> RawHits:
        order = {SortOrder.DATE: "r.d0 IS NULL, r.d0, r.sort_code",
                 SortOrder.DATE_DESC: "r.d0 IS NULL, r.d0 DESC, r.sort_code",
                 }.get(request.sort, "r.sort_code")
        total = conn.execute(f"SELECT count(*) FROM records r{where_sql}", args).fetchone()[0]
        ids = [row[0] for row in conn.execute(
            f"SELECT r.rowid FROM records r{where_sql} ORDER BY {order} LIMIT ? OFFSET ?",
            [*args, limit, offset])]
        facets: dict[str, list[tuple[str, int]]] = {}
        for name in request.facets:
            if name in _MULTI:
                facets[name] = self._multi_facet(conn, name, None, [], where_sql, args,
                                                 request.facet_size)
                continue
            col = name
            extra = (" AND " if where_sql else " WHERE ") + f"r.{col} IS NOT NULL AND r.{col} != ''"
            rows = conn.execute(
                f"SELECT r.{col}, count(*) AS n FROM records r{where_sql}{extra} "
                f"GROUP BY r.{col} ORDER BY n DESC, r.{col} LIMIT ?",
                [*args, request.facet_size]).fetchall()
            facets[name] = [(str(v), int(n)) for v, n in rows]
        records = self._load(ids)
        return RawHits(total=int(total), scored=[(records[i], 0.0) for i in ids], facets=facets)

    @staticmethod
    def _multi_facet(conn: sqlite3.Connection, name: str, matches: str | None,
                     match_args: list[Any], where_sql: str, args: list[Any],
                     size: int) -> list[tuple[str, int]]:
        """Counts of a many-valued facet (主题词) over the records that match (``matches``, a
        subquery of rowids, or every record) under the filters."""
        source = (f"(WITH m AS MATERIALIZED {matches} SELECT rowid FROM m) s "
                  "CROSS JOIN records r ON r.rowid = s.rowid" if matches else "records r")
        rows = conn.execute(
            f"SELECT v.value, count(*) AS n FROM {source} JOIN record_values v "
            f"ON v.rowid = r.rowid AND v.facet = ?{where_sql} GROUP BY v.value "
            "ORDER BY n DESC, v.value LIMIT ?", [*match_args, name, *args, size]).fetchall()
        return [(str(v), int(n)) for v, n in rows]

    def _load(self, rowids: Sequence[int]) -> dict[int, Record]:
        if not rowids:
            return {}
        marks = ",".join("?" * len(rowids))
        rows = self._conn().execute(
            f"SELECT rowid, data FROM record_data WHERE rowid IN ({marks})", list(rowids))
        return {rowid: _decode(data) for rowid, data in rows}


def _sort_key(sort: SortOrder):  # type: ignore[no-untyped-def]
    if sort is SortOrder.DATE:
        return lambda r: (r[3] is None, r[3] or 0, r[2])
    if sort is SortOrder.DATE_DESC:
        return lambda r: (r[3] is None, -(r[3] or 0), r[2])
    if sort is SortOrder.CODE:
        return lambda r: r[2]
    return lambda r: (r[1], r[2])


def _tree_key(conn: sqlite3.Connection, rowid: int) -> tuple[str, ...]:
    """(archive, fonds, series, file, open_status) of a stored record."""
    row = conn.execute(f"SELECT {', '.join(_TREE_KEY_COLUMNS)} FROM records WHERE rowid = ?",
                       (rowid,)).fetchone()
    return tuple(v or "" for v in row)


def _add_tree_counts(conn: sqlite3.Connection, deltas: Counter[tuple[str, ...]]) -> None:
    """Apply a batch's changes to the kept per-案卷 counts (one statement per 案卷 touched)."""
    conn.executemany(
        "INSERT INTO tree_counts (archive, fonds, series, file, open_status, n) "
        "VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (archive, fonds, series, file, open_status) "
        "DO UPDATE SET n = n + excluded.n",
        [(*key, n) for key, n in deltas.items() if n])


def _period_sql(plan: QueryPlan, where: list[str], args: list[Any]) -> None:
    """A record qualifies for a period named in the query if its date overlaps it or its text
    names it (or, for an ``undated`` period, if it has no date at all)."""
    for period in plan.periods:
        undated = " OR r.d0 IS NULL" if period.undated else ""
        where.append("((r.d1 >= ? AND r.d0 <= ?) OR r.rowid IN "
                     f"(SELECT rowid FROM fts WHERE fts MATCH ?){undated})")
        args.extend([period.start, period.end, _clause_expr(period.clause)])


def _filter_sql(filters: Filters) -> tuple[list[str], list[Any]]:
    where: list[str] = []
    args: list[Any] = []
    for name, values in filters.facet_filters().items():
        marks = ",".join("?" * len(values))
        if name in _MULTI:
            where.append("r.rowid IN (SELECT rowid FROM record_values WHERE facet = ? AND "
                         f"value IN ({marks}))")
            args.append(name)
        else:
            column = "code" if name == "archival_code" else name
            where.append(f"r.{column} IN ({marks})")
        args.extend(values)
    if filters.date_from is not None:
        where.append("r.d1 >= ?")
        args.append(filters.date_from)
    if filters.date_to is not None:
        where.append("r.d0 <= ?")
        args.append(filters.date_to)
    return where, args


_INT_COLUMNS = frozenset(name for name, spec in FACETS.items() if spec.kind == "int")
# narrow rows: a query reads the columns of every match (d0, facets, sort_code)
_INSERT_RECORD = (
    f"INSERT INTO records (rowid, code, d0, d1, {', '.join(_VALUE_COLUMNS)}, sort_code, item) "
    f"VALUES (?{', ?' * (5 + len(_VALUE_COLUMNS))})")


_TREE_KEY_COLUMNS = (*_TREE_COLUMNS, "open_status")
#: Positions of the tree key in :func:`_record_columns`' tuple (after code, d0, d1).
_TREE_KEY = tuple(3 + _VALUE_COLUMNS.index(c) for c in _TREE_KEY_COLUMNS)


def _record_columns(record: Record, archive: str) -> tuple[Any, ...]:
    """Column values of ``records`` (in :data:`_INSERT_RECORD` order) and the stored blob."""
    path = path_of(record, archive)
    values = facet_values(record, path)
    tree = {"archive": path.archive, "fonds": path.fonds, "series": path.series,
            "file": path.file}
    d0, d1 = record.date_span
    return (record.archival_code, d0, d1,
            *(tree[c] if c in tree else values[c] for c in _VALUE_COLUMNS),
            natural_code(record.archival_code), path.item,
            tuple((name, values[name]) for name in _MULTI), _encode(record))


def _encode(record: Record) -> bytes:
    return zlib.compress(json.dumps(record.to_dict(), ensure_ascii=False).encode("utf-8"), 6)


def _decode(data: bytes) -> Record:
    return Record.from_dict(json.loads(zlib.decompress(data)))
