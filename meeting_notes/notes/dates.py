"""Date expressions in English and Japanese, found in text and resolved against the meeting date.

:func:`find_dates` returns every date expression with its character span and, when an anchor
(the meeting date) is known, the date or date range it means. :func:`resolve_date` resolves one
expression as said ("next Thursday", "来月の第2週"). Both are pure: the same text and anchor
give the same answer. An expression that is recognised but cannot be pinned down ("in a few
weeks", "the end of the fiscal year", "12/3" in English) is returned with ``resolved=None``
rather than a guess.

Conventions (the choices a reader needs to trust the ISO dates):

* Weeks run Monday to Sunday, in both languages (ISO 8601; the Japanese business week).
* ``next <weekday>`` / 来週<曜日> is that weekday in the week after the anchor's week: said on
  Monday 2026-03-02, "next Thursday" is 2026-03-12, not 2026-03-05 (the common US reading of
  "next Thursday" as "Thursday of next week"; "this Thursday" is the 5th). ``this <weekday>``
  is the first such day on or after the anchor; a bare weekday, ``on``/``by <weekday>`` and a
  bare 〜曜日 are the first such day strictly after the anchor (said on a Friday, "by Friday" is
  a week later). ``last <weekday>`` is the latest such day before the anchor; 今週/先週<曜日>
  is that day of this/last week, even when it is already past.
* ``next week`` / 来週 is Monday..Sunday of the next week; ``this week`` / 今週 the anchor's week.
* ``the end of the week`` / ``end of next week`` is that week's Friday (the business week);
  週末 / 今週末 / 来週末 is that week's Saturday..Sunday (the weekend). ``this/next weekend``
  likewise Saturday..Sunday of this/next week.
* A deadline said as "within ..." or 〜中 / 〜内 / 〜いっぱい (今週中, 今月中, 年内) resolves to
  the days left in the period: from the anchor (or the period's start, when later) to its last
  day, a week's last day being its Friday. Said on a Wednesday, 今週中 is Wednesday..Friday and
  来週中 Monday..Friday of next week; 年内 is the anchor..31 December; 4月中 said in October is
  all of next April; 今日中 is the day itself. (A CRM due date takes the range's last day.)
  "within two weeks" and 2週間以内 are the anchor plus two weeks, like "in two weeks" and 2週間後.
* The N-th week of a month (来月の第2週, "the second week of December") is the Monday..Sunday
  week that starts on the month's N-th Monday (a week starting in the previous month is not
  the month's first week); "the last week of" starts on its last Monday.
* 月末 / 今月末 / "end of the month" is the month's last day; 上旬/中旬/下旬 and
  early/mid/late <month> are days 1-10, 11-20 and 21-end; 月初 / 来月頭 / "the beginning of"
  a month are days 1-10. For a year or quarter, early/mid/late are its thirds by month.
* Quarters are calendar quarters (Q1 = January..March); "end of next quarter" is the last day
  of the next calendar quarter. Company fiscal years are out of scope: "fiscal year", "FY27",
  今期/来期/上期/下半期 are found but not resolved. 年度 is the Japanese fiscal year (April..March, as
  for public bodies and most companies): 年度末 is the 31 March that ends the anchor's fiscal
  year, 来年度 is April..March of the next one.
* A month without a year resolves to its next occurrence on or after the anchor's month
  (in November, "March" and 3月 are next March; "November 2nd" is this November's, even if
  past); 去年の3月, "March of last year", 先月 go back. ``last March`` is last year's March
  when the month is the anchor's or later in the year (said in February or March 2026,
  "last March" is March 2025); said in May it could mean
  this year's March or last year's, and gives None. Likewise ``next March`` said in March or
  later is next year's; said in February it is None. "Q3" without a year is the next Q3 that
  has not ended; "the second half" / "H2" the calendar half that has not ended.
* The N-th weekday of a month: 来月の第3木曜日, "the third Thursday of next month".
* A span of days: 9月19日から23日, 3月30日〜4月2日 (from the first day to the second); 8月17日の週
  and 17日の週 are the Monday..Sunday week holding that day.
* 年明け alone is the January after the anchor; 年明けの2月 is the next February.
* Seasons are northern-hemisphere meteorological (spring March-May, summer June-August,
  fall/autumn September-November, winter December-February): "the summer", "this summer" is
  the season containing the anchor or the next one; "next/last summer" only when that is
  clear, else None. Japanese seasons (夏, 春) are not taken (single characters in many words).
* "on/by/until the 12th" is the next 12th on or after the anchor; "the week of the 14th" /
  "the week of March 9th" is the Monday..Sunday week containing that day.
* Numeric dates: ISO ``2026-03-12`` and ``2026/3/12`` everywhere; ``3/12`` only in Japanese text
  and only when a weekday in brackets follows (``3/12(木)``): in English text day/month order
  is ambiguous and a bare fraction is no date, so ``3/12`` is not taken. Bare years ("by
  2027"), Japanese era years (令和8年), business days (3営業日) and times of day are not handled.
* Past tense is not analysed: "we met on Monday" resolves like "on Monday" (the coming one).
* 一月 followed by あたり/当たり/ごと is "per month" (ひと月), not January.
* Recurring or generic expressions (毎月末, 毎週月曜, "Mondays", "on a Friday") are not dates
  and are not found.

Text from a speech recognizer is read too: month names in lowercase ("june thirtieth", "end of
may"; a lowercase "may"/"march" only with a day, a year, a part or a preposition, never "this
may"), days said as ordinal words ("October fourteenth", "the twenty-second", "by the fifth":
"first".."tenth" only before a pause or a function word, not "the first call"), a weekday with
its date ("Tuesday the 29th": the next such date on that weekday), spaces between Japanese words
(来月の 十五日, 一月の 第三水曜) and date words in hiragana (らいしゅうの すいようび, こんげつまつ).

``DateMention.by`` is True when the words mark a deadline ("by Friday", "until", "no later
than", "before", 〜まで/までに).
"""

from __future__ import annotations

import calendar
import datetime as dt
import re
from collections.abc import Callable
from dataclasses import dataclass

from meeting_notes.notes.numerals import (
    EN_DAY_ORDINALS,
    EN_ONES,
    EN_ORDINALS,
    JA_DIGITS,
    WIDTH,
    parse_en_day_ordinal,
    parse_en_number,
    parse_ja_number,
)

Day = dt.date
Span = tuple[Day, Day]


@dataclass(frozen=True)
class ResolvedDate:
    """A date or date range resolved from words as said."""

    said: str
    start: Day
    end: Day
    anchor: Day
    anchor_guessed: bool = False

    def iso(self) -> str:
        """``2026-12-03`` for one day, ``2026-12-07/2026-12-13`` for a range (ISO 8601)."""
        if self.start == self.end:
            return self.start.isoformat()
        return f"{self.start.isoformat()}/{self.end.isoformat()}"


@dataclass(frozen=True)
class DateMention:
    """A date expression in a text: where it is, the words, and what it resolves to."""

    span: tuple[int, int]
    said: str
    resolved: ResolvedDate | None
    by: bool = False


# --- vocabulary -------------------------------------------------------------------------

EN_WEEKDAYS: dict[str, int] = {
    "monday": 0, "tuesday": 1, "wednesday": 2, "thursday": 3, "friday": 4, "saturday": 5, "sunday": 6,
}  # fmt: skip
JA_WEEKDAYS: dict[str, int] = {"月": 0, "火": 1, "水": 2, "木": 3, "金": 4, "土": 5, "日": 6}
EN_MONTHS: dict[str, int] = {
    "january": 1, "february": 2, "march": 3, "april": 4, "may": 5, "june": 6, "july": 7,
    "august": 8, "september": 9, "october": 10, "november": 11, "december": 12,
}  # fmt: skip
#: abbreviations, taken only before a day number ("Dec 3")
EN_MONTH_ABBR: dict[str, int] = {
    "jan": 1, "feb": 2, "mar": 3, "apr": 4, "jun": 6, "jul": 7, "aug": 8, "sep": 9, "sept": 9,
    "oct": 10, "nov": 11, "dec": 12,
}  # fmt: skip
#: relative words before week/month/quarter/year: offset from the anchor's period
EN_REL: dict[str, int] = {"this": 0, "the": 0, "next": 1, "last": -1}
EN_DAY_WORDS: dict[str, int] = {
    "today": 0, "tonight": 0, "end of day": 0, "end of the day": 0, "eod": 0, "tomorrow": 1,
    "the day after tomorrow": 2, "yesterday": -1, "the day before yesterday": -2,
}  # fmt: skip
#: parts of a period: "the end of", "early", ...
EN_PARTS: dict[str, str] = {
    "the end of": "end", "end of": "end", "the beginning of": "early", "beginning of": "early",
    "the start of": "early", "start of": "early", "early": "early", "the middle of": "mid",
    "middle of": "mid", "mid": "mid", "late": "late",
}  # fmt: skip
EN_UNITS: dict[str, str] = {"day": "day", "week": "week", "month": "month", "quarter": "quarter", "year": "year"}

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
#: deadline markers before (English) or after (Japanese) the expression
_BY_BEFORE = re.compile(r"\b(?:by|until|till|no later than|before|due)\s+(?:the\s+)?$", re.IGNORECASE)
_BY_AFTER = re.compile(r"^\s*(?:まで|迄)")


# --- calendar arithmetic ----------------------------------------------------------------


def monday_of(day: Day) -> Day:
    """The Monday of ``day``'s week (weeks run Monday..Sunday)."""
    return day - dt.timedelta(days=day.weekday())


def add_months(year: int, month: int, n: int) -> tuple[int, int]:
    """(year, month) ``n`` months after (or before) the given month."""
    k = year * 12 + month - 1 + n
    return k // 12, k % 12 + 1


def month_span(year: int, month: int) -> Span:
    return Day(year, month, 1), Day(year, month, calendar.monthrange(year, month)[1])


def fiscal_year_start(day: Day) -> int:
    """The calendar year in which ``day``'s Japanese fiscal year (April..March) starts."""
    return day.year if day.month >= 4 else day.year - 1


def period(unit: str, offset: int, anchor: Day) -> Span:
    """The week/month/quarter/year/fy (Japanese fiscal year) ``offset`` periods from the anchor's."""
    if unit == "day":
        day = anchor + dt.timedelta(days=offset)
        return day, day
    if unit == "week":
        start = monday_of(anchor) + dt.timedelta(weeks=offset)
        return start, start + dt.timedelta(days=6)
    if unit == "month":
        return month_span(*add_months(anchor.year, anchor.month, offset))
    if unit == "quarter":
        first = ((anchor.month - 1) // 3) * 3 + 1
        y, m = add_months(anchor.year, first, 3 * offset)
        return Day(y, m, 1), month_span(*add_months(y, m, 2))[1]
    if unit == "year":
        return Day(anchor.year + offset, 1, 1), Day(anchor.year + offset, 12, 31)
    if unit == "fy":
        y = fiscal_year_start(anchor) + offset
        return Day(y, 4, 1), Day(y + 1, 3, 31)
    raise ValueError(unit)


def nth_week(year: int, month: int, n: int) -> Span | None:
    """The Monday..Sunday week starting on the month's n-th Monday (n = -1: the last one)."""
    first = Day(year, month, 1)
    monday = first + dt.timedelta(days=(7 - first.weekday()) % 7)
    mondays = []
    while monday.month == month:
        mondays.append(monday)
        monday += dt.timedelta(weeks=1)
    if n == -1:
        n = len(mondays)
    if not 1 <= n <= len(mondays):
        return None
    return mondays[n - 1], mondays[n - 1] + dt.timedelta(days=6)


def nth_weekday(year: int, month: int, weekday: int, n: int) -> Span | None:
    """The month's n-th ``weekday`` (n = -1: the last one): 来月の第3木曜日."""
    first = Day(year, month, 1)
    days = []
    day = first + dt.timedelta(days=(weekday - first.weekday()) % 7)
    while day.month == month:
        days.append(day)
        day += dt.timedelta(weeks=1)
    if n == -1:
        n = len(days)
    if not 1 <= n <= len(days):
        return None
    return days[n - 1], days[n - 1]


def part_of(span: Span, unit: str, part: str, n: int = 0, anchor: Day | None = None) -> Span | None:
    """A part of a period: "whole", "end", "within", "early"/"mid"/"late", "weekend",
    "monday", "weekday" (n = 0..6), "day" (n = day of month) or "nth_week" (n). "within" is
    the days left in the period from ``anchor`` (or the period's start, when later) to its
    last day (a week's Friday); without an anchor, that last day."""
    start, end = span
    if part == "whole":
        return span
    if part == "within":
        last = start + dt.timedelta(days=4) if unit == "week" else end
        first = max(start, anchor) if anchor is not None else last
        return (first, last) if first <= last else (last, last)
    if unit == "week":
        table = {"end": 4, "monday": 0, "weekday": n}
        if part in table:
            day = start + dt.timedelta(days=table[part])
            return day, day
        if part == "weekend":
            return start + dt.timedelta(days=5), end
        return None
    if part == "end":
        return end, end
    if unit == "month":
        if part in ("early", "mid", "late"):
            first = {"early": 1, "mid": 11, "late": 21}[part]
            last = {"early": 10, "mid": 20, "late": end.day}[part]
            return start.replace(day=first), start.replace(day=last)
        if part == "day":
            try:
                day = start.replace(day=n)
            except ValueError:
                return None
            return day, day
        if part == "nth_week":
            return nth_week(start.year, start.month, n)
        return None
    if part in ("early", "mid", "late"):
        months = (end.year - start.year) * 12 + end.month - start.month + 1
        third = months // 3
        i = {"early": 0, "mid": 1, "late": 2}[part]
        a = add_months(start.year, start.month, i * third)
        b = add_months(start.year, start.month, (i + 1) * third - 1)
        return month_span(*a)[0], month_span(*b)[1]
    return None


def weekday_after(anchor: Day, weekday: int, *, inclusive: bool) -> Day:
    """The first ``weekday`` on or (``inclusive=False``) strictly after the anchor."""
    ahead = (weekday - anchor.weekday()) % 7
    if ahead == 0 and not inclusive:
        ahead = 7
    return anchor + dt.timedelta(days=ahead)


def month_occurrence(month: int, anchor: Day, direction: str) -> int:
    """The year of ``month``: "next" occurrence on or after the anchor's month, "after" (strictly),
    "past" (strictly before) or "this" (the anchor's year)."""
    if direction == "this":
        return anchor.year
    if direction == "past":
        return anchor.year if month < anchor.month else anchor.year - 1
    if direction == "after":
        return anchor.year if month > anchor.month else anchor.year + 1
    return anchor.year if month >= anchor.month else anchor.year + 1


# --- small parsers ----------------------------------------------------------------------


def _ja_int(text: str | None) -> int | None:
    if not text:
        return None
    value = parse_ja_number(text)
    return int(value) if value is not None and value == int(value) else None


def _en_count(text: str) -> int | None:
    """'two', 'a', 'a couple of', '3' -> int; 'a few', 'several' -> None."""
    text = re.sub(r"\s+", " ", text.strip().lower())
    if text in ("a", "an", "one"):
        return 1
    if text in ("a couple of", "a couple", "couple of"):
        return 2
    value = parse_en_number(text)
    return int(value) if value is not None and value == int(value) and value > 0 else None


def _shift(anchor: Day, unit: str, n: int) -> Day:
    if unit == "day":
        return anchor + dt.timedelta(days=n)
    if unit == "week":
        return anchor + dt.timedelta(weeks=n)
    months = n * (12 if unit == "year" else 1)
    y, m = add_months(anchor.year, anchor.month, months)
    return Day(y, m, min(anchor.day, calendar.monthrange(y, m)[1]))


# --- rules: a pattern and a resolver ------------------------------------------------------

Resolver = Callable[[re.Match[str], Day], Span | None]
#: a check that rejects words that only look like a date ("May I ...")
Accept = Callable[[re.Match[str]], bool]


@dataclass(frozen=True)
class _Rule:
    name: str
    pattern: re.Pattern[str]
    resolve: Resolver
    accept: Accept | None = None


def _alt(words: object) -> str:
    return "|".join(re.escape(w).replace(r"\ ", r"\s+") for w in sorted(words, key=len, reverse=True))  # type: ignore[arg-type]


_EN_PARTS = _alt(EN_PARTS)
_EN_MONTHS = _alt([*EN_MONTHS, *EN_MONTH_ABBR])
_EN_ORD = _alt(EN_ORDINALS)
_EN_COUNT = rf"(?:\d+|a\s+couple(?:\s+of)?|a\s+few|several|an?|{_alt(EN_ONES)})"
_JA_NUM = rf"(?:[0-9]+|[{''.join(JA_DIGITS)}十]+)"
_JA_MONTH = r"(?:1[0-2]|0?[1-9]|十[一二]?|[一二三四五六七八九])"
_JA_DAY = r"(?:3[01]|[12][0-9]|0?[1-9]|三十一?|二?十[一二三四五六七八九]?|[一二三四五六七八九])"
#: a weekday after 来週/第N: 水曜, 水曜日, すいようび
_JA_WD = rf"(?:[月火水木金土日]曜日?|{_alt(JA_KANA_WEEKDAYS)})"
_ORDINAL_SUFFIX = r"(?:st|nd|rd|th)?"
_EN_ONES_WORDS = _alt([w for w, v in EN_DAY_ORDINALS.items() if v <= 9])
#: a day of the month said as an ordinal word: 11th-31st ("twenty-second", "twenty second",
#: "thirtieth") and 1st-10th ("first", "tenth"): the low ones are also ordinary words ("the
#: first call"), so they count only before a pause or a function word (:data:`_ORD_FOLLOW`)
_EN_DAY_HIGH = (
    rf"(?:twenty[\s-]+(?:{_EN_ONES_WORDS})|thirty[\s-]+first|"
    rf"{_alt([w for w, v in EN_DAY_ORDINALS.items() if v >= 11])})"
)
_EN_DAY_LOW = _alt([w for w, v in EN_DAY_ORDINALS.items() if v <= 10])
_ORD_FOLLOW = (
    r"(?=\s*(?:[.,;:!?)]|$)|\s+(?:is|was|are|were|works?|would|could|should|will|can|then|at|in|on|or|and|but|so|for|if|"
    r"to|we|i|you|it|that|this|next|last|because|instead|as|with|of|from|since|already|again|too|please|okay|ok|"
    r"right|yes|no|maybe|good|fine|sounds?|looks?|be|the|a|um|uh|like|when|which|who|she|he|they|our|your|my|"
    r"do|does|did|let's|let|then|through|onwards?)\b)"
)
#: the day number of a match: digits ("day"), or an ordinal word ("dayw", "dayl")
_EN_DAY_ANY = (
    r"(?:(?P<day>3[01]|[12][0-9]|0?[1-9])(?:st|nd|rd|th)\b"
    rf"|(?P<dayw>{_EN_DAY_HIGH})\b|(?P<dayl>{_EN_DAY_LOW})\b{_ORD_FOLLOW})"
)


def _day_number(m: re.Match[str], *groups: str) -> int | None:
    """The day of the month in the first of ``groups`` that matched (digits or an ordinal word)."""
    for name in groups:
        said = m.groupdict().get(name)
        if said:
            return int(said) if said.isdigit() else parse_en_day_ordinal(said)
    return None


def _en_period(m: re.Match[str], anchor: Day) -> Span | None:
    g = m.groupdict()
    unit = EN_UNITS[g["unit"].lower()]
    offset = EN_REL[re.sub(r"\s+", " ", g["rel"] or "the").lower()]
    part = EN_PARTS[re.sub(r"\s+", " ", g["part"].lower())] if g["part"] else "whole"
    if g["within"]:
        part = "within"
    return part_of(period(unit, offset, anchor), unit, part, anchor=anchor)


def _en_period_end(m: re.Match[str], anchor: Day) -> Span | None:
    unit = {"m": "month", "q": "quarter", "y": "year"}[(m.group("unit") or m.group("u2"))[0].lower()]
    return part_of(period(unit, 0, anchor), unit, "end")


def _en_weekend(m: re.Match[str], anchor: Day) -> Span | None:
    offset = 1 if (m.group("rel") or "").lower() == "next" else 0
    return part_of(period("week", offset, anchor), "week", "weekend")


def _en_day_word(m: re.Match[str], anchor: Day) -> Span | None:
    day = anchor + dt.timedelta(days=EN_DAY_WORDS[re.sub(r"\s+", " ", m.group().lower())])
    return day, day


def _en_weekday(m: re.Match[str], anchor: Day) -> Span | None:
    wd = EN_WEEKDAYS[m.group("wd").lower()]
    rel = re.sub(r"\s+", " ", (m.group("rel") or "")).lower()
    week = (m.group("week") or "").lower()
    if week:
        day = monday_of(anchor) + dt.timedelta(weeks=EN_REL[week], days=wd)
    elif rel == "next":
        day = monday_of(anchor) + dt.timedelta(weeks=1, days=wd)
    elif rel == "this":
        day = weekday_after(anchor, wd, inclusive=True)
    elif rel == "last":
        day = weekday_after(anchor, wd, inclusive=False) - dt.timedelta(weeks=1)
    else:  # bare, "on", "by", "coming", "this coming"
        day = weekday_after(anchor, wd, inclusive=False)
    return day, day


def _en_count_rel(m: re.Match[str], anchor: Day) -> Span | None:
    n = _en_count(m.group("num"))
    if n is None:
        return None
    unit = m.group("unit").lower().rstrip("s")
    if (m.group("post") or "").lower() == "ago":
        n = -n
    day = _shift(anchor, unit, n)
    return day, day


def _en_month_of(name: str) -> int:
    key = name.lower().rstrip(".")
    return EN_MONTHS.get(key) or EN_MONTH_ABBR[key]


def _en_month(m: re.Match[str], anchor: Day) -> Span | None:
    g = m.groupdict()
    month = _en_month_of(g["month"] or g["month2"])
    day = _day_number(m, "day", "day2", "dayw", "dayl", "day2w")
    year = g["year"]
    rel = (g["rel"] or "").lower()
    if year:
        y = int(year)
    elif g["yrel"]:
        y = anchor.year + EN_REL[g["yrel"].lower()]
    elif rel == "last":  # "last March" in May: this March or the one before? Ambiguous.
        if month < anchor.month:
            return None
        y = anchor.year - 1
    elif rel == "next":  # "next March" in February: next month or in a year? Ambiguous.
        if month > anchor.month:
            return None
        y = anchor.year + 1
    else:
        y = month_occurrence(month, anchor, "this" if rel == "this" else "next")
    span = month_span(y, month)
    if day:
        return part_of(span, "month", "day", day)
    if g["ord"] and g["owd"]:
        return nth_weekday(y, month, EN_WEEKDAYS[g["owd"].lower()], EN_ORDINALS[g["ord"].lower()])
    if g["ord"]:
        return part_of(span, "month", "nth_week", EN_ORDINALS[g["ord"].lower()])
    if g["part"]:
        return part_of(span, "month", EN_PARTS[re.sub(r"\s+", " ", g["part"].lower())])
    return span


def _en_month_accept(m: re.Match[str]) -> bool:
    """"May" and "March" (a verb, a modal) need a day, a year or a date word beside them ("in
    May", "mid-March"; not "May I ask"); abbreviations ("Dec", "Jan" - also a name) need a day
    or a year. A speech recognizer writes month names in lowercase ("june thirtieth", "end of
    may"): taken too, but a lowercase "may"/"march" needs a day said in digits or as 11th-31st,
    a year, a part ("end of may") or a preposition ("by march"), never "this may" (a modal) or
    a low ordinal word alone ("we may first check")."""
    g = m.groupdict()
    name = g["month"] or g["month2"]
    key = name.lower().rstrip(".")
    day = g["day"] or g["day2"] or g["dayw"] or g["dayl"] or g["day2w"]
    if key in EN_MONTH_ABBR:
        return bool(day or g["year"])
    if key in ("may", "march"):
        if not name[0].isupper():
            return bool(g["day"] or g["day2"] or g["dayw"] or g["year"] or g["part"] or g["prep"] or g["day2w"] or g["ord"])
        return bool(day or g["year"] or g["yrel"] or g["part"] or g["ord"] or g["rel"] or g["prep"])
    return True


def _en_nth_week_rel(m: re.Match[str], anchor: Day) -> Span | None:
    span = period("month", EN_REL[m.group("rel").lower()], anchor)
    n = EN_ORDINALS[m.group("ord").lower()]
    if m.group("owd"):
        return nth_weekday(span[0].year, span[0].month, EN_WEEKDAYS[m.group("owd").lower()], n)
    return part_of(span, "month", "nth_week", n)


def _en_half(m: re.Match[str], anchor: Day) -> Span | None:
    """"the second half (of the year)", "H1 2027": calendar halves; without a year the half
    that has not ended."""
    g = m.groupdict()
    half = int(g["hn"]) if g["hn"] else (1 if g["h"].lower() in ("first", "1st") else 2)
    year = g["year"] or g["year2"]
    if year:
        y = int(year)
    elif g["rel"]:
        y = anchor.year + EN_REL[g["rel"].lower()]
    else:
        y = anchor.year if (half == 2 or anchor.month <= 6) else anchor.year + 1
    return (Day(y, 1, 1), Day(y, 6, 30)) if half == 1 else (Day(y, 7, 1), Day(y, 12, 31))


SEASONS: dict[str, int] = {"spring": 3, "summer": 6, "fall": 9, "autumn": 9, "winter": 12}
"""First month of each season (northern-hemisphere meteorological seasons, three months each)."""


def _en_season(m: re.Match[str], anchor: Day) -> Span | None:
    """The season containing the anchor or the next one; "last"/"next" only when clear (a
    season of the anchor's year that has not started is "this" or "next": ambiguous)."""
    first = SEASONS[m.group("season").lower()]
    rel = (m.group("rel") or "").lower()

    def span(y: int) -> Span:
        end = add_months(y, first, 2)
        return Day(y, first, 1), month_span(*end)[1]

    if m.group("year"):
        return span(int(m.group("year")))
    this = span(anchor.year)
    if this[1] < anchor and first != 12:
        this = span(anchor.year + 1)
    elif first == 12 and anchor.month <= 2:
        this = span(anchor.year - 1)
    if rel == "next":
        return None if this[0] > anchor else span(this[0].year + 1)
    if rel == "last":
        return None if this[0] > anchor else span(this[0].year - 1)
    return this


def _en_quarter(m: re.Match[str], anchor: Day) -> Span | None:
    g = m.groupdict()
    q = int(g["q"]) if g["q"] else EN_ORDINALS[g["qo"].lower()]
    if not 1 <= q <= 4:
        return None
    if g["year"]:
        y = int(g["year"])
    elif g["yrel"]:
        y = anchor.year + EN_REL[g["yrel"].lower()]
    else:
        y = anchor.year if 3 * q >= anchor.month else anchor.year + 1
    start = Day(y, 3 * q - 2, 1)
    span = (start, month_span(y, 3 * q)[1])
    part = EN_PARTS[re.sub(r"\s+", " ", g["part"].lower())] if g["part"] else "whole"
    return part_of(span, "quarter", part)


def _day_of_month(dom: int, anchor: Day) -> Day | None:
    """The next day ``dom`` of a month on or after the anchor ("on the 12th")."""
    for k in range(3):
        y, m = add_months(anchor.year, anchor.month, k)
        if dom <= calendar.monthrange(y, m)[1] and (k or dom >= anchor.day):
            return Day(y, m, dom)
    return None


def _en_nth_day(m: re.Match[str], anchor: Day) -> Span | None:
    g = m.groupdict()
    dom = _day_number(m, "day", "dayw", "dayl")
    if dom is None:
        return None
    if g["month"]:
        month = _en_month_of(g["month"])
        y = month_occurrence(month, anchor, "next")
        span = part_of(month_span(y, month), "month", "day", dom)
        day = span[0] if span else None
    else:
        day = _day_of_month(dom, anchor)
    if day is None:
        return None
    if g["week"]:
        start = monday_of(day)
        return start, start + dt.timedelta(days=6)
    return day, day


def _en_the_day(m: re.Match[str], anchor: Day) -> Span | None:
    """"the 22nd", "the twenty-second" said alone: the next such day on or after the anchor."""
    dom = _day_number(m, "day", "dayw")
    day = _day_of_month(dom, anchor) if dom else None
    return None if day is None else (day, day)


def _en_weekday_day(m: re.Match[str], anchor: Day) -> Span | None:
    """"Tuesday the 29th", "wednesday the twentieth": the next such day of a month on or after
    the anchor that falls on that weekday (within three months), else the next such day."""
    dom = _day_number(m, "day", "dayw", "dayl")
    if dom is None:
        return None
    wd = EN_WEEKDAYS[m.group("wd").lower()]
    for k in range(3):
        y, mo = add_months(anchor.year, anchor.month, k)
        if dom <= calendar.monthrange(y, mo)[1] and (k or dom >= anchor.day) and Day(y, mo, dom).weekday() == wd:
            return Day(y, mo, dom), Day(y, mo, dom)
    day = _day_of_month(dom, anchor)
    return None if day is None else (day, day)


def _unresolvable(m: re.Match[str], anchor: Day) -> Span | None:
    return None


def _iso(m: re.Match[str], anchor: Day) -> Span | None:
    try:
        day = Day(int(m.group("y")), int(m.group("m")), int(m.group("d")))
    except ValueError:
        return None
    return day, day


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
    day = _day_of_month(_ja_int(m.group("d")) or 0, anchor)
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
    day = _shift(anchor, unit, n)
    return day, day


_I = re.IGNORECASE
_RULES: tuple[_Rule, ...] = (
    _Rule(
        "en_period",
        re.compile(
            rf"\b(?:(?P<within>within)\s+|(?P<part>{_EN_PARTS})[\s-]+)?"
            rf"(?:(?P<rel>this|next|last)|(?<=of\s)(?P<the>the)\s*(?=(?:week|month|quarter|year)\b))?\s*"
            rf"(?P<unit>week|month|quarter|year)\b",
            _I,
        ),
        _en_period,
        accept=lambda m: bool(m.group("rel") or m.group("part") and (m.group("the") or "end" in m.group("part").lower())),
    ),
    _Rule("en_period_end", re.compile(r"\b(?P<unit>month|quarter|year)[\s-]end\b|\bEO(?P<u2>[MQY])\b", _I), _en_period_end),
    _Rule("en_weekend", re.compile(r"\b(?:(?P<rel>this|next)|the)\s+weekend\b", _I), _en_weekend),
    _Rule("en_day_word", re.compile(rf"\b(?:{_alt(EN_DAY_WORDS)})\b", _I), _en_day_word),
    _Rule(
        "en_weekday",
        re.compile(
            rf"\b(?:(?P<rel>next|this\s+coming|this|coming|last)\s+)?(?P<wd>{_alt(EN_WEEKDAYS)})\b"
            rf"(?:\s+(?:of\s+)?(?P<week>next|this|last)\s+week\b)?",
            _I,
        ),
        _en_weekday,
        accept=lambda m: m.group("rel") is not None or not re.search(r"\ba\s+$", m.string[: m.start()], re.IGNORECASE),
    ),
    _Rule(
        "en_count",
        re.compile(
            rf"\b(?:(?P<pre>in|within)\s+(?:the\s+next\s+)?)?(?P<num>{_EN_COUNT})\s+(?P<unit>days?|weeks?|months?|years?)\b"
            rf"(?:\s+(?P<post>from\s+now|from\s+today|ago|later))?",
            _I,
        ),
        _en_count_rel,
        accept=lambda m: bool(m.group("pre") or m.group("post")),
    ),
    _Rule(
        "en_month",
        re.compile(
            rf"(?:\b(?P<prep>in|by|until|since|during|from|before|after)\s+)?"
            rf"(?:\b(?P<part>{_EN_PARTS})[\s-]+|\b(?:the\s+)?(?P<ord>{_EN_ORD})\s+(?:week|(?P<owd>{_alt(EN_WEEKDAYS)}))\s+of\s+)?"
            rf"(?:\b(?P<rel>last|next|this)\s+)?"
            rf"(?:\b(?P<month>{_EN_MONTHS})\.?(?:\s+(?:the\s+)?(?:(?P<day>3[01]|[12][0-9]|0?[1-9]){_ORDINAL_SUFFIX}\b"
            rf"|(?P<dayw>{_EN_DAY_HIGH})\b|(?P<dayl>{_EN_DAY_LOW})\b{_ORD_FOLLOW}))?"
            rf"|\b(?:the\s+)?(?:(?P<day2>3[01]|[12][0-9]|0?[1-9]){_ORDINAL_SUFFIX}\s+(?:of\s+)?"
            rf"|(?P<day2w>{_EN_DAY_HIGH}|{_EN_DAY_LOW})\s+of\s+)(?P<month2>{_EN_MONTHS})\.?)"
            rf"(?:,?\s+(?P<year>20\d\d)|,?\s+(?:of\s+)?(?P<yrel>last|next|this)\s+year)?\b",
            _I,
        ),
        _en_month,
        accept=_en_month_accept,
    ),
    _Rule(
        "en_nth_day",
        re.compile(
            rf"\b(?:(?P<week>(?:the\s+)?week\s+of)\s+|(?P<prep>on|by|until|till|before|from|after)\s+)"
            rf"(?:(?P<month>{_alt(EN_MONTHS)})\s+)?(?:(?:the\s+)?(?P<day>3[01]|[12][0-9]|0?[1-9])(?:st|nd|rd|th)\b"
            rf"|the\s+(?:(?P<dayw>{_EN_DAY_HIGH})\b|(?P<dayl>{_EN_DAY_LOW})\b{_ORD_FOLLOW}))",
            _I,
        ),
        _en_nth_day,
    ),
    _Rule(
        "en_weekday_day",
        re.compile(
            rf"\b(?:(?P<rel>next|this|coming)\s+)?(?P<wd>{_alt(EN_WEEKDAYS)}),?\s+(?:the\s+)?{_EN_DAY_ANY}",
            _I,
        ),
        _en_weekday_day,
    ),
    _Rule(
        "en_the_day",
        re.compile(
            rf"\bthe\s+(?:(?P<day>3[01]|[12][0-9]|0?[1-9])(?:st|nd|rd|th)|(?P<dayw>{_EN_DAY_HIGH}))\b{_ORD_FOLLOW}",
            _I,
        ),
        _en_the_day,
    ),
    _Rule(
        "en_nth_week",
        re.compile(
            rf"\b(?:the\s+)?(?P<ord>{_EN_ORD})\s+(?:week|(?P<owd>{_alt(EN_WEEKDAYS)}))\s+of\s+(?P<rel>this|next)\s+month\b",
            _I,
        ),
        _en_nth_week_rel,
    ),
    _Rule(
        "en_half",
        re.compile(
            r"\b(?:the\s+)?(?P<h>first|second|1st|2nd)\s+half\b(?:\s+of\s+(?:(?P<rel>the|this|next|last)\s+year|(?P<year>20\d\d))\b)?"
            r"|\bH(?P<hn>[12])(?:\s+(?P<year2>20\d\d))?\b",
            _I,
        ),
        _en_half,
    ),
    _Rule(
        "en_season",
        re.compile(
            rf"\b(?:(?P<rel>this|next|last)\s+|(?P<the>the|in|by|before|until|over|during)\s+)?(?P<season>{_alt(SEASONS)})\b"
            r"(?:\s+(?:of\s+)?(?P<year>20\d\d)\b)?",
            _I,
        ),
        _en_season,
        accept=lambda m: bool(m.group("rel") or m.group("the") or m.group("year")),
    ),
    _Rule(
        "en_quarter",
        re.compile(
            rf"\b(?:(?P<part>{_EN_PARTS})[\s-]+)?(?:Q(?P<q>[1-4])|(?:the\s+)?(?P<qo>first|second|third|fourth)\s+quarter)\b"
            rf"(?:\s+(?:of\s+)?(?P<year>20\d\d)\b|\s+(?P<yrel>next|this|last)\s+year\b)?",
            _I,
        ),
        _en_quarter,
    ),
    _Rule(
        "en_fiscal",
        re.compile(rf"\b(?:(?:{_EN_PARTS})\s+)?(?:(?:the|this|next|last|our)\s+)?fiscal\s+year\b|\bFY\s?'?\d{{2,4}}\b", _I),
        _unresolvable,
    ),
    _Rule("iso", re.compile(r"(?<![\d/.-])(?P<y>20\d\d)[-/.](?P<m>1[0-2]|0?[1-9])[-/.](?P<d>3[01]|[12]\d|0?[1-9])(?![\d/.-])"), _iso),
    _Rule("ja_md", re.compile(r"(?<![\d/])(?P<m>1[0-2]|0?[1-9])/(?P<d>3[01]|[12]\d|0?[1-9])(?=\s*[(（](?P<wd>[月火水木金土日]))"), _ja_md),
    _Rule(
        "ja_relative",
        re.compile(
            rf"(?P<prefix>{_alt([*JA_WEEK_PREFIX, *JA_MONTH_PREFIX, *JA_FY_PREFIX, *JA_YEAR_PREFIX])}|(?<![ぁ-ゖ]){_alt(JA_KANA_PREFIX)})"
            rf"(?P<suffix>\s*の?\s*(?:第{_JA_NUM}週|第{_JA_NUM}{_JA_WD}|{_JA_WD}|{_JA_DAY}日(?!間|分|以内|後)|上旬|中旬|下旬|初旬|初め|はじめ|頭|末|じょうじゅん|ちゅうじゅん|げじゅん)"
            rf"|\s*(?:中(?!旬)|いっぱい|内)|(?:{_alt(JA_KANA_PARTS)})(?![ぁ-ゖ](?<![にはもでまの])))?"
        ),
        _ja_relative,
    ),
    _Rule("ja_company", re.compile(_alt(JA_COMPANY_PERIODS)), _unresolvable),
    _Rule(
        "ja_month",
        re.compile(
            rf"(?:(?P<year>20\d\d)年|(?P<yrel>{_alt([*JA_YEAR_PREFIX, '年明け'])})\s*の?\s*)?(?<![0-9十])(?P<month>{_JA_MONTH})月(?![額々曜分])"
            rf"(?P<suffix>\s*{_JA_DAY}日(?:の週|(?!間|分|以内|後))|\s*の?\s*(?:第{_JA_NUM}{_JA_WD}|第{_JA_NUM}週|上旬|中旬|下旬|初旬|初め|はじめ|頭|末)|中(?!旬)|いっぱい)?"
        ),
        _ja_month,
        accept=lambda m: not (m.group("month") == "一" and re.match(r"(?:あたり|当たり|ごと|毎)", m.string[m.end() :])),
    ),
    _Rule(
        "ja_range",
        re.compile(
            rf"(?<![0-9十])(?P<m1>{_JA_MONTH})月(?P<d1>{_JA_DAY})日\s*(?:から|〜|～|~|－|-)\s*"
            rf"(?:(?P<m2>{_JA_MONTH})月)?(?P<d2>{_JA_DAY})日(?!間|分)"
        ),
        _ja_range,
    ),
    _Rule("ja_day_week", re.compile(rf"(?<![0-9〇一二三四五六七八九十月])(?P<d>{_JA_DAY})日の週"), _ja_day_week),
    _Rule(
        "ja_bare",
        re.compile(rf"(?<!毎)(?:{_alt([*JA_DAY_WORDS, *JA_BARE_PERIODS, '年明け'])})"),
        _ja_bare,
    ),
    _Rule(
        "ja_weekday",
        re.compile(rf"(?<![週毎])(?<!週の)(?P<wd>[月火水木金土日])曜日?|(?<![ぁ-ゖ毎])(?P<wdk>{_alt(JA_KANA_WEEKDAYS)})"),
        _ja_weekday,
    ),
    _Rule(
        "ja_count",
        re.compile(rf"(?P<num>{_JA_NUM}|半)(?P<unit>{_alt(JA_COUNT_UNITS)})間?(?:後|以内|のうち)"),
        _ja_count,
    ),
)


def find_dates(
    text: str, language: str, anchor: Day | None, anchor_guessed: bool = False
) -> list[DateMention]:
    """Every date expression in ``text``, in order, resolved against ``anchor`` when given.

    Overlapping candidates are settled longest first ("来週水曜" rather than "水曜"). The
    language is accepted for the API's symmetry; both languages' rules run on any text (a
    Japanese meeting may say "Q3"), and the rules that differ by language are documented above.
    """
    del language
    plain = text.translate(WIDTH)
    candidates: list[tuple[int, int, _Rule, re.Match[str]]] = []
    for rule in _RULES:
        for m in rule.pattern.finditer(plain):
            start, end = _trim(plain, m)
            if end > start and (rule.accept is None or rule.accept(m)):
                candidates.append((start, end, rule, m))
    candidates.sort(key=lambda c: (c[0], -(c[1] - c[0])))
    mentions: list[DateMention] = []
    taken_to = -1
    for start, end, rule, m in candidates:
        if start < taken_to:
            continue
        taken_to = end
        resolved = None
        if anchor is not None:
            try:
                span = rule.resolve(m, anchor)
            except (ValueError, OverflowError):  # out of the calendar's range ("in 10000 years")
                span = None
            if span is not None:
                resolved = ResolvedDate(text[start:end], span[0], span[1], anchor, anchor_guessed)
        by = bool(_BY_BEFORE.search(plain[:start]) or _BY_AFTER.match(plain[end:]))
        mentions.append(DateMention((start, end), text[start:end], resolved, by))
    return mentions


def _trim(text: str, m: re.Match[str]) -> tuple[int, int]:
    """The match without a leading preposition captured only as context (``prep``)."""
    start, end = m.span()
    if "prep" in m.re.groupindex and m.group("prep"):
        start = m.end("prep")
    while start < end and text[start].isspace():
        start += 1
    while end > start and text[end - 1].isspace():
        end -= 1
    return start, end


def resolve_date(
    said: str, language: str, anchor: Day | None, anchor_guessed: bool = False
) -> ResolvedDate | None:
    """What the words as said mean against the anchor, or None when there is no anchor, no
    date expression, or several that disagree ("March 3 or March 5")."""
    if anchor is None:
        return None
    mentions = [d for d in find_dates(said, language, anchor, anchor_guessed) if d.resolved is not None]
    if not mentions:
        return None
    found = {(d.resolved.start, d.resolved.end) for d in mentions if d.resolved}
    if len(found) > 1:
        return None
    first = mentions[0].resolved
    assert first is not None
    return ResolvedDate(said.strip(), first.start, first.end, anchor, anchor_guessed)
