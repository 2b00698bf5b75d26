"""Numbers as people say them: digits, English number words and Japanese numerals (kanji, or
hiragana as a speech recognizer writes them).

One place for the number vocabulary that :mod:`dates` and :mod:`money` share.

* :func:`parse_en_number` reads "twelve hundred", "a hundred and fifty thousand",
  "twenty-five", "1.2 million", "64k", "64,000", "ten grand"; number words with a magnitude
  ("fifteen k", "twenty two k", "one point two million", "two point five k", "half a
  million"); and the spoken
  price pairs ("three fifty" 350, "twelve fifty" 1,250, "four forty nine" 449: hundreds;
  "sixteen five" 16,500: thousands and hundreds), which :func:`spoken_pair` tells apart: they
  are numbers only where the words around them say so (money, not "ten thirty" as a time).
* :func:`parse_ja_number` reads "三百万", "二千万", "1000万", "1,500", "2千5百", "1.5億",
  "二十三", "一万二千", full-width digits, and hiragana numbers ("さんびゃくまん",
  "きゅうまんはっせん", "にせんごひゃく", with the sound changes ろっぴゃく, はっせん, さんぜん ...).
* :data:`EN_NUMBER` and :data:`JA_NUMBER` are regular expressions (strings) that match such
  numbers in running text, for the finders to embed. A hiragana number is matched only as a
  whole run holding a unit (じゅう, ひゃく, せん, まん, おく): not inside another word (ごせんたく,
  いっしょに), not before a counter (さんじゅうにん), and after a non-hiragana character or a
  particle that follows one (予算はひゃくまん).

Both parsers return ``None`` for text that is not entirely one number.
"""

from __future__ import annotations

import re

#: full-width digits and separators mapped one-to-one (keeps character offsets)
WIDTH = str.maketrans("０１２３４５６７８９，．／－：", "0123456789,./-:")

EN_ONES: dict[str, int] = {
    "zero": 0, "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7,
    "eight": 8, "nine": 9, "ten": 10, "eleven": 11, "twelve": 12, "thirteen": 13,
    "fourteen": 14, "fifteen": 15, "sixteen": 16, "seventeen": 17, "eighteen": 18,
    "nineteen": 19, "twenty": 20, "thirty": 30, "forty": 40, "fifty": 50, "sixty": 60,
    "seventy": 70, "eighty": 80, "ninety": 90,
}  # fmt: skip
EN_HUNDRED = {"hundred": 100}
EN_SCALES: dict[str, int] = {
    "thousand": 10**3, "grand": 10**3, "million": 10**6, "billion": 10**9, "trillion": 10**12,
}  # fmt: skip
#: digit suffixes: "64k", "1.2m", "3bn", "2mm" (finance shorthand for million)
EN_SUFFIXES: dict[str, int] = {"k": 10**3, "m": 10**6, "mm": 10**6, "mn": 10**6, "b": 10**9, "bn": 10**9}
#: ordinal words (dates: "the third week", "first quarter")
EN_ORDINALS: dict[str, int] = {
    "first": 1, "second": 2, "third": 3, "fourth": 4, "fifth": 5, "last": -1,
}  # fmt: skip
#: the days of a month as ordinal words ("june thirtieth", "the twenty-second"); compounds
#: ("twenty-second", "twenty second") are read by :func:`parse_en_day_ordinal`
EN_DAY_ORDINALS: dict[str, int] = {
    "first": 1, "second": 2, "third": 3, "fourth": 4, "fifth": 5, "sixth": 6, "seventh": 7,
    "eighth": 8, "ninth": 9, "tenth": 10, "eleventh": 11, "twelfth": 12, "thirteenth": 13,
    "fourteenth": 14, "fifteenth": 15, "sixteenth": 16, "seventeenth": 17, "eighteenth": 18,
    "nineteenth": 19, "twentieth": 20, "thirtieth": 30,
}  # fmt: skip
_DIGIT_WORDS: dict[str, int] = {**{w: v for w, v in EN_ONES.items() if v < 10}, "oh": 0}

JA_DIGITS: dict[str, int] = {
    "〇": 0, "零": 0, "一": 1, "二": 2, "三": 3, "四": 4, "五": 5, "六": 6, "七": 7, "八": 8,
    "九": 9, "壱": 1, "弐": 2, "参": 3,
}  # fmt: skip
JA_SMALL_UNITS: dict[str, int] = {"十": 10, "百": 100, "千": 1000}
JA_LARGE_UNITS: dict[str, int] = {"万": 10**4, "億": 10**8, "兆": 10**12}
#: hiragana number words as kanji (sound changes included: さんびゃく, ろっぴゃく, はっせん)
JA_KANA: dict[str, str] = {
    "いち": "一", "いっ": "一", "に": "二", "さん": "三", "よん": "四", "ご": "五", "ろく": "六",
    "ろっ": "六", "なな": "七", "しち": "七", "はち": "八", "はっ": "八", "きゅう": "九",
    "じゅう": "十", "ひゃく": "百", "びゃく": "百", "ぴゃく": "百", "せん": "千", "ぜん": "千",
    "まん": "万", "おく": "億",
}  # fmt: skip
JA_KANA_UNITS = ("じゅう", "ひゃく", "びゃく", "ぴゃく", "せん", "ぜん", "まん", "おく")
#: first characters of the hiragana number words
JA_KANA_START = frozenset(w[0] for w in JA_KANA)

_DIGITS = r"[0-9０-９]+(?:[,，][0-9０-９]{3})*(?:[.．][0-9０-９]+)?"
_EN_WORD = "|".join(sorted([*EN_ONES, *EN_HUNDRED, *EN_SCALES], key=len, reverse=True))
_EN_DIGIT_WORD = "|".join(sorted(_DIGIT_WORDS, key=len, reverse=True))
_EN_SCALE = "|".join(EN_SCALES)
#: an English number: digits (with a k/m/bn suffix or a scale word) or number words (with a
#: decimal part said as "point two", a scale word, or "k": "two point five k")
EN_NUMBER = (
    rf"(?:(?<![\w.,]){_DIGITS}(?:\s?(?:{'|'.join(sorted(EN_SUFFIXES, key=len, reverse=True))})\b"
    rf"|(?:\s+(?:{_EN_SCALE}))+\b|(?![\w]))"
    rf"|\bhalf\s+(?:an?\s+)?(?:{_EN_SCALE})\b"
    rf"|\b(?:an?\s+)?(?:{_EN_WORD})(?:(?:\s+and\s+|[\s-]+)(?:{_EN_WORD}))*"
    rf"(?:\s+point(?:\s+(?:{_EN_DIGIT_WORD}))+\b(?:\s+(?:{_EN_SCALE}))*)?(?:\s+k)?\b)"
)
_JA_CHARS = "".join([*JA_DIGITS, *JA_SMALL_UNITS, *JA_LARGE_UNITS])
_HIRA = "ぁ-ゖ"
_K_ONE = "(?:いち|に|さん|よん|ご|ろく|なな|しち|はち|きゅう)"
_K_THOUSANDS = "(?:(?:いち|に|さん|よん|ご|ろく|なな|しち|きゅう)?せん|さんぜん|はっせん|いっせん)"
_K_HUNDREDS = "(?:(?:に|よん|ご|ろく|なな|しち|きゅう)?ひゃく|さんびゃく|ろっぴゃく|はっぴゃく|いっぴゃく)"
_K_TENS = "(?:(?:に|さん|よん|ご|ろく|なな|しち|はち|きゅう)?じゅう)"
#: a section below 万 (any part may be missing), and one that holds a unit
_K_SECTION = f"{_K_THOUSANDS}?{_K_HUNDREDS}?{_K_TENS}?{_K_ONE}?"
_K_UNIT_SECTION = (
    f"(?:{_K_THOUSANDS}{_K_HUNDREDS}?{_K_TENS}?{_K_ONE}?|{_K_HUNDREDS}{_K_TENS}?{_K_ONE}?|{_K_TENS}{_K_ONE}?)"
)
#: what may not follow a hiragana number: a counter (さんじゅうにん, じゅうにがつ); after it, only a
#: non-hiragana character, えん or a particle may follow (ごせんたく, ありません: no number)
_K_COUNTERS = (
    "にん|めい|だい|かい|けん|こ|ほん|ぽん|ぼん|ねん|にち|じかん|じ|ふん|ぷん|びょう|しゅう|かげつ|"
    "がつ|ばい|わり|まい|さい|ばん|ごう|てん|かしょ|つ|ど|ひき|ぴき|びき"
)
_K_AFTER = (
    "えん|です|でし|だ|で|まで|くらい|ぐらい|ほど|ちょっと|ずつ|から|を|が|は|も|と|の|に|なら|じゃ|"
    "ね|よ|か|や|しか|いじょう|いか|みまん"
)
#: a hiragana number as a whole run (see the module docstring)
JA_KANA_NUMBER = (
    f"(?=[{''.join(sorted(JA_KANA_START))}])"  # fails fast on any other character
    f"(?:(?<![{_HIRA}])|(?<=(?<![{_HIRA}])[はがをでもとのにへや]))"
    f"(?:{_K_SECTION}おく(?:{_K_SECTION}まん)?{_K_SECTION}|{_K_SECTION}まん{_K_SECTION}|{_K_UNIT_SECTION})"
    f"(?!{_K_COUNTERS})(?=[^{_HIRA}]|$|{_K_AFTER})"
    f"(?:(?<!おく)|(?=\\s*(?:えん|円)))"  # 机におく: 億 said alone needs a currency after it
)
#: a Japanese number: digits and/or kanji numerals ("1,500", "三百万", "3千万", "1.5億"), or
#: a hiragana number ("ひゃくごじゅうまん")
JA_NUMBER = rf"(?:{_DIGITS}[{_JA_CHARS}]*|[{_JA_CHARS}]+|{JA_KANA_NUMBER})"

_DIGIT_TOKEN = re.compile(_DIGITS)
_KANA_TOKEN = re.compile("|".join(sorted(JA_KANA, key=len, reverse=True)))
_KANA_WHOLE = re.compile(
    f"(?:{_K_SECTION}おく(?:{_K_SECTION}まん)?{_K_SECTION}|{_K_SECTION}まん{_K_SECTION}|{_K_UNIT_SECTION})"
)


def _digits(text: str) -> float | None:
    text = text.translate(WIDTH).replace(",", "")
    try:
        return float(text)
    except ValueError:
        return None


def _words_value(words: list[str]) -> float | None:
    """Number words read as one number ("a hundred and fifty thousand"), or None."""
    if not words:
        return None
    total, current, seen = 0.0, 0.0, False
    for i, word in enumerate(words):
        if _DIGIT_TOKEN.fullmatch(word):
            if seen and current:
                return None  # "5 6"
            value = _digits(word)
            if value is None:
                return None
            current += value
        elif word in ("a", "an") and i + 1 < len(words) and (words[i + 1] in EN_HUNDRED or words[i + 1] in EN_SCALES):
            current += 1
        elif word in EN_ONES:
            value = EN_ONES[word]
            low = int(current) % 100
            if low and not (low % 10 == 0 and low >= 20 and value < 10):
                return None  # "one two", "twenty thirty", "five and six": not one number
            current += value
        elif word in EN_HUNDRED:
            current = (current or 1) * EN_HUNDRED[word]
        elif word in EN_SCALES:
            total += (current or 1) * EN_SCALES[word]
            current = 0.0
        else:
            return None
        seen = True
    return total + current


def _below_hundred(words: list[str]) -> tuple[int, bool] | None:
    """(value, is a bare tens word) of "four", "sixteen", "fifty", "forty nine" (1..99), or None."""
    if len(words) == 1 and words[0] in EN_ONES and EN_ONES[words[0]] > 0:
        value = EN_ONES[words[0]]
        return value, value >= 20 and value % 10 == 0
    if len(words) == 2 and all(w in EN_ONES for w in words):
        tens, ones = EN_ONES[words[0]], EN_ONES[words[1]]
        if tens >= 20 and tens % 10 == 0 and 1 <= ones <= 9:
            return tens + ones, False
    return None


def _pair_value(words: list[str]) -> tuple[float, str] | None:
    """A spoken price pair: "three fifty" (350), "four forty nine" (449), "twelve fifty" (1,250)
    are hundreds; "sixteen five" (16,500), "twenty two five" (22,500) thousands and hundreds.
    Hundreds may take a magnitude ("three fifty k", "one twenty thousand"). Two bare tens
    ("twenty thirty", "forty fifty") are a range, not a pair."""
    scale = 1
    while words and (words[-1] in EN_SCALES or words[-1] == "k"):
        scale *= EN_SCALES.get(words[-1], 1000)
        words = words[:-1]
    for split in (1, 2):
        a, b = _below_hundred(words[:split]), _below_hundred(words[split:])
        if a is None or b is None:
            continue
        (va, tens_a), (vb, tens_b) = a, b
        if vb >= 10 and not (tens_a and tens_b):
            return float((va * 100 + vb) * scale), "hundreds"
        if vb < 10 and va >= 10 and not tens_a and scale == 1:
            return float(va * 1000 + vb * 100), "thousands"
    return None


def _parse_en(text: str) -> tuple[float, str] | None:
    """(value, kind): kind "" for a plain number, "hundreds"/"thousands" for a spoken pair."""
    text = text.strip().lower().translate(WIDTH)
    m = re.fullmatch(rf"({_DIGITS})\s?({'|'.join(EN_SUFFIXES)})", text)
    if m:
        value = _digits(m.group(1))
        return None if value is None else (value * EN_SUFFIXES[m.group(2)], "")
    words = [w for w in re.split(r"[\s-]+", text) if w and w != "and"]
    if not words:
        return None
    if words[0] == "half":  # "half a million"
        rest = words[2:] if len(words) == 3 and words[1] in ("a", "an") else words[1:]
        return (EN_SCALES[rest[0]] / 2, "") if len(rest) == 1 and rest[0] in EN_SCALES else None
    if "point" in words:  # "one point two million", "two point five k"
        at = words.index("point")
        whole = _words_value(words[:at]) if at else None
        decimals: list[int] = []
        rest = words[at + 1 :]
        while rest and rest[0] in _DIGIT_WORDS:
            decimals.append(_DIGIT_WORDS[rest.pop(0)])
        if whole is None or not decimals or any(w not in EN_SCALES and w != "k" for w in rest):
            return None
        value = whole + float("0." + "".join(map(str, decimals)))
        for w in rest:
            value *= EN_SCALES.get(w, 1000)
        return value, ""
    scale = 1
    if words[-1] == "k" and len(words) > 1:  # "fifteen k", "a hundred k"
        scale, words = 1000, words[:-1]
    value = _words_value(words)
    if value is not None:
        return value * scale, ""
    pair = _pair_value(words + (["k"] if scale != 1 else []))
    return pair


def parse_en_number(text: str) -> float | None:
    """The value of an English number ("twelve hundred", "1.2 million", "64k", "fifteen k",
    "one point two million", "three fifty"), or None."""
    parsed = _parse_en(text)
    return None if parsed is None else parsed[0]


def spoken_pair(text: str) -> str:
    """"hundreds" ("three fifty", "twelve fifty k") or "thousands" ("sixteen five") when the
    number is a spoken price pair, "" otherwise: such a pair is a number only where the words
    around it say so (it may be a time, "ten thirty", or two numbers, "five ten")."""
    parsed = _parse_en(text)
    return "" if parsed is None else parsed[1]


def parse_en_day_ordinal(text: str) -> int | None:
    """A day of the month said as an ordinal: "first", "twenty-second", "twenty second",
    "thirtieth", "thirty first", "22nd" (1..31), or None."""
    text = re.sub(r"[\s-]+", " ", text.strip().lower())
    m = re.fullmatch(r"(\d{1,2})(?:st|nd|rd|th)", text)
    if m:
        day = int(m.group(1))
    elif text in EN_DAY_ORDINALS:
        day = EN_DAY_ORDINALS[text]
    else:
        parts = text.split(" ")
        if len(parts) != 2 or parts[0] not in ("twenty", "thirty") or parts[1] not in EN_DAY_ORDINALS:
            return None
        day = EN_ONES[parts[0]] + EN_DAY_ORDINALS[parts[1]]
        if EN_DAY_ORDINALS[parts[1]] > 9:
            return None
    return day if 1 <= day <= 31 else None


def kana_to_kanji(text: str) -> str | None:
    """A hiragana number as kanji numerals ("きゅうまんはっせん" -> "九万八千"), or None when the
    text is not one."""
    if not _KANA_WHOLE.fullmatch(text):
        return None
    return "".join(JA_KANA[t] for t in _KANA_TOKEN.findall(text))


def parse_ja_number(text: str) -> float | None:
    """The value of a Japanese number ("三百万", "1000万", "2千5百", "1,500", "1.5億",
    "さんびゃくまん", "きゅうまんはっせん"), or None."""
    text = text.strip().translate(WIDTH)
    if not text:
        return None
    if text[0] in JA_KANA_START:
        kanji = kana_to_kanji(text)
        if kanji is None:
            return None
        text = kanji
    total, section = 0.0, 0.0
    current: float | None = None
    pos = 0
    while pos < len(text):
        m = _DIGIT_TOKEN.match(text, pos)
        if m:
            if current is not None:
                return None
            current = _digits(m.group())
            pos = m.end()
            continue
        ch = text[pos]
        if ch in JA_DIGITS:
            # "二〇二六" is read digit by digit; "二十" by units below
            current = (current or 0) * 10 + JA_DIGITS[ch] if current is not None else JA_DIGITS[ch]
        elif ch in JA_SMALL_UNITS:
            section += (current if current is not None else 1) * JA_SMALL_UNITS[ch]
            current = None
        elif ch in JA_LARGE_UNITS:
            amount = section + (current or 0)
            total += (amount or 1) * JA_LARGE_UNITS[ch]
            section, current = 0.0, None
        else:
            return None
        pos += 1
    return total + section + (current or 0)



def parse_number(text: str) -> float | None:
    """An English or Japanese number, or None."""
    value = parse_en_number(text)
    return value if value is not None else parse_ja_number(text)
