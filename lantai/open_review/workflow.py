"""The triage queue and decisions: the open-review work a reviewer does.

The queue holds the records that are not 开放 and wait for a decision: never decided, or
delayed with a re-review date that has come. Clear-cut cases go first (due, nothing blocking,
nothing flagged), then due records with flags to look at, then records a restriction still
keeps closed. Dismissed flags are left out; verified records are marked.

A decision is 开放, 控制 or 延期开放 with a reason, a legal basis and the reviewer. An 开放
decision is refused for a record a rule still restricts, unless an administrator overrides it
with a written reason. Decisions are recorded first (all of a batch or none) and then applied
to the public index at once (see :mod:`lantai.open_review.store`).
"""

from __future__ import annotations

import datetime
import uuid
from collections.abc import Iterable
from dataclasses import dataclass, field

from lantai.catalog.model import OpenStatus, Record
from lantai.errors import BadQueryError, Forbidden
from lantai.open_review.rules import BLOCK, INFO, Assessment, Finding, Rules, assess
from lantai.open_review.store import Decision, ReviewStore
from lantai.search.backends.base import SearchBackend
from lantai.search.facets import Filters


def parse_review_date(text: str | None, param: str) -> datetime.date:
    """A review date given as ``2026-12-04`` (today when empty)."""
    if not text:
        return datetime.date.today()
    try:
        return datetime.date.fromisoformat(text.strip())
    except ValueError:
        raise BadQueryError(f"{param} must be a date like 2026-12-04 (got {text!r})",
                            param) from None


#: Groups of the queue, in the order they are worked.
CLEAR, FLAGGED, RESTRICTED = "clear", "flagged", "restricted"


@dataclass(frozen=True)
class QueueItem:
    record: Record
    assessment: Assessment
    group: str
    verified: bool = False

    def to_dict(self) -> dict[str, object]:
        r, a = self.record, self.assessment
        return {"archival_code": r.archival_code, "title": r.title, "fonds": r.fonds,
                "year": r.year, "category": r.category, "open_status": r.open_status.value,
                "group": self.group, "due": a.due,
                "open_on": a.open_on.isoformat() if a.open_on else None,
                "verified": self.verified,
                "findings": [f.to_dict() for f in a.findings]}


def coreview_findings(state: dict[str, object] | None, rules: Rules) -> tuple[Finding, ...]:
    """What co-review adds: waiting for the unit blocks opening; its opinion is shown, and
    blocks when it is not 开放."""
    if not state:
        return ()
    unit = str(state["unit"])
    if not state["opinion"]:
        return (Finding("coreview", BLOCK, f"已送{unit}会同审核，等待其意见", rules.opinion_basis,
                        field="会同审核", text=unit),)
    opinion, note = str(state["opinion"]), str(state["note"])
    effect = INFO if opinion == OpenStatus.OPEN.value else BLOCK
    return (Finding("coreview", effect, f"{unit}会同审核意见：{opinion}"
                    + (f"（{note}）" if note else ""), rules.opinion_basis,
                    field="会同审核", text=opinion),)


def _group(assessment: Assessment) -> str:
    if assessment.blocks or not assessment.due:
        return RESTRICTED
    return FLAGGED if assessment.flags else CLEAR


def queue(backend: SearchBackend, store: ReviewStore, rules: Rules,
          review_date: datetime.date, *, filters: Filters | None = None,
          flag: str | None = None) -> list[QueueItem]:
    """The records waiting for review, in working order (``flag``: only those with a
    finding of this kind, e.g. ``id_number``, ``age``, ``term``)."""
    decided = store.decided()
    dismissed = store.all_dismissed()
    verified = store.verified()
    coreviews = store.coreviews()
    groups: dict[str, list[QueueItem]] = {CLEAR: [], FLAGGED: [], RESTRICTED: []}
    for record in backend.iter_records(public=False, filters=filters):
        if record.open_status is OpenStatus.OPEN:
            continue
        last = decided.get(record.archival_code)
        if last is not None and not (last.review_again and
                                     last.review_again <= review_date.isoformat()):
            continue
        found = assess(record, rules, review_date)
        gone = dismissed.get(record.archival_code, set())
        extra = coreview_findings(coreviews.get(record.archival_code), rules)
        if gone or extra:
            found = Assessment(found.archival_code, found.review_date, found.open_on,
                               tuple(f for f in (*found.findings, *extra)
                                     if f.key not in gone))
        if flag and not any(f.rule == flag or f.rule.split(":")[-1] == flag
                            or f.rule.split(":")[0] == flag for f in found.findings):
            continue
        item = QueueItem(record, found, _group(found), record.archival_code in verified)
        groups[item.group].append(item)
    return [*groups[CLEAR], *groups[FLAGGED], *groups[RESTRICTED]]


@dataclass
class DecisionReport:
    batch: str
    decided: list[str] = field(default_factory=list)
    refused: list[tuple[str, str]] = field(default_factory=list)  # (档号, why)
    missing: list[str] = field(default_factory=list)
    updated: int = 0


def decide(backend: SearchBackend, store: ReviewStore, rules: Rules, codes: Iterable[str],
           status: OpenStatus, *, reason: str, basis: str, reviewer: str,
           review_date: datetime.date, override: str = "", is_admin: bool = False,
           review_again: datetime.date | None = None,
           exceptions: dict[str, OpenStatus] | None = None) -> DecisionReport:
    """Decide ``codes`` (a batch; ``exceptions`` give some of them another status); record
    every decision, then apply them to the index. 开放 is refused for a record a rule still
    restricts, unless an administrator overrides with a written reason."""
    if not reason.strip():
        raise BadQueryError("a decision needs a reason", "reason")
    if not basis.strip():
        raise BadQueryError("a decision needs its legal basis", "basis")
    if override and not is_admin:
        raise Forbidden("only an administrator may override a restriction")
    if status is OpenStatus.DEFERRED and review_again is None:
        raise BadQueryError("a delayed record needs a re-review date", "review_again")
    exceptions = exceptions or {}
    wanted = list(dict.fromkeys([*codes, *exceptions]))
    if not wanted:
        raise BadQueryError("no records to decide", "codes")
    records = backend.get_many(wanted, public=False)
    coreviews = store.coreviews()
    report = DecisionReport(batch=uuid.uuid4().hex[:12])
    now = store.clock()
    batch: list[Decision] = []
    for code in wanted:
        record = records.get(code)
        if record is None:
            report.missing.append(code)
            continue
        verdict = exceptions.get(code, status)
        if verdict is OpenStatus.OPEN:
            blocks = assess(record, rules, review_date, detect_text=False).blocks + tuple(
                f for f in coreview_findings(coreviews.get(code), rules) if f.effect == BLOCK)
            if blocks and not override:
                report.refused.append((code, "；".join(b.message for b in blocks)))
                continue
        again = review_again.isoformat() if review_again and verdict is not OpenStatus.OPEN \
            else ""
        batch.append(Decision(code, verdict, reason.strip(), basis.strip(), reviewer, now,
                              report.batch, override.strip() if verdict is OpenStatus.OPEN
                              else "", again))
    store.record(batch)
    report.decided = [d.archival_code for d in batch]
    report.updated = store.apply(backend, report.decided)
    return report
