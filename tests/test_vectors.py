"""Tests for the embedded backend's vector store (lantai.search.vectors)."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np
import pytest

from lantai.errors import ConfigError, IndexMismatch, LantaiError, MissingDependency
from lantai.search import vectors as vmod
from lantai.search.vectors import VectorStore

DIM = 32


def _random(n: int, dim: int = DIM, seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).standard_normal((n, dim)).astype(np.float32)


def _clustered(n: int, dim: int, clusters: int, seed: int) -> np.ndarray:
    """Gaussian blobs around random centres: closer to real embeddings than pure noise."""
    rng = np.random.default_rng(seed)
    centres = rng.standard_normal((clusters, dim)).astype(np.float32)
    labels = rng.integers(0, clusters, n)
    return centres[labels] + 0.6 * rng.standard_normal((n, dim)).astype(np.float32)


def _brute_force(store: VectorStore, keys: np.ndarray, q: np.ndarray, k: int) -> list[int]:
    """Reference ranking over the store's own decoded vectors (score desc, key asc)."""
    vecs = store.get(keys)
    qn = q / np.linalg.norm(q)
    scores = vecs @ qn
    order = np.lexsort((keys, -scores))[:k]
    return [int(key) for key in keys[order]]


@pytest.fixture(params=["float16", "int8"])
def dtype(request: pytest.FixtureRequest) -> str:
    return str(request.param)


def test_add_search_replace_remove(tmp_path: Path, dtype: str) -> None:
    store = VectorStore(tmp_path / "v", DIM, dtype=dtype)
    vecs = _random(200)
    store.add(np.arange(200), vecs)
    assert len(store) == 200
    hits = store.search(vecs[17], 5)
    assert hits[0][0] == 17
    assert hits[0][1] == pytest.approx(1.0, abs=0.01)
    assert [s for _, s in hits] == sorted((s for _, s in hits), reverse=True)

    # Replacing key 17 with the vector of key 3 moves it.
    store.add(np.array([17]), vecs[3:4])
    assert len(store) == 200
    top2 = {key for key, _ in store.search(vecs[3], 2)}
    assert top2 == {3, 17}
    assert store.search(vecs[17], 1)[0][0] != 17

    assert store.remove(np.array([3, 17, 999])) == 2
    assert len(store) == 198
    assert 3 not in store and 17 not in store and 4 in store
    assert all(key not in (3, 17) for key, _ in store.search(vecs[3], 198))
    assert store.remove(np.array([3])) == 0


def test_repeated_key_in_one_batch_keeps_last(tmp_path: Path) -> None:
    store = VectorStore(tmp_path / "v", DIM)
    vecs = _random(3)
    store.add(np.array([5, 5, 6]), vecs)
    assert len(store) == 2
    np.testing.assert_allclose(
        store.get(np.array([5]))[0], vecs[1] / np.linalg.norm(vecs[1]), atol=1e-3
    )


def test_exact_search_matches_brute_force_across_chunks(
    tmp_path: Path, dtype: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(vmod, "_CHUNK_ROWS", 64)  # many chunks and segments
    store = VectorStore(tmp_path / "v", DIM, dtype=dtype)
    vecs = _random(1000, seed=1)
    keys = np.random.default_rng(2).permutation(10_000)[:1000]
    store.add(keys[:400], vecs[:400])
    store.commit()
    store.add(keys[400:], vecs[400:])
    store.remove(keys[::7])
    live = np.setdiff1d(keys, keys[::7])
    for qi in range(5):
        q = _random(1, seed=100 + qi)[0]
        got = [key for key, _ in store.search(q, 10)]
        assert got == _brute_force(store, live, q, 10)


def test_ties_are_broken_by_key(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(vmod, "_CHUNK_ROWS", 4)
    store = VectorStore(tmp_path / "v", DIM)
    same = np.repeat(_random(1, seed=3), 20, axis=0)
    keys = np.random.default_rng(4).permutation(np.arange(100, 120))
    store.add(keys, same)
    store.add(np.arange(20), _random(20, seed=5))
    hits = store.search(same[0], 6)
    assert [key for key, _ in hits] == [100, 101, 102, 103, 104, 105]
    assert store.search(same[0], 6, allowed=np.arange(200)) == hits


def test_k_larger_than_store_and_empty_store(tmp_path: Path) -> None:
    store = VectorStore(tmp_path / "v", DIM)
    assert store.search(_random(1)[0], 5) == []
    store.add(np.arange(3), _random(3))
    assert len(store.search(_random(1)[0], 10)) == 3
    assert store.search(_random(1)[0], 10, allowed=np.array([], dtype=np.int64)) == []


def test_persistence_across_reopen(tmp_path: Path, dtype: str) -> None:
    path = tmp_path / "v"
    store = VectorStore(path, DIM, dtype=dtype)
    vecs = _random(500, seed=6)
    for lo in range(0, 500, 50):  # ten commits exercise segment merging
        store.add(np.arange(lo, lo + 50), vecs[lo : lo + 50])
        store.commit()
    store.remove(np.arange(0, 500, 10))
    store.add(np.array([1]), vecs[2:3])
    store.commit()
    q = _random(1, seed=7)[0]
    expected = store.search(q, 10)

    meta = json.loads((path / vmod.META_FILE).read_text())
    assert len(meta["segments"]) <= 4

    reopened = VectorStore.open(path)
    assert (reopened.dim, reopened.dtype, len(reopened)) == (DIM, dtype, 450)
    assert reopened.search(q, 10) == expected
    assert 0 not in reopened and 1 in reopened
    np.testing.assert_allclose(reopened.get(np.array([1])), reopened.get(np.array([2])))
    # Only files named by the metadata remain.
    assert {p.name for p in path.iterdir()} == vmod._meta_files(meta)


def test_heavy_deletion_compacts(tmp_path: Path) -> None:
    path = tmp_path / "v"
    store = VectorStore(path, DIM)
    store.add(np.arange(1000), _random(1000))
    store.commit()
    store.remove(np.arange(500))
    store.commit()
    meta = json.loads((path / vmod.META_FILE).read_text())
    assert meta["rows"] == 500 and meta["dead"] is None and meta["count"] == 500


def test_crash_before_metadata_swap_keeps_previous_state(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "v"
    store = VectorStore(path, DIM)
    vecs = _random(300, seed=8)
    store.add(np.arange(100), vecs[:100])
    store.commit()
    before = store.search(vecs[150], 5)

    store.add(np.arange(100, 300), vecs[100:])
    store.remove(np.arange(10))

    def crash(directory: Path, meta: dict[str, object]) -> None:
        raise OSError("disk full")

    monkeypatch.setattr(vmod, "_write_meta", crash)
    with pytest.raises(OSError, match="disk full"):
        store.commit()
    monkeypatch.undo()

    reopened = VectorStore.open(path)
    assert len(reopened) == 100 and 5 in reopened and 150 not in reopened
    assert reopened.search(vecs[150], 5) == before
    # The next successful commit sweeps the crashed commit's orphans.
    reopened.add(np.array([1000]), vecs[:1])
    reopened.commit()
    meta = json.loads((path / vmod.META_FILE).read_text())
    assert {p.name for p in path.iterdir()} == vmod._meta_files(meta)
    assert len(VectorStore.open(path)) == 101


def test_crash_while_writing_arrays(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "v"
    store = VectorStore(path, DIM, dtype="int8")
    store.add(np.arange(50), _random(50))
    store.commit()
    store.add(np.arange(50, 60), _random(10, seed=9))

    real_save = vmod._save_array
    calls = []

    def failing_save(target: Path, array: np.ndarray) -> None:
        calls.append(target)
        if len(calls) == 2:
            # Half-written temp file, as a crash would leave it.
            target.with_name(target.name + ".tmp").write_bytes(b"\x93NUMPY garbage")
            raise OSError("killed")
        real_save(target, array)

    monkeypatch.setattr(vmod, "_save_array", failing_save)
    with pytest.raises(OSError, match="killed"):
        store.commit()
    monkeypatch.undo()
    assert len(VectorStore.open(path)) == 50


def test_new_store_replaces_old_only_at_commit(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "v"
    old_vecs = _random(10)
    old = VectorStore(path, DIM)
    old.add(np.arange(10), old_vecs)
    old.commit()
    new = VectorStore(path, DIM)
    new.add(np.arange(100, 105), _random(5, seed=1))
    assert len(VectorStore.open(path)) == 10

    # A rebuild that crashes before its metadata swap must not have touched the old files.
    def crash(directory: Path, meta: dict[str, object]) -> None:
        raise OSError("power cut")

    monkeypatch.setattr(vmod, "_write_meta", crash)
    with pytest.raises(OSError, match="power cut"):
        new.commit()
    monkeypatch.undo()
    survivor = VectorStore.open(path)
    assert survivor.search(old_vecs[4], 1)[0][0] == 4

    new.commit()
    reopened = VectorStore.open(path)
    assert len(reopened) == 5 and 100 in reopened and 0 not in reopened


def test_refresh_adopts_another_writers_commit(tmp_path: Path) -> None:
    path = tmp_path / "v"
    writer = VectorStore(path, DIM)
    writer.add(np.arange(10), _random(10))
    writer.commit()
    reader = VectorStore.open(path)
    assert reader.refresh() is False
    writer.add(np.arange(10, 20), _random(10, seed=1))
    writer.remove(np.array([0]))
    writer.commit()
    assert len(reader) == 10 and 0 in reader
    assert reader.refresh() is True
    assert len(reader) == 19 and 0 not in reader and 15 in reader
    reader.add(np.array([99]), _random(1))
    with pytest.raises(LantaiError, match="uncommitted"):
        reader.refresh()


def test_concurrent_search_and_add(tmp_path: Path) -> None:
    import threading

    store = VectorStore(tmp_path / "v", DIM, ann_threshold=300)
    vecs = _clustered(2000, DIM, clusters=10, seed=17)
    store.add(np.arange(500), vecs[:500])
    errors: list[BaseException] = []

    def searcher() -> None:
        try:
            for i in range(100):
                assert len(store.search(vecs[i], 5)) == 5
        except BaseException as exc:  # reported to the main thread
            errors.append(exc)

    threads = [threading.Thread(target=searcher) for _ in range(3)]
    for t in threads:
        t.start()
    for lo in range(500, 2000, 100):
        store.add(np.arange(lo, lo + 100), vecs[lo : lo + 100])
    for t in threads:
        t.join()
    assert not errors and len(store) == 2000


def test_dimension_mismatch(tmp_path: Path) -> None:
    path = tmp_path / "v"
    store = VectorStore(path, DIM)
    store.add(np.arange(3), _random(3))
    store.commit()
    with pytest.raises(IndexMismatch, match="32-dimensional"):
        VectorStore.open(path, dim=64)
    assert VectorStore.open(path, dim=DIM).dim == DIM
    with pytest.raises(IndexMismatch):
        store.add(np.arange(2), _random(2, dim=DIM + 1))
    with pytest.raises(IndexMismatch):
        store.search(np.ones(DIM + 1, dtype=np.float32), 3)


def test_bad_input_and_format_errors(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="dtype"):
        VectorStore(tmp_path / "v", DIM, dtype="float64")
    with pytest.raises(ConfigError, match="metric"):
        VectorStore(tmp_path / "v", DIM, metric="l2")
    store = VectorStore(tmp_path / "v", DIM)
    with pytest.raises(ValueError, match="non-negative"):
        store.add(np.array([-1]), _random(1))
    with pytest.raises(ValueError, match="NaN"):
        store.add(np.array([1]), np.full((1, DIM), np.nan, dtype=np.float32))
    with pytest.raises(ValueError, match="zero"):
        store.add(np.array([1]), np.zeros((1, DIM), dtype=np.float32))
    with pytest.raises(ValueError, match="k must"):
        store.search(np.ones(DIM), 0)
    with pytest.raises(LantaiError, match="no vector store"):
        VectorStore.open(tmp_path / "missing")
    store.add(np.array([1]), _random(1))
    store.commit()
    meta_path = tmp_path / "v" / vmod.META_FILE
    meta = json.loads(meta_path.read_text())
    meta["version"] = 99
    meta_path.write_text(json.dumps(meta))
    with pytest.raises(IndexMismatch, match="version"):
        VectorStore.open(tmp_path / "v")


# ---------------------------------------------------------------- ANN path

usearch_missing = pytest.mark.skipif(
    __import__("importlib").util.find_spec("usearch") is None, reason="usearch not installed"
)


@usearch_missing
def test_ann_recall_against_exact(tmp_path: Path, dtype: str) -> None:
    vecs = _clustered(5000, 64, clusters=50, seed=10)
    keys = np.arange(5000) * 3
    ann = VectorStore(tmp_path / "ann", 64, dtype=dtype, ann_threshold=1000)
    exact = VectorStore(tmp_path / "exact", 64, dtype=dtype, ann_threshold=10**9)
    for store in (ann, exact):
        store.add(keys, vecs)
    assert ann.has_ann and not exact.has_ann
    queries = _clustered(100, 64, clusters=50, seed=10)[:100] + 0.1 * _random(100, 64, seed=11)
    found = 0
    for q in queries:
        truth = {key for key, _ in exact.search(q, 10)}
        got = ann.search(q, 10)
        assert len(got) == 10
        found += len(truth & {key for key, _ in got})
    assert found / (10 * len(queries)) >= 0.95


@usearch_missing
def test_ann_persists_and_tracks_incremental_changes(tmp_path: Path) -> None:
    path = tmp_path / "v"
    vecs = _clustered(3000, DIM, clusters=20, seed=12)
    store = VectorStore(path, DIM, ann_threshold=1000)
    store.add(np.arange(900), vecs[:900])
    assert not store.has_ann
    store.add(np.arange(900, 2000), vecs[900:2000])
    assert store.has_ann
    store.commit()
    meta = json.loads((path / vmod.META_FILE).read_text())
    assert meta["ann"] and (path / meta["ann"]).is_file()

    reopened = VectorStore.open(path)
    assert reopened.has_ann
    assert reopened.search(vecs[42], 1)[0][0] == 42
    # Incremental changes reach the graph: new keys are found, removed keys never come back,
    # a replaced key is found at its new position.
    reopened.add(np.arange(2000, 3000), vecs[2000:])
    reopened.remove(np.array([42]))
    reopened.add(np.array([7]), vecs[2500:2501])
    assert reopened.search(vecs[2700], 1)[0][0] == 2700
    assert all(key != 42 for key, _ in reopened.search(vecs[42], 50))
    assert {key for key, _ in reopened.search(vecs[2500], 2)} == {7, 2500}
    reopened.commit()
    again = VectorStore.open(path)
    assert len(again) == 2999 and again.has_ann
    assert {key for key, _ in again.search(vecs[2500], 2)} == {7, 2500}


@usearch_missing
@pytest.mark.parametrize("allowed_size", [15, 400, 2500])
def test_filtered_search_returns_k_when_possible(tmp_path: Path, allowed_size: int) -> None:
    vecs = _clustered(5000, DIM, clusters=40, seed=13)
    store = VectorStore(tmp_path / "v", DIM, ann_threshold=300)
    store.add(np.arange(5000), vecs)
    rng = np.random.default_rng(14)
    allowed = rng.choice(5000, allowed_size, replace=False)
    q = vecs[0]  # key 0 is usually not allowed: the nearest neighbours are filtered out
    hits = store.search(q, 10, allowed=allowed)
    assert len(hits) == 10
    assert {key for key, _ in hits} <= set(allowed.tolist())
    reference = _brute_force(store, np.sort(allowed), q, 10)
    overlap = len(set(reference) & {key for key, _ in hits})
    assert overlap >= 9  # exact path: 10; ANN path: near-exact


@usearch_missing
def test_filter_far_from_query_falls_back_to_exact(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The allowed keys are the ones least similar to the query, so the oversampled ANN
    # candidates contain none of them and the store must fall back to exact search.
    vecs = _random(4500, seed=15)
    store = VectorStore(tmp_path / "v", DIM, ann_threshold=500)
    store.add(np.arange(4500), vecs)
    q = _random(1, seed=16)[0]
    allowed = np.sort(np.argsort(vecs @ q)[:1500])
    exact_calls = []
    real_exact = VectorStore._exact_rows

    def spy(self: VectorStore, *args: object) -> object:
        exact_calls.append(1)
        return real_exact(self, *args)  # type: ignore[arg-type]

    monkeypatch.setattr(VectorStore, "_exact_rows", spy)
    hits = store.search(q, 10, allowed=allowed)
    assert exact_calls, "expected the exact fallback"
    assert [key for key, _ in hits] == _brute_force(store, allowed, q, 10)


def test_missing_usearch_names_the_extra(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "usearch", None)
    store = VectorStore(tmp_path / "v", DIM, ann_threshold=10)
    store.add(np.arange(5), _random(5))  # below the threshold: no usearch needed
    with pytest.raises(MissingDependency, match=r"lantai\[semantic\]"):
        store.add(np.arange(5, 20), _random(15, seed=1))
