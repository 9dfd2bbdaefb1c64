"""Generated-page benchmark: Han CER by direction × script × condition, and pages/minute.

python bench/ocr/run_generated.py --engine ppocr --pages 2 --out bench/ocr/results
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from pathlib import Path

from lantai.ocr.engines import create_engine
from lantai.ocr.metrics import cer, han_only
from lantai.ocr.pipeline import ocr_image

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))  # testkit/
from testkit.ocr_pages import CONDITIONS, DIRECTIONS, SCRIPTS, PageSpec, find_cjk_font, render


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--engine", default="ppocr")
    parser.add_argument("--pages", type=int, default=2, help="pages per combination")
    parser.add_argument("--dpi", type=int, default=150)
    parser.add_argument("--conditions", default="clean,degraded")
    parser.add_argument("--out", type=Path, default=Path("bench/ocr/results"))
    args = parser.parse_args()
    engine = create_engine(args.engine)
    font = find_cjk_font()
    conditions = [c for c in args.conditions.split(",") if c in CONDITIONS]
    rows = []
    for direction in DIRECTIONS:
        for script in SCRIPTS:
            for condition in conditions:
                for seed in range(args.pages):
                    spec = PageSpec(direction, script, condition, seed=100 + seed, dpi=args.dpi)
                    page = render(spec, font)
                    t = time.perf_counter()
                    result = ocr_image(page.image, engine)
                    seconds = time.perf_counter() - t
                    rows.append(
                        {
                            "direction": direction,
                            "script": script,
                            "condition": condition,
                            "seed": spec.seed,
                            "seconds": round(seconds, 2),
                            "cer": round(cer(han_only(page.text), han_only(result.text)), 4),
                            "chars": len(han_only(page.text)),
                        }
                    )
                    print(json.dumps(rows[-1], ensure_ascii=False), flush=True)
    summary = {}
    for row in rows:
        key = f"{row['direction']}/{row['script']}/{row['condition']}"
        summary.setdefault(key, []).append(row["cer"])
    total_s = sum(r["seconds"] for r in rows)
    out = {
        "engine": engine.describe(),
        "dpi": args.dpi,
        "cer_mean": {k: round(statistics.mean(v), 4) for k, v in summary.items()},
        "pages": len(rows),
        "seconds_per_page_one_process": round(total_s / len(rows), 2),
        "rows": rows,
    }
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / f"generated_{args.engine}.json").write_text(
        json.dumps(out, ensure_ascii=False, indent=1), encoding="utf-8"
    )
    print(json.dumps({k: v for k, v in out.items() if k != "rows"}, ensure_ascii=False, indent=1))


if __name__ == "__main__":
    main()
