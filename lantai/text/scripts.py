"""Simplified ⇄ traditional conversion of whole strings, for showing a query in both scripts
(matching itself folds per character in :mod:`lantai.text.analysis`)."""

from __future__ import annotations

from functools import lru_cache
from typing import Any


@lru_cache(maxsize=2)
def _converter(config: str) -> Any:
    import opencc

    return opencc.OpenCC(config)


def both_scripts(text: str) -> tuple[str, str]:
    """(simplified, traditional) forms of ``text`` (phrase-aware OpenCC conversion)."""
    return _converter("t2s").convert(text), _converter("s2t").convert(text)
