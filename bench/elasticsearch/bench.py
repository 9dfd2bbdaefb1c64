"""Elasticsearch backend beside the embedded backend, in one run: bulk load, keyword and
hybrid query latency at N records (default 100,000) on a single local node.

Records and queries are those of ``bench/keyword/scale.py`` (``generate``: ~1 KB of real
Chinese text per record, recombined from ../shared corpora; ``query_mix``: words, phrases,
year ranges and questions). Two rounds, each loading both backends from the same records:

1. keyword: load (embedded: ``upsert`` + ``optimize``; Elasticsearch: ``rebuild`` — a fresh
   index with no replica and no refresh, then the alias swap — + force-merge to one segment),
   then the query mix in keyword mode;
2. vectors: the same with passage vectors from an embedder, then the query mix in hybrid mode.
   Passages are embedded once before both loads (timed separately) so that neither backend
   pays for the model in its load time.

    python bench/elasticsearch/bench.py --records 100000 --queries 300 --heap 2g
    python bench/elasticsearch/bench.py --url http://127.0.0.1:9200   # an existing cluster

Without ``--url`` it starts the throwaway node of ``tests/es_server.py`` (``tools/es/fetch.sh``
must have run) and removes it at the end.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import shutil
import signal
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench" / "keyword"))

from scale import generate, query_mix  # noqa: E402

from lantai.catalog.model import Record  # noqa: E402
from lantai.config import Settings, load_settings  # noqa: E402
from lantai.search.backends.base import SearchBackend, SearchMode, SearchRequest  # noqa: E402
from lantai.search.backends.elasticsearch import ElasticsearchBackend  # noqa: E402
from lantai.search.backends.embedded import EmbeddedBackend  # noqa: E402
from lantai.search.embeddings import Embedder, create_embedder  # noqa: E402


class CachedEmbedder(Embedder):
    """Remembers every passage vector, so the second backend's load reuses the first's."""

    def __init__(self, inner: Embedder) -> None:
        self.inner = inner
        self.model_id = inner.model_id
        self.dim = inner.dim
        self.cache: dict[str, np.ndarray] = {}

    def embed_documents(self, texts: Sequence[str], *, batch_size: int = 32,
                        progress: bool = False) -> np.ndarray:
        missing = list(dict.fromkeys(t for t in texts if t not in self.cache))
        if missing:
            for text, vec in zip(missing, self.inner.embed_documents(missing), strict=True):
                self.cache[text] = vec
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        return np.stack([self.cache[t] for t in texts])

    def embed_query(self, text: str) -> np.ndarray:
        return self.inner.embed_query(text)


def log(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


def timed(fn: Callable[[], Any]) -> tuple[Any, float]:
    started = time.perf_counter()
    result = fn()
    return result, time.perf_counter() - started


def latencies(backend: SearchBackend, queries: list[str], mode: SearchMode
              ) -> tuple[dict[str, Any], list[tuple[int, int, list[str]]]]:
    """Latency percentiles of the query mix, and (total, exact total, top 10) per query."""
    for q in queries[:20]:  # warm caches (page cache, Elasticsearch's query caches)
        backend.search(SearchRequest(q, mode=mode))
    times, outcomes = [], []
    for q in queries:
        started = time.perf_counter()
        result = backend.search(SearchRequest(q, mode=mode, size=10))
        times.append((time.perf_counter() - started) * 1000)
        outcomes.append((result.total, result.exact_total, [h.record_id for h in result.hits]))
    times.sort()
    return {"mode": mode.value, "queries": len(queries),
            "p50_ms": round(statistics.median(times), 1),
            "p95_ms": round(times[int(0.95 * len(times))], 1), "max_ms": round(times[-1], 1),
            "median_total": statistics.median(o[0] for o in outcomes)}, outcomes


def agreement(a: list[tuple[int, int, list[str]]], b: list[tuple[int, int, list[str]]]
              ) -> dict[str, float]:
    """How alike two backends' answers to the same queries are."""
    n = len(a)
    overlap = [len(set(x[2]) & set(y[2])) / max(1, min(len(x[2]), len(y[2]), 10))
               for x, y in zip(a, b, strict=True) if x[2] or y[2]]
    return {"same_total": round(sum(x[0] == y[0] for x, y in zip(a, b, strict=True)) / n, 3),
            "same_exact_total": round(
                sum(x[1] == y[1] for x, y in zip(a, b, strict=True)) / n, 3),
            "same_first_hit": round(
                sum(x[2][:1] == y[2][:1] for x, y in zip(a, b, strict=True)) / n, 3),
            "top10_shared": round(sum(overlap) / max(1, len(overlap)), 3)}


def load_embedded(settings: Settings, records: list[Record], workers: int,
                  embedder: Embedder | None) -> tuple[EmbeddedBackend, dict[str, Any]]:
    backend = EmbeddedBackend(settings, embedder=embedder)
    report, load_s = timed(lambda: backend.upsert(records, batch_size=1000, workers=workers))
    _, optimize_s = timed(backend.optimize)
    size = sum(p.stat().st_size for p in Path(settings.data_dir).rglob("*") if p.is_file())
    return backend, {"indexed": report.indexed, "failed": len(report.failed),
                     "load_s": round(load_s, 1), "records_per_s": round(len(records) / load_s),
                     "optimize_s": round(optimize_s, 1), "disk_mb": round(size / 1e6, 1)}


def load_elasticsearch(settings: Settings, records: list[Record], workers: int,
                       embedder: Embedder | None) -> tuple[ElasticsearchBackend, dict[str, Any]]:
    backend = ElasticsearchBackend(settings, embedder=embedder)
    report, load_s = timed(lambda: backend.rebuild(records, batch_size=500, workers=workers,
                                                   resume=False))
    index = backend.health()["index"]
    _, merge_s = timed(lambda: backend._client.options(request_timeout=3600).indices.forcemerge(
        index=index, max_num_segments=1))
    backend._client.indices.refresh(index=index)
    store = backend._client.indices.stats(index=index, metric="store")["indices"][index]
    return backend, {"indexed": report.indexed, "failed": len(report.failed),
                     "load_s": round(load_s, 1), "records_per_s": round(len(records) / load_s),
                     "optimize_s": round(merge_s, 1),
                     "disk_mb": round(store["primaries"]["store"]["size_in_bytes"] / 1e6, 1)}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--records", type=int, default=100_000)
    ap.add_argument("--queries", type=int, default=300)
    ap.add_argument("--workers", type=int, default=os.cpu_count() or 1)
    ap.add_argument("--embedder", default="fake:384",
                    help="embedding model spec for the hybrid round (fake:384 by default)")
    ap.add_argument("--url", help="an Elasticsearch to use instead of a throwaway local node")
    ap.add_argument("--heap", default="2g", help="heap of the throwaway node")
    ap.add_argument("--skip-vectors", action="store_true", help="keyword round only")
    args = ap.parse_args()
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(1))  # stop the node on kill too

    node = None
    if args.url is None:
        from tests.es_server import LocalNode, find_distribution, find_java_home

        dist, java = find_distribution(), find_java_home()
        if dist is None or java is None:
            sys.exit("no Elasticsearch: run `bash tools/es/fetch.sh` or pass --url")
        node = LocalNode(dist, java, heap=args.heap)
        node.start()
        url = node.url
    else:
        url = args.url
    work = Path(tempfile.mkdtemp(prefix="lantai-es-bench-"))
    results: dict[str, Any] = {
        "records": args.records, "cpu_count": os.cpu_count(), "workers": args.workers,
        "load_avg_start": [round(x, 1) for x in os.getloadavg()], "heap": args.heap,
    }
    try:
        records = list(generate(args.records))
        results["mean_text_chars"] = round(sum(len(r.text) for r in records) / len(records))
        queries = query_mix(args.queries)

        def settings(name: str) -> Settings:
            base = load_settings(environ={}, overrides={"data_dir": work / name})
            es = dataclasses.replace(base.elasticsearch, urls=(url,),
                                     index_prefix=f"lantai-bench-{uuid.uuid4().hex[:6]}")
            return dataclasses.replace(base, elasticsearch=es)

        rounds: list[tuple[str, Embedder | None, SearchMode]] = [
            ("keyword", None, SearchMode.KEYWORD)]
        if not args.skip_vectors:
            cached = CachedEmbedder(create_embedder(args.embedder))
            probe = EmbeddedBackend(settings("probe"), embedder=None)
            probe.embedder = cached
            log(f"embedding the passages of {len(records)} records with {args.embedder}")
            _, embed_s = timed(lambda: [probe.embed_records(records[i:i + 1000])
                                        for i in range(0, len(records), 1000)])
            probe.close()
            results["embedding"] = {"model": args.embedder, "passages": len(cached.cache),
                                    "seconds": round(embed_s, 1)}
            rounds.append(("vectors", cached, SearchMode.HYBRID))
        for name, embedder, mode in rounds:
            answers = {}
            for kind, loader in (("embedded", load_embedded),
                                 ("elasticsearch", load_elasticsearch)):
                log(f"{name}/{kind}: loading")
                backend, load = loader(settings(f"{name}-{kind}"), records, args.workers,
                                       embedder)
                log(f"{name}/{kind}: {load}; querying")
                try:
                    load["load_avg"] = round(os.getloadavg()[0], 1)
                    query, answers[kind] = latencies(backend, queries, mode)
                    query["load_avg"] = round(os.getloadavg()[0], 1)
                    results[f"{name}/{kind}"] = {"load": load, "query": query}
                    print(json.dumps({f"{name}/{kind}": results[f"{name}/{kind}"]},
                                     ensure_ascii=False), flush=True)
                finally:
                    if isinstance(backend, ElasticsearchBackend):
                        backend.drop()
                    backend.close()
                    shutil.rmtree(work / f"{name}-{kind}", ignore_errors=True)
            results[f"{name}/agreement"] = agreement(answers["embedded"],
                                                     answers["elasticsearch"])
            print(json.dumps({f"{name}/agreement": results[f"{name}/agreement"]}), flush=True)
        if node is not None:
            rss = node.rss_bytes()
            results["es_rss_mb"] = round(rss / 2**20) if rss else None
            results["es_version"] = node.dist.version
        results["load_avg_end"] = [round(x, 1) for x in os.getloadavg()]
        print(json.dumps(results, ensure_ascii=False, indent=1))
    finally:
        shutil.rmtree(work, ignore_errors=True)
        if node is not None:
            node.stop()


if __name__ == "__main__":
    main()
