"""Precision and recall of the open-review detectors by kind, and their speed.

    python bench/review/run.py [--n 2000] [--seed 1]

Generates the labelled set (``generate.py``; a different seed is a different set), runs
:func:`lantai.open_review.detect.detect` on every text and compares with the labels: **strict**
(same kind, same start and end) and **overlap** (same kind, spans overlapping). Speed is texts
and characters a second, one process. Run on a quiet machine.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from generate import generate  # noqa: E402

from lantai.open_review.detect import KINDS, detect  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--n", type=int, default=2000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--out", type=Path, default=ROOT / "bench/review/results/run.json")
    parser.add_argument("--show", type=int, default=0, help="print this many misses per kind")
    args = parser.parse_args()
    items = generate(args.n, args.seed)
    print(f"load average {os.getloadavg()}; {len(items)} texts, seed {args.seed}")
    detect("张三因患肺结核住院。")  # loads jieba's dictionary: not part of the rate
    started = time.perf_counter()
    predicted = [detect(str(item["text"])) for item in items]
    seconds = time.perf_counter() - started
    chars = sum(len(str(item["text"])) for item in items)
    counts = {mode: Counter() for mode in ("strict", "overlap")}
    shown: Counter[str] = Counter()
    for item, flags in zip(items, predicted, strict=True):
        gold = [(str(lab["kind"]), int(lab["start"]), int(lab["end"]))
                for lab in item["labels"]]  # type: ignore[union-attr]
        found = [(f.kind, f.start, f.end) for f in flags]
        for mode in counts:
            def same(a: tuple[str, int, int], b: tuple[str, int, int], mode: str = mode
                     ) -> bool:
                if a[0] != b[0]:
                    return False
                return a[1:] == b[1:] if mode == "strict" else a[1] < b[2] and b[1] < a[2]

            for g in gold:
                hit = any(same(g, f) for f in found)
                counts[mode][(g[0], "tp" if hit else "fn")] += 1
                if not hit and mode == "overlap" and shown[g[0] + "fn"] < args.show:
                    shown[g[0] + "fn"] += 1
                    print("MISS", g, item["text"])
            for f in found:
                if not any(same(g, f) for g in gold):
                    counts[mode][(f[0], "fp")] += 1
                    if mode == "overlap" and shown[f[0] + "fp"] < args.show:
                        shown[f[0] + "fp"] += 1
                        print("FALSE", f, item["text"])
    table = {}
    for kind in KINDS:
        row = {}
        for mode, c in counts.items():
            tp, fp, fn = c[(kind, "tp")], c[(kind, "fp")], c[(kind, "fn")]
            row[mode] = {"precision": round(tp / (tp + fp), 3) if tp + fp else None,
                         "recall": round(tp / (tp + fn), 3) if tp + fn else None,
                         "gold": tp + fn}
        table[kind] = row
        s, o = row["strict"], row["overlap"]
        print(f"{kind:>15}: gold {s['gold']:5d}  strict P {s['precision']}  R {s['recall']}"
              f"   overlap P {o['precision']}  R {o['recall']}")
    speed = {"texts_per_s": round(len(items) / seconds), "chars_per_s": round(chars / seconds)}
    print(f"speed: {speed['texts_per_s']} texts/s, {speed['chars_per_s']} characters/s; "
          f"load average {os.getloadavg()}")
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps({"n": len(items), "seed": args.seed, "by_kind": table,
                                    "speed": speed}, indent=1), encoding="utf-8")


if __name__ == "__main__":
    main()
