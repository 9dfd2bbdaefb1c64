"""The ``lantai`` command line.

Every command loads settings once (defaults → lantai.toml → LANTAI_* → flags), calls a service
in the packages, and turns domain errors into a one-line message and exit status 2 — never a
stack trace. Heavy subcommands (OCR) are imported only when used.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from functools import wraps
from pathlib import Path
from typing import Any, TypeVar

import click

from lantai.config import Settings, known_keys, load_settings
from lantai.errors import LantaiError

F = TypeVar("F", bound=Callable[..., Any])


def _friendly(func: F) -> F:
    """Report :class:`LantaiError` as a clean message (exit 2)."""

    @wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return func(*args, **kwargs)
        except LantaiError as exc:
            click.secho(f"error: {exc}", fg="red", err=True)
            sys.exit(2)

    return wrapper  # type: ignore[return-value]


class _Context:
    def __init__(self, config: Path | None, data_dir: Path | None, backend: str | None) -> None:
        self.config = config
        self.overrides: dict[str, Any] = {"data_dir": data_dir, "backend": backend}

    def settings(self, **more: Any) -> Settings:
        return load_settings(self.config, overrides={**self.overrides, **more})


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.option("--config", type=click.Path(path_type=Path), help="settings file (lantai.toml)")
@click.option("--data-dir", type=click.Path(path_type=Path), help="index and state directory")
@click.option("--backend", help="search backend: embedded | elasticsearch")
@click.version_option(package_name="lantai")
@click.pass_context
def main(ctx: click.Context, config: Path | None, data_dir: Path | None,
         backend: str | None) -> None:
    """兰台 Lantai — search and discovery for opened archives."""
    ctx.obj = _Context(config, data_dir, backend)


@main.command("index")
@click.argument("catalog", type=click.Path(path_type=Path))
@click.option("--text-dir", type=click.Path(path_type=Path),
              help="folder with <档号>.txt files or <档号>/ page folders (OCR output)")
@click.option("--mapping", "mapping_file", type=click.Path(path_type=Path),
              help="TOML or CSV file mapping local column headers to Lantai fields")
@click.option("--strict", is_flag=True, help="abort (importing nothing) if any row is bad")
@click.option("--rebuild", is_flag=True, help="delete the existing index first")
@click.option("--workers", type=click.IntRange(1, 64), default=None,
              help="processes analysing text (default: one per CPU core)")
@click.option("--embeddings/--no-embeddings", default=None,
              help="also compute passage vectors for semantic and hybrid search")
@click.pass_obj
@_friendly
def index_cmd(obj: _Context, catalog: Path, text_dir: Path | None, mapping_file: Path | None,
              strict: bool, rebuild: bool, workers: int | None,
              embeddings: bool | None) -> None:
    """Import CATALOG (CSV, XLSX or JSONL) into the index (upsert by 档号)."""
    from lantai.indexing.service import index_catalog

    settings = obj.settings(**{"embedding.enabled": embeddings})
    outcome = index_catalog(settings, catalog, text_dir=text_dir, mapping_file=mapping_file,
                            strict=strict, rebuild=rebuild, progress=sys.stderr.isatty(),
                            workers=workers)
    report = outcome.catalog
    rejected = len({i.row for i in report.errors})
    click.echo(f"{report.file}: {report.rows} rows, {outcome.index.indexed} indexed, "
               f"{rejected} rejected, {len(report.warnings)} warning(s)")
    for issue in report.issues[:15]:
        click.echo(f"  {issue.severity}: {issue}")
    if len(report.issues) > 15:
        click.echo(f"  … {len(report.issues) - 15} more")
    for code, reason in outcome.index.failed[:15]:
        click.echo(f"  failed: {code}: {reason}")
    if outcome.report_path:
        click.echo(f"report: {outcome.report_path}")


@main.command("search")
@click.argument("query", nargs=-1)
@click.option("--json", "as_json", is_flag=True, help="machine-readable output")
@click.option("--size", type=int, default=10, show_default=True)
@click.option("--page", type=int, default=1, show_default=True)
@click.option("--sort", type=click.Choice(["relevance", "date", "-date", "code"]),
              default="relevance", show_default=True)
@click.option("--mode", type=click.Choice(["auto", "keyword", "semantic", "hybrid"]),
              default="auto", show_default=True,
              help="auto: hybrid when the index has vectors, else keyword")
@click.option("--fonds", multiple=True, help="filter by 全宗号 (repeatable)")
@click.option("--staff", is_flag=True, help="include records that are not 开放 (staff use)")
@click.pass_obj
@_friendly
def search_cmd(obj: _Context, query: tuple[str, ...], as_json: bool, size: int, page: int,
               sort: str, mode: str, fonds: tuple[str, ...], staff: bool) -> None:
    """Search the index: words, "phrases", -exclude, 题名:…, 全宗:…, 1937..1945."""
    from lantai.search.backends import create_backend
    from lantai.search.backends.base import Filters, SearchMode, SearchRequest, SortOrder

    settings = obj.settings()
    _require_index(settings)
    with create_backend(settings, create=False) as backend:
        result = backend.search(SearchRequest(
            query=" ".join(query), page=page, size=size, sort=SortOrder(sort),
            mode=None if mode == "auto" else SearchMode(mode), filters=Filters(fonds=fonds),
            public=not staff))
    if as_json:
        from lantai.search.serialize import result_to_dict

        click.echo(json.dumps(result_to_dict(result), ensure_ascii=False, indent=2))
        return
    note = (f"（{result.exact_total} 条包含全部检索词，其余为部分匹配）" if result.relaxed else "")
    click.echo(f"{result.total} 条结果 / results ({result.took_ms:.0f} ms){note}")
    for n, hit in enumerate(result.hits, start=(page - 1) * size + 1):
        rec = hit.record
        if hit.partial and (n == 1 or not result.hits[n - 2 - (page - 1) * size].partial):
            click.echo("  —— 部分匹配 / partial matches ——")
        click.echo(f"{n:>3}. [{rec.archival_code}] {_ansi(hit.title.segments)}"
                   f"  {rec.date_text or rec.year or ''}  {rec.creator}")
        for snippet in hit.snippets[:1]:
            page_note = f" (p.{snippet.page})" if snippet.page else ""
            click.echo(f"     {_ansi(snippet.segments)}{page_note}".replace("\n", " "))
    for name, values in result.facets.items():
        if values:
            shown = ", ".join(f"{v.label} ({v.count})" for v in values[:6])
            click.echo(f"  {name}: {shown}")


def _ansi(segments: tuple[tuple[str, bool], ...]) -> str:
    return "".join(click.style(t, bold=True, fg="red") if hit else t for t, hit in segments)


def _require_index(settings: Settings) -> None:
    if settings.backend == "embedded" and not (Path(settings.data_dir) / "index.sqlite").exists():
        raise LantaiError(f"no index in {settings.data_dir}: run `lantai index CATALOG` first "
                          "(or `lantai demo`)")


@main.command("eval")
@click.option("--corpus", type=click.Path(path_type=Path), required=True)
@click.option("--queries", type=click.Path(path_type=Path), required=True)
@click.option("--qrels", type=click.Path(path_type=Path), required=True)
@click.option("--run", "run_path", type=click.Path(path_type=Path), required=True,
              help="TREC run file to write")
@click.option("--mode", type=click.Choice(["keyword", "semantic", "hybrid"]), default="keyword",
              show_default=True)
@click.option("--k", type=click.IntRange(1, 1000), default=100, show_default=True)
@click.option("--to-simplified", is_flag=True, help="convert every query to simplified first")
@click.pass_obj
@_friendly
def eval_cmd(obj: _Context, corpus: Path, queries: Path, qrels: Path, run_path: Path,
             mode: str, k: int, to_simplified: bool) -> None:
    """Index a test corpus in a temporary index, run its queries, print nDCG@10/R@100/MRR@10."""
    from lantai.search.backends.base import SearchMode
    from lantai.search.evaluation import evaluate

    transform = None
    if to_simplified:
        import opencc

        transform = opencc.OpenCC("t2s").convert
    settings = obj.settings(**({"embedding.enabled": True} if mode != "keyword" else {}))
    factory = None
    if mode != "keyword":  # one embedder (and one converted-model cache) for the temp index
        from lantai.search.backends import create_backend, create_configured_embedder

        embedder = create_configured_embedder(settings)

        def factory(s: Settings) -> Any:
            return create_backend(s, embedder=embedder)

    metrics = evaluate(settings, corpus, queries, qrels, run_path, mode=SearchMode(mode),
                       k=k, transform=transform, progress=sys.stderr.isatty(),
                       backend_factory=factory)
    click.echo(metrics.as_text())
    click.echo(f"run: {run_path}")


@main.command("demo")
@click.option("--records", type=click.IntRange(10, 20000), default=400, show_default=True)
@click.option("--serve/--no-serve", default=False, help="start the web app afterwards")
@click.pass_obj
@_friendly
def demo_cmd(obj: _Context, records: int, serve: bool) -> None:
    """Generate the sample archive, index it, and show a few searches."""
    from lantai.demo import generate_sample_archive
    from lantai.indexing.service import index_catalog, open_backend
    from lantai.search.backends.base import SearchRequest

    settings = obj.settings()
    sample = generate_sample_archive(Path(settings.data_dir) / "demo-source", records)
    outcome = index_catalog(settings, sample.catalog_csv, text_dir=sample.text_dir,
                            rebuild=True)
    click.echo(f"sample archive: {sample.catalog_csv} ({outcome.index.indexed} records indexed, "
               f"{len(outcome.catalog.warnings)} warnings — see {outcome.report_path})")
    with open_backend(settings) as backend:
        public = backend.count()
        click.echo(f"{public} of {backend.count(public=False)} records are 开放 (public)\n")
        for query in ("杨靖宇", "救濟難民", "民国二十八年", "抗美援朝 志愿军", "公私合营",
                      "题名:报告 1950..1959"):
            result = backend.search(SearchRequest(query=query, size=3))
            click.echo(f"» {query}: {result.total} 条结果")
            for hit in result.hits:
                rec = hit.record
                click.echo(f"    [{rec.archival_code}] {_ansi(hit.title.segments)} "
                           f"({rec.date_text or rec.year or '—'})")
                if hit.snippets:
                    click.echo("      " + _ansi(hit.snippets[0].segments).replace("\n", " "))
    if serve:
        ctx = click.get_current_context()
        serve_cmd = main.get_command(ctx, "serve")
        if serve_cmd is None:
            raise LantaiError("the web front end is not installed in this version")
        ctx.invoke(serve_cmd)


@main.command("config")
@click.pass_obj
@_friendly
def config_cmd(obj: _Context) -> None:
    """Show the resolved settings and what each one means."""
    settings = obj.settings().as_dict()
    for key, help_text in known_keys().items():
        value: Any = settings
        for part in key.split("."):
            value = value[part]
        click.echo(f"{key} = {json.dumps(value, ensure_ascii=False)}    # {help_text}")


@main.command("doctor")
@click.pass_obj
@_friendly
def doctor_cmd(obj: _Context) -> None:
    """Check the installation and the index."""
    from lantai.text.analysis import default_analyzer

    settings = obj.settings()
    analyzer = default_analyzer()
    click.echo(f"analyzer: {analyzer.fingerprint()}")
    click.echo(f"backend: {settings.backend}; data dir: {settings.data_dir}")
    if settings.backend == "embedded":
        path = Path(settings.data_dir) / "index.sqlite"
        if not path.exists():
            click.echo("index: none yet (run `lantai index CATALOG`)")
            return
    from lantai.search.backends import create_backend

    with create_backend(settings, create=False) as backend:
        health = getattr(backend, "health", None)
        if health is not None:
            click.echo(f"{settings.backend}: {json.dumps(health(), ensure_ascii=False)}")
        click.echo(f"index: {backend.count(public=False)} records, "
                   f"{backend.count()} public; metadata {backend.metadata()}")


def _register_optional() -> None:
    """Subcommands that live in optional packages (OCR, web) join when importable."""
    import importlib

    for module, attr in (("lantai.ocr.cli", "ocr_command"),
                         ("lantai.search_app.cli", "serve_command")):
        try:
            command = getattr(importlib.import_module(module), attr)
        except (ImportError, AttributeError):
            continue
        main.add_command(command)


_register_optional()
