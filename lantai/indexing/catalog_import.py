"""Catalog import: CSV (UTF-8, UTF-8 with BOM, GB18030), XLSX and JSONL → :class:`Record`.

Headers may be the Chinese labels archives write (档号, 题名, 责任者 …, traditional forms and
common synonyms included) or Lantai's English field names; a mapping file adds local headers.
Rows are validated one by one: every problem becomes an :class:`ImportIssue` naming file, row,
column and reason. Errors reject the row; warnings keep it (an unparseable date stays searchable
as text). Columns Lantai does not know are kept on the record (``extra``), never dropped.

Reading is streaming (:func:`read_catalog` is a generator), so a catalog of millions of rows
never sits in memory; writing is left to the backend's atomic batches.
"""

from __future__ import annotations

import csv
import io
import json
import re
import tomllib
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from lantai.catalog.model import (
    ArchivalCodeError,
    OpenStatus,
    Record,
    parse_archival_code,
    safe_filename,
)
from lantai.errors import ImportFailed
from lantai.files import natural_key
from lantai.text.dates import parse_date

#: Header (Chinese label, variant or English name) → Record field.
HEADER_ALIASES: dict[str, str] = {}
_ALIASES_BY_FIELD: dict[str, tuple[str, ...]] = {
    "archival_code": ("档号", "檔號", "档案号", "archival_code", "reference_code", "code"),
    "fonds": ("全宗号", "全宗號", "全宗", "fonds", "fonds_code"),
    "archive": ("档案馆代码", "檔案館代碼", "馆代码", "館代碼", "档案馆", "檔案館", "archive"),
    "fonds_name": ("全宗名称", "全宗名稱", "立档单位", "立檔單位", "fonds_name"),
    "catalog_no": ("目录号", "目錄號", "catalog_no"),
    "volume_no": ("案卷号", "案卷號", "卷号", "volume_no"),
    "item_no": ("件号", "件號", "顺序号", "item_no"),
    "category": ("门类", "門類", "类别号", "類別號", "类别", "門類代碼", "门类代码", "category"),
    "year": ("年度", "归档年度", "歸檔年度", "year"),
    "title": ("题名", "題名", "标题", "標題", "文件题名", "title"),
    "creator": ("责任者", "責任者", "责任人", "发文单位", "發文單位", "作者", "creator"),
    "doc_number": ("文号", "文號", "发文字号", "發文字號", "文件编号", "doc_number"),
    "date_text": ("日期", "形成日期", "成文日期", "文件日期", "形成时间", "date", "date_text"),
    "page_count": ("页数", "頁數", "page_count", "pages_count"),
    "classification": ("密级", "密級", "classification"),
    "retention": ("保管期限", "retention"),
    "open_status": ("开放标识", "開放標識", "开放状态", "開放狀態", "开放情况", "划控",
                    "open_status"),
    "disclosure": ("公开属性", "公開屬性", "disclosure"),
    "subjects": ("主题词", "主題詞", "关键词", "關鍵詞", "subjects"),
    "persons": ("人名", "persons"),
    "notes": ("附注", "附註", "备注", "備註", "notes"),
    "carrier": ("载体形态", "載體形態", "载体类型", "carrier"),
    "language": ("语种", "語種", "文种", "language"),
    "text": ("全文", "正文", "文本", "text", "full_text"),
    "images": ("图像", "圖像", "图像文件", "影像", "images"),
}
for _field, _names in _ALIASES_BY_FIELD.items():
    for _name in _names:
        HEADER_ALIASES[_name.lower()] = _field

_LIST_SPLIT = re.compile(r"[;；,，、\s]+")


@dataclass(frozen=True)
class ImportIssue:
    """One problem found in a catalog row."""

    file: str
    row: int  # 1-based line/row number as a spreadsheet shows it (header = 1)
    column: str
    reason: str
    severity: str = "error"  # "error" rejects the row; "warning" keeps it

    def __str__(self) -> str:
        where = f"{self.file}, row {self.row}" + (f", column {self.column}" if self.column else "")
        return f"{where}: {self.reason}"


@dataclass
class ImportReport:
    """Counts and issues of one import; written next to the index as JSON."""

    file: str
    rows: int = 0
    imported: int = 0
    issues: list[ImportIssue] = field(default_factory=list)

    @property
    def errors(self) -> list[ImportIssue]:
        return [i for i in self.issues if i.severity == "error"]

    @property
    def warnings(self) -> list[ImportIssue]:
        return [i for i in self.issues if i.severity == "warning"]

    def to_dict(self) -> dict[str, Any]:
        return {"file": self.file, "rows": self.rows, "imported": self.imported,
                "rejected": len({i.row for i in self.errors}),
                "issues": [vars(i) for i in self.issues]}


def load_mapping(path: Path) -> dict[str, str]:
    """A mapping file: TOML ``[columns]`` table or two-column CSV (local header, field)."""
    if not path.is_file():
        raise ImportFailed(f"mapping file not found: {path}")
    valid = set(_ALIASES_BY_FIELD)
    try:
        if path.suffix.lower() == ".toml":
            table = tomllib.loads(path.read_text(encoding="utf-8"))
            pairs = dict(table.get("columns", table))
        else:
            text = decode_bytes(path.read_bytes(), str(path))
            pairs = {row[0].strip(): row[1].strip() for row in csv.reader(io.StringIO(text))
                     if len(row) >= 2 and row[0].strip()}
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise ImportFailed(f"{path}: cannot read mapping file: {exc}") from None
    mapping: dict[str, str] = {}
    for header, target in pairs.items():
        target_field = HEADER_ALIASES.get(str(target).lower(), str(target))
        if target_field not in valid:
            raise ImportFailed(f"{path}: column {header!r} maps to unknown field {target!r}; "
                               f"known fields: {', '.join(sorted(valid))}")
        mapping[str(header).strip().lower()] = target_field
    return mapping


def decode_bytes(data: bytes, name: str) -> str:
    """Decode text as UTF-8 (with or without BOM) or GB18030, else fail naming the file."""
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            return data.decode(encoding)
        except UnicodeDecodeError:
            continue
    try:
        from charset_normalizer import from_bytes

        best = from_bytes(data).best()
        if best is not None:
            return str(best)
    except ImportError:  # pragma: no cover
        pass
    raise ImportFailed(f"{name}: cannot detect the text encoding (tried UTF-8 and GB18030)")


def _rows_csv(path: Path) -> Iterator[tuple[int, list[str]]]:
    text = decode_bytes(path.read_bytes(), str(path))
    dialect: type[csv.Dialect] | csv.Dialect = csv.excel
    sample = text[:8192]
    if sample.count("\t") > sample.count(","):
        dialect = csv.excel_tab
    reader = csv.reader(io.StringIO(text, newline=""), dialect)
    try:
        for row in reader:
            yield reader.line_num, row
    except csv.Error as exc:
        raise ImportFailed(f"{path}, line {reader.line_num}: malformed CSV: {exc}") from None


def _rows_xlsx(path: Path) -> Iterator[tuple[int, list[str]]]:
    import zipfile

    from openpyxl import load_workbook

    try:
        book = load_workbook(path, read_only=True, data_only=True)
    except (zipfile.BadZipFile, OSError, KeyError, ValueError) as exc:
        raise ImportFailed(f"{path}: not a readable XLSX workbook: {exc}") from None
    try:
        sheet = book.worksheets[0]
        for number, values in enumerate(sheet.iter_rows(values_only=True), start=1):
            yield number, ["" if v is None else _cell(v) for v in values]
    finally:
        book.close()


def _cell(value: Any) -> str:
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if hasattr(value, "strftime"):
        return value.strftime("%Y-%m-%d")
    return str(value)


def read_catalog(
    path: Path,
    *,
    mapping: Mapping[str, str] | None = None,
    text_dir: Path | None = None,
    report: ImportReport | None = None,
) -> Iterator[Record]:
    """Yield valid records of a catalog file; problems go into ``report``."""
    path = Path(path)
    if not path.is_file():
        raise ImportFailed(f"catalog file not found: {path}")
    report = report if report is not None else ImportReport(str(path))
    suffix = path.suffix.lower()
    if suffix in (".jsonl", ".ndjson"):
        yield from _read_jsonl(path, mapping or {}, text_dir, report)
        return
    if suffix in (".csv", ".tsv", ".txt"):
        rows = _rows_csv(path)
    elif suffix in (".xlsx", ".xlsm"):
        rows = _rows_xlsx(path)
    else:
        raise ImportFailed(f"{path}: unsupported catalog format {suffix!r} "
                           "(use .csv, .xlsx or .jsonl)")
    header: list[str] | None = None
    fields: list[str | None] = []
    seen: dict[str, int] = {}
    for number, row in rows:
        if header is None:
            if not any(c.strip() for c in row):
                continue
            header = [c.strip() for c in row]
            fields = _map_header(header, mapping or {}, path)
            continue
        if not any(c.strip() for c in row):
            continue
        report.rows += 1
        if len(row) > len(header) and any(c.strip() for c in row[len(header):]):
            report.issues.append(ImportIssue(str(path), number, "",
                                             f"{len(row)} cells but the header has "
                                             f"{len(header)} columns"))
            continue
        values = {h: (row[i].strip() if i < len(row) else "") for i, h in enumerate(header)}
        record = _build(values, dict(zip(header, fields, strict=True)), str(path), number,
                        text_dir, report, seen)
        if record is not None:
            report.imported += 1
            yield record
    if header is None:
        raise ImportFailed(f"{path}: the catalog is empty (no header row)")


def _read_jsonl(path: Path, mapping: Mapping[str, str], text_dir: Path | None,
                report: ImportReport) -> Iterator[Record]:
    text = decode_bytes(path.read_bytes(), str(path))
    seen: dict[str, int] = {}
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        report.rows += 1
        try:
            obj = json.loads(line)
        except json.JSONDecodeError as exc:
            report.issues.append(ImportIssue(str(path), number, "", f"invalid JSON: {exc.msg}"))
            continue
        if not isinstance(obj, dict):
            report.issues.append(ImportIssue(str(path), number, "", "line is not a JSON object"))
            continue
        values = {str(k): _json_value(v) for k, v in obj.items()}
        fields = dict(zip(values, _map_header(list(values), mapping, path, strict=False),
                          strict=True))
        record = _build(values, fields, str(path), number, text_dir, report, seen)
        if record is not None:
            report.imported += 1
            yield record


def _json_value(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, list):
        return ";".join(str(v) for v in value)
    return str(value).strip()


def _map_header(header: list[str], mapping: Mapping[str, str], path: Path,
                strict: bool = True) -> list[str | None]:
    fields: list[str | None] = []
    used: dict[str, str] = {}
    for name in header:
        key = name.strip().lower()
        target = mapping.get(key) or HEADER_ALIASES.get(key)
        if target is not None and target in used:
            raise ImportFailed(f"{path}: columns {used[target]!r} and {name!r} both map to "
                               f"{target}; rename one or give a mapping file")
        if target is not None:
            used[target] = name
        fields.append(target)
    if strict and "archival_code" not in used:
        raise ImportFailed(f"{path}: no 档号 column (expected a header such as 档号 or "
                           f"archival_code; found: {', '.join(header)})")
    return fields


def _build(values: dict[str, str], fields: dict[str, str | None], file: str, row: int,
           text_dir: Path | None, report: ImportReport, seen: dict[str, int]) -> Record | None:
    by_field: dict[str, str] = {}
    extra: list[tuple[str, str]] = []
    column_of: dict[str, str] = {}
    for header, value in values.items():
        target = fields.get(header)
        if target is None:
            if value:
                extra.append((header, value))
        else:
            by_field[target] = value
            column_of[target] = header
    errors: list[ImportIssue] = []

    def problem(fld: str, reason: str, severity: str = "error") -> None:
        issue = ImportIssue(file, row, column_of.get(fld, fld), reason, severity)
        (errors if severity == "error" else report.issues).append(issue)

    code = by_field.get("archival_code", "")
    parsed = None
    if not code:
        problem("archival_code", "档号 is empty")
    else:
        try:
            parsed = parse_archival_code(code)
        except ArchivalCodeError as exc:
            if any(ch.isspace() for ch in code):
                problem("archival_code", str(exc))
            else:
                problem("archival_code", f"{exc}; kept as written", "warning")
        if code in seen:
            problem("archival_code", f"duplicate 档号 {code!r} (first on row {seen[code]})")
    title = by_field.get("title", "")
    if not title:
        problem("title", "题名 is empty")

    year: int | None = None
    if by_field.get("year"):
        text = by_field["year"]
        if re.fullmatch(r"\d{4}", text) and 1000 <= int(text) <= 2100:
            year = int(text)
        else:
            problem("year", f"年度 {text!r} is not a four-digit year")
    elif parsed is not None and parsed.year is not None:
        year = parsed.year

    page_count: int | None = None
    if by_field.get("page_count"):
        text = by_field["page_count"]
        if text.isdigit():
            page_count = int(text)
        else:
            problem("page_count", f"页数 {text!r} is not a whole number")

    try:
        status = OpenStatus.parse(by_field.get("open_status"))
    except ValueError as exc:
        problem("open_status", str(exc))
        status = OpenStatus.UNREVIEWED

    date_text = by_field.get("date_text", "")
    date_start = date_end = None
    if date_text:
        try:
            rng = parse_date(date_text)
            date_start = int(rng.start.strftime("%Y%m%d"))
            date_end = int(rng.end.strftime("%Y%m%d"))
        except Exception as exc:  # DateParseError, and any surprise in a date grammar
            fallback = f"; using 年度 {year}" if year else ""
            problem("date_text", f"could not read 日期 {date_text!r}: {exc}; kept as text"
                    f"{fallback}", "warning")
    if year is None and date_start is not None:
        year = date_start // 10000

    if errors:
        report.issues.extend(errors)
        return None
    seen[code] = row

    pages: tuple[str, ...] = ()
    if by_field.get("text"):
        pages = tuple(p for p in by_field["text"].split("\f"))
    if text_dir is not None:
        found = load_text(text_dir, code)
        if found is not None:
            pages = found
    fonds = by_field.get("fonds") or (parsed.fonds if parsed else "")
    return Record(
        archival_code=code, title=title, archive=by_field.get("archive", ""), fonds=fonds,
        fonds_name=by_field.get("fonds_name", ""), catalog_no=by_field.get("catalog_no", ""),
        volume_no=by_field.get("volume_no", ""), item_no=by_field.get("item_no", ""),
        category=by_field.get("category", ""), year=year, creator=by_field.get("creator", ""),
        doc_number=by_field.get("doc_number", ""), date_text=date_text, date_start=date_start,
        date_end=date_end, page_count=page_count,
        classification=by_field.get("classification", ""),
        retention=by_field.get("retention", ""), open_status=status,
        disclosure=by_field.get("disclosure", ""),
        subjects=_split_list(by_field.get("subjects", "")),
        persons=_split_list(by_field.get("persons", "")), notes=by_field.get("notes", ""),
        carrier=by_field.get("carrier", ""), language=by_field.get("language", ""),
        pages=pages, images=_split_list(by_field.get("images", "")),
        extra=tuple(sorted(extra)),
    )


def _split_list(text: str) -> tuple[str, ...]:
    return tuple(p for p in _LIST_SPLIT.split(text) if p) if text else ()


def load_text(text_dir: Path, archival_code: str) -> tuple[str, ...] | None:
    """Pages of a record's text from ``text_dir``: ``<档号>.txt`` (pages split by form feed)
    or a folder ``<档号>/`` of page ``.txt`` files (the OCR output layout), in natural order."""
    stem = safe_filename(archival_code)
    single = text_dir / f"{stem}.txt"
    if single.is_file():
        text = decode_bytes(single.read_bytes(), str(single))
        return tuple(text.split("\f"))
    folder = text_dir / stem
    if folder.is_dir():
        files = sorted((p for p in folder.glob("*.txt")), key=lambda p: natural_key(p.name))
        if files:
            # a page file's final newline ends the file, it is not text: dropping it keeps
            # offsets into the record's text equal to offsets into the OCR pages
            return tuple(
                decode_bytes(p.read_bytes(), str(p)).removesuffix("\n").removesuffix("\r")
                for p in files
            )
    return None
