"""Date normalisation for Chinese archival catalogs (归档文件目录).

Catalog dates were typed by archive staff over seventy years, so one column holds ISO dates,
DA/T 8-digit dates (19390423), Chinese dates with Arabic or Chinese numerals
(一九五三年十月一日), Republican years (民国二十八年, 中華民國貳拾捌年, 民國廿八年), Qing reign
years (光绪三十年), Manchukuo years (康德八年), partial dates, ranges (1937—1945,
民国二十六年至三十四年), dates the archivist inferred ([1939], 〔1939年〕, 约1940年), decades
and centuries (1930年代, 二十世纪三十年代) and named periods (抗战时期, 文革).

:func:`parse_date` turns any of these into a :class:`DateRange` (first and last day covered,
precision, calendar); what it cannot read raises :class:`DateParseError` quoting the text and
the reason, so the importer keeps the text searchable and lists the row in its report instead
of dropping it. :func:`find_periods` finds the same expressions inside a free-text search
query, with character offsets, so the search layer can boost or filter by period.

Era tables and named periods live in ``data/periods.toml``.

Lunar dates: Qing reign dates (and dates marked 农历/阴历) use the lunisolar calendar. Month and
day numbers are taken as written and placed in the Gregorian year of the same number, so the
result is approximate (±1 month; 光绪三十年腊月 may fall in January 1905), and day 30 of a
month with fewer Gregorian days is clamped rather than rejected. 正月 = 1, 冬月 = 11,
腊月 = 12; a leap month (闰五月) counts as the month it repeats.

Centuries follow common usage, not the strict count: 19世纪 = 1800–1899, matching
20世纪30年代 = 1930–1939.
"""

from __future__ import annotations

import calendar
import datetime
import enum
import functools
import re
import tomllib
from dataclasses import dataclass
from importlib import resources
from typing import Any

from lantai.errors import ConfigError, LantaiError

__all__ = [
    "DateParseError",
    "DateRange",
    "Era",
    "Period",
    "Precision",
    "eras",
    "find_periods",
    "parse_date",
    "parse_date_or_none",
    "periods",
]

MIN_YEAR = 1000
MAX_YEAR = 2100


class Precision(enum.Enum):
    """How much of the date was written."""

    DAY = "day"
    MONTH = "month"
    YEAR = "year"
    DECADE = "decade"
    CENTURY = "century"
    RANGE = "range"


@dataclass(frozen=True)
class DateRange:
    """A normalised catalog date: the first and last day it covers."""

    text: str
    start: datetime.date
    end: datetime.date
    precision: Precision
    inferred: bool = False
    calendar: str = "gregorian"

    def sort_key(self) -> int:
        """``yyyymmdd`` of the first day, for sorting mixed-precision dates."""
        return self.start.year * 10000 + self.start.month * 100 + self.start.day

    @property
    def years(self) -> range:
        """Every Gregorian year the date touches, first to last inclusive."""
        return range(self.start.year, self.end.year + 1)


class DateParseError(LantaiError):
    """A catalog date could not be normalised; the message quotes the text and says why."""

    def __init__(self, text: str, reason: str) -> None:
        super().__init__(f"cannot parse date {text!r}: {reason}")
        self.text = text
        self.reason = reason


@dataclass(frozen=True)
class Era:
    """A reign or regime year count (年号/纪年) from ``periods.toml``."""

    name: str
    aliases: tuple[str, ...]
    calendar: str
    first_year: int
    max_year: int
    lunar: bool
    standalone: bool
    start: datetime.date
    end: datetime.date


@dataclass(frozen=True)
class Period:
    """A named historical period from ``periods.toml``; ``end`` None means still running."""

    name: str
    aliases: tuple[str, ...]
    start: datetime.date
    end: datetime.date | None


# --- text folding -------------------------------------------------------------------------------
# Every mapping is one character to one character, so offsets in the folded text are offsets in
# the original: find_periods relies on this. NFKC is deliberately not used (it can change length).
# Traditional → simplified, for the characters of date syntax and of periods.toml names only
# (a full converter would be slower and is not needed to read a date).
_T2S = (
    "國国 華华 約约 紀纪 臘腊 閏闰 號号 間间 時时 貳贰 參参 叄叁 陸陆 兩两 順顺 慶庆 豐丰 緒绪 "
    "統统 憲宪 戰战 運运 動动 躍跃 進进 開开 經经 濟济 復复 劃划 個个 計计 義义 爭争 鮮鲜 "
    "滿满 偽伪 僞伪 溝沟 盧卢 變变 內内 難难 來来 後后 於于 為为 農农 陰阴 舊旧 曆历 歷历 詳详 "
    "無无 現现 當当"
)
_FOLD: dict[int, str] = {ord(pair[0]): pair[1] for pair in _T2S.split()}
# Full-width ASCII (１９３９／４／２３, （１９３９）) to ASCII.
_FOLD.update({cp: chr(cp - 0xFEE0) for cp in range(0xFF01, 0xFF5F)})
_FOLD.update(dict.fromkeys(map(ord, "―─–﹘"), "—"))  # dashes used between years
_FOLD.update(dict.fromkeys(map(ord, "‐‑‒﹣−"), "-"))  # hyphen look-alikes
_FOLD.update(dict.fromkeys(map(ord, "〔【〖〚"), "["))
_FOLD.update(dict.fromkeys(map(ord, "〕】〗〛"), "]"))
_FOLD.update({0x3000: " ", 0x301C: "~", 0x2019: "'"})  # ideographic space, wave dash, ’


def _fold(text: str) -> str:
    return text.translate(_FOLD)


# --- Chinese numerals ---------------------------------------------------------------------------
_DIGITS: dict[str, int] = {str(i): i for i in range(10)}
for _value, _chars in enumerate(
    ["〇○零OoΟ", "一壹", "二贰两", "三叁参", "四肆", "五伍", "六陆", "七柒", "八捌", "九玖"]
):
    _DIGITS.update(dict.fromkeys(_chars, _value))
_UNITS = {"十": 10, "拾": 10, "百": 100, "佰": 100, "千": 1000, "仟": 1000}
_TENS = {"廿": 20, "卅": 30, "卌": 40}
_NUM = "[0-9〇○零OoΟ一壹二贰两三叁参四肆五伍六陆七柒八捌九玖十拾百佰千仟廿卅卌]+"
_MONTH_WORDS = {"正": 1, "元": 1, "端": 1, "冬": 11, "腊": 12}


def _cn_int(s: str) -> int | None:
    """Value of an Arabic or Chinese numeral; None when malformed.

    Strings of digits alone read digit by digit (一九五三 = 1953, 二〇〇一 = 2001); strings with
    units read positionally (二十八, 廿八, 贰拾捌, 一百零五).
    """
    if s.isascii():
        return int(s) if s.isdigit() else None
    if all(c in _DIGITS for c in s):
        value = 0
        for c in s:
            value = value * 10 + _DIGITS[c]
        return value
    total = 0
    current: int | None = None
    last_unit = 10**6
    for c in s:
        if c in _DIGITS:
            digit = _DIGITS[c]
            if digit == 0:  # 一百零五: 零 only marks a gap
                if current is not None:
                    return None
                continue
            if current is not None:
                return None
            current = digit
        elif c in _UNITS:
            unit = _UNITS[c]
            if unit >= last_unit:
                return None
            total += (1 if current is None else current) * unit
            current = None
            last_unit = unit
        elif c in _TENS:
            if current is not None or last_unit <= 10:
                return None
            total += _TENS[c]
            last_unit = 10
        else:
            return None
    return total + (current or 0)


# --- tables -------------------------------------------------------------------------------------
_DATA = "data/periods.toml"


def _as_date(entry: str, key: str, value: Any) -> datetime.date:
    if isinstance(value, datetime.date) and not isinstance(value, datetime.datetime):
        return value
    raise ConfigError(f"{_DATA}: {entry}: '{key}' must be a TOML date like 1937-07-07")


def _names(entry: dict[str, Any], where: str) -> tuple[str, ...]:
    name = entry.get("name")
    aliases = entry.get("aliases", [])
    if not isinstance(name, str) or not name:
        raise ConfigError(f"{_DATA}: {where}: 'name' must be a non-empty string")
    if not isinstance(aliases, list) or not all(isinstance(a, str) and a for a in aliases):
        raise ConfigError(f"{_DATA}: {where} {name}: 'aliases' must be a list of strings")
    return (name, *aliases)


@dataclass(frozen=True)
class _Tables:
    eras: tuple[Era, ...]
    periods: tuple[Period, ...]
    era_by_name: dict[str, Era]  # folded name → era
    period_by_name: dict[str, Period]  # folded name → period


@functools.cache
def _tables() -> _Tables:
    raw = resources.files("lantai.text").joinpath(_DATA).read_text(encoding="utf-8")
    return _tables_from_toml(raw)


def _tables_from_toml(raw: str) -> _Tables:
    """Validate the era and period tables; errors name the entry and the key."""
    try:
        doc = tomllib.loads(raw)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{_DATA}: invalid TOML: {exc}") from exc
    era_list: list[Era] = []
    era_by_name: dict[str, Era] = {}
    for i, entry in enumerate(doc.get("era", [])):
        names = _names(entry, f"era #{i + 1}")
        where = f"era {names[0]}"
        try:
            first, last = entry["first_year"], entry["max_year"]
            cal, lunar, standalone = entry["calendar"], entry["lunar"], entry["standalone"]
        except KeyError as exc:
            raise ConfigError(f"{_DATA}: {where}: missing key {exc.args[0]!r}") from exc
        if not (isinstance(first, int) and isinstance(last, int)):
            raise ConfigError(f"{_DATA}: {where}: first_year and max_year must be integers")
        if not (isinstance(cal, str) and isinstance(lunar, bool) and isinstance(standalone, bool)):
            raise ConfigError(f"{_DATA}: {where}: calendar/lunar/standalone have wrong types")
        if last < 1 or not MIN_YEAR <= first <= MAX_YEAR:
            raise ConfigError(f"{_DATA}: {where}: first_year/max_year out of range")
        start = _as_date(where, "start", entry.get("start", datetime.date(first, 1, 1)))
        end = _as_date(where, "end", entry.get("end", datetime.date(first + last - 1, 12, 31)))
        if end < start:
            raise ConfigError(f"{_DATA}: {where}: end {end} is before start {start}")
        era = Era(names[0], names[1:], cal, first, last, lunar, standalone, start, end)
        era_list.append(era)
        for n in names:
            if _fold(n) in era_by_name and era_by_name[_fold(n)] is not era:
                raise ConfigError(f"{_DATA}: {where}: name {n!r} already used by another era")
            era_by_name[_fold(n)] = era
    period_list: list[Period] = []
    period_by_name: dict[str, Period] = {}
    for i, entry in enumerate(doc.get("period", [])):
        names = _names(entry, f"period #{i + 1}")
        where = f"period {names[0]}"
        if "start" not in entry:
            raise ConfigError(f"{_DATA}: {where}: missing key 'start'")
        start = _as_date(where, "start", entry["start"])
        until = _as_date(where, "end", entry["end"]) if "end" in entry else None
        if until is not None and until < start:
            raise ConfigError(f"{_DATA}: {where}: end {until} is before start {start}")
        period = Period(names[0], names[1:], start, until)
        period_list.append(period)
        for n in names:
            key = _fold(n)
            if (key in period_by_name and period_by_name[key] is not period) or key in era_by_name:
                raise ConfigError(f"{_DATA}: {where}: name {n!r} is already used")
            period_by_name[key] = period
    return _Tables(tuple(era_list), tuple(period_list), era_by_name, period_by_name)


def eras() -> tuple[Era, ...]:
    """The era table from ``periods.toml``."""
    return _tables().eras


def periods() -> tuple[Period, ...]:
    """The named periods from ``periods.toml``."""
    return _tables().periods


# --- grammar ------------------------------------------------------------------------------------
_SEP = r"(?:—+|~|至|到|-)"
_MONTH = r"(?P<leap>闰)?(?P<m>" + _NUM + r"|正|元|端|冬|腊)月份?"
_DAY = r"(?:(?P<xun>上旬|中旬|下旬)|(?P<d>初?" + _NUM + r")[日号]?)"
_ISO = re.compile(r"(?P<y>\d{4})(?:(?P<sep>[-./])(?P<m>\d{1,2})(?:(?P=sep)(?P<d>\d{1,2}))?)?\.?")
_COMPACT = re.compile(r"(?P<y>\d{4})(?P<m>\d{2})(?P<d>\d{2})?")
_DECADE_ARABIC = re.compile(r"(?P<y>\d{4})(?:年代|'?s)")
_DECADE_SHORT = re.compile(r"(?P<d>[1-9]0|[二三四五六七八九]十)年代")
_CENTURY = re.compile(r"(?:(?P<c>" + _NUM + r")|(?P<prev>上))世纪(?:(?P<d>" + _NUM + r")年代)?")
_CJK_YEAR = re.compile(r"[一二三四五六七八九〇○零OoΟ]{4}")  # 一九三七 written without 年
_TODAY_WORDS = frozenset({"今", "今天", "现在", "目前", "当前"})
_UNKNOWN_WORDS = frozenset(
    {
        "不详",
        "年代不详",
        "日期不详",
        "时间不详",
        "年月不详",
        "无",
        "无日期",
        "待考",
        "不明",
        "未详",
        "?",
        "n.d.",
        "nd",
        "unknown",
    }
)
_DITTO_WORDS = frozenset({"同上", "同前", "仝上", "〃"})
_INFERRED_PREFIX = re.compile(r"(?:大约|大概|约为|约于|约|估计|circa|ca\.|c\.|approx\.?)", re.I)
_INFERRED_SUFFIX = re.compile(r"(?:左右|前后|许|\?+)$")
_LUNAR_PREFIX = re.compile(r"(?:农历|阴历|夏历|旧历)")
_TIME_SUFFIX = re.compile(r"[ T]\d{1,2}:\d{2}(?::\d{2}(?:\.\d+)?)?$")
_BRACKETS = re.compile(r"[\[\]()]")
_WS = re.compile(r"\s+")
_MAX_LEN = 64
_RANGE_SEP = re.compile(r"\s*" + _SEP + r"\s*")


@dataclass(frozen=True)
class _Grammar:
    cjk: re.Pattern[str]
    era_alone: re.Pattern[str]
    era_prefix: re.Pattern[str]
    finder: re.Pattern[str]


def _alternation(names: list[str]) -> str:
    return "|".join(re.escape(n) for n in sorted(set(names), key=len, reverse=True))


@functools.cache
def _grammar() -> _Grammar:
    tables = _tables()
    era_alt = _alternation(list(tables.era_by_name))
    cjk = re.compile(
        r"(?:公元|西元)?(?:(?P<era>" + era_alt + r"))?(?P<y>" + _NUM + r"|元)年度?"
        r"(?:(?P<half>上半年|下半年)|" + _MONTH + _DAY + r"?)?"
    )
    era_alone = re.compile(r"(?P<era>" + era_alt + r")(?P<suffix>年间|时期|时代|间|朝)?")
    era_prefix = re.compile(r"(?:公元|西元)?(?:" + era_alt + r")")
    return _Grammar(cjk, era_alone, era_prefix, _build_finder(tables, era_alt))


def _build_finder(tables: _Tables, era_alt: str) -> re.Pattern[str]:
    """One pattern for every date-like span in a search query (matched on folded text)."""
    n = "[0-9〇○零一壹二贰两三叁参四肆五伍六陆七柒八捌九玖十拾百佰千仟廿卅卌]"
    not_ascii_before = r"(?<![0-9A-Za-z.\-/])"
    not_ascii_after = r"(?![0-9A-Za-z.\-/])"
    month_day = (
        r"(?:闰?(?:" + n + r"{1,3}|正|元|冬|腊)月份?(?:上旬|中旬|下旬|初?" + n + r"{1,3}[日号]?)?)"
    )
    greg_year = r"(?:(?<![0-9])\d{4}|(?<!" + n + r")[一二三四五六七八九〇○零O]{4})年度?"
    era_year = r"(?:" + era_alt + r")(?:" + n + r"{1,4}|元)年"
    cjk_atom = (
        r"(?:公元|西元)?(?:" + greg_year + "|" + era_year + r")(?:上半年|下半年|" + month_day + ")?"
    )
    iso = not_ascii_before + r"\d{4}[-./]\d{1,2}(?:[-./]\d{1,2})?" + not_ascii_after
    # A bare 1939 counts only when it stands apart: not in 档号 J1-1939-2, not in 2000元.
    bare_year = not_ascii_before + r"(?:1[89]\d\d|20\d\d|2100)(?![0-9A-Za-z.:%\u3400-\u9fff])"
    decade = (
        r"(?:(?<![0-9])\d{3}0(?:年代|'?s(?![A-Za-z]))"
        r"|(?:" + n + r"{1,3}|上)世纪(?:" + n + r"{1,3}年代)?"
        r"|(?<![0-9" + n[1:-1] + r"])(?:[1-9]0|[二三四五六七八九]十)年代)"
    )
    named = _alternation(list(tables.period_by_name))
    standalone = _alternation([k for k, e in tables.era_by_name.items() if e.standalone])
    # Bare era names (光绪, 同治) are ordinary syllables inside words (协同治理), so they count
    # only when set apart by spaces or punctuation, or with a suffix such as 年间/时期.
    era_span = (
        r"(?:(?:" + era_alt + r")(?:年间|时期|时代|朝)"
        r"|(?<![\u3400-\u9fff])(?:" + standalone + r")(?![\u3400-\u9fff]))"
    )
    # Order matters: at one position the first alternative wins, and 1930年代 must not stop at
    # 1930年.
    left = "|".join([decade, cjk_atom, named, iso, bare_year, era_span])
    # After a separator the lookbehinds of iso/bare_year would refuse the "-" of 1937-1945.
    iso_right = r"\d{4}[-./]\d{1,2}(?:[-./]\d{1,2})?" + not_ascii_after
    year_right = r"\d{4}(?![0-9A-Za-z.:%\u3400-\u9fff])"
    right = "|".join(
        [
            decade,
            cjk_atom,
            iso_right,
            year_right,
            n + r"{1,4}年" + month_day + "?",
            month_day,
            r"\d{1,2}[日号]",
            "今",
        ]
    )
    return re.compile(r"(?P<left>" + left + r")(?:\s*" + _SEP + r"\s*(?P<right>" + right + r"))?")


# --- parsing ------------------------------------------------------------------------------------
class _Unrecognised(Exception):
    """The text matches no known date form (as opposed to a form with a bad value)."""


@dataclass(frozen=True)
class _Single:
    start: datetime.date
    end: datetime.date
    precision: Precision
    calendar: str = "gregorian"


def _days(year: int, month: int) -> int:
    return calendar.monthrange(year, month)[1]


def _check_year(year: int, text: str) -> None:
    if not MIN_YEAR <= year <= MAX_YEAR:
        hint = " (a reign or 民国 year written without its era name?)" if year < 200 else ""
        raise DateParseError(text, f"year {year} is outside {MIN_YEAR}..{MAX_YEAR}{hint}")


def _ymd(
    text: str,
    year: int,
    month: int | None,
    day: int | None,
    cal: str = "gregorian",
    lunar: bool = False,
) -> _Single:
    """Build a day, month or year from validated numbers."""
    _check_year(year, text)
    if month is None:
        return _Single(datetime.date(year, 1, 1), datetime.date(year, 12, 31), Precision.YEAR, cal)
    if not 1 <= month <= 12:
        raise DateParseError(text, f"month {month} is not between 1 and 12")
    last = _days(year, month)
    if day is None:
        first_day = datetime.date(year, month, 1)
        return _Single(first_day, datetime.date(year, month, last), Precision.MONTH, cal)
    if lunar and last < day <= 30:
        day = last  # lunar months have 29 or 30 days; the Gregorian result is approximate anyway
    if not 1 <= day <= last:
        raise DateParseError(
            text, f"day {day} does not exist in {year}-{month:02d} (it has {last} days)"
        )
    d = datetime.date(year, month, day)
    return _Single(d, d, Precision.DAY, cal)


def _num(text: str, s: str, what: str) -> int:
    value = _cn_int(s)
    if value is None:
        raise DateParseError(text, f"{what} {s!r} is not a valid numeral")
    return value


def _period_range(start: datetime.date, end: datetime.date | None) -> _Single:
    end = end or datetime.date.today()
    if start == end:
        precision = Precision.DAY
    elif (start.month, start.day, end.month, end.day) == (1, 1, 12, 31) and start.year == end.year:
        precision = Precision.YEAR
    else:
        precision = Precision.RANGE
    return _Single(start, end, precision)


def _parse_cjk(m: re.Match[str], text: str, lunar: bool) -> _Single:
    era = _tables().era_by_name[m["era"]] if m["era"] else None
    ys = m["y"]
    if era is None:
        if ys == "元":
            raise DateParseError(text, "元年 needs an era name (民国元年, 光绪元年)")
        year = _num(text, ys, "year")
        cal = "lunar" if lunar else "gregorian"
    else:
        n = 1 if ys == "元" else _num(text, ys, "year")
        if not 1 <= n <= era.max_year:
            raise DateParseError(
                text, f"{era.name} has no year {n} (it is counted from 1 to {era.max_year})"
            )
        year = era.first_year + n - 1
        cal = era.calendar
        lunar = lunar or era.lunar
    if m["half"]:
        _check_year(year, text)
        first = m["half"] == "上半年"
        start = datetime.date(year, 1 if first else 7, 1)
        end = datetime.date(year, 6, 30) if first else datetime.date(year, 12, 31)
        return _Single(start, end, Precision.RANGE, cal)
    if m["m"] is None:
        return _ymd(text, year, None, None, cal, lunar)
    ms = m["m"]
    month = _MONTH_WORDS[ms] if ms in _MONTH_WORDS else _num(text, ms, "month")
    if m["xun"]:
        single = _ymd(text, year, month, None, cal, lunar)
        first_day = {"上旬": 1, "中旬": 11, "下旬": 21}[m["xun"]]
        last_day = {"上旬": 10, "中旬": 20, "下旬": single.end.day}[m["xun"]]
        return _Single(
            datetime.date(year, month, first_day),
            datetime.date(year, month, last_day),
            Precision.RANGE,
            cal,
        )
    ds = m["d"]
    if ds is None:
        return _ymd(text, year, month, None, cal, lunar)
    if ds.startswith("初"):
        day = _num(text, ds[1:], "day")
        if not 1 <= day <= 10:
            raise DateParseError(text, f"初{ds[1:]} is not a day (初一..初十)")
    else:
        day = _num(text, ds, "day")
    return _ymd(text, year, month, day, cal, lunar)


def _parse_single(s: str, text: str, lunar: bool) -> _Single:
    """Parse one date (no range) from folded, cleaned ``s``; ``text`` is for messages."""
    first = s[0]
    if first.isdigit():
        cal = "lunar" if lunar else "gregorian"
        if m := _ISO.fullmatch(s):
            month = int(m["m"]) if m["m"] else None
            day = int(m["d"]) if m["d"] else None
            return _ymd(text, int(m["y"]), month, day, cal, lunar)
        if m := _COMPACT.fullmatch(s):
            # DA/T 22 fills an unknown month or day with zeros: 19390400, 19390000.
            month = int(m["m"]) or None
            day = int(m["d"]) if m["d"] else None
            if month is None and day:
                raise DateParseError(text, "a day is given without a month")
            return _ymd(text, int(m["y"]), month, day or None, cal, lunar)
        if m := _DECADE_ARABIC.fullmatch(s):
            year = int(m["y"])
            if year % 10:
                raise DateParseError(text, f"a decade starts at a year ending in 0, not {year}")
            _check_year(year, text)
            return _Single(
                datetime.date(year, 1, 1),
                datetime.date(min(year + 9, MAX_YEAR), 12, 31),
                Precision.DECADE,
            )
    elif _CJK_YEAR.fullmatch(s):
        return _ymd(text, _num(text, s, "year"), None, None, "lunar" if lunar else "gregorian")
    grammar = _grammar()
    if m := grammar.cjk.fullmatch(s):
        return _parse_cjk(m, text, lunar)
    tables = _tables()
    if period := tables.period_by_name.get(s):
        return _period_range(period.start, period.end)
    if m := grammar.era_alone.fullmatch(s):
        era = tables.era_by_name[m["era"]]
        if era.standalone or m["suffix"]:
            return _Single(era.start, era.end, Precision.RANGE, era.calendar)
        raise _Unrecognised
    if m := _CENTURY.fullmatch(s):
        if m["prev"]:
            century = (datetime.date.today().year - 1) // 100  # 上世纪: the previous century
        else:
            century = _num(text, m["c"], "century")
        base = (century - 1) * 100
        if m["d"] is None:
            _check_year(base, text)
            return _Single(
                datetime.date(base, 1, 1),
                datetime.date(min(base + 99, MAX_YEAR), 12, 31),
                Precision.CENTURY,
            )
        decade = _num(text, m["d"], "decade")
        if decade % 10 or decade > 90:
            raise DateParseError(text, f"{m['d']}年代 is not a decade")
        return _parse_single(f"{base + decade}年代", text, lunar)
    if m := _DECADE_SHORT.fullmatch(s):
        # 三十年代 without a century: catalogs mean the 1900s (the collections start after 1840).
        return _parse_single(f"{1900 + _num(text, m['d'], 'decade')}年代", text, lunar)
    raise _Unrecognised


def _right_candidates(left: str, right: str) -> list[str]:
    """Ways to read an abbreviated range end in the light of its start.

    1949.10-12 → 1949.12; 1937年10月至12月 → 1937年12月; 民国二十六年至三十四年 → 民国三十四年.
    """
    out = [right]
    if right[0].isdigit() and "年" not in left and (m := _ISO.fullmatch(left)) and m["sep"]:
        parts = re.split(r"[-./]", left.rstrip("."))
        given = len(re.split(r"[-./]", right))
        if given < len(parts):
            out.append(m["sep"].join(parts[: len(parts) - given]) + m["sep"] + right)
    if "年" in right:
        if not _grammar().era_prefix.match(right) and (m := _grammar().era_prefix.match(left)):
            out.append(m.group() + right)
    elif "月" in right:
        if (i := left.find("年")) > 0:
            out.append(left[: i + 1] + right)
    elif (i := left.find("月")) > 0:
        out.append(left[: i + 1] + right)
    return out


def _parse_range(s: str, text: str, lunar: bool) -> _Single | None:
    """Try every separator position; the first split where both ends parse wins."""
    first_error: DateParseError | None = None
    for sep in _RANGE_SEP.finditer(s):
        left, right = s[: sep.start()], s[sep.end() :]
        if not left or not right:
            continue
        try:
            a = _parse_single(left, text, lunar)
        except _Unrecognised:
            # 1939年4—5月, 民国二十六—三十四年: the start borrows the unit written after the end.
            if right[-1] not in "年月日" or left[-1] in "年月日":
                continue
            left += right[-1]
            try:
                a = _parse_single(left, text, lunar)
            except (_Unrecognised, DateParseError):
                continue
        except DateParseError as exc:
            first_error = first_error or exc
            continue
        b: _Single | None = None
        if right in _TODAY_WORDS:
            today = datetime.date.today()
            b = _Single(today, today, Precision.DAY)
        elif re.fullmatch(r"\d{2}年?", right) and a.precision is Precision.YEAR and left.isdigit():
            year = a.start.year // 100 * 100 + int(right.rstrip("年"))  # 1937-45
            b = _Single(datetime.date(year, 1, 1), datetime.date(year, 12, 31), Precision.YEAR)
        else:
            for candidate in _right_candidates(left, right):
                try:
                    b = _parse_single(candidate, text, lunar)
                    break
                except _Unrecognised:
                    continue
                except DateParseError as exc:
                    first_error = first_error or exc
        if b is None:
            continue
        if b.end < a.start:
            raise DateParseError(text, f"the range ends ({b.end}) before it starts ({a.start})")
        return _Single(a.start, b.end, Precision.RANGE, a.calendar)
    if first_error is not None:
        raise first_error
    return None


def _parse_folded(s: str, text: str) -> DateRange:
    """Parse folded text ``s``; ``text`` is the stripped original, kept in the result."""
    s = _WS.sub("", _TIME_SUFFIX.sub("", s))
    if not s:
        raise DateParseError(text, "no date given")
    if len(s) > _MAX_LEN:  # the range splitter tries every separator: bound the work
        raise DateParseError(text[:_MAX_LEN] + "…", f"longer than {_MAX_LEN} characters")
    if s.lower() in _UNKNOWN_WORDS:
        raise DateParseError(text, "the catalog records the date as unknown")
    if s in _DITTO_WORDS:
        raise DateParseError(text, "a ditto mark refers to another row; resolve it first")
    inferred = False
    if _BRACKETS.search(s):
        inferred = True
        s = _BRACKETS.sub("", s)
    if m := _INFERRED_PREFIX.match(s):
        inferred = True
        s = s[m.end() :]
    if m := _INFERRED_SUFFIX.search(s):
        inferred = True
        s = s[: m.start()]
    lunar = False
    if m := _LUNAR_PREFIX.match(s):
        lunar = True
        s = s[m.end() :]
    if not s:
        raise DateParseError(text, "no date given")
    try:
        single = _parse_single(s, text, lunar)
    except _Unrecognised:
        ranged = _parse_range(s, text, lunar)
        if ranged is None:
            if "不详" in s or "待考" in s:
                raise DateParseError(text, "the catalog records the date as unknown") from None
            raise DateParseError(text, "not a recognised date form") from None
        single = ranged
    except DateParseError as exc:
        # "1939-13" reads as a bad month, but "1937-1945" must still get its chance as a range.
        try:
            ranged = _parse_range(s, text, lunar)
        except DateParseError:
            ranged = None
        if ranged is None:
            raise exc from None
        single = ranged
    return DateRange(text, single.start, single.end, single.precision, inferred, single.calendar)


@functools.lru_cache(maxsize=65536)
def _parse_cached(text: str) -> DateRange:
    # Catalog columns repeat the same few thousand date strings; errors are not cached.
    return _parse_folded(_fold(text), text)


def parse_date(text: str) -> DateRange:
    """Normalise one catalog date; raise :class:`DateParseError` naming the text and the reason.

    Accepts ISO-like (1939-04-23, 1939.4.23, 1939/4/23, 1939-4, 1939), DA/T compact (19390423,
    193904), Chinese (1939年4月23日, 一九五三年十月一日, 1939年4月上旬, 1939年上半年), 民国/中華民國
    years (financial numerals and 廿/卅/卌 too, 元年 = 1912), Qing, 洪宪, Manchukuo and Japanese
    era years, ranges (1937—1945, 1949.10-1950.3, 民国二十六年至三十四年, 1978年至今), inferred
    dates ([1939], 〔1939年〕, （1939）, 约1940年, 1940年左右), decades and centuries (1930年代,
    1930s, 二十世纪三十年代, 19世纪) and the named periods of ``periods.toml`` (抗战时期, 文革).
    Simplified and traditional script and full-width characters are all accepted. Lunar (Qing,
    农历) dates are approximate, ±1 month: see the module docstring.
    """
    if not isinstance(text, str):
        raise DateParseError(repr(text), f"expected text, got {type(text).__name__}")
    return _parse_cached(text.strip())


def parse_date_or_none(text: str) -> DateRange | None:
    """Like :func:`parse_date` but None for unreadable dates (callers must still report them)."""
    try:
        return parse_date(text)
    except DateParseError:
        return None


def find_periods(query: str) -> list[tuple[tuple[int, int], DateRange]]:
    """Spans of a search query that name a date or a period, left to right, not overlapping.

    Each item is ``((start, end), DateRange)`` with character offsets into ``query`` and the
    DateRange's ``text`` equal to ``query[start:end]``. Recognised: the forms of
    :func:`parse_date` written with 年 (1939年, 民国二十八年, 民國廿八年, 光绪三十年,
    1937年至1945年); ISO dates and year ranges (1939-04-23, 1937-1945); a four-digit year
    1800..2100 standing on its own (not inside 档号 J1-1939-2 or 2000元); decades (1930年代,
    1930s, 上世纪五十年代, and 三十年代 read as the 1930s); centuries; named periods
    (抗战时期, 抗戰時期, 文革); era names with a suffix (光绪年间, 民国时期) or set apart by
    spaces or punctuation (民国 上海; not 同治 inside 协同治理).
    """
    folded = _fold(query)
    found: list[tuple[tuple[int, int], DateRange]] = []
    for m in _grammar().finder.finditer(folded):
        spans = [m.span()]
        if m["right"] is not None:
            spans.append(m.span("left"))
        for start, end in spans:
            original = query[start:end]
            try:
                found.append(((start, end), _parse_folded(folded[start:end], original)))
                break
            except DateParseError:
                continue
    return found
