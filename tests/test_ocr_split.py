"""Detected lines that run across a blank band (newspaper sub-tiers) are cut there."""

from __future__ import annotations

import pytest

np = pytest.importorskip("numpy")
pytest.importorskip("cv2")

from lantai.ocr.engines.ppocr import split_at_gaps  # noqa: E402

CHAR, STEP, PITCH = 20, 22, 26  # glyph size, advance down a column, column pitch


def _page(blank_rows: dict[int, set[int]], columns: int = 3, cells: int = 16) -> object:
    """Columns of solid 'characters'; blank_rows[column] = cell indexes left empty."""
    page = np.full((20 + cells * STEP + 20, 40 + columns * PITCH + 40), 235, np.uint8)
    for c in range(columns):
        x = 40 + c * PITCH
        for i in range(cells):
            if i in blank_rows.get(c, set()):
                continue
            y = 20 + i * STEP
            page[y + 4 : y + CHAR - 4, x + 3 : x + CHAR - 3] = 30  # a blocky glyph
            page[y : y + CHAR, x + CHAR // 2 - 1 : x + CHAR // 2 + 1] = 30
    return page


def _column_box(column: int, cells: int = 16) -> object:
    x0 = 40 + column * PITCH - 2
    x1 = x0 + CHAR + 4
    y0, y1 = 18, 20 + cells * STEP
    return np.array([[x0, y0], [x1, y0], [x1, y1], [x0, y1]], np.float32)


def test_a_column_run_across_a_band_is_cut_in_two() -> None:
    band = {7}  # one empty cell across every column: the sub-tiers' band
    page = _page({0: band, 1: band, 2: band})
    parts = split_at_gaps(page, _column_box(1))
    assert len(parts) == 2
    upper, lower = (p[:, 1] for p in parts)
    band_top, band_bottom = 20 + 7 * STEP, 20 + 8 * STEP
    assert upper.max() <= band_top + 4 and lower.min() >= band_bottom - 4 - 2
    assert upper.min() == pytest.approx(18, abs=1) and lower.max() == pytest.approx(372, abs=1)


def test_a_blank_inside_one_column_is_not_a_band() -> None:
    # 挪抬: one column leaves a cell blank, its neighbours are printed there
    page = _page({1: {7}})
    box = _column_box(1)
    parts = split_at_gaps(page, box)
    assert len(parts) == 1 and (parts[0] == box).all()


def test_a_band_beside_only_one_neighbour_is_not_enough() -> None:
    page = _page({0: {7}, 1: {7}})  # the right-hand neighbour is printed across the gap
    assert len(split_at_gaps(page, _column_box(1))) == 1


def test_horizontal_lines_need_a_wider_gap() -> None:
    # the same band turned on its side: a one-character gap in a row is punctuation's size
    page = np.ascontiguousarray(_page({0: {7}, 1: {7}, 2: {7}}).T)
    box = _column_box(1)[:, ::-1].copy()  # (y, x) -> (x, y): now a row
    box = box[[0, 3, 2, 1]]  # clockwise from top-left again
    assert len(split_at_gaps(page, box)) == 1
    wide = np.ascontiguousarray(_page({0: {7, 8}, 1: {7, 8}, 2: {7, 8}}).T)
    assert len(split_at_gaps(wide, box)) == 2


# --- split_at_bands: a band too narrow to see in one line, shown by its neighbours ----------


def _boxes_with_tiers(
    merged: set[int], columns: int = 5, band: tuple[int, int] = (200, 208)
) -> list[object]:
    """Detector boxes of ``columns`` columns in two sub-tiers parted by a narrow band; the
    columns in ``merged`` were detected as one line across it."""
    boxes = []
    for c in range(columns):
        x0 = 40 + c * PITCH - 2
        x1 = x0 + CHAR + 4
        spans = [(18, 372)] if c in merged else [(18, band[0] + 3), (band[1] - 3, 372)]
        for y0, y1 in spans:
            boxes.append(np.array([[x0, y0], [x1, y0], [x1, y1], [x0, y1]], np.float32))
    return boxes


def _ys(parts: list[object]) -> list[tuple[int, int]]:
    return sorted((round(float(p[:, 1].min())), round(float(p[:, 1].max()))) for p in parts)


def test_a_line_merged_across_a_narrow_band_is_cut_where_its_neighbours_end() -> None:
    from lantai.ocr.engines.ppocr import split_at_bands

    page = _page({}, columns=5)
    boxes = _boxes_with_tiers({2})
    out = split_at_bands(page, boxes)
    assert len(out) == len(boxes) + 1
    merged_x = 40 + 2 * PITCH - 2
    pieces = [p for p in out if round(float(p[:, 0].min())) == merged_x]
    (top0, top1), (low0, low1) = _ys(pieces)
    assert top0 == 18 and low1 == 372
    assert 190 <= top1 == low0 <= 215  # cut near the band, at the whitest row nearby


def test_the_edge_column_of_a_block_is_cut_on_the_votes_of_its_one_side() -> None:
    from lantai.ocr.engines.ppocr import split_at_bands

    page = _page({}, columns=5)
    out = split_at_bands(page, _boxes_with_tiers({0}))
    assert len(_ys([p for p in out if round(float(p[:, 0].min())) == 38])) == 2


def test_a_column_beside_a_shorter_story_is_left_whole() -> None:
    from lantai.ocr.engines.ppocr import split_at_bands

    page = _page({}, columns=5)
    # columns 0-1 end at the band but column 3-4 run on: the two sides disagree about column 2
    boxes = _boxes_with_tiers({2, 3, 4})
    assert len(split_at_bands(page, boxes)) == len(boxes)
    # and a page where nothing ends there is not cut anywhere
    whole = _boxes_with_tiers({0, 1, 2, 3, 4})
    assert len(split_at_bands(page, whole)) == len(whole)
