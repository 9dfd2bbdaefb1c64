"""What the public sees of a published theme, and the exports of it.

Every view reads the version's records through the backend's public gate when it is shown, so
a record that is not 开放 (any more) is simply not there — on the theme page, its timeline, its
search, and in every export.
"""

from __future__ import annotations

import html
import json
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from lantai.catalog.model import Record
from lantai.errors import BadQueryError
from lantai.iiif.store import ImageStore
from lantai.search.backends.base import SearchBackend, SearchRequest, SearchResult
from lantai.search.facets import Filters
from lantai.thematic_collections.store import Item, Version
from lantai.thematic_collections.themes import Theme

EXPORT_FORMATS = ("static", "json", "iiif")


@dataclass(frozen=True)
class ExhibitItem:
    record: Record
    item: Item

    @property
    def year(self) -> int | None:
        if self.item.timeline[:4].isdigit():
            return int(self.item.timeline[:4])
        if self.record.date_start:
            return self.record.date_start // 10000
        return self.record.year


def public_items(backend: SearchBackend, version: Version) -> list[ExhibitItem]:
    """The version's items that are 开放 now, in the curator's order."""
    found = backend.get_many([i.archival_code for i in version.items], public=True)
    return [ExhibitItem(found[i.archival_code], i) for i in version.items
            if i.archival_code in found]


def timeline(items: list[ExhibitItem]) -> list[tuple[int | None, list[ExhibitItem]]]:
    """Items grouped by year in time order (undated last)."""
    years: dict[int | None, list[ExhibitItem]] = {}
    for item in items:
        years.setdefault(item.year, []).append(item)
    return sorted(years.items(), key=lambda kv: (kv[0] is None, kv[0] or 0))


def search_in(backend: SearchBackend, versions: list[Version], query: str, *,
              filters: Filters | None = None, size: int = 50) -> SearchResult:
    """Search the records of one or more published themes (catalog and full text, OCR
    included), with the facets of what was found; ``filters`` narrow it further."""
    import dataclasses

    codes = tuple(dict.fromkeys(i.archival_code for v in versions for i in v.items))
    if not codes:
        codes = ("\x00none",)  # no theme published: nothing to find, not everything
    narrowed = dataclasses.replace(filters or Filters(), archival_code=codes)
    return backend.search(SearchRequest(query=query, filters=narrowed, size=size, public=True,
                                        facets=("fonds", "decade", "category")))


# -- exports -----------------------------------------------------------------------------------
def _thumbnail(images: ImageStore, record: Record) -> tuple[Path, str] | None:
    pages = images.pages(record.archival_code)
    if not pages:
        return None
    page = pages[0]
    w, h = page.pyramid.best_size(300)
    name = page.pyramid.size_name(w, h)
    path = images.folder(record.archival_code) / str(page.number) / "full" / name / "0" / \
        "default.jpg"
    return (path, f"{page.number}-{name.replace(',', 'x')}.jpg") if path.is_file() else None


def export_json(theme: Theme, version: Version, items: list[ExhibitItem]) -> dict[str, Any]:
    return {"theme": theme.to_dict(), "version": version.version,
            "published": version.published,
            "intro": {"zh": version.intro_zh, "en": version.intro_en},
            "items": [{"archival_code": e.record.archival_code, "title": e.record.title,
                       "date": e.record.date_text, "year": e.year,
                       "creator": e.record.creator, "pinned": e.item.pinned,
                       "note": {"zh": e.item.note_zh, "en": e.item.note_en},
                       "text": e.record.text} for e in items]}


def export_iiif(theme: Theme, version: Version, items: list[ExhibitItem], images: ImageStore,
                base_url: str) -> dict[str, Any]:
    """A IIIF Presentation 3 Collection of the theme's records that have page images."""
    from urllib.parse import quote

    base = base_url.rstrip("/")
    manifests = []
    for e in items:
        if images.pages(e.record.archival_code):
            manifests.append({"id": f"{base}/iiif/{quote(e.record.archival_code)}/manifest.json",
                              "type": "Manifest", "label": {"zh": [e.record.title]}})
    return {"@context": "http://iiif.io/api/presentation/3/context.json",
            "id": f"{base}/collections/{theme.slug}/collection.json?v={version.version}",
            "type": "Collection",
            "label": {"zh": [theme.title_zh], "en": [theme.title_en]},
            "summary": {"zh": [version.intro_zh], "en": [version.intro_en]},
            "items": manifests}


def export(theme: Theme, version: Version, backend: SearchBackend, images: ImageStore,
           out: Path, fmt: str, *, base_url: str = "", archive_name: str = "") -> Path:
    """Write one export of a published version under ``out``; returns the main file."""
    if fmt not in EXPORT_FORMATS:
        raise BadQueryError(f"unknown format {fmt!r}: choose {', '.join(EXPORT_FORMATS)}",
                            "--format")
    items = public_items(backend, version)
    out.mkdir(parents=True, exist_ok=True)
    if fmt == "json":
        path = out / f"{theme.slug}-v{version.version}.json"
        path.write_text(json.dumps(export_json(theme, version, items), ensure_ascii=False,
                                   indent=1), encoding="utf-8")
        return path
    if fmt == "iiif":
        if not base_url:
            raise BadQueryError("a IIIF collection needs the site's address: set "
                                "server.public_url or give --base-url", "--base-url")
        path = out / f"{theme.slug}-v{version.version}.collection.json"
        path.write_text(json.dumps(export_iiif(theme, version, items, images, base_url),
                                   ensure_ascii=False, indent=1), encoding="utf-8")
        return path
    return _static(theme, version, items, images, out, archive_name)


def _fold_table(texts: list[str]) -> dict[str, str]:
    """Every character of the exhibit, and its other script's forms, to its simplified form:
    the static search folds text and query through it, so 救济 finds 救濟 and the reverse."""
    from lantai.text.scripts import converter

    t2s, s2t = converter("t2s"), converter("s2t")
    table: dict[str, str] = {}
    for ch in sorted(set("".join(texts))):
        simple = t2s.convert(ch)
        if len(simple) != 1:
            continue
        for form in {ch, s2t.convert(simple)}:
            if len(form) == 1 and form != simple:
                table[form] = simple
    return table


def _static(theme: Theme, version: Version, items: list[ExhibitItem], images: ImageStore,
            out: Path, archive_name: str) -> Path:
    """A self-contained exhibit: index.html, its script and data, thumbnails; opens from disk
    with no server, and searches its own text in Chinese (either script)."""
    (out / "images").mkdir(exist_ok=True)
    entries: list[dict[str, Any]] = []
    for number, e in enumerate(items, start=1):
        thumb = _thumbnail(images, e.record)
        image = ""
        if thumb is not None:
            image = f"images/{number:04d}-{thumb[1]}"
            shutil.copyfile(thumb[0], out / image)
        entries.append({"code": e.record.archival_code, "title": e.record.title,
                        "date": e.record.date_text or (str(e.year) if e.year else ""),
                        "year": e.year, "creator": e.record.creator, "note": e.item.note_zh,
                        "text": e.record.text, "image": image})
    fold = _fold_table([e["title"] + e["text"] + e["note"] for e in entries]
                       + ["".join(theme.title_zh)])
    data = {"title": theme.title_zh, "title_en": theme.title_en, "intro": version.intro_zh,
            "version": version.version, "archive": archive_name, "items": entries,
            "fold": fold}
    # a script, not JSON: browsers refuse fetch() from file://, but load <script src>
    (out / "data.js").write_text("window.EXHIBIT = " + json.dumps(data, ensure_ascii=False)
                                 + ";\n", encoding="utf-8")
    from importlib import resources

    assets = resources.files("lantai.thematic_collections").joinpath("static")
    for name in ("exhibit.js", "exhibit.css"):
        (out / name).write_text(assets.joinpath(name).read_text(encoding="utf-8"),
                                encoding="utf-8")
    rows = []
    for year, group in timeline(items):
        rows.append(f'<section class="year"><h2>{year or "年代不详"}</h2><ol>')
        for e in group:
            number = items.index(e) + 1
            entry = entries[number - 1]
            img = (f'<img src="{html.escape(entry["image"])}" alt="" width="120">'
                   if entry["image"] else "")
            rows.append(f'<li id="item-{number}">{img}<h3>{html.escape(e.record.title)}</h3>'
                        f'<p class="meta">{html.escape(e.record.archival_code)} · '
                        f'{html.escape(entry["date"])}</p>'
                        + (f'<p class="note">{html.escape(e.item.note_zh)}</p>'
                           if e.item.note_zh else "") + "</li>")
        rows.append("</ol></section>")
    page = f"""<!doctype html>
<html lang="zh-CN">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{html.escape(theme.title_zh)} — {html.escape(archive_name)}</title>
<link rel="stylesheet" href="exhibit.css">
<script src="data.js"></script>
<script src="exhibit.js" defer></script>
</head>
<body>
<header><h1>{html.escape(theme.title_zh)} <span lang="en">{html.escape(theme.title_en)}</span></h1>
<p class="intro">{html.escape(version.intro_zh)}</p>
<p class="meta">{html.escape(archive_name)} · 第 {version.version} 版 · {len(items)} 件</p></header>
<form id="search" role="search"><label for="q">在本专题中检索</label>
<input id="q" type="search"> <button type="submit">检索</button></form>
<div id="results" aria-live="polite"></div>
<main id="timeline">
{"".join(rows)}
</main>
</body>
</html>
"""
    path = out / "index.html"
    path.write_text(page, encoding="utf-8")
    return path
