"""Dense embeddings for semantic search: the contract, the implementations, the factory.

Import :class:`Embedder` and :func:`create_embedder` from here; implementations are loaded only
when a spec names them, so their optional dependencies stay optional.
"""

from lantai.search.embeddings.base import Embedder, l2_normalize
from lantai.search.embeddings.factory import create_embedder, known_specs

__all__ = ["Embedder", "create_embedder", "known_specs", "l2_normalize"]
