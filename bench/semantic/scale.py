"""Hybrid query latency of the embedded backend at scale (default: 100,000 records).

    python bench/semantic/scale.py --records 100000 [--real-passages 1500] [--queries 300]

Records come from ``bench/keyword/scale.py``'s ``generate`` (~330 characters of recombined
real Chinese text each, 85% open). Embedding 100,000 records with the real model would take
hours on this machine, so the store is filled like this:

* the first ``--real-passages`` passages are embedded with the real default model;
* every other passage gets a synthetic vector drawn from a Gaussian fitted to those real
  vectors (their mean and per-dimension spread), then normalised — so the synthetic vectors
  crowd into the same narrow cone as e5's, which matters for the HNSW graph and for how many
  candidates filtered searches need (uniform random vectors would make the search easier);
* every query is embedded with the real model inside the timed search.

Each query runs as the web app would: a public request (the open-status gate), page 1, 20
hits, default facets and snippets. Prints one JSON line per mode, with a breakdown of the
hybrid time (query embedding, vector search, the rest).
"""

from __future__ import annotations

import argparse
import dataclasses
import importlib.util
import json
import os
import shutil
import statistics
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from lantai.config import load_settings
from lantai.search.backends import create_backend
from lantai.search.backends.base import Filters, SearchMode, SearchRequest
from lantai.search.embeddings import Embedder, create_embedder, l2_normalize

ROOT = Path(__file__).resolve().parents[2]


def _keyword_scale() -> Any:
    spec = importlib.util.spec_from_file_location("keyword_scale",
                                                  ROOT / "bench" / "keyword" / "scale.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


class BulkEmbedder(Embedder):
    """The real model for queries and the first ``real`` passages; fitted synthetic vectors
    for the rest (see the module docstring)."""

    def __init__(self, inner: Embedder, real: int, seed: int = 3) -> None:
        self.inner = inner
        self.model_id = inner.model_id
        self.dim = inner.dim
        self.real = real
        self.real_vectors: list[np.ndarray] = []
        self.real_seconds = 0.0
        self.query_ms: list[float] = []
        self._rng = np.random.default_rng(seed)
        self._fit: tuple[np.ndarray, np.ndarray] | None = None

    def embed_documents(self, texts: Sequence[str], *, batch_size: int = 32,
                        progress: bool = False) -> np.ndarray:
        out = np.empty((len(texts), self.dim), dtype=np.float32)
        todo = min(len(texts), max(0, self.real - len(self.real_vectors)))
        if todo:
            started = time.perf_counter()
            out[:todo] = self.inner.embed_documents(texts[:todo], progress=True)
            self.real_seconds += time.perf_counter() - started
            self.real_vectors.extend(out[:todo])
        rest = len(texts) - todo
        if rest:
            if self._fit is None:
                real = np.stack(self.real_vectors)
                self._fit = (real.mean(axis=0), real.std(axis=0))
            mean, std = self._fit
            out[todo:] = l2_normalize(mean + std * self._rng.standard_normal(
                (rest, self.dim)).astype(np.float32))
        return out

    def embed_query(self, text: str) -> np.ndarray:
        started = time.perf_counter()
        vector = self.inner.embed_query(text)
        self.query_ms.append((time.perf_counter() - started) * 1000)
        return vector


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--records", type=int, default=100_000)
    ap.add_argument("--real-passages", type=int, default=1500)
    ap.add_argument("--queries", type=int, default=300)
    ap.add_argument("--batch", type=int, default=5000, help="records per indexing batch")
    ap.add_argument("--workers", type=int, default=os.cpu_count() or 1)
    ap.add_argument("--keep", type=Path, help="index directory to keep (default: temporary)")
    ap.add_argument("--reuse", action="store_true",
                    help="search the index kept in --keep without building it again")
    args = ap.parse_args()
    ks = _keyword_scale()
    data_dir = args.keep or Path(tempfile.mkdtemp(prefix="lantai-semantic-scale-"))
    settings = load_settings(environ={}, overrides={"data_dir": data_dir})
    embedder = BulkEmbedder(create_embedder("default"), args.real_passages)
    backend = create_backend(settings, embedder=embedder)
    started = time.perf_counter()
    if not (args.reuse and args.keep):
        backend.upsert(ks.generate(args.records), batch_size=args.batch, workers=args.workers)
    index_s = time.perf_counter() - started
    if hasattr(backend, "optimize"):
        backend.optimize()
    passages = backend._conn().execute("SELECT count(*) FROM passages").fetchone()[0]
    store = backend._passages._store
    vector_mb = store.disk_bytes() / 1e6
    queries = ks.query_mix(args.queries)
    # The first public vector search of a connection lists the passages the gate admits
    # (cached afterwards until the data changes): time that once, cold.
    conn = backend._conn()
    started = time.perf_counter()
    gate = backend._passages._allowed(conn, ("r.open_status IN (?)",), ("开放",))
    allowed_cold_ms = (time.perf_counter() - started) * 1000

    knn_ms: list[float] = []
    original_knn = backend._knn

    def timed_knn(*a: Any, **kw: Any) -> Any:
        t = time.perf_counter()
        try:
            return original_knn(*a, **kw)
        finally:
            knn_ms.append((time.perf_counter() - t) * 1000)

    backend._knn = timed_knn  # type: ignore[method-assign]
    fonds = Filters(fonds=("J003",))
    # Queries naming a period word of the thesaurus (every one expands), drawn from its groups
    period_words = [g.terms[0] for g in backend.thesaurus.groups][::4][:len(queries) // 3]
    shipped = settings.search
    plain = dataclasses.replace(shipped, expansion=False, feedback_docs=0)
    runs = [("keyword", SearchMode.KEYWORD, Filters(), queries, shipped),
            ("semantic", SearchMode.SEMANTIC, Filters(), queries, shipped),
            ("hybrid", SearchMode.HYBRID, Filters(), queries, shipped),
            ("hybrid without period words and feedback", SearchMode.HYBRID, Filters(), queries,
             plain),
            ("hybrid, fonds filter (1/24 of records)", SearchMode.HYBRID, fonds, queries,
             shipped),
            ("hybrid, thesaurus words", SearchMode.HYBRID, Filters(), period_words, shipped),
            ("keyword, thesaurus words", SearchMode.KEYWORD, Filters(), period_words, shipped)]
    for label, mode, filters, queries, search_settings in runs:
        backend.settings = dataclasses.replace(settings, search=search_settings)
        for q in queries[:20]:  # warm caches (page cache, allowed-key list)
            backend.search(SearchRequest(q, mode=mode, filters=filters))
        embedder.query_ms.clear()
        knn_ms.clear()
        times = []
        short = 0
        for q in queries:
            t = time.perf_counter()
            result = backend.search(SearchRequest(q, mode=mode, filters=filters))
            times.append((time.perf_counter() - t) * 1000)
            short += len(result.hits) < 20 and mode is not SearchMode.KEYWORD
        row: dict[str, Any] = {
            "mode": label, "records": args.records, "passages": passages,
            "real_passages": args.real_passages, "queries": len(queries),
            "p50_ms": round(statistics.median(times), 1),
            "p95_ms": round(percentile(times, 0.95), 1), "max_ms": round(max(times), 1),
            "pages_short_of_20": short, "load_avg_1m": round(os.getloadavg()[0], 1),
        }
        if embedder.query_ms:
            row["embed_query_p50_ms"] = round(statistics.median(embedder.query_ms), 1)
            row["embed_query_p95_ms"] = round(percentile(embedder.query_ms, 0.95), 1)
        if knn_ms:
            row["vector_search_p50_ms"] = round(statistics.median(knn_ms), 1)
            row["vector_search_p95_ms"] = round(percentile(knn_ms, 0.95), 1)
        print(json.dumps(row, ensure_ascii=False), flush=True)
    print(json.dumps({
        "index_seconds": round(index_s, 1), "gate_passages": int(gate.shape[0]),
        "gate_list_cold_ms": round(allowed_cold_ms, 1), "real_embedding_seconds": round(
            embedder.real_seconds, 1), "vector_store_mb": round(vector_mb, 1),
        "ann": store.has_ann, "cpu_count": os.cpu_count(), "workers": args.workers,
        "settings": dataclasses.asdict(settings.search) | {"model": embedder.model_id},
    }, ensure_ascii=False), flush=True)
    backend.close()
    if args.keep is None:
        shutil.rmtree(data_dir, ignore_errors=True)


if __name__ == "__main__":
    main()
