"""The record page: DA/T 18 description, full text, place in the hierarchy, similar records."""

from __future__ import annotations

from flask import Blueprint, render_template, request, url_for

from lantai.catalog.citation import cite
from lantai.catalog.model import FIELD_LABELS, FIELD_LABELS_EN
from lantai.iiif.manifest import image_url
from lantai.iiif.viewer import page_view
from lantai.search.backends.base import Capability
from lantai.search.highlight import highlight_all, hits_in_pages
from lantai.search.query import parse_query
from lantai.search.request import parse_page_number, parse_query_text
from lantai.search_app import assets, state
from lantai.search_app.auth import sees_unopened
from lantai.search_app.i18n import current_language
from lantai.search_app.links import iiif_base, node_path, record_url, with_args
from lantai.search_app.views_common import crumbs

bp = Blueprint("records", __name__)

#: Shown elsewhere on the page (题名 as the heading, 全文 below).
_NOT_IN_TABLE = ("title", "pages", "images")


@bp.get("/records/<path:code>")
def record(code: str) -> str:
    web = state()
    # RecordNotFound also for a record that is not 开放, unless staff are signed in
    found = web.backend.get(code, public=not sees_unopened())
    data = found.to_dict()
    labels = FIELD_LABELS_EN if current_language() == "en" else FIELD_LABELS
    fields = []
    for name, label in labels.items():
        value = data.get(name)
        if name in _NOT_IN_TABLE or value in (None, "", [], ()):
            continue
        shown = "；".join(map(str, value)) if isinstance(value, list | tuple) else str(value)
        if name == "date_text" and found.date_normalized_note:
            shown = f"{shown}（{found.date_normalized_note}）"
        fields.append((label, shown))
    similar = (web.backend.similar(found.archival_code, k=5)
               if web.backend.has(Capability.VECTORS) else [])
    trail = crumbs(web.backend, web.backend.path_of(found).nodes())
    # search in this record: the query's hits marked on every page, counted per page
    query = parse_query_text(request.args)
    terms = parse_query(query, web.backend.analyzer).highlight if query else ()
    pages = hits_in_pages(found.pages, terms, web.backend.analyzer)
    stored = web.images.pages(found.archival_code)
    position = parse_page_number(request.args, "image", pages=len(stored))
    view = page_view(web.images, found, stored, position, terms, web.backend.analyzer)
    citation = cite(found, archive_name=web.settings.archive.name,
                    url=record_url(found.archival_code))
    return render_template(
        "record.html", record=found, fields=fields, similar=similar, crumbs=trail,
        node_path=node_path, query=query, title=highlight_all(found.title, terms,
                                                              web.backend.analyzer),
        pages=pages, hits=sum(p.hits for p in pages), citation=citation, view=view,
        iiif_base=iiif_base(found.archival_code) if view else "", image_url=image_url,
        image_link=lambda n: with_args(url_for("records.record", code=found.archival_code),
                                       request.args, replace={"image": str(n)}) + "#viewer",
        viewer_script=(url_for("assets.asset", name=assets.VIEWER.name)
                       if view is not None and assets.available(assets.VIEWER) else None))
