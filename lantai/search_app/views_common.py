"""Small pieces the page and API views share: paging of browse views, labels of nodes."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from lantai.catalog.hierarchy import Level
from lantai.config import Settings
from lantai.search.backends.base import SearchBackend
from lantai.search.request import parse_paging

BROWSE_SIZE = 50


def browse_paging(args: Mapping[str, Any], settings: Settings) -> tuple[int, int]:
    """``page`` and ``size`` of a browse view (50 files a page unless asked)."""
    return parse_paging(args, settings.search, default_size=BROWSE_SIZE)


def split_path(path: str) -> tuple[str, ...]:
    """Node segments from a ``/browse/…`` tail (already percent-decoded by the server)."""
    return tuple(path.strip("/").split("/")) if path.strip("/") else ()


def crumbs(backend: SearchBackend, nodes: Sequence[str]) -> list[tuple[tuple[str, ...], str]]:
    """(path, label) of every node from the archive down to ``nodes``."""
    out = []
    for depth in range(1, len(nodes) + 1):
        if not nodes[depth - 1]:
            break
        out.append((tuple(nodes[:depth]),
                    backend.node_label(Level(depth), nodes[depth - 1])))
    return out
