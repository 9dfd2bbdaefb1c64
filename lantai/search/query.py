"""The query language a historian can guess, parsed into a backend-neutral plan.

Syntax::

    杨靖宇 东北抗日联军        words: all must occur (exact substring after folding)
    "东北抗日联军 第一路军"     quoted phrase: the whole string, exactly
    -汪伪  -"日本 领事"        exclusion
    题名:救济  责任者:市政府    field restriction (题名/title, 责任者/creator, 主题词/subject,
                               人名/person, 文号/number, 附注/note, 全文/text)
    全宗:J001  门类:文书  年度:1947  保管期限:永久      filters
    1937..1945  1937年..1945年   year range filter

Anything else is taken literally: there is no syntax error. A long unspaced string is segmented
with jieba; a query that yields more than ``and_max_terms`` required terms (a question, a
sentence) is ranked OR-style instead of requiring every term. Backends compile a
:class:`QueryPlan` into their own syntax; nothing user-typed ever reaches a backend unescaped.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from lantai.indexing.documents import ALL_FIELDS, Field
from lantai.text.analysis import COMMON_CHARS, QUERY_STOP_CHARS, Analyzer
from lantai.text.dates import find_periods
from lantai.text.thesaurus import Expansion, Thesaurus

_FIELD_ALIASES: dict[str, tuple[Field, ...]] = {
    "题名": (Field.TITLE,), "題名": (Field.TITLE,), "标题": (Field.TITLE,), "title": (Field.TITLE,),
    "责任者": (Field.CREATOR,), "責任者": (Field.CREATOR,), "creator": (Field.CREATOR,),
    "全文": (Field.BODY,), "text": (Field.BODY,), "正文": (Field.BODY,),
    "主题词": (Field.META,), "主題詞": (Field.META,), "subject": (Field.META,),
    "人名": (Field.META,), "person": (Field.META,), "文号": (Field.META,), "文號": (Field.META,),
    "number": (Field.META,), "附注": (Field.META,), "附註": (Field.META,), "note": (Field.META,),
}
_FILTER_ALIASES: dict[str, str] = {
    "全宗": "fonds", "全宗号": "fonds", "fonds": "fonds",
    "门类": "category", "門類": "category", "category": "category",
    "年度": "year", "year": "year",
    "保管期限": "retention", "retention": "retention",
    "档号": "archival_code", "檔號": "archival_code", "code": "archival_code",
}
_TOKEN = re.compile(r'(-?)(?:([^\s:："“”]+)[:：])?(?:["“]([^"”]*)["”]?|(\S+))')
#: A question is not a keyword list: rank it by overlap instead of requiring every word.
_QUESTION = re.compile(r"[?？]\s*$|什么|甚麼|什麼|哪|谁|誰|如何|为何|為何|为什么|為什麼|多少|"
                       r"是否|怎样|怎樣|怎么|怎麼|吗|嗎|呢\s*$")
_YEAR_RANGE = re.compile(r"^(\d{3,4})年?(?:\.\.|…|～|~)(\d{3,4})?年?$|^\.\.(\d{3,4})年?$")


@dataclass(frozen=True)
class Clause:
    """One unit of matching: a phrase of units in some fields.

    ``units`` is the normalised unit sequence; a backend matches it as a unigram when it has
    one unit, else as the phrase of its bigrams (exact substring after folding).
    """

    units: tuple[str, ...]
    fields: tuple[Field, ...] = ALL_FIELDS
    text: str = ""  # what the user typed, for messages
    quoted: bool = False  # an explicit "phrase": never relaxed
    #: Other unit sequences that satisfy the clause as well (period words from the
    #: thesaurus): the clause matches ``units`` or any of these.
    alternatives: tuple[tuple[str, ...], ...] = ()

    @property
    def bigrams(self) -> tuple[str, ...]:
        return bigrams_of(self.units)

    @property
    def variants(self) -> tuple[tuple[str, ...], ...]:
        """``units`` and every alternative: what a backend ORs together."""
        return (self.units, *self.alternatives)

    @property
    def normalized(self) -> str:
        return "".join(self.units)


@dataclass(frozen=True)
class Period:
    """A date or era named in the query (民国二十八年, 1930年代, 抗战时期).

    A record qualifies if its date overlaps ``start``..``end`` (yyyymmdd) *or* its text
    mentions the expression (``clause``): a 1950 report about 1939 still counts.
    """

    start: int
    end: int
    clause: Clause
    #: Records whose date is unknown qualify too (ranked after the dated ones: see
    #: :meth:`QueryPlan.with_undated`).
    undated: bool = False

    @property
    def named(self) -> bool:
        """A named period (抗战, 五四运动), not a calendar date (1930年, 民国十九年)."""
        return not any(c == "年" or c.isdigit() for c in self.clause.text)


@dataclass(frozen=True)
class QueryPlan:
    """Backend-neutral compiled query."""

    raw: str
    required: tuple[Clause, ...] = ()
    excluded: tuple[Clause, ...] = ()
    # OR-mode ranking (questions): any bigram / unit / word may match
    should_bigrams: tuple[str, ...] = ()
    should_units: tuple[str, ...] = ()
    should_words: tuple[str, ...] = ()
    filters: dict[str, tuple[str, ...]] = field(default_factory=dict)
    year_from: int | None = None
    year_to: int | None = None
    periods: tuple[Period, ...] = ()
    highlight: tuple[str, ...] = ()  # normalised strings to mark in snippets
    #: Period words searched besides the typed ones (see :func:`expand_plan`).
    expansions: tuple[Expansion, ...] = ()

    @property
    def is_or(self) -> bool:
        return bool(self.should_bigrams or self.should_units or self.should_words)

    @property
    def has_text(self) -> bool:
        return bool(self.required or self.is_or)

    def with_undated(self) -> QueryPlan | None:
        """This plan letting records without a date through its periods, or None when it
        names no period."""
        if not self.periods or all(p.undated for p in self.periods):
            return None
        return dataclasses.replace(self, periods=tuple(
            dataclasses.replace(p, undated=True) for p in self.periods))

    def relaxed(self, analyzer: Analyzer) -> QueryPlan | None:
        """The OR-style plan used when requiring every term found nothing."""
        if self.is_or or not self.required or any(c.quoted for c in self.required):
            return None
        text = " ".join("".join(v) for c in self.required if c.fields == ALL_FIELDS
                        for v in c.variants)
        if not text:
            return None
        return _or_plan(self, text, analyzer)


def bigrams_of(units: Sequence[str]) -> tuple[str, ...]:
    """Adjacent pairs of units: how a run of several units is matched (as a phrase)."""
    return tuple(units[i] + units[i + 1] for i in range(len(units) - 1))


def expand_plan(plan: QueryPlan, thesaurus: Thesaurus, analyzer: Analyzer) -> QueryPlan | None:
    """The plan with period words as alternatives of the words they stand for, or None when
    the thesaurus knows none of them. Quoted phrases, exclusions and field-restricted words
    are left alone (the user asked for exactly those), and so are OR-ranked plans: questions
    are ranked by any overlap already, and the QA sets they are measured on (CMRC2018, DRCD)
    must not move."""
    expansions: list[Expansion] = []
    if plan.is_or:
        return None
    required: list[Clause] = []
    for clause in plan.required:
        found_one = None
        if clause.fields == ALL_FIELDS and not clause.quoted:
            found_one = thesaurus.expand(clause.normalized)
        if found_one is None:
            required.append(clause)
            continue
        alternatives = tuple(
            units for units in (tuple(u for r in analyzer.runs(a) for u in r)
                                for a in found_one.alternatives) if units)
        expansions.append(found_one)
        required.append(dataclasses.replace(clause, alternatives=alternatives))
    if not expansions:
        return None
    words = [a for e in expansions for a in e.alternatives]
    return dataclasses.replace(plan, required=tuple(required), expansions=tuple(expansions),
                               highlight=tuple(dict.fromkeys([*plan.highlight, *words])))


def parse_query(raw: str, analyzer: Analyzer, *, and_max_terms: int = 6) -> QueryPlan:
    """Parse user input into a plan. Never raises on any string."""
    raw = (raw or "").strip()
    required: list[Clause] = []
    excluded: list[Clause] = []
    filters: dict[str, list[str]] = {}
    year_from = year_to = None
    free_parts: list[str] = []
    highlight: list[str] = []
    periods: list[Period] = []

    for match in _TOKEN.finditer(raw):
        negate, prefix, quoted, bare = match.groups()
        value = quoted if quoted is not None else (bare or "")
        if prefix is not None and prefix.lower() in _FILTER_ALIASES and not negate:
            if value.strip():
                filters.setdefault(_FILTER_ALIASES[prefix.lower()], []).append(value.strip())
            continue
        fields = ALL_FIELDS
        if prefix is not None:
            aliased = _FIELD_ALIASES.get(prefix.lower())
            if aliased is None:  # not a field: the colon is part of the text
                value = f"{prefix}:{value}"
            else:
                fields = aliased
        if quoted is None and not negate and prefix is None:
            years = _YEAR_RANGE.match(value)
            if years:
                lo, hi, only_hi = years.groups()
                year_from = int(lo) if lo else None
                year_to = int(hi or only_hi) if (hi or only_hi) else None
                continue
        if quoted is None and not negate and prefix is None:
            value = _extract_periods(value, analyzer, periods)
        norm = analyzer.normalize(value)
        runs = [r for r in analyzer.runs(norm) if r]
        if not runs:
            continue
        if quoted is not None:
            # a phrase spanning punctuation or spaces: each run is a phrase of its own
            clauses = [Clause(tuple(r), fields, value, quoted=True) for r in runs]
        else:
            clauses = []
            for run in runs:
                clauses.extend(_split_term(run, fields, value, analyzer))
        if negate:
            excluded.extend(clauses)
        else:
            required.extend(clauses)
            for clause in clauses:
                highlight.append(clause.normalized)
                if len(clause.units) > 2:  # also mark the words when the whole is split
                    highlight.extend(w for w in analyzer.cut(clause.normalized) if len(w) > 1)
            if quoted is None and fields == ALL_FIELDS:
                free_parts.append(norm)

    plan = QueryPlan(
        raw=raw, required=tuple(_dedupe(required)), excluded=tuple(_dedupe(excluded)),
        filters={k: tuple(v) for k, v in filters.items()}, year_from=year_from,
        year_to=year_to, periods=tuple(periods),
        highlight=tuple(dict.fromkeys([*highlight, *(p.clause.normalized for p in periods)])),
    )
    free = [c for c in plan.required if c.fields == ALL_FIELDS]
    if not free and plan.periods and all(p.named for p in plan.periods):
        # Only named periods (五四运动, 长征, 抗战): the historian names a topic, not a time
        # span to browse; search its words (ranked, and expanded by the thesaurus) instead
        # of listing whatever is dated then. With other words (北伐时期 工人) it stays a period.
        clauses = [p.clause for p in plan.periods]
        plan = dataclasses.replace(plan, required=(*clauses, *plan.required), periods=())
        free = clauses
    if len(free) > and_max_terms or (len(free) > 1 and _QUESTION.search(raw)):
        return _or_plan(plan, " ".join(free_parts), analyzer)
    return plan


def _extract_periods(value: str, analyzer: Analyzer, periods: list[Period]) -> str:
    """Move date expressions out of ``value`` into ``periods``; return the rest of the text."""
    found = find_periods(value)
    if not found:
        return value
    rest: list[str] = []
    pos = 0
    for (start, end), rng in found:
        units = tuple(u for r in analyzer.runs(analyzer.normalize(value[start:end])) for u in r)
        if units:
            periods.append(Period(int(rng.start.strftime("%Y%m%d")),
                                  int(rng.end.strftime("%Y%m%d")),
                                  Clause(units, ALL_FIELDS, rng.text)))
        rest.append(value[pos:start])
        pos = end
    rest.append(value[pos:])
    return " ".join(p for p in rest if p)


def _split_term(
    run: list[str], fields: tuple[Field, ...], text: str, analyzer: Analyzer
) -> list[Clause]:
    """Required clauses for one unquoted run: short runs whole, long runs by jieba words."""
    if len(run) <= 4:
        return [Clause(tuple(run), fields, text)]
    words = analyzer.cut("".join(run))
    clauses: list[Clause] = []
    for word in words:
        units = analyzer.runs(word)
        flat = tuple(u for r in units for u in r)
        if not flat or (len(flat) == 1 and flat[0] in QUERY_STOP_CHARS):
            continue
        clauses.append(Clause(flat, fields, text))
    return clauses or [Clause(tuple(run), fields, text)]


#: Interrogatives and particles: they say *that* something is asked, not *what*; in an
#: OR-ranked query their bigrams only add noise ("哪一", "什么").
_QUESTION_WORDS = re.compile(
    "什么样|什么|甚么|哪一些|哪一个|哪一|哪个|哪些|哪里|哪儿|哪|谁|如何|为何|为什么|"
    "多少|几|是否|怎样|怎么样|怎么|吗|呢|请问")


def or_plan(base: QueryPlan, text: str, analyzer: Analyzer) -> QueryPlan:
    """``base`` (filters, periods, exclusions, field clauses) ranking ``text`` OR-style."""
    return _or_plan(base, text, analyzer)


def _or_plan(base: QueryPlan, text: str, analyzer: Analyzer) -> QueryPlan:
    """Rank by any overlap: bigrams, content units and words of ``text``."""
    text = _QUESTION_WORDS.sub(" ", text)
    bigrams: list[str] = []
    units: list[str] = []
    for run in analyzer.runs(text):
        bigrams.extend(run[i] + run[i + 1] for i in range(len(run) - 1))
        units.extend(u for u in run if u not in QUERY_STOP_CHARS and u not in COMMON_CHARS)
    words = [w for w in analyzer.words_normalized(text) if len(w) >= 2]
    kept = tuple(c for c in base.required if c.fields != ALL_FIELDS)
    return QueryPlan(
        raw=base.raw, required=kept, excluded=base.excluded,
        should_bigrams=tuple(dict.fromkeys(bigrams)), should_units=tuple(dict.fromkeys(units)),
        should_words=tuple(dict.fromkeys(words)), filters=base.filters,
        year_from=base.year_from, year_to=base.year_to, periods=base.periods,
        highlight=tuple(dict.fromkeys([*(w for w in words if len(w) >= 2),
                                       *(c.normalized for c in kept)])) or base.highlight,
    )


#: Postings budget of an OR-ranked query's candidate terms, the same for every backend (see
#: :func:`choose_candidates`).
OR_CANDIDATE_BUDGET = 5_000


def choose_candidates(kinds: Mapping[str, Sequence[str]], freq: Mapping[str, int],
                      budget: int) -> dict[str, list[str]]:
    """Candidate terms of an OR-ranked plan, per kind (bi, uni, w): the rarest term, then the
    next rarest while their document frequencies stay within ``budget``. Rare terms dominate
    BM25, so scoring only records that hold one of them keeps the top of the ranking while
    skipping the records that share nothing but common characters (every backend uses it)."""
    ranked = sorted(((freq.get(t, 0), k, t) for k, tokens in kinds.items() for t in tokens),
                    key=lambda x: (x[0], x[2]))
    chosen: dict[str, list[str]] = {}
    total = 0
    for count, kind, token in ranked:
        if count == 0:
            continue
        if chosen and total + count > budget:
            break
        chosen.setdefault(kind, []).append(token)
        total += count
    return chosen


def _dedupe(clauses: list[Clause]) -> list[Clause]:
    seen: set[tuple[tuple[str, ...], tuple[Field, ...]]] = set()
    out = []
    for clause in clauses:
        key = (clause.units, clause.fields)
        if key not in seen:
            seen.add(key)
            out.append(clause)
    return out
