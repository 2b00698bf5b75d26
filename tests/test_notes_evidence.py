"""The evidence check, redaction, token estimates and chunking."""

from __future__ import annotations

from meeting_notes.notes.chunking import Line, TokenEstimator, chunk_lines
from meeting_notes.notes.evidence import NAME_NOT_SAID, normalize, verify_extraction
from meeting_notes.notes.redact import RedactionReport, redact_text
from meeting_notes.notes.schema import (
    Account,
    Competitor,
    DealStageSuggestion,
    DecisionMaker,
    Evidence,
    Extraction,
    NextStep,
    Participant,
    TextItem,
)

SEGMENTS = {
    0: "Hi, I'm Mark Ellis, VP of Operations at Northwind Freight.",
    1: "We've set aside around 120,000 dollars for the first year,",
    2: "including hardware. We also have a quote from Samsara.",
    3: "予算は年間で６００万円程度を考えています。",
    4: "I'll send the proposal by next Wednesday.",
}


def ev(ids: list[int], quote: str) -> Evidence:
    return Evidence(segment_ids=ids, quote=quote)


def test_normalize_ignores_case_space_punctuation_and_width() -> None:
    assert normalize("Hello,  World!") == normalize("hello world")
    assert normalize("６００万円。") == "600万円"
    assert normalize("“120,000” dollars") == "120000dollars"


def test_valid_quotes_are_kept_and_hallucinations_dropped() -> None:
    extraction = Extraction(
        budget=[TextItem(text="120,000 dollars", evidence=[ev([1], "around 120,000 Dollars")])],
        competitors=[
            Competitor(name="Samsara", evidence=[ev([2], "a quote from Samsara")]),
            Competitor(name="Motive", evidence=[ev([2], "a quote from Motive")]),
        ],
        next_steps=[NextStep(action="Call CFO", owner="Mark", evidence=[ev([4], "I will call the CFO")])],
    )
    checked, ver = verify_extraction(extraction, SEGMENTS)
    assert [c.name for c in checked.competitors] == ["Samsara"]
    assert checked.next_steps == [] and len(checked.budget) == 1
    assert ver.items_checked == 4 and ver.items_kept == 2 and ver.items_dropped == 2
    assert {d.field for d in ver.dropped} == {"competitors", "next_steps"}
    assert ver.evidence_valid == 2 and ver.evidence_invalid == 2


def test_quote_spanning_two_cited_segments_and_ellipsis() -> None:
    extraction = Extraction(
        budget=[
            TextItem(text="a", evidence=[ev([1, 2], "for the first year, including hardware")]),
            TextItem(text="b", evidence=[ev([1], "set aside ... for the first year")]),
            TextItem(text="c", evidence=[ev([1], "for the first year ... set aside")]),  # wrong order
        ]
    )
    checked, ver = verify_extraction(extraction, SEGMENTS)
    assert [i.text for i in checked.budget] == ["a", "b"]
    assert ver.items_dropped == 1


def test_wrong_ids_with_verbatim_quote_are_relocated() -> None:
    extraction = Extraction(pricing=[TextItem(text="600万円", evidence=[ev([0], "年間で600万円程度")])])
    checked, ver = verify_extraction(extraction, SEGMENTS)
    assert checked.pricing[0].evidence[0].segment_ids == [3]
    assert ver.evidence_relocated == 1 and ver.items_dropped == 0


def test_unknown_ids_and_trivial_quotes_do_not_count() -> None:
    extraction = Extraction(
        needs=[
            TextItem(text="x", evidence=[ev([99], "a quote that is nowhere")]),
            TextItem(text="y", evidence=[ev([2], "We")]),
        ]
    )
    checked, ver = verify_extraction(extraction, SEGMENTS)
    assert checked.needs == [] and ver.items_dropped == 2


def test_account_and_stage_need_evidence_too() -> None:
    extraction = Extraction(
        account=Account(name="Acme", evidence=[ev([0], "at Acme Corp")]),
        deal_stage=DealStageSuggestion(stage="proposal", evidence=[ev([4], "send the proposal")]),
    )
    checked, ver = verify_extraction(extraction, SEGMENTS)
    assert checked.account.name == "" and checked.deal_stage.stage == "proposal"
    assert ver.items_dropped == 1 and ver.dropped[0].field == "account"


def test_redaction_of_emails_phones_and_cards() -> None:
    report = RedactionReport()
    text = (
        "Mail jane.doe@acme.co.uk or call +1 (415) 555-0134, card 4111 1111 1111 1111. "
        "Budget 1,200,000 by 2025-04-01, 240 trucks. 電話は０３－１２３４－５６７８です"
    )
    out = redact_text(text, report)
    assert "jane.doe" not in out and "555-0134" not in out and "4111" not in out
    assert "1,200,000" in out and "2025-04-01" in out and "240 trucks" in out
    assert "電話は[PHONE]です" in out
    assert report.counts == {"email": 1, "phone": 2, "card": 1}


def test_token_estimate_counts_japanese_per_character() -> None:
    est = TokenEstimator(per_word=1.6, per_cjk_char=0.8)
    assert est.count("one two three four five") == 9  # 5 * 1.6 + 1
    assert est.count("予算は年間で") == 6  # 6 * 0.8 + 1, rounded
    assert est.count("予算は600万円 budget") > est.count("予算は")


def test_chunks_respect_the_budget_and_keep_ids() -> None:
    lines = [Line(i, f"[{i}] S: text", 10) for i in range(20)]
    chunks = chunk_lines(lines, budget=50, overlap=1)
    assert len(chunks) > 1
    assert all(sum(ln.tokens for ln in c) <= 50 for c in chunks)
    covered = {ln.segment_id for c in chunks for ln in c}
    assert covered == set(range(20))
    assert chunks[1][0].segment_id == chunks[0][-1].segment_id  # one line of overlap
    assert chunk_lines(lines, budget=1000) == [lines]


def test_names_must_be_said_even_when_the_quote_is_real() -> None:
    segments = {
        0: "Okay. This is Diane in New Jersey.",
        1: "And I'm Sheila in Texas. Linda signs off, she's our CFO.",
        2: "Ms. Park wants it by March. We compared Power BI.",
        3: "山本さんが稟議を上げます。",
    }
    quote = [ev([0], "This is Diane in New Jersey")]
    extraction = Extraction(
        # a list of people crammed into the account, each of them said, the whole never
        account=Account(name="Diane, Sheila, and Texas", evidence=quote),
        participants=[
            Participant(name="Diana", evidence=quote),  # misheard by the model: not said
            Participant(name="Diane", evidence=quote),
            Participant(name="Sheila", side="customer", evidence=[ev([1], "I'm Sheila in Texas")]),
        ],
        # first and family name said in different places; honorifics the speakers did not use
        decision_makers=[
            DecisionMaker(name="Linda Park", role="CFO", evidence=[ev([1], "Linda signs off")]),
            DecisionMaker(name="Mr. Park", evidence=[ev([2], "Ms. Park wants it by March")]),
            DecisionMaker(name="山本様", evidence=[ev([3], "山本さんが稟議を上げます")]),
        ],
        competitors=[
            Competitor(name="Power BI", evidence=[ev([2], "We compared Power BI")]),
            Competitor(name="Tableau", evidence=[ev([2], "We compared Power BI")]),
        ],
    )
    checked, ver = verify_extraction(extraction, segments)
    assert checked.account.name == ""
    assert [p.name for p in checked.participants] == ["Diane", "Sheila"]
    assert [d.name for d in checked.decision_makers] == ["Linda Park", "Mr. Park", "山本様"]
    assert [c.name for c in checked.competitors] == ["Power BI"]
    dropped = {(d.field, d.text.split(" / ")[0]): d.reason for d in ver.dropped}
    assert dropped == {
        ("account", "Diane, Sheila, and Texas"): NAME_NOT_SAID,
        ("participants", "Diana"): NAME_NOT_SAID,
        ("competitors", "Tableau"): NAME_NOT_SAID,
    }
    assert ver.items_dropped == 3 and ver.items_kept == 6


def test_company_names_with_a_legal_form_the_speakers_did_not_say_are_kept() -> None:
    segments = {
        0: "株式会社ナビテックの佐藤と申します。",
        1: "We already use Acme for dispatch.",
        2: "ワクリンクの中村です。",
    }
    for name, ids, quote in [
        ("ナビテック社", [0], "株式会社ナビテックの佐藤"),
        ("ナビテック株式会社", [0], "株式会社ナビテックの佐藤"),
        ("（株）ワクリンク", [2], "ワクリンクの中村です"),
        ("Acme, Inc.", [1], "We already use Acme"),
        ("Acme Corp", [1], "We already use Acme"),
    ]:
        checked, ver = verify_extraction(Extraction(account=Account(name=name, evidence=[ev(ids, quote)])), segments)
        assert checked.account.name == name and ver.items_dropped == 0, name
    # the legal form does not make an unsaid company pass
    unsaid = Extraction(account=Account(name="Globex, Inc.", evidence=[ev([1], "We already use Acme")]))
    checked, ver = verify_extraction(unsaid, segments)
    assert checked.account.name == "" and ver.dropped[0].reason == NAME_NOT_SAID
