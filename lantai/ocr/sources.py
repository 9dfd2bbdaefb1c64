"""Input discovery: which pages to OCR, how to load them, and which record each belongs to.

Inputs are image files (TIFF, JPEG, PNG, BMP, WebP; multi-page TIFF too), PDFs (rendered with
pypdfium2, whose wheel ships the PDFium binary) and folders of them, walked recursively in
name order. A scan is linked to its catalog record by the 档号 in its file name or in a parent
folder's name (``C038-001-014-003_0002.tif``, ``X012-WS·1956-D30-0003/p1.jpg``), or by a
manifest CSV with columns ``档号,文件``; files with no 档号 go to ``_unlinked``.
"""

from __future__ import annotations

import csv
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from lantai.catalog.model import safe_filename
from lantai.errors import ConfigError, LantaiError, require
from lantai.files import sha256_file

IMAGE_SUFFIXES = frozenset({".tif", ".tiff", ".jpg", ".jpeg", ".png", ".bmp", ".webp", ".jp2"})
PDF_SUFFIXES = frozenset({".pdf"})
UNLINKED = "_unlinked"

# candidate 档号: a fonds code then 1–5 '-'-separated parts (category·year allowed); the
# candidate is then checked with the catalog's own parser, trimming trailing parts that fail
_CODE_RE = re.compile(
    r"[A-Za-z]{0,3}\d{1,6}[A-Za-z]?(?:-[0-9A-Za-z]+(?:[·•‧・.][0-9A-Za-z]+)*){1,5}"
)


class PageLoadError(LantaiError):
    """A page could not be read (unreadable file, encrypted PDF, ...)."""


@dataclass(frozen=True)
class PageRef:
    """One page to recognise: a file, a 1-based page number inside it, and its record."""

    path: str
    page_no: int
    page_count: int
    record_id: str | None
    stem: str  # output file stem, unique inside the record folder

    @property
    def item(self) -> str:
        """Human name for reports: ``file`` or ``file#page``."""
        return self.path if self.page_count == 1 else f"{self.path}#{self.page_no}"


def safe_name(record_id: str) -> str:
    """Folder name for a record (the catalog's rule, so the indexer finds it):
    ``C038-001-014-003/1`` → ``C038-001-014-003_1``."""
    return safe_filename(record_id)


def find_archival_code(name: str) -> str | None:
    """The first valid 档号 in ``name`` (a file stem or folder name), or None."""
    from lantai.catalog.model import ArchivalCodeError, parse_archival_code

    for match in _CODE_RE.finditer(name):
        parts = match.group(0).split("-")
        # trailing page numbers look like extra parts ("C038-001-014-003-0002"): keep the
        # longest prefix that parses, but never shorter than two parts
        for n in range(min(len(parts), 5), 1, -1):
            candidate = "-".join(parts[:n])
            try:
                return parse_archival_code(candidate).text
            except ArchivalCodeError:
                continue
    return None


def read_manifest(path: Path) -> dict[str, str]:
    """Map file paths (as written, resolved, and bare names) to 档号 from a ``档号,文件`` CSV."""
    try:
        text = path.read_text(encoding="utf-8-sig")
    except OSError as exc:
        raise ConfigError(f"manifest {path}: cannot read ({exc.strerror})") from exc
    rows = list(csv.DictReader(text.splitlines()))
    if rows and not {"档号", "文件"} <= set(rows[0]):
        raise ConfigError(f"manifest {path}: needs columns 档号,文件 (found {', '.join(rows[0])})")
    mapping: dict[str, str] = {}
    for lineno, row in enumerate(rows, start=2):
        code, file = (row.get("档号") or "").strip(), (row.get("文件") or "").strip()
        if not code or not file:
            raise ConfigError(f"manifest {path}, row {lineno}: 档号 and 文件 must both be set")
        mapping[file] = code
        mapping[str((path.parent / file).resolve())] = code
        mapping.setdefault(Path(file).name, code)
    return mapping


def record_for(path: Path, manifest: dict[str, str] | None = None) -> str | None:
    """The record a file belongs to: manifest first, then its name, then parent folders."""
    if manifest:
        for key in (str(path.resolve()), str(path), path.name):
            if key in manifest:
                return manifest[key]
    for name in (path.stem, *(p.name for p in path.parents)):
        code = find_archival_code(name)
        if code:
            return code
    return None


def iter_files(inputs: Iterable[Path]) -> Iterator[Path]:
    """Image and PDF files under ``inputs`` (files as given, folders recursively, sorted)."""
    for item in inputs:
        if item.is_dir():
            for path in sorted(item.rglob("*")):
                if path.is_file() and path.suffix.lower() in IMAGE_SUFFIXES | PDF_SUFFIXES:
                    yield path
        elif item.exists():
            yield item
        else:
            raise ConfigError(f"input {item} does not exist")


def count_pages(path: Path) -> int:
    """Pages in a file (PDF pages, TIFF frames, 1 for other images)."""
    suffix = path.suffix.lower()
    if suffix in PDF_SUFFIXES:
        pdfium: Any = require("pypdfium2", "ocr", "reading PDF scans")
        try:
            doc = pdfium.PdfDocument(str(path))
        except pdfium.PdfiumError as exc:
            raise PageLoadError(_pdf_reason(exc)) from exc
        try:
            return len(doc)
        finally:
            doc.close()
    if suffix in {".tif", ".tiff"}:
        image_mod: Any = require("PIL.Image", "ocr", "reading TIFF scans")
        try:
            with image_mod.open(path) as im:
                return int(getattr(im, "n_frames", 1))
        except Exception as exc:  # PIL raises many types for broken files
            raise PageLoadError(f"unreadable image ({type(exc).__name__}: {exc})") from exc
    return 1


def _pdf_reason(exc: Exception) -> str:
    message = str(exc)
    if "password" in message.lower() or "security" in message.lower():
        return "encrypted PDF (password required)"
    return f"unreadable PDF ({message})"


def plan_pages(
    inputs: Iterable[Path], manifest: dict[str, str] | None = None
) -> Iterator[PageRef | tuple[str, str]]:
    """Yield a :class:`PageRef` per page, or ``(item, reason)`` for a file that cannot be
    opened at all (so the batch reports it and goes on)."""
    used: dict[tuple[str, str], int] = {}
    for path in iter_files(inputs):
        try:
            pages = count_pages(path)
        except PageLoadError as exc:
            yield (str(path), str(exc))
            continue
        record = record_for(path, manifest)
        folder = record or UNLINKED
        for page_no in range(1, pages + 1):
            stem = path.stem if pages == 1 else f"{path.stem}_p{page_no:04d}"
            # two files with one stem in one record (a.tif and a.jpg) must not overwrite
            n = used.get((folder, stem), 0)
            used[(folder, stem)] = n + 1
            if n:
                stem = f"{stem}~{n}"
            yield PageRef(str(path), page_no, pages, record, stem)


def file_digest(path: str) -> str:
    """SHA-256 of a file's bytes (the cache key's content part)."""
    return sha256_file(path)


def load_page(ref: PageRef, dpi: int = 300) -> Any:
    """The page as a numpy array (grayscale or BGR); raises :class:`PageLoadError`."""
    np: Any = require("numpy", "ocr", "loading page images")
    suffix = Path(ref.path).suffix.lower()
    if suffix in PDF_SUFFIXES:
        pdfium: Any = require("pypdfium2", "ocr", "reading PDF scans")
        try:
            doc = pdfium.PdfDocument(ref.path)
        except pdfium.PdfiumError as exc:
            raise PageLoadError(_pdf_reason(exc)) from exc
        try:
            page = doc[ref.page_no - 1]
            bitmap = page.render(scale=dpi / 72, grayscale=True)
            image = np.array(bitmap.to_pil())
            page.close()
            return image
        finally:
            doc.close()
    image_mod: Any = require("PIL.Image", "ocr", "loading page images")
    try:
        with image_mod.open(ref.path) as im:
            if ref.page_count > 1:
                im.seek(ref.page_no - 1)
            if im.mode in ("RGBA", "LA", "PA") or (im.mode == "P" and "transparency" in im.info):
                # transparent pixels are paper, not black
                im = im.convert("RGBA")
                white = image_mod.new("RGBA", im.size, (255, 255, 255, 255))
                im = image_mod.alpha_composite(white, im).convert("RGB")
            elif im.mode not in ("L", "RGB"):
                im = im.convert("RGB") if im.mode in ("P", "CMYK") else im.convert("L")
            array = np.array(im)
    except Exception as exc:  # PIL raises many types for broken files
        raise PageLoadError(f"unreadable image ({type(exc).__name__}: {exc})") from exc
    if array.ndim == 3:
        array = array[:, :, ::-1].copy()  # PIL gives RGB; the engines expect OpenCV's BGR
    if array.size == 0:
        raise PageLoadError("empty image")
    return array
