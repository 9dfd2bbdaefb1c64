"""Page scans for the demo archive, so ``lantai demo`` runs the whole chain a real archive
runs: scans → OCR → text → index → page images with the hits drawn on them.

A few records of the generated archive are typeset as the letters they describe — the
Republican-era ones in traditional characters, in columns read from the right; the later ones
in horizontal rows — on a plain paper tone at 150 dpi. Nothing here claims to be a real
document: the wording is the demo generator's own. Fonts are the system's (Noto CJK,
WenQuanYi, SimSun…); without one the demo simply has no scans and says why.
"""

from __future__ import annotations

import csv
import random
import subprocess
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

from lantai.catalog.model import safe_filename
from lantai.errors import MissingDependency, require

_FONT_DIRS = (
    Path("/usr/share/fonts"),
    Path("/usr/local/share/fonts"),
    Path.home() / ".fonts",
    Path.home() / ".local/share/fonts",
    Path("/System/Library/Fonts"),
    Path("C:/Windows/Fonts"),
)
_FONT_NAMES = (
    "NotoSerifCJK-Regular.ttc",
    "NotoSansCJK-Regular.ttc",
    "wqy-zenhei.ttc",
    "wqy-microhei.ttc",
    "NotoSansCJKsc-Regular.otf",
    "simsun.ttc",
    "msyh.ttc",
)
DPI = 150
PAPER = (241, 235, 219)
INK = (38, 34, 30)


def find_cjk_font() -> Path:
    """A CJK font file on this system (fontconfig first, then well-known folders)."""
    try:
        out = subprocess.run(
            ["fc-list", ":lang=zh", "file"], capture_output=True, text=True, timeout=10, check=False
        ).stdout
        files = sorted({line.split(":")[0].strip() for line in out.splitlines() if line.strip()})
        for preferred in _FONT_NAMES:
            for f in files:
                if f.endswith(preferred):
                    return Path(f)
        if files:
            return Path(files[0])
    except (OSError, subprocess.SubprocessError):
        pass
    for folder in _FONT_DIRS:
        if folder.is_dir():
            for name in _FONT_NAMES:
                hits = list(folder.rglob(name))
                if hits:
                    return hits[0]
    raise MissingDependency(
        "no CJK font found for page images: install one (Debian/Ubuntu: apt-get install "
        "fonts-noto-cjk, or fonts-wqy-zenhei)"
    )


@lru_cache(maxsize=8)
def load_font(path: str, size: int, script: str) -> Any:
    """The font at ``size`` px; for Noto CJK collections the face of the script's glyph forms."""
    font_mod: Any = require("PIL.ImageFont", "all", "typesetting pages")
    want = "SC" if script == "simplified" else "TC"
    if path.endswith(".ttc"):
        for index in range(12):
            try:
                font = font_mod.truetype(path, size, index=index)
            except OSError:
                break
            family = font.getname()[0]
            if family.endswith(f" {want}") and "Mono" not in family:
                return font
    return font_mod.truetype(path, size)


@dataclass(frozen=True)
class Typeset:
    image: Any  # Pillow RGB
    lines: tuple[tuple[str, tuple[tuple[int, int], ...]], ...]  # text and box, reading order


def typeset(text: str, *, vertical: bool, script: str, font_path: Path, seed: int = 0
            ) -> Typeset:
    """One A4 page of ``text``: its lines become rows, or columns read right to left; a line
    longer than the page wraps. Returns the image and where each line was set."""
    image_mod: Any = require("PIL.Image", "all", "typesetting pages")
    draw_mod: Any = require("PIL.ImageDraw", "all", "typesetting pages")
    rng = random.Random(seed)
    width, height = round(8.27 * DPI), round(11.69 * DPI)
    size = 34
    font = load_font(str(font_path), size, script)
    margin = round(0.9 * DPI)
    pitch = round(size * 1.75)
    per_line = ((height if vertical else width) - 2 * margin) // size
    room = ((width if vertical else height) - 2 * margin) // pitch
    lines: list[str] = []
    for raw in text.replace("\u3000", "").split("\n"):
        raw = raw.strip()
        while raw and len(lines) < room:
            lines.append(raw[:per_line])
            raw = raw[per_line:]
    page = image_mod.new("RGB", (width, height), PAPER)
    draw = draw_mod.Draw(page)
    # a faint uneven tone, as paper scans have
    for _ in range(40):
        x, y = rng.randrange(width), rng.randrange(height)
        r = rng.randrange(150, 420)
        shade = tuple(max(0, c - rng.randrange(1, 4)) for c in PAPER)
        draw.ellipse((x - r, y - r, x + r, y + r), fill=shade)
    boxes = []
    draw_grid(draw, lines, font, vertical=vertical, width=width, margin=margin, pitch=pitch,
              size=size, fill=INK)
    # the ink of a character lies inside its cell at the font's own offsets
    left, top, right, bottom = font.getbbox("國")
    for li, line in enumerate(lines):
        if vertical:
            x0 = width - margin - (li + 1) * pitch + (pitch - size) // 2
            x1, y0, y1 = x0 + right, margin + top, margin + (len(line) - 1) * size + bottom
            x0 += left
        else:
            x0, y0 = margin + left, margin + li * pitch + top
            x1, y1 = margin + (len(line) - 1) * size + right, margin + li * pitch + bottom
        boxes.append((line, ((x0, y0), (x1, y0), (x1, y1), (x0, y1))))
    return Typeset(page, tuple(boxes))


def draw_grid(draw: Any, lines: list[str], font: Any, *, vertical: bool, width: int,
              margin: int, pitch: int, size: int, fill: Any) -> None:
    """Set ``lines`` one character a cell: rows from the top, or columns from the right."""
    for li, line in enumerate(lines):
        for ci, ch in enumerate(line):
            if vertical:
                x = width - margin - (li + 1) * pitch + (pitch - size) // 2
                y = margin + ci * size
            else:
                x, y = margin + ci * size, margin + li * pitch
            draw.text((x, y), ch, font=font, fill=fill)


@dataclass(frozen=True)
class DemoScans:
    folder: Path
    manifest: dict[str, str]  # scan path → 档号 (the OCR's linking manifest)

    @property
    def codes(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys(self.manifest.values()))


def _choose(catalog_csv: Path, text_dir: Path, count: int) -> list[tuple[str, str, bool]]:
    """``(档号, text, vertical)`` of a few records with text: Republican-era ones (set in
    columns) and later ones (in rows), most of them open and one that is not (whose images
    the public must never see)."""
    with catalog_csv.open(encoding="utf-8-sig", newline="") as fh:
        rows = list(csv.DictReader(fh))
    early: list[tuple[str, str, bool]] = []
    late: list[tuple[str, str, bool]] = []
    hidden: list[tuple[str, str, bool]] = []
    for row in rows:
        code = row["档号"]
        path = text_dir / f"{safe_filename(code)}.txt"
        if not path.is_file():
            continue
        text = path.read_text(encoding="utf-8")
        year = int(row["年度"]) if row["年度"].isdigit() else 0
        vertical = 0 < year < 1949
        if row["开放标识"] != "开放":
            hidden.append((code, text, vertical))
        elif 150 <= len(text) <= 700:
            (early if vertical else late).append((code, text, vertical))
    # the war years and the early 1950s, which the demo's own searches are about
    early.sort(key=lambda item: abs(_year(item[0]) - 1939))
    late.sort(key=lambda item: abs(_year(item[0]) - 1953))
    half = count // 2
    return early[:half] + late[:count - half - 1] + hidden[:1]


def _year(code: str) -> int:
    digits = [part for part in code.replace("·", "-").split("-") if part.isdigit()
              and len(part) == 4]
    return int(digits[0]) if digits else 0


def make_demo_scans(catalog_csv: Path, text_dir: Path, out_dir: Path, count: int = 7
                    ) -> DemoScans:
    """Typeset ``count`` records of the sample archive into ``out_dir`` (one PNG a page;
    pages are split by form feeds in the text). Deterministic; existing files are kept, so
    the OCR of a second demo run finds them unchanged."""
    font = find_cjk_font()
    manifest: dict[str, str] = {}
    for code, text, vertical in _choose(catalog_csv, text_dir, count):
        script = "traditional" if vertical else "simplified"
        for number, page_text in enumerate(text.split("\f"), start=1):
            path = out_dir / safe_filename(code) / f"{number:03d}.png"
            if not path.is_file():
                path.parent.mkdir(parents=True, exist_ok=True)
                page = typeset(page_text, vertical=vertical, script=script, font_path=font,
                               seed=number)
                page.image.save(path, optimize=True)
            manifest[str(path.resolve())] = code
    return DemoScans(out_dir, manifest)
