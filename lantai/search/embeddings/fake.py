"""A deterministic, dependency-free embedder for tests.

Each text becomes a bag of character unigrams and bigrams hashed (blake2b, not Python's salted
``hash``) into ``dim`` signed buckets, then L2-normalised. The same text always gives the same
vector on every machine, and texts that share characters get a higher cosine than unrelated
ones, so ranking, fusion and "similar records" tests can assert orderings.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence

import numpy as np

from lantai.search.embeddings.base import Embedder, l2_normalize

DEFAULT_DIM = 64


class FakeEmbedder(Embedder):
    """Hashed character n-gram vectors; queries and documents are embedded alike."""

    def __init__(self, dim: int = DEFAULT_DIM) -> None:
        if dim < 2:
            raise ValueError(f"fake embedder dimension must be at least 2, got {dim}")
        self.dim = dim
        self.model_id = f"fake-char-ngram-v1/dim={dim}"

    def _embed_batch(self, texts: Sequence[str]) -> np.ndarray:
        return np.stack([self._vector(text) for text in texts])

    def embed_query(self, text: str) -> np.ndarray:
        return self._vector(text)

    def _vector(self, text: str) -> np.ndarray:
        vec = np.zeros(self.dim, dtype=np.float32)
        chars = text.lower()
        features = list(chars) + [chars[i : i + 2] for i in range(len(chars) - 1)]
        for feature in features or ["\0empty"]:
            digest = hashlib.blake2b(feature.encode("utf-8"), digest_size=8).digest()
            h = int.from_bytes(digest, "little")
            vec[h % self.dim] += 1.0 if (h >> 63) else -1.0
        if not vec.any():  # every feature cancelled out: still return a unit vector
            vec[0] = 1.0
        return l2_normalize(vec)
