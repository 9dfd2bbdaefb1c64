"""The PaddleOCR-API adapter engine (``paddleocr`` on onnxruntime, wheel-shipped PP-OCR models).

The unmarked tests are fast: the missing-dependency message, setting validation, and the model
folder PaddleX is given (built from the rapidocr wheel's ONNX files). Reading real pages is behind
the ``ocr`` marker and skips when paddleocr is not installed.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import pytest

from lantai.errors import ConfigError, MissingDependency
from lantai.ocr.engines.paddle_api import PaddleApiEngine, PaddleApiSettings, prepare_model_dirs


@pytest.fixture
def offline_env(monkeypatch: pytest.MonkeyPatch) -> None:
    """The engine sets these flags for PaddleX; keep them from leaking into other tests."""
    monkeypatch.setenv("PADDLE_PDX_DISABLE_MODEL_SOURCE_CHECK", "True")
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")


def test_without_paddleocr_the_error_names_the_extra(
    monkeypatch: pytest.MonkeyPatch, offline_env: None, tmp_path: Path
) -> None:
    # None in sys.modules makes ``import paddleocr`` raise ImportError, installed or not
    monkeypatch.setitem(sys.modules, "paddleocr", None)
    with pytest.raises(MissingDependency, match=r"lantai\[paddleocr\]"):
        PaddleApiEngine(cache_dir=tmp_path)
    # nothing is written before the dependency is there
    assert list(tmp_path.iterdir()) == []


def test_unknown_model_is_a_config_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="v6-small"):
        PaddleApiEngine(PaddleApiSettings(model="PP-OCRv9"), cache_dir=tmp_path)


def test_model_folders_follow_the_paddlex_layout(tmp_path: Path) -> None:
    pytest.importorskip("rapidocr")
    pytest.importorskip("onnxruntime")
    yaml: Any = pytest.importorskip("yaml")
    try:
        det_dir, rec_dir = prepare_model_dirs("v6-small", tmp_path)
    except MissingDependency as exc:  # an older rapidocr without the v6 files
        pytest.skip(str(exc))
    det_cfg = yaml.safe_load((det_dir / "inference.yml").read_text("utf-8"))
    rec_cfg = yaml.safe_load((rec_dir / "inference.yml").read_text("utf-8"))
    assert det_cfg["Global"]["model_name"] == "PP-OCRv6_small_det"
    assert rec_cfg["Global"]["model_name"] == "PP-OCRv6_small_rec"
    assert det_cfg["PostProcess"]["name"] == "DBPostProcess"
    normalize = next(op for op in det_cfg["PreProcess"]["transform_ops"] if "NormalizeImage" in op)
    assert normalize["NormalizeImage"]["mean"] == [0.5, 0.5, 0.5]
    chars = rec_cfg["PostProcess"]["character_dict"]
    # the v6 rec head has 18710 classes: CTC blank + dictionary + space
    assert len(chars) == 18708 and "檔" in chars and "档" in chars
    assert (det_dir / "inference.onnx").stat().st_size > 1_000_000
    assert (rec_dir / "inference.onnx").stat().st_size > 1_000_000
    # a second call reuses the folders and leaves no temporary siblings behind
    stamp = (rec_dir / "inference.yml").stat().st_mtime_ns
    assert prepare_model_dirs("v6-small", tmp_path) == (det_dir, rec_dir)
    assert (rec_dir / "inference.yml").stat().st_mtime_ns == stamp
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted([det_dir.name, rec_dir.name])


# ------------------------------------------------------------------ real engine (marker ocr)


@pytest.fixture(scope="module")
def engine(tmp_path_factory: pytest.TempPathFactory) -> PaddleApiEngine:
    pytest.importorskip("paddleocr")
    try:
        return PaddleApiEngine(cache_dir=tmp_path_factory.mktemp("paddleocr-models"))
    except MissingDependency as exc:
        pytest.skip(str(exc))


def _page(direction: str, script: str) -> Any:
    from testkit.ocr_pages import PageSpec, find_cjk_font, render

    try:
        find_cjk_font()
    except MissingDependency as exc:
        pytest.skip(str(exc))
    return render(PageSpec(direction, script, "clean", seed=7, dpi=150))


@pytest.mark.ocr
@pytest.mark.parametrize(
    ("direction", "script", "limit"),
    [("horizontal", "simplified", 0.01), ("vertical", "traditional", 0.02)],
)
def test_reads_a_generated_page(
    engine: PaddleApiEngine, direction: str, script: str, limit: float
) -> None:
    from lantai.ocr.metrics import cer, han_only
    from lantai.ocr.pipeline import ocr_image

    page = _page(direction, script)
    result = ocr_image(page.image, engine)
    assert cer(han_only(page.text), han_only(result.text)) <= limit, result.text
    assert result.direction == ("horizontal" if direction == "horizontal" else "vertical-rl")


@pytest.mark.ocr
def test_raw_lines_honour_the_engine_contract(engine: PaddleApiEngine) -> None:
    page = _page("vertical", "traditional")
    h, w = page.image.shape[:2]
    lines = engine.recognize(page.image)
    assert len(lines) >= len(page.lines) // 2
    for line in lines:
        assert line.text and line.text == line.text.strip()
        assert len(line.polygon) == 4
        assert all(0 <= x < w and 0 <= y < h for x, y in line.polygon)
        assert 0.0 <= line.confidence <= 1.0
    # full columns of a vertical page are tall and thin
    assert sum(line.vertical for line in lines) >= 0.9 * len(lines)
    # a BGR copy of the same page gives the same lines
    import cv2

    bgr = cv2.cvtColor(page.image, cv2.COLOR_GRAY2BGR)
    assert [ln.text for ln in engine.recognize(bgr)] == [ln.text for ln in lines]


@pytest.mark.ocr
def test_describe_names_the_models_and_settings(engine: PaddleApiEngine) -> None:
    key = engine.describe()
    assert key.startswith("paddleocr-3.")
    assert "PP-OCRv6_small_det" in key and "PP-OCRv6_small_rec" in key
    assert f"det=0.3/{engine.settings.box_thresh}/" in key
