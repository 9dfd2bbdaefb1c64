"""Page images: level-0 tiles, ``lantai images build`` from OCR output and from the 图像
column, the IIIF routes behind the public gate, and hits drawn on the record page's image."""

from __future__ import annotations

import json
import math
import os
import re
from collections.abc import Callable
from pathlib import Path
from urllib.parse import quote

import pytest
from flask import Flask
from PIL import Image, ImageDraw

from lantai.catalog.model import OpenStatus, Record, safe_filename
from lantai.config import Settings
from lantai.iiif.build import build_images
from lantai.iiif.store import ImageStore
from lantai.iiif.tiles import Pyramid, write_pyramid
from lantai.ocr.model import OcrBlock, OcrLine, OcrPage
from lantai.search.backends.embedded import EmbeddedBackend
from lantai.search_app import create_app
from tests.conftest import record

OPEN = "J301-WS·1939-Y-0001"
SLASHED = "J302-001/002-0003"
HIDDEN = "J303-WS·1940-Y-0002"
COLUMNS = ("民國二十八年四月楊靖宇率部", "於濛江一帶與日軍作戰", "斃敵甚衆繳獲步槍")


# -- tiles -----------------------------------------------------------------------------------
@pytest.mark.parametrize(("width", "height"), [(1240, 1754), (512, 512), (513, 100), (3000, 40)])
def test_tiles_cover_every_level_exactly(width: int, height: int) -> None:
    pyramid = Pyramid(width, height)
    factors = pyramid.scale_factors
    assert factors == tuple(2 ** i for i in range(len(factors)))  # what OpenSeadragon assumes
    assert math.ceil(max(width, height) / factors[-1]) <= pyramid.tile
    for factor in factors:
        level_w, level_h = pyramid.level_size(factor)
        area = 0
        for region, size, (x0, y0, x1, y1) in pyramid.tiles(factor):
            area += (x1 - x0) * (y1 - y0)
            if region != "full":
                rx, ry, rw, rh = map(int, region.split(","))
                assert (rx, ry) == (x0 * factor, y0 * factor)
                assert math.ceil(rw / factor) == x1 - x0 and math.ceil(rh / factor) == y1 - y0
            expected = "max" if (x1 - x0, y1 - y0) == (width, height) else f"{x1 - x0},{y1 - y0}"
            assert size == expected
        assert area == level_w * level_h


def test_written_files_are_the_listed_ones_with_their_sizes(tmp_path: Path) -> None:
    image = Image.new("L", (1300, 900), 230)
    pyramid = write_pyramid(image, tmp_path)
    written = {p.relative_to(tmp_path).as_posix() for p in tmp_path.rglob("*.jpg")}
    assert written == set(pyramid.files())
    for name in written:
        size = name.split("/")[1]
        with Image.open(tmp_path / name) as tile:
            assert tile.size == ((1300, 900) if size == "max" else
                                 tuple(int(v) for v in size.split(",")))
    info = pyramid.info("https://example.org/iiif/x/1")
    assert info["profile"] == "level0" and info["tiles"][0]["scaleFactors"] == [1, 2, 4]
    assert {"width": 1300, "height": 900} in info["sizes"]


# -- a small archive with scans and OCR -------------------------------------------------------
def _vertical_page(image_name: str, width: int = 900, height: int = 1200) -> OcrPage:
    lines = []
    for k, text in enumerate(COLUMNS):
        x1 = width - 100 - k * 120
        x0, y0, y1 = x1 - 80, 100, 100 + 70 * len(text)
        lines.append(OcrLine(text, ((x0, y0), (x1, y0), (x1, y1), (x0, y1)), 0.95, k, 0, True))
    return OcrPage(image_name, 1, width, height, 0, "vertical-rl", tuple(lines),
                   (OcrBlock(0, "text", (0, 0, width, height)),), "test")


def _scan(path: Path, size: tuple[int, int] = (900, 1200)) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    image = Image.new("L", size, 235)
    ImageDraw.Draw(image).rectangle((50, 50, size[0] - 50, size[1] - 50), outline=20, width=6)
    image.save(path)
    return path


def _ocr_output(root: Path, scans: Path, code: str, pages: int) -> list[OcrPage]:
    """An OCR output folder as ``lantai ocr`` writes it: page files and the journal."""
    folder = root / safe_filename(code)
    folder.mkdir(parents=True, exist_ok=True)
    state = root / "_state"
    state.mkdir(exist_ok=True)
    out = []
    with open(state / "journal.jsonl", "a", encoding="utf-8") as journal:
        for n in range(1, pages + 1):
            scan = _scan(scans / f"{safe_filename(code)}_{n}.png")
            page = _vertical_page(scan.name)
            (folder / f"p{n}.json").write_text(json.dumps(page.to_dict()), encoding="utf-8")
            (folder / f"p{n}.txt").write_text(page.text + "\n", encoding="utf-8")
            journal.write(json.dumps({"key": f"k{code}{n}", "item": str(scan),
                                      "record": folder.name, "stem": f"p{n}"}) + "\n")
            out.append(page)
    return out


@pytest.fixture
def archive(tmp_path: Path, make_settings: Callable[..., Settings]
            ) -> tuple[Settings, EmbeddedBackend, Path, Path]:
    settings = make_settings()
    scans, ocr = tmp_path / "scans", tmp_path / "ocr"
    open_pages = _ocr_output(ocr, scans, OPEN, 3)
    hidden_pages = _ocr_output(ocr, scans, HIDDEN, 1)
    _scan(scans / "catalog" / "slashed.png", (700, 500))
    backend = EmbeddedBackend(settings)
    report = backend.upsert([
        record(OPEN, "東北抗日聯軍作戰報告", fonds="J301", year=1939,
               creator="東北抗日聯軍").with_pages(tuple(p.text for p in open_pages)),
        record(HIDDEN, "未开放的作战报告", fonds="J303", year=1940,
               open_status=OpenStatus.CONTROLLED).with_pages(
                   tuple(p.text for p in hidden_pages)),
        Record(archival_code=SLASHED, title="带斜杠档号的图像", fonds="J302", year=1950,
               open_status=OpenStatus.OPEN, images=("catalog/slashed.png",)),
    ])
    assert not report.failed
    return settings, backend, ocr, scans


@pytest.fixture
def built(archive: tuple[Settings, EmbeddedBackend, Path, Path]) -> Flask:
    settings, backend, ocr, scans = archive
    store = ImageStore.in_data_dir(settings.data_dir)
    report = build_images(backend.iter_records(public=False), store, ocr_dir=ocr, scans=scans)
    assert report.failures == [] and report.records == 3 and report.pages_written == 5
    app = create_app(settings, backend)
    app.config["TESTING"] = True
    return app


def test_build_resumes_and_reports_what_failed(
        archive: tuple[Settings, EmbeddedBackend, Path, Path], built: Flask) -> None:
    settings, backend, ocr, scans = archive
    store = ImageStore.in_data_dir(settings.data_dir)
    again = build_images(backend.iter_records(public=False), store, ocr_dir=ocr, scans=scans)
    assert (again.pages_written, again.pages_unchanged, again.failures) == (0, 5, [])
    # one scan replaced by a different size (its OCR boxes no longer fit), one deleted
    replaced = scans / f"{safe_filename(OPEN)}_2.png"
    _scan(replaced, (800, 1000))
    os.utime(replaced, ns=(1, 1))
    (scans / f"{safe_filename(OPEN)}_3.png").unlink()
    third = build_images(backend.iter_records(public=False), store, ocr_dir=ocr, scans=scans)
    reasons = {f["item"].rsplit("/", 1)[-1]: f["reason"] for f in third.failures}
    assert "OCRed at 900×1200" in reasons[f"{safe_filename(OPEN)}_2.png"]
    assert "not found" in reasons[f"{safe_filename(OPEN)}_3.png"]
    assert [p.number for p in store.pages(OPEN)] == [1]  # the pages that still fit
    saved = json.loads((store.root / "report.json").read_text(encoding="utf-8"))
    assert saved["failed"] == 2


def test_scans_that_moved_are_found_by_name_under_scans(
        archive: tuple[Settings, EmbeddedBackend, Path, Path], tmp_path: Path) -> None:
    settings, backend, ocr, scans = archive
    moved = tmp_path / "moved"
    scans.rename(moved)
    store = ImageStore.in_data_dir(settings.data_dir)
    lost = build_images(backend.iter_records(public=False), store, ocr_dir=ocr)
    assert lost.pages_written == 0 and any("--scans" in f["reason"] for f in lost.failures)
    found = build_images(backend.iter_records(public=False), store, ocr_dir=ocr, scans=moved)
    assert found.failures == [] and found.pages_written == 5


def test_catalog_image_names_cannot_leave_the_scans_folder(
        tmp_path: Path, make_settings: Callable[..., Settings]) -> None:
    settings = make_settings()
    _scan(tmp_path / "secret.png")
    scans = tmp_path / "scans"
    scans.mkdir()
    sneaky = Record(archival_code="X-1", title="t", open_status=OpenStatus.OPEN,
                    images=("../secret.png",))
    report = build_images([sneaky], ImageStore.in_data_dir(settings.data_dir), scans=scans)
    assert report.pages_written == 0
    assert "outside the scans folder" in report.failures[0]["reason"]


def test_two_codes_sharing_a_folder_name_never_show_each_others_images(
        tmp_path: Path, make_settings: Callable[..., Settings]) -> None:
    settings = make_settings()
    scans = tmp_path / "scans"
    _scan(scans / "a.png")
    first = Record(archival_code="A/1", title="t", open_status=OpenStatus.OPEN, images=("a.png",))
    second = Record(archival_code="A_1", title="t", open_status=OpenStatus.OPEN,
                    images=("a.png",))
    store = ImageStore.in_data_dir(settings.data_dir)
    report = build_images([first, second], store, scans=scans)
    assert report.records == 1 and "A/1" in report.failures[0]["reason"]
    assert store.pages("A/1") and store.pages("A_1") == ()


# -- IIIF routes -----------------------------------------------------------------------------
def _url(code: str) -> str:
    return "/iiif/" + quote(code)


def test_manifest_has_a_canvas_per_page_with_ocr_lines(built: Flask) -> None:
    client = built.test_client()
    response = client.get(_url(OPEN) + "/manifest.json")
    assert response.status_code == 200
    assert response.headers["Content-Type"].startswith("application/ld+json")
    assert response.headers["Access-Control-Allow-Origin"] == "*"
    manifest = response.get_json()
    assert manifest["type"] == "Manifest" and manifest["viewingDirection"] == "right-to-left"
    assert manifest["label"] == {"zh": ["東北抗日聯軍作戰報告"]}
    canvases = manifest["items"]
    assert [c["width"] for c in canvases] == [900, 900, 900]
    lines = canvases[0]["annotations"][0]["items"]
    assert [a["body"]["value"] for a in lines] == list(COLUMNS)
    assert all(a["motivation"] == "supplementing" and "#xywh=" in a["target"] for a in lines)
    body = canvases[0]["items"][0]["items"][0]["body"]
    # every URL the manifest gives answers
    for url in (body["id"], body["service"][0]["id"] + "/info.json",
                canvases[0]["thumbnail"][0]["id"]):
        path = url.split("://", 1)[1].split("/", 1)[1]
        assert client.get("/" + path).status_code == 200, url
    assert manifest["homepage"][0]["id"] in manifest["requiredStatement"]["value"]["zh"][0]


def test_every_tile_answers_and_nothing_else_does(built: Flask) -> None:
    client = built.test_client()
    info = client.get(_url(OPEN) + "/1/info.json").get_json()
    assert info["id"].endswith(_url(OPEN) + "/1") and info["profile"] == "level0"
    pyramid = Pyramid(info["width"], info["height"])
    for name in pyramid.files():
        response = client.get(f"{_url(OPEN)}/1/{name}")
        assert response.status_code == 200 and response.mimetype == "image/jpeg", name
        assert response.headers["Cache-Control"] == "no-cache" and response.headers["ETag"]
    assert client.get(_url(OPEN) + "/1").status_code == 303
    for bad, param in (("pct:10,10,10,10/max/0/default.jpg", "region"),
                       ("full/!100,100/0/default.jpg", "size"),
                       ("full/max/90/default.jpg", "rotation"),
                       ("full/max/0/gray.png", "quality")):
        response = client.get(f"{_url(OPEN)}/1/{bad}")
        assert response.status_code == 400 and response.get_json()["parameter"] == param
    for absent in ("full/123,456/0/default.jpg", "0,0,1,1/1,1/0/default.jpg"):
        assert client.get(f"{_url(OPEN)}/1/{absent}").status_code == 404
    assert client.get(f"{_url(OPEN)}/9/info.json").status_code == 404
    for escape in ("/1/..%2F..%2Frecord.json", "/1/full/..%2F..%2F..%2Fpage.json/0/default.jpg",
                   "/../../" + safe_filename(HIDDEN) + "/1/full/max/0/default.jpg"):
        assert client.get(_url(OPEN) + escape).status_code in (400, 404), escape


def test_results_show_page_one_as_a_thumbnail(built: Flask) -> None:
    client = built.test_client()
    page = client.get("/search?q=作战报告").get_data(as_text=True)
    thumbs = re.findall(r'<a class="thumb" href="([^"]+)"[^>]*><img src="([^"]+)"', page)
    assert len(thumbs) == 1 and "/records/" + quote(OPEN) in thumbs[0][0]
    src = thumbs[0][1].split("://", 1)[-1]
    assert client.get(src[src.index("/iiif/"):]).status_code == 200
    english = client.get("/search?q=作战报告&decade=1930&lang=en").get_data(as_text=True)
    assert "1930s" in english and "1930年代" not in english


def test_the_api_points_at_the_manifest(built: Flask) -> None:
    client = built.test_client()
    data = client.get("/api/v1/records/" + quote(OPEN)).get_json()
    assert data["page_images"] == 3
    assert data["iiif_manifest"].endswith(_url(OPEN) + "/manifest.json")
    path = "/" + data["iiif_manifest"].split("://", 1)[1].split("/", 1)[1]
    assert client.get(path).get_json()["type"] == "Manifest"
    assert "/iiif/{code}/manifest.json" in client.get("/api/v1/openapi.json").get_json()["paths"]


def test_codes_with_a_slash_are_served(built: Flask) -> None:
    client = built.test_client()
    manifest = client.get(_url(SLASHED) + "/manifest.json").get_json()
    assert manifest["viewingDirection"] == "left-to-right" and "annotations" not in \
        manifest["items"][0]
    assert client.get(_url(SLASHED) + "/1/full/max/0/default.jpg").status_code == 200
    page = client.get("/records/" + quote(SLASHED)).get_data(as_text=True)
    assert 'id="viewer"' in page and 'data-side="right"' not in page  # one page: no turning


def test_a_hidden_records_images_answer_exactly_like_a_missing_ones(built: Flask) -> None:
    client = built.test_client()
    missing = "J399-WS·1940-Y-0009"
    for tail in ("/manifest.json", "/1/info.json", "/1", "/1/full/max/0/default.jpg",
                 "/1/bad/bad/0/default.jpg"):
        hidden = client.get(_url(HIDDEN) + tail)
        absent = client.get(_url(missing) + tail)
        assert hidden.status_code == absent.status_code == 404, tail
        assert hidden.get_json()["error"].replace(HIDDEN, "X") == \
            absent.get_json()["error"].replace(missing, "X")
        assert set(hidden.headers.keys()) == set(absent.headers.keys())
    page = client.get("/search?q=作战报告").get_data(as_text=True)
    assert "未开放" not in page


def test_record_page_draws_the_hits_on_the_image_and_turns_right_to_left(built: Flask) -> None:
    client = built.test_client()
    page = client.get("/records/" + quote(OPEN) + "?q=杨靖宇&image=2").get_data(as_text=True)
    viewer = page[page.index('id="viewer"'):page.index("</section>", page.index('id="viewer"'))]
    polygons = re.findall(r'<polygon points="([^"]+)"', viewer)
    assert len(polygons) == 1  # 楊靖宇 (simplified query, traditional text) in column one
    xs = [int(p.split(",")[0]) for p in polygons[0].split()]
    ys = [int(p.split(",")[1]) for p in polygons[0].split()]
    # the column is x 720-800, 70 px a character from y 100; 楊靖宇 are its characters 8-10
    # (0-based) of 13, so y 660-870
    assert (min(xs), max(xs)) == (720, 800)
    assert (min(ys), max(ys)) == (100 + 70 * 8, 100 + 70 * 11)
    # page 2 of 3 in a right-to-left book: the next page (3) is the link on the left
    left = re.search(r'<a class="turn" data-side="left" rel="next" href="([^"]+)"', viewer)
    right = re.search(r'<a class="turn" data-side="right" rel="prev" href="([^"]+)"', viewer)
    assert left and "image=3" in left.group(1) and "q=" in left.group(1)
    assert right and "image=1" in right.group(1)
    assert "第 2 / 3 页" in viewer
    assert client.get("/records/" + quote(OPEN) + "?image=4").status_code == 400


def test_a_page_whose_text_changed_after_ocr_shows_no_boxes(
        archive: tuple[Settings, EmbeddedBackend, Path, Path], built: Flask) -> None:
    _, backend, _, _ = archive
    old = backend.get(OPEN)
    backend.upsert([old.with_pages(("楊靖宇 edited by hand", *old.pages[1:]))])
    page = built.test_client().get("/records/" + quote(OPEN) + "?q=杨靖宇").get_data(
        as_text=True)
    viewer = page[page.index('id="viewer"'):]
    assert "<polygon" not in viewer.split("</section>")[0]


@pytest.mark.usefixtures("cheap_passwords")
def test_signed_in_staff_see_the_images_of_unopened_records(built: Flask) -> None:
    from lantai.accounts.roles import Role

    built.extensions["lantai"].accounts.add_user("wang", Role.REVIEWER, "审核员的长密码 2026")
    client = built.test_client()
    login = client.get("/staff/login").get_data(as_text=True)
    token = re.search(r'name="csrf_token" value="([^"]+)"', login).group(1)  # type: ignore
    client.post("/staff/login", data={"username": "wang", "password": "审核员的长密码 2026",
                                      "csrf_token": token})
    manifest = client.get(_url(HIDDEN) + "/manifest.json")
    assert manifest.status_code == 200
    assert "Access-Control-Allow-Origin" not in manifest.headers  # not for other sites
    assert manifest.headers["Cache-Control"] == "no-store"
    assert client.get(_url(HIDDEN) + "/1/full/max/0/default.jpg").status_code == 200
    page = client.get("/records/" + quote(HIDDEN)).get_data(as_text=True)
    assert 'id="viewer"' in page
    assert built.test_client().get(_url(HIDDEN) + "/manifest.json").status_code == 404
