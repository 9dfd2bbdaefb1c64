"""Reading label tables (the fonds table 全宗号 → 全宗名称, category codes …) from files.

CSV (UTF-8, UTF-8 with BOM or GB18030): the first column is the value, the second its label;
a header row is recognised (全宗号/全宗名称, code/name …) and skipped. TOML: either a table
per facet (``[fonds]`` ``J001 = "安澜市政府"``) or flat pairs for the facet given.
"""

from __future__ import annotations

import csv
import io
import tomllib
from pathlib import Path

from lantai.errors import ImportFailed, NotFound

_HEADER_WORDS = {"全宗号", "全宗號", "全宗", "全宗名称", "全宗名稱", "代码", "代碼", "名称",
                 "名稱", "code", "value", "name", "label", "fonds", "门类", "門類"}


def read_labels(path: Path, facet: str) -> dict[str, dict[str, str]]:
    """Label tables by facet from ``path``; errors name the file and row."""
    if not path.is_file():
        raise NotFound(f"label file not found: {path}")
    raw = path.read_bytes()
    if path.suffix.lower() == ".toml":
        try:
            data = tomllib.loads(raw.decode("utf-8-sig"))
        except (UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
            raise ImportFailed(f"{path}: not a readable TOML file ({exc})") from None
        tables = {k: v for k, v in data.items() if isinstance(v, dict)}
        flat = {k: v for k, v in data.items() if not isinstance(v, dict)}
        if flat:
            tables.setdefault(facet, {}).update(flat)
        out: dict[str, dict[str, str]] = {}
        for name, table in tables.items():
            for key, value in table.items():
                if not isinstance(value, str | int):
                    raise ImportFailed(f"{path}: [{name}] {key} must be a text label")
            out[name] = {str(k): str(v) for k, v in table.items()}
        return out
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            text = raw.decode(encoding)
            break
        except UnicodeDecodeError:
            continue
    else:
        raise ImportFailed(f"{path}: neither UTF-8 nor GB18030")
    labels: dict[str, str] = {}
    for number, row in enumerate(csv.reader(io.StringIO(text)), start=1):
        cells = [c.strip() for c in row]
        if not any(cells):
            continue
        if number == 1 and cells[0].lower() in _HEADER_WORDS:
            continue
        if len(cells) < 2 or not cells[0] or not cells[1]:
            raise ImportFailed(f"{path}, row {number}: expected two columns, value and label "
                               f"(got {row!r})")
        labels[cells[0]] = cells[1]
    return {facet: labels}
