"""Simplified ⇄ traditional conversion of whole strings, for showing a query in both scripts
(matching itself folds per character in :mod:`lantai.text.analysis`)."""

from __future__ import annotations

from functools import lru_cache
from typing import Any


@lru_cache(maxsize=2)
def converter(config: str) -> Any:
    """The OpenCC converter ``t2s`` or ``s2t`` (loaded once)."""
    import opencc

    return opencc.OpenCC(config)


def both_scripts(text: str) -> tuple[str, str]:
    """(simplified, traditional) forms of ``text`` (phrase-aware OpenCC conversion)."""
    return converter("t2s").convert(text), converter("s2t").convert(text)
