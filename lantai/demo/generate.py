"""Generate the sample archive used by ``make demo`` and by tests as a realistic fixture.

The archive imitates what a Chinese city archive (the fictional 安澜市档案馆) exports from its
catalog system: an 归档文件目录 spreadsheet plus the full text of part of the records.

Layout written under ``out_dir``::

    catalog.csv         UTF-8 with BOM and CRLF line ends, as Excel writes it; headers are
                        CATALOG_HEADERS, one row per record, sorted by 全宗 then 档号
    text/<name>.txt     full text (UTF-8, no BOM, LF) for about 70 % of the records; scanned
                        (OCR) texts break lines every 20–30 characters and longer ones
                        separate pages with a form feed (\\f), as OCR exports do

Text file names are ``safe_filename(档号) + ".txt"``: every character that is unsafe in a file
name on Windows or POSIX (``/ \\ : * ? " < > |``) and every whitespace character becomes ``_``;
all other characters, ``·`` and CJK included, are kept. So ``C038-001-014-003/1`` is stored as
``C038-001-014-003_1.txt`` and ``J001-WS·1947-Y-0012`` as ``J001-WS·1947-Y-0012.txt``. The
generator owns ``out_dir/text``: stale ``.txt`` files left there by an earlier run are removed.

What the catalog contains (six 全宗, proportions fixed, records drawn at random):

* J001 安澜市政府（民国）1930–1949 and J017 安澜市难民救济委员会 1937–1945: texts in traditional
  script with period punctuation (、。); J001's titles are transcribed in traditional script.
* X001 中共安澜市委员会 1949–1995, X012 安澜市计划委员会 1950–1988, X025 安澜市文化教育局
  1950–1992: simplified script.
* C038 安澜第一棉纺织厂 1946–1992 (大华纱厂 before 1956): traditional texts before 1949.

档号 follow DA/T 13—2022: file-level records ``全宗号-门类代码·年度-保管期限代码-件号``
(``X012-WS·1956-D30-0003``; 门类代码 WS 文书, KJ 科技, KU 会计, SX 声像, SW 实物; 保管期限代码 Y
永久, C 长期, D 短期, D30 定期30年, D10 定期10年) and volume-based fonds (J017, C038)
``全宗号-目录号-案卷号-件号`` (``C038-001-002-003``). A few attachments in volume-based fonds
carry a sub-number (``…-003/1``), as legacy catalogs write them. 日期 mixes the styles real
catalogs mix (19470312, 1947-03-12, 1947年3月12日, 民国三十六年三月十二日, 中華民國貳拾捌年,
一九五三年十月, [1939], 1937—1945, 不详). Exactly ``round(0.15 * n)`` records are not 开放.

Everything is deterministic: the same ``(n_records, seed)`` gives the same bytes on every run
and platform. All texts come from templates and vocabularies in ``lantai/demo/data/`` written
for this demo; no real document was copied. Famous names in them (杨靖宇, 东北抗日联军, 辽沈战役,
黄继光, 郝建秀 …) are real historical entities so that entity search can be demonstrated.

Run ``python -m lantai.demo.generate OUT_DIR [--records N] [--seed S]``.
"""

from __future__ import annotations

import argparse
import csv
import random
import string
import tomllib
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from functools import cache
from importlib import resources
from pathlib import Path

from lantai.catalog.model import safe_filename
from lantai.errors import ConfigError

__all__ = [
    "CATALOG_HEADERS",
    "MAX_RECORDS",
    "SampleArchive",
    "generate_sample_archive",
    "main",
    "safe_filename",
    "text_filename",
]

CATALOG_HEADERS: tuple[str, ...] = (
    "档号", "全宗号", "全宗名称", "目录号", "案卷号", "件号", "门类", "年度", "题名", "责任者",
    "文号", "日期", "页数", "密级", "保管期限", "开放标识", "公开属性", "主题词", "人名", "附注",
    "载体形态", "语种",
)  # fmt: skip

MAX_RECORDS = 20000
"""Upper bound for ``n_records``; 件号 (four digits) and 案卷号 (three) stay far within width."""

NON_OPEN_SHARE = 0.15
TEXT_SHARE = 0.70
TEXT_MIN_CHARS = 150
TEXT_MAX_CHARS = 1500



@dataclass(frozen=True)
class SampleArchive:
    """Paths of a generated sample archive."""

    catalog_csv: Path
    """``out_dir/catalog.csv`` (UTF-8 with BOM, headers :data:`CATALOG_HEADERS`)."""
    text_dir: Path
    """``out_dir/text``: one ``text_filename(档号)`` file per record that has full text."""
    n_records: int
    """Number of catalog rows."""
    text_ids: tuple[str, ...] = ()
    """档号 of the records that have a full-text file, in catalog order."""

    def text_path(self, archive_id: str) -> Path:
        """Where the full text of the record ``archive_id`` is (or would be) stored."""
        return self.text_dir / text_filename(archive_id)


def text_filename(archive_id: str) -> str:
    """Return the name of the full-text file of the record ``archive_id``."""
    return safe_filename(archive_id) + ".txt"


# --------------------------------------------------------------------------------------------
# Vocabulary and templates (lantai/demo/data/*.toml)
# --------------------------------------------------------------------------------------------

_SLOTS = frozenset(
    {
        # record-level values
        "matter", "creator", "superior", "lower", "peer", "head", "head_title", "date", "rhyme",
        # people (p* in the body, a* attending meetings) and places
        "p1", "p2", "p3", "p4", "a1", "a2", "a3", "a4", "district", "district2", "street",
        "village", "company", "school", "province",
        # numbers
        "n", "n_small", "n1", "n2", "n3", "k1", "k2", "r1", "r2", "r3", "pct", "pct_hi", "pct2",
        "mon", "day", "year", "yy",
    }
)  # fmt: skip
_DATA_FILES = (
    "fonds_j001.toml",
    "fonds_j017.toml",
    "fonds_x001.toml",
    "fonds_x012.toml",
    "fonds_x025.toml",
    "fonds_c038.toml",
)
_SCRIPTS = ("trad", "simp")
_PLACE_LISTS = (
    "district", "village", "street_old", "street_new", "company_old", "company_new",
    "school_old", "school_new", "province",
)  # fmt: skip


@dataclass(frozen=True)
class _Variant:
    """One vocabulary entry in both scripts, optionally restricted to a span of years."""

    trad: str
    simp: str
    years: tuple[int, int] | None = None

    def get(self, script: str) -> str:
        return self.trad if script == "trad" else self.simp

    def fits(self, year: int) -> bool:
        return self.years is None or self.years[0] <= year <= self.years[1]


@dataclass(frozen=True)
class _Kind:
    key: str
    name: _Variant
    heads: tuple[str, ...]
    tails: tuple[str, ...]
    numbered: bool
    authority: bool


@dataclass(frozen=True)
class _Head:
    years: tuple[int, int]
    name: _Variant
    title: _Variant


@dataclass(frozen=True)
class _Topic:
    key: str
    years: tuple[int, int]
    weight: float
    sensitivity: float
    category: str
    carrier: str
    language: str
    text_script: str
    kinds: tuple[str, ...]
    creators: tuple[_Variant, ...]
    matters: tuple[_Variant, ...]
    titles: tuple[_Variant, ...]
    subjects: tuple[str, ...]
    paragraphs: tuple[_Variant, ...]
    superiors: tuple[str, ...]
    lowers: tuple[str, ...]
    peers: tuple[str, ...]


@dataclass(frozen=True)
class _Fonds:
    id: str
    name: str
    numbering: str
    years: tuple[int, int]
    share: float
    text_script: str
    catalog_script: str
    authority: _Variant | None
    docno: tuple[_Variant, ...]
    generic: tuple[str, ...]
    heads: tuple[_Head, ...]
    topics: tuple[_Topic, ...]


@dataclass(frozen=True)
class _Common:
    surnames: tuple[_Variant, ...]
    given: tuple[_Variant, ...]
    reserved_names: frozenset[str]
    famous_people: tuple[_Variant, ...]
    places: Mapping[str, tuple[_Variant, ...]]
    notes: tuple[str, ...]
    kinds: Mapping[str, _Kind]


@dataclass(frozen=True)
class _Data:
    common: _Common
    fonds: tuple[_Fonds, ...]


class _Loader:
    """Turns the TOML files into frozen values, naming the file and key of any bad entry."""

    def __init__(self, filename: str) -> None:
        self.filename = filename

    def fail(self, where: str, problem: str) -> ConfigError:
        return ConfigError(f"lantai/demo/data/{self.filename}: {where}: {problem}")

    def check_slots(self, template: str, where: str) -> str:
        try:
            fields = [f for _, f, _, _ in string.Formatter().parse(template) if f is not None]
        except ValueError as exc:
            raise self.fail(where, f"malformed template {template!r} ({exc})") from exc
        unknown = sorted(set(fields) - _SLOTS)
        if unknown:
            raise self.fail(where, f"unknown slot {{{unknown[0]}}} in {template!r}")
        return template

    def years(self, raw: object, where: str) -> tuple[int, int]:
        if (
            not isinstance(raw, list)
            or len(raw) != 2
            or not all(isinstance(y, int) for y in raw)
            or raw[0] > raw[1]
        ):
            raise self.fail(where, f"expected [first_year, last_year], got {raw!r}")
        return (raw[0], raw[1])

    def variant(self, raw: object, where: str) -> _Variant:
        years = None
        if isinstance(raw, dict):
            years = self.years(raw.get("years"), f"{where}.years")
            raw = raw.get("text")
        if not isinstance(raw, str) or not raw:
            raise self.fail(where, f"expected a non-empty string, got {raw!r}")
        trad, sep, simp = raw.partition("|")
        if not sep:
            simp = trad
        self.check_slots(trad, where)
        self.check_slots(simp, where)
        return _Variant(trad, simp, years)

    def variants(self, table: Mapping[str, object], key: str, where: str) -> tuple[_Variant, ...]:
        raw = table.get(key, [])
        if not isinstance(raw, list):
            raise self.fail(f"{where}.{key}", f"expected a list, got {raw!r}")
        return tuple(self.variant(item, f"{where}.{key}[{i}]") for i, item in enumerate(raw))

    def strings(self, table: Mapping[str, object], key: str, where: str) -> tuple[str, ...]:
        raw = table.get(key, [])
        if not isinstance(raw, list) or not all(isinstance(s, str) and s for s in raw):
            raise self.fail(f"{where}.{key}", f"expected a list of strings, got {raw!r}")
        return tuple(self.check_slots(s, f"{where}.{key}") for s in raw)

    def number(self, table: Mapping[str, object], key: str, where: str, default: float) -> float:
        raw = table.get(key, default)
        if isinstance(raw, bool) or not isinstance(raw, int | float) or raw <= 0:
            raise self.fail(f"{where}.{key}", f"expected a positive number, got {raw!r}")
        return float(raw)

    def script(self, raw: object, where: str) -> str:
        if raw not in _SCRIPTS:
            raise self.fail(where, f"expected one of {_SCRIPTS}, got {raw!r}")
        return str(raw)


def _read_toml(filename: str) -> dict[str, object]:
    path = resources.files("lantai.demo").joinpath("data", filename)
    try:
        return tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError as exc:
        raise ConfigError(f"lantai/demo/data/{filename} is missing from the installation") from exc
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"lantai/demo/data/{filename}: invalid TOML: {exc}") from exc


def _as_table(raw: object, loader: _Loader, where: str) -> dict[str, object]:
    if not isinstance(raw, dict):
        raise loader.fail(where, f"expected a table, got {raw!r}")
    return raw


def _load_common() -> _Common:
    loader = _Loader("common.toml")
    doc = _read_toml(loader.filename)
    places_raw = _as_table(doc.get("places"), loader, "places")
    places = {key: loader.variants(places_raw, key, "places") for key in sorted(places_raw)}
    for key in _PLACE_LISTS:
        if len(places.get(key, ())) < 2:
            raise loader.fail(f"places.{key}", "expected a list of at least two places")
    kinds: dict[str, _Kind] = {}
    for key, raw in _as_table(doc.get("kinds"), loader, "kinds").items():
        table = _as_table(raw, loader, f"kinds.{key}")
        kinds[key] = _Kind(
            key=key,
            name=loader.variant(table.get("name"), f"kinds.{key}.name"),
            heads=loader.strings(table, "heads", f"kinds.{key}"),
            tails=loader.strings(table, "tails", f"kinds.{key}"),
            numbered=bool(table.get("numbered", False)),
            authority=bool(table.get("authority", False)),
        )
    reserved = loader.variants(doc, "reserved_names", "")
    notes_raw = _as_table(doc.get("notes"), loader, "notes")
    return _Common(
        surnames=loader.variants(doc, "surnames", ""),
        given=loader.variants(doc, "given", ""),
        reserved_names=frozenset(n for v in reserved for n in (v.trad, v.simp)),
        famous_people=loader.variants(doc, "famous_people", ""),
        places=places,
        notes=loader.strings(notes_raw, "values", "notes"),
        kinds=kinds,
    )


def _load_fonds(filename: str, common: _Common) -> _Fonds:
    loader = _Loader(filename)
    doc = _read_toml(filename)
    meta = _as_table(doc.get("fonds"), loader, "fonds")
    text_script = loader.script(meta.get("text_script"), "fonds.text_script")
    fonds_years = loader.years(meta.get("years"), "fonds.years")
    numbering = meta.get("numbering")
    if numbering not in ("file", "volume"):
        raise loader.fail("fonds.numbering", f"expected 'file' or 'volume', got {numbering!r}")
    fonds_addressees = {
        key: loader.strings(meta, key, "fonds") for key in ("superiors", "lowers", "peers")
    }
    heads = []
    raw_heads = meta.get("heads", [])
    if not isinstance(raw_heads, list):
        raise loader.fail("fonds.heads", f"expected [[fonds.heads]] tables, got {raw_heads!r}")
    for i, raw in enumerate(raw_heads):
        table = _as_table(raw, loader, f"fonds.heads[{i}]")
        heads.append(
            _Head(
                years=loader.years(table.get("years"), f"fonds.heads[{i}].years"),
                name=loader.variant(table.get("name"), f"fonds.heads[{i}].name"),
                title=loader.variant(table.get("title"), f"fonds.heads[{i}].title"),
            )
        )
    topics = []
    raw_topics = doc.get("topic", [])
    if not isinstance(raw_topics, list) or not raw_topics:
        raise loader.fail("topic", "expected at least one [[topic]]")
    for i, raw in enumerate(raw_topics):
        table = _as_table(raw, loader, f"topic[{i}]")
        where = f"topic[{i}] ({table.get('key', '?')})"
        years = loader.years(table.get("years"), f"{where}.years")
        if years[0] < fonds_years[0] or years[1] > fonds_years[1]:
            raise loader.fail(f"{where}.years", f"{years} lies outside the fonds' {fonds_years}")
        kinds = loader.strings(table, "kinds", where)
        for kind in kinds:
            if kind not in common.kinds:
                raise loader.fail(f"{where}.kinds", f"unknown kind {kind!r}")
            if common.kinds[kind].authority and "authority" not in meta:
                raise loader.fail(f"{where}.kinds", f"kind {kind!r} needs fonds.authority")
        topic = _Topic(
            key=str(table.get("key", f"topic{i}")),
            years=years,
            weight=loader.number(table, "weight", where, 1.0),
            sensitivity=loader.number(table, "sensitivity", where, 1.0),
            category=str(table.get("category", "文书")),
            carrier=str(table.get("carrier", "纸质")),
            language=str(table.get("language", "汉语")),
            text_script=loader.script(table.get("text_script", text_script), where),
            kinds=kinds,
            creators=loader.variants(table, "creators", where),
            matters=loader.variants(table, "matters", where),
            titles=loader.variants(table, "titles", where),
            subjects=loader.strings(table, "subjects", where),
            paragraphs=loader.variants(table, "paragraphs", where),
            superiors=loader.strings(table, "superiors", where) or fonds_addressees["superiors"],
            lowers=loader.strings(table, "lowers", where) or fonds_addressees["lowers"],
            peers=loader.strings(table, "peers", where) or fonds_addressees["peers"],
        )
        if topic.category not in _CATEGORY_CODES:
            raise loader.fail(f"{where}.category", f"unknown 门类 {topic.category!r}")
        if not topic.titles and not (topic.kinds and topic.matters and topic.creators):
            raise loader.fail(where, "needs either titles or kinds, matters and creators")
        if topic.kinds and not topic.paragraphs:
            raise loader.fail(where, "a topic with kinds needs paragraphs")
        if topic.kinds and not (topic.superiors and topic.lowers and topic.peers):
            raise loader.fail(where, "needs superiors, lowers and peers (here or in [fonds])")
        topics.append(topic)
    return _Fonds(
        id=str(meta.get("id")),
        name=str(meta.get("name")),
        numbering=str(numbering),
        years=fonds_years,
        share=loader.number(meta, "share", "fonds", 1.0),
        text_script=text_script,
        catalog_script=loader.script(meta.get("catalog_script"), "fonds.catalog_script"),
        authority=(
            loader.variant(meta["authority"], "fonds.authority") if "authority" in meta else None
        ),
        docno=loader.variants(meta, "docno", "fonds"),
        generic=loader.strings(meta, "generic", "fonds"),
        heads=tuple(heads),
        topics=tuple(topics),
    )


@cache
def _load_data() -> _Data:
    common = _load_common()
    fonds = tuple(_load_fonds(name, common) for name in _DATA_FILES)
    return _Data(common=common, fonds=fonds)


# --------------------------------------------------------------------------------------------
# Numbers and dates in the styles documents and catalogs use
# --------------------------------------------------------------------------------------------

_CN_DIGITS = "〇一二三四五六七八九"
_CN_UPPER = {"trad": "零壹貳參肆伍陸柒捌玖", "simp": "零壹贰叁肆伍陆柒捌玖"}
_CN_UNITS = ("", "十", "百", "千")
_CN_UPPER_UNITS = ("", "拾", "佰", "仟")
_CN_WAN = {"trad": "萬", "simp": "万"}
# 韵目代日: the day-of-month code telegrams (代電) are dated with.
_RHYME_DAYS = "東冬江支微魚虞齊佳灰真文元寒刪銑篠巧皓號馬養漾敬有寢感儉艷卅世"


def _cn_below_10000(n: int, digits: str, units: Sequence[str]) -> str:
    out: list[str] = []
    zero = False
    for power in (3, 2, 1, 0):
        d = n // 10**power % 10
        if d == 0:
            zero = bool(out)
            continue
        if zero:
            out.append(digits[0])
            zero = False
        out.append(digits[d] + units[power])
    return "".join(out)


def _cn_number(n: int, script: str, upper: bool = False) -> str:
    """Chinese numeral for 0 <= n < 10**8: 三百二十七, 一萬零五十; 十二 not 一十二."""
    digits = _CN_UPPER[script] if upper else "零一二三四五六七八九"
    units = _CN_UPPER_UNITS if upper else _CN_UNITS
    if n == 0:
        return digits[0]
    high, low = divmod(n, 10000)
    text = ""
    if high:
        text = _cn_below_10000(high, digits, units) + _CN_WAN[script]
        if low and low < 1000:
            text += digits[0]
    if low:
        text += _cn_below_10000(low, digits, units)
    if not upper and 10 <= n < 20:
        text = text[1:]  # 一十二 -> 十二
    return text


def _cn_year_digits(year: int) -> str:
    return "".join(_CN_DIGITS[int(c)] for c in str(year))


def _text_date(year: int, month: int, day: int, script: str, chinese: bool) -> str:
    """The date line that closes a document."""
    if script == "trad":
        return (
            f"中華民國{_cn_number(year - 1911, 'trad')}年"
            f"{_cn_number(month, 'trad')}月{_cn_number(day, 'trad')}日"
        )
    if chinese:
        return f"{_cn_year_digits(year)}年{_cn_number(month, 'simp')}月{_cn_number(day, 'simp')}日"
    return f"{year}年{month}月{day}日"


_DATE_STYLES_OLD = (
    ("compact", 15), ("iso", 15), ("cjk", 14), ("minguo", 26), ("minguo_upper", 6),
    ("month_cn", 0), ("estimated", 9), ("range", 6), ("unknown", 4), ("minguo_arabic", 5),
)  # fmt: skip
_DATE_STYLES_NEW = (
    ("compact", 24), ("iso", 22), ("cjk", 22), ("minguo", 0), ("minguo_upper", 0),
    ("month_cn", 14), ("estimated", 8), ("range", 4), ("unknown", 3), ("minguo_arabic", 0),
)  # fmt: skip


def _catalog_date(
    rng: random.Random,
    year: int,
    month: int,
    day: int,
    republican: bool,
    fonds_years: tuple[int, int],
) -> tuple[str, str]:
    """Return (日期 as cataloged, style name); styles mix as they do in real exports."""
    styles = _DATE_STYLES_OLD if republican else _DATE_STYLES_NEW
    style = _weighted_choice(rng, [s for s, _ in styles], [w for _, w in styles])
    if style == "compact":
        return f"{year:04d}{month:02d}{day:02d}", style
    if style == "iso":
        return f"{year:04d}-{month:02d}-{day:02d}", style
    if style == "cjk":
        return f"{year}年{month}月{day}日", style
    if style == "minguo":
        # Catalogers type 民国 in simplified script even for traditional-script fonds.
        mg = _cn_number(year - 1911, "simp")
        return f"民国{mg}年{_cn_number(month, 'simp')}月{_cn_number(day, 'simp')}日", style
    if style == "minguo_arabic":
        return f"民国{year - 1911}年{month}月{day}日", style
    if style == "minguo_upper":
        return f"中華民國{_cn_number(year - 1911, 'trad', upper=True)}年", style
    if style == "month_cn":
        return f"{_cn_year_digits(year)}年{_cn_number(month, 'simp')}月", style
    if style == "estimated":
        return f"[{year}]", style
    if style == "range":
        last = min(year + rng.randint(1, 4), fonds_years[1])
        first = year if last > year else max(fonds_years[0], year - 2)
        return f"{first}—{last}", style
    return "不详", style


# --------------------------------------------------------------------------------------------
# Drawing one record
# --------------------------------------------------------------------------------------------

_CATEGORY_CODES = {"文书": "WS", "科技": "KJ", "会计": "KU", "声像": "SX", "实物": "SW"}
_RETENTION_CODES = {"永久": "Y", "长期": "C", "短期": "D", "定期30年": "D30", "定期10年": "D10"}
# Volume-based fonds keep one 目录 per category (and per retention for 文书), as older
# archives arranged them.
_VOLUME_CATALOGS = {
    ("文书", "永久"): 1, ("文书", "长期"): 2, ("文书", "短期"): 3, ("科技", ""): 4,
    ("会计", ""): 5, ("声像", ""): 6, ("实物", ""): 7,
}  # fmt: skip
_OCR_CHARS = frozenset("之以為其於而者此等各所")
# Kinds that may survey several lines of business: 报告, 总结, 简报 and meeting minutes.
_SURVEY_KINDS = frozenset({"baogao_t", "huiyi_t", "baogao", "huiyi", "zongjie", "jianbao"})
_ADDRESSED_KINDS = frozenset(
    {"cheng", "baogao_t", "xunling", "zhiling", "gonghan", "daidian", "baogao", "qingshi",
     "pifu", "tongzhi", "han"}
)  # fmt: skip
_TITLE_WORDS = {"trad": ("關於", "的", "為", "事給"), "simp": ("关于", "的", "为", "事给")}


def _weighted_choice(rng: random.Random, items: Sequence[str], weights: Sequence[float]) -> str:
    return rng.choices(list(items), weights=list(weights), k=1)[0]


def _pick(rng: random.Random, items: Sequence[_Variant], year: int) -> _Variant:
    fitting = [v for v in items if v.fits(year)]
    return rng.choice(fitting or list(items))


@dataclass
class _Draft:
    """A record while it is being built; frozen into a catalog row at the end."""

    fonds: _Fonds
    topic: _Topic
    seq: int
    year: int
    month: int
    day: int
    category: str
    retention: str
    title: str
    matter_cat: str
    creator: str
    docno: str
    date: str
    date_style: str
    subjects: str
    people: str
    note: str
    carrier: str
    language: str
    body: str
    text_script: str
    sensitivity: float
    archive_id: str = ""
    catalog_no: str = ""
    volume_no: str = ""
    item_no: str = ""
    attachment: bool = False
    open_flag: str = "开放"
    classification: str = ""
    disclosure: str = ""
    has_text: bool = False
    pages: str = ""
    text: str = ""


def _person(rng: random.Random, common: _Common) -> _Variant:
    while True:
        surname = rng.choice(common.surnames)
        parts = [rng.choice(common.given) for _ in range(1 if rng.random() < 0.2 else 2)]
        if len(parts) == 2 and parts[0] == parts[1] and rng.random() < 0.8:
            continue  # doubled given names (秀秀) are rare in official papers
        name = _Variant(
            surname.trad + "".join(p.trad for p in parts),
            surname.simp + "".join(p.simp for p in parts),
        )
        if name.trad not in common.reserved_names and name.simp not in common.reserved_names:
            return name


def _head_for(fonds: _Fonds, year: int) -> _Head | None:
    for head in fonds.heads:
        if head.years[0] <= year <= head.years[1]:
            return head
    return None


# Counts are drawn afresh at every use, so one text never repeats the same figure; r* are
# round figures for phrases like 五十餘人; pct* carry their own sign (16% or 百分之十六).
# n_small starts at 3 because 2 reads 两 before a measure word.
_COUNT_RANGES: dict[str, tuple[int, int, int]] = {
    "n": (1, 260, 1),
    "n_small": (3, 9, 1),
    "n1": (12, 95, 1),
    "n2": (100, 480, 1),
    "n3": (120, 980, 1),
    "k1": (1200, 9800, 10),
    "k2": (10000, 48000, 100),
    "r1": (20, 90, 10),
    "r2": (100, 900, 50),
    "r3": (1000, 9000, 500),
    "pct": (3, 45, 1),
    "pct_hi": (85, 99, 1),
    "pct2": (101, 125, 1),
}


class _Slots(dict[str, str]):
    """Slot values for one record in one script: fixed values plus counts drawn per use."""

    def __init__(
        self, fixed: Mapping[str, str], rng: random.Random, script: str, chinese: bool
    ) -> None:
        super().__init__(fixed)
        self.rng = rng
        self.script = script
        self.chinese = chinese

    def __missing__(self, key: str) -> str:
        if key not in _COUNT_RANGES:
            raise KeyError(key)
        low, high, step = _COUNT_RANGES[key]
        value = self.rng.randrange(low, high + 1, step)
        percent = key.startswith("pct")
        if key == "n" or not self.chinese:
            return f"{value}%" if percent else str(value)  # 文号 keep Arabic digits in every era
        return ("百分之" if percent else "") + _cn_number(value, self.script)


def _date_slots(year: int, month: int, day: int, script: str, chinese: bool) -> dict[str, str]:
    if not chinese:
        return {"year": str(year), "yy": f"{year % 100:02d}", "mon": str(month), "day": str(day)}
    return {
        "year": _cn_year_digits(year),
        "yy": f"{year % 100:02d}",
        "mon": _cn_number(month, script),
        "day": _cn_number(day, script),
    }


def _fill(template: str, slots: Mapping[str, str]) -> str:
    return template.format_map(slots)


def _ocr_layout(rng: random.Random, text: str) -> str:
    """Break lines every 20–30 characters, mid-word, as OCR of narrow columns does."""
    lines: list[str] = []
    for line in text.split("\n"):
        while len(line) > 30:
            width = rng.randint(20, 30)
            lines.append(line[:width])
            line = line[width:]
        lines.append(line)
    return "\n".join(lines)


def _paginate(rng: random.Random, text: str) -> str:
    """Separate pages with form feeds at line ends, every 300–600 characters."""
    pages: list[str] = []
    page: list[str] = []
    size, limit = 0, rng.randint(300, 600)
    for line in text.rstrip("\n").split("\n"):
        if size >= limit:
            pages.append("\n".join(page))
            page, size, limit = [], 0, rng.randint(300, 600)
        page.append(line)
        size += len(line) + 1
    pages.append("\n".join(page))
    return "\n\f".join(pages) + "\n"


def _smudge(rng: random.Random, text: str) -> str:
    """Mark a few illegible characters □, only on function words so names stay intact."""
    chars = list(text)
    positions = [i for i, c in enumerate(chars) if c in _OCR_CHARS]
    for i in rng.sample(positions, min(len(positions), rng.randint(1, 3))):
        chars[i] = "□"
    return "".join(chars)


def _compose_body(
    rng: random.Random,
    fonds: _Fonds,
    topic: _Topic,
    kind: _Kind,
    year: int,
    slots: _Slots,
    bystanders: Sequence[str],
) -> str:
    """Head, a sample of the topic's paragraphs in their written order, and tail.

    Reports and minutes that are still short of their drawn length go on with paragraphs of the
    fonds' other topics of that year; those mention ``bystanders`` rather than the record's own
    people, so one clerk does not turn up in every role.
    """
    head = _fill(rng.choice(kind.heads), slots)
    tail = _fill(rng.choice(kind.tails), slots)
    paragraphs = [_fill(p.get(topic.text_script), slots) for p in topic.paragraphs if p.fits(year)]
    # Fonds-level filler is written in the fonds' main script; skip it for the other era.
    generic = []
    if topic.text_script == fonds.text_script:
        generic = [_fill(g, slots) for g in fonds.generic]
    target = int(rng.triangular(TEXT_MIN_CHARS, TEXT_MAX_CHARS, 420))
    budget = TEXT_MAX_CHARS - 80  # room for OCR line breaks added later
    order = list(range(len(paragraphs)))
    rng.shuffle(order)
    chosen: list[int] = []
    length = len(head) + len(tail) + 2
    for i in order:
        if chosen and length >= target:
            break
        if chosen and length + len(paragraphs[i]) + 1 > budget:
            continue
        chosen.append(i)
        length += len(paragraphs[i]) + 1
    body = [paragraphs[i] for i in sorted(chosen)]
    if length < target and kind.key in _SURVEY_KINDS:
        related = [
            p.get(topic.text_script)
            for other in fonds.topics
            if other is not topic and other.text_script == topic.text_script
            and other.years[0] <= year <= other.years[1]
            for p in other.paragraphs
            if p.fits(year)
        ]  # fmt: skip
        rng.shuffle(related)
        for template in related:
            if length >= target:
                break
            cast = dict(zip(("p1", "p2", "p3", "p4"), rng.sample(bystanders, 4), strict=True))
            extra = _fill(template, _Slots(slots | cast, slots.rng, slots.script, slots.chinese))
            if length + len(extra) + 1 <= budget:
                body.append(extra)
                length += len(extra) + 1
    # Boilerplate: one closing sentence now and then, more only to pad a text that is too short.
    rng.shuffle(generic)
    take = 1 if rng.random() < 0.35 else 0
    while generic and (take > 0 or length < TEXT_MIN_CHARS):
        g = generic.pop(0)
        if length + len(g) + 1 > budget:
            break
        body.append(g)
        length += len(g) + 1
        take -= 1
    while True:
        numbered = body
        if kind.numbered:
            numbered = [f"{_cn_number(i + 1, topic.text_script)}、{p}" for i, p in enumerate(body)]
        text = "\n".join([head, *numbered, tail]).strip() + "\n"
        if len(text) <= budget or len(body) <= 1:
            return text
        body = body[:-1]  # item numbers pushed it over the budget


def _title(
    rng: random.Random,
    fonds: _Fonds,
    topic: _Topic,
    kind: _Kind | None,
    creator: str,
    matter: str,
    addressee: str,
    slots: Mapping[str, str],
) -> str:
    script = fonds.catalog_script
    if kind is None:
        return _fill(_pick(rng, topic.titles, int(slots["year"])).get(script), slots)
    about, of, for_, to = _TITLE_WORDS[script]
    kind_name = kind.name.get(script)
    if kind.key in ("huiyi", "huiyi_t") and rng.random() < 0.5:
        return f"{creator}第{slots['n_small']}次{kind_name}"
    roll = rng.random()
    if roll < 0.55:
        return f"{creator}{about}{matter}{of}{kind_name}"
    if roll < 0.80 or not addressee:
        return f"{about}{matter}{of}{kind_name}"
    if script == "trad" and roll < 0.90:
        return f"{matter}案"  # how Republican registries titled a case file
    if kind.key not in _ADDRESSED_KINDS:
        return f"{creator}{about}{matter}{of}{kind_name}"
    return f"{creator}{for_}{matter}{to}{addressee}{of}{kind_name}"


def _draft(rng: random.Random, data: _Data, fonds: _Fonds, seq: int) -> _Draft:
    common = data.common
    topic = rng.choices(fonds.topics, weights=[t.weight for t in fonds.topics], k=1)[0]
    year = rng.randint(*topic.years)
    month = rng.randint(1, 12)
    day = rng.randint(1, 28)
    text_script, cat_script = topic.text_script, fonds.catalog_script
    republican = year < 1949 or (year == 1949 and text_script == "trad")

    people = [_person(rng, common) for _ in range(14)]
    head = _head_for(fonds, year)
    head_name = head.name if head else people[0]
    head_title = head.title if head else _Variant("負責人", "负责人")
    era = "old" if text_script == "trad" else "new"
    places = common.places
    district, district2 = rng.sample(places["district"], 2)
    picks = {
        "p1": people[0], "p2": people[1], "p3": people[2], "p4": people[3],
        "a1": people[4], "a2": people[5], "a3": people[6], "a4": people[7],
        "head": head_name, "head_title": head_title,
        "district": district, "district2": district2,
        "street": rng.choice(places[f"street_{era}"]), "village": rng.choice(places["village"]),
        "company": rng.choice(places[f"company_{era}"]),
        "school": rng.choice(places[f"school_{era}"]), "province": rng.choice(places["province"]),
    }  # fmt: skip
    # Republican papers write every figure in Chinese numerals; PRC papers mix, more so early on.
    chinese = text_script == "trad" or rng.random() < (0.45 if year < 1966 else 0.2)
    text_slots = _Slots(
        {k: v.get(text_script) for k, v in picks.items()}, rng, text_script, chinese
    )
    text_slots |= _date_slots(year, month, day, text_script, chinese)
    cat_slots = _Slots({k: v.get(cat_script) for k, v in picks.items()}, rng, cat_script, False)
    cat_slots |= _date_slots(year, month, day, cat_script, False)

    kind = common.kinds[rng.choice(topic.kinds)] if topic.kinds else None
    creator_v = _pick(rng, topic.creators, year) if topic.creators else None
    if kind and kind.authority and fonds.authority:
        creator_v = fonds.authority
    matter_v = _pick(rng, topic.matters, year) if topic.matters else None
    superior = lower = peer = ""
    if kind:
        superior = rng.choice(topic.superiors)
        lower = rng.choice(topic.lowers)
        peer = rng.choice(topic.peers)
    text_slots |= {
        "creator": creator_v.get(text_script) if creator_v else "",
        "superior": superior, "lower": lower, "peer": peer,
        "date": _text_date(year, month, day, text_script, chinese or year < 1980),
        "rhyme": _RHYME_DAYS[day - 1],
    }  # fmt: skip
    text_slots["matter"] = _fill(matter_v.get(text_script), text_slots) if matter_v else ""
    matter_cat = _fill(matter_v.get(cat_script), cat_slots) if matter_v else ""
    creator_cat = creator_v.get(cat_script) if creator_v else ""

    bystanders = [p.get(text_script) for p in people[8:]]
    body = _compose_body(rng, fonds, topic, kind, year, text_slots, bystanders) if kind else ""
    if kind and kind.key in ("cheng", "baogao", "baogao_t", "qingshi"):
        addressee = superior
    elif kind and kind.key in ("gonghan", "han", "daidian"):
        addressee = peer
    else:
        addressee = lower
    if text_script != cat_script:
        addressee = ""  # addressees are only written in the text's script
    title = _title(rng, fonds, topic, kind, creator_cat, matter_cat, addressee, cat_slots)

    if creator_v and not (kind and kind.authority) and rng.random() < 0.05:
        others = [c for c in topic.creators if c.fits(year) and c != creator_v]
        if others:
            creator_cat += ";" + rng.choice(others).get(cat_script)

    docno = ""
    has_docno = kind is not None and kind.key not in ("huiyi", "huiyi_t", "jianbao")
    if has_docno and fonds.docno and rng.random() < (0.7 if republican else 0.85):
        docno = _fill(_pick(rng, fonds.docno, year).get(cat_script), cat_slots)

    date, date_style = _catalog_date(rng, year, month, day, republican, fonds.years)

    subjects = list(topic.subjects)
    rng.shuffle(subjects)
    subject_text = ";".join(subjects[: rng.randint(2, min(4, len(subjects)))]) if subjects else ""
    if rng.random() < 0.1:
        subject_text = ""

    named = [
        person.get(cat_script)
        for person in [head_name, *people]
        if person.get(text_script) in body or person.get(cat_script) in title
    ]
    named += [
        famous.get(cat_script)
        for famous in common.famous_people
        if famous.get(text_script) in body or famous.get(cat_script) in title
    ]

    note = _fill(rng.choice(common.notes), cat_slots) if rng.random() < 0.14 else ""
    if republican and rng.random() < 0.1:
        note = ";".join(filter(None, [note, "原件为繁体竖排"]))

    carrier = topic.carrier
    if republican and carrier == "纸质" and rng.random() < 0.15:
        carrier = "纸质;缩微胶片"

    return _Draft(
        fonds=fonds, topic=topic, seq=seq, year=year, month=month, day=day,
        category=topic.category, retention=_retention(rng, fonds, topic, republican),
        title=title, matter_cat=matter_cat, creator=creator_cat, docno=docno, date=date,
        date_style=date_style, subjects=subject_text, people=";".join(dict.fromkeys(named)),
        note=note, carrier=carrier, language=topic.language, body=body, text_script=text_script,
        sensitivity=topic.sensitivity,
    )  # fmt: skip


def _retention(rng: random.Random, fonds: _Fonds, topic: _Topic, republican: bool) -> str:
    if topic.category in ("声像", "实物"):
        return "永久"
    if fonds.numbering == "volume" or republican:
        return _weighted_choice(rng, ["永久", "长期", "短期"], [55, 30, 15])
    return _weighted_choice(
        rng, ["永久", "长期", "短期", "定期30年", "定期10年"], [45, 15, 8, 20, 12]
    )


# --------------------------------------------------------------------------------------------
# Numbering, access status and the full-text sample
# --------------------------------------------------------------------------------------------


def _allocate(n: int, fonds: Sequence[_Fonds]) -> list[int]:
    """Split n records between fonds by share (largest remainder), each fonds at least one."""
    total = sum(f.share for f in fonds)
    exact = [n * f.share / total for f in fonds]
    counts = [int(x) for x in exact]
    by_remainder = sorted(range(len(fonds)), key=lambda i: (counts[i] - exact[i], i))
    for i in by_remainder[: n - sum(counts)]:
        counts[i] += 1
    if n >= len(fonds):
        for i in range(len(fonds)):
            while counts[i] == 0:
                donor = max(range(len(fonds)), key=lambda j: (counts[j], -j))
                counts[donor] -= 1
                counts[i] += 1
    return counts


def _date_key(d: _Draft) -> tuple[int, int, int, int]:
    return (d.year, d.month, d.day, d.seq)


def _number_file_level(drafts: list[_Draft]) -> list[_Draft]:
    groups: dict[tuple[str, int, str], list[_Draft]] = {}
    for d in sorted(drafts, key=_date_key):
        groups.setdefault((d.category, d.year, d.retention), []).append(d)
    for (category, year, retention), members in groups.items():
        for i, d in enumerate(members, start=1):
            d.item_no = f"{i:04d}"
            d.archive_id = (
                f"{d.fonds.id}-{_CATEGORY_CODES[category]}·{year}-"
                f"{_RETENTION_CODES[retention]}-{d.item_no}"
            )
    category_order = list(_CATEGORY_CODES)
    return sorted(
        drafts,
        key=lambda d: (category_order.index(d.category), d.year,
                       list(_RETENTION_CODES).index(d.retention), d.item_no),
    )  # fmt: skip


def _number_volume_level(rng: random.Random, drafts: list[_Draft]) -> list[_Draft]:
    catalogs: dict[int, list[_Draft]] = {}
    for d in sorted(drafts, key=_date_key):
        retention = d.retention if d.category == "文书" else ""
        catalogs.setdefault(_VOLUME_CATALOGS[(d.category, retention)], []).append(d)
    ordered: list[_Draft] = []
    for catalog_no in sorted(catalogs):
        volume, item, capacity, volume_year = 0, 0, 0, None
        previous: _Draft | None = None
        for d in catalogs[catalog_no]:
            if item >= capacity or d.year != volume_year:
                volume, item = volume + 1, 0
                capacity, volume_year = rng.randint(2, 7), d.year
                previous = None
            if (
                previous is not None
                and previous.matter_cat
                and not previous.attachment
                and d.category == "文书"
                and rng.random() < 0.08
            ):
                # Legacy catalogs number an enclosure under its covering letter: 003/1.
                d.attachment = True
                d.item_no = f"{previous.item_no}/1"
                d.title = "附：" + previous.matter_cat + rng.choice(["清册", "统计表", "名单"])
                d.year, d.month, d.day = previous.year, previous.month, previous.day
                d.date, d.date_style = previous.date, previous.date_style
                d.creator, d.docno = previous.creator, ""
                d.note = f"系第{int(previous.item_no)}件附件"
                d.body, d.people = "", ""
            else:
                item += 1
                d.item_no = f"{item:03d}"
            d.catalog_no, d.volume_no = f"{catalog_no:03d}", f"{volume:03d}"
            d.archive_id = f"{d.fonds.id}-{d.catalog_no}-{d.volume_no}-{d.item_no}"
            previous = d
            ordered.append(d)
    return ordered


def _weighted_sample(
    rng: random.Random, drafts: Sequence[_Draft], weights: Sequence[float], k: int
) -> set[int]:
    """Indices of k drafts drawn without replacement, by weight (Efraimidis–Spirakis keys)."""
    keys = [(rng.random() ** (1.0 / w), i) for i, w in enumerate(weights)]
    keys.sort(reverse=True)
    return {i for _, i in keys[:k]}


def _assign_access(rng: random.Random, drafts: Sequence[_Draft]) -> None:
    k = round(NON_OPEN_SHARE * len(drafts))
    # Recent and sensitive files are the ones reviewers hold back; photos and objects rarely.
    weights = [
        d.sensitivity
        * (1.6 if d.year >= 1977 else 1.0)
        * (0.4 if d.category in ("声像", "实物") else 1.0)
        for d in drafts
    ]
    closed = _weighted_sample(rng, drafts, weights, k)
    for i, d in enumerate(drafts):
        prc = not (d.year < 1949 or d.text_script == "trad")
        if i in closed:
            d.open_flag = _weighted_choice(
                rng, ["控制", "延期开放", "未审核"], [40, 30, 45 if d.year >= 1985 else 25]
            )
            d.classification = _weighted_choice(rng, ["", "内部", "秘密", "机密"], [40, 32, 21, 7])
            if prc and (d.year >= 1978 or rng.random() < 0.3):
                d.disclosure = _weighted_choice(rng, ["不予公开", "依申请公开"], [60, 40])
        else:
            d.classification = _weighted_choice(rng, ["", "公开", "内部"], [55, 30, 15])
            if prc and (d.year >= 1978 or rng.random() < 0.3):
                d.disclosure = _weighted_choice(rng, ["主动公开", "依申请公开"], [55, 45])


def _assign_text(rng: random.Random, drafts: Sequence[_Draft]) -> None:
    eligible = [i for i, d in enumerate(drafts) if d.body and not d.attachment]
    k = min(len(eligible), round(TEXT_SHARE * len(drafts)))
    chosen = set(rng.sample(eligible, k))
    for i, d in enumerate(drafts):
        d.has_text = i in chosen
        if not d.has_text:
            continue
        text = d.body
        scanned = rng.random() < (0.5 if d.text_script == "trad" else 0.25)
        if scanned:
            if d.text_script == "trad" and rng.random() < 0.4:
                text = _smudge(rng, text)
            text = _ocr_layout(rng, text)
            if len(text) > 500:
                text = _paginate(rng, text)
            if len(text) > TEXT_MAX_CHARS:
                text = d.body  # the budget in _compose_body leaves room for this; belt and braces
        d.text = text


def _assign_pages(rng: random.Random, drafts: Sequence[_Draft]) -> None:
    for d in drafts:
        if d.category == "实物":
            pages = 1
        elif d.category == "声像":
            pages = rng.randint(1, 24)
        elif d.body:
            pages = max(1, round(len(d.body) / 320), d.text.count("\f") + 1) + rng.randint(0, 2)
        else:
            pages = rng.randint(1, 36)
        d.pages = "" if rng.random() < 0.03 else str(pages)


def _row(d: _Draft) -> list[str]:
    year = str(d.year)
    if d.fonds.numbering == "volume" and d.date_style == "unknown" and d.seq % 3 == 0:
        year = ""  # some volume-era entries were never dated by the cataloger
    return [
        d.archive_id, d.fonds.id, d.fonds.name, d.catalog_no, d.volume_no, d.item_no,
        d.category, year, d.title, d.creator, d.docno, d.date, d.pages, d.classification,
        d.retention, d.open_flag, d.disclosure, d.subjects, d.people, d.note, d.carrier,
        d.language,
    ]  # fmt: skip


# --------------------------------------------------------------------------------------------
# Public entry point
# --------------------------------------------------------------------------------------------


def generate_sample_archive(out_dir: Path, n_records: int = 400, seed: int = 7) -> SampleArchive:
    """Write a realistic sample archive (catalog.csv + text/) under ``out_dir``.

    The same ``n_records`` and ``seed`` always produce byte-identical files. ``out_dir`` is
    created if needed; stale ``*.txt`` files in ``out_dir/text`` are removed.

    Raises:
        ConfigError: ``n_records`` is not an integer in 1..MAX_RECORDS, ``seed`` is not an
            integer, or the bundled vocabulary files are broken.
    """
    if isinstance(n_records, bool) or not isinstance(n_records, int):
        raise ConfigError(f"n_records must be an integer, got {n_records!r}")
    if not 1 <= n_records <= MAX_RECORDS:
        raise ConfigError(f"n_records must be between 1 and {MAX_RECORDS}, got {n_records}")
    if isinstance(seed, bool) or not isinstance(seed, int):
        raise ConfigError(f"seed must be an integer, got {seed!r}")

    data = _load_data()
    rng = random.Random(seed)
    drafts: list[_Draft] = []
    seq = 0
    for fonds, count in zip(data.fonds, _allocate(n_records, data.fonds), strict=True):
        own = []
        for _ in range(count):
            own.append(_draft(rng, data, fonds, seq))
            seq += 1
        if fonds.numbering == "file":
            drafts.extend(_number_file_level(own))
        else:
            drafts.extend(_number_volume_level(rng, own))

    _assign_access(rng, drafts)
    _assign_text(rng, drafts)
    _assign_pages(rng, drafts)

    out_dir = Path(out_dir)
    text_dir = out_dir / "text"
    text_dir.mkdir(parents=True, exist_ok=True)
    catalog_csv = out_dir / "catalog.csv"
    with catalog_csv.open("w", encoding="utf-8-sig", newline="") as fh:
        writer = csv.writer(fh, lineterminator="\r\n")
        writer.writerow(CATALOG_HEADERS)
        writer.writerows(_row(d) for d in drafts)

    wanted = {text_filename(d.archive_id): d.text for d in drafts if d.has_text}
    for stale in sorted(text_dir.glob("*.txt")):
        if stale.name not in wanted:
            stale.unlink()
    for name, text in wanted.items():
        with (text_dir / name).open("w", encoding="utf-8", newline="\n") as fh:
            fh.write(text)

    # the topic each record was generated from: ground truth for judging theme builds
    with (out_dir / "topics.csv").open("w", encoding="utf-8", newline="") as fh:
        writer = csv.writer(fh, lineterminator="\n")
        writer.writerow(("档号", "topic"))
        writer.writerows((d.archive_id, f"{d.fonds.id}:{d.topic.key}") for d in drafts)

    return SampleArchive(
        catalog_csv=catalog_csv,
        text_dir=text_dir,
        n_records=len(drafts),
        text_ids=tuple(d.archive_id for d in drafts if d.has_text),
    )


def main(argv: Iterable[str] | None = None) -> int:
    """Command line: ``python -m lantai.demo.generate OUT_DIR [--records N] [--seed S]``."""
    parser = argparse.ArgumentParser(
        prog="python -m lantai.demo.generate", description="Write the Lantai sample archive."
    )
    parser.add_argument("out_dir", type=Path, help="folder to write catalog.csv and text/ into")
    parser.add_argument("--records", type=int, default=400, help="number of catalog rows")
    parser.add_argument("--seed", type=int, default=7, help="random seed (same seed, same bytes)")
    args = parser.parse_args(None if argv is None else list(argv))
    try:
        archive = generate_sample_archive(args.out_dir, args.records, args.seed)
    except ConfigError as exc:
        parser.error(str(exc))
    print(
        f"wrote {archive.n_records} records to {archive.catalog_csv} "
        f"and {len(archive.text_ids)} texts to {archive.text_dir}"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
