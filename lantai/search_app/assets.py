"""Third-party browser assets fetched at setup (``tools/web/fetch_assets.sh``), never from a
CDN: where they are, and the route that serves them under a versioned name.

The lock files beside this module pin each package's npm version and integrity; the fetch
script checks the tarball and unpacks it to ``$LANTAI_WEB_ASSETS`` (default
``~/.cache/lantai/web``). A page uses an asset only when its file is there, so a site set up
without npm still works (the record page then shows page images without zoom).
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

from flask import Blueprint, Response, abort, send_file

bp = Blueprint("assets", __name__)


@dataclass(frozen=True)
class Asset:
    package: str
    version: str
    file: str  # inside the unpacked package

    @property
    def name(self) -> str:
        """The versioned name it is served under (cacheable for a year)."""
        stem, _, suffix = Path(self.file).name.partition(".")
        return f"{stem}-{self.version}.{suffix}"

    def path(self) -> Path:
        return cache_dir() / f"{self.package}-{self.version}" / self.file


def cache_dir() -> Path:
    return Path(os.environ.get("LANTAI_WEB_ASSETS") or Path.home() / ".cache/lantai/web")


def _read_lock(name: str) -> Asset:
    text = resources.files("lantai.search_app").joinpath("vendor", name).read_text("utf-8")
    values = dict(line.split("=", 1) for line in text.splitlines()
                  if "=" in line and not line.startswith("#"))
    return Asset(values["package"], values["version"], values["files"].split()[0])


VIEWER = _read_lock("openseadragon.lock")


def available(asset: Asset) -> bool:
    return asset.path().is_file()


@bp.get("/assets/<name>")
def asset(name: str) -> Response:
    if name != VIEWER.name or not available(VIEWER):
        abort(404)
    response = send_file(VIEWER.path(), mimetype="text/javascript", max_age=365 * 86400)
    response.headers["Cache-Control"] = "public, max-age=31536000, immutable"
    return response
