"""``lantai images build``: page scans → the image store the viewer and IIIF routes serve.

For every record in the index (every 开放标识: whether its images may be shown is decided when
they are asked for, so opening a record later needs no rebuild) the pages come from

1. the OCR output folder (``--ocr``): the record's page ``.json`` files in page order, each
   traced back to its scan through the OCR journal (``--scans`` re-roots scans that moved), so
   page n of the images is page n of the indexed text and its line boxes fit the image; or
2. the catalog's 图像 column, file names relative to ``--scans`` (``name#3``: page 3 of a
   PDF or multi-page TIFF).

Resumable: a page whose ``page.json`` names the same source (path, size, mtime, page) is
skipped. One bad scan never stops the run; the report lists each failure with its reason.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from lantai.catalog.model import Record, safe_filename
from lantai.errors import LantaiError, NotFound, require
from lantai.files import natural_key
from lantai.iiif.store import OCR_FILE, PAGE_FILE, RECORD_FILE, ImageStore, PageImage
from lantai.iiif.tiles import write_pyramid
from lantai.ocr.model import OcrPage
from lantai.ocr.store import STATE_DIR, atomic_write, read_journal

PDF_SUFFIXES = (".pdf",)
REPORT_FILE = "report.json"


@dataclass(frozen=True)
class PageSource:
    """Where one page image comes from."""

    number: int
    path: Path | None  # None: the scan could not be found (``missing`` says why)
    frame: int = 1  # 1-based page inside a PDF or multi-page TIFF
    ocr: dict[str, Any] | None = None
    item: str = ""  # as people name it in reports
    missing: str = ""


@dataclass
class BuildReport:
    records: int = 0  # records with page images
    pages_written: int = 0
    pages_unchanged: int = 0
    failures: list[dict[str, str]] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {"records": self.records, "pages_written": self.pages_written,
                "pages_unchanged": self.pages_unchanged, "failed": len(self.failures),
                "failures": self.failures}


class _Scans:
    """Finds scans by file name under ``--scans`` (for OCR journals whose paths moved)."""

    def __init__(self, root: Path | None) -> None:
        self.root = root
        self._by_name: dict[str, list[Path]] | None = None

    def by_name(self, name: str, folder: str) -> Path | None:
        if self.root is None:
            return None
        if self._by_name is None:
            self._by_name = {}
            for path in sorted(self.root.rglob("*")):
                if path.is_file():
                    self._by_name.setdefault(path.name, []).append(path)
        found = self._by_name.get(name, [])
        if len(found) > 1:  # the same name in several folders: prefer the record's own
            found = [p for p in found if folder in p.parts] or found
        return found[0] if len(found) == 1 else None

    def relative(self, name: str) -> Path | None:
        """``name`` under the scans root; None when it would leave it."""
        if self.root is None:
            return None
        root = self.root.resolve()
        path = (root / name).resolve()
        return path if path.is_relative_to(root) else None


def _split_item(item: str) -> tuple[str, int]:
    """``path#3`` → (path, 3); the OCR journal names pages of multi-page files this way."""
    path, sep, page = item.rpartition("#")
    if sep and page.isdigit() and not Path(item).exists():
        return path, int(page)
    return item, 1


def _ocr_sources(folder: Path, journal: dict[tuple[str, str], str], scans: _Scans
                 ) -> list[PageSource]:
    files = sorted((p for p in folder.glob("*.json") if not p.name.startswith(".")),
                   key=lambda p: natural_key(p.name))
    out = []
    for number, file in enumerate(files, start=1):
        try:
            ocr = json.loads(file.read_text(encoding="utf-8"))
            image_name = str(ocr["image"])
        except (OSError, ValueError, KeyError, TypeError) as exc:
            out.append(PageSource(number, None, item=str(file),
                                  missing=f"OCR page file is unreadable ({exc})"))
            continue
        item = journal.get((folder.name, file.stem), "")
        raw, frame = _split_item(item) if item else ("", int(ocr.get("page_no", 1)))
        path: Path | None = Path(raw) if raw and Path(raw).is_file() else None
        if path is None:
            path = scans.by_name(image_name.split("#")[0], folder.name)
        why = "" if path else (
            f"scan {raw or image_name} not found" + ("" if scans.root else
                                                     " (give --scans where the scans are now)"))
        out.append(PageSource(number, path, frame, ocr, item or image_name, why))
    return out


def _catalog_sources(record: Record, scans: _Scans) -> list[PageSource]:
    out = []
    for number, name in enumerate(record.images, start=1):
        raw, frame = _split_item(name)
        path = scans.relative(raw)
        why = ""
        if path is None:
            why = ("no --scans folder given for the 图像 column" if scans.root is None
                   else f"{name} is outside the scans folder")
        elif not path.is_file():
            why, path = f"scan {name} not found under {scans.root}", None
        out.append(PageSource(number, path, frame, None, name, why))
    return out


def _load(source: PageSource) -> Any:
    """The page as a Pillow image, at the OCR's pixel size when it was OCRed."""
    assert source.path is not None
    image_mod: Any = require("PIL.Image", "all", "building page images")
    if source.path.suffix.lower() in PDF_SUFFIXES:
        pdfium: Any = require("pypdfium2", "ocr", "reading PDF scans")
        doc = pdfium.PdfDocument(str(source.path))
        try:
            page = doc[source.frame - 1]
            width = source.ocr["width"] if source.ocr else page.get_width() * 200 / 72
            image = page.render(scale=width / page.get_width()).to_pil()
            page.close()
            return image
        finally:
            doc.close()
    image = image_mod.open(source.path)
    if source.frame > 1:
        image.seek(source.frame - 1)
    image.load()
    return image


def _fingerprint(source: PageSource) -> dict[str, Any]:
    assert source.path is not None
    stat = source.path.stat()
    return {"source": str(source.path), "frame": source.frame, "size": stat.st_size,
            "mtime_ns": stat.st_mtime_ns, "ocr": bool(source.ocr)}


def _build_page(folder: Path, source: PageSource) -> tuple[PageImage, bool]:
    """Write one page (or find it unchanged); returns it and whether it was written."""
    target = folder / str(source.number)
    fingerprint = _fingerprint(source)
    label = source.path.name if source.path else source.item
    try:
        done = json.loads((target / PAGE_FILE).read_text(encoding="utf-8"))
        if done.get("fingerprint") == fingerprint:
            return PageImage.from_dict(done["page"]), False
    except (OSError, ValueError, KeyError, TypeError):
        pass
    image = _load(source)
    direction = ""
    ocr_file = target / OCR_FILE
    if source.ocr is not None:
        direction = str(source.ocr.get("direction", ""))
        if (int(source.ocr.get("width", 0)), int(source.ocr.get("height", 0))) != image.size:
            raise LantaiError(
                f"the scan is {image.size[0]}×{image.size[1]} but it was OCRed at "
                f"{source.ocr.get('width')}×{source.ocr.get('height')} (scan replaced since "
                f"the OCR? run lantai ocr again)")
        OcrPage.from_dict(source.ocr)  # a damaged OCR file fails here, not in a page view
        atomic_write(ocr_file, json.dumps(source.ocr, ensure_ascii=False))
    else:
        ocr_file.unlink(missing_ok=True)
    pyramid = write_pyramid(image, target)
    page = PageImage(source.number, pyramid.width, pyramid.height, direction, label)
    atomic_write(target / PAGE_FILE, json.dumps(
        {"page": page.to_dict(), "fingerprint": fingerprint}, ensure_ascii=False))
    return page, True


def build_images(
    records: Iterable[Record],
    store: ImageStore,
    *,
    ocr_dir: Path | None = None,
    scans: Path | None = None,
    workers: int = 0,
    progress: Callable[[Record], None] | None = None,
) -> BuildReport:
    """Build the page images of ``records`` (all of them, any 开放标识) into ``store``."""
    if ocr_dir is not None and not ocr_dir.is_dir():
        raise NotFound(f"OCR output folder {ocr_dir} does not exist")
    if scans is not None and not scans.is_dir():
        raise NotFound(f"scans folder {scans} does not exist")
    journal = {(e.record, e.stem): e.item for e in read_journal(ocr_dir)} if ocr_dir else {}
    finder = _Scans(scans)
    report = BuildReport()
    owners: dict[str, str] = {}
    workers = workers or min(4, os.cpu_count() or 1)
    with ThreadPoolExecutor(max_workers=workers) as pool:
        for record in records:
            if progress:
                progress(record)
            sources = _sources(record, ocr_dir, journal, finder)
            if not sources:
                continue
            name = safe_filename(record.archival_code)
            if owners.setdefault(name, record.archival_code) != record.archival_code:
                report.failures.append({
                    "record": record.archival_code, "item": name,
                    "reason": f"its folder name is also that of 档号 {owners[name]}; "
                              "the images of only one of them can be stored"})
                continue
            _build_record(record.archival_code, store, sources, pool, report)
    store.root.mkdir(parents=True, exist_ok=True)
    atomic_write(store.root / REPORT_FILE,
                 json.dumps(report.to_dict(), ensure_ascii=False, indent=1))
    return report


def _sources(record: Record, ocr_dir: Path | None, journal: dict[tuple[str, str], str],
             finder: _Scans) -> list[PageSource]:
    if ocr_dir is not None:
        folder = ocr_dir / safe_filename(record.archival_code)
        if folder.is_dir() and folder.name != STATE_DIR:
            return _ocr_sources(folder, journal, finder)
    return _catalog_sources(record, finder) if record.images else []


def _build_record(code: str, store: ImageStore, sources: Sequence[PageSource],
                  pool: ThreadPoolExecutor, report: BuildReport) -> None:
    folder = store.folder(code)

    def one(source: PageSource) -> tuple[PageSource, PageImage | None, bool, str]:
        if source.path is None:
            return source, None, False, source.missing
        try:
            page, written = _build_page(folder, source)
            return source, page, written, ""
        except LantaiError as exc:
            return source, None, False, str(exc)
        except Exception as exc:  # Pillow and pdfium raise many types for broken files
            return source, None, False, f"unreadable image ({type(exc).__name__}: {exc})"

    pages = []
    for source, page, written, why in pool.map(one, sources):
        if page is None:
            report.failures.append({"record": code, "item": source.item, "reason": why})
            continue
        pages.append(page)
        if written:
            report.pages_written += 1
        else:
            report.pages_unchanged += 1
    if pages:
        report.records += 1
        atomic_write(folder / RECORD_FILE, json.dumps(
            {"archival_code": code, "pages": [p.to_dict() for p in pages]},
            ensure_ascii=False, indent=1))
