"""JSON shapes of search results, shared by ``lantai search --json`` and the web API."""

from __future__ import annotations

from typing import Any

from lantai.catalog.model import Record
from lantai.search.backends.base import BrowsePage, Hit, SearchResult
from lantai.search.highlight import Snippet

#: Record fields the public API shows (full text is served by the record endpoint only).
PUBLIC_FIELDS = ("archival_code", "title", "archive", "fonds", "fonds_name", "catalog_no",
                 "volume_no", "item_no", "category", "year",
                 "creator", "doc_number", "date_text", "date_start", "date_end", "page_count",
                 "retention", "open_status", "subjects", "persons")


def record_summary(record: Record) -> dict[str, Any]:
    data = record.to_dict()
    return {key: data[key] for key in PUBLIC_FIELDS}


def snippet_to_dict(snippet: Snippet) -> dict[str, Any]:
    return {"text": snippet.text, "html": snippet.html(), "page": snippet.page,
            "start": snippet.start, "end": snippet.end}


def hit_to_dict(hit: Hit) -> dict[str, Any]:
    return {"record": record_summary(hit.record), "score": round(hit.score, 6),
            "title_html": hit.title.html(), "partial": hit.partial,
            "snippets": [snippet_to_dict(s) for s in hit.snippets],
            "fields": [{"field": name, **snippet_to_dict(s)} for name, s in hit.fields]}


def result_to_dict(result: SearchResult) -> dict[str, Any]:
    return {
        "total": result.total, "page": result.page, "size": result.size,
        "relaxed": result.relaxed, "exact_total": result.exact_total,
        "also_searched": [{"word": e.word, "equivalents": list(e.equivalents),
                           "related": list(e.related)} for e in result.plan.expansions],
        "took_ms": round(result.took_ms, 1),
        "hits": [hit_to_dict(h) for h in result.hits],
        "facets": {name: [{"value": v.value, "label": v.label, "count": v.count}
                          for v in values] for name, values in result.facets.items()},
    }


def browse_to_dict(node: BrowsePage) -> dict[str, Any]:
    return {
        "path": list(node.path), "level": node.level.name.lower(), "label": node.label,
        "count": node.count, "page": node.page, "size": node.size,
        "children": [{"path": list(c.path), "value": c.value, "level": c.level.name.lower(),
                      "label": c.label, "count": c.count} for c in node.children],
        "records_total": node.records_total,
        "records": [record_summary(r) for r in node.records],
    }
