"""Money amounts and spoken numbers (values worked out by hand)."""

from __future__ import annotations

import pytest

from meeting_notes.notes.money import find_amounts, find_numbers, parse_number


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("twelve hundred", 1200),
        ("twenty-five hundred", 2500),
        ("a hundred and fifty thousand", 150_000),
        ("one hundred twenty", 120),
        ("two thousand and five", 2005),
        ("ten grand", 10_000),
        ("1.2 million", 1_200_000),
        ("64k", 64_000),
        ("1.2k", 1200),
        ("64,000", 64_000),
        ("1,200", 1200),
        ("三百万", 3_000_000),
        ("二千万", 20_000_000),
        ("1000万", 10_000_000),
        ("2千5百", 2500),
        ("一万二千", 12_000),
        ("1.5億", 150_000_000),
        ("二十三", 23),
        ("６００万", 6_000_000),
    ],
)
def test_parse_number(text: str, value: float) -> None:
    assert parse_number(text) == value


@pytest.mark.parametrize("text", ["one two", "five and six", "twenty thirty", "hello", "", "万が"])
def test_not_one_number(text: str) -> None:
    assert parse_number(text) is None


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("The budget is $64,000.", [("$64,000", 64_000, "USD", "")]),
        ("We set aside about 64k for the budget.", [("64k", 64_000, "", "")]),
        ("Around 64,000 dollars all in.", [("64,000 dollars", 64_000, "USD", "")]),
        ("It's twelve hundred dollars a month for all techs.", [("twelve hundred dollars", 1200, "USD", "month")]),
        ("We budgeted a hundred and fifty thousand.", [("a hundred and fifty thousand", 150_000, "", "")]),
        ("The quote came to 1.2 million.", [("1.2 million", 1_200_000, "", "")]),
        ("That's €5,000 per user per month.", [("€5,000", 5000, "EUR", "user-month")]),
        ("Anything over ten grand needs both owners.", [("ten grand", 10_000, "", "")]),
        ("A one-time onboarding fee of twenty-five hundred dollars.", [("twenty-five hundred dollars", 2500, "USD", "one-time")]),
        ("$35 per seat", [("$35", 35, "USD", "user")]),
        ("Our list price is nine dollars per learner per month", [("nine dollars", 9, "USD", "user-month")]),
        ("32 dollars per vehicle per month", [("32 dollars", 32, "USD", "vehicle-month")]),
        (
            "For fourteen hundred learners that's about a hundred and fifty-one thousand a year",
            [("a hundred and fifty-one thousand", 151_000, "", "year")],
        ),
        ("US$1.5M a year", [("US$1.5M", 1_500_000, "USD", "year")]),
        ("予算は600万円です。", [("600万円", 6_000_000, "JPY", "")]),
        ("上限は1000万円。", [("1000万円", 10_000_000, "JPY", "")]),
        ("三百万円くらい", [("三百万円", 3_000_000, "JPY", "")]),
        ("予算は二千万くらいです", [("二千万", 20_000_000, "", "")]),
        ("1,500円", [("1,500円", 1500, "JPY", "")]),
        ("千円です", [("千円", 1000, "JPY", "")]),
        ("月額45万円です", [("45万円", 450_000, "JPY", "month")]),
        ("1人あたり月300円以内", [("300円", 300, "JPY", "user-month")]),
        ("300円/月", [("300円", 300, "JPY", "month")]),
        ("￥５００，０００", [("￥５００，０００", 500_000, "JPY", "")]),
        ("5万ドル", [("5万ドル", 50_000, "USD", "")]),
        ("初期費用は10万円", [("10万円", 100_000, "JPY", "one-time")]),
        (
            "標準プランは月350円（年払いで315円）です。",
            [("350円", 350, "JPY", "month"), ("315円", 315, "JPY", "")],
        ),
    ],
)
def test_find_amounts(text: str, expected: list[tuple[str, float, str, str]]) -> None:
    found = find_amounts(text, "ja" if any(ord(c) > 0x3000 for c in text) else "en")
    assert [(m.said, m.amount, m.currency, m.per) for m in found] == expected
    for m in found:
        assert text[m.span[0] : m.span[1]] == m.said


@pytest.mark.parametrize(
    "text",
    [
        "We have 450 employees and a budget.",  # counted, not money
        "The budget for 2026 is open.",  # a year
        "150 thousand users pay for it.",
        "64,000 miles on the trucks.",
        "We run 1,200 jobs a month.",  # no money word
        "従業員450名です",
        "2千万人が使う",
        "万が一に備えて予算を",
        "万円単位で見積もります",
        "千葉の倉庫の費用",
        "one of the five options costs more",  # small bare numbers are not amounts
    ],
)
def test_no_amount_in(text: str) -> None:
    assert find_amounts(text, "en") == []


def test_find_numbers_values_for_comparison() -> None:
    text = "About eighteen thousand, or 18k, maybe 18,000; 一緒に六百万で。"
    values = [(n.said, n.value) for n in find_numbers(text)]
    assert values == [("eighteen thousand", 18_000), ("18k", 18_000), ("18,000", 18_000), ("六百万", 6_000_000)]
