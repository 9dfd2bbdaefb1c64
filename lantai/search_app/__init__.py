"""The public web front end: search, records, browsing and a JSON API (zh-CN first).

:func:`create_app` builds the Flask application around one search backend, kept on
``app.extensions["lantai"]``. Views parse with :func:`lantai.search.request.parse_search_params`,
call the backend (public view only) and render; errors become HTTP answers in
:mod:`lantai.search_app.errors` only.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from flask import Flask, Response, current_app, request

from lantai.config import Settings, load_settings
from lantai.iiif.store import ImageStore
from lantai.search.backends.base import SearchBackend

#: OpenSeadragon 6.1.1 injects one fixed rule (no focus outline on touch screens); it is
#: allowed by its hash, so no other inline style is.
_VIEWER_STYLE = "'sha256-9xTiqzfwFaL2SGb1rmr8gysEwVVjIvqWAgmZgqFqpEE='"

#: Sent with every response: no inline script or style, no framing, no foreign assets.
SECURITY_HEADERS = {
    "Content-Security-Policy": "default-src 'self'; img-src 'self' data:; "
                               f"style-src 'self' {_VIEWER_STYLE}; "
                               "script-src 'self'; frame-ancestors 'none'; base-uri 'none'; "
                               "form-action 'self'",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
}


@dataclass(frozen=True)
class WebState:
    """What the views share: the settings, the backend and the page-image store."""

    settings: Settings
    backend: SearchBackend
    images: ImageStore


def state() -> WebState:
    """The settings and backend of the running app."""
    found: WebState = current_app.extensions["lantai"]
    return found


def create_app(settings: Settings | None = None, backend: SearchBackend | None = None) -> Flask:
    """The web application. Settings load as for every command when not given; the backend
    opens the existing index (it is not created: an absent index is an error at start)."""
    from lantai.search.backends import create_backend
    from lantai.search_app import api, assets, browse, iiif, records, search
    from lantai.search_app.errors import register_errors
    from lantai.search_app.i18n import current_language, remember_language, translate

    settings = settings or load_settings()
    if backend is None:
        backend = create_backend(settings, create=False)
    app = Flask(__name__)
    app.json.ensure_ascii = False  # type: ignore[attr-defined]  # 档号 and 题名 stay readable
    app.extensions["lantai"] = WebState(settings=settings, backend=backend,
                                        images=ImageStore.in_data_dir(settings.data_dir))
    for blueprint in (search.bp, records.bp, browse.bp, api.bp, iiif.bp, assets.bp):
        app.register_blueprint(blueprint)
    register_errors(app)

    @app.context_processor
    def page_globals() -> dict[str, Any]:
        from lantai.search_app.links import with_args

        lang = current_language()
        other = "zh" if lang == "en" else "en"
        # query-only link: it resolves against the current path without repeating it
        switch = with_args("", request.args, replace={"lang": other})
        return {"t": translate, "lang": lang, "lang_switch": switch,
                "archive_name": settings.archive.name}

    @app.after_request
    def finish(response: Response) -> Response:
        response.headers.update(SECURITY_HEADERS)
        return remember_language(response)

    return app
