"""ECPO 晶報 fold benchmark: bag-of-Han F1 and region-aligned CER, per engine.

python bench/ocr/run_ecpo.py --engine ppocr --engine tesseract-vert
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
from pathlib import Path

from lantai.ocr.engines import create_engine
from lantai.ocr.metrics import aligned_cer, han_f1, han_only
from lantai.ocr.pipeline import ocr_image

DATA = Path(__file__).resolve().parents[3] / "shared" / "data" / "ocr" / "ecpo_jingbao"


def _fold(text: str) -> str:
    import opencc

    return str(opencc.OpenCC("t2s").convert(text))


def main() -> None:
    import cv2

    parser = argparse.ArgumentParser()
    parser.add_argument("--engine", action="append", default=None)
    parser.add_argument("--data", type=Path, default=DATA)
    parser.add_argument("--out", type=Path, default=Path("bench/ocr/results"))
    args = parser.parse_args()
    label = json.loads((args.data / "labels.jsonl").read_text("utf-8").splitlines()[0])
    image = cv2.imread(str(args.data / label["image"]))
    args.out.mkdir(parents=True, exist_ok=True)
    for name in args.engine or ["ppocr"]:
        engine = create_engine(name)
        t = time.perf_counter()
        page = ocr_image(image, engine, image_name=label["image"])
        seconds = time.perf_counter() - t
        hyp = han_only(page.text)
        regions = []
        for region in label["regions"]:
            ref = han_only("".join(region["paragraphs"]))
            if len(ref) < 10:
                continue
            regions.append(
                {
                    "type": region["type"],
                    "page": region["page"],
                    "chars": len(ref),
                    "cer": round(aligned_cer(ref, hyp), 4),
                    "cer_folded": round(aligned_cer(han_only(_fold(ref)), han_only(_fold(hyp))), 4),
                }
            )
        articles = [r for r in regions if r["type"] == "article"]
        f1 = han_f1(label["text"], page.text)
        f1_folded = han_f1(_fold(label["text"]), _fold(page.text))
        result = {
            "engine": engine.describe(),
            "seconds": round(seconds, 1),
            "lines": len(page.lines),
            "blocks": len(page.blocks),
            "direction": page.direction,
            "han_f1": {
                "p": round(f1.precision, 4),
                "r": round(f1.recall, 4),
                "f1": round(f1.f1, 4),
            },
            "han_f1_folded": round(f1_folded.f1, 4),
            "article_cer_median": round(statistics.median(r["cer"] for r in articles), 4),
            "article_cer_weighted": round(
                sum(r["cer"] * r["chars"] for r in articles) / sum(r["chars"] for r in articles), 4
            ),
            "regions": regions,
        }
        (args.out / f"ecpo_{name}.json").write_text(
            json.dumps(result, ensure_ascii=False, indent=1), encoding="utf-8"
        )
        (args.out / f"ecpo_{name}.txt").write_text(page.text, encoding="utf-8")
        print(json.dumps({k: v for k, v in result.items() if k != "regions"}, ensure_ascii=False))


if __name__ == "__main__":
    main()
