"""The typed contract every search backend honours.

The web app, theme collections and the review queue import only this module. A backend stores
:class:`Record` values and answers :class:`SearchRequest` with :class:`SearchResult`; the
behaviour that must be identical everywhere lives here, not in the implementations:

* the **public gate**: a public request (the default) only ever sees records whose 开放标识 is
  开放 — in hits, totals, facet counts, snippets and :meth:`SearchBackend.get`;
* paging limits and parameter validation (``BadQueryError`` naming the parameter);
* query parsing (:mod:`lantai.search.query`) and snippets (:mod:`lantai.search.highlight`).

Implementations provide the ``_``-prefixed primitives.
"""

from __future__ import annotations

import dataclasses
import time
from abc import ABC, abstractmethod
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import TYPE_CHECKING, Any, ClassVar

import numpy as np

from lantai.catalog.model import OpenStatus, Record
from lantai.config import Settings
from lantai.errors import BadQueryError, RecordNotFound
from lantai.search.highlight import Snippet, best_snippets, highlight_all
from lantai.search.query import QueryPlan, parse_query
from lantai.text.analysis import Analyzer, default_analyzer

if TYPE_CHECKING:
    from lantai.search.embeddings.base import Embedder

#: Index layout version; bump on any change to what is stored.
SCHEMA_VERSION = 3


class SearchMode(StrEnum):
    KEYWORD = "keyword"
    SEMANTIC = "semantic"
    HYBRID = "hybrid"


class SortOrder(StrEnum):
    RELEVANCE = "relevance"
    DATE = "date"
    DATE_DESC = "-date"
    CODE = "code"


#: Facets a public search returns, in display order (全宗, 年代, 门类, 责任者).
DEFAULT_FACETS: tuple[str, ...] = ("fonds", "decade", "category", "creator")
#: Partial matches fill pages only up to this rank (deeper paging shows exact matches only).
PARTIAL_FILL_LIMIT = 1000
#: Every facet a backend must support (staff views add retention and open status).
FACET_FIELDS: tuple[str, ...] = (*DEFAULT_FACETS, "year", "retention", "open_status")


@dataclass(frozen=True)
class Filters:
    """Structured filters; values inside one field are OR-ed, fields are AND-ed."""

    fonds: tuple[str, ...] = ()
    category: tuple[str, ...] = ()
    year: tuple[int, ...] = ()
    decade: tuple[int, ...] = ()
    creator: tuple[str, ...] = ()
    retention: tuple[str, ...] = ()
    open_status: tuple[OpenStatus, ...] = ()
    archival_code: tuple[str, ...] = ()
    date_from: int | None = None  # yyyymmdd, inclusive; overlaps the record's date range
    date_to: int | None = None

    def merged_with_plan(self, plan: QueryPlan) -> Filters:
        """Add the filters written inside the query text (全宗:J001, 1937..1945)."""
        changes: dict[str, Any] = {}
        for key, values in plan.filters.items():
            if key == "year":
                years = tuple(int(v) for v in values if v.isdigit())
                changes["year"] = self.year + years
            else:
                changes[key] = getattr(self, key) + tuple(values)
        if plan.year_from is not None:
            date_from = plan.year_from * 10000 + 101
            changes["date_from"] = max(self.date_from or 0, date_from)
        if plan.year_to is not None:
            date_to = plan.year_to * 10000 + 1231
            changes["date_to"] = min(self.date_to or 99991231, date_to)
        return dataclasses.replace(self, **changes) if changes else self


@dataclass(frozen=True)
class SearchRequest:
    """One search. ``public`` defaults to True: staff views must ask for more explicitly."""

    query: str = ""
    filters: Filters = field(default_factory=Filters)
    sort: SortOrder = SortOrder.RELEVANCE
    page: int = 1
    size: int = 20
    facets: tuple[str, ...] = DEFAULT_FACETS
    facet_size: int = 20
    mode: SearchMode | None = None  # None: hybrid when the index has vectors, else keyword
    public: bool = True
    snippets: bool = True


@dataclass(frozen=True)
class FacetValue:
    value: str
    count: int
    label: str


@dataclass(frozen=True)
class Hit:
    record: Record
    score: float
    title: Snippet
    snippets: tuple[Snippet, ...] = ()
    partial: bool = False  # matches only some of the query's terms

    @property
    def record_id(self) -> str:
        return self.record.archival_code


@dataclass(frozen=True)
class SearchResult:
    total: int
    hits: tuple[Hit, ...]
    facets: dict[str, tuple[FacetValue, ...]]
    page: int
    size: int
    plan: QueryPlan
    relaxed: bool = False  # the ranking continues with records having only some terms
    exact_total: int = 0  # how many records have every term (the rest of ``total`` is partial)
    took_ms: float = 0.0


@dataclass(frozen=True)
class IndexReport:
    """Outcome of a batch write: how many records went in, and which failed and why."""

    indexed: int = 0
    deleted: int = 0
    failed: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True)
class RawHits:
    """What a backend's primitive search returns; the base class builds hits from it."""

    total: int
    scored: list[tuple[Record, float]]
    facets: dict[str, list[tuple[str, int]]]


@dataclass(frozen=True)
class PassageVectors:
    """A record's passages and their vectors, computed once by the base class for every
    backend (same splitting, folding and model everywhere)."""

    pages: tuple[int, ...]  # 0-based page of each passage
    starts: tuple[int, ...]  # offset of each passage in its page
    ends: tuple[int, ...]
    vectors: np.ndarray  # float32 (n, dim), L2-normalised


@dataclass(frozen=True)
class VectorHit:
    """A record found by a passage vector; the passage locates the hit in the text."""

    record: Record
    score: float  # cosine similarity of the best passage
    page: int  # 0-based page of that passage
    start: int
    end: int


class SearchBackend(ABC):
    """Base class of every backend. Public methods are final; override the primitives."""

    name: ClassVar[str]

    def __init__(self, settings: Settings, analyzer: Analyzer | None = None,
                 embedder: Embedder | None = None) -> None:
        self.settings = settings
        self.analyzer = analyzer or default_analyzer()
        self.embedder = embedder

    # -- writing -------------------------------------------------------------------------
    @abstractmethod
    def upsert(self, records: Iterable[Record], *, batch_size: int = 500,
               workers: int = 1) -> IndexReport:
        """Insert or replace records by 档号; each batch commits atomically.

        ``workers`` > 1 lets a backend analyse text in parallel processes.
        """

    @abstractmethod
    def delete(self, archival_codes: Sequence[str]) -> int:
        """Remove records; returns how many existed."""

    # -- reading -------------------------------------------------------------------------
    def get(self, archival_code: str, *, public: bool = True) -> Record:
        """The record, or :class:`RecordNotFound` (also for a non-open record when public)."""
        record = self._get(archival_code)
        if record is None or (public and not record.is_public):
            raise RecordNotFound(archival_code)
        return record

    def count(self, *, public: bool = True) -> int:
        """Number of records a caller may see."""
        return self._count(OpenStatus.OPEN if public else None)

    def search(self, request: SearchRequest) -> SearchResult:
        """Run a search with validated paging and the public gate applied."""
        started = time.perf_counter()
        request = self._validated(request)
        plan = parse_query(request.query, self.analyzer,
                           and_max_terms=self.settings.search.and_max_terms)
        filters = request.filters.merged_with_plan(plan)
        if request.public:
            filters = dataclasses.replace(filters, open_status=(OpenStatus.OPEN,))
        request = dataclasses.replace(request, filters=filters)
        if request.mode in (SearchMode.SEMANTIC, SearchMode.HYBRID):
            return self._vector_search(request, plan, started)
        raw = self._search(request, plan)
        scored = [(record, score, plan) for record, score in raw.scored]
        facets_raw, total, exact_total = raw.facets, raw.total, raw.total
        loose = plan.relaxed(self.analyzer) if request.mode is SearchMode.KEYWORD else None
        page_end = request.page * request.size
        if loose is not None and raw.total < page_end <= PARTIAL_FILL_LIMIT:
            # Fewer records have every term than this page needs: complete the ranking with
            # records that have only some of them, after all the exact matches.
            partial = self._partial(request, plan, loose, raw)
            scored.extend((record, score, loose) for record, score in partial.scored)
            total = exact_total + partial.total
            if exact_total == 0:
                facets_raw = partial.facets
        hits = tuple(self._hit(record, score, used, request, partial=used is not plan)
                     for record, score, used in scored)
        facets = {name: tuple(FacetValue(v, c, self._facet_label(name, v)) for v, c in values)
                  for name, values in facets_raw.items()}
        return SearchResult(
            total=total, hits=hits, facets=facets, page=request.page, size=request.size,
            plan=plan, relaxed=total > exact_total, exact_total=exact_total,
            took_ms=(time.perf_counter() - started) * 1000,
        )

    def _partial(self, request: SearchRequest, plan: QueryPlan, loose: QueryPlan,
                 exact: RawHits) -> RawHits:
        """Records matching ``loose`` but not ``plan``, for the rest of the requested page."""
        page_start = (request.page - 1) * request.size
        exact_codes = {record.archival_code for record, _ in exact.scored}
        if exact.total > len(exact.scored) or request.page > 1:
            everything = self._search(dataclasses.replace(
                request, page=1, size=max(exact.total, 1), facets=()), plan)
            exact_codes = {record.archival_code for record, _ in everything.scored}
        wanted = dataclasses.replace(request, page=1, size=page_start + request.size
                                     + len(exact_codes),
                                     facets=request.facets if not exact_codes else ())
        found = self._search(wanted, loose)
        rest = [(r, s) for r, s in found.scored if r.archival_code not in exact_codes]
        skip = max(0, page_start - exact.total)
        fill = request.size - len(exact.scored)
        return RawHits(total=max(0, found.total - len(exact_codes)),
                       scored=rest[skip:skip + fill], facets=found.facets)

    # -- semantic and hybrid ---------------------------------------------------------------
    def embed_records(self, records: Sequence[Record]) -> list[PassageVectors]:
        """Passages and vectors of each record (empty when no embedder is configured).

        Text is split along paragraphs and sentences into ~``embedding.passage_chars``
        characters, each passage remembering its page; a record without text gets one passage
        from its catalog description. Text is folded to simplified before embedding.
        """
        from lantai.indexing.passages import fold_for_embedding, split_passages

        if self.embedder is None:
            return []
        target = self.settings.embedding.passage_chars
        layouts = []
        texts: list[str] = []
        for record in records:
            pages = record.pages if any(p.strip() for p in record.pages) else (
                _description(record),)
            passages = split_passages(pages, target=target, max_len=target * 3 // 2)
            if not passages:
                passages = split_passages((record.archival_code,), target=target)
            prefix = record.title + "\n" if record.pages else ""
            layouts.append(passages)
            texts.extend(fold_for_embedding(prefix + p.text) for p in passages)
        matrix = self.embedder.embed_documents(texts) if texts else np.zeros((0, 0), "float32")
        out: list[PassageVectors] = []
        row = 0
        for passages in layouts:
            n = len(passages)
            out.append(PassageVectors(
                pages=tuple(p.page for p in passages), starts=tuple(p.start for p in passages),
                ends=tuple(p.end for p in passages), vectors=matrix[row:row + n]))
            row += n
        return out

    def similar(self, archival_code: str, *, k: int = 10, public: bool = True) -> list[Record]:
        """Records whose passages are closest to this record's (for the record page)."""
        record = self.get(archival_code, public=public)
        vectors = self._record_vectors(record.archival_code)
        if vectors is None or len(vectors) == 0:
            return []
        query = vectors.mean(axis=0)
        query = query / (np.linalg.norm(query) or 1.0)
        filters = Filters(open_status=(OpenStatus.OPEN,)) if public else Filters()
        request = SearchRequest(filters=filters, public=public, size=k + 1)
        hits = self._knn(request, QueryPlan(raw=""), query.astype("float32"), k + 1)
        return [h.record for h in hits if h.record.archival_code != archival_code][:k]

    def _vector_search(self, request: SearchRequest, plan: QueryPlan,
                       started: float) -> SearchResult:
        from lantai.indexing.passages import fold_for_embedding
        from lantai.search.fusion import fuse

        assert self.embedder is not None
        limits = self.settings.search
        page_start = (request.page - 1) * request.size
        page_end = page_start + request.size
        text = _plan_text(plan)
        if not text:  # nothing to embed (filters only): browse like keyword search
            return self.search(dataclasses.replace(request, mode=SearchMode.KEYWORD))
        vector = self.embedder.embed_query(fold_for_embedding(text))
        depth = max(limits.candidates, page_end)
        dense = self._knn(request, plan, vector, depth)
        by_code: dict[str, Record] = {h.record.archival_code: h.record for h in dense}
        passages = {h.record.archival_code: h for h in dense}
        facets_raw: dict[str, list[tuple[str, int]]] = {}
        if request.mode is SearchMode.SEMANTIC:
            ranked = [(h.record.archival_code, h.score) for h in dense]
            total = len(ranked)
        else:
            lexical = self.search(dataclasses.replace(
                request, mode=SearchMode.KEYWORD, page=1, size=depth, snippets=False))
            by_code.update((h.record_id, h.record) for h in lexical.hits)
            facets_raw = {n: [(v.value, v.count) for v in vs] for n, vs in lexical.facets.items()}
            ranked = fuse([(h.record_id, h.score) for h in lexical.hits],
                          [(h.record.archival_code, h.score) for h in dense],
                          method=limits.fusion,
                          lexical_weight=(limits.question_lexical_weight if plan.is_or
                                          else limits.lexical_weight))
            total = max(lexical.total, len(ranked))
        hits = []
        for code, score in ranked[page_start:page_end]:
            hit = self._hit(by_code[code], score, plan, request)
            found = passages.get(code)
            if found is not None and request.snippets and not any(
                    seg_hit for snip in hit.snippets for _, seg_hit in snip.segments):
                hit = dataclasses.replace(hit, snippets=(self._passage_snippet(found, plan),))
            hits.append(hit)
        facets = {name: tuple(FacetValue(v, c, self._facet_label(name, v)) for v, c in values)
                  for name, values in facets_raw.items()}
        return SearchResult(total=total, hits=tuple(hits), facets=facets, page=request.page,
                            size=request.size, plan=plan, exact_total=total,
                            took_ms=(time.perf_counter() - started) * 1000)

    def _passage_snippet(self, hit: VectorHit, plan: QueryPlan) -> Snippet:
        """The matching passage itself, with any query words marked inside it."""
        record = hit.record
        offset = record.page_offsets()[hit.page] if hit.page < len(record.pages) else 0
        start, end = offset + hit.start, offset + hit.end
        text = record.text
        marked = best_snippets(text[start:end], plan.highlight, self.analyzer,
                               length=end - start, count=1)
        segments = marked[0].segments if marked else ((text[start:end], False),)
        return Snippet(segments, start, end, hit.page + 1 if record.pages else None)

    def _knn(self, request: SearchRequest, plan: QueryPlan, vector: np.ndarray,
             k: int) -> list[VectorHit]:
        """Best records by passage similarity, best first, one hit per record; filters
        (``request.filters``, already gated, and the plan's filters and periods) apply before
        ranking so ``k`` hits come back whenever ``k`` records qualify."""
        raise BadQueryError("this index holds no vectors", "mode")

    def _record_vectors(self, archival_code: str) -> np.ndarray | None:
        """The stored passage vectors of one record, or None."""
        return None

    def _validated(self, request: SearchRequest) -> SearchRequest:
        limits = self.settings.search
        if not isinstance(request.page, int) or request.page < 1:
            raise BadQueryError("page must be a whole number ≥ 1", "page")
        if not isinstance(request.size, int) or request.size < 1:
            raise BadQueryError("size must be a whole number ≥ 1", "size")
        if request.page > limits.max_page:
            raise BadQueryError(f"page must be ≤ {limits.max_page}", "page")
        unknown = [f for f in request.facets if f not in FACET_FIELDS]
        if unknown:
            raise BadQueryError(f"unknown facet {unknown[0]!r}", "facets")
        if request.mode is None:
            mode = SearchMode.HYBRID if self.supports_vectors() else SearchMode.KEYWORD
            request = dataclasses.replace(request, mode=mode)
        if request.mode is not SearchMode.KEYWORD and not self.supports_vectors():
            raise BadQueryError(
                f"{request.mode.value} search needs an index built with embeddings "
                "(lantai index --embeddings)", "mode")
        if request.filters.date_from and request.filters.date_to \
                and request.filters.date_from > request.filters.date_to:
            raise BadQueryError("date_from is after date_to", "date_from")
        return dataclasses.replace(request, size=min(request.size, limits.max_size),
                                   facet_size=max(1, min(request.facet_size, 100)))

    def _hit(self, record: Record, score: float, plan: QueryPlan, request: SearchRequest,
             *, partial: bool = False) -> Hit:
        terms = plan.highlight
        title = highlight_all(record.title, terms, self.analyzer)
        snippets: tuple[Snippet, ...] = ()
        if request.snippets:
            snippets = best_snippets(record.text, terms, self.analyzer,
                                     length=self.settings.search.snippet_chars,
                                     page_starts=record.page_offsets())
        return Hit(record=record, score=score, title=title, snippets=snippets, partial=partial)

    @staticmethod
    def _facet_label(name: str, value: str) -> str:
        if name == "decade" and value.isdigit():
            return f"{value}年代"
        return value

    def supports_vectors(self) -> bool:
        """Whether this index holds passage vectors (semantic and hybrid modes)."""
        return False

    # -- primitives ----------------------------------------------------------------------
    @abstractmethod
    def _get(self, archival_code: str) -> Record | None:
        """The stored record regardless of its open status, or None."""

    @abstractmethod
    def _count(self, open_status: OpenStatus | None) -> int:
        """Count records, optionally only those with this status."""

    @abstractmethod
    def _search(self, request: SearchRequest, plan: QueryPlan) -> RawHits:
        """Matches for ``plan`` under ``request.filters`` (already gated), one page of them."""

    @abstractmethod
    def metadata(self) -> dict[str, Any]:
        """The resolved configuration the index was built with."""

    def close(self) -> None:  # noqa: B027 - optional hook
        """Release connections."""

    def __enter__(self) -> SearchBackend:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _plan_text(plan: QueryPlan) -> str:
    """What the query says in words (fields, filters and syntax removed), for the embedder."""
    parts = [c.text or c.normalized for c in plan.required if not c.quoted]
    parts += [c.text or c.normalized for c in plan.required if c.quoted]
    if plan.is_or:
        return plan.raw
    parts += [p.clause.text for p in plan.periods]
    return " ".join(dict.fromkeys(p for p in parts if p))


def _description(record: Record) -> str:
    """A record without text is represented by its catalog description."""
    parts = [record.title, record.creator, " ".join(record.subjects), " ".join(record.persons),
             record.notes, record.date_text]
    return "\n".join(p for p in parts if p)
