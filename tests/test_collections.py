"""Thematic collections: themes as data, and building every starter theme on the demo archive."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from lantai.catalog.model import OpenStatus
from lantai.config import Settings
from lantai.errors import ConfigError
from lantai.search.backends.embedded import EmbeddedBackend
from lantai.thematic_collections.builder import build
from lantai.thematic_collections.themes import load_themes, parse_theme

STARTER = {"dangshi", "xinzhongguo", "gaigekaifang", "shehuizhuyi", "dongbei-kanglian",
           "kangmei-yuanchao", "liaoshen", "leifeng", "daqing", "beidahuang", "laogongye"}


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> EmbeddedBackend:
    from lantai.config import load_settings
    from lantai.demo import generate_sample_archive
    from lantai.indexing.service import index_catalog

    root = tmp_path_factory.mktemp("demo")
    settings = load_settings(environ={}, overrides={"data_dir": root / "data"})
    sample = generate_sample_archive(root / "source", 400)
    index_catalog(settings, sample.catalog_csv, text_dir=sample.text_dir)
    return EmbeddedBackend(settings)


def test_every_starter_theme_loads_with_both_languages() -> None:
    themes = load_themes()
    assert set(themes) == STARTER
    for theme in themes.values():
        assert theme.title_zh and theme.title_en and theme.intro_zh and theme.intro_en
        assert theme.queries and theme.period
        assert not theme.parent or theme.parent in themes


@pytest.mark.parametrize("slug", sorted(STARTER))
def test_every_starter_theme_builds_on_the_demo_archive(demo: EmbeddedBackend,
                                                        slug: str) -> None:
    theme = load_themes()[slug]
    candidates = build(demo, theme, size=20)
    codes = [c.record.archival_code for c in candidates]
    assert len(codes) == len(set(codes))
    assert all(c.record.is_public for c in candidates)  # the public build sees only 开放
    assert all(c.why for c in candidates)
    start, end = theme.period  # type: ignore[misc]
    for c in candidates:
        d0, d1 = c.record.date_span
        assert d0 is None or (d0 <= end * 10000 + 1231 and (d1 or d0) >= start * 10000 + 101)
    assert [c.score for c in candidates] == sorted((c.score for c in candidates), reverse=True)


@pytest.mark.parametrize(("slug", "word"), [
    ("kangmei-yuanchao", "抗美援朝"), ("shehuizhuyi", "公私合营"),
    ("dongbei-kanglian", "东北抗日联军"), ("leifeng", "雷锋")])
def test_themes_the_demo_archive_holds_find_their_records(demo: EmbeddedBackend, slug: str,
                                                          word: str) -> None:
    candidates = build(demo, load_themes()[slug], size=10)
    assert len(candidates) >= 5 if slug != "leifeng" else len(candidates) >= 2
    hits = sum(word in (c.record.title + c.record.text + "".join(c.record.subjects))
               for c in candidates)
    assert hits / len(candidates) >= 0.9


def test_a_theme_the_archive_does_not_hold_stays_empty(demo: EmbeddedBackend) -> None:
    assert build(demo, load_themes()["beidahuang"]) == []


def test_pinned_excluded_and_the_curators_preview(demo: EmbeddedBackend) -> None:
    theme = load_themes()["kangmei-yuanchao"]
    first = build(demo, theme, size=5)
    hidden = next(r for r in demo.iter_records(public=False)
                  if r.open_status is not OpenStatus.OPEN)
    from dataclasses import replace

    curated = replace(theme, pinned=(hidden.archival_code, "J001-WS·1939-Y-0002"),
                      excluded=(first[0].record.archival_code,))
    public = build(demo, curated, size=5)
    assert public[0].pinned and public[0].record.archival_code == "J001-WS·1939-Y-0002"
    assert hidden.archival_code not in {c.record.archival_code for c in public}
    assert first[0].record.archival_code not in {c.record.archival_code for c in public}
    preview = build(demo, curated, size=5, public=False)
    assert hidden.archival_code in {c.record.archival_code for c in preview}


@pytest.mark.parametrize(("text", "message"), [
    ('slug = "Bad Slug"', "slug"),
    ('slug = "a"\ntitle = { zh = "甲" }\nintro = { zh = "x", en = "y" }\nqueries = ["q"]',
     "title"),
    ('slug = "a"\ntitle = { zh = "甲", en = "A" }\nintro = { zh = "x", en = "y" }', "queries"),
    ('slug = "a"\ntitle = { zh = "甲", en = "A" }\nintro = { zh = "x", en = "y" }\n'
     'queries = ["q"]\nperiod = { from = 1990, to = 1980 }', "period"),
    ('slug = "a"\ntitle = { zh = "甲", en = "A" }\nintro = { zh = "x", en = "y" }\n'
     'queries = ["q"]\nfilters = { colour = ["red"] }', "filters.colour"),
    ('slug = "a"\nsubtitle = "x"', "subtitle"),
])
def test_bad_theme_files_name_the_file_and_key(text: str, message: str) -> None:
    with pytest.raises(ConfigError) as error:
        parse_theme(text, "themes/a.toml")
    assert "themes/a.toml" in str(error.value) and message in str(error.value)


def test_an_archives_own_themes_join_the_starter_set(tmp_path: Path,
                                                     make_settings: Callable[..., Settings]
                                                     ) -> None:
    (tmp_path / "mine.toml").write_text(
        'slug = "fangxun"\nparent = "xinzhongguo"\ntitle = { zh = "防汛", en = "Flood control" }\n'
        'intro = { zh = "历年防汛", en = "Flood control over the years" }\nqueries = ["防汛"]\n',
        encoding="utf-8")
    themes = load_themes(tmp_path)
    assert "fangxun" in themes and set(themes) >= STARTER
    (tmp_path / "orphan.toml").write_text(
        'slug = "x"\nparent = "nothing"\ntitle = { zh = "甲", en = "A" }\n'
        'intro = { zh = "x", en = "y" }\nqueries = ["q"]\n', encoding="utf-8")
    with pytest.raises(ConfigError, match=r"orphan\.toml: parent"):
        load_themes(tmp_path)
