"""The demo archive generator: format, determinism, shares and scripts of the sample archive."""

from __future__ import annotations

import csv
import re
import time
from collections import Counter
from pathlib import Path

import opencc
import pytest

from lantai.demo import CATALOG_HEADERS, SampleArchive, generate_sample_archive, safe_filename
from lantai.demo.generate import _cn_number, _load_data, _Loader, main, text_filename
from lantai.errors import ConfigError

N = 400
# The header line of the export, verbatim as the archive's catalog system writes it.
HEADER_LINE = (
    "档号,全宗号,全宗名称,目录号,案卷号,件号,门类,年度,题名,责任者,文号,日期,页数,密级,"
    "保管期限,开放标识,公开属性,主题词,人名,附注,载体形态,语种"
)
EXPECTED_HEADERS = HEADER_LINE.split(",")
FILE_LEVEL_ID = re.compile(r"^[A-Z]\d{3}-(WS|KJ|KU|SX|SW)·(19\d\d)-(Y|C|D|D30|D10)-\d{4}$")
VOLUME_ID = re.compile(r"^[A-Z]\d{3}-\d{3}-\d{3}-\d{3}(/\d)?$")

T2S = opencc.OpenCC("t2s")
S2T = opencc.OpenCC("s2t")


@pytest.fixture(scope="module")
def archive(tmp_path_factory: pytest.TempPathFactory) -> SampleArchive:
    return generate_sample_archive(tmp_path_factory.mktemp("demo"), n_records=N, seed=7)


@pytest.fixture(scope="module")
def rows(archive: SampleArchive) -> list[dict[str, str]]:
    with archive.catalog_csv.open(encoding="utf-8-sig", newline="") as fh:
        return list(csv.DictReader(fh))


def _texts(archive: SampleArchive, rows: list[dict[str, str]]) -> dict[str, str]:
    return {
        r["档号"]: archive.text_path(r["档号"]).read_text(encoding="utf-8")
        for r in rows
        if archive.text_path(r["档号"]).is_file()
    }


def _tree(root: Path) -> dict[str, bytes]:
    return {
        str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()
    }


def test_catalog_is_excel_style_utf8_with_exact_headers(archive: SampleArchive) -> None:
    raw = archive.catalog_csv.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf"), "Excel writes a UTF-8 BOM"
    assert b"\r\n" in raw
    header = next(csv.reader(raw.decode("utf-8-sig").splitlines()))
    assert header == EXPECTED_HEADERS
    assert list(CATALOG_HEADERS) == EXPECTED_HEADERS


def test_row_count_and_fonds(archive: SampleArchive, rows: list[dict[str, str]]) -> None:
    assert archive.n_records == N
    assert len(rows) == N
    fonds = Counter(r["全宗号"] for r in rows)
    assert 4 <= len(fonds) <= 6
    assert all(count >= N // 20 for count in fonds.values()), fonds
    assert all(len(r) == len(EXPECTED_HEADERS) and None not in r for r in rows)


def test_archive_ids_are_unique_and_follow_da_t_13(rows: list[dict[str, str]]) -> None:
    ids = [r["档号"] for r in rows]
    assert len(set(ids)) == len(ids)
    for r in rows:
        file_level = FILE_LEVEL_ID.match(r["档号"])
        if file_level:
            assert r["目录号"] == "" and r["案卷号"] == ""
            assert file_level.group(2) == r["年度"]
            assert r["档号"].endswith(r["件号"])
        else:
            assert VOLUME_ID.match(r["档号"]), r["档号"]
            assert r["档号"] == f"{r['全宗号']}-{r['目录号']}-{r['案卷号']}-{r['件号']}"
    assert any(VOLUME_ID.match(i) for i in ids) and any(FILE_LEVEL_ID.match(i) for i in ids)


def test_generation_is_deterministic(tmp_path: Path) -> None:
    first = generate_sample_archive(tmp_path / "a", n_records=120, seed=11)
    second = generate_sample_archive(tmp_path / "b", n_records=120, seed=11)
    tree_a, tree_b = _tree(tmp_path / "a"), _tree(tmp_path / "b")
    assert tree_a == tree_b
    assert first.text_ids == second.text_ids
    other = generate_sample_archive(tmp_path / "c", n_records=120, seed=12)
    assert other.catalog_csv.read_bytes() != first.catalog_csv.read_bytes()


def test_share_of_non_open_records(rows: list[dict[str, str]]) -> None:
    flags = Counter(r["开放标识"] for r in rows)
    assert set(flags) <= {"开放", "控制", "延期开放", "未审核"}
    closed = N - flags["开放"]
    assert closed == round(0.15 * N)
    assert {"控制", "延期开放", "未审核"} <= set(flags)
    secret = [r for r in rows if r["密级"] in ("秘密", "机密")]
    assert secret, "a few records should be classified"
    assert all(r["开放标识"] != "开放" for r in secret)
    assert Counter(r["密级"] for r in rows if r["开放标识"] == "开放").keys() <= {
        "",
        "公开",
        "内部",
    }


def test_text_files_exist_exactly_for_the_expected_rows(
    archive: SampleArchive, rows: list[dict[str, str]]
) -> None:
    on_disk = {p.name for p in archive.text_dir.iterdir()}
    assert on_disk == {text_filename(i) for i in archive.text_ids}
    catalog_ids = {r["档号"] for r in rows}
    assert set(archive.text_ids) <= catalog_ids
    assert 0.6 <= len(archive.text_ids) / N <= 0.8
    by_id = {r["档号"]: r for r in rows}
    for archive_id in archive.text_ids:
        assert by_id[archive_id]["门类"] in ("文书", "科技")
        text = archive.text_path(archive_id).read_text(encoding="utf-8")
        assert 150 <= len(text) <= 1500, (archive_id, len(text))
    assert any(r["门类"] == "声像" for r in rows)
    assert not any(by_id[i]["门类"] in ("声像", "实物") for i in archive.text_ids)


def test_traditional_and_simplified_records(
    archive: SampleArchive, rows: list[dict[str, str]]
) -> None:
    texts = _texts(archive, rows)
    fonds = {r["档号"]: r["全宗号"] for r in rows}
    traditional = [t for i, t in texts.items() if fonds[i] == "J001"]
    simplified = [t for i, t in texts.items() if fonds[i] == "X001"]
    assert traditional and simplified
    # OpenCC changes traditional text when simplifying and leaves simplified text alone.
    assert all(T2S.convert(t) != t for t in traditional)
    assert all(T2S.convert(t) == t for t in simplified)
    assert all(S2T.convert(t) != t for t in simplified)
    # Republican documents use period punctuation only.
    assert not any(mark in t for t in traditional for mark in "，；：")
    assert any("，" in t for t in simplified)


def test_texts_look_like_ocr_output_and_name_known_entities(
    archive: SampleArchive, rows: list[dict[str, str]]
) -> None:
    texts = _texts(archive, rows)
    wrapped = [t for t in texts.values() if all(len(line) <= 30 for line in t.splitlines())]
    assert len(wrapped) >= len(texts) // 10, "some texts should carry OCR line breaks"
    assert any("\f" in t for t in texts.values()), "long scans separate pages with form feeds"
    joined = {i: t.replace("\n", "").replace("\f", "") for i, t in texts.items()}
    people = {r["档号"]: r["人名"].split(";") for r in rows}
    named = [i for i, t in joined.items() if "杨靖宇" in t]
    assert named and all("杨靖宇" in people[i] for i in named)
    for entity in ("东北抗日联军", "抗美援朝", "土地改革", "扫盲", "公私合营", "防空", "米價"):
        assert any(entity in t for t in joined.values()), entity


def test_catalog_mixes_date_styles(rows: list[dict[str, str]]) -> None:
    dates = [r["日期"] for r in rows]
    patterns = {
        "compact": r"^\d{8}$",
        "iso": r"^\d{4}-\d\d-\d\d$",
        "cjk": r"^\d{4}年\d{1,2}月\d{1,2}日$",
        "minguo": r"^民国[一二三四五六七八九十]+年",
        "minguo_digits": r"^民国\d+年\d+月\d+日$",
        "minguo_upper": r"^中華民國[貳參叁拾壹肆伍陸柒捌玖]+年$",
        "chinese_year": r"^[一九〇二三四五六七八]{4}年[一二三四五六七八九十]+月$",
        "estimated": r"^\[\d{4}\]$",
        "range": r"^\d{4}—\d{4}$",
        "unknown": r"^不详$",
    }
    for name, pattern in patterns.items():
        assert any(re.match(pattern, d) for d in dates), name
    assert all(any(re.match(p, d) for p in patterns.values()) for d in dates)


def test_optional_fields_are_sometimes_empty(rows: list[dict[str, str]]) -> None:
    for column in ("文号", "主题词", "人名", "附注", "密级", "页数", "公开属性"):
        empty = sum(1 for r in rows if not r[column])
        assert 0 < empty < N, column
    assert all(r["题名"] and r["全宗名称"] and r["保管期限"] for r in rows)
    assert any(re.fullmatch(r"市委发〔\d{4}〕\d+号", r["文号"]) for r in rows)
    assert any(";" in r["主题词"] for r in rows)


def test_safe_filename_replaces_only_unsafe_characters() -> None:
    assert safe_filename("J001-WS·1947-Y-0012") == "J001-WS·1947-Y-0012"
    assert safe_filename("C038-001-014-003/1") == "C038-001-014-003_1"
    assert safe_filename('a\\b:c*d?e"f<g>h|i j') == "a_b_c_d_e_f_g_h_i_j"
    archive = SampleArchive(Path("out/catalog.csv"), Path("out/text"), 0)
    assert archive.text_path("C038-001-014-003/1") == Path("out/text/C038-001-014-003_1.txt")


def test_rerun_in_same_folder_removes_stale_texts(tmp_path: Path) -> None:
    generate_sample_archive(tmp_path, n_records=200, seed=3)
    small = generate_sample_archive(tmp_path, n_records=30, seed=3)
    assert {p.name for p in small.text_dir.iterdir()} == {text_filename(i) for i in small.text_ids}
    with small.catalog_csv.open(encoding="utf-8-sig") as fh:
        assert sum(1 for _ in csv.reader(fh)) == 31


@pytest.mark.parametrize("n_records", [0, -5, 10**6, 2.5, True, "400"])
def test_bad_record_count_is_rejected_with_the_parameter_named(
    tmp_path: Path, n_records: object
) -> None:
    with pytest.raises(ConfigError, match="n_records"):
        generate_sample_archive(tmp_path, n_records=n_records, seed=1)  # type: ignore[arg-type]


def test_vocabulary_templates_are_validated() -> None:
    data = _load_data()
    assert len(data.fonds) == 6
    loader = _Loader("example.toml")
    with pytest.raises(ConfigError, match=r"example\.toml: where: unknown slot \{nope\}"):
        loader.variant("關於{nope}的呈", "where")


def test_small_archives_and_the_command_line(tmp_path: Path) -> None:
    tiny = generate_sample_archive(tmp_path / "tiny", n_records=1, seed=1)
    assert tiny.n_records == 1
    assert main([str(tmp_path / "cli"), "--records", "25", "--seed", "5"]) == 0
    again = generate_sample_archive(tmp_path / "api", n_records=25, seed=5)
    assert (tmp_path / "cli" / "catalog.csv").read_bytes() == again.catalog_csv.read_bytes()


def test_generation_is_fast(tmp_path: Path) -> None:
    _load_data()  # vocabulary parsing is cached per process; time the generation itself
    start = time.perf_counter()
    generate_sample_archive(tmp_path, n_records=400, seed=7)
    assert time.perf_counter() - start < 2.0


@pytest.mark.parametrize(
    ("number", "script", "upper", "expected"),
    [
        (12, "trad", False, "十二"),
        (105, "simp", False, "一百零五"),
        (10050, "trad", False, "一萬零五十"),
        (30450, "simp", False, "三万零四百五十"),
        (28, "trad", True, "貳拾捌"),
    ],
)
def test_chinese_numerals(number: int, script: str, upper: bool, expected: str) -> None:
    assert _cn_number(number, script, upper) == expected
