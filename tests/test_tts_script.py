"""benchmarks/tts.py without any text-to-speech engine: script parsing, voices, and the recording
and references it writes, on a tiny fake synth function."""

from __future__ import annotations

import json
import shutil
import sys
import wave
from pathlib import Path

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "benchmarks"))

import tts  # noqa: E402

from meeting_notes.metrics import read_rttm, read_stm  # noqa: E402

SCRIPT = """# meeting_id: tiny_call
# language: en
# date: 2026-11-19
# voice B: pico:en-GB

A: Hi, I'm Dana from Northbeam.
B: Hello Dana, Claire here.
B: We have three warehouses.
C: And I'm Tom, from IT.
A: Great, thanks both.
"""


def fake_synth(calls: list[str] | None = None, sr: int = 16000):
    """A tone per voice whose length follows the text (40 ms a character)."""

    def synth(text: str, voice: tts.Voice, seed: int) -> tuple[np.ndarray, int]:
        if calls is not None:
            calls.append(text)
        freq = 150 + 40 * (sum(map(ord, str(voice))) % 8)
        t = np.arange(int(0.04 * len(text) * sr)) / sr
        return (0.3 * np.sin(2 * np.pi * freq * t)).astype(np.float32), sr

    return synth


def test_parse_script_headers_lines_and_speakers() -> None:
    script = tts.parse_script(SCRIPT)
    assert script.meeting_id == "tiny_call"
    assert script.language == "en"
    assert script.date == "2026-11-19"
    assert [line.speaker for line in script.lines] == ["A", "B", "B", "C", "A"]
    assert script.lines[0].text == "Hi, I'm Dana from Northbeam."
    assert script.speakers == ["A", "B", "C"]
    assert script.meta["voice B"] == "pico:en-GB"


@pytest.mark.parametrize(
    "bad, where",
    [
        ("# language: en\nA: fine\nthis line has no speaker\n", ":3:"),
        ("# language: en\na: lower-case letter\n", ":2:"),
        ("A:    \n", ":1:"),
        ("# only: headers\n", "no 'X: text' lines"),
    ],
)
def test_parse_script_rejects_bad_lines_with_their_number(bad: str, where: str) -> None:
    with pytest.raises(ValueError, match=where):
        tts.parse_script(bad, "bad.txt")


def test_the_eval_scripts_parse() -> None:
    sources = sorted((ROOT / "benchmarks" / "notes_eval" / "src").glob("*.txt")) + sorted((ROOT / "samples").glob("sales_call_*.txt"))
    assert len(sources) >= 10
    for src in sources:
        script = tts.read_script(src)
        assert script.language in ("en", "ja") and len(script.speakers) >= 2, src.name
        assert len(set(script.voices().values())) == len(script.speakers), src.name  # one voice each


def test_voices_overrides_headers_then_distinct_defaults() -> None:
    script = tts.parse_script(SCRIPT)
    voices = script.voices()
    assert voices["B"] == "pico:en-GB"  # the header
    assert voices["A"] == tts.DEFAULT_VOICES["en"][0]
    assert len(set(voices.values())) == 3  # the header's voice is not handed out again
    # C gets the first default voice nobody else has
    assert script.voices({"A": "flite:slt", "B": "kokoro:jm_kumo,pitch=-2"}) == {
        "A": "flite:slt", "B": "kokoro:jm_kumo,pitch=-2", "C": tts.DEFAULT_VOICES["en"][0],
    }


def test_parse_voice() -> None:
    assert tts.parse_voice("openjtalk:mei,pitch=-5") == tts.Voice("openjtalk", "mei", pitch=-5.0)
    assert str(tts.parse_voice("piper:joe,speed=1.1")) == "piper:joe,speed=1.1"
    assert str(tts.parse_voice("flite:rms")) == "flite:rms"
    for bad in ("espeak:en", "piper", "piper:joe,volume=2", "kokoro:"):
        with pytest.raises(ValueError):
            tts.parse_voice(bad)


def test_synthesize_writes_audio_rttm_stm_and_reference(tmp_path: Path) -> None:
    script = tts.parse_script(SCRIPT)
    out = tmp_path / "call.wav"
    ref = tts.synthesize_script(script, out, cache_dir=None, synth=fake_synth(), noise_dbfs=None)

    with wave.open(str(out)) as w:
        assert (w.getframerate(), w.getnchannels(), w.getsampwidth()) == (16000, 1, 2)
        audio = np.frombuffer(w.readframes(w.getnframes()), dtype="<i2").astype(np.float32) / 32768
    assert abs(len(audio) / 16000 - ref.duration) < 1e-6

    turns = read_rttm(out.with_suffix(".rttm"))
    assert [t.speaker for t in turns] == ["A", "B", "B", "C", "A"]
    assert all(a.end <= b.start for a, b in zip(turns, turns[1:]))  # in order, no overlap
    assert turns[0].start == pytest.approx(0.6, abs=0.01)
    assert turns[-1].end < ref.duration
    for turn, line in zip(turns, script.lines):  # each turn is as long as its clip (40 ms a character, trimmed by < 0.1 s)
        assert turn.end - turn.start == pytest.approx(0.04 * len(line.text), abs=0.1)
        mid = int((turn.start + turn.end) / 2 * 16000)
        assert np.abs(audio[mid - 800 : mid + 800]).max() > 0.05  # speech inside the turn
    for a, b in zip(turns, turns[1:]):  # silence between turns
        gap = audio[int(a.end * 16000) + 80 : int(b.start * 16000) - 80]
        assert gap.size > 0 and np.abs(gap).max() < 1e-3

    stm = read_stm(out.with_suffix(".stm"))
    assert [u.text for u in stm] == [line.text for line in script.lines]
    data = json.loads(out.with_suffix(".ref.json").read_text(encoding="utf-8"))
    assert data["meeting_id"] == "tiny_call" and data["date"] == "2026-11-19"
    assert [s["speaker"] for s in data["segments"]] == ["A", "B", "B", "C", "A"]
    assert data["voices"]["B"] == "pico:en-GB"
    assert ref.text().startswith("Hi, I'm Dana from Northbeam. Hello Dana")
    assert ref.text_by_speaker()["B"] == "Hello Dana, Claire here. We have three warehouses."


def test_cache_makes_runs_identical_and_skips_synthesis(tmp_path: Path) -> None:
    script = tts.parse_script(SCRIPT)
    calls: list[str] = []
    first = tts.synthesize_script(script, tmp_path / "a.wav", cache_dir=tmp_path / "cache", synth=fake_synth(calls))
    assert len(calls) == 5 and first.cached_lines == 0
    again = tts.synthesize_script(script, tmp_path / "b.flac", cache_dir=tmp_path / "cache", synth=fake_synth(calls))
    assert len(calls) == 5 and again.cached_lines == 5
    uncached = tts.synthesize_script(script, tmp_path / "c.wav", cache_dir=None, synth=fake_synth())
    a = (tmp_path / "a.wav").read_bytes()
    assert a == (tmp_path / "c.wav").read_bytes()  # the cache changes nothing
    assert (tmp_path / "a.rttm").read_text() == (tmp_path / "c.rttm").read_text().replace(" c ", " a ")
    assert uncached.duration == first.duration == again.duration
    import soundfile as sf

    flac, sr = sf.read(tmp_path / "b.flac", dtype="int16")
    assert sr == 16000 and np.array_equal(flac, np.frombuffer(a[44:], dtype="<i2"))


def test_other_sample_rates_are_resampled_to_16k(tmp_path: Path) -> None:
    script = tts.parse_script("# meeting_id: sr\nA: twenty-five characters...\nB: ten chars.\n")
    tts.synthesize_script(script, tmp_path / "x.wav", cache_dir=None, synth=fake_synth(sr=24000), noise_dbfs=None)
    turns = read_rttm(tmp_path / "x.rttm")
    assert [round(t.end - t.start, 2) for t in turns] == [1.0, 0.4]
    with wave.open(str(tmp_path / "x.wav")) as w:
        assert w.getframerate() == 16000


def test_pauses_are_seeded_and_natural() -> None:
    script = tts.parse_script(SCRIPT)
    p = tts.pauses(script)
    assert p == tts.pauses(script) and len(p) == 5
    assert p[0] == 0.6 and all(0.25 <= x <= 1.6 for x in p[1:])
    assert tts.pauses(script, seed="another") != p


def test_missing_engines_name_the_install_command(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "py_nanotts", None)  # import fails
    with pytest.raises(tts.TTSMissingError, match=r"pip install py-nanotts==0\.1\.1.*requirements-tts\.txt"):
        tts.check_engines(["pico:en-US"])
    monkeypatch.setitem(sys.modules, "pyopenjtalk", None)
    with pytest.raises(tts.TTSMissingError, match=r"pip install --no-deps pyopenjtalk-plus"):
        tts.check_engines(["openjtalk:mei"])
    monkeypatch.setattr(shutil, "which", lambda name: None)
    with pytest.raises(tts.TTSMissingError, match="apt-get install flite"):
        tts.check_engines(["flite:rms"])
    script = tts.parse_script("# language: en\nA: hello\n")
    with pytest.raises(tts.TTSMissingError, match="apt-get install flite"):  # before anything is written
        tts.synthesize_script(script, Path("/nonexistent/x.wav"), {"A": "flite:awb"}, cache_dir=None)
