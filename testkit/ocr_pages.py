"""Synthetic test pages with ground truth, so OCR can be measured at any scale.

Text comes from the project's own demo archive wording (``lantai/demo/data/*.toml``, written for
Lantai), converted with OpenCC to the script asked for. Pages are A4 at a chosen DPI, typeset on a
CJK grid horizontally (rows top to bottom) or vertically (columns right to left), with optional
degradations: blur, noise, rotation, JPEG, low contrast (yellowed paper), all of them mildly
(``degraded``), or ``worn``: the broken, spread, faint strokes of old newspaper letterpress.

Fonts are found at run time (Noto CJK or WenQuanYi from the system); when none is installed,
:func:`find_cjk_font` raises :class:`MissingDependency` naming the package to install.

    python -m testkit.ocr_pages OUT_DIR --pages 4 --direction vertical --script traditional
"""

from __future__ import annotations

import argparse
import json
import random
import re
import tomllib
from collections.abc import Iterator, Sequence
from dataclasses import asdict, dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

from lantai.demo.scans import draw_grid, find_cjk_font
from lantai.demo.scans import load_font as _font
from lantai.errors import ConfigError, require

DIRECTIONS = ("horizontal", "vertical")
SCRIPTS = ("simplified", "traditional")
CONDITIONS = ("clean", "blur", "noise", "rotation", "jpeg", "low-contrast", "degraded", "worn")

@dataclass(frozen=True)
class PageSpec:
    """What page to make."""

    direction: str = "horizontal"  # "horizontal" | "vertical"
    script: str = "simplified"  # "simplified" | "traditional"
    condition: str = "clean"  # one of CONDITIONS
    seed: int = 0
    dpi: int = 150
    font_pt: float = 12.0
    max_lines: int = 0  # >0: only this many lines (columns), page cut to fit (small fixtures)

    def __post_init__(self) -> None:
        for name, value, allowed in (
            ("direction", self.direction, DIRECTIONS),
            ("script", self.script, SCRIPTS),
            ("condition", self.condition, CONDITIONS),
        ):
            if value not in allowed:
                raise ConfigError(f"test page {name} {value!r}: choose from {', '.join(allowed)}")


@dataclass(frozen=True)
class TestPage:
    """A rendered page and its ground truth (lines in reading order)."""

    __test__ = False  # not a pytest class

    spec: PageSpec
    image: Any  # uint8 grayscale numpy array
    lines: tuple[str, ...]

    @property
    def text(self) -> str:
        """Ground truth: lines in reading order joined by newlines."""
        return "\n".join(self.lines)


@lru_cache(maxsize=1)
def source_sentences() -> tuple[str, ...]:
    """Sentences from the demo archive's wording (placeholders removed), ≥ 8 Han characters."""
    folder = Path(__file__).resolve().parents[1] / "lantai" / "demo" / "data"
    sentences: set[str] = set()

    def walk(value: Any) -> Iterator[str]:
        if isinstance(value, str):
            yield value
        elif isinstance(value, dict):
            for v in value.values():
                yield from walk(v)
        elif isinstance(value, list):
            for v in value:
                yield from walk(v)

    for path in sorted(folder.glob("*.toml")):
        data = tomllib.loads(path.read_text(encoding="utf-8"))
        for text in walk(data):
            text = text.split("|")[0]
            if "{" in text:
                text = re.sub(r"\{[^}]*\}", "", text)
            if sum(1 for ch in text if "\u4e00" <= ch <= "\u9fff") >= 8 and "\n" not in text:
                sentences.add(text.strip())
    if not sentences:
        raise ConfigError(f"no demo texts found under {folder}")
    return tuple(sorted(sentences))


@lru_cache(maxsize=2)
def _converter(config: str) -> Any:
    opencc: Any = require("opencc", "ocr", "converting test page text")
    return opencc.OpenCC(config)  # ~90 ms to load: a newspaper page converts ~2,000 paragraphs


def _convert(text: str, script: str) -> str:
    return str(_converter("t2s" if script == "simplified" else "s2t").convert(text))


def _paragraphs(
    rng: random.Random, script: str, chars: int, texts: Sequence[str] | None = None
) -> list[str]:
    pool = list(texts or source_sentences())
    out: list[str] = []
    total = 0
    while total < chars:
        para = "".join(rng.sample(pool, k=min(len(pool), rng.randint(2, 5))))
        para = _convert(para, script)
        out.append(para)
        total += len(para) + 2
    return out


def render(
    spec: PageSpec, font_path: Path | None = None, texts: Sequence[str] | None = None
) -> TestPage:
    """Typeset one page per ``spec`` and degrade it.

    ``texts``: sentences to draw the page's paragraphs from instead of the demo archive's
    (a benchmark's own corpus); they are converted to the spec's script all the same.
    """
    np: Any = require("numpy", "ocr", "rendering test pages")
    image_mod: Any = require("PIL.Image", "ocr", "rendering test pages")
    draw_mod: Any = require("PIL.ImageDraw", "ocr", "rendering test pages")
    # the text depends on everything but the condition, so every condition of one seed shows
    # the same text (degradations compare like with like)
    rng = random.Random(f"{spec.seed}|{spec.direction}|{spec.script}|{spec.dpi}|{spec.font_pt}")
    width, height = round(8.27 * spec.dpi), round(11.69 * spec.dpi)
    size = round(spec.font_pt / 72 * spec.dpi)
    font = _font(str(font_path or find_cjk_font()), size, spec.script)
    margin = round(0.8 * spec.dpi)
    pitch = round(size * 1.6)  # line (or column) pitch
    vertical = spec.direction == "vertical"
    per_line = ((height if vertical else width) - 2 * margin) // size
    n_lines = ((width if vertical else height) - 2 * margin) // pitch
    if spec.max_lines > 0 and spec.max_lines < n_lines:
        n_lines = spec.max_lines
        if vertical:
            width = 2 * margin + n_lines * pitch
        else:
            height = 2 * margin + n_lines * pitch
    paragraphs = _paragraphs(rng, spec.script, per_line * n_lines, texts)
    lines: list[str] = []
    for para in paragraphs:
        text = "\u3000\u3000" + para  # paragraph indent, as printed
        while text and len(lines) < n_lines:
            lines.append(text[:per_line])
            text = text[per_line:]
        if len(lines) >= n_lines:
            break
    page = image_mod.new("L", (width, height), 255)
    draw = draw_mod.Draw(page)
    draw_grid(draw, lines, font, vertical=vertical, width=width, margin=margin, pitch=pitch,
              size=size, fill=0)
    array = np.array(page)
    array = degrade(array, spec.condition, random.Random(f"{spec}"))
    truth = tuple(line.replace("\u3000", "") for line in lines)
    return TestPage(spec=spec, image=array, lines=truth)


def degrade(image: Any, condition: str, rng: random.Random) -> Any:
    """Apply one degradation (or "degraded": a milder mix of all) to a grayscale page."""
    np: Any = require("numpy", "ocr", "degrading test pages")
    cv2: Any = require("cv2", "ocr", "degrading test pages")
    seed = rng.randrange(1 << 30)
    noise_rng = np.random.default_rng(seed)
    img = image.astype(np.float32)

    def blur(sigma: float) -> None:
        nonlocal img
        img = cv2.GaussianBlur(img, (0, 0), sigma)

    def noise(sigma: float, speckle: float) -> None:
        nonlocal img
        img = img + noise_rng.normal(0, sigma, img.shape)
        mask = noise_rng.random(img.shape) < speckle
        img[mask] = noise_rng.choice([0.0, 255.0], size=int(mask.sum()))

    def rotate(max_deg: float) -> None:
        nonlocal img
        angle = rng.uniform(0.5, max_deg) * rng.choice((-1, 1))
        h, w = img.shape
        m = cv2.getRotationMatrix2D((w / 2, h / 2), angle, 1.0)
        img = cv2.warpAffine(img, m, (w, h), borderValue=255.0, flags=cv2.INTER_LINEAR)

    def contrast(ink: float, paper: float) -> None:
        nonlocal img
        img = ink + img * (paper - ink) / 255.0

    def jpeg(quality: int) -> None:
        nonlocal img
        _ok, buf = cv2.imencode(
            ".jpg", np.clip(img, 0, 255).astype(np.uint8), [cv2.IMWRITE_JPEG_QUALITY, quality]
        )
        img = cv2.imdecode(buf, cv2.IMREAD_GRAYSCALE).astype(np.float32)

    if condition == "blur":
        blur(1.3)
    elif condition == "noise":
        noise(18.0, 0.004)
    elif condition == "rotation":
        rotate(3.0)
    elif condition == "jpeg":
        jpeg(20)
    elif condition == "low-contrast":
        contrast(110.0, 205.0)
    elif condition == "worn":
        # worn letterpress on browned newsprint: strokes broken and spread, faint, grainy
        broken = noise_rng.random(img.shape) < 0.05
        img[broken & (img < 128)] = 255.0
        img = cv2.erode(img, np.ones((2, 2), np.uint8))  # ink spread
        rotate(1.0)
        blur(0.9)
        contrast(70.0, 195.0)
        noise(12.0, 0.002)
        jpeg(40)
    elif condition == "degraded":
        rotate(1.5)
        contrast(70.0, 220.0)
        blur(0.8)
        noise(10.0, 0.001)
        jpeg(40)
    return np.clip(img, 0, 255).astype(np.uint8)


def write(page: TestPage, out_dir: Path, stem: str) -> Path:
    """Save ``<stem>.png`` (or ``.jpg`` for the JPEG condition), ``<stem>.gt.txt`` and
    ``<stem>.spec.json``; returns the image path."""
    cv2: Any = require("cv2", "ocr", "writing test pages")
    out_dir.mkdir(parents=True, exist_ok=True)
    suffix = ".jpg" if page.spec.condition in ("jpeg", "degraded", "worn") else ".png"
    path = out_dir / f"{stem}{suffix}"
    params = (
        [cv2.IMWRITE_JPEG_QUALITY, 90] if suffix == ".jpg" else [cv2.IMWRITE_PNG_COMPRESSION, 9]
    )
    cv2.imwrite(str(path), page.image, params)
    (out_dir / f"{stem}.gt.txt").write_text(page.text + "\n", encoding="utf-8")
    (out_dir / f"{stem}.spec.json").write_text(json.dumps(asdict(page.spec)), encoding="utf-8")
    return path


def generate(
    out_dir: Path,
    pages: int = 1,
    directions: Sequence[str] = DIRECTIONS,
    scripts: Sequence[str] = SCRIPTS,
    conditions: Sequence[str] = ("clean",),
    dpi: int = 150,
    seed: int = 0,
) -> list[Path]:
    """Write ``pages`` pages for every direction × script × condition; returns image paths."""
    font = find_cjk_font()
    written = []
    for d in directions:
        for s in scripts:
            for c in conditions:
                for i in range(pages):
                    spec = PageSpec(direction=d, script=s, condition=c, seed=seed + i, dpi=dpi)
                    written.append(
                        write(render(spec, font), out_dir, f"{d}_{s}_{c}_{seed + i:03d}")
                    )
    return written


def main(argv: Sequence[str] | None = None) -> int:
    """Command line: ``python -m testkit.ocr_pages OUT_DIR [options]``."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("out_dir", type=Path)
    parser.add_argument("--pages", type=int, default=1, help="pages per combination")
    parser.add_argument("--direction", choices=DIRECTIONS, action="append")
    parser.add_argument("--script", choices=SCRIPTS, action="append")
    parser.add_argument("--condition", choices=CONDITIONS, action="append")
    parser.add_argument("--dpi", type=int, default=150)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    paths = generate(
        args.out_dir,
        args.pages,
        args.direction or DIRECTIONS,
        args.script or SCRIPTS,
        args.condition or ("clean",),
        args.dpi,
        args.seed,
    )
    print(f"wrote {len(paths)} pages to {args.out_dir}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
