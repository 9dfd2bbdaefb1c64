"""How a record is cited: the archive, 档号, 题名, date and a stable URL.

Chinese follows the usual form for archival sources in Chinese historiography (责任者：《题名》，
日期，某档案馆藏，档号); English gives the same elements in a Chicago-like order. Both end with
the record's URL and the date it was consulted, since online catalogs change.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass

from lantai.catalog.model import Record


@dataclass(frozen=True)
class Citation:
    zh: str
    en: str


def cite(record: Record, *, archive_name: str, url: str,
         accessed: datetime.date | None = None) -> Citation:
    """The citation of ``record`` held by ``archive_name`` and published at ``url``."""
    day = accessed or datetime.date.today()
    date = record.date_text or (str(record.year) if record.year else "")
    zh_parts = [f"{record.creator}：" if record.creator else "", f"《{record.title}》"]
    zh = "".join(zh_parts) + (f"，{date}" if date else "") + f"，{archive_name}藏，档号 " \
        f"{record.archival_code}，{url}（{day.year}年{day.month}月{day.day}日访问）。"
    en = (f"{record.creator + ', ' if record.creator else ''}“{record.title}”"
          f"{', ' + date if date else ''}. {archive_name}, {record.archival_code}. {url} "
          f"(accessed {day.isoformat()}).")
    return Citation(zh=zh, en=en)
