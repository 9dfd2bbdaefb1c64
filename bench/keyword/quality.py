"""Keyword retrieval quality on the shared sets (and our Jingbao development queries).

    python bench/keyword/quality.py [--sets cmrc2018,drcd,jingbao] [--set search.title_weight=2]

Prints one line per set: nDCG@10, Recall@100, MRR@10, latency. ``drcd-simplified`` runs the
DRCD (traditional) set with every query converted to simplified first, as mainland users type.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from pathlib import Path

from lantai.config import load_settings
from lantai.search.backends.base import SearchMode
from lantai.search.evaluation import evaluate

ROOT = Path(__file__).resolve().parents[2]
SHARED = ROOT.parent / "shared" / "data"


def sets() -> dict[str, tuple[Path, Path, Path, bool]]:
    retrieval = SHARED / "retrieval"
    jb = ROOT / "bench" / "data" / "jingbao_dev"
    return {
        "cmrc2018": (retrieval / "cmrc2018" / "corpus.jsonl",
                     retrieval / "cmrc2018" / "queries.jsonl",
                     retrieval / "cmrc2018" / "qrels.tsv", False),
        "drcd": (retrieval / "drcd" / "corpus.jsonl", retrieval / "drcd" / "queries.jsonl",
                 retrieval / "drcd" / "qrels.tsv", False),
        "drcd-simplified": (retrieval / "drcd" / "corpus.jsonl",
                            retrieval / "drcd" / "queries.jsonl",
                            retrieval / "drcd" / "qrels.tsv", True),
        "jingbao": (SHARED / "corpus" / "ecpo_jingbao" / "corpus.jsonl",
                    jb / "queries.jsonl", jb / "qrels.tsv", False),
    }


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--sets", default="cmrc2018,drcd,drcd-simplified,jingbao")
    ap.add_argument("--mode", default="keyword")
    ap.add_argument("--set", action="append", default=[], metavar="KEY=VALUE",
                    help="setting override, e.g. search.word_weight=0")
    args = ap.parse_args()
    if not SHARED.is_dir():
        sys.exit("needs ../shared/data beside the repository")
    overrides = dict(kv.split("=", 1) for kv in args.set)
    settings = load_settings(environ={}, overrides=overrides)
    import opencc

    to_simplified = opencc.OpenCC("t2s").convert
    table = sets()
    for name in args.sets.split(","):
        corpus, queries, qrels, simplify = table[name]
        with tempfile.TemporaryDirectory() as tmp:
            metrics = evaluate(settings, corpus, queries, qrels, Path(tmp) / "run.tsv",
                               mode=SearchMode(args.mode),
                               transform=to_simplified if simplify else None)
        print(json.dumps({"set": name, "mode": args.mode, "overrides": overrides,
                          "ndcg10": round(metrics.ndcg10, 4),
                          "recall100": round(metrics.recall100, 4),
                          "mrr10": round(metrics.mrr10, 4), "queries": metrics.queries,
                          "mean_ms": round(metrics.mean_ms, 1),
                          "p95_ms": round(metrics.p95_ms, 1)}, ensure_ascii=False), flush=True)


if __name__ == "__main__":
    main()
