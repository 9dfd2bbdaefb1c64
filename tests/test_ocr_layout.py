"""Reading order, blocks and direction on synthetic line boxes (no OCR engine)."""

from __future__ import annotations

from lantai.ocr.engines.base import RawLine
from lantai.ocr.layout import analyse, analyse_page, find_gutter, page_direction
from lantai.ocr.model import OcrPage


def box(x0: int, y0: int, x1: int, y1: int, text: str, vertical: bool | None = None) -> RawLine:
    if vertical is None:
        vertical = (y1 - y0) > 1.5 * (x1 - x0)
    return RawLine(text, ((x0, y0), (x1, y0), (x1, y1), (x0, y1)), 0.9, vertical)


def column(x: int, y0: int, y1: int, text: str, width: int = 30) -> RawLine:
    return box(x, y0, x + width, y1, text, True)


def row(y: int, x0: int, x1: int, text: str, height: int = 30) -> RawLine:
    return box(x0, y, x1, y + height, text, False)


def texts(lines: list[RawLine]) -> list[str]:
    return [ln.text for ln in analyse(lines).lines]


def test_vertical_columns_read_right_to_left_top_to_bottom() -> None:
    lines = [column(100, 100, 600, "三"), column(200, 100, 600, "二"), column(300, 100, 600, "一")]
    assert texts(lines) == ["一", "二", "三"]


def test_fragments_of_one_column_stay_together() -> None:
    # the detector broke the right column at a punctuation mark (gap under half a character);
    # its lower part must follow its upper part, not the next column
    lines = [
        column(140, 100, 600, "二"),
        column(180, 345, 600, "一下"),
        column(180, 100, 330, "一上"),
    ]
    assert texts(lines) == ["一上", "一下", "二"]


def test_stacked_articles_on_vertical_page_are_separate_blocks_in_band_order() -> None:
    top = [column(400 - 40 * i, 100, 500, f"上{i}") for i in range(4)]
    bottom = [column(400 - 40 * i, 560, 960, f"下{i}") for i in range(4)]
    layout = analyse(bottom + top)
    assert [ln.text for ln in layout.lines] == [f"上{i}" for i in range(4)] + [
        f"下{i}" for i in range(4)
    ]
    assert len(layout.blocks) == 2
    assert layout.direction == "vertical-rl"


def test_horizontal_paragraphs_top_to_bottom_and_columns_left_to_right() -> None:
    left = [row(100 + 40 * i, 100, 500, f"左{i}") for i in range(3)]
    right = [row(100 + 40 * i, 600, 1000, f"右{i}") for i in range(3)]
    layout = analyse(right + left)
    assert [ln.text for ln in layout.lines] == ["左0", "左1", "左2", "右0", "右1", "右2"]
    assert layout.direction == "horizontal"


def test_fragments_of_one_row_are_joined_in_order() -> None:
    lines = [
        row(100, 312, 600, "的区别"),
        row(100, 100, 300, "网络支付"),
        row(140, 100, 600, "每一个"),
    ]
    assert texts(lines) == ["网络支付", "的区别", "每一个"]


def test_headline_across_vertical_columns_comes_first_and_is_a_heading() -> None:
    body = [column(500 - 40 * i, 200, 700, f"文{i}") for i in range(6)]
    headline = row(100, 280, 540, "大標題", height=70)
    layout = analyse([*body, headline])
    assert layout.lines[0].text == "大標題"
    assert layout.blocks[layout.lines[0].block].kind == "heading"
    assert [ln.text for ln in layout.lines[1:]] == [f"文{i}" for i in range(6)]
    assert layout.direction == "vertical-rl"


def test_mixed_direction() -> None:
    lines = [column(100, 0, 500, "一二三四五"), row(600, 0, 400, "六七八九十")]
    assert page_direction(lines) == "mixed"
    assert page_direction([]) == "horizontal"


def test_page_text_joins_lines_of_a_block_and_separates_blocks() -> None:
    top = [column(400 - 40 * i, 100, 500, f"上{i}") for i in range(2)]
    bottom = [column(400 - 40 * i, 560, 960, f"下{i}") for i in range(2)]
    layout = analyse(top + bottom)
    page = OcrPage("p.png", 1, 1000, 1000, 0, layout.direction, layout.lines, layout.blocks, "t")
    assert page.text == "上0\n上1\n\n下0\n下1"
    assert OcrPage.from_dict(page.to_dict()) == page


def test_two_page_vertical_spread_reads_right_page_first() -> None:
    left = [column(900 - 40 * i, 100, 900, f"左{i}") for i in range(6)]
    right = [column(1900 - 40 * i, 100, 900, f"右{i}") for i in range(6)]
    lines = left + right
    assert find_gutter(lines, 2000) is not None
    order = [ln.text for ln in analyse_page(lines, 2000).lines]
    assert order == [f"右{i}" for i in range(6)] + [f"左{i}" for i in range(6)]


def test_single_page_has_no_gutter() -> None:
    lines = [row(100 + 40 * i, 100, 1900, f"行{i}") for i in range(12)]
    assert find_gutter(lines, 2000) is None


def test_empty_and_blank_text_lines() -> None:
    layout = analyse([row(0, 0, 100, "  ")])
    assert layout.lines == () and layout.blocks == ()


def test_printed_rule_keeps_side_by_side_articles_apart() -> None:
    # two articles' columns sit a normal column pitch apart, only a vertical rule between them:
    # without the rule they are one block read straight through, with it two blocks
    right = [column(x, 100, 500, f"右{i}") for i, x in enumerate((400, 360, 320))]
    left = [column(x, 100, 500, f"左{i}") for i, x in enumerate((280, 240, 200))]
    rule = (314, 90, 316, 510)
    assert len(analyse(right + left).blocks) == 1
    with_rule = analyse(right + left, [rule])
    assert len(with_rule.blocks) == 2
    assert [ln.text for ln in with_rule.lines] == ["右0", "右1", "右2", "左0", "左1", "左2"]


def test_tiers_are_read_one_after_the_other() -> None:
    # an article set in two tiers of short columns, with a subheading column running the whole
    # height at its right: the subheading first, then the upper tier, then the lower tier
    # (reading column by column would interleave the tiers)
    lines = [column(400, 100, 520, "題")]
    lines += [column(x, 100, 300, f"上{i}") for i, x in enumerate((360, 320, 280))]
    lines += [column(x, 320, 520, f"下{i}") for i, x in enumerate((360, 320, 280))]
    assert texts(lines) == ["題", "上0", "上1", "上2", "下0", "下1", "下2"]


def test_rule_across_tiers_cuts_where_boxes_touch() -> None:
    # detector boxes of the two tiers overlap (no whitespace to cut at); a horizontal rule does
    lines = [column(x, 100, 330, f"上{i}") for i, x in enumerate((360, 320, 280))]
    lines += [column(x, 290, 520, f"下{i}") for i, x in enumerate((360, 320, 280))]
    tiers = ["上0", "上1", "上2", "下0", "下1", "下2"]
    assert texts(lines) != tiers  # column by column
    assert [ln.text for ln in analyse(lines, [(270, 309, 400, 311)]).lines] == tiers


def test_strokes_of_type_are_not_rules() -> None:
    from lantai.ocr.layout import real_rules

    lines = [column(300, 100, 500, "一")]
    stroke = (314, 120, 316, 480)  # down the middle of the column
    gutter = (340, 100, 342, 500)  # beside it
    assert real_rules([stroke, gutter], lines) == [gutter]


def test_find_rules_sees_a_broken_rule_and_not_the_type() -> None:
    import pytest

    np = pytest.importorskip("numpy")
    pytest.importorskip("cv2")
    from lantai.ocr.preprocess import find_rules

    page = np.full((400, 600), 255, np.uint8)
    page[200:203, 50:280] = 0  # a worn rule, broken in the middle
    page[200:203, 290:550] = 0
    page[100:130:4, 60:90] = 0  # a "character": short strokes
    rules = find_rules(page, unit=30)
    assert len(rules) == 1  # one rule, joined across the break; the strokes are not rules
    # morphology with an even-sized element may shift the ends by a pixel
    assert all(abs(a - b) <= 1 for a, b in zip(rules[0], (50, 200, 549, 202), strict=True))


def test_right_to_left_headings_over_columns_are_turned_round() -> None:
    from lantai.ocr.rtl import reads_right_to_left, reverse

    assert reads_right_to_left("館相照術藝泰國")  # 國泰藝術照相館, as the recogniser reads it
    assert reads_right_to_left("六之圖地事時際國……心軸馬羅林柏")
    assert not reads_right_to_left("國泰藝術照相館")
    assert not reads_right_to_left("本報忠實報道新聞")
    assert reads_right_to_left("號百八千三第")  # 第三千八百號: numbers read one way only
    assert not reads_right_to_left("第三千八百號")
    # a full date: 二十 and 十二 are both words, so the numerals themselves must not vote
    assert reads_right_to_left("三期星日六廿月四年八十二國民華中")
    assert not reads_right_to_left("中華民國二十八年四月廿六日星期三")
    assert reverse("（重慶）電") == "電（慶重）"
    heading = row(40, 100, 400, "館相照術藝泰國")
    columns = [column(x, 100, 600, "今日本埠天氣晴朗" * 2) for x in (300, 250, 200, 150)]
    assert analyse([heading, *columns]).lines[0].text == "國泰藝術照相館"
    # a page of left-to-right rows keeps its rows as they are
    rows = [row(100 + 40 * i, 100, 400, "館相照術藝泰國") for i in range(3)]
    assert [ln.text for ln in analyse(rows).lines] == ["館相照術藝泰國"] * 3


def test_find_rules_sees_a_wavy_rule_and_not_a_column_of_type() -> None:
    import math

    import pytest

    np = pytest.importorskip("numpy")
    cv2 = pytest.importorskip("cv2")
    from lantai.ocr.preprocess import find_rules

    page = np.full((700, 400), 255, np.uint8)
    # a beaded wavy rule (波纹线) down the page at x ≈ 200: ±4 px, a bead every 60 px
    points = [(round(200 + 4 * math.sin(y / 6)), y) for y in range(50, 650)]
    cv2.polylines(page, [np.array(points, np.int32)], False, 0, 2)
    for y in range(80, 650, 60):
        cv2.circle(page, (round(200 + 4 * math.sin(y / 6)), y), 3, 0, -1)
    # a column of "characters" beside it: strokes in cells with blank rows between them
    for y in range(60, 640, 34):
        page[y : y + 26, 268:271] = 0  # a vertical stroke through every character
        page[y + 4 : y + 7, 256:284] = 0
        page[y + 18 : y + 21, 256:284] = 0
    # and a column of close-set characters, blurred so that no row between them is blank:
    # thin ink on every step, but many pieces, not one stroke
    for k, y in enumerate(range(60, 640, 28)):
        x = 99 + 5 * (k % 2)  # the strokes of one character, then the next: not one line
        page[y : y + 25, x : x + 3] = 0
    page = cv2.GaussianBlur(page, (0, 0), 0.8)
    rules = find_rules(page, unit=30)
    vertical = [r for r in rules if r[3] - r[1] > r[2] - r[0]]
    assert len(vertical) == 1
    x0, y0, x1, y1 = vertical[0]
    assert x0 <= 196 and x1 >= 204 and x1 - x0 <= 30  # the wave's axis, no wider than a column
    assert y0 <= 60 and y1 >= 640


def test_blurred_columns_of_a_generated_newspaper_are_not_wavy_rules() -> None:
    import pytest

    pytest.importorskip("cv2")
    from lantai.errors import MissingDependency
    from lantai.ocr.preprocess import find_rules, prepare
    from testkit.ocr_newspaper import NewspaperSpec, render_newspaper
    from testkit.ocr_pages import find_cjk_font

    try:
        font = find_cjk_font()
    except MissingDependency as exc:
        pytest.skip(str(exc))
    # the generator prints straight rules only; its degraded pages blur the close-set type
    # so much that a column has thin ink on nearly every step
    page = render_newspaper(NewspaperSpec("traditional", "degraded", seed=4), font)
    gray = prepare(page.image).image
    # the pipeline's unit is the median detector box thickness: 10.5 pt at 150 dpi is 22 px
    # type in boxes of about 28 px
    for unit in (24.0, 28.0, 32.0):
        assert find_rules(gray, unit) == find_rules(gray, unit, wavy=False)
