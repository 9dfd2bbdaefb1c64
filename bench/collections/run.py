"""Theme builds: precision of each starter theme's top 20 on the demo archive, judged against
the demo generator's own topic labels, and build time at scale.

    python bench/collections/run.py [--records 2000] [--scale 100000]

The demo generator writes the topic each record was made from (``topics.csv``). Which demo
topics belong to which theme is written below (``RELEVANT``) by reading the topics' subjects in
``lantai/demo/data/fonds_*.toml`` — a judgement made once, by hand, before looking at any
build. A candidate is relevant when its topic is one of its theme's. With ``--scale N``, N
records of real period text (``bench/keyword/scale.py``) are indexed and every theme is built
on them, timed. Run on a quiet machine.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench" / "keyword"))

from lantai.config import load_settings  # noqa: E402
from lantai.demo import generate_sample_archive  # noqa: E402
from lantai.indexing.service import index_catalog, open_backend  # noqa: E402
from lantai.thematic_collections.builder import build  # noqa: E402
from lantai.thematic_collections.themes import load_themes  # noqa: E402

#: Demo topics (fonds:topic) that belong to each starter theme.
RELEVANT: dict[str, set[str]] = {
    "dangshi": {"X001:party_history", "X001:rectify_policy", "X025:patriotic",
                "X001:takeover"},
    "xinzhongguo": {"X001:takeover", "X001:kangmei", "X001:land_reform", "C038:recovery",
                    "X012:first_five_year", "X012:unified_purchase", "X012:annual_plan",
                    "X012:adjustment", "X001:transformation", "C038:joint_ownership",
                    "X025:literacy", "C038:night_school", "C038:emulation"},
    "gaigekaifang": {"X001:reform", "X012:reform_planning", "C038:enterprise_reform",
                     "X001:rectify_policy", "X025:schools"},
    "shehuizhuyi": {"X001:transformation", "C038:joint_ownership", "X012:unified_purchase",
                    "C038:emulation", "X012:first_five_year", "X012:adjustment",
                    "X001:land_reform"},
    "dongbei-kanglian": {"X001:party_history", "X025:patriotic"},
    "kangmei-yuanchao": {"X001:kangmei", "C038:recovery"},
    "liaoshen": {"X001:party_history", "X025:patriotic"},
    "leifeng": {"X025:patriotic"},
    "daqing": set(),
    "beidahuang": set(),
    "laogongye": {"C038:tech", "C038:emulation", "C038:recovery", "C038:enterprise_reform",
                  "C038:dahua_pre49", "C038:joint_ownership", "X012:first_five_year"},
}


def precision(records: int) -> dict[str, dict[str, float | int]]:
    work = Path(tempfile.mkdtemp(prefix="lantai-collections-bench-"))
    settings = load_settings(environ={}, overrides={"data_dir": work / "data"})
    sample = generate_sample_archive(work / "source", records)
    index_catalog(settings, sample.catalog_csv, text_dir=sample.text_dir, rebuild=True)
    with (work / "source" / "topics.csv").open(encoding="utf-8") as fh:
        topic = {row["档号"]: row["topic"] for row in csv.DictReader(fh)}
    out: dict[str, dict[str, float | int]] = {}
    with open_backend(settings) as backend:
        for slug, theme in load_themes().items():
            candidates = build(backend, theme, size=20)
            good = sum(topic.get(c.record.archival_code) in RELEVANT[slug] for c in candidates)
            out[slug] = {"candidates": len(candidates), "relevant": good,
                         "precision": round(good / len(candidates), 3) if candidates else None}
            print(f"{slug:>17}: top {len(candidates):2d}, relevant {good:2d}, precision "
                  f"{out[slug]['precision']}")
    return out


def scale(n: int) -> dict[str, float]:
    from scale import generate  # bench/keyword/scale.py

    work = Path(tempfile.mkdtemp(prefix="lantai-collections-scale-"))
    settings = load_settings(environ={}, overrides={"data_dir": work / "data"})
    started = time.perf_counter()
    with open_backend(settings, rebuild=True) as backend:
        backend.upsert(generate(n), batch_size=1000, workers=os.cpu_count() or 1)
    print(f"indexed {n} records in {time.perf_counter() - started:.0f} s")
    times: dict[str, float] = {}
    with open_backend(settings) as backend:
        for slug, theme in load_themes().items():
            build(backend, theme, size=20)  # warm the caches once
            runs = []
            for _ in range(3):
                t0 = time.perf_counter()
                build(backend, theme, size=20)
                runs.append(time.perf_counter() - t0)
            times[slug] = round(statistics.median(runs) * 1000, 1)
            print(f"{slug:>17}: {times[slug]:8.1f} ms (median of 3)")
    return times


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--records", type=int, default=2000)
    parser.add_argument("--scale", type=int, default=0)
    parser.add_argument("--out", type=Path, default=ROOT / "bench/collections/results/run.json")
    args = parser.parse_args()
    print(f"load average {os.getloadavg()}")
    result: dict[str, object] = {"records": args.records, "precision": precision(args.records)}
    if args.scale:
        result["scale"] = args.scale
        result["build_ms"] = scale(args.scale)
    print(f"load average {os.getloadavg()}")
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, ensure_ascii=False, indent=1), encoding="utf-8")


if __name__ == "__main__":
    main()
