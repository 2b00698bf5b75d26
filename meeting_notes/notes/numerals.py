"""Numbers as people say them: digits, English number words and Japanese (kanji) numerals.

One place for the number vocabulary that :mod:`dates` and :mod:`money` share.

* :func:`parse_en_number` reads "twelve hundred", "a hundred and fifty thousand",
  "twenty-five", "1.2 million", "64k", "64,000", "ten grand".
* :func:`parse_ja_number` reads "三百万", "二千万", "1000万", "1,500", "2千5百", "1.5億",
  "二十三", "一万二千" and full-width digits.
* :data:`EN_NUMBER` and :data:`JA_NUMBER` are regular expressions (strings) that match such
  numbers in running text, for the finders to embed.

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

JA_DIGITS: dict[str, int] = {
    "〇": 0, "零": 0, "一": 1, "二": 2, "三": 3, "四": 4, "五": 5, "六": 6, "七": 7, "八": 8,
    "九": 9, "壱": 1, "弐": 2, "参": 3,
}  # fmt: skip
JA_SMALL_UNITS: dict[str, int] = {"十": 10, "百": 100, "千": 1000}
JA_LARGE_UNITS: dict[str, int] = {"万": 10**4, "億": 10**8, "兆": 10**12}

_DIGITS = r"[0-9０-９]+(?:[,，][0-9０-９]{3})*(?:[.．][0-9０-９]+)?"
_EN_WORD = "|".join(sorted([*EN_ONES, *EN_HUNDRED, *EN_SCALES], key=len, reverse=True))
#: an English number: digits (with a k/m/bn suffix or a scale word) or number words
EN_NUMBER = (
    rf"(?:(?<![\w.,]){_DIGITS}(?:\s?(?:{'|'.join(sorted(EN_SUFFIXES, key=len, reverse=True))})\b"
    rf"|(?:\s+(?:{'|'.join(EN_SCALES)}))+\b|(?![\w]))"
    rf"|\b(?:an?\s+)?(?:{_EN_WORD})(?:(?:\s+and\s+|[\s-]+)(?:{_EN_WORD}))*\b)"
)
_JA_CHARS = "".join([*JA_DIGITS, *JA_SMALL_UNITS, *JA_LARGE_UNITS])
#: a Japanese number: digits and/or kanji numerals ("1,500", "三百万", "3千万", "1.5億")
JA_NUMBER = rf"(?:{_DIGITS}[{_JA_CHARS}]*|[{_JA_CHARS}]+)"

_DIGIT_TOKEN = re.compile(_DIGITS)


def _digits(text: str) -> float | None:
    text = text.translate(WIDTH).replace(",", "")
    try:
        return float(text)
    except ValueError:
        return None


def parse_en_number(text: str) -> float | None:
    """The value of an English number ("twelve hundred", "1.2 million", "64k"), or None."""
    text = text.strip().lower().translate(WIDTH)
    m = re.fullmatch(rf"({_DIGITS})\s?({'|'.join(EN_SUFFIXES)})", text)
    if m:
        value = _digits(m.group(1))
        return None if value is None else value * EN_SUFFIXES[m.group(2)]
    words = [w for w in re.split(r"[\s-]+", text) if w and w != "and"]
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


def parse_ja_number(text: str) -> float | None:
    """The value of a Japanese number ("三百万", "1000万", "2千5百", "1,500", "1.5億"), or None."""
    text = text.strip().translate(WIDTH)
    if not text:
        return None
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
