"""The JSON API (``/api/v1``): the same parameters, backend calls and public gate as the pages."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, jsonify, request

from lantai.search.request import parse_search_params
from lantai.search.serialize import browse_to_dict, record_summary, result_to_dict
from lantai.search_app import state
from lantai.search_app.links import iiif_base
from lantai.search_app.openapi import openapi_document
from lantai.search_app.views_common import browse_paging, split_path

bp = Blueprint("api", __name__, url_prefix="/api/v1")


@bp.get("/search")
def search() -> Response:
    web = state()
    result = web.backend.search(parse_search_params(request.args, web.settings.search,
                                                    public=True))
    return jsonify(result_to_dict(result))


@bp.get("/records/<path:code>")
def record(code: str) -> Response:
    web = state()
    found = web.backend.get(code)  # RecordNotFound also for a record that is not 开放
    data: dict[str, Any] = record_summary(found)
    data["pages"] = list(found.pages)
    data["path"] = [n for n in web.backend.path_of(found).nodes() if n]
    images = web.images.pages(found.archival_code)
    data["page_images"] = len(images)
    data["iiif_manifest"] = (iiif_base(found.archival_code) + "/manifest.json"
                             if images else None)
    return jsonify(data)


@bp.get("/browse", defaults={"path": ""})
@bp.get("/browse/<path:path>")
def browse(path: str) -> Response:
    web = state()
    page, size = browse_paging(request.args, web.settings)
    return jsonify(browse_to_dict(web.backend.browse(split_path(path), page=page, size=size)))


@bp.get("/openapi.json")
def openapi() -> Response:
    return jsonify(openapi_document(state().settings))
