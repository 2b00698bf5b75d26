"""The ``meeting-notes`` command as a rep or a script runs it."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from meeting_notes.hashing import file_sha256
from meeting_notes.schema import MeetingFacts, Participant


def _run(args: list[str], tmp_path: Path) -> subprocess.CompletedProcess:
    env = dict(os.environ, MEETING_NOTES_CACHE_DIR=str(tmp_path / "cache"), PYANNOTE_METRICS_ENABLED="false")
    return subprocess.run([sys.executable, "-m", "meeting_notes.cli", *args], capture_output=True, text=True, env=env, timeout=600)


@pytest.mark.slow
def test_bad_inputs_fail_alone_and_good_ones_are_processed(tmp_path: Path, sample_wav: Path) -> None:
    empty = tmp_path / "empty.wav"
    empty.touch()
    text = tmp_path / "agenda.txt"
    text.write_text("not audio " * 100)
    folder = tmp_path / "recordings"
    folder.mkdir()
    before = file_sha256(sample_wav)
    proc = _run(
        ["process", str(empty), str(sample_wav), str(text), str(folder), str(tmp_path / "missing.mp3"),
         "--out", str(tmp_path / "out"), "--no-notes", "--model", "tiny.en", "--language", "en"],
        tmp_path,
    )
    assert proc.returncode == 1, proc.stderr
    results = [json.loads(line) for line in proc.stdout.splitlines()]
    assert [r["status"] for r in results] == ["failed", "done", "failed", "failed", "failed"]
    assert [r.get("error_type") for r in results] == [
        "EmptyFileError", None, "UnsupportedFormatError", "NotAFileError", "InputNotFoundError"]
    errors = [line for line in proc.stderr.splitlines() if line.startswith("error:")]
    assert len(errors) == 4 and all(len(e) < 300 for e in errors)
    assert "empty" in errors[0] and "folder" in errors[2] and "no such file" in errors[3]
    done = Path(results[1]["meeting_dir"])
    assert (done / "transcript.json").is_file() and (done / "diarization.rttm").is_file()
    assert file_sha256(sample_wav) == before
    assert empty.exists() and text.exists()


def test_usage_errors_exit_2(tmp_path: Path) -> None:
    proc = _run(["process", "x.wav"], tmp_path)  # --out missing
    assert proc.returncode == 2 and "--out" in proc.stderr
    proc = _run(["process", "x.wav", "--out", str(tmp_path), "--num-speakers", "0"], tmp_path)
    assert proc.returncode == 2 and "at least 1" in proc.stderr
    proc = _run(["process", "x.wav", "--out", str(tmp_path), "--min-speakers", "4", "--max-speakers", "2"], tmp_path)
    assert proc.returncode == 2


def test_models_command_lists_the_registry(tmp_path: Path) -> None:
    proc = _run(["models", "--resolve", "tiny.en", "base", "segmentation-3.0", "campplus"], tmp_path)
    assert proc.returncode == 0, proc.stderr
    for name in ("tiny.en", "base", "segmentation-3.0", "campplus"):
        line = next(line for line in proc.stdout.splitlines() if line.startswith(name + " "))
        assert "UNAVAILABLE" not in line


def _fake_process(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> list[tuple[Path, object]]:
    """``process_meeting`` replaced by a recorder of what the CLI asked for (no models run)."""
    from meeting_notes import cli
    from meeting_notes.schema import RunInfo

    calls: list[tuple[Path, object]] = []

    def fake(path, out_dir, options, settings, on_stage=None):  # type: ignore[no-untyped-def]
        calls.append((Path(path), options))
        return RunInfo(meeting_id=Path(path).stem, started_at="now", status="done")

    monkeypatch.setattr(cli, "process_meeting", fake)
    monkeypatch.setenv("MEETING_NOTES_CACHE_DIR", str(tmp_path / "cache"))
    return calls


SIDECAR = {
    "meeting_id": "acme-2026-11-20", "title": "Acme renewal", "date": "2026-11-20", "account": "Acme KK",
    "participants": ["Kenji Sato (Acme)", {"name": "Ann Lee", "company": "Helix", "role": "AE"}],
    "num_speakers": 3, "language": "ja", "crm_ids": {"opportunity_id": "006XX"},
}


def test_process_reads_the_sidecar_beside_each_recording(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys) -> None:
    from meeting_notes.cli import main
    from meeting_notes.speaker_map import with_enrolled_min_speakers

    calls = _fake_process(monkeypatch, tmp_path)
    with_sidecar, plain, broken = tmp_path / "acme.m4a", tmp_path / "other.wav", tmp_path / "broken.wav"
    for audio in (with_sidecar, plain, broken):
        audio.write_bytes(b"audio")
    (tmp_path / "acme.m4a.meeting.json").write_text(json.dumps(SIDECAR), encoding="utf-8")
    (tmp_path / "broken.wav.meeting.json").write_text('{"langauge": "en"}', encoding="utf-8")

    code = main(["process", str(with_sidecar), str(broken), str(plain), "--out", str(tmp_path / "out"), "--json"])
    assert code == 1  # the broken sidecar fails its recording alone
    results = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert [r["status"] for r in results] == ["done", "failed", "done"]
    assert results[1]["error_type"] == "SidecarError" and "broken.wav.meeting.json" in results[1]["error"]
    assert [c[0] for c in calls] == [with_sidecar, plain]
    options = calls[0][1]
    assert options.language == "ja" and options.num_speakers == 3  # type: ignore[attr-defined]
    facts = options.facts  # type: ignore[attr-defined]
    assert facts.meeting_id == "acme-2026-11-20" and facts.account == "Acme KK"
    assert facts.participants[0] == Participant(name="Kenji Sato", company="Acme") and facts.crm_ids == {"opportunity_id": "006XX"}
    assert calls[1][1].facts == MeetingFacts() and calls[1][1].language is None  # type: ignore[attr-defined]
    # the sidecar's participants reach the enrolled-rep speaker-count bound (no exact count given)
    reps = [type("P", (), {"name": n, "role": "rep"})() for n in ("Kenji Sato", "Ann Lee")]
    from dataclasses import replace

    assert with_enrolled_min_speakers(replace(options, num_speakers=None), reps).min_speakers == 2


def test_process_flags_win_over_the_sidecar_and_sidecar_names_another_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys
) -> None:
    from meeting_notes.cli import main

    calls = _fake_process(monkeypatch, tmp_path)
    audio = tmp_path / "call.wav"
    audio.write_bytes(b"audio")
    elsewhere = tmp_path / "calendar" / "acme.json"
    elsewhere.parent.mkdir()
    elsewhere.write_text(json.dumps(SIDECAR), encoding="utf-8")
    (tmp_path / "call.wav.meeting.json").write_text(json.dumps({"title": "beside"}), encoding="utf-8")

    assert main(["process", str(audio), "--out", str(tmp_path / "o"), "--json", "--sidecar", str(elsewhere),
                 "--language", "en", "--min-speakers", "2"]) == 0
    options = calls[-1][1]
    assert options.facts.title == "Acme renewal"  # type: ignore[attr-defined]  # --sidecar, not the one beside
    assert options.language == "en" and options.num_speakers is None and options.min_speakers == 2  # type: ignore[attr-defined]
    assert main(["process", str(audio), "--out", str(tmp_path / "o"), "--json"]) == 0
    assert calls[-1][1].facts == MeetingFacts(title="beside")  # type: ignore[attr-defined]
    assert main(["process", str(audio), "--out", str(tmp_path / "o"), "--json", "--sidecar", str(tmp_path / "nope.json")]) == 1
    assert "does not exist" in json.loads(capsys.readouterr().out.splitlines()[-1])["error"]
    assert main(["process", str(audio), str(audio), "--out", str(tmp_path / "o"), "--sidecar", str(elsewhere)]) == 2
