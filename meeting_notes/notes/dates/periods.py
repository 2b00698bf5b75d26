"""Calendar arithmetic for the date rules, and the shape of a rule (a pattern and a resolver).

Weeks run Monday to Sunday; the Japanese fiscal year April to March (see :mod:`meeting_notes.notes.dates`
for the conventions). Shared by the English (:mod:`.english`) and Japanese (:mod:`.japanese`) rules.
"""

from __future__ import annotations

import calendar
import datetime as dt
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass

Day = dt.date
Span = tuple[Day, Day]


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
            first_day = {"early": 1, "mid": 11, "late": 21}[part]
            last_day = {"early": 10, "mid": 20, "late": end.day}[part]
            return start.replace(day=first_day), start.replace(day=last_day)
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


def shift(anchor: Day, unit: str, n: int) -> Day:
    if unit == "day":
        return anchor + dt.timedelta(days=n)
    if unit == "week":
        return anchor + dt.timedelta(weeks=n)
    months = n * (12 if unit == "year" else 1)
    y, m = add_months(anchor.year, anchor.month, months)
    return Day(y, m, min(anchor.day, calendar.monthrange(y, m)[1]))


def day_of_month(dom: int, anchor: Day) -> Day | None:
    """The next day ``dom`` of a month on or after the anchor ("on the 12th")."""
    for k in range(3):
        y, m = add_months(anchor.year, anchor.month, k)
        if dom <= calendar.monthrange(y, m)[1] and (k or dom >= anchor.day):
            return Day(y, m, dom)
    return None


# --- rules: a pattern and a resolver ------------------------------------------------------

Resolver = Callable[[re.Match[str], Day], Span | None]
#: a check that rejects words that only look like a date ("May I ...")
Accept = Callable[[re.Match[str]], bool]


@dataclass(frozen=True)
class Rule:
    name: str
    pattern: re.Pattern[str]
    resolve: Resolver
    accept: Accept | None = None


def alt(words: Iterable[str]) -> str:
    return "|".join(re.escape(w).replace(r"\ ", r"\s+") for w in sorted(words, key=len, reverse=True))


def unresolvable(m: re.Match[str], anchor: Day) -> Span | None:
    return None
