"""OCR engines behind one contract (:class:`~lantai.ocr.engines.base.OcrEngine`).

``create_engine(name)`` picks one from a registry; each engine module imports its heavy
dependency only when the engine is created.
"""

from __future__ import annotations

from collections.abc import Callable

from lantai.errors import ConfigError, MissingDependency
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


def _auto() -> OcrEngine:
    """The best engine installed, by measurement (bench/ocr/README.md): PP-OCR wherever it
    can run, else PaddleOCR's own pipeline, else Tesseract. No page is routed to another
    engine: with PP-OCRv6 small, Tesseract was worse on every page kind measured (vertical,
    traditional, degraded, the ECPO fold)."""
    errors: list[str] = []
    for factory in (_ppocr, _paddleocr, _tesseract):
        try:
            return factory()
        except MissingDependency as exc:
            errors.append(str(exc))
    raise MissingDependency("no OCR engine can run here: " + "; ".join(errors))


ENGINES: dict[str, Callable[[], OcrEngine]] = {
    "auto": _auto,
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
