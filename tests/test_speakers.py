"""Speaker store, one-to-one matching, the enroll/speakers commands, and enrollment refusals
with the real models (silence, music, under 5 s of speech, two voices)."""

from __future__ import annotations

import argparse
import sqlite3
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from meeting_notes import speakers_cli
from meeting_notes.speakers import (
    EnrollmentError,
    SpeakerError,
    SpeakerSettings,
    SpeakerStore,
    SpeakerStoreError,
    assign,
    enroll,
    identify_speakers,
    speaker_settings,
)


def _vec(*xs: float) -> np.ndarray:
    v = np.array(xs, dtype=np.float32)
    return v / np.linalg.norm(v)


def test_store_add_list_remove(tmp_path: Path):
    store = SpeakerStore(tmp_path / "s" / "speakers.sqlite")
    assert store.profiles() == []
    a = store.add("Kenji Sato", _vec(1, 0, 0), "cam++@abc", 12.0, 2, role="rep", company="丸山")
    store.add("Diane", _vec(0, 1, 0), "cam++@abc", 7.5, 1, role="customer")
    assert [(p.name, p.side) for p in store.profiles()] == [("Kenji Sato", "seller"), ("Diane", "customer")]
    assert np.allclose(store.profiles()[0].embedding, _vec(1, 0, 0))
    with pytest.raises(SpeakerError, match="already enrolled"):
        store.add("Kenji Sato", _vec(0, 0, 1), "cam++@abc", 6.0, 1)
    store.add("Kenji Sato", _vec(0, 0, 1), "cam++@abc", 6.0, 1, replace=True)
    assert [p.name for p in store.profiles()] == ["Diane", "Kenji Sato"]
    with pytest.raises(SpeakerError, match=r"no enrolled speaker 'Bob' \(enrolled: Diane, Kenji Sato\)"):
        store.remove("Bob")
    assert store.remove("Diane").name == "Diane"
    assert store.remove(str(store.profiles()[0].id)).name == "Kenji Sato"
    assert store.profiles() == [] and a.model == "cam++@abc"


def test_corrupt_store_is_reported_and_left_alone(tmp_path: Path):
    path = tmp_path / "speakers.sqlite"
    path.write_bytes(b"this is not a database at all" * 100)
    before = path.read_bytes()
    with pytest.raises(SpeakerStoreError, match="corrupt or not a database"):
        SpeakerStore(path).profiles()
    with pytest.raises(SpeakerStoreError):
        SpeakerStore(path).add("X", _vec(1, 0), "m", 6.0, 1)
    assert path.read_bytes() == before

    other = tmp_path / "other.sqlite"
    con = sqlite3.connect(other)
    con.execute("CREATE TABLE notes (x TEXT)")
    con.commit()
    con.close()
    with pytest.raises(SpeakerStoreError, match="not a speaker store"):
        SpeakerStore(other).add("X", _vec(1, 0), "m", 6.0, 1)


def test_assign_is_one_to_one_with_threshold():
    scores = {"S0": {1: 0.8, 2: 0.7}, "S1": {1: 0.75, 2: 0.2}, "S2": {1: 0.3, 2: 0.1}}
    # best total: S0->2 (0.7) + S1->1 (0.75), not S0->1 greedily; S2 gets nothing
    assert assign(scores, 0.5) == {"S0": (2, 0.7), "S1": (1, 0.75)}
    assert assign(scores, 0.72) == {"S1": (1, 0.75)}
    assert assign({}, 0.5) == {}


def test_speaker_labels_from_matches():
    from meeting_notes.speakers import SpeakerMatch, speaker_labels

    m = {"SPEAKER_01": SpeakerMatch(speaker="SPEAKER_01", profile_id=3, name="Kenji Sato", side="seller", score=0.7)}
    labels = speaker_labels(m)
    assert labels["SPEAKER_01"].name == "Kenji Sato" and labels["SPEAKER_01"].side == "seller"


def _cli(argv: list[str], store: Path, monkeypatch, settings) -> int:
    if "speakers" in type(settings).model_fields:
        settings = settings.model_copy(update={"speakers": SpeakerSettings(store_path=store)})
    monkeypatch.setenv("MEETING_NOTES_SPEAKERS__STORE_PATH", str(store))
    monkeypatch.setattr(speakers_cli, "_settings", lambda: settings)
    parser = argparse.ArgumentParser()
    speakers_cli.add_parser(parser.add_subparsers(dest="command", required=True))
    args = parser.parse_args(argv)
    return args.func(args)


def test_cli_list_remove_and_errors(tmp_path: Path, monkeypatch, settings, capsys):
    store = tmp_path / "speakers.sqlite"
    assert _cli(["speakers", "list"], store, monkeypatch, settings) == 0
    assert "no enrolled speakers" in capsys.readouterr().out
    SpeakerStore(store).add("Diane", _vec(0, 1), "m", 8.0, 1, role="customer", company="Globex")
    assert _cli(["speakers", "list"], store, monkeypatch, settings) == 0
    out = capsys.readouterr().out
    assert "Diane" in out and "Globex" in out and "customer" in out
    assert _cli(["speakers", "remove", "Bob"], store, monkeypatch, settings) == 1
    assert "enrolled: Diane" in capsys.readouterr().err
    assert _cli(["speakers", "remove", "Diane"], store, monkeypatch, settings) == 0
    assert _cli(["enroll", "X", str(tmp_path / "nope.wav")], store, monkeypatch, settings) == 2
    assert "no such file" in capsys.readouterr().err
    store.write_bytes(b"garbage" * 200)
    assert _cli(["speakers", "list"], store, monkeypatch, settings) == 1
    assert "corrupt" in capsys.readouterr().err


def _settings_with_store(settings, store: Path, monkeypatch):
    monkeypatch.setenv("MEETING_NOTES_SPEAKERS__STORE_PATH", str(store))
    if "speakers" in type(settings).model_fields:
        return settings.model_copy(update={"speakers": SpeakerSettings(store_path=store)})
    return settings


def test_enrolling_silence_is_refused(tmp_path: Path, settings, monkeypatch):
    s = _settings_with_store(settings, tmp_path / "speakers.sqlite", monkeypatch)
    quiet = tmp_path / "quiet.wav"
    sf.write(quiet, np.zeros(16000 * 8, dtype=np.float32), 16000)
    with pytest.raises(EnrollmentError, match="silence"):
        enroll("Nobody", [quiet], s)
    assert SpeakerStore(speaker_settings(s).store_path).profiles() == []


def _music(seconds: float, sr: int = 16000) -> np.ndarray:
    """Instrumental music, synthesised (seeded): a plucked melody with harmonics over a chord
    and a noise drum on every beat, 120 bpm."""
    rng = np.random.default_rng(0)
    out = np.zeros(int(seconds * sr))
    notes = [220.0, 277.18, 329.63, 440.0, 392.0, 349.23, 293.66, 246.94]
    beat = int(0.5 * sr)
    for i in range(len(out) // beat):
        f, t = notes[i % len(notes)], np.arange(beat) / sr
        tone = sum(0.5**k * np.sin(2 * np.pi * f * (k + 1) * t) for k in range(6))
        chord = sum(0.3 * np.sin(2 * np.pi * f * r * t) for r in (1.25, 1.5))
        out[i * beat:(i + 1) * beat] += np.exp(-3 * t) * (tone + chord)
        out[i * beat:i * beat + 800] += 0.5 * rng.standard_normal(800) * np.exp(-np.arange(800) / 200)
    return (0.2 * out / np.abs(out).max()).astype(np.float32)


@pytest.mark.slow
def test_enrolling_music_is_refused(tmp_path: Path, settings, monkeypatch):
    s = _settings_with_store(settings, tmp_path / "speakers.sqlite", monkeypatch)
    song = tmp_path / "music.wav"
    sf.write(song, _music(12.0), 16000)
    with pytest.raises(EnrollmentError, match="no speech found"):
        enroll("Jingle", [song], s)
    assert SpeakerStore(speaker_settings(s).store_path).profiles() == []


@pytest.mark.slow
def test_enrollment_refusals_and_a_match(tmp_path: Path, data_dir: Path, sample_wav: Path, settings, monkeypatch):
    from meeting_notes.audio import load_audio
    from meeting_notes.diarize import diarize

    s = _settings_with_store(settings, tmp_path / "speakers.sqlite", monkeypatch)
    wave = load_audio(data_dir / "jfk.flac", s.audio)
    short = tmp_path / "short.wav"
    sf.write(short, wave[: int(3.5 * 16000)], 16000)
    with pytest.raises(EnrollmentError, match=r"of clear speech .* at least 5 s"):
        enroll("JFK", [short], s)
    with pytest.raises(EnrollmentError, match="two voices"):
        enroll("Two", [sample_wav], s)
    profile = enroll("JFK", [data_dir / "jfk.flac"], s, role="customer")
    assert profile.speech_seconds >= 5 and profile.side == "customer"
    # the same voice is named in a recording of it; a Japanese speaker is not him
    names = identify_speakers(wave, diarize(wave, s), s)
    assert {m.name for m in names.values()} == {"JFK"} and all(m.side == "customer" for m in names.values())
    other = load_audio(data_dir / "common_voice_ja_38843402_16k.wav", s.audio)
    assert identify_speakers(other, diarize(other, s), s) == {}
