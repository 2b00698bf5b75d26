"""The sample recordings in samples/: present, decodable, 2-3 minutes (the synthesized calls), small,
with sidecars the inbox accepts and scripts that match them. No text-to-speech here."""

from __future__ import annotations

import datetime as dt
import sys
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from meeting_notes.sidecar import MeetingSidecar, read_sidecar, sidecar_path
from meeting_notes.metrics import read_rttm

ROOT = Path(__file__).resolve().parents[1]
SAMPLES = ROOT / "samples"
sys.path.insert(0, str(ROOT / "benchmarks"))

import tts  # noqa: E402

CALLS = {"sales_call_en": "en", "sales_call_ja": "ja"}


def _audio(name: str) -> Path:
    found = [p for p in (SAMPLES / f"{name}.wav", SAMPLES / f"{name}.flac") if p.is_file()]
    assert found, f"samples/{name}.wav (or .flac) is missing"
    return found[0]


def test_the_pyannote_sample_is_kept() -> None:
    info = sf.info(SAMPLES / "sample.wav")
    assert info.samplerate == 16000 and 29 < info.duration < 31


@pytest.mark.parametrize("name", sorted(CALLS))
def test_sample_call_decodes_and_is_two_to_three_minutes(name: str) -> None:
    path = _audio(name)
    assert path.stat().st_size < 6 * 1024 * 1024
    info = sf.info(path)
    assert (info.samplerate, info.channels) == (16000, 1)
    assert 120 <= info.duration <= 180, info.duration
    audio, sr = sf.read(path, dtype="float32")
    assert sr == 16000 and len(audio) == info.frames
    assert 0.01 < float(np.sqrt(np.mean(audio**2))) and np.abs(audio).max() <= 1.0


@pytest.mark.parametrize("name", sorted(CALLS))
def test_sample_sidecar_validates_and_matches_the_script(name: str) -> None:
    path = _audio(name)
    assert sidecar_path(path).is_file()
    sidecar = read_sidecar(path)
    assert isinstance(sidecar, MeetingSidecar)
    assert sidecar.meeting_id == name
    assert sidecar.title and sidecar.account and sidecar.date
    assert sidecar.crm_ids.get("account_id", "").startswith("001")
    assert sidecar.crm_ids.get("opportunity_id", "").startswith("006")
    script = tts.read_script(SAMPLES / f"{name}.txt")
    assert script.language == CALLS[name]
    assert isinstance(sidecar.date, dt.datetime) and sidecar.date.date().isoformat() == script.date
    assert len(script.speakers) >= 3 and len(sidecar.participants) == len(script.speakers)
    text = " ".join(line.text for line in script.lines)
    companies = set()
    for p in sidecar.participants:
        assert not isinstance(p, str) and p.company
        companies.add(p.company)
        surname = p.name.split()[0] if CALLS[name] == "ja" else p.name.split()[-1]
        assert surname in text, f"{p.name} never introduced in {name}.txt"
    assert len(companies) == 2 and sidecar.account in companies  # a seller and the customer


@pytest.mark.parametrize("name", sorted(CALLS))
def test_sample_reference_turns_match_the_script(name: str) -> None:
    script = tts.read_script(SAMPLES / f"{name}.txt")
    turns = read_rttm(SAMPLES / f"{name}.rttm")
    assert [t.speaker for t in turns] == [line.speaker for line in script.lines]
    assert turns[-1].end < sf.info(_audio(name)).duration


def test_samples_readme_names_every_sample() -> None:
    readme = (SAMPLES / "README.md").read_text(encoding="utf-8")
    for name in CALLS:
        assert _audio(name).name in readme and f"{name}.txt" in readme
