"""Mechanisms of the notes passes that hold for families of phrasings, not one meeting's words:
a dictionary's common nouns are not product names, a commitment restated in the recap is one
step, a line about the past is not a commitment, longer Japanese introductions name the
company, and the side that hosts the meeting is the seller."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

from fake_openai_server import FakeOpenAIServer, Reply, chat_reply
from test_notes_passes import _schema, make_transcript, run_notes, server  # noqa: F401 (fixture)

from meeting_notes.introductions import introductions_in
from meeting_notes.notes import prefilter
from meeting_notes.notes.lexicon import common_katakana, is_common_katakana
from meeting_notes.notes.passes import PassRun
from meeting_notes.notes.passes.next_steps import _past, _subject, merge_repeated, step_candidates
from meeting_notes.notes.schema import Evidence, NextStep


def test_the_dictionary_list_holds_common_katakana_nouns_and_not_product_names() -> None:
    assert len(common_katakana()) > 10_000
    for word in ("エリア", "ポンプ", "キャンペーン", "ベアリング", "スマートフォン", "バックアップ"):
        assert is_common_katakana(word), word
    for name in ("ジョブカン", "スマレジ", "テルネクスト", "ロウムメイト", "サイボウズ", "ケアダイアリー"):
        assert not is_common_katakana(name), name


def test_common_katakana_nouns_are_not_competitor_candidates() -> None:
    texts = {
        0: "エリアごとにポンプとタンクの振動を見ていて、アラームのタイミングも調整したいです。",
        1: "ロウムメイトさんとも比較していて、キャンペーンの案内ももらいました。",
    }
    names = prefilter.candidate_names(texts, [0, 1])
    assert "ロウムメイト" in names
    assert not {"エリア", "ポンプ", "タンク", "アラーム", "タイミング", "キャンペーン"} & set(names)


def _step(action: str, owner: str = "", resolved: str = "", seg: int = 0) -> NextStep:
    return NextStep(action=action, owner=owner, due_resolved=resolved, evidence=[Evidence(segment_ids=[seg], quote=action)])


def test_a_commitment_restated_in_the_recap_is_one_step_with_both_quotes() -> None:
    names = ["Theo Vance", "Jordan Whitlock"]
    said = _step("I'll add you both as analysts by tomorrow.", "Theo Vance", "2027-01-13", 10)
    recap_text = "Theo gives Sam and me read-only access to the ads accounts by tomorrow."
    recap = _step(recap_text, _subject(recap_text, names), "2027-01-13", 90)
    other = _step("I'll send the proposal by tomorrow.", "Jordan Whitlock", "2027-01-13", 12)
    steps = merge_repeated([(s, s.due_resolved, s.owner) for s in (said, other, recap)])
    assert [s.action for s in steps] == [f"{said.action} / {recap_text}", other.action]  # both wordings
    assert steps[0].owner == "Theo Vance"
    assert [e.segment_ids for e in steps[0].evidence] == [[10], [90]]


def test_steps_are_merged_only_on_the_same_date_and_the_same_person() -> None:
    a = _step("I'll send the quote.", "", "", 1)
    b = _step("I'll send the security questionnaire.", "", "", 2)
    # no date: nothing but the words ties them, so both stay
    assert len(merge_repeated([(a, "", "#SPEAKER_00"), (b, "", "#SPEAKER_00")])) == 2
    c = _step("I'll send the quote by Friday.", "", "2026-05-15", 3)
    d = _step("We'll get you the user list by Friday.", "", "2026-05-15", 4)
    # the same date said by two different (unnamed) speakers: two steps
    assert len(merge_repeated([(c, "2026-05-15", "#SPEAKER_00"), (d, "2026-05-15", "#SPEAKER_01")])) == 2
    # the same speaker, the same date: one step; a wording already inside the first adds nothing
    again = _step("The quote by Friday.", "", "2026-05-15", 9)
    merged = merge_repeated([(c, "2026-05-15", "#SPEAKER_00"), (again, "2026-05-15", "#SPEAKER_00")])
    assert [s.action for s in merged] == [c.action] and len(merged[0].evidence) == 2


def test_the_one_a_line_names_as_acting_owns_it_not_the_one_it_addresses() -> None:
    names = ["Theo Vance", "Janine Ortiz", "Dave", "工藤"]
    assert _subject("So Theo will send the export on Monday.", names) == "Theo Vance"
    assert _subject("Dave, could you send the export?", names) == ""
    assert _subject("Janine what I'd suggest as next steps is a sandbox.", names) == ""
    assert _subject("工藤様から、設備リストを来週の月曜までにいただきます。", names) == "工藤"
    assert _subject("私から、見積もりをお送りします。", names) == ""


def test_a_line_about_what_happened_is_not_a_commitment() -> None:
    assert _past("We found a pallet of brackets that the system says shipped in June.", False)
    assert _past("I sent them the contract last month.", False)
    assert not _past("We'll send the contract next week.", False)
    assert not _past("I'll check what we found.", False)
    assert _past("今日は技術の吉村と二人で伺いました。", True)
    assert _past("値上げの通知は、もう少し早くいただけるとありがたかったです。", True)
    assert not _past("見積もりは来週お送りします。", True)
    run = PassRun(
        client=None, prompts=None, shared_user="", language="en",  # type: ignore[arg-type]
        texts={0: "We found a pallet of brackets that shipped to the wrong plant.", 1: "I'll send you the spec sheet."},
        anchor=None, anchor_guessed=False, max_tokens=0,
    )
    cands, _ = step_candidates(run)
    assert [c.sentence for c in cands] == ["I'll send you the spec sheet."]


def test_longer_japanese_introductions_name_the_company_not_the_role() -> None:
    cases = {
        "株式会社クラウディアで営業を担当しております、田村でございます。": ("田村", "株式会社クラウディア"),
        "同じくクラウディアで導入コンサルタントをしております、西田と申します。": ("西田", "クラウディア"),
        "北陸製紙富山工場、保全課長の佐野です。": ("佐野", "北陸製紙富山工場"),
        "丸山建設の西村です。": ("西村", "丸山建設"),
    }
    for text, (name, company) in cases.items():
        found = introductions_in(text, "ja")
        assert [(n, c) for n, c, _, _ in found] == [(name, company)], text
    found = introductions_in("みどり薬局の人事部長をしております、河合です。", "ja", ["河合"])
    assert [(n, c) for n, c, _, _ in found] == [("河合", "みどり薬局")]


def test_the_company_of_the_side_that_hosts_the_meeting_is_the_seller_not_the_account(server: FakeOpenAIServer, tmp_path: Any) -> None:  # noqa: F811
    lines = [
        ("SPEAKER_00", "お世話になっております。コールフローの長谷川です。本日はお時間をいただきありがとうございます。"),
        ("SPEAKER_01", "ひなた通販の坂本です。総務課長をしております。"),
        ("SPEAKER_00", "7月末でご契約が満了となりますので、更新のご案内です。"),
        ("SPEAKER_01", "うちの上限は年間で三百八十万円です。値上げは厳しいですね。"),
        ("SPEAKER_00", "承知しました。正式なお見積もりを来週の月曜までにお送りいたします。"),
    ]

    def responder(request: dict[str, Any]) -> Reply:
        schema = _schema(request)
        if "people" in schema["properties"]:  # the model names the seller as the account
            people = [
                {"name": "長谷川", "company": "コールフロー", "role": "", "side": "customer", "speaker": "SPEAKER_00", "seg": 0},
                {"name": "坂本", "company": "", "role": "", "side": "unknown", "speaker": "SPEAKER_01", "seg": 1},
            ]
            answer = {"sales": True, "seller_company": "", "account": "コールフロー", "people": people, "deciders": []}
            return chat_reply(json.dumps(answer))
        if "competitors" in schema["properties"]:
            return chat_reply(json.dumps({"competitors": []}))
        if "summary" in schema["properties"]:
            return chat_reply(json.dumps({"title": "更新", "summary": "契約更新の商談。"}))
        return chat_reply(json.dumps({k: v["enum"][0] for k, v in schema["properties"].items()}))

    server.responder = responder
    notes = run_notes(server, tmp_path, transcript=make_transcript(lines, "ja")).notes
    assert notes.account.name == "ひなた通販"
    sides = {p.name: p.side for p in notes.participants}
    assert sides["長谷川"] == "seller"


def _timeline(lines: list[str], date: str = "2027-01-12") -> list[str]:
    import datetime as dt

    from meeting_notes.notes.passes import dates_pass

    run = PassRun(
        client=None, prompts=None, shared_user="", language="en",  # type: ignore[arg-type]
        texts=dict(enumerate(lines)), anchor=dt.date.fromisoformat(date), anchor_guessed=False, max_tokens=0,
    )
    return [t.date for t in dates_pass(run)]


def test_a_season_naming_a_thing_and_the_vague_dates_of_what_happened_are_not_on_the_timeline() -> None:
    said = _timeline([
        "Bex sends the spring line sheet and the launch calendar by Thursday.",  # a line sheet, not a season
        "It's the biggest launch we've had in three years.",  # what happened
        "Some girl in Ohio reviewed it and it sold out in a day.",
        "We found a pallet of brackets that the system says shipped in June.",
        "We want to go live in the spring, before the summer rush.",  # plans
        "We'll decide in two weeks.",
    ])
    assert said == ["Thursday", "the spring", "the summer", "in two weeks"]  # "the summer rush" is a time


def test_products_whose_materials_or_proposal_the_customer_got_are_competitors_by_rule() -> None:
    from meeting_notes.notes.passes.competitors import _rival_said

    texts = {0: "他社さんのサービスも比較していまして、KING OF TIMEとジョブカンの資料ももらっています。"}
    assert _rival_said("ジョブカン", texts, True) is not None
    assert _rival_said("KING OF TIME", texts, True) is not None
    assert _rival_said("Docebo", {0: "We got a brochure from Docebo last week."}, False) is not None
    assert _rival_said("ジョブカン", {0: "ジョブカンとはCSVで連携しています。"}, True) is None


def test_a_participant_named_acting_on_a_date_is_a_step_by_rule() -> None:
    run = PassRun(
        client=None, prompts=None, shared_user="", language="en",  # type: ignore[arg-type]
        texts={0: "Let me recap.", 1: "Bex sends the spring line sheet by Thursday.", 2: "Colleen presents to Annika next Tuesday.",
               3: "Bex likes the spring colours."},
        anchor=dt.date(2027, 1, 12), anchor_guessed=False, max_tokens=0,
    )
    cands, _ = step_candidates(run, ["Bex", "Colleen Rourke", "Jordan Whitlock"])
    assert [(c.seg, c.rule) for c in cands if c.seg in (1, 2, 3)] == [(1, "step"), (2, "step")]
    plain, _ = step_candidates(run)  # without the participants: no rule (the model decides)
    assert all(c.rule == "" for c in plain)


def test_what_the_seller_calls_their_own_is_never_a_competitor_candidate() -> None:
    from meeting_notes.notes.passes.competitors import _sellers_own
    from meeting_notes.notes.passes.people import PeopleResult
    from meeting_notes.notes.schema import Account, Participant

    run = PassRun(
        client=None, prompts=None, shared_user="", language="ja",  # type: ignore[arg-type]
        texts={0: "弊社のゲンバノートですと、写真は自動で整理されます。", 1: "弊社のキントーンで日報を管理しています。", 2: "ANDPADさんと比較検討中です。"},
        anchor=None, anchor_guessed=False, max_tokens=0, speakers={0: "SPEAKER_00", 1: "SPEAKER_01", 2: "SPEAKER_01"},
    )
    people = PeopleResult(
        True, "ゲンバテック", Account(name="丸山建設"),
        [Participant(name="森", side="seller"), Participant(name="西村", side="customer")], [],
        {"SPEAKER_00": "森", "SPEAKER_01": "西村"},
    )
    assert _sellers_own(run, people) == {"ゲンバノート"}  # the customer's own system is not the seller's
