"""Split record text into ~256-character passages for dense retrieval.

Each passage remembers its page and its character offsets in that page's text, so a semantic hit
can open the record at the right page with the passage highlighted: ``pages[p.page][p.start:p.end]
== p.text`` always holds. Pages are never merged into one passage. A record with only catalog
metadata is passed in as one "page" (title + other fields) and yields one passage.

Cutting rule, greedy from the start of a page: if what is left fits in ``max_len`` it becomes the
last passage; otherwise the end is the strongest boundary between ``target / 2`` and ``max_len``
characters ahead, the one nearest ``target`` among equals. Strength, strongest first:

0. a paragraph break (a blank line);
1. a sentence end: 。！？；!?; (with any closing quotes or brackets after it), or ". ";
2. a clause mark ，、,：: or a single line break — the line breaks of OCR text and the 、 that
   Republican-era prints use for every pause are both weaker than a true sentence end;
3. other whitespace.

With no boundary in that window the passage is cut at ``target`` characters (Python strings index
code points, so this never splits a character). Leading and trailing whitespace is trimmed from
every passage; blank pages give no passages.

:func:`fold_for_embedding` prepares a passage or query for the embedder (NFKC, traditional →
simplified, OCR line breaks joined). It is deliberately small so it can later be replaced by the
shared analyzer's folding.
"""

from __future__ import annotations

import bisect
import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

__all__ = ["Passage", "fold_for_embedding", "split_passages"]

# (pattern, strength, cut at match start?) — see the module docstring
_BOUNDARIES: tuple[tuple[re.Pattern[str], int, bool], ...] = (
    (re.compile(r"\n[ \t\u3000\r]*\n"), 0, True),
    (re.compile(r"[。！？；!?;]+[」』”’）)\]】》〉\"']*"), 1, False),
    (re.compile(r"\.(?=\s)"), 1, False),
    (re.compile(r"[，、,：:]"), 2, False),
    (re.compile(r"\n"), 2, True),
    (re.compile(r"\s+"), 3, True),
)


@dataclass(frozen=True)
class Passage:
    """A stretch of one page: ``text == pages[page][start:end]``; ``index`` counts from 0."""

    index: int
    text: str
    page: int
    start: int
    end: int


def split_passages(pages: Sequence[str], *, target: int = 256, max_len: int = 384
                   ) -> list[Passage]:
    """Passages of about ``target`` characters, never longer than ``max_len``, page by page."""
    if target < 1 or max_len < target:
        raise ValueError(f"need 1 <= target <= max_len, got target={target}, max_len={max_len}")
    passages: list[Passage] = []
    for page_no, text in enumerate(pages):
        for start, end in _spans(text, target, max_len):
            passages.append(Passage(len(passages), text[start:end], page_no, start, end))
    return passages


def _spans(text: str, target: int, max_len: int) -> list[tuple[int, int]]:
    positions, strengths = _boundaries(text)
    spans = []
    pos = _skip_space(text, 0, len(text))
    while pos < len(text):
        if len(text) - pos <= max_len:
            cut = len(text)
        else:
            cut = _best_cut(positions, strengths, pos, target, max_len)
        end = _trim_end(text, pos, cut)
        if end > pos:
            spans.append((pos, end))
        pos = _skip_space(text, cut, len(text))
    return spans


def _boundaries(text: str) -> tuple[list[int], list[int]]:
    """Sorted cut positions and the strongest boundary strength at each."""
    best: dict[int, int] = {}
    for pattern, strength, at_start in _BOUNDARIES:
        for match in pattern.finditer(text):
            at = match.start() if at_start else match.end()
            if 0 < at < len(text) and strength < best.get(at, 99):
                best[at] = strength
    positions = sorted(best)
    return positions, [best[p] for p in positions]


def _best_cut(positions: list[int], strengths: list[int], pos: int, target: int, max_len: int
              ) -> int:
    lo = bisect.bisect_left(positions, pos + max(1, target // 2))
    hi = bisect.bisect_right(positions, pos + max_len)
    if lo >= hi:
        return pos + target
    ideal = pos + target
    best = min(range(lo, hi), key=lambda i: (strengths[i], abs(positions[i] - ideal)))
    return positions[best]


def _skip_space(text: str, pos: int, end: int) -> int:
    while pos < end and text[pos].isspace():
        pos += 1
    return pos


def _trim_end(text: str, start: int, end: int) -> int:
    while end > start and text[end - 1].isspace():
        end -= 1
    return end


_CJK_LINE_BREAK = re.compile(r"(?<=[^\x00-\x7f])[ \t]*\n\s*(?=[^\x00-\x7f])")
_OTHER_LINE_BREAK = re.compile(r"\s*\n\s*")


def fold_for_embedding(text: str) -> str:
    """Text as the embedder should see it: NFKC, simplified script, OCR line breaks joined.

    Folding to simplified measured better for e5 on traditional-script archives (the model saw
    far more simplified Chinese). A line break between two non-ASCII characters is an OCR or
    typesetting wrap inside a Chinese sentence and is removed; other line breaks become a space.
    """
    text = unicodedata.normalize("NFKC", text)
    text = _t2s().convert(text)
    text = _CJK_LINE_BREAK.sub("", text)
    return _OTHER_LINE_BREAK.sub(" ", text).strip()


@lru_cache(maxsize=1)
def _t2s() -> Any:
    import opencc

    return opencc.OpenCC("t2s")
