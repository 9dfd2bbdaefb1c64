"""Synthetic newspaper pages: articles in tiers of vertical columns, parted by printed rules.

The ECPO fold is one page; reading order on newspapers needs more ground truth than that, so
this module typesets pages the way Republican-era papers were set and records every article's
text in reading order:

* a masthead row across the top, set **right to left** (as horizontal lines then were);
* the body in two or three **tiers** parted by horizontal rules, each tier cut into articles by
  vertical rules; tiers read top to bottom, articles right to left;
* an article = a heading column in larger type at its right, then body columns right to left,
  top to bottom, set close (the column pitch is 1.25 characters, as on the ECPO fold); a tall
  article may set its body in two sub-tiers under one heading that spans both (no rule between
  the sub-tiers), which is how long stories were fitted.

Text comes from the demo archive's wording (see :mod:`testkit.ocr_pages`). The page can be
degraded with the same conditions as the A4 test pages.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from lantai.errors import ConfigError, require
from testkit.ocr_pages import CONDITIONS, SCRIPTS, _convert, _font, degrade, find_cjk_font
from testkit.ocr_pages import _paragraphs as paragraphs

_MASTHEADS = (
    "中華民國二十八年四月廿六日星期三",
    "本報創刊於民國八年三月三日",
    "第三千八百號今日出版兩大張",
)


@dataclass(frozen=True)
class NewspaperSpec:
    """What newspaper page to make."""

    script: str = "traditional"
    condition: str = "clean"
    seed: int = 0
    dpi: int = 150
    body_pt: float = 10.5
    width_in: float = 11.0
    height_in: float = 8.5

    def __post_init__(self) -> None:
        if self.script not in SCRIPTS:
            raise ConfigError(f"newspaper script {self.script!r}: choose from {SCRIPTS}")
        if self.condition not in CONDITIONS:
            raise ConfigError(f"newspaper condition {self.condition!r}: choose from {CONDITIONS}")


@dataclass(frozen=True)
class Article:
    """One article's ground truth: heading, then body columns in reading order."""

    kind: str  # "masthead" | "article"
    heading: str
    columns: tuple[str, ...]

    @property
    def text(self) -> str:
        return "\n".join(p for p in (self.heading, *self.columns) if p)


@dataclass(frozen=True)
class NewspaperPage:
    """A rendered newspaper page and its articles in reading order."""

    spec: NewspaperSpec
    image: Any  # uint8 grayscale
    articles: tuple[Article, ...]

    @property
    def text(self) -> str:
        return "\n\n".join(a.text for a in self.articles)


def render_newspaper(spec: NewspaperSpec, font_path: Path | None = None) -> NewspaperPage:
    """Typeset one newspaper page per ``spec`` (see the module docstring) and degrade it."""
    np: Any = require("numpy", "ocr", "rendering test pages")
    image_mod: Any = require("PIL.Image", "ocr", "rendering test pages")
    draw_mod: Any = require("PIL.ImageDraw", "ocr", "rendering test pages")
    rng = random.Random(f"newspaper|{spec.seed}|{spec.script}|{spec.dpi}|{spec.body_pt}")
    font_file = str(font_path or find_cjk_font())
    size = round(spec.body_pt / 72 * spec.dpi)
    head_size = round(size * 1.8)
    body = _font(font_file, size, spec.script)
    big = _font(font_file, head_size, spec.script)
    width, height = round(spec.width_in * spec.dpi), round(spec.height_in * spec.dpi)
    margin = round(0.4 * spec.dpi)
    page = image_mod.new("L", (width, height), 255)
    draw = draw_mod.Draw(page)
    rule = max(2, size // 10)
    pad = round(size * 0.5)  # white space between a rule and the type
    pitch = round(size * 1.25)
    pool = paragraphs(rng, spec.script, 40 * width * height // (size * size))
    stream = iter("".join(pool) * 4)  # body text, consumed column by column

    articles: list[Article] = []
    # masthead: one row set right to left, then a rule under it
    masthead = _convert(rng.choice(_MASTHEADS), spec.script)
    x = width - margin - size
    for ch in masthead:
        draw.text((x, margin), ch, font=body, fill=0)
        x -= size
    articles.append(Article("masthead", masthead, ()))
    top = margin + size + pad
    draw.rectangle((margin, top, width - margin, top + rule - 1), fill=0)
    top += rule + pad

    def column(x: int, y0: int, y1: int, font: Any, step: int, text_iter: Any) -> str:
        chars = []
        y = y0
        while y + step <= y1:
            ch = next(text_iter, None)
            if ch is None:
                break
            draw.text((x, y), ch, font=font, fill=0)
            chars.append(ch)
            y += step
        return "".join(chars)

    tiers = rng.choice((2, 2, 3))
    tier_h = (height - margin - top) // tiers
    for t in range(tiers):
        y0 = top + t * tier_h
        y1 = y0 + tier_h - (0 if t == tiers - 1 else rule + 2 * pad)
        if t < tiers - 1:
            ry = y1 + pad
            draw.rectangle((margin, ry, width - margin, ry + rule - 1), fill=0)
        # articles right to left across the tier, parted by vertical rules
        n = rng.choice((2, 3, 3, 4))
        cuts = sorted(rng.sample(range(1, 20), n - 1))
        bounds = [0, *cuts, 20]
        span = width - 2 * margin
        for k in range(n):
            right = width - margin - span * bounds[k] // 20
            left = width - margin - span * bounds[k + 1] // 20
            if k < n - 1:
                draw.rectangle((left - rule // 2, y0, left + rule - rule // 2 - 1, y1), fill=0)
            a_right, a_left = right - pad, left + pad
            if a_right - a_left < head_size + 3 * pitch:
                continue
            heading = _convert(rng.choice(pool)[: rng.randint(4, 7)], spec.script)
            hx = a_right - head_size
            heading = column(hx, y0, y1, big, head_size, iter(heading))
            cols: list[str] = []
            tiered = (y1 - y0) > 18 * size and rng.random() < 0.5
            spans = (
                [(y0, (y0 + y1) // 2 - pad), ((y0 + y1) // 2 + pad, y1)] if tiered else [(y0, y1)]
            )
            for sy0, sy1 in spans:
                x = hx - pad - pitch
                while x >= a_left:
                    cols.append(column(x + (pitch - size) // 2, sy0, sy1, body, size, stream))
                    x -= pitch
            articles.append(Article("article", heading, tuple(c for c in cols if c)))
    array = np.array(page)
    array = degrade(array, spec.condition, random.Random(f"{spec}"))
    return NewspaperPage(spec=spec, image=array, articles=tuple(articles))
