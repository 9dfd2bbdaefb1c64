"""OCR and segmentation: scans to searchable, located text.

Pipeline: :mod:`sources` (find pages, link them to 档号) → :mod:`preprocess` → an engine from
:mod:`engines` → :mod:`layout` (blocks, reading order) → :mod:`store` (``.txt``, ALTO, JSON,
journal). :mod:`batch` runs it over many files; :mod:`reader` reads the output back for the
indexer. Heavy dependencies (onnxruntime, OpenCV, PDFium) load only when a page is processed.
"""

from lantai.ocr.model import OcrBlock, OcrLine, OcrPage

__all__ = ["OcrBlock", "OcrLine", "OcrPage"]
