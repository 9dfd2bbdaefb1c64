"""Public theme pages: the index of published themes, and a theme with its introduction,
timeline, items and a search inside it. Every item is read through the public gate when the
page is made, so a record that stops being 开放 leaves every theme at once."""

from __future__ import annotations

from flask import Blueprint, render_template, request

from lantai.errors import NotFound
from lantai.iiif.manifest import image_url
from lantai.search.facets import Filters
from lantai.search.request import parse_query_text, parse_search_params
from lantai.search_app import state
from lantai.search_app.links import iiif_base, with_args
from lantai.thematic_collections.exhibit import public_items, search_in, timeline
from lantai.thematic_collections.themes import Theme

bp = Blueprint("collections", __name__)


def _filters() -> Filters:
    """Facet filters of a theme search (the public search's own parameter parser)."""
    return parse_search_params(request.args, state().settings.search, public=True).filters


@bp.get("/collections")
def index() -> str:
    web = state()
    shown = []
    for slug in web.collections.published_slugs():
        theme = web.themes.get(slug)
        version = web.collections.version(slug)
        if theme is None or version is None:
            continue
        count = len(public_items(web.backend, version))
        shown.append((theme, version, count))
    query = parse_query_text(request.args)
    result = None
    in_themes: dict[str, list[Theme]] = {}
    if query:  # a search across every published theme
        result = search_in(web.backend, [v for _, v, _ in shown], query, filters=_filters())
        for theme, version, _ in shown:
            for item in version.items:
                in_themes.setdefault(item.archival_code, []).append(theme)
    return render_template("collections.html", themes=shown, query=query, result=result,
                           in_themes=in_themes, facet_url=_facet_url)


def _facet_url(name: str, value: str) -> str:
    return with_args(request.path, request.args, add=[(name, value)])


@bp.get("/collections/<slug>")
def theme(slug: str) -> str:
    web = state()
    found = web.themes.get(slug)
    number = request.args.get("v")
    if number is not None and not number.isdigit():
        raise NotFound(f"no version {number!r} of theme {slug}")
    version = web.collections.version(slug, int(number) if number else None)
    if found is None or version is None:
        raise NotFound(f"no published theme {slug!r}")
    items = public_items(web.backend, version)
    query = parse_query_text(request.args)
    filters = _filters()
    narrowed = bool(filters.facet_filters())
    # a search, or a facet chosen: the matching items as a list; else the timeline, with
    # the facets of the whole theme above it
    result = search_in(web.backend, [version], query, filters=filters) \
        if query or narrowed else None
    facets = None if result else search_in(web.backend, [version], "", size=1).facets
    if narrowed and result is not None:  # the timeline shows what the facets kept
        kept = {h.record.archival_code for h in result.hits}
        items = [e for e in items if e.record.archival_code in kept]
    thumbs = {}
    for e in items:
        pages = web.images.pages(e.record.archival_code)
        if pages:
            thumbs[e.record.archival_code] = (
                image_url(iiif_base(e.record.archival_code), pages[0], 160),
                pages[0].pyramid.best_size(160))
    latest = version if number is None else web.collections.version(slug)
    return render_template("collection.html", theme=found, version=version, items=items,
                           timeline=timeline(items), query=query, result=result,
                           thumbs=thumbs, latest=latest, facet_url=_facet_url,
                           facets=facets)
