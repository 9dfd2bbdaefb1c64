"""Small file helpers shared by packages that must not depend on each other."""

from __future__ import annotations

import hashlib
import re
from pathlib import Path


def sha256_file(path: str | Path) -> str:
    """Hex SHA-256 of a file's bytes, read in 1 MiB blocks."""
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def natural_key(name: str) -> list[int | str]:
    """Sort key that orders numbered names as people do: ``p2`` before ``p10``."""
    return [int(t) if t.isdigit() else t for t in re.split(r"(\d+)", name)]
