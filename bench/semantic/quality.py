"""Keyword / semantic / hybrid retrieval quality with the default embedding model.

    python bench/semantic/quality.py [--sets jingbao,cmrc2018,drcd] [--max-queries 1000]
        [--model default] [--cache DIR] [--json out.json]

For every set the corpus is indexed by :func:`lantai.search.evaluation.evaluate` (a fresh
temporary index per run, as ``lantai eval`` does) and scored in keyword mode, semantic mode and
hybrid mode with each fusion setting (weighted at lexical_weight 0.3 to 0.8, and RRF).
Passage and query vectors are computed once and memoised on disk (``--cache``), so the nine
runs of a set embed its corpus only once; the memo is keyed by model id and text, so it never
serves vectors of another model.

``--max-queries N`` evaluates a fixed sample of N judged queries (seeded, sorted by id) of the
large QA sets; Jingbao always uses all its queries.
"""

from __future__ import annotations

import argparse
import dataclasses
import hashlib
import json
import os
import random
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from lantai.config import Settings, load_settings
from lantai.search.backends import create_backend
from lantai.search.backends.base import SearchMode
from lantai.search.embeddings import Embedder, create_embedder
from lantai.search.evaluation import evaluate, read_jsonl, read_qrels

ROOT = Path(__file__).resolve().parents[2]
SHARED = ROOT.parent / "shared" / "data"

#: (label, mode, fusion, lexical_weight)
CONFIGS: tuple[tuple[str, SearchMode, str, float], ...] = (
    ("keyword", SearchMode.KEYWORD, "weighted", 0.7),
    ("semantic", SearchMode.SEMANTIC, "weighted", 0.7),
    ("hybrid weighted 0.3", SearchMode.HYBRID, "weighted", 0.3),
    ("hybrid weighted 0.4", SearchMode.HYBRID, "weighted", 0.4),
    ("hybrid weighted 0.5", SearchMode.HYBRID, "weighted", 0.5),
    ("hybrid weighted 0.6", SearchMode.HYBRID, "weighted", 0.6),
    ("hybrid weighted 0.7", SearchMode.HYBRID, "weighted", 0.7),
    ("hybrid weighted 0.8", SearchMode.HYBRID, "weighted", 0.8),
    ("hybrid rrf", SearchMode.HYBRID, "rrf", 0.7),
)


def sets() -> dict[str, tuple[Path, Path, Path]]:
    retrieval = SHARED / "retrieval"
    jb = ROOT / "bench" / "data" / "jingbao_dev"
    return {
        "jingbao": (SHARED / "corpus" / "ecpo_jingbao" / "corpus.jsonl",
                    jb / "queries.jsonl", jb / "qrels.tsv"),
        **{name: (retrieval / name / "corpus.jsonl", retrieval / name / "queries.jsonl",
                  retrieval / name / "qrels.tsv") for name in ("cmrc2018", "drcd")},
    }


class MemoEmbedder(Embedder):
    """Memoises another embedder's vectors by (model id, kind, text), on disk.

    Only for benchmarks: it lets several evaluation runs over one corpus embed it once. The
    vectors are the wrapped model's own (its embeddings are deterministic), so results equal
    an unmemoised run's.
    """

    def __init__(self, inner: Embedder, cache_dir: Path) -> None:
        self.inner = inner
        self.model_id = inner.model_id
        self.dim = inner.dim
        digest = hashlib.sha1(inner.model_id.encode()).hexdigest()[:12]
        self.path = cache_dir / f"vectors-{digest}.npz"
        self.memo: dict[str, np.ndarray] = {}
        self.embedded = 0  # texts actually sent to the model
        self.seconds = 0.0
        if self.path.is_file():
            with np.load(self.path) as data:
                self.memo = {key: data[key] for key in data.files}

    @staticmethod
    def _key(kind: str, text: str) -> str:
        return kind + hashlib.sha1(text.encode("utf-8")).hexdigest()

    def embed_documents(self, texts: Sequence[str], *, batch_size: int = 32,
                        progress: bool = False) -> np.ndarray:
        keys = [self._key("d", t) for t in texts]
        todo = sorted({k: t for k, t in zip(keys, texts, strict=True)
                       if k not in self.memo}.items())
        if todo:
            started = time.perf_counter()
            vectors = self.inner.embed_documents([t for _, t in todo], progress=True)
            self.seconds += time.perf_counter() - started
            self.embedded += len(todo)
            self.memo.update((k, v) for (k, _), v in zip(todo, vectors, strict=True))
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        return np.stack([self.memo[k] for k in keys])

    def embed_query(self, text: str) -> np.ndarray:
        key = self._key("q", text)
        if key not in self.memo:
            self.memo[key] = self.inner.embed_query(text)
            self.embedded += 1
        return self.memo[key]

    def save(self) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        tmp = self.path.with_suffix(".tmp.npz")
        np.savez(tmp, **self.memo)
        tmp.replace(self.path)


def sample_queries(queries: Path, qrels: Path, limit: int | None, out_dir: Path) -> Path:
    """A fixed sample of ``limit`` judged queries (seed 7), written as a JSONL file."""
    if limit is None:
        return queries
    judged = read_qrels(qrels)
    rows = sorted((q for q in read_jsonl(queries, ("id", "text")) if str(q["id"]) in judged),
                  key=lambda q: str(q["id"]))
    if len(rows) <= limit:
        return queries
    chosen = sorted(random.Random(7).sample(rows, limit), key=lambda q: str(q["id"]))
    path = out_dir / f"{queries.parent.name}-sample{limit}.jsonl"
    with path.open("w", encoding="utf-8") as out:
        for q in chosen:
            out.write(json.dumps({"id": q["id"], "text": q["text"]}, ensure_ascii=False) + "\n")
    return path


def run_set(name: str, settings: Settings, embedder: MemoEmbedder, limit: int | None,
            tmp: Path) -> list[dict[str, object]]:
    corpus, queries, qrels = sets()[name]
    queries = sample_queries(queries, qrels, None if name == "jingbao" else limit, tmp)
    rows = []
    for label, mode, fusion, weight in CONFIGS:
        local = dataclasses.replace(settings, search=dataclasses.replace(
            settings.search, fusion=fusion, lexical_weight=weight))
        started = time.perf_counter()
        metrics = evaluate(local, corpus, queries, qrels, tmp / f"{name}.run", mode=mode,
                           backend_factory=lambda s: create_backend(s, embedder=embedder))
        embedder.save()
        row = {"set": name, "config": label, "ndcg10": round(metrics.ndcg10, 4),
               "recall100": round(metrics.recall100, 4), "mrr10": round(metrics.mrr10, 4),
               "queries": metrics.queries, "mean_ms": round(metrics.mean_ms, 1),
               "p95_ms": round(metrics.p95_ms, 1),
               "run_seconds": round(time.perf_counter() - started, 1),
               "load_avg_1m": round(os.getloadavg()[0], 1)}
        print(json.dumps(row, ensure_ascii=False), flush=True)
        rows.append(row)
    return rows


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--sets", default="jingbao,cmrc2018,drcd")
    ap.add_argument("--max-queries", type=int, default=None,
                    help="fixed sample of judged queries for cmrc2018/drcd (default: all)")
    ap.add_argument("--model", default="default", help="embedding model spec")
    ap.add_argument("--cache", type=Path,
                    default=Path(tempfile.gettempdir()) / "lantai-bench-semantic")
    ap.add_argument("--json", type=Path, help="write all rows here")
    args = ap.parse_args()
    if not SHARED.is_dir():
        sys.exit("needs ../shared/data beside the repository")
    settings = load_settings(environ={})
    embedder = MemoEmbedder(create_embedder(args.model), args.cache)
    rows: list[dict[str, object]] = []
    with tempfile.TemporaryDirectory(prefix="lantai-semantic-") as tmp:
        for name in args.sets.split(","):
            rows.extend(run_set(name, settings, embedder, args.max_queries, Path(tmp)))
    print(f"# model {embedder.model_id}: {embedder.embedded} texts embedded in this run "
          f"({embedder.seconds:.0f} s for passages), cpu_count {os.cpu_count()}", flush=True)
    if args.json:
        args.json.write_text(json.dumps(rows, ensure_ascii=False, indent=1), encoding="utf-8")


if __name__ == "__main__":
    main()
