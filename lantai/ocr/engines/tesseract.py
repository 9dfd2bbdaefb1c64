"""Tesseract 5 through its command line (``chi_sim``, ``chi_tra`` and the ``*_vert`` models).

The ``tesseract`` binary and language data come from the system (Debian: ``tesseract-ocr``,
``tesseract-ocr-chi-sim``, ``tesseract-ocr-chi-tra`` and their ``-vert`` packages). The page goes
in as PNG on stdin; TSV comes out, whose words are regrouped into lines.
"""

from __future__ import annotations

import shutil
import subprocess
from typing import Any

from lantai.errors import MissingDependency, require
from lantai.ocr.engines.base import OcrEngine, RawLine


class TesseractEngine(OcrEngine):
    """Tesseract via subprocess; ``lang`` and ``psm`` as on its command line."""

    def __init__(
        self,
        lang: str = "chi_sim+chi_tra",
        psm: int = 3,
        name: str = "tesseract",
        timeout: float = 600.0,
    ) -> None:
        self.lang, self.psm, self.name, self.timeout = lang, psm, name, timeout
        binary = shutil.which("tesseract")
        if binary is None:
            raise MissingDependency(
                "the tesseract engine needs the 'tesseract' program: "
                "apt-get install tesseract-ocr tesseract-ocr-chi-sim tesseract-ocr-chi-tra "
                "tesseract-ocr-chi-sim-vert tesseract-ocr-chi-tra-vert"
            )
        self.binary = binary
        out = subprocess.run(
            [binary, "--list-langs"], capture_output=True, text=True, check=False
        ).stdout.split()
        missing = [code for code in lang.split("+") if code not in out]
        if missing:
            raise MissingDependency(
                f"tesseract has no language data for {', '.join(missing)}: install "
                + " ".join(f"tesseract-ocr-{m.replace('_', '-')}" for m in missing)
            )

    def describe(self) -> str:
        return f"tesseract lang={self.lang} psm={self.psm}"

    def recognize(self, image: Any) -> list[RawLine]:
        cv2: Any = require("cv2", "ocr", "the tesseract engine")
        ok, png = cv2.imencode(".png", image)
        if not ok:
            raise ValueError("could not encode page for tesseract")
        proc = subprocess.run(
            [self.binary, "-", "stdout", "-l", self.lang, "--psm", str(self.psm), "tsv"],
            input=png.tobytes(),
            capture_output=True,
            timeout=self.timeout,
            check=False,
        )
        if proc.returncode != 0:
            raise RuntimeError(f"tesseract failed: {proc.stderr.decode(errors='replace')[-300:]}")
        return parse_tsv(proc.stdout.decode("utf-8", errors="replace"))


def parse_tsv(tsv: str) -> list[RawLine]:
    """Group Tesseract TSV words (level 5) into lines by (block, paragraph, line)."""
    rows = tsv.splitlines()
    lines: dict[tuple[str, str, str], list[tuple[str, float, int, int, int, int]]] = {}
    for row in rows[1:]:
        cols = row.split("\t")
        if len(cols) < 12 or cols[0] != "5":
            continue
        text = cols[11].strip()
        if not text:
            continue
        left, top, width, height = (int(c) for c in cols[6:10])
        conf = max(0.0, float(cols[10])) / 100.0
        lines.setdefault((cols[2], cols[3], cols[4]), []).append(
            (text, conf, left, top, left + width, top + height)
        )
    out: list[RawLine] = []
    for words in lines.values():
        x0 = min(w[2] for w in words)
        y0 = min(w[3] for w in words)
        x1 = max(w[4] for w in words)
        y1 = max(w[5] for w in words)
        text = "".join(w[0] for w in words)
        vertical = (y1 - y0) > 1.5 * (x1 - x0) and len(text) > 1
        conf = sum(w[1] for w in words) / len(words)
        polygon = ((x0, y0), (x1, y0), (x1, y1), (x0, y1))
        out.append(RawLine(text=text, polygon=polygon, confidence=conf, vertical=vertical))
    return out
