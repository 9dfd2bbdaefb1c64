"""档号 parsing (DA/T 13—2022) and the record value."""

from __future__ import annotations

import pytest

from lantai.catalog.model import ArchivalCodeError, OpenStatus, Record, parse_archival_code


def test_volume_based_code() -> None:
    code = parse_archival_code("C038-001-002-003")
    assert (code.fonds, code.catalog, code.volume, code.item) == ("C038", "001", "002", "003")


@pytest.mark.parametrize("text", ["Z109-WS·2011·Y-0001", "Z109-WS·2011-Y-0001"])
def test_file_based_code(text: str) -> None:
    code = parse_archival_code(text)
    assert (code.fonds, code.category_code, code.year, code.retention_code, code.item) == (
        "Z109", "WS", 2011, "Y", "0001")


@pytest.mark.parametrize(("text", "message"), [
    ("", "empty"), ("C038 001", "whitespace"), ("C038", "separated by '-'"),
    ("C038--1", "separated by '-'"), ("全宗-001", "not a fonds code"),
    ("Z109-WS·20X1-Y-1", "four-digit year"), ("Z109-WS·2011", "missing"),
])
def test_bad_codes(text: str, message: str) -> None:
    with pytest.raises(ArchivalCodeError, match=message):
        parse_archival_code(text)


def test_open_status_values() -> None:
    assert OpenStatus.parse("開放") is OpenStatus.OPEN
    assert OpenStatus.parse("") is OpenStatus.UNREVIEWED  # blank is never public
    with pytest.raises(ValueError, match="半开放"):
        OpenStatus.parse("半开放")


def test_record_round_trip_and_pages() -> None:
    rec = Record("A-1", "题", pages=("一页", "二页"), subjects=("甲",), extra=(("x", "y"),))
    assert Record.from_dict(rec.to_dict()) == rec
    assert rec.text == "一页\n\n二页"
    assert rec.page_of(rec.text.index("二")) == 2
    assert Record("A-2", "t", date_start=19391231, year=1941).decade == 1930


@pytest.mark.parametrize(("start", "end", "shown"), [
    (19390512, None, "1939-05-12"), (19390401, 19390430, "1939-04"),
    (19400201, 19400229, "1940-02"), (19390101, 19391231, "1939"),
    (19370101, 19451231, "1937–1945"), (19370701, 19450831, "1937-07–1945-08"),
    (19370707, 19450815, "1937-07-07–1945-08-15"), (None, None, "")])
def test_normalised_dates_read_as_people_write_them(start: int | None, end: int | None,
                                                    shown: str) -> None:
    from lantai.catalog.model import Record

    assert Record(archival_code="x", title="t", date_start=start,
                  date_end=end).date_normalized == shown


@pytest.mark.parametrize(("written", "start", "end", "note"), [
    ("民国二十八年四月", 19390401, 19390430, "1939-04"), ("1944—1948", 19440101, 19481231, ""),
    ("[1937]", 19370101, 19371231, ""), ("19380806", 19380806, None, "1938-08-06"),
    ("1939-05-12", 19390512, None, "")])
def test_the_normalised_date_is_shown_only_when_it_adds_something(
        written: str, start: int, end: int | None, note: str) -> None:
    assert Record(archival_code="x", title="t", date_text=written, date_start=start,
                  date_end=end).date_normalized_note == note
