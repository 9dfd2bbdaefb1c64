"""The public site in a real browser (headless Debian chromium through Playwright), at a
desktop and a phone viewport: searching, facets, records, the language switch, escaping,
the public gate and accessibility (axe-core). Screenshots go to test-artifacts/browser/.

Selectors are visible texts and ARIA roles only, so restyling the pages does not break them.
Run with ``make test`` or ``pytest -m browser``; everything skips, saying why, without
Playwright, chromium or (for the axe checks) tools/web/fetch_assets.sh's download."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest

from tests.browser_support import (
    CURATED_CODES,
    CURATOR_NAME,
    CURATOR_PASSWORD,
    HIDDEN_CODE,
    IMAGE_CODE,
    MARKUP_CODE,
    REVIEW_CODES,
    SERVED,
    STAFF_NAME,
    STAFF_PASSWORD,
    THEME_RECORD,
    THEME_SLUG,
    VIEWPORTS,
    Tab,
    axe_script,
    axe_violations,
    launch,
    open_tab,
    serve,
)

pytestmark = pytest.mark.browser

TOTAL_ZH = re.compile(r"共 (\d+) 条结果")
TOTAL_EN = re.compile(r"(\d+) results")
RECORD = "東北抗日聯軍楊靖宇部作戰報告"


@pytest.fixture(scope="session")
def live_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The site over a small embedded index, on a loopback port for the whole session."""
    yield from serve(tmp_path_factory.mktemp("browser") / "data")


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    """One headless chromium for the session."""
    yield from launch()


@pytest.fixture(params=list(VIEWPORTS))
def tab(request: pytest.FixtureRequest, browser: Any, live_server: str) -> Iterator[Tab]:
    yield from open_tab(browser, live_server, request.param)


def total(tab: Tab, pattern: re.Pattern[str] = TOTAL_ZH) -> int:
    summary = tab.page.get_by_text(pattern)
    summary.wait_for()
    found = pattern.search(summary.inner_text())
    assert found, summary.inner_text()
    return int(found.group(1))


def search_from_home(tab: Tab, words: str) -> None:
    tab.goto("/")
    box = tab.page.get_by_role("searchbox")
    box.fill(words)
    box.press("Enter")
    tab.page.wait_for_url(re.compile(r"/search\?"))


def test_search_from_the_home_page(tab: Tab) -> None:
    tab.goto("/")
    tab.screenshot("home")
    search_from_home(tab, "杨靖宇")
    assert total(tab) == 3  # the hidden records about 杨靖宇 are not counted
    # the original script is shown; the query is folded to match it
    assert tab.page.get_by_role("link", name=RECORD).is_visible()
    assert tab.page.get_by_role("searchbox").input_value() == "杨靖宇"
    tab.screenshot("search")


def test_apply_and_remove_a_facet(tab: Tab) -> None:
    page = tab.page
    tab.goto("/search?q=")
    everything = total(tab)
    page.get_by_role("link", name=re.compile(r"^J001\b")).first.click()
    page.wait_for_url(re.compile(r"fonds=J001"))
    assert total(tab) == 2 < everything
    chips = page.get_by_role("list", name="已选条件")
    assert "J001" in chips.inner_text()
    assert page.get_by_role("link", name=RECORD).is_visible()
    assert page.get_by_role("link", name="关于公私合营工作的总结").count() == 0
    tab.screenshot("search-filtered")
    chips.get_by_role("link").first.click()
    page.wait_for_url(lambda url: "fonds=" not in url)
    assert total(tab) == everything
    assert page.get_by_role("list", name="已选条件").count() == 0


def test_a_date_range_and_a_decade(tab: Tab) -> None:
    page = tab.page
    search_from_home(tab, "杨靖宇")
    everything = total(tab)
    page.get_by_label("起").fill("民国三十八年")  # 1949, as a Republican-era date
    page.get_by_label("止").fill("1960")
    page.get_by_label("止").press("Enter")
    page.wait_for_url(re.compile(r"from=.*to=1960"))
    # the 1952 notice and the 1956 summary; the 1939 report is outside the range
    assert total(tab) == 2 < everything
    assert page.get_by_role("link", name=RECORD).count() == 0
    assert page.get_by_role("searchbox").input_value() == "杨靖宇"
    page.get_by_role("link", name="1950年代").click()
    page.wait_for_url(re.compile(r"decade=1950"))
    assert total(tab) == 2
    assert "1950年代" in page.get_by_role("list", name="已选条件").inner_text()
    tab.screenshot("search-dates")


def test_open_a_record_from_the_results(tab: Tab) -> None:
    page = tab.page
    search_from_home(tab, "濛江")
    page.get_by_role("link", name=RECORD).click()
    page.wait_for_url(re.compile(r"/records/"))
    assert page.get_by_role("heading", name=RECORD, level=1).is_visible()
    for label, value in (("档号", "J001-WS·1939-Y-0001"), ("责任者", "東北抗日聯軍第一路軍"),
                         ("全宗号", "J001"), ("保管期限", "永久")):
        row = page.get_by_role("row").filter(has=page.get_by_role("rowheader", name=label))
        assert value in row.inner_text(), (label, row.inner_text())
    assert page.get_by_role("heading", name="全文").is_visible()
    assert page.get_by_text("楊靖宇率東北抗日聯軍第一路軍於濛江").is_visible()
    tab.screenshot("record")


def _polygon_box(page: Any) -> dict[str, float]:
    return page.evaluate("() => { const r = document.querySelector("
                         "'.osd .hit-overlay polygon').getBoundingClientRect();"
                         " return {x: r.x, y: r.y, width: r.width, height: r.height}; }")


def test_hits_on_the_page_image_zoom_and_turning_pages(tab: Tab) -> None:
    page = tab.page
    search_from_home(tab, "敌机")  # simplified; the scan is traditional
    page.get_by_role("link", name=re.compile("轟炸市區損失調查表")).click()
    page.wait_for_url(re.compile(r"/records/.*q="))
    page.wait_for_function("() => document.getElementById('viewer').dataset.ready === '1'")
    page.wait_for_function("() => window.lantaiViewer.world.getItemAt(0).getFullyLoaded()")
    viewer = page.locator(".osd")
    hits = page.locator(".osd .hit-overlay polygon")
    assert hits.count() == 1  # 敵機 once on page 1, drawn over the zoomable image
    canvas = viewer.bounding_box()
    box = _polygon_box(page)
    assert box["width"] > 2 and box["height"] > 1.8 * box["width"]  # 敵機: two characters
    assert canvas["x"] <= box["x"] and box["x"] + box["width"] <= canvas["x"] + canvas["width"]
    assert page.get_by_text("图上标出 1 处命中").is_visible()
    tab.screenshot("record-image")
    page.get_by_role("button", name="放大").click()
    page.wait_for_function(
        f"() => document.querySelector('.osd .hit-overlay polygon').getBoundingClientRect().width"
        f" > {box['width'] * 1.4}")
    page.get_by_role("button", name="定位命中").click()
    page.wait_for_timeout(1500)  # the viewer animates to the hit
    tab.screenshot("record-image-zoomed")
    # a book set in columns from the right turns forward to the left
    turn = page.get_by_role("link", name="← 下一页")
    assert turn.is_visible()
    turn.click()
    page.wait_for_url(re.compile(r"image=2"))
    assert page.get_by_text("第 2 / 2 页").is_visible()
    page.wait_for_function("() => document.getElementById('viewer').dataset.ready === '1'")
    assert page.locator(".osd .hit-overlay polygon").count() == 1
    page.locator(".osd").focus()
    page.keyboard.press("ArrowRight")  # back: the previous page lies to the right
    page.wait_for_url(re.compile(r"image=1"))


def test_copy_the_citation(browser: Any, live_server: str) -> None:
    for tab in open_tab(browser, live_server, "desktop",
                        permissions=["clipboard-read", "clipboard-write"]):
        tab.goto("/records/" + quote(IMAGE_CODE))
        expected = tab.page.locator("#cite-zh").inner_text().strip()
        assert "档号 " + IMAGE_CODE in expected and "/records/" + IMAGE_CODE in expected
        tab.page.get_by_role("button", name="复制").click()
        tab.page.get_by_role("button", name="复制 ✓").wait_for()
        assert tab.page.evaluate("navigator.clipboard.readText()") == expected


def test_switch_to_english_and_back(tab: Tab) -> None:
    page = tab.page
    search_from_home(tab, "杨靖宇")
    zh_total = total(tab)
    page.get_by_role("banner").get_by_role("link", name="English").click()
    assert total(tab, TOTAL_EN) == zh_total
    assert page.locator("html").get_attribute("lang") == "en"
    assert page.get_by_role("link", name="Browse fonds").first.is_visible()
    assert page.get_by_role("searchbox").input_value() == "杨靖宇"
    tab.goto("/")  # remembered on the next page
    assert page.get_by_role("heading", name="Lantai archive search").is_visible()
    tab.screenshot("home-en")
    page.get_by_role("banner").get_by_role("link", name="中文").click()
    page.wait_for_url(re.compile(r"lang=zh"))
    assert page.get_by_role("heading", name="兰台档案检索").is_visible()
    assert page.locator("html").get_attribute("lang") == "zh-CN"
    assert page.get_by_role("link", name="全宗浏览").first.is_visible()


def no_markup_ran(tab: Tab) -> None:
    """The escaped markup reached the page as text: no element came from it."""
    page = tab.page
    assert page.evaluate("() => [...document.scripts].filter("
                         "s => s.textContent.includes('alert')).length") == 0
    assert page.locator("main b, main i").count() == 0


def test_markup_in_a_title_is_shown_as_text(tab: Tab) -> None:
    page = tab.page
    search_from_home(tab, "防汛")
    link = page.get_by_role("link", name="<script>alert(1)</script>")  # substring match
    assert link.is_visible()
    assert "<b>粗体</b><script>alert(1)</script>" in link.inner_text()
    no_markup_ran(tab)
    link.click()
    page.wait_for_url(re.compile(r"/records/"))
    heading = page.get_by_role("heading", level=1)
    assert heading.text_content() == "<b>粗体</b><script>alert(1)</script>防汛报告"
    assert page.get_by_text("<script>alert(2)</script>").first.is_visible()
    assert page.get_by_role("cell", name="<i>防汛指挥部</i>", exact=True).is_visible()
    no_markup_ran(tab)
    tab.screenshot("record-markup")
    # the dialog and script-error checks run when the tab closes


def test_a_record_that_is_not_open_is_not_found(tab: Tab) -> None:
    response = tab.goto("/records/" + quote(HIDDEN_CODE))
    assert response.status == 404
    assert tab.page.get_by_role("heading", name=re.compile("未找到")).is_visible()
    assert "纪念馆" not in tab.page.content()
    tab.screenshot("not-found")


def test_staff_sign_in_shows_unopened_records_until_sign_out(tab: Tab) -> None:
    page = tab.page
    hidden = "/records/" + quote(HIDDEN_CODE)
    assert tab.goto(hidden).status == 404
    tab.goto("/")
    page.get_by_role("banner").get_by_role("link", name="工作人员").click()
    page.wait_for_url(re.compile(r"/staff/login\?next="))
    page.get_by_label("用户名").fill(STAFF_NAME)
    page.get_by_label("密码").fill(STAFF_PASSWORD)
    page.get_by_role("button", name="登录").click()
    page.wait_for_url(re.compile(r"/staff/$"))
    assert page.get_by_text(f"已登录：{STAFF_NAME}（开放审核员）").is_visible()
    tab.screenshot("staff-home")
    search_from_home(tab, "杨靖宇")
    assert total(tab) == 5  # the two records that are not open are counted now
    assert page.get_by_text("控制", exact=True).first.is_visible()
    page.get_by_role("link", name="杨靖宇纪念馆扩建绝密方案").click()
    page.wait_for_url(re.compile(r"/records/"))
    assert page.get_by_role("note").get_by_text("本档案未开放（控制）").is_visible()
    tab.screenshot("staff-record")
    tab.goto("/staff/")
    page.get_by_role("button", name="退出").click()
    page.wait_for_url(re.compile(r"^[^?]*/$"))
    assert page.get_by_role("banner").get_by_role("button", name="退出").count() == 0
    # the back button does not bring the staff page back out of a cache: it asks again
    page.go_back()
    page.wait_for_url(re.compile(r"/staff/login"))
    assert "已登录" not in page.content()
    assert tab.goto(hidden).status == 404
    assert "扩建绝密" not in page.content()


def sign_in_as_staff(tab: Tab, next_path: str = "/staff/", name: str = STAFF_NAME,
                     password: str = STAFF_PASSWORD) -> None:
    page = tab.page
    tab.goto("/staff/login?next=" + quote(next_path))
    page.get_by_label("用户名").fill(name)
    page.get_by_label("密码").fill(password)
    page.get_by_role("button", name="登录").click()
    page.wait_for_url(re.compile(re.escape(next_path.split("?")[0])))


def test_a_reviewer_works_the_queue_and_opens_a_batch(browser: Any, live_server: str) -> None:
    for tab in open_tab(browser, live_server, "desktop"):
        page = tab.page
        tab.goto("/search?q=职工登记表")
        assert page.get_by_role("link", name="职工登记表").count() == 0
        sign_in_as_staff(tab, "/staff/review")
        page.get_by_label("发现").select_option("id_number")
        page.get_by_role("button", name="筛选").click()
        page.wait_for_url(re.compile(r"flag=id_number"))
        assert page.get_by_role("link", name=REVIEW_CODES[1]).count() == 0
        page.get_by_role("link", name=REVIEW_CODES[0]).click()
        page.wait_for_url(re.compile(r"/staff/review/record/"))
        evidence = page.locator(".text mark", has_text="11010519491231002X")
        assert evidence.is_visible()
        tab.screenshot("review-record")
        # the number is a sample in a form template, say: dismiss it as a false positive
        row = page.get_by_role("row").filter(has_text="居民身份证号码")
        row.get_by_role("button", name="排除误报").click()
        page.wait_for_load_state()
        assert page.get_by_text("已排除（误报）").is_visible()
        assert page.locator(".text mark", has_text="11010519491231002X").count() == 0
        tab.goto("/staff/review?fonds=X030")
        for code in REVIEW_CODES:
            page.get_by_label(f"选择 {code}").check()
        page.get_by_label("结论").select_option("开放")
        page.get_by_label("理由").fill("已满二十五年，内容无不宜开放情形")
        page.get_by_role("button", name="提交决定").click()
        page.get_by_role("heading", name="已决定 2 件：开放").wait_for()
        tab.screenshot("review-decided")
        # at once, for everyone
        for other in open_tab(browser, live_server, "phone"):
            other.goto("/search?q=职工登记表")
            assert other.page.get_by_role("link", name="职工登记表").is_visible()
            other.goto("/search?q=校舍")
            assert other.page.get_by_role("link", name="关于修缮校舍的报告").is_visible()


def test_a_theme_is_public_and_a_record_that_is_un_opened_leaves_it(browser: Any,
                                                                    live_server: str) -> None:
    for tab in open_tab(browser, live_server, "desktop"):
        page = tab.page
        tab.goto("/")
        page.get_by_role("banner").get_by_role("link", name="专题展览").click()
        page.get_by_role("link", name="东北抗联精神").click()
        page.wait_for_url(re.compile(rf"/collections/{THEME_SLUG}$"))
        assert page.get_by_role("link", name="東北抗日聯軍密營遺址調查").is_visible()
        assert page.get_by_text("抗联密营遗址的实地调查").is_visible()
        # the thumbnail loads lazily: bring it into view and wait for it
        page.locator(".theme-item img").first.scroll_into_view_if_needed()
        page.wait_for_function("() => { const i = document.querySelector('.theme-item img');"
                               " return i && i.complete && i.naturalWidth > 0; }")
        tab.screenshot("theme")
        # a reviewer takes the record back (控制): it leaves the public theme at once
        sign_in_as_staff(tab, "/staff/review/record/" + quote(THEME_RECORD))
        page.get_by_label("结论").select_option("控制")
        page.get_by_label("理由").fill("涉及尚未公布的遗址位置")
        page.get_by_role("button", name="提交决定").click()
        page.get_by_role("heading", name="已决定 1 件：控制").wait_for()
    for tab in open_tab(browser, live_server, "phone"):
        tab.goto(f"/collections/{THEME_SLUG}")
        assert tab.page.get_by_role("link", name="東北抗日聯軍密營遺址調查").count() == 0
        assert tab.page.get_by_role("link", name=re.compile("轟炸市區")).is_visible()


def test_a_curator_builds_curates_and_publishes_a_theme(browser: Any, live_server: str) -> None:
    first, second = CURATED_CODES
    slug = "kangmei-yuanchao"
    for tab in open_tab(browser, live_server, "desktop"):
        page = tab.page
        sign_in_as_staff(tab, f"/staff/collections/{slug}", CURATOR_NAME, CURATOR_PASSWORD)
        candidates = page.locator(".candidates")
        assert candidates.get_by_text("抗美援朝捐献飞机大炮的通知").is_visible()
        page.get_by_role("button", name=f"收录 {first}").click()
        page.get_by_role("button", name=f"收录 {second}").click()
        draft = page.locator("ol.draft > li")
        assert draft.count() == 2 and first in draft.nth(0).inner_text()
        page.get_by_role("button", name=f"上移 {second}").click()  # reorder
        assert second in page.locator("ol.draft > li").nth(0).inner_text()
        page.get_by_role("button", name=f"置顶 {first}").click()  # pin: first again
        assert first in page.locator("ol.draft > li").nth(0).inner_text()
        note = page.locator("ol.draft > li").filter(has_text=second)
        note.get_by_label("说明", exact=True).fill("志愿军归国代表团在本市的活动")
        note.get_by_role("button", name=f"保存说明 {second}").click()
        tab.screenshot("curation")
        page.get_by_role("button", name="发布新版本").click()
        page.wait_for_url(re.compile(rf"/collections/{slug}\?v=1"))
        assert page.get_by_text("志愿军归国代表团在本市的活动").is_visible()
    # public at once, for everyone; then a reviewer takes one record back
    for tab in open_tab(browser, live_server, "phone"):
        tab.goto(f"/collections/{slug}")
        assert tab.page.get_by_role("link", name="欢迎中国人民志愿军归国代表团的简报").is_visible()
        sign_in_as_staff(tab, "/staff/review/record/" + quote(second))
        tab.page.get_by_label("结论").select_option("控制")
        tab.page.get_by_label("理由").fill("需会同审核")
        tab.page.get_by_role("button", name="提交决定").click()
        tab.page.get_by_role("heading", name="已决定 1 件：控制").wait_for()
    for tab in open_tab(browser, live_server, "desktop"):
        tab.goto(f"/collections/{slug}")
        assert tab.page.get_by_role("link", name="欢迎中国人民志愿军归国代表团的简报").count() == 0
        assert tab.page.get_by_role("link", name="抗美援朝捐献飞机大炮的通知").is_visible()


def test_the_static_exhibit_works_from_disk(browser: Any, live_server: str,
                                            tmp_path: Path) -> None:
    from lantai.config import load_settings
    from lantai.iiif.store import ImageStore
    from lantai.search.backends.embedded import EmbeddedBackend
    from lantai.thematic_collections.exhibit import export
    from lantai.thematic_collections.store import CollectionStore
    from lantai.thematic_collections.themes import load_themes

    data = SERVED[live_server]
    backend = EmbeddedBackend(load_settings(environ={}, overrides={"data_dir": data}))
    version = CollectionStore.in_data_dir(data).version(THEME_SLUG)
    assert version is not None
    index = export(load_themes()[THEME_SLUG], version, backend, ImageStore.in_data_dir(data),
                   tmp_path / "exhibit", "static", archive_name="本馆")
    backend.close()
    for tab in open_tab(browser, "file://", "desktop"):
        page = tab.page
        failed: list[str] = []
        page.on("requestfailed", lambda r, sink=failed: sink.append(r.url))
        page.goto(index.as_uri())
        assert page.get_by_role("heading", level=1).inner_text().startswith("东北抗联精神")
        images = page.locator("img")
        assert images.count() >= 1
        assert all(images.nth(i).evaluate("i => i.complete && i.naturalWidth > 0")
                   for i in range(images.count()))
        for ref in page.evaluate("() => [...document.querySelectorAll('[src],[href]')]"
                                 ".map(e => e.getAttribute('src') || e.getAttribute('href'))"):
            if not ref.startswith("#"):
                assert (index.parent / ref).is_file(), ref
        page.get_by_label("在本专题中检索").fill("杨靖宇")  # simplified; the text is traditional
        page.get_by_role("button", name="检索").click()
        results = page.locator("#results")
        results.get_by_text(re.compile("共 [1-9]")).wait_for()
        assert results.locator("mark", has_text="楊靖宇").count() >= 1
        tab.screenshot("exhibit-static")
        assert not failed, failed


# -- accessibility ----------------------------------------------------------------------------
#: One page per type. Serious or critical axe-core violations fail the test; the ones the
#: pages have today are listed in KNOWN so the test passes until they are fixed (strict: it
#: then fails, asking for the entry to go).
PAGES = {
    "home": "/",
    "search": "/search?q=杨靖宇",
    "search-filtered": "/search?q=&fonds=J001",
    "record": "/records/" + quote("J001-WS·1939-Y-0001"),
    "record-image": "/records/" + quote(IMAGE_CODE) + "?q=敌机",
    "record-markup": "/records/" + MARKUP_CODE,
    "browse": "/fonds",
    "not-found": "/records/" + quote(HIDDEN_CODE),
    "home-en": "/?lang=en",
    "staff-login": "/staff/login",
    "collections": "/collections",
    "collection": f"/collections/{THEME_SLUG}",
    "collection-search": f"/collections/{THEME_SLUG}?q=抗日",
}
KNOWN: dict[tuple[str, str], str] = {}


def axe_cases() -> Iterator[Any]:
    for kind in PAGES:
        for viewport in VIEWPORTS:
            reason = KNOWN.get((kind, viewport))
            marks = [pytest.mark.xfail(strict=True, reason=reason)] if reason else []
            yield pytest.param(kind, viewport, marks=marks, id=f"{kind}-{viewport}")


@pytest.mark.parametrize(("kind", "viewport"), list(axe_cases()))
def test_no_serious_accessibility_violations(browser: Any, live_server: str,
                                             kind: str, viewport: str) -> None:
    script = axe_script()
    # axe is injected as an inline script, which the site's CSP (script-src 'self') refuses:
    # this context alone bypasses the CSP.
    for tab in open_tab(browser, live_server, viewport, bypass_csp=True):
        tab.goto(PAGES[kind])
        violations = axe_violations(tab, script)
        assert not violations, f"{kind} at {viewport}: " + "; ".join(violations)


#: Staff page types, checked signed in (a reviewer).
STAFF_PAGES = {
    "staff-home": "/staff/",
    "staff-review-queue": "/staff/review",
    "staff-review-record": "/staff/review/record/" + quote(HIDDEN_CODE),
    "staff-record-unopened": "/records/" + quote(HIDDEN_CODE),
}


@pytest.mark.parametrize("viewport", list(VIEWPORTS))
def test_no_serious_accessibility_violations_on_curation_pages(browser: Any, live_server: str,
                                                               viewport: str) -> None:
    script = axe_script()
    for tab in open_tab(browser, live_server, viewport, bypass_csp=True):
        sign_in_as_staff(tab, "/staff/collections", CURATOR_NAME, CURATOR_PASSWORD)
        found = [f"staff-collections: {v}" for v in axe_violations(tab, script)]
        assert tab.goto("/staff/collections/leifeng").status == 200
        found += [f"staff-collection: {v}" for v in axe_violations(tab, script)]
        assert not found, f"at {viewport}: " + "; ".join(found)


@pytest.mark.parametrize("viewport", list(VIEWPORTS))
def test_no_serious_accessibility_violations_on_staff_pages(browser: Any, live_server: str,
                                                            viewport: str) -> None:
    script = axe_script()
    for tab in open_tab(browser, live_server, viewport, bypass_csp=True):
        sign_in_as_staff(tab)
        found = []
        for kind, path in STAFF_PAGES.items():
            assert tab.goto(path).status == 200, path
            found += [f"{kind}: {v}" for v in axe_violations(tab, script)]
        assert not found, f"at {viewport}: " + "; ".join(found)


def test_the_axe_check_finds_a_known_violation(browser: Any, live_server: str) -> None:
    """Guards the check itself: a page with an unlabelled image and field must fail it."""
    script = axe_script()
    for tab in open_tab(browser, live_server, "desktop", bypass_csp=True):
        tab.page.set_content('<html lang="en"><title>t</title><main><img src="data:,">'
                             '<input type="text"></main></html>')
        found = {line.split()[0] for line in axe_violations(tab, script)}
        assert {"image-alt", "label"} <= found, found
