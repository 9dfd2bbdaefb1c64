"""Real OCR engines (marker ``ocr``): the shared smoke set and generated pages with ground truth."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from lantai.errors import MissingDependency
from lantai.ocr.metrics import cer, han_only, levenshtein

pytestmark = pytest.mark.ocr

SHARED = Path(__file__).resolve().parents[2] / "shared"
SMOKE = SHARED / "data" / "ocr" / "smoke"
FIXTURES = Path(__file__).resolve().parent / "fixtures" / "ocr"


@pytest.fixture(scope="module")
def ppocr():  # type: ignore[no-untyped-def]
    from lantai.ocr.engines import create_engine

    try:
        return create_engine("ppocr")
    except MissingDependency as exc:
        pytest.skip(str(exc))


def _fold(text: str) -> str:
    """Traditional → simplified, so a variant form (參/参) is not counted as a miss."""
    import opencc

    return str(opencc.OpenCC("t2s").convert(text))


def _smoke_labels() -> list[dict[str, str]]:
    if not SMOKE.is_dir():
        return []
    return [json.loads(line) for line in (SMOKE / "labels.jsonl").read_text("utf-8").splitlines()]


@pytest.mark.parametrize("label", _smoke_labels() or [None], ids=lambda d: d and d["image"])
def test_smoke_set(ppocr, label) -> None:  # type: ignore[no-untyped-def]
    if label is None:
        pytest.skip("../shared/data/ocr/smoke is absent")
    import cv2

    from lantai.ocr.pipeline import ocr_image

    image = cv2.imread(str(SMOKE / label["image"]), cv2.IMREAD_UNCHANGED)
    page = ocr_image(image, ppocr, image_name=label["image"])
    expected = han_only(_fold(label["text"]))
    got_lines = [han_only(_fold(ln.text)) for ln in page.lines]
    if label["scope"].startswith("full image"):
        # every expected line, in order, within 3 % — or two characters on short labels: a
        # "——" dash is drawn like the Han "一" and both model sets read one as the other
        errors = levenshtein(expected, "".join(got_lines))
        assert errors <= max(2, 0.03 * len(expected)), page.text
    else:
        # the label covers one line/column only: it must come out as one of the lines
        best = min(cer(expected, line) for line in got_lines)
        assert best <= 0.1, page.text
    if label["image"] == "rapidocr_text_vertical_words.png":
        assert page.direction == "vertical-rl"
        # the left-most of three columns is read last
        assert han_only(_fold(page.lines[-1].text)) == expected


@pytest.mark.parametrize(
    ("stem", "limit"),
    [
        ("horizontal_simplified_clean", 0.01),
        ("vertical_traditional_clean", 0.02),
        ("horizontal_traditional_degraded", 0.05),
    ],
)
def test_committed_generated_pages(ppocr, stem: str, limit: float) -> None:  # type: ignore[no-untyped-def]
    import cv2

    from lantai.ocr.pipeline import ocr_image

    image_path = next(FIXTURES.glob(f"{stem}.*g"))
    truth = (FIXTURES / f"{stem}.gt.txt").read_text("utf-8")
    page = ocr_image(cv2.imread(str(image_path), cv2.IMREAD_UNCHANGED), ppocr)
    if "degraded" in stem:
        # degraded traditional type is often read in its simplified form (題 → 题); the index
        # folds scripts anyway, so score folded here. Strict CER is in bench/ocr/README.md.
        truth, got = _fold(truth), _fold(page.text)
    else:
        got = page.text
    assert cer(han_only(truth), han_only(got)) <= limit, page.text


@pytest.mark.parametrize("direction", ["horizontal", "vertical"])
@pytest.mark.parametrize("script", ["simplified", "traditional"])
def test_freshly_generated_a4_pages(ppocr, direction: str, script: str) -> None:  # type: ignore[no-untyped-def]
    from lantai.ocr.pipeline import ocr_image
    from testkit.ocr_pages import PageSpec, render

    try:
        page = render(PageSpec(direction, script, "clean", seed=7))
    except MissingDependency as exc:
        pytest.skip(str(exc))
    result = ocr_image(page.image, ppocr)
    limit = 0.01 if direction == "horizontal" else 0.02
    assert cer(han_only(page.text), han_only(result.text)) <= limit
    assert result.direction == ("horizontal" if direction == "horizontal" else "vertical-rl")


def test_tesseract_reads_a_clean_page() -> None:
    import cv2

    from lantai.ocr.engines import create_engine
    from lantai.ocr.pipeline import ocr_image

    try:
        engine = create_engine("tesseract")
    except MissingDependency as exc:
        pytest.skip(str(exc))
    image = cv2.imread(str(FIXTURES / "horizontal_simplified_clean.png"))
    truth = (FIXTURES / "horizontal_simplified_clean.gt.txt").read_text("utf-8")
    page = ocr_image(image, engine)
    assert cer(han_only(truth), han_only(page.text)) <= 0.1, page.text


@pytest.mark.parametrize("direction", ["horizontal", "vertical"])
@pytest.mark.parametrize("turns", [1, 2, 3])
def test_turned_scans_read_right(ppocr, direction: str, turns: int) -> None:  # type: ignore[no-untyped-def]
    """A scan lying on its side or upside down comes out in reading order, and the polygons
    point at the scan as it is; an upside-down page is turned and says so."""
    import numpy as np

    from lantai.ocr.pipeline import ocr_image
    from testkit.ocr_pages import PageSpec, render

    try:
        page = render(PageSpec(direction, "traditional", "clean", seed=3, max_lines=8))
    except MissingDependency as exc:
        pytest.skip(str(exc))
    scan = np.ascontiguousarray(np.rot90(page.image, turns))  # counter-clockwise
    result = ocr_image(scan, ppocr)
    assert cer(han_only(page.text), han_only(result.text)) <= 0.02
    if turns == 2:
        assert result.rotation == 180
    h, w = scan.shape[:2]
    for line in result.lines:
        assert all(0 <= x < w and 0 <= y < h for x, y in line.polygon)
        x0 = min(p[0] for p in line.polygon)
        y0 = min(p[1] for p in line.polygon)
        x1 = max(p[0] for p in line.polygon)
        y1 = max(p[1] for p in line.polygon)
        assert scan[y0 : y1 + 1, x0 : x1 + 1].min() < 128  # the box holds ink
