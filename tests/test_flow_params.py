"""Issue 19: a flow run started through the Prefect API (a deployment run) may only use the
folders configured for it, and may not choose a meeting's CRM records; a nightly batch never
takes another recording's folder for its own. No Prefect server: the deployment run's context
is stood in for, and the flow bodies are called as functions."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from prefect.context import FlowRunContext

import flows.intake
import flows.meeting
from meeting_notes import atomic
from meeting_notes.context import ProcessOptions
from meeting_notes.errors import MeetingNotesError
from meeting_notes.schema import RunInfo, write_json
from meeting_notes.settings import get_settings
from meeting_notes.workspace import MeetingWorkspace


@pytest.fixture()
def roots(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[dict[str, Path]]:
    """Configured roots, a deployment run's context, and run_meeting recording what it was asked."""
    folders = {name: tmp_path / name for name in ("inbox", "batch", "out", "elsewhere")}
    for folder in folders.values():
        folder.mkdir()
    monkeypatch.setenv("MEETING_NOTES_FLOWS__INPUT_ROOTS", json.dumps([str(folders["inbox"]), str(folders["batch"])]))
    monkeypatch.setenv("MEETING_NOTES_FLOWS__OUTPUT_ROOTS", json.dumps([str(folders["out"])]))
    get_settings.cache_clear()
    deployment_run = SimpleNamespace(flow_run=SimpleNamespace(deployment_id="0b6c-deployment", id="run-1"))
    monkeypatch.setattr(FlowRunContext, "get", lambda *a, **k: deployment_run)
    yield folders
    get_settings.cache_clear()
    atomic.set_data_modes(atomic.DEFAULT_FILE_MODE, atomic.DEFAULT_DIR_MODE)


@pytest.fixture()
def asked(monkeypatch: pytest.MonkeyPatch) -> list[tuple[str, str]]:
    calls: list[tuple[str, str]] = []

    def fake_run(audio_path: str, out_dir: str, options: ProcessOptions, settings: Any, heartbeat: Any = None) -> RunInfo:
        calls.append((audio_path, out_dir))
        return RunInfo(meeting_id="m", started_at="t", status="done")

    monkeypatch.setattr(flows.meeting, "run_meeting", fake_run)
    return calls


def _recording(folder: Path, name: str = "call.wav", crm_ids: dict[str, str] | None = None) -> Path:
    path = folder / name
    path.write_bytes(b"RIFF-fake")
    if crm_ids is not None:
        (folder / f"{name}.meeting.json").write_text(json.dumps({"crm_ids": crm_ids}))
    return path


def test_a_deployment_run_reads_only_under_the_input_roots(roots: dict[str, Path], asked: list, tmp_path: Path) -> None:
    outside = _recording(roots["elsewhere"])
    escaping = roots["inbox"] / "link.wav"
    escaping.symlink_to(outside)  # inside by name, outside once resolved
    for audio in (outside, escaping, roots["inbox"] / ".." / "elsewhere" / "call.wav", Path("/etc/passwd")):
        with pytest.raises(MeetingNotesError, match="outside the folders"):
            flows.meeting.process_meeting.fn(str(audio), str(roots["out"]))
    assert asked == []
    inside = _recording(roots["batch"])
    flows.meeting.process_meeting.fn(str(inside), str(roots["out"]))
    assert asked == [(str(inside.resolve()), str(roots["out"].resolve()))]


def test_a_deployment_run_writes_only_under_the_output_roots(roots: dict[str, Path], asked: list) -> None:
    audio = _recording(roots["inbox"])
    for out in (roots["elsewhere"], roots["out"] / ".." / "elsewhere", Path("/tmp")):
        with pytest.raises(MeetingNotesError, match="outside the folders"):
            flows.meeting.process_meeting.fn(str(audio), str(out))
    with pytest.raises(MeetingNotesError, match="inbox_root"):
        flows.meeting.process_meeting.fn(str(audio), str(roots["out"]), inbox_root=str(roots["elsewhere"]))
    assert asked == []


def test_a_deployment_run_cannot_choose_the_crm_records(roots: dict[str, Path], asked: list,
                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    audio = _recording(roots["inbox"], crm_ids={"account_id": "001-ours"})
    with pytest.raises(MeetingNotesError, match="CRM records"):
        flows.meeting.process_meeting.fn(str(audio), str(roots["out"]), hints={"crm_ids": {"account_id": "001-victim"}})
    bare = _recording(roots["inbox"], "bare.wav")
    with pytest.raises(MeetingNotesError, match="CRM records"):
        flows.meeting.process_meeting.fn(str(bare), str(roots["out"]), hints={"crm_ids": {"account_id": "001-victim"}})
    assert asked == []
    flows.meeting.process_meeting.fn(str(audio), str(roots["out"]), hints={"crm_ids": {"account_id": "001-ours"}})
    assert len(asked) == 1  # the sidecar's own ids pass
    monkeypatch.setenv("MEETING_NOTES_FLOWS__CRM_IDS_FROM_PARAMETERS", "true")
    get_settings.cache_clear()
    flows.meeting.process_meeting.fn(str(bare), str(roots["out"]), hints={"crm_ids": {"account_id": "001-given"}})
    assert len(asked) == 2  # trusted on purpose


def test_the_batch_and_the_sweep_are_confined_too(roots: dict[str, Path]) -> None:
    with pytest.raises(MeetingNotesError, match="source_dir"):
        flows.intake.nightly_batch.fn(str(roots["elsewhere"]), str(roots["out"]))
    with pytest.raises(MeetingNotesError, match="out_dir"):
        flows.intake.nightly_batch.fn(str(roots["batch"]), str(roots["elsewhere"]))
    with pytest.raises(MeetingNotesError, match="inbox_root"):
        flows.intake.inbox_sweep.fn(str(roots["elsewhere"]), str(roots["out"]))


def test_the_batch_does_not_count_another_recordings_folder_as_done(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    first = _recording(tmp_path, "a.wav")
    options = ProcessOptions()
    meeting_id, done = flows.intake.already_done(first, tmp_path / "out", options)
    ws = MeetingWorkspace(tmp_path / "out" / meeting_id)
    ws.create()
    sha = flows.intake.file_sha256(first)
    ws.claim_for(sha, first.name)
    write_json(RunInfo(meeting_id=meeting_id, started_at="t", status="done"), ws.run_json)
    assert flows.intake.already_done(first, tmp_path / "out", options) == (meeting_id, True)
    # a crafted recording: same name, same first 8 hex digits of its sha256, other content
    monkeypatch.setattr(flows.intake, "file_sha256", lambda p: sha[:8] + "0" * 56)
    assert flows.intake.already_done(first, tmp_path / "out", options) == (meeting_id, False)
