"""Hierarchy browse benchmark: one fonds of 100,000 files, browsed the way the record pages'
context tree and the /fonds pages will browse it.

The archive: fonds ``A100`` with 20 目录 × 250 案卷 × 20 件 (volume-based 档号
``A100-007-0123-15``, 100,000 files) and fonds ``B200`` of file-based 档号
(``B200-WS·1987-Y-0042``: 40 年度 groups × 500 件, 20,000 files); 85 % of files are 开放.
Records carry a title and one short page of text, so the index has the usual shape.

Timed (each call many times, public and staff): the root, the archive (its fonds with
counts), the 100k fonds (its 20 目录 with counts), one 目录 (250 案卷), one 案卷 (its 20 件),
a 年度 group's 500 件 in pages of 50 (first and last page).

    python bench/hierarchy/browse.py [--files 100000] [--repeat 200] [--backend embedded]
"""

from __future__ import annotations

import argparse
import json
import os
import random
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path

from lantai.catalog.model import OpenStatus, Record
from lantai.config import load_settings
from lantai.search.backends import create_backend
from lantai.search.backends.base import SearchBackend


def archive(files: int, seed: int = 7) -> Iterator[Record]:
    rng = random.Random(seed)
    per_volume, volumes = 20, 250
    series = max(1, files // (per_volume * volumes))
    for s in range(1, series + 1):
        for v in range(1, volumes + 1):
            for i in range(1, per_volume + 1):
                yield _record(f"A100-{s:03d}-{v:04d}-{i:02d}", "A100", rng)
    for year in range(1960, 2000):
        for i in range(1, 501):
            yield _record(f"B200-WS·{year}-Y-{i:04d}", "B200", rng)


def _record(code: str, fonds: str, rng: random.Random) -> Record:
    status = OpenStatus.OPEN if rng.random() < 0.85 else OpenStatus.CONTROLLED
    return Record(archival_code=code, title=f"关于{rng.choice('甲乙丙丁戊己庚辛')}项工作的报告",
                  fonds=fonds, open_status=status, year=1950 + rng.randrange(50),
                  pages=(f"{code} 正文：本件记载{rng.choice(['生产', '救济', '教育', '交通'])}"
                         "事项，请予备案。",))


def timed(fn: Callable[[], object], repeat: int) -> dict[str, float]:
    fn()  # warm
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        times.append((time.perf_counter() - t0) * 1000)
    times.sort()
    return {"p50_ms": round(statistics.median(times), 2),
            "p95_ms": round(times[int(len(times) * 0.95) - 1], 2),
            "max_ms": round(times[-1], 2)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--files", type=int, default=100_000, help="files in fonds A100")
    parser.add_argument("--repeat", type=int, default=200)
    parser.add_argument("--backend", default="embedded")
    parser.add_argument("--keep", type=Path, help="index folder to keep (and reuse)")
    parser.add_argument("--out", type=Path, help="write the figures as JSON here")
    args = parser.parse_args()

    folder = args.keep or Path(tempfile.mkdtemp(prefix="lantai-browse-"))
    settings = load_settings(environ={k: v for k, v in os.environ.items()
                                      if k.startswith("LANTAI_")},
                             overrides={"data_dir": folder, "backend": args.backend})
    backend: SearchBackend = create_backend(settings)
    figures: dict[str, object] = {"backend": args.backend, "files_in_fonds": args.files,
                                  "load_average": os.getloadavg()}
    if backend.count(public=False) == 0:
        t0 = time.perf_counter()
        report = backend.upsert(archive(args.files), batch_size=2000,
                                workers=os.cpu_count() or 1)
        figures["index_s"] = round(time.perf_counter() - t0, 1)
        figures["indexed"] = report.indexed
    total = backend.count(public=False)
    print(f"{total} records ({backend.count()} public) in {folder}", file=sys.stderr)
    calls: dict[str, Callable[[bool], object]] = {
        "root": lambda pub: backend.browse((), public=pub),
        "archive (fonds with counts)": lambda pub: backend.browse(("local",), public=pub),
        "fonds of 100k (目录 with counts)": lambda pub: backend.browse(("local", "A100"),
                                                                     public=pub),
        "目录 (250 案卷 with counts)": lambda pub: backend.browse(("local", "A100", "001"),
                                                             public=pub),
        "案卷 (20 件)": lambda pub: backend.browse(("local", "A100", "001", "0123"),
                                                  public=pub),
        "年度 group, page 1 of 50": lambda pub: backend.browse(
            ("local", "B200", "WS·1987·Y"), public=pub, page=1, size=50),
        "年度 group, last page": lambda pub: backend.browse(
            ("local", "B200", "WS·1987·Y"), public=pub, page=10, size=50),
    }
    rows = {}
    for name, call in calls.items():
        for public in (True, False):
            key = f"{name} [{'public' if public else 'staff'}]"
            rows[key] = timed(lambda c=call, p=public: c(p), args.repeat)
            print(f"{key:<48} p50 {rows[key]['p50_ms']:>7.2f} ms  "
                  f"p95 {rows[key]['p95_ms']:>7.2f} ms")
    figures["browse"] = rows
    figures["load_average_after"] = os.getloadavg()
    print(f"load average before {figures['load_average']}, after {figures['load_average_after']}")
    if args.out:
        args.out.write_text(json.dumps(figures, ensure_ascii=False, indent=2), encoding="utf-8")
    backend.close()


if __name__ == "__main__":
    main()
