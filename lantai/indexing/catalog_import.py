"""Catalog import: CSV (UTF-8, UTF-8 with BOM, GB18030), XLSX and JSONL → :class:`Record`.

Headers may be the Chinese labels archives write (档号, 题名, 责任者 …, traditional forms and
common synonyms included) or Lantai's English field names; a mapping file adds local headers.
Rows are validated one by one: every problem becomes an :class:`ImportIssue` naming file, row,
column and reason. Errors reject the row; warnings keep it (an unparseable date stays searchable
as text). Columns Lantai does not know are kept on the record (``extra``), never dropped.

No row is lost silently: each non-blank row is a record or an error in the report. A CSV is
read line-aware, so one unclosed quote is an error on its own row instead of swallowing the
rows after it (:class:`_CsvRows`); a row with fewer or more cells than the header is an error
(its values would land in the wrong columns), as is a NUL byte. An XLSX is read as its saved
values; formulas, error values, merged ranges (filled down) and other sheets are reported
(:class:`_XlsxRows`).

Reading is streaming (:func:`read_catalog` is a generator), so a catalog of millions of rows
never sits in memory; writing is left to the backend's atomic batches.
"""

from __future__ import annotations

import csv
import io
import json
import posixpath
import re
import tomllib
import zipfile
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any
from xml.etree import ElementTree

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
    row: int  # 1-based line/row number as a spreadsheet shows it (header = 1); 0: the file
    column: str
    reason: str
    severity: str = "error"  # "error" rejects the row; "warning" keeps it

    def __str__(self) -> str:
        where = self.file + (f", row {self.row}" if self.row else "")
        where += f", column {self.column}" if self.column else ""
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


# ------------------------------------------------------------------ reading rows
@dataclass(frozen=True)
class _Note:
    """A problem a reader found in one row, before the row is validated."""

    column: int | None  # 0-based cell index; None: the whole row
    reason: str
    severity: str = "error"


@dataclass
class _RawRow:
    """One row as read from the file: its number, its cells and what the reader noticed."""

    number: int  # the line/row a spreadsheet or editor shows (a CSV record's first line)
    cells: list[str]
    notes: list[_Note] = field(default_factory=list)


# each physical line with its ending; only CR/LF end a line (str.splitlines would also split
# on form feeds, which separate pages in a 全文 column)
_LINE_RE = re.compile(r"[^\r\n]*(?:\r\n|\r|\n)|[^\r\n]+\Z")
# what a 档号 cell looks like when a stray line is checked for being a row of its own
_CODE_CELL_RE = re.compile(r"[0-9A-Za-z][0-9A-Za-z·•‧・._/-]*")

_START, _PLAIN, _QUOTED, _QUOTE = range(4)


def _quote_state(line: str, delimiter: str, quoted: bool, column: int) -> tuple[bool, int, int]:
    """Follow the excel CSV grammar (the csv module's, non-strict) over one physical line.

    Returns whether the line ends inside a quoted value, the cell index reached, and the index
    of the cell whose quoted value is still open at the end (-1 when none opened here)."""
    state = _QUOTED if quoted else _START
    opened = -1
    for ch in line:
        if state == _START:
            if ch == '"':
                state, opened = _QUOTED, column
            elif ch == delimiter:
                column += 1
            else:
                state = _PLAIN
        elif state == _PLAIN:
            if ch == delimiter:
                state, column = _START, column + 1
        elif state == _QUOTED:
            if ch == '"':
                state = _QUOTE
        elif ch == '"':  # "" inside a quoted value is one quote
            state = _QUOTED
        elif ch == delimiter:
            state, column = _START, column + 1
        else:
            state = _PLAIN
    return state == _QUOTED, column, opened if state == _QUOTED else -1


class _CsvRows:
    """CSV records, read line by line so that one bad quote cannot swallow the file.

    The csv module reads a quoted value until its closing quote, however many lines that takes:
    one missing quote silently merges every following row into one cell. Here a record that
    spans lines is accepted only if none of the lines it swallows looks like a row of its own
    (the header's number of cells, or an 档号 in the 档号 column); otherwise — and when the quote
    is never closed — the record's first line is reported and reading resumes on the next line.
    A note with a properly closed line break inside stays one value.
    """

    def __init__(self, path: Path) -> None:
        text = decode_bytes(path.read_bytes(), str(path))
        sample = text[:8192]
        self.dialect: type[csv.Dialect] = (
            csv.excel_tab if sample.count("\t") > sample.count(",") else csv.excel
        )
        self.delimiter = str(self.dialect.delimiter)
        d = re.escape(self.delimiter)
        # one line that is a whole record, every quoted value closed (checked at C speed; the
        # quote-by-quote walk is for the rare lines this does not match)
        value = rf'(?:"(?:[^"]|"")*"(?!")[^{d}\r\n]*|(?!")[^{d}\r\n]*)'
        self._closed = re.compile(rf"(?:{value}{d})*{value}(?:\r\n|\r|\n)?")
        self.lines = _LINE_RE.findall(text)
        self.width: int | None = None
        self.code_index: int | None = None

    def expect(self, width: int, code_index: int | None) -> None:
        """Tell the reader the header's width and 档号 column (after reading the header)."""
        self.width, self.code_index = width, code_index

    def __iter__(self) -> Iterator[_RawRow]:
        lines, i = self.lines, 0
        while i < len(lines):
            end, opened, closed = self._span(i)
            if opened >= 0:
                stray = self._stray_row(i, end, opened)
                if stray is not None or not closed:
                    yield _RawRow(i + 1, [], [_Note(opened, self._runaway(i, end, stray))])
                    i += 1
                    continue
            yield self._parse(i + 1, lines[i:end])
            i = end

    def _span(self, start: int) -> tuple[int, int, bool]:
        """(end line, cell whose quoted value crosses a line break or -1, closed) of the
        record starting on line ``start``."""
        line = self.lines[start]
        if '"' not in line or self._closed.fullmatch(line):
            return start + 1, -1, True
        quoted, column, opened = _quote_state(line, self.delimiter, False, 0)
        if not quoted:
            return start + 1, -1, True
        end = start + 1
        while quoted and end < len(self.lines):
            line = self.lines[end]
            end += 1
            if '"' in line:
                quoted, column, _ = _quote_state(line, self.delimiter, True, column)
        return end, opened, not quoted

    def _stray_row(self, start: int, end: int, opened: int) -> int | None:
        """Index of the first line swallowed by the quoted value that looks like a row."""
        for k in range(start + 1, end):
            # the closing line holds the rest of the record: when the open value is the first
            # cell it has the header's width by construction, so only its 档号 cell counts
            if self._looks_like_row(self.lines[k], by_width=k < end - 1 or opened > 0):
                return k
        return None

    def _looks_like_row(self, line: str, by_width: bool) -> bool:
        try:
            cells = self._split([line])
        except csv.Error:
            return False
        if by_width and self.width is not None and self.width > 1 and len(cells) == self.width:
            return True
        if self.code_index is not None and self.code_index < len(cells):
            value = cells[self.code_index].strip()
            if _CODE_CELL_RE.fullmatch(value):
                try:
                    parse_archival_code(value)
                    return True
                except ArchivalCodeError:
                    return False
        return False

    def _runaway(self, start: int, end: int, stray: int | None) -> str:
        if stray is not None:
            return (f"unclosed quote: the quoted value starting on this row runs on over line "
                    f"{stray + 1}, which looks like a row of its own; this row is rejected and "
                    "the lines after it are read as rows")
        return (f"unclosed quote: the quoted value starting on this row is never closed (it "
                f"would take in the {end - start - 1} line(s) after it); this row is rejected "
                "and the lines after it are read as rows")

    def _split(self, chunk: list[str]) -> list[str]:
        """The cells of one record's lines (raises :class:`csv.Error`)."""
        if len(chunk) == 1 and '"' not in chunk[0]:
            # no quotes: the excel grammar is a plain split (the common, fast case)
            return chunk[0].rstrip("\r\n").split(self.delimiter)
        return next(csv.reader(chunk, self.dialect), [])

    def _parse(self, number: int, chunk: list[str]) -> _RawRow:
        try:
            cells = self._split(chunk)
        except csv.Error as exc:  # a value over csv.field_size_limit(), for one
            return _RawRow(number, [], [_Note(None, f"malformed CSV: {exc}")])
        notes: list[_Note] = []
        if any("\x00" in line for line in chunk):
            notes = [_Note(k, "contains a NUL byte (\\0), a sign of a damaged file; fix the "
                           "value and import again") for k, cell in enumerate(cells)
                     if "\x00" in cell]
        if self.width is not None and len(cells) != self.width and any(c.strip() for c in cells):
            if len(cells) < self.width:
                notes.append(_Note(None, f"{len(cells)} cells but the header has {self.width} "
                                   "columns: a cut or shifted row (a missing delimiter?) would "
                                   "put values in the wrong columns"))
            else:
                notes.append(_Note(None, f"{len(cells)} cells but the header has {self.width} "
                                   "columns: a value with an unquoted delimiter would shift "
                                   "the values after it into the wrong columns"))
        return _RawRow(number, cells, notes)


_XLSX_MAIN = "{http://schemas.openxmlformats.org/spreadsheetml/2006/main}"
_XLSX_DOC_REL = "{http://schemas.openxmlformats.org/officeDocument/2006/relationships}id"


@dataclass
class _SheetCells:
    """What the cell values alone do not tell: formulas, error values and merged ranges."""

    formulas: dict[int, dict[int, tuple[str, bool]]] = field(default_factory=dict)
    errors: dict[int, dict[int, str]] = field(default_factory=dict)
    merges: list[tuple[int, int, int, int]] = field(default_factory=list)  # c0, r0, c1, r1


def _first_sheet_part(archive: zipfile.ZipFile) -> str:
    """Path inside the package of the workbook's first worksheet (the one openpyxl reads)."""
    def target(base: str, value: str) -> str:
        if value.startswith("/"):
            return value.lstrip("/")
        return posixpath.normpath(posixpath.join(posixpath.dirname(base), value))

    package_rels = ElementTree.fromstring(archive.read("_rels/.rels"))
    workbook = next(target("", r.get("Target", "")) for r in package_rels
                    if r.get("Type", "").endswith("/officeDocument"))
    rels_part = posixpath.join(posixpath.dirname(workbook), "_rels",
                               posixpath.basename(workbook) + ".rels")
    rels = {r.get("Id"): r.get("Target", "")
            for r in ElementTree.fromstring(archive.read(rels_part))}
    sheets = ElementTree.fromstring(archive.read(workbook)).find(f"{_XLSX_MAIN}sheets")
    first = next(iter(sheets if sheets is not None else []))
    return target(workbook, rels[first.get(_XLSX_DOC_REL)])


# a formula, an error value or a merged range anywhere in a sheet's XML (tags may be prefixed)
_SHEET_MARKERS = re.compile(rb'<(?:[\w.-]+:)?(?:f|mergeCell)[\s/>]|\st="e"')


def _has_markers(archive: zipfile.ZipFile, part: str) -> bool:
    """Whether the sheet may hold formulas, errors or merges (a byte search, so a plain sheet
    costs one decompression, not a second XML parse)."""
    tail = b""
    with archive.open(part) as src:
        while block := src.read(1 << 20):
            if _SHEET_MARKERS.search(tail + block):
                return True
            tail = block[-32:]
    return False


def _scan_sheet(path: Path) -> _SheetCells:
    """Formulas, errors and merges of the first sheet (one streaming pass over its XML)."""
    with zipfile.ZipFile(path) as archive:
        part = _first_sheet_part(archive)
        if not _has_markers(archive, part):
            return _SheetCells()
        with archive.open(part) as src:
            return _read_sheet_cells(src)


def _read_sheet_cells(src: IO[bytes]) -> _SheetCells:
    from openpyxl.utils.cell import (
        column_index_from_string,
        coordinate_from_string,
        range_boundaries,
    )

    found = _SheetCells()
    row = column = 0
    sheet_data: ElementTree.Element | None = None
    for event, element in ElementTree.iterparse(src, events=("start", "end")):
        tag = element.tag
        if event == "start":
            if tag == f"{_XLSX_MAIN}row":
                row, column = int(element.get("r") or row + 1), 0
            elif tag == f"{_XLSX_MAIN}sheetData":
                sheet_data = element
            continue
        if tag == f"{_XLSX_MAIN}c":
            ref = element.get("r")
            if ref:
                letters, row = coordinate_from_string(ref)
                column = column_index_from_string(letters)
            else:
                column += 1
            formula, value = element.find(f"{_XLSX_MAIN}f"), element.find(f"{_XLSX_MAIN}v")
            if formula is not None:
                text = f"={formula.text}" if formula.text else "a shared formula"
                # openpyxl writes an empty <v/> for formulas it cannot compute; a formula
                # whose result is the empty string is marked t="str"
                cached = value is not None and (value.text is not None
                                                or element.get("t") == "str")
                found.formulas.setdefault(row, {})[column] = (text, cached)
            if element.get("t") == "e":
                shown = value.text if value is not None and value.text else "#ERROR"
                found.errors.setdefault(row, {})[column] = shown
        elif tag == f"{_XLSX_MAIN}row" and sheet_data is not None:
            sheet_data.clear()  # keep memory flat on a sheet of a million rows
        elif tag == f"{_XLSX_MAIN}mergeCell" and element.get("ref"):
            c0, r0, c1, r1 = range_boundaries(element.get("ref", ""))
            if None not in (c0, r0, c1, r1):
                found.merges.append((int(c0 or 0), int(r0 or 0), int(c1 or 0), int(r1 or 0)))
    return found


class _XlsxRows:
    """Rows of the first worksheet as their saved values, with what a spreadsheet hides.

    A formula cell is read as its saved result and reported (an error when the workbook holds
    no result, or when the result is an error value such as ``#REF!``). A merged range keeps
    its value in the top-left cell only; archives merge 全宗号 or 年度 down a run of rows, so
    the value is filled down the range's first column (rows that hold nothing else stay
    empty) and the range is reported. Across columns nothing is filled: the value belongs to
    the first column only.
    """

    def __init__(self, path: Path) -> None:
        from openpyxl import load_workbook

        try:
            self.cells = _scan_sheet(path)
            self.book = load_workbook(path, read_only=True, data_only=True)
        except (zipfile.BadZipFile, OSError, KeyError, ValueError, StopIteration,
                ElementTree.ParseError) as exc:
            raise ImportFailed(f"{path}: not a readable XLSX workbook: {exc}") from None
        self._width: int | None = None

    def expect(self, width: int, code_index: int | None) -> None:
        """Tell the reader the header's width (cells past it are reported)."""
        self._width = width

    def __iter__(self) -> Iterator[_RawRow]:
        from openpyxl.utils.cell import get_column_letter

        try:
            sheets = self.book.worksheets
            others = [s.title for s in sheets[1:] if _has_values(s)]
            if others:
                yield _RawRow(0, [], [_Note(None, (
                    f"only the first sheet ({sheets[0].title!r}) is read; sheet(s) "
                    f"{', '.join(repr(t) for t in others)} hold values that are not imported"),
                    "warning")])
            sheet = sheets[0]
            sheet.reset_dimensions()  # a wrong <dimension> must not cut rows or columns off
            starts: dict[int, list[tuple[int, int, int, int]]] = {}
            for merge in self.cells.merges:
                starts.setdefault(merge[1], []).append(merge)
            filling: dict[int, tuple[str, int]] = {}  # column → (value, last row)
            seen_header = False
            for number, values in enumerate(sheet.iter_rows(values_only=True), start=1):
                cells = ["" if v is None else _cell(v) for v in values]
                notes: list[_Note] = []
                self._formulas(number, cells, notes)
                has_data = any(c.strip() for c in cells)
                for col, (value, last) in list(filling.items()):
                    if number > last:
                        del filling[col]
                    elif has_data:
                        while len(cells) < col:
                            cells.append("")
                        cells[col - 1] = value
                for c0, r0, c1, r1 in starts.get(number, []):
                    ref = f"{get_column_letter(c0)}{r0}:{get_column_letter(c1)}{r1}"
                    value = cells[c0 - 1] if c0 <= len(cells) else ""
                    if r1 > r0 and seen_header and value:
                        filling[c0] = (value, r1)
                        what = f"its value {value!r} is filled down into rows {r0 + 1}–{r1}"
                    elif r1 > r0:
                        what = "nothing is filled down"
                    else:
                        what = "its value is read in the first column only"
                    if c1 > c0:
                        what += (f"; columns {get_column_letter(c0 + 1)}–{get_column_letter(c1)}"
                                 " are read as empty")
                    notes.append(_Note(c0 - 1, f"cells {ref} are merged (rows {r0}–{r1}): "
                                       f"{what}", "warning"))
                if seen_header and self._width and len(cells) > self._width and any(
                        c.strip() for c in cells[self._width:]):
                    notes.append(_Note(None, f"{len(cells)} cells but the header has "
                                       f"{self._width} columns: values in columns without a "
                                       "header would be lost"))
                seen_header = seen_header or has_data
                yield _RawRow(number, cells, notes)
        finally:
            self.book.close()

    def _formulas(self, number: int, cells: list[str], notes: list[_Note]) -> None:
        from openpyxl.utils.cell import get_column_letter

        for col, shown in self.cells.errors.get(number, {}).items():
            if col <= len(cells):
                cells[col - 1] = ""
            notes.append(_Note(col - 1, f"cell {get_column_letter(col)}{number} shows the "
                               f"spreadsheet error {shown}; fix the cell and import again"))
        for col, (formula, cached) in self.cells.formulas.get(number, {}).items():
            ref = f"{get_column_letter(col)}{number}"
            if col in self.cells.errors.get(number, {}):
                continue
            if cached:
                value = cells[col - 1] if col <= len(cells) else ""
                notes.append(_Note(col - 1, f"cell {ref} holds the formula {formula}; its "
                                   f"saved result {value!r} is used", "warning"))
            else:
                notes.append(_Note(col - 1, f"cell {ref} holds the formula {formula} but the "
                                   "workbook has no saved result for it (it was never "
                                   "recalculated); open and save it in a spreadsheet program, "
                                   "or replace the formula by its value"))


def _has_values(sheet: Any) -> bool:
    return any(v not in (None, "") for row in sheet.iter_rows(values_only=True) for v in row)


def _cell(value: Any) -> str:
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if hasattr(value, "strftime"):
        return str(value.strftime("%Y-%m-%d"))
    return str(value)


def read_catalog(
    path: Path,
    *,
    mapping: Mapping[str, str] | None = None,
    text_dir: Path | None = None,
    report: ImportReport | None = None,
) -> Iterator[Record]:
    """Yield valid records of a catalog file; problems go into ``report``.

    Every non-blank row ends up either as a record or as at least one error in ``report``
    (``report.rows == report.imported + len({i.row for i in report.errors})``)."""
    path = Path(path)
    report = report if report is not None else ImportReport(str(path))
    seen: dict[str, int] = {}
    for number, values, fields in _data_rows(path, mapping or {}, report):
        record = _build(values, fields, str(path), number, text_dir, report, seen)
        if record is not None:
            report.imported += 1
            yield record


def read_archival_codes(path: Path, *, mapping: Mapping[str, str] | None = None) -> list[str]:
    """The 档号 column of a catalog, in file order (for linking scans to records).

    Rows are not validated beyond being readable: a row rejected for, say, an empty 题名
    still names a record whose scans should go to its folder."""
    path = Path(path)
    codes: list[str] = []
    for _, values, fields in _data_rows(path, mapping or {}, ImportReport(str(path))):
        for header, target in fields.items():
            if target == "archival_code" and values.get(header):
                codes.append(values[header])
    return codes


def _data_rows(path: Path, mapping: Mapping[str, str], report: ImportReport
               ) -> Iterator[tuple[int, dict[str, str], dict[str, str | None]]]:
    """``(row, value by header, field by header)`` of each data row that could be split into
    cells; rows that could not are counted and reported here."""
    if not path.is_file():
        raise ImportFailed(f"catalog file not found: {path}")
    suffix = path.suffix.lower()
    if suffix in (".jsonl", ".ndjson"):
        yield from _jsonl_rows(path, mapping, report)
        return
    source: _CsvRows | _XlsxRows
    if suffix in (".csv", ".tsv", ".txt"):
        source = _CsvRows(path)
    elif suffix in (".xlsx", ".xlsm"):
        source = _XlsxRows(path)
    else:
        raise ImportFailed(f"{path}: unsupported catalog format {suffix!r} "
                           "(use .csv, .xlsx or .jsonl)")
    file = str(path)
    header: list[str] | None = None
    fields: dict[str, str | None] = {}

    def issues(row: _RawRow) -> list[ImportIssue]:
        def column(index: int | None) -> str:
            if index is None:
                return ""
            if header is not None and index < len(header):
                return header[index]
            return _column_name(index)

        return [ImportIssue(file, row.number, column(n.column), n.reason, n.severity)
                for n in row.notes]

    for row in source:
        errors = [n for n in row.notes if n.severity == "error"]
        blank = not any(c.strip() for c in row.cells)
        if row.number == 0:  # about the file, not a row
            report.issues.extend(issues(row))
            continue
        if header is None:
            if blank and not errors:
                continue
            if errors:
                raise ImportFailed(f"{path}, row {row.number}: cannot read the header row: "
                                   f"{errors[0].reason}")
            header = _header_names(row.cells)
            targets = _map_header(header, mapping, path)
            fields = dict(zip(header, targets, strict=True))
            code_index = targets.index("archival_code") if "archival_code" in targets else None
            source.expect(len(header), code_index)
            report.issues.extend(issues(row))
            continue
        if blank and not errors:
            continue
        report.rows += 1
        report.issues.extend(issues(row))
        if errors:
            continue
        yield row.number, {h: (row.cells[i].strip() if i < len(row.cells) else "")
                           for i, h in enumerate(header)}, fields
    if header is None:
        raise ImportFailed(f"{path}: the catalog is empty (no header row)")


def _header_names(cells: list[str]) -> list[str]:
    """Header cells as column names: an empty or repeated name gets its position, so the
    values under it are kept (as extra columns) instead of overwriting each other."""
    names: list[str] = []
    for index, cell in enumerate(cells):
        name = cell.strip()
        if not name:
            name = _column_name(index)
        elif name in names:
            name = f"{name} ({_column_name(index)})"
        names.append(name)
    return names


def _column_name(index: int) -> str:
    return f"第{index + 1}列"


def _jsonl_rows(path: Path, mapping: Mapping[str, str], report: ImportReport
                ) -> Iterator[tuple[int, dict[str, str], dict[str, str | None]]]:
    text = decode_bytes(path.read_bytes(), str(path))
    # only LF ends a JSON line: U+2028 and form feeds may sit raw inside a JSON string
    for number, line in enumerate(text.split("\n"), start=1):
        line = line.removesuffix("\r")
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
        yield number, values, dict(zip(values, _map_header(list(values), mapping, path,
                                                           strict=False), strict=True))


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
