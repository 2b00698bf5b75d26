"""Word-to-speaker assignment and segment grouping on hand-made inputs."""

from __future__ import annotations

from meeting_notes.alignment import assign_speakers, build_transcript, group_segments, smooth_by_sentence
from meeting_notes.schema import AsrResult, AsrSegment, AsrWord, AudioInfo, Diarization, SpeakerTurn, Word
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
