"""The one text analyzer, used at index time and at query time by every backend.

Pipeline (the same for documents and queries):

1. **Normalise**: NFKC (full-width → half-width, compatibility ideographs → unified), lower case,
   traditional → simplified *folding* for matching (a per-character table built from OpenCC's
   t2s, hk2s and tw2s tables plus a small variant list for Republican-era print), and joining of
   line breaks that a printer or OCR put inside a word (a single newline between two CJK
   characters disappears; a blank line still separates paragraphs). Display and snippets always
   use the original text; :meth:`Analyzer.normalize_with_offsets` maps back to it.
2. **Units**: a CJK character (Han, 〇, kana, hangul) is a unit; a run of other letters/digits
   is one unit (``1939``, ``c038``). Punctuation and whitespace split *runs* of units.
3. **Streams**: ``uni`` (every unit), ``bi`` (every pair of adjacent units inside a run, plus
   nothing across punctuation) and ``words`` (jieba search-mode words of two or more characters,
   via rjieba with the archival user dictionary). Bigram phrases give exact substring matching
   that is independent of word segmentation; the measured ranking came from uni + bigrams; words
   add readable highlight terms and a small ranking signal.

Why per-character folding and not OpenCC's phrase conversion: matching needs the same answer on
both sides and a 1:1 character mapping, so offsets survive for highlighting. Phrase-level
conversion is for display, which Lantai never changes.
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache
from importlib import metadata, resources
from pathlib import Path
from typing import Any

#: Bump when anything here changes what tokens a text produces; indexes record it.
ANALYZER_VERSION = "1"

_CJK = (
    "\u3007\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uac00-\ud7af\uf900-\ufaff"
    "\U00020000-\U0003134f"
)
CJK_CHAR = re.compile(f"[{_CJK}]")
_TOKEN_RUN = re.compile(r"[^\W_]+")
_PURE_CJK = re.compile(f"[{_CJK}]+")
_UNITS = re.compile(f"[{_CJK}]|(?:(?![{_CJK}])[^\\W_])+")
_JOIN = re.compile(f"(?<=[{_CJK}])[ \\t\\u3000]*\\r?\\n[ \\t\\u3000]*(?=[{_CJK}])")
_HYPHEN_JOIN = re.compile(r"(?<=[a-z])-\r?\n(?=[a-z])")
_WORD_OK = re.compile(f"[{_CJK}]{{2,}}|(?:(?![{_CJK}])[^\\W_])+")

#: Function characters dropped from long unspaced query terms (never from phrases or docs).
QUERY_STOP_CHARS = frozenset(
    "的了在是和与及之等于对为把被也都而并或从向由将就有中其所以这那啊吗呢吧"
)


def _common_chars() -> frozenset[str]:
    text = resources.files("lantai.text").joinpath("data", "common_chars.txt")
    lines = text.read_text(encoding="utf-8").splitlines()
    return frozenset("".join(line for line in lines if not line.startswith("#")).strip())


#: Very frequent characters: not used as unigram alternatives in OR-ranked queries.
COMMON_CHARS = _common_chars()


@dataclass(frozen=True)
class Streams:
    """Space-separated token strings of one field, ready for any backend."""

    uni: str
    bi: str
    words: str


@cache
def fold_table() -> dict[int, str]:
    """Per-character traditional/variant → simplified table (built once per process)."""
    import opencc

    ranges = [(0x3400, 0x4DC0), (0x4E00, 0xA000), (0xF900, 0xFB00), (0x20000, 0x2A6E0)]
    chars = [chr(c) for lo, hi in ranges for c in range(lo, hi)]
    joined = "\n".join(chars)
    table: dict[int, str] = {}
    for config in ("hk2s", "tw2s", "t2s"):  # later configs win: t2s is the reference
        converted = opencc.OpenCC(config).convert(joined).split("\n")
        if len(converted) != len(chars):  # pragma: no cover - defensive
            raise RuntimeError(f"OpenCC {config} changed the number of lines")
        for src, dst in zip(chars, converted, strict=True):
            if len(dst) == 1 and dst != src:
                table[ord(src)] = dst
    for line in _data_text("variants.txt").splitlines():
        line = line.split("#", 1)[0].strip()
        if len(line) >= 2:
            variant, target = line[0], line[1]
            table[ord(variant)] = table.get(ord(target), target)
    # Chains: make folding idempotent (fold(fold(x)) == fold(x)).
    for key, value in list(table.items()):
        seen = 0
        while ord(value) in table and seen < 4:
            value = table[ord(value)]
            seen += 1
        table[key] = value
    return table


def _data_text(name: str) -> str:
    return resources.files("lantai.text").joinpath("data", name).read_text(encoding="utf-8")


def default_user_dicts() -> tuple[Path, ...]:
    """The archival/四史 dictionaries that ship with Lantai."""
    base = resources.files("lantai.text").joinpath("data", "dict")
    return tuple(sorted(Path(str(p)) for p in base.iterdir() if str(p).endswith(".txt")))


class Analyzer:
    """Normalisation, folding and tokenisation shared by indexing and querying."""

    def __init__(self, user_dicts: Sequence[Path] | None = None) -> None:
        self._user_dicts = tuple(default_user_dicts() if user_dicts is None else user_dicts)
        self._jieba: object | None = None
        self._table = fold_table()
        #: character → its normalised form (highlighting maps texts character by character)
        self._chars: dict[str, str] = {}

    @property
    def user_dicts(self) -> tuple[Path, ...]:
        return self._user_dicts

    # -- normalisation -----------------------------------------------------------------
    def normalize(self, text: str) -> str:
        """Matching form of ``text`` (see module docstring)."""
        text = unicodedata.normalize("NFKC", text).lower().translate(self._table)
        text = _HYPHEN_JOIN.sub("", text)
        return _JOIN.sub("", text)

    def fold(self, text: str) -> str:
        """Traditional → simplified folding only (no other normalisation)."""
        return text.translate(self._table)

    def normalize_with_offsets(self, text: str) -> tuple[str, list[int]]:
        """Like :meth:`normalize`, plus the original index of every output character."""
        cache = self._chars
        try:
            out = [cache[ch] for ch in text]
        except KeyError:  # characters not seen yet (the cache is per analyzer, bounded)
            if len(cache) > 200_000:
                cache.clear()
            for ch in set(text).difference(cache):
                cache[ch] = unicodedata.normalize("NFKC", ch).lower().translate(self._table)
            out = [cache[ch] for ch in text]
        joined = "".join(out)
        if len(joined) == len(text):  # the usual case: one character for one
            offsets = list(range(len(text)))
        else:
            offsets = [i for i, norm in enumerate(out) for _ in range(len(norm))]
        for pattern in (_HYPHEN_JOIN, _JOIN):
            spans = [m.span() for m in pattern.finditer(joined)]
            if not spans:
                continue
            keep_text: list[str] = []
            keep_off: list[int] = []
            pos = 0
            for start, end in spans:
                keep_text.append(joined[pos:start])
                keep_off.extend(offsets[pos:start])
                pos = end
            keep_text.append(joined[pos:])
            keep_off.extend(offsets[pos:])
            joined, offsets = "".join(keep_text), keep_off
        return joined, offsets

    # -- tokenisation ------------------------------------------------------------------
    @staticmethod
    def runs(normalized: str) -> list[list[str]]:
        """Runs of units in already-normalised text (punctuation and spaces split runs)."""
        return [
            list(chunk) if _PURE_CJK.fullmatch(chunk) else _UNITS.findall(chunk)
            for chunk in _TOKEN_RUN.findall(normalized)
        ]

    def units(self, text: str) -> list[str]:
        """Units of ``text`` after normalisation, punctuation dropped."""
        return [u for run in self.runs(self.normalize(text)) for u in run]

    def streams(self, text: str, *, words: bool = True) -> Streams:
        """The token streams of one field (``words=False`` skips segmentation)."""
        norm = self.normalize(text)
        uni: list[str] = []
        bi: list[str] = []
        for run in self.runs(norm):
            uni.extend(run)
            bi.extend([run[i] + run[i + 1] for i in range(len(run) - 1)])
        seg = " ".join(self.words_normalized(norm)) if words else ""
        return Streams(" ".join(uni), " ".join(bi), seg)

    def bigrams(self, units: Sequence[str]) -> list[str]:
        """Bigram tokens of one run of units (the phrase form of a term)."""
        return [units[i] + units[i + 1] for i in range(len(units) - 1)]

    def words_normalized(self, normalized: str) -> list[str]:
        """jieba search-mode words (≥ 2 CJK characters, or one non-CJK word) of normalised text."""
        return [w for w in self._seg().cut_for_search(normalized) if _WORD_OK.fullmatch(w)]

    def cut(self, normalized: str) -> list[str]:
        """jieba precise-mode segmentation of normalised text, punctuation dropped."""
        return [w for w in self._seg().cut(normalized) if _TOKEN_RUN.search(w)]

    def _seg(self) -> Any:  # rjieba's or jieba's tokenizer (no type information)
        if self._jieba is None:
            self._jieba = _load_jieba(self._user_dicts)
        return self._jieba

    # -- identity ----------------------------------------------------------------------
    def fingerprint(self) -> dict[str, str]:
        """What determines the tokens: stored next to every index and checked on open."""
        digest = hashlib.sha256()
        for path in self._user_dicts:
            digest.update(path.name.encode())
            digest.update(path.read_bytes())
        digest.update(_data_text("variants.txt").encode())
        return {
            "analyzer": ANALYZER_VERSION,
            "opencc": _version("opencc"),
            "rjieba": _version("rjieba"),
            "dictionaries": digest.hexdigest()[:16],
        }


def _version(dist: str) -> str:
    try:
        return metadata.version(dist)
    except metadata.PackageNotFoundError:  # pragma: no cover
        return "absent"


def _load_jieba(user_dicts: Sequence[Path]):  # type: ignore[no-untyped-def]
    import rjieba

    seg = rjieba.Jieba()
    table = fold_table()
    for path in user_dicts:
        for line in path.read_text(encoding="utf-8").splitlines():
            line = line.split("#", 1)[0].strip()
            if not line:
                continue
            parts = line.split()
            word = unicodedata.normalize("NFKC", parts[0]).lower().translate(table)
            freq = int(parts[1]) if len(parts) > 1 and parts[1].isdigit() else None
            seg.add_word(word, freq, None)
    return seg


@cache
def default_analyzer() -> Analyzer:
    """The process-wide analyzer with the shipped dictionaries."""
    return Analyzer()
