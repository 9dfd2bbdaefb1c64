"""The archival hierarchy: (archive →) 全宗 → 目录 → 案卷 → 件.

Every record sits at one path. The levels come from the catalog's own columns first (目录号,
案卷号, 件号) and otherwise from its 档号 (DA/T 13—2022):

* volume-based ``全宗号-目录号-案卷号-件号`` (``C038-001-002-003``): 目录 ``001``, 案卷 ``002``;
* file-based ``全宗号-门类代码·年度-保管期限代码-件号`` (``Z109-WS·2011-Y-0001``): files are
  arranged by 门类·年度·保管期限 without volumes, so that group is the 目录 level
  (``WS·2011·Y``) and the 案卷 level is empty: the file hangs directly under it.

The holding archive (馆) is the top level; a record without one belongs to the configured
archive (``archive.code``), so one index can later hold a province's archives together.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import IntEnum

from lantai.catalog.model import ArchivalCodeError, Record, parse_archival_code


class Level(IntEnum):
    """Depth of a node; a path of length n names a node at level n (0 is the root)."""

    ROOT = 0
    ARCHIVE = 1
    FONDS = 2
    SERIES = 3  # 目录
    FILE = 4  # 案卷


LEVEL_LABELS: dict[Level, str] = {
    Level.ROOT: "", Level.ARCHIVE: "档案馆", Level.FONDS: "全宗", Level.SERIES: "目录",
    Level.FILE: "案卷",
}


@dataclass(frozen=True)
class HierarchyPath:
    """Where a record sits. ``file`` is empty for files arranged without volumes."""

    archive: str
    fonds: str
    series: str
    file: str
    item: str

    def nodes(self) -> tuple[str, str, str, str]:
        """The branch values, root to leaf's parent (archive, fonds, series, file)."""
        return self.archive, self.fonds, self.series, self.file


def path_of(record: Record, default_archive: str) -> HierarchyPath:
    """The record's place in the hierarchy (catalog columns win over the 档号)."""
    fonds, series, file, item = record.fonds, record.catalog_no, record.volume_no, record.item_no
    if not (fonds and series and (file or item)):
        try:
            code = parse_archival_code(record.archival_code)
        except ArchivalCodeError:
            code = None
        if code is not None:
            fonds = fonds or code.fonds
            if code.category_code is not None:  # file-based: 门类·年度·保管期限 group
                group = "·".join(x for x in (code.category_code, str(code.year or ""),
                                             code.retention_code or "") if x)
                series = series or group
            elif code.item is None:  # 全宗-目录-件: files in a series without volumes
                series = series or (code.catalog or "")
                item = item or (code.volume or "")
            else:
                series = series or (code.catalog or "")
                file = file or (code.volume or "")
            item = item or (code.item or "")
    return HierarchyPath(archive=record.archive or default_archive, fonds=fonds or "",
                         series=series or "", file=file or "", item=item or "")


_DIGITS = re.compile(r"\d+")


def natural_code(text: str) -> str:
    """A sort key string in which numbers compare by value (C038-001-002-9 < …-10)."""
    return _DIGITS.sub(lambda m: m.group().lstrip("0").zfill(12), text)


def normalize_path(path: tuple[str, ...] | list[str]) -> tuple[str, ...]:
    """Validate a node path from a caller: at most four non-empty levels."""
    from lantai.errors import BadQueryError

    parts = tuple(str(p).strip() for p in path)
    if len(parts) > Level.FILE:
        raise BadQueryError(f"a hierarchy path has at most {int(Level.FILE)} levels "
                            "(archive, fonds, series, file)", "path")
    if any(not p for p in parts):
        raise BadQueryError("a hierarchy path may not have an empty level", "path")
    return parts
