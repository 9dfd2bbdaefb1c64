"""A small OpenAPI 3.1 description of the public JSON API, built from the parameter registry
(:data:`lantai.search.request.PARAMETERS`) so it cannot drift from what the parser reads."""

from __future__ import annotations

from typing import Any

from lantai.config import Settings
from lantai.search.request import PARAMETERS

_STAFF_ONLY = ("retention", "status")
_INTEGERS = ("page", "size")
_ERROR = {"description": "error", "content": {"application/json": {"schema": {
    "$ref": "#/components/schemas/Error"}}}}


def _query_parameter(name: str, description: str, settings: Settings) -> dict[str, Any]:
    schema: dict[str, Any] = {"type": "string"}
    if name == "page":
        schema = {"type": "integer", "minimum": 1, "maximum": settings.search.max_page}
    elif name == "size":
        schema = {"type": "integer", "minimum": 1, "maximum": settings.search.max_size}
    return {"name": name, "in": "query", "required": False, "description": description,
            "schema": schema}


def openapi_document(settings: Settings) -> dict[str, Any]:
    search_params = [_query_parameter(n, d, settings) for n, d in PARAMETERS.items()
                     if n not in _STAFF_ONLY]
    paging = [_query_parameter(n, PARAMETERS[n], settings) for n in _INTEGERS]
    path_param = {"name": "path", "in": "path", "required": True, "schema": {"type": "string"},
                  "description": "archive/fonds/series/file, segments percent-encoded"}
    code_param = {"name": "code", "in": "path", "required": True, "schema": {"type": "string"},
                  "description": "档号 (percent-encoded)"}

    def ok(description: str) -> dict[str, Any]:
        return {"200": {"description": description,
                        "content": {"application/json": {"schema": {"type": "object"}}}},
                "400": _ERROR, "404": _ERROR}

    return {
        "openapi": "3.1.0",
        "info": {"title": "Lantai public API", "version": "1",
                 "description": "Search and browse the open (开放) records of "
                                f"{settings.archive.name}."},
        "paths": {
            "/api/v1/search": {"get": {"summary": "search", "parameters": search_params,
                                       "responses": ok("one page of hits with facets")}},
            "/api/v1/records/{code}": {"get": {
                "summary": "one record with its text (and, when it has page images, the URL "
                           "of its IIIF Presentation 3 manifest in iiif_manifest)",
                "parameters": [code_param], "responses": ok("the record")}},
            "/iiif/{code}/manifest.json": {"get": {
                "summary": "IIIF Presentation 3 manifest: a canvas per page image, the OCR "
                           "lines as supplementing annotations; page images are IIIF Image "
                           "API 3 level-0 services at /iiif/{code}/{page}",
                "parameters": [code_param], "responses": ok("the manifest")}},
            "/api/v1/browse": {"get": {"summary": "the archives", "parameters": paging,
                                       "responses": ok("the root of the hierarchy")}},
            "/api/v1/browse/{path}": {"get": {"summary": "a node of the hierarchy",
                                              "parameters": [path_param, *paging],
                                              "responses": ok("children and records")}},
        },
        "components": {"schemas": {"Error": {
            "type": "object", "required": ["error"],
            "properties": {"error": {"type": "string"},
                           "parameter": {"type": ["string", "null"]}}}}},
    }
