"""Open review: rules as data, the queue, decisions driving the public index, the chained log,
and a process killed in the middle of a batch."""

from __future__ import annotations

import datetime
import os
import signal
import sqlite3
import subprocess
import sys
import textwrap
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from lantai.catalog.model import OpenStatus, Record
from lantai.config import Settings
from lantai.errors import BadQueryError, ConfigError, Forbidden
from lantai.open_review.rules import BLOCK, FLAG, assess, load_rules
from lantai.open_review.store import ReviewStore
from lantai.open_review.workflow import CLEAR, FLAGGED, RESTRICTED, decide, queue
from lantai.search.backends.embedded import EmbeddedBackend

TODAY = datetime.date(2026, 12, 4)
RULES = load_rules()


def rec(code: str, *, start: int | None = 19800101, end: int | None = None, **fields: object
        ) -> Record:
    fields.setdefault("open_status", OpenStatus.UNREVIEWED)
    fields.setdefault("title", "关于某事的报告")
    return Record(archival_code=code, date_start=start, date_end=end or start,
                  **fields)  # type: ignore[arg-type]


def rules_of(a: object) -> list[tuple[str, str]]:
    return [(f.rule, f.effect) for f in a.findings]  # type: ignore[attr-defined]


# -- rules -----------------------------------------------------------------------------------
@pytest.mark.parametrize(("made", "due"), [
    (20011204, True),  # exactly 25 years: opens that day
    (20011205, False),
    (19800101, True),
    (20240229, False),
])
def test_the_age_rule_counts_25_years_from_the_latest_date(made: int, due: bool) -> None:
    a = assess(rec("A-1", start=made), RULES, TODAY)
    assert a.due is due
    assert (("age", BLOCK) in rules_of(a)) is not due


def test_a_file_is_as_old_as_its_latest_document() -> None:
    a = assess(rec("A-1", start=19900101, end=20020101), RULES, TODAY)
    assert not a.due and a.open_on == datetime.date(2027, 1, 1)


def test_some_kinds_of_record_may_open_earlier() -> None:
    science = rec("A-2", start=20150601, category="科技")
    assert assess(science, RULES, TODAY).due  # 10 years
    education = rec("A-3", start=20150601, creator="安澜市教育局")
    assert assess(education, RULES, TODAY).due
    plain = rec("A-4", start=20150601, category="文书")
    assert not assess(plain, RULES, TODAY).due


def test_an_unknown_or_inferred_date_is_flagged_never_assumed_old() -> None:
    unknown = assess(rec("A-5", start=None, date_text="不详"), RULES, TODAY)
    assert not unknown.due and ("date", FLAG) in rules_of(unknown)
    inferred = assess(rec("A-6", start=19370101, end=19371231, date_text="[1937]"), RULES,
                      TODAY)
    assert inferred.due and ("date", FLAG) in rules_of(inferred)
    year_only = assess(rec("A-7", start=None, year=1950), RULES, TODAY)
    assert year_only.due and ("date", FLAG) in rules_of(year_only)


def test_classification_opinion_and_donor_restrictions_block() -> None:
    secret = rec("B-1", classification="机密")
    assert ("classification", BLOCK) in rules_of(assess(secret, RULES, TODAY))
    released = rec("B-2", classification="机密", extra=(("解密标识", "已解密"),))
    assert ("classification", BLOCK) not in rules_of(assess(released, RULES, TODAY))
    against = rec("B-3", extra=(("开放意见", "控制"),))
    assert ("opinion", BLOCK) in rules_of(assess(against, RULES, TODAY))
    agreed = rec("B-4", extra=(("开放意见", "开放"),))
    assert rules_of(assess(agreed, RULES, TODAY)) == []
    donor = rec("B-5", extra=(("捐赠限制", "2030年12月31日"),))
    found = assess(donor, RULES, TODAY).blocks
    assert found and found[0].until == datetime.date(2030, 12, 31)
    expired = rec("B-6", extra=(("捐赠限制", "2020年"),))
    assert not assess(expired, RULES, TODAY).blocks
    open_ended = rec("B-7", extra=(("寄存限制", "未经捐赠人同意不得公布"),))
    assert assess(open_ended, RULES, TODAY).blocks


def test_text_findings_carry_page_and_span() -> None:
    record = rec("C-1", title="张三因患肺结核住院", pages=("第一页无事。", "联系电话13812345678"))
    findings = {f.rule: f for f in assess(record, RULES, TODAY).flags}
    phone = findings["pi:phone"]
    assert (phone.field, phone.page, phone.start, phone.end) == ("text", 2, 4, 15)
    assert findings["pi:person_name"].field == "title"
    assert findings["term:medical"].basis


@pytest.mark.parametrize(("content", "message"), [
    ("version = 2", "version: must be 1"),
    ("version = 1\n[age]\nyears = -1\nbasis = 'x'", "age.years"),
    ("version = 1\n[age]\nyears = 25\nbasis = ''", "age.basis"),
    ("version = 1\n[agee]\n", "agee: unknown section"),
    ("version = 1\n[age]\nyears=25\nbasis='x'\n[personal_information]\nkinds=['dna']\n"
     "basis='x'", "unknown kind 'dna'"),
    ("version = 1\n[age]\nyears = 25\nbasis = 'x'\n[[age.early]]\nname = 'a'\nyears = 'ten'",
     "age.early[0].years"),
    ("version = ", "not valid TOML"),
])
def test_a_bad_rules_file_names_the_file_and_key(tmp_path: Path, content: str,
                                                 message: str) -> None:
    path = tmp_path / "rules.toml"
    path.write_text(content, encoding="utf-8")
    with pytest.raises(ConfigError) as error:
        load_rules(path)
    assert str(path) in str(error.value) and message in str(error.value)


# -- queue and decisions -----------------------------------------------------------------------
@pytest.fixture
def archive(make_settings: Callable[..., Settings]) -> tuple[EmbeddedBackend, ReviewStore]:
    settings = make_settings()
    backend = EmbeddedBackend(settings)
    backend.upsert([
        rec("Q-1", title="关于修缮校舍的报告"),  # clear
        rec("Q-2", title="职工名册", pages=("张三，身份证11010519491231002X",)),  # flagged
        rec("Q-3", title="绝密方案", classification="绝密"),  # restricted
        rec("Q-4", title="新近文件", start=20200101),  # restricted: too young
        rec("Q-5", title="已开放文件", open_status=OpenStatus.OPEN),  # not in the queue
    ])
    return backend, ReviewStore.in_data_dir(settings.data_dir)


def test_the_queue_puts_clear_cases_first(archive: tuple[EmbeddedBackend, ReviewStore]) -> None:
    backend, store = archive
    items = queue(backend, store, RULES, TODAY)
    assert [(i.record.archival_code, i.group) for i in items] == [
        ("Q-1", CLEAR), ("Q-2", FLAGGED), ("Q-3", RESTRICTED), ("Q-4", RESTRICTED)]
    assert [i.record.archival_code for i in queue(backend, store, RULES, TODAY,
                                                  flag="id_number")] == ["Q-2"]
    # a dismissed false positive leaves the record among the clear ones
    finding = next(f for f in items[1].assessment.findings if f.rule == "pi:id_number")
    store.dismiss("Q-2", finding.key, "wang", "a test number")
    regrouped = {i.record.archival_code: i.group for i in queue(backend, store, RULES, TODAY)}
    assert regrouped["Q-2"] == CLEAR
    store.verify("Q-2", "wang")
    assert next(i for i in queue(backend, store, RULES, TODAY)
                if i.record.archival_code == "Q-2").verified


def test_decisions_drive_the_public_index_at_once(
        archive: tuple[EmbeddedBackend, ReviewStore]) -> None:
    backend, store = archive
    assert backend.count() == 1
    report = decide(backend, store, RULES, ["Q-1", "Q-2", "Q-3"], OpenStatus.OPEN,
                    reason="已满二十五年，内容无不宜开放情形", basis="档案法第二十七条",
                    reviewer="wang", review_date=TODAY)
    assert report.decided == ["Q-1", "Q-2"] and report.refused[0][0] == "Q-3"
    assert "密级" in report.refused[0][1]
    assert backend.count() == 3  # are public now
    assert backend.get("Q-1").open_status is OpenStatus.OPEN
    assert dict(backend.get("Q-1").review)["审核人"] == "wang"
    # a decision that changes takes the record off the public side at once
    decide(backend, store, RULES, ["Q-2"], OpenStatus.CONTROLLED, reason="涉及个人信息",
           basis="个人信息保护法", reviewer="li", review_date=TODAY)
    assert backend.count() == 2
    assert [i.record.archival_code for i in queue(backend, store, RULES, TODAY)] == \
        ["Q-3", "Q-4"]


def test_an_override_needs_an_administrator_and_a_reason(
        archive: tuple[EmbeddedBackend, ReviewStore]) -> None:
    backend, store = archive
    with pytest.raises(Forbidden):
        decide(backend, store, RULES, ["Q-4"], OpenStatus.OPEN, reason="r", basis="b",
               reviewer="wang", review_date=TODAY, override="urgent")
    report = decide(backend, store, RULES, ["Q-4"], OpenStatus.OPEN, reason="经会同审核",
                    basis="档案法第二十七条", reviewer="li", review_date=TODAY,
                    override="移交单位书面同意提前开放", is_admin=True)
    assert report.decided == ["Q-4"] and backend.get("Q-4").is_public
    entry = store.log(limit=1)[0]
    assert entry.detail["override"] == "移交单位书面同意提前开放"
    with pytest.raises(BadQueryError):
        decide(backend, store, RULES, ["Q-1"], OpenStatus.OPEN, reason=" ", basis="b",
               reviewer="wang", review_date=TODAY)


def test_a_batch_with_exceptions_and_a_re_review_date(
        archive: tuple[EmbeddedBackend, ReviewStore]) -> None:
    backend, store = archive
    with pytest.raises(BadQueryError):  # a delay needs a date to come back
        decide(backend, store, RULES, ["Q-1"], OpenStatus.DEFERRED, reason="r", basis="b",
               reviewer="wang", review_date=TODAY)
    report = decide(backend, store, RULES, ["Q-1", "Q-2"], OpenStatus.DEFERRED,
                    reason="待会同审核", basis="档案法第三十条", reviewer="wang",
                    review_date=TODAY, review_again=datetime.date(2027, 6, 1),
                    exceptions={"Q-1": OpenStatus.OPEN})
    assert sorted(report.decided) == ["Q-1", "Q-2"]
    assert backend.get("Q-1").is_public and not backend.get("Q-2", public=False).is_public
    waiting = lambda day: [i.record.archival_code  # noqa: E731
                           for i in queue(backend, store, RULES, day)]
    assert "Q-2" not in waiting(TODAY)
    assert "Q-2" in waiting(datetime.date(2027, 6, 1))  # back in the queue on its date


# -- the log ---------------------------------------------------------------------------------
def test_the_log_is_chained_and_tampering_is_found(
        archive: tuple[EmbeddedBackend, ReviewStore]) -> None:
    backend, store = archive
    decide(backend, store, RULES, ["Q-1", "Q-2"], OpenStatus.OPEN, reason="满期",
           basis="档案法第二十七条", reviewer="wang", review_date=TODAY)
    store.dismiss("Q-3", "x", "wang")
    assert store.verify_log() == (3, None)
    conn = sqlite3.connect(store.path)
    with pytest.raises(sqlite3.DatabaseError):  # append-only
        conn.execute("UPDATE log SET actor = 'mallory' WHERE seq = 1")
    # someone with the file drops the guard and rewrites an entry
    conn.execute("DROP TRIGGER log_no_update")
    conn.execute("UPDATE log SET detail = replace(detail, '满期', '伪造') WHERE seq = 2")
    conn.commit()
    assert store.verify_log() == (1, "entry 2 was changed after it was written")
    conn.execute("DROP TRIGGER log_no_delete")
    conn.execute("DELETE FROM log WHERE seq = 2")
    conn.commit()
    assert store.verify_log()[1] == "entry 2 is missing (the next one is 3)"


def test_a_crash_between_recording_and_applying_is_repaired(
        archive: tuple[EmbeddedBackend, ReviewStore], monkeypatch: pytest.MonkeyPatch) -> None:
    backend, store = archive

    def crash(*args: object, **kwargs: object) -> int:
        raise KeyboardInterrupt("killed")

    monkeypatch.setattr(store, "apply", crash)
    with pytest.raises(KeyboardInterrupt):
        decide(backend, store, RULES, ["Q-1", "Q-2"], OpenStatus.OPEN, reason="满期",
               basis="b", reviewer="wang", review_date=TODAY)
    assert backend.count() == 1  # recorded, not yet applied
    monkeypatch.undo()
    assert store.reconcile(backend) == 2
    assert backend.count() == 3 and store.reconcile(backend) == 0


_WORKER = textwrap.dedent("""
    import datetime, sys
    from pathlib import Path
    from lantai.catalog.model import OpenStatus
    from lantai.config import load_settings
    from lantai.open_review.rules import load_rules
    from lantai.open_review.store import ReviewStore
    from lantai.open_review.workflow import decide
    from lantai.search.backends.embedded import EmbeddedBackend

    settings = load_settings(environ={}, overrides={"data_dir": Path(sys.argv[1])})
    backend = EmbeddedBackend(settings)
    store = ReviewStore.in_data_dir(settings.data_dir)
    rules = load_rules()
    codes = [f"K-{i:04d}" for i in range(400)]
    print("ready", flush=True)
    for round in range(1000):
        status = OpenStatus.OPEN if round % 2 == 0 else OpenStatus.CONTROLLED
        for start in range(0, 400, 50):
            decide(backend, store, rules, codes[start:start + 50], status, reason=f"r{round}",
                   basis="b", reviewer="wang", review_date=datetime.date(2026, 12, 4))
""")


def test_killed_mid_batch_every_batch_is_whole_and_the_index_agrees_after_restart(
        make_settings: Callable[..., Settings], tmp_path: Path) -> None:
    settings = make_settings()
    backend = EmbeddedBackend(settings)
    backend.upsert([rec(f"K-{i:04d}") for i in range(400)])
    backend.close()
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[1])}
    worker = subprocess.Popen([sys.executable, "-c", _WORKER, str(settings.data_dir)],
                              stdout=subprocess.PIPE, env=env)
    assert worker.stdout is not None and worker.stdout.readline().strip() == b"ready"
    time.sleep(2.5)
    os.kill(worker.pid, signal.SIGKILL)
    worker.wait(timeout=30)
    store = ReviewStore.in_data_dir(settings.data_dir)
    batches = store._conn().execute(
        "SELECT batch, count(*) FROM decisions GROUP BY batch").fetchall()
    assert batches, "the worker decided nothing before it was killed"
    assert all(n == 50 for _, n in batches)  # whole batches, or nothing
    assert store.verify_log()[1] is None
    backend = EmbeddedBackend(settings)
    store.reconcile(backend)
    decided = store.decided()
    for code, decision in decided.items():
        assert backend.get(code, public=False).open_status is decision.status, code
    assert backend.count() == sum(d.status is OpenStatus.OPEN for d in decided.values())


def test_re_importing_a_catalog_keeps_the_reviewers_decisions(
        make_settings: Callable[..., Settings], tmp_path: Path) -> None:
    from lantai.indexing.service import index_catalog

    settings = make_settings()
    catalog = tmp_path / "c.csv"
    catalog.write_text("档号,题名,开放标识,日期\nM-001-001-001,甲,未审核,1960年\n"
                       "M-001-001-002,乙,未审核,1960年\n", encoding="utf-8")
    index_catalog(settings, catalog)
    backend = EmbeddedBackend(settings)
    store = ReviewStore.in_data_dir(settings.data_dir)
    decide(backend, store, RULES, ["M-001-001-001"], OpenStatus.CONTROLLED, reason="涉密",
           basis="保密法", reviewer="wang", review_date=TODAY)
    backend.close()
    # the unit sends its catalog again, now saying 开放 for both
    catalog.write_text(catalog.read_text(encoding="utf-8").replace("未审核", "开放"),
                       encoding="utf-8")
    outcome = index_catalog(settings, catalog)
    warnings = [str(w) for w in outcome.catalog.warnings]
    assert any("M-001-001-001: the catalog says 开放, but wang decided 控制" in w
               for w in warnings)
    backend = EmbeddedBackend(settings)
    assert backend.get("M-001-001-001", public=False).open_status is OpenStatus.CONTROLLED
    assert dict(backend.get("M-001-001-001", public=False).review)["审核人"] == "wang"
    assert backend.get("M-001-001-002").is_public  # no decision: the catalog's value


def test_the_published_catalog_holds_only_opened_records(
        archive: tuple[EmbeddedBackend, ReviewStore], tmp_path: Path) -> None:
    import csv

    import openpyxl

    from lantai.open_review.export import export_opened

    backend, store = archive
    backend.upsert([rec("Q-6", title='=HYPERLINK("http://x") <b>标题</b>',
                        open_status=OpenStatus.OPEN)])
    decide(backend, store, RULES, ["Q-1"], OpenStatus.OPEN, reason="满期", basis="b",
           reviewer="wang", review_date=TODAY)
    files = export_opened(backend, tmp_path, ("csv", "xlsx", "html"), archive_name="本馆")
    with files["csv"].open(encoding="utf-8-sig") as fh:
        rows = list(csv.reader(fh))
    assert rows[0][0] == "档号" and [r[0] for r in rows[1:]] == ["Q-1", "Q-5", "Q-6"]
    assert rows[1][7]  # the date it was opened
    sheet = openpyxl.load_workbook(files["xlsx"]).active
    values = [[c.value for c in row] for row in sheet.iter_rows()]
    assert [v[0] for v in values[1:]] == ["Q-1", "Q-5", "Q-6"]
    assert values[3][2].startswith("'=")  # no formula from a title
    page = files["html"].read_text(encoding="utf-8")
    assert "&lt;b&gt;标题&lt;/b&gt;" in page and "<b>" not in page and "绝密方案" not in page
    with pytest.raises(BadQueryError):
        export_opened(backend, tmp_path, ("pdf",), archive_name="本馆")


def test_co_review_round_trip(archive: tuple[EmbeddedBackend, ReviewStore],
                              tmp_path: Path) -> None:
    import openpyxl

    from lantai.errors import ImportFailed
    from lantai.open_review.coreview import export_batch, import_opinions

    backend, store = archive
    out = tmp_path / "送审.xlsx"
    export_batch(backend, store, RULES, ["Q-1", "Q-2"], unit="安澜市教育局",
                 proposed=OpenStatus.OPEN, reviewer="wang", out=out, review_date=TODAY)
    # waiting for the unit: opening is refused, the queue says why
    report = decide(backend, store, RULES, ["Q-1"], OpenStatus.OPEN, reason="r", basis="b",
                    reviewer="wang", review_date=TODAY)
    assert report.refused and "等待其意见" in report.refused[0][1]
    book = openpyxl.load_workbook(out)
    sheet = book.active
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[1][:2] == ("档号", "题名") and {r[0] for r in rows[2:]} == {"Q-1", "Q-2"}
    assert "居民身份证号码" in next(r for r in rows[2:] if r[0] == "Q-2")[4]
    # the unit fills in one row badly: nothing is imported, the row is named
    sheet["G3"], sheet["G4"] = "开放", "不同意"
    book.save(out)
    with pytest.raises(ImportFailed) as bad:
        import_opinions(store, out, actor="wang")
    assert f"{out}, row 4, column 会同单位意见" in str(bad.value)
    assert all(not c["opinion"] for c in store.coreviews().values())
    sheet["G4"], sheet["H4"] = "控制", "涉及职工个人信息"
    book.save(out)
    assert sorted(import_opinions(store, out, actor="wang")) == [("Q-1", "开放"),
                                                                 ("Q-2", "控制")]
    items = {i.record.archival_code: i for i in queue(backend, store, RULES, TODAY)}
    assert items["Q-1"].group == CLEAR  # the unit agreed
    assert items["Q-2"].group == RESTRICTED
    assert any(f.message == "安澜市教育局会同审核意见：控制（涉及职工个人信息）"
               for f in items["Q-2"].assessment.findings)
    assert decide(backend, store, RULES, ["Q-1"], OpenStatus.OPEN, reason="会同审核同意",
                  basis="档案法第三十条", reviewer="wang", review_date=TODAY).decided == ["Q-1"]
    actions = [e.action for e in store.log()]
    assert actions.count("coreview.send") == 2 and actions.count("coreview.return") == 2
    assert store.verify_log()[1] is None
