"""A hand-built meeting folder for the report tests: transcript (with a hostile segment),
diarization, notes with evidence, analytics and run.json; the audio is samples/sample.wav."""

from __future__ import annotations

import json
from pathlib import Path

from meeting_notes.analytics import SpeakerLabel, compute_analytics
from meeting_notes.schema import (
    AudioInfo,
    Diarization,
    Segment,
    Speaker,
    SpeakerTurn,
    Transcript,
    Word,
    write_json,
)

ROOT = Path(__file__).resolve().parents[1]
SAMPLE_WAV = ROOT / "samples" / "sample.wav"
HOSTILE = '<script>alert(1)</script> & "quotes" <img src=x onerror=alert(2)>'

LINES = [
    (0.5, 4.0, "S0", "Thanks for taking the time today. How is the rollout going?"),
    (4.5, 9.0, "S1", "Honestly it is slow. We need the reports by March."),
    (9.0, 12.0, "S0", HOSTILE),
    (12.5, 18.0, "S1", "Our budget is around 20,000 dollars for this year."),
    (17.5, 22.0, "S0", "Great, I will send a proposal on Friday."),
    (22.5, 28.0, "S1", "Please do. We also look at Acme Analytics."),
]


def build_meeting(folder: Path, *, audio: Path | None = SAMPLE_WAV, language: str = "en", lines=LINES) -> Path:
    """Write transcript.json, diarization.json, notes.json, analytics.json and run.json."""
    folder.mkdir(parents=True, exist_ok=True)
    segments = []
    for i, (start, end, spk, text) in enumerate(lines):
        words = [Word(start=start, end=end, text=" " + w, speaker=spk, probability=0.9) for w in text.split()]
        segments.append(
            Segment(id=i, start=start, end=end, speaker=spk, text=" " + text, words=words, overlap=0.6 if i == 4 else 0.0)
        )
    audio_path = str(audio) if audio is not None else str(folder / "missing.wav")
    transcript = Transcript(
        meeting_id="demo-1234abcd",
        audio=AudioInfo(path=audio_path, sha256="0" * 64, duration=30.0),
        language=language,
        speakers=[Speaker(id="S0", speech_seconds=14.0), Speaker(id="S1", speech_seconds=15.0)],
        segments=segments,
    )
    turns = [SpeakerTurn(start=s, end=e, speaker=spk) for s, e, spk, _ in lines]
    diarization = Diarization(turns=turns, exclusive_turns=turns, speakers=["S0", "S1"])
    write_json(transcript, folder / "transcript.json")
    write_json(diarization, folder / "diarization.json")
    labels = {"S0": SpeakerLabel(name="Ann <Rep>", side="seller"), "S1": SpeakerLabel(side="customer")}
    write_json(compute_analytics(transcript, diarization, labels), folder / "analytics.json")
    notes = {
        "meeting_id": "demo-1234abcd",
        "title": "Rollout review <b>bold?</b>",
        "date": "2026-11-20",
        "language": language,
        "account": {"name": "Globex & Co", "evidence": []},
        "participants": [{"name": "Dana", "company": "Globex", "role": "IT lead", "side": "customer", "evidence": []}],
        "summary": "The customer needs reports by March.\nBudget around 20k.",
        "needs": [
            {"text": "Reports by March", "evidence": [{"segment_ids": [1], "quote": "We need the reports by March"}]}
        ],
        "budget": [{"text": "About 20,000 USD", "evidence": [{"segment_ids": [3], "quote": "around 20,000 dollars"}]}],
        "next_steps": [
            {
                "action": "Send a proposal",
                "owner": "Ann",
                "due": "Friday",
                "due_resolved": "2026-11-27",
                "evidence": [{"segment_ids": [4], "quote": "I will send a proposal on Friday"}],
            }
        ],
        "competitors": [
            {"name": HOSTILE, "context": "evaluated", "evidence": [{"segment_ids": [5], "quote": HOSTILE}]}
        ],
        "deal_stage": {"stage": "proposal", "reason": "proposal promised", "evidence": []},
        "a_field_from_the_future": {"x": 1},
        "verification": {"items_dropped": 1},
    }
    (folder / "notes.json").write_text(json.dumps(notes, ensure_ascii=False), encoding="utf-8")
    run = {
        "meeting_id": "demo-1234abcd",
        "started_at": "2026-11-20T10:00:00+00:00",
        "finished_at": "2026-11-20T10:01:00+00:00",
        "status": "done",
        "models": {"asr": {"name": "base"}, "diarization": {"segmentation": "segmentation-3.0", "embedding": "campplus"}},
        "versions": {"meeting-notes": "0.1.0"},
    }
    (folder / "run.json").write_text(json.dumps(run), encoding="utf-8")
    return folder
