"""Indexing as a service the CLI (and later the web app and review queue) call.

``index_catalog`` streams a catalog through validation into a backend in atomic batches, shows
progress, and writes a JSON report of every rejected row and warning next to the index.
"""

from __future__ import annotations

import json
import os
from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import TypeVar

from lantai.catalog.model import Record
from lantai.config import Settings
from lantai.errors import ImportFailed
from lantai.indexing.catalog_import import ImportIssue, ImportReport, load_mapping, read_catalog
from lantai.search.backends import create_backend
from lantai.search.backends.base import Capability, IndexReport, SearchBackend

T = TypeVar("T")


@dataclass(frozen=True)
class IndexOutcome:
    """What an indexing run did, and where its report is."""

    catalog: ImportReport
    index: IndexReport
    report_path: Path | None


def open_backend(settings: Settings, *, rebuild: bool = False) -> SearchBackend:
    """Open (or create) the configured backend; ``rebuild``: for replacing the whole index,
    so an index built by another version or configuration is accepted."""
    return create_backend(settings, for_rebuild=rebuild)


def index_catalog(
    settings: Settings,
    catalog: Path,
    *,
    text_dir: Path | None = None,
    mapping_file: Path | None = None,
    strict: bool = False,
    rebuild: bool = False,
    progress: bool = False,
    backend: SearchBackend | None = None,
    workers: int | None = None,
) -> IndexOutcome:
    """Import ``catalog`` into the index. In ``strict`` mode any bad row aborts before writing."""
    catalog = Path(catalog)
    if text_dir is not None and not Path(text_dir).is_dir():
        raise ImportFailed(f"text directory not found: {text_dir}")
    mapping = load_mapping(mapping_file) if mapping_file else None
    if strict:
        check = ImportReport(str(catalog))
        for _ in read_catalog(catalog, mapping=mapping, text_dir=None, report=check):
            pass
        if check.errors:
            shown = "\n".join(f"  {issue}" for issue in check.errors[:20])
            more = len(check.errors) - 20
            raise ImportFailed(
                f"--strict: {len(check.errors)} bad row(s), nothing was imported:\n{shown}"
                + (f"\n  … and {more} more" if more > 0 else ""))
    report = ImportReport(str(catalog))
    owned = backend is None
    backend = backend or open_backend(settings, rebuild=rebuild)
    fonds_names: dict[str, Counter[str]] = {}
    try:
        records: Iterable[Record] = _keeping_decisions(_noting_fonds_names(
            read_catalog(catalog, mapping=mapping, text_dir=text_dir, report=report),
            fonds_names), settings, report)
        if progress:
            records = _progress(records, "indexing", unit="rec")
        if workers is None:
            workers = os.cpu_count() or 1
        if rebuild:  # Elasticsearch fills a new index and swaps aliases: no downtime
            result = backend.rebuild(records, batch_size=1000, workers=workers)
        else:
            result = backend.upsert(records, batch_size=1000, workers=workers)
        if result.indexed > 10_000 and backend.has(Capability.OPTIMIZE):
            backend.optimize()
        _label_fonds(backend, fonds_names)
    finally:
        if owned:
            backend.close()
    report_path = write_report(settings, report, result)
    return IndexOutcome(report, result, report_path)


def _keeping_decisions(records: Iterable[Record], settings: Settings, report: ImportReport
                       ) -> Iterator[Record]:
    """Records as read, except that a reviewer's decision (open review) wins over the
    catalog's 开放标识: re-importing a catalog never silently reopens or closes a decided
    record. Each disagreement is reported."""
    from lantai.open_review.store import DB_FILE, ReviewStore

    if not (Path(settings.data_dir) / DB_FILE).is_file():
        yield from records
        return
    decided = ReviewStore.in_data_dir(settings.data_dir).decided()
    for record in records:
        decision = decided.get(record.archival_code)
        if decision is None or decision.status is record.open_status:
            yield record
            continue
        when = datetime.fromtimestamp(decision.time, UTC).date().isoformat()
        report.issues.append(ImportIssue(
            report.file, 0, "开放标识",
            f"{record.archival_code}: the catalog says {record.open_status.value}, but "
            f"{decision.reviewer} decided {decision.status.value} on {when} (open review); "
            "the decision is kept — change it through open review", "warning"))
        yield replace(record, open_status=decision.status, review=tuple(sorted({
            "审核结论": decision.status.value, "审核理由": decision.reason,
            "审核依据": decision.basis, "审核人": decision.reviewer, "审核日期": when}.items())))


def write_report(settings: Settings, report: ImportReport, result: IndexReport) -> Path:
    """Persist the import report as JSON under ``<data_dir>/reports/``."""
    folder = Path(settings.data_dir) / "reports"
    folder.mkdir(parents=True, exist_ok=True)
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S%fZ")
    path = folder / f"import-{stamp}.json"
    data = report.to_dict()
    data["indexed"] = result.indexed
    data["index_failures"] = [{"record": r, "reason": why} for r, why in result.failed]
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(data, ensure_ascii=False, indent=2), encoding="utf-8")
    tmp.replace(path)
    return path


def _noting_fonds_names(records: Iterable[Record], names: dict[str, Counter[str]]
                        ) -> Iterator[Record]:
    """Pass records through, counting the 全宗名称 each 全宗号 is written with."""
    for record in records:
        if record.fonds and record.fonds_name:
            names.setdefault(record.fonds, Counter())[record.fonds_name] += 1
        yield record


def _label_fonds(backend: SearchBackend, names: dict[str, Counter[str]]) -> None:
    """Fonds the archive has not labelled (``lantai labels import``) are labelled with the
    name their catalog rows give most often."""
    have = backend.labels.stored.get("fonds", {})
    new = {fonds: counts.most_common(1)[0][0] for fonds, counts in names.items()
           if fonds not in have}
    if new:
        backend.set_labels("fonds", new)


def _progress(items: Iterable[T], desc: str, unit: str) -> Iterator[T]:
    from tqdm import tqdm

    yield from tqdm(items, desc=desc, unit=unit, dynamic_ncols=True)

