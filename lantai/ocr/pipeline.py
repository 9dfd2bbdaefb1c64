"""One page image in, one :class:`~lantai.ocr.model.OcrPage` out.

Preprocessing (grayscale, contrast, deskew) → page orientation (a scan lying on its side or
upside down is turned upright) → engine → layout analysis (two-page spreads are split there, on
the recognised lines). Layout runs in the straightened frame the engine saw, where lines are
level and their boxes tight; the result is then mapped back to the original image, so polygons
always point at the scan the archive holds, whatever was done to the page before recognition.
"""

from __future__ import annotations

from typing import Any

from lantai.ocr import layout, preprocess
from lantai.ocr.engines.base import OcrEngine
from lantai.ocr.model import OcrBlock, OcrLine, OcrPage


class _Frame:
    """Maps points of the engine's image (deskewed, then turned upright) back to the scan."""

    def __init__(self, shape: tuple[int, int], skew: float, quarter_turns: int) -> None:
        cv2: Any = preprocess._cv2()
        self._np: Any = preprocess._np()
        h, w = shape
        self.turns = quarter_turns % 4
        # the deskewed page has the scan's size; turning it swaps the sides for odd turns
        self._deskewed = (h, w)
        self._inverse = (
            cv2.invertAffineTransform(cv2.getRotationMatrix2D((w / 2, h / 2), skew, 1.0))
            if skew
            else None
        )

    def points(self, pts: Any) -> Any:
        np = self._np
        pts = np.asarray(pts, dtype=np.float64).reshape(-1, 2).copy()
        h, w = self._deskewed
        # undo the clockwise quarter turns (np.rot90(img, -1)), last first. One turn maps
        # (x, y) of an image H pixels high to (H-1-y, x), so undoing it maps (x', y') to
        # (y', H-1-x'); the image before turn j is h high for odd j, w high for even j.
        for j in range(self.turns, 0, -1):
            before = h if j % 2 == 1 else w
            pts = np.stack([pts[:, 1], (before - 1) - pts[:, 0]], axis=1)
        if self._inverse is not None:
            pts = pts @ self._inverse[:, :2].T + self._inverse[:, 2]
        return pts

    def polygon(self, polygon: Any) -> tuple[tuple[int, int], ...]:
        return tuple((round(x), round(y)) for x, y in self.points(polygon))

    def bbox(self, box: tuple[int, int, int, int]) -> tuple[int, int, int, int]:
        x0, y0, x1, y1 = box
        pts = self.points([(x0, y0), (x1, y0), (x1, y1), (x0, y1)])
        return (
            round(pts[:, 0].min()),
            round(pts[:, 1].min()),
            round(pts[:, 0].max()),
            round(pts[:, 1].max()),
        )


def _to_scan(lay: layout.Layout, frame: _Frame, shape: tuple[int, int]) -> layout.Layout:
    if frame.turns == 0 and frame._inverse is None:
        return lay
    h, w = shape

    def clip_pt(p: tuple[int, int]) -> tuple[int, int]:
        return min(max(p[0], 0), w - 1), min(max(p[1], 0), h - 1)

    lines = tuple(
        OcrLine(
            ln.text,
            tuple(clip_pt(p) for p in frame.polygon(ln.polygon)),
            ln.confidence,
            ln.order,
            ln.block,
            ln.vertical,
        )
        for ln in lay.lines
    )
    blocks = tuple(OcrBlock(b.id, b.kind, frame.bbox(b.bbox)) for b in lay.blocks)
    return layout.Layout(lines=lines, blocks=blocks, direction=lay.direction)


def ocr_image(
    image: Any,
    engine: OcrEngine,
    *,
    image_name: str = "",
    page_no: int = 1,
    deskew: bool = True,
    split_spreads: bool = True,
    orient: bool = True,
    use_rules: bool = True,
) -> OcrPage:
    """Recognise one page image (numpy array) and return it with reading order and blocks.

    ``orient`` lets the engine turn a page that lies on its side or upside down (the quarter
    turns are reported in ``OcrPage.rotation``); polygons are in the scan's own pixels either way.
    ``use_rules`` lets printed rules separate blocks (off: whitespace alone decides).
    """
    np: Any = preprocess._np()
    gray = preprocess.to_gray(image)
    height, width = gray.shape[:2]
    prepared = preprocess.prepare(gray, deskew=deskew)
    turns = 0
    if prepared.blank:
        lay = layout.Layout(lines=(), blocks=(), direction="horizontal")
    else:
        work = prepared.image
        if orient:
            turns = engine.orientation(work) % 4
            if turns:
                work = np.ascontiguousarray(np.rot90(work, -turns))
        raw = engine.recognize(work)
        rules = preprocess.find_rules(work, layout.body_size(raw)) if raw and use_rules else []
        lay = (
            layout.analyse_page(raw, work.shape[1], rules)
            if split_spreads
            else layout.analyse(raw, rules)
        )
        lay = _to_scan(lay, _Frame((height, width), prepared.skew, turns), (height, width))
    return OcrPage(
        image=image_name,
        page_no=page_no,
        width=width,
        height=height,
        rotation=90 * turns,
        direction=lay.direction,
        lines=lay.lines,
        blocks=lay.blocks,
        engine=engine.name,
    )
