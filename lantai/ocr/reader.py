"""Read OCR output back: the indexer's entry point.

``iter_records`` walks an OCR output folder record by record; each page's lines keep their
polygons, so full text built from them can map every character back to a page and a box.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

from lantai.errors import LantaiError, NotFound
from lantai.files import natural_key
from lantai.ocr.model import OcrPage, Polygon
from lantai.ocr.sources import UNLINKED, safe_name
from lantai.ocr.store import STATE_DIR


def _load(path: Path) -> OcrPage:
    try:
        return OcrPage.from_dict(json.loads(path.read_text(encoding="utf-8")))
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise LantaiError(f"OCR page file {path} is unreadable ({exc})") from exc


def _record_pages(folder: Path) -> list[OcrPage]:
    # the same order in which the indexer reads the pages' .txt files (lantai.indexing
    # .catalog_import.load_text), so page i of a record's text is pages[i] here
    files = sorted(
        (p for p in folder.glob("*.json") if not p.name.startswith(".")),
        key=lambda p: natural_key(p.name),
    )
    return [_load(p) for p in files]


@dataclass(frozen=True)
class HitBox:
    """Part of a search hit on one page image."""

    page: int  # 0-based index into the record's pages
    image: str  # the page's source file name ("<file>#<n>" for pages of a PDF/TIFF)
    line: int  # the line's reading-order index on that page
    polygon: Polygon  # in the image's own pixels


def locate_in_record(pages: Sequence[OcrPage], start: int, end: int) -> list[HitBox]:
    """Boxes on the page images for characters ``start``–``end`` of a record's full text,
    whose pages are ``pages`` joined by a blank line (as :attr:`lantai.catalog.model.Record
    .text` joins the pages the indexer read from this OCR output)."""
    boxes: list[HitBox] = []
    offset = 0
    for index, page in enumerate(pages):
        length = len(page.text)
        if start < offset + length and end > offset:
            for line, polygon in page.locate(start - offset, end - offset):
                boxes.append(HitBox(index, page.image, line, polygon))
        offset += length + 2
    return boxes


def load_record_pages(out_dir: Path, record_id: str) -> list[OcrPage]:
    """All pages of one record (档号), in page order; empty when the record has none."""
    folder = out_dir / safe_name(record_id)
    if not folder.is_dir():
        return []
    return _record_pages(folder)


def iter_records(
    out_dir: Path, include_unlinked: bool = False
) -> Iterator[tuple[str, list[OcrPage]]]:
    """``(folder name, pages)`` for every record folder under ``out_dir``, sorted by name.

    The folder name is the 档号 with file-name-unsafe characters replaced (see
    :func:`lantai.ocr.sources.safe_name`); ``_unlinked`` is skipped unless asked for.
    """
    if not out_dir.is_dir():
        raise NotFound(f"OCR output folder {out_dir} does not exist")
    for folder in sorted(p for p in out_dir.iterdir() if p.is_dir()):
        if folder.name == STATE_DIR or (folder.name == UNLINKED and not include_unlinked):
            continue
        pages = _record_pages(folder)
        if pages:
            yield folder.name, pages
