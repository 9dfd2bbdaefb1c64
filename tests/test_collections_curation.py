"""Curating a theme, publishing immutable versions, the public theme pages, and the exports
(JSON, IIIF collection, a static exhibit that searches itself from disk)."""

from __future__ import annotations

import json
import re
import sqlite3
from collections.abc import Callable
from pathlib import Path
from urllib.parse import quote

import pytest
from click.testing import CliRunner
from flask import Flask

from lantai.catalog.model import OpenStatus, Record
from lantai.cli import main
from lantai.config import Settings
from lantai.errors import BadQueryError, NotFound
from lantai.iiif.store import ImageStore
from lantai.search.backends.base import StatusChange
from lantai.search.backends.embedded import EmbeddedBackend
from lantai.search_app import create_app
from lantai.thematic_collections.exhibit import export, public_items
from lantai.thematic_collections.store import CollectionStore
from lantai.thematic_collections.themes import load_themes

THEME = "dongbei-kanglian"
CODES = ["K1-001-001-001", "K1-001-001-002", "K1-001-001-003"]


def rec(code: str, title: str, text: str, year: int) -> Record:
    return Record(archival_code=code, title=title, pages=(text,), year=year,
                  date_start=year * 10000 + 101, date_end=year * 10000 + 1231,
                  date_text=f"{year}年", open_status=OpenStatus.OPEN)


@pytest.fixture
def setup(make_settings: Callable[..., Settings]) -> tuple[Settings, EmbeddedBackend,
                                                           CollectionStore]:
    settings = make_settings()
    backend = EmbeddedBackend(settings)
    backend.upsert([
        rec(CODES[0], "楊靖宇部作戰報告", "民國二十八年楊靖宇率東北抗日聯軍與日軍作戰。", 1939),
        rec(CODES[1], "关于学习东北抗日联军英雄事迹的通知", "学习杨靖宇、赵一曼等英烈的事迹。",
            1994),
        rec(CODES[2], "東北抗日聯軍密營遺址調查", "調查濛江一帶抗聯密營遺址。", 1985),
    ])
    return settings, backend, CollectionStore.in_data_dir(settings.data_dir)


def test_curate_and_publish_immutable_versions(
        setup: tuple[Settings, EmbeddedBackend, CollectionStore]) -> None:
    _, _, store = setup
    with pytest.raises(BadQueryError):
        store.publish(THEME, ("导言", "intro"), "zhou")  # nothing accepted yet
    store.accept(THEME, CODES, "zhou")
    store.pin(THEME, CODES[2], True, "zhou")
    store.move(THEME, CODES[1], 1, "zhou")
    store.annotate(THEME, CODES[0], "zhou", note_zh="杨靖宇牺牲前一年的战报", note_en="A report")
    assert [i.archival_code for i in store.draft(THEME)] == [CODES[2], CODES[1], CODES[0]]
    first = store.publish(THEME, ("导言一", "Intro one"), "zhou")
    assert first.version == 1 and first.items[0].pinned
    store.exclude(THEME, CODES[1], "li")
    second = store.publish(THEME, ("导言二", "Intro two"), "li")
    assert [i.archival_code for i in second.items] == [CODES[2], CODES[0]]
    assert [i.archival_code for i in store.version(THEME, 1).items] == \
        [CODES[2], CODES[1], CODES[0]]  # version 1 stays as published
    conn = sqlite3.connect(store.path)
    with pytest.raises(sqlite3.DatabaseError):
        conn.execute("UPDATE versions SET content = '{}' WHERE version = 1")
    conn.rollback()
    conn.close()
    actions = [(c["actor"], c["action"]) for c in store.changes(THEME)]
    assert actions[0] == ("li", "publish") and ("zhou", "annotate") in actions
    with pytest.raises(NotFound):
        store.pin(THEME, "nope", True, "zhou")


def test_public_theme_pages_and_a_record_that_stops_being_open(
        setup: tuple[Settings, EmbeddedBackend, CollectionStore]) -> None:
    settings, backend, store = setup
    store.accept(THEME, CODES, "zhou")
    store.pin(THEME, CODES[0], True, "zhou")
    store.publish(THEME, ("抗联导言", "Intro"), "zhou")
    app = create_app(settings, backend)
    client = app.test_client()
    index = client.get("/collections").get_data(as_text=True)
    assert "东北抗联精神" in index and "3 件档案 · 第 1 版" in index
    page = client.get(f"/collections/{THEME}").get_data(as_text=True)
    assert page.index("1939") < page.index("1985") < page.index("1994")  # the timeline
    assert "楊靖宇部作戰報告" in page
    # search inside the theme: a simplified query finds the traditional record
    found = client.get(f"/collections/{THEME}?q=杨靖宇").get_data(as_text=True)
    assert "<mark>楊靖宇</mark>部作戰報告" in found
    # the pinned record stops being 开放: it leaves the public theme at once
    backend.update_status([StatusChange(CODES[0], OpenStatus.CONTROLLED)])
    page = client.get(f"/collections/{THEME}").get_data(as_text=True)
    assert "楊靖宇部作戰報告" not in page
    assert "楊靖宇部作戰報告" not in client.get(f"/collections/{THEME}?q=杨靖宇").get_data(
        as_text=True)
    assert "2 件档案" in client.get("/collections").get_data(as_text=True)
    assert client.get("/collections/nothing").status_code == 404
    assert client.get(f"/collections/{THEME}?v=9").status_code == 404
    assert client.get(f"/collections/{THEME}?v=x").status_code == 404


def test_exports(setup: tuple[Settings, EmbeddedBackend, CollectionStore],
                 tmp_path: Path) -> None:
    settings, backend, store = setup
    store.accept(THEME, CODES, "zhou")
    version = store.publish(THEME, ("导言", "Intro"), "zhou")
    backend.update_status([StatusChange(CODES[2], OpenStatus.DEFERRED)])
    theme = load_themes()[THEME]
    images = ImageStore.in_data_dir(settings.data_dir)
    data = json.loads(export(theme, version, backend, images, tmp_path, "json").read_text(
        encoding="utf-8"))
    assert [i["archival_code"] for i in data["items"]] == CODES[:2]  # not the deferred one
    with pytest.raises(BadQueryError):
        export(theme, version, backend, images, tmp_path, "iiif")  # needs the site's address
    collection = json.loads(export(theme, version, backend, images, tmp_path, "iiif",
                                   base_url="https://archive.example").read_text("utf-8"))
    assert collection["type"] == "Collection" and collection["items"] == []  # no page images
    index = export(theme, version, backend, images, tmp_path / "site", "static",
                   archive_name="本馆")
    page = index.read_text(encoding="utf-8")
    script = (tmp_path / "site" / "data.js").read_text(encoding="utf-8")
    assert "東北抗日聯軍密營遺址調查" not in page + script
    exhibit = json.loads(script.removeprefix("window.EXHIBIT = ").rstrip().rstrip(";"))
    assert exhibit["fold"]["楊"] == "杨" and exhibit["fold"]["聯"] == "联"
    for ref in re.findall(r'(?:src|href)="([^"#]+)"', page):
        assert (tmp_path / "site" / ref).is_file(), ref
    assert len(public_items(backend, version)) == 2


def test_curation_from_the_command_line(
        setup: tuple[Settings, EmbeddedBackend, CollectionStore], tmp_path: Path,
        cheap_passwords: None) -> None:
    settings, _, _ = setup
    data = str(settings.data_dir)

    def run(*args: str, stdin: str | None = None) -> tuple[int, str]:
        result = CliRunner().invoke(main, ["--data-dir", data, *args], input=stdin)
        return result.exit_code, result.output

    run("users", "add", "zhou", "--role", "curator", "--password-stdin",
        stdin="策展人的密码 2026\n")
    run("users", "add", "wang", "--role", "reviewer", "--password-stdin",
        stdin="审核员的密码 2026\n")
    assert run("collections", "curate", THEME, "accept", *CODES, "--curator", "wang")[0] == 4
    code, out = run("collections", "curate", THEME, "accept", *CODES, "--curator", "zhou")
    assert code == 0 and "3 accepted" in out
    assert run("collections", "curate", THEME, "accept", "X-9", "--curator", "zhou")[0] == 3
    assert run("collections", "curate", THEME, "move", CODES[2], "--curator", "zhou")[0] == 2
    assert run("collections", "curate", THEME, "move", CODES[2], "--position", "1",
               "--curator", "zhou")[0] == 0
    code, out = run("collections", "publish", THEME, "--curator", "zhou")
    assert code == 0 and "version 1 published: 3 records" in out
    code, out = run("collections", "export", THEME, "--out", str(tmp_path / "x"),
                    "--format", "json")
    assert code == 0 and json.loads((tmp_path / "x" / f"{THEME}-v1.json").read_text(
        encoding="utf-8"))["items"][0]["archival_code"] == CODES[2]
    assert run("collections", "export", "nothing", "--out", str(tmp_path))[0] == 3
    code, out = run("collections", "build", THEME, "--json")
    assert code == 0 and {c["archival_code"] for c in json.loads(out)} >= {CODES[0], CODES[1]}


def test_the_record_page_link_of_a_theme_item_works(
        setup: tuple[Settings, EmbeddedBackend, CollectionStore]) -> None:
    settings, backend, store = setup
    store.accept(THEME, CODES[:1], "zhou")
    store.publish(THEME, ("导言", "Intro"), "zhou")
    app: Flask = create_app(settings, backend)
    page = app.test_client().get(f"/collections/{THEME}").get_data(as_text=True)
    assert f'href="/records/{quote(CODES[0])}"' in page or f'href="/records/{CODES[0]}"' in page


def _form_token(client: object, path: str) -> str:
    page = client.get(path).get_data(as_text=True)  # type: ignore[attr-defined]
    found = re.search(r'name="csrf_token" value="([^"]+)"', page)
    assert found
    return found.group(1)


@pytest.mark.usefixtures("cheap_passwords")
def test_curation_pages_for_curators_only(
        setup: tuple[Settings, EmbeddedBackend, CollectionStore]) -> None:
    from lantai.accounts.roles import Role

    settings, backend, store = setup
    app = create_app(settings, backend)
    accounts = app.extensions["lantai"].accounts
    accounts.add_user("zhou", Role.CURATOR, "策展人的密码 2026")
    accounts.add_user("wang", Role.REVIEWER, "审核员的密码 2026")

    def signed_in(name: str, password: str) -> object:
        client = app.test_client()
        client.post("/staff/login", data={"username": name, "password": password,
                                          "csrf_token": _form_token(client, "/staff/login")})
        return client

    anonymous = app.test_client()
    assert anonymous.get(f"/staff/collections/{THEME}").status_code == 302
    reviewer = signed_in("wang", "审核员的密码 2026")
    assert reviewer.get("/staff/collections").status_code == 403  # type: ignore
    curator = signed_in("zhou", "策展人的密码 2026")
    page = curator.get(f"/staff/collections/{THEME}").get_data(as_text=True)  # type: ignore
    assert "楊靖宇部作戰報告" in page  # a candidate
    token = _form_token(curator, f"/staff/collections/{THEME}")

    def act(action: str, **form: str) -> int:
        return curator.post(f"/staff/collections/{THEME}/{action}",  # type: ignore
                            data={"csrf_token": token, **form}).status_code

    assert curator.post(f"/staff/collections/{THEME}/accept",  # type: ignore
                        data={"code": CODES[0]}).status_code == 400  # no CSRF token
    for code in CODES:
        assert act("accept", code=code) == 303
    assert act("pin", code=CODES[2]) == 303
    assert act("down", code=CODES[0]) == 303
    assert act("note", code=CODES[1], note_zh="九十年代的纪念", note_en="A remembrance",
               timeline="1994") == 303
    assert [i.archival_code for i in store.draft(THEME)] == [CODES[2], CODES[1], CODES[0]]
    assert act("frobnicate", code=CODES[0]) == 400
    assert act("accept", code="NO-SUCH") == 404
    publish = curator.post(f"/staff/collections/{THEME}/publish",  # type: ignore
                           data={"csrf_token": token})
    assert publish.status_code == 303 and publish.headers["Location"].endswith("?v=1")
    public = app.test_client().get(f"/collections/{THEME}").get_data(as_text=True)
    assert "九十年代的纪念" in public
    assert store.changes(THEME)[0]["actor"] == "zhou"


def test_facets_inside_a_theme_and_a_search_across_all_themes(
        setup: tuple[Settings, EmbeddedBackend, CollectionStore]) -> None:
    settings, backend, store = setup
    store.accept(THEME, CODES, "zhou")
    store.publish(THEME, ("导言", "Intro"), "zhou")
    store.accept("leifeng", [CODES[1]], "zhou")
    store.publish("leifeng", ("导言", "Intro"), "zhou")
    client = create_app(settings, backend).test_client()
    inside = client.get(f"/collections/{THEME}?q=东北抗日联军").get_data(as_text=True)
    assert "共 3 条结果" in inside and 'decade=1930' in inside  # a facet link
    narrowed = client.get(f"/collections/{THEME}?q=东北抗日联军&decade=1930").get_data(
        as_text=True)
    assert "共 1 条结果" in narrowed and "楊靖宇部作戰報告" in narrowed
    across = client.get("/collections?q=英烈").get_data(as_text=True)
    assert "共 1 条结果" in across
    result = across[across.index("theme-results"):]
    assert "东北抗联精神" in result and "雷锋精神" in result  # the themes holding it
    backend.upsert([rec("P1-001-001-001", "拖拉机厂的报告", "拖拉机", 1960)])  # in no theme
    nothing = client.get("/collections?q=拖拉机").get_data(as_text=True)
    assert "共 0 条结果" in nothing  # only the themes' records are searched
    assert client.get(f"/collections/{THEME}?q=x&decade=abc").status_code == 400


def test_a_theme_page_offers_facets_without_a_search(
        setup: tuple[Settings, EmbeddedBackend, CollectionStore]) -> None:
    settings, backend, store = setup
    store.accept(THEME, CODES, "zhou")
    store.publish(THEME, ("导言", "Intro"), "zhou")
    client = create_app(settings, backend).test_client()
    page = client.get(f"/collections/{THEME}").get_data(as_text=True)
    assert "1930年代" in page and f"/collections/{THEME}?decade=1930" in page
    narrowed = client.get(f"/collections/{THEME}?decade=1990").get_data(as_text=True)
    assert "共 1 条结果" in narrowed and "关于学习东北抗日联军英雄事迹的通知" in narrowed
    assert "楊靖宇部作戰報告" not in narrowed


def test_theme_facets_read_in_english(
        setup: tuple[Settings, EmbeddedBackend, CollectionStore]) -> None:
    settings, backend, store = setup
    store.accept(THEME, CODES, "zhou")
    store.publish(THEME, ("导言", "Intro"), "zhou")
    page = create_app(settings, backend).test_client().get(
        f"/collections/{THEME}?lang=en").get_data(as_text=True)
    assert ">1930s</a>" in page and "年代" not in page and "Decade:" in page
