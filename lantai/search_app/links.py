"""URLs of pages: search state lives in the query string, nodes and records in the path."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from urllib.parse import quote, unquote, urlencode

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



def record_url(code: str) -> str:
    """The record page's citable address: ``server.public_url`` when set, as people read it."""
    from flask import url_for

    from lantai.search_app import state

    path = url_for("records.record", code=code)
    base = state().settings.server.public_url.rstrip("/")
    url = (base + path) if base else url_for("records.record", code=code, _external=True)
    return _readable(url)


def iiif_base(code: str) -> str:
    """``…/iiif/<档号>``: the absolute prefix of a record's IIIF resources."""
    from flask import url_for

    from lantai.search_app import state

    base = state().settings.server.public_url.rstrip("/")
    if base:
        return base + url_for("iiif.manifest", code=code).removesuffix("/manifest.json")
    return url_for("iiif.manifest", code=code, _external=True).removesuffix("/manifest.json")


def _readable(url: str) -> str:
    """The URL as people read it (档号 with its own characters, an IRI), unless decoding
    would make it ambiguous (a space, #, ? or % in the 档号)."""
    decoded = unquote(url)
    return url if any(ch in decoded[len(url.split("/records/")[0]):] for ch in " #?%") \
        else decoded
