"""The published catalog of opened records (开放档案目录): CSV, XLSX and a static HTML page.

Only records whose 开放标识 is 开放 are read (the backend's public view), in 档号 order, streamed,
so the catalog of any size is written in constant memory. Files are written under a temporary
name and moved into place, so a reader never sees half a catalog.
"""

from __future__ import annotations

import csv
import datetime
import html
import os
import tempfile
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

from lantai.catalog.model import Record
from lantai.errors import BadQueryError, require
from lantai.search.backends.base import SearchBackend

FORMATS = ("csv", "xlsx", "html")
COLUMNS = ("档号", "全宗名称", "题名", "责任者", "日期", "年度", "页数", "开放日期")
STEM = "开放档案目录"


def _row(record: Record) -> list[str]:
    review = dict(record.review)
    return [record.archival_code, record.fonds_name or record.fonds, record.title,
            record.creator, record.date_text or record.date_normalized,
            str(record.year or ""), str(record.page_count or ""), review.get("审核日期", "")]


def _rows(backend: SearchBackend) -> Iterator[list[str]]:
    for record in backend.iter_records(public=True):
        yield _row(record)


def _atomic(path: Path, write: Any, binary: bool = False) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        if binary:
            os.close(fd)
            write(tmp)
        else:
            with os.fdopen(fd, "w", encoding="utf-8-sig" if path.suffix == ".csv" else "utf-8",
                           newline="") as fh:
                write(fh)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def export_opened(backend: SearchBackend, out_dir: Path, formats: tuple[str, ...],
                  *, archive_name: str) -> dict[str, Path]:
    """Write the catalog of opened records in ``formats``; returns the files by format."""
    for fmt in formats:
        if fmt not in FORMATS:
            raise BadQueryError(f"unknown format {fmt!r}: choose {', '.join(FORMATS)}",
                                "--format")
    written: dict[str, Path] = {}
    if "csv" in formats:
        def write_csv(fh: Any) -> None:
            writer = csv.writer(fh)
            writer.writerow(COLUMNS)
            writer.writerows(_rows(backend))

        written["csv"] = out_dir / f"{STEM}.csv"
        _atomic(written["csv"], write_csv)
    if "xlsx" in formats:
        openpyxl: Any = require("openpyxl", "all", "writing XLSX")

        def write_xlsx(path: str) -> None:
            book = openpyxl.Workbook(write_only=True)
            sheet = book.create_sheet(STEM)
            sheet.append(list(COLUMNS))
            for row in _rows(backend):
                # a cell starting with = + - @ would be a formula in a spreadsheet
                sheet.append(["'" + v if v[:1] in "=+-@" else v for v in row])
            book.save(path)

        written["xlsx"] = out_dir / f"{STEM}.xlsx"
        _atomic(written["xlsx"], write_xlsx, binary=True)
    if "html" in formats:
        def write_html(fh: Any) -> None:
            today = datetime.date.today().isoformat()
            fh.write('<!doctype html>\n<html lang="zh-CN">\n<head>\n<meta charset="utf-8">\n'
                     '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
                     f"<title>{html.escape(archive_name)}{STEM}</title>\n"
                     "<style>body{font-family:system-ui,'Noto Sans CJK SC','Microsoft YaHei',"
                     "sans-serif;margin:2em}table{border-collapse:collapse}td,th{border:1px "
                     "solid #ccc;padding:.2em .5em;text-align:left}</style>\n</head>\n<body>\n"
                     f"<h1>{html.escape(archive_name)}{STEM}</h1>\n"
                     f"<p>截至 {today}</p>\n<table>\n<thead><tr>"
                     + "".join(f'<th scope="col">{c}</th>' for c in COLUMNS)
                     + "</tr></thead>\n<tbody>\n")
            count = 0
            for row in _rows(backend):
                fh.write("<tr>" + "".join(f"<td>{html.escape(v)}</td>" for v in row)
                         + "</tr>\n")
                count += 1
            fh.write(f"</tbody>\n</table>\n<p>共 {count} 件</p>\n</body>\n</html>\n")

        written["html"] = out_dir / f"{STEM}.html"
        _atomic(written["html"], write_html)
    return written


QUEUE_COLUMNS = ("档号", "题名", "全宗", "年度", "门类", "开放标识", "类别", "按年限可开放日期",
                 "审核发现", "已核验")
_GROUPS = {"clear": "明确可开放", "flagged": "需查看", "restricted": "受限"}


def queue_xlsx(items: Sequence[Any], path: Path) -> Path:
    """A staff view of the queue as a workbook (one row a record, its findings summarised)."""
    openpyxl: Any = require("openpyxl", "all", "writing XLSX")

    def write(tmp: str) -> None:
        book = openpyxl.Workbook(write_only=True)
        sheet = book.create_sheet("审核队列")
        sheet.append(list(QUEUE_COLUMNS))
        for item in items:
            r, a = item.record, item.assessment
            row = [r.archival_code, r.title, r.fonds, str(r.year or ""), r.category,
                   r.open_status.value, _GROUPS.get(item.group, item.group),
                   a.open_on.isoformat() if a.open_on else "",
                   "；".join(dict.fromkeys(f.message for f in a.findings)),
                   "是" if item.verified else ""]
            sheet.append(["'" + v if v[:1] in "=+-@" else v for v in row])
        book.save(tmp)

    _atomic(path, write, binary=True)
    return path
