"""The ``ocr`` click command (in-process, fake-free: errors and help only; batches are tested
through run_batch)."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from lantai.cli import main
from lantai.ocr.cli import ocr_command


def test_help_lists_options() -> None:
    result = CliRunner().invoke(ocr_command, ["--help"])
    assert result.exit_code == 0
    for option in ("--out", "--engine", "--workers", "--scheduler", "--manifest", "--catalog",
                   "--dpi"):
        assert option in result.output


def test_missing_input_is_a_one_line_error(tmp_path: Path) -> None:
    result = CliRunner().invoke(
        main, ["ocr", str(tmp_path / "nope"), "--out", str(tmp_path / "out"), "--engine", "ppocr"]
    )
    assert result.exit_code == 3, result.output  # documented: not found
    assert "does not exist" in result.output
    assert "Traceback" not in result.output


def test_unknown_engine_rejected(tmp_path: Path) -> None:
    result = CliRunner().invoke(
        ocr_command, [str(tmp_path), "--out", str(tmp_path), "--engine", "x"]
    )
    assert result.exit_code == 2 and "x" in result.output


def test_catalog_without_archival_code_column_is_a_one_line_error(tmp_path: Path) -> None:
    catalog = tmp_path / "c.csv"
    catalog.write_text("题名\n甲\n", encoding="utf-8")
    result = CliRunner().invoke(
        main, ["ocr", str(tmp_path), "--out", str(tmp_path / "out"), "--catalog", str(catalog)]
    )
    assert result.exit_code == 8  # documented: an import could not run at all
    assert "no 档号 column" in result.output and "Traceback" not in result.output


def test_catalog_links_scans_and_the_summary_says_how(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    Image = pytest.importorskip("PIL.Image")
    from lantai.ocr import batch
    from lantai.ocr.engines import ENGINES
    from lantai.ocr.testing import fake_engine

    # the fake engine under a real engine's name, in this process only
    monkeypatch.setitem(ENGINES, "ppocr", fake_engine)
    monkeypatch.setattr(batch, "_WORKER_ENGINES", {})
    scans = tmp_path / "scans"
    scans.mkdir()
    for i, name in enumerate(("jb_3797_1939-04-23_0001+0004", "jb_3797_1939-04-23_0002+0003",
                              "IMG_0001")):
        page = Image.new("L", (40, 30), 255)
        page.paste(0, (4 + i, 4, 20 + 3 * i, 12))  # some ink, different on each page
        page.save(scans / f"{name}.png")
    catalog = tmp_path / "目录.csv"
    catalog.write_text("档号,题名\njb_3797,呈文\n", encoding="utf-8")
    out = tmp_path / "out"
    args = [str(scans), "--out", str(out), "--engine", "ppocr", "--workers", "1", "--quiet"]
    result = CliRunner().invoke(ocr_command, [*args, "--catalog", str(catalog)])
    assert result.exit_code == 0, result.output
    assert "scans linked by catalog: 2; not linked: 1 (in _unlinked/)" in result.output
    assert "link: " in result.output and "IMG_0001.png" in result.output
    assert sorted(p.name for p in (out / "jb_3797").glob("*.json")) == [
        "jb_3797_1939-04-23_0001+0004.json", "jb_3797_1939-04-23_0002+0003.json"]
    result = CliRunner().invoke(ocr_command, args)  # without the catalog: by file name
    assert "scans linked by stem: 3" in result.output
    assert not (out / "jb_3797").exists() and (out / "IMG_0001" / "IMG_0001.json").is_file()
