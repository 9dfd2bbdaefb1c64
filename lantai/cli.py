"""The ``lantai`` command line.

Every command loads settings once (defaults → lantai.toml → LANTAI_* → flags) and calls a
service in the packages. Errors become a one-line message and the exit code documented in
:mod:`lantai.errors` (and ``docs/cli.md``) in exactly one place, :class:`LantaiGroup` — never a
stack trace. Heavy subcommands (OCR) are imported only when used.
"""

from __future__ import annotations

import contextlib
import json
import sys
from pathlib import Path
from typing import Any

import click

from lantai.config import Settings, known_keys, load_settings
from lantai.errors import (
    BadQueryError,
    LantaiError,
    MissingDependency,
    NotFound,
    Unavailable,
    exit_code,
)


class LantaiGroup(click.Group):
    """The command group that turns every error of every subcommand into a message and its
    documented exit code (:func:`lantai.errors.exit_code`)."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except LantaiError as exc:
            param = getattr(exc, "param", None)
            where = f" (parameter {param})" if param and param not in str(exc) else ""
            click.secho(f"error: {exc}{where}", fg="red", err=True)
            sys.exit(exit_code(exc))
        except (click.exceptions.Exit, click.ClickException, click.Abort, SystemExit):
            raise
        except KeyboardInterrupt:
            click.secho("interrupted", fg="red", err=True)
            sys.exit(130)
        except BrokenPipeError:  # the reader went away (`lantai browse | head`): not an error
            import os

            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
            sys.exit(0)
        except Exception as exc:  # a bug: say so plainly, without a stack trace
            click.secho(f"internal error: {type(exc).__name__}: {exc} — please report it",
                        fg="red", err=True)
            sys.exit(exit_code(exc))


class _Context:
    def __init__(self, config: Path | None, data_dir: Path | None, backend: str | None) -> None:
        self.config = config
        self.overrides: dict[str, Any] = {"data_dir": data_dir, "backend": backend}

    def settings(self, **more: Any) -> Settings:
        return load_settings(self.config, overrides={**self.overrides, **more})


@click.group(cls=LantaiGroup, context_settings={"help_option_names": ["-h", "--help"]})
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
    _echo_first([f"  {issue.severity}: {issue}" for issue in report.issues])
    for code, reason in outcome.index.failed[:15]:
        click.echo(f"  failed: {code}: {reason}")
    if outcome.report_path:
        click.echo(f"report: {outcome.report_path}")


@main.group("images")
def images_group() -> None:
    """Page images for the viewer and IIIF (lantai images build)."""


@images_group.command("build")
@click.option("--ocr", "ocr_dir", type=click.Path(path_type=Path),
              help="OCR output folder (lantai ocr --out): pages, their scans and line boxes")
@click.option("--scans", type=click.Path(path_type=Path),
              help="folder of the scans: where the 图像 column's names are, or where scans "
                   "the OCR journal names have moved to")
@click.option("--workers", type=click.IntRange(1, 64), default=None,
              help="threads cutting tiles (default: up to 4)")
@click.pass_obj
def images_build_cmd(obj: _Context, ocr_dir: Path | None, scans: Path | None,
                     workers: int | None) -> None:
    """Cut every indexed record's page scans into IIIF level-0 tiles (resumable)."""
    from tqdm import tqdm

    from lantai.iiif.build import REPORT_FILE, build_images
    from lantai.iiif.store import ImageStore
    from lantai.indexing.service import open_backend

    if ocr_dir is None and scans is None:
        raise BadQueryError("give --ocr (an OCR output folder), --scans, or both", "--ocr")
    settings = obj.settings()
    _require_index(settings)
    store = ImageStore.in_data_dir(settings.data_dir)
    with open_backend(settings) as backend:
        total = backend.count(public=False)
        with tqdm(total=total, unit="record", disable=not sys.stderr.isatty()) as bar:
            report = build_images(backend.iter_records(public=False), store, ocr_dir=ocr_dir,
                                  scans=scans, workers=workers or 0,
                                  progress=lambda _: bar.update())
    click.echo(f"{report.records} records with page images: {report.pages_written} pages "
               f"written, {report.pages_unchanged} unchanged, {len(report.failures)} failed")
    _echo_first([f"  failed: {f['record']}: {f['item']}: {f['reason']}"
                 for f in report.failures])
    click.echo(f"report: {store.root / REPORT_FILE}")


@main.group("users")
def users_group() -> None:
    """Staff accounts: reviewers, curators and administrators of the web app."""


def _accounts(obj: _Context) -> Any:
    from lantai.accounts.store import AccountStore

    return AccountStore.in_data_dir(obj.settings().data_dir)


def _new_password(from_stdin: bool) -> str:
    """A new password, typed twice (hidden) or read from standard input, never an argument."""
    if from_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
        if not password:
            raise BadQueryError("no password on standard input", "--password-stdin")
        return password
    return str(click.prompt("password", hide_input=True, confirmation_prompt=True))


@users_group.command("add")
@click.argument("name")
@click.option("--role", required=True, help="reviewer | curator | admin")
@click.option("--password-stdin", is_flag=True, help="read the password from standard input")
@click.pass_obj
def users_add_cmd(obj: _Context, name: str, role: str, password_stdin: bool) -> None:
    """Add a staff account (the password is asked for twice, or read from stdin)."""
    from lantai.accounts.roles import parse_role

    parsed = parse_role(role, "--role")
    user = _accounts(obj).add_user(name, parsed, _new_password(password_stdin))
    click.echo(f"added {user.name} ({user.role.value})")


@users_group.command("list")
@click.option("--json", "as_json", is_flag=True, help="machine-readable output")
@click.pass_obj
def users_list_cmd(obj: _Context, as_json: bool) -> None:
    """The staff accounts with their role and state."""
    users = _accounts(obj).users()
    if as_json:
        click.echo(json.dumps([{"name": u.name, "role": u.role.value, "disabled": u.disabled,
                                "locked": u.locked} for u in users], ensure_ascii=False))
        return
    for u in users:
        state = "disabled" if u.disabled else "locked" if u.locked else "active"
        click.echo(f"{u.name}\t{u.role.value}\t{state}")


@users_group.command("set-role")
@click.argument("name")
@click.argument("role")
@click.pass_obj
def users_set_role_cmd(obj: _Context, name: str, role: str) -> None:
    """Change an account's role (its sessions end)."""
    from lantai.accounts.roles import parse_role

    user = _accounts(obj).set_role(name, parse_role(role, "ROLE"))
    click.echo(f"{user.name} is now {user.role.value}")


@users_group.command("disable")
@click.argument("name")
@click.pass_obj
def users_disable_cmd(obj: _Context, name: str) -> None:
    """Disable an account (it cannot sign in; its sessions end)."""
    click.echo(f"disabled {_accounts(obj).set_disabled(name, True).name}")


@users_group.command("enable")
@click.argument("name")
@click.pass_obj
def users_enable_cmd(obj: _Context, name: str) -> None:
    """Enable a disabled account again."""
    click.echo(f"enabled {_accounts(obj).set_disabled(name, False).name}")


@users_group.command("unlock")
@click.argument("name")
@click.pass_obj
def users_unlock_cmd(obj: _Context, name: str) -> None:
    """Lift the lockout after repeated failed sign-ins."""
    click.echo(f"unlocked {_accounts(obj).unlock(name).name}")


@users_group.command("reset-password")
@click.argument("name")
@click.option("--password-stdin", is_flag=True, help="read the password from standard input")
@click.pass_obj
def users_reset_password_cmd(obj: _Context, name: str, password_stdin: bool) -> None:
    """Set a new password (its sessions end)."""
    accounts = _accounts(obj)
    user = accounts.user(name)
    accounts.reset_password(user.name, _new_password(password_stdin))
    click.echo(f"new password set for {user.name}")


@users_group.command("audit")
@click.option("--limit", type=click.IntRange(1, 100000), default=50, show_default=True)
@click.option("--json", "as_json", is_flag=True, help="machine-readable output")
@click.pass_obj
def users_audit_cmd(obj: _Context, limit: int, as_json: bool) -> None:
    """The newest entries of the staff audit log (sign-ins, failures, lockouts, changes)."""
    import datetime

    entries = _accounts(obj).audit_log(limit)
    for e in entries:
        when = datetime.datetime.fromtimestamp(e.time).isoformat(timespec="seconds")
        if as_json:
            click.echo(json.dumps({"time": when, "actor": e.actor, "action": e.action,
                                   "target": e.target, "address": e.address,
                                   "detail": e.detail}, ensure_ascii=False))
        else:
            click.echo(f"{when}\t{e.actor}\t{e.action}\t{e.target}\t{e.address}\t{e.detail}")


@main.group("review")
def review_group() -> None:
    """Open review (开放审核): detectors of personal and sensitive information."""


def _review_setup(obj: _Context, rules_path: Path | None) -> tuple[Any, Any, Any]:
    """Settings, rules and the review store (decisions not yet applied are applied now)."""
    from lantai.open_review.rules import load_rules
    from lantai.open_review.store import ReviewStore

    settings = obj.settings()
    path = rules_path or (Path(settings.review.rules) if settings.review.rules else None)
    return settings, load_rules(path), ReviewStore.in_data_dir(settings.data_dir)


def _as_of(text: str | None, option: str = "--as-of") -> Any:
    from lantai.open_review.workflow import parse_review_date

    return parse_review_date(text, option)


def _staff_member(settings: Settings, name: str, option: str, permission: Any = None) -> Any:
    """The staff account a command acts for: it must exist, be enabled and hold
    ``permission`` (reviewing, unless said)."""
    from lantai.accounts.roles import Permission, allowed
    from lantai.accounts.store import AccountStore
    from lantai.errors import Forbidden

    permission = permission or Permission.REVIEW

    try:
        user = AccountStore.in_data_dir(settings.data_dir).user(name)
    except NotFound:
        raise BadQueryError(f"{option}: no staff account {name!r} (lantai users add)",
                            option) from None
    if user.disabled or not allowed(user.role, permission):
        raise Forbidden(f"{name} ({user.role.value}) may not do this ({permission.value})")
    return user


@review_group.command("queue")
@click.option("--fonds", multiple=True, help="only this 全宗 (repeatable)")
@click.option("--year", multiple=True, help="only this 年度 (repeatable)")
@click.option("--category", multiple=True, help="only this 门类 (repeatable)")
@click.option("--flag", help="only records with this finding: age, date, classification, "
                             "opinion, restriction, id_number, phone, person_name, term …")
@click.option("--as-of", "as_of", help="review date (default: today)")
@click.option("--rules", "rules_path", type=click.Path(path_type=Path),
              help="rules file (default: the setting review.rules, else the built-in rules)")
@click.option("--limit", type=click.IntRange(1, 10**7), default=50, show_default=True)
@click.option("--json", "as_json", is_flag=True, help="one JSON object a line, every finding")
@click.option("--xlsx", "xlsx_path", type=click.Path(path_type=Path),
              help="also write the whole queue view to this XLSX workbook")
@click.pass_obj
def review_queue_cmd(obj: _Context, fonds: tuple[str, ...], year: tuple[str, ...],
                     category: tuple[str, ...], flag: str | None, as_of: str | None,
                     rules_path: Path | None, limit: int, as_json: bool,
                     xlsx_path: Path | None) -> None:
    """The records waiting for review: clear cases first, then flagged, then restricted."""
    from lantai.indexing.service import open_backend
    from lantai.open_review.workflow import queue
    from lantai.search.request import parse_search_params

    settings, rules, store = _review_setup(obj, rules_path)
    _require_index(settings)
    filters = parse_search_params({"fonds": list(fonds), "year": list(year),
                                   "category": list(category)}, settings.search,
                                  public=False).filters
    with open_backend(settings) as backend:
        store.reconcile(backend)
        items = queue(backend, store, rules, _as_of(as_of), filters=filters, flag=flag)
    counts = {g: sum(i.group == g for i in items) for g in ("clear", "flagged", "restricted")}
    if xlsx_path is not None:
        from lantai.open_review.export import queue_xlsx

        click.echo(f"workbook: {queue_xlsx(items, xlsx_path)}", err=True)
    for item in items[:limit]:
        if as_json:
            click.echo(json.dumps(item.to_dict(), ensure_ascii=False))
            continue
        marks = "；".join(dict.fromkeys(f.message for f in item.assessment.findings))
        click.echo(f"[{item.group}] {item.record.archival_code} {item.record.title}"
                   + (f" — {marks}" if marks else ""))
    click.echo(f"{len(items)} records waiting: {counts['clear']} clear, {counts['flagged']} "
               f"flagged, {counts['restricted']} restricted", err=as_json)


@review_group.command("decide")
@click.argument("codes", nargs=-1, required=True)
@click.option("--status", required=True, help="开放 | 控制 | 延期开放")
@click.option("--reason", required=True, help="why (recorded with the decision)")
@click.option("--basis", required=True, help="the legal basis")
@click.option("--reviewer", required=True, help="the staff account deciding")
@click.option("--override", default="", help="admin only: open despite a restriction, why")
@click.option("--review-again", "review_again", help="date a delayed record returns to the "
                                                     "queue")
@click.option("--as-of", "as_of", help="review date (default: today)")
@click.option("--rules", "rules_path", type=click.Path(path_type=Path))
@click.pass_obj
def review_decide_cmd(obj: _Context, codes: tuple[str, ...], status: str, reason: str,
                      basis: str, reviewer: str, override: str, review_again: str | None,
                      as_of: str | None, rules_path: Path | None) -> None:
    """Decide one or more records (a batch); the public index follows at once."""
    from lantai.accounts.roles import Role
    from lantai.catalog.model import OpenStatus
    from lantai.indexing.service import open_backend
    from lantai.open_review.workflow import decide

    settings, rules, store = _review_setup(obj, rules_path)
    _require_index(settings)
    try:
        verdict = OpenStatus.parse(status)
    except ValueError as exc:
        raise BadQueryError(str(exc), "--status") from None
    user = _staff_member(settings, reviewer, "--reviewer")
    again = _as_of(review_again, "--review-again") if review_again else None
    with open_backend(settings) as backend:
        store.reconcile(backend)
        report = decide(backend, store, rules, codes, verdict, reason=reason, basis=basis,
                        reviewer=user.name, review_date=_as_of(as_of), override=override,
                        is_admin=user.role is Role.ADMIN, review_again=again)
    click.echo(f"batch {report.batch}: {len(report.decided)} decided ({verdict.value}), "
               f"{len(report.refused)} refused, {len(report.missing)} not found")
    for code, why in report.refused:
        click.echo(f"  refused: {code}: {why} (an administrator may --override with a reason)")
    for code in report.missing:
        click.echo(f"  not found: {code}")


@review_group.command("export-opened")
@click.option("--out", "out_dir", required=True, type=click.Path(path_type=Path),
              help="folder to write 开放档案目录.csv/.xlsx/.html into")
@click.option("--format", "formats", default="csv,xlsx,html", show_default=True,
              help="comma-separated: csv, xlsx, html")
@click.pass_obj
def review_export_opened_cmd(obj: _Context, out_dir: Path, formats: str) -> None:
    """Publish the catalog of opened records (开放档案目录): only records marked 开放."""
    from lantai.indexing.service import open_backend
    from lantai.open_review.export import export_opened

    settings = obj.settings()
    _require_index(settings)
    wanted = tuple(f.strip().lower() for f in formats.split(",") if f.strip())
    with open_backend(settings) as backend:
        files = export_opened(backend, out_dir, wanted, archive_name=settings.archive.name)
        count = backend.count()
    for fmt, path in files.items():
        click.echo(f"{fmt}: {path}")
    click.echo(f"{count} opened records")


@review_group.command("coreview-export")
@click.argument("codes", nargs=-1, required=True)
@click.option("--unit", required=True, help="the co-reviewing unit (形成或移交单位)")
@click.option("--proposed", default="开放", show_default=True,
              help="the archive's proposed decision, shown to the unit")
@click.option("--reviewer", required=True, help="the staff account sending the batch")
@click.option("--out", "out_path", required=True, type=click.Path(path_type=Path),
              help="the XLSX workbook to send")
@click.option("--rules", "rules_path", type=click.Path(path_type=Path))
@click.pass_obj
def review_coreview_export_cmd(obj: _Context, codes: tuple[str, ...], unit: str, proposed: str,
                               reviewer: str, out_path: Path, rules_path: Path | None) -> None:
    """Send records to the co-reviewing unit as an XLSX workbook it fills in."""
    from lantai.catalog.model import OpenStatus
    from lantai.indexing.service import open_backend
    from lantai.open_review.coreview import export_batch

    settings, rules, store = _review_setup(obj, rules_path)
    _require_index(settings)
    user = _staff_member(settings, reviewer, "--reviewer")
    try:
        status = OpenStatus.parse(proposed)
    except ValueError as exc:
        raise BadQueryError(str(exc), "--proposed") from None
    with open_backend(settings) as backend:
        batch = export_batch(backend, store, rules, list(dict.fromkeys(codes)), unit=unit,
                             proposed=status, reviewer=user.name, out=out_path,
                             review_date=_as_of(None))
    click.echo(f"batch {batch}: {len(set(codes))} records sent to {unit}: {out_path}")


@review_group.command("coreview-import")
@click.argument("workbook", type=click.Path(path_type=Path))
@click.option("--reviewer", required=True, help="the staff account importing the opinions")
@click.pass_obj
def review_coreview_import_cmd(obj: _Context, workbook: Path, reviewer: str) -> None:
    """Import the co-reviewing unit's opinions; the records return to the queue."""
    from lantai.open_review.coreview import import_opinions
    from lantai.open_review.store import ReviewStore

    settings = obj.settings()
    if not workbook.is_file():
        raise NotFound(f"workbook {workbook} does not exist")
    user = _staff_member(settings, reviewer, "--reviewer")
    done = import_opinions(ReviewStore.in_data_dir(settings.data_dir), workbook,
                           actor=user.name)
    counts: dict[str, int] = {}
    for _, opinion in done:
        counts[opinion] = counts.get(opinion, 0) + 1
    click.echo(f"{len(done)} opinions imported: "
               + ", ".join(f"{k} {v}" for k, v in counts.items()))


@review_group.command("verify-log")
@click.pass_obj
def review_verify_log_cmd(obj: _Context) -> None:
    """Check the review log's hash chain: exit 0 when intact, 6 naming the first bad entry."""
    from lantai.errors import Conflict
    from lantai.open_review.store import ReviewStore

    store = ReviewStore.in_data_dir(obj.settings().data_dir)
    checked, problem = store.verify_log()
    if problem:
        raise Conflict(f"review log damaged: {problem} ({checked} entries before it are intact)")
    click.echo(f"review log intact: {checked} entries")


@review_group.command("detect")
@click.argument("input_path", metavar="INPUT.jsonl", type=click.Path(path_type=Path))
@click.option("--out", "out_path", required=True, type=click.Path(path_type=Path),
              help="output JSONL (- for standard output)")
@click.pass_obj
def review_detect_cmd(obj: _Context, input_path: Path, out_path: Path) -> None:
    """Flag personal information, sensitive terms and secret markings in texts.

    Input lines {"id", "text"}; output lines {"id", "flags": [{"kind", "start", "end",
    "text", "rule"}]} in the same order, offsets in characters of the text."""
    from lantai.open_review.detect import detect

    if str(input_path) != "-" and not input_path.is_file():
        raise NotFound(f"input {input_path} does not exist")
    bad: list[str] = []
    done = flagged = 0
    with contextlib.ExitStack() as files:
        source = sys.stdin if str(input_path) == "-" else files.enter_context(
            open(input_path, encoding="utf-8-sig"))
        sink = sys.stdout if str(out_path) == "-" else files.enter_context(
            open(out_path, "w", encoding="utf-8"))
        for number, line in enumerate(source, start=1):
            if not line.strip():
                continue
            try:
                item = json.loads(line)
                if not isinstance(item, dict) or "id" not in item or \
                        not isinstance(item.get("text"), str):
                    raise ValueError('expected an object with "id" and a string "text"')
            except ValueError as exc:
                bad.append(f"{input_path}, line {number}: {exc}")
                continue
            flags = [f.to_dict() for f in detect(item["text"])]
            sink.write(json.dumps({"id": item["id"], "flags": flags}, ensure_ascii=False) + "\n")
            done += 1
            flagged += bool(flags)
    click.echo(f"{done} texts, {flagged} with flags, {len(bad)} bad lines", err=True)
    for message in bad[:20]:
        click.echo(f"  {message}", err=True)
    if bad:
        raise BadQueryError(f"{len(bad)} input lines could not be read (listed above)",
                            "INPUT.jsonl")


@main.group("collections")
def collections_group() -> None:
    """Thematic collections: 四史 and red-archive themes built from saved queries."""


@collections_group.command("list")
@click.option("--themes", "themes_dir", type=click.Path(path_type=Path),
              help="a folder of the archive's own theme files (added to the starter set)")
@click.option("--json", "as_json", is_flag=True, help="machine-readable output")
@click.pass_obj
def collections_list_cmd(obj: _Context, themes_dir: Path | None, as_json: bool) -> None:
    """The themes: the starter set and the archive's own."""
    from lantai.thematic_collections.themes import load_themes

    themes = load_themes(themes_dir)
    if as_json:
        click.echo(json.dumps([t.to_dict() for t in themes.values()], ensure_ascii=False))
        return
    for theme in themes.values():
        parent = f" (in {theme.parent})" if theme.parent else ""
        period = f" {theme.period[0]}–{theme.period[1]}" if theme.period else ""
        click.echo(f"{theme.slug}\t{theme.title_zh} / {theme.title_en}{period}{parent}")


def _curation(obj: _Context, slug: str, curator: str, themes_dir: Path | None
              ) -> tuple[Settings, Any, Any, Any]:
    """Settings, the theme, the collection store and the curator (an account that may curate)."""
    from lantai.accounts.roles import Permission
    from lantai.thematic_collections.store import CollectionStore
    from lantai.thematic_collections.themes import load_themes

    themes = load_themes(themes_dir)
    if slug not in themes:
        raise NotFound(f"no theme {slug!r} (lantai collections list)")
    settings = obj.settings()
    user = _staff_member(settings, curator, "--curator", Permission.CURATE)
    return settings, themes[slug], CollectionStore.in_data_dir(settings.data_dir), user


@collections_group.command("curate")
@click.argument("slug")
@click.argument("action", type=click.Choice(["accept", "exclude", "pin", "unpin", "move",
                                             "note", "intro"]))
@click.argument("codes", nargs=-1)
@click.option("--curator", required=True, help="the staff account curating")
@click.option("--position", type=int, help="move: the new 1-based position")
@click.option("--zh", "text_zh", help="note or intro: the Chinese text")
@click.option("--en", "text_en", help="note or intro: the English text")
@click.option("--timeline", help="note: the date shown on the timeline")
@click.option("--themes", "themes_dir", type=click.Path(path_type=Path))
@click.pass_obj
def collections_curate_cmd(obj: _Context, slug: str, action: str, codes: tuple[str, ...],
                           curator: str, position: int | None, text_zh: str | None,
                           text_en: str | None, timeline: str | None,
                           themes_dir: Path | None) -> None:
    """Change a theme's draft: accept, exclude, pin, unpin, move, note records, or intro."""
    from lantai.indexing.service import open_backend

    settings, theme, store, user = _curation(obj, slug, curator, themes_dir)
    if action == "intro":
        store.set_intro(slug, text_zh or theme.intro_zh, text_en or theme.intro_en, user.name)
        click.echo(f"introduction of {slug} set")
        return
    if not codes:
        raise BadQueryError(f"{action} needs at least one 档号", "CODES")
    if action == "accept":
        _require_index(settings)
        with open_backend(settings) as backend:
            found = backend.get_many(list(codes), public=False)
        missing = [c for c in codes if c not in found]
        if missing:
            raise NotFound(f"not in the index: {', '.join(missing)}")
        store.accept(slug, list(codes), user.name)
    for code in codes:
        if action == "exclude":
            store.exclude(slug, code, user.name)
        elif action in ("pin", "unpin"):
            store.pin(slug, code, action == "pin", user.name)
        elif action == "move":
            if position is None:
                raise BadQueryError("move needs --position", "--position")
            store.move(slug, code, position, user.name)
        elif action == "note":
            store.annotate(slug, code, user.name, note_zh=text_zh, note_en=text_en,
                           timeline=timeline)
    click.echo(f"{action}: {len(codes)} record(s) in the draft of {slug}; "
               f"{len(store.draft(slug))} accepted")


@collections_group.command("publish")
@click.argument("slug")
@click.option("--curator", required=True, help="the staff account publishing")
@click.option("--themes", "themes_dir", type=click.Path(path_type=Path))
@click.pass_obj
def collections_publish_cmd(obj: _Context, slug: str, curator: str,
                            themes_dir: Path | None) -> None:
    """Publish the draft as a new, immutable version."""
    _, theme, store, user = _curation(obj, slug, curator, themes_dir)
    intro = store.intro(slug) or (theme.intro_zh, theme.intro_en)
    version = store.publish(slug, intro, user.name)
    click.echo(f"{slug} version {version.version} published: {len(version.items)} records "
               f"(/collections/{slug}?v={version.version})")


@collections_group.command("export")
@click.argument("slug")
@click.option("--out", "out_dir", required=True, type=click.Path(path_type=Path))
@click.option("--format", "fmt", default="static", show_default=True,
              help="static (HTML with its own search) | json | iiif")
@click.option("--version", "number", type=int, help="a published version (default: latest)")
@click.option("--base-url", default="", help="iiif: the site's address (else server.public_url)")
@click.option("--themes", "themes_dir", type=click.Path(path_type=Path))
@click.pass_obj
def collections_export_cmd(obj: _Context, slug: str, out_dir: Path, fmt: str,
                           number: int | None, base_url: str, themes_dir: Path | None) -> None:
    """Export a published theme: a static exhibit, JSON, or a IIIF collection."""
    from lantai.iiif.store import ImageStore
    from lantai.indexing.service import open_backend
    from lantai.thematic_collections.exhibit import export
    from lantai.thematic_collections.store import CollectionStore
    from lantai.thematic_collections.themes import load_themes

    themes = load_themes(themes_dir)
    if slug not in themes:
        raise NotFound(f"no theme {slug!r} (lantai collections list)")
    settings = obj.settings()
    _require_index(settings)
    version = CollectionStore.in_data_dir(settings.data_dir).version(slug, number)
    if version is None:
        raise NotFound(f"{slug} has no published version"
                       + (f" {number}" if number else "") + " (lantai collections publish)")
    with open_backend(settings) as backend:
        path = export(themes[slug], version, backend, ImageStore.in_data_dir(settings.data_dir),
                      out_dir, fmt.strip().lower(),
                      base_url=base_url or settings.server.public_url,
                      archive_name=settings.archive.name)
    click.echo(f"{fmt}: {path}")


@collections_group.command("build")
@click.argument("slug")
@click.option("--themes", "themes_dir", type=click.Path(path_type=Path))
@click.option("--size", type=click.IntRange(1, 1000), default=20, show_default=True)
@click.option("--staff", is_flag=True, help="a curator's preview: include records not 开放")
@click.option("--json", "as_json", is_flag=True, help="machine-readable output")
@click.pass_obj
def collections_build_cmd(obj: _Context, slug: str, themes_dir: Path | None, size: int,
                          staff: bool, as_json: bool) -> None:
    """A theme's candidates, best first, each with why it was found."""
    from lantai.indexing.service import open_backend
    from lantai.thematic_collections.builder import build
    from lantai.thematic_collections.themes import load_themes

    themes = load_themes(themes_dir)
    if slug not in themes:
        raise NotFound(f"no theme {slug!r} (lantai collections list)")
    settings = obj.settings()
    _require_index(settings)
    with open_backend(settings) as backend:
        candidates = build(backend, themes[slug], public=not staff, size=size)
    if as_json:
        click.echo(json.dumps([c.to_dict() for c in candidates], ensure_ascii=False))
        return
    for number, c in enumerate(candidates, start=1):
        click.echo(f"{number:3d}. [{c.record.archival_code}] {c.record.title} "
                   f"({c.record.date_text or c.record.year or '—'}) {c.score:.2f} — "
                   + "；".join(c.why))
    click.echo(f"{len(candidates)} candidates for {themes[slug].title_zh}")


@main.command("search")
@click.argument("query", nargs=-1)
@click.option("--json", "as_json", is_flag=True, help="machine-readable output")
@click.option("--size", default="10", show_default=True, help="results per page")
@click.option("--page", default="1", show_default=True)
@click.option("--sort", default="relevance", show_default=True,
              help="relevance | date | -date | code")
@click.option("--mode", default="auto", show_default=True,
              help="auto (hybrid when the index has vectors, else keyword) | keyword | "
                   "semantic | hybrid")
@click.option("--fonds", multiple=True, help="filter by 全宗号 (repeatable)")
@click.option("--category", multiple=True, help="filter by 门类 (repeatable)")
@click.option("--year", multiple=True, help="filter by 年度 (repeatable)")
@click.option("--from", "date_from", help="earliest date (1937, 1937-07-07, 民国二十六年)")
@click.option("--to", "date_to", help="latest date")
@click.option("--staff", is_flag=True, help="include records that are not 开放 (staff use)")
@click.option("--exact", is_flag=True,
              help="search only the words typed: no period words from the thesaurus, no "
                   "feedback words")
@click.pass_obj
def search_cmd(obj: _Context, query: tuple[str, ...], as_json: bool, size: str, page: str,
               sort: str, mode: str, fonds: tuple[str, ...], category: tuple[str, ...],
               year: tuple[str, ...], date_from: str | None, date_to: str | None,
               staff: bool, exact: bool) -> None:
    """Search the index: words, "phrases", -exclude, 题名:…, 全宗:…, 1937..1945."""
    from lantai.search.backends import create_backend
    from lantai.search.request import parse_search_params

    settings = obj.settings()
    params: dict[str, Any] = {
        "q": " ".join(query), "size": size, "page": page, "sort": sort, "mode": mode,
        "fonds": list(fonds), "category": list(category), "year": list(year),
        "from": date_from, "to": date_to, "expand": "0" if exact else None}
    request = parse_search_params({k: v for k, v in params.items() if v is not None},
                                  settings.search, public=not staff)
    _require_index(settings)
    with create_backend(settings, create=False) as backend:
        result = backend.search(request)
    if as_json:
        from lantai.search.serialize import result_to_dict

        click.echo(json.dumps(result_to_dict(result), ensure_ascii=False, indent=2))
        return
    note = (f"（{result.exact_total} 条包含全部检索词，其余为部分匹配）" if result.relaxed else "")
    click.echo(f"{result.total} 条结果 / results ({result.took_ms:.0f} ms){note}")
    for expansion in result.plan.expansions:
        click.echo(f"  同时检索 / also searched: {expansion.word} → "
                   f"{'、'.join(expansion.alternatives)}  (--exact: only the words typed)")
    first = (result.page - 1) * result.size + 1
    for n, hit in enumerate(result.hits, start=first):
        rec = hit.record
        if hit.partial and (n == first or not result.hits[n - 1 - first].partial):
            click.echo("  —— 部分匹配 / partial matches ——")
        status = "" if rec.is_public else f" 〔{rec.open_status.value}〕"
        click.echo(f"{n:>3}. [{rec.archival_code}]{status} {_ansi(hit.title.segments)}"
                   f"  {rec.date_text or rec.year or ''}  {rec.creator}")
        for snippet in hit.snippets[:1]:
            page_note = f" (p.{snippet.page})" if snippet.page else ""
            click.echo(f"     {_ansi(snippet.segments)}{page_note}".replace("\n", " "))
    for name, values in result.facets.items():
        if values:
            shown = ", ".join(f"{v.label} ({v.count})" for v in values[:6])
            click.echo(f"  {name}: {shown}")


@main.command("browse")
@click.argument("path", nargs=-1)
@click.option("--page", type=click.IntRange(1), default=1, show_default=True)
@click.option("--size", type=click.IntRange(1), default=50, show_default=True)
@click.option("--json", "as_json", is_flag=True, help="machine-readable output")
@click.option("--staff", is_flag=True, help="count records that are not 开放 too")
@click.pass_obj
def browse_cmd(obj: _Context, path: tuple[str, ...], page: int, size: int, as_json: bool,
               staff: bool) -> None:
    """Browse the hierarchy: PATH is [ARCHIVE [全宗 [目录 [案卷]]]], e.g. local J001."""
    from lantai.search.backends import create_backend

    settings = obj.settings()
    _require_index(settings)
    with create_backend(settings, create=False) as backend:
        node = backend.browse(path, public=not staff, page=page, size=size)
    if as_json:
        from lantai.search.serialize import browse_to_dict

        click.echo(json.dumps(browse_to_dict(node), ensure_ascii=False, indent=2))
        return
    click.echo(f"{' / '.join(node.path) or '/'}  {node.label}  ({node.count} 件)")
    for child in node.children:
        click.echo(f"  ▸ {child.value:<16} {child.label}  ({child.count})")
    if node.records_total:
        shown = f"{(page - 1) * size + 1}–{(page - 1) * size + len(node.records)}"
        click.echo(f"  件 {shown} / {node.records_total}:")
        for rec in node.records:
            status = "" if rec.is_public else f" 〔{rec.open_status.value}〕"
            click.echo(f"    [{rec.archival_code}]{status} {rec.title}  "
                       f"{rec.date_text or rec.year or ''}")


@main.group("labels")
def labels_group() -> None:
    """Display labels of facet values (the fonds table: 全宗号 → 全宗名称)."""


@labels_group.command("import")
@click.argument("file", type=click.Path(path_type=Path))
@click.option("--facet", default="fonds", show_default=True,
              help="facet the labels are for (fonds, category, retention, archive …)")
@click.pass_obj
def labels_import_cmd(obj: _Context, file: Path, facet: str) -> None:
    """Import labels from FILE: CSV (全宗号,全宗名称 — any two columns) or TOML."""
    from lantai.indexing.labels import read_labels
    from lantai.search.backends import create_backend

    settings = obj.settings()
    tables = read_labels(file, facet)
    _require_index(settings)
    with create_backend(settings, create=False) as backend:
        for name, labels in tables.items():
            backend.set_labels(name, labels)
            click.echo(f"{name}: {len(labels)} label(s) from {file}")


def _ansi(segments: tuple[tuple[str, bool], ...]) -> str:
    return "".join(click.style(t, bold=True, fg="red") if hit else t for t, hit in segments)


def _echo_first(lines: list[str], limit: int = 15) -> None:
    """The first ``limit`` lines of a report, then how many more there are."""
    for line in lines[:limit]:
        click.echo(line)
    if len(lines) > limit:
        click.echo(f"  … {len(lines) - limit} more")


def _require_index(settings: Settings) -> None:
    if settings.backend == "embedded" and not (Path(settings.data_dir) / "index.sqlite").exists():
        raise Unavailable(f"no index in {settings.data_dir}: run `lantai index CATALOG` first "
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
def demo_cmd(obj: _Context, records: int, serve: bool) -> None:
    """Generate the sample archive, index it, and show a few searches."""
    from lantai.demo import generate_sample_archive
    from lantai.indexing.service import index_catalog, open_backend
    from lantai.search.backends.base import SearchRequest

    settings = obj.settings()
    source = Path(settings.data_dir) / "demo-source"
    sample = generate_sample_archive(source, records)
    scanned = _demo_scans(sample.catalog_csv, sample.text_dir, source / "scans")
    outcome = index_catalog(settings, sample.catalog_csv, text_dir=sample.text_dir,
                            rebuild=True)
    click.echo(f"sample archive: {sample.catalog_csv} ({outcome.index.indexed} records indexed, "
               f"{len(outcome.catalog.warnings)} warnings — see {outcome.report_path})")
    with open_backend(settings) as backend:
        public = backend.count()
        click.echo(f"{public} of {backend.count(public=False)} records are 开放 (public)")
        if scanned:
            from lantai.iiif.build import build_images
            from lantai.iiif.store import ImageStore

            built = build_images(backend.iter_records(public=False),
                                 ImageStore.in_data_dir(settings.data_dir),
                                 ocr_dir=sample.text_dir)
            click.echo(f"page images: {built.records} records, {built.pages_written} pages cut "
                       f"into tiles, {len(built.failures)} failed; e.g. /records/{scanned[0]}")
        click.echo()
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
    click.echo(f"staff pages (open review, unopened records): add an account first, e.g.\n"
               f"    lantai --data-dir {settings.data_dir} users add NAME --role admin\n")
    if serve:
        ctx = click.get_current_context()
        serve_cmd = main.get_command(ctx, "serve")
        if serve_cmd is None:
            raise LantaiError("the web front end is not installed in this version")
        ctx.invoke(serve_cmd)


def _demo_scans(catalog: Path, text_dir: Path, folder: Path) -> tuple[str, ...]:
    """Typeset a few demo records as page scans and OCR them; the OCR output (in
    ``text_dir``) becomes those records' text. Returns their 档号 (none when no CJK font or
    no OCR engine is installed: the demo then has no page images, and says why)."""
    from lantai.catalog.model import safe_filename
    from lantai.demo.scans import make_demo_scans

    try:
        scans = make_demo_scans(catalog, text_dir, folder)
        from lantai.ocr.batch import run_batch

        click.echo(f"OCR of {len(scans.manifest)} demo page scans (PP-OCR; cached after the "
                   "first run) …")
        report = run_batch([Path(p) for p in scans.manifest], text_dir, manifest=scans.manifest,
                           progress=sys.stderr.isatty())
    except (MissingDependency, ImportError) as exc:
        click.echo(f"no page images in this demo: {exc}")
        return ()
    for failure in report.failures:
        click.echo(f"  OCR failed: {failure.item}: {failure.reason}")
    done = tuple(code for code in scans.codes
                 if (text_dir / safe_filename(code)).is_dir())
    for code in done:  # the OCR text of the scan replaces the typed text
        (text_dir / f"{safe_filename(code)}.txt").unlink(missing_ok=True)
    return done


@main.command("config")
@click.pass_obj
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
        click.echo(f"{settings.backend}: {json.dumps(backend.health(), ensure_ascii=False)}")
        click.echo(f"index: {backend.count(public=False)} records, "
                   f"{backend.count()} public; metadata {backend.metadata()}")


def _register_optional() -> None:
    """Subcommands of optional packages (OCR, web) join when importable. A package that is
    absent is left out; one that is present but fails to import gets a command that says why
    (a broken install must not silently remove a command)."""
    import importlib

    for name, module, attr, extra in (("ocr", "lantai.ocr.cli", "ocr_command", "ocr"),
                                      ("serve", "lantai.search_app.cli", "serve_command",
                                       "web")):
        try:
            command = getattr(importlib.import_module(module), attr)
        except ModuleNotFoundError as exc:
            if exc.name == module:  # this version has no such part
                continue
            command = _broken_command(name, f"{exc} (install it with pip install "
                                            f"'lantai[{extra}]')")
        except Exception as exc:  # an import that fails for another reason: say so
            command = _broken_command(name, f"{type(exc).__name__}: {exc}")
        main.add_command(command)


def _broken_command(name: str, why: str) -> click.Command:
    def run(**_: Any) -> None:
        raise MissingDependency(f"`lantai {name}` cannot run: {why}")

    return click.Command(name, callback=run, help=f"(unavailable: {why})",
                         context_settings={"ignore_unknown_options": True,
                                           "allow_extra_args": True})


_register_optional()
