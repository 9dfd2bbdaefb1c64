"""The open-review detectors, table by table: what must be flagged (with its exact span) and
the look-alikes that must not be."""

from __future__ import annotations

import pytest

from lantai.open_review.detect import detect, id15_valid, id18_valid, luhn


def spans(text: str, kind: str) -> list[str]:
    return [f.text for f in detect(text) if f.kind == kind]


@pytest.mark.parametrize(("text", "expected"), [
    ("身份证号：11010519491231002X。", ["11010519491231002X"]),
    ("身份證號碼11010519491231002x，", ["11010519491231002x"]),  # lower-case check character
    ("张三，男，110105194912310013，住本市", []),  # checksum fails
    ("申请人身份证号码１１０１０５１９４９１２３１００２Ｘ", ["１１０１０５１９４９１２３１００２Ｘ"]),  # noqa: E501 - full width
    ("证件号110105491231002", ["110105491231002"]),  # first-generation, 15 digits
    ("证件号110105491331002", []),  # month 13
    ("证件号990105491231002", []),  # no such province
    ("注册号110108000123456", []),  # a registration number, not a person
    ("编号11010519491231002X1", []),  # longer run of digits: a serial
    ("统一社会信用代码91110108MA01ABCD2X", []),
    ("产值110105194912310013元", []),
])
def test_id_numbers(text: str, expected: list[str]) -> None:
    assert spans(text, "id_number") == expected


def test_id_checks() -> None:
    assert id18_valid("11010519491231002X") and not id18_valid("11010519491231002Y"[:17] + "1")
    assert not id18_valid("11010520991231002X")  # born in the future
    assert id15_valid("110105491231002") and not id15_valid("110105490230002")  # 30 February


@pytest.mark.parametrize(("text", "expected"), [
    ("联系电话13812345678。", ["13812345678"]),
    ("手机138-1234-5678，", ["138-1234-5678"]),
    ("手機 138 1234 5678", ["138 1234 5678"]),
    ("Tel: +86 139 1234 5678", ["+86 139 1234 5678"]),
    ("聯繫電話１３８１２３４５６７８", ["１３８１２３４５６７８"]),
    ("电话：（0451）8765432", ["（0451）8765432"]),
    ("電話(024)23456789轉", ["(024)23456789"]),
    ("电话〔0411〕2345678", ["〔0411〕2345678"]),
    ("请致电0571-87654321。", ["0571-87654321"]),
    ("請致電010 62345678", ["010 62345678"]),
    ("電話二三四五號", ["二三四五"]),
    ("本會電話：2345，", ["2345"]),
    ("电话号码为八六五四三", ["八六五四三"]),
    ("全年工业产值17499463428元", []),  # an amount
    ("合计人民币13800138000元", []),
    ("档号J001-WS·1939-Y-0001", []),
    ("1937年7月7日", []),
    ("共13912345678人次", []),
])
def test_phone_numbers(text: str, expected: list[str]) -> None:
    assert spans(text, "phone") == expected


@pytest.mark.parametrize(("text", "expected"), [
    ("银行卡号6222021234567890128。", ["6222021234567890128"]),
    ("賬號 6222 0212 3456 7890 128", ["6222 0212 3456 7890 128"]),
    ("银行卡号6222021234567890127。", []),  # Luhn fails
    ("身份证11010519491231002X", []),  # an ID is not also a card
])
def test_bank_cards(text: str, expected: list[str]) -> None:
    assert spans(text, "bank_card") == expected


def test_luhn() -> None:
    assert luhn("4111111111111111") and not luhn("4111111111111112")


@pytest.mark.parametrize(("text", "expected"), [
    ("来信请寄zhang.san@example.com。", ["zhang.san@example.com"]),
    ("邮箱：li_ming99@mail.sina.com.cn，", ["li_ming99@mail.sina.com.cn"]),
    ("见@的用法", []),
])
def test_emails(text: str, expected: list[str]) -> None:
    assert spans(text, "email") == expected


@pytest.mark.parametrize(("text", "expected"), [
    ("家住哈尔滨市道里区中央大街12号3单元501室。", ["哈尔滨市道里区中央大街12号3单元501室"]),
    ("住址：黑龙江省哈尔滨市南岗区西大直街92号", ["黑龙江省哈尔滨市南岗区西大直街92号"]),
    ("現住瀋陽市和平區南京北街十二號。", ["瀋陽市和平區南京北街十二號"]),
    ("本會地址設於中山路十二號。", []),  # an institution's address
    ("市政府位于人民大街1号。", []),
    ("中山路一带发生火灾。", []),  # no house number: a place, not an address
])
def test_addresses(text: str, expected: list[str]) -> None:
    assert spans(text, "address") == expected


@pytest.mark.parametrize(("text", "expected"), [
    ("张三因患肺结核住院治疗。", ["张三"]),
    ("经研究，给予余清树留党察看一年处分。", ["余清树"]),
    ("經研究，給予余清樹留黨察看一年處分。", ["余清樹"]),
    ("被告人谢振红犯盗窃罪，判处有期徒刑三年。", ["谢振红"]),
    ("经查，李秀英与王建国于1985年离婚，其子由李秀英抚养。", ["李秀英", "王建国", "李秀英"]),
    ("对刘德华同志的历史问题进行了复查。", ["刘德华"]),
    ("市长周秉钧批示：同意给予处分。", []),  # an official acting in office
    ("王建国同志当选为劳动模范。", []),  # no sensitive context
    ("局长王建国主持会议，研究处分问题。", []),
])
def test_private_persons_in_sensitive_contexts(text: str, expected: list[str]) -> None:
    assert spans(text, "person_name") == expected


@pytest.mark.parametrize(("text", "expected"), [
    ("密级：机密★10年\n关于某事的报告", ["密级：机密★10年"]),
    ("秘密★\n通知", ["秘密★"]),
    ("絕密\n關於某事的報告", ["絕密"]),
    ("召开秘密会议，研究机密问题。", []),  # words, not markings
])
def test_secret_markings(text: str, expected: list[str]) -> None:
    assert spans(text, "secret_marking") == expected


def test_sensitive_terms_carry_their_category() -> None:
    flags = [f for f in detect("经诊断患肺结核，给予记过处分。") if f.kind == "sensitive_term"]
    assert [(f.text, f.rule) for f in flags] == [
        ("诊断", "term:medical"), ("肺结核", "term:medical"), ("记过", "term:disciplinary"),
        ("处分", "term:disciplinary")]


def test_offsets_are_characters_of_the_input() -> None:
    text = "𠮷野家电话：１３８１２３４５６７８，身份证11010519491231002X"
    for flag in detect(text):
        assert text[flag.start:flag.end] == flag.text
