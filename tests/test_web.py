"""The public web front end over a small embedded index: routes, errors, the public gate,
escaping, 档号 in URLs, security headers and ``lantai serve``."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest
from click.testing import CliRunner
from flask import Flask
from flask.testing import FlaskClient

from lantai.catalog.model import OpenStatus, Record
from lantai.config import Settings
from lantai.search.backends.embedded import EmbeddedBackend
from lantai.search.request import PARAMETERS
from lantai.search_app import SECURITY_HEADERS, create_app
from tests.conftest import record

MARKUP_TITLE = "<script>alert(1)</script>关于防汛的报告"
#: 档号 that must survive a round trip through /records/<percent-encoded>.
ODD_CODES = ("J201-001/002-0003", "J202-WS·2001-Y-0004", "J203 001 0005",
             "Ｊ２０４－００１－０００６", "J205-01-#?%&+-0007")


def _extra_records() -> list[Record]:
    extra = [record("J200-001-001-0001", MARKUP_TITLE, "防汛 <b>堤坝</b> & 抢险",
                    fonds="J200", year=2003, creator="<i>防汛指挥部</i>")]
    extra += [record(code, f"特殊档号测试 {i}", "特殊档号 文本", fonds=f"J20{i + 1}",
                     year=2001) for i, code in enumerate(ODD_CODES)]
    return extra


@pytest.fixture
def web_settings(make_settings: Callable[..., Settings]) -> Settings:
    return make_settings()


@pytest.fixture
def app(web_settings: Settings, sample_records: list[Record]) -> Flask:
    backend = EmbeddedBackend(web_settings)
    report = backend.upsert([*sample_records, *_extra_records()])
    assert not report.failed
    app = create_app(web_settings, backend)
    app.config["TESTING"] = True
    return app


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


def _hidden(sample_records: list[Record]) -> list[Record]:
    hidden = [r for r in sample_records if r.open_status is not OpenStatus.OPEN]
    assert {r.open_status for r in hidden} >= {OpenStatus.CONTROLLED, OpenStatus.UNREVIEWED}
    return hidden


# -- every route answers ---------------------------------------------------------------------
PAGES = ["/", "/search", "/search?q=杨靖宇", "/search?q=救济&sort=date&size=5",
         "/search?q=抗日&fonds=J001&decade=1930", "/search?q=杨靖宇 飞机",
         "/search?q=&from=民国二十六年&to=1945", "/fonds", "/browse", "/browse/local",
         "/browse/local/J001", "/browse/local/J001/" + quote("WS·1939·Y"),
         "/records/" + quote("J001-WS·1939-Y-0001"), "/records/J017-001-002-003",
         "/static/lantai.css", "/?lang=en"]
API = ["/api/v1/search", "/api/v1/search?q=杨靖宇&facets=year,fonds",
       "/api/v1/records/" + quote("J001-WS·1939-Y-0001"), "/api/v1/browse",
       "/api/v1/browse/local", "/api/v1/browse/local/J017", "/api/v1/openapi.json"]


@pytest.mark.parametrize("url", PAGES)
def test_pages_answer(client: FlaskClient, url: str) -> None:
    response = client.get(url)
    assert response.status_code == 200, response.get_data(as_text=True)
    if url.startswith("/static"):
        assert "text/css" in response.content_type
    else:
        assert response.content_type.startswith("text/html")
        assert "Traceback" not in response.get_data(as_text=True)


@pytest.mark.parametrize("url", API)
def test_api_answers(client: FlaskClient, url: str) -> None:
    response = client.get(url)
    assert response.status_code == 200
    assert response.is_json
    assert response.get_json()


def test_search_page_shows_hits_facets_and_total(client: FlaskClient) -> None:
    html = client.get("/search?q=杨靖宇").get_data(as_text=True)
    assert "<mark>楊靖宇</mark>" in html  # highlight in the original script
    assert "J001-WS·1939-Y-0001" in html and "民国二十八年四月" in html
    assert "東北抗日聯軍第一路軍" in html
    assert re.search(r"共 \d+ 条结果", html)
    # a facet is a link that adds its filter to the current query
    link = re.search(r'href="(/search\?[^"]*fonds=J001)"', html)
    assert link
    narrowed = client.get(link.group(1).replace("&amp;", "&")).get_data(as_text=True)
    assert "J001-WS·1939-Y-0001" in narrowed and "X012-WS·1956-D30-0003" not in narrowed


def test_relaxed_note_and_pagination(client: FlaskClient) -> None:
    html = client.get("/search?q=杨靖宇 飞机大炮").get_data(as_text=True)
    assert "没有档案同时包含全部检索词" in html
    # some records have every word, the page goes on with partial matches: say how many
    html = client.get("/search?q=难民 米价").get_data(as_text=True)
    assert "1 条档案包含全部检索词，其后为只含部分检索词的结果" in html
    assert "没有档案同时包含全部检索词" not in html
    html = client.get("/search?q=&size=2").get_data(as_text=True)
    assert 'rel="next"' in html and "page=2" in html
    html = client.get("/search?q=&size=2&page=2").get_data(as_text=True)
    assert 'rel="prev"' in html


def test_api_search_and_record(client: FlaskClient) -> None:
    data = client.get("/api/v1/search?q=杨靖宇").get_json()
    assert data["total"] >= 1 and data["hits"][0]["title_html"]
    one = client.get("/api/v1/records/" + quote("J001-WS·1939-Y-0001")).get_json()
    assert one["archival_code"] == "J001-WS·1939-Y-0001" and one["pages"]
    assert one["path"][:2] == ["local", "J001"]


def test_record_page_has_fields_text_and_breadcrumbs(client: FlaskClient) -> None:
    html = client.get("/records/" + quote("J001-WS·1939-Y-0001")).get_data(as_text=True)
    for label in ("档号", "责任者", "全宗号", "保管期限"):
        assert f">{label}<" in html
    assert "濛江" in html  # the full text
    crumbs = re.findall(r'href="(/browse/[^"]+)"', html)
    assert crumbs and all(client.get(u).status_code == 200 for u in crumbs)
    assert "相似档案" not in html  # no vectors in this index


def test_openapi_lists_public_parameters(client: FlaskClient) -> None:
    doc = client.get("/api/v1/openapi.json").get_json()
    assert doc["openapi"].startswith("3.1")
    names = {p["name"] for p in doc["paths"]["/api/v1/search"]["get"]["parameters"]}
    assert names == set(PARAMETERS) - {"status", "retention"}


# -- bad parameters --------------------------------------------------------------------------
BAD = [("page=0", "page"), ("size=9999", "size"), ("sort=x", "sort"), ("from=garbage", "from"),
       ("facets=open_status", "facets"), ("mode=psychic", "mode"), ("status=控制", "status"),
       ("year=abc", "year"), ("decade=1935", "decade"), ("page=1&page=2", "page"),
       ("from=1950&to=1940", "from")]


@pytest.mark.parametrize(("query", "param"), BAD)
def test_bad_parameter_api(client: FlaskClient, query: str, param: str) -> None:
    response = client.get(f"/api/v1/search?{query}")
    assert response.status_code == 400
    assert response.is_json and response.get_json()["parameter"] == param
    assert response.get_json()["error"]


@pytest.mark.parametrize(("query", "param"), BAD)
def test_bad_parameter_page(client: FlaskClient, query: str, param: str) -> None:
    response = client.get(f"/search?{query}")
    assert response.status_code == 400
    html = response.get_data(as_text=True)
    assert response.content_type.startswith("text/html")
    assert f"<code>{param}</code>" in html and "请求参数有误" in html and "Bad request" in html


@pytest.mark.parametrize("url", ["/browse/local?page=0", "/api/v1/browse/local?size=9999",
                                 "/api/v1/browse/local?page=x"])
def test_bad_browse_paging(client: FlaskClient, url: str) -> None:
    assert client.get(url).status_code == 400


def test_unknown_paths_and_methods(client: FlaskClient) -> None:
    page = client.get("/no/such/page")
    assert page.status_code == 404 and "未找到" in page.get_data(as_text=True)
    api = client.get("/api/v1/no-such")
    assert api.status_code == 404 and api.get_json()["error"]
    post = client.post("/search")
    assert post.status_code == 405 and "GET" in post.headers["Allow"]
    assert client.get("/records/NOPE-1").status_code == 404
    assert client.get("/api/v1/records/NOPE-1").get_json()["error"]


def test_internal_error_shows_no_trace(app: Flask, web_settings: Settings) -> None:
    class Broken(EmbeddedBackend):
        def search(self, request: Any) -> Any:
            raise RuntimeError("secret internals /etc/passwd")

    broken = create_app(web_settings, Broken(web_settings)).test_client()
    for url in ("/search?q=x", "/api/v1/search?q=x"):
        response = broken.get(url)
        body = response.get_data(as_text=True)
        assert response.status_code == 500
        assert "secret" not in body and "Traceback" not in body and "RuntimeError" not in body


# -- the public gate -------------------------------------------------------------------------
def _made_up(code: str, taken: set[str]) -> str:
    """A code of the same length (characters and bytes) that names no record."""
    for digit in "987654321":
        candidate = code[:-1] + digit
        if candidate not in taken:
            return candidate
    raise AssertionError(code)


def test_hidden_record_answers_like_a_missing_one(client: FlaskClient,
                                                  sample_records: list[Record]) -> None:
    taken = {r.archival_code for r in sample_records}
    for hidden in _hidden(sample_records):
        code = hidden.archival_code
        fake = _made_up(code, taken)
        for prefix in ("/records/", "/api/v1/records/"):
            real = client.get(prefix + quote(code))
            missing = client.get(prefix + quote(fake))
            assert real.status_code == missing.status_code == 404
            assert real.data.replace(code.encode(), b"@") == missing.data.replace(
                fake.encode(), b"@")
            assert hidden.title not in real.get_data(as_text=True)
            assert dict(real.headers) == dict(missing.headers)


def test_hidden_records_appear_nowhere(client: FlaskClient,
                                       sample_records: list[Record]) -> None:
    hidden = _hidden(sample_records)
    open_count = sum(1 for r in sample_records if r.is_public) + len(_extra_records())
    secrets = [s for r in hidden for s in (r.archival_code, r.title, r.creator, "X099",
                                           "机密内容", "未审核 文本")]
    facets = "facets=fonds,decade,category,creator,year,archive"
    for query in ("杨靖宇", "纪念馆扩建", "绝密方案", "未审核", "秘密机关", "机密内容", ""):
        for url in (f"/search?q={query}&{facets}&size=100",
                    f"/api/v1/search?q={query}&{facets}&size=100"):
            body = client.get(url).get_data(as_text=True)
            if query:  # the page repeats what the visitor typed; that is not a leak
                body = body.replace(query, "").replace(quote(query), "")
            for secret in secrets:
                assert secret not in body, (url, secret)
        data = client.get(f"/api/v1/search?q={query}&{facets}&size=100").get_json()
        assert not {h["record"]["archival_code"] for h in data["hits"]} & {
            r.archival_code for r in hidden}
        assert not {v["value"] for v in data["facets"]["decade"]} & {"1980", "1990"}
        assert not {v["value"] for v in data["facets"]["year"]} & {"1985", "1990"}
        assert "X099" not in {v["value"] for v in data["facets"]["fonds"]}
        for values in data["facets"].values():
            assert all(v["count"] <= data["total"] for v in values)
    everything = client.get("/api/v1/search?size=100").get_json()
    assert everything["total"] == open_count
    # browse counts
    root = client.get("/api/v1/browse/local").get_json()
    assert root["count"] == open_count
    assert "X099" not in {c["value"] for c in root["children"]}
    for url in ("/fonds", "/browse/local"):
        assert "X099" not in client.get(url).get_data(as_text=True)
    hidden_node = client.get("/api/v1/browse/local/X099")
    fake_node = client.get("/api/v1/browse/local/X098")
    assert hidden_node.status_code == fake_node.status_code == 404
    assert hidden_node.data.replace(b"X099", b"@") == fake_node.data.replace(b"X098", b"@")


# -- escaping and URLs -----------------------------------------------------------------------
def test_markup_is_escaped(client: FlaskClient) -> None:
    for url in ("/search?q=防汛", "/records/J200-001-001-0001", "/browse/local/J200/001/001"):
        html = client.get(url).get_data(as_text=True)
        assert "<script>alert" not in html and "<i>防汛" not in html and "<b>堤坝" not in html
        assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    html = client.get("/search?q=" + quote('"><script>x</script>')).get_data(as_text=True)
    assert "<script>x" not in html


@pytest.mark.parametrize("code", ODD_CODES)
def test_odd_codes_round_trip(client: FlaskClient, code: str) -> None:
    page = client.get("/records/" + quote(code, safe="/"))
    assert page.status_code == 200
    assert f"<td>{code.replace('&', '&amp;')}</td>" in page.get_data(as_text=True)
    api = client.get("/api/v1/records/" + quote(code, safe=""))
    assert api.status_code == 200 and api.get_json()["archival_code"] == code
    # the links the search page makes lead back to the record
    html = client.get("/search?q=特殊档号&size=50").get_data(as_text=True)
    links = [u.replace("&amp;", "&") for u in re.findall(r'href="(/records/[^"]+)"', html)]
    assert any(client.get(u).get_json() is None and code.replace("&", "&amp;") in
               client.get(u).get_data(as_text=True) for u in links)


# -- headers, language, CLI ------------------------------------------------------------------
@pytest.mark.parametrize("url", ["/", "/search?q=x", "/search?page=0", "/nope",
                                 "/static/lantai.css", "/api/v1/search", "/api/v1/records/nope",
                                 "/api/v1/openapi.json"])
def test_security_headers(client: FlaskClient, url: str) -> None:
    response = client.get(url)
    for name, value in SECURITY_HEADERS.items():
        assert response.headers[name] == value


def test_no_inline_script_or_style(client: FlaskClient) -> None:
    import re

    for url in ("/search?q=杨靖宇", "/records/" + quote("J001-WS·1939-Y-0001") + "?q=杨靖宇"):
        html = client.get(url).get_data(as_text=True)
        scripts = re.findall(r"<script[^>]*>(.*?)</script>", html, re.S)
        # scripts only from the app's own static folder, never inline
        assert scripts == [""] and '<script src="/static/lantai.js" defer>' in html
        assert "style=" not in html and "<style" not in html
        assert "http://" not in html.replace("http://localhost/records/", "")
        assert "https://" not in html


def test_english_switch_is_remembered(client: FlaskClient) -> None:
    response = client.get("/search?q=杨靖宇&lang=en")
    assert "results" in response.get_data(as_text=True)
    assert "lang=en" in response.headers.get("Set-Cookie", "")
    assert "Browse fonds" in client.get("/").get_data(as_text=True)
    assert "全宗浏览" in client.get("/?lang=zh").get_data(as_text=True)


def test_serve_command(monkeypatch: pytest.MonkeyPatch, app: Flask,
                       web_settings: Settings) -> None:
    import waitress

    from lantai.cli import main

    calls: list[dict[str, Any]] = []
    monkeypatch.setattr(waitress, "serve", lambda app, **kw: calls.append({"app": app, **kw}))
    data_dir = Path(web_settings.data_dir)
    result = CliRunner().invoke(main, ["--data-dir", str(data_dir), "serve", "--port", "8123",
                                       "--threads", "3"])
    assert result.exit_code == 0, result.output
    assert calls and calls[0]["port"] == 8123 and calls[0]["threads"] == 3
    assert calls[0]["host"] == web_settings.server.host
    served = calls[0]["app"].test_client()
    assert served.get("/api/v1/search?q=杨靖宇").get_json()["total"] >= 1


def test_every_link_from_the_fonds_page_answers(client: FlaskClient) -> None:
    """Crawl browse nodes and records from /fonds: every link the pages make works."""
    seen: set[str] = set()
    todo = ["/fonds"]
    while todo:
        url = todo.pop()
        if url in seen:
            continue
        seen.add(url)
        response = client.get(url)
        assert response.status_code == 200, url
        html = response.get_data(as_text=True)
        todo += [u.replace("&amp;", "&") for u in
                 re.findall(r'href="(/(?:browse|records)/[^"]*)"', html)]
    assert sum(u.startswith("/records/") for u in seen) >= 10


def test_search_in_a_record_marks_and_counts_the_hits(client: FlaskClient) -> None:
    code = quote("J001-WS·1939-Y-0001")
    html = client.get(f"/records/{code}?q=杨靖宇 东北抗日联军").get_data(as_text=True)
    # simplified query, traditional text: the original characters are marked
    assert "<mark>楊靖宇</mark>" in html and "<mark>東北抗日聯軍</mark>" in html
    assert "共 2 处命中" in html and 'href="#p1"' in html
    html = client.get(f"/records/{code}?q=公私合营").get_data(as_text=True)
    assert "本档案全文中没有“公私合营”。" in html and "<mark>" not in html
    html = client.get(f"/records/{code}?q=<b>x</b>").get_data(as_text=True)
    assert "<b>x</b>" not in html and "&lt;b&gt;x&lt;/b&gt;" in html
    assert client.get(f"/records/{code}?q=" + "字" * 1001).status_code == 400


def test_record_citation(client: FlaskClient) -> None:
    code = "J001-WS·1939-Y-0001"
    html = client.get("/records/" + quote(code)).get_data(as_text=True)
    url = "http://localhost/records/" + code  # readable: the 档号's own characters
    assert f"档号 {code}，{url}（" in html
    assert "本馆藏" in html and "《東北抗日聯軍楊靖宇部作戰報告》" in html
    assert 'data-copy="cite-zh"' in html
    english = client.get("/records/" + quote(code) + "?lang=en").get_data(as_text=True)
    assert 'data-copy="cite-en"' in english and f"{code}. {url} (accessed" in english


def test_citation_urls_read_as_the_code_unless_ambiguous() -> None:
    from lantai.search_app.links import _readable

    assert _readable("https://a.example/records/X001-WS%C2%B71991-D10-0001") == \
        "https://a.example/records/X001-WS·1991-D10-0001"
    for encoded in ("https://a.example/records/A%201-2", "https://a.example/records/A%232",
                    "https://a.example/records/A%252"):
        assert _readable(encoded) == encoded


def test_date_range_sort_and_decade_histogram(client: FlaskClient) -> None:
    html = client.get("/search?q=&from=民国二十八年&to=1939").get_data(as_text=True)
    assert "共 3 条结果" in html  # the three public records dated 1939
    assert 'name="from" value="民国二十八年"' in html
    assert "起: 民国二十八年" in html and "止: 1939" in html  # chips with remove links
    html = client.get("/search?q=").get_data(as_text=True)
    decades = re.findall(r'decade=(\d+)"', html)
    assert decades == sorted(decades) and len(decades) >= 2  # histogram in time order
    assert '<meter min="0"' in html
    assert 'sort=date"' in html and 'sort=-date"' in html
    newest = client.get("/search?q=&sort=-date").get_data(as_text=True)
    assert "<strong>日期（晚→早）</strong>" in newest
    # other parameters survive the date form
    html = client.get("/search?q=救济&fonds=J001").get_data(as_text=True)
    assert '<input type="hidden" name="q" value="救济">' in html
    assert '<input type="hidden" name="fonds" value="J001">' in html


def test_nothing_found_explains_that_both_scripts_were_searched(client: FlaskClient) -> None:
    html = client.get("/search?q=" + quote('"不存在的檔案標題"')).get_data(as_text=True)
    assert "没有找到档案" in html
    assert "「&#34;不存在的档案标题&#34;」与「&#34;不存在的檔案標題&#34;」" in html


def test_an_archive_with_nothing_open_has_an_empty_fonds_page(
        make_settings: Callable[..., Settings]) -> None:
    settings = make_settings()
    backend = EmbeddedBackend(settings)
    backend.upsert([Record("Q1-001-001-1", "未开放", open_status=OpenStatus.CONTROLLED)])
    client = create_app(settings, backend).test_client()
    response = client.get("/fonds")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert "目前还没有开放的档案" in html and "Q1" not in html
    assert client.get("/browse/local/Q1").status_code == 404


def test_a_hit_found_in_catalog_fields_shows_which(tmp_path: Path,
                                                  make_settings: Callable[..., Settings]) -> None:
    settings = make_settings()
    backend = EmbeddedBackend(settings)
    backend.upsert([record("P1-001-001-1", "会议记录", persons=("楊靖宇", "赵一曼"),
                           subjects=("抗日",))])
    client = create_app(settings, backend).test_client()
    html = client.get("/search?q=杨靖宇").get_data(as_text=True)
    assert "人名</span> <mark>楊靖宇</mark>；赵一曼" in html
    data = client.get("/api/v1/search?q=杨靖宇").get_json()
    assert data["hits"][0]["fields"] == [{
        "field": "persons", "text": "楊靖宇；赵一曼", "html": "<mark>楊靖宇</mark>；赵一曼",
        "page": None, "start": 0, "end": 7}]


def test_similar_records_are_shown_only_when_public(
        make_settings: Callable[..., Settings], sample_records: list[Record]) -> None:
    from lantai.search.embeddings import create_embedder

    settings = make_settings()
    backend = EmbeddedBackend(settings, embedder=create_embedder("fake:64"))
    backend.upsert(sample_records)
    client = create_app(settings, backend).test_client()
    html = client.get("/records/" + quote("J001-WS·1939-Y-0002")).get_data(as_text=True)
    assert "相似档案" in html
    similar = html[html.index("相似档案"):]
    shown = re.findall(r'<span class="code">([^<]+)</span>', similar)
    assert len(shown) == 5 and "J001-WS·1939-Y-0002" not in shown
    hidden = {r.archival_code for r in sample_records if not r.is_public}
    assert not set(shown) & hidden
    assert set(shown) <= {r.archival_code for r in sample_records if r.is_public}


def test_dates_show_as_written_and_normalised_and_fields_in_english(
        client: FlaskClient) -> None:
    code = "J001-WS·1939-Y-0001"  # 民国二十八年四月 = 1939-04-01..30
    results = client.get("/search?q=濛江").get_data(as_text=True)
    assert "民国二十八年四月 <span class=\"normalized\">(1939-04)</span>" in results
    page = client.get("/records/" + quote(code)).get_data(as_text=True)
    assert "<th scope=\"row\">日期</th><td>民国二十八年四月（1939-04）</td>" in page
    english = client.get("/records/" + quote(code) + "?lang=en").get_data(as_text=True)
    table = english.split("<table")[1].split("</table>")[0]
    assert "Reference code" in table and "Retention period" in table and "档号" not in table


def test_node_names_holding_a_slash_are_browsable(web_settings: Settings) -> None:
    backend = EmbeddedBackend(web_settings)
    backend.upsert([Record(archival_code="J400-WS/1-001-0001", title="斜杠目录中的文件",
                           fonds="J400", catalog_no="WS/1", volume_no="001", item_no="0001",
                           open_status=OpenStatus.OPEN)])
    client = create_app(web_settings, backend).test_client()
    fonds = client.get("/browse/local/J400").get_data(as_text=True)
    link = re.search(r'href="(/browse/local/J400/WS%2F1)"', fonds)
    assert link, fonds
    series = client.get(link.group(1))
    assert series.status_code == 200
    assert 'href="/browse/local/J400/WS%2F1/001"' in series.get_data(as_text=True)
    volume = client.get("/browse/local/J400/WS%2F1/001").get_data(as_text=True)
    assert "斜杠目录中的文件" in volume
    api = client.get("/api/v1" + link.group(1)).get_json()
    assert api["path"] == ["local", "J400", "WS/1"]
    assert client.get("/browse/local/J400/WS/1").status_code == 404  # two nodes: no such
