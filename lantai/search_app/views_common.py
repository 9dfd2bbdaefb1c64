"""Small pieces the page and API views share: paging of browse views, labels of nodes."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any
from urllib.parse import unquote, urlsplit

from flask import request

from lantai.catalog.hierarchy import Level
from lantai.config import Settings
from lantai.search.backends.base import SearchBackend
from lantai.search.request import parse_paging

BROWSE_SIZE = 50


def browse_paging(args: Mapping[str, Any], settings: Settings) -> tuple[int, int]:
    """``page`` and ``size`` of a browse view (50 files a page unless asked)."""
    return parse_paging(args, settings.search, default_size=BROWSE_SIZE)


def split_path(path: str) -> tuple[str, ...]:
    """Node segments from the ``/browse/…`` tail of this request.

    The server hands the route a decoded path, in which a node name holding ``/`` (sent as
    ``%2F``) can no longer be told from two nodes; so the segments are read from the raw
    request URI when the server gives it (waitress, Werkzeug) and it decodes to the same
    path, else from the decoded path."""
    tail = path.strip("/")
    decoded = tuple(tail.split("/")) if tail else ()
    raw = urlsplit(request.environ.get("RAW_URI") or request.environ.get("REQUEST_URI")
                   or "").path
    if "%2f" not in raw.lower():
        return decoded
    parts = [unquote(p) for p in raw.strip("/").split("/")]
    head = (request.script_root + request.path[: len(request.path) - len(path)]).strip("/")
    segments = tuple(parts[len(head.split("/")) if head else 0:])
    return segments if "/".join(segments) == tail else decoded


def crumbs(backend: SearchBackend, nodes: Sequence[str]) -> list[tuple[tuple[str, ...], str]]:
    """(path, label) of every node from the archive down to ``nodes``."""
    out = []
    for depth in range(1, len(nodes) + 1):
        if not nodes[depth - 1]:
            break
        out.append((tuple(nodes[:depth]),
                    backend.node_label(Level(depth), nodes[depth - 1])))
    return out
