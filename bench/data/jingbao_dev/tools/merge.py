"""Merge new query files (``<letter>.queries.jsonl`` + ``<letter>.qrels.tsv``, one pair per
annotator) into ``queries.jsonl`` and ``qrels.tsv``, assigning each new query its split.

    python bench/data/jingbao_dev/tools/merge.py NEW_DIR [--test-share 0.6]

The split is chosen blind to the queries' text: within each annotator's file and kind, queries
are ordered by the SHA-1 of their id and the first ``test-share`` of them (rounded up) go to
``test``, the rest to ``tune`` (so merging files one at a time gives the same splits).
Queries already in ``queries.jsonl`` keep their split (``tune`` if none).
Run ``check.py`` afterwards.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import math
from collections import defaultdict
from pathlib import Path

SET_DIR = Path(__file__).resolve().parents[1]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("new_dir", type=Path)
    ap.add_argument("--test-share", type=float, default=0.6)
    args = ap.parse_args()
    queries_path, qrels_path = SET_DIR / "queries.jsonl", SET_DIR / "qrels.tsv"
    old = [json.loads(line) for line in queries_path.read_text(encoding="utf-8").splitlines()
           if line.strip()]
    known = {q["id"] for q in old}
    new: list[dict[str, str]] = []
    rows: list[str] = []
    by_kind: dict[tuple[str, str], list[dict[str, str]]] = defaultdict(list)
    for path in sorted(args.new_dir.glob("*.queries.jsonl")):
        for line in path.read_text(encoding="utf-8").splitlines():
            if line.strip():
                q = json.loads(line)
                if q["id"] in known:
                    raise SystemExit(f"{path}: query id {q['id']} already exists")
                new.append(q)
                known.add(q["id"])
                by_kind[(path.name, q["kind"])].append(q)
        qrels = path.with_name(path.name.replace(".queries.jsonl", ".qrels.tsv"))
        lines = qrels.read_text(encoding="utf-8").splitlines()
        rows.extend(line for line in lines[1:] if line.strip())
    for group in by_kind.values():
        group.sort(key=lambda q: hashlib.sha1(q["id"].encode()).hexdigest())
        cut = math.ceil(args.test_share * len(group))
        for i, q in enumerate(group):
            q["split"] = "test" if i < cut else "tune"
    for q in old:
        q.setdefault("split", "tune")
    fields = ("id", "text", "kind", "script", "split", "note")
    with queries_path.open("w", encoding="utf-8") as out:
        for q in [*old, *new]:
            out.write(json.dumps({f: q[f] for f in fields}, ensure_ascii=False) + "\n")
    with qrels_path.open("a", encoding="utf-8") as out:
        for row in rows:
            out.write(row + "\n")
    tests = sum(q["split"] == "test" for q in new)
    print(f"merged {len(new)} queries ({tests} test, {len(new) - tests} tune) "
          f"and {len(rows)} judgments")


if __name__ == "__main__":
    main()
