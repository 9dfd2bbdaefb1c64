"""SearchRequest from request parameters: the one parser of the web app, the API and the CLI."""

from __future__ import annotations

import pytest

from lantai.catalog.model import OpenStatus
from lantai.config import SearchSettings
from lantai.errors import BadQueryError
from lantai.search.backends.base import SearchMode, SortOrder
from lantai.search.request import PARAMETERS, parse_search_params

LIMITS = SearchSettings()


def test_a_full_request_is_read() -> None:
    request = parse_search_params({
        "q": "救济 难民", "mode": "keyword", "sort": "-date", "page": "3", "size": "50",
        "fonds": ["J001", "J017"], "category": "文书,会计", "year": "1939",
        "decade": "1930", "creator": "市政府", "from": "民国二十六年", "to": "1945-08",
        "facets": "fonds,year", "lang": "en"}, LIMITS)
    assert request.query == "救济 难民" and request.mode is SearchMode.KEYWORD
    assert request.sort is SortOrder.DATE_DESC and (request.page, request.size) == (3, 50)
    f = request.filters
    assert f.fonds == ("J001", "J017") and f.category == ("文书", "会计")
    assert f.year == (1939,) and f.decade == (1930,) and f.creator == ("市政府",)
    assert (f.date_from, f.date_to) == (19370101, 19450831)
    assert request.facets == ("fonds", "year") and request.public


def test_defaults() -> None:
    request = parse_search_params({}, LIMITS)
    assert request.query == "" and request.mode is None and request.page == 1
    assert request.size == LIMITS.default_size and request.sort is SortOrder.RELEVANCE
    assert request.facets == ("fonds", "decade", "category", "creator")


@pytest.mark.parametrize(("params", "param"), [
    ({"sort": "newest"}, "sort"),
    ({"mode": "fuzzy"}, "mode"),
    ({"page": "0"}, "page"),
    ({"page": "-1"}, "page"),
    ({"page": "abc"}, "page"),
    ({"page": str(LIMITS.max_page + 1)}, "page"),
    ({"size": "0"}, "size"),
    ({"size": str(LIMITS.max_size + 1)}, "size"),
    ({"size": "1e3"}, "size"),
    ({"year": "一九三九"}, "year"),
    ({"decade": "1935"}, "decade"),
    ({"from": "yesterday-ish"}, "from"),
    ({"to": "13/13/13"}, "to"),
    ({"from": "1945", "to": "1937"}, "from"),
    ({"facets": "colour"}, "facets"),
    ({"facets": "open_status"}, "facets"),  # staff facet, public caller
    ({"status": "开放"}, "status"),  # staff parameter, public caller
    ({"retention": "永久"}, "retention"),
    ({"q": ["a", "b"]}, "q"),
    ({"q": "字" * 1001}, "q"),
    ({"fonds": ",".join(str(i) for i in range(51))}, "fonds"),
])
def test_every_bad_value_names_its_parameter(params: dict[str, object], param: str) -> None:
    with pytest.raises(BadQueryError) as raised:
        parse_search_params(params, LIMITS)
    assert raised.value.param == param
    assert param in PARAMETERS


def test_staff_may_filter_by_status_and_retention() -> None:
    request = parse_search_params({"status": "控制,未审核", "retention": "永久",
                                   "facets": "open_status"}, LIMITS, public=False)
    assert request.filters.open_status == (OpenStatus.CONTROLLED, OpenStatus.UNREVIEWED)
    assert request.filters.retention == ("永久",) and not request.public
    with pytest.raises(BadQueryError) as raised:
        parse_search_params({"status": "半开放"}, LIMITS, public=False)
    assert raised.value.param == "status"


def test_a_multidict_is_read_like_a_query_string() -> None:
    from werkzeug.datastructures import MultiDict

    args = MultiDict([("q", "轰炸"), ("fonds", "J001"), ("fonds", "J017"), ("page", "2")])
    request = parse_search_params(args, LIMITS)
    assert request.filters.fonds == ("J001", "J017") and request.page == 2
    with pytest.raises(BadQueryError) as raised:
        parse_search_params(MultiDict([("page", "1"), ("page", "2")]), LIMITS)
    assert raised.value.param == "page"
