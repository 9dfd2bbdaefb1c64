"""Passage splitting: boundaries, offsets, pages, and the embedding fold."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from lantai.indexing.passages import Passage, fold_for_embedding, split_passages

JINGBAO = Path(__file__).resolve().parents[2] / "shared/data/corpus/ecpo_jingbao/corpus.jsonl"


def _check_invariants(pages: list[str], passages: list[Passage], max_len: int) -> None:
    assert [p.index for p in passages] == list(range(len(passages)))
    for p in passages:
        assert pages[p.page][p.start : p.end] == p.text
        assert 0 < len(p.text) <= max_len
        assert p.text == p.text.strip()
    # in order, non-overlapping, and nothing but whitespace left out
    for page_no, text in enumerate(pages):
        spans = [(p.start, p.end) for p in passages if p.page == page_no]
        assert spans == sorted(spans)
        assert _only_space_dropped(text, spans)


def _only_space_dropped(text: str, spans: list[tuple[int, int]]) -> bool:
    prev = 0
    for a, b in spans:
        if text[prev:a].strip():
            return False
        prev = b
    return not text[prev:].strip()


def test_short_page_is_one_passage() -> None:
    pages = ["  题名：关于1939年米价的报告  \n责任者：上海市社会局  "]
    passages = split_passages(pages)
    assert len(passages) == 1
    p = passages[0]
    assert p.text == "题名：关于1939年米价的报告  \n责任者：上海市社会局"
    assert (p.page, p.start) == (0, 2)
    _check_invariants(pages, passages, 384)


def test_pages_are_never_merged_and_blank_pages_skipped() -> None:
    pages = ["第一页。", "   ", "第三页的文字。", ""]
    passages = split_passages(pages)
    assert [(p.page, p.text) for p in passages] == [(0, "第一页。"), (2, "第三页的文字。")]
    assert [p.index for p in passages] == [0, 1]


def test_cuts_at_sentence_ends_not_mid_sentence() -> None:
    sentence = "敌机今晨空袭闸北一带，投弹多枚，死伤甚众。"  # 21 characters, ends with 。
    page = sentence * 40
    passages = split_passages([page], target=100, max_len=150)
    _check_invariants([page], passages, 150)
    assert len(passages) > 1
    for p in passages:
        assert p.text.endswith("。")
        assert 50 <= len(p.text) <= 150


def test_paragraph_break_preferred_over_sentence_end() -> None:
    para1 = "第一段。" * 20  # 80 chars
    para2 = "第二段。" * 40
    page = para1 + "\n\n" + para2
    passages = split_passages([page], target=100, max_len=150)
    _check_invariants([page], passages, 150)
    assert passages[0].text == para1
    assert passages[1].start == len(para1) + 2


def test_short_paragraphs_are_packed_together() -> None:
    page = "\n\n".join(["（丹翁）", "短段一。", "短段二。", "正文。" * 30])
    passages = split_passages([page], target=60, max_len=90)
    _check_invariants([page], passages, 90)
    assert passages[0].text.startswith("（丹翁）\n\n短段一。")  # header not left on its own


def test_ocr_line_wraps_and_commas_are_weaker_boundaries() -> None:
    # old-style print: pauses marked with 、, lines wrapped every ~12 characters, no 。
    body = "、".join(["效外國之自治", "而不顧何者爲公益", "效外國之舉債", "而不計何者爲用途"] * 12)
    page = "\n".join(body[i : i + 12] for i in range(0, len(body), 12))
    passages = split_passages([page], target=80, max_len=120)
    _check_invariants([page], passages, 120)
    assert sum(p.text.endswith("、") for p in passages[:-1]) >= len(passages[:-1]) // 2


def test_text_without_any_boundary_is_cut_at_target() -> None:
    page = "字" * 1000
    passages = split_passages([page], target=256, max_len=384)
    _check_invariants([page], passages, 384)
    assert [len(p.text) for p in passages] == [256, 256, 256, 232]


def test_astral_characters_are_never_split() -> None:
    page = "𠀀" * 600  # CJK extension B: one code point each, two UTF-16 units
    passages = split_passages([page], target=256, max_len=384)
    assert "".join(p.text for p in passages) == page


def test_english_sentences() -> None:
    page = " ".join(["The Japanese air raid hit Chongqing on 3 May 1939."] * 30)
    passages = split_passages([page], target=200, max_len=300)
    _check_invariants([page], passages, 300)
    assert all(p.text.endswith(".") for p in passages)


@pytest.mark.parametrize(("target", "max_len"), [(0, 10), (100, 50)])
def test_bad_sizes_are_rejected(target: int, max_len: int) -> None:
    with pytest.raises(ValueError, match="target"):
        split_passages(["x"], target=target, max_len=max_len)


def test_real_newspaper_articles() -> None:
    if not JINGBAO.is_file():
        pytest.skip("shared Jingbao corpus not available")
    with JINGBAO.open(encoding="utf-8") as fh:
        pages = [json.loads(line)["text"] for _, line in zip(range(200), fh, strict=False)]
    passages = split_passages(pages)
    _check_invariants(pages, passages, 384)
    long_ones = [p for p in passages if len(pages[p.page]) > 1000]
    mean = sum(len(p.text) for p in long_ones) / len(long_ones)
    assert 180 <= mean <= 300


def test_fold_for_embedding() -> None:
    assert fold_for_embedding("敵機轟炸閘北") == "敌机轰炸闸北"
    assert fold_for_embedding("ＡＢＣ１２３") == "ABC123"
    assert fold_for_embedding("效外國之舉\n債、而不計") == "效外国之举债、而不计"  # OCR wrap joined
    assert fold_for_embedding("Shanghai\nMunicipal  Council ") == "Shanghai Municipal  Council"
    assert fold_for_embedding("") == ""
