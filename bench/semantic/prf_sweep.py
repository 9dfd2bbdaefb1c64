"""Pseudo-relevance feedback and passage aggregation, tried offline on the Jingbao dev set.

    python bench/semantic/prf_sweep.py [--split tune] [--config 'search.expansion=true']

Uses the index of ``relevance.py``. For each query the shipped hybrid ranking is computed
once; then variants re-rank from it without touching the product code:

* ``rm3 k m w``: the top ``k`` hybrid records give expansion words (jieba words of their text,
  weighted by term frequency × the record's normalised fused score × idf, minus the query's own
  words and words in more than 10% of the records); the best ``m`` are searched OR-style with
  the query, and that list is fused with weight ``w`` into the hybrid ranking;
* ``rocchio k b``: the query vector plus ``b`` × the mean passage vector of the top ``k``
  records searches again; the new dense list replaces the old one in the fusion;
* ``passages n``: records scored by the softmax-weighted sum of their best ``n`` passages
  instead of the best one (dense side only).
"""

from __future__ import annotations

import argparse
import math
import sys
from collections import Counter
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

from relevance import (
    MemoEmbedder,
    load_dev,
    open_index,
    with_overrides,
)

from lantai.config import load_settings
from lantai.indexing.passages import fold_for_embedding
from lantai.search.backends.base import (
    SearchMode,
    SearchRequest,
    _plan_text,
)
from lantai.search.embeddings import create_embedder
from lantai.search.evaluation import ndcg_at
from lantai.search.fusion import fuse, fuse_weighted
from lantai.search.query import parse_query


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--split", default="tune")
    ap.add_argument("--config", default="")
    ap.add_argument("--index", type=Path, default=Path("/tmp/lantai-relevance"))
    ap.add_argument("--cache", type=Path, default=Path("/tmp/lantai-bench-semantic"))
    args = ap.parse_args()
    embedder = MemoEmbedder(create_embedder("default"), args.cache)
    settings = with_overrides(load_settings(environ={}), args.config.split())
    backend = open_index(args.index, settings, embedder)
    analyzer = backend.analyzer
    queries, qrels = load_dev(args.split)
    # collection statistics for RM3 (the corpus is small: count words directly)
    conn = backend._conn()
    docs = {}
    df: Counter[str] = Counter()
    from lantai.search.backends.embedded import _decode

    for (data,) in conn.execute("SELECT data FROM record_data"):
        record = _decode(data)
        words = analyzer.words_normalized(analyzer.normalize(record.title + "\n" + record.text))
        words = [w for w in words if len(w) >= 2]
        docs[record.archival_code] = Counter(words)
        df.update(set(words))
    n_docs = len(docs)
    limits = settings.search
    results: dict[str, list[tuple[str, str, float]]] = {}

    def record(label: str, q: dict, ranked: list[str]) -> None:
        results.setdefault(label, []).append((q["id"], q.get("kind", "?"),
                                              ndcg_at(ranked, qrels[q["id"]])))

    for q in queries:
        plan = parse_query(q["text"], analyzer, and_max_terms=limits.and_max_terms)
        request = SearchRequest(query=q["text"], size=100, facets=(), snippets=False)
        lexical = backend.search(SearchRequest(query=q["text"], size=100, facets=(),
                                               snippets=False, mode=SearchMode.KEYWORD))
        lex = [(h.record_id, h.score) for h in lexical.hits]
        vector = embedder.embed_query(fold_for_embedding(_plan_text(plan)))
        gated = backend._validated(request)
        gated = SearchRequest(query=q["text"], size=100, facets=(), snippets=False,
                              filters=gated.filters.merged_with_plan(plan))
        dense_hits = backend._knn(gated, plan, vector, 100)
        dense = [(h.record.archival_code, h.score) for h in dense_hits]
        w = limits.question_lexical_weight if plan.is_or else limits.lexical_weight
        base = fuse(lex, dense, lexical_weight=w)
        record("hybrid without feedback", q, [k for k, _ in base])
        hi = base[0][1] if base else 1.0
        query_words = set(analyzer.words_normalized(analyzer.normalize(q["text"])))
        for k in (3, 5, 10):
            weights: Counter[str] = Counter()
            for code, score in base[:k]:
                counts = docs[code]
                length = sum(counts.values()) or 1
                for word, tf in counts.items():
                    if word in query_words or df[word] > n_docs / 10 or df[word] < 2:
                        continue
                    weights[word] += tf / length * (score / hi) * math.log(n_docs / df[word])
            for m in (5, 10, 20):
                terms = [t for t, _ in weights.most_common(m)]
                if not terms:
                    continue
                text = q["text"] + " " + " ".join(terms)
                prf = backend.search(SearchRequest(
                    query=text, size=100, facets=(), snippets=False, mode=SearchMode.KEYWORD,
                    expand=False))
                prf_list = [(h.record_id, h.score) for h in prf.hits]
                for pw in (0.1, 0.2, 0.3):
                    record(f"rm3 k={k} m={m} w={pw}", q,
                           [c for c, _ in fuse_weighted(
                               [(lex, w * (1 - pw)), (dense, (1 - w) * (1 - pw)),
                                (prf_list, pw)])])
        for k in (3, 5, 10):
            vecs = [backend._record_vectors(code) for code, _ in base[:k]]
            vecs = [v.mean(axis=0) for v in vecs if v is not None and len(v)]
            if not vecs:
                continue
            centroid = np.mean(vecs, axis=0)
            for beta in (0.3, 0.5, 1.0):
                q2 = vector + beta * centroid
                q2 = (q2 / np.linalg.norm(q2)).astype("float32")
                dense2 = [(h.record.archival_code, h.score)
                          for h in backend._knn(gated, plan, q2, 100)]
                record(f"rocchio k={k} b={beta}", q,
                       [c for c, _ in fuse(lex, dense2, lexical_weight=w)])
        # centrality: records similar to many other top records rank higher
        for top_n in (20, 40):
            head = base[:top_n]
            mats = [backend._record_vectors(c) for c, _ in head]
            keep = [(c, sc, m.astype("float32").mean(axis=0))
                    for (c, sc), m in zip(head, mats, strict=True) if m is not None and len(m)]
            if len(keep) < 5:
                continue
            mat = np.stack([v / np.linalg.norm(v) for _, _, v in keep])
            sims_m = mat @ mat.T
            np.fill_diagonal(sims_m, -1)
            for mm in (3, 5):
                cent = np.sort(sims_m, axis=1)[:, -mm:].mean(axis=1)
                lo_c, hi_c = cent.min(), cent.max()
                cn = (cent - lo_c) / (hi_c - lo_c + 1e-9)
                for lam in (0.1, 0.2, 0.3):
                    rescored = sorted(((c, sc + lam * float(x)) for (c, sc, _), x in
                                       zip(keep, cn, strict=True)),
                                      key=lambda kv: -kv[1])
                    rest = [c for c, _ in base[top_n:]]
                    record(f"central n={top_n} m={mm} l={lam}", q, [c for c, _ in rescored] + rest)
        # passage aggregation: every passage of the 100 dense candidates, max vs soft sums
        sims = {}
        for code, _ in dense:
            vecs = backend._record_vectors(code)
            if vecs is not None and len(vecs):
                sims[code] = np.sort(vecs.astype("float32") @ vector)[::-1]
        for label, agg in (
                ("passages top2 mean", lambda v: float(v[:2].mean())),
                ("passages max+0.1*second", lambda v: float(v[0] + 0.1 * (v[1] if len(v) > 1
                                                                          else v[0]))),
                ("passages softmax t=0.02", lambda v: float(0.02 * np.log(np.exp(
                    (v - v[0]) / 0.02).sum()) + v[0])),
                ("passages softmax t=0.05", lambda v: float(0.05 * np.log(np.exp(
                    (v - v[0]) / 0.05).sum()) + v[0]))):
            dense_agg = sorted(((c, agg(v)) for c, v in sims.items()), key=lambda kv: -kv[1])
            record(label, q, [c for c, _ in fuse(lex, dense_agg, lexical_weight=w)])
    kinds = sorted({k for rows in results.values() for _, k, _ in rows})
    print(f"{'variant':<28}" + "".join(f"{k:>11}" for k in [*kinds, "all"]))
    base_all = None
    for label, rows in results.items():
        cells = []
        for kind in [*kinds, "all"]:
            vals = [v for _, k, v in rows if kind in (k, "all")]
            cells.append(sum(vals) / len(vals) if vals else float("nan"))
        if base_all is None:
            base_all = cells[-1]
        print(f"{label:<28}" + "".join(f"{c:>11.3f}" for c in cells)
              + f"  {cells[-1] - base_all:+.3f}")
    backend.close()
    embedder.save()


if __name__ == "__main__":
    main()
