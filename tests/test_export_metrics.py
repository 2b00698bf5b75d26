"""Exports parse back; metrics agree with hand-computed values."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from meeting_notes.export import to_markdown, to_srt, to_vtt, write_rttm
from meeting_notes.metrics import cer_japanese, cpcer_japanese, cpwer, diarization_error_rate, read_rttm, read_stm, wer
from meeting_notes.schema import AudioInfo, Segment, Speaker, SpeakerTurn, Transcript, Word


def _transcript(language: str = "en") -> Transcript:
    words = [Word(start=0.5 + i, end=1.2 + i, text=f"word{i}", speaker="SPEAKER_00" if i < 12 else "SPEAKER_01", probability=1) for i in range(16)]
    segs = [
        Segment(id=0, start=0.5, end=12.2, speaker="SPEAKER_00", text=" ".join(x.text for x in words[:12]), words=words[:12]),
        Segment(id=1, start=12.5, end=16.2, speaker="SPEAKER_01", text=" ".join(x.text for x in words[12:]), words=words[12:]),
    ]
    return Transcript(meeting_id="m", audio=AudioInfo(path="/a/m.wav", sha256="0" * 64, duration=17), language=language,
                      speakers=[Speaker(id="SPEAKER_00"), Speaker(id="SPEAKER_01")], segments=segs)


SRT_CUE = re.compile(r"^(\d+)\n(\d\d:\d\d:\d\d,\d{3}) --> (\d\d:\d\d:\d\d,\d{3})\n(Speaker \d): (.+)$")


def _secs(ts: str) -> float:
    h, m, s = ts.replace(",", ".").split(":")
    return int(h) * 3600 + int(m) * 60 + float(s)


def test_srt_parses_and_cues_are_short_and_ordered() -> None:
    blocks = to_srt(_transcript()).strip().split("\n\n")
    cues = [SRT_CUE.match(b) for b in blocks]
    assert all(cues), blocks
    assert [int(c.group(1)) for c in cues] == list(range(1, len(cues) + 1))
    starts = [_secs(c.group(2)) for c in cues]
    assert starts == sorted(starts)
    assert all(_secs(c.group(3)) - _secs(c.group(2)) <= 7.0 for c in cues)
    assert len(cues) >= 3  # the 12-second segment was cut
    assert " ".join(c.group(5) for c in cues).split() == [f"word{i}" for i in range(16)]


def test_vtt_has_header_and_voice_tags() -> None:
    text = to_vtt(_transcript())
    assert text.startswith("WEBVTT\n\n")
    cues = re.findall(r"(\d\d:\d\d:\d\d\.\d{3}) --> (\d\d:\d\d:\d\d\.\d{3})\n<v (Speaker \d)>\3: (.+)", text)
    assert len(cues) == text.count("-->")
    assert {c[2] for c in cues} == {"Speaker 1", "Speaker 2"}  # unnamed speakers, by position


def test_japanese_cues_are_not_spaced() -> None:
    t = _transcript("ja")
    assert "word0word1" in to_srt(t)


def test_markdown_lists_speakers_and_segments() -> None:
    md = to_markdown(_transcript())
    assert md.startswith("# Transcript: m") and md.count("**Speaker 1**") == 1 and md.count("**Speaker 2**") == 1


def test_rttm_round_trip(tmp_path: Path) -> None:
    turns = [SpeakerTurn(start=0.5, end=2.25, speaker="SPEAKER_00"), SpeakerTurn(start=2.0, end=4.0, speaker="SPEAKER_01")]
    write_rttm(turns, "my meeting", tmp_path / "x.rttm")
    assert read_rttm(tmp_path / "x.rttm") == turns
    assert tmp_path.joinpath("x.rttm").read_text().split()[1] == "my_meeting"


def test_der_of_reference_against_itself_is_zero(data_dir: Path) -> None:
    ref = read_rttm(data_dir / "sample.rttm")
    assert diarization_error_rate(ref, ref).der == 0.0
    shifted = [t.model_copy(update={"speaker": "X" if t.speaker == "speaker90" else "Y"}) for t in ref]
    assert diarization_error_rate(ref, shifted).der == 0.0  # labels are matched optimally
    assert diarization_error_rate(ref, []).der == pytest.approx(1.0)


def test_wer_uses_whisper_normaliser() -> None:
    assert wer("Mr. Quilter is the apostle", "mister quilter is the apostle") == 0.0
    assert wer("a b c d", "a x c") == pytest.approx(0.5)


def test_cer_japanese_ignores_punctuation_and_width() -> None:
    assert cer_japanese("「こんにちは。」", "こんにちは") == 0.0
    assert cer_japanese("ＡＢ", "AB") == 0.0
    assert cer_japanese("あいうえ", "あいえ") == pytest.approx(0.25)


def test_cpwer_finds_best_speaker_mapping() -> None:
    ref = {"alice": "hello there", "bob": "good morning"}
    assert cpwer(ref, {"s1": "good morning", "s0": "hello there"}) == 0.0
    # words attributed to the wrong speaker count twice (deleted from one, inserted in another)
    assert cpwer(ref, {"s0": "hello there good", "s1": "morning"}) == pytest.approx(2 / 4)
    # a missing speaker costs all their words
    assert cpwer(ref, {"s0": "hello there"}) == pytest.approx(2 / 4)


def test_cpcer_counts_characters_per_speaker() -> None:
    ref = {"a": "こんにちは。", "b": "ありがとう"}
    assert cpcer_japanese(ref, {"x": "ありがとう", "y": "こんにちは"}) == 0.0
    # two characters said by b attributed to a: deleted from b, inserted in a
    assert cpcer_japanese(ref, {"x": "こんにちはあり", "y": "がとう"}) == pytest.approx(4 / 10)
    # one hypothesis speaker for two: every character of the unmatched speaker counts
    assert cpcer_japanese(ref, {"x": "こんにちはありがとう"}) == pytest.approx(10 / 10)


def test_stm_reader(data_dir: Path) -> None:
    utts = read_stm(data_dir / "sample.stm")
    assert len(utts) == 13 and {u.speaker for u in utts} == {"Diane", "Sheila"}
    assert utts[0].text == "Hello?"


def test_transcript_text_cannot_inject_links_images_or_html() -> None:
    said = "see [click here](http://evil.example) ![](http://evil.example/t.gif) <script>alert(1)</script> `rm -rf`"
    t = _transcript()
    words = [w.model_copy(update={"text": said}) if i == 0 else w for i, w in enumerate(t.segments[0].words)]
    t.segments[0] = t.segments[0].model_copy(update={"text": said, "words": words})
    md = to_markdown(t)
    for raw in ("[click here](", "![](", "<script>"):
        assert raw not in md, raw
    assert "\\`rm -rf\\`" in md  # no code span either
    assert "click here" in md and "alert(1)" in md  # the words are still there, inert
    vtt = to_vtt(t)
    assert "<script>" not in vtt and "&lt;script&gt;" in vtt
    assert all(line.count("<v ") <= 1 for line in vtt.splitlines())
