"""IIIF Presentation 3 manifests: one per record, a canvas per stored page image, the OCR
lines of each page as ``supplementing`` text annotations (so any IIIF viewer can show and
search them), the DA/T 18 description as metadata and the citation as the required statement.

URLs are made from one ``base`` (``…/iiif/<档号>``) the caller gives; this module knows
nothing of the web framework.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from lantai.catalog.citation import Citation
from lantai.catalog.model import Record
from lantai.iiif.store import PageImage, reading_direction
from lantai.ocr.model import OcrPage

PRESENTATION_CONTEXT = "http://iiif.io/api/presentation/3/context.json"
#: What a manifest shows of the description (field, Chinese label, English label).
METADATA = (
    ("archival_code", "档号", "Reference code"),
    ("fonds_name", "全宗名称", "Fonds"),
    ("creator", "责任者", "Creator"),
    ("date_text", "日期", "Date"),
    ("doc_number", "文号", "Document number"),
    ("category", "门类", "Category"),
    ("subjects", "主题词", "Subjects"),
)


def service_id(base: str, number: int) -> str:
    return f"{base}/{number}"


def image_url(base: str, page: PageImage, width: int | None = None) -> str:
    """A whole-page JPEG: full size, or the smallest listed size at least ``width`` wide."""
    pyramid = page.pyramid
    w, h = pyramid.best_size(width) if width else (page.width, page.height)
    return f"{service_id(base, page.number)}/full/{pyramid.size_name(w, h)}/0/default.jpg"


def _lang(zh: str, en: str | None = None) -> dict[str, list[str]]:
    return {"zh": [zh], "en": [en]} if en else {"zh": [zh]}


def _lines(canvas: str, ocr: OcrPage) -> dict[str, Any]:
    items = []
    for line in sorted(ocr.lines, key=lambda ln: ln.order):
        if not line.text:
            continue
        x0, y0, x1, y1 = line.bbox
        items.append({
            "id": f"{canvas}/lines/{line.order}",
            "type": "Annotation",
            "motivation": "supplementing",
            "body": {"type": "TextualBody", "value": line.text, "format": "text/plain",
                     "language": "zh"},
            "target": f"{canvas}#xywh={x0},{y0},{max(1, x1 - x0)},{max(1, y1 - y0)}",
        })
    return {"id": f"{canvas}/lines", "type": "AnnotationPage", "items": items}


def manifest(record: Record, pages: Sequence[PageImage], ocr: Mapping[int, OcrPage], *,
             base: str, homepage: str, citation: Citation | None = None) -> dict[str, Any]:
    """The Presentation 3 manifest of ``record`` whose IIIF resources live under ``base``."""
    data = record.to_dict()
    metadata = []
    for name, zh, en in METADATA:
        value = data.get(name)
        if value in (None, "", [], ()):
            continue
        shown = "；".join(map(str, value)) if isinstance(value, list | tuple) else str(value)
        metadata.append({"label": _lang(zh, en), "value": {"none": [shown]}})
    canvases = []
    for page in pages:
        canvas = f"{base}/canvas/{page.number}"
        service = [{"id": service_id(base, page.number), "type": "ImageService3",
                    "profile": "level0"}]
        thumb_w, thumb_h = page.pyramid.best_size(200)
        item: dict[str, Any] = {
            "id": canvas,
            "type": "Canvas",
            "label": _lang(f"第{page.number}页", f"Page {page.number}"),
            "width": page.width,
            "height": page.height,
            "thumbnail": [{"id": image_url(base, page, 200), "type": "Image",
                           "format": "image/jpeg", "width": thumb_w, "height": thumb_h,
                           "service": service}],
            "items": [{
                "id": f"{canvas}/page",
                "type": "AnnotationPage",
                "items": [{
                    "id": f"{canvas}/image",
                    "type": "Annotation",
                    "motivation": "painting",
                    "body": {"id": image_url(base, page), "type": "Image",
                             "format": "image/jpeg", "width": page.width,
                             "height": page.height, "service": service},
                    "target": canvas,
                }],
            }],
        }
        if page.number in ocr:
            item["annotations"] = [_lines(canvas, ocr[page.number])]
        canvases.append(item)
    out: dict[str, Any] = {
        "@context": PRESENTATION_CONTEXT,
        "id": f"{base}/manifest.json",
        "type": "Manifest",
        "label": _lang(record.title),
        "metadata": metadata,
        "viewingDirection": reading_direction(tuple(pages)),
        "homepage": [{"id": homepage, "type": "Text", "format": "text/html",
                      "label": _lang("档案详情页", "Record page")}],
        "items": canvases,
    }
    if len(pages) > 1:
        out["behavior"] = ["paged"]
    if citation is not None:
        out["requiredStatement"] = {"label": _lang("引用", "Citation"),
                                    "value": {"zh": [citation.zh], "en": [citation.en]}}
    return out
