"""Generated newspaper pages: reading order of articles in tiers, parted by printed rules.

python bench/ocr/run_newspaper.py --pages 6 [--no-rules] [--condition degraded]

Per page: Han F1 and every article's CER after aligning it with the output (as for the ECPO
fold), so a page whose articles come out whole and in order scores near the recogniser's own
error rate, and one whose articles are interleaved scores far above it.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from pathlib import Path

from lantai.ocr.engines import create_engine
from lantai.ocr.metrics import aligned_cer, han_f1, han_only
from lantai.ocr.pipeline import ocr_image

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))  # testkit/
from testkit.ocr_newspaper import NewspaperSpec, render_newspaper
from testkit.ocr_pages import find_cjk_font


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--engine", default="ppocr")
    parser.add_argument("--pages", type=int, default=6)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--script", default="traditional")
    parser.add_argument("--condition", default="clean")
    parser.add_argument("--no-rules", action="store_true")
    parser.add_argument("--no-split", action="store_true", help="keep merged lines")
    parser.add_argument("--out", type=Path, default=Path("bench/ocr/results"))
    args = parser.parse_args()
    if args.no_split:
        from lantai.ocr.engines.ppocr import PpocrEngine, PpocrSettings

        engine = PpocrEngine(PpocrSettings(split_gaps=False))
    else:
        engine = create_engine(args.engine)
    font = find_cjk_font()
    rows = []
    for i in range(args.pages):
        spec = NewspaperSpec(args.script, args.condition, seed=args.seed + i)
        page = render_newspaper(spec, font)
        t = time.perf_counter()
        result = ocr_image(page.image, engine, use_rules=not args.no_rules)
        seconds = time.perf_counter() - t
        hyp = han_only(result.text)
        arts = [(len(han_only(a.text)), aligned_cer(han_only(a.text), hyp)) for a in page.articles]
        arts = [(n, c) for n, c in arts if n >= 10]
        rows.append(
            {
                "seed": spec.seed,
                "seconds": round(seconds, 1),
                "articles": len(arts),
                "han_f1": round(han_f1(page.text, result.text).f1, 4),
                "article_cer_median": round(statistics.median(c for _, c in arts), 4),
                "article_cer_weighted": round(
                    sum(n * c for n, c in arts) / sum(n for n, _ in arts), 4
                ),
                "article_cer": [round(c, 3) for _, c in arts],
            }
        )
        print(json.dumps(rows[-1], ensure_ascii=False), flush=True)
    summary = {
        "engine": engine.describe(),
        "rules": not args.no_rules,
        "split": not args.no_split,
        "script": args.script,
        "condition": args.condition,
        "pages": len(rows),
        "han_f1_mean": round(statistics.mean(r["han_f1"] for r in rows), 4),
        "article_cer_median_of_pages": round(
            statistics.median(r["article_cer_median"] for r in rows), 4
        ),
        "article_cer_weighted_mean": round(
            statistics.mean(r["article_cer_weighted"] for r in rows), 4
        ),
        "articles_over_10pct": sum(c > 0.1 for r in rows for c in r["article_cer"]),
        "articles": sum(r["articles"] for r in rows),
        "rows": rows,
    }
    args.out.mkdir(parents=True, exist_ok=True)
    name = f"newspaper_{args.engine}_{args.condition}{'_norules' if args.no_rules else ''}"
    name += "_nosplit.json" if args.no_split else ".json"
    (args.out / name).write_text(json.dumps(summary, ensure_ascii=False, indent=1), "utf-8")
    print(json.dumps({k: v for k, v in summary.items() if k != "rows"}, ensure_ascii=False))


if __name__ == "__main__":
    main()
