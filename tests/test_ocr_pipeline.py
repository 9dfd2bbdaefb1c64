"""The page pipeline maps what the engine saw (deskewed, turned upright) back to the scan."""

from __future__ import annotations

from typing import Any

import pytest

from lantai.ocr.engines.base import OcrEngine, RawLine

np = pytest.importorskip("numpy")
pytest.importorskip("cv2")


@pytest.mark.parametrize("turns", [0, 1, 2, 3])
def test_frame_maps_turned_pixels_back(turns: int) -> None:
    from lantai.ocr.pipeline import _Frame

    h, w = 50, 80
    image = np.zeros((h, w))
    image[7, 31] = 1
    turned = np.rot90(image, -turns)  # what the engine sees after `turns` clockwise turns
    y, x = np.argwhere(turned == 1)[0]
    back = _Frame((h, w), 0.0, turns).points([(x, y)])[0]
    assert tuple(back) == (31, 7)


class _Sideways(OcrEngine):
    """Says the page needs one clockwise turn and reports one line in the turned image."""

    name = "fake"

    def __init__(self) -> None:
        self.seen: tuple[int, ...] = ()

    def orientation(self, image: Any) -> int:
        return 1

    def recognize(self, image: Any) -> list[RawLine]:
        self.seen = image.shape
        # a row near the top of the turned page
        return [RawLine("第一行文字", ((10, 5), (60, 5), (60, 15), (10, 15)), 0.99, False)]


def test_turned_page_is_reported_and_mapped_back() -> None:
    from lantai.ocr.pipeline import ocr_image

    scan = np.full((100, 200), 255, np.uint8)
    scan[40:60, 40:160] = 0  # some ink so the page is not blank
    engine = _Sideways()
    page = ocr_image(scan, engine, deskew=False)
    assert engine.seen == (200, 100)  # the engine got the page turned a quarter
    assert page.rotation == 90
    assert (page.width, page.height) == (200, 100)  # the page keeps the scan's size
    xs = [p[0] for p in page.lines[0].polygon]
    ys = [p[1] for p in page.lines[0].polygon]
    # the top rows of the turned page are the scan's left columns, read downwards
    assert (min(xs), max(xs)) == (5, 15)
    assert (min(ys), max(ys)) == (100 - 1 - 60, 100 - 1 - 10)
    assert page.blocks[0].bbox == (5, 39, 15, 89)
