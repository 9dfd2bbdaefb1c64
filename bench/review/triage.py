"""Triage speed: the open-review rules and detectors over many records.

    python bench/review/triage.py [--records 100000] [--workers 1]

Records come from ``bench/keyword/scale.py`` (~330 characters of real period text each —
晶報 1920–1939 and the CMRC/DRCD corpora from ../shared when present — with catalog fields),
every tenth given an ID number, a phone number and a sensitive sentence so the slow paths run
too. Times :func:`lantai.open_review.rules.assess` (every rule, every detector, title and full
text) for all of them, in one process or a pool. Run on a quiet machine.
"""

from __future__ import annotations

import argparse
import datetime
import os
import sys
import time
from concurrent.futures import ProcessPoolExecutor
from dataclasses import replace
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench" / "keyword"))

from scale import generate  # noqa: E402

from lantai.catalog.model import Record  # noqa: E402
from lantai.open_review.rules import assess, load_rules  # noqa: E402

TODAY = datetime.date(2026, 12, 4)
EXTRA = "另查職工王秀英因患肺結核住院，身份證11010519491231002X，聯繫電話13812345678。"


def records(n: int) -> list[Record]:
    out = []
    for i, record in enumerate(generate(n)):
        if i % 10 == 0:
            record = replace(record, pages=(record.pages[0] + EXTRA,))
        out.append(record)
    return out


def _chunk(batch: list[Record]) -> int:
    rules = load_rules()
    return sum(len(assess(r, rules, TODAY).findings) for r in batch)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--records", type=int, default=100_000)
    parser.add_argument("--workers", type=int, default=1)
    args = parser.parse_args()
    items = records(args.records)
    chars = sum(len(r.title) + sum(map(len, r.pages)) for r in items)
    _chunk(items[:20])  # load jieba's dictionary before timing
    print(f"load average {os.getloadavg()}; {len(items)} records, "
          f"{chars / len(items):.0f} characters each, {args.workers} worker(s)")
    started = time.perf_counter()
    if args.workers == 1:
        findings = _chunk(items)
    else:
        size = 2000
        with ProcessPoolExecutor(args.workers) as pool:
            findings = sum(pool.map(_chunk, [items[i:i + size]
                                             for i in range(0, len(items), size)]))
    seconds = time.perf_counter() - started
    print(f"{len(items) / seconds:.0f} records/s ({chars / seconds:.0f} characters/s), "
          f"{findings} findings, {seconds:.1f} s; load average {os.getloadavg()}")


if __name__ == "__main__":
    main()
