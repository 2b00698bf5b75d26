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

The rules are in :mod:`.english` and :mod:`.japanese`, the calendar arithmetic they share in
:mod:`.periods`; this module runs them.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from meeting_notes.notes.dates.english import EN_RULES
from meeting_notes.notes.dates.japanese import JA_RULES
from meeting_notes.notes.dates.periods import Day, Rule, Span
from meeting_notes.notes.numerals import WIDTH


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


#: deadline markers before (English) or after (Japanese) the expression
_BY_BEFORE = re.compile(r"\b(?:by|until|till|no later than|before|due)\s+(?:the\s+)?$", re.IGNORECASE)
_BY_AFTER = re.compile(r"^\s*(?:まで|迄)")


def _iso(m: re.Match[str], anchor: Day) -> Span | None:
    try:
        day = Day(int(m.group("y")), int(m.group("m")), int(m.group("d")))
    except ValueError:
        return None
    return day, day


#: every rule, in the order they are tried (an ISO date between the English and the Japanese ones)
_RULES: tuple[Rule, ...] = (
    *EN_RULES,
    Rule("iso", re.compile(r"(?<![\d/.-])(?P<y>20\d\d)[-/.](?P<m>1[0-2]|0?[1-9])[-/.](?P<d>3[01]|[12]\d|0?[1-9])(?![\d/.-])"), _iso),
    *JA_RULES,
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
    candidates: list[tuple[int, int, Rule, re.Match[str]]] = []
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


__all__ = ["DateMention", "ResolvedDate", "find_dates", "resolve_date"]
