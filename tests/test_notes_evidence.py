"""The evidence check, token estimates and chunking (redaction: tests/test_redact.py)."""

from __future__ import annotations

from meeting_notes.notes.chunking import Line, TokenEstimator, chunk_lines
from meeting_notes.notes.evidence import NAME_NOT_SAID, normalize, verify_extraction
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


# --- strict evidence (issue 11) -------------------------------------------------------------

import datetime as dt  # noqa: E402
import json  # noqa: E402
from pathlib import Path  # noqa: E402

import pytest  # noqa: E402

from meeting_notes.notes.evidence import (  # noqa: E402
    AMOUNT_NOT_IN_EVIDENCE,
    DATE_NOT_IN_EVIDENCE,
    NAME_NOT_IN_EVIDENCE,
    NO_EVIDENCE,
    PERSON_FIELDS,
    VALUE_CLEARED,
    name_said_in,
)
from meeting_notes.notes.schema import LIST_FIELDS, TimelineItem  # noqa: E402

EVAL = Path(__file__).resolve().parents[1] / "benchmarks" / "notes_eval"

CONTRACT = {
    0: "We will review the contract with legal.",
    1: "Let's talk again after that.",
    2: "We can sign it, but not next week.",
    3: "Okay.",
    4: "We will not sign the contract next week.",
    5: "来月に導入する予定はありません。",
}


def kept(extraction: Extraction, segments: dict[int, str], anchor: dt.date | None = None) -> tuple[Extraction, object]:
    return verify_extraction(extraction, segments, anchor)


@pytest.mark.parametrize(
    ("ids", "quote"),
    [
        ([0], "will ... the contract ... next week"),  # "next week" is not in the cited segment
        ([0, 2], "will ... the contract ... next week"),  # pieces of one word carry nothing
        ([0, 2], "We will review ... sign it ... next week"),  # the ellipsis skips "but not"
        ([0, 2], "with legal. We can sign it"),  # glued across segments that are not neighbours
        ([4], "sign the contract next week"),  # cut just after "not"
        ([5], "来月に導入する予定"),  # cut just before はありません
        ([3], "Okay."),  # too short to carry any claim
        ([0, 1, 2], "We will review the contract ... we can sign it next week"),
    ],
)
def test_stitched_cut_and_short_quotes_are_no_evidence(ids: list[int], quote: str) -> None:
    extraction = Extraction(next_steps=[NextStep(action="Sign the contract next week", evidence=[ev(ids, quote)])])
    checked, ver = kept(extraction, CONTRACT)
    assert checked.next_steps == [] and ver.dropped[0].reason == NO_EVIDENCE


@pytest.mark.parametrize(
    ("ids", "quote"),
    [
        ([0], "We will review ... with legal"),
        ([0, 1], "with legal. Let's talk again"),  # neighbours: a quote may run on
        ([2], "We can sign it"),
    ],
)
def test_honest_quotes_still_hold(ids: list[int], quote: str) -> None:
    extraction = Extraction(next_steps=[NextStep(action="Review the contract", evidence=[ev(ids, quote)])])
    checked, ver = kept(extraction, CONTRACT)
    assert len(checked.next_steps) == 1 and ver.evidence_valid == 1


def test_okay_cannot_carry_a_claim_but_a_short_quote_with_the_name_can() -> None:
    segments = {0: "Okay.", 1: "I'm Dave.", 2: "加藤です。", 3: "はい。"}
    extraction = Extraction(
        budget=[TextItem(text="$50,000", evidence=[ev([0], "Okay.")])],
        participants=[
            Participant(name="Dave", evidence=[ev([1], "I'm Dave")]),
            Participant(name="Kevin", evidence=[ev([1], "I'm Dave")]),  # short, and not his name
            Participant(name="加藤", evidence=[ev([2], "加藤です")]),
        ],
        needs=[TextItem(text="yes", evidence=[ev([3], "はい。")])],
    )
    checked, ver = kept(extraction, segments)
    assert [p.name for p in checked.participants] == ["Dave", "加藤"]
    assert checked.budget == [] and checked.needs == [] and ver.items_dropped == 3


def test_relocation_only_when_the_quote_is_unique() -> None:
    segments = {0: "We will send the proposal on Friday.", 1: "Great.", 2: "We will send the proposal on Friday."}
    unique = {**segments, 2: "Thanks, talk soon everyone."}
    item = Extraction(next_steps=[NextStep(action="Send the proposal", evidence=[ev([1], "We will send the proposal")])])
    checked, ver = kept(item, segments)
    assert checked.next_steps == [] and ver.evidence_relocated == 0  # in 0 and in 2: ambiguous
    checked, ver = kept(item, unique)
    assert checked.next_steps[0].evidence[0].segment_ids == [0] and ver.evidence_relocated == 1
    cited = Extraction(next_steps=[NextStep(action="Send", evidence=[ev([2], "We will send the proposal")])])
    checked, ver = kept(cited, segments)
    assert checked.next_steps[0].evidence[0].segment_ids == [2] and ver.evidence_valid == 1
    stitched = Extraction(next_steps=[NextStep(action="Send", evidence=[ev([1], "We will send ... on Friday")])])
    checked, ver = kept(stitched, unique)
    assert checked.next_steps == []  # an ellipsis quote is never relocated


def test_names_match_whole_words_and_whole_tokens() -> None:
    assert not name_said_in("Ann", "Our annual budget is fixed.")
    assert name_said_in("Ann", "Ann from finance joins.") and name_said_in("Ann", "Ann's team")
    assert name_said_in("Power BI", "we compared PowerBI and Tableau")
    assert not name_said_in("Acme", "AcmeSoft is the vendor")
    assert not name_said_in("佐藤", "佐藤木材の田中です。")  # kanji next to kanji: another word
    assert name_said_in("佐藤", "佐藤さんが決裁します")
    assert name_said_in("佐藤部長", "佐藤部長が決裁します")
    assert name_said_in("佐藤", "弊社佐藤がご案内します")
    assert name_said_in("ナビテック", "株式会社ナビテックの佐藤です")
    assert not name_said_in("ワクリンク", "ワクリンクスの中村です")  # katakana next to katakana
    assert name_said_in("さくら物流", "弊社はさくら物流と申します")
    assert name_said_in("KING OF TIME", "KING OF TIMEとジョブカンを比較")

    segments = {0: "Our annual budget is fixed.", 1: "佐藤木材の田中です。", 2: "We already use Acme."}
    extraction = Extraction(
        participants=[
            Participant(name="Ann", evidence=[ev([0], "Our annual budget is fixed")]),
            Participant(name="佐藤", evidence=[ev([1], "佐藤木材の田中です")]),
            Participant(name="田中", evidence=[ev([1], "佐藤木材の田中です")]),
        ],
        competitors=[Competitor(name="Acme", evidence=[ev([2], "We already use Acme")])],
    )
    checked, ver = kept(extraction, segments)
    assert [p.name for p in checked.participants] == ["田中"] and len(checked.competitors) == 1
    assert {d.reason for d in ver.dropped} == {NAME_NOT_SAID}


def test_a_company_name_must_be_in_its_evidence_a_person_anywhere() -> None:
    segments = {
        0: "Hi, I'm Janet Morales from Crestview Health.",
        1: "We looked at Tableau last year.",
        2: "I'll present the renewal to the committee myself.",
    }
    extraction = Extraction(
        competitors=[Competitor(name="Tableau", evidence=[ev([2], "I'll present the renewal to the committee")])],
        decision_makers=[DecisionMaker(name="Janet", evidence=[ev([2], "I'll present the renewal to the committee")])],
    )
    checked, ver = kept(extraction, segments)
    assert checked.competitors == [] and ver.dropped[0].reason == NAME_NOT_IN_EVIDENCE
    assert [d.name for d in checked.decision_makers] == ["Janet"]


def test_amounts_and_dates_must_be_in_the_quote_or_cited_segments() -> None:
    segments = {
        0: "Our budget is about eighteen thousand for the year.",
        1: "The demo is next Thursday at nine.",
        2: "予算は年間で600万円程度です。",
        3: "Frank co-signs anything over ten grand.",
    }
    anchor = dt.date(2026, 3, 6)  # a Friday: next Thursday is 2026-03-12
    extraction = Extraction(
        budget=[
            TextItem(text="About $18k a year", evidence=[ev([0], "Our budget is about eighteen thousand")]),
            TextItem(text="$80,000", evidence=[ev([0], "Our budget is about eighteen thousand")]),
            TextItem(text="600万円", evidence=[ev([2], "予算は年間で600万円程度です")]),
            TextItem(text="6,000,000円", evidence=[ev([2], "予算は年間で600万円程度です")]),
            TextItem(text="700万円", evidence=[ev([2], "予算は年間で600万円程度です")]),
            TextItem(text="80k", evidence=[ev([0], "Our budget is about eighteen thousand")]),  # no money word, still a value
            # the amount is in the cited segment, not in the quote: enough
            TextItem(text="10,000 dollars needs two signatures", evidence=[ev([3], "Frank co-signs anything")]),
        ],
        timeline=[
            TimelineItem(text="Demo on March 12", date="March 12", evidence=[ev([1], "The demo is next Thursday")]),
            TimelineItem(text="Demo", date="next Friday", evidence=[ev([1], "The demo is next Thursday")]),
        ],
        next_steps=[
            NextStep(action="Run the demo", owner="Frank", due="next Thursday", evidence=[ev([1], "The demo is next Thursday at nine")]),
            NextStep(action="Run the demo", owner="Kevin", due="Monday", evidence=[ev([1], "The demo is next Thursday at nine")]),
        ],
    )
    checked, ver = kept(extraction, segments, anchor)
    assert [b.text for b in checked.budget] == ["About $18k a year", "600万円", "6,000,000円", "10,000 dollars needs two signatures"]
    assert [t.date for t in checked.timeline] == ["March 12"]  # same day as "next Thursday"
    # an unsupported due date and an owner never named are emptied, the step kept
    assert [(n.owner, n.due) for n in checked.next_steps] == [("Frank", "next Thursday"), ("", "")]
    reasons = {(d.field, d.reason) for d in ver.dropped}
    assert ("budget", AMOUNT_NOT_IN_EVIDENCE) in reasons and ("timeline", DATE_NOT_IN_EVIDENCE) in reasons
    assert ("next_steps.due", VALUE_CLEARED + DATE_NOT_IN_EVIDENCE) in reasons
    assert ("next_steps.owner", VALUE_CLEARED + NAME_NOT_SAID) in reasons
    assert ver.items_dropped == 4  # $80,000, 700万円, 80k, next Friday

    # without the meeting date "March 12" cannot be matched to "next Thursday"
    checked, _ = kept(extraction, segments)
    assert checked.timeline == []


def test_derived_fields_are_not_checked() -> None:
    segments = {0: "The demo is next Thursday at nine."}
    step = NextStep(action="Demo", due="next Thursday", evidence=[ev([0], "The demo is next Thursday")])
    step = step.model_copy(update={"due_resolved": "2026-03-12"})
    checked, ver = kept(Extraction(next_steps=[step]), segments)
    assert checked.next_steps[0].due_resolved == "2026-03-12" and ver.dropped == []


def _gold_meetings() -> list[tuple[dict, dict[int, str]]]:
    out = []
    for path in sorted((EVAL / "gold").glob("*.json")):
        gold = json.loads(path.read_text(encoding="utf-8"))
        transcript = EVAL / f"{gold['meeting_id']}.transcript.json"
        if transcript.exists():
            segs = json.loads(transcript.read_text(encoding="utf-8"))["segments"]
            out.append((gold, {s["id"]: s["text"] for s in segs}))
    return out


def test_gold_segments_are_valid_evidence_and_hold_the_gold_keywords_and_key_values() -> None:
    """The eval meetings' hand-written gold: each item's gold segments, quoted whole, are valid
    evidence; one of its keywords is in them; and the item's text (a paraphrase with its
    amounts and dates), cited with them, passes the key-value rule."""
    meetings = _gold_meetings()
    if not meetings:
        pytest.skip("no eval meetings")
    checked_items = 0
    for gold, segments in meetings:
        anchor = dt.date.fromisoformat(gold["meeting_date"]) if gold.get("meeting_date") else None
        for field_name, items in gold["fields"].items():
            model = LIST_FIELDS["timeline" if field_name == "dates" else field_name]
            for item in items:
                ids = [i for i in item.get("segments", []) if i in segments]
                if not ids:
                    continue
                # people speak as "I" where the claim is made: their keyword is said somewhere
                where = segments.values() if field_name in PERSON_FIELDS else (segments[i] for i in ids)
                joined = normalize(" ".join(where))
                alternatives = [normalize(a) for k in item["keywords"] for a in k.split("|")]
                assert any(a in joined for a in alternatives), (gold["meeting_id"], item["text"])
                evidence = [ev([i], segments[i]) for i in ids[:2]]
                if len(ids) > 2:
                    evidence = [ev(ids, segments[ids[0]])]
                if "name" in model.model_fields:
                    continue  # gold names are keywords, not the names a model writes
                fields = {"text": item["text"]} if "text" in model.model_fields else {"objection": item["text"]}
                if model is NextStep:
                    fields = {"action": item["text"], "due": item.get("due", "")}
                if model is TimelineItem:
                    fields["date"] = item["text"]
                result, ver = kept(Extraction(**{model_field(field_name): [model(**fields, evidence=evidence)]}), segments, anchor)
                assert ver.dropped == [] and ver.evidence_invalid == 0, (gold["meeting_id"], item["text"], ver.dropped)
                checked_items += 1
    assert checked_items >= 20


def model_field(gold_field: str) -> str:
    return "timeline" if gold_field == "dates" else gold_field


def _meeting(meeting_id: str) -> tuple[dict[int, str], dt.date]:
    transcript = EVAL / f"{meeting_id}.transcript.json"
    if not transcript.exists():
        pytest.skip(f"no {meeting_id}")
    segs = json.loads(transcript.read_text(encoding="utf-8"))["segments"]
    hints = json.loads((EVAL / f"{meeting_id}.hints.json").read_text(encoding="utf-8"))
    return {s["id"]: s["text"] for s in segs}, dt.date.fromisoformat(hints["date"])


def _outcome(extraction: Extraction, segments: dict[int, str], anchor: dt.date) -> tuple[Extraction, dict[str, str]]:
    checked, ver = verify_extraction(extraction, segments, anchor)
    return checked, {d.text.split(" / ")[0]: d.reason for d in ver.dropped}


def test_real_english_meeting_with_adversarial_items() -> None:
    segments, anchor = _meeting("en_hvac_field_service")  # 2026-03-06, a Friday
    extraction = Extraction(
        account=Account(name="Brightline Heating and Air", evidence=[ev([1], "general manager at Brightline Heating and Air")]),
        budget=[
            TextItem(text="About $18k for software this year", evidence=[ev([16], "what we've set aside for software this year is about eighteen thousand")]),
            # derived by the model (1,200 x 12), said nowhere as such
            TextItem(text="$14,400 a year", evidence=[ev([15], "twelve hundred dollars a month")]),
        ],
        pricing=[TextItem(text="$1,200 per month for all techs", evidence=[ev([15], "we'd be at twelve hundred dollars a month")])],
        competitors=[
            Competitor(name="ServiceTitan", evidence=[ev([12], "We're also looking at ServiceTitan")]),
            # the seller's own name is in "TitanServe", but "Titan" is not said as a word
            Competitor(name="Titan", evidence=[ev([9], "So with TitanServe the tech closes the job")]),
        ],
        decision_makers=[DecisionMaker(name="Frank Russo", role="co-owner", evidence=[ev([20], "Anything over ten grand, we both sign")])],
        timeline=[
            TimelineItem(text="Live by the end of May", date="end of May", evidence=[ev([22], "So by the end of May, at the latest")]),
            # stitched from far apart, although both segments are cited
            TimelineItem(text="Sign next Thursday", date="next Thursday", evidence=[ev([20, 24], "we both sign ... next Thursday")]),
        ],
        next_steps=[
            NextStep(action="Live demo with a sandbox", owner="Kevin", due="March 12", evidence=[ev([24], "let's do a live demo with your dispatch team next Thursday")]),
            NextStep(action="Send the jobs export", owner="Dave", due="by Friday", evidence=[ev([27], "I can pull that from the calendar and the spreadsheet by Monday")]),
            NextStep(action="Decide on the maintenance module", owner="Maria", evidence=[ev([31], "Thanks both")]),
        ],
        risks=[TextItem(text="Maria is sure about the module", evidence=[ev([31], "Hmm, I'm ... sure about that")])],
    )
    checked, dropped = _outcome(extraction, segments, anchor)
    assert checked.account.name == "Brightline Heating and Air"
    assert [b.text for b in checked.budget] == ["About $18k for software this year"]
    assert dropped["$14,400 a year"] == AMOUNT_NOT_IN_EVIDENCE
    assert len(checked.pricing) == 1 and [c.name for c in checked.competitors] == ["ServiceTitan"]
    assert dropped["Titan"] == NAME_NOT_SAID
    assert [d.name for d in checked.decision_makers] == ["Frank Russo"]
    assert [t.date for t in checked.timeline] == ["end of May"]
    assert dropped["Sign next Thursday"] == NO_EVIDENCE
    # "March 12" is next Thursday; "by Friday" is not what was said (Monday): emptied
    assert [(n.action, n.due) for n in checked.next_steps] == [
        ("Live demo with a sandbox", "March 12"),
        ("Send the jobs export", ""),
    ]
    assert dropped["by Friday"] == VALUE_CLEARED + DATE_NOT_IN_EVIDENCE
    assert dropped["Decide on the maintenance module"] == NO_EVIDENCE  # "Thanks both" is too short
    assert dropped["Maria is sure about the module"] == NO_EVIDENCE  # the ellipsis skips "not"


def test_real_japanese_meeting_with_adversarial_items() -> None:
    segments, anchor = _meeting("ja_attendance_trial")  # 2026-10-14, a Wednesday
    extraction = Extraction(
        account=Account(name="さくら物流", evidence=[ev([1], "さくら物流の伊藤です")]),
        participants=[
            Participant(name="伊藤課長", evidence=[ev([1], "さくら物流の伊藤です。人事部の課長をしております")]),
            Participant(name="加藤", evidence=[ev([2], "加藤です")]),
            Participant(name="中", evidence=[ev([0], "株式会社ワークリンクの中村です")]),  # inside 中村
        ],
        budget=[
            TextItem(text="1人あたり月300円以内", evidence=[ev([17], "1人あたり月300円以内に抑えたい")]),
            TextItem(text="1人あたり月350円まで", evidence=[ev([17], "1人あたり月300円以内に抑えたい")]),
        ],
        pricing=[TextItem(text="年払いで月315円", evidence=[ev([20], "1人あたり月315円になります")])],
        competitors=[
            Competitor(name="KING OF TIME", evidence=[ev([13], "KING OF TIMEとジョブカンの資料ももらっています")]),
            Competitor(name="ジョブ", evidence=[ev([13], "KING OF TIMEとジョブカンの資料ももらっています")]),
        ],
        decision_makers=[DecisionMaker(name="社長", evidence=[ev([23], "最終的には社長の決裁です")])],
        timeline=[
            TimelineItem(text="トライアル開始", date="来年1月", evidence=[ev([25], "来年の1月からトライアルを始めて")]),
            TimelineItem(text="本導入", date="来年4月", evidence=[ev([25], "4月から本導入したいと思っています")]),
            TimelineItem(text="経営会議", date="11月", evidence=[ev([23], "12月の経営会議にかける予定です")]),
        ],
        next_steps=[
            NextStep(action="トライアルアカウント発行", owner="中村", due="明日中", evidence=[ev([32], "トライアル用のアカウントを明日中に発行いたします")]),
            NextStep(action="資料送付", owner="中村", due="来週中", evidence=[ev([33], "費用対効果の資料を今週中にお送りします")]),
        ],
        open_questions=[TextItem(text="有給休暇の管理を対象に含めると決めた", evidence=[ev([37], "そこはまだ決めて")])],
    )
    checked, dropped = _outcome(extraction, segments, anchor)
    assert checked.account.name == "さくら物流"
    assert [p.name for p in checked.participants] == ["伊藤課長", "加藤"]
    assert dropped["中"] == NAME_NOT_SAID
    assert [b.text for b in checked.budget] == ["1人あたり月300円以内"]
    assert dropped["1人あたり月350円まで"] == AMOUNT_NOT_IN_EVIDENCE
    assert len(checked.pricing) == 1
    assert [c.name for c in checked.competitors] == ["KING OF TIME"] and dropped["ジョブ"] == NAME_NOT_SAID
    assert [d.name for d in checked.decision_makers] == ["社長"]
    # 来年1月 = 来年の1月 and 4月 (from October) = April next year, by resolved date; 11月 is not 12月
    assert [t.date for t in checked.timeline] == ["来年1月", "来年4月"]
    assert dropped["経営会議"] == DATE_NOT_IN_EVIDENCE
    assert [(n.action, n.due) for n in checked.next_steps] == [("トライアルアカウント発行", "明日中"), ("資料送付", "")]
    assert dropped["有給休暇の管理を対象に含めると決めた"] == NO_EVIDENCE  # cut before いません


def test_owner_lists_and_companies_said_anywhere() -> None:
    segments = {0: "I'm Maria from Brightline, and Frank co-signs.", 1: "We both review the quote by Tuesday."}
    steps = [
        NextStep(action="Review the quote", owner="Maria and Frank", evidence=[ev([1], "We both review the quote")]),
        NextStep(action="Review the quote", owner="Maria, Frank and Ann", evidence=[ev([1], "We both review the quote")]),
    ]
    people = [
        Participant(name="Maria", company="Brightline Inc.", evidence=[ev([0], "I'm Maria from Brightline")]),
        Participant(name="Frank", company="Brightview", evidence=[ev([0], "and Frank co-signs")]),
    ]
    checked, ver = verify_extraction(Extraction(next_steps=steps, participants=people), segments)
    assert [n.owner for n in checked.next_steps] == ["Maria and Frank", ""]
    assert [p.company for p in checked.participants] == ["Brightline Inc.", ""]
    assert ver.items_dropped == 0 and len(ver.dropped) == 2
