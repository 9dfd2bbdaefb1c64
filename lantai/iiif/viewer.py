"""What the record page's viewer shows: one page image, the query's hits drawn on it as the
OCR line boxes they fall in, and the neighbouring pages in the book's reading direction."""

from __future__ import annotations

from dataclasses import dataclass

from lantai.catalog.model import Record
from lantai.iiif.store import ImageStore, PageImage, reading_direction
from lantai.ocr.model import Polygon
from lantai.search.highlight import find_hits
from lantai.text.analysis import Analyzer

#: Width of the page image the page shows before (or without) the zoomable viewer.
DISPLAY_WIDTH = 1000


@dataclass(frozen=True)
class PageView:
    page: PageImage
    pages: tuple[PageImage, ...]
    direction: str  # right-to-left | left-to-right
    hits: tuple[Polygon, ...]  # the hits on this page, in the image's pixels
    hits_by_page: dict[int, int]  # page number → hits drawn on it (pages with OCR only)

    @property
    def index(self) -> int:
        return self.pages.index(self.page)

    @property
    def previous(self) -> PageImage | None:
        return self.pages[self.index - 1] if self.index > 0 else None

    @property
    def next(self) -> PageImage | None:
        return self.pages[self.index + 1] if self.index + 1 < len(self.pages) else None

    @property
    def display(self) -> tuple[int, int]:
        return self.page.pyramid.best_size(DISPLAY_WIDTH)


def page_view(store: ImageStore, record: Record, pages: tuple[PageImage, ...], position: int,
              terms: tuple[str, ...], analyzer: Analyzer) -> PageView | None:
    """The ``position``-th (1-based) of ``pages`` (the record's stored pages), with the hits
    of ``terms``; None when the record has no page images. A page's boxes are drawn only
    when its OCR text is the text that was indexed (a page edited after the OCR shows none)."""
    if not pages:
        return None
    page = pages[min(max(position, 1), len(pages)) - 1]
    by_page: dict[int, tuple[Polygon, ...]] = {}
    if terms:
        for each in pages:
            ocr = store.ocr_page(record.archival_code, each.number)
            index = each.number - 1
            if ocr is None or index >= len(record.pages) or ocr.text != record.pages[index]:
                continue
            spans = find_hits(record.pages[index], terms, analyzer)
            by_page[each.number] = tuple(poly for start, end in spans
                                         for _, poly in ocr.locate(start, end))
    return PageView(page=page, pages=pages, direction=reading_direction(pages),
                    hits=by_page.get(page.number, ()),
                    hits_by_page={n: len(h) for n, h in by_page.items() if h})
