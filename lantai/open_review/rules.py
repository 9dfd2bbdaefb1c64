"""Open-review rules as data, and what they say about one record.

The rules live in a TOML file an archive edits (``lantai/open_review/data/rules.toml`` is the
default, documented line by line); :func:`load_rules` validates it and names the file and key of
anything wrong. :func:`assess` applies them to a record on a review date and returns findings,
each with its rule, basis and evidence (field or page, character span):

* **block** — a restriction still runs (age not reached, a 密级 not declassified, the
  transferring unit's opinion not 开放, a donor restriction): an 开放 decision is refused unless
  an administrator overrides it with a written reason;
* **flag** — evidence for the reviewer (personal information, sensitive terms, an unknown or
  inferred date): the reviewer decides; a flag can be dismissed as a false positive.
"""

from __future__ import annotations

import datetime
import tomllib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

from lantai.catalog.model import Record
from lantai.errors import ConfigError
from lantai.open_review import detect as detectors

BLOCK = "block"
FLAG = "flag"
INFO = "info"  # shown to the reviewer; neither blocks nor flags


@dataclass(frozen=True)
class EarlyRule:
    name: str
    years: int
    categories: tuple[str, ...]
    subjects: tuple[str, ...]
    creators: tuple[str, ...]
    basis: str

    def matches(self, record: Record) -> bool:
        return (record.category in self.categories
                or any(s in self.subjects for s in record.subjects)
                or any(c in record.creator for c in self.creators if c))


@dataclass(frozen=True)
class Rules:
    source: str
    years: int
    age_basis: str
    early: tuple[EarlyRule, ...]
    levels: tuple[str, ...]
    declassified_columns: tuple[str, ...]
    declassified_values: tuple[str, ...]
    classification_basis: str
    opinion_columns: tuple[str, ...]
    opinion_open: tuple[str, ...]
    opinion_basis: str
    restriction_columns: tuple[str, ...]
    restriction_basis: str
    kinds: tuple[str, ...]
    pi_basis: str
    terms: dict[str, tuple[str, ...]] = field(default_factory=dict)
    terms_basis: str = ""

    def term_list(self) -> tuple[str, ...]:
        merged = {**detectors.SENSITIVE_TERMS, **self.terms}
        return tuple(t for ts in merged.values() for t in ts)


@dataclass(frozen=True)
class Finding:
    """One thing a rule says about a record, with its evidence."""

    rule: str  # age | date | classification | opinion | restriction | coreview | pi:<kind> |
    # term:<category>
    effect: str  # block | flag | info
    message: str
    basis: str
    field: str = ""  # the catalog field, or "text" / "title"
    page: int | None = None  # 1-based page of the full text
    start: int | None = None  # character span in that page (or field)
    end: int | None = None
    text: str = ""
    until: datetime.date | None = None  # when the restriction ends, if it does

    @property
    def key(self) -> str:
        """Stable identity of this finding (to remember a dismissal)."""
        return f"{self.rule}|{self.field}|{self.page}|{self.start}|{self.end}|{self.text}"

    def to_dict(self) -> dict[str, Any]:
        return {"rule": self.rule, "effect": self.effect, "message": self.message,
                "basis": self.basis, "field": self.field, "page": self.page,
                "start": self.start, "end": self.end, "text": self.text,
                "until": self.until.isoformat() if self.until else None, "key": self.key}


@dataclass(frozen=True)
class Assessment:
    archival_code: str
    review_date: datetime.date
    open_on: datetime.date | None  # when the age rule allows opening (None: date unknown)
    findings: tuple[Finding, ...]

    @property
    def due(self) -> bool:
        return self.open_on is not None and self.open_on <= self.review_date

    @property
    def blocks(self) -> tuple[Finding, ...]:
        return tuple(f for f in self.findings if f.effect == BLOCK)

    @property
    def flags(self) -> tuple[Finding, ...]:
        return tuple(f for f in self.findings if f.effect == FLAG)

    @property
    def clear(self) -> bool:
        """Due, nothing blocking and nothing flagged: the clear-cut cases go first."""
        return self.due and not self.blocks and not self.flags


class _Reader:
    def __init__(self, data: Mapping[str, Any], source: str) -> None:
        self.data = data
        self.source = source

    def fail(self, key: str, problem: str) -> ConfigError:
        return ConfigError(f"{self.source}: {key}: {problem}")

    def table(self, key: str) -> Mapping[str, Any]:
        value = self.data.get(key, {})
        if not isinstance(value, Mapping):
            raise self.fail(key, "must be a table")
        return value

    def strings(self, table: Mapping[str, Any], key: str, where: str) -> tuple[str, ...]:
        value = table.get(key, [])
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            raise self.fail(f"{where}.{key}", "must be a list of strings")
        return tuple(v for v in value if v.strip())

    def text(self, table: Mapping[str, Any], key: str, where: str, required: bool = True
             ) -> str:
        value = table.get(key, "")
        if not isinstance(value, str) or (required and not value.strip()):
            raise self.fail(f"{where}.{key}", "must be a non-empty string (cite the basis)")
        return value

    def years(self, table: Mapping[str, Any], where: str) -> int:
        value = table.get("years")
        if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= 100:
            raise self.fail(f"{where}.years", "must be a whole number of years from 0 to 100")
        return value


def load_rules(path: Path | None = None) -> Rules:
    """The rules of ``path`` (the built-in defaults when None), validated."""
    if path is None:
        source = "lantai/open_review/data/rules.toml (built in)"
        raw = resources.files("lantai.open_review").joinpath("data", "rules.toml").read_text(
            encoding="utf-8")
    else:
        source = str(path)
        try:
            raw = path.read_text(encoding="utf-8-sig")
        except OSError as exc:
            raise ConfigError(f"{path}: cannot read the rules file ({exc.strerror})") from exc
    try:
        data = tomllib.loads(raw)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{source}: not valid TOML ({exc})") from exc
    r = _Reader(data, source)
    if data.get("version") != 1:
        raise r.fail("version", "must be 1")
    known = {"version", "age", "classification", "opinion", "restriction",
             "personal_information", "terms"}
    for key in data:
        if key not in known:
            raise r.fail(key, f"unknown section (known: {', '.join(sorted(known))})")
    age = r.table("age")
    early = []
    raw_early = age.get("early", [])
    if not isinstance(raw_early, list):
        raise r.fail("age.early", "must be an array of tables ([[age.early]])")
    for i, item in enumerate(raw_early):
        where = f"age.early[{i}]"
        if not isinstance(item, Mapping):
            raise r.fail(where, "must be a table")
        early.append(EarlyRule(r.text(item, "name", where), r.years(item, where),
                               r.strings(item, "categories", where),
                               r.strings(item, "subjects", where),
                               r.strings(item, "creators", where), r.text(item, "basis", where)))
    cls = r.table("classification")
    opinion = r.table("opinion")
    restriction = r.table("restriction")
    pi = r.table("personal_information")
    kinds = r.strings(pi, "kinds", "personal_information")
    for kind in kinds:
        if kind not in detectors.KINDS or kind == "sensitive_term":
            raise r.fail("personal_information.kinds",
                         f"unknown kind {kind!r} (choose from "
                         f"{', '.join(k for k in detectors.KINDS if k != 'sensitive_term')})")
    terms_table = r.table("terms")
    terms = {k: r.strings(terms_table, k, "terms") for k in terms_table if k != "basis"}
    return Rules(
        source=source, years=r.years(age, "age"), age_basis=r.text(age, "basis", "age"),
        early=tuple(early), levels=r.strings(cls, "levels", "classification"),
        declassified_columns=r.strings(cls, "declassified_columns", "classification"),
        declassified_values=r.strings(cls, "declassified_values", "classification"),
        classification_basis=r.text(cls, "basis", "classification"),
        opinion_columns=r.strings(opinion, "columns", "opinion"),
        opinion_open=r.strings(opinion, "open_values", "opinion"),
        opinion_basis=r.text(opinion, "basis", "opinion"),
        restriction_columns=r.strings(restriction, "columns", "restriction"),
        restriction_basis=r.text(restriction, "basis", "restriction"),
        kinds=kinds, pi_basis=r.text(pi, "basis", "personal_information"),
        terms=terms, terms_basis=r.text(terms_table, "basis", "terms", required=False))


def _add_years(day: datetime.date, years: int) -> datetime.date:
    try:
        return day.replace(year=day.year + years)
    except ValueError:  # 29 February
        return day.replace(year=day.year + years, day=28)


def _date(value: int) -> datetime.date | None:
    try:
        return datetime.date(value // 10000, value // 100 % 100, value % 100)
    except ValueError:
        return None


def _extra(record: Record, columns: Sequence[str]) -> tuple[str, str] | None:
    values = dict(record.extra)
    for column in columns:
        value = values.get(column, "").strip()
        if value:
            return column, value
    return None


def assess(record: Record, rules: Rules, review_date: datetime.date,
           *, detect_text: bool = True) -> Assessment:
    """What the rules say about ``record`` on ``review_date``."""
    findings: list[Finding] = []
    # age: from the latest date of the record; an unknown date is never assumed old
    open_on = None
    latest = record.date_end or record.date_start
    made = _date(latest) if latest else None
    if made is None and record.year:
        made = datetime.date(record.year, 12, 31)
    early = next((e for e in rules.early if e.matches(record)), None)
    years, basis = (early.years, early.basis) if early else (rules.years, rules.age_basis)
    if made is None:
        findings.append(Finding("date", FLAG, "形成日期不明，不能按年限判断（不视为已满年限）",
                                rules.age_basis, field="date_text", text=record.date_text))
    else:
        open_on = _add_years(made, years)
        if _inferred(record):
            findings.append(Finding("date", FLAG, "形成日期为推定日期，请核实",
                                    rules.age_basis, field="date_text",
                                    text=record.date_text or str(record.year)))
        if open_on > review_date:
            findings.append(Finding("age", BLOCK, f"形成未满{years}年，{open_on.isoformat()}"
                                    "起方可开放", basis, field="date_text",
                                    text=record.date_text, until=open_on))
    # 密级 without a recorded declassification
    level = record.classification.strip()
    if level and any(lv in level for lv in rules.levels):
        done = _extra(record, rules.declassified_columns)
        if done is None or not any(v in done[1] for v in rules.declassified_values):
            findings.append(Finding("classification", BLOCK, f"密级“{level}”，未见解密记录",
                                    rules.classification_basis, field="classification",
                                    text=level))
    # the transferring unit's opinion
    opinion = _extra(record, rules.opinion_columns)
    if opinion and opinion[1] not in rules.opinion_open:
        findings.append(Finding("opinion", BLOCK, f"移交单位开放意见为“{opinion[1]}”",
                                rules.opinion_basis, field=opinion[0], text=opinion[1]))
    # donor / depositor restriction
    restriction = _extra(record, rules.restriction_columns)
    if restriction:
        until = _restriction_end(restriction[1])
        if until is None or until > review_date:
            findings.append(Finding("restriction", BLOCK,
                                    f"{restriction[0]}：{restriction[1]}",
                                    rules.restriction_basis, field=restriction[0],
                                    text=restriction[1], until=until))
    if detect_text:
        findings.extend(_text_findings(record, rules))
    return Assessment(record.archival_code, review_date, open_on, tuple(findings))


def _inferred(record: Record) -> bool:
    """An inferred date (``[1937]``, 约1937年) or only a 年度 with no date of its own."""
    from lantai.text.dates import parse_date_or_none

    if not record.date_start:
        return True
    parsed = parse_date_or_none(record.date_text) if record.date_text else None
    return bool(parsed and parsed.inferred) or record.date_text.strip().startswith(("[", "［"))


def _restriction_end(text: str) -> datetime.date | None:
    from lantai.text.dates import parse_date_or_none

    found = parse_date_or_none(text)
    return found.end if found is not None else None


def _text_findings(record: Record, rules: Rules) -> list[Finding]:
    out = []
    terms = rules.term_list()
    for field_name, page, text in [("title", None, record.title),
                                   *[("text", n, t) for n, t in enumerate(record.pages, 1)]]:
        for flag in detectors.detect(text, terms=terms):
            if flag.kind == "sensitive_term":
                out.append(Finding(f"term:{flag.rule.split(':', 1)[-1]}", FLAG,
                                   f"敏感词“{flag.text}”", rules.terms_basis or rules.pi_basis,
                                   field=field_name, page=page, start=flag.start, end=flag.end,
                                   text=flag.text))
            elif flag.kind in rules.kinds:
                out.append(Finding(f"pi:{flag.kind}", FLAG, _PI_MESSAGES[flag.kind],
                                   rules.pi_basis, field=field_name, page=page,
                                   start=flag.start, end=flag.end, text=flag.text))
    return out


_PI_MESSAGES = {
    "id_number": "居民身份证号码", "phone": "电话号码", "bank_card": "银行卡号",
    "email": "电子邮箱", "address": "住址", "person_name": "敏感语境中的个人姓名",
    "secret_marking": "密级标志",
}
