"""The English date rules: vocabulary, patterns and resolvers (ordered as :func:`find_dates` tries them).

The conventions they follow are in :mod:`meeting_notes.notes.dates`.
"""

from __future__ import annotations

import calendar
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
from meeting_notes.notes.numerals import EN_DAY_ORDINALS, EN_ONES, EN_ORDINALS, parse_en_day_ordinal, parse_en_number

# --- vocabulary -------------------------------------------------------------------------

EN_WEEKDAYS: dict[str, int] = {
    "monday": 0, "tuesday": 1, "wednesday": 2, "thursday": 3, "friday": 4, "saturday": 5, "sunday": 6,
}  # fmt: skip
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


# --- patterns and resolvers -------------------------------------------------------------


def _en_count(text: str) -> int | None:
    """'two', 'a', 'a couple of', '3' -> int; 'a few', 'several' -> None."""
    text = re.sub(r"\s+", " ", text.strip().lower())
    if text in ("a", "an", "one"):
        return 1
    if text in ("a couple of", "a couple", "couple of"):
        return 2
    value = parse_en_number(text)
    return int(value) if value is not None and value == int(value) and value > 0 else None


_EN_PARTS = alt(EN_PARTS)
_EN_MONTHS = alt([*EN_MONTHS, *EN_MONTH_ABBR])
_EN_ORD = alt(EN_ORDINALS)
_EN_COUNT = rf"(?:\d+|a\s+couple(?:\s+of)?|a\s+few|several|an?|{alt(EN_ONES)})"
_ORDINAL_SUFFIX = r"(?:st|nd|rd|th)?"
_EN_ONES_WORDS = alt([w for w, v in EN_DAY_ORDINALS.items() if v <= 9])
#: a day of the month said as an ordinal word: 11th-31st ("twenty-second", "twenty second",
#: "thirtieth") and 1st-10th ("first", "tenth"): the low ones are also ordinary words ("the
#: first call"), so they count only before a pause or a function word (:data:`_ORD_FOLLOW`)
_EN_DAY_HIGH = (
    rf"(?:twenty[\s-]+(?:{_EN_ONES_WORDS})|thirty[\s-]+first|"
    rf"{alt([w for w, v in EN_DAY_ORDINALS.items() if v >= 11])})"
)
_EN_DAY_LOW = alt([w for w, v in EN_DAY_ORDINALS.items() if v <= 10])
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
    day = shift(anchor, unit, n)
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
#: Closed-class words, and nouns of a period ("the summer rush"), a season said as a time is followed by.
_AFTER_SEASON = (
    r"(?:of|and|or|to|is|was|are|were|will|would|should|could|can|we|i|you|they|it|he|she|next|this|last|before|after|"
    r"then|when|if|so|but|at|for|in|on|with|because|that|the|a|our|your|their|too|as|though|onwards?|term|season|"
    r"time|break|holidays?|rush|peak|months?|period|slowdown|already|anyway|maybe|probably|hopefully|right|works?|please|sounds?)"
)
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
        day = day_of_month(dom, anchor)
    if day is None:
        return None
    if g["week"]:
        start = monday_of(day)
        return start, start + dt.timedelta(days=6)
    return day, day


def _en_the_day(m: re.Match[str], anchor: Day) -> Span | None:
    """"the 22nd", "the twenty-second" said alone: the next such day on or after the anchor."""
    dom = _day_number(m, "day", "dayw")
    day = day_of_month(dom, anchor) if dom else None
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
    day = day_of_month(dom, anchor)
    return None if day is None else (day, day)


_I = re.IGNORECASE
#: the English rules, in the order they are tried
EN_RULES: tuple[Rule, ...] = (
    Rule(
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
    Rule("en_period_end", re.compile(r"\b(?P<unit>month|quarter|year)[\s-]end\b|\bEO(?P<u2>[MQY])\b", _I), _en_period_end),
    Rule("en_weekend", re.compile(r"\b(?:(?P<rel>this|next)|the)\s+weekend\b", _I), _en_weekend),
    Rule("en_day_word", re.compile(rf"\b(?:{alt(EN_DAY_WORDS)})\b", _I), _en_day_word),
    Rule(
        "en_weekday",
        re.compile(
            rf"\b(?:(?P<rel>next|this\s+coming|this|coming|last)\s+)?(?P<wd>{alt(EN_WEEKDAYS)})\b"
            rf"(?:\s+(?:of\s+)?(?P<week>next|this|last)\s+week\b)?",
            _I,
        ),
        _en_weekday,
        accept=lambda m: m.group("rel") is not None or not re.search(r"\ba\s+$", m.string[: m.start()], re.IGNORECASE),
    ),
    Rule(
        "en_count",
        re.compile(
            rf"\b(?:(?P<pre>in|within)\s+(?:the\s+next\s+)?)?(?P<num>{_EN_COUNT})\s+(?P<unit>days?|weeks?|months?|years?)\b"
            rf"(?:\s+(?P<post>from\s+now|from\s+today|ago|later))?",
            _I,
        ),
        _en_count_rel,
        accept=lambda m: bool(m.group("pre") or m.group("post")),
    ),
    Rule(
        "en_month",
        re.compile(
            rf"(?:\b(?P<prep>in|by|until|since|during|from|before|after)\s+)?"
            rf"(?:\b(?P<part>{_EN_PARTS})[\s-]+|\b(?:the\s+)?(?P<ord>{_EN_ORD})\s+(?:week|(?P<owd>{alt(EN_WEEKDAYS)}))\s+of\s+)?"
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
    Rule(
        "en_nth_day",
        re.compile(
            rf"\b(?:(?P<week>(?:the\s+)?week\s+of)\s+|(?P<prep>on|by|until|till|before|from|after)\s+)"
            rf"(?:(?P<month>{alt(EN_MONTHS)})\s+)?(?:(?:the\s+)?(?P<day>3[01]|[12][0-9]|0?[1-9])(?:st|nd|rd|th)\b"
            rf"|the\s+(?:(?P<dayw>{_EN_DAY_HIGH})\b|(?P<dayl>{_EN_DAY_LOW})\b{_ORD_FOLLOW}))",
            _I,
        ),
        _en_nth_day,
    ),
    Rule(
        "en_weekday_day",
        re.compile(
            rf"\b(?:(?P<rel>next|this|coming)\s+)?(?P<wd>{alt(EN_WEEKDAYS)}),?\s+(?:the\s+)?{_EN_DAY_ANY}",
            _I,
        ),
        _en_weekday_day,
    ),
    Rule(
        "en_the_day",
        re.compile(
            rf"\bthe\s+(?:(?P<day>3[01]|[12][0-9]|0?[1-9])(?:st|nd|rd|th)|(?P<dayw>{_EN_DAY_HIGH}))\b{_ORD_FOLLOW}",
            _I,
        ),
        _en_the_day,
    ),
    Rule(
        "en_nth_week",
        re.compile(
            rf"\b(?:the\s+)?(?P<ord>{_EN_ORD})\s+(?:week|(?P<owd>{alt(EN_WEEKDAYS)}))\s+of\s+(?P<rel>this|next)\s+month\b",
            _I,
        ),
        _en_nth_week_rel,
    ),
    Rule(
        "en_half",
        re.compile(
            r"\b(?:the\s+)?(?P<h>first|second|1st|2nd)\s+half\b(?:\s+of\s+(?:(?P<rel>the|this|next|last)\s+year|(?P<year>20\d\d))\b)?"
            r"|\bH(?P<hn>[12])(?:\s+(?P<year2>20\d\d))?\b",
            _I,
        ),
        _en_half,
    ),
    Rule(
        "en_season",
        re.compile(
            rf"\b(?:(?P<rel>this|next|last)\s+|(?P<the>the|in|by|before|until|over|during)\s+)?(?P<season>{alt(SEASONS)})\b"
            r"(?:\s+(?:of\s+)?(?P<year>20\d\d)\b)?"
            # not a season word naming a thing ("the spring line sheet", "our summer sale"): a
            # season is followed by a break or a function word, never by a noun it modifies
            rf"(?![ \t]+(?!{_AFTER_SEASON}\b)[a-z])",
            _I,
        ),
        _en_season,
        accept=lambda m: bool(m.group("rel") or m.group("the") or m.group("year")),
    ),
    Rule(
        "en_quarter",
        re.compile(
            rf"\b(?:(?P<part>{_EN_PARTS})[\s-]+)?(?:Q(?P<q>[1-4])|(?:the\s+)?(?P<qo>first|second|third|fourth)\s+quarter)\b"
            rf"(?:\s+(?:of\s+)?(?P<year>20\d\d)\b|\s+(?P<yrel>next|this|last)\s+year\b)?",
            _I,
        ),
        _en_quarter,
    ),
    Rule(
        "en_fiscal",
        re.compile(rf"\b(?:(?:{_EN_PARTS})\s+)?(?:(?:the|this|next|last|our)\s+)?fiscal\s+year\b|\bFY\s?'?\d{{2,4}}\b", _I),
        unresolvable,
    ),
)
