"""The page-image store: what ``lantai images build`` writes and the web app reads.

Layout, under ``<data_dir>/images/``::

    <folder>/record.json          the 档号 (exactly) and its pages: number, size, direction
    <folder>/<n>/page.json        page n's source and geometry (written last: a page is done)
    <folder>/<n>/ocr.json         page n's OCR lines with their boxes, when it was OCRed
    <folder>/<n>/{region}/{size}/0/default.jpg   the level-0 Image API files (tiles.py)

``<folder>`` is the record's file-safe name (the OCR output's rule). Two 档号 can share one
(``A/1`` and ``A_1``); ``record.json`` names the record its images belong to, and the store
serves them for that record only, so one record's pages can never appear under another's URL.
Nothing here checks whether a record is public: callers look the record up through the
backend's public gate first.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from lantai.catalog.model import safe_filename
from lantai.errors import BadQueryError, LantaiError, NotFound
from lantai.iiif.tiles import Pyramid
from lantai.ocr.model import OcrPage

IMAGES_DIR = "images"
RECORD_FILE = "record.json"
PAGE_FILE = "page.json"
OCR_FILE = "ocr.json"

_REGION = re.compile(r"full|\d{1,6},\d{1,6},\d{1,6},\d{1,6}")
_SIZE = re.compile(r"max|\d{1,6},\d{1,6}")


@dataclass(frozen=True)
class PageImage:
    """One stored page image of a record."""

    number: int  # 1-based, the same number as the record's text page
    width: int
    height: int
    direction: str  # the OCR's writing direction: horizontal | vertical-rl | mixed | ""
    label: str  # the source file name, for people

    @property
    def pyramid(self) -> Pyramid:
        return Pyramid(self.width, self.height)

    def to_dict(self) -> dict[str, Any]:
        return {"number": self.number, "width": self.width, "height": self.height,
                "direction": self.direction, "label": self.label}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> PageImage:
        return cls(int(data["number"]), int(data["width"]), int(data["height"]),
                   str(data.get("direction", "")), str(data.get("label", "")))


def reading_direction(pages: tuple[PageImage, ...]) -> str:
    """``right-to-left`` when most pages are vertical Chinese (a book read from the right),
    else ``left-to-right``."""
    vertical = sum(p.direction == "vertical-rl" for p in pages)
    return "right-to-left" if pages and vertical * 2 > len(pages) else "left-to-right"


class ImageStore:
    """Read access to ``<data_dir>/images``."""

    def __init__(self, root: Path) -> None:
        self.root = root

    @classmethod
    def in_data_dir(cls, data_dir: Path) -> ImageStore:
        return cls(Path(data_dir) / IMAGES_DIR)

    def folder(self, archival_code: str) -> Path:
        return self.root / safe_filename(archival_code)

    def pages(self, archival_code: str) -> tuple[PageImage, ...]:
        """The record's stored pages in page order; empty when it has none (or when the
        folder belongs to another record whose 档号 has the same file name)."""
        path = self.folder(archival_code) / RECORD_FILE
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            return ()
        except (OSError, ValueError) as exc:
            raise LantaiError(f"image store file {path} is unreadable ({exc})") from exc
        if data.get("archival_code") != archival_code:
            return ()
        try:
            return tuple(sorted((PageImage.from_dict(p) for p in data.get("pages", [])),
                                key=lambda p: p.number))
        except (KeyError, TypeError, ValueError) as exc:
            raise LantaiError(f"image store file {path} is damaged ({exc})") from exc

    def page(self, archival_code: str, number: int) -> PageImage:
        for page in self.pages(archival_code):
            if page.number == number:
                return page
        raise NotFound(f"record {archival_code} has no page image {number}")

    def ocr_page(self, archival_code: str, number: int) -> OcrPage | None:
        """The OCR of a stored page (lines and their boxes), when there is one."""
        path = self.folder(archival_code) / str(number) / OCR_FILE
        try:
            return OcrPage.from_dict(json.loads(path.read_text(encoding="utf-8")))
        except FileNotFoundError:
            return None
        except (OSError, ValueError, KeyError, TypeError):
            return None  # damaged: the page still shows, without boxes

    def image_file(self, archival_code: str, number: int, region: str, size: str,
                   rotation: str, quality: str, fmt: str) -> Path:
        """The file behind one Image API URL of a stored page.

        Syntax errors name the parameter (400); a well-formed request for something a level-0
        service does not hold is :class:`NotFound`."""
        page = self.page(archival_code, number)
        for name, value, pattern in (("region", region, _REGION), ("size", size, _SIZE)):
            if not pattern.fullmatch(value):
                raise BadQueryError(f"unsupported IIIF {name} {value!r}", param=name)
        if rotation != "0":
            raise BadQueryError("only rotation 0 is served (level 0)", param="rotation")
        if quality != "default" or fmt != "jpg":
            raise BadQueryError("only default.jpg is served (level 0)", param="quality")
        folder = (self.folder(archival_code) / str(page.number)).resolve()
        path = (folder / region / size / "0" / "default.jpg").resolve()
        if not path.is_relative_to(folder) or not path.is_file():
            raise NotFound(f"no such image region/size for page {number} of {archival_code}")
        return path
