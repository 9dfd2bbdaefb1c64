"""Staff pages of thematic collections (curator role): a theme's candidates and draft, the
curation actions, publishing. Thin views over :mod:`lantai.thematic_collections`; every POST
carries the CSRF token and every route asks for the CURATE permission on the server."""

from __future__ import annotations

from flask import Blueprint, redirect, render_template, request, url_for
from werkzeug.wrappers import Response

from lantai.accounts.roles import Permission
from lantai.errors import BadQueryError, NotFound
from lantai.search_app import state
from lantai.search_app.auth import current_staff, requires
from lantai.thematic_collections.builder import build
from lantai.thematic_collections.themes import Theme

bp = Blueprint("curation", __name__)

ACTIONS = ("accept", "exclude", "pin", "unpin", "up", "down", "note", "intro", "publish")


def _theme(slug: str) -> Theme:
    found = state().themes.get(slug)
    if found is None:
        raise NotFound(f"no theme {slug!r}")
    return found


@bp.get("/staff/collections")
@requires(Permission.CURATE)
def themes() -> str:
    web = state()
    rows = []
    for theme in web.themes.values():
        latest = web.collections.version(theme.slug)
        rows.append((theme, len(web.collections.draft(theme.slug)), latest))
    return render_template("staff_collections.html", rows=rows)


@bp.get("/staff/collections/<slug>")
@requires(Permission.CURATE)
def theme(slug: str) -> str:
    web = state()
    found = _theme(slug)
    preview = request.args.get("preview") == "1"
    draft = web.collections.draft(slug)
    records = web.backend.get_many([i.archival_code for i in draft], public=False)
    seen = web.collections.decided(slug)
    candidates = [c for c in build(web.backend, found, public=not preview, size=60)
                  if c.record.archival_code not in seen]
    intro = web.collections.intro(slug) or (found.intro_zh, found.intro_en)
    return render_template("staff_collection.html", theme=found, draft=draft, records=records,
                           candidates=candidates, intro=intro, preview=preview,
                           latest=web.collections.version(slug),
                           changes=web.collections.changes(slug, 30))


@bp.post("/staff/collections/<slug>/<action>")
@requires(Permission.CURATE)
def act(slug: str, action: str) -> Response:
    web = state()
    found = _theme(slug)
    store = web.collections
    user = current_staff()
    assert user is not None
    if action not in ACTIONS:
        raise BadQueryError(f"unknown action {action!r}: {', '.join(ACTIONS)}", "action")
    form = request.form
    code = form.get("code", "").strip()
    if action == "intro":
        store.set_intro(slug, form.get("intro_zh", "") or found.intro_zh,
                        form.get("intro_en", "") or found.intro_en, user.name)
    elif action == "publish":
        version = store.publish(slug, store.intro(slug) or (found.intro_zh, found.intro_en),
                                user.name)
        return redirect(url_for("collections.theme", slug=slug, v=version.version), 303)
    else:
        if not code:
            raise BadQueryError("which record?", "code")
        if action == "accept":
            if not web.backend.get_many([code], public=False):
                raise NotFound(f"record not found: {code}")
            store.accept(slug, [code], user.name)
        elif action == "exclude":
            store.exclude(slug, code, user.name)
        elif action in ("pin", "unpin"):
            store.pin(slug, code, action == "pin", user.name)
        elif action in ("up", "down"):
            order = [i.archival_code for i in store.draft(slug)]
            if code not in order:
                raise NotFound(f"{code} is not in the draft of {slug}")
            place = order.index(code) + (0 if action == "up" else 2)
            store.move(slug, code, min(max(place, 1), len(order)), user.name)
        elif action == "note":
            store.annotate(slug, code, user.name, note_zh=form.get("note_zh", ""),
                           note_en=form.get("note_en", ""), timeline=form.get("timeline", ""))
    return redirect(url_for("curation.theme", slug=slug) + "#draft", 303)
