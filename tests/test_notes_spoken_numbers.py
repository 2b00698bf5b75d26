"""Numbers as a speech recognizer writes them: English number words (lowercase, "fifteen k",
spoken price pairs like "three fifty") and Japanese numbers in hiragana (さんびゃくまん).

Values are worked out by hand. The phrasings are not the evaluation meetings' lines."""

from __future__ import annotations

import pytest

from meeting_notes.notes.money import find_amounts, find_numbers
from meeting_notes.notes.numerals import parse_en_number, parse_ja_number, spoken_pair


@pytest.mark.parametrize(
    ("text", "value", "pair"),
    [
        # number words with a magnitude letter or word
        ("fifteen k", 15_000, ""),
        ("twenty two k", 22_000, ""),
        ("forty-five k", 45_000, ""),
        ("a hundred k", 100_000, ""),
        ("a hundred and twenty grand", 120_000, ""),
        ("one point two million", 1_200_000, ""),
        ("two point five k", 2_500, ""),
        ("three point seven five million", 3_750_000, ""),
        ("half a million", 500_000, ""),
        # hundreds: <1-99> <10-99>
        ("three fifty", 350, "hundreds"),
        ("eight seventy", 870, "hundreds"),
        ("twelve fifty", 1_250, "hundreds"),
        ("four forty nine", 449, "hundreds"),
        ("two ninety-nine", 299, "hundreds"),
        ("twenty two fifty", 2_250, "hundreds"),
        ("three fifty k", 350_000, "hundreds"),
        # thousands and hundreds: <10-99> <1-9>
        ("sixteen five", 16_500, "thousands"),
        ("fourteen five", 14_500, "thousands"),
        ("twenty one five", 21_500, "thousands"),
        ("ten five", 10_500, "thousands"),
    ],
)
def test_english_number_families(text: str, value: float, pair: str) -> None:
    assert parse_en_number(text) == value
    assert spoken_pair(text) == pair


@pytest.mark.parametrize(
    "text",
    ["one two", "one two three", "five and six", "thirty forty", "forty fifty", "nine nine", "sixteen five k", "half twenty", "point five"],
)
def test_english_words_that_are_not_one_number(text: str) -> None:
    assert parse_en_number(text) is None


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("さんびゃくまん", 3_000_000),
        ("ひゃくごじゅうまん", 1_500_000),
        ("きゅうまんはっせん", 98_000),
        ("にせんごひゃく", 2_500),
        ("よんまん", 40_000),
        ("はちまん", 80_000),
        ("いちまんごせん", 15_000),
        ("ななじゅうごまん", 750_000),
        ("ろっぴゃくまん", 6_000_000),
        ("はっぴゃく", 800),
        ("さんぜん", 3_000),
        ("はっせんごひゃく", 8_500),
        ("いっせんまん", 10_000_000),
        ("にひゃくよんじゅうまん", 2_400_000),
        ("いちおくにせんまん", 120_000_000),
    ],
)
def test_hiragana_numbers(text: str, value: float) -> None:
    assert parse_ja_number(text) == value


@pytest.mark.parametrize("text", ["ぜんぜん", "にさん", "さんにん", "ごさんこう", "まんが", "せんせい", "いっしょ"])
def test_hiragana_words_that_are_no_number(text: str) -> None:
    assert parse_ja_number(text) is None


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("honestly our budget is around fifteen k for the whole thing", [("fifteen k", 15_000, "", "")]),
        ("they quoted us forty two k a year", [("forty two k", 42_000, "", "year")]),
        ("we could spend maybe a hundred and twenty grand", [("a hundred and twenty grand", 120_000, "", "")]),
        ("the price comes out at one point two million over three years", [("one point two million", 1_200_000, "", "")]),
        ("it's two point five k a month per clinic", [("two point five k", 2_500, "", "month")]),
        ("the starter tier is two forty nine a month", [("two forty nine", 249, "", "month")]),
        ("we charge six fifty per user per year", [("six fifty", 650, "", "user-year")]),
        ("that add-on costs twelve fifty", [("twelve fifty", 1_250, "", "")]),
        ("the other vendor came in at like twenty one five", [("twenty one five", 21_500, "", "")]),
        ("we got the old one for eighteen five", [("eighteen five", 18_500, "", "")]),
        ("about three fifty bucks a month", [("three fifty bucks", 350, "USD", "month")]),
        ("Anything above half a million needs the board's approval.", [("half a million", 500_000, "", "")]),
    ],
)
def test_spoken_english_amounts_in_context(text: str, expected: list[tuple[str, float, str, str]]) -> None:
    found = find_amounts(text, "en")
    assert [(m.said, m.amount, m.currency, m.per) for m in found] == expected
    for m in found:
        assert text[m.span[0] : m.span[1]] == m.said


@pytest.mark.parametrize(
    "text",
    [
        "let's meet at ten thirty tomorrow",  # a time, not $1,030
        "can we do eleven thirty on thursday to go over the pricing",
        "the call is at ten thirty and the price is fine",
        "at two fifteen we review the budget",
        "around nine forty five we talk budget",
        "we have forty one recruiters across three offices",  # counts
        "we opened in twenty twenty two and the budget grew",  # a year
        "one or two people handle the budget",
        "the budget is one two three",
        "five ten minute breaks a day and no budget for it",
        "we run nineteen fifty two trucks",
        "that's three fifty",  # no money word: a pair alone says nothing
        "the eight thirty forecast feed comes in daily",
    ],
)
def test_no_spoken_amount_in(text: str) -> None:
    assert find_amounts(text, "en") == []


def test_times_and_counts_are_no_numbers_for_the_value_checks() -> None:
    numbers = [(n.said, n.value) for n in find_numbers("we meet at ten thirty, and the plan is four forty nine a month")]
    assert numbers == [("four forty nine", 449)]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("予算は さんびゃくまん くらいで 考えています", [("さんびゃくまん", 3_000_000, "", "")]),
        ("月額 にせんごひゃくえん です", [("にせんごひゃくえん", 2_500, "JPY", "month")]),
        ("見積もりは ななじゅうごまん でした", [("ななじゅうごまん", 750_000, "", "")]),
        ("はっぴゃくまんえんの 予算です", [("はっぴゃくまんえん", 8_000_000, "JPY", "")]),
        ("初期費用は ろっぴゃくまん円 です", [("ろっぴゃくまん円", 6_000_000, "JPY", "one-time")]),
        ("予算はひゃくまんえんです", [("ひゃくまんえん", 1_000_000, "JPY", "")]),
        ("一人 月額 さんぜんえん", [("さんぜんえん", 3_000, "JPY", "month")]),
        ("料金は　にまんごせん円　です", [("にまんごせん円", 25_000, "JPY", "")]),  # an ideographic space
        ("Ｂプランは月額いちまんはっせんえんです", [("いちまんはっせんえん", 18_000, "JPY", "month")]),
    ],
)
def test_hiragana_amounts_in_context(text: str, expected: list[tuple[str, float, str, str]]) -> None:
    found = find_amounts(text, "ja")
    assert [(m.said, m.amount, m.currency, m.per) for m in found] == expected
    for m in found:
        assert text[m.span[0] : m.span[1]] == m.said  # spans point at the original text


@pytest.mark.parametrize(
    "text",
    [
        "ご参考までに 予算の 資料です",  # ご + さん inside a word
        "ごさんこうまでに 予算を",
        "当日は さんにん で 伺います 予算の 件で",  # a count of people
        "さんじゅうにん くらいの 予算",
        "いっしょに 予算を 見ましょう",
        "ごせんたく ください 予算",  # ご + せん inside ご選択
        "予算は ありません",  # せん inside ません
        "予算は じゅうぶんです",  # じゅう inside じゅうぶん
        "予算の 資料を 机におく",  # に + おく: 置く
        "ぜんぜん 予算が ない",
        "予算 まんが 的な",
    ],
)
def test_no_hiragana_amount_in(text: str) -> None:
    assert find_amounts(text, "ja") == []


def test_labels_still_come_out_for_spoken_amounts() -> None:
    """Budget vs price by the words around the amount (``passes.money_rule``), and per seat/month."""
    from meeting_notes.notes.passes import Candidate, money_rule

    def label(text: str) -> tuple[str, str]:
        (m,) = find_amounts(text, "ja" if any(ord(c) > 0x3000 for c in text) else "en")
        return money_rule(Candidate("M1", 0, m.said, text)), m.per

    assert label("we've set aside about forty k for this") == ("budget", "")
    assert label("our pricing is two twenty five a seat per month") == ("price", "user-month")
    assert label("予算は ななひゃくまん までです") == ("budget", "")
    assert label("月額 きゅうせんはっぴゃくえん の プランです") == ("price", "month")


def test_what_a_number_counts_is_said_after_it() -> None:
    from meeting_notes.notes.money import counted_after

    text = "up to five thousand messages a month, 450名, and the 64,000 Dayton budget"
    assert counted_after(text, text.index(" messages"))
    assert counted_after(text, text.index("名"))
    assert not counted_after(text, text.index(" Dayton"))  # "day" is the start of a name here
    assert find_amounts("the 64,000 Dayton budget", "en")[0].amount == 64_000
