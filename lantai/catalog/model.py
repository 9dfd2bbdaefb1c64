"""The catalog model: one archival file (件) described per DA/T 18—2022.

Field names are English identifiers; :data:`FIELD_LABELS` gives the Chinese label each one has in
DA/T 18 and in the catalogs archives export. ``Record`` is a frozen value: the importer builds it,
backends store and return it, the web layer renders it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace
from enum import StrEnum
from typing import Any

from lantai.errors import LantaiError


class OpenStatus(StrEnum):
    """开放标识. Only ``OPEN`` records are ever visible to the public."""

    OPEN = "开放"
    CONTROLLED = "控制"
    DEFERRED = "延期开放"
    UNREVIEWED = "未审核"

    @classmethod
    def parse(cls, text: str | None) -> OpenStatus:
        """Read the values archives write; blank means not yet reviewed (never public)."""
        value = (text or "").strip()
        if not value:
            return cls.UNREVIEWED
        key = _OPEN_ALIASES.get(value.lower()) or _OPEN_ALIASES.get(value)
        if key is None:
            raise ValueError(
                f"unknown 开放标识 {value!r} (expected 开放, 控制, 延期开放 or 未审核)"
            )
        return key


_OPEN_ALIASES: dict[str, OpenStatus] = {
    "开放": OpenStatus.OPEN, "開放": OpenStatus.OPEN, "open": OpenStatus.OPEN,
    "已开放": OpenStatus.OPEN, "是": OpenStatus.OPEN,
    "控制": OpenStatus.CONTROLLED, "控制使用": OpenStatus.CONTROLLED,
    "不开放": OpenStatus.CONTROLLED, "controlled": OpenStatus.CONTROLLED,
    "closed": OpenStatus.CONTROLLED, "否": OpenStatus.CONTROLLED,
    "延期开放": OpenStatus.DEFERRED, "延期開放": OpenStatus.DEFERRED,
    "deferred": OpenStatus.DEFERRED, "延期": OpenStatus.DEFERRED,
    "未审核": OpenStatus.UNREVIEWED, "未審核": OpenStatus.UNREVIEWED,
    "待审核": OpenStatus.UNREVIEWED, "unreviewed": OpenStatus.UNREVIEWED,
}


class ArchivalCodeError(LantaiError):
    """An 档号 that does not follow DA/T 13—2022."""


@dataclass(frozen=True)
class ArchivalCode:
    """A parsed 档号 (DA/T 13—2022).

    Two shapes occur: volume-based ``全宗号-目录号-案卷号-件号`` (``C038-001-002-003``) and
    file-based ``全宗号-门类代码·年度-保管期限代码-件号`` (``Z109-WS·2011·Y-0001`` or
    ``Z109-WS·2011-Y-0001``; some systems insert a 机构问题代码 before the item number).
    """

    text: str
    fonds: str
    catalog: str | None = None
    volume: str | None = None
    item: str | None = None
    category_code: str | None = None
    year: int | None = None
    retention_code: str | None = None
    extra: tuple[str, ...] = ()


_FONDS_RE = re.compile(r"^[A-Za-z]?\d{1,6}[A-Za-z]?$|^[A-Za-z]{1,3}\d{0,6}$")
_SEP_RE = re.compile(r"[·•‧・.]")


def parse_archival_code(text: str) -> ArchivalCode:
    """Parse an 档号; raise :class:`ArchivalCodeError` saying what is wrong."""
    code = (text or "").strip()
    if not code:
        raise ArchivalCodeError("档号 is empty")
    if any(ch.isspace() for ch in code):
        raise ArchivalCodeError(f"档号 {code!r} contains whitespace")
    parts = code.split("-")
    if len(parts) < 2 or any(not p for p in parts):
        raise ArchivalCodeError(
            f"档号 {code!r} must have parts separated by '-' (e.g. C038-001-002-003)"
        )
    fonds = parts[0]
    if not _FONDS_RE.match(fonds):
        raise ArchivalCodeError(f"档号 {code!r}: 全宗号 {fonds!r} is not a fonds code")
    second = _SEP_RE.split(parts[1])
    if len(second) >= 2 and re.fullmatch(r"[A-Za-z]{1,4}", second[0]):
        # file-based: category·year[·retention]
        year = _year(second[1], code)
        retention = second[2] if len(second) > 2 else None
        rest = parts[2:]
        if retention is None:
            if not rest:
                raise ArchivalCodeError(f"档号 {code!r}: missing 保管期限代码 and 件号")
            retention, rest = rest[0], rest[1:]
        if not rest:
            raise ArchivalCodeError(f"档号 {code!r}: missing 件号")
        return ArchivalCode(
            text=code, fonds=fonds, category_code=second[0].upper(), year=year,
            retention_code=retention, item=rest[-1], extra=tuple(rest[:-1]),
        )
    if not all(re.fullmatch(r"[0-9A-Za-z]+", p) for p in parts[1:]):
        raise ArchivalCodeError(f"档号 {code!r}: unexpected characters")
    catalog = parts[1]
    volume = parts[2] if len(parts) > 2 else None
    item = parts[3] if len(parts) > 3 else None
    return ArchivalCode(
        text=code, fonds=fonds, catalog=catalog, volume=volume, item=item,
        extra=tuple(parts[4:]),
    )


def _year(text: str, code: str) -> int:
    if not re.fullmatch(r"\d{4}", text):
        raise ArchivalCodeError(f"档号 {code!r}: 年度 {text!r} is not a four-digit year")
    return int(text)


@dataclass(frozen=True)
class Record:
    """One archival file with its catalog description and (optionally) its text."""

    archival_code: str
    title: str
    archive: str = ""  # holding archive (馆); empty: the configured archive
    fonds: str = ""
    fonds_name: str = ""
    catalog_no: str = ""
    volume_no: str = ""
    item_no: str = ""
    category: str = ""
    year: int | None = None
    creator: str = ""
    doc_number: str = ""
    date_text: str = ""
    date_start: int | None = None  # yyyymmdd
    date_end: int | None = None  # yyyymmdd
    page_count: int | None = None
    classification: str = ""
    retention: str = ""
    open_status: OpenStatus = OpenStatus.UNREVIEWED
    disclosure: str = ""
    subjects: tuple[str, ...] = ()
    persons: tuple[str, ...] = ()
    notes: str = ""
    carrier: str = ""
    language: str = ""
    pages: tuple[str, ...] = ()  # full text, one string per page (OCR or born-digital)
    images: tuple[str, ...] = ()  # page image references, parallel to pages when both exist
    extra: tuple[tuple[str, str], ...] = field(default=())  # unmapped catalog columns
    #: Open-review fields (basis, reviewer, date, note …) written with status changes.
    review: tuple[tuple[str, str], ...] = field(default=())

    @property
    def text(self) -> str:
        """The full text, pages separated by a blank line."""
        return "\n\n".join(self.pages)

    @property
    def is_public(self) -> bool:
        return self.open_status is OpenStatus.OPEN

    @property
    def date_span(self) -> tuple[int | None, int | None]:
        """yyyymmdd bounds used by date filters; a record with only a 年度 spans that year.
        Every backend filters on these, so they select the same records."""
        d0, d1 = self.date_start, self.date_end
        if d0 is None and self.year is not None:
            d0, d1 = self.year * 10000 + 101, self.year * 10000 + 1231
        return d0, d1 if d1 is not None else d0

    @property
    def date_normalized(self) -> str:
        """The normalised date as people read it: ``1939-05-12``, ``1939-04`` (a whole month),
        ``1939`` (a whole year), or a range ``1937-07-07–1945-08-15``; empty when unknown."""
        if self.date_start is None:
            return ""
        return _readable_range(self.date_start, self.date_end or self.date_start)

    @property
    def date_normalized_note(self) -> str:
        """:attr:`date_normalized` when it tells a reader more than 日期 as written (not for
        ``1944—1948`` or ``[1937]``, which read the same); else empty."""
        same = self.date_text.strip().strip("[]［］").replace("—", "–").replace("～", "–")
        return "" if self.date_normalized == same else self.date_normalized

    @property
    def decade(self) -> int | None:
        """Decade for the 年代 facet, from the normalised date, else 年度."""
        year = self.date_start // 10000 if self.date_start else self.year
        return None if year is None else year // 10 * 10

    def page_offsets(self) -> list[int]:
        """Start offset of each page inside :attr:`text`."""
        offsets, pos = [], 0
        for page in self.pages:
            offsets.append(pos)
            pos += len(page) + 2
        return offsets

    def page_of(self, offset: int) -> int | None:
        """1-based page number holding character ``offset`` of :attr:`text`."""
        if not self.pages:
            return None
        page = 1
        for i, start in enumerate(self.page_offsets()):
            if start <= offset:
                page = i + 1
        return page

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dict (the API and the embedded store use this)."""
        return {
            "archival_code": self.archival_code, "title": self.title, "archive": self.archive,
            "fonds": self.fonds,
            "fonds_name": self.fonds_name, "catalog_no": self.catalog_no,
            "volume_no": self.volume_no, "item_no": self.item_no, "category": self.category,
            "year": self.year, "creator": self.creator, "doc_number": self.doc_number,
            "date_text": self.date_text, "date_start": self.date_start,
            "date_end": self.date_end, "page_count": self.page_count,
            "classification": self.classification, "retention": self.retention,
            "open_status": self.open_status.value, "disclosure": self.disclosure,
            "subjects": list(self.subjects), "persons": list(self.persons),
            "notes": self.notes, "carrier": self.carrier, "language": self.language,
            "pages": list(self.pages), "images": list(self.images),
            "extra": {k: v for k, v in self.extra},
            "review": {k: v for k, v in self.review},
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Record:
        """Inverse of :meth:`to_dict`."""
        values = dict(data)
        values["open_status"] = OpenStatus(values.get("open_status") or OpenStatus.UNREVIEWED)
        for key in ("subjects", "persons", "pages", "images"):
            values[key] = tuple(values.get(key) or ())
        values["extra"] = tuple(sorted((values.get("extra") or {}).items()))
        values["review"] = tuple(sorted((values.get("review") or {}).items()))
        values.setdefault("archive", "")
        return cls(**values)

    def with_pages(self, pages: tuple[str, ...], images: tuple[str, ...] = ()) -> Record:
        return replace(self, pages=pages, images=images or self.images)


_UNSAFE_IN_FILENAMES = re.compile(r'[/\\:*?"<>|\s]')


def _readable_range(start: int, end: int) -> str:
    import calendar

    (y0, m0, d0), (y1, m1, d1) = _ymd(start), _ymd(end)
    whole_months = d0 == 1 and d1 == calendar.monthrange(y1, m1)[1]
    whole_years = whole_months and m0 == 1 and m1 == 12
    if whole_years:
        return f"{y0}" if y0 == y1 else f"{y0}–{y1}"
    if whole_months:
        return f"{y0}-{m0:02d}" if (y0, m0) == (y1, m1) else f"{y0}-{m0:02d}–{y1}-{m1:02d}"
    first = f"{y0}-{m0:02d}-{d0:02d}"
    return first if start == end else f"{first}–{y1}-{m1:02d}-{d1:02d}"


def _ymd(value: int) -> tuple[int, int, int]:
    """yyyymmdd → (year, month, day)."""
    return value // 10000, value // 100 % 100, value % 100


def safe_filename(archival_code: str) -> str:
    """File (or folder) name of a record's text or OCR output: characters unsafe in file
    names (``/ \\ : * ? " < > |`` and whitespace) become ``_``; ``·`` is kept."""
    return _UNSAFE_IN_FILENAMES.sub("_", archival_code)


#: DA/T 18 label of each field, as shown in the UI and accepted as a column header.
FIELD_LABELS: dict[str, str] = {
    "archival_code": "档号", "archive": "档案馆", "fonds": "全宗号", "fonds_name": "全宗名称",
    "catalog_no": "目录号", "volume_no": "案卷号", "item_no": "件号", "category": "门类",
    "year": "年度", "title": "题名", "creator": "责任者", "doc_number": "文号",
    "date_text": "日期", "page_count": "页数", "classification": "密级",
    "retention": "保管期限", "open_status": "开放标识", "disclosure": "公开属性",
    "subjects": "主题词", "persons": "人名", "notes": "附注", "carrier": "载体形态",
    "language": "语种", "pages": "全文", "images": "图像",
}

#: The same fields in English, for the English pages.
FIELD_LABELS_EN: dict[str, str] = {
    "archival_code": "Reference code", "archive": "Archive", "fonds": "Fonds no.",
    "fonds_name": "Fonds", "catalog_no": "Series no.", "volume_no": "File no.",
    "item_no": "Item no.", "category": "Category", "year": "Year", "title": "Title",
    "creator": "Creator", "doc_number": "Document no.", "date_text": "Date",
    "page_count": "Pages", "classification": "Security classification",
    "retention": "Retention period", "open_status": "Access status",
    "disclosure": "Disclosure", "subjects": "Subjects", "persons": "Persons",
    "notes": "Notes", "carrier": "Carrier", "language": "Language", "pages": "Full text",
    "images": "Images",
}
