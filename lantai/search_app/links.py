"""URLs of pages: search state lives in the query string, nodes and records in the path."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from urllib.parse import quote, urlencode

from werkzeug.datastructures import MultiDict


def with_args(base: str, args: MultiDict[str, str], *, add: Iterable[tuple[str, str]] = (),
              remove: Iterable[tuple[str, str]] = (), replace: dict[str, str | None] | None
              = None) -> str:
    """``base`` with the current ``args`` changed: pairs added or removed, keys replaced
    (``None`` drops the key)."""
    drop = set(remove)
    replace = replace or {}
    pairs = [(k, v) for k, v in args.items(multi=True)
             if (k, v) not in drop and k not in replace]
    pairs += [(k, v) for k, v in replace.items() if v is not None]
    pairs += [p for p in add if p not in pairs]
    return f"{base}?{urlencode(pairs)}" if pairs else base


def node_path(segments: Sequence[str]) -> str:
    """The ``/browse/…`` tail of a node: segments percent-encoded and joined by ``/``."""
    return "/".join(quote(s, safe="") for s in segments)

