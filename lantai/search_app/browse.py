"""Browsing the hierarchy: the fonds of the archive, then 目录, 案卷 and files."""

from __future__ import annotations

import math

from flask import Blueprint, render_template, request, url_for

from lantai.catalog.hierarchy import Level
from lantai.errors import NodeNotFound
from lantai.search.backends.base import BrowsePage
from lantai.search_app import state
from lantai.search_app.links import node_path, with_args
from lantai.search_app.views_common import browse_paging, crumbs, split_path

bp = Blueprint("browse", __name__)


@bp.get("/fonds")
def fonds() -> str:
    web = state()
    archive = (web.settings.archive.code,)
    try:
        return _render(archive)
    except NodeNotFound:  # nothing public yet: an empty list, not an error
        empty = BrowsePage(path=archive, level=Level.ARCHIVE, label=web.settings.archive.name,
                           count=0, children=(), records=(), records_total=0, page=1, size=1)
        return render_template("browse.html", node=empty, pages=1, page_url=lambda n: "",
                               crumbs=crumbs(web.backend, ()),
                               node_path=node_path)


@bp.get("/browse", defaults={"path": ""})
@bp.get("/browse/<path:path>")
def node(path: str) -> str:
    return _render(split_path(path))


def _render(nodes: tuple[str, ...]) -> str:
    web = state()
    page, size = browse_paging(request.args, web.settings)
    found = web.backend.browse(nodes, page=page, size=size)
    pages = max(1, math.ceil(found.records_total / found.size))
    base = url_for("browse.node") + ("/" + node_path(found.path) if found.path else "")

    def page_url(number: int) -> str:
        return with_args(base, request.args, replace={"page": str(number)})

    return render_template("browse.html", node=found, pages=pages, page_url=page_url,
                           crumbs=crumbs(web.backend, found.path),
                           node_path=node_path)
