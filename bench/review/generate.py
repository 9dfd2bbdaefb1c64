# ruff: noqa: E501  (rows of Chinese sample text are wider than they look)
"""A labelled set for the open-review detectors: archival sentences with personal information
placed in them, and look-alikes that must not be flagged.

    python bench/review/generate.py --n 2000 --seed 1 --out bench/review/data/set.jsonl

Each line: ``{"id", "text", "labels": [{"kind", "start", "end"}]}``. Everything is synthetic
(names from common surnames and given-name characters, numbers with valid or deliberately
broken check digits); no real person's data. The wording mixes simplified and traditional
script, full-width and ASCII digits, and the forms archives hold: modern mobiles, bracketed
area codes, 1950s 7-digit numbers, Republican-era 電話 numbers in Chinese numerals.
"""

from __future__ import annotations

import argparse
import datetime
import json
import random
from collections.abc import Callable
from pathlib import Path

SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何林高罗郑梁谢宋唐许韩冯邓曹彭曾萧田董潘袁蔡蒋余杜叶程魏苏吕丁任卢姚沈钟姜崔谭陆范汪廖石金韦贾夏傅方邹熊白孟秦邱侯江尹薛段雷黎史陶贺毛郝顾龚邵"
GIVEN = "秀英华明国建文军平玉兰芳桂珍淑凤志强伟敏静丽霞红梅海林云峰德福春生宝成振家树荣清永庆兴"
TRAD = str.maketrans("张刘陈杨黄赵吴孙马罗郑谢韩冯邓萧董蒋苏吕卢钟谭陆韦贾邹龚华国军兰凤伟丽红梅云宝荣庆兴",
                     "張劉陳楊黃趙吳孫馬羅鄭謝韓馮鄧蕭董蔣蘇呂盧鍾譚陸韋賈鄒龔華國軍蘭鳳偉麗紅梅雲寶榮慶興")
PROVINCES = (11, 12, 13, 21, 22, 23, 31, 32, 37, 41, 44, 51, 61, 65)
WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
FULL = str.maketrans("0123456789", "０１２３４５６７８９")
CN_DIGITS = "〇一二三四五六七八九"


class Text:
    """A text being built, with the labels of the spans put in it."""

    def __init__(self) -> None:
        self.parts: list[str] = []
        self.labels: list[dict[str, object]] = []
        self.length = 0

    def add(self, text: str, kind: str | None = None) -> Text:
        if kind:
            self.labels.append({"kind": kind, "start": self.length,
                                "end": self.length + len(text)})
        self.parts.append(text)
        self.length += len(text)
        return self

    def value(self) -> str:
        return "".join(self.parts)


def person(rng: random.Random, trad: bool) -> str:
    name = rng.choice(SURNAMES) + "".join(rng.choice(GIVEN) for _ in range(rng.choice((1, 2, 2))))
    return name.translate(TRAD) if trad else name


def id18(rng: random.Random, valid: bool = True) -> str:
    born = datetime.date(1920, 1, 1) + datetime.timedelta(days=rng.randrange(80 * 365))
    body = f"{rng.choice(PROVINCES)}{rng.randrange(100):02d}{rng.randrange(1, 100):02d}" \
           f"{born:%Y%m%d}{rng.randrange(1000):03d}"
    check = "10X98765432"[sum(int(d) * w for d, w in zip(body, WEIGHTS, strict=True)) % 11]
    if not valid:
        check = rng.choice([c for c in "0123456789X" if c != check])
    return body + (check.lower() if check == "X" and rng.random() < 0.3 else check)


def id15(rng: random.Random) -> str:
    born = datetime.date(1920, 1, 1) + datetime.timedelta(days=rng.randrange(60 * 365))
    return f"{rng.choice(PROVINCES)}{rng.randrange(100):02d}{rng.randrange(1, 100):02d}" \
           f"{born:%y%m%d}{rng.randrange(1000):03d}"


def luhn_complete(prefix: str, length: int, rng: random.Random) -> str:
    digits = prefix + "".join(str(rng.randrange(10)) for _ in range(length - len(prefix) - 1))
    for check in "0123456789":
        total = 0
        for i, ch in enumerate(reversed(digits + check)):
            d = int(ch)
            if i % 2:
                d = d * 2 - 9 if d > 4 else d * 2
            total += d
        if total % 10 == 0:
            return digits + check
    raise AssertionError


def mobile(rng: random.Random) -> str:
    number = rng.choice(("138", "139", "135", "150", "186", "177", "199", "147", "166")) + \
        "".join(str(rng.randrange(10)) for _ in range(8))
    form = rng.randrange(5)
    if form == 1:
        number = f"{number[:3]}-{number[3:7]}-{number[7:]}"
    elif form == 2:
        number = f"{number[:3]} {number[3:7]} {number[7:]}"
    elif form == 3:
        number = "+86 " + number
    elif form == 4 and rng.random() < 0.5:
        number = number.translate(FULL)
    return number


def landline(rng: random.Random) -> str:
    area = rng.choice(("010", "021", "022", "024", "0451", "0431", "0411", "0571"))
    local = str(rng.randrange(2, 10)) + "".join(str(rng.randrange(10)) for _ in range(
        6 if rng.random() < 0.4 else 7))
    return rng.choice((f"{area}-{local}", f"({area}){local}", f"（{area}）{local}",
                       f"〔{area}〕{local}", f"{area} {local}"))


def cn_number(digits: str) -> str:
    return "".join(CN_DIGITS[int(d)] for d in digits)


def sentence_kinds(rng: random.Random, trad: bool) -> list[Callable[[Text], None]]:
    name = person(rng, trad)
    zh = (lambda s, t: t) if trad else (lambda s, t: s)
    return [
        lambda t: t.add(zh("经核实，", "經核實，")).add(name).add(zh("（公民身份号码", "（公民身份號碼"))
        .add(id18(rng), "id_number").add(zh("）系本厂职工。", "）係本廠職工。")),
        lambda t: t.add(zh("申请人", "申請人")).add(name).add(zh("，身份证号：", "，身份證號："))
        .add(id15(rng), "id_number").add("。"),
        lambda t: t.add(name).add(zh("，男，", "，男，")).add(id18(rng), "id_number")
        .add(zh("，现住本市。", "，現住本市。")),
        lambda t: t.add(zh("联系电话", "聯繫電話")).add(mobile(rng), "phone").add("。"),
        lambda t: t.add(zh("如有疑问请致电", "如有疑問請致電")).add(landline(rng), "phone")
        .add(zh("，联系人", "，聯繫人")).add(name).add("。"),
        lambda t: t.add("電話").add(cn_number(str(rng.randrange(1000, 9999))), "phone")
        .add("號，隨時接洽為荷。"),
        lambda t: t.add(zh("本会电话：", "本會電話：")).add(str(rng.randrange(2000, 99999)), "phone")
        .add(zh("，地址中山路。", "，地址中山路。")),
        lambda t: t.add(zh("工资请汇入其银行卡号", "工資請匯入其銀行卡號"))
        .add(luhn_complete("6222", rng.choice((16, 19)), rng), "bank_card").add("。"),
        lambda t: t.add(zh("稿件请寄", "稿件請寄")).add(
            f"{rng.choice(('wang', 'li.ming', 'zhao_99', 'chen'))}{rng.randrange(100)}@"
            f"{rng.choice(('163.com', 'qq.com', 'example.org', 'sina.com.cn'))}", "email").add("。"),
        lambda t: t.add(name).add(zh("家住", "家住")).add(
            zh(f"哈尔滨市道里区中央大街{rng.randrange(1, 300)}号{rng.randrange(1, 9)}单元"
               f"{rng.randrange(101, 999)}室", f"哈爾濱市道里區中央大街{rng.randrange(1, 300)}號"),
            "address").add("。"),
        lambda t: t.add(zh("住址：", "住址：")).add(
            zh(f"辽宁省沈阳市和平区南京北街{rng.randrange(1, 300)}号",
               f"遼寧省瀋陽市和平區南京北街{rng.randrange(1, 300)}號"), "address").add("。"),
        lambda t: t.add(name, "person_name").add(zh("因患", "因患")).add(
            zh("肺结核", "肺結核"), "sensitive_term").add(zh("长期", "長期"))
        .add("住院", "sensitive_term").add(zh("，申请补助。", "，申請補助。")),
        lambda t: t.add(zh("经研究，给予", "經研究，給予")).add(name, "person_name")
        .add(zh("留党察看", "留黨察看"), "sensitive_term").add(zh("一年", "一年"))
        .add(zh("处分", "處分"), "sensitive_term").add("。"),
        lambda t: t.add(name, "person_name").add(zh("与其妻", "與其妻")).add(person(rng, trad),
                                                                          "person_name")
        .add(zh("协议", "協議")).add(zh("离婚", "離婚"), "sensitive_term").add("。"),
        lambda t: t.add(zh("被告人", "被告人")).add(name, "person_name").add(zh("犯", "犯"))
        .add(zh("盗窃", "盜竊"), "sensitive_term").add(zh("罪，", "罪，"))
        .add(zh("判处", "判處"), "sensitive_term").add(zh("有期徒刑", "有期徒刑"), "sensitive_term")
        .add(zh("三年。", "三年。")),
        lambda t: add_marking(t, rng, trad),
        # look-alikes that must not be flagged
        lambda t: t.add(zh(f"全年工业产值{rng.randrange(10**10, 2 * 10**10)}元，",
                           f"全年工業產值{rng.randrange(10**10, 2 * 10**10)}元，"))
        .add(zh("比上年增长一成。", "比上年增長一成。")),
        lambda t: t.add(zh("档号", "檔號")).add(f"J{rng.randrange(1, 99):03d}-WS·19"
                                              f"{rng.randrange(30, 99)}-Y-{rng.randrange(1, 9999):04d}")
        .add(zh("，文号安政发〔1985〕", "，文號安政發〔1985〕")).add(f"{rng.randrange(1, 300)}")
        .add(zh("号。", "號。")),
        lambda t: t.add(zh("统一社会信用代码", "統一社會信用代碼")).add(
            f"91{rng.randrange(110000, 659999)}MA0{rng.randrange(10, 99)}XYZ{rng.randrange(10)}X")
        .add("。"),
        lambda t: t.add(zh("设备编号", "設備編號")).add(id18(rng, valid=False))
        .add(zh("，已入库。", "，已入庫。")),
        lambda t: t.add(zh("市长", "市長")).add(person(rng, trad)).add(zh("批示：同意给予",
                                                                      "批示：同意給予"))
        .add(zh("处分", "處分"), "sensitive_term").add("。"),
        lambda t: t.add(zh("总计人民币", "總計人民幣")).add(
            f"{rng.choice(('138', '159'))}{rng.randrange(10**7, 10**8)}").add(zh("元。", "元。")),
    ]


def add_marking(t: Text, rng: random.Random, trad: bool) -> None:
    level = rng.choice(("机密", "秘密", "绝密"))
    if trad:
        level = level.translate(str.maketrans("机绝", "機絕"))
    t.add(("密級：" if trad else "密级：") + level + f"★{rng.randrange(1, 30)}年", "secret_marking")
    t.add("\n" + ("關於某事的報告" if trad else "关于某事的报告") + "\n")


def generate(n: int, seed: int) -> list[dict[str, object]]:
    rng = random.Random(seed)
    out = []
    for i in range(n):
        trad = rng.random() < 0.35
        t = Text()
        for make in rng.sample(sentence_kinds(rng, trad), k=rng.randint(1, 3)):
            make(t)
        out.append({"id": f"r{i:05d}", "text": t.value(), "labels": t.labels})
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--n", type=int, default=2000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--out", type=Path, required=True)
    args = parser.parse_args()
    args.out.parent.mkdir(parents=True, exist_ok=True)
    with args.out.open("w", encoding="utf-8") as fh:
        for item in generate(args.n, args.seed):
            fh.write(json.dumps(item, ensure_ascii=False) + "\n")


if __name__ == "__main__":
    main()
