"""Issue 19: what this project writes is private by default (files 0600, folders 0700), with a
setting for a group that shares the output folder; covering the meeting folder (transcripts,
decoded audio kept after a failure), the LLM response cache and the voiceprint store."""

from __future__ import annotations

import os
import stat
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

from meeting_notes import atomic
from meeting_notes.context import ProcessOptions
from meeting_notes.notes.cache import ResponseCache
from meeting_notes.schema import Transcript, write_json
from meeting_notes.settings import get_settings
from meeting_notes.speakers import SpeakerStore
from meeting_notes.stages.lifecycle import prepare_meeting
from meeting_notes.stages.waveform import decoded_waveform


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


@pytest.fixture()
def usual_umask(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[None]:
    """A process as a login shell starts it (umask 022: 0644 files), with settings read afresh."""
    previous = os.umask(0o022)
    monkeypatch.setenv("MEETING_NOTES_CACHE_DIR", str(tmp_path / "cache"))
    get_settings.cache_clear()
    try:
        yield
    finally:
        get_settings.cache_clear()
        atomic.set_data_modes(atomic.DEFAULT_FILE_MODE, atomic.DEFAULT_DIR_MODE)
        os.umask(previous)


def _write_everything(tmp_path: Path, sample_wav: Path) -> dict[str, Path]:
    settings = get_settings()  # what every entry point reads first
    ctx = prepare_meeting(sample_wav, tmp_path / "out", ProcessOptions(), settings)
    write_json(Transcript(meeting_id=ctx.meeting_id, audio=ctx.audio, language="en", speakers=[], segments=[]),
               ctx.workspace.transcript_json)
    decoded_waveform(ctx)  # the decoded copy: kept in the folder when a run fails
    cache = ResponseCache(tmp_path / "llm-cache")
    cache.put("ab" * 32, {"text": "the customer's budget"})
    store = SpeakerStore(tmp_path / "voices" / "speakers.sqlite")
    store.add("Ann", np.ones(192, dtype=np.float32), "campplus", 12.0, 1)
    return {
        "meeting folder": ctx.workspace.root,
        "transcript": ctx.workspace.transcript_json,
        "decoded audio": ctx.workspace.decoded_audio,
        "llm cache folder": (tmp_path / "llm-cache" / "ab"),
        "llm cache entry": (tmp_path / "llm-cache" / "ab" / f"{'ab' * 32}.json"),
        "voiceprint folder": tmp_path / "voices",
        "voiceprint store": tmp_path / "voices" / "speakers.sqlite",
    }


def test_data_files_are_0600_and_folders_0700_by_default(usual_umask: None, tmp_path: Path, sample_wav: Path) -> None:
    written = _write_everything(tmp_path, sample_wav)
    modes = {name: oct(mode(p)) for name, p in written.items()}
    assert modes == {name: oct(0o700 if p.is_dir() else 0o600) for name, p in written.items()}


def test_a_shared_group_setting_gives_group_read(usual_umask: None, tmp_path: Path, sample_wav: Path,
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MEETING_NOTES_STORAGE__FILE_MODE", "0640")
    monkeypatch.setenv("MEETING_NOTES_STORAGE__DIR_MODE", "0750")
    written = _write_everything(tmp_path, sample_wav)
    modes = {name: oct(mode(p)) for name, p in written.items()}
    assert modes == {name: oct(0o750 if p.is_dir() else 0o640) for name, p in written.items()}


@pytest.mark.parametrize("value", ["0666", "0400", "rw-r--r--", "0777"])
def test_a_mode_that_opens_data_to_everyone_or_locks_out_the_owner_is_refused(value: str, monkeypatch: pytest.MonkeyPatch) -> None:
    from pydantic import ValidationError

    from meeting_notes.settings import Settings

    monkeypatch.setenv("MEETING_NOTES_STORAGE__FILE_MODE", value)
    with pytest.raises(ValidationError, match="file_mode|octal"):
        Settings()
