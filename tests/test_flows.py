"""The Prefect flows against a temporary Prefect server, with small fake stages.

The fakes replace the stages of the registry (:data:`meeting_notes.stages.STAGES`, which the
flows run) and keep the stages' contract: they write their file into the meeting
folder, record their key there and answer ``cached`` when already done.
"""

from __future__ import annotations

import shutil
import sys
import threading
import time
from dataclasses import replace
from collections import Counter
from pathlib import Path

import pytest

pytest.importorskip("prefect")

from prefect.client.orchestration import get_client  # noqa: E402
from prefect.settings import PREFECT_RESULTS_LOCAL_STORAGE_PATH, temporary_settings  # noqa: E402

from meeting_notes import stages  # noqa: E402
from meeting_notes.context import MeetingContext  # noqa: E402
from meeting_notes.errors import CorruptAudioError  # noqa: E402
from meeting_notes.inbox import Inbox  # noqa: E402
from meeting_notes.hashing import file_sha256  # noqa: E402
from meeting_notes.schema import AudioInfo, MeetingFacts, RunInfo, StageRecord, read_json  # noqa: E402
from meeting_notes.settings import get_settings  # noqa: E402
from meeting_notes.workspace import MeetingWorkspace, meeting_id_for, stage_cache_key  # noqa: E402


class FakeStages:
    """Counts real work per stage; ``fail`` names stages that raise; ``delay`` slows inference."""

    def __init__(self) -> None:
        self.calls: Counter[str] = Counter()
        self.fail: dict[str, Exception] = {}
        self.delay = 0.0
        self.entered = threading.Event()
        self.facts: list[MeetingFacts] = []  # what each stage's context carried

    def prepare(self, audio_path, out_dir, options, settings):  # noqa: ANN001, ANN201
        if "audio" in self.fail:
            raise self.fail["audio"]
        sha = file_sha256(audio_path)
        info = AudioInfo(path=str(audio_path), sha256=sha, duration=60.0)
        ws = MeetingWorkspace(Path(out_dir) / meeting_id_for(audio_path, sha, options.facts.meeting_id))
        ws.create()
        return MeetingContext(Path(audio_path), info, ws, options, settings)

    def stage(self, name: str, output: str):  # noqa: ANN201
        def run(ctx, *args):  # noqa: ANN001, ANN202
            ws = ctx.workspace
            self.facts.append(ctx.options.facts)
            key = stage_cache_key(name, ctx.audio.sha256, {"options": ctx.options.to_dict()})
            if ws.is_done(name, key, [ws.root / output]):
                return StageRecord(status="cached")
            self.calls[name] += 1
            if name in self.fail:
                raise self.fail[name]
            if name == "transcribe":
                self.entered.set()
                time.sleep(self.delay)
            (ws.root / output).write_text(f"{name} of {ctx.audio.sha256[:8]}")
            ws.mark_done(name, key)
            return StageRecord(status="done", wall_s=0.5)

        return run


@pytest.fixture
def fakes(prefect_server, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> FakeStages:
    fake = FakeStages()
    monkeypatch.setattr("flows.meeting.prepare_meeting", fake.prepare)
    outputs = {
        "transcribe": "asr.json",
        "diarize": "diarization.json",
        "align": "transcript.json",
        "names": "names.json",
        "export": "transcript.md",
        "analytics": "analytics.json",
        "report": "report.html",
    }
    notes_run = fake.stage("notes", "notes.md")

    def fake_notes(ctx, report, waveform=None):  # noqa: ANN001, ANN202 -- the real one also reports
        report.extra["notes"] = {"prompt_version": "test"}
        report.models["llm"] = {"name": "fake-llm"}
        return notes_run(ctx)

    runs = {name: fake.stage(name, output) for name, output in outputs.items()} | {"notes": fake_notes}
    faked = tuple(replace(spec, run=runs[spec.name]) if spec.name in runs else spec for spec in stages.STAGES)
    monkeypatch.setattr(stages, "STAGES", faked)
    for key, value in {
        "GPU_LIMIT_NAME": "test-gpu",
        "STABLE_SECONDS": "0.3",
        "OUT_DIR": str(tmp_path / "out"),
    }.items():
        monkeypatch.setenv(f"MEETING_NOTES_ORCHESTRATION__{key}", value)
    get_settings.cache_clear()
    with temporary_settings({PREFECT_RESULTS_LOCAL_STORAGE_PATH: str(tmp_path / "results")}):
        yield fake
    get_settings.cache_clear()


def _audio(tmp_path: Path, name: str = "call.wav", data: bytes = b"fake recording") -> Path:
    path = tmp_path / name
    path.write_bytes(data)
    return path


def test_flow_runs_every_stage_and_publishes_notes_and_timings(fakes: FakeStages, tmp_path: Path) -> None:
    from flows.meeting import artifact_key, process_meeting

    run = process_meeting(str(_audio(tmp_path)), str(tmp_path / "out"))
    assert run.status == "done"
    assert fakes.calls == Counter(transcribe=1, diarize=1, align=1, names=1, export=1, analytics=1, notes=1, report=1)
    saved = read_json(RunInfo, tmp_path / "out" / run.meeting_id / "run.json")
    statuses = {s: saved.stages[s].status for s in stages.STAGE_NAMES}
    assert statuses == {s: "skipped" if s == "deliver" else "done" for s in stages.STAGE_NAMES}  # no notes.json to deliver
    assert saved.extra["notes"] == {"prompt_version": "test"} and saved.models["llm"] == {"name": "fake-llm"}
    again = process_meeting(str(_audio(tmp_path)), str(tmp_path / "out"))
    assert again.stages["notes"].status == "cached" and again.models["llm"] == {"name": "fake-llm"}
    assert fakes.calls["notes"] == 1
    with get_client(sync_client=True) as client:
        notes = client.read_latest_artifacts()
    by_key = {a.key: a for a in notes}
    assert "notes of" in by_key[artifact_key("notes", run.meeting_id)].data
    assert "report.html" in by_key[artifact_key("report", run.meeting_id)].data  # a link to the meeting page
    timings = by_key[artifact_key("stage-timings", run.meeting_id)].data
    assert "transcribe" in timings and "real_time_factor" in timings


def test_the_flow_hints_are_the_typed_facts_of_every_stage(fakes: FakeStages, tmp_path: Path) -> None:
    from flows.meeting import process_meeting
    from meeting_notes.sidecar import SidecarError

    hints = {"meeting_id": "acme-renewal", "date": "2026-11-20", "participants": ["Kenji Sato (Acme)"], "crm_ids": {"deal_id": "1"}}
    run = process_meeting(str(_audio(tmp_path)), str(tmp_path / "out"), notes=False, hints=hints)
    assert run.status == "done" and run.meeting_id.startswith("acme-renewal-")
    assert fakes.facts and all(f == MeetingFacts.model_validate(hints) for f in fakes.facts)
    assert fakes.facts[0].participants[0].company == "Acme"
    with pytest.raises(SidecarError, match=r"the flow's hints are not valid meeting facts(.|\n)*participants.0.side"):
        process_meeting(str(_audio(tmp_path)), str(tmp_path / "out"), hints={"participants": [{"name": "Ann", "side": "seller"}]})


def test_rerun_after_failed_stage_resumes_there(fakes: FakeStages, tmp_path: Path) -> None:
    from flows.meeting import process_meeting

    audio = str(_audio(tmp_path))
    fakes.fail["align"] = RuntimeError("disk full")
    with pytest.raises(RuntimeError, match="disk full"):
        process_meeting(audio, str(tmp_path / "out"), notes=False)
    meeting = next((tmp_path / "out").iterdir())
    failed = read_json(RunInfo, meeting / "run.json")
    assert failed.status == "failed" and failed.stages["align"].status == "failed"

    del fakes.fail["align"]
    run = process_meeting(audio, str(tmp_path / "out"), notes=False)
    assert run.status == "done"
    assert fakes.calls == Counter(transcribe=1, diarize=1, align=2, names=1, export=1, analytics=1, report=1)
    assert {s: run.stages[s].status for s in ("transcribe", "diarize", "align")} == {
        "transcribe": "cached",
        "diarize": "cached",
        "align": "done",
    }


def test_deleted_meeting_folder_is_recomputed_not_served_from_prefect_cache(
    fakes: FakeStages, tmp_path: Path
) -> None:
    from flows.meeting import process_meeting

    audio = str(_audio(tmp_path))
    first = process_meeting(audio, str(tmp_path / "out"), notes=False)
    shutil.rmtree(tmp_path / "out" / first.meeting_id)
    again = process_meeting(audio, str(tmp_path / "out"), notes=False)
    assert again.status == "done" and again.stages["transcribe"].status == "done"
    assert fakes.calls["transcribe"] == 2
    assert (tmp_path / "out" / first.meeting_id / "transcript.md").is_file()


def test_two_concurrent_triggers_on_one_file_run_each_stage_once(
    fakes: FakeStages, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from flows.meeting import process_meeting

    # no GPU limit, so that only the meeting folder's lease keeps the two runs apart
    monkeypatch.setenv("MEETING_NOTES_ORCHESTRATION__GPU_LIMIT_NAME", "")
    get_settings.cache_clear()
    audio = str(_audio(tmp_path))
    fakes.delay = 4.0
    results: list[RunInfo | BaseException] = []

    def trigger() -> None:
        try:
            results.append(process_meeting(audio, str(tmp_path / "out"), notes=False))
        except BaseException as exc:  # reported below
            results.append(exc)

    threads = [threading.Thread(target=trigger) for _ in range(2)]
    threads[0].start()
    assert fakes.entered.wait(60)  # the first run is inside transcribe: now trigger again
    threads[1].start()
    for t in threads:
        t.join(timeout=120)
    assert all(isinstance(r, RunInfo) and r.status == "done" for r in results), results
    assert fakes.calls == Counter(transcribe=1, diarize=1, align=1, names=1, export=1, analytics=1, report=1)


def test_missing_gpu_limit_fails_with_a_clear_message(
    fakes: FakeStages, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from flows.meeting import GpuLimitMissingError, process_meeting

    monkeypatch.setenv("MEETING_NOTES_ORCHESTRATION__GPU_LIMIT_NAME", "no-such-limit")
    get_settings.cache_clear()
    with pytest.raises(GpuLimitMissingError, match="prefect gcl create no-such-limit"):
        process_meeting(str(_audio(tmp_path)), str(tmp_path / "out"), notes=False)
    assert fakes.calls["transcribe"] == 0


def test_sweep_runs_a_file_dropped_twice_once_and_leaves_half_written_files(
    fakes: FakeStages, tmp_path: Path
) -> None:
    from flows.intake import inbox_sweep

    inbox = Inbox(tmp_path / "inbox")
    (inbox.layout.inbox / "monday.wav").write_bytes(b"same meeting")
    (inbox.layout.inbox / "monday (copy).wav").write_bytes(b"same meeting")
    (inbox.layout.inbox / "monday.wav.meeting.json").write_text('{"title": "Acme", "num_speakers": 2}')
    growing = inbox.layout.inbox / "uploading.wav"
    growing.write_bytes(b"x")
    stop = threading.Event()

    def keep_writing() -> None:
        with growing.open("ab") as fh:
            while not stop.is_set():
                fh.write(b"x")
                fh.flush()
                time.sleep(0.05)

    writer = threading.Thread(target=keep_writing)
    writer.start()
    try:
        results = inbox_sweep(str(inbox.layout.root), str(tmp_path / "out"), notes=False)
    finally:
        stop.set()
        writer.join()

    assert sorted(r["status"] for r in results) == ["done", "duplicate"]
    assert fakes.calls == Counter(transcribe=1, diarize=1, align=1, names=1, export=1, analytics=1, report=1)
    assert growing.exists()  # still being written: left for a later sweep
    done = sorted(p.name for p in inbox.layout.done.iterdir())
    assert "monday.wav" in done and "monday.wav.meeting.json" in done
    assert any(n.endswith(".duplicate.json") for n in done)
    assert not [p for p in inbox.layout.processing.iterdir()]
    assert not list(inbox.layout.ledger.glob("*.claim"))


def test_inbox_file_whose_run_fails_lands_in_failed_with_the_reason(fakes: FakeStages, tmp_path: Path) -> None:
    from flows.intake import inbox_sweep

    inbox = Inbox(tmp_path / "inbox")
    (inbox.layout.inbox / "broken.wav").write_bytes(b"not audio")
    fakes.fail["audio"] = CorruptAudioError("broken.wav cannot be decoded")
    results = inbox_sweep(str(inbox.layout.root), str(tmp_path / "out"), notes=False)
    assert [r["status"] for r in results] == ["failed"]
    assert (inbox.layout.failed / "broken.wav").read_bytes() == b"not audio"
    assert "cannot be decoded" in (inbox.layout.failed / "broken.wav.error.json").read_text()


def test_report_link_artifact_is_served_when_reports_are(tmp_path: Path) -> None:
    """The link artifact opens from the Prefect UI where the meeting folders are served
    (``crm.report_base_url``, the address CRM records link to); else it is the file:// URI."""
    from flows.meeting import report_artifact_link

    from meeting_notes.settings import CRMSettings, Settings

    ws = MeetingWorkspace(tmp_path / "out" / "acme-1a2b3c4d")
    link, note = report_artifact_link(ws, Settings(cache_dir=tmp_path / "c"))
    assert link == (tmp_path / "out" / "acme-1a2b3c4d" / "report.html").resolve().as_uri() and "file://" in note
    served = Settings(cache_dir=tmp_path / "c", crm=CRMSettings(report_base_url="https://meetings.example/out/"))
    assert report_artifact_link(ws, served)[0] == "https://meetings.example/out/acme-1a2b3c4d/report.html"
