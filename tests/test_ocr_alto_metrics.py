"""ALTO v4 output structure and the OCR quality measures."""

from __future__ import annotations

from xml.etree import ElementTree as ET

from lantai.ocr.alto import ALTO_NS, to_alto
from lantai.ocr.metrics import aligned_cer, cer, han_f1, han_only, levenshtein, substring_distance
from lantai.ocr.model import OcrBlock, OcrLine, OcrPage

Q = f"{{{ALTO_NS}}}"


def sample_page() -> OcrPage:
    lines = (
        OcrLine("大標題", ((10, 10), (300, 10), (300, 60), (10, 60)), 0.97, 0, 0, False),
        OcrLine("據此間消息", ((260, 80), (290, 80), (290, 400), (260, 400)), 0.8, 1, 1, True),
        OcrLine("A&B <x>", ((220, 80), (250, 80), (250, 400), (220, 400)), 0.5, 2, 1, True),
    )
    blocks = (OcrBlock(0, "heading", (10, 10, 300, 60)), OcrBlock(1, "text", (220, 80, 290, 400)))
    return OcrPage("scan 1.jpg", 1, 320, 420, 0, "vertical-rl", lines, blocks, "ppocr")


def test_alto_is_well_formed_v4_with_required_structure() -> None:
    xml = to_alto(sample_page())
    assert xml.startswith('<?xml version="1.0" encoding="UTF-8"?>')
    root = ET.fromstring(xml.encode("utf-8"))
    assert root.tag == f"{Q}alto"
    # schema order: Description, (Styles), Tags, Layout
    assert [child.tag for child in root] == [f"{Q}Description", f"{Q}Tags", f"{Q}Layout"]
    assert root.find(f"{Q}Description/{Q}MeasurementUnit").text == "pixel"
    page = root.find(f"{Q}Layout/{Q}Page")
    assert page is not None and page.get("PHYSICAL_IMG_NR") == "1"
    assert (page.get("WIDTH"), page.get("HEIGHT")) == ("320", "420")
    blocks = page.findall(f"{Q}PrintSpace/{Q}TextBlock")
    assert [b.get("ID") for b in blocks] == ["block_0", "block_1"]
    assert "dir_vertical" in blocks[1].get("TAGREFS", "").split()
    ids = [el.get("ID") for el in root.iter() if el.get("ID")]
    assert len(ids) == len(set(ids))
    tag_ids = {t.get("ID") for t in root.find(f"{Q}Tags")}
    lines = [line for block in blocks for line in block.findall(f"{Q}TextLine")]
    assert [line.get("ID") for line in lines] == ["line_0", "line_1", "line_2"]
    for block in blocks:
        assert set(block.get("TAGREFS", "").split()) <= tag_ids
    for line in lines:
        # Shape comes before String in TextLineType
        assert [c.tag for c in line] == [f"{Q}Shape", f"{Q}String"]
        for attr in ("HPOS", "VPOS", "WIDTH", "HEIGHT"):
            assert int(line.get(attr)) >= 0
        wc = float(line.find(f"{Q}String").get("WC"))
        assert 0.0 <= wc <= 1.0
    contents = [s.get("CONTENT") for s in root.iter(f"{Q}String")]
    assert contents == ["大標題", "據此間消息", "A&B <x>"]  # escaping round-trips
    polygon = root.find(f".//{Q}TextLine[@ID='line_1']/{Q}Shape/{Q}Polygon").get("POINTS")
    assert polygon == "260,80 290,80 290,400 260,400"


def test_empty_page_alto() -> None:
    page = OcrPage("blank.png", 1, 10, 10, 0, "horizontal", (), (), "fake")
    root = ET.fromstring(to_alto(page).encode("utf-8"))
    assert root.find(f"{Q}Layout/{Q}Page/{Q}PrintSpace") is not None
    assert page.text == ""


def test_han_f1_is_order_insensitive_and_ignores_non_han() -> None:
    assert han_only("1939年，晶報A") == "年晶報"
    perfect = han_f1("晶報創刊", "刊創報晶!!")
    assert perfect.f1 == 1.0
    half = han_f1("甲乙丙丁", "甲乙戊己")
    assert half.precision == 0.5 and half.recall == 0.5
    assert han_f1("甲", "").f1 == 0.0


def test_cer_and_alignment() -> None:
    assert levenshtein("kitten", "sitting") == 3
    assert cer("abcd", "abxd") == 0.25
    assert cer("", "") == 0.0
    assert substring_distance("據此間", "前文據此間後文") == 0
    assert substring_distance("據此間", "前文據此後文") == 1
    assert aligned_cer("甲乙丙丁", "子丑甲乙丙丁寅") == 0.0
    # out-of-order columns cannot align as one run
    assert aligned_cer("甲乙丙丁", "丙丁甲乙") == 0.5
