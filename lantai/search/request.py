"""``SearchRequest`` from request parameters: one parser for the web pages, the JSON API and
the CLI.

Parameters arrive as a mapping of strings (a query string, form fields, CLI options); a
parameter may repeat (``fonds=J001&fonds=J017``) or hold a comma-separated list. Every bad
value raises :class:`~lantai.errors.BadQueryError` naming the parameter, so the web layer
answers 400 with the name and the CLI exits 2 with it. Unknown parameters are ignored (pages
carry their own, such as ``lang``).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import Any

from lantai.catalog.model import OpenStatus
from lantai.config import SearchSettings
from lantai.errors import BadQueryError
from lantai.search.backends.base import SearchMode, SearchRequest, SortOrder
from lantai.search.facets import DEFAULT_FACETS, FACETS, Filters

#: The parameters :func:`parse_search_params` reads (for the API's documentation).
PARAMETERS: dict[str, str] = {
    "q": "query text (words, \"phrases\", -exclude, 题名:…, 全宗:…, 1937..1945)",
    "mode": "keyword | semantic | hybrid (default: hybrid when the index has vectors)",
    "sort": "relevance | date | -date | code",
    "page": "page number, from 1",
    "size": "results per page",
    "fonds": "全宗号 (repeatable)",
    "category": "门类 (repeatable)",
    "year": "年度 (repeatable)",
    "decade": "年代, e.g. 1930 (repeatable)",
    "creator": "责任者 (repeatable)",
    "subject": "主题词 (repeatable)",
    "archive": "档案馆 code (repeatable)",
    "series": "目录 (repeatable)",
    "file": "案卷 (repeatable)",
    "from": "earliest date: 1937, 1937-07, 1937-07-07 or 民国二十六年",
    "to": "latest date, as for from",
    "facets": "facets to count, comma-separated (default: fonds,decade,category,creator)",
    "expand": "1 (default): also search the period words the thesaurus links to the query's "
              "words (listed in also_searched) and, in hybrid mode, words of the best "
              "records (feedback); 0: only the words typed",
    "retention": "保管期限 (staff only, repeatable)",
    "status": "开放标识 (staff only, repeatable)",
}
_STAFF_ONLY = ("retention", "status")
_MAX_VALUES = 50  # values of one repeatable parameter
_MAX_QUERY = 1000  # characters of q


def parse_search_params(params: Mapping[str, Any], search: SearchSettings, *,
                        public: bool = True) -> SearchRequest:
    """A validated :class:`SearchRequest` from string parameters.

    ``params`` may be a plain dict (values: a string or a list of strings) or a multidict
    with ``getlist`` (Flask's ``request.args``). ``public`` is the caller's right, never a
    parameter: staff-only parameters from a public caller are refused."""
    def values(name: str) -> list[str]:
        return _values(params, name)

    def single(name: str) -> str | None:
        return _single(params, name)

    if public:
        for name in _STAFF_ONLY:
            if values(name):
                raise BadQueryError(f"{name} is only for staff", name)
    query = parse_query_text(params)
    mode_text = single("mode")
    mode = None if mode_text in (None, "", "auto") else _enum(SearchMode, mode_text, "mode")
    sort = _enum(SortOrder, single("sort") or SortOrder.RELEVANCE.value, "sort")
    page, size = parse_paging(params, search)
    facets = tuple(values("facets")) or DEFAULT_FACETS
    for name in facets:
        if name not in FACETS or (public and not FACETS[name].public):
            offered = [n for n, f in FACETS.items() if f.public or not public]
            raise BadQueryError(f"unknown facet {name!r}; choose from {', '.join(offered)}",
                                "facets")
    date_from = _date(single("from"), "from", end=False)
    date_to = _date(single("to"), "to", end=True)
    if date_from is not None and date_to is not None and date_from > date_to:
        raise BadQueryError("from is after to", "from")
    statuses = []
    for text in values("status"):
        try:
            statuses.append(OpenStatus.parse(text))
        except ValueError as exc:
            raise BadQueryError(str(exc), "status") from None
    filters = Filters(
        fonds=tuple(values("fonds")), category=tuple(values("category")),
        year=tuple(_whole(v, "year", low=1, high=9999) for v in values("year")),
        decade=tuple(_decade(v) for v in values("decade")),
        creator=tuple(values("creator")), subject=tuple(values("subject")),
        archive=tuple(values("archive")),
        series=tuple(values("series")), file=tuple(values("file")),
        retention=tuple(values("retention")), open_status=tuple(statuses),
        date_from=date_from, date_to=date_to)
    expand_text = (single("expand") or "1").lower()
    if expand_text not in ("0", "1", "false", "true", "off", "on"):
        raise BadQueryError("expand must be 0 or 1", "expand")
    return SearchRequest(query=query, filters=filters, sort=sort, page=page, size=size,
                         facets=facets, mode=mode, public=public,
                         expand=expand_text in ("1", "true", "on"))


def parse_query_text(params: Mapping[str, Any]) -> str:
    """The query text ``q`` (given at most once, at most 1,000 characters); "" when absent.
    Also what "search in this record" reads."""
    query = _single(params, "q") or ""
    if len(query) > _MAX_QUERY:
        raise BadQueryError(f"the query is longer than {_MAX_QUERY} characters", "q")
    return query


def parse_paging(params: Mapping[str, Any], search: SearchSettings, *,
                 default_size: int | None = None) -> tuple[int, int]:
    """``page`` and ``size``, within ``search.max_page`` and ``search.max_size``."""
    page = _whole(_single(params, "page"), "page", default=1, low=1, high=search.max_page)
    size = _whole(_single(params, "size"), "size", low=1, high=search.max_size,
                  default=min(default_size or search.default_size, search.max_size))
    return page, size


def parse_page_number(params: Mapping[str, Any], name: str = "page", *, pages: int) -> int:
    """A 1-based page of a record (its page images), 1 when not given."""
    return _whole(_single(params, name), name, default=1, low=1, high=max(1, pages))


def _raw(params: Mapping[str, Any], name: str) -> list[str]:
    getlist = getattr(params, "getlist", None)
    found: Iterable[Any] = getlist(name) if getlist is not None else _as_list(params.get(name))
    return [str(v) for v in found]


def _values(params: Mapping[str, Any], name: str) -> list[str]:
    """A repeatable parameter: repeated and comma-separated values, at most 50."""
    out = [v.strip() for item in _raw(params, name) for v in item.split(",") if v.strip()]
    if len(out) > _MAX_VALUES:
        raise BadQueryError(f"at most {_MAX_VALUES} values", name)
    return out


def _single(params: Mapping[str, Any], name: str) -> str | None:
    """A parameter given at most once."""
    found = _raw(params, name)
    if len(found) > 1:
        raise BadQueryError(f"give {name} once", name)
    return found[0].strip() if found else None


def _as_list(value: Any) -> list[Any]:
    if value is None:
        return []
    if isinstance(value, list | tuple):
        return list(value)
    return [value]


def _enum(kind: Any, text: str, name: str) -> Any:
    try:
        return kind(text.strip().lower())
    except ValueError:
        choices = " | ".join(m.value for m in kind)
        raise BadQueryError(f"{name} must be one of {choices} (got {text!r})", name) from None


def _whole(text: str | None, name: str, *, default: int | None = None, low: int,
           high: int) -> int:
    if text is None or text == "":
        if default is None:
            raise BadQueryError(f"{name} is empty", name)
        return default
    if not re.fullmatch(r"\d{1,9}", text.strip()):
        raise BadQueryError(f"{name} must be a whole number (got {text!r})", name)
    value = int(text)
    if not low <= value <= high:
        raise BadQueryError(f"{name} must be between {low} and {high} (got {value})", name)
    return value


def _decade(text: str) -> int:
    value = _whole(text.rstrip("s年代"), "decade", low=1, high=9990)
    if value % 10:
        raise BadQueryError(f"decade must be a year ending in 0, like 1930 (got {text!r})",
                            "decade")
    return value


def _date(text: str | None, name: str, *, end: bool) -> int | None:
    """yyyymmdd of the first (or, with ``end``, the last) day a date names."""
    if not text:
        return None
    from lantai.text.dates import parse_date

    try:
        span = parse_date(text)
    except Exception as exc:  # DateParseError and any surprise of a date grammar
        raise BadQueryError(f"{name}: cannot read the date {text!r} ({exc})", name) from None
    day = span.end if end else span.start
    return int(day.strftime("%Y%m%d"))
