"""Search backends behind one contract; :func:`create_backend` picks one from settings."""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING

from lantai.errors import ConfigError

if TYPE_CHECKING:
    from lantai.config import Settings
    from lantai.search.backends.base import SearchBackend
    from lantai.search.embeddings.base import Embedder

#: backend name → "module:class"; modules are imported only when chosen.
BACKENDS: dict[str, str] = {
    "embedded": "lantai.search.backends.embedded:EmbeddedBackend",
    "elasticsearch": "lantai.search.backends.elasticsearch:ElasticsearchBackend",
}


def create_backend(settings: Settings, *, embedder: Embedder | None = None,
                   create: bool = True, for_rebuild: bool = False) -> SearchBackend:
    """Open the backend named by ``settings.backend``.

    ``create``: create an empty index when there is none (else
    :class:`~lantai.errors.Unavailable`). ``for_rebuild``: the caller is about to replace the
    whole index, so an index built by another version or configuration is accepted.
    With ``embedding.enabled`` (or an embedded index that holds vectors) the configured
    embedder is created and the backend checks it is the model the index was built with;
    pass ``embedder`` to supply one directly.
    """
    target = BACKENDS.get(settings.backend)
    if target is None:
        raise ConfigError(f"unknown backend {settings.backend!r}; choose from {sorted(BACKENDS)}")
    if embedder is None and (settings.embedding.enabled or _has_vectors(settings)):
        embedder = create_configured_embedder(settings)
    module_name, class_name = target.split(":")
    cls = getattr(importlib.import_module(module_name), class_name)
    backend: SearchBackend = cls(settings, embedder=embedder, create=create,
                                 for_rebuild=for_rebuild)
    return backend


def _has_vectors(settings: Settings) -> bool:
    """Whether the embedded index on disk was built with passage vectors (then searching it
    needs the embedder too, and the index checks it is the same model)."""
    import json
    from pathlib import Path

    meta = Path(settings.data_dir) / "index.json"
    if settings.backend != "embedded" or not meta.is_file():
        return False
    try:
        return "embedding" in json.loads(meta.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False


def create_configured_embedder(settings: Settings) -> Embedder:
    """The embedder named by ``embedding.model``, converted models cached in the data dir."""
    from pathlib import Path

    from lantai.search.embeddings import create_embedder

    threads = settings.embedding.threads or None
    return create_embedder(settings.embedding.model,
                           cache_dir=Path(settings.data_dir) / "models", threads=threads)
