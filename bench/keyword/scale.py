"""Scale benchmark of the keyword engine: indexing throughput, query latency, disk size.

Generates N catalog records of ~1 KB text by recombining sentences of real Chinese text
(../shared corpora when present: Jingbao 1920–1939 newspaper, CMRC, DRCD; else the demo
vocabulary), indexes them with the configured backend and times a fixed query mix.

    python bench/keyword/scale.py --records 100000 [--workers 2] [--queries 300]
"""

from __future__ import annotations

import argparse
import json
import os
import random
import re
import resource
import shutil
import statistics
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

from lantai.catalog.model import OpenStatus, Record
from lantai.config import load_settings
from lantai.search.backends import create_backend
from lantai.search.backends.base import SearchRequest

SHARED = Path(__file__).resolve().parents[3] / "shared" / "data"
FONDS = [f"J{n:03d}" for n in range(1, 13)] + [f"X{n:03d}" for n in range(1, 13)]


def sentences() -> list[str]:
    texts: list[str] = []
    for rel in ("corpus/ecpo_jingbao/corpus.jsonl", "retrieval/cmrc2018/corpus.jsonl",
                "retrieval/drcd/corpus.jsonl"):
        path = SHARED / rel
        if path.is_file():
            texts.extend(json.loads(line)["text"] for line in path.open(encoding="utf-8"))
    if not texts:
        sys.exit("this benchmark needs ../shared/data (real text to recombine)")
    out = [s for t in texts for s in re.split(r"(?<=[。！？；])", t) if len(s) >= 8]
    return out


def generate(n: int, seed: int = 1) -> Iterator[Record]:
    rnd = random.Random(seed)
    pool = sentences()
    for i in range(n):
        parts: list[str] = []
        while sum(map(len, parts)) < 330:  # ~330 CJK chars ≈ 1 KB of UTF-8
            parts.append(rnd.choice(pool))
        text = "".join(parts)
        year = rnd.randint(1912, 1999)
        fonds = rnd.choice(FONDS)
        yield Record(
            archival_code=f"{fonds}-WS·{year}-Y-{i:07d}", title=rnd.choice(pool)[:30],
            fonds=fonds, category=rnd.choice(["文书", "文书", "文书", "科技", "会计"]),
            year=year, date_start=year * 10000 + 101, date_end=year * 10000 + 1231,
            creator=rnd.choice(["市政府", "市委", "计委", "文教局", "救济委员会"]),
            retention=rnd.choice(["永久", "长期", "短期"]),
            open_status=OpenStatus.OPEN if rnd.random() < 0.85 else OpenStatus.CONTROLLED,
            pages=(text,),
        )


def query_mix(count: int, seed: int = 2) -> list[str]:
    """Historian-like queries: 1–3 words that occur in the corpus (jieba words of 2–4
    characters drawn from real sentences), some with a year range, some full questions."""
    from lantai.text.analysis import default_analyzer

    rnd = random.Random(seed)
    pool = sentences()
    analyzer = default_analyzer()
    queries: list[str] = []
    while len(queries) < count:
        sentence = rnd.choice(pool)
        words = [w for w in analyzer.cut(sentence) if 2 <= len(w) <= 4
                 and re.fullmatch(r"[\u4e00-\u9fff]+", w)]
        if not words:
            continue
        kind = rnd.random()
        if kind < 0.45:
            queries.append(rnd.choice(words))
        elif kind < 0.75:
            queries.append(" ".join(rnd.sample(words, min(len(words), rnd.choice([2, 3])))))
        elif kind < 0.9:
            queries.append(f"{rnd.choice(words)} 1930..1949")
        else:
            text = re.sub(r"[^\u4e00-\u9fff]", "", sentence)
            if len(text) >= 12:
                queries.append(text[:rnd.randint(12, 24)] + "？")
    return queries


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--records", type=int, default=100_000)
    ap.add_argument("--queries", type=int, default=300)
    ap.add_argument("--workers", type=int, default=os.cpu_count() or 1)
    ap.add_argument("--keep", type=Path, help="index directory to keep (default: temporary)")
    args = ap.parse_args()
    data_dir = args.keep or Path(tempfile.mkdtemp(prefix="lantai-scale-"))
    settings = load_settings(environ={}, overrides={"data_dir": data_dir})
    text_bytes = 0

    def records() -> Iterator[Record]:  # streamed: a million records never sit in memory
        nonlocal text_bytes
        for record in generate(args.records):
            text_bytes += len(record.text.encode())
            yield record

    backend = create_backend(settings)
    started = time.perf_counter()
    cpu_main = time.process_time()
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    backend.upsert(records(), batch_size=1000, workers=args.workers)
    index_s = time.perf_counter() - started
    cpu_main = time.process_time() - cpu_main
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu_workers = (after.ru_utime + after.ru_stime) - (children.ru_utime + children.ru_stime)
    opt_started = time.perf_counter()
    if hasattr(backend, "optimize"):
        backend.optimize()
    optimize_s = time.perf_counter() - opt_started
    size = sum(p.stat().st_size for p in Path(data_dir).glob("index.sqlite*"))
    queries = query_mix(args.queries)
    for q in queries[:20]:  # warm the page cache
        backend.search(SearchRequest(q))
    times = []
    cpu_times = []
    totals = []
    for q in queries:
        t = time.perf_counter()
        c = time.process_time()
        result = backend.search(SearchRequest(q))
        cpu_times.append((time.process_time() - c) * 1000)
        times.append((time.perf_counter() - t) * 1000)
        totals.append(result.total)
    times.sort()
    cpu_times.sort()
    report = {
        "records": args.records, "mean_text_bytes": round(text_bytes / args.records),
        "index_seconds": round(index_s, 1), "records_per_second": round(args.records / index_s),
        "optimize_seconds": round(optimize_s, 1), "disk_mb": round(size / 1e6, 1),
        "queries": len(queries), "p50_ms": round(statistics.median(times), 1),
        "p95_ms": round(times[int(0.95 * len(times))], 1), "max_ms": round(times[-1], 1),
        "cpu_p50_ms": round(statistics.median(cpu_times), 1),
        "cpu_p95_ms": round(cpu_times[int(0.95 * len(cpu_times))], 1),
        "writer_cpu_ms_per_record": round(cpu_main * 1000 / args.records, 3),
        "analysis_cpu_ms_per_record": round(cpu_workers * 1000 / args.records, 3),
        "median_hits": statistics.median(totals), "cpu_count": os.cpu_count(),
        "workers": args.workers, "load_avg_1m": round(os.getloadavg()[0], 1),
    }
    print(json.dumps(report, ensure_ascii=False))
    backend.close()
    if args.keep is None:
        shutil.rmtree(data_dir, ignore_errors=True)


if __name__ == "__main__":
    main()
