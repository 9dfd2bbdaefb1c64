"""Fusion settings compared on the same two ranked lists per query (offline sweep).

    python bench/semantic/fusion_sweep.py [--sets jingbao,cmrc2018,drcd] [--max-queries 1000]

``quality.py`` runs every setting end to end through ``evaluate``; this script fetches each
query's keyword list and dense list once (exactly what hybrid mode fuses: the top
``search.candidates`` of each, public request) and fuses them offline with
:func:`lantai.search.fusion.fuse` — so a sweep over many weights costs one pass — plus
variants that ``fusion.py`` does not have, to see whether another normalisation or weighting
would make one setting good on every set:

* ``weighted-rank``: like ``weighted``, but the lexical list is normalised by rank
  (1 − rank/len) instead of by score. Keyword mode appends partial matches after the exact ones
  with scores of a different (OR) query, so lexical scores are not monotonic in rank;
* ``weighted-z``: z-score normalisation of both lists instead of min–max;
* ``monotone weighted``: the lexical scores made non-increasing (running minimum) first;
* ``weighted questions a / others b``: lexical weight ``a`` for questions (queries the parser
  ranks OR-style) and ``b`` for keyword-style queries.

Check: the ``weighted`` and ``rrf k=60`` rows equal ``quality.py``'s end-to-end hybrid runs
of the same code. ``--reuse`` re-fuses the lists saved by the previous run (in ``--cache``).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from lantai.config import load_settings
from lantai.search.backends import create_backend
from lantai.search.backends.base import SearchMode, SearchRequest
from lantai.search.embeddings import create_embedder
from lantai.search.evaluation import (
    corpus_records,
    mrr_at,
    ndcg_at,
    read_jsonl,
    read_qrels,
    recall_at,
)
from lantai.search.fusion import fuse
from lantai.search.query import parse_query

sys.path.insert(0, str(Path(__file__).resolve().parent))
from quality import SHARED, MemoEmbedder, sample_queries, sets

Ranked = list[tuple[str, float]]


def _minmax(values: Sequence[float]) -> list[float]:
    lo, hi = min(values), max(values)
    return [1.0 if hi - lo < 1e-12 else (v - lo) / (hi - lo) for v in values]


def _z(values: Sequence[float]) -> list[float]:
    mean = statistics.fmean(values)
    sd = statistics.pstdev(values) or 1.0
    return [(v - mean) / sd for v in values]


def variant(lexical: Ranked, dense: Ranked, weight: float, how: str) -> Ranked:
    """``weighted`` with another normalisation: ``rank`` (lexical by rank, dense min–max) or
    ``z`` (both z-scored); a record missing from a list gets that list's lowest value."""
    def normalised(ranked: Ranked, by_rank: bool) -> tuple[dict[str, float], float]:
        if not ranked:
            return {}, 0.0
        if by_rank:
            values = [1.0 - i / len(ranked) for i in range(len(ranked))]
        elif how == "z":
            values = _z([s for _, s in ranked])
        else:
            values = _minmax([s for _, s in ranked])
        return {k: v for (k, _), v in zip(ranked, values, strict=True)}, min(values)

    lex, lex_floor = normalised(lexical, how == "rank")
    den, den_floor = normalised(dense, False)
    if how == "rank":
        lex_floor = den_floor = 0.0  # as in ``weighted``: missing scores 0
    combined = {key: weight * lex.get(key, lex_floor) + (1 - weight) * den.get(key, den_floor)
                for key in {*lex, *den}}
    return sorted(combined.items(), key=lambda kv: (-kv[1], kv[0]))


Method = Callable[[Ranked, Ranked, bool], Ranked]


def methods() -> dict[str, Method]:
    """Fusion methods; the bool says whether the query is a question (an OR-ranked plan)."""
    out: dict[str, Method] = {}
    for w in (0.2, 0.3, 0.35, 0.4, 0.5, 0.6, 0.7, 0.8):
        out[f"weighted {w}"] = lambda lx, dn, q, w=w: fuse(lx, dn, method="weighted",
                                                            lexical_weight=w)
    out["rrf k=60"] = lambda lx, dn, q: fuse(lx, dn, method="rrf")
    out["rrf k=20"] = lambda lx, dn, q: fuse(lx, dn, method="rrf", rrf_k=20)
    for w in (0.3, 0.5, 0.7):
        out[f"weighted-rank {w}"] = lambda lx, dn, q, w=w: variant(lx, dn, w, "rank")
    for w in (0.3, 0.4, 0.5, 0.6, 0.7):
        out[f"weighted-z {w}"] = lambda lx, dn, q, w=w: variant(lx, dn, w, "z")
    # Lexical scores made monotonic in rank (running minimum) before fusing: keyword mode
    # appends partial matches after the exact ones with scores of another (OR) query.
    for w in (0.3, 0.4, 0.5, 0.6, 0.7):
        out[f"monotone weighted {w}"] = lambda lx, dn, q, w=w: fuse(
            monotone(lx), dn, method="weighted", lexical_weight=w)
    # One weight for questions (OR-ranked: many terms, high word overlap with the answer
    # passage), another for keyword-style queries.
    for wq, wk in ((0.7, 0.3), (0.6, 0.3), (0.7, 0.4), (0.6, 0.4)):
        out[f"weighted questions {wq} / others {wk}"] = (
            lambda lx, dn, q, wq=wq, wk=wk: fuse(lx, dn, method="weighted",
                                                  lexical_weight=wq if q else wk))
    for wq, wk in ((0.7, 0.3), (0.7, 0.4), (0.7, 0.5), (0.6, 0.4)):
        out[f"monotone weighted questions {wq} / others {wk}"] = (
            lambda lx, dn, q, wq=wq, wk=wk: fuse(monotone(lx), dn, method="weighted",
                                                  lexical_weight=wq if q else wk))
    return out


def monotone(ranked: Ranked) -> Ranked:
    """Scores made non-increasing down the list (each at most the one above it)."""
    out: Ranked = []
    floor = float("inf")
    for key, score in ranked:
        floor = min(floor, score)
        out.append((key, floor))
    return out


def collect(name: str, corpus: Path, queries: Path, judgments: dict[str, dict[str, int]],
            embedder: MemoEmbedder, tmp: Path) -> list[Any]:
    """(judgments, keyword list, dense list, is question) of every judged query."""
    settings = load_settings(environ={}, overrides={
        "data_dir": tmp / name, "search.max_size": 100})
    depth = settings.search.candidates
    backend = create_backend(settings, embedder=embedder)
    backend.upsert(corpus_records(corpus), batch_size=1000)
    embedder.save()
    lists = []
    for q in read_jsonl(queries, ("id", "text")):
        if str(q["id"]) not in judgments:
            continue
        got = {}
        for mode in (SearchMode.KEYWORD, SearchMode.SEMANTIC):
            result = backend.search(SearchRequest(str(q["text"]), size=depth, facets=(),
                                                  mode=mode, snippets=False))
            got[mode] = [(h.record_id, h.score) for h in result.hits]
        question = parse_query(str(q["text"]), backend.analyzer,
                               and_max_terms=settings.search.and_max_terms).is_or
        lists.append((judgments[str(q["id"])], got[SearchMode.KEYWORD],
                      got[SearchMode.SEMANTIC], question))
    backend.close()
    embedder.save()
    return lists


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--sets", default="jingbao,cmrc2018,drcd")
    ap.add_argument("--max-queries", type=int, default=None)
    ap.add_argument("--model", default="default")
    ap.add_argument("--cache", type=Path,
                    default=Path(tempfile.gettempdir()) / "lantai-bench-semantic")
    ap.add_argument("--json", type=Path)
    ap.add_argument("--reuse", action="store_true",
                    help="reuse the lists saved by an earlier run (only re-fuse)")
    args = ap.parse_args()
    if not SHARED.is_dir():
        sys.exit("needs ../shared/data beside the repository")
    embedder = MemoEmbedder(create_embedder(args.model), args.cache)
    table = methods()
    rows = []
    with tempfile.TemporaryDirectory(prefix="lantai-fusion-") as tmp:
        for name in args.sets.split(","):
            corpus, queries, qrels = sets()[name]
            queries = sample_queries(queries, qrels, None if name == "jingbao"
                                     else args.max_queries, Path(tmp))
            judgments = read_qrels(qrels)
            dump = args.cache / f"lists-{name}-{args.max_queries}.json"
            if args.reuse and dump.is_file():
                lists = json.loads(dump.read_text(encoding="utf-8"))
            else:
                lists = collect(name, corpus, queries, judgments, embedder, Path(tmp))
                dump.write_text(json.dumps(lists, ensure_ascii=False), encoding="utf-8")
            singles: dict[str, Method] = {"keyword": lambda lx, dn, q: lx,
                                          "semantic": lambda lx, dn, q: dn}
            for label, method in {**singles, **table}.items():
                scores = [(ndcg_at([k for k, _ in r], j), recall_at([k for k, _ in r], j, 100),
                           mrr_at([k for k, _ in r], j))
                          for j, lx, dn, q in lists
                          for r in [method([tuple(x) for x in lx], [tuple(x) for x in dn], q)]]
                n = len(scores)
                row = {"set": name, "fusion": label, "queries": n,
                       "ndcg10": round(sum(s[0] for s in scores) / n, 4),
                       "recall100": round(sum(s[1] for s in scores) / n, 4),
                       "mrr10": round(sum(s[2] for s in scores) / n, 4)}
                rows.append(row)
                print(json.dumps(row, ensure_ascii=False), flush=True)
    print(f"# load average {os.getloadavg()[0]:.1f}", flush=True)
    if args.json:
        args.json.write_text(json.dumps(rows, ensure_ascii=False, indent=1), encoding="utf-8")


if __name__ == "__main__":
    main()
