"""Validate the jingbao_dev query set against the ECPO 晶報 corpus.

Checks that ``queries.jsonl`` is well formed (unique ids, known ``kind``/``script``),
that every ``qrels.tsv`` row names a known query and a doc id present in the corpus
with a grade in {1, 2, 3} (0 is never written), that no (query, doc) pair is judged
twice, and that every query has at least one judged document.

Prints one line per problem (file, line, reason) and exits 1 if there is any, 0 otherwise.

    python bench/data/jingbao_dev/tools/check.py [--corpus PATH]

By default the corpus is looked up in the shared data folder beside the repository
(``<repo>/../shared/data/corpus/ecpo_jingbao/corpus.jsonl``); exit code 2 if it is missing.
"""

from __future__ import annotations

import argparse
import csv
import json
import sys
from collections import Counter
from pathlib import Path

HERE = Path(__file__).resolve().parent
SET_DIR = HERE.parent
REPO_ROOT = HERE.parents[3]
DEFAULT_CORPUS = REPO_ROOT.parent / "shared" / "data" / "corpus" / "ecpo_jingbao" / "corpus.jsonl"
KINDS = {"entity", "topic", "paraphrase", "question", "theme", "date"}
SPLITS = {"tune", "test"}
SCRIPTS = {"simplified", "traditional"}
GRADES = {1, 2, 3}


def load_corpus_ids(path: Path) -> set[str]:
    """Return the set of document ids in the corpus JSONL file."""
    with path.open(encoding="utf-8") as fh:
        return {json.loads(line)["id"] for line in fh if line.strip()}


def check_queries(path: Path, problems: list[str]) -> set[str]:
    """Validate queries.jsonl, appending problems; return the query ids."""
    ids: list[str] = []
    with path.open(encoding="utf-8") as fh:
        for n, line in enumerate(fh, 1):
            if not line.strip():
                continue
            where = f"{path.name}:{n}"
            try:
                q = json.loads(line)
            except json.JSONDecodeError as exc:
                problems.append(f"{where}: invalid JSON ({exc})")
                continue
            missing = {"id", "text", "kind", "script", "note"} - q.keys()
            if missing:
                problems.append(f"{where}: missing field(s) {sorted(missing)}")
                continue
            if not str(q["text"]).strip():
                problems.append(f"{where}: empty query text")
            if q["kind"] not in KINDS:
                problems.append(f"{where}: kind {q['kind']!r} not in {sorted(KINDS)}")
            if q.get("split", "tune") not in SPLITS:
                problems.append(f"{where}: split {q['split']!r} not in {sorted(SPLITS)}")
            if q["script"] not in SCRIPTS:
                problems.append(f"{where}: script {q['script']!r} not in {sorted(SCRIPTS)}")
            ids.append(q["id"])
    for qid, count in Counter(ids).items():
        if count > 1:
            problems.append(f"{path.name}: query id {qid} appears {count} times")
    return set(ids)


def check_qrels(
    path: Path, query_ids: set[str], doc_ids: set[str], problems: list[str]
) -> Counter[str]:
    """Validate qrels.tsv, appending problems; return judged-doc counts per query."""
    per_query: Counter[str] = Counter()
    seen: set[tuple[str, str]] = set()
    with path.open(encoding="utf-8", newline="") as fh:
        reader = csv.reader(fh, delimiter="\t")
        header = next(reader, None)
        if header != ["query_id", "doc_id", "relevance"]:
            problems.append(
                f"{path.name}:1: header must be query_id, doc_id, relevance, got {header}"
            )
        for n, row in enumerate(reader, 2):
            where = f"{path.name}:{n}"
            if len(row) != 3:
                problems.append(f"{where}: expected 3 tab-separated columns, got {len(row)}")
                continue
            qid, did, rel = row
            if qid not in query_ids:
                problems.append(f"{where}: unknown query id {qid}")
            if did not in doc_ids:
                problems.append(f"{where}: doc id {did} not in corpus")
            if not rel.isdigit() or int(rel) not in GRADES:
                problems.append(f"{where}: relevance {rel!r} not in {sorted(GRADES)}")
            if (qid, did) in seen:
                problems.append(f"{where}: pair ({qid}, {did}) judged twice")
            seen.add((qid, did))
            per_query[qid] += 1
    return per_query


def main(argv: list[str] | None = None) -> int:
    """Run all checks; return the process exit code."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--corpus", type=Path, default=DEFAULT_CORPUS, help="corpus.jsonl path")
    ap.add_argument("--dir", type=Path, default=SET_DIR, help="folder with queries/qrels")
    args = ap.parse_args(argv)
    if not args.corpus.is_file():
        print(f"corpus not found: {args.corpus} (pass --corpus)", file=sys.stderr)
        return 2
    problems: list[str] = []
    query_ids = check_queries(args.dir / "queries.jsonl", problems)
    per_query = check_qrels(
        args.dir / "qrels.tsv", query_ids, load_corpus_ids(args.corpus), problems
    )
    for qid in sorted(query_ids - set(per_query)):
        problems.append(f"queries.jsonl: query {qid} has no judged document")
    for p in problems:
        print(p, file=sys.stderr)
    if problems:
        print(f"FAILED: {len(problems)} problem(s)", file=sys.stderr)
        return 1
    print(f"OK: {len(query_ids)} queries, {sum(per_query.values())} judgments")
    return 0


if __name__ == "__main__":
    sys.exit(main())
