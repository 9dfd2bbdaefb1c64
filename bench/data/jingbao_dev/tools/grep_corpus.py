"""Scratch helper used while judging: list corpus articles matching regexes.

Matches each pattern against the article (title + text) both in the original traditional
script and in its OpenCC t2s simplified form, so that one simplified pattern finds both.
Prints row number, id, date, title and a few context snippets per hit, most hits first.
Only used by the annotator; the corpus is read in place and never copied into the repo.

    python grep_corpus.py '米价|米價' '米市' --ctx 30 --max 40
"""

from __future__ import annotations

import argparse
import json
import re
from pathlib import Path

CORPUS = Path("/work/shared/data/corpus/ecpo_jingbao/corpus.jsonl")


def load() -> list[dict]:
    """Load the corpus; add simplified fields ``s`` (title + text) and ``title_s``."""
    import opencc  # scratch tool: OpenCC is only needed by the annotator

    cc = opencc.OpenCC("t2s")
    docs = [json.loads(line) for line in CORPUS.open(encoding="utf-8")]
    for d in docs:
        d["s"] = cc.convert(d["title"] + "\n" + d["text"]).replace("\n", "")
        d["title_s"] = cc.convert(d["title"] or d["text"][:40]).replace("\n", " ")
    return docs


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("patterns", nargs="+")
    ap.add_argument("--ctx", type=int, default=25)
    ap.add_argument("--max", type=int, default=60)
    ap.add_argument("--snips", type=int, default=3)
    ap.add_argument("--year", default="")
    a = ap.parse_args()
    pats = [re.compile(p) for p in a.patterns]
    rows = []
    for i, d in enumerate(load()):
        if a.year and not d["date"].startswith(a.year):
            continue
        s = d["s"]
        hits = [(p.pattern, m.start(), m.end()) for p in pats for m in p.finditer(s)]
        if hits:
            rows.append((len({h[0] for h in hits}), len(hits), i, d, hits))
    rows.sort(key=lambda r: (-r[0], -r[1], r[2]))
    for npat, nhit, i, d, hits in rows[: a.max]:
        head = f"## {i} {d['date']} len={len(d['text'])} pats={npat} hits={nhit}"
        print(f"{head} {d['title_s'][:40]!r}")
        for _, st, en in hits[: a.snips]:
            print("   …" + d["s"][max(0, st - a.ctx) : en + a.ctx] + "…")
    print(f"[{len(rows)} docs matched]")


if __name__ == "__main__":
    main()
