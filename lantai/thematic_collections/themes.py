"""Themes as data: one TOML file a theme, validated, errors naming the file and key.

A theme has a slug, a Chinese and English title and introduction, a period, keyword queries
(in Lantai's query language), semantic queries (used when the index has vectors), 主题词 that
raise a record, filters, and the records a curator pins or excludes for good. A theme with a
``parent`` is a sub-theme. The project ships a starter set
(``lantai/thematic_collections/data/themes/``): the four 四史 themes and north-east red-archive
themes; an archive adds or overrides its own with a folder of the same files.
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

from lantai.errors import ConfigError, NotFound

_SLUG = re.compile(r"[a-z0-9][a-z0-9-]{0,62}")
_KEYS = {"slug", "parent", "title", "intro", "period", "queries", "semantic", "subjects",
         "filters", "pinned", "excluded"}
_FILTERS = {"fonds", "category", "creator"}


@dataclass(frozen=True)
class Theme:
    slug: str
    title_zh: str
    title_en: str
    intro_zh: str
    intro_en: str
    period: tuple[int, int] | None
    queries: tuple[str, ...]
    semantic: tuple[str, ...]
    subjects: tuple[str, ...]
    filters: dict[str, tuple[str, ...]]
    pinned: tuple[str, ...]
    excluded: tuple[str, ...]
    parent: str = ""
    source: str = ""

    def title(self, lang: str) -> str:
        return self.title_en if lang == "en" else self.title_zh

    def intro(self, lang: str) -> str:
        return self.intro_en if lang == "en" else self.intro_zh

    def to_dict(self) -> dict[str, Any]:
        return {"slug": self.slug, "parent": self.parent or None,
                "title": {"zh": self.title_zh, "en": self.title_en},
                "intro": {"zh": self.intro_zh, "en": self.intro_en},
                "period": list(self.period) if self.period else None,
                "queries": list(self.queries), "semantic": list(self.semantic),
                "subjects": list(self.subjects),
                "filters": {k: list(v) for k, v in self.filters.items()},
                "pinned": list(self.pinned), "excluded": list(self.excluded)}


class _Reader:
    def __init__(self, source: str) -> None:
        self.source = source

    def fail(self, key: str, problem: str) -> ConfigError:
        return ConfigError(f"{self.source}: {key}: {problem}")

    def strings(self, data: Mapping[str, Any], key: str) -> tuple[str, ...]:
        value = data.get(key, [])
        if not isinstance(value, list) or not all(isinstance(v, str) and v.strip()
                                                  for v in value):
            raise self.fail(key, "must be a list of non-empty strings")
        return tuple(v.strip() for v in value)

    def languages(self, data: Mapping[str, Any], key: str) -> tuple[str, str]:
        value = data.get(key)
        if not isinstance(value, Mapping) or not all(
                isinstance(value.get(lang), str) and value[lang].strip() for lang in ("zh", "en")):
            raise self.fail(key, 'must be a table with "zh" and "en" texts')
        return str(value["zh"]).strip(), str(value["en"]).strip()


def parse_theme(raw: str, source: str) -> Theme:
    r = _Reader(source)
    try:
        data = tomllib.loads(raw)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{source}: not valid TOML ({exc})") from exc
    for key in data:
        if key not in _KEYS:
            raise r.fail(key, f"unknown key (known: {', '.join(sorted(_KEYS))})")
    slug = data.get("slug")
    if not isinstance(slug, str) or not _SLUG.fullmatch(slug):
        raise r.fail("slug", "must be lower-case letters, digits and hyphens (e.g. dangshi)")
    parent = data.get("parent", "")
    if not isinstance(parent, str):
        raise r.fail("parent", "must be the slug of another theme")
    period = None
    if "period" in data:
        raw_period = data["period"]
        ok = isinstance(raw_period, Mapping) and all(
            isinstance(raw_period.get(k), int) and not isinstance(raw_period.get(k), bool)
            for k in ("from", "to"))
        if not ok or not 1 <= raw_period["from"] <= raw_period["to"] <= 9999:
            raise r.fail("period", "must be { from = YEAR, to = YEAR } with from ≤ to")
        period = (int(raw_period["from"]), int(raw_period["to"]))
    filters_raw = data.get("filters", {})
    if not isinstance(filters_raw, Mapping):
        raise r.fail("filters", "must be a table")
    filters = {}
    for key in filters_raw:
        if key not in _FILTERS:
            raise r.fail(f"filters.{key}", f"unknown filter (known: {', '.join(sorted(_FILTERS))})")
        filters[key] = r.strings(filters_raw, key)
    queries, semantic = r.strings(data, "queries"), r.strings(data, "semantic")
    if not queries and not semantic:
        raise r.fail("queries", "a theme needs at least one keyword or semantic query")
    title, intro = r.languages(data, "title"), r.languages(data, "intro")
    return Theme(slug=slug, title_zh=title[0], title_en=title[1], intro_zh=intro[0],
                 intro_en=intro[1], period=period, queries=queries, semantic=semantic,
                 subjects=r.strings(data, "subjects"), filters=filters,
                 pinned=r.strings(data, "pinned"), excluded=r.strings(data, "excluded"),
                 parent=parent.strip(), source=source)


def load_themes(folder: Path | None = None) -> dict[str, Theme]:
    """The starter themes, with those of ``folder`` added (a file of the same slug replaces
    the starter one). Parents must exist."""
    themes: dict[str, Theme] = {}
    starter = resources.files("lantai.thematic_collections").joinpath("data", "themes")
    for item in sorted(starter.iterdir(), key=lambda p: p.name):
        if item.name.endswith(".toml"):
            theme = parse_theme(item.read_text(encoding="utf-8"),
                                f"lantai/thematic_collections/data/themes/{item.name}")
            themes[theme.slug] = theme
    if folder is not None:
        if not folder.is_dir():
            raise NotFound(f"themes folder {folder} does not exist")
        for path in sorted(folder.glob("*.toml")):
            try:
                raw = path.read_text(encoding="utf-8-sig")
            except OSError as exc:
                raise ConfigError(f"{path}: cannot read ({exc.strerror})") from exc
            theme = parse_theme(raw, str(path))
            themes[theme.slug] = theme
    for theme in themes.values():
        if theme.parent and theme.parent not in themes:
            raise ConfigError(f"{theme.source}: parent: no theme {theme.parent!r}")
    return themes
