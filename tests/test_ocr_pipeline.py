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


def test_auto_takes_the_best_engine_that_can_run(monkeypatch: pytest.MonkeyPatch) -> None:
    import lantai.ocr.engines as engines
    from lantai.errors import MissingDependency

    def missing() -> OcrEngine:
        raise MissingDependency("not installed")

    fallback = _Sideways()
    monkeypatch.setattr(engines, "_ppocr", missing)
    monkeypatch.setattr(engines, "_paddleocr", missing)
    monkeypatch.setattr(engines, "_tesseract", lambda: fallback)
    assert engines.create_engine("auto") is fallback
    monkeypatch.setattr(engines, "_tesseract", missing)
    with pytest.raises(MissingDependency, match="no OCR engine can run here"):
        engines.create_engine("auto")


def test_model_sets_come_from_installed_wheels() -> None:
    from lantai.errors import ConfigError, MissingDependency
    from lantai.ocr.engines.ppocr import MODEL_SETS, model_files

    with pytest.raises(ConfigError, match="unknown PP-OCR model set 'v9'"):
        model_files("v9")
    assert MODEL_SETS
    for name in MODEL_SETS:
        try:
            files = model_files(name)
        except MissingDependency as exc:  # that wheel is not installed here: say which extra
            assert "lantai[ocr]" in str(exc), name
            continue
        assert files.det.is_file() and files.rec.is_file()
        assert name.split("-")[0] in files.name
