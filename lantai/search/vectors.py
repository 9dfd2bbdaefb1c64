"""Compact on-disk vector store for the embedded backend's passage vectors.

The SQLite backend maps passages to records; this module only knows int64 passage keys and
their vectors, and answers "which keys are most similar to this query vector".

Layout of a store directory (everything except ``vectors.json`` is immutable once written)::

    vectors.json              metadata: format version, dim, dtype, metric, live count, the
                              list of segments, the tombstone file and the ANN file
    seg-000007.vec.npy        (rows, dim) float16, or int8 when dtype="int8"
    seg-000007.keys.npy       (rows,) int64 passage keys
    seg-000007.scale.npy      (rows,) float32 per-vector scale (int8 stores only)
    dead-000012.npy           int64 global row numbers that are deleted (tombstones)
    ann-000012.usearch        usearch HNSW graph over the live vectors (large stores only)

Design choices, and why:

* **Segments + tombstones.** New vectors go to a new segment at ``commit``; deleting or
  replacing a key only marks its row dead. Rewriting a 1M-vector matrix on every commit would
  make incremental indexing quadratic. Segments are merged like a binary counter (the last two
  are merged while they are of comparable size), so there are O(log n) of them and each row is
  rewritten O(log n) times; when more than a fifth of all rows are dead everything is compacted
  into one segment.
* **Atomic commit.** A commit writes new files under fresh names (temp file + fsync +
  ``os.replace``), then replaces ``vectors.json`` the same way, then deletes files the new
  metadata no longer names. A crash at any point before the metadata swap leaves the previous
  committed state intact (the orphans are swept by the next commit). One writer process at a
  time; readers see the state committed when they opened the store, or call ``refresh()``.
  Within a process one lock serialises all calls (the web server searches from threads).
* **Memory-mapped.** Segment arrays are opened with ``np.load(mmap_mode="r")``, so opening a
  store costs almost nothing and the OS page cache holds the hot part.
* **Vectors are normalised at add time** (metric ``cos``), so a dot product is the cosine.
  float16 is the default: measured in ``bench/vectors`` on real multilingual-e5-small vectors,
  its exact recall@10 against float32 is 0.999, int8 (per-vector absmax scale) 0.98 (0.998 vs
  0.958 at 100k vectors). e5 similarities crowd into a narrow band (top hits 0.85-0.88), so
  int8's rounding reorders near-ties; it remains an option for half the disk and ~3x faster
  exact scans.
* **Exact search** is a chunked matrix-vector product (float32 BLAS on decoded chunks). Above
  ``ann_threshold`` live vectors a usearch HNSW index (keyed by passage key) answers unfiltered
  queries; its candidates are re-scored from the stored vectors so that scores are identical
  on both paths and ties break by key. The graph stores float16 whatever the store's dtype:
  usearch's own int8 lost recall on normalised vectors (0.91 against 0.999 in our test).
* **Filters apply before ranking.** A small allowed set is searched exactly over just its rows;
  a large one goes through the ANN index with oversampling proportional to its selectivity,
  falling back to exact search over the allowed rows when fewer than ``k`` survive. The usearch
  Python API has no filter predicate (checked for 2.26), hence the oversampling.
"""

from __future__ import annotations

import contextlib
import dataclasses
import errno
import functools
import json
import math
import os
import re
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any, Concatenate, ParamSpec, TypeVar

import numpy as np

from lantai.errors import ConfigError, IndexMismatch, LantaiError, require

FORMAT = "lantai-vectors"
FORMAT_VERSION = 1
META_FILE = "vectors.json"
DTYPES = ("float16", "int8")
METRICS = ("cos", "ip")

# Rows decoded to float32 per BLAS call: 16k x 384 floats = 24 MiB of reused scratch memory.
_CHUNK_ROWS = 16_384
# Oversampled ANN searches asking for more candidates than this go exact instead: an HNSW
# search that wide costs more than scanning the allowed rows.
_MAX_ANN_CANDIDATES = 4_096
_DEAD_FRACTION_COMPACT = 0.2
_FILE_RE = re.compile(r"^(seg-\d+\.(vec|keys|scale)\.npy|dead-\d+\.npy|ann-\d+\.usearch)$")
_TMP_SUFFIX = ".tmp"

_P = ParamSpec("_P")
_R = TypeVar("_R")


def _locked(
    method: Callable[Concatenate[VectorStore, _P], _R],
) -> Callable[Concatenate[VectorStore, _P], _R]:
    """Run a public method under the store's lock.

    The web server searches from several threads while a review correction may re-add a
    record's passages; the key index and segment list must not change under a search, and
    usearch indexes are not documented as safe for concurrent queries on one object.
    """

    def wrapper(self: VectorStore, /, *args: _P.args, **kwargs: _P.kwargs) -> _R:
        with self._lock:
            return method(self, *args, **kwargs)

    functools.update_wrapper(wrapper, method)
    return wrapper


@dataclasses.dataclass(frozen=True)
class AnnParams:
    """HNSW parameters of the usearch index (see bench/vectors/README.md for their effect)."""

    connectivity: int = 16
    expansion_add: int = 128
    # Beam width of a query; a filtered query takes the whole beam as candidates.
    expansion_search: int = 512


_BUILD_PARAMS = ("connectivity", "expansion_add")


@dataclasses.dataclass
class _Segment:
    """One immutable block of rows; ``name`` is None while it only lives in memory."""

    name: str | None
    keys: np.ndarray
    vecs: np.ndarray
    scales: np.ndarray | None

    @property
    def rows(self) -> int:
        return int(self.keys.shape[0])


class VectorStore:
    """Cosine-similarity store: exact search below ann_threshold vectors, ANN (usearch) above.

    Constructing a store starts an empty one in ``directory``; its first :meth:`commit`
    atomically replaces whatever store the directory held (so a rebuild stays invisible to
    readers until it is complete). Use :meth:`open` to continue an existing store.
    """

    def __init__(
        self,
        directory: Path,
        dim: int,
        *,
        dtype: str = "float16",
        ann_threshold: int = 20_000,
        metric: str = "cos",
        ann_params: AnnParams | None = None,
    ) -> None:
        if not isinstance(dim, int) or dim < 1:
            raise ConfigError(f"vector store: dim must be a positive integer, got {dim!r}")
        if dtype not in DTYPES:
            raise ConfigError(f"vector store: dtype must be one of {DTYPES}, got {dtype!r}")
        if metric not in METRICS:
            raise ConfigError(f"vector store: metric must be one of {METRICS}, got {metric!r}")
        if not isinstance(ann_threshold, int) or ann_threshold < 1:
            raise ConfigError(
                f"vector store: ann_threshold must be a positive integer, got {ann_threshold!r}"
            )
        self.directory = Path(directory)
        self.dim = dim
        self.dtype = dtype
        self.metric = metric
        self.ann_threshold = ann_threshold
        self.ann_params = ann_params or AnnParams()
        self._segments: list[_Segment] = []
        self._alive = np.zeros(0, dtype=bool)
        # Live keys sorted, with their global row numbers: vectorised lookups without a dict
        # of a million Python ints.
        self._skeys = np.zeros(0, dtype=np.int64)
        self._srows = np.zeros(0, dtype=np.int64)
        self._next_segment = 1
        self._generation = 0
        self._ann: Any = None
        self._ann_file: str | None = None
        self._ann_readonly = False
        self._ann_dirty = False
        # A new store is dirty: its first commit replaces whatever the directory held.
        self._dirty = True
        self._lock = threading.RLock()
        self._scratch: np.ndarray | None = None

    # ------------------------------------------------------------------ opening

    @staticmethod
    def exists(directory: Path) -> bool:
        """True when ``directory`` holds a committed vector store."""
        return (Path(directory) / META_FILE).is_file()

    @classmethod
    def open(
        cls,
        directory: Path,
        *,
        dim: int | None = None,
        ann_threshold: int | None = None,
        ann_params: AnnParams | None = None,
    ) -> VectorStore:
        """Open a committed store; ``IndexMismatch`` when ``dim`` is given and differs."""
        directory = Path(directory)
        # A concurrent commit may delete the files named by the metadata we just read: retry
        # with the fresh metadata (unlinked files that are already mapped stay readable).
        for attempt in range(3):
            meta = _read_meta(directory)
            try:
                return cls._from_meta(directory, meta, dim, ann_threshold, ann_params)
            except FileNotFoundError as exc:
                if attempt == 2:
                    raise IndexMismatch(
                        f"vector store {directory} is incomplete ({exc.filename} is missing); "
                        "rebuild the semantic index"
                    ) from exc
        raise AssertionError("unreachable")  # pragma: no cover

    @classmethod
    def _from_meta(
        cls,
        directory: Path,
        meta: dict[str, Any],
        dim: int | None,
        ann_threshold: int | None,
        ann_params: AnnParams | None,
    ) -> VectorStore:
        if dim is not None and dim != meta["dim"]:
            raise IndexMismatch(
                f"vector store {directory} holds {meta['dim']}-dimensional vectors but the "
                f"embedding model gives {dim}: rebuild the semantic index for the new model"
            )
        # Only build-time parameters come from the store (they shaped its graph); the beam
        # width is a query-time choice, so a changed default applies to old stores too.
        built = {k: v for k, v in meta.get("ann_params", {}).items() if k in _BUILD_PARAMS}
        params = ann_params or AnnParams(**built)
        store = cls(
            directory,
            meta["dim"],
            dtype=meta["dtype"],
            ann_threshold=ann_threshold or meta["ann_threshold"],
            metric=meta["metric"],
            ann_params=params,
        )
        store._dirty = False
        store._generation = meta["generation"]
        store._next_segment = meta["next_segment"]
        store._segments = [store._load_segment(name) for name in meta["segments"]]
        total = sum(s.rows for s in store._segments)
        alive = np.ones(total, dtype=bool)
        if meta["dead"]:
            alive[np.load(directory / meta["dead"])] = False
        store._alive = alive
        store._rebuild_key_index()
        if len(store) != meta["count"]:
            raise IndexMismatch(
                f"vector store {directory} is inconsistent: metadata says {meta['count']} "
                f"vectors, the files hold {len(store)}; rebuild the semantic index"
            )
        if meta["ann"]:
            usearch = _usearch()
            ann = usearch.Index.restore(str(directory / meta["ann"]), view=True)
            if ann is None:
                raise FileNotFoundError(errno.ENOENT, "missing", str(directory / meta["ann"]))
            # An index file that disagrees with the arrays is dropped and rebuilt on demand
            # rather than serving wrong results.
            if len(ann) == len(store):
                ann.expansion_search = params.expansion_search
                store._ann, store._ann_file, store._ann_readonly = ann, meta["ann"], True
        return store

    def _load_segment(self, name: str) -> _Segment:
        keys = np.load(self.directory / f"{name}.keys.npy", mmap_mode="r")
        vecs = np.load(self.directory / f"{name}.vec.npy", mmap_mode="r")
        scales = None
        if self.dtype == "int8":
            scales = np.load(self.directory / f"{name}.scale.npy", mmap_mode="r")
        if vecs.shape != (keys.shape[0], self.dim):
            raise IndexMismatch(
                f"vector store {self.directory}: segment {name} has shape {vecs.shape}, "
                f"expected ({keys.shape[0]}, {self.dim}); rebuild the semantic index"
            )
        return _Segment(name, keys, vecs, scales)

    # ------------------------------------------------------------------ mutation

    def __len__(self) -> int:
        return int(self._skeys.shape[0])

    @_locked
    def __contains__(self, key: object) -> bool:
        if not isinstance(key, int | np.integer):
            return False
        pos = int(np.searchsorted(self._skeys, key))
        return pos < len(self._skeys) and int(self._skeys[pos]) == int(key)

    @_locked
    def add(self, keys: np.ndarray, vectors: np.ndarray) -> None:
        """Add vectors under int64 keys; re-adding a key replaces its vector.

        Within one call a repeated key keeps its last vector.
        """
        keys = self._check_keys(keys)
        vectors = np.asarray(vectors)
        if vectors.ndim != 2 or vectors.shape[0] != keys.shape[0]:
            raise ValueError(
                f"vectors must have shape ({keys.shape[0]}, {self.dim}), got {vectors.shape}"
            )
        if vectors.shape[1] != self.dim:
            raise IndexMismatch(
                f"vectors have dimension {vectors.shape[1]} but the vector store holds "
                f"{self.dim}-dimensional vectors"
            )
        if keys.shape[0] == 0:
            return
        vectors = vectors.astype(np.float32, copy=False)
        if not np.isfinite(vectors).all():
            bad = keys[~np.isfinite(vectors).all(axis=1)]
            raise ValueError(f"vectors for keys {bad[:5].tolist()} contain NaN or infinity")
        # Keep the last occurrence of a key repeated within the batch.
        rev_unique, rev_idx = np.unique(keys[::-1], return_index=True)
        if rev_unique.shape[0] != keys.shape[0]:
            idx = np.sort(keys.shape[0] - 1 - rev_idx)
            keys, vectors = keys[idx], vectors[idx]
        if self.metric == "cos":
            norms = np.linalg.norm(vectors, axis=1, keepdims=True)
            if (norms == 0).any():
                bad = keys[(norms[:, 0] == 0)]
                raise ValueError(f"zero vectors have no direction (keys {bad[:5].tolist()})")
            vectors = vectors / norms
        encoded, scales = self._encode(vectors)

        self._mark_dead(keys)
        start = self._alive.shape[0]
        self._segments.append(_Segment(None, keys.copy(), encoded, scales))
        self._alive = np.concatenate([self._alive, np.ones(keys.shape[0], dtype=bool)])
        order = np.argsort(keys, kind="stable")
        pos = np.searchsorted(self._skeys, keys[order])
        self._skeys = np.insert(self._skeys, pos, keys[order])
        self._srows = np.insert(self._srows, pos, start + order)
        self._consolidate_pending()
        self._dirty = True

        if self._ann is not None:
            ann = self._writable_ann()
            present = ann.contains(keys.view(np.uint64))
            if present.any():
                ann.remove(keys[present].view(np.uint64))
            ann.add(keys.view(np.uint64), self._decode(encoded, scales))
            self._ann_dirty = True
        elif len(self) >= self.ann_threshold:
            self._build_ann()

    @_locked
    def remove(self, keys: np.ndarray) -> int:
        """Delete keys; returns how many were present."""
        keys = np.unique(self._check_keys(keys))
        removed = self._mark_dead(keys)
        if removed.shape[0]:
            self._dirty = True
            if self._ann is not None:
                self._writable_ann().remove(removed.view(np.uint64))
                self._ann_dirty = True
                # Hysteresis: keep the graph until the store is well below the threshold, so a
                # store hovering around it does not rebuild again and again.
                if len(self) < self.ann_threshold // 2:
                    self._drop_ann()
        return int(removed.shape[0])

    @_locked
    def get(self, keys: np.ndarray) -> np.ndarray:
        """Stored (normalised, de-quantised) float32 vectors for ``keys``; KeyError if absent."""
        keys = self._check_keys(keys)
        rows, found = self._rows_of(keys)
        if not found.all():
            raise KeyError(f"keys not in the vector store: {keys[~found][:5].tolist()}")
        return self._gather(rows)

    def _check_keys(self, keys: np.ndarray) -> np.ndarray:
        arr = np.asarray(keys)
        if arr.ndim != 1:
            raise ValueError(f"keys must be a 1-dimensional array, got shape {arr.shape}")
        if arr.shape[0] and not np.issubdtype(arr.dtype, np.integer):
            raise ValueError(f"keys must be integers, got dtype {arr.dtype}")
        arr = arr.astype(np.int64, copy=False)
        # usearch keys are uint64 with the all-ones value reserved; non-negative int64 map
        # onto them one-to-one.
        if arr.shape[0] and arr.min() < 0:
            raise ValueError(f"keys must be non-negative, got {int(arr.min())}")
        return arr

    def _rows_of(self, keys: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Global rows of ``keys`` (garbage where not found) and the found mask."""
        if self._skeys.shape[0] == 0:
            return np.zeros(keys.shape[0], dtype=np.int64), np.zeros(keys.shape[0], dtype=bool)
        pos = np.searchsorted(self._skeys, keys)
        pos_c = np.minimum(pos, self._skeys.shape[0] - 1)
        found = self._skeys[pos_c] == keys
        return self._srows[pos_c], found

    def _mark_dead(self, keys: np.ndarray) -> np.ndarray:
        """Tombstone the live rows of ``keys``; returns the keys that were live."""
        if self._skeys.shape[0] == 0 or keys.shape[0] == 0:
            return keys[:0]
        pos = np.searchsorted(self._skeys, keys)
        pos_c = np.minimum(pos, self._skeys.shape[0] - 1)
        found = self._skeys[pos_c] == keys
        hit = np.unique(pos_c[found])
        self._alive[self._srows[hit]] = False
        removed: np.ndarray = self._skeys[hit].copy()
        self._skeys = np.delete(self._skeys, hit)
        self._srows = np.delete(self._srows, hit)
        return removed

    def _consolidate_pending(self) -> None:
        # Many small add() calls would otherwise leave many tiny in-memory blocks to scan.
        pending = [s for s in self._segments if s.name is None]
        if len(pending) <= 8:
            return
        committed = [s for s in self._segments if s.name is not None]
        self._segments = [*committed, _concat_segments(pending, self.dtype)]

    def _rebuild_key_index(self) -> None:
        if self._segments:
            all_keys = np.concatenate([np.asarray(s.keys) for s in self._segments])
        else:
            all_keys = np.zeros(0, dtype=np.int64)
        rows = np.flatnonzero(self._alive)
        live_keys = all_keys[rows]
        order = np.argsort(live_keys, kind="stable")
        self._skeys = live_keys[order].astype(np.int64)
        self._srows = rows[order].astype(np.int64)
        if self._skeys.shape[0] > 1 and (np.diff(self._skeys) == 0).any():
            raise IndexMismatch(
                f"vector store {self.directory} has a key stored twice; rebuild the semantic index"
            )

    # ------------------------------------------------------------------ encoding

    def _encode(self, vectors: np.ndarray) -> tuple[np.ndarray, np.ndarray | None]:
        if self.dtype == "float16":
            if np.abs(vectors).max() > np.finfo(np.float16).max:
                raise ValueError("vector components exceed the float16 range; use dtype='int8'")
            return vectors.astype(np.float16), None
        # int8 with a per-vector absmax scale: the scale keeps full precision of the norm,
        # the int8 grid only has to resolve the direction.
        amax = np.abs(vectors).max(axis=1)
        scales = np.where(amax > 0, amax / 127.0, 1.0).astype(np.float32)
        q = np.rint(vectors / scales[:, None]).astype(np.int8)
        return q, scales

    @staticmethod
    def _decode(vecs: np.ndarray, scales: np.ndarray | None) -> np.ndarray:
        out = np.asarray(vecs).astype(np.float32)
        if scales is not None:
            out *= np.asarray(scales)[:, None]
        return out

    def _locate(self, rows: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Segment index and in-segment row of global rows."""
        offsets = np.cumsum([0] + [s.rows for s in self._segments])
        seg = np.searchsorted(offsets, rows, side="right") - 1
        return seg, rows - offsets[seg]

    def _gather_raw(self, rows: np.ndarray) -> tuple[np.ndarray, np.ndarray | None]:
        """Stored (encoded) vectors and scales of global ``rows``, in that order."""
        raw = np.empty(
            (rows.shape[0], self.dim), dtype=np.float16 if self.dtype == "float16" else np.int8
        )
        scales = None if self.dtype == "float16" else np.empty(rows.shape[0], dtype=np.float32)
        if rows.shape[0] == 0:
            return raw, scales
        seg, local = self._locate(rows)
        for si in np.unique(seg):
            sel = np.flatnonzero(seg == si)
            s = self._segments[int(si)]
            # Sorted access is far kinder to a memory map than random access.
            order = np.argsort(local[sel], kind="stable")
            idx = local[sel][order]
            raw[sel[order]] = np.asarray(s.vecs)[idx]
            if scales is not None and s.scales is not None:
                scales[sel[order]] = np.asarray(s.scales)[idx]
        return raw, scales

    def _gather(self, rows: np.ndarray) -> np.ndarray:
        """Decoded float32 vectors of global ``rows``, in that order."""
        return self._decode(*self._gather_raw(rows))

    def _scores(self, raw: np.ndarray, scales: np.ndarray | None, q: np.ndarray) -> np.ndarray:
        """Similarities of encoded vectors to ``q``: every search path scores through here, so
        one vector gets bit-identical scores whichever path found it."""
        n = raw.shape[0]
        if self._scratch is None or self._scratch.shape[0] < n:
            # Reused between calls: allocating (and page-faulting) 24 MiB per chunk costs as
            # much as the conversion itself.
            self._scratch = np.empty((max(n, _CHUNK_ROWS), self.dim), dtype=np.float32)
        buf = self._scratch[:n]
        np.copyto(buf, raw, casting="unsafe")
        scores: np.ndarray = buf @ q
        if scales is not None:
            scores *= scales
        return scores

    def _keys_at(self, rows: np.ndarray) -> np.ndarray:
        seg, local = self._locate(rows)
        out = np.empty(rows.shape[0], dtype=np.int64)
        for si in np.unique(seg):
            sel = seg == si
            out[sel] = np.asarray(self._segments[int(si)].keys)[local[sel]]
        return out

    # ------------------------------------------------------------------ search

    @_locked
    def search(
        self, query: np.ndarray, k: int, *, allowed: np.ndarray | None = None
    ) -> list[tuple[int, float]]:
        """The ``k`` keys most similar to ``query``, best first, as (key, similarity).

        ``allowed`` restricts the result to those keys *before* ranking, so ``k`` results come
        back whenever at least ``k`` allowed keys are stored. Ties are broken by smaller key.
        """
        q = self._check_query(query)
        if not isinstance(k, int | np.integer) or k < 1:
            raise ValueError(f"k must be a positive integer, got {k!r}")
        k = int(k)
        live = len(self)
        if live == 0:
            return []
        use_ann = live >= self.ann_threshold
        if use_ann and self._ann is None:
            self._build_ann()
        if allowed is None:
            if use_ann:
                # A few spare candidates: re-scoring settles near-ties among the top k.
                hits = self._ann_search(q, k, 2 * k)
                if hits is not None and len(hits[0]) >= min(k, live):
                    return _as_list(*hits)
            return _as_list(*self._exact_all(q, k))

        allowed_keys = self._check_keys(np.asarray(allowed).ravel())
        # Callers usually pass sorted ids (SQLite rowids): skip the sort then.
        if allowed_keys.shape[0] > 1 and not (allowed_keys[1:] > allowed_keys[:-1]).all():
            allowed_keys = np.unique(allowed_keys)
        # ``m`` bounds the allowed live rows from above; resolving every allowed key to its row
        # would cost more than the ANN search itself when the filter is wide.
        m = allowed_keys.shape[0]
        if use_ann and m > self.ann_threshold:
            # Expect ``count * m / live`` allowed candidates; ask for twice k of them.
            count = math.ceil(2 * k * live / m) + k
            if count <= _MAX_ANN_CANDIDATES:
                hits = self._ann_search(q, k, count, allowed_keys)
                if hits is not None and len(hits[0]) >= k:
                    return _as_list(*hits)
        rows, found = self._rows_of(allowed_keys)
        if not found.any():
            return []
        return _as_list(*self._exact_rows(q, k, np.sort(rows[found])))

    def _check_query(self, query: np.ndarray) -> np.ndarray:
        q = np.asarray(query, dtype=np.float32)
        if q.ndim == 2 and q.shape[0] == 1:
            q = q[0]
        if q.ndim != 1 or q.shape[0] != self.dim:
            raise IndexMismatch(
                f"query vector has shape {q.shape} but the vector store holds "
                f"{self.dim}-dimensional vectors"
            )
        if not np.isfinite(q).all():
            raise ValueError("query vector contains NaN or infinity")
        if self.metric == "cos":
            norm = float(np.linalg.norm(q))
            if norm == 0:
                raise ValueError("query vector is zero and has no direction")
            q = q / norm
        return q

    def _exact_all(self, q: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
        best = _TopK(k)
        start = 0
        for s in self._segments:
            for lo in range(0, s.rows, _CHUNK_ROWS):
                hi = min(lo + _CHUNK_ROWS, s.rows)
                alive = self._alive[start + lo : start + hi]
                if not alive.any():
                    continue
                scales = None if s.scales is None else np.asarray(s.scales[lo:hi])
                scores = self._scores(np.asarray(s.vecs[lo:hi]), scales, q)
                keys = np.asarray(s.keys[lo:hi])
                if not alive.all():
                    scores, keys = scores[alive], keys[alive]
                best.push(scores, keys)
            start += s.rows
        return best.result()

    def _exact_rows(self, q: np.ndarray, k: int, rows: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        best = _TopK(k)
        for lo in range(0, rows.shape[0], _CHUNK_ROWS):
            chunk = rows[lo : lo + _CHUNK_ROWS]
            best.push(self._scores(*self._gather_raw(chunk), q), self._keys_at(chunk))
        return best.result()

    def _ann_search(
        self, q: np.ndarray, k: int, count: int, allowed_sorted: np.ndarray | None = None
    ) -> tuple[np.ndarray, np.ndarray] | None:
        ann = self._ann
        if ann is None:
            return None
        ef = max(self.ann_params.expansion_search, count)
        ann.expansion_search = ef
        if allowed_sorted is not None:
            # A filter keeps only part of the candidates: take the whole beam, which the graph
            # walk has visited anyway. Unfiltered, re-scoring the beam costs more than the walk
            # (measured at 1M vectors) and gains nothing.
            count = ef
        matches = ann.search(q, min(count, len(ann)), threads=1)
        cand = np.asarray(matches.keys).view(np.int64)
        if allowed_sorted is not None and cand.shape[0]:
            pos = np.minimum(np.searchsorted(allowed_sorted, cand), allowed_sorted.shape[0] - 1)
            cand = cand[allowed_sorted[pos] == cand]
        rows, found = self._rows_of(cand)
        cand, rows = cand[found], rows[found]
        # Re-score from the stored vectors: the same numbers as the exact path, so scores from
        # both paths are comparable and ties break by key in both.
        best = _TopK(k)
        best.push(self._scores(*self._gather_raw(rows), q), cand)
        return best.result()

    # ------------------------------------------------------------------ ANN index

    def _build_ann(self) -> None:
        usearch = _usearch()
        p = self.ann_params
        ann = usearch.Index(
            ndim=self.dim,
            # Stored vectors are already normalised for "cos", so the inner product is the
            # cosine and cheaper to compute.
            metric="ip",
            dtype="f16",
            connectivity=p.connectivity,
            expansion_add=p.expansion_add,
            expansion_search=p.expansion_search,
        )
        start = 0
        for s in self._segments:
            for lo in range(0, s.rows, _CHUNK_ROWS * 4):
                hi = min(lo + _CHUNK_ROWS * 4, s.rows)
                alive = self._alive[start + lo : start + hi]
                if alive.any():
                    scales = None if s.scales is None else s.scales[lo:hi]
                    vecs = self._decode(s.vecs[lo:hi], scales)[alive]
                    keys = np.asarray(s.keys[lo:hi])[alive]
                    ann.add(keys.view(np.uint64), vecs)
            start += s.rows
        self._ann, self._ann_readonly, self._ann_dirty = ann, False, True

    def _writable_ann(self) -> Any:
        if self._ann_readonly:
            # A memory-mapped view is read-only; an unmodified view equals its file.
            usearch = _usearch()
            ann = usearch.Index.restore(str(self.directory / str(self._ann_file)), view=False)
            ann.expansion_search = self.ann_params.expansion_search
            self._ann, self._ann_readonly = ann, False
        return self._ann

    def _drop_ann(self) -> None:
        self._ann, self._ann_readonly, self._ann_dirty = None, False, True

    # ------------------------------------------------------------------ persistence

    @_locked
    def commit(self) -> None:
        """Persist all changes atomically; a crash leaves the previous committed state."""
        if not self._dirty and not self._ann_dirty and self.exists(self.directory):
            return
        self.directory.mkdir(parents=True, exist_ok=True)
        # Never reuse a number a file in the directory already has: a fresh store replacing
        # an old one must not overwrite files the old (still committed) metadata names.
        used_seg, used_gen = _used_numbers(self.directory)
        generation = max(self._generation, used_gen) + 1
        next_segment = max(self._next_segment, used_seg + 1)
        segments = list(self._segments)
        alive = self._alive

        def write_segment(seg: _Segment) -> _Segment:
            nonlocal next_segment
            name = f"seg-{next_segment:06d}"
            next_segment += 1
            _save_array(self.directory / f"{name}.keys.npy", np.asarray(seg.keys))
            _save_array(self.directory / f"{name}.vec.npy", np.asarray(seg.vecs))
            if seg.scales is not None:
                _save_array(self.directory / f"{name}.scale.npy", np.asarray(seg.scales))
            return _Segment(name, seg.keys, seg.vecs, seg.scales)

        pending = [s for s in segments if s.name is None]
        if pending:
            segments = [s for s in segments if s.name is not None]
            segments.append(_concat_segments(pending, self.dtype))
        segments, alive = self._merge_policy(segments, alive)
        segments = [write_segment(s) if s.name is None else s for s in segments]

        dead_file = None
        dead_rows = np.flatnonzero(~alive)
        if dead_rows.shape[0]:
            dead_file = f"dead-{generation:06d}.npy"
            _save_array(self.directory / dead_file, dead_rows.astype(np.int64))

        ann_file = self._ann_file if self._ann is not None else None
        if self._ann is not None and (self._ann_dirty or ann_file is None):
            ann_file = f"ann-{generation:06d}.usearch"
            tmp = self.directory / (ann_file + _TMP_SUFFIX)
            self._ann.save(str(tmp))
            _fsync_file(tmp)
            os.replace(tmp, self.directory / ann_file)

        meta = {
            "format": FORMAT,
            "version": FORMAT_VERSION,
            "dim": self.dim,
            "dtype": self.dtype,
            "metric": self.metric,
            "count": len(self),
            "rows": int(alive.shape[0]),
            "generation": generation,
            "next_segment": next_segment,
            "segments": [s.name for s in segments],
            "dead": dead_file,
            "ann": ann_file,
            "ann_threshold": self.ann_threshold,
            "ann_params": {name: getattr(self.ann_params, name) for name in _BUILD_PARAMS},
        }
        _write_meta(self.directory, meta)

        # Committed: switch to the persisted files and sweep what the new metadata no longer
        # names (including orphans of an earlier crashed commit).
        self._segments = [self._load_segment(str(s.name)) for s in segments]
        self._alive = alive.copy()
        self._rebuild_key_index()
        self._generation, self._next_segment = generation, next_segment
        self._ann_file, self._ann_dirty, self._dirty = ann_file, False, False
        _sweep(self.directory, meta)

    def _merge_policy(
        self, segments: list[_Segment], alive: np.ndarray
    ) -> tuple[list[_Segment], np.ndarray]:
        """Merge segments (in memory, unnamed) and drop dead rows from merged ones."""
        total = alive.shape[0]
        live = int(alive.sum())
        if total and (total - live) > _DEAD_FRACTION_COMPACT * total:
            return self._merge(segments, alive, 0)
        # Binary-counter merging keeps O(log n) segments.
        while len(segments) >= 2:
            tail = segments[-2:]
            offset = total - tail[0].rows - tail[1].rows
            sizes = [
                int(alive[offset : offset + tail[0].rows].sum()),
                int(alive[offset + tail[0].rows : total].sum()),
            ]
            if sizes[0] > sizes[1]:
                break
            segments, alive = self._merge(segments, alive, len(segments) - 2)
            total = alive.shape[0]
        return segments, alive

    def _merge(
        self, segments: list[_Segment], alive: np.ndarray, first: int
    ) -> tuple[list[_Segment], np.ndarray]:
        """Merge ``segments[first:]`` into one in-memory segment of their live rows."""
        offset = sum(s.rows for s in segments[:first])
        parts = []
        start = offset
        for s in segments[first:]:
            keep = alive[start : start + s.rows]
            scales = None if s.scales is None else np.asarray(s.scales)[keep]
            parts.append(_Segment(None, np.asarray(s.keys)[keep], np.asarray(s.vecs)[keep], scales))
            start += s.rows
        merged = _concat_segments(parts, self.dtype)
        new_alive = np.concatenate([alive[:offset], np.ones(merged.rows, dtype=bool)])
        return [*segments[:first], merged], new_alive

    @_locked
    def close(self) -> None:
        """Release the ANN index and memory maps (uncommitted changes are discarded)."""
        self._ann = None
        self._scratch = None
        self._segments = []
        self._alive = np.zeros(0, dtype=bool)
        self._skeys = np.zeros(0, dtype=np.int64)
        self._srows = np.zeros(0, dtype=np.int64)

    @_locked
    def refresh(self) -> bool:
        """Adopt a commit made since opening (e.g. by an indexer process); False if none.

        Raises :class:`LantaiError` when this object holds uncommitted changes.
        """
        if self._dirty or self._ann_dirty:
            raise LantaiError(f"vector store {self.directory} has uncommitted changes")
        if _read_meta(self.directory)["generation"] == self._generation:
            return False
        fresh = VectorStore.open(
            self.directory, ann_threshold=self.ann_threshold, ann_params=self.ann_params
        )
        state = "_segments _alive _skeys _srows _next_segment _generation _ann _ann_file"
        for name in (*state.split(), "_ann_readonly", "_ann_dirty", "_dirty"):
            setattr(self, name, getattr(fresh, name))
        return True

    @property
    def has_ann(self) -> bool:
        """Whether an ANN index is built (it answers queries once len >= ann_threshold)."""
        return self._ann is not None

    @_locked
    def disk_bytes(self) -> int:
        """Size of the committed files on disk."""
        if not self.exists(self.directory):
            return 0
        meta = _read_meta(self.directory)
        return sum((self.directory / f).stat().st_size for f in _meta_files(meta))


class _TopK:
    """Running top-k by (score desc, key asc) over chunks, keeping ties at the boundary."""

    def __init__(self, k: int) -> None:
        self.k = k
        self.scores = np.zeros(0, dtype=np.float32)
        self.keys = np.zeros(0, dtype=np.int64)

    def push(self, scores: np.ndarray, keys: np.ndarray) -> None:
        scores = np.concatenate([self.scores, scores.astype(np.float32, copy=False)])
        keys = np.concatenate([self.keys, keys.astype(np.int64, copy=False)])
        if scores.shape[0] > self.k:
            # Everything tied with the k-th score survives so the final sort can break ties by
            # key, independent of chunking.
            kth = np.partition(scores, scores.shape[0] - self.k)[scores.shape[0] - self.k]
            keep = scores >= kth
            scores, keys = scores[keep], keys[keep]
        self.scores, self.keys = scores, keys

    def result(self) -> tuple[np.ndarray, np.ndarray]:
        order = np.lexsort((self.keys, -self.scores))[: self.k]
        return self.keys[order], self.scores[order]


def _as_list(keys: np.ndarray, scores: np.ndarray) -> list[tuple[int, float]]:
    return [(int(k), float(s)) for k, s in zip(keys.tolist(), scores.tolist(), strict=True)]


def _concat_segments(parts: list[_Segment], dtype: str) -> _Segment:
    keys = np.concatenate([np.asarray(p.keys) for p in parts]).astype(np.int64)
    vecs = np.concatenate([np.asarray(p.vecs) for p in parts])
    scales = None
    if dtype == "int8":
        scales = np.concatenate([np.asarray(p.scales) for p in parts]).astype(np.float32)
    return _Segment(None, keys, vecs, scales)


def _usearch() -> Any:
    require("usearch", "semantic", "approximate nearest-neighbour vector search")
    from usearch import index as usearch_index

    return usearch_index


def _fsync_file(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _fsync_dir(directory: Path) -> None:
    # Some platforms cannot fsync a directory; the rename is still atomic there.
    with contextlib.suppress(OSError):
        _fsync_file(directory)


def _save_array(path: Path, array: np.ndarray) -> None:
    """Write ``array`` as .npy via a temp file, fsync, then rename into place."""
    tmp = path.with_name(path.name + _TMP_SUFFIX)
    with open(tmp, "wb") as fh:
        np.save(fh, array, allow_pickle=False)
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(tmp, path)


def _write_meta(directory: Path, meta: dict[str, Any]) -> None:
    """Swap in new metadata: this rename is the commit point."""
    tmp = directory / (META_FILE + _TMP_SUFFIX)
    with open(tmp, "w", encoding="utf-8") as fh:
        json.dump(meta, fh, indent=1)
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(tmp, directory / META_FILE)
    _fsync_dir(directory)


def _read_meta(directory: Path) -> dict[str, Any]:
    path = directory / META_FILE
    try:
        meta = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise LantaiError(f"no vector store in {directory} (missing {META_FILE})") from None
    except (OSError, ValueError) as exc:
        raise IndexMismatch(f"cannot read {path}: {exc}; rebuild the semantic index") from exc
    if meta.get("format") != FORMAT or meta.get("version") != FORMAT_VERSION:
        raise IndexMismatch(
            f"{path} is format {meta.get('format')!r} version {meta.get('version')!r}; this "
            f"Lantai reads {FORMAT!r} version {FORMAT_VERSION}: rebuild the semantic index"
        )
    return dict(meta)


def _meta_files(meta: dict[str, Any]) -> set[str]:
    files = {META_FILE}
    for name in meta["segments"]:
        files |= {f"{name}.keys.npy", f"{name}.vec.npy"}
        if meta["dtype"] == "int8":
            files.add(f"{name}.scale.npy")
    if meta["dead"]:
        files.add(meta["dead"])
    if meta["ann"]:
        files.add(meta["ann"])
    return files


def _used_numbers(directory: Path) -> tuple[int, int]:
    """Highest segment number and highest generation number of files in ``directory``."""
    seg = gen = 0
    for entry in directory.iterdir():
        m = re.match(r"^(seg|dead|ann)-(\d+)\.", entry.name)
        if m and m.group(1) == "seg":
            seg = max(seg, int(m.group(2)))
        elif m:
            gen = max(gen, int(m.group(2)))
    return seg, gen


def _sweep(directory: Path, meta: dict[str, Any]) -> None:
    """Delete store files the committed metadata does not name, and stale temp files."""
    keep = _meta_files(meta)
    for entry in directory.iterdir():
        name = entry.name
        base = name[: -len(_TMP_SUFFIX)] if name.endswith(_TMP_SUFFIX) else name
        if name not in keep and (_FILE_RE.match(base) or base == META_FILE):
            entry.unlink(missing_ok=True)
