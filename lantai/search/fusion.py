"""Fusion of lexical (BM25) and dense (vector) rankings — one place, every backend.

Elasticsearch's own hybrid retrievers need an Enterprise licence, so Lantai fuses result lists
itself, identically for the embedded and the Elasticsearch backends.

* ``weighted`` (default): min–max normalise each list's (non-increasing) scores to [0, 1],
  then ``w·lexical + (1 − w)·dense`` (a record missing from a list scores 0 there). ``w`` is
  0.4 for keyword-style queries and 0.7 for questions: the only setting measured at least as
  good as the better single mode on Jingbao, CMRC and DRCD (``bench/semantic/README.md``).
* ``rrf``: reciprocal rank fusion, ``Σ 1 / (k + rank)``.
"""

from __future__ import annotations

from collections.abc import Sequence
from enum import StrEnum

from lantai.errors import ConfigError


class FusionMethod(StrEnum):
    WEIGHTED = "weighted"
    RRF = "rrf"


def _normalised(ranked: Sequence[tuple[str, float]]) -> dict[str, float]:
    """Min–max normalised scores of a ranked list, made non-increasing first: a keyword list
    continues with partial matches scored by a different query, and their raw scores can
    exceed the last exact match's (measured on the Jingbao set: hybrid 0.514 → 0.665)."""
    if not ranked:
        return {}
    scores: list[float] = []
    for _, score in ranked:
        scores.append(min(score, scores[-1]) if scores else score)
    lo, hi = scores[-1], scores[0]
    if hi - lo < 1e-12:
        return {key: 1.0 for key, _ in ranked}
    return {key: (s - lo) / (hi - lo) for (key, _), s in zip(ranked, scores, strict=True)}


def fuse_weighted(lists: Sequence[tuple[Sequence[tuple[str, float]], float]]
                  ) -> list[tuple[str, float]]:
    """``Σ weight · normalised score`` over any number of ``(ranked list, weight)``."""
    combined: dict[str, float] = {}
    for ranked, weight in lists:
        for key, score in _normalised(ranked).items():
            combined[key] = combined.get(key, 0.0) + weight * score
    return sorted(combined.items(), key=lambda kv: (-kv[1], kv[0]))


def fuse(
    lexical: Sequence[tuple[str, float]],
    dense: Sequence[tuple[str, float]],
    *,
    method: str = "weighted",
    lexical_weight: float = 0.7,
    rrf_k: int = 60,
) -> list[tuple[str, float]]:
    """One ranking from two ``(key, score)`` lists, best first (ties broken by key)."""
    try:
        chosen = FusionMethod(method)
    except ValueError:
        raise ConfigError(
            f"setting 'search.fusion' must be weighted or rrf, got {method!r}") from None
    if chosen is FusionMethod.WEIGHTED:
        return fuse_weighted(((lexical, lexical_weight), (dense, 1.0 - lexical_weight)))
    combined: dict[str, float] = {}
    for ranked in (lexical, dense):
        for rank, (key, _) in enumerate(ranked, start=1):
            combined[key] = combined.get(key, 0.0) + 1.0 / (rrf_k + rank)
    return sorted(combined.items(), key=lambda kv: (-kv[1], kv[0]))
