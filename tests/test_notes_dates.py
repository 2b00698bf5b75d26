"""Date expressions resolved against the meeting date.

Expected dates are computed by hand from the calendar (e.g. `cal 3 2026`: 2026-03-02 is a
Monday, 2026-11-01 a Sunday), never from the functions under test.
"""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest

from meeting_notes.notes.dates import ResolvedDate, find_dates, resolve_date

D = dt.date.fromisoformat
MON = D("2026-03-02")  # a Monday
FRI = D("2026-03-06")  # a Friday
WED_OCT = D("2026-10-14")  # a Wednesday
GOLD = Path(__file__).resolve().parents[1] / "benchmarks" / "notes_eval" / "gold"


def iso(said: str, anchor: dt.date, language: str = "en") -> str | None:
    resolved = resolve_date(said, language, anchor)
    return None if resolved is None else resolved.iso()


@pytest.mark.parametrize(
    ("said", "anchor", "expected"),
    [
        # weekdays: "next X" = X of next week; "this X" = on/after today; bare/by = strictly after
        ("next Thursday", MON, "2026-03-12"),
        ("this Thursday", MON, "2026-03-05"),
        ("Thursday", MON, "2026-03-05"),
        ("by Friday", FRI, "2026-03-13"),
        ("this Friday", FRI, "2026-03-06"),
        ("on Monday", FRI, "2026-03-09"),
        ("next Tuesday at two", D("2026-05-14"), "2026-05-19"),
        ("Friday next week", MON, "2026-03-13"),
        ("last Friday", MON, "2026-02-27"),
        ("this coming Wednesday", MON, "2026-03-04"),
        # days and counts
        ("today", MON, "2026-03-02"),
        ("tomorrow", FRI, "2026-03-07"),
        ("the day after tomorrow", FRI, "2026-03-08"),
        ("in two weeks", MON, "2026-03-16"),
        ("within two weeks", D("2026-05-14"), "2026-05-28"),
        ("three weeks from now", FRI, "2026-03-27"),
        ("two months ago", D("2026-03-31"), "2026-01-31"),
        ("in a month", D("2026-01-31"), "2026-02-28"),
        # weeks, months, quarters, years
        ("next week", MON, "2026-03-09/2026-03-15"),
        ("this week", FRI, "2026-03-02/2026-03-08"),
        ("by the end of next week", D("2026-05-14"), "2026-05-22"),
        ("end of the week", MON, "2026-03-06"),
        ("this weekend", MON, "2026-03-07/2026-03-08"),
        ("next month", WED_OCT, "2026-11-01/2026-11-30"),
        ("end of the month", D("2026-02-10"), "2026-02-28"),
        ("month-end", D("2028-02-03"), "2028-02-29"),
        ("the second week of next month", WED_OCT, "2026-11-09/2026-11-15"),
        ("early next month", WED_OCT, "2026-11-01/2026-11-10"),
        ("end of next quarter", FRI, "2026-06-30"),
        ("end of next quarter", D("2026-11-24"), "2027-03-31"),
        ("this quarter", WED_OCT, "2026-10-01/2026-12-31"),
        ("Q3", FRI, "2026-07-01/2026-09-30"),
        ("Q3", WED_OCT, "2027-07-01/2027-09-30"),
        ("end of Q2 2027", FRI, "2027-06-30"),
        ("next year", WED_OCT, "2027-01-01/2027-12-31"),
        ("by year-end", WED_OCT, "2026-12-31"),
        ("within this month", WED_OCT, "2026-10-14/2026-10-31"),
        # month names: next occurrence on/after the anchor month unless marked past
        ("March 12th", D("2026-11-20"), "2027-03-12"),
        ("March 12th, 2026", D("2026-11-20"), "2026-03-12"),
        ("the 3rd of December", WED_OCT, "2026-12-03"),
        ("in December", WED_OCT, "2026-12-01/2026-12-31"),
        ("in May", WED_OCT, "2027-05-01/2027-05-31"),
        ("mid-December", WED_OCT, "2026-12-11/2026-12-20"),
        ("late December", WED_OCT, "2026-12-21/2026-12-31"),
        ("the second week of December", WED_OCT, "2026-12-14/2026-12-20"),
        ("the last week of November", WED_OCT, "2026-11-30/2026-12-06"),
        ("last March", D("2026-03-20"), "2025-03-01/2025-03-31"),
        ("last March", D("2026-02-20"), "2025-03-01/2025-03-31"),
        ("March of last year", D("2026-05-14"), "2025-03-01/2025-03-31"),
        ("next March", D("2026-05-14"), "2027-03-01/2027-03-31"),
        ("the third Thursday of next month", D("2026-05-14"), "2026-06-18"),
        ("the second half", D("2026-01-08"), "2026-07-01/2026-12-31"),
        ("H1 2027", FRI, "2027-01-01/2027-06-30"),
        ("before the summer", D("2026-03-06"), "2026-06-01/2026-08-31"),
        ("in the fall", D("2026-05-14"), "2026-09-01/2026-11-30"),
        ("this winter", D("2026-01-20"), "2025-12-01/2026-02-28"),
        ("Dec 3", WED_OCT, "2026-12-03"),
        ("on the 12th", FRI, "2026-03-12"),
        ("by the 5th", FRI, "2026-04-05"),
        ("the week of the 14th", D("2026-01-08"), "2026-01-12/2026-01-18"),
        ("the week of March 9th", FRI, "2026-03-09/2026-03-15"),
        ("2026-04-01", WED_OCT, "2026-04-01"),
    ],
)
def test_english(said: str, anchor: dt.date, expected: str) -> None:
    assert iso(said, anchor) == expected


@pytest.mark.parametrize(
    ("said", "anchor", "expected"),
    [
        ("来週水曜", MON, "2026-03-11"),
        ("来週水曜の午後", D("2026-05-20"), "2026-05-27"),
        ("来週の月曜まで", D("2026-05-20"), "2026-05-25"),
        ("今週金曜", MON, "2026-03-06"),
        ("先週の火曜日", MON, "2026-02-24"),
        ("金曜日までに", FRI, "2026-03-13"),
        ("明日", FRI, "2026-03-07"),
        ("明後日", FRI, "2026-03-08"),
        ("今日中", D("2026-05-20"), "2026-05-20"),
        ("2週間後", MON, "2026-03-16"),
        ("3日以内", MON, "2026-03-05"),
        ("1ヶ月後", D("2026-01-31"), "2026-02-28"),
        ("来週", WED_OCT, "2026-10-19/2026-10-25"),
        ("今週中", WED_OCT, "2026-10-14/2026-10-16"),  # the days left, to Friday
        ("来週中", WED_OCT, "2026-10-19/2026-10-23"),
        ("今月中", D("2026-07-10"), "2026-07-10/2026-07-31"),
        ("4月中", WED_OCT, "2027-04-01/2027-04-30"),
        ("今週末", WED_OCT, "2026-10-17/2026-10-18"),
        ("週明け", FRI, "2026-03-09"),
        ("来月", WED_OCT, "2026-11-01/2026-11-30"),
        ("来月の第2週", WED_OCT, "2026-11-09/2026-11-15"),
        ("来月第1週", WED_OCT, "2026-11-02/2026-11-08"),
        ("月末まで", D("2026-09-10"), "2026-09-30"),
        ("今月末", D("2026-02-10"), "2026-02-28"),
        ("来月末", D("2026-01-15"), "2026-02-28"),
        ("来月中旬", WED_OCT, "2026-11-11/2026-11-20"),
        ("12月上旬", WED_OCT, "2026-12-01/2026-12-10"),
        ("4月末", WED_OCT, "2027-04-30"),
        ("11月5日", WED_OCT, "2026-11-05"),
        ("2026年4月", WED_OCT, "2026-04-01/2026-04-30"),
        ("来年1月", WED_OCT, "2027-01-01/2027-01-31"),
        ("去年の3月", WED_OCT, "2025-03-01/2025-03-31"),
        ("先月", WED_OCT, "2026-09-01/2026-09-30"),
        ("十二月", WED_OCT, "2026-12-01/2026-12-31"),
        ("年内", WED_OCT, "2026-10-14/2026-12-31"),
        ("年度末", WED_OCT, "2027-03-31"),
        ("年度末", D("2026-02-25"), "2026-03-31"),
        ("年度末", D("2026-04-01"), "2027-03-31"),
        ("来年度", D("2026-02-25"), "2026-04-01/2027-03-31"),
        ("来月の第3木曜日", D("2026-09-10"), "2026-10-15"),
        ("12月の第1月曜", D("2026-09-10"), "2026-12-07"),
        ("年明けの2月", D("2026-09-10"), "2027-02-01/2027-02-28"),
        ("年明け", D("2026-09-10"), "2027-01-01/2027-01-31"),
        ("11月2日から6日まで", WED_OCT, "2026-11-02/2026-11-06"),
        ("12月29日〜1月4日", WED_OCT, "2026-12-29/2027-01-04"),
        ("11月9日の週", WED_OCT, "2026-11-09/2026-11-15"),  # 2026-11-09 is a Monday
        ("20日の週", WED_OCT, "2026-10-19/2026-10-25"),
        ("3/12(木)", WED_OCT, "2026-03-12"),  # 2026-03-12 is a Thursday, 2027-03-12 a Friday
        ("3/12(金)", WED_OCT, "2027-03-12"),
    ],
)
def test_japanese(said: str, anchor: dt.date, expected: str) -> None:
    assert iso(said, anchor, "ja") == expected


@pytest.mark.parametrize(
    "said",
    [
        "in a few weeks",
        "the end of the fiscal year",
        "FY27",
        "来期",
        "下半期",
        "来月の第6週",
        "2026-02-30",  # no such day
        "in 1000000 years",  # beyond the calendar
        "last February",  # said in March 2026 (FRI): this February or last year's? ambiguous
        "next summer",  # said before this summer: this one or next year's?
    ],
)
def test_found_but_not_guessed(said: str) -> None:
    mentions = find_dates(said, "en", FRI)
    assert len(mentions) == 1 and mentions[0].resolved is None


@pytest.mark.parametrize(
    "text",
    [
        "May I ask who signs off?",  # a modal, not the month
        "We'd like 3/12 of the budget.",  # English numeric dates are ambiguous: not taken
        "We open 24/7.",
        "毎月末に締めます",  # recurring
        "毎週月曜に定例があります",
        "導入まで3ヶ月かかります",  # a duration
        "毎月3日かかります",
        "1人あたり月300円です",
        "一月あたり5万円",  # ひと月, not January
        "Jan said the marching band plays on Mondays.",
        "Prices fall every spring sale.",
        "Thanks for making time on a Friday.",  # generic  # "fall" the verb; "spring" needs this/the/in
    ],
)
def test_no_date_in(text: str) -> None:
    assert [m.said for m in find_dates(text, "en", FRI)] == []


def test_mentions_in_running_text_with_spans_and_deadlines() -> None:
    text = "Kevin will demo next Thursday at nine, and Dave sends the export by Monday. May I ask about the rollout in May?"
    mentions = find_dates(text, "en", FRI)
    assert [(m.said, m.resolved.iso() if m.resolved else None, m.by) for m in mentions] == [
        ("next Thursday", "2026-03-12", False),
        ("Monday", "2026-03-09", True),
        ("May", "2026-05-01/2026-05-31", False),
    ]
    for m in mentions:
        assert text[m.span[0] : m.span[1]] == m.said
    assert mentions[2].span[0] == text.rindex("May")

    ja = "来週水曜までに見積もりを出し、来月の第２週にトライアル、年度末に本導入です。"
    found = find_dates(ja, "ja", WED_OCT)
    assert [(m.said, m.resolved.iso() if m.resolved else None, m.by) for m in found] == [
        ("来週水曜", "2026-10-21", True),
        ("来月の第２週", "2026-11-09/2026-11-15", False),
        ("年度末", "2027-03-31", False),
    ]


def test_no_anchor_and_guessed_anchor() -> None:
    assert resolve_date("next Thursday", "en", None) is None
    assert [m.resolved for m in find_dates("next Thursday", "en", None)] == [None]
    guessed = resolve_date("next Thursday", "en", MON, anchor_guessed=True)
    assert guessed == ResolvedDate("next Thursday", D("2026-03-12"), D("2026-03-12"), MON, True)
    assert resolve_date("March 3 or March 5", "en", MON) is None  # two different dates
    assert resolve_date("nothing here", "en", MON) is None


def test_gold_due_dates_resolve_as_the_gold_says() -> None:
    """The hand-written gold of the eval meetings gives `due` as said and its `resolved` date."""
    checked = 0
    for path in sorted(GOLD.glob("*.json")):
        gold = json.loads(path.read_text(encoding="utf-8"))
        anchor = gold.get("meeting_date")
        for item in gold.get("fields", {}).get("next_steps", []):
            if not (anchor and item.get("due") and item.get("resolved")):
                continue
            resolved = resolve_date(item["due"], gold["language"], D(anchor))
            if resolved is None:  # "デモのとき" (at the demo) is no date expression
                continue
            gold_value = item["resolved"]
            if isinstance(gold_value, list):  # [first, last]: a window the gold accepts
                lo, hi = (D(v) for v in gold_value)
                ok = lo <= resolved.start <= resolved.end <= hi or (resolved.start == lo and resolved.start < resolved.end)
            else:
                ok = resolved.iso() == gold_value
            assert ok, (path.name, item["due"], gold_value, resolved.iso())
            checked += 1
    if checked == 0:
        pytest.skip("no gold with resolved due dates")


THU_APR = D("2026-04-23")  # a Thursday
TUE_DEC = D("2026-12-08")  # a Tuesday


@pytest.mark.parametrize(
    ("said", "anchor", "expected"),
    [
        # lowercase month names and days said as ordinal words (a recognizer's output)
        ("july thirty-first", THU_APR, "2026-07-31"),
        ("by october twelfth", THU_APR, "2026-10-12"),
        ("end of april", THU_APR, "2026-04-30"),
        ("by the end of june", THU_APR, "2026-06-30"),
        ("next thursday at nine", THU_APR, "2026-04-30"),
        ("the twenty third", THU_APR, "2026-04-23"),
        ("by the twenty-seventh", THU_APR, "2026-04-27"),
        ("on the fifth", THU_APR, "2026-05-05"),
        ("the fourteenth of august", THU_APR, "2026-08-14"),
        ("the first of may", THU_APR, "2026-05-01"),
        ("by march", THU_APR, "2027-03-01/2027-03-31"),
        ("September Second", THU_APR, "2026-09-02"),
        ("November twentieth of next year", THU_APR, "2027-11-20"),
        # a weekday with its date: the date that falls on that weekday
        ("Monday the eleventh", THU_APR, "2026-05-11"),
        ("friday the 8th", THU_APR, "2026-05-08"),
        ("thursday the twenty-third", THU_APR, "2026-04-23"),
        # Japanese as a recognizer writes it: spaces between words, hiragana date words
        ("来月の 十日", TUE_DEC, "2027-01-10"),
        ("二月の 第二火曜", TUE_DEC, "2027-02-09"),
        ("来週 木曜に", TUE_DEC, "2026-12-17"),
        ("らいしゅうの かようび", TUE_DEC, "2026-12-15"),
        ("さらいしゅうの もくようびまでに", TUE_DEC, "2026-12-24"),
        ("きんようびまでに", TUE_DEC, "2026-12-11"),
        ("こんげつまつまでに", TUE_DEC, "2026-12-31"),
        ("らいげつの じょうじゅん", TUE_DEC, "2027-01-01/2027-01-10"),
        ("来年 四月から", TUE_DEC, "2027-04-01/2027-04-30"),
    ],
)
def test_dates_as_a_recognizer_writes_them(said: str, anchor: dt.date, expected: str) -> None:
    assert iso(said, anchor, "ja" if any(ord(c) > 0x3000 for c in said) else "en") == expected


@pytest.mark.parametrize(
    "text",
    [
        "we may first want to check with legal",  # the modal, and "first" is no day
        "this may be a problem for us",
        "i may second that",
        "we'll march forward with it",
        "on the first call we covered it",  # "first" is no day before a noun
        "the twenty second spot is cheaper",  # a duration
        "that was the 21st century answer",
        "single sign-on first, then the rest",
        "the fifth option is the cheapest",
        "ありがとうございます",
    ],
)
def test_no_recognizer_date_in(text: str) -> None:
    assert [m.said for m in find_dates(text, "en", THU_APR)] == []


def test_kana_month_word_is_not_cut_from_a_longer_word() -> None:
    (mention,) = find_dates("らいげつまつりが あります", "ja", TUE_DEC)
    assert mention.said == "らいげつ" and mention.resolved is not None and mention.resolved.iso() == "2027-01-01/2027-01-31"
