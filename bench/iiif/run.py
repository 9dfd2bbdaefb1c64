"""Level-0 static tiles against tiles cut on the fly: which serves a page image faster here.

    python bench/iiif/run.py [--rounds 3] [--out bench/iiif/results/run.json]

The page is a real newspaper scan from ``../shared/data/ocr`` (4832×3424 JPEG) when present,
else a typeset A4 page at 300 dpi. Measured, per tile request, for every tile and listed size
of the page (what a viewer asks for while zooming over the whole page):

* **static** — ``lantai images build``'s files served by the real app (Flask test client:
  routing, the public-gate lookup in the index, ``send_file``), no network;
* **on the fly** — what an Image API level-1/2 server must do per request: decode the scan,
  crop, resize, encode JPEG (:func:`lantai.iiif.tiles.render_tile`, the code the tile builder
  shares); and its best case, the decoded scan kept in memory (no decode per request).

On-the-fly times leave out HTTP and the app entirely, so the comparison favours them. Also
reported: the one-off cost of cutting the page, and its disk use. Run on a quiet machine.
"""

from __future__ import annotations

import argparse
import io
import json
import os
import platform
import random
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any
from urllib.parse import quote

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

SHARED_SCAN = ROOT.parent / "shared" / "data" / "ocr" / "ecpo_jingbao" / \
    "jb_3800_1939-04-26_0001+0004.jpg"


def _source(work: Path) -> tuple[Path, str]:
    if SHARED_SCAN.is_file():
        return SHARED_SCAN, f"{SHARED_SCAN.name} (晶報 1939, ../shared/data/ocr)"
    from PIL import Image

    from lantai.demo.scans import find_cjk_font, typeset

    page = typeset("民國二十八年四月二十六日\n" * 16, vertical=True, script="traditional",
                   font_path=find_cjk_font())
    path = work / "typeset.png"
    page.image.resize((2480, 3508), Image.Resampling.LANCZOS).save(path)
    return path, "typeset A4 page at 300 dpi (../shared absent)"


def _stats(ms: list[float]) -> dict[str, float]:
    ms = sorted(ms)
    return {"n": len(ms), "median_ms": round(statistics.median(ms), 2),
            "p95_ms": round(ms[max(0, int(len(ms) * 0.95) - 1)], 2),
            "mean_ms": round(statistics.fmean(ms), 2)}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--out", type=Path, default=ROOT / "bench/iiif/results/run.json")
    args = parser.parse_args(argv)

    from PIL import Image
    from PIL import __version__ as pillow_version

    from lantai.catalog.model import OpenStatus, Record
    from lantai.config import load_settings
    from lantai.iiif.build import build_images
    from lantai.iiif.store import ImageStore
    from lantai.iiif.tiles import Pyramid, prepare, render_tile, write_pyramid
    from lantai.search.backends.embedded import EmbeddedBackend
    from lantai.search_app import create_app

    work = Path(tempfile.mkdtemp(prefix="lantai-iiif-bench-"))
    try:
        source, described = _source(work)
        print(f"load average {os.getloadavg()}; Python {platform.python_version()}, "
              f"Pillow {pillow_version}; page: {described}")

        # one-off cost: cutting the page
        cut_s = []
        for i in range(args.rounds):
            started = time.perf_counter()
            with Image.open(source) as image:
                image.load()
                pyramid = write_pyramid(image, work / f"cut{i}")
            cut_s.append(time.perf_counter() - started)
        files = list((work / "cut0").rglob("*.jpg"))
        disk = sum(p.stat().st_size for p in files)
        print(f"cut {pyramid.width}×{pyramid.height}: {statistics.median(cut_s):.2f} s a page "
              f"(median of {args.rounds}), {len(files)} files, {disk / 1e6:.2f} MB "
              f"(scan {source.stat().st_size / 1e6:.2f} MB)")

        # static: the app serving the built files
        settings = load_settings(environ={}, overrides={"data_dir": work / "data"})
        backend = EmbeddedBackend(settings)
        code = "J001-WS·1939-Y-0001"
        shutil.copy(source, work / ("scan" + source.suffix))
        backend.upsert([Record(archival_code=code, title="bench", open_status=OpenStatus.OPEN,
                               images=("scan" + source.suffix,))])
        report = build_images(backend.iter_records(public=False),
                              ImageStore.in_data_dir(settings.data_dir), scans=work)
        assert not report.failures, report.failures
        client = create_app(settings, backend).test_client()
        names = list(Pyramid(pyramid.width, pyramid.height).files())
        base = f"/iiif/{quote(code)}/1/"
        static_ms: list[float] = []
        for _ in range(args.rounds):
            random.shuffle(names)
            for name in names:
                started = time.perf_counter()
                response = client.get(base + name)
                _ = response.get_data()
                static_ms.append((time.perf_counter() - started) * 1000)
                assert response.status_code == 200, (name, response.status_code)

        # on the fly: decode + cut + encode per request, and with the decoded scan cached
        def encode(tile: Any) -> int:
            buffer = io.BytesIO()
            tile.save(buffer, "JPEG", quality=82)
            return buffer.tell()

        def split(name: str) -> tuple[str, str]:
            region, size = name.split("/")[:2]
            return region, size

        fly_ms: list[float] = []
        for name in names:  # one round: each request decodes the whole scan
            started = time.perf_counter()
            with Image.open(source) as image:
                encode(render_tile(prepare(image), pyramid, *split(name)))
            fly_ms.append((time.perf_counter() - started) * 1000)
        with Image.open(source) as image:
            decoded = prepare(image)
            decoded.load()
        cached_ms: list[float] = []
        for _ in range(args.rounds):
            for name in names:
                started = time.perf_counter()
                encode(render_tile(decoded, pyramid, *split(name)))
                cached_ms.append((time.perf_counter() - started) * 1000)
        backend.close()
    finally:
        shutil.rmtree(work, ignore_errors=True)

    result = {
        "load_average": os.getloadavg(), "page": described,
        "size": [pyramid.width, pyramid.height], "cut_seconds": round(statistics.median(cut_s), 3),
        "files": len(files), "disk_mb": round(disk / 1e6, 2),
        "static": _stats(static_ms), "on_the_fly": _stats(fly_ms),
        "on_the_fly_decoded_cached": _stats(cached_ms),
    }
    for key in ("static", "on_the_fly", "on_the_fly_decoded_cached"):
        s = result[key]
        print(f"{key:>26}: median {s['median_ms']:7.2f} ms  p95 {s['p95_ms']:7.2f} ms  "
              f"({s['n']} requests)")
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=1, ensure_ascii=False), encoding="utf-8")
    print(f"load average {os.getloadavg()}; results: {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
