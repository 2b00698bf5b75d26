"""Word-to-speaker assignment and segment grouping on hand-made inputs."""

from __future__ import annotations

from meeting_notes.alignment import (
    active_speakers,
    assign_speakers,
    build_transcript,
    group_segments,
    resolve_overlap,
    smooth_by_sentence,
)
from meeting_notes.schema import (
    AsrResult,
    AsrSegment,
    AsrWord,
    AudioInfo,
    Diarization,
    Segment,
    SpeakerTurn,
    Transcript,
    Word,
)
from meeting_notes.settings import AlignmentSettings


def w(start: float, end: float, text: str) -> AsrWord:
    return AsrWord(start=start, end=end, text=text, probability=0.9)


TURNS = [
    SpeakerTurn(start=0.0, end=2.0, speaker="A"),
    SpeakerTurn(start=2.0, end=5.0, speaker="B"),
    SpeakerTurn(start=8.0, end=9.0, speaker="A"),
]


def test_word_goes_to_turn_it_overlaps_most() -> None:
    words = [w(0.2, 0.6, " hi"), w(1.7, 2.6, " there"), w(1.5, 2.2, " you")]
    assert assign_speakers(words, TURNS) == ["A", "B", "A"]


def test_word_outside_turns_goes_to_nearest() -> None:
    words = [w(5.5, 5.9, " late"), w(7.0, 7.6, " early"), w(12.0, 12.5, " end")]
    assert assign_speakers(words, TURNS) == ["B", "A", "A"]


def test_no_turns_leaves_words_unassigned() -> None:
    assert assign_speakers([w(0, 1, " x")], []) == [None]


def test_sentence_smoothing_moves_drifted_words() -> None:
    words = [w(0.0, 0.5, " This"), w(0.5, 1.0, " is"), w(1.0, 1.5, " Diane."), w(1.6, 1.9, " And"), w(1.9, 2.2, " I'm"),
             w(2.3, 3.0, " Sheila"), w(3.0, 3.5, " from"), w(3.5, 4.5, " Texas.")]
    raw = ["A", "A", "A", "A", "A", "B", "B", "B"]
    assert smooth_by_sentence(words, raw, 0.6, 1.0, 1.0) == ["A", "A", "A", "B", "B", "B", "B", "B"]
    # disabled
    assert smooth_by_sentence(words, raw, 1.1, 1.0, 1.0) == raw


def test_sentence_smoothing_keeps_a_real_turn_inside_a_run_on_sentence() -> None:
    # "This is Diane in New Jersey, and I'm Sheila in Texas." as one sentence over a turn change:
    # A's 1.9 s clause is a turn, not drift, even though B holds 67 % of the sentence's word time.
    words = [w(12.7, 13.0, " This"), w(13.0, 13.3, " is"), w(13.3, 13.6, " Diane"), w(13.6, 14.1, " Jersey,"),
             w(14.5, 14.6, " and"), w(14.6, 15.0, " I'm"), w(15.0, 15.9, " Sheila"), w(15.9, 16.9, " in"),
             w(16.9, 17.7, " Texas.")]
    raw = ["A", "A", "A", "A", "A", "B", "B", "B", "B"]
    assert smooth_by_sentence(words, raw, 0.6, 1.0, 1.0) == raw
    # a short stray run (one drifted 0.4 s word) in a sentence B holds still moves
    raw2 = ["B", "B", "B", "B", "B", "A", "B", "B", "B"]
    assert smooth_by_sentence(words, raw2, 0.6, 1.0, 1.0) == ["B"] * 9
    # without the bound the whole sentence goes to B (the old behaviour)
    assert smooth_by_sentence(words, raw, 0.6, 1.0, float("inf")) == ["B"] * 9


def test_grouping_splits_on_speaker_pause_and_long_sentences() -> None:
    cfg = AlignmentSettings(max_pause_s=1.0, min_segment_s_for_sentence_split=2.0)
    words = [
        Word(start=0.0, end=0.5, text=" Hello", speaker="A", probability=1),
        Word(start=0.5, end=2.5, text=" there.", speaker="A", probability=1),
        Word(start=2.6, end=3.0, text=" Next", speaker="A", probability=1),
        Word(start=3.0, end=3.5, text=" one", speaker="B", probability=1),
        Word(start=5.0, end=5.5, text=" later", speaker="B", probability=1),
    ]
    segs = group_segments(words, cfg)
    assert [(s.speaker, s.text) for s in segs] == [("A", "Hello there."), ("A", "Next"), ("B", "one"), ("B", "later")]
    assert [s.id for s in segs] == [0, 1, 2, 3]
    assert all(word.text == word.text.strip() for s in segs for word in s.words)


def test_build_transcript_gives_every_word_a_speaker() -> None:
    asr = AsrResult(language="en", duration=10, segments=[AsrSegment(start=0, end=12.5, text="", words=[
        w(0.2, 0.6, " hi"), w(2.5, 3.0, " yes"), w(12.0, 12.5, " bye")])])
    dia = Diarization(turns=TURNS, exclusive_turns=TURNS, speakers=["A", "B"])
    audio = AudioInfo(path="/x.wav", sha256="0" * 64, duration=13.0)
    t = build_transcript("m", audio, asr, dia, AlignmentSettings())
    assert all(word.speaker in {"A", "B"} for word in t.words)
    assert [s.id for s in t.speakers] == ["A", "B"]
    assert t.speakers[0].speech_seconds == 3.0


def test_transcript_without_turns_uses_one_speaker() -> None:
    asr = AsrResult(language="en", duration=2, segments=[AsrSegment(start=0, end=1, text="", words=[w(0, 1, " solo")])])
    t = build_transcript("m", AudioInfo(path="/x", sha256="0" * 64, duration=2), asr,
                         Diarization(turns=[], exclusive_turns=[], speakers=[]), AlignmentSettings())
    assert [s.id for s in t.speakers] == ["SPEAKER_00"] and t.words[0].speaker == "SPEAKER_00"


# ------------------------------------------------------------------ overlap
# A speaks 0-5 s, B 3.5-8 s (regular turns overlap at 3.5-5); the exclusive turns give the
# overlap to B, as pyannote does when B's activation is the stronger one there.
OVERLAPPING = [SpeakerTurn(start=0.0, end=5.0, speaker="A"), SpeakerTurn(start=3.5, end=8.0, speaker="B")]
EXCLUSIVE = [SpeakerTurn(start=0.0, end=3.5, speaker="A"), SpeakerTurn(start=3.5, end=8.0, speaker="B")]
A_SENTENCE = [w(0.5, 0.8, " I"), w(1.0, 1.4, " grew"), w(1.5, 1.8, " up"), w(2.0, 2.2, " in"),
              w(2.3, 3.0, " Chicago"), w(3.6, 3.9, " and"), w(4.0, 4.6, " Texas.")]
B_SENTENCE = [w(4.7, 4.95, " Yes"), w(5.2, 5.4, " I"), w(5.6, 6.0, " see.")]


def test_words_during_overlap_are_flagged() -> None:
    words = A_SENTENCE + B_SENTENCE
    active = active_speakers(words, OVERLAPPING, 0.3)
    assert [len(a) >= 2 for a in active] == [False] * 5 + [True, True, True, False, False]
    # a speaker covering less than the share does not make it overlap: B covers 0.1 s of 0.4 s
    assert active_speakers([w(3.4, 3.8, " x")], [OVERLAPPING[0], SpeakerTurn(start=3.7, end=6, speaker="B")], 0.3) == [["A"]]
    assert active_speakers([w(3.4, 3.8, " x")], [OVERLAPPING[0], SpeakerTurn(start=3.7, end=6, speaker="B")], 0.2) == [["A", "B"]]


def test_overlapped_word_goes_to_the_speaker_of_its_sentence() -> None:
    words = A_SENTENCE + B_SENTENCE
    raw = assign_speakers(words, EXCLUSIVE)
    assert raw == ["A"] * 5 + ["B"] * 5  # the exclusive turns give "and Texas." to B
    resolved = resolve_overlap(words, raw, active_speakers(words, OVERLAPPING, 0.3), 1.0)
    assert resolved == ["A"] * 7 + ["B"] * 3


def test_overlapped_sentence_without_evidence_takes_nearest_active_neighbour() -> None:
    # "Hello?" said entirely in overlap: no clear word in its sentence; its nearest clear word
    # (0.2 s after it) is B's, the one before is 0.8 s away.
    words = [w(0.0, 0.5, " Hi."), w(1.3, 1.7, " Hello?"), w(1.9, 2.3, " Good"), w(2.3, 2.8, " morning.")]
    turns = [SpeakerTurn(start=0.0, end=1.8, speaker="A"), SpeakerTurn(start=1.2, end=3.0, speaker="B")]
    active = active_speakers(words, turns, 0.3)
    assert active[1] == ["A", "B"] or active[1] == ["B", "A"]
    assert resolve_overlap(words, ["A", "A", "B", "B"], active, 1.0) == ["A", "B", "B", "B"]
    # a neighbour whose speaker is not active there is no evidence: the label stays
    assert resolve_overlap(words, ["A", "A", "C", "C"], active, 1.0) == ["A", "A", "C", "C"]


def test_transcript_flags_overlap_and_resolution_can_be_switched_off() -> None:
    asr = AsrResult(language="en", duration=8, segments=[AsrSegment(start=0, end=6, text="", words=A_SENTENCE + B_SENTENCE)])
    dia = Diarization(turns=OVERLAPPING, exclusive_turns=EXCLUSIVE, speakers=["A", "B"])
    audio = AudioInfo(path="/x.wav", sha256="0" * 64, duration=8.0)
    cfg = AlignmentSettings(sentence_majority=1.1)  # sentence smoothing off: overlap resolution alone
    t = build_transcript("m", audio, asr, dia, cfg)
    assert [(s.speaker, s.text) for s in t.segments] == [("A", "I grew up in Chicago and Texas."), ("B", "Yes I see.")]
    assert [wd.overlap for wd in t.words] == [False] * 5 + [True, True, True, False, False]
    a_seg, b_seg = t.segments
    assert a_seg.overlap == round((0.3 + 0.6) / (0.3 + 0.4 + 0.3 + 0.2 + 0.7 + 0.3 + 0.6), 3)
    assert 0 < b_seg.overlap < 1
    old = build_transcript("m", audio, asr, dia, cfg.model_copy(update={"overlap_resolution": False}))
    assert [wd.speaker for wd in old.words] == ["A"] * 5 + ["B"] * 5
    assert [wd.overlap for wd in old.words] == [wd.overlap for wd in t.words]  # flags do not depend on it
    # a transcript.json written before these fields existed still reads
    legacy = t.model_dump(mode="json")
    for seg in legacy["segments"]:
        seg.pop("overlap")
        for word in seg["words"]:
            word.pop("overlap")
    again = Transcript.model_validate(legacy)
    assert not any(wd.overlap for wd in again.words) and again.segments[0].overlap == 0.0


def test_markdown_marks_mostly_overlapped_paragraphs() -> None:
    from meeting_notes.export import to_markdown

    audio = AudioInfo(path="/x.wav", sha256="0" * 64, duration=8.0)
    word = Word(start=0, end=1, text="Yes", speaker="A", probability=1)
    segs = [Segment(id=0, start=0, end=1, speaker="A", text="Yes", words=[word], overlap=0.6),
            Segment(id=1, start=2, end=3, speaker="B", text="No", words=[word], overlap=0.1)]
    md = to_markdown(Transcript(meeting_id="m", audio=audio, language="en", speakers=[], segments=segs))
    assert "**A** [0:00:00, overlapping speech]: Yes" in md
    assert "**B** [0:00:02]: No" in md
