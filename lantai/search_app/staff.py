"""Staff sign-in and sign-out, the staff home, and account administration (admin role).

Every POST carries a CSRF token (Flask-WTF: the ``csrf_token`` form field, or the
``X-CSRFToken`` header for JSON). Signing in opens a new session and discards any session the
browser brought (no fixation); signing out ends it on the server. Views are thin: the rules
live in :mod:`lantai.accounts`.
"""

from __future__ import annotations

from typing import Any

from flask import (
    Blueprint,
    g,
    jsonify,
    make_response,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_wtf.csrf import generate_csrf
from werkzeug.wrappers import Response

from lantai.accounts.roles import PERMISSIONS, Permission, Role, parse_role
from lantai.accounts.store import Outcome
from lantai.errors import BadQueryError, Forbidden, TooManyAttempts
from lantai.search_app import state
from lantai.search_app.auth import (
    COOKIE,
    clear_session_cookie,
    client_address,
    current_staff,
    requires,
    safe_next,
    set_session_cookie,
)
from lantai.search_app.i18n import translate

bp = Blueprint("staff", __name__)

#: What a failed sign-in says (one message for a wrong name and a wrong password).
_MESSAGES = {Outcome.BAD: "login_bad", Outcome.DISABLED: "login_disabled",
             Outcome.LOCKED: "login_locked"}


@bp.route("/staff/login", methods=["GET", "POST"])
def login() -> Any:
    web = state()
    home = url_for("staff.home")
    target = safe_next(request.values.get("next"), home)
    if request.method == "GET":
        return render_template("staff_login.html", next=target, error=None)
    name = request.form.get("username", "")
    password = request.form.get("password", "")
    if not name or not password:
        raise BadQueryError("enter a user name and a password",
                            "username" if not name else "password")
    result = web.accounts.sign_in(name, password, client_address())
    if result.outcome is Outcome.THROTTLED:
        raise TooManyAttempts(translate("login_throttled", n=result.retry_after),
                              result.retry_after)
    if result.outcome is not Outcome.OK:
        page = render_template("staff_login.html", next=target,
                               error=translate(_MESSAGES[result.outcome]))
        return make_response(page, 403 if result.outcome is Outcome.LOCKED else 401)
    old = request.cookies.get(COOKIE)
    if old:  # a session the browser brought never survives a sign-in
        web.accounts.sign_out(old, client_address())
    session.clear()  # and the CSRF token changes with it
    response = redirect(target, 303)
    set_session_cookie(response, result.token)
    return response


@bp.post("/staff/logout")
def logout() -> Response:
    token = request.cookies.get(COOKIE)
    if token:
        state().accounts.sign_out(token, client_address())
    session.clear()
    response = redirect(url_for("search.home"), 303)
    clear_session_cookie(response)
    g.staff = None
    return response


@bp.get("/staff/")
@requires(Permission.VIEW_UNOPENED)
def home() -> str:
    user = current_staff()
    assert user is not None
    return render_template("staff_home.html", user=user,
                           permissions=sorted(p.value for p in PERMISSIONS[user.role]))


@bp.get("/staff/users")
@requires(Permission.MANAGE_USERS)
def users() -> str:
    return render_template("staff_users.html", users=state().accounts.users(), roles=list(Role))


@bp.post("/staff/users/<name>/<action>")
@requires(Permission.MANAGE_USERS)
def change_user(name: str, action: str) -> Response:
    _change(name, action, request.form)
    return redirect(url_for("staff.users"), 303)


@bp.get("/staff/audit")
@requires(Permission.MANAGE_USERS)
def audit() -> str:
    return render_template("staff_audit.html", entries=state().accounts.audit_log(300))


# -- JSON --------------------------------------------------------------------------------------
@bp.get("/api/v1/staff/me")
@requires(Permission.VIEW_UNOPENED)
def me() -> Response:
    user = current_staff()
    assert user is not None
    return jsonify({"user": user.name, "role": user.role.value,
                    "permissions": sorted(p.value for p in PERMISSIONS[user.role]),
                    "csrf_token": generate_csrf()})


@bp.post("/api/v1/staff/users/<name>/<action>")
@requires(Permission.MANAGE_USERS)
def change_user_json(name: str, action: str) -> Response:
    values = request.get_json(silent=True) or {}
    user = _change(name, action, values)
    return jsonify({"user": user.name, "role": user.role.value, "disabled": user.disabled,
                    "locked": user.locked})


def _change(name: str, action: str, values: Any) -> Any:
    accounts = state().accounts
    actor = current_staff()
    assert actor is not None
    target = accounts.user(name)
    if target.name.lower() == actor.name.lower() and action in ("disable", "role"):
        raise Forbidden("administrators cannot disable themselves or change their own role")
    who = {"actor": actor.name, "address": client_address()}
    if action == "role":
        return accounts.set_role(name, parse_role(str(values.get("role", ""))), **who)
    if action in ("disable", "enable"):
        return accounts.set_disabled(name, action == "disable", **who)
    if action == "unlock":
        return accounts.unlock(name, **who)
    raise BadQueryError(f"unknown action {action!r}: role, disable, enable or unlock",
                        "action")
