"""Period vocabulary (the thesaurus) and periods named in queries, on every backend.

A historian types today's words (警察, 电话); the sources say 巡捕, 德律風. Expansion must find
those records *after* the ones with the typed words, say what it added, and stay out of the
way when asked (expand=0), for quoted phrases and for other sort orders. A period named in
the query (1939年, 民国二十八年) must not lose records whose date is unknown.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

from lantai.errors import ConfigError
from lantai.search.backends.base import SearchBackend, SearchMode, SearchRequest, SortOrder
from lantai.search.query import expand_plan, parse_query
from lantai.text.analysis import default_analyzer
from lantai.text.thesaurus import load_thesaurus, parse_thesaurus

from .conftest import record

FIXTURE = Path(__file__).parent / "fixtures" / "thesaurus.toml"
A = default_analyzer()


@pytest.fixture
def expanding(backend: SearchBackend) -> SearchBackend:
    backend.settings = dataclasses.replace(backend.settings, search=dataclasses.replace(
        backend.settings.search, expansion=True, thesaurus=str(FIXTURE)))
    backend.upsert([
        record("A-1", "巡捕房报告", "公共租界巡捕拘获窃贼二名。", date_start=19300401,
               date_end=19300401, date_text="1930-04-01"),
        record("A-2", "警察局呈文", "警察局查获烟土。", date_start=19390421, date_end=19390421,
               date_text="1939-04-21"),
        record("A-3", "德律風公司", "德律風公司增設分局。", date_start=19300410,
               date_end=19300410, date_text="1930-04-10"),
        record("A-4", "无日期的巡捕笔记", "巡捕查获烟土若干。"),
        record("A-5", "鸦片问题", "禁烟会议论鸦片之害。", date_start=19390425,
               date_end=19390425, date_text="1939-04-25"),
    ])
    return backend


def ids(result) -> list[str]:  # type: ignore[no-untyped-def]
    return [h.record_id for h in result.hits]


def test_typed_words_first_then_period_words(expanding: SearchBackend) -> None:
    result = expanding.search(SearchRequest("警察"))
    assert ids(result)[0] == "A-2"
    assert set(ids(result)) == {"A-1", "A-2", "A-4"}
    assert result.total == result.exact_total == 3 and not result.relaxed
    assert [(e.word, e.equivalents) for e in result.plan.expansions] == [
        ("警察", ("巡捕", "巡警"))]
    # the period word is marked in the hit that has it
    marked = {h.record_id: h.title.html() for h in result.hits}
    assert "<mark>巡捕</mark>" in marked["A-1"]


def test_traditional_script_and_loanwords(expanding: SearchBackend) -> None:
    assert ids(expanding.search(SearchRequest("电话"))) == ["A-3"]
    assert ids(expanding.search(SearchRequest("德律风"))) == ["A-3"]


def test_expansion_can_be_turned_off_and_spares_phrases(expanding: SearchBackend) -> None:
    off = expanding.search(SearchRequest("警察", expand=False))
    assert ids(off) == ["A-2"] and off.plan.expansions == ()
    assert ids(expanding.search(SearchRequest('"警察"'))) == ["A-2"]
    by_date = expanding.search(SearchRequest("警察", sort=SortOrder.DATE))
    assert ids(by_date) == ["A-2"]


def test_related_words_go_one_way(expanding: SearchBackend) -> None:
    found = expanding.search(SearchRequest("禁烟运动"))
    assert {"A-2", "A-4", "A-5"} <= set(ids(found))
    assert expanding.search(SearchRequest("鸦片")).plan.expansions == ()


def test_facets_count_records_found_through_period_words(expanding: SearchBackend) -> None:
    result = expanding.search(SearchRequest("警察", facets=("decade",)))
    assert {v.value: v.count for v in result.facets["decade"]} == {"1930": 2}  # no date
    typed = expanding.search(SearchRequest("警察", facets=("decade",), expand=False))
    assert {v.value: v.count for v in typed.facets["decade"]} == {"1930": 1}


def test_period_in_query_keeps_undated_records_after_dated_ones(
        expanding: SearchBackend) -> None:
    result = expanding.search(SearchRequest("1939年 烟土", expand=False))
    exact = [h.record_id for h in result.hits if not h.partial]
    assert exact == ["A-2", "A-4"]  # the undated note comes after the dated report
    assert result.exact_total == 2
    # a dated record outside the period is still left out
    assert "A-1" not in ids(expanding.search(SearchRequest("1939年 巡捕", expand=False)))


def test_paging_across_tiers(expanding: SearchBackend) -> None:
    pages = [ids(expanding.search(SearchRequest("警察", size=1, page=n))) for n in (1, 2, 3, 4)]
    assert pages[0] == ["A-2"] and pages[3] == []
    assert sorted(pages[1] + pages[2]) == ["A-1", "A-4"]


def test_thesaurus_errors_name_the_file_and_group() -> None:
    base = 'schema = 1\n[sources]\nc = "x"\n'
    with pytest.raises(ConfigError, match=r"t\.toml, group 1 \(警察/巡捕\): cites no source"):
        parse_thesaurus(base + '[[group]]\nterms = ["警察", "巡捕"]\nkind = "role"\n', A,
                        source="t.toml")
    with pytest.raises(ConfigError, match="already in group 1"):
        parse_thesaurus(base + '[[group]]\nterms = ["警察", "巡捕"]\nkind = "role"\n'
                        'sources = ["c"]\n[[group]]\nterms = ["巡捕", "捕头"]\nkind = "role"\n'
                        'sources = ["c"]\n', A, source="t.toml")
    with pytest.raises(ConfigError, match="not a word"):
        parse_thesaurus(base + '[[group]]\nterms = ["警察", "x"]\nkind = "role"\n'
                        'sources = ["c"]\n', A, source="t.toml")
    with pytest.raises(ConfigError, match="cannot read"):
        load_thesaurus("/nonexistent/t.toml", A)


def test_words_inside_a_compound_are_replaced_only_at_word_boundaries() -> None:
    thesaurus = load_thesaurus(FIXTURE, A)
    assert thesaurus.expand("警察罢工") is not None
    assert thesaurus.expand("警察罢工").equivalents == ("巡捕罢工", "巡警罢工")
    assert thesaurus.expand("巡捕房") is None  # one word: not 警察房
    assert expand_plan(parse_query("租界巡捕如何执法", A), thesaurus, A) is None  # a question
    plan = expand_plan(parse_query("租界 巡捕 执法", A), thesaurus, A)
    assert plan is not None and plan.required[1].alternatives == (("警", "察"), ("巡", "警"))


def test_packaged_thesaurus_loads_and_cites_its_sources() -> None:
    thesaurus = load_thesaurus("", A)
    assert len(thesaurus) >= 100
    assert all(g.sources for g in thesaurus.groups)
    assert thesaurus.lookup("警察") is not None


def test_hybrid_search_uses_and_shows_the_period_words(settings) -> None:  # type: ignore[no-untyped-def]
    from lantai.search.backends.embedded import EmbeddedBackend
    from lantai.search.embeddings import create_embedder

    backend = EmbeddedBackend(settings, embedder=create_embedder("fake:64"))
    try:
        backend.upsert([record("A-1", "巡捕房报告", "公共租界巡捕拘获窃贼二名。"),
                        record("A-2", "警察局呈文", "警察局查获烟土。")])
        result = backend.search(SearchRequest("警察", mode=SearchMode.HYBRID))
        assert [e.word for e in result.plan.expansions] == ["警察"]
        titles = {h.record_id: h.title.html() for h in result.hits}
        assert "<mark>巡捕</mark>" in titles["A-1"]  # marked although the query said 警察
        exact = backend.search(SearchRequest("警察", mode=SearchMode.HYBRID, expand=False))
        assert exact.plan.expansions == ()
        assert "<mark>" not in {h.record_id: h.title.html() for h in exact.hits}["A-1"]
    finally:
        backend.close()


def test_feedback_words_characterise_the_top_records() -> None:
    from lantai.search.feedback import feedback_words

    top = [(record("F-1", "维持会成立", "伪维持会会长某某就职，伪维持会通告市民。"), 1.0),
           (record("F-2", "汉奸伏法", "伪维持会委员某被刺。"), 0.5)]
    df = {"维持会": 3, "会长": 40, "通告": 5, "伏法": 2, "委员": 90, "市民": 200, "就职": 4}
    words = feedback_words(top, {"汉奸"}, A, lambda ts: {t: df.get(t, 0) for t in ts},
                           n_docs=500, count=3)
    assert words[0] == "维持会"  # frequent in both, rare in the archive
    assert "汉奸" not in words  # the query's own word
    assert "市民" not in words  # in more than a tenth of the records
    assert feedback_words([], set(), A, lambda ts: {}, n_docs=500, count=3) == []


def test_feedback_setting_is_validated(make_settings) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(ConfigError, match="feedback_weight"):
        make_settings(**{"search.feedback_weight": 1.5})
    with pytest.raises(ConfigError, match="feedback_docs"):
        make_settings(**{"search.feedback_docs": -1})


def test_hybrid_feedback_lifts_records_sharing_the_top_records_words(settings) -> None:  # type: ignore[no-untyped-def]
    from lantai.search.backends.embedded import EmbeddedBackend
    from lantai.search.embeddings import create_embedder

    fillers = [record(f"Z-{i:02d}", f"市况杂记{i}", f"本埠米价今日又涨，市民排队购米第{i}日。")
               for i in range(60)]
    backend = EmbeddedBackend(settings, embedder=create_embedder("fake:64"))
    try:
        backend.upsert([
            *fillers,
            record("H-1", "汉奸伏法", "伪维持会委员某，昨在寓所被刺身死，伪维持会震动。"),
            record("H-2", "维持会内讧", "伪维持会各委员争权，伪维持会几至解体。"),
            # weaker matches of the feedback words, so that H-2 is not the last of that list
            *(record(f"W-{i}", f"商会例会{i}", "各业委员到会。") for i in range(3)),
        ])

        def rank(**search: object) -> int:
            backend.settings = dataclasses.replace(backend.settings, search=dataclasses.replace(
                backend.settings.search, **search))
            found = ids(backend.search(SearchRequest("汉奸", mode=SearchMode.HYBRID, size=80)))
            return found.index("H-2")

        with_feedback, without = rank(feedback_docs=1, feedback_weight=0.5), rank(feedback_docs=0)
        assert with_feedback < without, (with_feedback, without)
        # expand=0 is "only the words typed": no feedback words either
        typed_only = ids(backend.search(SearchRequest("汉奸", mode=SearchMode.HYBRID, size=80,
                                                      expand=False))).index("H-2")
        assert typed_only == without
    finally:
        backend.close()


def test_search_page_and_api_say_what_was_also_searched(settings) -> None:  # type: ignore[no-untyped-def]
    from lantai.search.backends.embedded import EmbeddedBackend
    from lantai.search_app import create_app

    backend = EmbeddedBackend(settings)  # the packaged thesaurus, expansion on by default
    backend.upsert([record("P-1", "巡捕房报告", "公共租界巡捕拘获窃贼二名。"),
                    record("P-2", "警察局呈文", "警察局查获烟土。")])
    app = create_app(settings, backend)
    app.config["TESTING"] = True
    client = app.test_client()
    html = client.get("/search?q=警察").get_data(as_text=True)
    assert "同时检索了时代用语" in html and "巡捕" in html
    assert "P-1" in html and "P-2" in html
    assert 'href="/search?q=%E8%AD%A6%E5%AF%9F&amp;expand=0"' in html  # search the typed word only
    only = client.get("/search?q=警察&expand=0").get_data(as_text=True)
    assert "P-1" not in only and "只检索了输入的词" in only
    data = client.get("/api/v1/search?q=警察").get_json()
    assert {"word": "警察", "equivalents": ["巡捕", "巡警"], "related": []} in \
        data["also_searched"]
    assert client.get("/api/v1/search?q=警察&expand=maybe").status_code == 400
    backend.close()


def test_period_words_and_feedback_never_bring_back_unopened_records(settings) -> None:  # type: ignore[no-untyped-def]
    from lantai.catalog.model import OpenStatus
    from lantai.search.backends.embedded import EmbeddedBackend
    from lantai.search.embeddings import create_embedder

    backend = EmbeddedBackend(settings, embedder=create_embedder("fake:64"))
    try:
        backend.upsert([
            record("O-1", "警察局呈文", "警察局查获烟土，伪维持会委员被捕。"),
            record("S-1", "巡捕房密报", "巡捕查获烟土，伪维持会委员被捕。",
                   open_status=OpenStatus.CONTROLLED),
        ])
        for mode in (SearchMode.KEYWORD, SearchMode.HYBRID):
            result = backend.search(SearchRequest("警察", mode=mode, facets=("decade",)))
            assert "S-1" not in ids(result) and result.total == 1, mode
        staff = backend.search(SearchRequest("警察", mode=SearchMode.KEYWORD, public=False))
        assert set(ids(staff)) == {"O-1", "S-1"}  # the same search does find it for staff
    finally:
        backend.close()
