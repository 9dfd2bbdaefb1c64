"""Load benchmark of the web front end on loopback: 50 concurrent Locust users against
``lantai serve`` (waitress) on an index of 100,000 generated records, and the core's own
latency for the same queries, so that the web layer's cost is visible.

    pip install locust      # not a dependency of Lantai
    python bench/web/run.py [--records 100000] [--users 50] [--seconds 60] [--keep DIR]

Bounded: one server on 127.0.0.1, ``--users`` users for ``--seconds`` seconds, then both stop.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import random
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "bench" / "keyword"))
from scale import query_mix  # noqa: E402

from lantai.config import load_settings  # noqa: E402
from lantai.search.backends import create_backend  # noqa: E402
from lantai.search.request import parse_search_params  # noqa: E402


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[max(0, int(len(ordered) * q) - 1)]


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--records", type=int, default=100_000)
    ap.add_argument("--users", type=int, default=50)
    ap.add_argument("--seconds", type=int, default=60)
    ap.add_argument("--threads", type=int, default=8, help="waitress threads")
    ap.add_argument("--keep", type=Path, help="index directory to keep and reuse")
    ap.add_argument("--out", type=Path, help="write the figures as JSON here")
    args = ap.parse_args()

    data_dir = args.keep or Path(tempfile.mkdtemp(prefix="lantai-web-"))
    if not (data_dir / "index.sqlite").exists():
        subprocess.run([sys.executable, str(ROOT / "bench/keyword/scale.py"), "--records",
                        str(args.records), "--queries", "20", "--keep", str(data_dir)],
                       check=True)
    settings = load_settings(environ={}, overrides={"data_dir": data_dir})
    work = Path(tempfile.mkdtemp(prefix="lantai-locust-"))
    queries = query_mix(300, seed=5)
    (work / "queries.txt").write_text("\n".join(queries), encoding="utf-8")
    with create_backend(settings, create=False) as backend:
        rng = random.Random(3)
        every = [r.archival_code for r in backend.iter_records()]
        codes = rng.sample(every, 1000)
        (work / "codes.txt").write_text("\n".join(codes), encoding="utf-8")
        # the core's own time for the same requests the search page makes
        core: list[float] = []
        for q in queries[:20]:
            backend.search(parse_search_params({"q": q}, settings.search))
        for q in queries:
            request = parse_search_params({"q": q}, settings.search)
            started = time.perf_counter()
            backend.search(request)
            core.append((time.perf_counter() - started) * 1000)
        records: list[float] = []
        for code in codes[:300]:
            started = time.perf_counter()
            backend.get(code)
            records.append((time.perf_counter() - started) * 1000)

    port = free_port()
    server = subprocess.Popen(
        [str(Path(sys.executable).parent / "lantai"), "--data-dir", str(data_dir), "serve",
         "--host", "127.0.0.1", "--port", str(port), "--threads", str(args.threads)],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        for _ in range(100):
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
                break
            except OSError:
                time.sleep(0.2)
        # warm every waitress thread (its SQLite connection, the analyzer) before timing
        import urllib.parse
        import urllib.request

        base = f"http://127.0.0.1:{port}"
        for q in queries[:3 * args.threads]:
            for path in ("/search?q=", "/api/v1/search?q="):
                urllib.request.urlopen(base + path + urllib.parse.quote(q), timeout=60).read()
        load_before = os.getloadavg()
        subprocess.run(
            [sys.executable, "-m", "locust", "-f", str(ROOT / "bench/web/locustfile.py"),
             "--headless", "-u", str(args.users), "-r", str(args.users), "-t",
             f"{args.seconds}s", "--host", f"http://127.0.0.1:{port}", "--csv",
             str(work / "out"), "--only-summary", "--stop-timeout", "10"],
            env={**os.environ, "LANTAI_BENCH_DIR": str(work)}, check=False, timeout=
            args.seconds + 120)
        load_after = os.getloadavg()
    finally:
        server.terminate()
        server.wait(timeout=30)

    stats = {}
    with open(work / "out_stats.csv", encoding="utf-8") as handle:
        for row in csv.DictReader(handle):
            stats[row["Name"]] = {
                "requests": int(row["Request Count"]), "failures": int(row["Failure Count"]),
                "p50_ms": float(row["50%"]), "p95_ms": float(row["95%"]),
                "p99_ms": float(row["99%"]), "rps": round(float(row["Requests/s"]), 1)}
    core_p95 = percentile(core, 0.95)
    figures = {
        "records": args.records, "users": args.users, "seconds": args.seconds,
        "threads": args.threads, "cpu_count": os.cpu_count(),
        "load_average_before": load_before, "load_average_after": load_after,
        "web": stats,
        "core_search_p50_ms": round(statistics.median(core), 1),
        "core_search_p95_ms": round(core_p95, 1),
        "core_get_p95_ms": round(percentile(records, 0.95), 2),
        "web_over_core_p95_search_page": round(stats["search page"]["p95_ms"] / core_p95, 2),
        "web_over_core_p95_api_search": round(stats["api search"]["p95_ms"] / core_p95, 2),
    }
    print(json.dumps(figures, ensure_ascii=False, indent=2))
    if args.out:
        args.out.write_text(json.dumps(figures, ensure_ascii=False, indent=2), encoding="utf-8")


if __name__ == "__main__":
    main()
