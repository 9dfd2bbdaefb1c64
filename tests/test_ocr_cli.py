"""The ``ocr`` click command (in-process, fake-free: errors and help only; batches are tested
through run_batch)."""

from __future__ import annotations

from pathlib import Path

from click.testing import CliRunner

from lantai.ocr.cli import ocr_command


def test_help_lists_options() -> None:
    result = CliRunner().invoke(ocr_command, ["--help"])
    assert result.exit_code == 0
    for option in ("--out", "--engine", "--workers", "--scheduler", "--manifest", "--dpi"):
        assert option in result.output


def test_missing_input_is_a_one_line_error(tmp_path: Path) -> None:
    result = CliRunner().invoke(
        ocr_command, [str(tmp_path / "nope"), "--out", str(tmp_path / "out"), "--engine", "ppocr"]
    )
    assert result.exit_code != 0
    assert "does not exist" in result.output
    assert "Traceback" not in result.output


def test_unknown_engine_rejected(tmp_path: Path) -> None:
    result = CliRunner().invoke(
        ocr_command, [str(tmp_path), "--out", str(tmp_path), "--engine", "x"]
    )
    assert result.exit_code == 2 and "x" in result.output
