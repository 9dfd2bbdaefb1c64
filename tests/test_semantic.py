"""Semantic and hybrid search in the embedded backend (passages + vector store), with the
deterministic fake embedder: passages follow upserts and deletes, the public gate holds in
every vector path, filters apply before ranking, the model is checked, and a crash between the
SQLite commit and the vector commit leaves a consistent index."""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
import textwrap
from collections.abc import Callable, Iterator
from pathlib import Path

import numpy as np
import pytest

from lantai.catalog.model import OpenStatus, Record
from lantai.config import Settings
from lantai.errors import BadQueryError, IndexMismatch, LantaiError, RecordNotFound
from lantai.search.backends import embedded_vectors
from lantai.search.backends.base import Filters, SearchMode, SearchRequest
from lantai.search.backends.embedded import EmbeddedBackend
from lantai.search.embeddings import Embedder, create_embedder
from lantai.search.vectors import VectorStore

from .conftest import record

SECRET = {"X001-WS·1985-Y-0099", "X001-WS·1990-Y-0100"}
ROOT = Path(__file__).resolve().parents[1]

Opener = Callable[..., EmbeddedBackend]


@pytest.fixture
def open_backend(settings: Settings) -> Iterator[Opener]:
    opened: list[EmbeddedBackend] = []

    def factory(embedder: Embedder | str = "fake:64") -> EmbeddedBackend:
        model = create_embedder(embedder) if isinstance(embedder, str) else embedder
        backend = EmbeddedBackend(settings, embedder=model)
        opened.append(backend)
        return backend

    yield factory
    for backend in opened:
        backend.close()


@pytest.fixture
def loaded(open_backend: Opener, sample_records: list[Record]) -> EmbeddedBackend:
    backend = open_backend()
    assert backend.upsert(sample_records).indexed == len(sample_records)
    return backend


def passage_rows(backend: EmbeddedBackend, code: str) -> list[tuple[int, int, int, int]]:
    return backend._conn().execute(
        "SELECT p.id, p.page, p.char_start, p.char_end FROM passages p "
        "JOIN records r ON r.rowid = p.record WHERE r.code = ? ORDER BY p.id", (code,)).fetchall()


def store_of(backend: EmbeddedBackend) -> VectorStore:
    assert backend._passages is not None
    return backend._passages._store


def consistent(backend: EmbeddedBackend) -> None:
    """Every passage has a vector, no journal is left, and the counts agree."""
    conn = backend._conn()
    keys = [row[0] for row in conn.execute("SELECT id FROM passages")]
    store = store_of(backend)
    assert all(k in store for k in keys)
    assert len(store) == len(keys)
    assert conn.execute("SELECT count(*) FROM passage_journal").fetchone()[0] == 0


def codes(result) -> list[str]:  # type: ignore[no-untyped-def]
    return [h.record_id for h in result.hits]


def topic_records(n: int, *, fonds: str, text: str, start: int = 0, **fields: object
                  ) -> list[Record]:
    return [record(f"{fonds}-WS·1940-Y-{start + i:04d}", f"{text}第{start + i}号",
                   f"{text}。第{start + i}件，编号{start + i}。", fonds=fonds, **fields)
            for i in range(n)]


# -- passages follow the records ----------------------------------------------------------
def test_passages_written_replaced_and_deleted(loaded: EmbeddedBackend) -> None:
    code = "J001-WS·1939-Y-0001"
    before = passage_rows(loaded, code)
    assert before, "every record gets at least one passage"
    original = loaded.get(code)
    for _, page, start, end in before:
        assert original.pages[page][start:end].strip()
    consistent(loaded)

    long_text = "。".join(f"第{i}段讲述救济难民与米价上涨的经过，共有若干细节" for i in range(40))
    loaded.upsert([record(code, "改写后的报告", long_text, fonds="J001")])
    after = passage_rows(loaded, code)
    assert len(after) > 1 and not {r[0] for r in before} & {r[0] for r in after}
    assert all(k not in store_of(loaded) for k, *_ in before)
    consistent(loaded)

    assert loaded.delete([code]) == 1
    assert passage_rows(loaded, code) == []
    assert all(k not in store_of(loaded) for k, *_ in after)
    consistent(loaded)
    assert loaded.metadata()["embedding"] == {"model": "fake-char-ngram-v1/dim=64", "dim": 64}


def test_record_without_text_gets_a_catalog_passage(loaded: EmbeddedBackend) -> None:
    rows = passage_rows(loaded, "X012-WS·1958-Y-0001")  # no pages, only a title
    assert len(rows) == 1
    assert loaded.similar("X012-WS·1958-Y-0001", k=3)


# -- semantic and hybrid search --------------------------------------------------------------
def test_semantic_and_hybrid_return_records(loaded: EmbeddedBackend) -> None:
    assert loaded.supports_vectors()
    for mode in (SearchMode.SEMANTIC, SearchMode.HYBRID, None):
        result = loaded.search(SearchRequest("敌机轰炸市区", mode=mode))
        assert codes(result)[0] == "J017-001-002-003", mode
        assert len(set(codes(result))) == len(codes(result))
    # The default mode of an index with vectors is hybrid (same ranking as asking for it).
    default = loaded.search(SearchRequest("难民 救济"))
    hybrid = loaded.search(SearchRequest("难民 救济", mode=SearchMode.HYBRID))
    assert codes(default) == codes(hybrid)


def test_semantic_hit_locates_its_passage(loaded: EmbeddedBackend) -> None:
    from lantai.search.query import QueryPlan

    vectors = loaded._record_vectors("J001-WS·1939-Y-0001")
    assert vectors is not None
    hits = loaded._knn(SearchRequest(), QueryPlan(raw=""), vectors[0], 3)
    assert len(hits) == 3
    assert hits[0].record.archival_code == "J001-WS·1939-Y-0001"
    assert hits[0].score == pytest.approx(1.0, abs=1e-2)
    first = hits[0]
    assert first.record.pages[first.page][first.start:first.end] == first.record.pages[0]
    for hit in hits:  # the three nearest records all have text: each hit points into it
        assert hit.record.pages[hit.page][hit.start:hit.end].strip(), hit.record.archival_code
    assert [h.score for h in hits] == sorted((h.score for h in hits), reverse=True)


def test_keyword_only_index_refuses_semantic_mode(settings: Settings,
                                                  sample_records: list[Record]) -> None:
    backend = EmbeddedBackend(settings)
    backend.upsert(sample_records)
    with pytest.raises(BadQueryError) as err:
        backend.search(SearchRequest("难民", mode=SearchMode.SEMANTIC))
    assert err.value.param == "mode"
    backend.close()


# -- the public gate -------------------------------------------------------------------------
@pytest.mark.parametrize("mode", [SearchMode.SEMANTIC, SearchMode.HYBRID])
def test_public_gate_in_vector_modes(loaded: EmbeddedBackend, mode: SearchMode) -> None:
    query = "杨靖宇纪念馆扩建绝密方案 未审核的杨靖宇资料"
    public = loaded.search(SearchRequest(query, mode=mode, size=50))
    assert public.hits and not SECRET & set(codes(public))
    # The gate applies before ranking: asked for the 6 records nearest a secret one, the
    # vector search gives the 6 public records, not 6 minus the secret ones that rank high.
    from lantai.search.query import QueryPlan

    nearest_secret = loaded._record_vectors("X001-WS·1985-Y-0099")
    assert nearest_secret is not None
    gated = SearchRequest(filters=Filters(open_status=(OpenStatus.OPEN,)))
    top = loaded._knn(gated, QueryPlan(raw=""), nearest_secret[0], 6)
    assert len(top) == 6 and not SECRET & {h.record.archival_code for h in top}
    assert all(h.record.open_status is OpenStatus.OPEN for h in public.hits)
    # Even a filter asking for them explicitly cannot widen a public search.
    asked = loaded.search(SearchRequest(query, mode=mode, size=50, filters=Filters(
        open_status=(OpenStatus.CONTROLLED, OpenStatus.UNREVIEWED))))
    assert not SECRET & set(codes(asked))
    staff = loaded.search(SearchRequest(query, mode=mode, size=50, public=False))
    assert set(codes(staff)) >= SECRET, "the staff view sees them: the gate is what hides them"


def test_public_gate_in_similar(loaded: EmbeddedBackend) -> None:
    similar = loaded.similar("J001-WS·1939-Y-0001", k=20)
    assert similar and all(r.is_public for r in similar)
    assert not SECRET & {r.archival_code for r in similar}
    assert "J001-WS·1939-Y-0001" not in {r.archival_code for r in similar}
    staff = loaded.similar("J001-WS·1939-Y-0001", k=20, public=False)
    assert SECRET & {r.archival_code for r in staff}
    with pytest.raises(RecordNotFound):
        loaded.similar("X001-WS·1985-Y-0099")
    assert loaded.similar("X001-WS·1985-Y-0099", public=False)


# -- filters before ranking --------------------------------------------------------------------
@pytest.mark.parametrize("ann", [False, True])
def test_filters_apply_before_ranking(open_backend: Opener, monkeypatch: pytest.MonkeyPatch,
                                      ann: bool) -> None:
    if ann:
        pytest.importorskip("usearch")
        monkeypatch.setattr(embedded_vectors, "ANN_THRESHOLD", 50)
    backend = open_backend()
    # 150 records close to the query in fonds J001, 12 far from it in fonds X009: a search
    # that ranked first and filtered afterwards would find no X009 record in its top k.
    near = topic_records(150, fonds="J001", text="日机轰炸市区平民伤亡惨重")
    far = topic_records(12, fonds="X009", text="商会议定米价平粜办法", start=500)
    backend.upsert(near + far)
    if ann:
        assert store_of(backend).has_ann
    for mode in (SearchMode.SEMANTIC, SearchMode.HYBRID):
        result = backend.search(SearchRequest("日机轰炸 平民伤亡", mode=mode, size=10,
                                              filters=Filters(fonds=("X009",))))
        assert len(result.hits) == 10, mode
        assert {h.record.fonds for h in result.hits} == {"X009"}
    # In the query text too (全宗:X009), and k = all that qualify when fewer do.
    result = backend.search(SearchRequest("全宗:X009 日机轰炸", mode=SearchMode.SEMANTIC,
                                          size=50))
    assert len(result.hits) == 12 and {h.record.fonds for h in result.hits} == {"X009"}


def test_periods_and_exclusions_apply_to_vectors(loaded: EmbeddedBackend) -> None:
    dated = loaded.search(SearchRequest("1939年 轰炸", mode=SearchMode.SEMANTIC, size=20))
    # exactly the public records of 1939 (none of the others mentions the year in its text)
    assert set(codes(dated)) == {"J001-WS·1939-Y-0001", "J001-WS·1939-Y-0002",
                                 "J017-001-002-003"}
    excluded = loaded.search(SearchRequest("杨靖宇 -公私合营", mode=SearchMode.SEMANTIC,
                                           size=20))
    assert "J001-WS·1939-Y-0001" in codes(excluded)
    assert "X012-WS·1956-D30-0003" not in codes(excluded)


def test_k_distinct_records_when_records_have_many_passages(open_backend: Opener) -> None:
    backend = open_backend()
    body = "\n\n".join(f"第{i}段：日机轰炸市区，平民伤亡，救护队出动。" * 8 for i in range(6))
    backend.upsert([record(f"J002-WS·1939-Y-{i:04d}", f"轰炸报告{i}", body, fonds="J002")
                    for i in range(30)])
    assert len(passage_rows(backend, "J002-WS·1939-Y-0000")) >= 4
    result = backend.search(SearchRequest("日机轰炸", mode=SearchMode.SEMANTIC, size=20))
    assert len(result.hits) == 20 and len(set(codes(result))) == 20


# -- model, persistence, crashes ----------------------------------------------------------------
class OtherModel(Embedder):
    """Same dimension as the fake, another model id."""

    def __init__(self) -> None:
        self._fake = create_embedder("fake:64")
        self.dim = 64
        self.model_id = "other-model/v2"

    def embed_documents(self, texts, *, batch_size=32, progress=False):  # type: ignore[no-untyped-def]
        return self._fake.embed_documents(texts)

    def embed_query(self, text):  # type: ignore[no-untyped-def]
        return self._fake.embed_query(text)


def test_model_mismatch_is_refused(loaded: EmbeddedBackend, open_backend: Opener) -> None:
    loaded.close()
    for other in ("fake:32", OtherModel()):
        with pytest.raises(IndexMismatch) as err:
            open_backend(other)
        message = str(err.value)
        assert "fake-char-ngram-v1/dim=64" in message
        wanted = "fake-char-ngram-v1/dim=32" if other == "fake:32" else "other-model/v2"
        assert wanted in message


def test_index_without_vectors_adopts_the_model(open_backend: Opener,
                                               sample_records: list[Record]) -> None:
    open_backend("fake:32").close()  # opened, nothing written: no model recorded yet
    backend = open_backend("fake:64")
    assert "embedding" not in backend.metadata()
    backend.upsert(sample_records[:2])
    assert backend.metadata()["embedding"] == {"model": "fake-char-ngram-v1/dim=64", "dim": 64}
    index_json = json.loads((Path(backend.path).parent / "index.json").read_text("utf-8"))
    assert index_json["embedding"]["dim"] == 64


def test_reopen_keeps_passages_and_vectors(loaded: EmbeddedBackend, open_backend: Opener) -> None:
    query = SearchRequest("救济难民 米价", mode=SearchMode.SEMANTIC)
    before = [(h.record_id, h.score) for h in loaded.search(query).hits]
    count = len(store_of(loaded))
    loaded.close()
    again = open_backend()
    assert again.supports_vectors() and len(store_of(again)) == count
    assert [(h.record_id, h.score) for h in again.search(query).hits] == before
    consistent(again)


def test_crash_between_sqlite_and_vector_commit(loaded: EmbeddedBackend, open_backend: Opener,
                                               monkeypatch: pytest.MonkeyPatch) -> None:
    replaced = "J001-WS·1939-Y-0002"
    deleted = "J017-001-002-003"
    old_keys = [r[0] for r in passage_rows(loaded, replaced) + passage_rows(loaded, deleted)]

    def fail(self: VectorStore) -> None:
        raise OSError("disk full")

    monkeypatch.setattr(VectorStore, "commit", fail)
    with pytest.raises(LantaiError, match="re-embedded"):
        loaded.upsert([
            record("J005-WS·1946-Y-0001", "接收敌伪产业清册", "抗战胜利后接收敌伪工厂三处。",
                   fonds="J005", year=1946),
            record(replaced, "难民收容所迁移报告", "难民收容所迁往城西，另设粥厂。",
                   fonds="J001", year=1939),
        ])
    with pytest.raises(LantaiError, match="re-embedded"):
        loaded.delete([deleted])
    monkeypatch.undo()
    # SQLite has the new state; the vector files still hold the old one.
    assert loaded.get("J005-WS·1946-Y-0001").title == "接收敌伪产业清册"
    assert all(k in store_of(loaded) for k in old_keys)  # orphans
    # Already consistent for search: orphan vectors of gone passages are ignored.
    staff = loaded.search(SearchRequest("敌机 轰炸 市区", mode=SearchMode.SEMANTIC,
                                        public=False, size=50))
    assert deleted not in codes(staff)
    loaded.close()

    reopened = open_backend()  # repairs: drops orphans, re-embeds the records without vectors
    consistent(reopened)
    assert all(k not in store_of(reopened) for k in old_keys)
    found = reopened.search(SearchRequest("接收敌伪工厂", mode=SearchMode.SEMANTIC))
    assert codes(found)[0] == "J005-WS·1946-Y-0001"
    found = reopened.search(SearchRequest("难民收容所迁往城西", mode=SearchMode.SEMANTIC))
    assert codes(found)[0] == replaced
    assert deleted not in codes(reopened.search(SearchRequest("敌机轰炸", size=50)))


def test_killed_writer_is_repaired_on_open(settings: Settings, open_backend: Opener,
                                          sample_records: list[Record]) -> None:
    """A real crash: a process dies right after its SQLite commit, before the vectors."""
    first = open_backend()
    first.upsert(sample_records)
    first.close()
    script = textwrap.dedent(f"""
        import os
        from pathlib import Path
        from lantai.config import load_settings
        from lantai.search.backends.embedded import EmbeddedBackend
        from lantai.search.embeddings import create_embedder
        from lantai.catalog.model import OpenStatus, Record
        from lantai.search.vectors import VectorStore

        VectorStore.commit = lambda self: os._exit(3)
        settings = load_settings(environ={{}}, overrides={{"data_dir": {str(settings.data_dir)!r}}})
        backend = EmbeddedBackend(settings, embedder=create_embedder("fake:64"))
        backend.upsert([Record(archival_code="J009-WS·1937-Y-0001", title="淞沪会战伤兵救护",
                               pages=("八一三淞沪会战，红十字会设伤兵医院救护伤兵。",),
                               open_status=OpenStatus.OPEN)])
    """)
    env = {k: v for k, v in os.environ.items() if not k.startswith("LANTAI_")}
    done = subprocess.run([sys.executable, "-c", script], cwd=ROOT, env=env, timeout=120,
                          capture_output=True, text=True)
    assert done.returncode == 3, done.stderr
    db = sqlite3.connect(Path(settings.data_dir) / "index.sqlite")
    assert db.execute("SELECT count(*) FROM passage_journal").fetchone()[0] > 0
    db.close()

    reopened = open_backend()
    consistent(reopened)
    result = reopened.search(SearchRequest("淞沪会战 伤兵医院", mode=SearchMode.SEMANTIC))
    assert codes(result)[0] == "J009-WS·1937-Y-0001"


def test_repair_leaves_a_live_writer_alone(loaded: EmbeddedBackend) -> None:
    index = loaded._passages
    assert index is not None
    conn = loaded._conn()
    conn.execute("INSERT INTO passage_journal VALUES (999999, 1, ?)", (index._token,))
    index._begin_flight()  # as if this writer were between its two commits
    try:
        assert index.repair().skipped
    finally:
        index._end_flight()
    report = index.repair()  # now the writer is gone: its row is cleaned up
    assert not report.skipped
    consistent(loaded)


def test_missing_vector_store_is_rebuilt(loaded: EmbeddedBackend, open_backend: Opener) -> None:
    directory = store_of(loaded).directory
    loaded.close()
    for entry in directory.iterdir():
        entry.unlink()
    directory.rmdir()
    reopened = open_backend()
    consistent(reopened)
    result = reopened.search(SearchRequest("敌机轰炸市区", mode=SearchMode.SEMANTIC))
    assert codes(result)[0] == "J017-001-002-003"


def test_vectors_are_float_rows_of_the_model_dimension(loaded: EmbeddedBackend) -> None:
    vectors = loaded._record_vectors("J001-WS·1939-Y-0001")
    assert vectors is not None and vectors.shape[1] == 64
    np.testing.assert_allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-2)
    assert loaded._record_vectors("no-such-code") is None


def test_allowed_keys_follow_writes_from_any_connection(loaded: EmbeddedBackend,
                                                       open_backend: Opener) -> None:
    """The cached list of passages a filter admits is rebuilt after a write, whether this
    backend or another connection (another process) made it."""
    index = loaded._passages
    assert index is not None
    conn = loaded._conn()
    where, args = ["r.open_status IN (?)"], [OpenStatus.OPEN.value]
    code = "J017-001-002-003"
    vector = loaded._record_vectors(code)
    assert vector is not None

    def found() -> set[int]:
        return {h.record for h in index.search(conn, vector[0], 20, where, args)}

    rowid = conn.execute("SELECT rowid FROM records WHERE code = ?", (code,)).fetchone()[0]
    assert rowid in found()
    closed = [r if r.archival_code != code else record(
        code, r.title, r.text, fonds=r.fonds, open_status=OpenStatus.CONTROLLED)
        for r in [loaded.get(code)]]
    loaded.upsert(closed)  # this backend's own connection
    assert rowid not in found()
    other = open_backend()
    reopened = record(code, "敵機轟炸市區損失調查表", "敵機九架轟炸市區。", fonds="J017")
    other.upsert([reopened])  # another connection
    rowid = conn.execute("SELECT rowid FROM records WHERE code = ?", (code,)).fetchone()[0]
    assert rowid in found()
