"""IIIF for open records: a Presentation 3 manifest per record and a level-0 Image API
service per page image (the files ``lantai images build`` cut).

Every route looks the record up through the public gate first, so a record that is not 开放
answers 404 exactly like one that does not exist, before any parameter is read. Responses
carry ``Access-Control-Allow-Origin: *`` (IIIF is for other viewers too: only public
records are ever served) and are revalidated on every use (``no-cache`` with an ETag), so a
record that stops being open stops being shown at once, even from caches.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, jsonify, redirect, send_file, url_for
from werkzeug.wrappers import Response

from lantai.catalog.citation import cite
from lantai.catalog.model import Record
from lantai.errors import NotFound
from lantai.iiif.manifest import manifest as build_manifest
from lantai.search_app import state
from lantai.search_app.auth import current_staff, sees_unopened
from lantai.search_app.links import iiif_base, record_url

bp = Blueprint("iiif", __name__)

JSON_LD = 'application/ld+json;profile="http://iiif.io/api/presentation/3/context.json"'
IMAGE_JSON_LD = 'application/ld+json;profile="http://iiif.io/api/image/3/context.json"'


def _open_record(code: str) -> Record:
    # RecordNotFound for a missing or non-open record (signed-in staff see every record)
    return state().backend.get(code, public=not sees_unopened())


def _shared(response: Response, content_type: str | None = None) -> Response:
    if current_staff() is None:  # public records only: other sites' viewers may use them
        response.headers["Access-Control-Allow-Origin"] = "*"
    response.headers["Cache-Control"] = "no-cache"
    if content_type:
        response.headers["Content-Type"] = content_type
    return response


@bp.get("/iiif/<path:code>/manifest.json")
def manifest(code: str) -> Response:
    web = state()
    found = _open_record(code)
    pages = web.images.pages(found.archival_code)
    if not pages:
        raise NotFound(f"record {found.archival_code} has no page images")
    ocr = {p.number: o for p in pages
           if (o := web.images.ocr_page(found.archival_code, p.number)) is not None}
    url = record_url(found.archival_code)
    body: dict[str, Any] = build_manifest(
        found, pages, ocr, base=iiif_base(found.archival_code), homepage=url,
        citation=cite(found, archive_name=web.settings.archive.name, url=url))
    return _shared(jsonify(body), JSON_LD)


@bp.get("/iiif/<path:code>/<int:number>")
def service(code: str, number: int) -> Response:
    found = _open_record(code)
    state().images.page(found.archival_code, number)
    return _shared(redirect(url_for("iiif.info", code=found.archival_code, number=number),
                            303))


@bp.get("/iiif/<path:code>/<int:number>/info.json")
def info(code: str, number: int) -> Response:
    found = _open_record(code)
    page = state().images.page(found.archival_code, number)
    body = page.pyramid.info(f"{iiif_base(found.archival_code)}/{number}")
    return _shared(jsonify(body), IMAGE_JSON_LD)


@bp.get("/iiif/<path:code>/<int:number>/<region>/<size>/<rotation>/<quality>.<fmt>")
def image(code: str, number: int, region: str, size: str, rotation: str, quality: str,
          fmt: str) -> Response:
    found = _open_record(code)
    path = state().images.image_file(found.archival_code, number, region, size, rotation,
                                     quality, fmt)
    return _shared(send_file(path, mimetype="image/jpeg", conditional=True, etag=True,
                             max_age=None))
