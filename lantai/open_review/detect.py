"""Personal-information and sensitivity detectors for Chinese archival text.

Each detector returns :class:`Flag` spans in characters of the text it was given, with the rule
that found them, so a reviewer sees the evidence. They are written for the text archives hold:
full-width digits, numbers run into Chinese words (联系电话13812345678 — ``\\b`` finds nothing
there, Chinese characters being word characters), traditional characters, Republican-era short
telephone numbers in Chinese numerals, and numbers that only look like personal data (amounts,
档号, 文号, 统一社会信用代码, serials whose checksum fails), which are not flagged.

Measured before writing these (``docs/open-review.md``): ``phonenumbers`` finds modern mobile
and hyphenated numbers but validates against today's numbering plan, so it misses 7-digit and
4-digit historical numbers, bracketed area codes and full-width digits; ``id-validator`` checks
18- and 15-digit numbers (the same checks are made here, without the dependency).
"""

from __future__ import annotations

import datetime
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import cache, lru_cache

KINDS = ("id_number", "phone", "bank_card", "email", "address", "person_name",
         "sensitive_term", "secret_marking")

#: Full-width digits, letters and a few signs → ASCII, one character for one (offsets hold).
_WIDTH = str.maketrans(
    {**{chr(0xFF10 + i): str(i) for i in range(10)},
     **{chr(0xFF21 + i): chr(0x41 + i) for i in range(26)},
     **{chr(0xFF41 + i): chr(0x61 + i) for i in range(26)},
     "（": "(", "）": ")", "－": "-", "＋": "+", "＠": "@", "．": ".", "　": " ",
     "—": "-", "–": "-", "〔": "(", "〕": ")", "［": "(", "］": ")", "【": "(", "】": ")"})


@dataclass(frozen=True)
class Flag:
    kind: str
    start: int
    end: int
    text: str
    rule: str

    def to_dict(self) -> dict[str, object]:
        return {"kind": self.kind, "start": self.start, "end": self.end, "text": self.text,
                "rule": self.rule}


# -- 居民身份证 -----------------------------------------------------------------------------------
#: Province-level codes of GB/T 2260 (the first two digits of every ID number).
_PROVINCES = frozenset({11, 12, 13, 14, 15, 21, 22, 23, 31, 32, 33, 34, 35, 36, 37, 41, 42, 43,
                        44, 45, 46, 50, 51, 52, 53, 54, 61, 62, 63, 64, 65, 71, 81, 82, 83, 91})
_ID18 = re.compile(r"(?<![0-9A-Za-z])[1-9]\d{16}[\dXx](?![0-9A-Za-z])")
_ID15 = re.compile(r"(?<![0-9A-Za-z])[1-9]\d{14}(?![0-9A-Za-z])")
_ID_WORDS = re.compile(r"(身份证|身份證|身份号|身份號|公民身份|证件号|證件號)")
_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)


def _valid_date(year: int, month: int, day: int) -> bool:
    try:
        born = datetime.date(year, month, day)
    except ValueError:
        return False
    return datetime.date(1850, 1, 1) <= born <= datetime.date.today()


def id18_valid(number: str) -> bool:
    """Province, birth date and the ISO 7064 MOD 11-2 check character of an 18-digit ID."""
    if int(number[:2]) not in _PROVINCES:
        return False
    if not _valid_date(int(number[6:10]), int(number[10:12]), int(number[12:14])):
        return False
    total = sum(int(d) * w for d, w in zip(number[:17], _WEIGHTS, strict=True))
    return "10X98765432"[total % 11] == number[17].upper()


def id15_valid(number: str) -> bool:
    """Province and birth date (19YYMMDD) of a first-generation 15-digit ID."""
    return int(number[:2]) in _PROVINCES and _valid_date(
        1900 + int(number[6:8]), int(number[8:10]), int(number[10:12]))


# -- numbers that are something else -------------------------------------------------------
#: Units and words after a number that make it a quantity, not a phone or ID number.
_AMOUNT_AFTER = re.compile(r"\s*(元|圆|圓|块|塊|万|萬|亿|億|千|百|吨|噸|公斤|斤|吨|人|户|戶|件|"
                           r"册|冊|页|頁|米|公里|亩|畝|平方|台|辆|輛|个|個|次|%|％|美元|角|分钱)")
_NOT_PERSONAL_BEFORE = re.compile(
    r"(产值|產值|金额|金額|总额|總額|合计|合計|共计|共計|人民币|人民幣|收入|支出|利润|利潤|"
    r"资金|資金|投资|投資|营业额|營業額|档号|檔號|文号|文號|编号|編號|注册号|註冊號|登记号|登記號|"
    r"信用代码|信用代碼|批号|批號|序号|序號|订单号|訂單號|发票|發票|合同号|合同號|产量|產量)"
    r"[^，。；\n]{0,6}$")


def _quantity(text: str, start: int, end: int) -> bool:
    return bool(_AMOUNT_AFTER.match(text, end)) or bool(
        _NOT_PERSONAL_BEFORE.search(text[max(0, start - 14):start]))


def detect_ids(text: str) -> list[Flag]:
    flags = []
    for m in _ID18.finditer(text):
        if id18_valid(m.group()) and not _quantity(text, m.start(), m.end()):
            flags.append(Flag("id_number", m.start(), m.end(), m.group(), "id18-checksum"))
    for m in _ID15.finditer(text):
        if id15_valid(m.group()) and not _quantity(text, m.start(), m.end()):
            flags.append(Flag("id_number", m.start(), m.end(), m.group(), "id15-region-date"))
    return flags


# -- 银行卡 ----------------------------------------------------------------------------------
_CARD = re.compile(r"(?<![0-9A-Za-z])(?:\d{4}[ -]){3,4}\d{1,7}(?![0-9A-Za-z])|"
                   r"(?<![0-9A-Za-z])\d{16,19}(?![0-9A-Za-z])")
_CARD_WORDS = re.compile(r"(卡号|卡號|银行卡|銀行卡|账号|賬號|帐号|帳號|账户|帳戶|开户|開戶|信用卡|"
                         r"储蓄卡|儲蓄卡|借记卡|存折|存摺)[^。\n]{0,12}$")


def luhn(digits: str) -> bool:
    total = 0
    for i, ch in enumerate(reversed(digits)):
        d = int(ch)
        if i % 2:
            d = d * 2 - 9 if d > 4 else d * 2
        total += d
    return total % 10 == 0


def detect_cards(text: str, taken: Sequence[Flag] = ()) -> list[Flag]:
    flags = []
    for m in _CARD.finditer(text):
        digits = re.sub(r"\D", "", m.group())
        if not 16 <= len(digits) <= 19 or not luhn(digits):
            continue
        if any(f.start <= m.start() < f.end for f in taken):
            continue  # an ID number whose digits happen to pass Luhn
        context = bool(_CARD_WORDS.search(text[max(0, m.start() - 16):m.start()]))
        issuer = digits[:2] in ("62", "60", "95", "96", "94") or digits[0] in "345"
        if (context or issuer) and not _quantity(text, m.start(), m.end()):
            flags.append(Flag("bank_card", m.start(), m.end(), m.group(), "card-luhn"))
    return flags


# -- 电话 ------------------------------------------------------------------------------------
#: Mobile prefixes in use (13x, 14[5-9], 15x but 154, 16[2567], 17[0-35-8], 18x, 19x).
_MOBILE = re.compile(
    r"(?<![0-9A-Za-z])(?:(?:\+|00)?86[ -]?|\(\+?86\)[ -]?)?"
    r"(1(?:3\d|4[5-9]|5[0-35-9]|6[2567]|7[0-35-8]|8\d|9\d)(?:[ -]?\d{4}){2})(?!\d)")
_LANDLINE = re.compile(
    r"(?<![0-9A-Za-z])(?:(?:\+|00)?86[ -]?)?"
    r"(?:\(0\d{2,3}\)[ -]?|0\d{2,3}[ -]|0(?:10|2\d|[3-9]\d{2}))"
    r"[2-9]\d{2,3}[ -]?\d{4}(?!\d)")
#: A number after 电话/電話/Tel in Arabic or Chinese numerals (as Republican-era letters
#: write them: 電話二三四五).
_CN_DIGITS = "0-9〇零一二三四五六七八九两兩"
_AFTER_WORD = re.compile(
    r"(电话|電話|电话号码|電話號碼|电话号|電話號|联系电话|聯繫電話|聯系電話|手机|手機|传真|傳真|"
    r"Tel|TEL|tel|Phone|phone)\s*(?:号码|號碼|号|號)?\s*[：:为為是]?\s*"
    rf"(\(?[{_CN_DIGITS}]{{1,4}}\)?[ -]?)?([{_CN_DIGITS}]{{3,8}})(?:[ -]([{_CN_DIGITS}]{{3,4}}))?")


def detect_phones(text: str, taken: Sequence[Flag] = ()) -> list[Flag]:
    flags: list[Flag] = []

    def add(start: int, end: int, rule: str) -> None:
        while end > start and text[end - 1] in " -":
            end -= 1
        if any(f.start < end and start < f.end for f in (*taken, *flags)):
            return
        if _quantity(text, start, end):
            return
        flags.append(Flag("phone", start, end, text[start:end], rule))

    for m in _MOBILE.finditer(text):
        add(m.start(), m.end(), "mobile")
    for m in _LANDLINE.finditer(text):
        add(m.start(), m.end(), "landline")
    for m in _AFTER_WORD.finditer(text):
        start = m.start(2) if m.group(2) else m.start(3)
        add(start, m.end(), "after-telephone-word")
    return flags


# -- e-mail ----------------------------------------------------------------------------------
_EMAIL = re.compile(r"[A-Za-z0-9][A-Za-z0-9._%+-]*@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*"
                    r"\.[A-Za-z]{2,}")


def detect_emails(text: str) -> list[Flag]:
    return [Flag("email", m.start(), m.end(), m.group(), "email") for m in _EMAIL.finditer(text)]


# -- 住址 ------------------------------------------------------------------------------------
_H = r"[\u4e00-\u9fff]"
_NUM = r"[0-9〇零一二三四五六七八九十百两兩甲乙丙丁-]"
_ADDRESS = re.compile(
    rf"(?:{_H}{{2,7}}?(?:省|自治区|自治區))?"
    rf"(?:{_H}{{2,7}}?(?:市|州|盟|地区|地區))?"
    rf"(?:{_H}{{1,7}}?(?:区|區|县|縣|旗))?"
    rf"(?:{_H}{{1,8}}?(?:街道|镇|鎮|乡|鄉))?"
    rf"{_H}{{1,10}}?(?:大街|大道|路|街|巷|弄|胡同|里|村|屯|道)"
    rf"(?:{_NUM}{{1,6}}(?:号院|號院|号|號|弄|巷))"
    rf"(?:{_NUM}{{1,4}}(?:号楼|號樓|栋|棟|幢|楼|樓|单元|單元|层|層|室|户|戶|号|號)){{0,4}}")
_ADDRESS_WORDS = re.compile(r"(住址|住所|家住|现住|現住|住在|居住于|居住於|住于|住於|家庭住址|"
                            r"通讯地址|通訊地址|联系地址|聯繫地址|户籍地|戶籍地|寓所|寓)[^。，\n]{0,3}$")
#: Words that make a place an institution's (a street address of an office is not personal).
_INSTITUTION_BEFORE = re.compile(r"(办公|辦公|会址|會址|社址|厂址|廠址|校址|馆址|館址|设于|設於|"
                                 r"设在|設在|位于|位於|迁至|遷至)[^。，\n]{0,3}$")


_LEAD_WORDS = re.compile(r"(住址|住所|家住|现住|現住|住在|居住于|居住於|住于|住於|地址|寓所|寓|"
                        r"办公|辦公|会址|會址|社址|厂址|廠址|校址|馆址|館址|设于|設於|设在|設在|"
                        r"位于|位於|迁至|遷至|籍贯|籍貫|户籍|戶籍|为|為|是|在|于|於|、|：|:)")


def detect_addresses(text: str) -> list[Flag]:
    flags = []
    for m in _ADDRESS.finditer(text):
        start, end = m.start(), m.end()
        # the lazy place names may have taken the words before the address: cut after the
        # last of them, and leave institutions' addresses alone
        leads = list(_LEAD_WORDS.finditer(text, start, end))
        context = text[max(0, start - 8):start] + (text[start:leads[-1].end()] if leads else "")
        if leads:
            start = leads[-1].end()
        if _INSTITUTION_BEFORE.search(context) and not _ADDRESS_WORDS.search(context):
            continue
        if end - start < 4:
            continue
        flags.append(Flag("address", start, end, text[start:end], "street-and-number"))
    return flags


# -- 密级标志 --------------------------------------------------------------------------------
_SECRET = re.compile(
    r"(?:密级|密級)\s*[：:]?\s*(?:绝密|絕密|机密|機密|秘密)(?:\s*★\s*[^\s，。]{0,6})?|"
    r"(?:绝密|絕密|机密|機密|秘密)\s*★\s*(?:[0-9一二三四五六七八九十]+\s*(?:年|个月|個月))?|"
    r"(?:^|(?<=\n))\s*[（(]?(?:绝密|絕密|机密|機密)[)）]?\s*(?=\n|$)|"
    r"(?:^|(?<=\n))\s*(?:秘密|机密|機密|绝密|絕密)(?:文件|件)\s*(?=\n|$)")


def detect_secret_markings(text: str) -> list[Flag]:
    flags = []
    for m in _SECRET.finditer(text):
        start, end = m.start(), m.end()
        while start < end and text[start].isspace():
            start += 1
        while end > start and text[end - 1].isspace():
            end -= 1
        flags.append(Flag("secret_marking", start, end, text[start:end], "classification-mark"))
    return flags


# -- 敏感词与敏感语境中的私人姓名 ------------------------------------------------------------------
#: Sensitive contexts and their terms (simplified and traditional forms). An archive edits its
#: own list in its rules file; these are the defaults.
SENSITIVE_TERMS: dict[str, tuple[str, ...]] = {
    "medical": ("住院", "诊断", "診斷", "病历", "病歷", "精神病", "传染病", "傳染病", "肺结核",
                "肺結核", "结核病", "結核病", "麻风", "麻瘋", "梅毒", "艾滋病", "性病", "癌症",
                "患病", "患有", "病故", "病逝", "堕胎", "墮胎", "流产", "流產", "残疾", "殘疾",
                "精神失常", "疯病", "瘋病"),
    "disciplinary": ("处分", "處分", "警告处分", "记过", "記過", "记大过", "記大過", "撤职", "撤職",
                     "开除", "開除", "留党察看", "留黨察看", "降级", "降級", "免职", "免職",
                     "违纪", "違紀", "通报批评", "通報批評"),
    "criminal": ("判处", "判處", "判刑", "有期徒刑", "无期徒刑", "無期徒刑", "死刑", "拘留",
                 "逮捕", "劳改", "勞改", "劳动教养", "勞動教養", "劳教", "勞教", "服刑", "收监",
                 "收監", "盗窃", "盜竊", "贪污", "貪污", "受贿", "受賄", "强奸", "強姦", "诈骗",
                 "詐騙", "犯罪", "罪犯", "刑满", "刑滿", "通缉", "通緝", "嫌疑人"),
    # (审查, 复查 and 检讨 alone are everyday office words; only their loaded forms count)
    "political_review": ("政审", "政審", "右派", "反革命", "历史问题", "歷史問題", "甄别", "甄別",
                         "平反", "摘帽", "特嫌", "叛徒", "地主成分", "富农", "富農", "坏分子",
                         "壞分子", "交代问题", "交代問題", "隔离审查", "隔離審查", "审干", "審幹",
                         "复查平反", "複查平反"),
    "family": ("离婚", "離婚", "婚外", "私生", "收养", "收養", "抚养", "撫養", "遗弃", "遺棄",
               "家庭纠纷", "家庭糾紛", "分居", "再婚", "婚姻纠纷", "婚姻糾紛", "虐待", "童养媳",
               "童養媳"),
}

#: Common single-character surnames (百家姓, most frequent first) and compound ones.
_SURNAMES = set(
    "王李张張刘劉陈陳杨楊黄黃赵趙吴吳周徐孙孫马馬朱胡郭何林高罗羅郑鄭梁谢謝宋唐许許韩韓冯馮邓鄧曹"
    "彭曾肖萧蕭田董潘袁蔡蒋蔣余于於杜叶葉程魏苏蘇吕呂丁任卢盧姚沈钟鍾姜崔谭譚陆陸范汪廖石金韦韋贾賈"
    "夏付傅方邹鄒熊白孟秦邱侯江尹薛阎閻段雷龙龍黎史陶贺賀毛郝顾顧龚龔邵万萬覃武钱錢戴严嚴莫孔向常汤湯"
    "康易乔喬赖賴文施洪辛柯庄莊樊殷牛翁葛邢单單包鲍鮑俞齐齊季舒颜顏左黎柴游凌尚瞿苗闫閆祝霍"
    "岳焦祁甘聂聶温溫裴骆駱安鲁魯倪关關梅卞房谷涂蓝藍滕成纪紀申欧歐宁寧宫宮车車鲍")
_COMPOUND = ("欧阳", "歐陽", "司马", "司馬", "诸葛", "諸葛", "上官", "东方", "東方", "皇甫",
             "慕容", "令狐", "司徒", "尉迟", "尉遲", "公孙", "公孫", "夏侯", "长孙", "長孫")
#: Titles that mark an official acting in office: a name right after (or before) one is not
#: personal information to flag.
_TITLES = ("书记", "書記", "市长", "市長", "县长", "縣長", "区长", "區長", "局长", "局長",
           "处长", "處長", "科长", "科長", "部长", "部長", "主任", "主席", "厂长", "廠長",
           "校长", "校長", "院长", "院長", "所长", "所長", "委员", "委員", "秘书长", "秘書長",
           "省长", "省長", "镇长", "鎮長", "乡长", "鄉長", "经理", "經理", "司令", "政委",
           "参谋", "參謀", "军长", "軍長", "师长", "師長", "团长", "團長", "审判长", "審判長",
           "审判员", "審判員", "法官", "检察长", "檢察長", "检察员", "檢察員", "代表", "总理",
           "總理", "总统", "總統", "行政长官", "会长", "會長", "社长", "社長", "馆长", "館長",
           "队长", "隊長", "组长", "組長", "干事", "幹事", "监狱长", "監獄長", "医师", "醫師",
           "医生", "醫生", "大夫", "护士", "護士", "教授", "经办人", "經辦人", "批示", "签发",
           "簽發", "核稿", "拟稿", "擬稿", "承办人", "承辦人", "审核人", "審核人")
#: Words after a name that show a person is meant (not a place or an organisation).
_NAME_FOLLOW = re.compile(r"(同志|先生|女士|君|氏|之妻|之夫|之子|之女|本人|因|系|係|患|"
                          r"于|於|被|等人|、|，|,|（|\(|曾|现|現|已|与|與|和|及|的|在|所|"
                          r"将|將|经|經|自|向|对|對|\s|：|:|是|为|為|无|無|男|女|年)")
_NAME_CHARS = r"[\u4e00-\u9fff]"
#: Characters before and after the sensitive terms of a sentence in which names are tagged
#: (the tagger is the slow part; names stand close to what is said of them).
_BEFORE, _AFTER = 14, 8
_SENTENCE = re.compile(r"[^。！？!?；;\n]+[。！？!?；;]?")


@cache
def _term_pattern() -> re.Pattern[str]:
    terms = sorted({t for ts in SENSITIVE_TERMS.values() for t in ts}, key=len, reverse=True)
    return re.compile("|".join(map(re.escape, terms)))


@cache
def _category_of() -> dict[str, str]:
    return {t: cat for cat, ts in SENSITIVE_TERMS.items() for t in ts}


@lru_cache(maxsize=8)
def _terms_pattern(terms: tuple[str, ...]) -> re.Pattern[str]:
    return re.compile("|".join(map(re.escape, sorted(set(terms), key=len, reverse=True))))


def detect_sensitive_terms(text: str, terms: Iterable[str] | None = None) -> list[Flag]:
    pattern = _term_pattern() if terms is None else _terms_pattern(tuple(terms))
    categories = _category_of()
    return [Flag("sensitive_term", m.start(), m.end(), m.group(),
                 f"term:{categories.get(m.group(), 'custom')}") for m in pattern.finditer(text)]


_STOP_GIVEN = set("的了是在和与與及等为為于於被将將把对對向从從到由以之其该該此本各每某"
                  "因患系係曾现現已经經均皆亦又并並所")


def _name_candidates(sentence: str, term_starts: frozenset[int] = frozenset()
                     ) -> list[tuple[int, int]]:
    """Spans that read as a person's name: a surname and one or two given-name characters,
    followed by a word that people (not places) take, or by a sensitive term."""
    found: list[tuple[int, int]] = []
    i = 0
    n = len(sentence)
    while i < n:
        surname_len = 2 if sentence[i:i + 2] in _COMPOUND else 1 if sentence[i] in _SURNAMES else 0
        if not surname_len:
            i += 1
            continue
        best = None
        for given in (2, 1):
            end = i + surname_len + given
            if end > n:
                continue
            name = sentence[i:end]
            if not re.fullmatch(_NAME_CHARS + "+", name):
                continue
            if any(ch in _STOP_GIVEN for ch in name[surname_len:]):
                continue
            if end == n or end in term_starts or _NAME_FOLLOW.match(sentence, end):
                before = sentence[i - 1] if i else ""
                if end not in term_starts and before and re.match(_NAME_CHARS, before) and \
                        before not in "犯人民员員工生妻夫子女兄弟姐妹父母氏对對将將把被令据據由经經给給向与與和及、，":  # noqa: E501
                    continue
                best = (i, end)
                break
        if best:
            found.append(best)
            i = best[1]
        else:
            i += 1
    return found


@cache
def _tagger() -> object:
    import logging

    import jieba
    import jieba.posseg

    jieba.setLogLevel(logging.WARNING)
    return jieba.posseg


def _tagged_names(sentence: str) -> list[tuple[int, int]]:
    """Person names by jieba's part-of-speech tags (nr*), kept when they start with a
    surname; a trailing function character jieba glued on (张三因) is cut off."""
    found = []
    pos = 0
    for word, flag in _tagger().cut(sentence):  # type: ignore[attr-defined]
        start, pos = pos, pos + len(word)
        if not flag.startswith("nr") or not 2 <= len(word) <= 4:
            continue
        surname = 2 if word[:2] in _COMPOUND else 1 if word[0] in _SURNAMES else 0
        if not surname:
            continue
        while len(word) > surname + 1 and word[-1] in _STOP_GIVEN:
            word = word[:-1]
        found.append((start, start + len(word)))
    return found


def _official(sentence: str, start: int, end: int) -> bool:
    before = sentence[max(0, start - 6):start]
    after = sentence[end:end + 6]
    return any(before.endswith(t) or before.rstrip(" 　:：").endswith(t) for t in _TITLES) or \
        any(after.startswith(t) for t in _TITLES)


def detect_names_in_sensitive_context(text: str, terms: Sequence[Flag]) -> list[Flag]:
    """Private persons named in a sentence that also holds a sensitive term (medical,
    disciplinary, criminal, political review, family); officials named with their title are
    acting in office and are left alone. A name found once is found again wherever it recurs
    in such a sentence."""
    sentences = []
    names: set[str] = set()
    for sm in _SENTENCE.finditer(text):
        s0, s1 = sm.start(), sm.end()
        inside = [t for t in terms if s0 <= t.start < s1]
        if inside:
            sentences.append((s0, sm.group(), inside))
    found: dict[tuple[int, int], str] = {}
    for s0, sentence, inside in sentences:
        # the tagger is the slow part: give it the stretch around the terms only
        w0 = max(0, min(t.start for t in inside) - s0 - _BEFORE)
        w1 = min(len(sentence), max(t.end for t in inside) - s0 + _AFTER)
        tagged = [(a + w0, b + w0) for a, b in _tagged_names(sentence[w0:w1])]
        starts = frozenset(t.start - s0 for t in inside)
        spans = tagged + [c for c in _name_candidates(sentence, starts)
                          if not any(c[0] < t[1] and t[0] < c[1] for t in tagged)]
        for a, b in sorted(spans):
            if any(t.start - s0 < b and a < t.end - s0 for t in inside):
                continue  # the "name" is part of the sensitive term
            if _official(sentence, a, b):
                continue
            names.add(sentence[a:b])
            found[(s0 + a, s0 + b)] = inside[0].rule.split(":", 1)[-1]
    for s0, sentence, inside in sentences:
        for name in names:
            for m in re.finditer(re.escape(name), sentence):
                span = (s0 + m.start(), s0 + m.end())
                if span not in found and not _official(sentence, m.start(), m.end()) and not \
                        any(f[0] < span[1] and span[0] < f[1] for f in found):
                    found[span] = inside[0].rule.split(":", 1)[-1]
    return [Flag("person_name", a, b, text[a:b], f"name-in-context:{cat}")
            for (a, b), cat in sorted(found.items())]


def detect(text: str, *, terms: Iterable[str] | None = None) -> list[Flag]:
    """Every flag in ``text``, sorted by position."""
    work = text.translate(_WIDTH)
    ids = detect_ids(work)
    cards = detect_cards(work, ids)
    phones = detect_phones(work, [*ids, *cards])
    sensitive = detect_sensitive_terms(work, terms)
    flags = [*ids, *cards, *phones, *detect_emails(work), *detect_addresses(work),
             *sensitive, *detect_names_in_sensitive_context(work, sensitive),
             *detect_secret_markings(work)]
    # report the text as written (the translation keeps every offset)
    out = [Flag(f.kind, f.start, f.end, text[f.start:f.end], f.rule) for f in flags]
    return sorted(out, key=lambda f: (f.start, f.end, f.kind))
