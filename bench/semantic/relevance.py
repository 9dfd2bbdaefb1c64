"""Relevance experiments on the Jingbao development set: one index, many settings, per kind
and per split.

    python bench/semantic/relevance.py eval [--config 'search.lexical_weight=0.3 ...' ...]
        [--split tune|test|all] [--json out.json] [--per-query]
    python bench/semantic/relevance.py pool QUERIES.jsonl [--depth 20] > pool.txt

The corpus (``../shared/data/corpus/ecpo_jingbao``) is indexed once with the real default
embedder into ``--index`` (default ``$TMPDIR/lantai-relevance``) and reused by every run, so a
configuration costs only its queries. ``--config 'section.name=value ...'`` overrides settings
(as ``lantai.toml`` would); each ``--config`` is one configuration, compared side by side on
the same index (none: the defaults).

``eval`` prints nDCG@10 / Recall@100 / MRR@10 for each mode (keyword, semantic, hybrid) per
query kind and per split (``split`` field of ``queries.jsonl``: ``tune`` is what settings were
chosen on, ``test`` is never looked at while tuning).

``pool`` prints, for each query of a JSONL file, the union of the top ``--depth`` records of
keyword, semantic and hybrid search (and of hybrid under each ``--config``), with
date, title and the start of the text, for a judge to read: the system side of pooling.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from quality import SHARED, MemoEmbedder

from lantai.config import Settings, load_settings
from lantai.search.backends import create_backend
from lantai.search.backends.base import SearchBackend, SearchMode, SearchRequest
from lantai.search.embeddings import create_embedder
from lantai.search.evaluation import (
    corpus_records,
    mrr_at,
    ndcg_at,
    read_jsonl,
    read_qrels,
    recall_at,
)

ROOT = Path(__file__).resolve().parents[2]
CORPUS = SHARED / "corpus" / "ecpo_jingbao" / "corpus.jsonl"
DEV = ROOT / "bench" / "data" / "jingbao_dev"
MODES = (SearchMode.KEYWORD, SearchMode.SEMANTIC, SearchMode.HYBRID)


def _coerce(current: Any, value: str) -> Any:
    if isinstance(current, bool):
        return value.lower() in ("1", "true", "yes", "on")
    if isinstance(current, int):
        return int(value)
    if isinstance(current, float):
        return float(value)
    if isinstance(current, tuple):
        return tuple(v for v in value.split(",") if v)
    return value


def with_overrides(settings: Settings, overrides: list[str]) -> Settings:
    """``section.name=value`` strings applied to ``settings``."""
    for item in overrides:
        key, _, value = item.partition("=")
        section, _, name = key.partition(".")
        part = getattr(settings, section)
        new = dataclasses.replace(part, **{name: _coerce(getattr(part, name), value)})
        settings = dataclasses.replace(settings, **{section: new})
    return settings


def open_index(index_dir: Path, settings: Settings, embedder: MemoEmbedder) -> SearchBackend:
    """The Jingbao index in ``index_dir``, built on first use."""
    local = dataclasses.replace(
        settings, data_dir=index_dir, search=dataclasses.replace(settings.search, max_size=100),
        embedding=dataclasses.replace(settings.embedding, enabled=True))
    marker = index_dir / "built.ok"
    backend = create_backend(local, embedder=embedder)
    if not marker.is_file():
        started = time.perf_counter()
        backend.upsert(corpus_records(CORPUS), batch_size=500)
        embedder.save()
        marker.write_text(str(CORPUS), encoding="utf-8")
        print(f"# indexed {CORPUS.name} in {time.perf_counter() - started:.0f} s",
              file=sys.stderr)
    return backend


def ranked(backend: SearchBackend, text: str, mode: SearchMode, size: int = 100) -> list[str]:
    result = backend.search(SearchRequest(query=text, size=size, facets=(), mode=mode,
                                          snippets=False))
    return [h.record_id for h in result.hits]


def evaluate(backend: SearchBackend, queries: list[dict[str, Any]],
             qrels: dict[str, dict[str, int]], modes: tuple[SearchMode, ...]
             ) -> dict[str, Any]:
    rows = []
    for q in queries:
        judged = qrels[q["id"]]
        for mode in modes:
            docs = ranked(backend, q["text"], mode)
            rows.append({"id": q["id"], "kind": q.get("kind", "?"),
                         "split": q.get("split", "tune"), "mode": str(mode),
                         "ndcg10": ndcg_at(docs, judged), "recall100": recall_at(docs, judged),
                         "mrr10": mrr_at(docs, judged)})
    return {"rows": rows}


def summarise(rows: list[dict[str, Any]]) -> dict[tuple[str, str, str], tuple[float, int]]:
    """(mode, split, kind) → (mean nDCG@10, queries); split/kind 'all' included."""
    acc: dict[tuple[str, str, str], list[float]] = defaultdict(list)
    for r in rows:
        for split in (r["split"], "all"):
            for kind in (r["kind"], "all"):
                acc[(r["mode"], split, kind)].append(r["ndcg10"])
    return {k: (sum(v) / len(v), len(v)) for k, v in acc.items()}


def load_dev(split: str) -> tuple[list[dict[str, Any]], dict[str, dict[str, int]]]:
    qrels = read_qrels(DEV / "qrels.tsv")
    queries = [q for q in read_jsonl(DEV / "queries.jsonl", ("id", "text"))
               if q["id"] in qrels and (split == "all" or q.get("split", "tune") == split)]
    return queries, qrels


def cmd_eval(args: argparse.Namespace, base: Settings, embedder: MemoEmbedder) -> None:
    queries, qrels = load_dev(args.split)
    groups = [c.split() for c in args.config] if args.config else [[]]
    modes = tuple(SearchMode(m) for m in args.modes.split(","))
    out = []
    for overrides in groups:
        settings = with_overrides(base, overrides)
        backend = open_index(args.index, settings, embedder)
        try:
            started = time.perf_counter()
            rows = evaluate(backend, queries, qrels, modes)["rows"]
            seconds = time.perf_counter() - started
        finally:
            backend.close()
        embedder.save()
        summary = summarise(rows)
        label = " ".join(overrides) or "defaults"
        print(f"\n## {label}   ({len(queries)} queries, {seconds:.0f} s, "
              f"load {os.getloadavg()[0]:.1f})")
        kinds = [*sorted({k for (_, _, k) in summary if k != "all"}), "all"]
        splits = [*sorted({s for (_, s, _) in summary if s != "all"}), "all"]
        for split in splits:
            print(f"{split:<6} " + " ".join(f"{k:>11}" for k in kinds))
            for mode in modes:
                cells = []
                for kind in kinds:
                    value = summary.get((str(mode), split, kind))
                    cells.append(f"{value[0]:.3f} ({value[1]:>2})" if value else " " * 11)
                print(f"  {str(mode)[:8]:<8}" + " ".join(f"{c:>11}" for c in cells))
        if args.per_query:
            for r in rows:
                print(f"  {r['id']:<8} {r['kind']:<10} {r['mode']:<8} {r['ndcg10']:.3f}")
        out.append({"settings": overrides, "rows": rows,
                    "summary": {"|".join(k): v for k, v in summary.items()}})
    if args.json:
        args.json.write_text(json.dumps(out, ensure_ascii=False, indent=1), encoding="utf-8")


def cmd_pool(args: argparse.Namespace, base: Settings, embedder: MemoEmbedder) -> None:
    corpus = {r.archival_code: r for r in corpus_records(CORPUS)}
    queries = list(read_jsonl(args.queries, ("id", "text")))
    backend = open_index(args.index, base, embedder)
    extras = [open_index(args.index, with_overrides(base, c.split()), embedder)
              for c in args.config or []]
    try:
        for q in queries:
            seen: dict[str, list[str]] = {}
            runs = [(str(m), backend, m) for m in MODES]
            runs += [(f"x{i}", e, SearchMode.HYBRID) for i, e in enumerate(extras, 1)]
            for label, engine, mode in runs:
                for rank, code in enumerate(ranked(engine, q["text"], mode, args.depth), 1):
                    tag = label if label.startswith("x") else label[0]
                    seen.setdefault(code, []).append(f"{tag}:{rank}")
            print(f"\n=== {q['id']}  {q['text']}  ({len(seen)} candidates)")
            for code, tags in seen.items():
                record = corpus[code]
                head = record.text.replace("\n", "")[:args.chars]
                print(f"{code}\t{record.date_text}\t[{','.join(tags)}]\t{record.title}\t{head}")
    finally:
        for engine in (backend, *extras):
            engine.close()
        embedder.save()


def cmd_qa(args: argparse.Namespace, base: Settings, embedder: MemoEmbedder) -> None:
    """Keyword (every query) and hybrid (a fixed sample) on the QA sets, per configuration:
    what must not get worse while tuning for Jingbao."""
    from quality import sample_queries

    from lantai.search.evaluation import evaluate as run_eval

    groups = [c.split() for c in args.config] if args.config else [[]]
    with tempfile.TemporaryDirectory(prefix="lantai-qa-") as tmp:
        for name in args.sets.split(","):
            folder = SHARED / "retrieval" / name
            corpus, queries, qrels = (folder / "corpus.jsonl", folder / "queries.jsonl",
                                      folder / "qrels.tsv")
            sample = sample_queries(queries, qrels, args.max_queries, Path(tmp))
            for overrides in groups:
                settings = with_overrides(base, overrides)
                for mode, qfile in ((SearchMode.KEYWORD, queries), (SearchMode.HYBRID, sample)):
                    if mode.value not in args.modes.split(","):
                        continue
                    local = dataclasses.replace(settings, embedding=dataclasses.replace(
                        settings.embedding, enabled=mode is not SearchMode.KEYWORD))
                    m = run_eval(local, corpus, qfile, qrels, Path(tmp) / "run.txt", mode=mode,
                                 backend_factory=lambda s: create_backend(
                                     s, embedder=embedder if s.embedding.enabled else None))
                    embedder.save()
                    print(f"{name:<9} {mode!s:<8} {' '.join(overrides) or 'defaults':<60} "
                          f"nDCG@10 {m.ndcg10:.4f} MRR@10 {m.mrr10:.4f} R@100 "
                          f"{m.recall100:.4f} ({m.queries} q, load {os.getloadavg()[0]:.1f})",
                          flush=True)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--index", type=Path,
                    default=Path(tempfile.gettempdir()) / "lantai-relevance")
    ap.add_argument("--cache", type=Path,
                    default=Path(tempfile.gettempdir()) / "lantai-bench-semantic")
    sub = ap.add_subparsers(dest="cmd", required=True)
    ev = sub.add_parser("eval")
    ev.add_argument("--config", action="append", help="'section.name=value ...'")
    ev.add_argument("--split", default="all", choices=("tune", "test", "all"))
    ev.add_argument("--modes", default="keyword,semantic,hybrid")
    ev.add_argument("--per-query", action="store_true")
    ev.add_argument("--json", type=Path)
    po = sub.add_parser("pool")
    po.add_argument("queries", type=Path)
    po.add_argument("--depth", type=int, default=20)
    po.add_argument("--chars", type=int, default=80)
    po.add_argument("--config", action="append", help="settings of an extra hybrid run")
    qa = sub.add_parser("qa")
    qa.add_argument("--config", action="append", help="'section.name=value ...'")
    qa.add_argument("--sets", default="cmrc2018,drcd")
    qa.add_argument("--modes", default="keyword,hybrid")
    qa.add_argument("--max-queries", type=int, default=1000,
                    help="fixed sample for hybrid (keyword runs every query)")
    args = ap.parse_args()
    if not CORPUS.is_file():
        sys.exit("needs ../shared/data beside the repository")
    base = load_settings(environ={})
    embedder = MemoEmbedder(create_embedder("default"), args.cache)
    {"eval": cmd_eval, "pool": cmd_pool, "qa": cmd_qa}[args.cmd](args, base, embedder)


if __name__ == "__main__":
    main()
