"""The search page: one box, hits, facets as links that add a filter, pagination."""

from __future__ import annotations

import math

from flask import Blueprint, render_template, request, url_for

from lantai.search.facets import FACETS
from lantai.search.request import parse_search_params
from lantai.search_app import state
from lantai.search_app.links import with_args

bp = Blueprint("search", __name__)


@bp.get("/")
def home() -> str:
    return render_template("home.html")


@bp.get("/search")
def search() -> str:
    web = state()
    search_request = parse_search_params(request.args, web.settings.search, public=True)
    result = web.backend.search(search_request)
    base = url_for("search.search")
    pages = min(math.ceil(result.total / result.size), web.settings.search.max_page)

    def page_url(page: int) -> str:
        return with_args(base, request.args, replace={"page": str(page)})

    def facet_url(name: str, value: str) -> str:
        return with_args(base, request.args, add=[(name, value)], replace={"page": None})

    active = [(name, value, web.backend.facet_label(name, value),
               with_args(base, request.args, remove=[(name, value)], replace={"page": None}))
              for name in FACETS for value in request.args.getlist(name)]
    return render_template("search.html", result=result, query=search_request.query,
                           pages=pages, page_url=page_url, facet_url=facet_url,
                           facet_specs=FACETS, active=active)
