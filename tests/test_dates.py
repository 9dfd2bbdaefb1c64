"""Tests for lantai.text.dates: catalog date normalisation and period spotting in queries."""

from __future__ import annotations

import dataclasses
import datetime

import opencc  # a core dependency: never skipped
import pytest

from lantai.errors import ConfigError, LantaiError
from lantai.text import dates
from lantai.text.dates import (
    DateParseError,
    DateRange,
    Precision,
    find_periods,
    parse_date,
    parse_date_or_none,
)

D = datetime.date
DAY, MONTH, YEAR = Precision.DAY, Precision.MONTH, Precision.YEAR
DECADE, CENTURY, RANGE = Precision.DECADE, Precision.CENTURY, Precision.RANGE

# text, start, end, precision, inferred, calendar
VALID: list[tuple[str, D, D, Precision, bool, str]] = [
    # ISO and variants
    ("1939-04-23", D(1939, 4, 23), D(1939, 4, 23), DAY, False, "gregorian"),
    ("1939.4.23", D(1939, 4, 23), D(1939, 4, 23), DAY, False, "gregorian"),
    ("1939/4/23", D(1939, 4, 23), D(1939, 4, 23), DAY, False, "gregorian"),
    ("1939.04.23.", D(1939, 4, 23), D(1939, 4, 23), DAY, False, "gregorian"),
    ("1939-4", D(1939, 4, 1), D(1939, 4, 30), MONTH, False, "gregorian"),
    ("1939.04", D(1939, 4, 1), D(1939, 4, 30), MONTH, False, "gregorian"),
    ("1940-02", D(1940, 2, 1), D(1940, 2, 29), MONTH, False, "gregorian"),
    ("19390423", D(1939, 4, 23), D(1939, 4, 23), DAY, False, "gregorian"),
    ("193904", D(1939, 4, 1), D(1939, 4, 30), MONTH, False, "gregorian"),
    ("19390400", D(1939, 4, 1), D(1939, 4, 30), MONTH, False, "gregorian"),  # DA/T zero fill
    ("19390000", D(1939, 1, 1), D(1939, 12, 31), YEAR, False, "gregorian"),
    ("1939", D(1939, 1, 1), D(1939, 12, 31), YEAR, False, "gregorian"),
    ("1939.", D(1939, 1, 1), D(1939, 12, 31), YEAR, False, "gregorian"),
    ("  1939-04-23  ", D(1939, 4, 23), D(1939, 4, 23), DAY, False, "gregorian"),
    ("1939-04-23 00:00:00", D(1939, 4, 23), D(1939, 4, 23), DAY, False, "gregorian"),  # Excel
    ("1939-04-23T10:30", D(1939, 4, 23), D(1939, 4, 23), DAY, False, "gregorian"),
    ("１９３９－０４－２３", D(1939, 4, 23), D(1939, 4, 23), DAY, False, "gregorian"),  # full width
    ("１９３９．４", D(1939, 4, 1), D(1939, 4, 30), MONTH, False, "gregorian"),
    # Chinese with Arabic numerals
    ("1939年4月23日", D(1939, 4, 23), D(1939, 4, 23), DAY, False, "gregorian"),
    ("1939年04月23日", D(1939, 4, 23), D(1939, 4, 23), DAY, False, "gregorian"),
    ("1939年4月23号", D(1939, 4, 23), D(1939, 4, 23), DAY, False, "gregorian"),
    ("1939 年 4 月 23 日", D(1939, 4, 23), D(1939, 4, 23), DAY, False, "gregorian"),
    ("１９３９年４月２３日", D(1939, 4, 23), D(1939, 4, 23), DAY, False, "gregorian"),
    ("1939年4月", D(1939, 4, 1), D(1939, 4, 30), MONTH, False, "gregorian"),
    ("1939年4月份", D(1939, 4, 1), D(1939, 4, 30), MONTH, False, "gregorian"),
    ("1939年元月", D(1939, 1, 1), D(1939, 1, 31), MONTH, False, "gregorian"),
    ("1939年", D(1939, 1, 1), D(1939, 12, 31), YEAR, False, "gregorian"),
    ("1939年度", D(1939, 1, 1), D(1939, 12, 31), YEAR, False, "gregorian"),
    ("公元1939年", D(1939, 1, 1), D(1939, 12, 31), YEAR, False, "gregorian"),
    ("1939年4月上旬", D(1939, 4, 1), D(1939, 4, 10), RANGE, False, "gregorian"),
    ("1939年4月中旬", D(1939, 4, 11), D(1939, 4, 20), RANGE, False, "gregorian"),
    ("1939年2月下旬", D(1939, 2, 21), D(1939, 2, 28), RANGE, False, "gregorian"),
    ("1939年上半年", D(1939, 1, 1), D(1939, 6, 30), RANGE, False, "gregorian"),
    ("1939年下半年", D(1939, 7, 1), D(1939, 12, 31), RANGE, False, "gregorian"),
    # Chinese numerals, digit by digit and positional
    ("一九五三年十月一日", D(1953, 10, 1), D(1953, 10, 1), DAY, False, "gregorian"),
    ("一九五三年", D(1953, 1, 1), D(1953, 12, 31), YEAR, False, "gregorian"),
    ("一九五三", D(1953, 1, 1), D(1953, 12, 31), YEAR, False, "gregorian"),
    ("二〇〇一年", D(2001, 1, 1), D(2001, 12, 31), YEAR, False, "gregorian"),
    ("二○○一年", D(2001, 1, 1), D(2001, 12, 31), YEAR, False, "gregorian"),
    ("二零零一年", D(2001, 1, 1), D(2001, 12, 31), YEAR, False, "gregorian"),
    ("一九五O年", D(1950, 1, 1), D(1950, 12, 31), YEAR, False, "gregorian"),  # letter O typed
    ("一九四九年十二月三十一日", D(1949, 12, 31), D(1949, 12, 31), DAY, False, "gregorian"),
    ("一九四九年十一月卅日", D(1949, 11, 30), D(1949, 11, 30), DAY, False, "gregorian"),
    ("一千九百三十九年", D(1939, 1, 1), D(1939, 12, 31), YEAR, False, "gregorian"),
    # 民国 (Gregorian months), both scripts, financial numerals
    ("民国二十八年四月廿三日", D(1939, 4, 23), D(1939, 4, 23), DAY, False, "minguo"),
    ("民國二十八年四月廿三日", D(1939, 4, 23), D(1939, 4, 23), DAY, False, "minguo"),
    ("中华民国二十八年四月二十三日", D(1939, 4, 23), D(1939, 4, 23), DAY, False, "minguo"),
    ("中華民國貳拾捌年", D(1939, 1, 1), D(1939, 12, 31), YEAR, False, "minguo"),
    ("中華民國貳拾捌年肆月貳拾參日", D(1939, 4, 23), D(1939, 4, 23), DAY, False, "minguo"),
    ("中华民国贰拾捌年肆月贰拾叁日", D(1939, 4, 23), D(1939, 4, 23), DAY, False, "minguo"),
    ("民國廿八年", D(1939, 1, 1), D(1939, 12, 31), YEAR, False, "minguo"),
    ("民国卅四年", D(1945, 1, 1), D(1945, 12, 31), YEAR, False, "minguo"),
    ("民国卌年", D(1951, 1, 1), D(1951, 12, 31), YEAR, False, "minguo"),
    ("民国28年", D(1939, 1, 1), D(1939, 12, 31), YEAR, False, "minguo"),
    ("民国２８年", D(1939, 1, 1), D(1939, 12, 31), YEAR, False, "minguo"),
    ("民国28年4月", D(1939, 4, 1), D(1939, 4, 30), MONTH, False, "minguo"),
    ("民国元年", D(1912, 1, 1), D(1912, 12, 31), YEAR, False, "minguo"),
    ("民国三十八年", D(1949, 1, 1), D(1949, 12, 31), YEAR, False, "minguo"),
    ("民國一百零五年", D(2016, 1, 1), D(2016, 12, 31), YEAR, False, "minguo"),  # Taiwan
    ("民国十年", D(1921, 1, 1), D(1921, 12, 31), YEAR, False, "minguo"),
    # Qing reigns (lunar: approximate), Manchukuo, 洪宪, Japanese eras
    ("光绪三十年", D(1904, 1, 1), D(1904, 12, 31), YEAR, False, "qing"),
    ("光緒三十年", D(1904, 1, 1), D(1904, 12, 31), YEAR, False, "qing"),
    ("光绪元年", D(1875, 1, 1), D(1875, 12, 31), YEAR, False, "qing"),
    ("光绪三十四年", D(1908, 1, 1), D(1908, 12, 31), YEAR, False, "qing"),
    ("光绪三十年正月", D(1904, 1, 1), D(1904, 1, 31), MONTH, False, "qing"),
    ("光绪三十年冬月", D(1904, 11, 1), D(1904, 11, 30), MONTH, False, "qing"),
    ("光绪三十年腊月", D(1904, 12, 1), D(1904, 12, 31), MONTH, False, "qing"),
    ("光緒三十年臘月", D(1904, 12, 1), D(1904, 12, 31), MONTH, False, "qing"),
    ("光绪三十年闰五月", D(1904, 5, 1), D(1904, 5, 31), MONTH, False, "qing"),
    ("光绪三十年二月三十日", D(1904, 2, 29), D(1904, 2, 29), DAY, False, "qing"),  # clamped
    ("顺治元年正月初一", D(1644, 1, 1), D(1644, 1, 1), DAY, False, "qing"),
    ("順治元年", D(1644, 1, 1), D(1644, 12, 31), YEAR, False, "qing"),
    ("康熙六十一年", D(1722, 1, 1), D(1722, 12, 31), YEAR, False, "qing"),
    ("雍正元年", D(1723, 1, 1), D(1723, 12, 31), YEAR, False, "qing"),
    ("乾隆六十年", D(1795, 1, 1), D(1795, 12, 31), YEAR, False, "qing"),
    ("嘉庆元年", D(1796, 1, 1), D(1796, 12, 31), YEAR, False, "qing"),
    ("嘉慶元年", D(1796, 1, 1), D(1796, 12, 31), YEAR, False, "qing"),
    ("道光二十年", D(1840, 1, 1), D(1840, 12, 31), YEAR, False, "qing"),
    ("咸丰元年", D(1851, 1, 1), D(1851, 12, 31), YEAR, False, "qing"),
    ("咸豐十一年", D(1861, 1, 1), D(1861, 12, 31), YEAR, False, "qing"),
    ("同治十三年", D(1874, 1, 1), D(1874, 12, 31), YEAR, False, "qing"),
    ("宣统三年", D(1911, 1, 1), D(1911, 12, 31), YEAR, False, "qing"),
    ("宣統元年", D(1909, 1, 1), D(1909, 12, 31), YEAR, False, "qing"),
    ("大同元年", D(1932, 1, 1), D(1932, 12, 31), YEAR, False, "manchukuo"),
    ("康德八年", D(1941, 1, 1), D(1941, 12, 31), YEAR, False, "manchukuo"),
    ("康德元年三月一日", D(1934, 3, 1), D(1934, 3, 1), DAY, False, "manchukuo"),
    ("洪宪元年", D(1916, 1, 1), D(1916, 12, 31), YEAR, False, "hongxian"),
    ("洪憲元年", D(1916, 1, 1), D(1916, 12, 31), YEAR, False, "hongxian"),
    ("昭和十四年", D(1939, 1, 1), D(1939, 12, 31), YEAR, False, "japanese"),
    ("农历1939年四月初八", D(1939, 4, 8), D(1939, 4, 8), DAY, False, "lunar"),
    ("農曆1939年四月初八", D(1939, 4, 8), D(1939, 4, 8), DAY, False, "lunar"),
    # whole eras
    ("光绪年间", D(1875, 1, 1), D(1908, 12, 31), RANGE, False, "qing"),
    ("光緒", D(1875, 1, 1), D(1908, 12, 31), RANGE, False, "qing"),
    ("民国", D(1912, 1, 1), D(1949, 9, 30), RANGE, False, "minguo"),
    ("民國時期", D(1912, 1, 1), D(1949, 9, 30), RANGE, False, "minguo"),
    ("康德年间", D(1934, 3, 1), D(1945, 8, 18), RANGE, False, "manchukuo"),
    # ranges
    ("1937—1945", D(1937, 1, 1), D(1945, 12, 31), RANGE, False, "gregorian"),
    ("1937——1945", D(1937, 1, 1), D(1945, 12, 31), RANGE, False, "gregorian"),
    ("1937-1945", D(1937, 1, 1), D(1945, 12, 31), RANGE, False, "gregorian"),
    ("1937–1945", D(1937, 1, 1), D(1945, 12, 31), RANGE, False, "gregorian"),
    ("1937―1945", D(1937, 1, 1), D(1945, 12, 31), RANGE, False, "gregorian"),
    ("1937～1945", D(1937, 1, 1), D(1945, 12, 31), RANGE, False, "gregorian"),
    ("1937~1945", D(1937, 1, 1), D(1945, 12, 31), RANGE, False, "gregorian"),
    ("1937〜1945", D(1937, 1, 1), D(1945, 12, 31), RANGE, False, "gregorian"),
    ("1937 - 1945", D(1937, 1, 1), D(1945, 12, 31), RANGE, False, "gregorian"),
    ("1937至1945", D(1937, 1, 1), D(1945, 12, 31), RANGE, False, "gregorian"),
    ("1937到1945", D(1937, 1, 1), D(1945, 12, 31), RANGE, False, "gregorian"),
    ("1937年至1945年", D(1937, 1, 1), D(1945, 12, 31), RANGE, False, "gregorian"),
    ("1937—1945年", D(1937, 1, 1), D(1945, 12, 31), RANGE, False, "gregorian"),
    ("1937-45", D(1937, 1, 1), D(1945, 12, 31), RANGE, False, "gregorian"),
    ("1939-40", D(1939, 1, 1), D(1940, 12, 31), RANGE, False, "gregorian"),
    ("1949.10-1950.3", D(1949, 10, 1), D(1950, 3, 31), RANGE, False, "gregorian"),
    ("1949.10-12", D(1949, 10, 1), D(1949, 12, 31), RANGE, False, "gregorian"),
    ("1939.4.23-25", D(1939, 4, 23), D(1939, 4, 25), RANGE, False, "gregorian"),
    ("1939.4.23-5.2", D(1939, 4, 23), D(1939, 5, 2), RANGE, False, "gregorian"),
    ("1939-04-23—1939-05-01", D(1939, 4, 23), D(1939, 5, 1), RANGE, False, "gregorian"),
    ("1937.7.7—1945.9.2", D(1937, 7, 7), D(1945, 9, 2), RANGE, False, "gregorian"),
    ("1949年10月—1950年3月", D(1949, 10, 1), D(1950, 3, 31), RANGE, False, "gregorian"),
    ("1937年10月至12月", D(1937, 10, 1), D(1937, 12, 31), RANGE, False, "gregorian"),
    ("1939年4月23日至25日", D(1939, 4, 23), D(1939, 4, 25), RANGE, False, "gregorian"),
    ("1939年4—5月", D(1939, 4, 1), D(1939, 5, 31), RANGE, False, "gregorian"),
    ("一九三七——一九四五", D(1937, 1, 1), D(1945, 12, 31), RANGE, False, "gregorian"),
    ("民国二十六年至三十四年", D(1937, 1, 1), D(1945, 12, 31), RANGE, False, "minguo"),
    ("民國二十六年至三十四年", D(1937, 1, 1), D(1945, 12, 31), RANGE, False, "minguo"),
    ("民国二十六—三十四年", D(1937, 1, 1), D(1945, 12, 31), RANGE, False, "minguo"),
    ("民国二十八年至1945年", D(1939, 1, 1), D(1945, 12, 31), RANGE, False, "minguo"),
    ("光绪三十年五月至七月", D(1904, 5, 1), D(1904, 7, 31), RANGE, False, "qing"),
    ("1930年代至1940年代", D(1930, 1, 1), D(1949, 12, 31), RANGE, False, "gregorian"),
    # inferred
    ("[1939]", D(1939, 1, 1), D(1939, 12, 31), YEAR, True, "gregorian"),
    ("［1939］", D(1939, 1, 1), D(1939, 12, 31), YEAR, True, "gregorian"),
    ("〔1939年〕", D(1939, 1, 1), D(1939, 12, 31), YEAR, True, "gregorian"),
    ("【1939年】", D(1939, 1, 1), D(1939, 12, 31), YEAR, True, "gregorian"),
    ("（1939）", D(1939, 1, 1), D(1939, 12, 31), YEAR, True, "gregorian"),
    ("(1939)", D(1939, 1, 1), D(1939, 12, 31), YEAR, True, "gregorian"),
    ("[1939]年4月", D(1939, 4, 1), D(1939, 4, 30), MONTH, True, "gregorian"),
    ("〔民国二十八年〕", D(1939, 1, 1), D(1939, 12, 31), YEAR, True, "minguo"),
    ("[1937—1945]", D(1937, 1, 1), D(1945, 12, 31), RANGE, True, "gregorian"),
    ("约1940年", D(1940, 1, 1), D(1940, 12, 31), YEAR, True, "gregorian"),
    ("約1940年", D(1940, 1, 1), D(1940, 12, 31), YEAR, True, "gregorian"),
    ("大约1940年", D(1940, 1, 1), D(1940, 12, 31), YEAR, True, "gregorian"),
    ("1940年左右", D(1940, 1, 1), D(1940, 12, 31), YEAR, True, "gregorian"),
    ("1940年前后", D(1940, 1, 1), D(1940, 12, 31), YEAR, True, "gregorian"),
    ("1940?", D(1940, 1, 1), D(1940, 12, 31), YEAR, True, "gregorian"),
    ("1940年？", D(1940, 1, 1), D(1940, 12, 31), YEAR, True, "gregorian"),
    ("circa 1940", D(1940, 1, 1), D(1940, 12, 31), YEAR, True, "gregorian"),
    ("ca. 1940", D(1940, 1, 1), D(1940, 12, 31), YEAR, True, "gregorian"),
    # decades and centuries
    ("1930年代", D(1930, 1, 1), D(1939, 12, 31), DECADE, False, "gregorian"),
    ("1930s", D(1930, 1, 1), D(1939, 12, 31), DECADE, False, "gregorian"),
    ("1930's", D(1930, 1, 1), D(1939, 12, 31), DECADE, False, "gregorian"),
    ("20世纪30年代", D(1930, 1, 1), D(1939, 12, 31), DECADE, False, "gregorian"),
    ("20世紀30年代", D(1930, 1, 1), D(1939, 12, 31), DECADE, False, "gregorian"),
    ("二十世纪三十年代", D(1930, 1, 1), D(1939, 12, 31), DECADE, False, "gregorian"),
    ("二十世紀三十年代", D(1930, 1, 1), D(1939, 12, 31), DECADE, False, "gregorian"),
    ("三十年代", D(1930, 1, 1), D(1939, 12, 31), DECADE, False, "gregorian"),
    ("50年代", D(1950, 1, 1), D(1959, 12, 31), DECADE, False, "gregorian"),
    ("19世纪", D(1800, 1, 1), D(1899, 12, 31), CENTURY, False, "gregorian"),
    ("十九世纪", D(1800, 1, 1), D(1899, 12, 31), CENTURY, False, "gregorian"),
    ("20世紀", D(1900, 1, 1), D(1999, 12, 31), CENTURY, False, "gregorian"),
    # named periods (dates from periods.toml)
    ("抗战时期", D(1937, 7, 7), D(1945, 9, 2), RANGE, False, "gregorian"),
    ("抗戰時期", D(1937, 7, 7), D(1945, 9, 2), RANGE, False, "gregorian"),
    ("抗日战争时期", D(1937, 7, 7), D(1945, 9, 2), RANGE, False, "gregorian"),
    ("抗日戰爭時期", D(1937, 7, 7), D(1945, 9, 2), RANGE, False, "gregorian"),
    ("十四年抗战", D(1931, 9, 18), D(1945, 9, 2), RANGE, False, "gregorian"),
    ("十四年抗戰", D(1931, 9, 18), D(1945, 9, 2), RANGE, False, "gregorian"),
    ("解放战争时期", D(1945, 8, 15), D(1949, 9, 30), RANGE, False, "gregorian"),
    ("新民主主义革命时期", D(1919, 5, 4), D(1949, 9, 30), RANGE, False, "gregorian"),
    ("新民主主義革命時期", D(1919, 5, 4), D(1949, 9, 30), RANGE, False, "gregorian"),
    ("大跃进", D(1958, 1, 1), D(1960, 12, 31), RANGE, False, "gregorian"),
    ("大躍進", D(1958, 1, 1), D(1960, 12, 31), RANGE, False, "gregorian"),
    ("文化大革命", D(1966, 5, 16), D(1976, 10, 6), RANGE, False, "gregorian"),
    ("文革", D(1966, 5, 16), D(1976, 10, 6), RANGE, False, "gregorian"),
    ("土地革命战争时期", D(1927, 8, 1), D(1937, 7, 6), RANGE, False, "gregorian"),
    ("北伐", D(1926, 7, 9), D(1928, 12, 29), RANGE, False, "gregorian"),
    ("五四运动", D(1919, 1, 1), D(1919, 12, 31), YEAR, False, "gregorian"),
    ("五四運動", D(1919, 1, 1), D(1919, 12, 31), YEAR, False, "gregorian"),
    ("辛亥革命", D(1911, 1, 1), D(1911, 12, 31), YEAR, False, "gregorian"),
    ("抗美援朝", D(1950, 10, 25), D(1953, 7, 27), RANGE, False, "gregorian"),
    ("国民经济恢复时期", D(1949, 10, 1), D(1952, 12, 31), RANGE, False, "gregorian"),
    ("國民經濟恢復時期", D(1949, 10, 1), D(1952, 12, 31), RANGE, False, "gregorian"),
    ("第一个五年计划", D(1953, 1, 1), D(1957, 12, 31), RANGE, False, "gregorian"),
    ("第一個五年計劃", D(1953, 1, 1), D(1957, 12, 31), RANGE, False, "gregorian"),
    ("七七事变", D(1937, 7, 7), D(1937, 7, 7), DAY, False, "gregorian"),
]


@pytest.mark.parametrize(("text", "start", "end", "precision", "inferred", "cal"), VALID)
def test_parse_date(
    text: str, start: D, end: D, precision: Precision, inferred: bool, cal: str
) -> None:
    r = parse_date(text)
    assert (r.start, r.end, r.precision, r.inferred, r.calendar) == (
        start,
        end,
        precision,
        inferred,
        cal,
    )
    assert r.text == text.strip()
    assert r.start <= r.end


def test_open_ended_periods_end_today() -> None:
    today = datetime.date.today()
    for text in ("改革开放", "改革開放", "1978年至今", "1978—今"):
        r = parse_date(text)
        assert r.end == today, text
        assert r.precision is RANGE
    assert parse_date("改革开放").start == D(1978, 12, 18)


# text, fragment the message must contain (the offending text is always checked too)
ERRORS: list[tuple[str, str]] = [
    ("1939-02-30", "day 30 does not exist in 1939-02"),
    ("1939年2月29日", "day 29 does not exist in 1939-02"),
    ("1939.2.30", "(it has 28 days)"),
    ("19390230", "day 30"),
    ("1939-04-31", "day 31"),
    ("1939-13", "month 13"),
    ("1939年13月", "month 13"),
    ("19391301", "month 13"),
    ("19390023", "day is given without a month"),
    ("0999", "outside 1000..2100"),
    ("2101", "outside 1000..2100"),
    ("三十四年", "without its era name"),
    ("元年", "needs an era name"),
    ("民国二百年", "民国 has no year 200"),
    ("民国零年", "民国 has no year 0"),
    ("光绪三十五年", "光绪 has no year 35"),
    ("宣统四年", "宣统 has no year 4"),
    ("1945—1937", "ends (1937-12-31) before it starts (1945-01-01)"),
    ("1939年4月初十一", "初十一 is not a day"),
    ("1935年代", "decade"),
    ("年代不详", "unknown"),
    ("年代不詳", "unknown"),
    ("不详", "unknown"),
    ("日期不详", "unknown"),
    ("1939年月日不详", "unknown"),
    ("待考", "unknown"),
    ("n.d.", "unknown"),
    ("同上", "ditto"),
    ("", "no date given"),
    ("   ", "no date given"),
    ("[]", "no date given"),
    ("garbage", "not a recognised date form"),
    ("昨天", "not a recognised date form"),
    ("1939年4月23日上午", "not a recognised date form"),
    ("大同", "not a recognised date form"),  # a city unless a year or 年间 follows
    ("二十十年", "not a valid numeral"),
    ("J1-1-1939", "not a recognised date form"),
]


@pytest.mark.parametrize(("text", "fragment"), ERRORS)
def test_parse_errors(text: str, fragment: str) -> None:
    with pytest.raises(DateParseError) as info:
        parse_date(text)
    message = str(info.value)
    assert repr(text.strip()) in message
    assert fragment in message
    assert info.value.text == text.strip()
    assert parse_date_or_none(text) is None


def test_overlong_text_is_refused_quickly() -> None:
    with pytest.raises(DateParseError, match="longer than 64 characters"):
        parse_date("1939-" * 10000)
    query = "上海-" * 20000 + " 抗战"
    assert find_periods(query) == [((60001, 60003), parse_date("抗战"))]


def test_error_is_a_lantai_error_and_not_cached_away() -> None:
    assert issubclass(DateParseError, LantaiError)
    for _ in range(2):  # the result cache must not swallow the second failure
        with pytest.raises(DateParseError):
            parse_date("1939-02-30")
    with pytest.raises(DateParseError, match="expected text"):
        parse_date(None)  # type: ignore[arg-type]


def test_value_helpers() -> None:
    r = parse_date("民国二十六年至三十四年")
    assert r.sort_key() == 19370101
    assert r.years == range(1937, 1946)
    day = parse_date("1939年4月23日")
    assert day.sort_key() == 19390423
    assert list(day.years) == [1939]
    assert parse_date_or_none("1939-04-23") == DateRange(
        "1939-04-23", D(1939, 4, 23), D(1939, 4, 23), DAY
    )
    with pytest.raises(dataclasses.FrozenInstanceError):
        day.start = D(1940, 1, 1)  # type: ignore[misc]


def test_mixed_precision_sorts_by_first_day() -> None:
    texts = ["1939年4月23日", "1930年代", "民国二十八年", "抗战时期", "1939-04"]
    ordered = sorted(texts, key=lambda t: parse_date(t).sort_key())
    assert ordered == ["1930年代", "抗战时期", "民国二十八年", "1939-04", "1939年4月23日"]


# --- every era and period in periods.toml ---------------------------------------------------------
@pytest.mark.parametrize("era", dates.eras(), ids=lambda e: e.name)
def test_every_era_counts_from_first_year(era: dates.Era) -> None:
    for name in (era.name, *era.aliases):
        first = parse_date(f"{name}元年")
        assert first.start == D(era.first_year, 1, 1)
        assert first.calendar == era.calendar
        assert parse_date(f"{name}{era.max_year}年").start.year == era.first_year + era.max_year - 1
        with pytest.raises(DateParseError, match=f"no year {era.max_year + 1}"):
            parse_date(f"{name}{era.max_year + 1}年")
        assert parse_date(f"{name}年间").start == era.start
    assert era.start <= era.end


@pytest.mark.parametrize("period", dates.periods(), ids=lambda p: p.name)
def test_every_period_name_parses(period: dates.Period) -> None:
    for name in (period.name, *period.aliases):
        r = parse_date(name)
        assert r.start == period.start
        assert r.end == (period.end or datetime.date.today())
        assert find_periods(f"查找{name}的档案") == [((2, 2 + len(name)), r)]


def test_traditional_script_everywhere() -> None:
    """Every simplified form in VALID, converted by OpenCC, parses to the same dates."""
    s2t = opencc.OpenCC("s2t")
    converted = 0
    for text, start, end, precision, inferred, cal in VALID:
        trad = s2t.convert(text)
        if trad == text:
            continue
        converted += 1
        r = parse_date(trad)
        assert (r.start, r.end, r.precision, r.inferred, r.calendar) == (
            start,
            end,
            precision,
            inferred,
            cal,
        ), trad
    for period in dates.periods():
        assert parse_date(s2t.convert(period.name)).start == period.start
    assert converted > 50


def test_fold_table_agrees_with_opencc() -> None:
    t2s = opencc.OpenCC("t2s")
    pairs = dates._T2S.split()
    assert len(pairs) > 40 and all(len(pair) == 2 for pair in pairs)
    for pair in pairs:
        assert t2s.convert(pair[0]) == pair[1], pair


@pytest.mark.parametrize(
    ("raw", "fragment"),
    [
        ("era = [", "invalid TOML"),
        ('[[era]]\nname = "甲"', "era 甲: missing key 'first_year'"),
        ('[[era]]\naliases = ["甲"]', "era #1: 'name'"),
        (
            '[[era]]\nname="甲"\nfirst_year="1900"\nmax_year=3\ncalendar="x"\nlunar=false\n'
            "standalone=true",
            "must be integers",
        ),
        ('[[period]]\nname = "乙"', "period 乙: missing key 'start'"),
        ('[[period]]\nname = "乙"\nstart = "1937"', "'start' must be a TOML date"),
        ('[[period]]\nname="乙"\nstart=1937-01-01\nend=1936-01-01', "is before start"),
        (
            '[[period]]\nname="乙"\nstart=1937-01-01\n[[period]]\nname="丙"\naliases=["乙"]\n'
            "start=1938-01-01",
            "name '乙' is already used",
        ),
    ],
)
def test_bad_tables_name_the_entry(raw: str, fragment: str) -> None:
    with pytest.raises(ConfigError) as info:
        dates._tables_from_toml(raw)
    assert fragment in str(info.value)


# --- find_periods -------------------------------------------------------------------------------
# query, expected spans as (matched text, start, end)
FIND: list[tuple[str, list[tuple[str, D, D]]]] = [
    ("1939年 上海 难民", [("1939年", D(1939, 1, 1), D(1939, 12, 31))]),
    ("上海1939年难民", [("1939年", D(1939, 1, 1), D(1939, 12, 31))]),
    ("民国二十八年的报纸", [("民国二十八年", D(1939, 1, 1), D(1939, 12, 31))]),
    ("民國廿八年 重慶", [("民國廿八年", D(1939, 1, 1), D(1939, 12, 31))]),
    ("中華民國貳拾捌年公文", [("中華民國貳拾捌年", D(1939, 1, 1), D(1939, 12, 31))]),
    ("民国二十八年四月廿三日 电报", [("民国二十八年四月廿三日", D(1939, 4, 23), D(1939, 4, 23))]),
    ("抗战时期 上海", [("抗战时期", D(1937, 7, 7), D(1945, 9, 2))]),
    ("抗戰時期難民", [("抗戰時期", D(1937, 7, 7), D(1945, 9, 2))]),
    ("十四年抗战史料", [("十四年抗战", D(1931, 9, 18), D(1945, 9, 2))]),
    ("1930年代 电影", [("1930年代", D(1930, 1, 1), D(1939, 12, 31))]),
    ("1930s 上海", [("1930s", D(1930, 1, 1), D(1939, 12, 31))]),
    ("三十年代上海", [("三十年代", D(1930, 1, 1), D(1939, 12, 31))]),
    ("二十世纪三十年代的上海", [("二十世纪三十年代", D(1930, 1, 1), D(1939, 12, 31))]),
    ("上世纪五十年代", [("上世纪五十年代", D(1950, 1, 1), D(1959, 12, 31))]),
    ("光绪三十年 海关", [("光绪三十年", D(1904, 1, 1), D(1904, 12, 31))]),
    ("光緒年間 教案", [("光緒年間", D(1875, 1, 1), D(1908, 12, 31))]),
    ("民国 上海", [("民国", D(1912, 1, 1), D(1949, 9, 30))]),
    ("民国时期上海", [("民国时期", D(1912, 1, 1), D(1949, 9, 30))]),
    ("1937-1945 难民", [("1937-1945", D(1937, 1, 1), D(1945, 12, 31))]),
    ("1937—1945年 难民", [("1937—1945年", D(1937, 1, 1), D(1945, 12, 31))]),
    ("难民 1937年至1945年", [("1937年至1945年", D(1937, 1, 1), D(1945, 12, 31))]),
    ("民国二十六年至三十四年 档案", [("民国二十六年至三十四年", D(1937, 1, 1), D(1945, 12, 31))]),
    ("1949年10月—1950年3月 土改", [("1949年10月—1950年3月", D(1949, 10, 1), D(1950, 3, 31))]),
    ("会议 1939-04-23", [("1939-04-23", D(1939, 4, 23), D(1939, 4, 23))]),
    ("1939 上海", [("1939", D(1939, 1, 1), D(1939, 12, 31))]),
    ("１９３９年 上海", [("１９３９年", D(1939, 1, 1), D(1939, 12, 31))]),
    ("1939年到上海", [("1939年", D(1939, 1, 1), D(1939, 12, 31))]),
    (
        "文革 与 改革开放",
        [
            ("文革", D(1966, 5, 16), D(1976, 10, 6)),
            ("改革开放", D(1978, 12, 18), datetime.date.today()),
        ],
    ),
    (
        "1939年 抗戰時期 光绪三十年",
        [
            ("1939年", D(1939, 1, 1), D(1939, 12, 31)),
            ("抗戰時期", D(1937, 7, 7), D(1945, 9, 2)),
            ("光绪三十年", D(1904, 1, 1), D(1904, 12, 31)),
        ],
    ),
    # spans that must not be read as dates
    ("J1-1939-2 档案", []),
    ("共2000元", []),
    ("第1939号", []),
    ("协同治理", []),  # 同治 inside a word
    ("山西大同", []),  # 大同 is a city
    ("三十年", []),
    ("上海 难民", []),
    ("", []),
]


@pytest.mark.parametrize(("query", "expected"), FIND)
def test_find_periods(query: str, expected: list[tuple[str, D, D]]) -> None:
    found = find_periods(query)
    got = [(query[s:e], r.start, r.end) for (s, e), r in found]
    assert got == expected
    for (s, e), r in found:
        assert r.text == query[s:e]


def test_find_periods_spans_follow_the_original_offsets() -> None:
    query = "（查）　民國廿八年４月 与 抗戰時期"
    found = find_periods(query)
    assert [query[s:e] for (s, e), _ in found] == ["民國廿八年４月", "抗戰時期"]
    assert found[0][1].precision is MONTH


def test_parse_many_rows_quickly() -> None:
    """A catalog of a million rows goes through parse_date: keep the per-row cost small."""
    import time

    rows = [f"{1900 + i % 100}年{1 + i % 12}月{1 + i % 28}日" for i in range(20000)]
    parse = dates._parse_cached.__wrapped__  # bypass the cache: distinct strings
    t0 = time.perf_counter()
    for row in rows:
        parse(row)
    per_row = (time.perf_counter() - t0) / len(rows)
    assert per_row < 200e-6  # ~10 µs on a shared 2-core machine; generous bound
