"""Sample archive for ``make demo`` and realistic test fixtures.

:func:`generate_sample_archive` writes a catalog export (``catalog.csv``) and full texts
(``text/``) of a fictional city archive; see :mod:`lantai.demo.generate` for the layout and the
file-naming rule.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from lantai.demo.generate import (
        CATALOG_HEADERS,
        SampleArchive,
        generate_sample_archive,
        safe_filename,
        text_filename,
    )

__all__ = [
    "CATALOG_HEADERS",
    "SampleArchive",
    "generate_sample_archive",
    "safe_filename",
    "text_filename",
]


def __getattr__(name: str) -> Any:
    # Imported lazily so that ``python -m lantai.demo.generate`` does not import the module twice.
    if name in __all__:
        from lantai.demo import generate

        return getattr(generate, name)
    raise AttributeError(f"module 'lantai.demo' has no attribute {name!r}")
