"""Citations and search inside one record, without the web layer."""

from __future__ import annotations

import datetime

from lantai.catalog.citation import cite
from lantai.catalog.model import Record
from lantai.search.highlight import hits_in_pages
from lantai.text.analysis import default_analyzer


def test_citation_in_chinese_and_english() -> None:
    record = Record("J017-001-002-003", "敵機轟炸市區損失調查表", creator="防空司令部",
                    date_text="民国二十八年四月")
    c = cite(record, archive_name="安澜市档案馆", url="https://archive.example/records/x",
             accessed=datetime.date(2026, 12, 4))
    assert c.zh == ("防空司令部：《敵機轟炸市區損失調查表》，民国二十八年四月，安澜市档案馆藏，"
                    "档号 J017-001-002-003，https://archive.example/records/x（2026年12月4日访问）。")
    assert c.en == ("防空司令部, “敵機轟炸市區損失調查表”, 民国二十八年四月. 安澜市档案馆, "
                    "J017-001-002-003. https://archive.example/records/x (accessed 2026-12-04).")
    bare = cite(Record("A-1", "无责任者", year=1950), archive_name="馆", url="u",
                accessed=datetime.date(2026, 1, 2))
    assert bare.zh.startswith("《无责任者》，1950，馆藏")
    assert bare.en.startswith("“无责任者”, 1950.")


def test_hits_are_marked_and_counted_per_page() -> None:
    analyzer = default_analyzer()
    pages = ("楊靖宇率部作戰。楊靖宇", "無關的一頁", "杨靖宇")
    found = hits_in_pages(pages, ("杨靖宇",), analyzer)
    assert [(p.page, p.hits) for p in found] == [(1, 2), (2, 0), (3, 1)]
    assert found[0].text.html() == "<mark>楊靖宇</mark>率部作戰。<mark>楊靖宇</mark>"
    assert found[1].text.text == "無關的一頁" and found[2].text.page == 3
    assert [p.hits for p in hits_in_pages(pages, (), analyzer)] == [0, 0, 0]
