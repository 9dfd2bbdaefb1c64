"""Language-model rescoring: Han CER on generated worn pages at several LM weights.

The weight is chosen here, on pages whose text has nothing to do with the ECPO fold: the demo
archive's wording, and, when ``../shared`` is present, traditional (DRCD) and simplified
(CMRC 2018) Wikipedia paragraphs. Pages are set small (10 pt at 150 dpi, ~21 px type) and
``worn`` (broken, spread, faint strokes), where the recogniser hesitates.

python bench/ocr/run_lm.py --weights 0,0.3,0.6,1.0 --pages 2
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from pathlib import Path

from lantai.ocr.engines.ppocr import PpocrEngine, PpocrSettings
from lantai.ocr.metrics import cer, han_only
from lantai.ocr.pipeline import ocr_image

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))  # testkit/
from testkit.ocr_pages import PageSpec, find_cjk_font, render

SHARED = Path(__file__).resolve().parents[3] / "shared" / "data" / "retrieval"


def _corpus(name: str, limit: int = 400) -> list[str] | None:
    path = SHARED / name / "corpus.jsonl"
    if not path.exists():
        return None
    out = []
    with path.open(encoding="utf-8") as handle:
        for row in handle:
            text = json.loads(row)["text"]
            # sentences, so a page mixes many documents
            out.extend(s + "。" for s in text.split("。") if len(han_only(s)) >= 8)
            if len(out) >= limit:
                break
    return out


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--weights", default="0,0.3,0.6,1.0")
    parser.add_argument("--pages", type=int, default=2, help="pages per source and layout")
    parser.add_argument("--sure", type=float, default=0.9, help="lm_sure: never change above")
    parser.add_argument("--condition", default="worn")
    parser.add_argument("--font-pt", type=float, default=10.0)
    parser.add_argument("--out", type=Path, default=Path("bench/ocr/results"))
    args = parser.parse_args()
    font = find_cjk_font()
    sources: dict[str, list[str] | None] = {
        "demo": None,
        "drcd": _corpus("drcd"),
        "cmrc": _corpus("cmrc2018"),
    }
    layouts = [
        ("vertical", "traditional"),
        ("horizontal", "traditional"),
        ("horizontal", "simplified"),
    ]
    pages = []
    for source, texts in sources.items():
        if source != "demo" and texts is None:
            continue
        for direction, script in layouts:
            for seed in range(args.pages):
                spec = PageSpec(
                    direction, script, args.condition, seed=200 + seed, font_pt=args.font_pt
                )
                pages.append((source, spec, render(spec, font, texts)))
    weights = [float(w) for w in args.weights.split(",")]
    rows = []
    for weight in weights:
        settings = PpocrSettings(lm_weight=weight, lm_sure=args.sure)
        engine = PpocrEngine(settings)
        for source, spec, page in pages:
            t = time.perf_counter()
            result = ocr_image(page.image, engine)
            rows.append(
                {
                    "weight": weight,
                    "source": source,
                    "layout": f"{spec.direction}/{spec.script}",
                    "seed": spec.seed,
                    "cer": round(cer(han_only(page.text), han_only(result.text)), 4),
                    "seconds": round(time.perf_counter() - t, 2),
                }
            )
            print(json.dumps(rows[-1], ensure_ascii=False), flush=True)
    summary = {}
    for weight in weights:
        mine = [r for r in rows if r["weight"] == weight]
        summary[str(weight)] = {
            "mean_cer": round(statistics.mean(r["cer"] for r in mine), 4),
            "by_source": {
                s: round(statistics.mean(r["cer"] for r in mine if r["source"] == s), 4)
                for s in dict.fromkeys(r["source"] for r in mine)
            },
            "seconds_per_page": round(statistics.mean(r["seconds"] for r in mine), 2),
        }
    print(json.dumps(summary, ensure_ascii=False, indent=1))
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / f"lm_{args.condition}_sure{args.sure}.json").write_text(
        json.dumps(
            {"sure": args.sure, "summary": summary, "pages": rows}, ensure_ascii=False, indent=1
        ),
        encoding="utf-8",
    )


if __name__ == "__main__":
    main()
