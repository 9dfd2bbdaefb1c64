"""The search page: one box, hits, facets as links that add a filter, pagination."""

from __future__ import annotations

import dataclasses
import math

from flask import Blueprint, render_template, request, url_for

from lantai.catalog.model import FIELD_LABELS, FIELD_LABELS_EN
from lantai.iiif.manifest import image_url
from lantai.search.backends.base import SortOrder
from lantai.search.facets import DEFAULT_FACETS, FACETS
from lantai.search.request import parse_search_params
from lantai.search_app import state
from lantai.search_app.auth import sees_unopened
from lantai.search_app.i18n import current_language
from lantai.search_app.links import iiif_base, with_args
from lantai.text.scripts import both_scripts

bp = Blueprint("search", __name__)

#: Facets of the search page: the defaults (全宗, 年代 as a histogram, 门类, 责任者) and 主题词.
PAGE_FACETS = (*DEFAULT_FACETS, "subject")
#: Facets filtered by a parameter of another name.
_PARAM = {"open_status": "status"}


@bp.get("/")
def home() -> str:
    return render_template("home.html")


@bp.get("/search")
def search() -> str:
    web = state()
    staff = sees_unopened()  # signed-in staff see records that are not 开放, marked
    search_request = parse_search_params(request.args, web.settings.search, public=not staff)
    if "facets" not in request.args:  # the page shows 主题词 as well (staff: 开放标识 too)
        search_request = dataclasses.replace(
            search_request, facets=PAGE_FACETS + (("open_status",) if staff else ()))
    result = web.backend.search(search_request)
    base = url_for("search.search")
    pages = min(math.ceil(result.total / result.size), web.settings.search.max_page)

    def page_url(page: int) -> str:
        return with_args(base, request.args, replace={"page": str(page)})

    def facet_url(name: str, value: str) -> str:
        return with_args(base, request.args, add=[(_PARAM.get(name, name), value)],
                         replace={"page": None})

    english = current_language() == "en"

    def chip(name: str, value: str) -> str:
        if name == "decade" and english and value.isdigit():
            return f"{value}s"
        return web.backend.facet_label(name, value)

    active = [(name, value, chip(name, value),
               with_args(base, request.args, remove=[(_PARAM.get(name, name), value)],
                         replace={"page": None}))
              for name in FACETS for value in request.args.getlist(_PARAM.get(name, name))]
    # page 1 of each hit that has page images, as a thumbnail
    thumbs = {}
    for hit in result.hits:
        images = web.images.pages(hit.record.archival_code)
        if images:
            thumbs[hit.record.archival_code] = (
                image_url(iiif_base(hit.record.archival_code), images[0], 120),
                images[0].pyramid.best_size(120))
    dates = [(name, request.args[name],
              with_args(base, request.args, replace={name: None, "page": None}))
             for name in ("from", "to") if request.args.get(name)]
    sorts = [(order.value, with_args(base, request.args, replace={
        "sort": None if order is SortOrder.RELEVANCE else order.value, "page": None}))
        for order in (SortOrder.RELEVANCE, SortOrder.DATE, SortOrder.DATE_DESC)]
    decades = sorted(result.facets.get("decade", ()), key=lambda v: v.value)
    scripts = both_scripts(search_request.query) if not result.total and \
        search_request.query else None
    # "also searched: 巡捕、巡警" — the period words the thesaurus added, and a link without
    expansions = result.plan.expansions
    exact_url = with_args(base, request.args, replace={"expand": "0", "page": None}) \
        if expansions else None
    expand_url = with_args(base, request.args, replace={"expand": None, "page": None}) \
        if not search_request.expand else None
    kept = [(k, v) for k, v in request.args.items(multi=True)
            if k not in ("from", "to", "page")]
    return render_template("search.html", result=result, query=search_request.query,
                           pages=pages, page_url=page_url, facet_url=facet_url,
                           facet_specs=FACETS, active=active, dates=dates, sorts=sorts,
                           sort=search_request.sort.value, decades=decades,
                           decade_max=max((v.count for v in decades), default=0), kept=kept,
                           scripts=scripts, thumbs=thumbs, expansions=expansions,
                           exact_url=exact_url, expand_url=expand_url,
                           field_labels=FIELD_LABELS_EN if english else FIELD_LABELS)
