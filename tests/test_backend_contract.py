"""The backend contract, run against every backend (embedded always; Elasticsearch with -m es).

Each test states one promise the web app, collections or review queue rely on.
"""

from __future__ import annotations

import pytest

from lantai.catalog.hierarchy import Level
from lantai.catalog.model import OpenStatus, Record
from lantai.errors import BadQueryError, NodeNotFound, RecordNotFound, Unsupported
from lantai.search.backends.base import (
    Capability,
    Filters,
    SearchBackend,
    SearchRequest,
    SortOrder,
    StatusChange,
)

from .conftest import record

PUBLIC_CODES = {
    "J001-WS·1939-Y-0001", "J001-WS·1939-Y-0002", "J017-001-002-003", "X001-WS·1952-Y-0010",
    "X012-WS·1956-D30-0003", "X012-WS·1958-Y-0001",
}
SECRET_CODES = {"X001-WS·1985-Y-0099", "X001-WS·1990-Y-0100"}


@pytest.fixture
def loaded(backend: SearchBackend, sample_records: list[Record]) -> SearchBackend:
    report = backend.upsert(sample_records)
    assert report.indexed == len(sample_records)
    assert report.failed == ()
    return backend


def codes(result, *, partial: bool = False) -> list[str]:  # type: ignore[no-untyped-def]
    """Codes of the hits that have every term (and the partial ones too if asked)."""
    return [h.record_id for h in result.hits if partial or not h.partial]


def test_simplified_query_finds_traditional_text(loaded: SearchBackend) -> None:
    result = loaded.search(SearchRequest("杨靖宇 东北抗日联军"))
    assert codes(result) == ["J001-WS·1939-Y-0001"]
    assert result.exact_total == 1


def test_traditional_query_finds_simplified_text(loaded: SearchBackend) -> None:
    result = loaded.search(SearchRequest("救濟難民"))
    assert codes(result) == ["J001-WS·1939-Y-0002"]


def test_line_break_inside_a_word_still_matches(loaded: SearchBackend) -> None:
    # the text has "濛江\n一帶"
    assert "J001-WS·1939-Y-0001" in codes(loaded.search(SearchRequest("濛江一带")))


def test_snippet_highlights_the_original_script(loaded: SearchBackend) -> None:
    hit = loaded.search(SearchRequest("敌机轰炸")).hits[0]
    marked = [t for s in hit.snippets for t, is_hit in s.segments if is_hit]
    assert "敵機" in "".join(marked) or "敵機轟炸" in marked
    assert hit.title.html().startswith("<mark>敵機轟炸</mark>")


def test_title_outranks_full_text(loaded: SearchBackend) -> None:
    # 公私合营 is in the title of one record and only in passing elsewhere
    result = loaded.search(SearchRequest("公私合营"))
    assert codes(result)[0] == "X012-WS·1956-D30-0003"


def test_phrase_exclusion_and_fields(loaded: SearchBackend) -> None:
    assert codes(loaded.search(SearchRequest('"抗美援朝"'))) == ["X001-WS·1952-Y-0010"]
    with_exclusion = codes(loaded.search(SearchRequest("杨靖宇 -公私合营")))
    assert "X012-WS·1956-D30-0003" not in with_exclusion
    assert "J001-WS·1939-Y-0001" in with_exclusion
    # 杨靖宇 occurs in the body of the 公私合营 record, never in its title
    titled = codes(loaded.search(SearchRequest("题名:杨靖宇")))
    assert titled == ["J001-WS·1939-Y-0001"]
    by_creator = codes(loaded.search(SearchRequest("责任者:计划委员会")))
    assert set(by_creator) == {"X012-WS·1956-D30-0003", "X012-WS·1958-Y-0001"}


def test_filters_and_year_range(loaded: SearchBackend) -> None:
    by_fonds = loaded.search(SearchRequest("", filters=Filters(fonds=("X012",))))
    assert set(codes(by_fonds)) == {"X012-WS·1956-D30-0003", "X012-WS·1958-Y-0001"}
    in_query = loaded.search(SearchRequest("全宗:X012 合营"))
    assert codes(in_query) == ["X012-WS·1956-D30-0003"]
    wartime = loaded.search(SearchRequest("1937..1945"))
    assert set(codes(wartime)) == {"J001-WS·1939-Y-0001", "J001-WS·1939-Y-0002",
                                   "J017-001-002-003"}
    dated = loaded.search(SearchRequest("", filters=Filters(date_from=19390420,
                                                            date_to=19390430)))
    assert set(codes(dated)) == {"J001-WS·1939-Y-0001", "J017-001-002-003"}
    by_category = loaded.search(SearchRequest("", filters=Filters(category=("会计",))))
    assert codes(by_category) == ["X012-WS·1958-Y-0001"]


def test_facets_count_the_matching_public_records(loaded: SearchBackend) -> None:
    result = loaded.search(SearchRequest(""))
    assert result.total == len(PUBLIC_CODES)
    fonds = {v.value: v.count for v in result.facets["fonds"]}
    assert fonds == {"J001": 2, "J017": 1, "X001": 1, "X012": 2}
    decades = {v.label: v.count for v in result.facets["decade"]}
    assert decades == {"1930年代": 3, "1950年代": 3}
    assert "X099" not in fonds


def test_sorting_and_pagination(loaded: SearchBackend) -> None:
    by_date = codes(loaded.search(SearchRequest("", sort=SortOrder.DATE, size=10)))
    assert by_date[:3] == ["J001-WS·1939-Y-0001", "J017-001-002-003", "J001-WS·1939-Y-0002"]
    newest = codes(loaded.search(SearchRequest("", sort=SortOrder.DATE_DESC, size=1)))
    assert newest == ["X012-WS·1958-Y-0001"]
    pages = [codes(loaded.search(SearchRequest("", sort=SortOrder.CODE, size=2, page=p)))
             for p in (1, 2, 3, 4)]
    assert [c for page in pages for c in page] == sorted(PUBLIC_CODES)
    assert pages[3] == []


@pytest.mark.parametrize("query", ["杨靖宇", "秘密", "绝密方案", "纪念馆", "未审核", "机密"])
def test_public_gate_hides_everything_not_open(loaded: SearchBackend, query: str) -> None:
    result = loaded.search(SearchRequest(query))
    assert not set(codes(result, partial=True)) & SECRET_CODES
    for values in result.facets.values():
        assert all(v.value not in ("X099", "秘密机关") for v in values)
    assert all("机密" not in s.text for h in result.hits for s in h.snippets)
    # even asking for the status explicitly does not open the gate
    gated = loaded.search(SearchRequest(query, filters=Filters(
        open_status=(OpenStatus.CONTROLLED, OpenStatus.UNREVIEWED))))
    assert not set(codes(gated, partial=True)) & SECRET_CODES


def test_public_gate_on_get_and_count(loaded: SearchBackend) -> None:
    with pytest.raises(RecordNotFound):
        loaded.get("X001-WS·1985-Y-0099")
    assert loaded.get("X001-WS·1985-Y-0099", public=False).classification == "机密"
    assert loaded.count() == len(PUBLIC_CODES)
    assert loaded.count(public=False) == len(PUBLIC_CODES) + len(SECRET_CODES)
    staff = loaded.search(SearchRequest("杨靖宇", public=False))
    assert set(codes(staff)) >= SECRET_CODES


def test_get_returns_the_stored_record(loaded: SearchBackend,
                                       sample_records: list[Record]) -> None:
    assert loaded.get("J017-001-002-003") == sample_records[2]
    with pytest.raises(RecordNotFound):
        loaded.get("NO-SUCH-CODE")


def test_upsert_replaces_and_delete_removes(loaded: SearchBackend) -> None:
    loaded.upsert([record("J017-001-002-003", "防空洞修筑计划", "修筑防空洞十处。",
                          fonds="J017", year=1940)])
    assert codes(loaded.search(SearchRequest('"敌机轰炸"'))) == []
    assert codes(loaded.search(SearchRequest("防空洞"))) == ["J017-001-002-003"]
    assert loaded.count() == len(PUBLIC_CODES)
    # a record that becomes non-open disappears from public search at once
    loaded.upsert([record("J017-001-002-003", "防空洞修筑计划", "修筑防空洞十处。",
                          fonds="J017", open_status=OpenStatus.DEFERRED)])
    assert codes(loaded.search(SearchRequest("防空洞"))) == []
    assert loaded.delete(["J017-001-002-003", "NOT-THERE"]) == 1
    assert loaded.count(public=False) == len(PUBLIC_CODES) + len(SECRET_CODES) - 1
    assert codes(loaded.search(SearchRequest("防空洞", public=False))) == []


@pytest.mark.parametrize("query", [
    'AND OR NOT', '"unbalanced', "NEAR(a b)", "*", "col:val", "{title_bi}: x", "^", "-",
    "'; DROP TABLE records; --", "杨靖宇 OR", "(", ")", '""', "题名:", "全宗:", "..", "1937..",
    "\x00", "a" * 2000,
])
def test_any_input_is_safe(loaded: SearchBackend, query: str) -> None:
    result = loaded.search(SearchRequest(query))
    assert result.total >= 0
    assert not set(codes(result, partial=True)) & SECRET_CODES


def test_paging_parameters_are_validated(loaded: SearchBackend) -> None:
    with pytest.raises(BadQueryError) as err:
        loaded.search(SearchRequest("x", page=0))
    assert err.value.param == "page"
    with pytest.raises(BadQueryError) as err:
        loaded.search(SearchRequest("x", size=-1))
    assert err.value.param == "size"
    with pytest.raises(BadQueryError) as err:
        loaded.search(SearchRequest("x", facets=("secret",)))
    assert err.value.param == "facets"
    clamped = loaded.search(SearchRequest("", size=10_000))
    assert clamped.size == loaded.settings.search.max_size


def test_question_queries_rank_by_overlap(loaded: SearchBackend) -> None:
    result = loaded.search(SearchRequest("一九五二年各单位怎样响应抗美援朝捐献飞机大炮的号召？"))
    assert codes(result)[0] == "X001-WS·1952-Y-0010"


def test_partial_matches_follow_the_exact_ones(loaded: SearchBackend) -> None:
    none_exact = loaded.search(SearchRequest("杨靖宇 难民"))
    assert none_exact.relaxed and none_exact.exact_total == 0
    assert {"J001-WS·1939-Y-0001", "J001-WS·1939-Y-0002"} <= set(
        codes(none_exact, partial=True))
    result = loaded.search(SearchRequest("难民 米价", size=3))
    flags = [h.partial for h in result.hits]
    assert flags[0] is False and result.exact_total == 1
    assert flags == sorted(flags)  # exact first, then partial
    # the whole ranking on one page: its partial hits are exactly what total adds
    everything = loaded.search(SearchRequest("难民 米价", size=100))
    assert everything.total == len(everything.hits) == result.total
    assert everything.total - everything.exact_total == sum(h.partial for h in everything.hits)
    assert [h.record_id for h in everything.hits[:3]] == [h.record_id for h in result.hits]
    # page 2 continues the same ranking without repeating records
    page2 = loaded.search(SearchRequest("难民 米价", size=3, page=2))
    assert not {h.record_id for h in page2.hits} & {h.record_id for h in result.hits}
    # an explicit phrase is never relaxed
    assert not loaded.search(SearchRequest('"难民 米价 杨靖宇"')).relaxed


def test_dates_named_in_the_query_are_understood(loaded: SearchBackend) -> None:
    # 民国二十八年 = 1939: records dated 1939, or mentioning it in the text
    in_1939 = set(codes(loaded.search(SearchRequest("民国二十八年"))))
    assert in_1939 == {"J001-WS·1939-Y-0001", "J001-WS·1939-Y-0002", "J017-001-002-003"}
    assert codes(loaded.search(SearchRequest("民國廿八年 难民"))) == ["J001-WS·1939-Y-0002"]
    assert set(codes(loaded.search(SearchRequest("1950年代")))) == {
        "X001-WS·1952-Y-0010", "X012-WS·1956-D30-0003", "X012-WS·1958-Y-0001"}
    assert codes(loaded.search(SearchRequest("抗战时期 轰炸"))) == ["J017-001-002-003"]


# -- reading many, counting, iterating -----------------------------------------------------

def test_get_many_leaves_out_what_the_caller_may_not_see(loaded: SearchBackend) -> None:
    asked = ["J017-001-002-003", "X001-WS·1985-Y-0099", "NOPE-1", "J017-001-002-003"]
    public = loaded.get_many(asked)
    assert list(public) == ["J017-001-002-003"]
    assert public["J017-001-002-003"].title == "敵機轟炸市區損失調查表"
    staff = loaded.get_many(asked, public=False)
    assert set(staff) == {"J017-001-002-003", "X001-WS·1985-Y-0099"}
    assert staff["X001-WS·1985-Y-0099"].open_status is OpenStatus.CONTROLLED


def test_count_and_iterate_with_filters(loaded: SearchBackend) -> None:
    assert loaded.count(filters=Filters(fonds=("X012",))) == 2
    assert loaded.count(filters=Filters(fonds=("X099",))) == 0
    assert loaded.count(public=False, filters=Filters(fonds=("X099",))) == 2
    # a public caller cannot widen the gate through the filters
    sneaky = Filters(open_status=(OpenStatus.CONTROLLED,))
    assert loaded.count(filters=sneaky) == len(PUBLIC_CODES)
    assert {r.archival_code for r in loaded.iter_records(filters=sneaky)} == PUBLIC_CODES
    everything = [r.archival_code for r in loaded.iter_records(public=False)]
    assert set(everything) == PUBLIC_CODES | SECRET_CODES
    assert everything == sorted(everything)  # 档号 order (no numbers of different widths)
    dated = {r.archival_code for r in loaded.iter_records(
        filters=Filters(date_from=19390101, date_to=19391231))}
    assert dated == {"J001-WS·1939-Y-0001", "J001-WS·1939-Y-0002", "J017-001-002-003"}


def test_numbers_in_codes_sort_by_value(backend: SearchBackend) -> None:
    codes_ = ["C038-001-002-10", "C038-001-002-9", "C038-001-010-1", "C038-001-002-100"]
    backend.upsert([record(c, f"文件{c}") for c in codes_])
    expected = ["C038-001-002-9", "C038-001-002-10", "C038-001-002-100", "C038-001-010-1"]
    assert [r.archival_code for r in backend.iter_records()] == expected
    browsed = backend.browse(("local", "C038", "001", "002"))
    assert [r.archival_code for r in browsed.records] == expected[:3]
    assert [h.record_id for h in backend.search(
        SearchRequest("", sort=SortOrder.CODE)).hits] == expected


# -- status changes --------------------------------------------------------------------------

def test_status_change_moves_records_in_and_out_of_the_public_view(
        loaded: SearchBackend, monkeypatch: pytest.MonkeyPatch) -> None:
    from lantai.indexing import documents

    def no_analysis(*args: object, **kwargs: object) -> tuple[str, ...]:
        raise AssertionError("a status change must not analyse text again")

    monkeypatch.setattr(documents, "token_row", no_analysis)
    secret, opened = "X001-WS·1985-Y-0099", "J017-001-002-003"
    assert secret not in codes(loaded.search(SearchRequest("纪念馆扩建")), partial=True)
    before = loaded.count()
    report = loaded.update_status([
        StatusChange(secret, OpenStatus.OPEN, {"basis": "到期开放", "reviewer": "王"}),
        StatusChange(opened, OpenStatus.DEFERRED, {"basis": "涉及个人信息"}),
        StatusChange("NOPE-404", OpenStatus.OPEN),
    ])
    assert report.updated == 2 and report.missing == ("NOPE-404",)
    # the public view changed with the call: search, snippets, facets, counts, get
    found = loaded.search(SearchRequest("纪念馆扩建"))
    assert [h.record_id for h in found.hits] == [secret]
    assert any("纪念馆" in s.text for s in found.hits[0].snippets)
    assert dict((v.value, v.count) for v in found.facets["fonds"]) == {"X099": 1}
    assert loaded.get(secret).review == (("basis", "到期开放"), ("reviewer", "王"))
    with pytest.raises(RecordNotFound):
        loaded.get(opened)
    gone = loaded.search(SearchRequest("敌机轰炸"))
    assert gone.exact_total == 0 and opened not in codes(gone, partial=True)
    assert loaded.count() == before
    assert loaded.get(opened, public=False).open_status is OpenStatus.DEFERRED
    # the tokens were not touched: the record is still found by its text, for staff
    staff = loaded.search(SearchRequest("敌机轰炸", public=False))
    assert codes(staff) == [opened]
    # and the review fields survive a change that does not name them
    loaded.update_status([StatusChange(secret, OpenStatus.CONTROLLED)])
    assert loaded.get(secret, public=False).review == (("basis", "到期开放"), ("reviewer", "王"))
    assert secret not in codes(loaded.search(SearchRequest("纪念馆扩建")), partial=True)


def test_status_change_rejects_unknown_status(loaded: SearchBackend) -> None:
    with pytest.raises(BadQueryError) as raised:
        loaded.update_status([StatusChange("J017-001-002-003", "open")])  # type: ignore[arg-type]
    assert raised.value.param == "open_status"
    assert loaded.get("J017-001-002-003").is_public


# -- hierarchy ---------------------------------------------------------------------------

def test_browse_the_hierarchy(loaded: SearchBackend) -> None:
    root = loaded.browse()
    assert [(c.path, c.count) for c in root.children] == [(("local",), len(PUBLIC_CODES))]
    assert root.children[0].label == "本馆"
    archive = loaded.browse(("local",))
    assert [(c.value, c.count) for c in archive.children] == [
        ("J001", 2), ("J017", 1), ("X001", 1), ("X012", 2)]
    assert archive.count == len(PUBLIC_CODES)
    # volume-based 档号: 全宗 → 目录 → 案卷 → 件
    fonds = loaded.browse(("local", "J017"))
    assert [(c.value, c.level, c.count) for c in fonds.children] == [("001", Level.SERIES, 1)]
    series = loaded.browse(("local", "J017", "001"))
    assert [(c.value, c.level) for c in series.children] == [("002", Level.FILE)]
    assert series.records == () and series.records_total == 0
    volume = loaded.browse(("local", "J017", "001", "002"))
    assert [r.archival_code for r in volume.records] == ["J017-001-002-003"]
    assert volume.children == () and volume.count == 1
    # file-based 档号: the 门类·年度·保管期限 group is the 目录 and files hang under it
    j001 = loaded.browse(("local", "J001"))
    assert [(c.value, c.label) for c in j001.children] == [("WS·1939·Y", "文书·1939·永久")]
    group = loaded.browse(("local", "J001", "WS·1939·Y"))
    assert [r.archival_code for r in group.records] == [
        "J001-WS·1939-Y-0001", "J001-WS·1939-Y-0002"]
    assert group.records_total == 2 and group.children == ()
    paged = loaded.browse(("local", "J001", "WS·1939·Y"), page=2, size=1)
    assert [r.archival_code for r in paged.records] == ["J001-WS·1939-Y-0002"]


def test_browse_counts_only_what_the_caller_may_see(loaded: SearchBackend) -> None:
    with pytest.raises(NodeNotFound):
        loaded.browse(("local", "X099"))  # holds only non-open records
    with pytest.raises(NodeNotFound):
        loaded.browse(("local", "NOPE"))
    staff = loaded.browse(("local", "X099"), public=False)
    assert staff.count == 2
    assert loaded.browse(("local",), public=False).count == len(PUBLIC_CODES | SECRET_CODES)
    for bad, param in ((("local", ""), "path"), (("a", "b", "c", "d", "e"), "path")):
        with pytest.raises(BadQueryError) as raised:
            loaded.browse(bad)
        assert raised.value.param == param
    with pytest.raises(BadQueryError) as raised:
        loaded.browse(("local",), size=10_000)
    assert raised.value.param == "size"


def test_catalog_columns_win_over_the_code(backend: SearchBackend) -> None:
    backend.upsert([
        record("Q-7", "无规范档号的文件", fonds="Q", catalog_no="3", volume_no="12",
               archive="A44"),
        record("Q-8", "同一案卷", fonds="Q", catalog_no="3", volume_no="12", archive="A44"),
    ])
    assert [c.value for c in backend.browse().children] == ["A44"]
    volume = backend.browse(("A44", "Q", "3", "12"))
    assert [r.archival_code for r in volume.records] == ["Q-7", "Q-8"]
    assert backend.count(filters=Filters(archive=("A44",), series=("3",), file=("12",))) == 2


# -- labels and capabilities -----------------------------------------------------------------

def test_fonds_labels_show_in_facets_and_browse(loaded: SearchBackend) -> None:
    assert loaded.facet_label("fonds", "J017") == "J017"
    loaded.set_labels("fonds", {"J017": "安澜市防空司令部", "J001": "安澜市政府"})
    facets = loaded.search(SearchRequest("")).facets
    labels = {v.value: v.label for v in facets["fonds"]}
    assert labels["J017"] == "安澜市防空司令部" and labels["X012"] == "X012"
    assert {v.value: v.label for v in facets["decade"]}["1930"] == "1930年代"
    children = {c.value: c.label for c in loaded.browse(("local",)).children}
    assert children["J017"] == "J017 安澜市防空司令部"
    assert loaded.metadata()["labels"]["fonds"]["J001"] == "安澜市政府"
    with pytest.raises(BadQueryError):
        loaded.set_labels("colour", {"a": "b"})
    # labels survive a rebuild
    loaded.rebuild(list(loaded.iter_records(public=False)))
    assert loaded.facet_label("fonds", "J017") == "安澜市防空司令部"
    assert loaded.count(public=False) == len(PUBLIC_CODES | SECRET_CODES)


def test_capabilities_are_declared(loaded: SearchBackend) -> None:
    health = loaded.health()
    assert health["public_records"] == len(PUBLIC_CODES)
    assert health["records"] == len(PUBLIC_CODES | SECRET_CODES)
    assert loaded.has(Capability.VECTORS) is False
    if loaded.has(Capability.OPTIMIZE):
        loaded.optimize()
    else:
        with pytest.raises(Unsupported):
            loaded.optimize()
    assert loaded.has(Capability.ONLINE_REBUILD) is (loaded.name == "elasticsearch")
    report = loaded.rebuild([record("Z1-1", "重建后的唯一文件")])
    assert report.indexed == 1
    assert [r.archival_code for r in loaded.iter_records(public=False)] == ["Z1-1"]
    loaded.drop()
    assert loaded.count(public=False) == 0


def test_browse_counts_follow_every_write(loaded: SearchBackend) -> None:
    def tree_counts(public: bool) -> dict[str, int]:
        node = loaded.browse(("local",), public=public)
        return {c.value: c.count for c in node.children}

    def counted(public: bool) -> dict[str, int]:
        fonds = {loaded.path_of(r).fonds for r in loaded.iter_records(public=False)}
        found = {f: loaded.count(public=public, filters=Filters(fonds=(f,))) for f in fonds}
        return {f: n for f, n in found.items() if n}

    loaded.update_status([StatusChange("X001-WS·1985-Y-0099", OpenStatus.OPEN)])
    loaded.upsert([record("J017-001-002-003", "改题名并移入新全宗", fonds="J099",
                          open_status=OpenStatus.CONTROLLED)])
    loaded.delete(["X012-WS·1958-Y-0001"])
    loaded.upsert([record("J017-001-002-004", "新增一件")])
    for public in (True, False):
        assert tree_counts(public) == counted(public)
    assert tree_counts(True)["X099"] == 1 and "J099" not in tree_counts(True)


def test_subjects_are_a_facet_with_several_values_per_record(backend: SearchBackend) -> None:
    backend.upsert([
        record("S1-001-001-1", "救济难民报告", "难民", subjects=("救济", "难民")),
        record("S1-001-001-2", "难民收容所名册", "难民", subjects=("难民", "收容")),
        record("S1-001-001-3", "秘密的难民报告", "难民", subjects=("难民", "机密"),
               open_status=OpenStatus.CONTROLLED),
        record("S1-001-001-4", "无主题词的文件", "难民"),
    ])
    result = backend.search(SearchRequest("难民", facets=("subject", "fonds")))
    assert list(result.facets) == ["subject", "fonds"]
    assert [(v.value, v.count) for v in result.facets["subject"]] == [
        ("难民", 2), ("收容", 1), ("救济", 1)]
    browsing = backend.search(SearchRequest("", facets=("subject",)))
    assert dict((v.value, v.count) for v in browsing.facets["subject"]) == {
        "难民": 2, "收容": 1, "救济": 1}
    staff = backend.search(SearchRequest("难民", facets=("subject",), public=False))
    assert dict((v.value, v.count) for v in staff.facets["subject"])["机密"] == 1
    chosen = backend.search(SearchRequest("", filters=Filters(subject=("收容", "救济"))))
    assert sorted(codes(chosen)) == ["S1-001-001-1", "S1-001-001-2"]
    assert backend.count(filters=Filters(subject=("机密",))) == 0
    # a replaced record's subjects are replaced too
    backend.upsert([record("S1-001-001-2", "难民收容所名册", "难民", subjects=("名册",))])
    again = backend.search(SearchRequest("难民", facets=("subject",)))
    assert dict((v.value, v.count) for v in again.facets["subject"]) == {
        "难民": 1, "救济": 1, "名册": 1}
