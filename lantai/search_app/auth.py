"""Who is asking: the staff session behind a request, permission checks, and the cookies.

A staff session is a random token in the ``lantai_staff`` cookie (HttpOnly, SameSite=Lax,
Secure over HTTPS); the server keeps only its hash (:mod:`lantai.accounts.store`). Every staff
view is wrapped in :func:`requires`, which checks the role's permission on the server for
every request — templates only hide what a role cannot use. Anything rendered for a signed-in
user is sent ``Cache-Control: no-store``, so it stays out of caches and the back button after
sign-out asks the server again.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any, TypeVar
from urllib.parse import urlsplit

from flask import g, redirect, request, url_for
from werkzeug.wrappers import Response

from lantai.accounts.roles import Permission, allowed
from lantai.accounts.store import User
from lantai.errors import Forbidden, SignInRequired

COOKIE = "lantai_staff"
F = TypeVar("F", bound=Callable[..., Any])


def load_staff() -> None:
    """Before each request: the signed-in user, if the session cookie names a live session."""
    from lantai.search_app import state

    token = request.cookies.get(COOKIE, "")
    g.staff = state().accounts.session_user(token) if token else None


def current_staff() -> User | None:
    found: User | None = g.get("staff")
    return found


def can(permission: Permission) -> bool:
    user = current_staff()
    return user is not None and allowed(user.role, permission)


def sees_unopened() -> bool:
    """Whether this request may see records that are not 开放 (signed-in staff)."""
    return can(Permission.VIEW_UNOPENED)


def requires(permission: Permission) -> Callable[[F], F]:
    """Refuse the view unless a signed-in user's role has ``permission``: pages redirect an
    anonymous visitor to sign-in (then back), the API answers 401; a wrong role gets 403."""

    def wrap(view: F) -> F:
        @functools.wraps(view)
        def checked(*args: Any, **kwargs: Any) -> Any:
            user = current_staff()
            if user is None:
                if request.path.startswith("/api/"):
                    raise SignInRequired("sign in as staff first")
                return redirect(url_for("staff.login", next=request.full_path.rstrip("?")))
            if not allowed(user.role, permission):
                raise Forbidden(f"the {user.role.value} role may not do this")
            return view(*args, **kwargs)

        return checked  # type: ignore[return-value]

    return wrap


def safe_next(target: str | None, default: str) -> str:
    """``next`` only when it is a path on this site (no scheme, host, ``//`` or ``\\``)."""
    if not target or "\\" in target or any(ord(ch) < 32 for ch in target):
        return default
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//"):
        return default
    return target


def client_address() -> str:
    """The address sign-in limits count by (the direct peer; a proxy must pass its own)."""
    return request.remote_addr or "unknown"


def secure_cookies() -> bool:
    from lantai.search_app import state

    mode = state().settings.staff.secure_cookies
    if mode == "always":
        return True
    if mode == "never":
        return False
    return request.is_secure or state().settings.server.public_url.startswith("https://")


def set_session_cookie(response: Response, token: str) -> None:
    response.set_cookie(COOKIE, token, httponly=True, samesite="Lax", secure=secure_cookies(),
                        path="/")


def clear_session_cookie(response: Response) -> None:
    response.delete_cookie(COOKIE, path="/", httponly=True, samesite="Lax",
                           secure=secure_cookies())


def no_store(response: Response) -> Response:
    """After each request: nothing a signed-in user saw is stored by any cache."""
    if current_staff() is not None or request.path.startswith(("/staff", "/api/v1/staff")):
        response.headers["Cache-Control"] = "no-store"
        response.headers["Pragma"] = "no-cache"
    response.vary.add("Cookie")
    return response
