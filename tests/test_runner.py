"""The runner (meeting_notes/runner.py) and the registry's queries (meeting_notes/stages/),
with small fake stages: the one loop's records, error format, Ctrl-C and reports; the CRM
state file's lock; file modes of atomic writes."""

from __future__ import annotations

import json
import os
import stat
import threading
from pathlib import Path

import pytest

from meeting_notes.atomic import write_text_atomic
from meeting_notes.context import MeetingContext, ProcessOptions
from meeting_notes.crm.service import update_state
from meeting_notes.errors import InputError
from meeting_notes.runner import StageReport, StageSpec, execute_inline, last_run_done, run_cached, run_stages
from meeting_notes.schema import AudioInfo, RunInfo, StageRecord, read_json, write_json
from meeting_notes.settings import Settings
from meeting_notes.stages import STAGES, stages_after
from meeting_notes.workspace import MeetingWorkspace


def _ctx(tmp_path: Path) -> MeetingContext:
    ws = MeetingWorkspace(tmp_path / "m")
    ws.create()
    audio = AudioInfo(path=str(tmp_path / "a.wav"), sha256="ab" * 32, duration=60.0)
    return MeetingContext(tmp_path / "a.wav", audio, ws, ProcessOptions(), Settings(cache_dir=tmp_path / "cache"))


def _stage(name: str, calls: list[str], fail: BaseException | None = None, extra: dict | None = None) -> StageSpec:
    def run(ctx: MeetingContext, report: StageReport, waveform: object = None) -> StageRecord:
        out = ctx.workspace.root / f"{name}.txt"

        def body() -> None:
            calls.append(name)
            report.extra.update(extra or {})
            if fail is not None:
                raise fail
            write_text_atomic(out, name)

        return run_cached(ctx, name, {}, [out], body)

    return StageSpec(name, run)


def _finish(ctx: MeetingContext, run: RunInfo) -> None:
    write_json(run, ctx.workspace.run_json)


def _loop(ctx: MeetingContext, specs: list[StageSpec]) -> RunInfo:
    run = RunInfo(meeting_id=ctx.meeting_id, started_at="t0")
    return run_stages(ctx, run, specs, lambda spec: execute_inline(spec, ctx, None), _finish)


def test_the_loop_records_each_stage_and_a_rerun_is_cached(tmp_path: Path) -> None:
    ctx, calls = _ctx(tmp_path), []
    specs = [_stage("one", calls, extra={"one": 1}), _stage("two", calls)]
    run = _loop(ctx, specs)
    assert run.status == "done" and [run.stages[s].status for s in ("one", "two")] == ["done", "done"]
    assert run.extra == {"one": 1}  # the stage's report reached run.json
    assert read_json(RunInfo, ctx.workspace.run_json).status == "done" and last_run_done(ctx.workspace)
    again = _loop(ctx, specs)
    assert [again.stages[s].status for s in ("one", "two")] == ["cached", "cached"] and calls == ["one", "two"]


@pytest.mark.parametrize(
    ("exc", "message"),
    [
        (InputError("The recording is silent."), "The recording is silent."),  # written for the rep
        (OSError("disk full"), "OSError: disk full"),
        (KeyboardInterrupt(), "interrupted (Ctrl-C); the next run resumes after the last finished stage"),
    ],
)
def test_a_failure_is_recorded_once_in_one_format_then_the_run_resumes(tmp_path: Path, exc: BaseException, message: str) -> None:
    ctx, calls = _ctx(tmp_path), []
    failing = [_stage("one", calls), _stage("two", calls, fail=exc, extra={"two": "said before failing"})]
    with pytest.raises(type(exc)):
        _loop(ctx, failing)
    saved = read_json(RunInfo, ctx.workspace.run_json)  # written on every exit, Ctrl-C included
    assert saved.status == "failed" and saved.error == message
    assert saved.stages["one"].status == "done" and saved.stages["two"].status == "failed"
    assert saved.stages["two"].error == message
    assert saved.extra == {"two": "said before failing"}
    assert not last_run_done(ctx.workspace)
    assert not (ctx.workspace.root / ".meeting.lease").exists()  # the lease is released
    resumed = _loop(ctx, [_stage("one", calls), _stage("two", calls)])
    assert resumed.status == "done" and resumed.stages["one"].status == "cached" and calls == ["one", "two", "two"]


def test_everything_after_names_is_a_query_of_the_registry() -> None:
    assert [s.name for s in stages_after("names")] == ["names", "export", "analytics", "report"]
    assert [s.name for s in stages_after("notes")] == ["notes", "deliver", "report"]
    assert [s.name for s in stages_after("notes", ProcessOptions(notes=False))] == ["report"]
    assert [s.name for s in stages_after("transcribe")][:3] == ["transcribe", "align", "names"]
    assert {s.name for s in stages_after("transcribe")} == {s.name for s in STAGES} - {"diarize"}
    with pytest.raises(KeyError):
        stages_after("nothing")


def test_crm_state_updates_from_many_writers_lose_nothing(tmp_path: Path) -> None:
    """crm push / approve run outside the meeting's lease: concurrent read-merge-writes of crm.json
    must not drop each other's keys."""
    folder = tmp_path / "m"
    folder.mkdir()

    def write(i: int) -> None:
        for j in range(20):
            update_state(folder, approvals={f"t{i}-{j}": {"by": str(i)}})

    threads = [threading.Thread(target=write, args=(i,)) for i in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    state = json.loads((folder / "crm.json").read_text(encoding="utf-8"))
    assert len(state["approvals"]) == 6 * 20


def test_atomic_write_sets_the_mode_from_the_start(tmp_path: Path) -> None:
    private = tmp_path / "state.json"
    write_text_atomic(private, "{}", mode=0o600)
    assert stat.S_IMODE(private.stat().st_mode) == 0o600
    umask = os.umask(0o022)  # a usual umask: the default is still private (issue 19)
    try:
        notes = tmp_path / "notes.md"
        write_text_atomic(notes, "x")
        assert stat.S_IMODE(notes.stat().st_mode) == 0o600
    finally:
        os.umask(umask)
    assert [p.name for p in tmp_path.iterdir() if p.name.endswith(".tmp")] == []


# -- issue 19: a run that loses its lease stops before its next write -------------------------


def test_a_run_that_lost_its_lease_writes_nothing_more(tmp_path: Path) -> None:
    from meeting_notes.leases import LeaseLostError
    from meeting_notes.workspace import LEASE_FILE

    ctx, calls = _ctx(tmp_path), []
    ws = ctx.workspace

    def taken_over(ctx: MeetingContext, report: StageReport, waveform: object = None) -> StageRecord:
        # another run broke the lease (this one was suspended past its expiry) and holds it now
        (ws.root / LEASE_FILE).write_text(json.dumps({"owner": "other", "holder": "gpu-2:7", "expires_at": 9e12}))
        write_text_atomic(ws.root / "late.txt", "written after the lease was lost")
        return StageRecord(status="done")

    run = RunInfo(meeting_id=ctx.meeting_id, started_at="t0")
    with pytest.raises(LeaseLostError, match="another run took over"):
        run_stages(ctx, run, [_stage("one", calls), StageSpec("two", taken_over), _stage("three", calls)],
                   lambda spec: execute_inline(spec, ctx, None), _finish)
    assert calls == ["one"]
    assert not (ws.root / "late.txt").exists()
    assert not ws.run_json.exists()  # run.json is the new holder's to write
    assert json.loads((ws.root / LEASE_FILE).read_text())["owner"] == "other"  # left to its holder


# -- issue 19: a meeting folder belongs to one recording (its full sha256) -------------------


def test_a_different_recording_landing_in_the_same_folder_is_refused(tmp_path: Path) -> None:
    from meeting_notes.errors import MeetingNotesError
    from meeting_notes.workspace import RecordingMismatchError

    ctx, calls = _ctx(tmp_path), []
    _loop(ctx, [_stage("one", calls)])
    before = {p.name: p.read_bytes() for p in ctx.workspace.root.iterdir() if p.is_file()}
    assert ctx.workspace.recorded_sha256() == ctx.audio.sha256
    # a crafted recording: same 8-hex prefix of its sha256 (same folder name), different content
    other = ctx.audio.model_copy(update={"sha256": ctx.audio.sha256[:8] + "cd" * 28, "path": str(tmp_path / "b.wav")})
    intruder = MeetingContext(tmp_path / "b.wav", other, ctx.workspace, ProcessOptions(), ctx.settings)
    with pytest.raises(RecordingMismatchError, match="different recording") as info:
        _loop(intruder, [_stage("one", calls)])
    assert isinstance(info.value, MeetingNotesError) and "b.wav" in str(info.value)
    assert calls == ["one"]
    after = {p.name: p.read_bytes() for p in ctx.workspace.root.iterdir() if p.is_file()}
    assert after == before  # the first recording's folder is untouched, run.json included
