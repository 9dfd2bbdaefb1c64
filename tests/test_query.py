"""The query language: what a historian types becomes a safe, predictable plan."""

from __future__ import annotations

import re
import sqlite3

import pytest

from lantai.indexing.documents import COLUMNS
from lantai.search.backends.embedded import fts_expression
from lantai.search.query import Field, parse_query
from lantai.text.analysis import default_analyzer

A = default_analyzer()


def units(plan) -> list[str]:  # type: ignore[no-untyped-def]
    return ["".join(c.units) for c in plan.required]


def test_words_are_required_and_folded() -> None:
    plan = parse_query("楊靖宇 東北抗日聯軍", A)
    assert units(plan) == ["杨靖宇", "东北抗日联军"]
    assert not plan.is_or


def test_long_unspaced_term_is_segmented() -> None:
    plan = parse_query("日军轰炸广州的情况", A)
    assert units(plan) == ["日军", "轰炸", "广州", "情况"]  # 的 dropped


def test_questions_become_or_ranked() -> None:
    plan = parse_query("《战国无双3》是由哪两个公司合作开发的？", A, and_max_terms=6)
    assert plan.is_or
    assert "公司" in plan.should_bigrams and "合作开发" in plan.should_words


def test_phrase_exclusion_fields_filters_years() -> None:
    plan = parse_query('"第一路军" -汪伪 题名:救济 全宗:J001 年度:1939 1937..1945', A)
    assert [(c.normalized, c.quoted) for c in plan.required] == [("第一路军", True),
                                                                 ("救济", False)]
    assert plan.required[1].fields == (Field.TITLE,)
    assert [c.normalized for c in plan.excluded] == ["汪伪"]
    assert plan.filters == {"fonds": ("J001",), "year": ("1939",)}
    assert (plan.year_from, plan.year_to) == (1937, 1945)


def test_unknown_prefix_is_text() -> None:
    assert units(parse_query("http://x", A)) == ["http", "x"]


#: A double-quoted FTS5 string ("" inside is an escaped quote).
QUOTED = re.compile(r'"(?:[^"]|"")*"')
#: What the expression may hold outside quoted strings: column filters, the operators it
#: joins clauses with, brackets. The analyzer lower-cases input, so a user's AND or OR left
#: unquoted would show up here as "and" / "or" and fail the match.
STRUCTURE = re.compile(r"(?:\{[a-z_ ]+\} :|AND|OR|[()\s])*")


@pytest.mark.parametrize("raw", [
    "AND", "NEAR(", "{a}:b", "x" * 5000, "a OR b", 'x" OR "y', "title_bi:x NOT y",
    '"第一路军" -汪伪 -"NEAR(a b)"', "是由哪两个公司合作开发的？", "a*", "^2 ~3 +x",
])
def test_fts_expression_quotes_every_token(raw: str) -> None:
    plan = parse_query(raw, A)
    match, excluded = fts_expression(plan)
    assert match is not None
    conn = sqlite3.connect(":memory:")
    conn.execute(f"CREATE VIRTUAL TABLE t USING fts5({', '.join(COLUMNS)})")
    for expr in [match] + ([excluded] if plan.excluded else []):
        assert expr is not None
        assert QUOTED.search(expr), expr
        assert STRUCTURE.fullmatch(QUOTED.sub("", expr)), expr
        # FTS5 itself accepts it: no syntax error can come from the input
        conn.execute("SELECT count(*) FROM t WHERE t MATCH ?", (expr,)).fetchone()
    conn.close()


@pytest.mark.parametrize("raw", ['"', "*", "\"'\"", "—", "-", "", "  "])
def test_query_without_searchable_text_has_no_match_expression(raw: str) -> None:
    plan = parse_query(raw, A)
    assert (plan.required, plan.excluded, plan.is_or) == ((), (), False)
    assert fts_expression(plan) == (None, None)


def test_a_named_period_alone_is_a_topic_a_date_alone_a_span() -> None:
    alone = parse_query("五四运动", A)
    assert units(alone) == ["五四运动"] and alone.periods == ()
    with_words = parse_query("北伐时期 工人", A)
    assert units(with_words) == ["工人"]
    assert [(p.start, p.end, p.named) for p in with_words.periods] == [(19260709, 19281229, True)]
    date_only = parse_query("民国二十八年", A)
    assert units(date_only) == [] and [p.named for p in date_only.periods] == [False]
    assert date_only.with_undated() is not None
    assert all(p.undated for p in date_only.with_undated().periods)  # type: ignore[union-attr]
