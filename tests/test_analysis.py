"""The analyzer: one normalisation and tokenisation for documents and queries."""

from __future__ import annotations

import json

import pytest

from lantai.catalog.model import Record
from lantai.indexing.documents import COLUMNS, token_row
from lantai.search.query import parse_query
from lantai.text.analysis import Analyzer, default_analyzer


@pytest.fixture(scope="module")
def analyzer() -> Analyzer:
    return default_analyzer()


@pytest.mark.parametrize(("raw", "expected"), [
    ("中華民國貳拾捌年", "中华民国贰拾捌年"),
    ("ＡＢＣ１２３", "abc123"),  # full width → half width, lower case
    ("汪精衞 淸 吿", "汪精卫 清 告"),  # Republican-era variants OpenCC leaves alone
    ("鉄軍", "铁军"),
    ("之舉\n債", "之举债"),  # a printed line break inside a word disappears
    ("段落一。\n\n段落二", "段落一。\n\n段落二"),  # a paragraph break stays
    ("exam-\nple", "example"),
    ("1939年\n4月", "1939年\n4月"),  # digits are not CJK: the break stays a separator
])
def test_normalize(analyzer: Analyzer, raw: str, expected: str) -> None:
    assert analyzer.normalize(raw) == expected


def test_folding_is_idempotent(analyzer: Analyzer) -> None:
    text = "臺灣發展頭髮鬥爭乾隆於後著衞靑淸"
    once = analyzer.normalize(text)
    assert analyzer.normalize(once) == once


def test_offsets_map_back_to_the_original(analyzer: Analyzer) -> None:
    raw = "之舉\n債、ＡＢ"
    norm, offsets = analyzer.normalize_with_offsets(raw)
    assert norm == analyzer.normalize(raw)
    assert len(offsets) == len(norm)
    assert raw[offsets[norm.index("债")]] == "債"


def test_offsets_path_agrees_with_fast_path_on_real_text(analyzer: Analyzer,
                                                         shared_data) -> None:  # type: ignore[no-untyped-def]
    path = shared_data / "corpus" / "ecpo_jingbao" / "corpus.jsonl"
    lines = path.read_text(encoding="utf-8").splitlines()[:200]
    assert len(lines) == 200
    for line in lines:
        text = json.loads(line)["text"]
        assert analyzer.normalize_with_offsets(text)[0] == analyzer.normalize(text)


def test_streams(analyzer: Analyzer) -> None:
    streams = analyzer.streams("楊靖宇，1939年")
    assert streams.uni.split() == ["杨", "靖", "宇", "1939", "年"]
    assert streams.bi.split() == ["杨靖", "靖宇", "1939年"]  # no bigram across the comma
    assert "杨靖宇" in streams.words.split()


def test_user_dictionary_keeps_archival_terms_whole(analyzer: Analyzer) -> None:
    words = analyzer.cut(analyzer.normalize("東北抗日聯軍在遼瀋戰役"))
    assert "东北抗日联军" in words
    assert "辽沈战役" in words


def test_same_tokens_on_index_and_query_paths(analyzer: Analyzer) -> None:
    """A string indexed as a title yields exactly the bigrams a query for it requires."""
    text = "東北抗日聯軍第一路軍"
    row = dict(zip(COLUMNS, token_row(Record("A-1", text), analyzer), strict=True))
    plan = parse_query(f'"{text}"', analyzer)
    (clause,) = plan.required
    assert " ".join(clause.bigrams) == row["title_bi"]
    assert " ".join(clause.units) == row["title_uni"]


def test_fingerprint_changes_with_dictionaries(tmp_path) -> None:  # type: ignore[no-untyped-def]
    extra = tmp_path / "local.txt"
    extra.write_text("安澜市档案馆\n", encoding="utf-8")
    base = default_analyzer().fingerprint()
    custom = Analyzer(user_dicts=[extra]).fingerprint()
    assert base["analyzer"] == custom["analyzer"]
    assert base["dictionaries"] != custom["dictionaries"]
