"""Any sentence-transformers model, by name (already in the Hugging Face cache) or local path.

This is the documented upgrade path for archives that have stronger model files, e.g.
``st:BAAI/bge-small-zh-v1.5`` or ``st:/models/bge-m3``. Models are opened with
``local_files_only=True``: Lantai never downloads, whatever ``HF_HUB_OFFLINE`` says. Query and
document prompts come from the model's own configuration (``encode_query`` /
``encode_document`` where sentence-transformers has them), so BGE's query instruction or e5's
prefixes apply without Lantai knowing about them.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from lantai.errors import ConfigError, require
from lantai.search.embeddings.base import Embedder, empty, l2_normalize


class SentenceTransformerEmbedder(Embedder):
    """A local sentence-transformers model on the CPU."""

    def __init__(self, name_or_path: str, *, device: str = "cpu") -> None:
        if not name_or_path:
            raise ConfigError("embedding model 'st:' needs a model name or path after the colon")
        st: Any = require(
            "sentence_transformers", "sentence-transformers", f"Embedding model 'st:{name_or_path}'"
        )
        try:
            self._model = st.SentenceTransformer(
                name_or_path, device=device, local_files_only=True
            )
        except Exception as exc:  # HF raises OSError, ValueError, its own errors...
            raise ConfigError(
                f"cannot load sentence-transformers model {name_or_path!r} from local files "
                f"(Lantai never downloads models; copy the model directory to this machine "
                f"and give its path): {exc}"
            ) from exc
        self.dim = int(self._model.get_sentence_embedding_dimension())
        self.model_id = f"st:{name_or_path}"

    def embed_documents(
        self, texts: Sequence[str], *, batch_size: int = 32, progress: bool = False
    ) -> np.ndarray:
        if not texts:
            return empty(self.dim)
        # sentence-transformers >= 5 applies the model's document / query prompts here
        encode = getattr(self._model, "encode_document", None) or self._model.encode
        vectors = encode(list(texts), batch_size=batch_size, show_progress_bar=progress,
                         convert_to_numpy=True, normalize_embeddings=True)
        return l2_normalize(vectors)

    def embed_query(self, text: str) -> np.ndarray:
        encode = getattr(self._model, "encode_query", None) or self._model.encode
        return l2_normalize(encode([text], convert_to_numpy=True, normalize_embeddings=True)[0])
