"""Reading order and blocks from raw engine lines.

Every engine returns unordered lines; this module decides, the same way for all of them:

* the page's writing direction (share of text in vertical lines);
* blocks: lines of one orientation and similar size that sit next to each other (a paragraph,
  an article's columns, a headline);
* block order by recursive XY-cut — on vertical-rl pages bands top to bottom and, inside a band,
  blocks right to left; on horizontal pages bands top to bottom and columns left to right;
* line order inside a block — columns right to left, top to bottom inside a column; rows top to
  bottom, left to right inside a row (fragments of one column/row are kept together).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from lantai.ocr.engines.base import RawLine
from lantai.ocr.metrics import is_han
from lantai.ocr.model import Direction, OcrBlock, OcrLine

Box = tuple[int, int, int, int]


@dataclass(frozen=True)
class Layout:
    """Ordered lines, their blocks, and the page direction."""

    lines: tuple[OcrLine, ...]
    blocks: tuple[OcrBlock, ...]
    direction: Direction


def bbox_of(line: RawLine) -> Box:
    """Axis-aligned box of a raw line."""
    xs = [p[0] for p in line.polygon]
    ys = [p[1] for p in line.polygon]
    return min(xs), min(ys), max(xs), max(ys)


def page_direction(lines: Sequence[RawLine]) -> Direction:
    """``vertical-rl`` when ≥ 70 % of the characters sit in vertical lines, ``horizontal`` when
    ≤ 30 %, else ``mixed``. Counting characters, not lines, keeps stray short boxes from
    deciding."""
    vertical = sum(len(ln.text) for ln in lines if ln.vertical)
    total = sum(len(ln.text) for ln in lines)
    if total == 0:
        return "horizontal"
    share = vertical / total
    if share >= 0.7:
        return "vertical-rl"
    if share <= 0.3:
        return "horizontal"
    return "mixed"


def _thickness(box: Box, vertical: bool) -> int:
    """Line thickness: the width of a column, the height of a row (≈ the type size)."""
    return max(1, (box[2] - box[0]) if vertical else (box[3] - box[1]))


def body_size(lines: Sequence[RawLine]) -> float:
    """The page's body type size: the median line thickness in pixels (0 without lines)."""
    if not lines:
        return 0.0
    thick = sorted(_thickness(bbox_of(ln), ln.vertical) for ln in lines)
    return float(thick[len(thick) // 2])


def _overlap(a0: int, a1: int, b0: int, b1: int) -> int:
    return max(0, min(a1, b1) - max(a0, b0))


def _same_block(a: Box, b: Box, vertical: bool, ta: int, tb: int) -> bool:
    """Two lines of one orientation belong together when their type size matches, they run
    side by side (overlap along the reading axis) and the gap across is under one line."""
    if max(ta, tb) > 1.35 * min(ta, tb):
        return False
    t = (ta + tb) / 2
    ax0, ax1, ay0, ay1 = (1, 3, 0, 2) if vertical else (0, 2, 1, 3)  # along / across axes
    # fragments of one line: centred on the same row (column), small gap along it. Centres,
    # not overlap: boxes of small type are wider than the line pitch and overlap neighbours
    offset = abs((a[ay0] + a[ay1]) - (b[ay0] + b[ay1])) / 2
    if offset <= 0.3 * min(ta, tb):
        gap_along = max(a[ax0], b[ax0]) - min(a[ax1], b[ax1])
        return gap_along <= 1.0 * t
    # neighbouring lines of one paragraph: side by side, starting together (a paragraph
    # indent of up to two characters allowed), gap across under one line. Requiring a common
    # start keeps the columns of two articles stacked on a newspaper page apart.
    along = _overlap(a[ax0], a[ax1], b[ax0], b[ax1])
    shorter = min(a[ax1] - a[ax0], b[ax1] - b[ax0])
    gap = max(a[ay0], b[ay0]) - min(a[ay1], b[ay1])
    starts_together = abs(a[ax0] - b[ax0]) <= 2.5 * t
    return along >= 0.5 * max(1, shorter) and gap <= 0.8 * t and starts_together


def _find(parent: list[int], i: int) -> int:
    while parent[i] != i:
        parent[i] = parent[parent[i]]
        i = parent[i]
    return i


def _crosses(a: Box, b: Box, rule: Box) -> bool:
    """Whether the segment between the centres of ``a`` and ``b`` passes through ``rule``."""
    ax, ay = (a[0] + a[2]) / 2, (a[1] + a[3]) / 2
    bx, by = (b[0] + b[2]) / 2, (b[1] + b[3]) / 2
    # Liang–Barsky clipping of the segment against the rule's rectangle
    t0, t1 = 0.0, 1.0
    for p, q in (
        (-(bx - ax), ax - rule[0]),
        (bx - ax, rule[2] - ax),
        (-(by - ay), ay - rule[1]),
        (by - ay, rule[3] - ay),
    ):
        if p == 0:
            if q < 0:
                return False
            continue
        t = q / p
        if p < 0:
            t0 = max(t0, t)
        else:
            t1 = min(t1, t)
        if t0 > t1:
            return False
    return True


def _separated(a: Box, b: Box, rules: Sequence[Box]) -> bool:
    """A printed rule runs between the two lines."""
    x0, y0 = min(a[0], b[0]), min(a[1], b[1])
    x1, y1 = max(a[2], b[2]), max(a[3], b[3])
    return any(
        r[0] <= x1 and r[2] >= x0 and r[1] <= y1 and r[3] >= y0 and _crosses(a, b, r) for r in rules
    )


def real_rules(rules: Sequence[Box], lines: Sequence[RawLine]) -> list[Box]:
    """The rules that are not strokes of type: a rule runs in the gutter between lines, so one
    lying along the middle half of a text line of its own orientation (a column of closely set
    characters whose strokes line up) is dropped."""
    kept: list[Box] = []
    cores: list[tuple[bool, Box]] = []
    for ln in lines:
        if not any(is_han(ch) for ch in ln.text):
            continue  # a rule itself, or an ornament, read as Latin letters ("mwom")
        x0, y0, x1, y1 = bbox_of(ln)
        if ln.vertical:
            q = (x1 - x0) // 4
            cores.append((True, (x0 + q, y0, x1 - q, y1)))
        else:
            q = (y1 - y0) // 4
            cores.append((False, (x0, y0 + q, x1, y1 - q)))
    for r in rules:
        vertical = (r[3] - r[1]) > (r[2] - r[0])
        length = max(1, (r[3] - r[1]) if vertical else (r[2] - r[0]))
        inside = 0
        for line_vertical, c in cores:
            if line_vertical != vertical:
                continue
            if vertical and c[0] <= (r[0] + r[2]) / 2 <= c[2]:
                inside += _overlap(r[1], r[3], c[1], c[3])
            elif not vertical and c[1] <= (r[1] + r[3]) / 2 <= c[3]:
                inside += _overlap(r[0], r[2], c[0], c[2])
        if inside < 0.3 * length:
            kept.append(r)
    return kept


def group_blocks(lines: Sequence[RawLine], rules: Sequence[Box] = ()) -> list[list[int]]:
    """Indices of ``lines`` grouped into blocks (union-find over neighbouring line pairs);
    two lines with a printed rule between them never join directly."""
    boxes = [bbox_of(ln) for ln in lines]
    thick = [_thickness(b, ln.vertical) for b, ln in zip(boxes, lines, strict=True)]
    parent = list(range(len(lines)))
    # sort along one axis so only nearby pairs are compared (pages have ~1,000 lines)
    order = sorted(range(len(lines)), key=lambda i: boxes[i][0])
    for pos, i in enumerate(order):
        for j in order[pos + 1 :]:
            # sorted by left edge: once a box starts beyond reach, no later one is a neighbour
            if boxes[j][0] > boxes[i][2] + 2 * max(thick[i], thick[j]):
                break
            if lines[i].vertical != lines[j].vertical:
                continue
            if _same_block(boxes[i], boxes[j], lines[i].vertical, thick[i], thick[j]) and not (
                rules and _separated(boxes[i], boxes[j], rules)
            ):
                parent[_find(parent, i)] = _find(parent, j)
    groups: dict[int, list[int]] = {}
    for i in range(len(lines)):
        groups.setdefault(_find(parent, i), []).append(i)
    return list(groups.values())


def _union_box(boxes: Sequence[Box]) -> Box:
    return (
        min(b[0] for b in boxes),
        min(b[1] for b in boxes),
        max(b[2] for b in boxes),
        max(b[3] for b in boxes),
    )


def _cuts(items: list[tuple[Box, int]], axis: int) -> list[list[tuple[Box, int]]]:
    """Split items at gaps in their projection on ``axis`` (0 = x, 1 = y), in ascending order."""
    spans = sorted(items, key=lambda it: it[0][axis])
    groups: list[list[tuple[Box, int]]] = []
    end = -(1 << 30)
    for it in spans:
        lo, hi = it[0][axis], it[0][axis + 2]
        # an overlapping span joins the current group: no gap, no cut
        if groups and lo < end:
            groups[-1].append(it)
            end = max(end, hi)
        else:
            groups.append([it])
            end = hi
    return groups


def _rule_cut(
    items: list[tuple[Box, int]], rules: Sequence[Box], direction: Direction
) -> list[list[tuple[Box, int]]] | None:
    """Split items at the printed rule that runs furthest across them (at least 60 % of their
    extent), in reading order; None when no rule does. Items are assigned by their centre."""
    box = _union_box([it[0] for it in items])
    width, height = max(1, box[2] - box[0]), max(1, box[3] - box[1])
    best: tuple[float, list[list[tuple[Box, int]]]] | None = None
    for r in rules:
        horizontal = (r[2] - r[0]) >= (r[3] - r[1])
        if horizontal:
            cover = _overlap(r[0], r[2], box[0], box[2]) / width
            at, axis = (r[1] + r[3]) / 2, 1
            inside = box[1] < at < box[3]
        else:
            cover = _overlap(r[1], r[3], box[1], box[3]) / height
            at, axis = (r[0] + r[2]) / 2, 0
            inside = box[0] < at < box[2]
        if not inside or cover < 0.6 or (best is not None and cover <= best[0]):
            continue
        before = [it for it in items if (it[0][axis] + it[0][axis + 2]) / 2 < at]
        after = [it for it in items if (it[0][axis] + it[0][axis + 2]) / 2 >= at]
        if not before or not after:
            continue
        # bands read top to bottom; columns right to left on vertical pages
        parts = [after, before] if axis == 0 and direction != "horizontal" else [before, after]
        best = (cover, parts)
    return best[1] if best else None


def _valley_cut(items: list[tuple[Box, int]]) -> list[list[tuple[Box, int]]] | None:
    """Bands split where almost nothing crosses: two tiers of short columns of which a few
    were detected as one line across the gap (their type nearly touches). A row is a valley
    when at most 15 % of the items — and at most 30 % of the busiest row's — cover it, with
    at least two items wholly on each side; crossing items go with the band holding their
    top. None when there is no such row."""
    if len(items) < 6:
        return None
    y0 = min(it[0][1] for it in items)
    y1 = max(it[0][3] for it in items)
    if y1 - y0 < 4:
        return None
    cover = [0] * (y1 - y0 + 1)
    for (x0, a, x1, b), _ in items:
        # about half a character off each end (the box is already narrowed to half its
        # width, about half a character): where the type of two tiers nearly touches, the
        # boxes around it still overlap
        trim = min(x1 - x0, (b - a) // 4)
        for y in range(a + trim - y0, b - trim - y0 + 1):
            cover[y] += 1
    peak = max(cover)
    limit = max(1.0, min(0.15 * len(items), 0.3 * peak))
    # candidate rows: the middle of every run of rows at or under the limit, lowest first
    runs: list[tuple[int, int]] = []  # (coverage, y)
    y = 0
    while y < len(cover):
        if cover[y] <= limit:
            z = y
            while z + 1 < len(cover) and cover[z + 1] <= limit:
                z += 1
            runs.append((min(cover[y : z + 1]), y0 + (y + z) // 2))
            y = z + 1
        else:
            y += 1
    for _, at in sorted(runs):
        above = [it for it in items if it[0][1] < at]
        below = [it for it in items if it[0][1] >= at]
        if sum(it[0][3] < at for it in above) >= 2 and sum(it[0][1] > at for it in below) >= 2:
            return [above, below]
    return None


def _peel(items: list[tuple[Box, int]], direction: Direction, most: int = 3) -> list[int]:
    """Ids of up to ``most`` leading lines (rightmost on vertical pages, topmost on horizontal
    ones) whose removal lets the rest be cut into bands: a subheading column running the whole
    height of an article whose body is set in two tiers. Empty when peeling does not help."""
    if len(items) <= 2:
        return []
    if direction == "horizontal":
        ordered = sorted(items, key=lambda it: (it[0][1], it[0][0]))
    else:
        ordered = sorted(items, key=lambda it: (-it[0][2], it[0][1]))
    for k in range(1, min(most, len(items) - 2) + 1):
        if len(_cuts(ordered[k:], 1)) > 1:
            return [it[1] for it in ordered[:k]]
    return []


def xy_cut(
    items: list[tuple[Box, int]],
    direction: Direction,
    fallback: Callable[[list[int]], list[int]] | None = None,
    rules: Sequence[Box] = (),
) -> list[int]:
    """Order ids by recursive XY-cut.

    Horizontal bands are always read top to bottom; inside a band, vertical-rl pages read
    right to left and horizontal pages left to right. Where whitespace gives no cut, a printed
    rule running across the items does; where neither exists, ``fallback`` orders the ids
    (default: a reading-direction sort of the boxes).
    """
    if len(items) <= 1:
        return [it[1] for it in items]
    bands = _cuts(items, 1)
    if len(bands) > 1:
        return [bid for band in bands for bid in xy_cut(band, direction, fallback, rules)]
    # a column or row spanning stacked tiers hides the cut between them: read it first
    lead = _peel(items, direction)
    if lead:
        rest = [it for it in items if it[1] not in lead]
        return lead + xy_cut(rest, direction, fallback, rules)
    parts = _rule_cut(items, rules, direction) if rules else None
    if parts is None:
        parts = _valley_cut(items)
    if parts is not None:
        return [bid for part in parts for bid in xy_cut(part, direction, fallback, rules)]
    cols = _cuts(items, 0)
    if len(cols) > 1:
        if direction != "horizontal":
            cols.reverse()
        return [bid for col in cols for bid in xy_cut(col, direction, fallback, rules)]
    if fallback is not None:
        return fallback([it[1] for it in items])
    # no clean cut (overlapping boxes): fall back to a reading-direction sort
    if direction == "horizontal":
        key = sorted(items, key=lambda it: (it[0][1], it[0][0]))
    else:
        key = sorted(items, key=lambda it: (-it[0][2], it[0][1]))
    return [it[1] for it in key]


def _order_lines(
    lines: Sequence[RawLine], idx: list[int], vertical: bool, rules: Sequence[Box] = ()
) -> list[int]:
    """Line order inside a block: XY-cut over the lines first, so two articles that ended up in
    one block (stacked, with different column pitches, or parted by a rule) are read one after
    the other, then column tracks where no cut exists. Boxes are narrowed across the line to
    half their thickness, and shortened at both ends, first: detector boxes of small type
    overlap the neighbouring line and the next tier, which would hide the gaps XY-cut needs."""
    items: list[tuple[Box, int]] = []
    for i in idx:
        x0, y0, x1, y1 = bbox_of(lines[i])
        # the detector grows every box by about a quarter of the type size on each side
        if vertical:
            q = (x1 - x0) // 4
            e = min(q, (y1 - y0) // 4)
            items.append(((x0 + q, y0 + e, x1 - q, y1 - e), i))
        else:
            q = (y1 - y0) // 4
            e = min(q, (x1 - x0) // 4)
            items.append(((x0 + e, y0 + q, x1 - e, y1 - q), i))
    direction: Direction = "vertical-rl" if vertical else "horizontal"
    return xy_cut(items, direction, lambda ids: _order_in_block(lines, ids, vertical), rules)


def _order_in_block(lines: Sequence[RawLine], idx: list[int], vertical: bool) -> list[int]:
    """Columns right to left (rows top to bottom), fragments of one column kept together."""
    boxes = {i: bbox_of(lines[i]) for i in idx}
    a0, a1 = (0, 2) if vertical else (1, 3)  # the axis across lines
    tracks: list[list[int]] = []
    for i in sorted(idx, key=lambda i: (boxes[i][a0] + boxes[i][a1]) / 2):
        b = boxes[i]
        for track in tracks:
            t = boxes[track[-1]]
            narrower = min(b[a1] - b[a0], t[a1] - t[a0])
            # centres, not overlap: detector boxes of small type are wider than the column
            # pitch, so neighbouring columns overlap by half
            offset = abs((b[a0] + b[a1]) - (t[a0] + t[a1])) / 2
            if offset <= 0.3 * max(1, narrower):
                track.append(i)
                break
        else:
            tracks.append([i])
    if vertical:
        tracks.sort(key=lambda tr: -max(boxes[i][2] for i in tr))
        return [i for tr in tracks for i in sorted(tr, key=lambda i: boxes[i][1])]
    tracks.sort(key=lambda tr: min(boxes[i][1] for i in tr))
    return [i for tr in tracks for i in sorted(tr, key=lambda i: boxes[i][0])]


def find_gutter(lines: Sequence[RawLine], width: int) -> int | None:
    """The x of a two-page spread's gutter, or None when the page is not a spread.

    Decided on the recognised lines rather than on pixels, so gaps between large characters
    are not taken for gutters: a gutter is a vertical strip in the middle fifth of the page
    that no line crosses, at least two line-thicknesses wide, with at least five lines and a
    quarter of the text on each side.
    """
    if len(lines) < 10 or width <= 0:
        return None
    boxes = [bbox_of(ln) for ln in lines]
    thick = sorted(_thickness(b, ln.vertical) for b, ln in zip(boxes, lines, strict=True))
    need = 2 * thick[len(thick) // 2]
    covered = bytearray(width + 1)
    for x0, _, x1, _ in boxes:
        covered[max(0, x0) : min(width, x1) + 1] = b"\x01" * (min(width, x1) + 1 - max(0, x0))
    lo, hi = int(0.4 * width), int(0.6 * width)
    best: tuple[int, int] | None = None  # (run length, centre)
    run = 0
    for x in range(lo, hi + 1):
        run = run + 1 if not covered[x] else 0
        if run >= need and (best is None or run > best[0]):
            best = (run, x - run // 2)
    if best is None:
        return None
    cut = best[1]
    left = [ln for ln, b in zip(lines, boxes, strict=True) if b[2] <= cut]
    right = [ln for ln, b in zip(lines, boxes, strict=True) if b[0] >= cut]
    total = sum(len(ln.text) for ln in lines)
    for side in (left, right):
        if len(side) < 5 or sum(len(ln.text) for ln in side) < 0.25 * total:
            return None
    return cut


def analyse_page(lines: Sequence[RawLine], width: int, rules: Sequence[Box] = ()) -> Layout:
    """Layout of a whole page: a two-page spread is laid out page by page (right page first
    on vertical-rl spreads, left first otherwise); anything else as one page. ``rules`` are
    printed rules (see :func:`lantai.ocr.preprocess.find_rules`) that separate blocks."""
    lines = [ln for ln in lines if ln.text.strip()]
    rules = real_rules(rules, lines)
    cut = find_gutter(lines, width)
    if cut is None:
        return analyse(lines, rules)
    direction = page_direction(lines)
    halves = [
        analyse([ln for ln in lines if bbox_of(ln)[2] <= cut], rules),
        analyse([ln for ln in lines if bbox_of(ln)[2] > cut], rules),
    ]
    if direction != "horizontal":
        halves.reverse()
    out_lines: list[OcrLine] = []
    blocks: list[OcrBlock] = []
    for half in halves:
        offset = len(blocks)
        blocks.extend(OcrBlock(b.id + offset, b.kind, b.bbox) for b in half.blocks)
        for ln in half.lines:
            out_lines.append(
                OcrLine(
                    ln.text,
                    ln.polygon,
                    ln.confidence,
                    len(out_lines),
                    ln.block + offset,
                    ln.vertical,
                )
            )
    return Layout(lines=tuple(out_lines), blocks=tuple(blocks), direction=direction)


def _drop_specks(lines: list[RawLine]) -> list[RawLine]:
    """Drop boxes too small to hold a character (dust, a lone stop read as "O")."""
    if len(lines) < 5:
        return lines
    thick = sorted(_thickness(bbox_of(ln), ln.vertical) for ln in lines)
    floor = 0.5 * thick[len(thick) // 2]
    kept = []
    for ln in lines:
        x0, y0, x1, y1 = bbox_of(ln)
        if max(x1 - x0, y1 - y0) < floor and not any("\u4e00" <= ch <= "\u9fff" for ch in ln.text):
            continue
        kept.append(ln)
    return kept


def _right_to_left_rows(lines: list[RawLine]) -> list[RawLine]:
    """Horizontal lines on a page of columns are often set right to left (Republican-era
    headings, mastheads, banners): turn round those that read clearly better that way."""
    from lantai.ocr import rtl

    out = []
    for ln in lines:
        if not ln.vertical and len(ln.polygon) == 4 and rtl.reads_right_to_left(ln.text):
            # the polygon starts where reading starts (see OcrLine): the top right corner
            p0, p1, p2, p3 = ln.polygon
            ln = RawLine(rtl.reverse(ln.text), (p1, p0, p3, p2), ln.confidence, ln.vertical)
        out.append(ln)
    return out


def analyse(lines: Sequence[RawLine], rules: Sequence[Box] = ()) -> Layout:
    """Blocks, reading order and direction for one page's raw lines."""
    lines = _drop_specks([ln for ln in lines if ln.text.strip()])
    if not lines:
        return Layout(lines=(), blocks=(), direction="horizontal")
    direction = page_direction(lines)
    if direction != "horizontal":
        lines = _right_to_left_rows(lines)
    groups = group_blocks(lines, rules)
    thick_all = sorted(_thickness(bbox_of(ln), ln.vertical) for ln in lines)
    median = thick_all[len(thick_all) // 2]
    items: list[tuple[Box, int]] = []
    kinds: dict[int, str] = {}
    for gid, idx in enumerate(groups):
        box = _union_box([bbox_of(lines[i]) for i in idx])
        items.append((box, gid))
        thick = sorted(_thickness(bbox_of(lines[i]), lines[i].vertical) for i in idx)
        kinds[gid] = "heading" if thick[len(thick) // 2] >= 1.6 * median else "text"
    block_order = xy_cut(items, direction, rules=rules)
    box_of = dict((gid, box) for box, gid in items)
    out_lines: list[OcrLine] = []
    blocks: list[OcrBlock] = []
    for new_id, gid in enumerate(block_order):
        idx = groups[gid]
        vertical = lines[idx[0]].vertical
        blocks.append(OcrBlock(id=new_id, kind=kinds[gid], bbox=box_of[gid]))
        for i in _order_lines(lines, idx, vertical, rules):
            ln = lines[i]
            out_lines.append(
                OcrLine(
                    text=ln.text,
                    polygon=ln.polygon,
                    confidence=ln.confidence,
                    order=len(out_lines),
                    block=new_id,
                    vertical=ln.vertical,
                )
            )
    return Layout(lines=tuple(out_lines), blocks=tuple(blocks), direction=direction)
