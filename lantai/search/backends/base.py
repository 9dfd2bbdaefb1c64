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
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import TYPE_CHECKING, Any, ClassVar

import numpy as np

from lantai.catalog.hierarchy import LEVEL_LABELS, HierarchyPath, Level, normalize_path, path_of
from lantai.catalog.model import OpenStatus, Record
from lantai.config import Settings
from lantai.errors import BadQueryError, NodeNotFound, RecordNotFound, Unsupported
from lantai.indexing.documents import ALL_FIELDS
from lantai.search.facets import DEFAULT_FACETS, FACET_FIELDS, FACETS, Filters, Labels
from lantai.search.highlight import Snippet, best_snippets, highlight_all
from lantai.search.query import QueryPlan, expand_plan, parse_query
from lantai.text.analysis import Analyzer, default_analyzer
from lantai.text.thesaurus import Thesaurus, load_thesaurus

if TYPE_CHECKING:
    from lantai.search.embeddings.base import Embedder

#: Index layout version; bump on any change to what is stored.
SCHEMA_VERSION = 4


class SearchMode(StrEnum):
    KEYWORD = "keyword"
    SEMANTIC = "semantic"
    HYBRID = "hybrid"


class SortOrder(StrEnum):
    RELEVANCE = "relevance"
    DATE = "date"
    DATE_DESC = "-date"
    CODE = "code"


#: Partial matches fill pages only up to this rank (deeper paging shows exact matches only).
PARTIAL_FILL_LIMIT = 1000


class Capability(StrEnum):
    """What a backend may offer beyond the core contract; ask with :meth:`SearchBackend.has`.

    A method whose capability a backend lacks raises :class:`~lantai.errors.Unsupported`."""

    VECTORS = "vectors"  # semantic and hybrid search (the index holds passage vectors)
    ONLINE_REBUILD = "online_rebuild"  # rebuild fills a new index and swaps: no downtime
    OPTIMIZE = "optimize"  # merge index segments after a bulk load


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
    expand: bool = True  # also search period words (when the setting search.expansion is on)


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
    #: Catalog fields (责任者, 主题词, 人名, 文号, 附注) in which the query's words occur, marked
    #: (field name, snippet): why a record whose title and text lack them was found.
    fields: tuple[tuple[str, Snippet], ...] = ()

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
class StatusChange:
    """A new 开放标识 for one record, with the review fields that justify it (basis,
    reviewer, date, note …; they replace the record's review fields when given)."""

    archival_code: str
    open_status: OpenStatus
    review: Mapping[str, str] | None = None


@dataclass(frozen=True)
class StatusReport:
    """Outcome of :meth:`SearchBackend.update_status`."""

    updated: int
    missing: tuple[str, ...] = ()  # 档号 not in the index


@dataclass(frozen=True)
class BrowseNode:
    """A child node of the hierarchy with the number of records under it."""

    path: tuple[str, ...]
    level: Level
    label: str
    count: int

    @property
    def value(self) -> str:
        return self.path[-1]


@dataclass(frozen=True)
class BrowsePage:
    """One node of the hierarchy: its child nodes (all of them, with counts) and one page of
    the records that hang directly under it (ordered by 件号 / 档号, numbers by value)."""

    path: tuple[str, ...]
    level: Level
    label: str
    count: int  # records anywhere under this node
    children: tuple[BrowseNode, ...]
    records: tuple[Record, ...]
    records_total: int  # records directly under this node
    page: int
    size: int


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
    """Base class of every backend. Public methods are final; override the primitives.

    Every reading method takes ``public`` (default True): a public caller sees only 开放
    records, and a non-open record answers exactly like a missing one."""

    name: ClassVar[str]
    #: Optional capabilities this backend class can offer (see :meth:`has`).
    capabilities: ClassVar[frozenset[Capability]] = frozenset()

    def __init__(self, settings: Settings, analyzer: Analyzer | None = None,
                 embedder: Embedder | None = None) -> None:
        self.settings = settings
        self.analyzer = analyzer or default_analyzer()
        self.embedder = embedder
        self.labels = Labels()
        self._thesaurus: Thesaurus | None = None

    def has(self, capability: Capability) -> bool:
        """Whether this backend, as opened, offers ``capability``."""
        if capability is Capability.VECTORS:
            return self.supports_vectors()
        return capability in self.capabilities

    def _require(self, capability: Capability) -> None:
        if not self.has(capability):
            raise Unsupported(f"the {self.name} backend does not offer {capability.value}")

    def path_of(self, record: Record) -> HierarchyPath:
        """The record's place in the hierarchy (the configured archive by default)."""
        return path_of(record, self.settings.archive.code)

    # -- maintenance -----------------------------------------------------------------------
    def rebuild(self, records: Iterable[Record], *, batch_size: int = 1000,
                workers: int = 1) -> IndexReport:
        """Replace the whole index with ``records``. With ``ONLINE_REBUILD`` searches keep
        answering from the old index until the new one is complete; otherwise the index is
        dropped first."""
        labels = self.labels.stored
        self.drop()
        for facet, values in labels.items():  # an archive's labels survive a rebuild
            self.set_labels(facet, values)
        return self.upsert(records, batch_size=batch_size, workers=workers)

    def optimize(self) -> None:
        """Merge index segments for faster queries (after a bulk load)."""
        self._require(Capability.OPTIMIZE)

    @abstractmethod
    def health(self) -> dict[str, Any]:
        """Whether the index answers, with counts and backend details (for ``lantai doctor``
        and a web health check). Raises :class:`~lantai.errors.Unavailable` when it does not."""

    @abstractmethod
    def drop(self) -> None:
        """Delete the whole index (records, vectors, metadata), leaving an empty one."""

    @abstractmethod
    def metadata(self) -> dict[str, Any]:
        """The resolved configuration the index was built with, and stored labels."""

    @abstractmethod
    def set_metadata(self, key: str, value: Any) -> None:
        """Store one more piece of resolved configuration (e.g. the embedding model)."""

    # -- labels ----------------------------------------------------------------------------
    def set_labels(self, facet: str, labels: Mapping[str, str]) -> None:
        """Add display labels for a facet's values (e.g. the fonds table 全宗号 → 全宗名称);
        stored with the index, they win over built-in labels."""
        if facet not in FACETS:
            raise BadQueryError(f"unknown facet {facet!r}; choose from {', '.join(FACETS)}",
                                "facet")
        stored = dict(self.metadata().get("labels") or {})
        merged = dict(stored.get(facet) or {})
        merged.update({str(k).strip(): str(v).strip() for k, v in labels.items()
                       if str(k).strip() and str(v).strip()})
        stored[facet] = merged
        self.set_metadata("labels", stored)
        self.labels = Labels(stored)

    def _load_labels(self) -> None:
        self.labels = Labels(self.metadata().get("labels") or {})

    def facet_label(self, facet: str, value: str) -> str:
        """How a facet value is shown (全宗名称 for a 全宗号, 1930年代 for 1930 …)."""
        return self.labels.label(facet, value)

    # -- status ----------------------------------------------------------------------------
    def update_status(self, changes: Sequence[StatusChange]) -> StatusReport:
        """Change the 开放标识 (and review fields) of many records at once, without
        re-analysing or re-embedding them. The public view changes with the call: in the same
        transaction (embedded) or before it returns (Elasticsearch refreshes)."""
        latest: dict[str, StatusChange] = {}
        for change in changes:
            if not isinstance(change.open_status, OpenStatus):
                raise BadQueryError(f"open_status of {change.archival_code!r} must be one of "
                                    f"{', '.join(s.value for s in OpenStatus)}", "open_status")
            latest[change.archival_code] = change  # the last change of a record wins
        if not latest:
            return StatusReport(updated=0)
        return self._update_status(list(latest.values()))

    @staticmethod
    def _changed_record(record: Record, change: StatusChange) -> Record:
        review = record.review if change.review is None else tuple(
            sorted((str(k), str(v)) for k, v in change.review.items()))
        return dataclasses.replace(record, open_status=change.open_status, review=review)

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

    def get_many(self, archival_codes: Sequence[str], *, public: bool = True
                 ) -> dict[str, Record]:
        """The records a caller may see among ``archival_codes`` (others are left out)."""
        codes = list(dict.fromkeys(archival_codes))
        found = self._get_many(codes) if codes else {}
        return {c: found[c] for c in codes
                if c in found and (not public or found[c].is_public)}

    def count(self, *, public: bool = True, filters: Filters | None = None) -> int:
        """Number of records a caller may see (under ``filters``)."""
        return self._count_filtered(self._gated(filters, public))

    def iter_records(self, *, public: bool = True, filters: Filters | None = None
                     ) -> Iterator[Record]:
        """Every record a caller may see (under ``filters``), in 档号 order with numbers by
        value; streams, so exports and reindexing of any size run in constant memory."""
        return self._iter_records(self._gated(filters, public))

    @staticmethod
    def _gated(filters: Filters | None, public: bool) -> Filters:
        filters = filters or Filters()
        if public:
            filters = dataclasses.replace(filters, open_status=(OpenStatus.OPEN,))
        return filters

    # -- hierarchy -------------------------------------------------------------------------
    def browse(self, path: Sequence[str] = (), *, public: bool = True, page: int = 1,
               size: int = 50) -> BrowsePage:
        """One node of the hierarchy (archive → 全宗 → 目录 → 案卷): its children with counts
        and one page of the records directly under it. ``()`` is the root (the archives).
        A node holding nothing the caller may see is :class:`NodeNotFound`."""
        nodes = normalize_path(tuple(path))
        if not isinstance(page, int) or page < 1:
            raise BadQueryError("page must be a whole number ≥ 1", "page")
        if not isinstance(size, int) or not 1 <= size <= self.settings.search.max_size:
            raise BadQueryError(f"size must be between 1 and {self.settings.search.max_size}",
                                "size")
        level = Level(len(nodes))
        filters = self._gated(_path_filters(nodes), public)
        children: list[BrowseNode] = []
        if level < Level.FILE:
            child_level = Level(level + 1)
            for value, count in self._children(filters, child_level):
                if value:  # records without this level hang directly under the node
                    children.append(BrowseNode(
                        (*nodes, value), child_level, self.node_label(child_level, value),
                        count))
        total = sum(c.count for c in children)
        records: list[Record] = []
        records_total = 0
        if level >= Level.FONDS:  # records hang under a fonds, series or file
            # files without the next level hang directly under this node
            leaf = (filters if level == Level.FILE
                    else dataclasses.replace(filters, series=("",)) if level == Level.FONDS
                    else dataclasses.replace(filters, file=("",)))
            records_total, records = self._leaves(leaf, (page - 1) * size, size)
            total += records_total
        if nodes and total == 0:
            raise NodeNotFound(nodes)
        label = self.node_label(level, nodes[-1]) if nodes else self.settings.archive.name
        return BrowsePage(path=nodes, level=level, label=label, count=total,
                          children=tuple(children), records=tuple(records),
                          records_total=records_total, page=page, size=size)

    def node_label(self, level: Level, value: str) -> str:
        """How a hierarchy node is named (全宗 with its name, 文书·1939·永久 …)."""
        if level == Level.ARCHIVE:
            if value == self.settings.archive.code:
                return self.settings.archive.name
            return self.facet_label("archive", value)
        if level == Level.FONDS:
            name = self.facet_label("fonds", value)
            return value if name == value else f"{value} {name}"
        if level == Level.SERIES and "·" in value:  # 门类·年度·保管期限 of file-based codes
            parts = value.split("·")
            parts[0] = self.facet_label("category", parts[0])
            if len(parts) > 2:
                parts[-1] = self.facet_label("retention", parts[-1])
            return "·".join(parts)
        return f"{LEVEL_LABELS[level]} {value}"

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
        expanded = self._expanded(request, plan)
        # Tiers, each finding a superset of the one before; a page is filled tier by tier, so
        # every record of a tier ranks after the records of the tiers before it:
        # the typed words → also their period words → also records without a date (when the
        # query names a period) → only some of the words (keyword mode).
        tiers: list[QueryPlan] = [plan]
        if expanded is not None:
            tiers.append(expanded)
        undated = tiers[-1].with_undated()
        if undated is not None:
            tiers.append(undated)
        loose = tiers[-1].relaxed(self.analyzer) if request.mode is SearchMode.KEYWORD \
            else None
        if loose is not None:
            tiers.append(loose)
        # a wider tier that is not partial counts the facets itself: skip them here
        wider = len(tiers) > 1 and tiers[1] is not loose
        raw = self._search(dataclasses.replace(request, facets=()) if wider else request, plan)
        scored = [(record, score, plan) for record, score in raw.scored]
        facets_raw, total = raw.facets, raw.total
        exact_total = total
        page_end = request.page * request.size
        before, before_raw = plan, raw
        for tier in tiers[1:]:
            partial = tier is loose
            if partial:
                exact_total = total
            if total < page_end <= PARTIAL_FILL_LIMIT:
                more = self._partial(request, before, tier, before_raw, facets=not partial)
                scored.extend((record, score, tier) for record, score in more.scored)
                total += more.total
            elif partial:
                break
            else:  # the page is full already: only the totals and facets of the tier
                more = self._search(dataclasses.replace(request, page=1, size=1), tier)
                total = more.total
            if not partial or exact_total == 0:
                facets_raw = more.facets
            if not partial:
                exact_total = total
            before = tier
            before_raw = RawHits(total=total, scored=[(r, s) for r, s, _ in scored],
                                 facets=facets_raw)
        marking = expanded or plan
        hits = tuple(self._hit(record, score, marking if used is not loose else used,
                               request, partial=used is loose)
                     for record, score, used in scored)
        facets = {name: tuple(FacetValue(v, c, self._facet_label(name, v)) for v, c in values)
                  for name, values in facets_raw.items()}
        return SearchResult(
            total=total, hits=hits, facets=facets, page=request.page, size=request.size,
            plan=expanded or plan, relaxed=total > exact_total, exact_total=exact_total,
            took_ms=(time.perf_counter() - started) * 1000,
        )

    @property
    def thesaurus(self) -> Thesaurus:
        """The period vocabulary of ``search.thesaurus`` (loaded once)."""
        if self._thesaurus is None:
            self._thesaurus = load_thesaurus(self.settings.search.thesaurus, self.analyzer)
        return self._thesaurus

    @staticmethod
    def _widens(request: SearchRequest) -> bool:
        """Whether words the user did not type may join the search (period words, feedback):
        not with ``expand=False``, and not when the order is not by relevance."""
        return request.expand and request.sort is SortOrder.RELEVANCE

    def _expanded(self, request: SearchRequest, plan: QueryPlan) -> QueryPlan | None:
        """``plan`` with the thesaurus's period words, when expansion is on and any apply."""
        if not (self._widens(request) and self.settings.search.expansion and plan.has_text):
            return None
        return expand_plan(plan, self.thesaurus, self.analyzer)

    def _partial(self, request: SearchRequest, plan: QueryPlan, loose: QueryPlan,
                 exact: RawHits, *, facets: bool = False) -> RawHits:
        """Records matching ``loose`` but not ``plan``, for the rest of the requested page."""
        page_start = (request.page - 1) * request.size
        exact_codes = {record.archival_code for record, _ in exact.scored}
        if exact.total > len(exact.scored) or request.page > 1:
            everything = self._search(dataclasses.replace(
                request, page=1, size=max(exact.total, 1), facets=()), plan)
            exact_codes = {record.archival_code for record, _ in everything.scored}
        wanted = dataclasses.replace(request, page=1, size=page_start + request.size
                                     + len(exact_codes),
                                     facets=request.facets if facets or not exact_codes
                                     else ())
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
        from lantai.search.fusion import fuse, fuse_weighted

        assert self.embedder is not None
        limits = self.settings.search
        page_start = (request.page - 1) * request.size
        page_end = page_start + request.size
        text = _plan_text(plan)
        if not text:  # nothing to embed (filters only): browse like keyword search
            return self.search(dataclasses.replace(request, mode=SearchMode.KEYWORD))
        vector = self.embedder.embed_query(fold_for_embedding(text))
        depth = max(limits.candidates, page_end)
        dense = self._knn(request, plan.with_undated() or plan, vector, depth)
        if plan.periods:  # records without a date after those the period selects (stable)
            dense.sort(key=lambda h: h.record.date_start is None)
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
            lexical_list = [(h.record_id, h.score) for h in lexical.hits]
            dense_list = [(h.record.archival_code, h.score) for h in dense]
            weight = limits.question_lexical_weight if plan.is_or else limits.lexical_weight
            ranked = fuse(lexical_list, dense_list, method=limits.fusion, lexical_weight=weight)
            feedback = self._feedback(request, plan, ranked, by_code, depth)
            if feedback:
                by_code.update((record.archival_code, record) for record, _ in feedback)
                share = limits.feedback_weight
                ranked = fuse_weighted((
                    (lexical_list, weight * (1 - share)), (dense_list, (1 - weight) * (1 - share)),
                    ([(record.archival_code, score) for record, score in feedback], share)))
            total = max(lexical.total, len(ranked))
            plan = lexical.plan  # with the period words searched, for marking and display
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

    def _feedback(self, request: SearchRequest, plan: QueryPlan,
                  ranked: Sequence[tuple[str, float]], records: Mapping[str, Record],
                  depth: int) -> list[tuple[Record, float]]:
        """Records found by the feedback words of the top of ``ranked`` (see
        :mod:`lantai.search.feedback`); empty when feedback is off or does not apply:
        questions (they are OR-ranked already), other sort orders, fields or phrases only,
        and ``expand=False`` (the user asked for the typed words only)."""
        from lantai.search.feedback import feedback_words
        from lantai.search.query import or_plan

        limits = self.settings.search
        free = [c for c in plan.required if c.fields == ALL_FIELDS and not c.quoted]
        if (limits.feedback_docs < 1 or plan.is_or or not free or not ranked
                or not self._widens(request)):
            return []
        top = [(records[code], score) for code, score in ranked[:limits.feedback_docs]]
        query_words = {c.normalized for c in free}
        query_words.update(w for c in free for w in self.analyzer.cut(c.normalized))
        words = feedback_words(top, query_words, self.analyzer, self._term_frequencies,
                               self._collection_size(), limits.feedback_terms)
        if not words:
            return []
        text = " ".join([*(c.normalized for c in free), *words])
        found = self._search(dataclasses.replace(request, page=1, size=depth, facets=()),
                             # words and bigrams only: single characters cost a third of a
                             # hybrid query at 100,000 records and changed nDCG by 0.001
                             dataclasses.replace(or_plan(plan, text, self.analyzer),
                                                 should_units=()))
        return list(found.scored)

    def _term_frequencies(self, terms: Sequence[str]) -> dict[str, int]:
        """How many records hold each analysed term (any field); {} if not known."""
        return {}

    def _collection_size(self) -> int:
        """The number of records :meth:`_term_frequencies` counts in."""
        return self._count_filtered(Filters())

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
        if request.public:  # staff facets (保管期限, 开放标识) are not offered publicly
            request = dataclasses.replace(
                request, facets=tuple(f for f in request.facets if FACETS[f].public))
        if request.mode is None:
            mode = SearchMode.HYBRID if self.supports_vectors() else SearchMode.KEYWORD
            request = dataclasses.replace(request, mode=mode)
        if request.mode is not SearchMode.KEYWORD and not self.supports_vectors():
            raise BadQueryError(
                f"{request.mode} search needs an index built with embeddings "
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
        fields: list[tuple[str, Snippet]] = []
        if request.snippets:
            snippets = best_snippets(record.text, terms, self.analyzer,
                                     length=self.settings.search.snippet_chars,
                                     page_starts=record.page_offsets())
            for name, value in _matchable_fields(record):
                marked = highlight_all(value, terms, self.analyzer) if value else None
                if marked is not None and any(hit for _, hit in marked.segments):
                    fields.append((name, marked))
        return Hit(record=record, score=score, title=title, snippets=snippets, partial=partial,
                   fields=tuple(fields))

    def _facet_label(self, name: str, value: str) -> str:
        return self.facet_label(name, value)

    def supports_vectors(self) -> bool:
        """Whether this index holds passage vectors (semantic and hybrid modes)."""
        return False

    # -- primitives ----------------------------------------------------------------------
    @abstractmethod
    def _get(self, archival_code: str) -> Record | None:
        """The stored record regardless of its open status, or None."""

    @abstractmethod
    def _get_many(self, archival_codes: Sequence[str]) -> dict[str, Record]:
        """The stored records among ``archival_codes``, regardless of open status."""

    @abstractmethod
    def _count_filtered(self, filters: Filters) -> int:
        """Count records under ``filters`` (already gated)."""

    @abstractmethod
    def _iter_records(self, filters: Filters) -> Iterator[Record]:
        """Records under ``filters`` (already gated) in natural 档号 order, streamed."""

    @abstractmethod
    def _children(self, filters: Filters, level: Level) -> list[tuple[str, int]]:
        """Distinct values of ``level`` under ``filters`` with their counts, in natural
        order ('' for records that have no such level)."""

    @abstractmethod
    def _leaves(self, filters: Filters, offset: int, limit: int
                ) -> tuple[int, list[Record]]:
        """(total, one page) of records under ``filters``, by 件号 then 档号."""

    @abstractmethod
    def _update_status(self, changes: list[StatusChange]) -> StatusReport:
        """Write new open statuses (and review fields) of distinct records."""

    @abstractmethod
    def _search(self, request: SearchRequest, plan: QueryPlan) -> RawHits:
        """Matches for ``plan`` under ``request.filters`` (already gated), one page of them."""

    def close(self) -> None:  # noqa: B027 - optional hook
        """Release connections."""

    def __enter__(self) -> SearchBackend:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _matchable_fields(record: Record) -> tuple[tuple[str, str], ...]:
    """Catalog fields searched besides title and text, as (field name, text)."""
    return (("creator", record.creator), ("subjects", "；".join(record.subjects)),
            ("persons", "；".join(record.persons)), ("doc_number", record.doc_number),
            ("notes", record.notes))


def _path_filters(nodes: tuple[str, ...]) -> Filters:
    """Filters selecting everything under the node at ``nodes`` (archive, fonds, …)."""
    return Filters(archive=nodes[0:1], fonds=nodes[1:2], series=nodes[2:3], file=nodes[3:4])


def _plan_text(plan: QueryPlan) -> str:
    """What the query says in words (fields, filters and syntax removed), for the embedder."""
    parts = [c.text or c.normalized for c in plan.required if not c.quoted]
    parts += [c.text or c.normalized for c in plan.required if c.quoted]
    if plan.is_or:
        return plan.raw
    # A named period (抗战, 北伐时期, 五四运动) says what the query is about; a calendar date
    # (1930年, 民国十九年) only says when, and the period filter already applies it: in the
    # query vector it pulled towards passages that merely look like dates (Jingbao tune split,
    # date queries: semantic nDCG@10 0.469 → 0.643, bench/semantic/README.md).
    dated = [p.clause.text for p in plan.periods]
    named = [p.clause.text for p in plan.periods if p.named]
    parts += named if (named or parts) else dated
    return " ".join(dict.fromkeys(p for p in parts if p))


def _description(record: Record) -> str:
    """A record without text is represented by its catalog description."""
    parts = [record.title, record.creator, " ".join(record.subjects), " ".join(record.persons),
             record.notes, record.date_text]
    return "\n".join(p for p in parts if p)
