"""Values produced by the OCR pipeline.

An :class:`OcrPage` is what the batch writes as ``<stem>.json`` and what the indexer reads back:
lines in reading order with polygons (so a search hit can point at the image), grouped into
blocks (columns, articles, headlines), plus the page's orientation and writing direction.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

Direction = Literal["horizontal", "vertical-rl", "mixed"]
Point = tuple[int, int]
Polygon = tuple[Point, ...]


@dataclass(frozen=True)
class OcrLine:
    """One recognised text line (a row, or a column on vertical pages).

    The polygon starts at the corner where reading starts: along a row the text runs from
    point 0 to point 1 (and 3 to 2) — right to left for the Republican-era rows read that way —
    and down a column from point 0 to point 3 (and 1 to 2). :meth:`OcrPage.locate` relies on it.
    """

    text: str
    polygon: Polygon
    confidence: float
    order: int  # index in page reading order, 0-based
    block: int  # OcrBlock.id this line belongs to
    vertical: bool

    @property
    def bbox(self) -> tuple[int, int, int, int]:
        """Axis-aligned box ``(x0, y0, x1, y1)`` around the polygon."""
        xs = [p[0] for p in self.polygon]
        ys = [p[1] for p in self.polygon]
        return min(xs), min(ys), max(xs), max(ys)


@dataclass(frozen=True)
class OcrBlock:
    """A group of lines read together: a paragraph/article ("text"), "heading", or "column"."""

    id: int
    kind: str
    bbox: tuple[int, int, int, int]


@dataclass(frozen=True)
class OcrPage:
    """Everything recognised on one page image."""

    image: str  # source file name (PDF pages: "<file>#<page_no>")
    page_no: int  # 1-based page number inside the source file
    width: int
    height: int
    rotation: int  # degrees clockwise the scan was turned before recognition (0/90/180/270)
    direction: Direction
    lines: tuple[OcrLine, ...]
    blocks: tuple[OcrBlock, ...]
    engine: str

    @property
    def text(self) -> str:
        """Reading-order plain text: one block's lines joined, a blank line between blocks."""
        parts: list[str] = []
        for block in sorted(self.blocks, key=lambda b: self._block_order(b.id)):
            lines = [ln.text for ln in self.lines_of(block.id) if ln.text]
            if lines:
                parts.append("\n".join(lines))
        return "\n\n".join(parts)

    def line_offsets(self) -> list[tuple[int, OcrLine]]:
        """``(start offset in text, line)`` for every line that contributes to :attr:`text`."""
        out: list[tuple[int, OcrLine]] = []
        pos = 0
        for block in sorted(self.blocks, key=lambda b: self._block_order(b.id)):
            lines = [ln for ln in self.lines_of(block.id) if ln.text]
            if not lines:
                continue
            if out:
                pos += 2  # the blank line between blocks
            for k, ln in enumerate(lines):
                if k:
                    pos += 1  # the line break inside a block
                out.append((pos, ln))
                pos += len(ln.text)
        return out

    def locate(self, start: int, end: int) -> list[tuple[int, Polygon]]:
        """Where characters ``start``–``end`` of :attr:`text` are on the image: one
        ``(line order, quadrilateral)`` per line the span touches, the quadrilateral cut from
        the line's polygon in proportion to the characters' widths (full-width characters
        count one, others half). This is how a search hit is drawn on the page image."""
        hits: list[tuple[int, Polygon]] = []
        for offset, line in self.line_offsets():
            a, b = max(start, offset), min(end, offset + len(line.text))
            if a >= b or len(line.polygon) != 4:
                continue
            widths = [1.0 if _wide(ch) else 0.5 for ch in line.text]
            total = sum(widths)
            t0 = sum(widths[: a - offset]) / total
            t1 = sum(widths[: b - offset]) / total
            hits.append((line.order, _sub_quad(line.polygon, line.vertical, t0, t1)))
        return hits

    def lines_of(self, block_id: int) -> list[OcrLine]:
        """Lines of one block, in reading order."""
        return sorted((ln for ln in self.lines if ln.block == block_id), key=lambda ln: ln.order)

    def _block_order(self, block_id: int) -> int:
        orders = [ln.order for ln in self.lines if ln.block == block_id]
        return min(orders) if orders else 1 << 30

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dict (polygons as lists)."""
        return {
            "image": self.image,
            "page_no": self.page_no,
            "width": self.width,
            "height": self.height,
            "rotation": self.rotation,
            "direction": self.direction,
            "engine": self.engine,
            "blocks": [{"id": b.id, "kind": b.kind, "bbox": list(b.bbox)} for b in self.blocks],
            "lines": [
                {
                    "text": ln.text,
                    "polygon": [list(p) for p in ln.polygon],
                    "confidence": round(ln.confidence, 4),
                    "order": ln.order,
                    "block": ln.block,
                    "vertical": ln.vertical,
                }
                for ln in self.lines
            ],
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> OcrPage:
        """Inverse of :meth:`to_dict`."""
        return cls(
            image=data["image"],
            page_no=int(data["page_no"]),
            width=int(data["width"]),
            height=int(data["height"]),
            rotation=int(data.get("rotation", 0)),
            direction=data.get("direction", "horizontal"),
            engine=data.get("engine", ""),
            blocks=tuple(
                OcrBlock(id=int(b["id"]), kind=b["kind"], bbox=tuple(b["bbox"]))
                for b in data.get("blocks", [])
            ),
            lines=tuple(
                OcrLine(
                    text=ln["text"],
                    polygon=tuple((int(p[0]), int(p[1])) for p in ln["polygon"]),
                    confidence=float(ln["confidence"]),
                    order=int(ln["order"]),
                    block=int(ln["block"]),
                    vertical=bool(ln["vertical"]),
                )
                for ln in data.get("lines", [])
            ),
        )


def _wide(ch: str) -> bool:
    import unicodedata

    return unicodedata.east_asian_width(ch) in ("W", "F")


def _sub_quad(polygon: Polygon, vertical: bool, t0: float, t1: float) -> Polygon:
    """The part of a line's quadrilateral between fractions ``t0`` and ``t1`` of its length."""
    p0, p1, p2, p3 = polygon
    # the two long edges, each in reading direction
    first, second = ((p0, p3), (p1, p2)) if vertical else ((p0, p1), (p3, p2))

    def at(edge: tuple[Point, Point], t: float) -> Point:
        (x0, y0), (x1, y1) = edge
        return round(x0 + (x1 - x0) * t), round(y0 + (y1 - y0) * t)

    if vertical:
        return (at(first, t0), at(second, t0), at(second, t1), at(first, t1))
    return (at(first, t0), at(first, t1), at(second, t1), at(second, t0))
