"""The transcript pipeline end to end with the real bundled models on real recordings.

Thresholds (references from the upstream truth files, never from this pipeline):
- pyannote sample, speaker count not given: DER <= 15 % (the issue's target; measured ~5 %);
- WER <= 25 % for the default multilingual 'base' model (measured ~17 %; the sample is a noisy
  8 kHz-band telephone call, published Whisper-base figures on such audio are 15-25 %);
- Japanese read speech, CER <= 40 % for 'base' (measured ~20-25 % on the shared clips).
"""

from __future__ import annotations

import csv
import json
import shutil
import wave
from pathlib import Path

import numpy as np
import pytest

from meeting_notes.metrics import (
    cer_japanese,
    diarization_error_rate,
    read_rttm,
    read_stm,
    wer,
)
from meeting_notes.hashing import file_sha256
from meeting_notes.context import ProcessOptions
from meeting_notes.pipeline import process_meeting
from meeting_notes.schema import Transcript, read_json

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def sample_run(tmp_path_factory: pytest.TempPathFactory, sample_wav: Path, model_cache: Path):
    from meeting_notes.settings import Settings

    out = tmp_path_factory.mktemp("out")
    settings = Settings(cache_dir=model_cache)
    before = file_sha256(sample_wav)
    run = process_meeting(sample_wav, out, ProcessOptions(notes=False), settings)
    assert file_sha256(sample_wav) == before, "the input recording was modified"
    return out / run.meeting_id, run, settings


def test_outputs_exist_and_match_the_schema(sample_run) -> None:
    folder, run, _ = sample_run
    for name in ("transcript.json", "diarization.rttm", "transcript.srt", "transcript.vtt", "transcript.md", "run.json"):
        assert (folder / name).is_file(), name
    data = json.loads((folder / "transcript.json").read_text())
    assert set(data) >= {"meeting_id", "audio", "language", "speakers", "segments"}
    assert set(data["audio"]) >= {"path", "sha256", "duration"}
    seg = data["segments"][0]
    assert set(seg) >= {"id", "start", "end", "speaker", "text", "words"}
    assert set(seg["words"][0]) >= {"start", "end", "text", "speaker", "probability"}
    assert data["language"] == "en"


def test_two_speakers_found_and_every_word_attributed(sample_run) -> None:
    folder, _, _ = sample_run
    t = read_json(Transcript, folder / "transcript.json")
    assert len(t.speakers) == 2
    assert t.words and all(w.speaker in {s.id for s in t.speakers} for w in t.words)
    # both speakers actually talk
    assert {seg.speaker for seg in t.segments} == {s.id for s in t.speakers}
    times = [(s.start, s.end) for s in t.segments]
    assert all(a <= b for a, b in times) and times == sorted(times)


def test_der_and_wer_on_the_sample(sample_run, data_dir: Path) -> None:
    folder, _, _ = sample_run
    hyp = read_rttm(folder / "diarization.rttm")
    der = diarization_error_rate(read_rttm(data_dir / "sample.rttm"), hyp).der
    assert der <= 0.15, f"DER {der:.1%}"
    t = read_json(Transcript, folder / "transcript.json")
    ref = " ".join(u.text for u in sorted(read_stm(data_dir / "sample.stm"), key=lambda u: u.start))
    error = wer(ref, " ".join(s.text for s in t.segments))
    assert error <= 0.25, f"WER {error:.1%}"


def test_run_json_records_models_and_speed(sample_run) -> None:
    folder, _, _ = sample_run
    run = json.loads((folder / "run.json").read_text())
    assert run["status"] == "done" and run["device"] == "cpu" and run["compute_type"] == "int8"
    assert run["models"]["asr"]["name"] == "base"
    assert {"transcribe", "diarize", "align", "export"} <= set(run["stages"])
    assert all(run["stages"][s]["wall_s"] > 0 for s in ("transcribe", "diarize"))
    assert run["real_time_factor"] > 0 and run["peak_rss_mb"] > 0


def test_rerun_reuses_finished_stages(sample_run, sample_wav: Path) -> None:
    folder, first, settings = sample_run
    run = process_meeting(sample_wav, folder.parent, ProcessOptions(notes=False), settings)
    assert {k: v.status for k, v in run.stages.items() if k != "audio"} == {
        "transcribe": "cached", "diarize": "cached", "align": "cached", "names": "cached", "export": "cached",
        "analytics": "cached", "report": "done",  # the page is rebuilt on every run
    }
    # the models that made the reused outputs, carried over without loading them again
    assert run.models["asr"] == first.models["asr"] and run.models["diarization"] == first.models["diarization"]


def test_failed_run_resumes_without_redoing_transcription(tmp_path: Path, sample_wav: Path, settings, monkeypatch) -> None:
    import meeting_notes.diarize as diarize_module

    real = diarize_module.diarize

    def broken(*args, **kwargs):
        raise RuntimeError("GPU worker lost")

    monkeypatch.setattr(diarize_module, "diarize", broken)
    with pytest.raises(RuntimeError, match="GPU worker lost"):
        process_meeting(sample_wav, tmp_path, ProcessOptions(notes=False, asr_model="tiny.en", language="en"), settings)
    folder = next(tmp_path.iterdir())
    failed = json.loads((folder / "run.json").read_text())
    assert failed["status"] == "failed" and failed["stages"]["diarize"]["status"] == "failed"
    assert "GPU worker lost" in failed["stages"]["diarize"]["error"]
    assert (folder / "asr.json").is_file() and not (folder / "transcript.json").exists()

    monkeypatch.setattr(diarize_module, "diarize", real)
    run = process_meeting(sample_wav, tmp_path, ProcessOptions(notes=False, asr_model="tiny.en", language="en"), settings)
    assert run.stages["transcribe"].status == "cached"
    assert run.stages["diarize"].status == "done" and run.status == "done"


def test_speaker_count_hint_is_honoured(tmp_path: Path, sample_wav: Path, settings) -> None:
    run = process_meeting(sample_wav, tmp_path, ProcessOptions(notes=False, asr_model="tiny.en", language="en", num_speakers=3), settings)
    t = read_json(Transcript, tmp_path / run.meeting_id / "transcript.json")
    assert len(t.speakers) == 3


def test_silence_gives_an_empty_transcript(tmp_path: Path, data_dir: Path, settings) -> None:
    silent = tmp_path / "silent.wav"
    with wave.open(str(silent), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(16000)
        w.writeframes(np.zeros(16000 * 5, dtype=np.int16).tobytes())
    shutil.copy(data_dir / "ami_empty.wav", tmp_path / "room_noise.wav")
    for path in (silent, tmp_path / "room_noise.wav"):
        run = process_meeting(path, tmp_path / "out", ProcessOptions(notes=False), settings)
        t = read_json(Transcript, tmp_path / "out" / run.meeting_id / "transcript.json")
        assert t.segments == [], f"{path.name}: hallucinated {[s.text for s in t.segments]}"
        assert run.status == "done"


def test_japanese_is_detected_and_transcribed(tmp_path: Path, data_dir: Path, settings) -> None:
    row = next(csv.DictReader(open(data_dir / "commonvoice_ja.tsv"), fieldnames=["file", "text"], delimiter="\t"))
    run = process_meeting(data_dir / row["file"], tmp_path, ProcessOptions(notes=False), settings)
    t = read_json(Transcript, tmp_path / run.meeting_id / "transcript.json")
    assert t.language == "ja"
    hyp = "".join(s.text for s in t.segments)
    assert " " not in hyp.strip(), "Japanese text must not be joined with spaces"
    assert cer_japanese(row["text"], hyp) <= 0.40, hyp


def test_english_only_model_refuses_japanese(tmp_path: Path, data_dir: Path, settings) -> None:
    with pytest.raises(ValueError, match="English-only"):
        process_meeting(data_dir / "common_voice_ja_38843402_16k.wav", tmp_path,
                        ProcessOptions(notes=False, asr_model="tiny.en", language="ja"), settings)


def test_analytics_and_report_are_written_and_talk_shares_match_the_reference(sample_run, data_dir: Path) -> None:
    """The pipeline's analytics.json: talk shares within 3 points of the reference RTTM's (the
    issue's check), speakers matched to reference speakers by most shared time."""
    from test_analytics import _matched_share_error, shared_time

    from meeting_notes.analytics import Analytics, read_rttm, talk_shares
    from meeting_notes.schema import Diarization

    folder, _, _ = sample_run
    analytics = read_json(Analytics, folder / "analytics.json")
    diarization = read_json(Diarization, folder / "diarization.json")
    hyp = {s.speaker: s.talk_share for s in analytics.speakers}
    ref_turns = read_rttm((data_dir / "sample.rttm").read_text())
    err = _matched_share_error(talk_shares(ref_turns), hyp, shared_time(ref_turns, diarization.turns))
    assert err <= 3.0, (talk_shares(ref_turns), hyp)
    html = (folder / "report.html").read_text(encoding="utf-8")
    assert "<audio" in html and "seg-0" in html
