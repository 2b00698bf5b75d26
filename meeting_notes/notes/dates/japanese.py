"""The Japanese date rules: vocabulary, patterns and resolvers (ordered as :func:`find_dates` tries them).

The conventions they follow are in :mod:`meeting_notes.notes.dates`.
"""

from __future__ import annotations

import datetime as dt
import re

from meeting_notes.notes.dates.periods import (
    Day,
    Rule,
    Span,
    add_months,
    alt,
    day_of_month,
    monday_of,
    month_occurrence,
    month_span,
    nth_weekday,
    part_of,
    period,
    shift,
    unresolvable,
    weekday_after,
)
from meeting_notes.notes.numerals import JA_DIGITS, parse_ja_number

# --- vocabulary -------------------------------------------------------------------------

JA_WEEKDAYS: dict[str, int] = {"月": 0, "火": 1, "水": 2, "木": 3, "金": 4, "土": 5, "日": 6}
JA_WEEK_PREFIX: dict[str, int] = {"今週": 0, "来週": 1, "再来週": 2, "先週": -1, "先々週": -2}
JA_MONTH_PREFIX: dict[str, int] = {"今月": 0, "来月": 1, "再来月": 2, "先月": -1, "先々月": -2}
JA_YEAR_PREFIX: dict[str, int] = {"今年": 0, "本年": 0, "来年": 1, "再来年": 2, "去年": -1, "昨年": -1, "一昨年": -2}
#: the same words in hiragana, as a speech recognizer may write them (taken only as a whole
#: hiragana run's start: not inside another word)
JA_KANA_PREFIX: dict[str, str] = {
    "らいしゅう": "来週", "さらいしゅう": "再来週", "こんしゅう": "今週", "らいげつ": "来月",
    "さらいげつ": "再来月", "こんげつ": "今月", "らいねん": "来年", "さらいねん": "再来年",
}  # fmt: skip
#: parts of a period in hiragana (らいげつまつ, こんしゅうちゅう)
JA_KANA_PARTS: dict[str, str] = {"ちゅうじゅん": "中旬", "じょうじゅん": "上旬", "げじゅん": "下旬", "ちゅう": "中", "まつ": "末"}
#: weekdays in hiragana ("すいようび"); the kanji forms are :data:`JA_WEEKDAYS`
JA_KANA_WEEKDAYS: dict[str, str] = {
    "げつようび": "月", "かようび": "火", "すいようび": "水", "もくようび": "木", "きんようび": "金",
    "どようび": "土", "にちようび": "日",
}  # fmt: skip
JA_FY_PREFIX: dict[str, int] = {"今年度": 0, "本年度": 0, "来年度": 1, "再来年度": 2, "昨年度": -1, "前年度": -1}
#: company fiscal periods: found, never resolved
JA_COMPANY_PERIODS = ("今期", "来期", "前期", "今期末", "来期末", "上期", "下期", "上半期", "下半期")
JA_PARTS: dict[str, str] = {
    "末": "end", "初め": "early", "はじめ": "early", "初旬": "early", "頭": "early", "上旬": "early",
    "中旬": "mid", "下旬": "late", "中": "within", "いっぱい": "within", "内": "within",
}  # fmt: skip
JA_DAY_WORDS: dict[str, int] = {
    "今日": 0, "本日": 0, "今日中": 0, "本日中": 0, "明日": 1, "あした": 1, "明日中": 1, "明後日": 2,
    "あさって": 2, "昨日": -1, "一昨日": -2, "おととい": -2,
}  # fmt: skip
#: bare period words (no 今/来 prefix): unit, offset, part
JA_BARE_PERIODS: dict[str, tuple[str, int, str]] = {
    "月末": ("month", 0, "end"), "月初": ("month", 0, "early"), "月初め": ("month", 0, "early"),
    "年末": ("year", 0, "end"), "年内": ("year", 0, "within"), "年度末": ("fy", 0, "end"),
    "年度内": ("fy", 0, "within"), "週末": ("week", 0, "weekend"), "週明け": ("week", 1, "monday"),
}  # fmt: skip
JA_COUNT_UNITS: dict[str, str] = {
    "日": "day", "週間": "week", "ヶ月": "month", "か月": "month", "カ月": "month", "ケ月": "month",
    "ヵ月": "month", "箇月": "month", "年": "year",
}  # fmt: skip


# --- patterns and resolvers -------------------------------------------------------------


def _ja_int(text: str | None) -> int | None:
    if not text:
        return None
    value = parse_ja_number(text)
    return int(value) if value is not None and value == int(value) else None


_JA_NUM = rf"(?:[0-9]+|[{''.join(JA_DIGITS)}十]+)"
_JA_MONTH = r"(?:1[0-2]|0?[1-9]|十[一二]?|[一二三四五六七八九])"
_JA_DAY = r"(?:3[01]|[12][0-9]|0?[1-9]|三十一?|二?十[一二三四五六七八九]?|[一二三四五六七八九])"
#: a weekday after 来週/第N: 水曜, 水曜日, すいようび
_JA_WD = rf"(?:[月火水木金土日]曜日?|{alt(JA_KANA_WEEKDAYS)})"


def _ja_md(m: re.Match[str], anchor: Day) -> Span | None:
    """``3/12(木)``: the month's next occurrence, unless the bracketed weekday says which year
    (the year before, of or after the anchor's); a weekday that fits none gives None."""
    month, dom, wd = int(m.group("m")), int(m.group("d")), JA_WEEKDAYS[m.group("wd")]
    first = month_occurrence(month, anchor, "next")
    for y in (first, first - 1, first + 1):
        span = part_of(month_span(y, month), "month", "day", dom)
        if span is not None and span[0].weekday() == wd:
            return span
    return None


def _ja_part(suffix: str | None) -> tuple[str, int]:
    """A Japanese suffix as (part, n); 第N<曜日> is ("nth_weekday", 10 * N + weekday)."""
    if not suffix:
        return "whole", 0
    suffix = re.sub(r"\s+", "", suffix).lstrip("の")
    for kana, kanji in [*JA_KANA_WEEKDAYS.items(), *JA_KANA_PARTS.items()]:
        suffix = suffix.replace(kana, kanji + ("曜日" if kana in JA_KANA_WEEKDAYS else ""))
    if m := re.fullmatch(rf"第({_JA_NUM})([月火水木金土日])曜日?", suffix):
        return "nth_weekday", 10 * (_ja_int(m.group(1)) or 0) + JA_WEEKDAYS[m.group(2)]
    if m := re.fullmatch(rf"第({_JA_NUM})週", suffix):
        return "nth_week", _ja_int(m.group(1)) or 0
    if m := re.fullmatch(r"([月火水木金土日])曜日?", suffix):
        return "weekday", JA_WEEKDAYS[m.group(1)]
    if m := re.fullmatch(rf"({_JA_DAY})日の週", suffix):
        return "week_of_day", _ja_int(m.group(1)) or 0
    if m := re.fullmatch(rf"({_JA_DAY})日", suffix):
        return "day", _ja_int(m.group(1)) or 0
    return JA_PARTS[suffix], 0


def _ja_relative(m: re.Match[str], anchor: Day) -> Span | None:
    prefix = JA_KANA_PREFIX.get(m.group("prefix"), m.group("prefix"))
    for table, unit in ((JA_WEEK_PREFIX, "week"), (JA_MONTH_PREFIX, "month"), (JA_FY_PREFIX, "fy"), (JA_YEAR_PREFIX, "year")):  # noqa: B007 (used after the loop)
        if prefix in table:
            break
    part, n = _ja_part(m.group("suffix"))
    if unit == "week" and part == "end":
        part = "weekend"  # 今週末 / 来週末: the weekend
    if part == "weekday" and unit != "week" or part in ("day", "nth_week", "nth_weekday") and unit != "month":
        return None
    span = period(unit, table[prefix], anchor)
    if part == "nth_weekday":
        return nth_weekday(span[0].year, span[0].month, n % 10, n // 10)
    return part_of(span, unit, part, n, anchor)


def _ja_month(m: re.Match[str], anchor: Day) -> Span | None:
    month = _ja_int(m.group("month"))
    if month is None or not 1 <= month <= 12:
        return None
    if m.group("year"):
        y = int(m.group("year"))
    elif m.group("yrel") and m.group("yrel") != "年明け":
        y = anchor.year + JA_YEAR_PREFIX[m.group("yrel")]
    else:  # no year, or 年明けの2月: the next such month
        y = month_occurrence(month, anchor, "next")
    part, n = _ja_part(m.group("suffix"))
    if part == "weekday":
        return None
    if part == "nth_weekday":
        return nth_weekday(y, month, n % 10, n // 10)
    if part == "week_of_day":  # 8月17日の週: the Monday..Sunday week holding that day
        day = part_of(month_span(y, month), "month", "day", n)
        return None if day is None else (monday_of(day[0]), monday_of(day[0]) + dt.timedelta(days=6))
    return part_of(month_span(y, month), "month", part, n, anchor)


def _ja_day_week(m: re.Match[str], anchor: Day) -> Span | None:
    """17日の週: the Monday..Sunday week holding the next such day of a month."""
    day = day_of_month(_ja_int(m.group("d")) or 0, anchor)
    return None if day is None else (monday_of(day), monday_of(day) + dt.timedelta(days=6))


def _ja_range(m: re.Match[str], anchor: Day) -> Span | None:
    """9月19日から23日, 3月30日〜4月2日: from the first day to the second (in the next month
    when the second day comes before the first)."""
    m1 = _ja_int(m.group("m1"))
    d1, d2 = _ja_int(m.group("d1")), _ja_int(m.group("d2"))
    if m1 is None or d1 is None or d2 is None or not 1 <= m1 <= 12:
        return None
    y1 = month_occurrence(m1, anchor, "next")
    first = part_of(month_span(y1, m1), "month", "day", d1)
    if first is None:
        return None
    m2 = _ja_int(m.group("m2")) if m.group("m2") else m1
    if m2 is None or not 1 <= m2 <= 12:
        return None
    y2, m2 = (y1, m2) if m2 >= m1 else (y1 + 1, m2)
    last = part_of(month_span(y2, m2), "month", "day", d2)
    if last is not None and last[0] < first[0] and not m.group("m2"):
        y2, m2 = add_months(y1, m1, 1)
        last = part_of(month_span(y2, m2), "month", "day", d2)
    if last is None or last[0] < first[0]:
        return None
    return first[0], last[0]


def _ja_bare(m: re.Match[str], anchor: Day) -> Span | None:
    word = m.group()
    if word in JA_DAY_WORDS:
        day = anchor + dt.timedelta(days=JA_DAY_WORDS[word])
        return day, day
    if word == "年明け":  # the January after the anchor (this January while in it)
        y = anchor.year if anchor.month == 1 else anchor.year + 1
        return month_span(y, 1)
    unit, offset, part = JA_BARE_PERIODS[word]
    return part_of(period(unit, offset, anchor), unit, part, anchor=anchor)


def _ja_weekday(m: re.Match[str], anchor: Day) -> Span | None:
    wd = m.group("wd") or JA_KANA_WEEKDAYS[m.group("wdk")]
    day = weekday_after(anchor, JA_WEEKDAYS[wd], inclusive=False)
    return day, day


def _ja_count(m: re.Match[str], anchor: Day) -> Span | None:
    num = m.group("num")
    unit = JA_COUNT_UNITS[m.group("unit")]
    if num == "半" and unit == "year":
        n, unit = 6, "month"
    else:
        n = _ja_int(num) or 0
    if n <= 0:
        return None
    day = shift(anchor, unit, n)
    return day, day


#: the Japanese rules, in the order they are tried
JA_RULES: tuple[Rule, ...] = (
    Rule("ja_md", re.compile(r"(?<![\d/])(?P<m>1[0-2]|0?[1-9])/(?P<d>3[01]|[12]\d|0?[1-9])(?=\s*[(（](?P<wd>[月火水木金土日]))"), _ja_md),
    Rule(
        "ja_relative",
        re.compile(
            rf"(?P<prefix>{alt([*JA_WEEK_PREFIX, *JA_MONTH_PREFIX, *JA_FY_PREFIX, *JA_YEAR_PREFIX])}|(?<![ぁ-ゖ]){alt(JA_KANA_PREFIX)})"
            rf"(?P<suffix>\s*の?\s*(?:第{_JA_NUM}週|第{_JA_NUM}{_JA_WD}|{_JA_WD}|{_JA_DAY}日(?!間|分|以内|後)|上旬|中旬|下旬|初旬|初め|はじめ|頭|末|じょうじゅん|ちゅうじゅん|げじゅん)"
            rf"|\s*(?:中(?!旬)|いっぱい|内)|(?:{alt(JA_KANA_PARTS)})(?![ぁ-ゖ](?<![にはもでまの])))?"
        ),
        _ja_relative,
    ),
    Rule("ja_company", re.compile(alt(JA_COMPANY_PERIODS)), unresolvable),
    Rule(
        "ja_month",
        re.compile(
            rf"(?:(?P<year>20\d\d)年|(?P<yrel>{alt([*JA_YEAR_PREFIX, '年明け'])})\s*の?\s*)?"
            rf"(?<![0-9十])(?P<month>{_JA_MONTH})月(?![額々曜分])"
            rf"(?P<suffix>\s*{_JA_DAY}日(?:の週|(?!間|分|以内|後))|\s*の?\s*(?:第{_JA_NUM}{_JA_WD}|第{_JA_NUM}週|上旬|中旬|下旬|初旬|初め|はじめ|頭|末)|中(?!旬)|いっぱい)?"
        ),
        _ja_month,
        accept=lambda m: not (m.group("month") == "一" and re.match(r"(?:あたり|当たり|ごと|毎)", m.string[m.end() :])),
    ),
    Rule(
        "ja_range",
        re.compile(
            rf"(?<![0-9十])(?P<m1>{_JA_MONTH})月(?P<d1>{_JA_DAY})日\s*(?:から|〜|～|~|－|-)\s*"
            rf"(?:(?P<m2>{_JA_MONTH})月)?(?P<d2>{_JA_DAY})日(?!間|分)"
        ),
        _ja_range,
    ),
    Rule("ja_day_week", re.compile(rf"(?<![0-9〇一二三四五六七八九十月])(?P<d>{_JA_DAY})日の週"), _ja_day_week),
    Rule(
        "ja_bare",
        re.compile(rf"(?<!毎)(?:{alt([*JA_DAY_WORDS, *JA_BARE_PERIODS, '年明け'])})"),
        _ja_bare,
    ),
    Rule(
        "ja_weekday",
        re.compile(rf"(?<![週毎])(?<!週の)(?P<wd>[月火水木金土日])曜日?|(?<![ぁ-ゖ毎])(?P<wdk>{alt(JA_KANA_WEEKDAYS)})"),
        _ja_weekday,
    ),
    Rule(
        "ja_count",
        re.compile(rf"(?P<num>{_JA_NUM}|半)(?P<unit>{alt(JA_COUNT_UNITS)})間?(?:後|以内|のうち)"),
        _ja_count,
    ),
)
