"""The embedder contract every dense-vector model honours.

Documents and queries go through separate methods because retrieval models often embed them
differently (e5 prefixes ``passage: `` / ``query: ``, BGE prepends an instruction to queries).
Callers never add prefixes themselves. Every vector is float32 and L2-normalised, so a dot
product is a cosine.

``model_id`` is stored next to an index; a backend refuses to serve queries embedded by a model
whose id differs from the one that built it.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Iterator, Sequence

import numpy as np


class Embedder(ABC):
    """Turns passages and queries into L2-normalised float32 vectors of size ``dim``."""

    model_id: str
    dim: int

    def embed_documents(
        self, texts: Sequence[str], *, batch_size: int = 32, progress: bool = False
    ) -> np.ndarray:
        """Vectors for passages, shape ``(len(texts), dim)``, rows in input order.

        Batches ``texts`` (with a progress bar when asked) through :meth:`_embed_batch`;
        implementations whose library batches by itself override this instead.
        """
        if not texts:
            return empty(self.dim)
        out = np.empty((len(texts), self.dim), dtype=np.float32)
        for start, chunk in batched(texts, batch_size, progress=progress, desc="embedding"):
            out[start : start + len(chunk)] = self._embed_batch(chunk)
        return out

    def _embed_batch(self, texts: Sequence[str]) -> np.ndarray:
        """L2-normalised vectors of one batch of passages."""
        raise NotImplementedError(f"{type(self).__name__} must embed passages")

    @abstractmethod
    def embed_query(self, text: str) -> np.ndarray:
        """The vector of one search query, shape ``(dim,)``."""

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.model_id!r}, dim={self.dim})"


def l2_normalize(vectors: np.ndarray) -> np.ndarray:
    """Rows scaled to unit length, as float32; an all-zero row stays zero instead of NaN."""
    vectors = np.asarray(vectors, dtype=np.float32)
    norms = np.linalg.norm(vectors, axis=-1, keepdims=True)
    normalized: np.ndarray = (vectors / np.maximum(norms, 1e-12)).astype(np.float32, copy=False)
    return normalized


def batched(texts: Sequence[str], batch_size: int, *, progress: bool, desc: str
            ) -> Iterator[tuple[int, Sequence[str]]]:
    """``(start, chunk)`` pairs over ``texts``, with a tqdm bar when ``progress`` is set."""
    if batch_size < 1:
        raise ValueError(f"batch_size must be at least 1, got {batch_size}")
    bar = None
    if progress:
        from tqdm import tqdm

        bar = tqdm(total=len(texts), desc=desc, unit="passage")
    try:
        for start in range(0, len(texts), batch_size):
            chunk = texts[start : start + batch_size]
            yield start, chunk
            if bar is not None:
                bar.update(len(chunk))
    finally:
        if bar is not None:
            bar.close()


def empty(dim: int) -> np.ndarray:
    """A ``(0, dim)`` float32 array, the result of embedding no texts."""
    return np.zeros((0, dim), dtype=np.float32)
