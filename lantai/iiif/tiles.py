"""IIIF Image API level 0: a page image cut once into the static files a viewer asks for.

A level-0 image service is a folder of files named exactly as the Image API URLs that point at
them (``{region}/{size}/0/default.jpg``), so serving a tile is reading a file. The tiles follow
the canonical tiling every IIIF client uses (OpenSeadragon's ``IIIFTileSource`` among them): at
scale factor ``s`` the image is ``ceil(w/s) × ceil(h/s)``, cut into ``tile × tile`` pieces whose
region is given in full-size pixels; a region covering the whole image is ``full`` and a size
equal to the full size is ``max``. ``bench/iiif`` measures this against cutting tiles on the fly.
"""

from __future__ import annotations

import math
import os
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from lantai.errors import LantaiError, require

TILE = 512
#: Longest side of the whole-image sizes listed for thumbnails and the no-script view.
MAX_LISTED_SIDE = 1600
QUALITY = 82


@dataclass(frozen=True)
class Pyramid:
    """The geometry of one image's tiles and listed sizes."""

    width: int
    height: int
    tile: int = TILE

    @property
    def scale_factors(self) -> tuple[int, ...]:
        """1, 2, 4, … up to the first factor at which the whole image fits one tile."""
        factors = [1]
        while math.ceil(max(self.width, self.height) / factors[-1]) > self.tile:
            factors.append(factors[-1] * 2)
        return tuple(factors)

    def level_size(self, factor: int) -> tuple[int, int]:
        return math.ceil(self.width / factor), math.ceil(self.height / factor)

    @property
    def sizes(self) -> tuple[tuple[int, int], ...]:
        """Whole-image sizes served (smallest first): the reduced levels up to
        :data:`MAX_LISTED_SIDE`, and the full size."""
        out = [self.level_size(f) for f in reversed(self.scale_factors[1:])
               if max(self.level_size(f)) <= MAX_LISTED_SIDE]
        return (*out, (self.width, self.height))

    def size_name(self, width: int, height: int) -> str:
        return "max" if (width, height) == (self.width, self.height) else f"{width},{height}"

    def tiles(self, factor: int) -> Iterator[tuple[str, str, tuple[int, int, int, int]]]:
        """``(region, size, box in the level's pixels)`` of every tile at ``factor``."""
        level_w, level_h = self.level_size(factor)
        span = self.tile * factor
        for y in range(0, level_h, self.tile):
            for x in range(0, level_w, self.tile):
                rx, ry = x * factor, y * factor
                rw, rh = min(span, self.width - rx), min(span, self.height - ry)
                w, h = min(self.tile, level_w - x), min(self.tile, level_h - y)
                whole = (rx, ry, rw, rh) == (0, 0, self.width, self.height)
                region = "full" if whole else f"{rx},{ry},{rw},{rh}"
                yield region, self.size_name(w, h), (x, y, x + w, y + h)

    def files(self) -> Iterator[str]:
        """Relative path of every file :func:`write_pyramid` writes."""
        for factor in self.scale_factors:
            for region, size, _ in self.tiles(factor):
                yield f"{region}/{size}/0/default.jpg"
        for w, h in self.sizes:
            yield f"full/{self.size_name(w, h)}/0/default.jpg"

    def info(self, service_id: str) -> dict[str, Any]:
        """The Image API 3 ``info.json`` of this image served at ``service_id``."""
        return {
            "@context": "http://iiif.io/api/image/3/context.json",
            "id": service_id,
            "type": "ImageService3",
            "protocol": "http://iiif.io/api/image",
            "profile": "level0",
            "width": self.width,
            "height": self.height,
            "sizes": [{"width": w, "height": h} for w, h in self.sizes],
            "tiles": [{"width": self.tile, "height": self.tile,
                       "scaleFactors": list(self.scale_factors)}],
        }

    def best_size(self, width: int) -> tuple[int, int]:
        """The smallest listed size at least ``width`` wide (the largest when none is)."""
        for w, h in self.sizes:
            if w >= width:
                return w, h
        return self.sizes[-1]


def _save(image: Any, path: Path) -> None:
    """Write a JPEG atomically (readers never see half a tile)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".tile.", suffix=".jpg")
    try:
        with os.fdopen(fd, "wb") as fh:
            image.save(fh, "JPEG", quality=QUALITY, optimize=True)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def prepare(image: Any) -> Any:
    """A Pillow image in a mode JPEG can hold: grey scans stay grey, transparency is paper."""
    image_mod: Any = require("PIL.Image", "all", "cutting page images into tiles")
    if image.mode in ("RGBA", "LA", "PA") or (image.mode == "P" and "transparency" in image.info):
        rgba = image.convert("RGBA")
        white = image_mod.new("RGBA", rgba.size, (255, 255, 255, 255))
        return image_mod.alpha_composite(white, rgba).convert("RGB")
    if image.mode in ("1", "I;16", "I", "F"):
        return image.convert("L")
    if image.mode not in ("L", "RGB"):
        return image.convert("RGB")
    return image


def render_tile(image: Any, pyramid: Pyramid, region: str, size: str) -> Any:
    """One tile or whole-image size cut from the full image (what an on-the-fly server does
    per request; :func:`write_pyramid` instead reuses each reduced level for all its tiles)."""
    if region == "full":
        box = (0, 0, pyramid.width, pyramid.height)
    else:
        x, y, w, h = (int(v) for v in region.split(","))
        box = (x, y, x + w, y + h)
    target = (pyramid.width, pyramid.height) if size == "max" else \
        tuple(int(v) for v in size.split(","))
    cut = image.crop(box)
    return cut if cut.size == target else cut.resize(target, reducing_gap=2.0)


def write_pyramid(image: Any, folder: Path) -> Pyramid:
    """Cut ``image`` (Pillow) into ``folder``: every tile at every scale factor and every
    listed whole-image size. Returns the geometry for ``info.json``."""
    image = prepare(image)
    pyramid = Pyramid(*image.size)
    level = image
    for factor in pyramid.scale_factors:
        if factor > 1:
            level = level.reduce(2)  # box filter; sizes round up, as the Image API's do
            if level.size != pyramid.level_size(factor):  # pragma: no cover - Pillow contract
                raise LantaiError(f"unexpected level size {level.size} at scale {factor}")
        for region, size, box in pyramid.tiles(factor):
            _save(level.crop(box), folder / region / size / "0" / "default.jpg")
        if (factor == 1 or level.size in pyramid.sizes):
            _save(level, folder / "full" / pyramid.size_name(*level.size) / "0" / "default.jpg")
    return pyramid
