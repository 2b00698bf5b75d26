"""Money amounts in English and Japanese text: "$64,000", "twelve hundred dollars a month",
600万円, 1人あたり月300円.

:func:`find_amounts` returns each amount with its span, value in currency units, currency and
what it is per. What counts as an amount:

* a number with a currency: a symbol or code before it ("$64,000", "€5,000", "¥500", "USD 5k")
  or a currency word after it ("64,000 dollars", "twelve hundred bucks", 600万円, 5万ドル);
* a number with "grand" ("ten grand"; currency unknown: "");
* a number that is large by its words ("64k", "1.2 million", "a hundred and fifty thousand",
  "twenty two k", 二千万, 300万, ひゃくごじゅうまん) or has 4+ digits ("64,000"), in a sentence
  with a money word (budget, price, cost, quote, pay, spend, fee, "all in", "year one", 予算,
  価格, 費用, 見積, 料金, 月額 ...), and not followed by what it counts ("150 thousand users",
  2千万人, 450名). Its currency is unknown (""): the speakers did not say it. Years (1900-2099
  as bare digits) are no amounts;
* a spoken price pair ("three fifty a seat", "twelve fifty", "sixteen five"; see
  :func:`numerals.spoken_pair`) with a rate after it, or money words a few words either side,
  or (when it cannot be a time of day) "at"/"for" just before it; never a time ("at ten
  thirty", "eleven thirty tomorrow"), a year ("twenty twenty two") or a count ("five ten
  minute breaks").

Japanese numbers in hiragana (a speech recognizer's output: きゅうまんはっせんえん, さんびゃくまん)
count like kanji ones, with えん as a currency word; spans point at the text as written.

``per`` is what the amount is per, as said, normalised: "month", "year", "week", "user"
(user, seat, license, head, person, employee, tech, learner, agent, 人, 名, ユーザー, ID, アカウント), another
counted unit in the singular ("truck", "location"; 台 -> "unit"), or a combination unit first
("user-month": "per user per month", 1人あたり月300円). "one-time" for "one-time" / 初期.

:func:`find_numbers` returns every number with its value (money or not), for checks that
compare values rather than words ("eighteen thousand" == "18,000" == "18k").
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from meeting_notes.notes.numerals import (
    EN_NUMBER,
    JA_KANA_START,
    JA_KANA_UNITS,
    JA_NUMBER,
    WIDTH,
    parse_en_number,
    parse_ja_number,
    spoken_pair,
)
from meeting_notes.notes.numerals import parse_number as _parse_number


@dataclass(frozen=True)
class MoneyMention:
    """An amount of money in a text."""

    span: tuple[int, int]
    said: str
    amount: float
    currency: str
    per: str


@dataclass(frozen=True)
class NumberMention:
    """Any number in a text, with its value."""

    span: tuple[int, int]
    said: str
    value: float


#: currency symbols and codes (one-to-one width mapping keeps spans)
_SYMBOL_WIDTH = str.maketrans("＄￥€£", "$¥€£")
SYMBOLS: dict[str, str] = {"US$": "USD", "$": "USD", "€": "EUR", "£": "GBP", "¥": "JPY"}
CODES: dict[str, str] = {"usd": "USD", "eur": "EUR", "gbp": "GBP", "jpy": "JPY"}
EN_CURRENCY_WORDS: dict[str, str] = {
    "dollars": "USD", "dollar": "USD", "bucks": "USD", "euros": "EUR", "euro": "EUR",
    "pounds": "GBP", "yen": "JPY", "usd": "USD", "eur": "EUR", "gbp": "GBP", "jpy": "JPY",
}  # fmt: skip
JA_CURRENCY_WORDS: dict[str, str] = {"円": "JPY", "えん": "JPY", "ドル": "USD", "ユーロ": "EUR", "ポンド": "GBP"}
#: words that make a large bare number an amount when they share its sentence
MONEY_WORDS_EN = (
    "budget", "price", "pricing", "priced", "cost", "costs", "quote", "quoted", "pay", "paying",
    "paid", "spend", "spending", "spent", "fee", "fees", "invoice", "contract value", "deal size",
    "discount", "per month", "a month", "per year", "a year", "annually", "sign off", "signs off",
    "approval", "approve", "revenue", "savings", "save", "signed off", "all in", "all-in", "everything in",
    "for the year", "year one", "first year", "retainer", "a seat", "per seat", "per user", "per license", "set aside",
    "afford", "allocated",
)  # fmt: skip
MONEY_WORDS_JA = (
    "予算", "価格", "費用", "見積", "料金", "金額", "月額", "年額", "税", "支払", "払", "コスト", "投資",
    "決裁", "稟議", "値引", "割引", "初期", "売上", "円",
)  # fmt: skip
#: what a bare number counts, so it is no amount ("150 thousand users", 450名)
COUNTED_EN = (
    r"users?|people|persons?|employees?|staff|seats?|licen[cs]es?|trucks?|vehicles?|drivers?|"
    r"units?|customers?|clients?|accounts?|orders?|jobs?|tickets?|calls?|stores?|locations?|sites?|"
    r"rooms?|items?|skus?|hours?|minutes?|days?|weeks?|months?|years?|miles?|km|kilometers?|rows?|"
    r"records?|members?|techs?|technicians?|learners?|students?|trainees?|agents?|reps?|workers?|"
    r"properties|property|hotels?|beds?|devices?|computers?|laptops?|tablets?|phones?|cameras?|"
    r"depots?|warehouses?|branch(?:es)?|offices?|shops?|restaurants?|outlets?|projects?|sessions?|"
    r"courses?|modules?|sqft|square|percent|%|messages?|texts?|emails?|followers?|views?|clicks?|impressions?|"
    r"leads?|candidates?|applicants?|recruiters?|shifts?|parts?|pallets?|boxes|cases?|creators?|posts?|videos?"
)
COUNTED_JA = (
    r"人|名|台|件|社|個|本|回|時間|分|秒|日|週|ヶ月|か月|カ月|年|店|拠点|ユーザー|ID|アカウント|"
    r"枚|部|行|km|キロ|トン|kg|%|％|パーセント|割|倍|位|番|件|棟|室|戸|現場|箇所|点"
)
#: "per" units: words -> normalised unit
PER_UNITS: dict[str, str] = {
    "month": "month", "mo": "month", "monthly": "month", "year": "year", "yr": "year",
    "annum": "year", "annually": "year", "yearly": "year", "week": "week", "weekly": "week",
    "user": "user", "seat": "user", "license": "user", "licence": "user", "head": "user",
    "person": "user", "employee": "user", "member": "user", "tech": "user", "technician": "user",
    "learner": "user", "student": "user", "trainee": "user", "agent": "user", "rep": "user",
    "worker": "user", "staff": "user", "device": "unit", "tablet": "unit", "camera": "unit",
    "property": "location", "hotel": "location", "branch": "location", "office": "location",
    "truck": "truck", "vehicle": "vehicle", "driver": "user", "location": "location",
    "site": "location", "store": "location", "room": "room", "hour": "hour",
    "月": "month", "年": "year", "週": "week", "人": "user", "名": "user", "ユーザー": "user",
    "ID": "user", "アカウント": "user", "ライセンス": "user", "台": "unit", "店舗": "location",
    "拠点": "location", "時間": "hour",
}  # fmt: skip
_PERIODS = {"month", "year", "week", "hour"}

_EN_PER_WORD = "|".join(sorted((w for w in PER_UNITS if w.isascii()), key=len, reverse=True))
_EN_PER = re.compile(
    rf"\s*(?:(?:a|an|per|each|every|/)\s*(?P<u>{_EN_PER_WORD})(?:s|es)?\b|(?P<adv>monthly|annually|yearly|weekly)\b)",
    re.IGNORECASE,
)
_EN_ONE_TIME = re.compile(
    r"\b(?:one[\s-]time|one[\s-]off|upfront|setup|set-up|onboarding)\s+(?:fee|cost|charge|payment)?\s*(?:of\s+)?$", re.IGNORECASE
)
_JA_UNITS = "|".join(sorted((w for w in PER_UNITS if not w.isascii()), key=len, reverse=True))
_JA_PER_AFTER = re.compile(rf"\s*(?:/|／|per|毎)\s*(?P<u>{_JA_UNITS}|ID)")
_JA_PER_BEFORE = re.compile(
    rf"(?:(?:1|一)\s*(?P<unit>{_JA_UNITS}|ID)\s*(?:あたり|当たり)の?\s*)?"
    rf"(?P<period>月額|月々|毎月|(?<![0-9〇一二三四五六七八九十])月|年額|年間|毎年|週)?\s*(?:税込|税抜)?\s*$"
)
_JA_ONE_TIME = re.compile(r"(?:初期費用|初期|導入費用?|一括)\s*(?:は|が|で)?\s*$")
_SENTENCE = re.compile(r"[.!?。！？\n]")
_YEAR = re.compile(r"(?:19|20)\d\d")

_EN_AMOUNT = re.compile(
    rf"(?P<sym>US\$|\$|€|£|¥)\s?(?P<snum>{EN_NUMBER})"
    rf"|\b(?P<code>USD|EUR|GBP|JPY)\s?(?P<cnum>{EN_NUMBER})"
    rf"|(?P<wnum>{EN_NUMBER})\s*(?P<word>{'|'.join(sorted(EN_CURRENCY_WORDS, key=len, reverse=True))})\b"
    rf"|(?P<bnum>{EN_NUMBER})",
    re.IGNORECASE,
)
_JA_AMOUNT = re.compile(
    rf"(?P<jnum>{JA_NUMBER})\s*(?P<jword>{'|'.join(JA_CURRENCY_WORDS)})"
    rf"|(?P<jbare>{JA_NUMBER})"
)
_EN_MAGNITUDE = re.compile(r"(?:thousand|grand|million|billion|trillion|\d\s?(?:k|m|mm|mn|b|bn)|[a-z]\s+k)\b", re.IGNORECASE)
#: a lone unit is a word (万が一, 千葉, じゅうぶん's じゅう), not a number
_LONE_UNITS = frozenset(["万", "億", "兆", "千", "百", "十", *JA_KANA_UNITS])

# -- spoken price pairs ("three fifty a seat", "sixteen five"): numbers only about money --
_WEEKDAY_WORDS = r"monday|tuesday|wednesday|thursday|friday|saturday|sunday"
#: words before a time of day ("at ten thirty", "from eleven thirty")
_TIME_BEFORE = re.compile(
    r"\b(?:at|by|until|till|til|from|around|before|after|between|to|for|say)\s+(?:(?:like|maybe|um|uh|about)\s+)?$",
    re.IGNORECASE,
)
#: words after a time of day ("ten thirty tomorrow", "eleven thirty eastern")
_TIME_AFTER = re.compile(
    rf"\s*(?:a\.?m\.?|p\.?m\.?|o'?clock|tomorrow|today|tonight|(?:in the|this|that) (?:morning|afternoon|evening)|"
    rf"(?:on )?(?:{_WEEKDAY_WORDS})|eastern|pacific|central|mountain|(?:your|my|our|their) time|[ecmp][sd]?t)\b",
    re.IGNORECASE,
)
#: words near a pair that make it money (the pair's sentence, a few words either side)
_PAIR_MONEY = re.compile(
    rf"\b(?:{'|'.join(re.escape(w) for w in MONEY_WORDS_EN)}|dollars?|bucks|per|each|list|came in at|comes? to|"
    r"total|k)\b",
    re.IGNORECASE,
)
#: "at" or "for" just before a pair ("came in at like sixteen five", "got it for eight seventy")
_PAIR_AT = re.compile(r"\b(?:at|for)\s+(?:(?:like|about|around|roughly|maybe|um|uh|just|only)\s+)*$", re.IGNORECASE)
#: characters either side of a pair searched for money words
PAIR_WINDOW = 40


def parse_number(text: str) -> float | None:
    """A number in English or Japanese words or digits: "twelve hundred", "a hundred and fifty
    thousand", 三百万, "1,200", "1.2k", "64k"; None when the text is not one number."""
    return _parse_number(text)


def _sentence_bounds(text: str, start: int, end: int) -> tuple[int, int]:
    """Where the sentence around ``text[start:end]`` starts and ends."""
    before = [m.end() for m in _SENTENCE.finditer(text, 0, start)]
    after = _SENTENCE.search(text, end)
    return (before[-1] if before else 0), (after.start() if after else len(text))


def _sentence(text: str, start: int, end: int) -> str:
    """The sentence around ``text[start:end]``."""
    lo, hi = _sentence_bounds(text, start, end)
    return text[lo:hi]


def _has_money_word(sentence: str) -> bool:
    low = sentence.lower()
    return any(re.search(rf"\b{re.escape(w)}", low) for w in MONEY_WORDS_EN) or any(w in sentence for w in MONEY_WORDS_JA)


def _combine(unit: str, period: str) -> str:
    return "-".join(p for p in (unit, period) if p)


def _per_en(text: str, start: int, end: int) -> str:
    units: list[str] = []
    pos = end
    for _ in range(2):
        m = _EN_PER.match(text, pos)
        if not m:
            break
        units.append(PER_UNITS[(m.group("u") or m.group("adv")).lower()])
        pos = m.end()
    if not units and _EN_ONE_TIME.search(text[max(0, start - 40) : start]):
        return "one-time"
    unit = next((u for u in units if u not in _PERIODS), "")
    period = next((u for u in units if u in _PERIODS), "")
    return _combine(unit, period)


def _per_ja(text: str, start: int, end: int) -> str:
    unit = period = ""
    before = _JA_PER_BEFORE.search(text[max(0, start - 20) : start])
    if before and before.group("unit"):
        unit = PER_UNITS[before.group("unit")]
    if before and before.group("period"):
        period = PER_UNITS[before.group("period").replace("額", "").replace("々", "").replace("毎", "").replace("間", "")]
    after = _JA_PER_AFTER.match(text, end)
    if after:
        value = PER_UNITS[after.group("u")]
        if value in _PERIODS:
            period = period or value
        else:
            unit = unit or value
    if not unit and not period and _JA_ONE_TIME.search(text[max(0, start - 10) : start]):
        return "one-time"
    if not unit and not period:
        return _per_en(text, start, end)  # "300円 per month" in mixed text
    return _combine(unit, period)


def _en_candidates(text: str) -> list[MoneyMention]:
    out = []
    for m in _EN_AMOUNT.finditer(text):
        g = m.groupdict()
        num = g["snum"] or g["cnum"] or g["wnum"] or g["bnum"]
        value = parse_en_number(num)
        if value is None or value <= 0:
            continue
        if g["sym"]:
            currency = SYMBOLS[g["sym"].upper()]
        elif g["code"]:
            currency = CODES[g["code"].lower()]
        elif g["word"]:
            currency = EN_CURRENCY_WORDS[g["word"].lower()]
        else:
            currency = ""
            if _is_pair(num):
                if not _pair_is_money(text, m.start(), m.end(), value, spoken_pair(num)):
                    continue
            elif not _bare_is_amount(text, m, num, value, english=True):
                continue
        out.append(MoneyMention(m.span(), text[m.start() : m.end()], value, currency, _per_en(text, *m.span())))
    return out


def _is_pair(num: str) -> bool:
    """A spoken price pair without a magnitude ("three fifty", "sixteen five"; not "three fifty k")."""
    return bool(spoken_pair(num)) and not _EN_MAGNITUDE.search(num)


def _pair_is_money(text: str, start: int, end: int, value: float, kind: str) -> bool:
    """Whether a spoken pair ("three fifty", "sixteen five") is an amount: a rate after it ("a
    seat", "per month") always makes it one; else it must not be a time of day ("at ten
    thirty", "eleven thirty tomorrow": an hour 1-12 and minutes 10-59 after "at"/"by"/"from"
    or before "am"/"tomorrow"/a weekday), a year ("twenty twenty six") or a count ("five ten
    minute"), and money words must be near it (price, budget, cost, quote, a month, per,
    bucks, "all in", "year one"), or, for a pair that cannot be a time ("sixteen five",
    "eight seventy"), "at"/"for" just before it."""
    if _EN_PER.match(text, end):
        return True
    if counted_after(text, end):
        return False
    hours, minutes = divmod(int(value), 100)
    if kind == "hundreds" and 1900 <= value <= 2099:
        return False  # a year said as a pair
    time_like = kind == "hundreds" and 1 <= hours <= 12 and 10 <= minutes <= 59
    before = text[max(0, start - PAIR_WINDOW) : start]
    if time_like and (_TIME_BEFORE.search(before) or _TIME_AFTER.match(text, end)):  # no rate after it
        return False
    lo, hi = _sentence_bounds(text, start, end)
    near = text[max(lo, start - PAIR_WINDOW) : start] + " " + text[end : min(hi, end + PAIR_WINDOW)]
    if _PAIR_MONEY.search(near):
        return True
    return not time_like and bool(_PAIR_AT.search(text[max(lo, start - PAIR_WINDOW) : start]))


def _bare_is_amount(text: str, m: re.Match[str], num: str, value: float, *, english: bool) -> bool:
    """A number without a currency is an amount when large by its words (or 4+ digits), not a
    year, not followed by what it counts, and said in a sentence about money; "grand" always."""
    if english and re.search(r"\bgrand\b", num, re.IGNORECASE):
        return True
    digits_only = re.fullmatch(r"[\d,.]+", num) is not None
    if digits_only and (_YEAR.fullmatch(num) or value < 1000):
        return False
    large = (_EN_MAGNITUDE.search(num) if english else re.search(r"[万億千]|まん|おく|せん|ぜん", num)) or value >= 1000
    if not large:
        return False
    if not english and num in _LONE_UNITS:
        return False  # 万が一, 千葉: a lone unit character is a word, not a number
    if counted_after(text, m.end()):
        return False
    return _has_money_word(_sentence(text, *m.span()))


_COUNTED_AFTER = re.compile(rf"\s*(?:(?:{COUNTED_EN})(?![a-z])|{COUNTED_JA})", re.IGNORECASE)


def counted_after(text: str, end: int) -> bool:
    """Whether the words right after a number at ``text[:end]`` say what it counts ("5,000
    messages", "forty recruiters", 450名): such a number is no amount."""
    return _COUNTED_AFTER.match(text, end) is not None


def _ja_candidates(text: str) -> list[MoneyMention]:
    out = []
    for m in _JA_AMOUNT.finditer(text):
        g = m.groupdict()
        num = g["jnum"] or g["jbare"]
        value = parse_ja_number(num)
        if value is None or value <= 0:
            continue
        kana = num[0] in JA_KANA_START
        if g["jword"]:
            if num in ("万", "億", "兆", "まん", "おく"):
                continue  # 万円単位: a unit, no amount (千円 and 百円 are amounts)
            currency = JA_CURRENCY_WORDS[g["jword"]]
        else:
            currency = ""
            before = text[max(0, m.start() - 1) : m.start()]
            if before == "¥":
                currency = "JPY"
            elif num in _LONE_UNITS:
                continue  # a lone unit (万が一, じゅうぶん) is a word
            elif not kana and (
                not re.search(r"[〇一二三四五六七八九十百千万億兆]", num) or not re.search(r"[0-9〇一二三四五六七八九]", num)
            ):
                continue  # digits alone are the English rule's
            elif not _bare_is_amount(text, m, num, value, english=False):
                continue
        start = m.start() - (1 if currency == "JPY" and text[max(0, m.start() - 1) : m.start()] == "¥" and not g["jword"] else 0)
        out.append(MoneyMention((start, m.end()), text[start : m.end()], value, currency, _per_ja(text, start, m.end())))
    return out


def _longest_first(mentions: list[MoneyMention]) -> list[MoneyMention]:
    mentions.sort(key=lambda x: (x.span[0], -(x.span[1] - x.span[0]), x.currency == ""))
    out: list[MoneyMention] = []
    for mention in mentions:
        if out and mention.span[0] < out[-1].span[1]:
            continue
        out.append(mention)
    return out


def find_amounts(text: str, language: str) -> list[MoneyMention]:
    """Every money amount in ``text``, in order (see the module docstring for what counts).

    Both languages' rules run on any text (Japanese meetings say "$5,000" too); ``language``
    is accepted for the API's symmetry."""
    del language
    plain = text.translate(WIDTH).translate(_SYMBOL_WIDTH)
    found = _longest_first([*_en_candidates(plain), *_ja_candidates(plain)])
    return [MoneyMention(f.span, text[f.span[0] : f.span[1]], f.amount, f.currency, f.per) for f in found]


def find_numbers(text: str) -> list[NumberMention]:
    """Every number in ``text`` (digits, English number words, kanji numerals) with its value.
    A lone kanji (一, 十, 千, 万) is skipped: it is usually part of a word (一緒, 万が一)."""
    plain = text.translate(WIDTH)
    out: list[NumberMention] = []
    for pattern, parse, flags in ((EN_NUMBER, parse_en_number, re.IGNORECASE), (JA_NUMBER, parse_ja_number, 0)):
        for m in re.finditer(pattern, plain, flags):
            said = m.group()
            if not said or len(said) == 1 and not said.isdigit() or said in _LONE_UNITS:
                continue
            if parse is parse_en_number and _is_pair(said) and not _pair_is_money(plain, *m.span(), parse(said) or 0, spoken_pair(said)):
                continue  # "ten thirty" as a time, "five ten" as two numbers
            value = parse(said)
            if value is not None:
                out.append(NumberMention(m.span(), text[m.start() : m.end()], value))
    out.sort(key=lambda n: (n.span[0], -(n.span[1] - n.span[0])))
    kept: list[NumberMention] = []
    for n in out:
        if kept and n.span[0] < kept[-1].span[1]:
            continue
        kept.append(n)
    return kept
