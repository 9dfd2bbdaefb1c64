"""Snippets and hit highlighting in the *original* script, shared by every backend.

Matching happens on the folded, normalised text; :meth:`Analyzer.normalize_with_offsets` maps
each match back to the characters the document actually has, so a simplified query highlights
the traditional characters of a 1939 newspaper. Snippets are returned as segments
(text, is_hit) so the web layer escapes text and only adds ``<mark>`` itself.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from lantai.text.analysis import Analyzer


@dataclass(frozen=True)
class Snippet:
    """A fragment of a field with the hits marked."""

    segments: tuple[tuple[str, bool], ...]
    start: int  # offset of the fragment in the original text
    end: int
    page: int | None = None  # 1-based page of the fragment, when the text has pages

    @property
    def text(self) -> str:
        return "".join(text for text, _ in self.segments)

    def html(self, tag: str = "mark") -> str:
        """HTML with hits wrapped in ``tag``; all text escaped."""
        from html import escape

        return "".join(f"<{tag}>{escape(t)}</{tag}>" if hit else escape(t)
                       for t, hit in self.segments)


def find_hits(text: str, terms: Sequence[str], analyzer: Analyzer) -> list[tuple[int, int]]:
    """Sorted, merged (start, end) spans of ``terms`` (normalised strings) in original ``text``."""
    if not text or not terms:
        return []
    norm, offsets = analyzer.normalize_with_offsets(text)
    spans: list[tuple[int, int]] = []
    for term in {t for t in terms if t}:
        pos = norm.find(term)
        while pos != -1:
            start = offsets[pos]
            end = offsets[pos + len(term) - 1] + 1
            spans.append((start, end))
            pos = norm.find(term, pos + 1)
    spans.sort()
    merged: list[tuple[int, int]] = []
    for start, end in spans:
        if merged and start <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(end, merged[-1][1]))
        else:
            merged.append((start, end))
    return merged


def mark_spans(text: str, spans: Sequence[tuple[int, int]], page: int | None = None) -> Snippet:
    """The whole ``text`` with ``spans`` (any order, overlaps merged) marked."""
    merged: list[tuple[int, int]] = []
    for a, b in sorted(spans):
        if merged and a <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(b, merged[-1][1]))
        else:
            merged.append((a, b))
    return Snippet(_segments(text, 0, len(text), merged), 0, len(text), page)


def _segments(text: str, start: int, end: int, hits: list[tuple[int, int]]
              ) -> tuple[tuple[str, bool], ...]:
    segs: list[tuple[str, bool]] = []
    pos = start
    for hs, he in hits:
        if he <= start or hs >= end:
            continue
        hs, he = max(hs, start), min(he, end)
        if hs > pos:
            segs.append((text[pos:hs], False))
        segs.append((text[hs:he], True))
        pos = he
    if pos < end:
        segs.append((text[pos:end], False))
    return tuple(segs)


def highlight_all(text: str, terms: Sequence[str], analyzer: Analyzer) -> Snippet:
    """The whole text (a title, say) with every hit marked."""
    hits = find_hits(text, terms, analyzer)
    return Snippet(_segments(text, 0, len(text), hits), 0, len(text))


def best_snippets(
    text: str,
    terms: Sequence[str],
    analyzer: Analyzer,
    *,
    length: int = 120,
    count: int = 2,
    page_starts: Sequence[int] = (),
) -> tuple[Snippet, ...]:
    """Up to ``count`` non-overlapping windows covering the most distinct hit terms.

    Without hits, the opening of the text is returned (so a result always shows some text).
    """
    if not text:
        return ()
    hits = find_hits(text, terms, analyzer)
    if not hits:
        end = min(len(text), length)
        return (Snippet(((text[:end], False),), 0, end, _page(0, page_starts)),)
    norm_terms = [t for t in terms if t]
    chosen: list[tuple[int, int]] = []
    candidates = sorted(
        ((_window(text, hs, length), hs) for hs, _ in hits),
        key=lambda w: (-_coverage(text[w[0][0]:w[0][1]], norm_terms, analyzer), w[1]),
    )
    for (start, end), _ in candidates:
        if any(start < ce and end > cs for cs, ce in chosen):
            continue
        chosen.append((start, end))
        if len(chosen) == count:
            break
    chosen.sort()
    return tuple(Snippet(_segments(text, s, e, hits), s, e, _page(s, page_starts))
                 for s, e in chosen)


def _window(text: str, hit_start: int, length: int) -> tuple[int, int]:
    start = max(0, hit_start - length // 4)
    # start after a line or sentence break when one is near, for readable fragments
    for i in range(hit_start - 1, start - 1, -1):
        if text[i] in "\n。！？；!?":
            start = i + 1
            break
    end = min(len(text), start + length)
    return start, end


def _coverage(fragment: str, terms: Sequence[str], analyzer: Analyzer) -> int:
    norm = analyzer.normalize(fragment)
    return sum(1 for t in set(terms) if t in norm)


def _page(offset: int, page_starts: Sequence[int]) -> int | None:
    if not page_starts:
        return None
    page = 1
    for i, start in enumerate(page_starts):
        if start <= offset:
            page = i + 1
    return page


@dataclass(frozen=True)
class PageHits:
    """One page of a record's text with the hits of a query marked."""

    page: int  # 1-based
    text: Snippet  # the whole page, hits marked
    hits: int


def hits_in_pages(pages: Sequence[str], terms: Sequence[str], analyzer: Analyzer
                  ) -> tuple[PageHits, ...]:
    """Every page with the hits of ``terms`` marked and counted ("search in this record")."""
    out = []
    for number, text in enumerate(pages, start=1):
        spans = find_hits(text, terms, analyzer)
        out.append(PageHits(number, Snippet(_segments(text, 0, len(text), spans), 0, len(text),
                                            number), len(spans)))
    return tuple(out)
