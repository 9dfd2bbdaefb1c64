"""Small pieces the page and API views share: paging of browse views, labels of nodes."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence

from lantai.catalog.hierarchy import Level
from lantai.config import Settings
from lantai.errors import BadQueryError
from lantai.search.backends.base import SearchBackend

BROWSE_SIZE = 50


def whole(args: Mapping[str, str], name: str, default: int, high: int) -> int:
    """A whole-number parameter between 1 and ``high`` (``BadQueryError`` naming it)."""
    text = (args.get(name) or "").strip()
    if not text:
        return default
    if not re.fullmatch(r"\d{1,9}", text) or not 1 <= int(text) <= high:
        raise BadQueryError(f"{name} must be a whole number between 1 and {high}", name)
    return int(text)


def browse_paging(args: Mapping[str, str], settings: Settings) -> tuple[int, int]:
    page = whole(args, "page", 1, settings.search.max_page)
    size = whole(args, "size", min(BROWSE_SIZE, settings.search.max_size),
                 settings.search.max_size)
    return page, size


def split_path(path: str) -> tuple[str, ...]:
    """Node segments from a ``/browse/…`` tail (already percent-decoded by the server)."""
    return tuple(path.strip("/").split("/")) if path.strip("/") else ()


def crumbs(backend: SearchBackend, settings: Settings, nodes: Sequence[str]
           ) -> list[tuple[tuple[str, ...], str]]:
    """(path, label) of every node from the archive down to ``nodes``."""
    out = []
    for depth in range(1, len(nodes) + 1):
        if not nodes[depth - 1]:
            break
        out.append((tuple(nodes[:depth]),
                    backend.node_label(Level(depth), nodes[depth - 1])))
    return out
