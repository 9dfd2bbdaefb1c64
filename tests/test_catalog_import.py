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


# ----------------------------------------------------------------- nothing is lost silently
FIXTURES = Path(__file__).parent / "fixtures" / "import"


def accounted(report: ImportReport) -> set[int]:
    """Rows the report rejects."""
    return {i.row for i in report.errors}


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "gb18030"])
def test_messy_csv_every_row_is_imported_or_reported(tmp_path: Path, encoding: str) -> None:
    text = (FIXTURES / "messy.csv").read_text(encoding="utf-8")
    records, report = rows(write(tmp_path / "c.csv", text, encoding))
    assert [r.archival_code[-4:] for r in records] == [
        "0001", "0002", "0004", "0005", "0006", "0007", "0008"]
    assert records[1].notes == "附注第一行\n附注第二行"  # a closed multi-line value is kept
    assert records[2].title == "关于市场物价的报告"  # not swallowed by row 5's quote
    errors = {(i.row, i.column): i.reason for i in report.errors}
    assert set(errors) == {(5, "题名"), (11, ""), (12, ""), (13, "年度")}
    assert "unclosed quote" in errors[(5, "题名")]
    assert errors[(11, "")].startswith("3 cells but the header has 6 columns")
    assert errors[(12, "")].startswith("7 cells but the header has 6 columns")
    assert report.rows == 11 and report.imported == 7
    assert report.imported + len(accounted(report)) == report.rows


def test_nul_byte_rejects_its_row_only(tmp_path: Path) -> None:
    text = (FIXTURES / "messy.csv").read_text(encoding="utf-8")
    damaged = text.replace("关于税收工作的指示", "关于税收\x00工作的指示")
    records, report = rows(write(tmp_path / "c.csv", damaged))
    assert "J001-WS·1950-Y-0005" not in {r.archival_code for r in records}
    assert len(records) == 6
    (nul,) = [i for i in report.errors if "NUL" in i.reason]
    assert (nul.row, nul.column) == (7, "题名")
    assert all("\x00" not in r.title for r in records)


def test_unclosed_quote_closed_by_a_later_quote_rejects_only_its_row(tmp_path: Path) -> None:
    # the stray quote on row 2 is "closed" by the first quote of row 4: the csv module would
    # read rows 2-4 as one record with a very long 题名
    body = ("档号,题名,年度\n"
            'A1-001-001-001,"没有收尾,1950\n'
            "A1-001-001-002,乙,1950\n"
            'A1-001-001-003,"丙,有逗号",1950\n'
            "A1-001-001-004,丁,1950\n")
    records, report = rows(write(tmp_path / "c.csv", body))
    assert [(r.archival_code, r.title) for r in records] == [
        ("A1-001-001-002", "乙"), ("A1-001-001-003", "丙,有逗号"), ("A1-001-001-004", "丁")]
    (error,) = report.errors
    assert (error.row, error.column) == (2, "题名")
    assert "line 3" in error.reason  # names the first swallowed line


@pytest.mark.parametrize("newline", ["\n", "\r\n"])
def test_quoted_line_breaks_stay_one_value(tmp_path: Path, newline: str) -> None:
    body = newline.join([
        "附注,档号,题名,年度",
        '"第一行', '第二行,有逗号",A1-001-001-001,甲,1950',      # note in the first column
        '"",A1-001-001-002,"乙', '续",1950',                      # 题名 over two lines
        "",
        "",
    ])
    records, report = rows(write(tmp_path / "c.csv", body))
    assert report.issues == []
    assert [(r.archival_code, r.title, r.notes) for r in records] == [
        ("A1-001-001-001", "甲", f"第一行{newline}第二行,有逗号"),
        ("A1-001-001-002", f"乙{newline}续", "")]


def test_a_note_that_swallows_archival_code_lines_is_reported(tmp_path: Path) -> None:
    # closed in the end, but lines 3-4 inside it are rows in their own right
    body = ("档号,题名,附注\n"
            'A1-001-001-001,甲,"备注\n'
            "A1-001-001-002,乙,\n"
            'A1-001-001-003,丙,完"\n'
            "A1-001-001-004,丁,\n")
    records, report = rows(write(tmp_path / "c.csv", body))
    assert [(r.archival_code, r.notes) for r in records] == [
        ("A1-001-001-002", ""), ("A1-001-001-003", '完"'), ("A1-001-001-004", "")]
    assert {(i.row, i.column) for i in report.errors} == {(2, "附注")}
    assert report.imported + len(accounted(report)) == report.rows == 4


def test_trailing_empty_cells_are_an_error_too(tmp_path: Path) -> None:
    # "甲,乙" in one unquoted 题名 with an empty last column: the row has one empty cell too
    # many and every value after 题名 has moved one column to the right
    body = "档号,题名,责任者,年度,附注\nA1-001-001-001,关于甲,乙的报告,市政府,1950,\n"
    records, report = rows(write(tmp_path / "c.csv", body))
    assert records == []
    assert report.errors[0].row == 2 and "6 cells" in report.errors[0].reason


def test_empty_and_repeated_headers_keep_their_values(tmp_path: Path) -> None:
    body = "档号,题名,备考,,备考\nA1-001-001-001,甲,一,二,三\n"
    (record,), report = rows(write(tmp_path / "c.csv", body))
    assert report.issues == []
    assert dict(record.extra) == {"备考": "一", "第4列": "二", "备考 (第5列)": "三"}


def test_jsonl_line_separator_inside_a_string_is_not_a_new_line(tmp_path: Path) -> None:
    lines = [json.dumps({"档号": "A1-001-001-001", "题名": "甲\u2028乙\f丙"}, ensure_ascii=False),
             json.dumps({"档号": "A1-001-001-002", "题名": "丁"}, ensure_ascii=False)]
    path = tmp_path / "c.jsonl"
    path.write_text("\r\n".join(lines) + "\r\n", encoding="utf-8")
    records, report = rows(path)
    assert [r.title for r in records] == ["甲\u2028乙\f丙", "丁"]
    assert report.issues == [] and report.rows == 2


def messy_catalog(seed: int, n: int) -> tuple[str, dict[str, int], dict[int, str]]:
    """A CSV of ``n`` data rows with random defects: (text, 档号 → row of the rows that must
    import, row → 档号 of the rows that must be rejected)."""
    import random

    rnd = random.Random(seed)
    lines = ["档号,题名,年度,附注"]
    good: dict[str, int] = {}
    bad: dict[int, str] = {}
    for k in range(n):
        code = f"B{k % 7}-{k:03d}-001-001"
        row = sum(line.count("\n") + 1 for line in lines) + 1  # physical line it starts on
        kind = rnd.choice(["good", "good", "quoted", "multiline", "unclosed", "unclosed_last",
                           "short", "long", "nul", "no_title", "no_code", "bad_year"])
        text = {
            "good": f"{code},题{k},1950,",
            "quoted": f'{code},"题,{k}",1950,"注""{k}"""',
            "multiline": f'{code},题{k},1950,"注{k}\n续{k}"',
            "unclosed": f'{code},"题{k},1950,',
            "unclosed_last": f'{code},题{k},1950,"注{k}',
            "short": f"{code},题{k}",
            "long": f"{code},题{k},1950,,多",
            "nul": f"{code},题\x00{k},1950,",
            "no_title": f"{code},,1950,",
            "no_code": f",题{k},1950,",
            "bad_year": f"{code},题{k},五〇,",
        }[kind]
        lines.append(text)
        if kind in ("good", "quoted", "multiline"):
            good[code] = row
        else:
            bad[row] = code
    return "\n".join(lines) + "\n", good, bad


@pytest.mark.parametrize("seed", range(5))
def test_round_trip_every_row_is_a_record_or_an_error(tmp_path: Path, seed: int) -> None:
    text, good, bad = messy_catalog(seed, 120)
    records, report = rows(write(tmp_path / "c.csv", text, "gb18030"))
    assert {r.archival_code for r in records} == set(good)
    assert accounted(report) == set(bad)  # each rejected row named on its own line
    assert len(records) + len(accounted(report)) == 120 == report.rows


# ----------------------------------------------------------------- XLSX
def patch_sheet(path: Path, old: bytes, new: bytes) -> None:
    """Replace bytes in the first sheet's XML (to write what openpyxl cannot: a formula's
    saved result, a bad <dimension>), as Excel or another exporter would have written it."""
    import zipfile

    with zipfile.ZipFile(path) as src:
        parts = {name: src.read(name) for name in src.namelist()}
    sheet = parts["xl/worksheets/sheet1.xml"]
    assert sheet.count(old) == 1, old
    parts["xl/worksheets/sheet1.xml"] = sheet.replace(old, new)
    with zipfile.ZipFile(path, "w") as out:
        for name, data in parts.items():
            out.writestr(name, data)


def test_xlsx_formulas_use_saved_results_and_report_every_formula(tmp_path: Path) -> None:
    from openpyxl import Workbook

    book = Workbook()
    sheet = book.active
    sheet.append(["档号", "题名", "年度", "附注"])
    sheet.append(["A1-001-001-001", "甲", "=1949+1", None])           # saved result
    sheet.append(["A1-001-001-002", '="乙"&"丙"', 1950, None])       # never calculated
    sheet.append(["A1-001-001-003", "丁", 1950, "#REF!"])             # an error value
    sheet.append(["A1-001-001-004", "戊", 1950, "=D99"])              # result: empty string
    path = tmp_path / "c.xlsx"
    book.save(path)
    # openpyxl never computes formulas; a spreadsheet program saves each one's last result
    patch_sheet(path, b"<f>1949+1</f><v />", b"<f>1949+1</f><v>1950</v>")
    patch_sheet(path, b'<c r="D5"><f>D99</f><v /></c>', b'<c r="D5" t="str"><f>D99</f><v></v></c>')
    records, report = rows(path)
    assert [(r.archival_code, r.year) for r in records] == [
        ("A1-001-001-001", 1950), ("A1-001-001-004", 1950)]
    errors = {(i.row, i.column): i.reason for i in report.errors}
    assert set(errors) == {(3, "题名"), (4, "附注")}
    assert "B3" in errors[(3, "题名")] and "no saved result" in errors[(3, "题名")]
    assert "#REF!" in errors[(4, "附注")] and "D4" in errors[(4, "附注")]
    warnings = {(i.row, i.column): i.reason for i in report.warnings}
    assert set(warnings) == {(2, "年度"), (5, "附注")}
    assert "=1949+1" in warnings[(2, "年度")] and "'1950'" in warnings[(2, "年度")]


def test_xlsx_merged_cells_are_filled_down_and_reported(tmp_path: Path) -> None:
    from openpyxl import Workbook

    book = Workbook()
    sheet = book.active
    sheet.append(["全宗号", "年度", "档号", "题名", "附注"])
    sheet.append(["J001", 1950, "J001-WS·1950-Y-0001", "甲", "跨两列的附注"])
    sheet.append([None, None, "J001-WS·1950-Y-0002", "乙"])
    sheet.append([None, 1951, "J001-WS·1951-Y-0001", "丙"])
    sheet.append([])  # nothing but the merged 全宗号: stays a blank line
    sheet.append(["J002", 1952, "J002-WS·1952-Y-0001", "丁"])
    sheet.merge_cells("A2:A5")
    sheet.merge_cells("B2:B3")
    sheet.merge_cells("E2:F2")
    book.save(tmp_path / "c.xlsx")
    records, report = rows(tmp_path / "c.xlsx")
    assert [(r.archival_code, r.fonds, r.year) for r in records] == [
        ("J001-WS·1950-Y-0001", "J001", 1950), ("J001-WS·1950-Y-0002", "J001", 1950),
        ("J001-WS·1951-Y-0001", "J001", 1951), ("J002-WS·1952-Y-0001", "J002", 1952)]
    assert report.errors == [] and report.rows == 4
    warnings = {(i.row, i.column): i.reason for i in report.warnings}
    assert set(warnings) == {(2, "全宗号"), (2, "年度"), (2, "附注")}
    assert "A2:A5" in warnings[(2, "全宗号")] and "rows 3–5" in warnings[(2, "全宗号")]
    assert "B2:B3" in warnings[(2, "年度")]
    assert "E2:F2" in warnings[(2, "附注")] and "filled" not in warnings[(2, "附注")]


def test_xlsx_other_sheets_and_a_wrong_dimension_lose_nothing_silently(tmp_path: Path) -> None:
    from openpyxl import Workbook

    book = Workbook()
    sheet = book.active
    sheet.append(["档号", "题名", "附注"])
    for k in range(1, 6):
        sheet.append([f"A1-001-001-{k:03d}", f"题{k}", f"注{k}"])
    book.create_sheet("1951年")["A1"] = "档号"
    book.create_sheet("空表")
    path = tmp_path / "c.xlsx"
    book.save(path)
    # some exporters write a too-small <dimension>; openpyxl's read-only mode trusts it
    patch_sheet(path, b'<dimension ref="A1:C6"', b'<dimension ref="A1:B2"')
    records, report = rows(path)
    assert [r.notes for r in records] == [f"注{k}" for k in range(1, 6)]
    (warning,) = report.warnings
    assert warning.row == 0 and "'1951年'" in warning.reason and "空表" not in warning.reason
    assert str(warning).startswith(f"{path}: only the first sheet")


@pytest.mark.parametrize("seed", range(3))
def test_xlsx_round_trip_every_row_is_a_record_or_an_error(tmp_path: Path, seed: int) -> None:
    import random

    from openpyxl import Workbook

    rnd = random.Random(seed)
    book = Workbook()
    sheet = book.active
    sheet.append(["档号", "题名", "年度"])
    good: set[str] = set()
    bad: set[int] = set()
    for k in range(80):
        code, row = f"C{k % 5}-{k:03d}-001-001", k + 2
        kind = rnd.choice(["good", "good", "formula", "extra", "no_title", "error"])
        cells: list[object] = {
            "good": [code, f"题{k}", 1950],
            "formula": [code, f'="题"&"{k}"', 1950],
            "extra": [code, f"题{k}", 1950, "表头外"],
            "no_title": [code, None, 1950],
            "error": [code, "#N/A", 1950],
        }[kind]
        sheet.append(cells)
        if kind == "good":
            good.add(code)
        else:
            bad.add(row)
    book.save(tmp_path / "c.xlsx")
    records, report = rows(tmp_path / "c.xlsx")
    assert {r.archival_code for r in records} == good
    assert accounted(report) == bad
    assert len(records) + len(accounted(report)) == 80 == report.rows


def test_read_archival_codes_lists_the_column_even_of_rejected_rows(tmp_path: Path) -> None:
    from lantai.indexing.catalog_import import read_archival_codes

    path = write(tmp_path / "c.csv", "题名,档号\n甲,jb_3797\n,jb_3798\n乙,\n")
    assert read_archival_codes(path) == ["jb_3797", "jb_3798"]
