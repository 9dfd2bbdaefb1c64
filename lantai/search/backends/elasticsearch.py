"""The Elasticsearch backend: the embedded backend's search on a cluster (8.x or 9.x).

Lantai analyses text itself and indexes the same token streams as the embedded backend
(:func:`~lantai.search.backends.embedded.token_row`), space-separated, in ``text`` fields with
the built-in ``whitespace`` analyzer: no plugin, and index and query tokenise exactly alike.
Query plans (:class:`~lantai.search.query.QueryPlan`) compile to the same boolean structure as
the embedded backend's FTS5 expression (:func:`~lantai.search.backends.embedded.fts_expression`):
a one-unit clause is a term on the ``*_uni`` fields, a longer one the phrase of its bigrams on
the ``*_bi`` fields (exact bigram adjacency, as FTS5's phrase), OR-ranked plans a ``should``
over bigram, unigram and word fields, with the same document-frequency candidate planning.
Ranking is BM25F (``combined_fields``; k1 1.2, b 0.75, as FTS5) with the embedded backend's
column weights as field weights (see :class:`QueryCompiler` for how close the two rankings
are). Fusion, snippets, partial matches and the public gate's rules live in
:mod:`lantai.search.backends.base`, shared by both backends.

Layout, for ``elasticsearch.index_prefix`` = ``P``:

* ``P-records-<UTC timestamp>``: the concrete index, one document per record, ``_id`` = 档号.
  ``_source`` keeps the whole :meth:`Record.to_dict` (under ``record``, not indexed) and the
  filter/facet fields; the token streams are indexed but excluded from ``_source`` (they would
  make it 5-6 times larger, see ``docs/elasticsearch.md``). Passage vectors are ``nested``
  documents (``passages.vector``, ``dense_vector`` with ``int8_hnsw``), see :meth:`_knn`, and
  the vectors themselves as float16 bytes in a stored ``binary`` field (for status rewrites
  and :meth:`_record_vectors`), with the token streams zlib-compressed beside them.
* ``P-records``: alias to it; every read and write goes through it. A rebuild
  (:meth:`ElasticsearchBackend.rebuilding`) fills a new concrete index beside the live one and
  swaps both aliases in one atomic request: searches never see a half-built index.
* ``P-public``: *filtered* alias on ``open_status: 开放`` over the same index. Public requests
  search only this alias **and** carry the same filter in the query (the 开放 gate twice), so a
  record whose status changes leaves the public alias at the next refresh. A deployment can
  give the public front end an API key that can read nothing but ``P-public*``.

The resolved configuration (schema, analyzer fingerprint, embedding model) is the index
mapping's ``_meta``; an index built differently refuses to open (:class:`IndexMismatch`).

Writes refresh the index when they finish (one ``_refresh`` per :meth:`upsert`/:meth:`delete`
call, not per chunk) so that the next read sees them, as with the embedded backend. A refresh
writes a new small segment (merged later): cheap per call, costly only for many tiny calls —
pass ``refresh=False`` to the constructor for write-heavy callers that can wait for the
cluster's periodic refresh (1 s).
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import json
import re
import time
import zlib
from collections.abc import Callable, Iterable, Iterator, Sequence
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, ClassVar

import numpy as np

from lantai.catalog.hierarchy import Level, natural_code
from lantai.catalog.model import OpenStatus, Record
from lantai.config import ElasticsearchSettings, Settings
from lantai.errors import (
    BadQueryError,
    ConfigError,
    Conflict,
    Forbidden,
    IndexMismatch,
    LantaiError,
    Unavailable,
    require,
)
from lantai.indexing.documents import (
    COLUMNS,
    Analysed,
    analyse_chunks,
    chunks,
    column,
)
from lantai.search.backends.base import (
    SCHEMA_VERSION,
    Capability,
    IndexReport,
    PassageVectors,
    RawHits,
    SearchBackend,
    SearchRequest,
    SortOrder,
    StatusChange,
    StatusReport,
    VectorHit,
)
from lantai.search.facets import FACETS, Filters, facet_values
from lantai.search.query import (
    OR_CANDIDATE_BUDGET,
    Clause,
    QueryPlan,
    bigrams_of,
    choose_candidates,
)
from lantai.text.analysis import Analyzer

if TYPE_CHECKING:
    from elasticsearch import Elasticsearch

    from lantai.search.embeddings.base import Embedder

#: Version of this backend's mapping; bump on any change to what is indexed or stored.
ES_SCHEMA_VERSION = 2
#: Elasticsearch's limit on a document id (the 档号).
MAX_ID_BYTES = 512
#: Elasticsearch's ceiling on ``k`` and ``num_candidates`` of a kNN search.
MAX_KNN = 10_000
#: Filter fields: the hierarchy (全宗 → 目录 → 案卷), 件号, the natural sort key of 档号, and one
#: field per facet (:data:`~lantai.search.facets.FACETS`), named like the facet.
_KEYWORDS = tuple(dict.fromkeys(("code", "sort_code", "archive", "fonds", "series", "file",
                                 "item", *(n for n, f in FACETS.items() if f.kind == "text"))))
_INTEGERS = ("d0", "d1", *(n for n, f in FACETS.items() if f.kind == "int"))
#: Facet values longer than this are not indexed (Lucene refuses terms over 32 KB).
_IGNORE_ABOVE = 2048
#: Index names may not contain these (and must be lowercase, not start with - _ +).
_BAD_NAME = re.compile(r'[\\/*?"<>| ,#:A-Z]|^[-_+]|^\.+$')


#: Document frequencies of tokens (records holding each one in any stream).
DocFreq = Callable[[Sequence[str]], dict[str, int]]
#: Cached document frequencies are dropped after this many seconds (other writers).
_DF_TTL_S = 300.0


def _any_of(queries: Sequence[dict[str, Any]]) -> dict[str, Any]:
    if len(queries) == 1:
        return queries[0]
    return {"bool": {"should": list(queries), "minimum_should_match": 1}}


class QueryCompiler:
    """Turns a :class:`QueryPlan` and filters into Elasticsearch query DSL.

    Mirrors :func:`~lantai.search.backends.embedded.fts_expression` clause by clause, so that
    both backends select exactly the same records; every user token goes into a query as data
    (never into a query string), so no input can be a syntax error.

    Scoring uses ``combined_fields`` (BM25F) over the streams a clause searches, with the
    embedded backend's column weights as field weights. FTS5's ``bm25()`` also adds the
    weighted frequencies of all columns *before* saturating them, so this ranks far closer to
    it than a sum of per-field BM25 scores (measured on the demo archive: same first hit for
    23 of 28 queries instead of 10, 91 % of the top 5 shared instead of 78 %; see
    ``tests/test_es_backend.py``).
    """

    def __init__(self, weights: dict[str, float]) -> None:
        self.weights = weights

    def _scored(self, cols: Sequence[str], text: str,
                selection: dict[str, Any] | None = None) -> dict[str, Any]:
        """Score ``text`` as one combined field over ``cols``; match ``selection`` if given,
        else any of the tokens in any of the fields."""
        positive = [c for c in cols if self.weights[c] > 0]
        scoring: dict[str, Any] | None = None
        if positive:
            # combined_fields wants weights ≥ 1: scale them up and the score back down.
            low = min(self.weights[c] for c in positive)
            fields = [f"{c}^{self.weights[c] / low:.6g}" for c in positive]
            scoring = {"combined_fields": {"query": text, "fields": fields, "operator": "or"}}
            if low != 1.0:
                scoring = {"bool": {"must": [scoring], "boost": low}}
        if scoring is not None and selection is None and len(positive) == len(cols):
            return scoring
        if selection is None:
            selection = _any_of([{"match": {c: text}} for c in cols])
        if scoring is None:  # every field weighs 0 (e.g. search.unigram_weight = 0)
            return {"constant_score": {"filter": selection, "boost": 0.0}}
        return {"bool": {"filter": [selection], "should": [scoring]}}

    def clause(self, clause: Clause) -> dict[str, Any]:
        """One unit: a term on ``*_uni``; several: the phrase of their bigrams on ``*_bi``;
        with alternatives (period words), any of them."""
        if clause.alternatives:
            return _any_of([self._units(units, clause) for units in clause.variants])
        return self._units(clause.units, clause)

    def _units(self, units: tuple[str, ...], clause: Clause) -> dict[str, Any]:
        kind = "uni" if len(units) == 1 else "bi"
        tokens = units if kind == "uni" else bigrams_of(units)
        text = " ".join(tokens)
        cols = [c for c in (column(f, kind) for f in clause.fields) if c]
        selection = None
        if len(tokens) > 1:  # exact adjacency, as FTS5's phrase
            selection = _any_of([{"match_phrase": {c: text}} for c in cols])
        return self._scored(cols, text, selection)

    def _any(self, kind: str, tokens: Sequence[str]) -> list[dict[str, Any]]:
        if not tokens:
            return []
        return [self._scored([c for c in COLUMNS if c.endswith("_" + kind)], " ".join(tokens))]

    def text_query(self, plan: QueryPlan, df: DocFreq | None = None,
                   budget: int = 0) -> list[dict[str, Any]]:
        """The scoring ``must`` part; empty when the plan has no text (browse).

        An OR-ranked plan with ``df`` takes its candidates as the embedded backend does
        (:func:`~lantai.search.backends.embedded.fts_expression`): records holding one of the
        rarest terms, rarest first while their document frequencies fit ``budget``; every
        term still scores. FTS5's bm25 sums over every phrase of ``(candidates) AND
        (everything)``, so candidate terms count twice there; the same structure here keeps
        the two rankings alike.
        """
        must = [self.clause(c) for c in plan.required]
        if not plan.is_or:
            return must
        kinds = {"bi": plan.should_bigrams, "uni": plan.should_units, "w": plan.should_words}
        everything = [q for kind, tokens in kinds.items() for q in self._any(kind, tokens)]
        if df is None:
            if everything:
                must.append(_any_of(everything))
            return must
        chosen = choose_candidates(kinds, df([t for ts in kinds.values() for t in ts]), budget)
        if not chosen:
            return [{"match_none": {}}]  # no query term occurs anywhere
        must.append(_any_of([q for kind, tokens in chosen.items()
                             for q in self._any(kind, tokens)]))
        must.append(_any_of(everything))
        return must

    def filters(self, request: SearchRequest, plan: QueryPlan) -> dict[str, Any]:
        """Everything that selects without scoring: filters, periods, exclusions, the gate."""
        f = request.filters
        selected = _filter_clauses(f)
        if request.public:
            # The base class has already put 开放 into the filters; repeat it here so that no
            # caller of this compiler can forget it.
            selected.append({"term": {"open_status": OpenStatus.OPEN.value}})
        for period in plan.periods:
            overlap = {"bool": {"filter": [{"range": {"d1": {"gte": period.start}}},
                                           {"range": {"d0": {"lte": period.end}}}]}}
            either = [overlap, self.clause(period.clause)]
            if period.undated:
                either.append({"bool": {"must_not": [{"exists": {"field": "d0"}}]}})
            selected.append({"bool": {"should": either, "minimum_should_match": 1}})
        query: dict[str, Any] = {"filter": selected}
        if plan.excluded:
            query["must_not"] = [self.clause(c) for c in plan.excluded]
        return {"bool": query}


class ElasticsearchBackend(SearchBackend):
    """Search backend on an Elasticsearch 8.x/9.x cluster (``lantai[elasticsearch]``).

    Connection settings come from ``settings.elasticsearch``. ``client``: an existing
    ``Elasticsearch`` client to use instead (not closed by :meth:`close`). ``create``: create
    the index and aliases when missing (else :class:`LantaiError`). ``refresh``: refresh after
    each write call (see the module docs for the cost). ``shards``: primary shards of indices
    this backend creates (default 1). ``public_only``: read only the public alias and never
    write, for a front end whose API key can read nothing else.
    """

    name: ClassVar[str] = "elasticsearch"
    capabilities: ClassVar[frozenset[Capability]] = frozenset(
        {Capability.ONLINE_REBUILD, Capability.OPTIMIZE})

    def __init__(self, settings: Settings, analyzer: Analyzer | None = None,
                 embedder: Embedder | None = None, *, client: Elasticsearch | None = None,
                 create: bool = True, refresh: bool = True, shards: int | None = None,
                 public_only: bool | None = None, for_rebuild: bool = False) -> None:
        super().__init__(settings, analyzer, embedder)
        es = settings.elasticsearch
        prefix = es.index_prefix
        if not prefix or _BAD_NAME.search(prefix) or len(prefix.encode()) > 200:
            raise ConfigError(
                f"elasticsearch.index_prefix {prefix!r} is not a valid index name prefix "
                "(lowercase, no spaces or any of \\ / * ? \" < > | , # :)")
        self.records_alias = f"{prefix}-records"
        self.public_alias = f"{prefix}-public"
        self.refresh = refresh
        # elasticsearch.shards / .public_only settings once the loader has them; until then
        # (and for tests) these keyword arguments
        self.shards = int(shards if shards is not None else getattr(es, "shards", 1))
        self.public_only = bool(public_only if public_only is not None
                                else getattr(es, "public_only", False))
        self._client = client if client is not None else connect(es)
        self._owns_client = client is None
        self._closed = False
        self._urls = ", ".join(es.urls)
        self.for_rebuild = for_rebuild
        self._target = self.records_alias  # where writes go (a new index during a rebuild)
        self._has_vectors: bool | None = None
        self._vector_mapping_ready = False
        self._df_cache: dict[str, dict[str, int]] = {}
        self._df_cache_since = time.monotonic()
        self.compiler = QueryCompiler(self._weights())
        with self._errors():
            self.server_version = self._server_version()
            self._open(create)
        self._load_labels()

    # -- connection and layout --------------------------------------------------------------
    @contextlib.contextmanager
    def _errors(self) -> Iterator[None]:
        """Turn transport failures into a :class:`LantaiError` naming the cluster."""
        from elastic_transport import ConnectionError as TransportConnectionError
        from elastic_transport import ConnectionTimeout
        from elasticsearch import ApiError, AuthenticationException, AuthorizationException

        try:
            yield
        except (AuthenticationException, AuthorizationException) as exc:
            raise Forbidden(
                f"Elasticsearch at {self._urls} refused the credentials "
                f"(elasticsearch.api_key / username / password): {exc.message}") from exc
        except ConnectionTimeout as exc:
            raise Unavailable(
                f"Elasticsearch at {self._urls} did not answer within "
                f"{self.settings.elasticsearch.request_timeout:g} s "
                "(elasticsearch.request_timeout)") from exc
        except TransportConnectionError as exc:
            raise Unavailable(f"cannot reach Elasticsearch at {self._urls}: {exc}") from exc
        except ApiError as exc:
            raise LantaiError(f"Elasticsearch at {self._urls} answered {exc.meta.status}: "
                              f"{_reason(exc.body)}") from exc

    def _server_version(self) -> tuple[int, ...]:
        """The oldest node's version (``GET /`` is missing from some builds: use _nodes)."""
        nodes = self._client.nodes.info(filter_path="nodes.*.version").get("nodes", {})
        versions = [tuple(int(p) for p in re.findall(r"\d+", n["version"])[:3])
                    for n in nodes.values()]
        return min(versions) if versions else (0,)

    @property
    def rescores_vectors(self) -> bool:
        """Whether kNN scores are recomputed from the float vectors (Elasticsearch ≥ 8.18);
        older servers score with the int8 copies (±0.1 on the cosine, measured)."""
        return self.server_version >= (8, 18)

    def _wanted_metadata(self) -> dict[str, Any]:
        return {"schema_version": SCHEMA_VERSION, "backend": self.name,
                "es_schema_version": ES_SCHEMA_VERSION,
                "analysis": self.analyzer.fingerprint(), "fields": list(COLUMNS)}

    def _open(self, create: bool) -> None:
        if self.public_only:
            # Only the public alias may be read: check the configuration through it.
            found = self._client.options(ignore_status=404).indices.get_mapping(
                index=self.public_alias)
            if found.meta.status == 404:
                raise Unavailable(f"no index {self.public_alias} at {self._urls}: run "
                                  "`lantai index --backend elasticsearch CATALOG` first")
            for index in found.body:
                self._check_metadata(index, found.body[index]["mappings"].get("_meta", {}))
            return
        concrete = self._alias_indices(self.records_alias)
        if not concrete:
            if not create:
                raise Unavailable(f"no index {self.records_alias} at {self._urls}: run "
                                  "`lantai index --backend elasticsearch CATALOG` first")
            self._create_live_index()
            return
        if len(concrete) > 1:
            raise Conflict(f"alias {self.records_alias} points at {len(concrete)} indices "
                              f"({', '.join(sorted(concrete))}); keep one")
        if not self.for_rebuild:  # a rebuild replaces an index built differently
            self._check_metadata(concrete[0])
        if not self._alias_indices(self.public_alias):
            # A missing public alias (deleted by hand) would fail every public search: repair.
            self._client.indices.update_aliases(actions=[self._public_alias_action(concrete[0])])
        self._ensure_result_window(concrete[0])

    def _alias_indices(self, alias: str) -> list[str]:
        found = self._client.options(ignore_status=404).indices.get_alias(name=alias)
        return [name for name in found.body if name != "error" and name != "status"] \
            if found.meta.status == 200 else []

    def _live_index(self) -> str:
        concrete = self._alias_indices(self.records_alias)
        if not concrete:
            raise Unavailable(f"alias {self.records_alias} is gone at {self._urls}")
        return concrete[0]

    def _check_metadata(self, index: str, stored: dict[str, Any] | None = None) -> None:
        if stored is None:
            stored = self._index_meta(index)
        for key, value in self._wanted_metadata().items():
            if stored.get(key) != value:
                raise IndexMismatch(
                    f"the Elasticsearch index {index} was built with {key}="
                    f"{stored.get(key)}, but this Lantai uses {key}={value}; rebuild it with "
                    "`lantai index --rebuild --backend elasticsearch CATALOG`")
        have = stored.get("embedding")
        if self.embedder is not None and have is not None and have != self._embedding_meta():
            raise IndexMismatch(
                f"the Elasticsearch index {index} holds vectors of the embedding model "
                f"{have.get('model')} (dim {have.get('dim')}), but this Lantai uses "
                f"{self.embedder.model_id} (dim {self.embedder.dim}); set embedding.model "
                "back, or rebuild the index with `lantai index --rebuild --embeddings CATALOG`")

    def _ensure_vector_mapping(self) -> None:
        """Before the first vectors go in: add the passage mapping and record the model.

        Done at the first write, not at open, so an index opened with a model but never
        given vectors adopts whichever model first writes some (as the embedded backend).
        A dense_vector's dimension cannot change once mapped.
        """
        if self._vector_mapping_ready or self.embedder is None:
            return
        index = self._target if self._target != self.records_alias else self._live_index()
        stored = self._index_meta(index)
        if stored.get("embedding") is None:
            self._client.indices.put_mapping(
                index=index, properties={"passages": self._passages_mapping()},
                meta={**stored, "embedding": self._embedding_meta()})
        else:
            self._check_metadata(index)
        self._vector_mapping_ready = True

    def _index_meta(self, index: str) -> dict[str, Any]:
        mapping = self._client.indices.get_mapping(index=index)
        meta: dict[str, Any] = mapping[index]["mappings"].get("_meta", {})
        return meta

    def _embedding_meta(self) -> dict[str, Any]:
        assert self.embedder is not None
        return {"model": self.embedder.model_id, "dim": int(self.embedder.dim)}

    def _passages_mapping(self) -> dict[str, Any]:
        assert self.embedder is not None
        return {"type": "nested", "properties": {
            # int8_hnsw set explicitly: 9.x would default to bbq_hnsw from 384 dims up.
            "vector": {"type": "dense_vector", "dims": int(self.embedder.dim), "index": True,
                       "similarity": "cosine",
                       "index_options": {"type": "int8_hnsw", "m": 16, "ef_construction": 100}},
            "page": {"type": "integer", "index": False},
            "start": {"type": "integer", "index": False},
            "end": {"type": "integer", "index": False},
        }}

    def _mappings(self, *, vectors: bool) -> dict[str, Any]:
        meta = self._wanted_metadata()
        meta["created"] = datetime.now(UTC).isoformat(timespec="seconds")
        if self.labels.stored:  # an archive's labels survive a rebuild
            meta["labels"] = self.labels.stored
        properties: dict[str, Any] = {
            name: {"type": "keyword", "ignore_above": _IGNORE_ABOVE} for name in _KEYWORDS}
        properties["code"] = {"type": "keyword"}
        properties.update({name: {"type": "integer"} for name in _INTEGERS})
        properties["hash"] = {"type": "keyword", "index": False}
        # The record as imported, for display and snippets: stored, never indexed (its keys
        # include free-form catalog columns, which must not become mapped fields).
        properties["record"] = {"type": "object", "enabled": False}
        properties.update({col: {"type": "text", "analyzer": "whitespace"} for col in COLUMNS})
        # What a status change needs to write a document again without re-analysing or
        # re-embedding it (:meth:`_update_status`), stored outside _source: the token streams
        # (zlib-compressed JSON) and the passage vectors as float16 bytes, since dense_vector
        # values cannot be read back on 8.x once excluded from _source. "Similar records"
        # reads the vectors too (their mean). float16 keeps cosines within 1e-3 of float32.
        properties["tokens"] = {"type": "binary", "store": True}
        properties["vectors"] = {"type": "binary", "store": True}
        if vectors and self.embedder is not None:
            properties["passages"] = self._passages_mapping()
            meta["embedding"] = self._embedding_meta()
        return {"dynamic": "strict", "_meta": meta,
                "_source": {"excludes": [*COLUMNS, "passages.vector", "tokens", "vectors"]},
                "properties": properties}

    def _index_settings(self, *, bulk: bool = False) -> dict[str, Any]:
        limits = self.settings.search
        result: dict[str, Any] = {
            "number_of_shards": self.shards,
            # a replica once a second node exists; none on a single node (it could not be
            # placed and would leave the cluster yellow)
            "auto_expand_replicas": "0-1",
            # the base class pages up to max_page × max_size deep (hybrid fusion too)
            "max_result_window": max(10_000, limits.max_page * limits.max_size,
                                     limits.candidates),
        }
        if bulk:  # a rebuild: no replica and no refresh until the load is done
            result.update({"auto_expand_replicas": "false", "number_of_replicas": 0,
                           "refresh_interval": "-1"})
        return result

    def _ensure_result_window(self, index: str) -> None:
        wanted = self._index_settings()["max_result_window"]
        have = self._client.indices.get_settings(
            index=index, name="index.max_result_window", include_defaults=True)[index]
        value = (have.get("settings") or have.get("defaults") or {}).get("index", {}).get(
            "max_result_window", 10_000)
        if int(value) < wanted:
            self._client.indices.put_settings(index=index,
                                              settings={"index.max_result_window": wanted})

    def _new_index_name(self) -> str:
        stamp = datetime.now(UTC).strftime("%Y%m%d%H%M%S%f")
        return f"{self.records_alias}-{stamp}"

    def _public_alias_action(self, index: str) -> dict[str, Any]:
        return {"add": {"index": index, "alias": self.public_alias,
                        "filter": {"term": {"open_status": OpenStatus.OPEN.value}}}}

    def _create_live_index(self) -> None:
        name = self._new_index_name()
        self._client.indices.create(
            index=name, settings=self._index_settings(), mappings=self._mappings(vectors=False),
            aliases={self.records_alias: {"is_write_index": True},
                     self.public_alias: {"filter": {"term": {
                         "open_status": OpenStatus.OPEN.value}}}})

    # -- rebuild with an alias swap --------------------------------------------------------
    @contextlib.contextmanager
    def rebuilding(self, *, resume: bool = True) -> Iterator[str]:
        """Write into a fresh index while searches keep using the live one; swap on success.

        Inside the block :meth:`upsert` and :meth:`delete` go to the new index (yielded).
        On success both aliases move to it in one atomic request and the old index is
        deleted. On an exception the new index is kept, unaliased: with ``resume`` the next
        rebuild continues filling it instead of starting again. Writes that other processes
        make to the live index during the rebuild are not carried over: pause them, or
        replay them after the swap (upserts are idempotent).
        """
        self._writable()
        with self._errors():
            live = self._alias_indices(self.records_alias)
            target = self._resumable_index(live) if resume else None
            if target is None:
                target = self._new_index_name()
                self._client.indices.create(index=target, settings=self._index_settings(
                    bulk=True), mappings=self._mappings(vectors=True))
        refresh, self.refresh, self._target = self.refresh, False, target
        self._vector_mapping_ready = False
        try:
            yield target
        finally:
            self.refresh, self._target = refresh, self.records_alias
            self._vector_mapping_ready = False
        with self._errors():
            self._client.indices.put_settings(index=target, settings={
                "index.refresh_interval": None, "index.auto_expand_replicas": "0-1"})
            self._client.indices.refresh(index=target)
            actions: list[dict[str, Any]] = [
                {"remove": {"index": old, "alias": alias}}
                for alias in (self.records_alias, self.public_alias)
                for old in self._alias_indices(alias)]
            actions += [{"add": {"index": target, "alias": self.records_alias,
                                 "is_write_index": True}},
                        self._public_alias_action(target)]
            self._client.indices.update_aliases(actions=actions)
            # the replaced index, and any unfinished rebuild of another configuration
            found = self._client.indices.get(index=f"{self.records_alias}-*",
                                             expand_wildcards="open")
            stale = sorted(n for n in found if n != target)
            if stale:
                self._client.options(ignore_status=404).indices.delete(index=",".join(stale))
            self._has_vectors = None

    def rebuild(self, records: Iterable[Record], *, batch_size: int = 1000, workers: int = 1,
                progress: bool = False, resume: bool = True) -> IndexReport:
        """Reindex everything into a new index and swap it in with no downtime.

        A killed rebuild resumes: records already in the unfinished index with the same
        content are skipped without being analysed again.
        """
        with self.rebuilding(resume=resume):
            return self.upsert(records, batch_size=batch_size, workers=workers,
                               progress=progress, skip_unchanged=resume)

    def _resumable_index(self, live: Sequence[str]) -> str | None:
        """The newest unaliased index of an earlier rebuild with this configuration."""
        found = self._client.options(ignore_status=404).indices.get(
            index=f"{self.records_alias}-*", expand_wildcards="open")
        if found.meta.status != 200:
            return None
        candidates: list[str] = sorted((n for n in found.body if n not in live), reverse=True)
        for name in candidates:
            meta = found.body[name]["mappings"].get("_meta", {})
            wanted = self._wanted_metadata()
            if all(meta.get(k) == v for k, v in wanted.items()) and \
                    meta.get("embedding") == (self._embedding_meta() if self.embedder else None):
                return name
        return None

    # -- writing ---------------------------------------------------------------------------
    def upsert(self, records: Iterable[Record], *, batch_size: int = 500, workers: int = 1,
               progress: bool = False, skip_unchanged: bool = False) -> IndexReport:
        """Insert or replace records by 档号 with the bulk API.

        Streams in chunks of ``batch_size`` (429 answers are retried with backoff), analyses
        in ``workers`` processes, embeds passages when an embedder is set, and reports every
        record that failed (analysis, embedding or indexing) with the reason instead of
        stopping. ``skip_unchanged`` leaves out records stored with identical content (a
        resumed load). Each record is written atomically; a chunk is not.
        """
        from elasticsearch.helpers import streaming_bulk

        self._writable()
        failed: list[tuple[str, str]] = []
        bar = None
        if progress:
            from tqdm import tqdm

            bar = tqdm(desc="indexing", unit="rec", dynamic_ncols=True)

        def fresh(chunks: Iterator[list[Record]]) -> Iterator[list[Record]]:
            for chunk in chunks:
                kept = self._changed(chunk)
                if bar is not None:
                    bar.update(len(chunk) - len(kept))
                if kept:
                    yield kept

        indexed = 0
        with self._errors():
            self._ensure_vector_mapping()
            batches = chunks(records, batch_size)
            if skip_unchanged:
                batches = fresh(batches)
            analysed = analyse_chunks(batches, self.analyzer, workers=workers)

            def actions() -> Iterator[dict[str, Any]]:
                for done, errors in analysed:
                    failed.extend(errors)
                    yield from self._chunk_actions(done, failed)

            try:
                for ok, item in streaming_bulk(
                        self._client, actions(), chunk_size=batch_size,
                        max_chunk_bytes=50 * 2**20, raise_on_error=False,
                        raise_on_exception=False, max_retries=6, initial_backoff=1,
                        max_backoff=60):
                    info = next(iter(item.values()))
                    if ok:
                        indexed += 1
                    else:
                        failed.append((str(info.get("_id")), _reason(info)))
                    if bar is not None:
                        bar.update(1)
            finally:
                if bar is not None:
                    bar.close()
            if self.refresh and (indexed or failed):
                self._client.indices.refresh(index=self._target)
        self._df_cache.clear()
        if indexed and self.embedder is not None:
            self._has_vectors = True
        return IndexReport(indexed=indexed, failed=tuple(failed))

    def _chunk_actions(self, analysed: list[Analysed],
                       failed: list[tuple[str, str]]) -> Iterator[dict[str, Any]]:
        vectors: list[PassageVectors | None] = [None] * len(analysed)
        if self.embedder is not None and analysed:
            try:
                vectors = list(self.embed_records([a[0] for a in analysed]))
            except Exception as exc:  # a model failure loses this chunk, not the load
                failed.extend((a[0].archival_code, f"embedding failed: {exc}") for a in analysed)
                return
        for (record, tokens, _), vec in zip(analysed, vectors, strict=True):
            if len(record.archival_code.encode("utf-8")) > MAX_ID_BYTES:
                # checked here: the server would refuse the whole bulk request, not the record
                failed.append((record.archival_code, f"档号 longer than {MAX_ID_BYTES} bytes "
                               "(the Elasticsearch document id limit)"))
                continue
            try:
                doc = self._document(record, tokens, vec)
            except Exception as exc:  # a malformed record fails alone
                failed.append((str(record.archival_code), f"bad record: {exc!r}"))
                continue
            yield {"_op_type": "index", "_index": self._target, "_id": record.archival_code,
                   "_source": doc}

    def _document(self, record: Record, tokens: tuple[str, ...],
                  vectors: PassageVectors | None) -> dict[str, Any]:
        d0, d1 = record.date_span
        path = self.path_of(record)
        doc: dict[str, Any] = dict(facet_values(record, path))
        doc.update({
            "code": record.archival_code, "sort_code": natural_code(record.archival_code),
            "archive": path.archive, "fonds": path.fonds, "series": path.series,
            "file": path.file, "item": path.item, "d0": d0, "d1": d1,
            "hash": self._hash(record), "record": record.to_dict(),
            "tokens": base64.b64encode(zlib.compress(json.dumps(
                tokens, ensure_ascii=False).encode("utf-8"), 6)).decode("ascii"),
        })
        doc.update(zip(COLUMNS, tokens, strict=True))
        if vectors is not None and len(vectors.vectors):
            matrix = np.asarray(vectors.vectors, dtype=np.float32)
            keep = np.linalg.norm(matrix, axis=1) > 0  # cosine refuses zero vectors
            doc["passages"] = [
                {"vector": [float(x) for x in matrix[i]], "page": vectors.pages[i],
                 "start": vectors.starts[i], "end": vectors.ends[i]}
                for i in range(len(matrix)) if keep[i]]
            if keep.any():
                doc["vectors"] = base64.b64encode(
                    matrix[keep].astype("<f2").tobytes()).decode("ascii")
        return doc

    def _hash(self, record: Record) -> str:
        digest = hashlib.sha1(json.dumps(record.to_dict(), ensure_ascii=False,
                                         sort_keys=True).encode("utf-8"))
        if self.embedder is not None:
            digest.update(self.embedder.model_id.encode())
        return digest.hexdigest()

    def _changed(self, chunk: list[Record]) -> list[Record]:
        """The records of ``chunk`` not already stored with the same content."""
        found = self._client.mget(index=self._target, ids=[r.archival_code for r in chunk],
                                  source_includes=["hash"])
        stored = {d["_id"]: d["_source"].get("hash") for d in found["docs"] if d.get("found")}
        return [r for r in chunk if stored.get(r.archival_code) != self._hash(r)]

    def delete(self, archival_codes: Sequence[str]) -> int:
        from elasticsearch.helpers import streaming_bulk

        self._writable()
        removed = 0
        actions = ({"_op_type": "delete", "_index": self._target, "_id": code}
                   for code in dict.fromkeys(archival_codes))
        with self._errors():
            for _ok, item in streaming_bulk(self._client, actions, raise_on_error=False,
                                            raise_on_exception=False, max_retries=6,
                                            initial_backoff=1):
                info = next(iter(item.values()))
                if info.get("result") == "deleted":
                    removed += 1
                elif info.get("status") != 404:
                    raise LantaiError(f"could not delete {info.get('_id')}: {_reason(info)}")
            if self.refresh and archival_codes:
                self._client.indices.refresh(index=self._target)
        self._df_cache.clear()
        return removed

    def _iter_records(self, filters: Filters) -> Iterator[Record]:
        public = _public_only(filters)
        index = self._index_for(public)
        query = _bool_filter(_filter_clauses(filters))
        after: list[Any] | None = None
        with self._errors():
            while True:
                page = self._client.search(
                    index=index, size=1000, sort=[{"sort_code": "asc"}, {"code": "asc"}],
                    search_after=after, source={"includes": ["record"]},
                    track_total_hits=False, query=self._gate(query, public))
                hits = page["hits"]["hits"]
                for hit in hits:
                    yield Record.from_dict(hit["_source"]["record"])
                if len(hits) < 1000:
                    return
                after = hits[-1]["sort"]

    def _get_many(self, archival_codes: Sequence[str]) -> dict[str, Record]:
        out: dict[str, Record] = {}
        with self._errors():
            for start in range(0, len(archival_codes), 1000):
                chunk = list(archival_codes[start:start + 1000])
                if self.public_only:  # ids lookups ignore alias filters: search instead
                    resp = self._client.search(
                        index=self.public_alias, size=len(chunk),
                        source={"includes": ["record"]},
                        query=self._gate({"ids": {"values": chunk}}, True))
                    docs = [h["_source"] for h in resp["hits"]["hits"]]
                else:
                    found = self._client.mget(index=self.records_alias, ids=chunk,
                                              source_includes=["record"])
                    docs = [d["_source"] for d in found["docs"] if d.get("found")]
                for doc in docs:
                    record = Record.from_dict(doc["record"])
                    out[record.archival_code] = record
        return out

    def _count_filtered(self, filters: Filters) -> int:
        public = _public_only(filters)
        with self._errors():
            return int(self._client.count(
                index=self._index_for(public),
                query=self._gate(_bool_filter(_filter_clauses(filters)), public))["count"])

    def _children(self, filters: Filters, level: Level) -> list[tuple[str, int]]:
        public = _public_only(filters)
        field = ("archive", "fonds", "series", "file")[level - 1]
        with self._errors():
            resp = self._client.search(
                index=self._index_for(public), size=0, track_total_hits=False,
                query=self._gate(_bool_filter(_filter_clauses(filters)), public),
                aggs={"children": {"terms": {"field": field, "size": _MAX_CHILDREN,
                                             "missing": ""}}})
        buckets = resp["aggregations"]["children"]["buckets"]
        return sorted(((str(b["key"]), int(b["doc_count"])) for b in buckets),
                      key=lambda vn: natural_code(vn[0]))

    def _leaves(self, filters: Filters, offset: int, limit: int) -> tuple[int, list[Record]]:
        public = _public_only(filters)
        with self._errors():
            resp = self._client.search(
                index=self._index_for(public), from_=offset, size=limit,
                sort=[{"sort_code": "asc"}, {"code": "asc"}], track_total_hits=True,
                source={"includes": ["record"]},
                query=self._gate(_bool_filter(_filter_clauses(filters)), public))
        return (int(resp["hits"]["total"]["value"]),
                [Record.from_dict(h["_source"]["record"]) for h in resp["hits"]["hits"]])

    def _update_status(self, changes: list[StatusChange]) -> StatusReport:
        """Write each changed document again from what is stored: its ``_source``, its token
        streams and passage vectors from stored fields. Nothing is analysed or embedded; the
        index is refreshed before returning, so the public alias shows the change."""
        from elasticsearch.helpers import streaming_bulk

        self._writable()
        missing: list[str] = []
        actions: list[dict[str, Any]] = []
        with self._errors():
            for start in range(0, len(changes), 500):
                chunk = changes[start:start + 500]
                found = self._client.mget(
                    index=self._target, ids=[c.archival_code for c in chunk],
                    stored_fields=["tokens", "vectors"], source=True)
                for change, doc in zip(chunk, found["docs"], strict=True):
                    if not doc.get("found"):
                        missing.append(change.archival_code)
                        continue
                    actions.append({"_op_type": "index", "_index": self._target,
                                    "_id": doc["_id"],
                                    "_source": self._restatused(doc, change)})
            updated = 0
            failed: list[str] = []
            for ok, item in streaming_bulk(self._client, actions, raise_on_error=False,
                                           raise_on_exception=False, max_retries=6,
                                           initial_backoff=1):
                info = next(iter(item.values()))
                if ok:
                    updated += 1
                else:
                    failed.append(f"{info.get('_id')}: {_reason(info)}")
            if actions:
                self._client.indices.refresh(index=self._target)
        if failed:
            raise LantaiError(f"{len(failed)} status change(s) failed ({updated} written): "
                              + "; ".join(failed[:5]))
        return StatusReport(updated=updated, missing=tuple(missing))

    def _restatused(self, doc: dict[str, Any], change: StatusChange) -> dict[str, Any]:
        """The full document of a stored hit with a new open status."""
        source: dict[str, Any] = dict(doc["_source"])
        fields = doc.get("fields", {})
        if "tokens" not in fields:
            raise IndexMismatch(f"{doc['_id']} has no stored token streams: rebuild the index "
                                "(`lantai index --rebuild CATALOG`)")
        tokens = json.loads(zlib.decompress(base64.b64decode(_first(fields["tokens"]))))
        source.update(zip(COLUMNS, tokens, strict=True))
        source["tokens"] = _first(fields["tokens"])
        if "vectors" in fields:
            source["vectors"] = _first(fields["vectors"])
        passages = source.get("passages") or []
        if passages:
            matrix = np.frombuffer(base64.b64decode(_first(fields["vectors"])), dtype="<f2")
            matrix = matrix.astype(np.float32).reshape(len(passages), -1)
            source["passages"] = [dict(p, vector=[float(x) for x in matrix[i]])
                                  for i, p in enumerate(passages)]
        record = self._changed_record(Record.from_dict(source["record"]), change)
        source.update(open_status=record.open_status.value, record=record.to_dict(),
                      hash=self._hash(record))
        return source

    # -- reading ---------------------------------------------------------------------------
    def _index_for(self, public: bool) -> str:
        if public:
            return self.public_alias
        if self.public_only:
            raise Forbidden("this Lantai may read only the public (开放) records: it was "
                              "opened with public_only, for a front end whose API key can "
                              f"read nothing but {self.public_alias}")
        return self.records_alias

    def _readable(self) -> str:
        """The widest alias this backend may read."""
        return self.public_alias if self.public_only else self.records_alias

    def _writable(self) -> None:
        if self.public_only:
            raise Forbidden("this Lantai was opened with public_only: it cannot write")

    @staticmethod
    def _gate(query: dict[str, Any], public: bool) -> dict[str, Any]:
        if not public:
            return query
        return {"bool": {"must": [query],
                         "filter": [{"term": {"open_status": OpenStatus.OPEN.value}}]}}

    def _get(self, archival_code: str) -> Record | None:
        if self.public_only:
            # A GET by id ignores alias filters: search the public alias instead.
            with self._errors():
                resp = self._client.search(
                    index=self.public_alias, size=1, source={"includes": ["record"]},
                    query=self._gate({"ids": {"values": [archival_code]}}, True))
            hits = resp["hits"]["hits"]
            return Record.from_dict(hits[0]["_source"]["record"]) if hits else None
        with self._errors():
            found = self._client.options(ignore_status=404).get(
                index=self.records_alias, id=archival_code, source_includes=["record"])
        if found.meta.status == 404 or not found.body.get("found"):
            return None
        return Record.from_dict(found["_source"]["record"])


    def _weights(self) -> dict[str, float]:
        """Per-field boosts: the embedded backend's BM25 column weights."""
        s = self.settings.search
        base = {"title": s.title_weight, "body": s.body_weight, "meta": s.meta_weight,
                "creator": s.meta_weight}
        kind = {"uni": s.unigram_weight, "bi": 1.0, "w": s.word_weight}
        weights = {}
        for col in COLUMNS:
            fld, k = col.split("_")
            weights[col] = base[fld] * kind[k]
        return weights

    def _term_frequencies(self, terms: Sequence[str]) -> dict[str, int]:
        return self._document_frequencies(self._readable())(terms)

    def _collection_size(self) -> int:
        with self._errors():
            return int(self._client.count(index=self._readable())["count"])

    def _document_frequencies(self, index: str) -> DocFreq:
        """Records of ``index`` holding each token in any stream, for OR-query planning.

        One ``filters`` aggregation for the tokens not yet cached; the cache lasts until this
        backend writes, or :data:`_DF_TTL_S`. Counted over every record, as the embedded
        backend does (so both choose the same candidates), except with ``public_only``, where
        only the public alias may be read.
        """
        def df(tokens: Sequence[str]) -> dict[str, int]:
            now = time.monotonic()
            if now - self._df_cache_since > _DF_TTL_S:
                self._df_cache.clear()
                self._df_cache_since = now
            cache = self._df_cache.setdefault(index, {})
            found = {t: n for t in tokens if (n := cache.get(t)) is not None}
            missing = list(dict.fromkeys(t for t in tokens if t not in found))
            for start in range(0, len(missing), 500):
                chunk = missing[start:start + 500]
                filters = {str(i): _any_of([{"match_phrase": {c: t}} for c in COLUMNS])
                           for i, t in enumerate(chunk)}
                resp = self._client.search(index=index, size=0, track_total_hits=False,
                                           aggs={"df": {"filters": {"filters": filters}}})
                buckets = resp["aggregations"]["df"]["buckets"]
                for i, token in enumerate(chunk):
                    found[token] = cache[token] = int(buckets[str(i)]["doc_count"])
            return found

        return df

    def _search(self, request: SearchRequest, plan: QueryPlan) -> RawHits:
        index = self._index_for(request.public)
        must = self.compiler.text_query(plan, self._document_frequencies(self._readable()),
                                        OR_CANDIDATE_BUDGET)
        query = self.compiler.filters(request, plan)
        if must:
            query["bool"]["must"] = must
        sort = _sort(request.sort, scored=bool(must))
        aggs = {name: {"terms": {"field": name, "size": request.facet_size,
                                 "order": [{"_count": "desc"}, {"_key": "asc"}]}}
                for name in request.facets}
        with self._errors():
            resp = self._client.search(
                index=index, query=query,
                from_=(request.page - 1) * request.size, size=request.size, sort=sort,
                track_total_hits=True, track_scores=bool(must),
                source={"includes": ["record"]}, aggs=aggs or None)
        scored = [(Record.from_dict(h["_source"]["record"]),
                   float(h["_score"]) if must and h.get("_score") is not None else 0.0)
                  for h in resp["hits"]["hits"]]
        facets = {name: [(_facet_key(b), int(b["doc_count"]))
                         for b in resp["aggregations"][name]["buckets"]]
                  for name in request.facets}
        return RawHits(total=int(resp["hits"]["total"]["value"]), scored=scored, facets=facets)

    # -- vectors ---------------------------------------------------------------------------
    def supports_vectors(self) -> bool:
        if self.embedder is None:
            return False
        if self._has_vectors is None:
            with self._errors():
                count = self._client.count(index=self._readable(), query={"nested": {
                    "path": "passages", "ignore_unmapped": True,
                    "query": {"exists": {"field": "passages.vector"}}}})
            self._has_vectors = count["count"] > 0
        return self._has_vectors

    def _knn(self, request: SearchRequest, plan: QueryPlan, vector: np.ndarray,
             k: int) -> list[VectorHit]:
        """Best records by their best passage (nested kNN), under the same filters as
        :meth:`_search` (filters, periods, exclusions, the 开放 gate) applied inside the kNN
        search, so ``k`` records come back whenever ``k`` qualify.

        Passages are nested in their record's document rather than kept in a second index:
        a record and its passages are written and deleted in one atomic operation (no orphan
        passages after a replace), the public alias and every filter apply to them with no
        join, and nested kNN already returns one hit per record with its best passage.
        Scores are exact cosines on Elasticsearch ≥ 8.18 (see :attr:`rescores_vectors`).
        """
        if not self.supports_vectors():
            raise BadQueryError("this index holds no vectors", "mode")
        k = max(1, min(k, MAX_KNN))
        knn = {"field": "passages.vector",
               "query_vector": [float(x) for x in np.asarray(vector, dtype=np.float32)],
               "k": k, "num_candidates": min(MAX_KNN, max(100, 2 * k)),
               "filter": self.compiler.filters(request, plan),
               "inner_hits": {"size": 1, "_source": False,
                              "fields": ["passages.page", "passages.start", "passages.end"]}}
        if self.rescores_vectors:
            # int8 scores are off by up to ~0.1 on low similarities (measured with the fake
            # embedder); rescoring the best 3k from the float vectors makes them exact, as
            # the embedded backend's, and fusion depends on the scores.
            knn["rescore_vector"] = {"oversample": 3.0}
        with self._errors():
            resp = self._client.search(index=self._index_for(request.public), knn=knn,
                                       size=k, source={"includes": ["record"]})
        hits = []
        for h in resp["hits"]["hits"]:
            inner = h["inner_hits"]["passages"]["hits"]["hits"]
            fields = inner[0].get("fields", {}) if inner else {}
            passage = _first(fields.get("passages", [{}]))
            hits.append(VectorHit(
                record=Record.from_dict(h["_source"]["record"]),
                # Elasticsearch's cosine score is (1 + cos) / 2
                score=2.0 * float(h["_score"]) - 1.0,
                page=int(_first(passage.get("page", [0]))),
                start=int(_first(passage.get("start", [0]))),
                end=int(_first(passage.get("end", [0])))))
        return hits

    def _record_vectors(self, archival_code: str) -> np.ndarray | None:
        """The record's passage vectors (float16 precision), from the stored field."""
        with self._errors():
            resp = self._client.search(
                index=self._readable(), size=1, source=False, stored_fields=["vectors"],
                query=self._gate({"ids": {"values": [archival_code]}}, self.public_only))
        hits = resp["hits"]["hits"]
        stored = hits[0].get("fields", {}).get("vectors") if hits else None
        if not stored:
            return None
        raw = base64.b64decode(_first(stored))
        dim = self.embedder.dim if self.embedder is not None else None
        matrix = np.frombuffer(raw, dtype="<f2").astype(np.float32)
        return matrix.reshape(-1, int(dim)) if dim else matrix.reshape(1, -1)

    # -- metadata, health, lifecycle -------------------------------------------------------
    def metadata(self) -> dict[str, Any]:
        with self._errors():
            if self.public_only:
                found = self._client.indices.get_mapping(index=self.public_alias)
                meta: dict[str, Any] = next(iter(found.body.values()))["mappings"].get(
                    "_meta", {})
                return meta
            return self._index_meta(self._live_index())

    def set_metadata(self, key: str, value: Any) -> None:
        """Record an extra piece of resolved configuration in the index's ``_meta``."""
        with self._errors():
            index = self._live_index()
            meta = self._index_meta(index)
            meta[key] = value
            self._client.indices.put_mapping(index=index, meta=meta)

    def health(self) -> dict[str, Any]:
        """Cluster health, versions and document counts, for ``lantai doctor``.

        Uses ``_cluster/health`` and ``_nodes`` rather than ``GET /``, which the
        integration-test build of Elasticsearch does not serve.
        """
        with self._errors():
            health = self._client.cluster.health()
            nodes = self._client.nodes.info(filter_path="nodes.*.version")
            result: dict[str, Any] = {
                "cluster": health["cluster_name"], "status": health["status"],
                "nodes": health["number_of_nodes"],
                "versions": sorted({n["version"] for n in nodes.get("nodes", {}).values()}),
                "public_records": self._count_filtered(Filters(open_status=(OpenStatus.OPEN,))),
                "vectors": self.supports_vectors(),
            }
            if self.public_only:  # the rest needs rights on the whole index
                return result
            live = self._alias_indices(self.records_alias)
            stats = self._client.indices.stats(index=self.records_alias, metric="store")
            result.update({
                "index": live[0] if live else None,
                "aliases": {self.records_alias: live,
                            self.public_alias: self._alias_indices(self.public_alias)},
                "records": self._count_filtered(Filters()),
                "store_bytes": sum(s["primaries"]["store"]["size_in_bytes"]
                                   for s in stats["indices"].values()),
            })
        return result

    def drop(self) -> None:
        """Delete every index and alias of this prefix (tests, `--rebuild` from scratch)."""
        client = self._client
        if self._closed:  # the test fixtures close a backend before dropping its indices
            client = connect(self.settings.elasticsearch)
        try:
            with self._errors():
                found = client.options(ignore_status=404).indices.get(
                    index=f"{self.records_alias}-*", expand_wildcards="all")
                names = sorted(found.body) if found.meta.status == 200 else []
                if names:  # by name: production clusters refuse wildcard deletes
                    client.options(ignore_status=404).indices.delete(index=",".join(names))
                if not self._closed:  # an open backend keeps an (empty) index to write to
                    self.labels = type(self.labels)()
                    self._create_live_index()
        finally:
            if client is not self._client:
                client.close()
        self._has_vectors = None
        self._vector_mapping_ready = False
        self._df_cache.clear()

    def close(self) -> None:
        if self._owns_client and not self._closed:
            self._client.close()
            self._closed = True


def connect(es: ElasticsearchSettings) -> Elasticsearch:
    """A client for the cluster in ``es`` (URL list, API key or basic auth, CA, timeout)."""
    module = require("elasticsearch", "elasticsearch", "the Elasticsearch backend")
    if not es.urls:
        raise ConfigError("elasticsearch.urls is empty: give at least one node URL")
    kwargs: dict[str, Any] = {"hosts": list(es.urls), "request_timeout": es.request_timeout,
                              "retry_on_timeout": True, "max_retries": 3}
    if es.api_key:
        kwargs["api_key"] = es.api_key
    elif es.username:
        kwargs["basic_auth"] = (es.username, es.password)
    if es.ca_certs:
        kwargs["ca_certs"] = es.ca_certs
    try:
        client: Elasticsearch = module.Elasticsearch(**kwargs)  # type: ignore[attr-defined]
    except ValueError as exc:  # a malformed URL
        raise ConfigError(f"elasticsearch.urls: {exc}") from exc
    return client


#: Most children one hierarchy node lists (terms aggregation size).
_MAX_CHILDREN = 10_000


def _filter_clauses(f: Filters) -> list[dict[str, Any]]:
    """Filter clauses of structured filters (facets, hierarchy, 档号, date overlap)."""
    selected: list[dict[str, Any]] = [
        {"terms": {"code" if name == "archival_code" else name: list(values)}}
        for name, values in f.facet_filters().items()]
    if f.date_from is not None:
        selected.append({"range": {"d1": {"gte": f.date_from}}})
    if f.date_to is not None:
        selected.append({"range": {"d0": {"lte": f.date_to}}})
    return selected


def _bool_filter(clauses: list[dict[str, Any]]) -> dict[str, Any]:
    return {"bool": {"filter": clauses}} if clauses else {"match_all": {}}


def _public_only(filters: Filters) -> bool:
    """Whether ``filters`` admit only 开放 records (then the public alias is read)."""
    return filters.open_status == (OpenStatus.OPEN,)


def _sort(order: SortOrder, *, scored: bool) -> list[Any]:
    """The embedded backend's orders: ties by 档号, undated records last."""
    if order is SortOrder.DATE:
        return [{"d0": {"order": "asc", "missing": "_last"}}, {"sort_code": "asc"}]
    if order is SortOrder.DATE_DESC:
        return [{"d0": {"order": "desc", "missing": "_last"}}, {"sort_code": "asc"}]
    if order is SortOrder.CODE or not scored:
        return [{"sort_code": "asc"}]
    return [{"_score": "desc"}, {"sort_code": "asc"}]


def _facet_key(bucket: dict[str, Any]) -> str:
    key = bucket["key"]
    return str(int(key)) if isinstance(key, float) and key.is_integer() else str(key)


def _first(value: Any) -> Any:
    return value[0] if isinstance(value, list) and value else value


def _reason(info: Any) -> str:
    """A one-line reason from a bulk item or an error body."""
    if not isinstance(info, dict):
        return str(info)
    error = info.get("error", info)
    if isinstance(error, dict):
        text = f"{error.get('type', 'error')}: {error.get('reason', '')}"
        cause = error.get("caused_by")
        if isinstance(cause, dict) and cause.get("reason"):
            text += f" ({cause['reason']})"
        return text
    status = info.get("status")
    return f"{error} (HTTP {status})" if status else str(error)


