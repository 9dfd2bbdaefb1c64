"""Page image preparation: grayscale, contrast, deskew, blank detection.

Archive scans come yellowed, stained, with coloured layout overlays and a slight tilt. The
recognisers are trained on dark text on light paper, so the page is turned to grayscale (colour
overlays become light gray), its contrast stretched between ink and paper percentiles, and small
skew (≤ 5°) corrected by maximising the sharpness of the ink projection profile.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from lantai.errors import require


def _cv2() -> Any:
    return require("cv2", "ocr", "OCR image preprocessing")


def _np() -> Any:
    return require("numpy", "ocr", "OCR image preprocessing")


@dataclass(frozen=True)
class Prepared:
    """A page ready for an engine, and what was done to it."""

    image: Any  # uint8 grayscale
    skew: float  # degrees the page was rotated to straighten it (counter-clockwise positive)
    blank: bool


def to_gray(image: Any) -> Any:
    """Grayscale uint8 from gray, BGR or BGRA input."""
    cv2, np = _cv2(), _np()
    if image.dtype != np.uint8:
        image = cv2.normalize(image, None, 0, 255, cv2.NORM_MINMAX).astype(np.uint8)
    if image.ndim == 2:
        return image
    if image.shape[2] == 4:
        # transparent pixels are paper: composite onto white before dropping alpha
        alpha = image[:, :, 3:4].astype(np.float32) / 255.0
        rgb = image[:, :, :3].astype(np.float32) * alpha + 255.0 * (1.0 - alpha)
        return cv2.cvtColor(rgb.astype(np.uint8), cv2.COLOR_BGR2GRAY)
    return cv2.cvtColor(image, cv2.COLOR_BGR2GRAY)


def stretch_contrast(gray: Any) -> Any:
    """Map the 1st percentile (ink) to 0 and the 99th (paper) to 255."""
    np = _np()
    lo, hi = np.percentile(gray, (1, 99))
    if hi - lo < 8:
        return gray
    out = (gray.astype(np.float32) - lo) * (255.0 / (hi - lo))
    return np.clip(out, 0, 255).astype(np.uint8)


def is_blank(gray: Any) -> bool:
    """True when the page holds (almost) no ink: under 0.05 % dark pixels after binarisation."""
    cv2, np = _cv2(), _np()
    small = cv2.resize(gray, (max(1, gray.shape[1] // 4), max(1, gray.shape[0] // 4)))
    if float(small.std()) < 4.0:
        return True
    _, binary = cv2.threshold(small, 0, 255, cv2.THRESH_BINARY_INV + cv2.THRESH_OTSU)
    # Otsu on a near-uniform page splits noise; require ink clearly darker than paper too
    ink = binary > 0
    if not ink.any():
        return True
    contrast = float(np.median(small[~ink])) - float(np.median(small[ink])) if (~ink).any() else 0
    return bool(ink.mean() < 0.0005 or contrast < 30)


def estimate_skew(gray: Any, max_angle: float = 5.0, step: float = 0.25) -> float:
    """Angle (degrees) that best straightens rows or columns of text.

    Both profiles are scored so horizontal and vertical pages are handled alike: straight lines
    of text give the projection with the highest variance.
    """
    cv2, np = _cv2(), _np()
    scale = 1000 / max(gray.shape)
    small = cv2.resize(gray, None, fx=min(1.0, scale), fy=min(1.0, scale))
    _, binary = cv2.threshold(small, 0, 1, cv2.THRESH_BINARY_INV + cv2.THRESH_OTSU)
    binary = binary.astype(np.float32)
    h, w = binary.shape
    best, best_score = 0.0, -1.0
    for angle in np.arange(-max_angle, max_angle + 1e-6, step):
        m = cv2.getRotationMatrix2D((w / 2, h / 2), float(angle), 1.0)
        rot = cv2.warpAffine(binary, m, (w, h), flags=cv2.INTER_NEAREST)
        score = float(np.var(rot.sum(axis=1)) + np.var(rot.sum(axis=0)))
        if score > best_score:
            best, best_score = float(angle), score
    return best


def rotate(gray: Any, angle: float) -> Any:
    """Rotate by ``angle`` degrees (counter-clockwise), filling with paper colour."""
    cv2, np = _cv2(), _np()
    if abs(angle) < 1e-6:
        return gray
    h, w = gray.shape[:2]
    m = cv2.getRotationMatrix2D((w / 2, h / 2), angle, 1.0)
    paper = int(np.percentile(gray, 90))
    return cv2.warpAffine(
        gray, m, (w, h), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_CONSTANT, borderValue=paper
    )


def prepare(image: Any, deskew: bool = True) -> Prepared:
    """Grayscale, contrast stretch and deskew one page."""
    gray = to_gray(image)
    if is_blank(gray):
        return Prepared(image=gray, skew=0.0, blank=True)
    gray = stretch_contrast(gray)
    skew = estimate_skew(gray) if deskew else 0.0
    # below a quarter degree rotating only blurs the type
    if abs(skew) >= 0.25:
        gray = rotate(gray, skew)
    else:
        skew = 0.0
    return Prepared(image=gray, skew=skew, blank=False)


def find_rules(gray: Any, unit: float, wavy: bool = True) -> list[tuple[int, int, int, int]]:
    """Printed rules: long thin straight lines of ink, as boxes ``(x0, y0, x1, y1)``.

    Newspapers and forms separate articles and fields with rules, often only a few pixels
    from the text on either side, so layout analysis needs them to keep neighbours apart.
    ``unit`` is the body type size in pixels: a rule must run at least five characters long
    (no run of type does) and be thinner than a third of a character. Letterpress rules are
    broken and worn, so gaps of a quarter character are bridged first. ``wavy`` also finds
    wavy rules (see :func:`_wavy_rules`).
    """
    cv2, np = _cv2(), _np()
    unit = max(4.0, float(unit))
    _, ink = cv2.threshold(gray, 0, 255, cv2.THRESH_BINARY_INV + cv2.THRESH_OTSU)
    length = int(5 * unit)
    bridge = max(3, int(unit / 4))
    rules: list[tuple[int, int, int, int]] = []
    for horizontal in (True, False):
        along = (bridge, 1) if horizontal else (1, bridge)
        long = (length, 1) if horizontal else (1, length)
        closed = cv2.morphologyEx(ink, cv2.MORPH_CLOSE, cv2.getStructuringElement(0, along))
        runs = cv2.morphologyEx(closed, cv2.MORPH_OPEN, cv2.getStructuringElement(0, long))
        count, _, stats, _ = cv2.connectedComponentsWithStats(runs, connectivity=8)
        found = []
        for x, y, w, h, _area in stats[1:count].tolist():
            thick = h if horizontal else w
            if thick <= max(2.0, unit / 3):
                found.append((x, y, x + w - 1, y + h - 1))
        rules.extend(_join_collinear(found, horizontal, gap=2 * unit))
    if wavy:
        rules.extend(r for r in _wavy_rules(ink, unit) if not any(_covers(s, r) for s in rules))
    del np
    return rules


def _covers(straight: tuple[int, int, int, int], band: tuple[int, int, int, int]) -> bool:
    """Whether a straight rule runs inside a wavy rule's band for most of its length (the
    wavy test also finds straight rules; they are kept as found by the straight test)."""
    horizontal = (band[2] - band[0]) >= (band[3] - band[1])
    if ((straight[2] - straight[0]) >= (straight[3] - straight[1])) != horizontal:
        return False
    a0, a1, c0, c1 = (0, 2, 1, 3) if horizontal else (1, 3, 0, 2)
    centre = (straight[c0] + straight[c1]) / 2
    along = min(straight[a1], band[a1]) - max(straight[a0], band[a0])
    return band[c0] <= centre <= band[c1] and along >= 0.5 * (band[a1] - band[a0])


def _wavy_rules(ink: Any, unit: float) -> list[tuple[int, int, int, int]]:
    """Wavy rules (波纹线, often beaded), which Republican-era papers set between articles.

    A wave wanders a few pixels either side of its axis, so no straight run of ink is long
    enough for the straight-rule test. Instead every pixel is asked whether a window across
    the rule, centred on it, holds some ink but only a little (a thin stroke passes, a
    character's horizontal strokes or a neighbouring column do not); a wavy rule is a long
    run of such pixels along one axis, with small breaks bridged, that is one unbroken
    piece of ink. Columns of type fail on their blank rows between characters, on their wide
    strokes, and on being many pieces.
    """
    cv2, np = _cv2(), _np()
    reach = max(2, round(unit / 6))
    # longer than a straight rule must be: waves part articles, a column's length at least,
    # and a shorter run of thin ink is too easily the edge of a column of blurred type
    length = int(8 * unit)
    bridge = max(3, int(unit / 4))
    widest = max(2.0, unit / 3)
    found: dict[bool, list[tuple[int, int, int, int]]] = {True: [], False: []}  # by horizontal
    binary = (ink > 0).astype(np.float32)
    for horizontal in (True, False):
        window = (1, 2 * reach + 1) if horizontal else (2 * reach + 1, 1)
        count = cv2.boxFilter(binary, -1, window, normalize=False)
        hit = ((count > 0.5) & (count <= widest)).astype(np.uint8)
        along = (bridge, 1) if horizontal else (1, bridge)
        long = (length, 1) if horizontal else (1, length)
        closed = cv2.morphologyEx(hit, cv2.MORPH_CLOSE, cv2.getStructuringElement(0, along))
        runs = cv2.morphologyEx(closed, cv2.MORPH_OPEN, cv2.getStructuringElement(0, long))
        n, _, stats, _ = cv2.connectedComponentsWithStats(runs, connectivity=8)
        for x, y, w, h, _area in stats[1:n].tolist():
            # a printed stroke is unbroken: nearly every step along it has thin ink (the
            # bridging above is for worn spots; the gaps between characters are wider)
            band = hit[y : y + h, x : x + w].astype(bool)
            steps = band.any(axis=0) if horizontal else band.any(axis=1)
            if steps.mean() < 0.95:
                continue
            if horizontal:
                box = (x, max(0, y - reach), x + w - 1, y + h - 1 + reach)
            else:
                box = (max(0, x - reach), y, x + w - 1 + reach, y + h - 1)
            # and it is one stroke: a single piece of ink runs (nearly) its whole length,
            # where a column of type, however blurred, is a chain of separate characters
            piece = (ink[box[1] : box[3] + 1, box[0] : box[2] + 1] > 0).astype(np.uint8)
            m, _, pieces, _ = cv2.connectedComponentsWithStats(piece, connectivity=8)
            extent = pieces[1:m, 2 if horizontal else 3].max() if m > 1 else 0
            if extent >= 0.85 * (w if horizontal else h):
                found[horizontal].append(box)
    return [r for h, boxes in found.items() for r in _join_collinear(boxes, h, 2 * unit)]


def _join_collinear(
    segments: list[tuple[int, int, int, int]], horizontal: bool, gap: float
) -> list[tuple[int, int, int, int]]:
    """Join pieces of one broken rule: same line across (centres within a few pixels), at
    most ``gap`` apart along it."""
    a0, a1, c0, c1 = (0, 2, 1, 3) if horizontal else (1, 3, 0, 2)
    out: list[list[int]] = []
    for seg in sorted(segments, key=lambda s: (s[c0] + s[c1], s[a0])):
        for cur in out:
            same_line = abs((seg[c0] + seg[c1]) - (cur[c0] + cur[c1])) / 2 <= 4
            if same_line and seg[a0] - cur[a1] <= gap and cur[a0] - seg[a1] <= gap:
                cur[a0], cur[a1] = min(cur[a0], seg[a0]), max(cur[a1], seg[a1])
                cur[c0], cur[c1] = min(cur[c0], seg[c0]), max(cur[c1], seg[c1])
                break
        else:
            out.append(list(seg))
    return [(s[0], s[1], s[2], s[3]) for s in out]
