"""The ``process-meeting`` flow: one flow run per meeting, one task per stage.

Tasks pass a :class:`MeetingRef` (paths, the audio's hash and the options) and return small
:class:`StageRecord` models; each stage loads what it needs from the meeting folder, and the
stage modules keep their models loaded for the life of the worker process.
"""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from prefect import flow, get_run_logger, task
from prefect.artifacts import create_markdown_artifact, create_table_artifact
from prefect.concurrency.sync import concurrency
from prefect.context import FlowRunContext
from prefect.concurrency._asyncio import ConcurrencySlotAcquisitionError
from prefect.states import State
from prefect.tasks import exponential_backoff
from pydantic import BaseModel

from meeting_notes import pipeline
from meeting_notes.errors import MeetingNotesError
from meeting_notes.inbox import ClaimLostError, Inbox, InboxItem
from meeting_notes.schema import AudioInfo, RunInfo, StageRecord
from meeting_notes.settings import Settings, get_settings
from meeting_notes.workspace import MeetingWorkspace

from flows.caching import cache_is_trusted, remember_trusted, stage_cache_policy, task_cache_key

INFERENCE_STAGES = ("transcribe", "diarize")


class GpuLimitMissingError(MeetingNotesError):
    """The global concurrency limit named in the settings does not exist on the Prefect server."""


class MeetingRef(BaseModel):
    """What a task needs to find one meeting: no waveforms, no models."""

    audio_path: str
    out_dir: str
    workspace: str
    audio: AudioInfo
    options: dict[str, Any]

    def context(self, settings: Settings) -> pipeline.MeetingContext:
        """The pipeline's context for this meeting, rebuilt in the task's process."""
        return pipeline.MeetingContext(
            audio_path=Path(self.audio_path),
            audio=self.audio,
            workspace=MeetingWorkspace(Path(self.workspace)),
            options=pipeline.ProcessOptions(**self.options),
            settings=settings,
        )


@contextmanager
def gpu_slot(settings: Settings) -> Iterator[None]:
    """Hold one slot of the model-inference concurrency limit (none when it is disabled)."""
    name = settings.orchestration.gpu_limit_name
    if not name:
        yield
        return
    try:
        with concurrency(name, occupy=1, strict=True):
            yield
    except ConcurrencySlotAcquisitionError as exc:
        raise GpuLimitMissingError(
            f"The concurrency limit {name!r} does not exist on this Prefect server. Create it with "
            f"`prefect gcl create {name} --limit 1` (`meeting-notes serve` and `watch` do this), "
            "or set MEETING_NOTES_ORCHESTRATION__GPU_LIMIT_NAME='' to run without one."
        ) from exc


def retry_unless_permanent(task: Any, task_run: Any, state: State) -> bool:
    """Retry transient failures only: a :class:`MeetingNotesError` (bad input, missing model) is final."""
    exc = state.result(raise_on_failure=False)
    return not isinstance(exc, MeetingNotesError)


_IO_RETRIES: dict[str, Any] = {
    "retries": 3,
    "retry_delay_seconds": exponential_backoff(backoff_factor=2),
    "retry_jitter_factor": 0.2,
    "retry_condition_fn": retry_unless_permanent,
}


@task(name="prepare", **_IO_RETRIES)
def prepare_task(audio_path: str, out_dir: str, options: dict[str, Any]) -> MeetingRef:
    """Check the recording, hash it and create its meeting folder."""
    ctx = pipeline.prepare_meeting(Path(audio_path), Path(out_dir), pipeline.ProcessOptions(**options), get_settings())
    return MeetingRef(
        audio_path=str(ctx.audio_path),
        out_dir=str(out_dir),
        workspace=str(ctx.workspace.root),
        audio=ctx.audio,
        options=options,
    )


@task(name="transcribe", persist_result=True)
def transcribe_task(stage: str, ref: MeetingRef) -> StageRecord:
    """Speech to timestamped words, holding a GPU slot."""
    settings = get_settings()
    with gpu_slot(settings):
        return pipeline.transcribe_stage(ref.context(settings))


@task(name="diarize", persist_result=True)
def diarize_task(stage: str, ref: MeetingRef) -> StageRecord:
    """Who spoke when, holding a GPU slot."""
    settings = get_settings()
    with gpu_slot(settings):
        return pipeline.diarize_stage(ref.context(settings))


@task(name="align", persist_result=True)
def align_task(stage: str, ref: MeetingRef) -> StageRecord:
    """Words and turns into the speaker-attributed transcript."""
    return pipeline.align_stage(ref.context(get_settings()))


@task(name="export", persist_result=True, **_IO_RETRIES)
def export_task(stage: str, ref: MeetingRef) -> StageRecord:
    """Subtitle and reading formats."""
    return pipeline.export_stage(ref.context(get_settings()))


class NotesTaskResult(BaseModel):
    """The notes stage's record plus what it adds to ``run.json`` (kept when the task is cached)."""

    record: StageRecord
    extra: dict[str, Any]
    models: dict[str, dict[str, str]]


@task(name="notes", persist_result=True, **_IO_RETRIES)
def notes_task(stage: str, ref: MeetingRef, run: RunInfo) -> NotesTaskResult:
    """CRM sales notes from the transcript (calls the LLM)."""
    from meeting_notes.notes_stage import notes_stage

    scratch = run.model_copy(deep=True)
    record = notes_stage(ref.context(get_settings()), scratch)
    new_models = {k: v for k, v in scratch.models.items() if run.models.get(k) != v}
    return NotesTaskResult(record=record, extra=scratch.extra, models=new_models)


STAGE_TASKS = {
    "transcribe": transcribe_task,
    "diarize": diarize_task,
    "align": align_task,
    "export": export_task,
    "notes": notes_task,
}


def run_stage(name: str, ref: MeetingRef, settings: Settings, **extra: Any) -> tuple[Any, bool]:
    """Run one stage task; returns its result and whether it came from the Prefect cache.

    A persisted result is reused only while the meeting folder still holds what it describes.
    """
    ws = MeetingWorkspace(Path(ref.workspace))
    key = task_cache_key(name, ref, settings)
    trusted = cache_is_trusted(ws, name, key)
    stage_task = STAGE_TASKS[name].with_options(
        cache_policy=stage_cache_policy(settings), refresh_cache=not trusted
    )
    state = stage_task(name, ref, **extra, return_state=True)
    value = state.result()  # raises the stage's error when it failed
    remember_trusted(ws, name, key)
    return value, state.name == "Cached"


def stages_for(options: pipeline.ProcessOptions) -> list[str]:
    """The stage tasks to run, in order."""
    names = ["transcribe", "diarize", "align", "export"]
    return names + ["notes"] if options.notes else names


@flow(name="process-meeting", log_prints=True)
def process_meeting(
    audio_path: str,
    out_dir: str | None = None,
    language: str | None = None,
    num_speakers: int | None = None,
    min_speakers: int | None = None,
    max_speakers: int | None = None,
    asr_model: str | None = None,
    device: str | None = None,
    notes: bool = True,
    hints: dict[str, Any] | None = None,
    inbox_root: str | None = None,
    claim_id: str | None = None,
) -> RunInfo:
    """Process one recording; when it was claimed from an inbox, move it to done/ or failed/ after.

    ``claim_id`` is the inbox claim's owner token: a run whose claim expired while it waited in
    a queue, and whose file another run has taken since, stops at once and touches nothing.
    """
    settings = get_settings()
    out = out_dir or str(settings.orchestration.out_dir)
    options = pipeline.ProcessOptions(
        language=language,
        num_speakers=num_speakers,
        min_speakers=min_speakers,
        max_speakers=max_speakers,
        asr_model=asr_model,
        device=device,
        notes=notes,
        hints=dict(hints or {}),
    )
    inbox = (
        Inbox(Path(inbox_root), settings.orchestration.claim_timeout_s, settings.orchestration.queue_timeout_s)
        if inbox_root
        else None
    )
    item = inbox.claimed_file(Path(audio_path), claim_id) if inbox else None
    if inbox and claim_id and item is None:
        raise ClaimLostError(
            f"The inbox claim {claim_id} of {Path(audio_path).name} is gone (it expired while this run "
            "was queued, or the file was finished by another run); nothing was done."
        )
    if inbox and item:
        inbox.heartbeat(item)  # queued -> running, with the running lease
    try:
        run = run_meeting(audio_path, out, options, settings, item and (lambda: inbox.heartbeat(item)))
    except BaseException as exc:
        if inbox and item:
            inbox.fail(item, f"{type(exc).__name__}: {exc}")
        raise
    if inbox and item:
        inbox.complete(item, Path(out) / run.meeting_id)
    return run


def run_meeting(
    audio_path: str,
    out_dir: str,
    options: pipeline.ProcessOptions,
    settings: Settings,
    heartbeat: Any = None,
) -> RunInfo:
    """The body of :func:`process_meeting`: the stage tasks in order, then ``run.json`` and artifacts."""
    logger = get_run_logger()
    started = pipeline.now_iso()
    t_start = time.perf_counter()
    t0 = time.perf_counter()
    ref = prepare_task(audio_path, out_dir, options.to_dict())
    ctx = ref.context(settings)
    run = pipeline.start_run(ctx, started)
    run.stages["audio"] = pipeline.stage_record(t0, ref.audio.duration)
    flow_ctx = FlowRunContext.get()
    if flow_ctx and flow_ctx.flow_run:
        run.extra["prefect_flow_run_id"] = str(flow_ctx.flow_run.id)
    # one run at a time in a meeting folder, whatever its options (a second one waits)
    lease = ctx.workspace.lease(settings.orchestration.lock_lease_s)
    lease.acquire()
    try:
        for name in stages_for(options):
            if heartbeat:
                heartbeat()
            try:
                if name == "notes":
                    notes, cached = run_stage(name, ref, settings, run=run)
                    run.extra.update(notes.extra)
                    run.models.update(notes.models)
                    record = notes.record
                else:
                    record, cached = run_stage(name, ref, settings)
            except BaseException as exc:
                run.stages[name] = StageRecord(status="failed", error=f"{type(exc).__name__}: {exc}")
                raise
            run.stages[name] = StageRecord(status="cached") if cached else record
            logger.info("%s: %s", name, run.stages[name].status)
        run.status = "done"
    except BaseException as exc:
        run.status, run.error = "failed", f"{type(exc).__name__}: {exc}"
        raise
    finally:
        pipeline.finish_run(ctx, run, t_start)
        lease.release()
        publish_artifacts(run, ctx.workspace)
    return run


def artifact_key(prefix: str, meeting_id: str) -> str:
    """A Prefect artifact key (lowercase letters, digits and dashes)."""
    slug = re.sub(r"[^a-z0-9-]+", "-", meeting_id.lower()).strip("-")
    return f"{prefix}-{slug}"[:100]


def timings_table(run: RunInfo) -> list[dict[str, Any]]:
    """One row per stage: status, wall seconds, real-time factor, error."""
    return [
        {
            "stage": name,
            "status": rec.status,
            "wall_s": rec.wall_s,
            "real_time_factor": rec.real_time_factor,
            "error": rec.error or "",
        }
        for name, rec in run.stages.items()
    ]


def notes_markdown(run: RunInfo, ws: MeetingWorkspace) -> str:
    """The notes as markdown, or a short statement of why there are none."""
    if ws.notes_md.is_file():
        return ws.notes_md.read_text(encoding="utf-8")
    reason = run.stages.get("notes")
    why = f"the notes stage {reason.status}" if reason else "notes were not requested"
    return f"# {run.meeting_id}\n\nNo notes: {why}. Transcript: `{ws.markdown}`\n"


def publish_artifacts(run: RunInfo, ws: MeetingWorkspace) -> None:
    """A markdown artifact with the notes and a table artifact with the per-stage timings."""
    create_markdown_artifact(
        markdown=notes_markdown(run, ws),
        key=artifact_key("notes", run.meeting_id),
        description=f"Sales notes for {run.meeting_id}",
    )
    create_table_artifact(
        table=timings_table(run),
        key=artifact_key("stage-timings", run.meeting_id),
        description=f"Per-stage timings of {run.meeting_id} ({run.status})",
    )


__all__ = ["InboxItem", "MeetingRef", "process_meeting", "run_meeting", "run_stage"]
