"""A deterministic stand-in engine for tests of the batch machinery (no model needed).

Its text depends on the image content, so a changed image gives changed output.
"""

from __future__ import annotations

import hashlib
import time
from typing import Any

from lantai.ocr.engines.base import OcrEngine, RawLine


class FakeEngine(OcrEngine):
    """Returns one horizontal line naming the image's content hash."""

    name = "fake"

    def __init__(self, delay: float = 0.0) -> None:
        self.delay = delay
        self.calls = 0

    def recognize(self, image: Any) -> list[RawLine]:
        self.calls += 1
        if self.delay:
            time.sleep(self.delay)
        h, w = image.shape[:2]
        digest = hashlib.sha1(image.tobytes()).hexdigest()[:8]
        return [
            RawLine(f"页{digest}", ((0, 0), (w - 1, 0), (w - 1, h // 4), (0, h // 4)), 0.99, False)
        ]


def fake_engine() -> OcrEngine:
    """Picklable factory for worker processes."""
    return FakeEngine()


def slow_fake_engine() -> OcrEngine:
    """Factory for a fake engine that takes 20 ms a page (kill-and-resume tests)."""
    return FakeEngine(delay=0.02)
