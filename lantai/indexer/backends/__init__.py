"""Search backends behind one contract; :func:`create_backend` picks one from settings."""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING

from lantai.errors import ConfigError

if TYPE_CHECKING:
    from lantai.config import Settings
    from lantai.indexer.backends.base import SearchBackend

#: backend name → "module:class"; modules are imported only when chosen.
BACKENDS: dict[str, str] = {
    "embedded": "lantai.indexer.backends.embedded:EmbeddedBackend",
    "elasticsearch": "lantai.indexer.backends.elasticsearch:ElasticsearchBackend",
}


def create_backend(settings: Settings, **kwargs: object) -> SearchBackend:
    """Open the backend named by ``settings.backend``."""
    target = BACKENDS.get(settings.backend)
    if target is None:
        raise ConfigError(f"unknown backend {settings.backend!r}; choose from {sorted(BACKENDS)}")
    module_name, class_name = target.split(":")
    cls = getattr(importlib.import_module(module_name), class_name)
    backend: SearchBackend = cls(settings, **kwargs)
    return backend
