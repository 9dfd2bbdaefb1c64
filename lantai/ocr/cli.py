"""``lantai ocr``: the click front end of :func:`lantai.ocr.batch.run_batch`.

Only this module imports click; the pipeline itself is plain Python.
"""

from __future__ import annotations

from pathlib import Path

import click

from lantai.ocr.engines import DEFAULT_ENGINE, ENGINES


@click.command("ocr")
@click.argument("inputs", nargs=-1, required=True, type=click.Path(path_type=Path))
@click.option(
    "--out",
    "out_dir",
    required=True,
    type=click.Path(path_type=Path),
    help="Output folder (<档号>/<page>.txt/.alto.xml/.json, _state/, report.json).",
)
@click.option(
    "--engine",
    default=DEFAULT_ENGINE,
    show_default=True,
    type=click.Choice(sorted(ENGINES)),
    help="OCR engine.",
)
@click.option(
    "--workers",
    type=click.IntRange(min=1),
    default=None,
    help="Worker processes [default: CPUs, at most one per GB of free memory].",
)
@click.option(
    "--scheduler",
    default=None,
    metavar="ADDRESS",
    help="Dask scheduler address (tcp://host:8786): run pages on that cluster.",
)
@click.option(
    "--manifest",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    default=None,
    help="CSV with columns 档号,文件 linking scans to records.",
)
@click.option(
    "--catalog",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    default=None,
    help="Catalog (CSV/XLSX/JSONL with a 档号 column): link each scan to the longest 档号 "
    "found in its file or folder names; scans naming none go to _unlinked.",
)
@click.option(
    "--dpi",
    type=click.IntRange(min=50, max=1200),
    default=300,
    show_default=True,
    help="Resolution PDF pages are rendered at.",
)
@click.option("--quiet", is_flag=True, help="No progress bar.")
def ocr_command(
    inputs: tuple[Path, ...],
    out_dir: Path,
    engine: str,
    workers: int | None,
    scheduler: str | None,
    manifest: Path | None,
    catalog: Path | None,
    dpi: int,
    quiet: bool,
) -> None:
    """OCR scans (TIFF/JPEG/PNG/PDF files or folders) into searchable, located text.

    Each scan is linked to a record by --manifest, else by --catalog, else by its own file
    name (or its folder's, for a folder of page-numbered images); report.json says which."""
    from lantai.ocr.batch import run_batch
    from lantai.ocr.sources import read_catalog_codes, read_manifest

    # errors reach the `lantai` group, which maps them to the documented exit codes
    mapping = read_manifest(manifest) if manifest else None
    codes = read_catalog_codes(catalog) if catalog else None
    report = run_batch(
        list(inputs),
        out_dir,
        engine=engine,
        workers=workers,
        scheduler=scheduler,
        manifest=mapping,
        catalog=codes,
        dpi=dpi,
        progress=not quiet,
    )
    click.echo(
        f"{report.pages_done} pages recognised, {report.pages_cached} cached, "
        f"{report.pages_failed} failed of {report.pages_total} "
        f"({report.pages_per_minute:.1f} pages/min); report: {out_dir / 'report.json'}"
    )
    linked = report.linked_by()
    unlinked = linked.pop("unlinked", 0)
    if linked or unlinked:
        by = ", ".join(f"{rule}: {n}" for rule, n in linked.items()) or "none"
        click.echo(f"scans linked by {by}" + (f"; not linked: {unlinked} (in _unlinked/)"
                                              if unlinked else ""))
    for failure in report.failures[:20]:
        click.echo(f"  {failure.stage}: {failure.item}: {failure.reason}", err=True)
    if len(report.failures) > 20:
        click.echo(f"  ... {len(report.failures) - 20} more in report.json", err=True)
