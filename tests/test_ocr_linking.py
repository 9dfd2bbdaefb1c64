"""Linking scans to records: only by a rule the user can see (manifest, catalog, the file's own
name, its folder's name), reported per scan in report.json; never a guessed part of a name."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

np = pytest.importorskip("numpy")
Image = pytest.importorskip("PIL.Image")

from lantai.errors import ImportFailed  # noqa: E402
from lantai.ocr.batch import BatchReport, run_batch  # noqa: E402
from lantai.ocr.sources import (  # noqa: E402
    CatalogCodes,
    Linker,
    LinkRule,
    find_archival_code,
    read_catalog_codes,
    read_manifest,
)
from lantai.ocr.testing import fake_engine  # noqa: E402

JB = ("jb_3797_1939-04-23_0001+0004.jpg", "jb_3797_1939-04-23_0002+0003.jpg")


def scan(path: Path, seed: int) -> Path:
    """A small synthetic page (a few ink blocks; content depends on ``seed``)."""
    rng = np.random.default_rng(seed)
    page = np.full((64, 48), 255, np.uint8)
    for _ in range(5):
        y, x = rng.integers(2, 40, 2)
        page[y : y + 6, x : x + 8] = 0
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(page).save(path)
    return path


def batch(inputs: list[Path], out: Path, **kw: Any) -> tuple[BatchReport, dict[str, Any]]:
    """Run a batch with the fake engine; the report and report.json as written."""
    report = run_batch(inputs, out, engine=fake_engine, workers=1, progress=False, **kw)
    saved = json.loads((out / "report.json").read_text("utf-8"))
    return report, saved


def links(saved: dict[str, Any]) -> dict[str, tuple[str | None, str]]:
    return {Path(x["file"]).name: (x["record"], x["rule"]) for x in saved["links"]}


def folders(out: Path) -> set[str]:
    return {p.name for p in out.iterdir() if p.is_dir()} - {"_state"}


def test_a_date_in_a_name_is_never_an_archival_code(tmp_path: Path) -> None:
    for i, name in enumerate(JB):
        scan(tmp_path / "scans" / name, i)
    out = tmp_path / "out"
    _, saved = batch([tmp_path / "scans"], out)
    stems = [Path(n).stem for n in JB]
    assert folders(out) == set(stems)  # two records, not one called 1939-04-23
    assert links(saved) == {n: (Path(n).stem, "stem") for n in JB}
    assert saved["linked_by"] == {"stem": 2}
    for stem in stems:
        assert (out / stem / f"{stem}.txt").is_file()
    assert find_archival_code(stems[0]) is None
    assert find_archival_code("1939-04-23_0001") is None  # a date less a page number
    assert find_archival_code("1939-04-23") is None


def test_a_catalog_links_both_scans_of_one_record(tmp_path: Path) -> None:
    for i, name in enumerate(JB):
        scan(tmp_path / "scans" / name, i)
    scan(tmp_path / "scans" / "IMG_0001.jpg", 9)
    catalog = tmp_path / "目录.csv"
    # 1939 is in the catalog too (as a 档号 of another fonds): the longer jb_3797 wins
    catalog.write_text("档号,题名\njb_3797,呈文\n1939,另一件\njb_3798,另一件\n", encoding="utf-8")
    out = tmp_path / "out"
    report, saved = batch([tmp_path / "scans"], out, catalog=read_catalog_codes(catalog))
    assert links(saved) == {JB[0]: ("jb_3797", "catalog"), JB[1]: ("jb_3797", "catalog"),
                            "IMG_0001.jpg": (None, "unlinked")}
    assert sorted(p.name for p in (out / "jb_3797").glob("*.txt")) == [
        f"{Path(n).stem}.txt" for n in JB]
    assert (out / "_unlinked" / "IMG_0001.txt").is_file()
    (link_failure,) = [f for f in report.failures if f.stage == "link"]
    assert Path(link_failure.item).name == "IMG_0001.jpg" and "_unlinked" in link_failure.reason


def test_catalog_match_is_longest_whole_word_in_the_safe_filename_form() -> None:
    codes = CatalogCodes(["J001-1", "J001-10", "C038-001-014-003/1", "jb_3797"])
    assert codes.find("J001-10_0002") == "J001-10"  # longest
    assert codes.find("J001-100_0002") is None  # not inside a longer number
    assert codes.find("xjb_3797") is None
    assert codes.find("JB_3797 背面") == "jb_3797"  # case ignored
    assert codes.find("C038-001-014-003_1_0002") == "C038-001-014-003/1"
    linker = Linker(catalog=codes)
    # the file name first, then its folders up to the input folder, nearest first
    link = linker.link(Path("in/J001-1/J001-10 p2.jpg"), Path("in"))
    assert (link.record, link.rule, link.name) == ("J001-10", LinkRule.CATALOG, "J001-10 p2")
    link = linker.link(Path("in/J001-1/sub/0002.jpg"), Path("in"))
    assert (link.record, link.name) == ("J001-1", "J001-1")
    # never above the input folder
    assert linker.link(Path("J001-1/in/0002.jpg"), Path("J001-1/in")).record is None


def test_rules_in_order_without_a_catalog(tmp_path: Path) -> None:
    root = tmp_path / "in"
    manifest_file = tmp_path / "m.csv"
    manifest_file.write_text("档号,文件\nX001-WS·1950-Y-0007,in/C038-001-014-003_0001.png\n",
                             encoding="utf-8")
    linker = Linker(read_manifest(manifest_file))
    cases = {
        "C038-001-014-003_0001.png": ("X001-WS·1950-Y-0007", LinkRule.MANIFEST),
        "C038-001-014-003_0002.png": ("C038-001-014-003", LinkRule.STEM),  # 档号 + page no.
        "X012-WS·1956-D30-0003/scan.tif": ("X012-WS·1956-D30-0003", LinkRule.FOLDER),
        "jb_3797/0001.jpg": ("jb_3797", LinkRule.FOLDER),  # a folder of numbered pages
        "jb_3797/第2页.jpg": ("jb_3797", LinkRule.FOLDER),
        "1939-04/0001.jpg": ("1939-04", LinkRule.FOLDER),
        "1939-04/jb_3801_0001.jpg": ("jb_3801_0001", LinkRule.STEM),  # not the date folder
        "loose.png": ("loose", LinkRule.STEM),
        "_state.png": (None, LinkRule.UNLINKED),  # would write into the journal's folder
    }
    for name, expected in cases.items():
        link = linker.link(root / name, root)
        assert (link.record, link.rule) == expected, name


def test_folders_of_pages_are_not_merged_by_their_page_names(tmp_path: Path) -> None:
    for i, record in enumerate(("jb_3797", "jb_3798")):
        for page in (1, 2):
            scan(tmp_path / "scans" / record / f"{page:04d}.png", 10 * i + page)
    out = tmp_path / "out"
    _, saved = batch([tmp_path / "scans"], out)
    assert folders(out) == {"jb_3797", "jb_3798"}
    assert sorted(p.name for p in (out / "jb_3798").glob("*.txt")) == ["0001.txt", "0002.txt"]
    assert saved["linked_by"] == {"folder": 4}


def test_a_new_catalog_moves_finished_pages_without_ocr_again(tmp_path: Path) -> None:
    for i, name in enumerate(JB):
        scan(tmp_path / "scans" / name, i)
    out = tmp_path / "out"
    # as the old guessing linked them: both into one folder named after the date
    manifest = {name: "1939-04-23" for name in JB}
    first, _ = batch([tmp_path / "scans"], out, manifest=manifest)
    assert folders(out) == {"1939-04-23"} and first.pages_done == 2
    texts = {p.name: p.read_text("utf-8") for p in (out / "1939-04-23").glob("*.txt")}
    again, _ = batch([tmp_path / "scans"], out, catalog=["jb_3797"])
    assert (again.pages_done, again.pages_cached, again.pages_relinked) == (0, 2, 2)
    assert folders(out) == {"jb_3797"}  # the date folder is gone
    assert {p.name: p.read_text("utf-8") for p in (out / "jb_3797").glob("*.txt")} == texts
    third, _ = batch([tmp_path / "scans"], out, catalog=["jb_3797"])
    assert (third.pages_cached, third.pages_relinked) == (2, 0)


def test_unreadable_catalog_is_an_import_error(tmp_path: Path) -> None:
    bad = tmp_path / "c.csv"
    bad.write_text("题名\n甲\n", encoding="utf-8")
    with pytest.raises(ImportFailed, match="no 档号 column"):
        read_catalog_codes(bad)
