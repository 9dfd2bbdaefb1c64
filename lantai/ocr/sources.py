"""Input discovery: which pages to OCR, how to load them, and which record each belongs to.

Inputs are image files (TIFF, JPEG, PNG, BMP, WebP; multi-page TIFF too), PDFs (rendered with
pypdfium2, whose wheel ships the PDFium binary) and folders of them, walked recursively in
name order.

A scan is linked to a record only by a rule the user can see, never by a guess at part of a
name (a date such as ``1939-04-23`` in ``jb_3797_1939-04-23_0001.jpg`` is not an 档号). The
first rule that applies wins, and the batch report says which one linked each file:

1. ``manifest``: the file is listed in a manifest CSV (``档号,文件``).
2. ``catalog``: with a catalog's 档号 list, the longest 档号 (or its file-name-safe form) that
   occurs in the file name, else in the name of a folder it sits in (nearest first), as a
   whole word; a file that names none goes to ``_unlinked``.
3. ``stem``: the file name *is* an 档号 — the whole stem, or the stem less a page number
   (``C038-001-014-003.tif``, ``C038-001-014-003_0002.tif``, ``X012-WS·1956-D30-0003 p1.jpg``).
4. ``folder``: a folder whose whole name is an 档号 (``X012-WS·1956-D30-0003/scan.tif``), or,
   for a file named only by its page number (``0001.tif``, ``p2.jpg``, ``第3页.png``), the
   folder it sits in: a folder of pages is one record.
5. ``stem``: otherwise the whole file stem is the record: two scans with different names are
   never merged behind the user's back.

Folders are looked at from the file up to the input folder it was found in (for a file given
by itself, its own folder only), never above.
"""

from __future__ import annotations

import csv
import re
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from typing import Any

from lantai.catalog.model import ArchivalCodeError, parse_archival_code, safe_filename
from lantai.errors import ImportFailed, LantaiError, NotFound, require
from lantai.files import sha256_file

IMAGE_SUFFIXES = frozenset({".tif", ".tiff", ".jpg", ".jpeg", ".png", ".bmp", ".webp", ".jp2"})
PDF_SUFFIXES = frozenset({".pdf"})
UNLINKED = "_unlinked"
#: folder names of the output that a record must not take (the journal lives in ``_state``)
_RESERVED = frozenset({UNLINKED, "_state"})

# a page number after an 档号 in a file name: "_0002", " p1", "_page-3"
_PAGE_SUFFIX = re.compile(r"[ _]+(?:[pP](?:age)?[ _-]?)?\d{1,6}\Z")
# a file name that is only a page number: "0001", "p2", "page_3", "第3页", "0001+0004"
_PAGE_ONLY = re.compile(
    r"(?:(?:[pP](?:age)?[ _-]?|第)?\d{1,6}(?:页|頁)?)(?:[+&](?:[pP]?\d{1,6}))*\Z"
)
# a calendar date (1939-04-23, 1939-04) parses as an 档号 (全宗号 1939, 目录号 04) but is not one
_DATE = re.compile(r"(?:1[5-9]|20)\d\d-(?:0?[1-9]|1[0-2])(?:-(?:0?[1-9]|[12]\d|3[01]))?\Z")


class PageLoadError(LantaiError):
    """A page could not be read (unreadable file, encrypted PDF, ...)."""


class LinkRule(StrEnum):
    """How a scan was linked to its record (see the module docstring)."""

    MANIFEST = "manifest"
    CATALOG = "catalog"
    STEM = "stem"
    FOLDER = "folder"
    UNLINKED = "unlinked"


@dataclass(frozen=True)
class Link:
    """A scan's record and the rule that chose it."""

    record: str | None  # None: unlinked
    rule: LinkRule
    name: str = ""  # what the record was read from: manifest key, file stem or folder name


@dataclass(frozen=True)
class PageRef:
    """One page to recognise: a file, a 1-based page number inside it, and its record."""

    path: str
    page_no: int
    page_count: int
    record_id: str | None
    stem: str  # output file stem, unique inside the record folder
    link: Link | None = None

    @property
    def item(self) -> str:
        """Human name for reports: ``file`` or ``file#page``."""
        return self.path if self.page_count == 1 else f"{self.path}#{self.page_no}"


def safe_name(record_id: str) -> str:
    """Folder name for a record (the catalog's rule, so the indexer finds it):
    ``C038-001-014-003/1`` → ``C038-001-014-003_1``."""
    return safe_filename(record_id)


def _is_code(name: str) -> bool:
    if _DATE.match(name):
        return False
    try:
        parse_archival_code(name)
    except ArchivalCodeError:
        return False
    return True


def find_archival_code(name: str) -> str | None:
    """The 档号 that ``name`` (a file stem or folder name) *is*: the whole name, or the name
    less a trailing page number (``C038-001-014-003_0002`` → ``C038-001-014-003``). A code
    inside a longer name is not looked for; a calendar date is not an 档号."""
    name = name.strip()
    if _is_code(name):
        return name
    bare = _PAGE_SUFFIX.sub("", name)
    if bare != name and _is_code(bare):
        return bare
    return None


def _ascii_alnum(ch: str) -> bool:
    return ch.isascii() and ch.isalnum()


class CatalogCodes:
    """A catalog's 档号, looked up inside file and folder names.

    A code matches as a whole word (no ASCII letter or digit right before or after it, so
    ``J001-1`` is not found in ``J001-10``), ignoring case, as written or in its file-name-safe
    form (``A/1`` as ``A_1``). Lookup tries every substring up to the longest code, so a
    million-code catalog costs no more per name than a small one.
    """

    def __init__(self, codes: Iterable[str]) -> None:
        self._forms: dict[str, str] = {}
        for code in codes:
            code = code.strip()
            if code:
                for form in (code, safe_filename(code)):
                    self._forms.setdefault(form.lower(), code)
        self._longest = max((len(f) for f in self._forms), default=0)

    def __len__(self) -> int:
        return len(set(self._forms.values()))

    def find(self, name: str) -> str | None:
        """The longest 档号 occurring in ``name`` as a whole word (leftmost on a tie)."""
        text = name.lower()
        best: tuple[int, int, str] | None = None  # (-length, start, code)
        for i in range(len(text)):
            if i and _ascii_alnum(text[i - 1]) and _ascii_alnum(text[i]):
                continue
            for j in range(min(len(text), i + self._longest), i, -1):
                if j < len(text) and _ascii_alnum(text[j - 1]) and _ascii_alnum(text[j]):
                    continue
                code = self._forms.get(text[i:j])
                if code is not None:
                    if best is None or (i - j, i) < best[:2]:
                        best = (i - j, i, code)
                    break
        return best[2] if best else None


def read_manifest(path: Path) -> dict[str, str]:
    """Map file paths (as written, resolved, and bare names) to 档号 from a ``档号,文件`` CSV."""
    try:
        text = path.read_text(encoding="utf-8-sig")
    except OSError as exc:
        raise ImportFailed(f"manifest {path}: cannot read ({exc.strerror})") from exc
    rows = list(csv.DictReader(text.splitlines()))
    if rows and not {"档号", "文件"} <= set(rows[0]):
        raise ImportFailed(f"manifest {path}: needs columns 档号,文件 (found {', '.join(rows[0])})")
    mapping: dict[str, str] = {}
    for lineno, row in enumerate(rows, start=2):
        code, file = (row.get("档号") or "").strip(), (row.get("文件") or "").strip()
        if not code or not file:
            raise ImportFailed(f"manifest {path}, row {lineno}: 档号 and 文件 must both be set")
        mapping[file] = code
        mapping[str((path.parent / file).resolve())] = code
        mapping.setdefault(Path(file).name, code)
    return mapping


def read_catalog_codes(path: Path) -> CatalogCodes:
    """The 档号 of a catalog file (CSV, XLSX or JSONL, read as ``lantai index`` reads it)."""
    from lantai.errors import ImportFailed
    from lantai.indexing.catalog_import import read_archival_codes

    try:
        return CatalogCodes(read_archival_codes(path))
    except ImportFailed as exc:
        raise ImportFailed(f"catalog for linking scans: {exc}") from exc


@dataclass(frozen=True)
class Linker:
    """Applies the linking rules (module docstring) to one file."""

    manifest: Mapping[str, str] | None = None
    catalog: CatalogCodes | None = None

    def link(self, path: Path, root: Path | None = None) -> Link:
        """The record of ``path``, found under the input folder ``root`` (None: the file was
        an input itself)."""
        if self.manifest:
            for key in (str(path.resolve()), str(path), path.name):
                if key in self.manifest:
                    return Link(self.manifest[key], LinkRule.MANIFEST, key)
        folders = _folders(path, root)
        if self.catalog is not None:
            for name in (path.stem, *folders):
                code = self.catalog.find(name)
                if code is not None:
                    return Link(code, LinkRule.CATALOG, name)
            return Link(None, LinkRule.UNLINKED, path.stem)
        code = find_archival_code(path.stem)
        if code is not None:
            return Link(code, LinkRule.STEM, path.stem)
        for folder in folders:
            if _is_code(folder.strip()):
                return Link(folder.strip(), LinkRule.FOLDER, folder)
        if folders and _PAGE_ONLY.match(path.stem.strip()):
            return _named(folders[0], LinkRule.FOLDER)
        return _named(path.stem, LinkRule.STEM)


def _named(name: str, rule: LinkRule) -> Link:
    record = name.strip()
    if not record or record in _RESERVED:
        return Link(None, LinkRule.UNLINKED, name)
    return Link(record, rule, name)


def _folders(path: Path, root: Path | None) -> list[str]:
    """Names of the folders holding ``path``, nearest first, up to ``root`` (inclusive)."""
    if root is None:
        parent = path.parent.resolve() if path.parent.name == "" else path.parent
        return [parent.name] if parent.name else []
    names = [p.name for p in path.relative_to(root).parents if p.name]
    top = root if root.name else root.resolve()
    return [*names, top.name] if top.name else names


def _inputs(inputs: Iterable[Path]) -> Iterator[tuple[Path, Path | None]]:
    for item in inputs:
        if item.is_dir():
            for path in sorted(item.rglob("*")):
                if path.is_file() and path.suffix.lower() in IMAGE_SUFFIXES | PDF_SUFFIXES:
                    yield path, item
        elif item.exists():
            yield item, None
        else:
            raise NotFound(f"input {item} does not exist")


def iter_files(inputs: Iterable[Path]) -> Iterator[Path]:
    """Image and PDF files under ``inputs`` (files as given, folders recursively, sorted)."""
    for path, _ in _inputs(inputs):
        yield path


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
    inputs: Iterable[Path],
    manifest: Mapping[str, str] | None = None,
    catalog: CatalogCodes | Iterable[str] | None = None,
) -> Iterator[PageRef | tuple[str, str]]:
    """Yield a :class:`PageRef` per page, or ``(item, reason)`` for a file that cannot be
    opened at all (so the batch reports it and goes on). ``catalog``: 档号 to look for in
    file and folder names (rule 2 of the module docstring)."""
    if catalog is not None and not isinstance(catalog, CatalogCodes):
        catalog = CatalogCodes(catalog)
    linker = Linker(manifest, catalog)
    used: dict[tuple[str, str], int] = {}
    for path, root in _inputs(inputs):
        try:
            pages = count_pages(path)
        except PageLoadError as exc:
            yield (str(path), str(exc))
            continue
        link = linker.link(path, root)
        folder = link.record or UNLINKED
        for page_no in range(1, pages + 1):
            stem = path.stem if pages == 1 else f"{path.stem}_p{page_no:04d}"
            # two files with one stem in one record (a.tif and a.jpg) must not overwrite
            n = used.get((folder, stem), 0)
            used[(folder, stem)] = n + 1
            if n:
                stem = f"{stem}~{n}"
            yield PageRef(str(path), page_no, pages, link.record, stem, link)


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
