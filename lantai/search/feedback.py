"""Pseudo-relevance feedback: words of the best records, searched again.

A historian who types 汉奸 does not know that the papers wrote 伪, 逆 or 维持会; the records
ranked first by hybrid search do. RM3-style feedback takes the words that characterise the top
``k`` records — frequent in them, rare in the archive — and searches them OR-style with the
query; that list joins the fusion with a low weight (``search.feedback_*`` settings, measured
in ``bench/semantic/README.md``).
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Callable, Sequence

from lantai.catalog.model import Record
from lantai.text.analysis import Analyzer

#: Characters of a record read for feedback words: the start of a long OCR record says what
#: it is about, and segmenting a whole volume would cost more than the search.
TEXT_CHARS = 2_000
#: Words in more than this share of the records say nothing about a topic.
MAX_DF_SHARE = 0.1


def feedback_words(
    top: Sequence[tuple[Record, float]], query_words: set[str], analyzer: Analyzer,
    df: Callable[[Sequence[str]], dict[str, int]], n_docs: int, count: int,
) -> list[str]:
    """The ``count`` best feedback words of ``top`` ((record, fused score), best first).

    Weight of a word: Σ over records of (its frequency in the record / the record's words) ×
    (the record's score / the best score), times its idf ``log(N / df)``. Words of the query,
    words in fewer than 2 records or in more than :data:`MAX_DF_SHARE` of them are left out.
    """
    if not top or count < 1 or n_docs < 1:
        return []
    best = max(score for _, score in top) or 1.0
    weights: dict[str, float] = {}
    for record, score in top:
        text = analyzer.normalize(record.title + "\n" + record.text[:TEXT_CHARS])
        words = Counter(w for w in analyzer.words_normalized(text)
                        if len(w) >= 2 and w not in query_words)
        length = sum(words.values())
        for word, tf in words.items():
            weights[word] = weights.get(word, 0.0) + tf / length * max(score, 0.0) / best
    if not weights:
        return []
    freq = df(list(weights))
    scored = []
    for word, weight in weights.items():
        n = freq.get(word, 0)
        if 2 <= n <= max(2, MAX_DF_SHARE * n_docs):
            scored.append((weight * math.log(n_docs / n), word))
    scored.sort(key=lambda x: (-x[0], x[1]))
    return [word for _, word in scored[:count]]
