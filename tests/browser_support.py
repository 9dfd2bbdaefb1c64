"""What the browser tests need besides the tests: the browser and page fixtures, a live server
over a small embedded index, axe-core and screenshots.

The browser is Debian's ``chromium`` driven by Playwright for Python (``lantai[dev]``); Playwright's
own browser downloads are not used. Everything skips, saying why, when either is missing.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from lantai.catalog.model import OpenStatus, Record
from lantai.config import Settings, load_settings
from lantai.search.backends.embedded import EmbeddedBackend
from lantai.search_app import create_app
from tests.conftest import record

ROOT = Path(__file__).resolve().parents[1]
SCREENSHOTS = ROOT / "test-artifacts" / "browser"
AXE_LOCK = ROOT / "tools" / "web" / "axe-core.lock"
VIEWPORTS = {"desktop": {"width": 1280, "height": 900}, "phone": {"width": 390, "height": 844}}

MARKUP_CODE = "J300-001-001-0001"
MARKUP_TITLE = "<b>粗体</b><script>alert(1)</script>防汛报告"
HIDDEN_CODE = "X001-WS·1985-Y-0099"
#: A record with two scanned pages, set in columns read from the right, and their lines.
IMAGE_CODE = "J017-001-002-003"
#: A published theme of the live server, and a record of it the theme test un-opens.
THEME_SLUG = "dongbei-kanglian"
THEME_RECORD = "X040-WS·1985-Y-0001"
#: The data folder behind each live server's address.
SERVED: dict[str, Path] = {}
#: Records the open-review browser test decides.
REVIEW_CODES = ("X030-WS·1960-Y-0001", "X030-WS·1960-Y-0002")
#: Staff accounts of the live server (argon2id at its real cost).
STAFF_NAME, STAFF_PASSWORD = "reviewer1", "档案开放审核 2026"
CURATOR_NAME, CURATOR_PASSWORD = "curator1", "专题展览策展 2026"
#: Records the curator's browser test puts in a theme.
CURATED_CODES = ("X001-WS·1952-Y-0010", "X001-WS·1953-Y-0011")
IMAGE_PAGES = (("四月廿三日敵機九架轟炸市區", "炸毀民房四十餘間"),
               ("市民死傷另表呈報", "敵機去後即行救護"))


def browser_records() -> list[Record]:
    """A few fonds, dates in several decades, a title made of markup and records not open."""
    return [
        record("J001-WS·1939-Y-0001", "東北抗日聯軍楊靖宇部作戰報告",
               "民國二十八年四月，楊靖宇率東北抗日聯軍第一路軍於濛江\n一帶與日軍作戰，斃敵甚衆。",
               fonds="J001", fonds_name="安澜市政府", category="文书", year=1939,
               date_text="民国二十八年四月", date_start=19390401, date_end=19390430,
               creator="東北抗日聯軍第一路軍", retention="永久"),
        record("J001-WS·1939-Y-0002", "关于救济难民的报告",
               "本会收容难民三百余人，米价上涨，请拨款救济。", fonds="J001",
               fonds_name="安澜市政府", category="文书", year=1939, date_text="1939-05-12",
               date_start=19390512, date_end=19390512, creator="难民救济委员会",
               retention="长期"),
        record(IMAGE_CODE, "敵機轟炸市區損失調查表", fonds="J017", category="文书",
               year=1939, date_text="19390423", date_start=19390423, date_end=19390423,
               creator="防空司令部", retention="永久").with_pages(
                   tuple("\n".join(lines) for lines in IMAGE_PAGES)),
        record("X001-WS·1952-Y-0010", "抗美援朝捐献飞机大炮的通知",
               "各单位要积极响应号召，开展捐献飞机大炮运动，纪念杨靖宇将军。", fonds="X001",
               category="文书", year=1952, date_text="1952年6月1日", date_start=19520601,
               date_end=19520601, creator="中共安澜市委", retention="永久"),
        record("X012-WS·1956-D30-0003", "关于公私合营工作的总结",
               "全市私营工商业实行全行业公私合营，杨靖宇路商店全部合营。", fonds="X012",
               category="文书", year=1956, date_text="1956", date_start=19560101,
               date_end=19561231, creator="安澜市计划委员会", retention="定期30年"),
        record("X020-WS·1978-Y-0002", "恢复高考招生工作的意见", "恢复高考 招生 工作",
               fonds="X020", category="文书", year=1978, creator="安澜市教育局",
               retention="永久"),
        record(MARKUP_CODE, MARKUP_TITLE, "防汛 <i>堤坝</i> & 抢险 <script>alert(2)</script>",
               fonds="J300", year=1998, creator="<i>防汛指挥部</i>", retention="永久"),
        record(CURATED_CODES[1], "欢迎中国人民志愿军归国代表团的简报",
               "全市各界热烈欢迎中国人民志愿军归国代表团，抗美援朝运动深入开展。", fonds="X001",
               category="文书", year=1953, date_text="1953年3月", date_start=19530301,
               date_end=19530331, creator="中共安澜市委", retention="永久"),
        # not public: the site must answer as if they did not exist
        record(HIDDEN_CODE, "杨靖宇纪念馆扩建绝密方案", "机密内容：杨靖宇纪念馆扩建。",
               fonds="X099", year=1985, creator="秘密机关", open_status=OpenStatus.CONTROLLED,
               classification="机密"),
        record("X001-WS·1990-Y-0100", "未审核的杨靖宇资料", "杨靖宇 未审核 文本", fonds="X099",
               year=1990, open_status=OpenStatus.UNREVIEWED),
        # waiting for open review: one with an ID number in its text, one clear-cut
        record(REVIEW_CODES[0], "职工登记表", "职工王秀英，身份证11010519491231002X，1958年入厂。",
               fonds="X030", year=1960, date_text="1960年", date_start=19600101,
               date_end=19601231, open_status=OpenStatus.UNREVIEWED),
        record(THEME_RECORD, "東北抗日聯軍密營遺址調查", "調查濛江一帶抗聯密營遺址。",
               fonds="X040", year=1985, date_text="1985年", date_start=19850101,
               date_end=19851231),
        record(REVIEW_CODES[1], "关于修缮校舍的报告", "校舍年久失修，拟予修缮。", fonds="X030",
               year=1960, date_text="1960年3月1日", date_start=19600301, date_end=19600301,
               open_status=OpenStatus.UNREVIEWED),
    ]


def serve(data_dir: Path) -> Iterator[str]:
    """The web app over a fresh embedded index in ``data_dir``, served on an ephemeral loopback
    port in a background thread until the generator is closed; yields its base URL."""
    from werkzeug.serving import make_server

    settings: Settings = load_settings(environ={}, overrides={"data_dir": data_dir})
    backend = EmbeddedBackend(settings)
    report = backend.upsert(browser_records())
    assert not report.failed, report
    _page_images(backend, data_dir)
    from lantai.accounts.roles import Role
    from lantai.accounts.store import AccountStore

    accounts = AccountStore.in_data_dir(data_dir)
    accounts.add_user(STAFF_NAME, Role.REVIEWER, STAFF_PASSWORD)
    accounts.add_user(CURATOR_NAME, Role.CURATOR, CURATOR_PASSWORD)
    from lantai.thematic_collections.store import CollectionStore

    themes = CollectionStore.in_data_dir(data_dir)
    themes.accept(THEME_SLUG, ["J001-WS·1939-Y-0001", IMAGE_CODE, THEME_RECORD], "curator")
    themes.annotate(THEME_SLUG, THEME_RECORD, "curator", note_zh="抗联密营遗址的实地调查")
    themes.publish(THEME_SLUG, ("杨靖宇与东北抗日联军", "Yang Jingyu and the NE army"), "curator")
    server = make_server("127.0.0.1", 0, create_app(settings, backend), threaded=True)
    thread = threading.Thread(target=server.serve_forever, name="lantai-browser-tests",
                              daemon=True)
    thread.start()
    base = f"http://127.0.0.1:{server.server_port}"
    SERVED[base] = data_dir
    try:
        yield base
    finally:
        server.shutdown()
        thread.join(timeout=10)
        backend.close()


def _page_images(backend: EmbeddedBackend, data_dir: Path) -> None:
    """Scans of :data:`IMAGE_CODE` typeset with a system CJK font (the test skips without
    one), with their line boxes as the OCR would give them, cut into tiles."""
    from lantai.catalog.model import safe_filename
    from lantai.demo.scans import find_cjk_font, typeset
    from lantai.errors import MissingDependency
    from lantai.iiif.build import build_images
    from lantai.iiif.store import ImageStore
    from lantai.ocr.model import OcrBlock, OcrLine, OcrPage

    try:
        font = find_cjk_font()
    except MissingDependency as exc:
        pytest.skip(str(exc))
    ocr = data_dir.parent / "ocr"
    folder = ocr / safe_filename(IMAGE_CODE)
    folder.mkdir(parents=True)
    (ocr / "_state").mkdir()
    journal = []
    for number, lines in enumerate(IMAGE_PAGES, start=1):
        page = typeset("\n".join(lines), vertical=True, script="traditional", font_path=font)
        scan = data_dir.parent / "scans" / f"{number}.png"
        scan.parent.mkdir(exist_ok=True)
        page.image.save(scan)
        width, height = page.image.size
        ocr_page = OcrPage(scan.name, 1, width, height, 0, "vertical-rl", tuple(
            OcrLine(text, box, 1.0, k, 0, True) for k, (text, box) in enumerate(page.lines)),
            (OcrBlock(0, "text", (0, 0, width, height)),), "typeset")
        (folder / f"{number}.json").write_text(json.dumps(ocr_page.to_dict()), "utf-8")
        journal.append(json.dumps({"key": str(number), "item": str(scan),
                                   "record": folder.name, "stem": str(number)}))
    (ocr / "_state" / "journal.jsonl").write_text("\n".join(journal) + "\n", "utf-8")
    built = build_images(backend.iter_records(public=False),
                         ImageStore.in_data_dir(data_dir), ocr_dir=ocr)
    assert built.failures == [] and built.pages_written == 2, built


def chromium_path() -> str | None:
    """Debian's chromium (``LANTAI_CHROMIUM`` overrides), or None."""
    wanted = os.environ.get("LANTAI_CHROMIUM")
    if wanted:
        return wanted if Path(wanted).is_file() else None
    return shutil.which("chromium") or next(
        (p for p in ("/usr/bin/chromium", "/usr/bin/chromium-browser") if Path(p).is_file()),
        None)


def launch() -> Iterator[Any]:
    """A headless chromium driven by Playwright, closed with the generator; skips the test
    when Playwright or chromium is missing or does not start."""
    try:
        from playwright.sync_api import Error, sync_playwright
    except ImportError:
        pytest.skip("Playwright for Python is not installed: pip install -e '.[dev]'")
    executable = chromium_path()
    if executable is None:
        pytest.skip("chromium is not installed (Debian: apt-get install chromium; or set "
                    "LANTAI_CHROMIUM to a Chromium binary)")
    args = ["--no-sandbox"] if hasattr(os, "getuid") and os.getuid() == 0 else []
    with sync_playwright() as playwright:
        try:
            # Playwright turns the back/forward cache off; browsers have it on, and the
            # sign-out test needs it to show that staff pages are never restored from it
            instance = playwright.chromium.launch(executable_path=executable, headless=True,
                                                  ignore_default_args=[
                                                      "--disable-back-forward-cache"],
                                                  args=args)
        except Error as exc:
            pytest.skip(f"chromium at {executable} did not start under Playwright: {exc}")
        yield instance
        instance.close()


@dataclass
class Tab:
    """A page at one viewport, with what it saw that a test must never see."""

    page: Any
    base: str
    viewport: str
    dialogs: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)

    def goto(self, path: str) -> Any:
        return self.page.goto(self.base + path)

    def screenshot(self, kind: str) -> Path:
        """Save the whole page as test-artifacts/browser/<kind>-<viewport>.png."""
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        path = SCREENSHOTS / f"{kind}-{self.viewport}.png"
        self.page.screenshot(path=str(path), full_page=True)
        return path


def open_tab(browser: Any, base: str, viewport: str, **context_options: Any) -> Iterator[Tab]:
    """A fresh context (no cookies carried over) and page at ``viewport``; fails the test
    if the page opened a dialog or threw a script error."""
    context = browser.new_context(viewport=VIEWPORTS[viewport], locale="zh-CN",
                                  **context_options)
    context.set_default_timeout(10_000)
    page = context.new_page()
    tab = Tab(page=page, base=base, viewport=viewport)

    def on_dialog(dialog: Any) -> None:
        tab.dialogs.append(f"{dialog.type}: {dialog.message}")
        dialog.dismiss()

    page.on("dialog", on_dialog)
    page.on("pageerror", lambda exc: tab.errors.append(str(exc)))
    try:
        yield tab
    finally:
        context.close()
    assert not tab.dialogs, f"the page opened dialogs (a script ran): {tab.dialogs}"
    assert not tab.errors, f"script errors on the page: {tab.errors}"


# -- axe-core ---------------------------------------------------------------------------------
def axe_script() -> Path:
    """axe.min.js as tools/web/fetch_assets.sh unpacks it; skips the test when absent."""
    lock = AXE_LOCK.read_text(encoding="utf-8")
    version = re.search(r"^version=(\S+)", lock, re.MULTILINE)
    assert version, AXE_LOCK
    cache = Path(os.environ.get("LANTAI_WEB_ASSETS") or Path.home() / ".cache/lantai/web")
    path = cache / f"axe-core-{version.group(1)}" / "axe.min.js"
    if not path.is_file():
        pytest.skip(f"axe-core {version.group(1)} is not at {path}: run "
                    "bash tools/web/fetch_assets.sh (needs npm and the npm registry)")
    return path


#: Impacts that fail a page.
BLOCKING = ("serious", "critical")


def axe_violations(tab: Tab, script: Path) -> list[str]:
    """Run axe-core on the loaded page; one line per serious or critical violation and
    element: ``rule-id (impact) at selector``."""
    tab.page.add_script_tag(path=str(script))
    result = tab.page.evaluate("async () => await axe.run(document, "
                               "{resultTypes: ['violations']})")
    return [f"{v['id']} ({v['impact']}) at {' '.join(map(str, node['target']))}"
            for v in result["violations"] if v["impact"] in BLOCKING for node in v["nodes"]]
