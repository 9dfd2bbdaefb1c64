"""Build a theme's candidates from its queries: each record with a score and why it came.

Every keyword query of the theme runs as a search (public records only, unless a curator
previews), within the theme's period and filters; so do its semantic queries when the index has
vectors. A query's scores are scaled to its best hit, partial matches of a keyword query are
left out, and a record's score is the sum over the queries that found it (a record several
queries agree on rises), plus a raise for each of the theme's 主题词 it carries. Pinned
records are always in, excluded ones never.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from lantai.catalog.model import Record
from lantai.search.backends.base import Capability, SearchBackend, SearchMode, SearchRequest
from lantai.search.facets import Filters
from lantai.search.highlight import Snippet
from lantai.thematic_collections.themes import Theme

PER_QUERY = 100
SUBJECT_RAISE = 0.5


@dataclass
class Candidate:
    record: Record
    score: float = 0.0
    why: list[str] = field(default_factory=list)  # the queries and 主题词 that found it
    title: Snippet | None = None
    snippet: Snippet | None = None
    pinned: bool = False

    def to_dict(self) -> dict[str, object]:
        return {"archival_code": self.record.archival_code, "title": self.record.title,
                "date": self.record.date_text, "score": round(self.score, 4),
                "why": self.why, "pinned": self.pinned,
                "passage": self.snippet.text if self.snippet else ""}


def theme_filters(theme: Theme) -> Filters:
    start, end = theme.period or (None, None)
    return Filters(fonds=theme.filters.get("fonds", ()),
                   category=theme.filters.get("category", ()),
                   creator=theme.filters.get("creator", ()),
                   date_from=start * 10000 + 101 if start else None,
                   date_to=end * 10000 + 1231 if end else None)


def build(backend: SearchBackend, theme: Theme, *, public: bool = True, size: int = 60
          ) -> list[Candidate]:
    """The theme's best ``size`` candidates (pinned ones first), best first."""
    filters = theme_filters(theme)
    found: dict[str, Candidate] = {}
    runs: list[tuple[str, SearchMode | None]] = [(q, None) for q in theme.queries]
    if backend.has(Capability.VECTORS):
        runs += [(q, SearchMode.SEMANTIC) for q in theme.semantic]
    for query, mode in runs:
        result = backend.search(SearchRequest(query=query, filters=filters, size=PER_QUERY,
                                              facets=(), public=public,
                                              mode=mode or SearchMode.KEYWORD))
        if not result.hits:
            continue
        # a keyword query's partial matches (only some of its words) are not the theme
        hits = [h for h in result.hits if mode is not None or not h.partial]
        if not hits:
            continue
        best = max(h.score for h in hits) or 1.0
        for hit in hits:
            code = hit.record.archival_code
            candidate = found.setdefault(code, Candidate(hit.record, title=hit.title))
            candidate.score += hit.score / best
            candidate.why.append(query if mode is None else f"语义：{query}")
            if candidate.snippet is None and hit.snippets:
                candidate.snippet = hit.snippets[0]
    for candidate in found.values():
        shared = [s for s in candidate.record.subjects if s in theme.subjects]
        if shared:
            candidate.score += SUBJECT_RAISE * len(shared)
            candidate.why.extend(f"主题词：{s}" for s in shared)
    for code in theme.excluded:
        found.pop(code, None)
    ranked = sorted(found.values(), key=lambda c: (-c.score, c.record.archival_code))
    pinned = [Candidate(r, pinned=True, why=["固定收录"]) for r in
              backend.get_many(list(theme.pinned), public=public).values()]
    pinned_codes = {c.record.archival_code for c in pinned}
    return (pinned + [c for c in ranked if c.record.archival_code not in pinned_codes])[:size]
