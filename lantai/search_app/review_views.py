"""Staff pages of open review (reviewer role): the queue, one record's evidence, decisions.

Thin views over :mod:`lantai.open_review`: the queue and assessments come from the rules, a
decision from :func:`lantai.open_review.workflow.decide`, which records it and changes the
public index at once. Every POST carries the CSRF token; every route asks for the REVIEW
permission on the server.
"""

from __future__ import annotations

import datetime
import tempfile
from collections.abc import Callable
from io import BytesIO
from pathlib import Path
from typing import Any, TypeVar

from flask import Blueprint, redirect, render_template, request, send_file, url_for
from werkzeug.wrappers import Response

from lantai.accounts.roles import Permission, Role
from lantai.catalog.model import OpenStatus
from lantai.errors import BadQueryError
from lantai.iiif.manifest import image_url
from lantai.iiif.viewer import page_view
from lantai.open_review.rules import Assessment, assess
from lantai.open_review.workflow import QueueItem, coreview_findings, parse_review_date, queue
from lantai.open_review.workflow import decide as decide_records
from lantai.search.highlight import mark_spans
from lantai.search.request import parse_page_number, parse_search_params
from lantai.search_app import state
from lantai.search_app.auth import current_staff, requires
from lantai.search_app.links import iiif_base, with_args

bp = Blueprint("review", __name__)

QUEUE_SIZE = 100
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
T = TypeVar("T")


def _review_date() -> datetime.date:
    return parse_review_date(request.values.get("as_of"), "as_of")


def _queue_items() -> list[QueueItem]:
    """The queue under the page's filters (全宗, 年度, 门类, flag, review date)."""
    web = state()
    filters = parse_search_params(request.args, web.settings.search, public=False).filters
    return queue(web.backend, web.review, web.rules, _review_date(), filters=filters,
                 flag=request.args.get("flag") or None)


def _workbook(write: Callable[[Path], T], name: Callable[[T], str]) -> Response:
    """``write`` a workbook into a temporary file and send it, named after what ``write``
    returned."""
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "workbook.xlsx"
        result = write(path)
        data = path.read_bytes()
    return send_file(BytesIO(data), as_attachment=True, download_name=name(result),
                     mimetype=XLSX)


@bp.get("/staff/review")
@requires(Permission.REVIEW)
def review_queue() -> str:
    flag = request.args.get("flag") or None
    items = _queue_items()
    page = parse_page_number(request.args, pages=max(1, -(-len(items) // QUEUE_SIZE)))
    shown = items[(page - 1) * QUEUE_SIZE: page * QUEUE_SIZE]
    counts = {g: sum(i.group == g for i in items) for g in ("clear", "flagged", "restricted")}
    return render_template("staff_review.html", items=shown, counts=counts, total=len(items),
                           page=page, flag=flag or "", statuses=list(OpenStatus),
                           is_admin=current_staff().role is Role.ADMIN,  # type: ignore
                           page_url=lambda n: with_args(url_for("review.review_queue"),
                                                        request.args, replace={"page": str(n)}))


@bp.get("/staff/review.xlsx")
@requires(Permission.REVIEW)
def review_queue_xlsx() -> Response:
    """The queue view of the page (same filters) as a workbook."""
    from lantai.open_review.export import queue_xlsx

    items = _queue_items()
    return _workbook(lambda path: queue_xlsx(items, path), lambda _: "审核队列.xlsx")


@bp.get("/staff/review/record/<path:code>")
@requires(Permission.REVIEW)
def review_record(code: str) -> str:
    web = state()
    record = web.backend.get(code, public=False)
    found = assess(record, web.rules, _review_date())
    extra = coreview_findings(web.review.coreviews(record.archival_code).get(
        record.archival_code), web.rules)
    assessment = Assessment(found.archival_code, found.review_date, found.open_on,
                            found.findings + extra)
    dismissed = web.review.dismissed(record.archival_code)
    findings = [(f, f.key in dismissed) for f in assessment.findings]
    live = [f for f, gone in findings if not gone]
    pages = []
    for number, text in enumerate(record.pages, start=1):
        spans = [(f.start, f.end) for f in live if f.field == "text" and f.page == number
                 and f.start is not None and f.end is not None]
        pages.append((number, mark_spans(text, spans, number), len(spans)))
    title_spans = [(f.start, f.end) for f in live if f.field == "title"
                   and f.start is not None and f.end is not None]
    stored = web.images.pages(record.archival_code)
    position = parse_page_number(request.args, "image", pages=len(stored))
    view = page_view(web.images, record, stored, position, (), web.backend.analyzer)
    boxes = _evidence_boxes(record.archival_code, live, view)
    return render_template(
        "staff_review_record.html", record=record, assessment=assessment, findings=findings,
        title=mark_spans(record.title, title_spans), pages=pages, view=view,
        boxes=boxes, iiif_base=iiif_base(record.archival_code) if view else "",
        image_url=image_url, statuses=list(OpenStatus),
        latest=web.review.latest(record.archival_code),
        verified=web.review.is_verified(record.archival_code),
        is_admin=current_staff().role is Role.ADMIN,  # type: ignore[union-attr]
        image_link=lambda n: with_args(url_for("review.review_record",
                                               code=record.archival_code),
                                       request.args, replace={"image": str(n)}) + "#viewer")


def _evidence_boxes(code: str, findings: list[Any], view: Any) -> list[Any]:
    """The OCR boxes of the evidence on the page shown (text findings only)."""
    if view is None:
        return []
    ocr = state().images.ocr_page(code, view.page.number)
    if ocr is None:
        return []
    boxes = []
    for f in findings:
        if f.field == "text" and f.page == view.page.number and f.start is not None:
            boxes += [polygon for _, polygon in ocr.locate(f.start, f.end)]
    return boxes


@bp.post("/staff/review/record/<path:code>/dismiss")
@requires(Permission.REVIEW)
def dismiss(code: str) -> Response:
    web = state()
    record = web.backend.get(code, public=False)
    key = request.form.get("finding", "")
    if not key:
        raise BadQueryError("which finding?", "finding")
    web.review.dismiss(record.archival_code, key, current_staff().name,  # type: ignore
                       request.form.get("note", "").strip())
    return redirect(url_for("review.review_record", code=record.archival_code), 303)


@bp.post("/staff/review/record/<path:code>/verify")
@requires(Permission.REVIEW)
def verify(code: str) -> Response:
    web = state()
    record = web.backend.get(code, public=False)
    web.review.verify(record.archival_code, current_staff().name)  # type: ignore
    return redirect(url_for("review.review_record", code=record.archival_code), 303)


@bp.post("/staff/review/decide")
@requires(Permission.REVIEW)
def decide() -> Any:
    web = state()
    user = current_staff()
    assert user is not None
    codes = [c for c in request.form.getlist("code") if c.strip()]
    if not codes:
        raise BadQueryError("select at least one record", "code")
    try:
        status = OpenStatus.parse(request.form.get("status", ""))
    except ValueError as exc:
        raise BadQueryError(str(exc), "status") from None
    again_text = request.form.get("review_again", "").strip()
    again = parse_review_date(again_text, "review_again") if again_text else None
    exceptions = {}
    for code in codes:
        other = request.form.get(f"except:{code}", "").strip()
        if other:
            try:
                exceptions[code] = OpenStatus.parse(other)
            except ValueError as exc:
                raise BadQueryError(str(exc), f"except:{code}") from None
    report = decide_records(
        web.backend, web.review, web.rules, codes, status,
        reason=request.form.get("reason", ""), basis=request.form.get("basis", ""),
        reviewer=user.name, review_date=_review_date(),
        override=request.form.get("override", ""), is_admin=user.role is Role.ADMIN,
        review_again=again, exceptions=exceptions)
    return render_template("staff_review_done.html", report=report, status=status)


@bp.post("/staff/review/coreview")
@requires(Permission.REVIEW)
def coreview_export() -> Response:
    """Send the selected records to the co-reviewing unit: the workbook to download."""
    from lantai.open_review.coreview import export_batch

    web = state()
    user = current_staff()
    assert user is not None
    codes = list(dict.fromkeys(c for c in request.form.getlist("code") if c.strip()))
    if not codes:
        raise BadQueryError("select at least one record", "code")
    unit = request.form.get("unit", "").strip()
    if not unit:
        raise BadQueryError("name the co-reviewing unit", "unit")
    try:
        proposed = OpenStatus.parse(request.form.get("status", "") or "开放")
    except ValueError as exc:
        raise BadQueryError(str(exc), "status") from None
    return _workbook(
        lambda path: export_batch(web.backend, web.review, web.rules, codes, unit=unit,
                                  proposed=proposed, reviewer=user.name, out=path,
                                  review_date=_review_date()),
        lambda batch: f"会同审核-{unit}-{batch}.xlsx")


@bp.post("/staff/review/coreview-import")
@requires(Permission.REVIEW)
def coreview_import() -> str:
    """Import the unit's filled-in workbook; a workbook with bad rows is refused whole."""
    from lantai.open_review.coreview import import_opinions

    upload = request.files.get("workbook")
    if upload is None or not upload.filename:
        raise BadQueryError("choose the returned workbook (.xlsx)", "workbook")
    user = current_staff()
    assert user is not None
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "returned.xlsx"
        upload.save(path)
        done = import_opinions(state().review, path, actor=user.name)
    return render_template("staff_review_imported.html", done=done)
