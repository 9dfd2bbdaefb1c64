"""Period vocabulary: today's words linked to the words the sources used.

A historian types 警察, 电话 or 禁烟运动; a 1930s newspaper writes 巡捕, 德律风, 烟土. The
thesaurus (``data/thesaurus.toml``, data with a citation for every entry) links them:

* ``terms`` of a group are equivalents: a query word equal to any of them also searches the
  others (警察 → 巡捕, 巡警; 巡捕 → 警察, 巡警);
* ``related`` words are searched when the query names one of the group's ``terms``, never the
  reverse (禁烟运动 → 烟土, 鸦片; 鸦片 does not bring back 禁烟运动).

Terms are matched after the analyzer's folding (traditional and variant characters to
simplified), so one entry serves both scripts. Search uses the alternatives with a lower weight
than the words typed and shows them to the user ("also searched: …").
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from pathlib import Path

from lantai.errors import ConfigError
from lantai.text.analysis import Analyzer

_KINDS = frozenset({"thing", "role", "place", "organisation", "event", "movement", "concept"})
_TERM = re.compile(r"^[\u3400-\u9fff\U00020000-\U0002ffff]{2,16}$")


@dataclass(frozen=True)
class Group:
    terms: tuple[str, ...]  # as written in the file
    related: tuple[str, ...]
    kind: str
    sources: tuple[str, ...]
    note: str = ""


@dataclass(frozen=True)
class Expansion:
    """What one query word brings in: ``word`` as the user typed it (normalised)."""

    word: str
    equivalents: tuple[str, ...]  # normalised, without ``word``
    related: tuple[str, ...]

    @property
    def alternatives(self) -> tuple[str, ...]:
        return self.equivalents + self.related


class Thesaurus:
    """Groups of equivalent terms, looked up by their normalised form."""

    def __init__(self, groups: Sequence[Group], analyzer: Analyzer, *, version: str = "",
                 source: str = "") -> None:
        self.groups = tuple(groups)
        self.version = version
        self.source = source
        self._analyzer = analyzer
        self._by_term: dict[str, list[tuple[Group, tuple[str, ...], tuple[str, ...]]]] = {}
        for group in self.groups:
            terms = tuple(dict.fromkeys(analyzer.normalize(t) for t in group.terms))
            related = tuple(dict.fromkeys(
                r for r in (analyzer.normalize(t) for t in group.related) if r not in terms))
            for term in terms:
                self._by_term.setdefault(term, []).append((group, terms, related))

    def __len__(self) -> int:
        return len(self.groups)

    def lookup(self, normalized: str) -> Expansion | None:
        """The alternatives of one whole (normalised) word, or None."""
        entries = self._by_term.get(normalized)
        if not entries:
            return None
        equivalents: list[str] = []
        related: list[str] = []
        for _, terms, rel in entries:
            equivalents.extend(t for t in terms if t != normalized)
            related.extend(rel)
        eq = tuple(dict.fromkeys(equivalents))
        return Expansion(normalized, eq,
                         tuple(r for r in dict.fromkeys(related) if r not in eq))

    def expand(self, normalized: str) -> Expansion | None:
        """Alternatives of a query word: the word itself if it is a term, else the word with
        each term that segmentation finds in it replaced by its equivalents (北平京剧 →
        北京京剧; 巡捕房 is one word and stays). Related words only come with a whole-word
        match."""
        whole = self.lookup(normalized)
        if whole is not None or len(normalized) <= 2:
            return whole
        words = self._analyzer.cut(normalized)
        if len(words) < 2 or "".join(words) != normalized:
            return None
        variants: list[str] = []
        for i, word in enumerate(words):
            found = self.lookup(word)
            if found is not None:
                variants.extend("".join([*words[:i], alt, *words[i + 1:]])
                                for alt in found.equivalents)
        if not variants:
            return None
        return Expansion(normalized, tuple(dict.fromkeys(variants)), ())


def _strings(value: object, where: str, key: str) -> tuple[str, ...]:
    if value is None:
        return ()
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise ConfigError(f"{where}: '{key}' must be a list of strings")
    return tuple(value)


def parse_thesaurus(text: str, analyzer: Analyzer, *, source: str) -> Thesaurus:
    """Validate and load thesaurus TOML; every problem names the file and the group."""
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{source}: not valid TOML: {exc}") from None
    if data.get("schema") != 1:
        raise ConfigError(f"{source}: 'schema = 1' expected")
    cited = data.get("sources", {})
    if not isinstance(cited, dict):
        raise ConfigError(f"{source}: [sources] must be a table of citations")
    groups: list[Group] = []
    seen: dict[str, int] = {}
    raw_groups = data.get("group", [])
    if not isinstance(raw_groups, list):
        raise ConfigError(f"{source}: 'group' must be an array of tables ([[group]])")
    for number, raw in enumerate(raw_groups, start=1):
        where = f"{source}, group {number}"
        if not isinstance(raw, dict):
            raise ConfigError(f"{where}: not a table")
        unknown = set(raw) - {"terms", "related", "kind", "sources", "note"}
        if unknown:
            raise ConfigError(f"{where}: unknown key(s) {sorted(unknown)}")
        terms = _strings(raw.get("terms"), where, "terms")
        related = _strings(raw.get("related"), where, "related")
        sources = _strings(raw.get("sources"), where, "sources")
        where = f"{source}, group {number} ({'/'.join(terms[:3])})"
        if len(terms) < 1 or (len(terms) < 2 and not related):
            raise ConfigError(f"{where}: needs two terms, or a term and related words")
        for term in (*terms, *related):
            if not _TERM.match(term):
                raise ConfigError(f"{where}: {term!r} is not a word of 2-16 Chinese characters")
        for term in terms:
            key = analyzer.normalize(term)
            if key in seen:
                raise ConfigError(f"{where}: term {term!r} is already in group {seen[key]}")
            seen[key] = number
        kind = raw.get("kind", "")
        if kind not in _KINDS:
            raise ConfigError(f"{where}: kind must be one of {sorted(_KINDS)}, got {kind!r}")
        if not sources:
            raise ConfigError(f"{where}: cites no source")
        missing = [s for s in sources if s not in cited]
        if missing:
            raise ConfigError(f"{where}: source(s) {missing} not listed under [sources]")
        groups.append(Group(terms, related, kind, sources, str(raw.get("note", ""))))
    return Thesaurus(groups, analyzer, version=str(data.get("version", "")), source=source)


def load_thesaurus(path: str | Path | None, analyzer: Analyzer) -> Thesaurus:
    """The thesaurus at ``path``, or the packaged one when ``path`` is empty."""
    if path:
        file = Path(path)
        try:
            text = file.read_text(encoding="utf-8")
        except OSError as exc:
            raise ConfigError(f"setting 'search.thesaurus': cannot read {file}: "
                              f"{exc.strerror}") from None
        return parse_thesaurus(text, analyzer, source=str(file))
    return _packaged(analyzer)


@lru_cache(maxsize=4)
def _packaged(analyzer: Analyzer) -> Thesaurus:
    resource = resources.files("lantai.text") / "data" / "thesaurus.toml"
    if not resource.is_file():
        return Thesaurus((), analyzer, source="(none)")
    return parse_thesaurus(resource.read_text(encoding="utf-8"), analyzer,
                           source="lantai/text/data/thesaurus.toml")
