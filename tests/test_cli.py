"""The ``meeting-notes`` command as a rep or a script runs it."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from meeting_notes.model_registry import file_sha256


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
