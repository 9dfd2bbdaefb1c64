"""Domain exceptions, and how each reaches a user.

Core code raises these; the CLI turns them into exit codes (:func:`exit_code`) and the web
layer into HTTP statuses (:func:`http_status`), each in exactly one place, from the table on
each class. Core code never imports Flask.

Exit codes (documented in ``docs/cli.md``):

== ==================================================================
0  success
1  an unexpected internal error (a bug: please report it)
2  a bad command-line parameter or query parameter (:class:`BadQueryError`)
3  not found: a record, a hierarchy node, a file named on the command line
4  forbidden
5  unavailable: the backend is down or the index does not exist yet
6  conflict: the index was built differently, or a concurrent change
7  configuration error (:class:`ConfigError`)
8  an import or batch could not run at all (:class:`ImportFailed`)
9  an optional part is not installed (:class:`MissingDependency`)
10 the backend cannot do this (:class:`Unsupported`)
== ==================================================================
"""

from __future__ import annotations

from typing import ClassVar


class LantaiError(Exception):
    """Base class for every error Lantai reports to a user."""

    exit_code: ClassVar[int] = 1
    http_status: ClassVar[int] = 500


class ConfigError(LantaiError):
    """A setting is missing or invalid; the message names the exact key."""

    exit_code = 7


class BadQueryError(LantaiError):
    """A request parameter is invalid; ``param`` names it."""

    exit_code = 2
    http_status = 400

    def __init__(self, message: str, param: str | None = None) -> None:
        super().__init__(message)
        self.param = param


class NotFound(LantaiError):
    """Something the caller named does not exist, or is not visible to the caller.

    A non-open record is reported to the public exactly like a missing one."""

    exit_code = 3
    http_status = 404


class RecordNotFound(NotFound):
    """No record with this 档号 is visible to the caller."""

    def __init__(self, record_id: str) -> None:
        super().__init__(f"record not found: {record_id}")
        self.record_id = record_id


class NodeNotFound(NotFound):
    """No hierarchy node (全宗, 目录, 案卷) with this path is visible to the caller."""

    def __init__(self, path: tuple[str, ...]) -> None:
        super().__init__(f"no such node in the hierarchy: {' / '.join(path) or '(root)'}")
        self.path = path


class Forbidden(LantaiError):
    """The caller may not do this (e.g. a public caller asking for a staff view)."""

    exit_code = 4
    http_status = 403


class SignInRequired(Forbidden):
    """Only signed-in staff may do this (the web answers 401; pages redirect to sign-in)."""

    http_status = 401


class TooManyAttempts(Forbidden):
    """Sign-in is refused for a while after repeated failures; ``retry_after`` in seconds."""

    http_status = 429

    def __init__(self, message: str, retry_after: int) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class Unavailable(LantaiError):
    """The backend cannot answer now: the server is down, or the index does not exist."""

    exit_code = 5
    http_status = 503


class Conflict(LantaiError):
    """The request conflicts with the state of the index."""

    exit_code = 6
    http_status = 409


class IndexMismatch(Conflict):
    """The index on disk was built with a different analyzer, model or schema."""


class ImportFailed(LantaiError):
    """A catalog could not be imported at all (unreadable file, unknown format, strict mode)."""

    exit_code = 8
    http_status = 400


class MissingDependency(LantaiError):
    """An optional extra is not installed; the message says which one to install."""

    exit_code = 9
    http_status = 501


class Unsupported(LantaiError):
    """The backend does not offer this capability (see ``SearchBackend.capabilities``)."""

    exit_code = 10
    http_status = 501


def exit_code(exc: BaseException) -> int:
    """The documented exit code of the CLI for ``exc`` (1 for anything unexpected)."""
    return exc.exit_code if isinstance(exc, LantaiError) else 1


def http_status(exc: BaseException) -> int:
    """The HTTP status the web layer answers ``exc`` with (500 for anything unexpected)."""
    return exc.http_status if isinstance(exc, LantaiError) else 500


def require(module: str, extra: str, purpose: str) -> object:
    """Import ``module`` lazily, or raise :class:`MissingDependency` with an install hint."""
    import importlib

    try:
        return importlib.import_module(module)
    except ImportError as exc:  # pragma: no cover - depends on the environment
        raise MissingDependency(
            f"{purpose} needs the '{module}' package: install it with pip install 'lantai[{extra}]'"
        ) from exc
