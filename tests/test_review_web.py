"""The open-review staff pages: who may use them, the queue, evidence, dismissals and
decisions that change the public site at once."""

from __future__ import annotations

import re
from collections.abc import Callable
from urllib.parse import quote

import pytest
from flask import Flask
from flask.testing import FlaskClient

from lantai.accounts.roles import Role
from lantai.catalog.model import OpenStatus, Record
from lantai.config import Settings
from lantai.search.backends.embedded import EmbeddedBackend
from lantai.search_app import create_app

PASSWORD = "档案开放审核 2026 年"
ID_TEXT = "职工张三，身份证11010519491231002X，1950年入厂。"


pytestmark = pytest.mark.usefixtures("cheap_passwords")


def rec(code: str, title: str, **fields: object) -> Record:
    fields.setdefault("open_status", OpenStatus.UNREVIEWED)
    return Record(archival_code=code, title=title, fonds=code.split("-")[0],
                  date_start=19550101, date_end=19551231, year=1955,
                  **fields)  # type: ignore[arg-type]


@pytest.fixture
def app(make_settings: Callable[..., Settings]) -> Flask:
    settings = make_settings()
    backend = EmbeddedBackend(settings)
    backend.upsert([
        rec("X1-001-001-001", "关于修缮校舍的报告", pages=("校舍年久失修，拟予修缮。",)),
        rec("X1-001-001-002", "职工名册", pages=(ID_TEXT,)),
        rec("X2-001-001-001", "绝密方案", classification="绝密"),
    ])
    app = create_app(settings, backend)
    accounts = app.extensions["lantai"].accounts
    for name, role in (("wang", Role.REVIEWER), ("zhao", Role.CURATOR), ("li", Role.ADMIN)):
        accounts.add_user(name, role, PASSWORD)
    return app


def token(client: FlaskClient, path: str = "/staff/login") -> str:
    found = re.search(r'name="csrf_token" value="([^"]+)"', client.get(path).get_data(True))
    assert found
    return found.group(1)


def signed_in(app: Flask, name: str) -> FlaskClient:
    client = app.test_client()
    response = client.post("/staff/login", data={"username": name, "password": PASSWORD,
                                                 "csrf_token": token(client)})
    assert response.status_code == 303
    return client


ROUTES = [("GET", "/staff/review"), ("GET", "/staff/review/record/X1-001-001-002"),
          ("POST", "/staff/review/decide"),
          ("POST", "/staff/review/record/X1-001-001-002/dismiss"),
          ("POST", "/staff/review/record/X1-001-001-002/verify"),
          ("POST", "/staff/review/coreview"), ("POST", "/staff/review/coreview-import"),
          ("GET", "/staff/review.xlsx")]


@pytest.mark.parametrize(("method", "path"), ROUTES)
def test_anonymous_and_curators_are_refused(app: Flask, method: str, path: str) -> None:
    anonymous = app.test_client()
    form = {"csrf_token": token(anonymous), "code": "X1-001-001-001", "status": "开放",
            "reason": "r", "basis": "b", "finding": "k"}
    response = anonymous.get(path) if method == "GET" else anonymous.post(path, data=form)
    assert response.status_code == 302 and "/staff/login" in response.headers["Location"]
    curator = signed_in(app, "zhao")
    form["csrf_token"] = token(curator, "/staff/")
    response = curator.get(path) if method == "GET" else curator.post(path, data=form)
    assert response.status_code == 403
    if method == "POST":  # a reviewer without the form token
        reviewer = signed_in(app, "wang")
        assert reviewer.post(path, data={**form, "csrf_token": ""}).status_code == 400
    assert app.extensions["lantai"].backend.count() == 0


def test_the_queue_filters_and_the_evidence_is_highlighted(app: Flask) -> None:
    client = signed_in(app, "wang")
    page = client.get("/staff/review").get_data(as_text=True)
    assert "待审 3 件：明确可开放 1，需查看 1，受限 1" in page
    assert page.index("X1-001-001-001") < page.index("X1-001-001-002") < \
        page.index("X2-001-001-001")
    only_ids = client.get("/staff/review?flag=id_number").get_data(as_text=True)
    assert "X1-001-001-002" in only_ids and "X1-001-001-001" not in only_ids
    by_fonds = client.get("/staff/review?fonds=X2").get_data(as_text=True)
    assert "待审 1 件" in by_fonds
    record = client.get("/staff/review/record/X1-001-001-002").get_data(as_text=True)
    assert "<mark>11010519491231002X</mark>" in record
    assert "居民身份证号码" in record and "个人信息保护法" in record


def test_dismissing_a_false_flag_is_remembered_and_logged(app: Flask) -> None:
    client = signed_in(app, "wang")
    page = client.get("/staff/review/record/X1-001-001-002").get_data(as_text=True)
    key = re.search(r'name="finding" value="(pi:id_number[^"]*)"', page)
    assert key
    import html

    response = client.post("/staff/review/record/X1-001-001-002/dismiss",
                           data={"csrf_token": token(client, "/staff/"),
                                 "finding": html.unescape(key.group(1))})
    assert response.status_code == 303
    after = client.get("/staff/review/record/X1-001-001-002").get_data(as_text=True)
    text = after.split("<h2>全文</h2>")[1]
    assert "已排除（误报）" in after and "<mark>11010519491231002X</mark>" not in text
    queue = client.get("/staff/review").get_data(as_text=True)
    assert "明确可开放 2" in queue
    entry = app.extensions["lantai"].review.log(limit=1)[0]
    assert (entry.actor, entry.action, entry.target) == ("wang", "dismiss", "X1-001-001-002")


def test_a_batch_decision_opens_records_on_the_public_site_at_once(app: Flask) -> None:
    public = app.test_client()
    assert "X1-001-001-001" not in public.get("/search?q=校舍").get_data(as_text=True)
    client = signed_in(app, "wang")
    response = client.post("/staff/review/decide", data={
        "csrf_token": token(client, "/staff/review"),
        "code": ["X1-001-001-001", "X1-001-001-002", "X2-001-001-001"], "status": "开放",
        "reason": "已满年限，内容无不宜开放情形", "basis": "档案法第二十七条",
        "except:X1-001-001-002": "控制"})
    body = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "已决定 2 件" in body and "X2-001-001-001" in body and "密级" in body
    assert "X1-001-001-001" in public.get("/search?q=校舍").get_data(as_text=True)
    assert public.get("/records/" + quote("X1-001-001-002")).status_code == 404  # 控制
    assert public.get("/records/" + quote("X2-001-001-001")).status_code == 404  # refused
    # a reviewer cannot override; an administrator can, with a reason
    refused = client.post("/staff/review/decide", data={
        "csrf_token": token(client, "/staff/review"), "code": "X2-001-001-001",
        "status": "开放", "reason": "r", "basis": "b", "override": "领导同意"})
    assert refused.status_code == 403
    admin = signed_in(app, "li")
    done = admin.post("/staff/review/decide", data={
        "csrf_token": token(admin, "/staff/review"), "code": "X2-001-001-001",
        "status": "开放", "reason": "经会同审核", "basis": "档案法第三十条",
        "override": "保密部门书面确认已解密"})
    assert "已决定 1 件" in done.get_data(as_text=True)
    assert public.get("/records/" + quote("X2-001-001-001")).status_code == 200
    assert app.extensions["lantai"].review.verify_log() == (3, None)  # three decisions


def test_bad_decisions_name_the_parameter(app: Flask) -> None:
    client = signed_in(app, "wang")
    csrf = token(client, "/staff/review")
    for form, param in (({"status": "开放", "reason": "r", "basis": "b"}, "code"),
                        ({"code": "X1-001-001-001", "status": "maybe", "reason": "r",
                          "basis": "b"}, "status"),
                        ({"code": "X1-001-001-001", "status": "开放", "reason": "",
                          "basis": "b"}, "reason"),
                        ({"code": "X1-001-001-001", "status": "延期开放", "reason": "r",
                          "basis": "b"}, "review_again")):
        response = client.post("/staff/review/decide", data={"csrf_token": csrf, **form})
        assert response.status_code == 400, form
        assert param in response.get_data(as_text=True)


def test_the_queue_view_downloads_as_a_workbook(app: Flask) -> None:
    import io

    import openpyxl

    assert app.test_client().get("/staff/review.xlsx").status_code == 302
    client = signed_in(app, "wang")
    page = client.get("/staff/review?flag=id_number").get_data(as_text=True)
    assert 'href="/staff/review.xlsx?flag=id_number"' in page
    response = client.get("/staff/review.xlsx?flag=id_number")
    assert response.status_code == 200 and response.headers["Cache-Control"] == "no-store"
    sheet = openpyxl.load_workbook(io.BytesIO(response.data)).active
    rows = [[c.value for c in row] for row in sheet.iter_rows()]
    assert rows[0][0] == "档号" and [r[0] for r in rows[1:]] == ["X1-001-001-002"]
    assert "居民身份证号码" in rows[1][8]


def test_co_review_from_the_staff_pages(app: Flask) -> None:
    import io

    import openpyxl

    client = signed_in(app, "wang")
    csrf = token(client, "/staff/review")
    assert client.post("/staff/review/coreview", data={
        "csrf_token": csrf, "code": "X1-001-001-001", "unit": ""}).status_code == 400
    sent = client.post("/staff/review/coreview", data={
        "csrf_token": csrf, "code": ["X1-001-001-001", "X1-001-001-002"],
        "unit": "安澜市教育局"})
    assert sent.status_code == 200 and "attachment" in sent.headers["Content-Disposition"]
    book = openpyxl.load_workbook(io.BytesIO(sent.data))
    sheet = book.active
    queue_page = client.get("/staff/review").get_data(as_text=True)
    assert "已送安澜市教育局会同审核，等待其意见" in queue_page
    sheet["G3"], sheet["G4"] = "开放", "控制"
    returned = io.BytesIO()
    book.save(returned)
    response = client.post("/staff/review/coreview-import", data={
        "csrf_token": csrf, "workbook": (io.BytesIO(returned.getvalue()), "回复.xlsx")},
        content_type="multipart/form-data")
    assert response.status_code == 200
    assert "已导入 2 条会同审核意见" in response.get_data(as_text=True)
    record = client.get("/staff/review/record/X1-001-001-002").get_data(as_text=True)
    assert "安澜市教育局会同审核意见：控制" in record
    bad = client.post("/staff/review/coreview-import", data={
        "csrf_token": csrf, "workbook": (io.BytesIO(b"not a workbook"), "x.xlsx")},
        content_type="multipart/form-data")
    assert bad.status_code == 400 and "not a readable XLSX" in bad.get_data(as_text=True)
    assert client.post("/staff/review/coreview-import",
                       data={"csrf_token": csrf}).status_code == 400


def test_an_oversized_upload_is_refused(app: Flask) -> None:
    import io

    client = signed_in(app, "wang")
    csrf = token(client, "/staff/review")
    app.config["MAX_CONTENT_LENGTH"] = 1024
    response = client.post("/staff/review/coreview-import", data={
        "csrf_token": csrf, "workbook": (io.BytesIO(b"x" * 4096), "big.xlsx")},
        content_type="multipart/form-data")
    assert response.status_code == 413 and "上传的文件过大" in response.get_data(as_text=True)
