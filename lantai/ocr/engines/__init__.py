"""OCR engines behind one contract (:class:`~lantai.ocr.engines.base.OcrEngine`).

``create_engine(name)`` picks one from a registry; each engine module imports its heavy
dependency only when the engine is created.
"""

from __future__ import annotations

from collections.abc import Callable

from lantai.errors import ConfigError
from lantai.ocr.engines.base import OcrEngine, RawLine


def _ppocr() -> OcrEngine:
    from lantai.ocr.engines.ppocr import PpocrEngine

    return PpocrEngine()


def _ppocr_v5() -> OcrEngine:
    from lantai.ocr.engines.ppocr import PpocrEngine, PpocrSettings

    return PpocrEngine(PpocrSettings(models="v5-mobile"))


def _paddleocr() -> OcrEngine:
    from lantai.ocr.engines.paddle_api import PaddleApiEngine

    return PaddleApiEngine()


def _tesseract() -> OcrEngine:
    from lantai.ocr.engines.tesseract import TesseractEngine

    return TesseractEngine()


def _tesseract_vert() -> OcrEngine:
    from lantai.ocr.engines.tesseract import TesseractEngine

    return TesseractEngine(lang="chi_tra_vert+chi_sim_vert", psm=5, name="tesseract-vert")


ENGINES: dict[str, Callable[[], OcrEngine]] = {
    "ppocr": _ppocr,
    "ppocr-v5": _ppocr_v5,
    "paddleocr": _paddleocr,
    "tesseract": _tesseract,
    "tesseract-vert": _tesseract_vert,
}
DEFAULT_ENGINE = "ppocr"


def create_engine(name: str = DEFAULT_ENGINE) -> OcrEngine:
    """Create the engine called ``name`` (see :data:`ENGINES`)."""
    try:
        factory = ENGINES[name]
    except KeyError:
        raise ConfigError(
            f"unknown OCR engine {name!r} (choose from {', '.join(sorted(ENGINES))})"
        ) from None
    return factory()


__all__ = ["DEFAULT_ENGINE", "ENGINES", "OcrEngine", "RawLine", "create_engine"]
