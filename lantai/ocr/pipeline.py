"""One page image in, one :class:`~lantai.ocr.model.OcrPage` out.

Preprocessing (grayscale, contrast, deskew) → engine → layout analysis (two-page spreads are
split there, on the recognised lines). Engine
coordinates are mapped back to the original image, so polygons always point at the scan the
archive holds, whatever was done to the page before recognition.
"""

from __future__ import annotations

from typing import Any

from lantai.ocr import layout, preprocess
from lantai.ocr.engines.base import OcrEngine, RawLine
from lantai.ocr.model import OcrPage


def _unrotate(lines: list[RawLine], angle: float, shape: tuple[int, int], dx: int) -> list[RawLine]:
    """Map polygons from the deskewed half-page back to the original page."""
    if not angle and not dx:
        return lines
    cv2: Any = preprocess._cv2()
    np: Any = preprocess._np()
    h, w = shape
    inverse = cv2.invertAffineTransform(cv2.getRotationMatrix2D((w / 2, h / 2), angle, 1.0))
    out = []
    for ln in lines:
        pts = np.array(ln.polygon, dtype=np.float64)
        if angle:
            pts = pts @ inverse[:, :2].T + inverse[:, 2]
        pts[:, 0] += dx
        polygon = tuple((round(x), round(y)) for x, y in pts)
        out.append(RawLine(ln.text, polygon, ln.confidence, ln.vertical))
    return out


def ocr_image(
    image: Any,
    engine: OcrEngine,
    *,
    image_name: str = "",
    page_no: int = 1,
    deskew: bool = True,
    split_spreads: bool = True,
) -> OcrPage:
    """Recognise one page image (numpy array) and return it with reading order and blocks."""
    gray = preprocess.to_gray(image)
    height, width = gray.shape[:2]
    prepared = preprocess.prepare(gray, deskew=deskew)
    if prepared.blank:
        lay = layout.Layout(lines=(), blocks=(), direction="horizontal")
    else:
        raw = _unrotate(engine.recognize(prepared.image), prepared.skew, (height, width), 0)
        lay = layout.analyse_page(raw, width) if split_spreads else layout.analyse(raw)
    return OcrPage(
        image=image_name,
        page_no=page_no,
        width=width,
        height=height,
        rotation=0,
        direction=lay.direction,
        lines=lay.lines,
        blocks=lay.blocks,
        engine=engine.name,
    )
