"""Search hits point at the page image: text offsets → line polygons, through the indexer."""

from __future__ import annotations

from pathlib import Path

from lantai.ocr.engines.base import RawLine
from lantai.ocr.layout import analyse
from lantai.ocr.model import OcrBlock, OcrLine, OcrPage


def _page(image: str = "p1.png") -> OcrPage:
    lines = (
        # a row: 10 full-width characters over x 100..300
        OcrLine(
            "一二三四五六七八九十", ((100, 50), (300, 50), (300, 70), (100, 70)), 0.9, 0, 0, False
        ),
        # a column: 4 characters over y 100..180, in a second block
        OcrLine("甲乙丙丁", ((400, 100), (420, 100), (420, 180), (400, 180)), 0.9, 1, 1, True),
    )
    blocks = (OcrBlock(0, "text", (100, 50, 300, 70)), OcrBlock(1, "text", (400, 100, 420, 180)))
    return OcrPage(image, 1, 500, 300, 0, "mixed", lines, blocks, "test")


def test_locate_cuts_the_line_polygon_at_the_characters() -> None:
    page = _page()
    assert page.text == "一二三四五六七八九十\n\n甲乙丙丁"
    start = page.text.index("三四")
    assert page.locate(start, start + 2) == [(0, ((140, 50), (180, 50), (180, 70), (140, 70)))]
    start = page.text.index("乙丙")
    assert page.locate(start, start + 2) == [(1, ((400, 120), (420, 120), (420, 160), (400, 160)))]
    # a span over the block break touches both lines
    start = page.text.index("十")
    assert [line for line, _ in page.locate(start, start + 4)] == [0, 1]
    assert page.locate(len(page.text), len(page.text) + 5) == []


def test_right_to_left_row_is_located_from_its_right_end() -> None:
    # the recogniser read the heading left to right; layout turns it round, and its polygon
    # with it, so the first characters of the heading sit at the right
    heading = RawLine("館相照術藝泰國", ((100, 40), (380, 40), (380, 80), (100, 80)), 0.9, False)
    columns = [
        RawLine(
            "今日本埠天氣晴朗" * 2, ((x, 100), (x + 30, 100), (x + 30, 600), (x, 600)), 0.9, True
        )
        for x in (300, 250, 200, 150)
    ]
    lay = analyse([heading, *columns])
    page = OcrPage("p.png", 1, 500, 700, 0, lay.direction, lay.lines, lay.blocks, "test")
    start = page.text.index("國泰")
    ((_, quad),) = page.locate(start, start + 2)
    xs = [x for x, _ in quad]
    assert (min(xs), max(xs)) == (300, 380)


def test_hit_in_indexed_ocr_text_maps_back_to_the_image(tmp_path: Path) -> None:
    from lantai.indexing.catalog_import import load_text
    from lantai.ocr.reader import load_record_pages, locate_in_record
    from lantai.ocr.store import OutputStore

    store = OutputStore(tmp_path)
    # written out of order, and named so that plain string order would be wrong (p10 < p2)
    for stem in ("p10", "p2", "p1"):
        store.write_page(f"k-{stem}", f"{stem}.png", "A1-1", stem, _page(f"{stem}.png"))
    store.close()
    pages_text = load_text(tmp_path, "A1-1")
    assert pages_text is not None and len(pages_text) == 3
    record_text = "\n\n".join(pages_text)  # as Record.text joins them
    pages = load_record_pages(tmp_path, "A1-1")
    assert [p.image for p in pages] == ["p1.png", "p2.png", "p10.png"]
    # the second occurrence of 乙丙 is on the second page
    start = record_text.index("乙丙", record_text.index("乙丙") + 1)
    boxes = locate_in_record(pages, start, start + 2)
    assert [(b.page, b.image, b.line) for b in boxes] == [(1, "p2.png", 1)]
    assert boxes[0].polygon == ((400, 120), (420, 120), (420, 160), (400, 160))
