"""Facets and structured filters: one registry both backends build their columns from.

Adding a facet is one :class:`FacetSpec` in :data:`FACETS` plus its field on :class:`Filters`
(both here): the embedded backend makes a column of it, Elasticsearch a keyword or integer
field, the request parser a parameter, and labels come from :class:`Labels`.
"""

from __future__ import annotations

import dataclasses
import tomllib
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from importlib import resources
from typing import Any, Literal

from lantai.catalog.hierarchy import HierarchyPath
from lantai.catalog.model import OpenStatus, Record
from lantai.search.query import QueryPlan


@dataclass(frozen=True)
class FacetSpec:
    """One facet: how to get its value from a record, its label, who may see it."""

    name: str
    label: str  # zh-CN label (全宗, 年代 …)
    label_en: str
    kind: Literal["text", "int"]
    value: Callable[[Record, HierarchyPath], Any]  # str | int | None; a tuple when multi
    public: bool = True  # staff-only facets (保管期限, 开放标识) are never offered publicly
    default: bool = False  # returned by a search that does not name its facets
    multi: bool = False  # a record may have several values (主题词)


FACETS: dict[str, FacetSpec] = {spec.name: spec for spec in (
    FacetSpec("fonds", "全宗", "Fonds", "text", lambda r, p: p.fonds or None, default=True),
    FacetSpec("decade", "年代", "Decade", "int", lambda r, p: r.decade, default=True),
    FacetSpec("category", "门类", "Category", "text", lambda r, p: r.category or None,
              default=True),
    FacetSpec("creator", "责任者", "Creator", "text", lambda r, p: r.creator or None,
              default=True),
    FacetSpec("subject", "主题词", "Subject", "text",
              lambda r, p: tuple(dict.fromkeys(s.strip() for s in r.subjects if s.strip())),
              multi=True),
    FacetSpec("year", "年度", "Year", "int", lambda r, p: r.year),
    FacetSpec("archive", "档案馆", "Archive", "text", lambda r, p: p.archive or None),
    FacetSpec("retention", "保管期限", "Retention", "text", lambda r, p: r.retention or None,
              public=False),
    FacetSpec("open_status", "开放标识", "Open status", "text",
              lambda r, p: r.open_status.value, public=False),
)}
#: Facets a search returns when it does not say (全宗, 年代, 门类, 责任者).
DEFAULT_FACETS: tuple[str, ...] = tuple(n for n, s in FACETS.items() if s.default)
#: Every facet a backend must support.
FACET_FIELDS: tuple[str, ...] = tuple(FACETS)


def facet_values(record: Record, path: HierarchyPath) -> dict[str, Any]:
    """The value of every facet for one record (what a backend stores in its columns)."""
    return {name: spec.value(record, path) for name, spec in FACETS.items()}


@dataclass(frozen=True)
class Filters:
    """Structured filters; values inside one field are OR-ed, fields are AND-ed.

    Facet filters carry the facet's name; ``series`` and ``file`` select hierarchy levels
    (目录, 案卷) and ``archival_code`` single records."""

    fonds: tuple[str, ...] = ()
    category: tuple[str, ...] = ()
    year: tuple[int, ...] = ()
    decade: tuple[int, ...] = ()
    creator: tuple[str, ...] = ()
    subject: tuple[str, ...] = ()
    archive: tuple[str, ...] = ()
    retention: tuple[str, ...] = ()
    open_status: tuple[OpenStatus, ...] = ()
    series: tuple[str, ...] = ()
    file: tuple[str, ...] = ()
    archival_code: tuple[str, ...] = ()
    date_from: int | None = None  # yyyymmdd, inclusive; overlaps the record's date range
    date_to: int | None = None

    def facet_filters(self) -> dict[str, tuple[str | int, ...]]:
        """Non-empty value filters by stored column name (facets and hierarchy levels)."""
        out: dict[str, tuple[str | int, ...]] = {}
        for name in (*FACETS, "series", "file", "archival_code"):
            values = getattr(self, name)
            if values:
                out[name] = tuple(v.value if isinstance(v, OpenStatus) else v for v in values)
        return out

    def merged_with_plan(self, plan: QueryPlan) -> Filters:
        """Add the filters written inside the query text (全宗:J001, 1937..1945)."""
        changes: dict[str, Any] = {}
        for key, values in plan.filters.items():
            if key == "year":
                years = tuple(int(v) for v in values if v.isdigit())
                changes["year"] = self.year + years
            else:
                changes[key] = getattr(self, key) + tuple(values)
        if plan.year_from is not None:
            date_from = plan.year_from * 10000 + 101
            changes["date_from"] = max(self.date_from or 0, date_from)
        if plan.year_to is not None:
            date_to = plan.year_to * 10000 + 1231
            changes["date_to"] = min(self.date_to or 99991231, date_to)
        return dataclasses.replace(self, **changes) if changes else self


class Labels:
    """Display labels of facet values: the archive's own (stored with the index, e.g. its
    fonds table) over the built-in ones (门类代码, 保管期限代码)."""

    def __init__(self, stored: Mapping[str, Mapping[str, str]] | None = None) -> None:
        self.builtin = _builtin_labels()
        self.stored: dict[str, dict[str, str]] = {k: dict(v) for k, v in (stored or {}).items()}

    def label(self, facet: str, value: str) -> str:
        found = self.stored.get(facet, {}).get(value) or self.builtin.get(facet, {}).get(value)
        if found:
            return found
        if facet == "decade" and value.isdigit():
            return f"{value}年代"
        return value


def _builtin_labels() -> dict[str, dict[str, str]]:
    text = resources.files("lantai.catalog").joinpath("data", "labels.toml").read_text(
        encoding="utf-8")
    return {k: {str(a): str(b) for a, b in v.items()} for k, v in tomllib.loads(text).items()}
