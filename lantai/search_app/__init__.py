"""The public web front end: search, records, browsing and a JSON API (zh-CN first).

:func:`create_app` builds the Flask application around one search backend, kept on
``app.extensions["lantai"]``. Views parse with :func:`lantai.search.request.parse_search_params`,
call the backend (public view only) and render; errors become HTTP answers in
:mod:`lantai.search_app.errors` only.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from flask import Flask, Response, current_app, request

from lantai.accounts.store import AccountStore
from lantai.config import Settings, load_settings
from lantai.errors import ConfigError
from lantai.iiif.store import ImageStore
from lantai.open_review.rules import Rules, load_rules
from lantai.open_review.store import ReviewStore
from lantai.search.backends.base import SearchBackend
from lantai.thematic_collections.store import CollectionStore
from lantai.thematic_collections.themes import Theme, load_themes

#: The largest request body (a co-review workbook is the only upload): larger ones get 413.
MAX_UPLOAD = 32 * 1024 * 1024

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
    """What the views share: the settings, the backend, the page-image store and the staff
    accounts."""

    settings: Settings
    backend: SearchBackend
    images: ImageStore
    accounts: AccountStore
    review: ReviewStore
    rules: Rules
    collections: CollectionStore
    themes: dict[str, Theme]


def state() -> WebState:
    """The settings and backend of the running app."""
    found: WebState = current_app.extensions["lantai"]
    return found


def create_app(settings: Settings | None = None, backend: SearchBackend | None = None) -> Flask:
    """The web application. Settings load as for every command when not given; the backend
    opens the existing index (it is not created: an absent index is an error at start)."""
    from flask_wtf.csrf import CSRFProtect

    from lantai.search.backends import create_backend
    from lantai.search_app import (
        api,
        assets,
        auth,
        browse,
        collections_views,
        curation_views,
        iiif,
        records,
        review_views,
        search,
        staff,
    )
    from lantai.search_app.errors import register_errors
    from lantai.search_app.i18n import current_language, remember_language, translate

    settings = settings or load_settings()
    if settings.staff.secure_cookies not in ("auto", "always", "never"):
        raise ConfigError("setting 'staff.secure_cookies' must be auto, always or never "
                          f"(got {settings.staff.secure_cookies!r})")
    if backend is None:
        backend = create_backend(settings, create=False)
    app = Flask(__name__)
    app.json.ensure_ascii = False  # type: ignore[attr-defined]  # 档号 and 题名 stay readable
    app.secret_key = _secret_key(settings)
    app.config.update(SESSION_COOKIE_SAMESITE="Lax", SESSION_COOKIE_HTTPONLY=True,
                      SESSION_COOKIE_NAME="lantai_csrf",
                      SESSION_COOKIE_SECURE=settings.staff.secure_cookies == "always" or (
                          settings.staff.secure_cookies == "auto"
                          and settings.server.public_url.startswith("https://")),
                      WTF_CSRF_TIME_LIMIT=None,  # the token lives as long as the session
                      MAX_CONTENT_LENGTH=MAX_UPLOAD)
    accounts = AccountStore.in_data_dir(
        settings.data_dir, idle_seconds=settings.staff.idle_minutes * 60.0,
        absolute_seconds=settings.staff.absolute_hours * 3600.0)
    review = ReviewStore.in_data_dir(settings.data_dir)
    review.reconcile(backend)  # decisions a crash left unapplied reach the index now
    rules = load_rules(Path(settings.review.rules) if settings.review.rules else None)
    app.extensions["lantai"] = WebState(settings=settings, backend=backend,
                                        images=ImageStore.in_data_dir(settings.data_dir),
                                        accounts=accounts, review=review, rules=rules,
                                        collections=CollectionStore.in_data_dir(
                                            settings.data_dir),
                                        themes=load_themes())
    CSRFProtect(app)
    for blueprint in (search.bp, records.bp, browse.bp, api.bp, iiif.bp, assets.bp, staff.bp,
                      review_views.bp, collections_views.bp, curation_views.bp):
        app.register_blueprint(blueprint)
    register_errors(app)
    app.before_request(auth.load_staff)

    @app.template_filter("timestamp")
    def timestamp(value: float) -> str:
        import datetime

        return datetime.datetime.fromtimestamp(value).strftime("%Y-%m-%d %H:%M:%S")

    @app.context_processor
    def page_globals() -> dict[str, Any]:
        from lantai.search_app.links import with_args

        lang = current_language()
        other = "zh" if lang == "en" else "en"
        # query-only link: it resolves against the current path without repeating it
        switch = with_args("", request.args, replace={"lang": other})
        return {"t": translate, "lang": lang, "lang_switch": switch,
                "archive_name": settings.archive.name, "staff_user": auth.current_staff()}

    @app.after_request
    def finish(response: Response) -> Response:
        response.headers.update(SECURITY_HEADERS)
        auth.no_store(response)
        return remember_language(response)

    return app


def _secret_key(settings: Settings) -> bytes:
    """The key signing the CSRF cookie: ``<data_dir>/secret_key``, made on first start."""
    import os
    import secrets
    from pathlib import Path

    path = Path(settings.data_dir) / "secret_key"
    try:
        return path.read_bytes()
    except FileNotFoundError:
        pass
    path.parent.mkdir(parents=True, exist_ok=True)
    key = secrets.token_hex(32).encode()
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:  # another process made it first
        return path.read_bytes()
    with os.fdopen(fd, "wb") as fh:
        fh.write(key)
    return key
