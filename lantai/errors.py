"""Domain exceptions.

Core code raises these; the CLI and the web layer translate them to exit codes and HTTP
statuses in exactly one place each. Core code never imports Flask.
"""

from __future__ import annotations


class LantaiError(Exception):
    """Base class for every error Lantai reports to a user."""


class ConfigError(LantaiError):
    """A setting is missing or invalid; the message names the exact key."""


class BadQueryError(LantaiError):
    """A search request parameter is invalid; ``param`` names it."""

    def __init__(self, message: str, param: str | None = None) -> None:
        super().__init__(message)
        self.param = param


class RecordNotFound(LantaiError):
    """No record with this 档号 is visible to the caller."""

    def __init__(self, record_id: str) -> None:
        super().__init__(f"record not found: {record_id}")
        self.record_id = record_id


class ImportFailed(LantaiError):
    """A catalog could not be imported at all (unreadable file, unknown format, strict mode)."""


class IndexMismatch(LantaiError):
    """The index on disk was built with a different analyzer, model or schema."""


class MissingDependency(LantaiError):
    """An optional extra is not installed; the message says which one to install."""


def require(module: str, extra: str, purpose: str) -> object:
    """Import ``module`` lazily, or raise :class:`MissingDependency` with an install hint."""
    import importlib

    try:
        return importlib.import_module(module)
    except ImportError as exc:  # pragma: no cover - depends on the environment
        raise MissingDependency(
            f"{purpose} needs the '{module}' package: install it with pip install 'lantai[{extra}]'"
        ) from exc
