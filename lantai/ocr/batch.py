"""Batch OCR: many files in, one folder of page outputs and a report out.

Stream, checkpoint, report: pages are planned lazily, recognised in a worker pool (or on a Dask
cluster), written by this process only (one writer keeps the journal consistent) and journalled
when complete. A rerun skips every page whose content hash, page number and engine settings are
in the journal; a changed image gets a new key and is redone. One bad file is a line in the
report, never the end of the batch.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import time
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from dataclasses import asdict, dataclass, field
from multiprocessing import get_context
from pathlib import Path
from typing import Any

from lantai.errors import require
from lantai.ocr.engines import DEFAULT_ENGINE, create_engine
from lantai.ocr.engines.base import OcrEngine
from lantai.ocr.model import OcrPage
from lantai.ocr.sources import (
    CatalogCodes,
    LinkRule,
    PageLoadError,
    PageRef,
    file_digest,
    load_page,
    plan_pages,
)
from lantai.ocr.store import SUFFIXES, JournalEntry, OutputStore

#: bump when preprocessing or layout changes output, so caches are invalidated
# 2: layout in the deskewed frame, rules, tiers, orientation; 3: lines cut at blank bands
PIPELINE_VERSION = "3"
#: resident memory one engine worker needs (PP-OCRv5 mobile on a 5,000 px page peaks near 1 GB)
ENGINE_MEMORY_BYTES = 1 << 30

EngineSpec = str | Callable[[], OcrEngine]


@dataclass(frozen=True)
class Failure:
    """One thing that went wrong: which item, at which stage, and why."""

    item: str
    stage: str  # "open", "link", "load", "ocr", "write"
    reason: str


@dataclass(frozen=True)
class ScanLink:
    """Which record one scan file went to, and by which rule (see :mod:`lantai.ocr.sources`)."""

    file: str
    record: str | None  # None: written to _unlinked
    rule: str  # manifest, catalog, stem, folder or unlinked
    name: str  # the manifest key, file stem or folder name the record was read from


@dataclass
class BatchReport:
    """What a batch did (also written as OUT/report.json)."""

    pages_total: int = 0
    pages_done: int = 0
    pages_cached: int = 0
    pages_failed: int = 0
    pages_relinked: int = 0  # cached pages moved to the record their scan now links to
    seconds: float = 0.0
    engine: str = ""
    failures: list[Failure] = field(default_factory=list)
    links: list[ScanLink] = field(default_factory=list)

    def linked_by(self) -> dict[str, int]:
        """Number of scan files linked by each rule (in the rules' order)."""
        counts = {str(rule): 0 for rule in LinkRule}
        for link in self.links:
            counts[link.rule] = counts.get(link.rule, 0) + 1
        return {rule: n for rule, n in counts.items() if n}

    @property
    def pages_per_minute(self) -> float:
        """Pages recognised (not cached) per minute of wall time."""
        return 60.0 * self.pages_done / self.seconds if self.seconds > 0 else 0.0

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dict."""
        data = asdict(self)
        data["pages_per_minute"] = round(self.pages_per_minute, 2)
        data["seconds"] = round(self.seconds, 2)
        data["linked_by"] = self.linked_by()
        return data


# ----------------------------------------------------------------- worker side
_WORKER_ENGINES: dict[str, OcrEngine] = {}


def _engine_key(spec: EngineSpec) -> str:
    if isinstance(spec, str):
        return spec
    return f"{getattr(spec, '__module__', '')}.{getattr(spec, '__qualname__', repr(spec))}"


def _get_engine(spec: EngineSpec) -> OcrEngine:
    """One engine per worker process, created on first use and kept."""
    key = _engine_key(spec)
    if key not in _WORKER_ENGINES:
        _WORKER_ENGINES[key] = create_engine(spec) if isinstance(spec, str) else spec()
    return _WORKER_ENGINES[key]


@dataclass(frozen=True)
class PageOutcome:
    """What a worker sends back for one page."""

    page: dict[str, Any] | None
    failure: Failure | None
    warning: str | None = None


def process_page(ref: PageRef, spec: EngineSpec, dpi: int = 300) -> PageOutcome:
    """Load, preprocess and recognise one page (runs in a worker). Never raises."""
    from lantai.ocr import preprocess
    from lantai.ocr.pipeline import ocr_image

    try:
        image = load_page(ref, dpi=dpi)
    except PageLoadError as exc:
        return PageOutcome(None, Failure(ref.item, "load", str(exc)))
    except Exception as exc:  # one bad file must never stop the batch
        return PageOutcome(None, Failure(ref.item, "load", f"{type(exc).__name__}: {exc}"))
    try:
        name = (
            Path(ref.path).name if ref.page_count == 1 else f"{Path(ref.path).name}#{ref.page_no}"
        )
        page = ocr_image(image, _get_engine(spec), image_name=name, page_no=ref.page_no)
        warning = None
        if not page.lines:
            blank = preprocess.is_blank(preprocess.to_gray(image))
            warning = "blank page" if blank else "no text recognised"
        return PageOutcome(page.to_dict(), None, warning)
    except Exception as exc:
        return PageOutcome(None, Failure(ref.item, "ocr", f"{type(exc).__name__}: {exc}"))


# ----------------------------------------------------------------- main side
def available_memory() -> int | None:
    """Bytes of memory available to new processes (Linux /proc/meminfo, else psutil)."""
    try:
        with open("/proc/meminfo", encoding="ascii") as fh:
            for line in fh:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    try:
        import psutil  # type: ignore[import-untyped, import-not-found, unused-ignore]

        return int(psutil.virtual_memory().available)
    except ImportError:
        return None


def default_workers(memory: int | None = None, cpus: int | None = None) -> int:
    """As many workers as CPUs, but no more than memory allows at ~1 GB per engine."""
    cpus = cpus or os.cpu_count() or 1
    memory = available_memory() if memory is None else memory
    if memory is None:
        return cpus
    # keep half a gigabyte for this process and the OS
    by_memory = max(1, int((memory - (512 << 20)) // ENGINE_MEMORY_BYTES))
    return max(1, min(cpus, by_memory))


def page_key(digest: str, ref: PageRef, engine_description: str, dpi: int) -> str:
    """Cache key: file content, page number, engine settings, pipeline version (and DPI for
    PDFs, which changes the rendered image)."""
    pdf = ref.path.lower().endswith(".pdf")
    text = f"{digest}|{ref.page_no}|{engine_description}|{PIPELINE_VERSION}|{dpi if pdf else ''}"
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def _progress(total: int | None, enabled: bool) -> Any:
    from tqdm import tqdm

    return tqdm(total=total, unit="page", disable=not enabled, smoothing=0.1, dynamic_ncols=True)


def run_batch(
    inputs: Iterable[Path],
    out_dir: Path,
    *,
    engine: EngineSpec = DEFAULT_ENGINE,
    workers: int | None = None,
    scheduler: str | Any | None = None,
    manifest: dict[str, str] | None = None,
    catalog: CatalogCodes | Iterable[str] | None = None,
    dpi: int = 300,
    progress: bool = True,
) -> BatchReport:
    """OCR every page under ``inputs`` into ``out_dir``; returns (and writes) the report.

    ``engine`` is an engine name or a picklable zero-argument factory. ``workers`` defaults to
    :func:`default_workers`; 1 runs in this process. ``scheduler`` is a Dask scheduler address
    (or a ``distributed.Client``) to run the pages on a cluster instead. ``manifest`` and
    ``catalog`` link scans to records (:mod:`lantai.ocr.sources`); the report lists each
    scan's record and rule.
    """
    started = time.perf_counter()
    store = OutputStore(out_dir)
    report = BatchReport()
    probe = _get_engine(engine)  # also fails early, in this process, if the engine is missing
    description = probe.describe()
    report.engine = description
    digests: dict[str, str] = {}
    todo: list[tuple[PageRef, str]] = []
    cached_warnings: list[Failure] = []
    keys: set[str] = set()
    for planned in plan_pages(inputs, manifest, catalog):
        if isinstance(planned, tuple):
            report.failures.append(Failure(planned[0], "open", planned[1]))
            report.pages_total += 1
            report.pages_failed += 1
            continue
        report.pages_total += 1
        if planned.page_no == 1 and planned.link is not None:
            link = planned.link
            report.links.append(ScanLink(planned.path, link.record, str(link.rule), link.name))
            if link.rule is LinkRule.UNLINKED:
                why = ("no 档号 of the catalog in its file or folder names" if catalog is not None
                       else f"{link.name!r} cannot name a record folder")
                report.failures.append(
                    Failure(planned.path, "link", f"{why}; written to {store.folder(None).name}/"))
        try:
            if planned.path not in digests:
                digests[planned.path] = file_digest(planned.path)
        except OSError as exc:
            report.failures.append(Failure(planned.item, "open", f"cannot read ({exc})"))
            report.pages_failed += 1
            continue
        key = page_key(digests[planned.path], planned, description, dpi)
        entry = store.lookup(key)
        if entry is not None and key not in keys and not _in_place(store, entry, planned):
            # (a second scan with the same content shares the first one's output, as before)
            entry = _relink(store, entry, planned)
            if entry is not None:
                report.pages_relinked += 1
        keys.add(key)
        if entry is not None:
            report.pages_cached += 1
            if entry.warning:
                cached_warnings.append(Failure(planned.item, "ocr", entry.warning))
            continue
        todo.append((planned, key))

    bar = _progress(len(todo), progress)
    try:
        for ref, key, outcome in _execute(todo, engine, dpi, workers, scheduler):
            _record(store, report, ref, key, outcome)
            bar.update(1)
    finally:
        bar.close()
        report.failures.extend(cached_warnings)
        report.seconds = time.perf_counter() - started
        store.write_report(report.to_dict())
        store.close()
    return report


def _in_place(store: OutputStore, entry: JournalEntry, ref: PageRef) -> bool:
    return entry.record == store.folder(ref.record_id).name and entry.stem == ref.stem


def _relink(store: OutputStore, entry: JournalEntry, ref: PageRef) -> JournalEntry | None:
    """Move a finished page whose scan now links elsewhere (a new manifest or catalog, or an
    output written by an older linking rule) to its record, without recognising it again.
    None when its files cannot be read (the page is then redone)."""
    old = store.out_dir / entry.record
    try:
        page = OcrPage.from_dict(json.loads((old / f"{entry.stem}.json").read_text("utf-8")))
        moved = store.write_page(entry.key, ref.item, ref.record_id, ref.stem, page,
                                 entry.warning)
    except (OSError, ValueError, KeyError, TypeError):
        return None
    for suffix in SUFFIXES:
        (old / f"{entry.stem}{suffix}").unlink(missing_ok=True)
    with contextlib.suppress(OSError):
        old.rmdir()  # only when empty: other pages may still belong there
    return moved


def _record(
    store: OutputStore, report: BatchReport, ref: PageRef, key: str, outcome: PageOutcome
) -> None:
    if outcome.failure is not None or outcome.page is None:
        report.pages_failed += 1
        if outcome.failure is not None:
            report.failures.append(outcome.failure)
        return
    try:
        store.write_page(
            key, ref.item, ref.record_id, ref.stem, OcrPage.from_dict(outcome.page), outcome.warning
        )
    except OSError as exc:
        report.pages_failed += 1
        report.failures.append(Failure(ref.item, "write", str(exc)))
        return
    report.pages_done += 1
    if outcome.warning:
        report.failures.append(Failure(ref.item, "ocr", outcome.warning))


def _execute(
    todo: list[tuple[PageRef, str]],
    engine: EngineSpec,
    dpi: int,
    workers: int | None,
    scheduler: str | Any | None,
) -> Iterator[tuple[PageRef, str, PageOutcome]]:
    if not todo:
        return
    if scheduler is not None:
        yield from _execute_dask(todo, engine, dpi, scheduler)
        return
    n = workers or default_workers()
    if n <= 1 or len(todo) == 1:
        for ref, key in todo:
            yield ref, key, process_page(ref, engine, dpi)
        return
    # spawn, not fork: forking a process that holds onnxruntime thread pools can deadlock
    with ProcessPoolExecutor(max_workers=n, mp_context=get_context("spawn")) as pool:
        pending: dict[Future[PageOutcome], tuple[PageRef, str]] = {}
        queue = iter(todo)
        # keep a bounded window in flight so a million-page batch does not queue everything
        for ref, key in queue:
            pending[pool.submit(process_page, ref, engine, dpi)] = (ref, key)
            if len(pending) >= 2 * n:
                break
        while pending:
            done, _ = wait(pending, return_when=FIRST_COMPLETED)
            for fut in done:
                ref, key = pending.pop(fut)
                yield ref, key, _result(fut, ref)
                nxt = next(queue, None)
                if nxt is not None:
                    pending[pool.submit(process_page, nxt[0], engine, dpi)] = nxt


def _result(fut: Any, ref: PageRef) -> PageOutcome:
    try:
        result: PageOutcome = fut.result()
        return result
    except Exception as exc:  # a worker that died (out of memory, segfault)
        return PageOutcome(None, Failure(ref.item, "ocr", f"worker failed: {exc}"))


def _execute_dask(
    todo: list[tuple[PageRef, str]], engine: EngineSpec, dpi: int, scheduler: str | Any
) -> Iterator[tuple[PageRef, str, PageOutcome]]:
    distributed: Any = require("distributed", "dask", "running OCR on a Dask cluster")
    client = (
        scheduler if isinstance(scheduler, distributed.Client) else distributed.Client(scheduler)
    )
    try:
        nworkers = max(1, len(client.scheduler_info().get("workers", {})))
        window = 4 * nworkers
        queue = iter(todo)
        meta: dict[str, tuple[PageRef, str]] = {}
        completed = distributed.as_completed()

        def submit(item: tuple[PageRef, str]) -> None:
            fut = client.submit(process_page, item[0], engine, dpi, pure=False)
            meta[fut.key] = item
            completed.add(fut)

        for _, item in zip(range(window), queue, strict=False):
            submit(item)
        for fut in completed:
            ref, key = meta.pop(fut.key)
            yield ref, key, _result(fut, ref)
            fut.release()
            nxt = next(queue, None)
            if nxt is not None:
                submit(nxt)
    finally:
        if client is not scheduler:
            client.close()
