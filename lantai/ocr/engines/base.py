"""The contract every OCR engine honours.

An engine turns one page image (a numpy array, grayscale or BGR) into raw lines: text, polygon
in that image's pixel coordinates, confidence, and whether the line runs vertically. Reading
order, blocks and output formats are the pipeline's job, not the engine's, so every engine gets
the same layout analysis.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass
from typing import Any

from lantai.ocr.model import Polygon


@dataclass(frozen=True)
class RawLine:
    """A line as an engine reports it, before reading order is decided."""

    text: str
    polygon: Polygon
    confidence: float
    vertical: bool


class OcrEngine(ABC):
    """One OCR engine. Instances are created once per worker and reused for many pages."""

    #: short name written into every OcrPage ("ppocr", "tesseract", ...)
    name: str = "engine"

    @abstractmethod
    def recognize(self, image: Any) -> list[RawLine]:
        """Recognise all text lines on ``image`` (H×W or H×W×3 uint8 numpy array)."""

    def orientation(self, image: Any) -> int:
        """Clockwise quarter turns (0–3) that make ``image`` upright; 0 when the engine cannot
        tell. The pipeline turns the page before :meth:`recognize`."""
        del image
        return 0

    def describe(self) -> str:
        """Engine name plus the settings that change its output (part of the cache key)."""
        return self.name
