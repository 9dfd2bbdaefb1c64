"""Batch throughput: N generated A4 pages through ``run_batch`` with the default engine.

    python bench/ocr/run_throughput.py --pages 12 --workers 2
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from pathlib import Path

from lantai.ocr.batch import run_batch

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))  # testkit/
from testkit.ocr_pages import PageSpec, find_cjk_font, render, write


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--pages", type=int, default=12)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--engine", default="ppocr")
    parser.add_argument("--dpi", type=int, default=150)
    args = parser.parse_args()
    font = find_cjk_font()
    with tempfile.TemporaryDirectory() as tmp:
        scans = Path(tmp) / "scans"
        for i in range(args.pages):
            direction = "horizontal" if i % 2 == 0 else "vertical"
            script = "simplified" if i % 4 < 2 else "traditional"
            spec = PageSpec(direction, script, "clean", seed=500 + i, dpi=args.dpi)
            write(render(spec, font), scans, f"X001-WS·1950-Y-{i:04d}")
        report = run_batch(
            [scans], Path(tmp) / "out", engine=args.engine, workers=args.workers, progress=False
        )
    print(json.dumps(report.to_dict(), ensure_ascii=False))


if __name__ == "__main__":
    main()
