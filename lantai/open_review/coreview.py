"""Co-review (会同审核) with the unit that created or transferred the records: a batch goes out
as an XLSX workbook the unit fills in, and its opinions come back into the queue.

The Archives Law makes the archive and that unit jointly responsible for opening records. A
record sent out waits (opening it is refused) until the unit's opinion is imported; an opinion
other than 开放 keeps it closed until a reviewer decides. Bad rows of a returned workbook are
reported with file, row and column; nothing is imported from a workbook with bad rows.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from lantai.catalog.model import OpenStatus
from lantai.errors import BadQueryError, ImportFailed, require
from lantai.open_review.rules import Rules, assess
from lantai.open_review.store import ReviewStore
from lantai.search.backends.base import SearchBackend

HEADER = ("档号", "题名", "日期", "全宗", "档案馆审核发现", "档案馆初审意见", "会同单位意见",
          "会同单位说明")
OPINIONS = tuple(s.value for s in OpenStatus if s is not OpenStatus.UNREVIEWED)


def _cell(value: str) -> str:
    return "'" + value if value[:1] in "=+-@" else value  # never a formula


def export_batch(backend: SearchBackend, store: ReviewStore, rules: Rules,
                 codes: Sequence[str], *, unit: str, proposed: OpenStatus, reviewer: str,
                 out: Path, review_date: Any) -> str:
    """Write the workbook for ``unit`` and mark the records as sent; returns the batch id."""
    if not unit.strip():
        raise BadQueryError("name the co-reviewing unit", "--unit")
    openpyxl: Any = require("openpyxl", "all", "writing XLSX")
    from openpyxl.worksheet.datavalidation import DataValidation

    records = backend.get_many(list(codes), public=False)
    missing = [c for c in codes if c not in records]
    if missing:
        raise BadQueryError(f"not in the index: {', '.join(missing[:10])}", "codes")
    batch = uuid.uuid4().hex[:12]
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.title = "会同审核"
    sheet.append([f"批次 {batch}", f"送审单位：{unit}", f"请在“会同单位意见”列填写："
                  f"{'、'.join(OPINIONS)}"])
    sheet.append(list(HEADER))
    for code in codes:
        record = records[code]
        found = assess(record, rules, review_date)
        summary = "；".join(dict.fromkeys(f.message for f in found.findings))
        sheet.append([_cell(v) for v in (record.archival_code, record.title,
                                          record.date_text, record.fonds, summary,
                                          proposed.value, "", "")])
    choices = DataValidation(type="list", formula1='"' + ",".join(OPINIONS) + '"',
                             allow_blank=True)
    sheet.add_data_validation(choices)
    choices.add(f"G3:G{len(codes) + 2}")
    for column, width in zip("ABCDEFGH", (24, 40, 14, 8, 50, 14, 14, 40), strict=True):
        sheet.column_dimensions[column].width = width
    out.parent.mkdir(parents=True, exist_ok=True)
    book.save(out)
    store.send_for_coreview(list(codes), unit.strip(), proposed, reviewer, batch)
    return batch


def import_opinions(store: ReviewStore, path: Path, *, actor: str) -> list[tuple[str, str]]:
    """Read a returned workbook; returns (档号, opinion) of the rows imported. Raises
    :class:`ImportFailed` listing every bad row (nothing is imported then)."""
    openpyxl: Any = require("openpyxl", "all", "reading XLSX")
    try:
        book = openpyxl.load_workbook(path, read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises many types for a file that is not XLSX
        raise ImportFailed(f"{path}: not a readable XLSX workbook ({exc})") from exc
    sheet = book.active
    rows = [[("" if v is None else str(v)).strip() for v in row]
            for row in sheet.iter_rows(values_only=True)]
    book.close()
    header_at = next((i for i, row in enumerate(rows[:5]) if "档号" in row
                      and "会同单位意见" in row), None)
    if header_at is None:
        raise ImportFailed(f"{path}: no header row with 档号 and 会同单位意见 in the first "
                           "five rows")
    header = rows[header_at]
    code_col, opinion_col = header.index("档号"), header.index("会同单位意见")
    note_col = header.index("会同单位说明") if "会同单位说明" in header else None
    sent = store.coreviews()
    problems: list[str] = []
    opinions: list[tuple[str, OpenStatus, str]] = []
    for number, row in enumerate(rows[header_at + 1:], start=header_at + 2):
        code = row[code_col].lstrip("'") if code_col < len(row) else ""
        if not code:
            continue
        text = row[opinion_col] if opinion_col < len(row) else ""
        note = row[note_col] if note_col is not None and note_col < len(row) else ""
        where = f"{path}, row {number}"
        if code not in sent:
            problems.append(f"{where}, column 档号: {code} was not sent for co-review")
            continue
        if not text:
            problems.append(f"{where}, column 会同单位意见: empty (fill in "
                            f"{'、'.join(OPINIONS)})")
            continue
        try:
            opinion = OpenStatus.parse(text)
        except ValueError:
            opinion = OpenStatus.UNREVIEWED
        if opinion is OpenStatus.UNREVIEWED:
            problems.append(f"{where}, column 会同单位意见: {text!r} is not one of "
                            f"{'、'.join(OPINIONS)}")
            continue
        opinions.append((code, opinion, note))
    if problems:
        shown = "\n".join(f"  {p}" for p in problems[:30])
        raise ImportFailed(f"{len(problems)} bad row(s), nothing was imported:\n{shown}")
    store.record_opinions(opinions, actor)
    return [(code, opinion.value) for code, opinion, _ in opinions]
