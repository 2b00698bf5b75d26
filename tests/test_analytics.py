"""Conversation analytics on hand-built meetings (expected values computed by hand in the
comments), and talk shares of the pipeline's diarization vs the pyannote sample's reference."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from meeting_notes.analytics import (
    Analytics,
    AnalyticsSettings,
    SpeakerLabel,
    compute_analytics,
    count_questions,
    count_units,
    interruptions,
    longest_monologues,
    merge_turns,
    read_rttm,
    talk_shares,
)
from meeting_notes.schema import AudioInfo, Diarization, Segment, Speaker, SpeakerTurn, Transcript, Word


def T(start: float, end: float, speaker: str) -> SpeakerTurn:
    return SpeakerTurn(start=start, end=end, speaker=speaker)


def seg(i: int, start: float, end: float, speaker: str, text: str) -> Segment:
    words = [Word(start=start, end=end, text=w, speaker=speaker, probability=1.0) for w in text.split()]
    return Segment(id=i, start=start, end=end, speaker=speaker, text=text, words=words)


def transcript(segments: list[Segment], language: str = "en", duration: float = 60.0) -> Transcript:
    spk = sorted({s.speaker for s in segments if s.speaker})
    return Transcript(
        meeting_id="m",
        audio=AudioInfo(path="a.wav", sha256="0", duration=duration),
        language=language,
        speakers=[Speaker(id=s) for s in spk],
        segments=segments,
    )


# A 60 s meeting. A talks 0-10 and 11-20, B cuts in at 19 and talks to 30 (A stops at 20:
# B takes the floor), A says "mm" 29.8-30.3 (0.2 s over B: no interruption), silence,
# B 40-50, A 50-55, silence to 60.
TURNS = [T(0, 10, "A"), T(11, 20, "A"), T(19, 30, "B"), T(29.8, 30.3, "A"), T(40, 50, "B"), T(50, 55, "A")]
EXCLUSIVE = [T(0, 10, "A"), T(11, 19.5, "A"), T(19.5, 30, "B"), T(30, 30.3, "A"), T(40, 50, "B"), T(50, 55, "A")]
SEGMENTS = [
    seg(0, 0, 10, "A", "Hello, thanks for joining. How are you today?"),  # 8 words, 1 question
    seg(1, 11, 19.5, "A", "We sell widgets. Do you need widgets? Great."),  # 8 words, 1 question
    seg(2, 19.5, 30, "B", "Yes we need many widgets - about 500 per month."),  # 9 words ("-" is none)
    seg(3, 40, 50, "B", "What is the price? And delivery?"),  # 6 words, 2 questions
    seg(4, 50, 55, "A", "Ten dollars each."),  # 3 words
]


def _meeting(labels=None) -> Analytics:
    d = Diarization(turns=TURNS, exclusive_turns=EXCLUSIVE, speakers=["A", "B"])
    return compute_analytics(transcript(SEGMENTS), d, labels=labels)


def test_speaker_figures_by_hand():
    a = _meeting()
    A, B = a.speakers
    assert (A.speaker, B.speaker) == ("A", "B")
    # talk: A 10 + 9 + 0.5 + 5 = 24.5, B 11 + 10 = 21 -> shares 24.5/45.5, 21/45.5
    assert A.talk_seconds == pytest.approx(24.5)
    assert B.talk_seconds == pytest.approx(21.0)
    assert A.talk_share == pytest.approx(0.538, abs=1e-3)
    assert B.talk_share == pytest.approx(0.462, abs=1e-3)
    # speech = 0-10, 11-30.3, 40-55 = 44.3; silence 15.7 of 60; overlap 19-20 and 29.8-30 = 1.2
    assert a.speech_seconds == pytest.approx(44.3)
    assert a.silence_seconds == pytest.approx(15.7)
    assert a.silence_share == pytest.approx(15.7 / 60, abs=1e-3)
    assert a.overlap_seconds == pytest.approx(1.2)
    assert a.overlap_share == pytest.approx(1.2 / 44.3, abs=1e-3)
    assert A.overlap_seconds == pytest.approx(1.2) and B.overlap_seconds == pytest.approx(1.2)
    # turns (exclusive pieces joined across pauses <= 1.5 s): A 0-19.5, 30-30.3, 50-55; B 19.5-30, 40-50
    assert (A.turns, B.turns) == (3, 2)
    # monologues: A 0-19.5 (19.5 s), B 19.5-30 (10.5 s; A's 0.3 s "mm" does not count, but the
    # 9.7 s silence after it ends it)
    assert (A.longest_monologue_seconds, A.longest_monologue_start) == (pytest.approx(19.5), 0.0)
    assert (B.longest_monologue_seconds, B.longest_monologue_start) == (pytest.approx(10.5), pytest.approx(19.5))
    # words and rate: A 19 words over 24.5 s, B 15 over 21 s
    assert (A.words, B.words) == (19, 15)
    assert a.rate_unit == "words"
    assert A.rate_per_minute == pytest.approx(19 / 24.5 * 60, abs=1e-3)
    assert B.rate_per_minute == pytest.approx(15 / 21 * 60, abs=1e-3)
    assert (A.questions, B.questions) == (2, 2)
    # B took the floor from A once; A's "mm" overlapped B only 0.2 s (< 0.5 s)
    assert (B.interruptions_made, A.interrupted) == (1, 1)
    assert (A.interruptions_made, B.interrupted) == (0, 0)
    # no labels: one unknown side, no ratio
    assert [s.side for s in a.sides] == ["unknown"]
    assert a.sides[0].talk_seconds == pytest.approx(44.3)  # union of both speakers
    assert a.sides[0].overlap_seconds == 0.0  # no other side to overlap with
    assert a.seller_customer_talk_ratio is None and a.seller_talk_share is None


def test_sides_and_ratio():
    a = _meeting({"A": SpeakerLabel(name="Ann", side="seller"), "B": SpeakerLabel(name="Bob", side="customer")})
    assert [(s.name, s.side) for s in a.speakers] == [("Ann", "seller"), ("Bob", "customer")]
    seller, customer = a.sides
    assert (seller.side, customer.side) == ("seller", "customer")
    assert seller.talk_seconds == pytest.approx(24.5) and customer.talk_seconds == pytest.approx(21.0)
    assert a.seller_customer_talk_ratio == pytest.approx(24.5 / 21, abs=1e-3)
    assert a.seller_talk_share == pytest.approx(24.5 / 45.5, abs=1e-3)
    assert seller.overlap_seconds == pytest.approx(1.2)
    assert (customer.interruptions_made, seller.interrupted) == (1, 1)
    assert (seller.questions, customer.questions) == (2, 2)
    assert seller.longest_monologue_seconds == pytest.approx(19.5)
    # serialises and reads back
    again = Analytics.model_validate(json.loads(a.model_dump_json()))
    assert again == a


def test_same_side_overlap_is_not_side_overlap():
    # sellers A (0-5) and C (3-8) talk over each other; customer B 10-12; duration 20
    turns = [T(0, 5, "A"), T(3, 8, "C"), T(10, 12, "B")]
    excl = [T(0, 3, "A"), T(3, 8, "C"), T(10, 12, "B")]
    d = Diarization(turns=turns, exclusive_turns=excl, speakers=["A", "B", "C"])
    labels = {"A": SpeakerLabel(side="seller"), "C": SpeakerLabel(side="seller"), "B": SpeakerLabel(side="customer")}
    a = compute_analytics(transcript([], duration=20.0), d, labels=labels)
    by = {s.speaker: s for s in a.speakers}
    assert by["A"].overlap_seconds == pytest.approx(2.0) and by["C"].overlap_seconds == pytest.approx(2.0)
    assert a.overlap_seconds == pytest.approx(2.0)
    seller = next(s for s in a.sides if s.side == "seller")
    assert seller.talk_seconds == pytest.approx(8.0)  # union 0-8
    assert seller.overlap_seconds == 0.0
    assert sorted(seller.speakers) == ["A", "C"]
    # C took the floor from A (overlap 2 s, ends after A): a speaker interruption, not a side one
    assert by["C"].interruptions_made == 1 and seller.interruptions_made == 0
    assert a.seller_customer_talk_ratio == pytest.approx(8 / 2)
    assert a.speech_seconds == pytest.approx(10.0) and a.silence_share == pytest.approx(0.5)
    assert by["B"].rate_per_minute == 0.0  # talked, said no transcribed word


def test_japanese_characters_and_questions():
    segs = [
        seg(0, 0, 6, "S", "ご予算はどのくらいでしょうか。導入時期はいつですか？そうですね。"),
        seg(1, 6, 9, "C", "来週はいかがですか"),
        seg(2, 9, 12, "C", "月500件です。"),
    ]
    d = Diarization(
        turns=[T(0, 6, "S"), T(6, 12, "C")], exclusive_turns=[T(0, 6, "S"), T(6, 12, "C")], speakers=["S", "C"]
    )
    a = compute_analytics(transcript(segs, language="ja", duration=12.0), d)
    by = {s.speaker: s for s in a.speakers}
    assert a.rate_unit == "characters"
    # ご予算はどのくらいでしょうか (14) 導入時期はいつですか (10) そうですね (5) = 29 characters
    assert by["S"].words == 29
    # 来週はいかがですか (9) + 月500件です (7) = 16
    assert by["C"].words == 16
    assert by["S"].rate_per_minute == pytest.approx(29 / 6 * 60)
    assert (by["S"].questions, by["C"].questions) == (2, 1)


def test_question_and_unit_rules():
    assert count_questions("Is it ready? Yes. Why not?") == 2
    assert count_questions("I asked what? no.") == 1
    assert count_questions("何か質問はありますか、それとも後で") == 0  # か before 、 is not sentence-final
    assert count_questions("よろしいでしょうか」") == 1
    assert count_questions("") == 0
    assert count_units("Hello - world, 42!", characters=False) == 3
    assert count_units("こんにちは、佐藤です。", characters=True) == 9


def test_turn_helpers():
    assert merge_turns([T(0, 1, "A"), T(2, 3, "A"), T(5, 6, "A")], 1.5) == [T(0, 3, "A"), T(5, 6, "A")]
    # A 0-10, B "mm" 10-10.5, A 10.5-20: one 20 s monologue; B's 0.5 s counts as B's longest
    mono = longest_monologues([T(0, 10, "A"), T(10, 10.5, "B"), T(10.5, 20, "A")], 1.5, 1.0)
    assert mono == {"A": (20.0, 0.0), "B": (0.5, 10.0)}
    # simultaneous start is nobody's interruption; one that ends before the other is not a takeover
    assert interruptions([T(0, 5, "A"), T(0, 6, "B")], 0.5) == []
    assert interruptions([T(0, 10, "A"), T(3, 6, "B")], 0.5) == []
    assert interruptions([T(0, 10, "A"), T(9, 12, "B")], 0.5) == [("B", "A", 9.0)]
    settings = AnalyticsSettings(interruption_min_overlap_s=2.0)
    assert interruptions([T(0, 10, "A"), T(9, 12, "B")], settings.interruption_min_overlap_s) == []


def test_empty_meeting():
    a = compute_analytics(transcript([], duration=30.0), Diarization(turns=[], exclusive_turns=[], speakers=[]))
    assert a.speakers == [] and a.sides == []
    assert a.speech_seconds == 0.0 and a.silence_share == 1.0 and a.overlap_share == 0.0


def test_rttm_talk_shares(data_dir: Path):
    turns = read_rttm((data_dir / "sample.rttm").read_text())
    shares = talk_shares(turns)
    assert len(shares) == 2 and sum(shares.values()) == pytest.approx(1.0)
    line = (data_dir / "sample.rttm").read_text().splitlines()[0].split()
    assert turns[0] == T(float(line[3]), float(line[3]) + float(line[4]), line[7])


def _matched_share_error(ref: dict[str, float], hyp: dict[str, float], overlap: dict[tuple[str, str], float]) -> float:
    """Largest talk-share difference (points) after mapping hypothesis speakers to reference
    speakers by most shared time (Hungarian); an unmatched speaker is compared with 0."""
    from scipy.optimize import linear_sum_assignment

    r, h = sorted(ref), sorted(hyp)
    cost = [[-overlap.get((a, b), 0.0) for b in h] for a in r]
    rows, cols = linear_sum_assignment(cost)
    pairs = {r[i]: h[j] for i, j in zip(rows, cols)}
    errs = [abs(ref[a] - hyp.get(pairs.get(a, ""), 0.0)) for a in r]
    errs += [hyp[b] for b in h if b not in pairs.values()]
    return 100 * max(errs)


def shared_time(ref: list[SpeakerTurn], hyp: list[SpeakerTurn]) -> dict[tuple[str, str], float]:
    out: dict[tuple[str, str], float] = {}
    for a in ref:  # small inputs: quadratic is fine here
        for b in hyp:
            d = min(a.end, b.end) - max(a.start, b.start)
            if d > 0:
                out[(a.speaker, b.speaker)] = out.get((a.speaker, b.speaker), 0.0) + d
    return out
