"""The command line: clean messages, never a stack trace."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from lantai.cli import main


def run(*args: str, data_dir: Path) -> tuple[int, str]:
    result = CliRunner().invoke(main, ["--data-dir", str(data_dir), *args],
                                catch_exceptions=False)
    return result.exit_code, result.output


def test_index_search_and_json(tmp_path: Path) -> None:
    catalog = tmp_path / "c.csv"
    catalog.write_text("档号,题名,开放标识,日期\nA1-001-001-001,關於救濟難民的呈,开放,1939年4月\n"
                       "A1-001-001-002,秘密,控制,\n,无档号,开放,\n", encoding="utf-8")
    code, out = run("index", str(catalog), data_dir=tmp_path / "d")
    assert code == 0
    assert "3 rows, 2 indexed, 1 rejected" in out
    assert "row 4, column 档号: 档号 is empty" in out
    code, out = run("search", "救济", "--json", data_dir=tmp_path / "d")
    data = json.loads(out)
    assert data["total"] == 1
    assert data["hits"][0]["record"]["archival_code"] == "A1-001-001-001"
    assert data["hits"][0]["title_html"] == "關於<mark>救濟</mark>難民的呈"
    code, out = run("search", "秘密", data_dir=tmp_path / "d")
    assert "0 条结果" in out


def test_errors_are_one_line_messages(tmp_path: Path) -> None:
    code, out = run("search", "x", data_dir=tmp_path / "empty")
    # exit codes as documented in lantai.errors / docs/cli.md: 5 unavailable, 8 import failed
    assert code == 5 and "no index" in out and "Traceback" not in out
    code, out = run("index", str(tmp_path / "missing.csv"), data_dir=tmp_path / "d")
    assert code == 8 and "catalog file not found" in out
    code, out = run("search", "x", "--sort", "newest", data_dir=tmp_path / "empty")
    assert code == 2 and "sort must be one of" in out  # parameters are checked first
    code, out = run("browse", "local", "NOPE", data_dir=tmp_path / "empty")
    assert code == 5 and "no index" in out


def test_bad_page_and_size_name_the_parameter(tmp_path: Path) -> None:
    # against a real index, so that the request's own validation is what refuses them
    catalog = tmp_path / "c.csv"
    catalog.write_text("档号,题名,开放标识\nA1-001-001-001,救济难民的呈,开放\n", encoding="utf-8")
    assert run("index", str(catalog), data_dir=tmp_path / "d")[0] == 0
    code, out = run("search", "救济", "--page", "1", data_dir=tmp_path / "d")
    assert code == 0 and "1 条结果" in out
    for option, value, message in [("--page", "0", "page must be between 1 and 500 (got 0)"),
                                   ("--page", "-3", "page must be a whole number (got '-3')"),
                                   ("--size", "0", "size must be between 1 and 100 (got 0)")]:
        code, out = run("search", "救济", option, value, data_dir=tmp_path / "d")
        assert (code, out.strip()) == (2, f"error: {message}"), (option, value, out)


def test_eval_command(tmp_path: Path) -> None:
    corpus = tmp_path / "corpus.jsonl"
    corpus.write_text("\n".join(json.dumps(d, ensure_ascii=False) for d in [
        {"id": "d1", "title": "難民", "text": "收容難民三百人"},
        {"id": "d2", "title": "米價", "text": "米價上漲"},
    ]), encoding="utf-8")
    queries = tmp_path / "q.jsonl"
    queries.write_text('{"id": "q1", "text": "难民"}\n{"id": "q2", "text": "米价"}\n',
                       encoding="utf-8")
    qrels = tmp_path / "qrels.tsv"
    qrels.write_text("query_id\tdoc_id\trelevance\nq1\td1\t1\nq2\td2\t1\n", encoding="utf-8")
    code, out = run("eval", "--corpus", str(corpus), "--queries", str(queries), "--qrels",
                    str(qrels), "--run", str(tmp_path / "run.tsv"), data_dir=tmp_path / "d")
    assert code == 0, out
    assert "MRR@10 1.0000" in out
    lines = (tmp_path / "run.tsv").read_text().splitlines()
    assert lines[0].split()[:4] == ["q1", "Q0", "d1", "1"]
    qrels.write_text("q1 d1 x\n", encoding="utf-8")
    code, out = run("eval", "--corpus", str(corpus), "--queries", str(queries), "--qrels",
                    str(qrels), "--run", str(tmp_path / "run.tsv"), data_dir=tmp_path / "d")
    assert code == 8 and "no query has judgments" in out


def test_browse_and_fonds_labels(tmp_path: Path) -> None:
    catalog = tmp_path / "c.csv"
    catalog.write_text(
        "档号,题名,开放标识\nA1-001-002-9,第九件,开放\nA1-001-002-10,第十件,开放\n"
        "A1-001-003-1,另一卷,开放\nB2-001-001-1,控制件,控制\n", encoding="utf-8")
    assert run("index", str(catalog), data_dir=tmp_path / "d")[0] == 0
    labels = tmp_path / "fonds.csv"
    labels.write_text("全宗号,全宗名称\nA1,安澜市政府\n", encoding="utf-8")
    code, out = run("labels", "import", str(labels), data_dir=tmp_path / "d")
    assert code == 0 and "fonds: 1 label(s)" in out
    code, out = run("browse", "local", "--json", data_dir=tmp_path / "d")
    data = json.loads(out)
    assert [(c["value"], c["label"], c["count"]) for c in data["children"]] == [
        ("A1", "A1 安澜市政府", 3)]  # B2 holds nothing public
    code, out = run("browse", "local", "A1", "001", "002", data_dir=tmp_path / "d")
    assert code == 0 and out.index("A1-001-002-9") < out.index("A1-001-002-10")
    code, out = run("browse", "local", "B2", data_dir=tmp_path / "d")
    assert code == 3 and "no such node" in out
    code, out = run("browse", "local", "B2", "--staff", data_dir=tmp_path / "d")
    assert code == 0 and "控制件" not in out and "001" in out
    bad = tmp_path / "bad.csv"
    bad.write_text("A1\n", encoding="utf-8")
    code, out = run("labels", "import", str(bad), data_dir=tmp_path / "d")
    assert code == 8 and "row 1" in out


def test_a_broken_optional_part_says_why(monkeypatch: pytest.MonkeyPatch) -> None:
    import importlib

    from lantai import cli

    real = importlib.import_module

    def failing(name: str, *args: Any) -> Any:
        if name == "lantai.ocr.cli":
            raise ImportError("libGL.so.1: cannot open shared object file")
        return real(name, *args)

    monkeypatch.setattr(importlib, "import_module", failing)
    monkeypatch.setattr(cli.main, "commands", dict(cli.main.commands))
    cli.main.commands.pop("ocr", None)
    cli._register_optional()
    result = CliRunner().invoke(cli.main, ["ocr", "scans/", "--out", "x"])
    assert result.exit_code == 9
    assert "`lantai ocr` cannot run" in result.output and "libGL.so.1" in result.output


def test_images_build_reports_and_exit_codes(tmp_path: Path) -> None:
    from PIL import Image

    scans = tmp_path / "scans"
    scans.mkdir()
    Image.new("L", (600, 800), 240).save(scans / "a1.png")
    (scans / "broken.png").write_bytes(b"not an image")
    catalog = tmp_path / "c.csv"
    catalog.write_text("档号,题名,开放标识,图像\nA1-001-001-001,呈,开放,a1.png\n"
                       "A1-001-001-002,呈二,控制,broken.png;missing.png\n", encoding="utf-8")
    data = tmp_path / "d"
    code, out = run("images", "build", "--scans", str(scans), data_dir=data)
    assert code == 5 and "index" in out  # nothing indexed yet
    assert run("index", str(catalog), data_dir=data)[0] == 0
    code, out = run("images", "build", data_dir=data)
    assert code == 2 and "--ocr" in out
    code, out = run("images", "build", "--scans", str(tmp_path / "nowhere"), data_dir=data)
    assert code == 3 and "nowhere" in out
    code, out = run("images", "build", "--scans", str(scans), data_dir=data)
    assert code == 0, out
    assert "1 records with page images: 1 pages written, 0 unchanged, 2 failed" in out
    assert "A1-001-001-002: broken.png: unreadable image" in out
    assert "missing.png not found" in out
    code, out = run("images", "build", "--scans", str(scans), data_dir=data)
    assert "0 pages written, 1 unchanged" in out


@pytest.mark.ocr
def test_demo_runs_scans_through_ocr_to_the_viewer(tmp_path: Path) -> None:
    """The demo's whole chain: typeset scans → PP-OCR → indexed text → tiles → a record page
    whose image has the hits of a word the OCR read drawn on it."""
    pytest.importorskip("rapidocr")
    from lantai.demo.scans import find_cjk_font
    from lantai.errors import MissingDependency

    try:
        find_cjk_font()
    except MissingDependency as exc:
        pytest.skip(str(exc))
    data = tmp_path / "demo"
    code, out = run("demo", "--records", "120", data_dir=data)
    assert code == 0, out
    import re
    from urllib.parse import quote

    built = re.search(r"page images: (\d+) records, (\d+) pages cut into tiles, 0 failed", out)
    assert built and int(built.group(1)) == 7 and int(built.group(2)) >= 7, out

    from lantai.config import load_settings
    from lantai.search_app import create_app

    settings = load_settings(environ={}, overrides={"data_dir": data})
    client = create_app(settings).test_client()
    shown = re.search(r"e\.g\. /records/(\S+)", out)
    assert shown
    code_ = shown.group(1)
    page = client.get("/records/" + quote(code_)).get_data(as_text=True)
    assert 'id="viewer"' in page
    # a two-character word from the OCR text of that record, searched in simplified script
    text = client.get("/api/v1/records/" + quote(code_)).get_json()["pages"][0]
    word = next(text[i:i + 2] for i in range(len(text) - 1)
                if all("\u4e00" <= ch <= "\u9fff" for ch in text[i:i + 2]))
    page = client.get("/records/" + quote(code_) + "?q=" + quote(word)).get_data(as_text=True)
    viewer = page[page.index('id="viewer"'):]
    assert "<polygon" in viewer.split("</section>")[0]


@pytest.mark.usefixtures("cheap_passwords")
def test_users_commands(tmp_path: Path) -> None:
    data = tmp_path / "d"

    def users(*args: str, stdin: str | None = None) -> tuple[int, str]:
        result = CliRunner().invoke(main, ["--data-dir", str(data), "users", *args],
                                    input=stdin, catch_exceptions=False)
        return result.exit_code, result.output

    code, out = users("add", "li", "--role", "admin", "--password-stdin",
                      stdin="first secret 1937\n")
    assert code == 0 and "added li (admin)" in out
    # typed twice at the prompt, hidden; a mismatch is asked again
    code, out = users("add", "wang", "--role", "reviewer",
                      stdin="second secret 1938\nother\nsecond secret 1938\n"
                            "second secret 1938\n")
    assert code == 0 and "added wang (reviewer)" in out
    assert "second secret" not in out
    assert users("add", "wang", "--role", "curator", "--password-stdin",
                 stdin="third secret 1939\n")[0] == 6  # exists: conflict
    assert users("add", "zhao", "--role", "boss", "--password-stdin",
                 stdin="third secret 1939\n")[0] == 2
    assert users("add", "zhao", "--role", "curator", "--password-stdin", stdin="short\n")[0] == 2
    assert users("set-role", "wang", "curator")[0] == 0
    assert users("disable", "wang")[0] == 0
    code, out = users("list", "--json")
    assert json.loads(out) == [
        {"name": "li", "role": "admin", "disabled": False, "locked": False},
        {"name": "wang", "role": "curator", "disabled": True, "locked": False}]
    assert users("enable", "wang")[0] == 0
    assert users("unlock", "wang")[0] == 0
    assert users("reset-password", "wang", "--password-stdin", stdin="fourth secret 1940\n")[0] == 0
    assert users("disable", "nobody")[0] == 3
    code, out = users("audit", "--json")
    actions = [json.loads(line)["action"] for line in out.splitlines()]
    assert actions[:6] == ["user.password", "user.unlock", "user.enable", "user.disable",
                           "user.role", "user.add"]
    assert "secret" not in out


def test_review_detect_writes_one_line_per_text_and_names_bad_lines(tmp_path: Path) -> None:
    source = tmp_path / "in.jsonl"
    source.write_text(
        json.dumps({"id": "a", "text": "联系电话13812345678，身份证11010519491231002X"},
                   ensure_ascii=False) + "\n"
        + json.dumps({"id": 7, "text": "产值17499463428元"}, ensure_ascii=False) + "\n"
        + "{broken\n" + json.dumps({"id": "c"}) + "\n\n"
        + json.dumps({"id": "d", "text": "電話二三四五號"}, ensure_ascii=False) + "\n",
        encoding="utf-8")
    out = tmp_path / "out.jsonl"
    result = CliRunner().invoke(main, ["--data-dir", str(tmp_path / "d"), "review", "detect",
                                       str(source), "--out", str(out)])
    assert result.exit_code == 2
    assert f"{source}, line 3" in result.output and f"{source}, line 4" in result.output
    lines = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    assert [line["id"] for line in lines] == ["a", 7, "d"]
    first = lines[0]["flags"]
    assert [(f["kind"], f["start"], f["end"], f["text"]) for f in first] == [
        ("phone", 4, 15, "13812345678"), ("id_number", 19, 37, "11010519491231002X")]
    assert lines[1]["flags"] == []
    assert lines[2]["flags"][0]["kind"] == "phone" and lines[2]["flags"][0]["text"] == "二三四五"
    missing = CliRunner().invoke(main, ["review", "detect", str(tmp_path / "none.jsonl"),
                                        "--out", str(out)])
    assert missing.exit_code == 3


@pytest.mark.usefixtures("cheap_passwords")
def test_review_queue_decide_and_verify_log(tmp_path: Path) -> None:
    data = tmp_path / "d"
    catalog = tmp_path / "c.csv"
    catalog.write_text("档号,题名,开放标识,日期,密级,全文\n"
                       "R1-001-001-001,关于修缮校舍的报告,未审核,1960年5月1日,,\n"
                       "R1-001-001-002,职工名册,未审核,1960年,,职工张三身份证11010519491231002X\n"
                       "R1-001-001-003,绝密方案,未审核,1960年5月1日,绝密,\n"
                       "R1-001-001-004,新近文件,未审核,2020年5月1日,,\n", encoding="utf-8")
    assert run("index", str(catalog), data_dir=data)[0] == 0
    code, out = run("review", "queue", "--as-of", "2026-12-04", data_dir=data)
    assert code == 0, out
    lines = out.splitlines()
    assert lines[0].startswith("[clear] R1-001-001-001")
    assert lines[1].startswith("[flagged] R1-001-001-002") and "居民身份证号码" in lines[1]
    assert "4 records waiting: 1 clear, 1 flagged, 2 restricted" in out
    code, out = run("review", "queue", "--flag", "classification", "--json", data_dir=data)
    assert [json.loads(line)["archival_code"] for line in out.splitlines()
            if line.startswith("{")] == ["R1-001-001-003"]
    decide = ("review", "decide", "R1-001-001-001", "R1-001-001-003", "--status", "开放",
              "--reason", "满二十五年", "--basis", "档案法第二十七条")
    assert run(*decide, "--reviewer", "nobody", data_dir=data)[0] == 2
    CliRunner().invoke(main, ["--data-dir", str(data), "users", "add", "wang", "--role",
                              "reviewer", "--password-stdin"], input="审核员密码 2026\n")
    code, out = run(*decide, "--reviewer", "wang", data_dir=data)
    assert code == 0 and "1 decided (开放), 1 refused" in out
    assert "refused: R1-001-001-003: 密级“绝密”" in out
    code, out = run("search", "校舍", "--json", data_dir=data)
    assert json.loads(out)["total"] == 1  # public at once
    assert run(*decide, "--reviewer", "wang", "--override", "已解密", data_dir=data)[0] == 4
    code, out = run("review", "verify-log", data_dir=data)
    assert code == 0 and "review log intact: 1 entries" in out
    import sqlite3

    conn = sqlite3.connect(data / "review.sqlite3")
    conn.execute("DROP TRIGGER log_no_update")
    conn.execute("UPDATE log SET actor = 'mallory'")
    conn.commit()
    code, out = run("review", "verify-log", data_dir=data)
    assert code == 6 and "entry 1 was changed" in out


def test_search_says_what_period_words_it_added(tmp_path: Path) -> None:
    catalog = tmp_path / "c.csv"
    catalog.write_text("档号,题名,开放标识\nA1-001-001-001,公共租界巡捕房报告,开放\n"
                       "A1-001-001-002,警察局呈文,开放\n", encoding="utf-8")
    assert run("index", str(catalog), data_dir=tmp_path / "d")[0] == 0
    code, out = run("search", "警察", data_dir=tmp_path / "d")
    assert code == 0 and "2 条结果" in out
    assert "also searched: 警察 → 巡捕、巡警" in out
    code, out = run("search", "警察", "--exact", data_dir=tmp_path / "d")
    assert "1 条结果" in out and "also searched" not in out
