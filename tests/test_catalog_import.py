"""Catalog import: formats, encodings, headers, and every bad-input case with a clear message."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from lantai.catalog.model import OpenStatus
from lantai.errors import ImportFailed
from lantai.indexing.catalog_import import ImportReport, read_catalog
from lantai.indexing.service import index_catalog, open_backend
from lantai.search.backends.base import SearchRequest

HEADER = "档号,全宗号,题名,责任者,日期,年度,页数,开放标识,主题词,馆藏位置\n"
GOOD = ("J001-WS·1947-Y-0001,J001,關於救濟難民的呈,安瀾市政府,民国三十六年三月十二日,1947,3,"
        "开放,救济;难民,一号库\n")


def write(path: Path, text: str, encoding: str = "utf-8") -> Path:
    path.write_bytes(text.encode(encoding))
    return path


def rows(path: Path, **kw) -> tuple[list, ImportReport]:  # type: ignore[no-untyped-def]
    report = ImportReport(str(path))
    return list(read_catalog(path, report=report, **kw)), report


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "gb18030"])
def test_csv_encodings(tmp_path: Path, encoding: str) -> None:
    records, report = rows(write(tmp_path / "c.csv", HEADER + GOOD, encoding))
    assert len(records) == 1 and report.issues == []
    rec = records[0]
    assert rec.title == "關於救濟難民的呈"
    assert (rec.date_start, rec.date_end) == (19470312, 19470312)
    assert rec.date_text == "民国三十六年三月十二日"
    assert rec.open_status is OpenStatus.OPEN
    assert rec.subjects == ("救济", "难民")
    assert rec.extra == (("馆藏位置", "一号库"),)  # unknown columns are kept, not lost


def test_xlsx_and_english_headers(tmp_path: Path) -> None:
    from openpyxl import Workbook

    book = Workbook()
    sheet = book.active
    sheet.append(["archival_code", "title", "year", "open_status"])
    sheet.append(["C038-001-002-003", "生产报表", 1956, "开放"])
    book.save(tmp_path / "c.xlsx")
    records, _ = rows(tmp_path / "c.xlsx")
    assert [(r.archival_code, r.year, r.fonds) for r in records] == [
        ("C038-001-002-003", 1956, "C038")]


def test_jsonl(tmp_path: Path) -> None:
    lines = [{"档号": "A1-001-001-001", "题名": "甲", "人名": ["杨靖宇", "赵一曼"]},
             "not json", [1, 2]]
    path = tmp_path / "c.jsonl"
    path.write_text("\n".join(x if isinstance(x, str) else json.dumps(x, ensure_ascii=False)
                              for x in lines), encoding="utf-8")
    records, report = rows(path)
    assert records[0].persons == ("杨靖宇", "赵一曼")
    assert [(i.row, i.reason.split(":")[0]) for i in report.errors] == [
        (2, "invalid JSON"), (3, "line is not a JSON object")]


def test_mapping_file_for_local_headers(tmp_path: Path) -> None:
    mapping = write(tmp_path / "m.toml", '[columns]\n"案卷级档号" = "档号"\n"文件名称" = "title"\n')
    catalog = write(tmp_path / "c.csv", "案卷级档号,文件名称\nA1-001-001-001,会议记录\n")
    from lantai.indexing.catalog_import import load_mapping

    records, _ = rows(catalog, mapping=load_mapping(mapping))
    assert records[0].title == "会议记录"
    bad = write(tmp_path / "bad.toml", '[columns]\n"x" = "no_such_field"\n')
    with pytest.raises(ImportFailed, match="no_such_field"):
        load_mapping(bad)


def test_each_bad_row_is_reported_with_file_row_column_reason(tmp_path: Path) -> None:
    body = (HEADER + GOOD
            + ",J001,无档号,,,,,开放,,\n"                                  # row 3
            + "J001-WS·1947-Y-0002,J001,,,,,,开放,,\n"                      # row 4: no title
            + "J001-WS·1947-Y-0003,J001,甲,,,47年,,开放,,\n"                # row 5: bad year
            + "J001-WS·1947-Y-0004,J001,乙,,,1947,三页,开放,,\n"            # row 6: bad pages
            + "J001-WS·1947-Y-0005,J001,丙,,,1947,,半开放,,\n"              # row 7: bad status
            + "J001-WS·1947-Y-0001,J001,重复,,,1947,,开放,,\n"              # row 8: duplicate
            + "J001 WS 1947,J001,丁,,,1947,,开放,,\n"                       # row 9: spaces
            + "J001-WS·1947-Y-0006,J001,戊,,年代不详,1947,,开放,,\n"        # row 10: warning
            + "J001-WS·1947-Y-0007,J001,己,,,1947,,开放,,,extra,cells\n")   # row 11
    path = write(tmp_path / "c.csv", body)
    records, report = rows(path)
    assert [r.archival_code for r in records] == ["J001-WS·1947-Y-0001", "J001-WS·1947-Y-0006"]
    errors = {(i.row, i.column): i.reason for i in report.errors}
    assert errors[(3, "档号")] == "档号 is empty"
    assert errors[(4, "题名")] == "题名 is empty"
    assert "47年" in errors[(5, "年度")]
    assert "三页" in errors[(6, "页数")]
    assert "半开放" in errors[(7, "开放标识")]
    assert "first on row 2" in errors[(8, "档号")]
    assert "whitespace" in errors[(9, "档号")]
    assert "12 cells" in errors[(11, "")]
    (warning,) = report.warnings
    assert (warning.row, warning.column) == (10, "日期")
    assert "年代不详" in warning.reason and "1947" in warning.reason
    assert str(report.errors[0]).startswith(f"{path}, row 3, column 档号:")
    assert records[1].year == 1947 and records[1].date_text == "年代不详"


@pytest.mark.parametrize(("name", "content", "message"), [
    ("missing.csv", None, "catalog file not found"),
    ("c.pdf", b"%PDF", "unsupported catalog format"),
    ("c.csv", b"", "empty"),
    ("c.csv", "题名,年度\n甲,1947\n".encode(), "no 档号 column"),
    ("c.csv", "档号,檔號\nA,B\n".encode(), "both map to archival_code"),
    ("c.csv", b"\xff\xfe\x00\xd8\x00\x00\xff\xff\x81", "encoding"),
    ("c.xlsx", b"not a zip", "not a readable XLSX"),
])
def test_unreadable_catalogs_fail_naming_the_file(tmp_path: Path, name: str,
                                                  content: bytes | None, message: str) -> None:
    path = tmp_path / name
    if content is not None:
        path.write_bytes(content)
    with pytest.raises(ImportFailed, match=message) as err:
        list(read_catalog(path))
    assert str(path) in str(err.value)


def test_text_dir_pages_and_idempotent_reimport(tmp_path: Path, make_settings) -> None:  # type: ignore[no-untyped-def]
    settings = make_settings()
    texts = tmp_path / "text"
    (texts / "C038-001-002-003").mkdir(parents=True)
    (texts / "C038-001-002-003" / "p10.txt").write_text("第十页 杨靖宇", encoding="utf-8")
    (texts / "C038-001-002-003" / "p2.txt").write_text("第二页", encoding="gb18030")
    (texts / "J001-WS·1947-Y-0001.txt").write_text("一页\f二页", encoding="utf-8")
    catalog = write(tmp_path / "c.csv",
                    HEADER + GOOD + "C038-001-002-003,C038,报表,,,1956,,开放,,\n")
    for _ in range(2):
        outcome = index_catalog(settings, catalog, text_dir=texts)
        assert outcome.index.indexed == 2
        assert outcome.report_path is not None and outcome.report_path.is_file()
    with open_backend(settings) as backend:
        assert backend.count() == 2
        rec = backend.get("C038-001-002-003")
        assert rec.pages == ("第二页", "第十页 杨靖宇")  # natural order, GB18030 decoded
        hit = backend.search(SearchRequest("杨靖宇")).hits[0]
        assert hit.snippets[0].page == 2
        assert backend.get("J001-WS·1947-Y-0001").pages == ("一页", "二页")


def test_strict_mode_imports_nothing_when_any_row_is_bad(tmp_path: Path,
                                                         make_settings) -> None:  # type: ignore[no-untyped-def]
    settings = make_settings()
    catalog = write(tmp_path / "c.csv", HEADER + GOOD + ",J001,无档号,,,,,开放,,\n")
    with pytest.raises(ImportFailed, match=r"(?s)--strict: 1 bad row.*row 3, column 档号"):
        index_catalog(settings, catalog, strict=True)
    with open_backend(settings) as backend:
        assert backend.count(public=False) == 0
    outcome = index_catalog(settings, catalog)
    assert outcome.index.indexed == 1
    saved = json.loads(outcome.report_path.read_text(encoding="utf-8"))
    assert saved["rejected"] == 1 and saved["issues"][0]["row"] == 3
