"""ALTO XML v4 for an :class:`~lantai.ocr.model.OcrPage`.

ALTO is what archive viewers and correction tools (Transkribus, eScriptorium, Goobi, the DFG
viewer) read. One ``TextBlock`` per block, one ``TextLine`` per line with its polygon as a
``Shape``, and one ``String`` per line (CJK has no spaces to split words on) carrying the line
confidence as ``WC``. The writing direction of a block (CJK vertical columns
are upright characters, so ALTO's ``ROTATION`` does not apply) is a ``LayoutTag`` referenced by
``TAGREFS``; the block kind (text/heading) is a ``StructureTag``.
"""

from __future__ import annotations

from xml.etree import ElementTree as ET

from lantai.ocr.model import OcrPage

ALTO_NS = "http://www.loc.gov/standards/alto/ns-v4#"
SCHEMA_LOCATION = (
    "http://www.loc.gov/standards/alto/ns-v4# http://www.loc.gov/standards/alto/v4/alto-4-2.xsd"
)
_XSI = "http://www.w3.org/2001/XMLSchema-instance"


def _box(el: ET.Element, box: tuple[int, int, int, int]) -> None:
    x0, y0, x1, y1 = box
    el.set("HPOS", str(x0))
    el.set("VPOS", str(y0))
    el.set("WIDTH", str(max(0, x1 - x0)))
    el.set("HEIGHT", str(max(0, y1 - y0)))


def to_alto(page: OcrPage) -> str:
    """Serialise ``page`` as an ALTO v4 document (UTF-8 text with XML declaration)."""
    ET.register_namespace("", ALTO_NS)
    ET.register_namespace("xsi", _XSI)
    q = f"{{{ALTO_NS}}}"
    root = ET.Element(f"{q}alto", {f"{{{_XSI}}}schemaLocation": SCHEMA_LOCATION})
    desc = ET.SubElement(root, f"{q}Description")
    ET.SubElement(desc, f"{q}MeasurementUnit").text = "pixel"
    src = ET.SubElement(desc, f"{q}sourceImageInformation")
    ET.SubElement(src, f"{q}fileName").text = page.image
    step = ET.SubElement(desc, f"{q}Processing", {"ID": "ocr_0"})
    ET.SubElement(
        step, f"{q}processingStepSettings"
    ).text = f"direction={page.direction}; rotation={page.rotation}"
    software = ET.SubElement(step, f"{q}processingSoftware")
    ET.SubElement(software, f"{q}softwareName").text = f"lantai ocr ({page.engine})"

    tags = ET.SubElement(root, f"{q}Tags")
    ET.SubElement(
        tags,
        f"{q}LayoutTag",
        {"ID": "dir_vertical", "LABEL": "vertical-rl", "DESCRIPTION": "CJK vertical column"},
    )
    kinds = sorted({b.kind for b in page.blocks})
    for kind in kinds:
        ET.SubElement(tags, f"{q}StructureTag", {"ID": f"kind_{kind}", "LABEL": kind})

    layout = ET.SubElement(root, f"{q}Layout")
    pg = ET.SubElement(
        layout,
        f"{q}Page",
        {
            "ID": f"page_{page.page_no}",
            "PHYSICAL_IMG_NR": str(page.page_no),
            "WIDTH": str(page.width),
            "HEIGHT": str(page.height),
        },
    )
    space = ET.SubElement(pg, f"{q}PrintSpace")
    _box(space, (0, 0, page.width, page.height))
    for block in sorted(page.blocks, key=lambda b: page._block_order(b.id)):
        lines = page.lines_of(block.id)
        if not lines:
            continue
        tb = ET.SubElement(space, f"{q}TextBlock", {"ID": f"block_{block.id}"})
        _box(tb, block.bbox)
        refs = [f"kind_{block.kind}"]
        if lines[0].vertical:
            refs.append("dir_vertical")
        tb.set("TAGREFS", " ".join(refs))
        for line in lines:
            tl = ET.SubElement(tb, f"{q}TextLine", {"ID": f"line_{line.order}"})
            _box(tl, line.bbox)
            shape = ET.SubElement(tl, f"{q}Shape")
            ET.SubElement(
                shape,
                f"{q}Polygon",
                {"POINTS": " ".join(f"{x},{y}" for x, y in line.polygon)},
            )
            st = ET.SubElement(
                tl,
                f"{q}String",
                {
                    "ID": f"string_{line.order}",
                    "CONTENT": line.text,
                    "WC": f"{line.confidence:.3f}",
                },
            )
            _box(st, line.bbox)
    ET.indent(root)
    body = ET.tostring(root, encoding="unicode")
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + body + "\n"
