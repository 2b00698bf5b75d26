"""How a stage runs, and the one loop over the stages of a meeting.

Every stage goes through :func:`run_cached`: its key covers the audio's hash, its parameters and
its upstream stages' keys (declared in its :class:`StageSpec`); it is skipped when the meeting
folder already holds outputs made under that key (checksums match); otherwise its record is
dropped, its body runs (outputs written atomically) and the key is recorded with the outputs'
checksums. :func:`run_stages` is the loop the CLI and the Prefect flow share: the meeting folder's
lease for the whole run, one record per stage in ``run.json``, one error format, and ``run.json``
written on every exit, Ctrl-C included. How one stage is executed is the caller's hook: inline
for the CLI, as a Prefect task for the flow.

This module sits at the bottom of the package: it knows no stage, only :class:`StageSpec`.
"""

from __future__ import annotations

import resource
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pydantic import BaseModel

from meeting_notes.atomic import fence
from meeting_notes.context import MeetingContext, ProcessOptions
from meeting_notes.errors import MeetingNotesError
from meeting_notes.process_defaults import apply_process_defaults
from meeting_notes.schema import RunInfo, StageRecord, read_json
from meeting_notes.workspace import MeetingWorkspace, stage_cache_key

Waveform = Callable[[], Any]
"""Gives the decoded recording when a stage really runs (a cached stage never decodes it)."""

StageCallback = Callable[[str, str, StageRecord | None], None]
"""Called as ``(stage, event, record)`` with event 'start', 'end' or 'progress:<detail>'."""


def real_time_factor(audio_s: float, wall_s: float) -> float | None:
    """Audio seconds processed per wall-clock second."""
    return round(audio_s / wall_s, 2) if wall_s > 0 and audio_s > 0 else None


def stage_record(t0: float, audio_duration: float) -> StageRecord:
    """A 'done' record for a stage that started at ``perf_counter()`` time ``t0``."""
    wall = time.perf_counter() - t0
    return StageRecord(status="done", wall_s=round(wall, 3), real_time_factor=real_time_factor(audio_duration, wall))


def peak_rss_mb() -> float:
    """Peak resident memory of this process so far, in MiB."""
    return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)


class StageReport(BaseModel):
    """What a stage adds to ``run.json`` besides its record: ``extra`` entries (``run.extra``)
    and model descriptions (``run.models``). A stage fills its report, never the run itself;
    the loop merges the report, also when the stage failed."""

    extra: dict[str, Any] = {}
    models: dict[str, dict[str, Any]] = {}

    def merge_into(self, run: RunInfo) -> None:
        run.extra.update(self.extra)
        run.models.update(self.models)


class StageOutcome(BaseModel):
    """A stage's record and report: what one execution of a stage hands back to the loop."""

    record: StageRecord
    report: StageReport = StageReport()


StageBody = Callable[[MeetingContext, StageReport, Waveform | None], StageRecord]


@dataclass(frozen=True)
class StageSpec:
    """One stage as the orchestrators see it."""

    name: str
    run: StageBody
    upstream: tuple[str, ...] = ()  # stages whose outputs it reads: their keys are part of its key
    uses_model: bool = False  # holds the inference (GPU) concurrency slot under Prefect
    retry_transient: bool = True  # Prefect retries failures that are not a MeetingNotesError (I/O, the LLM)
    wanted: Callable[[ProcessOptions], bool] = field(default=lambda options: True)


def run_cached(
    ctx: MeetingContext,
    stage: str,
    params: dict[str, Any],
    outputs: list[Path],
    body: Callable[[], object],
    upstream: tuple[str, ...] = (),
) -> StageRecord:
    """The one way a stage runs: is it done (same key, outputs present and unchanged)? else
    forget its record, run ``body`` (which writes ``outputs`` atomically), record key and
    checksums. The key covers the audio, ``params``, the code version and the upstream keys."""
    ws = ctx.workspace
    if upstream:
        params = {**params, "inputs": ws.keys_of(*upstream)}
    key = stage_cache_key(stage, ctx.audio.sha256, params)
    if ws.is_done(stage, key, outputs):
        return StageRecord(status="cached")
    ws.forget(stage)
    t0 = time.perf_counter()
    body()
    ws.mark_done(stage, key, outputs)
    return stage_record(t0, ctx.audio.duration)


def restamp(workspace: MeetingWorkspace, stage: str, outputs: list[Path], write: Callable[[], None]) -> None:
    """Rewrite outputs of a finished ``stage`` through ``write()`` and keep that stage finished
    under its key (its record then holds the new checksums). A stage that was not intact before
    is left unrecorded, so that it runs again."""
    key = workspace.keys_of(stage)[stage] or ""
    intact = bool(key) and workspace.is_done(stage, key, outputs)
    write()
    if intact:
        workspace.mark_done(stage, key, outputs)


def last_run_done(ws: MeetingWorkspace) -> bool:
    """Whether the meeting folder's last run finished every stage it was asked for (its
    ``run.json``, written by :func:`run_stages` on every exit, says ``done``)."""
    try:
        return read_json(RunInfo, ws.run_json).status == "done"
    except (FileNotFoundError, ValueError):
        return False


def failure_message(exc: BaseException) -> str:
    """What ``run.json`` says of a failure: a :class:`MeetingNotesError`'s message is written for
    the rep and stands alone; anything else keeps its type; Ctrl-C says so."""
    if isinstance(exc, KeyboardInterrupt):
        return "interrupted (Ctrl-C); the next run resumes after the last finished stage"
    if isinstance(exc, MeetingNotesError):
        return str(exc)
    return f"{type(exc).__name__}: {exc}"


def execute_inline(spec: StageSpec, ctx: MeetingContext, waveform: Waveform | None) -> StageOutcome:
    """Run a stage in this process (the CLI's hook). A failure carries the stage's report
    (``exc.stage_report``) so that what the stage recorded before failing reaches ``run.json``."""
    report = StageReport()
    try:
        record = spec.run(ctx, report, waveform)
    except BaseException as exc:
        exc.stage_report = report  # type: ignore[attr-defined]
        raise
    return StageOutcome(record=record, report=report)


Execute = Callable[[StageSpec], StageOutcome]


def run_stages(
    ctx: MeetingContext,
    run: RunInfo,
    specs: Sequence[StageSpec],
    execute: Execute,
    finish: Callable[[MeetingContext, RunInfo], None],
    notify: StageCallback | None = None,
    before_each: Callable[[], None] | None = None,
) -> RunInfo:
    """Run ``specs`` in order through ``execute`` under the meeting folder's lease (one run at a
    time in a folder, whatever its options: a second one waits). Each stage's record and report
    go into ``run``; the first failure stops the loop, is recorded (:func:`failure_message`) and
    re-raised; ``finish`` writes ``run.json`` on every exit.

    The folder must belong to this recording (:meth:`MeetingWorkspace.claim_for`: a different
    recording is refused before anything is written). While the loop runs, every atomic write
    into the folder first checks the lease (:func:`meeting_notes.atomic.fence`), and so does each
    stage's start: a run that lost its lease raises :class:`~meeting_notes.leases.LeaseLostError`
    before its next write, and leaves ``run.json`` to the run that took over."""
    apply_process_defaults()  # before any stage loads torch or CTranslate2
    tell = notify or (lambda *_: None)
    lease = ctx.workspace.lease(ctx.settings.orchestration.lock_lease_s)
    lease.acquire()
    remove_fence = fence(ctx.workspace.root, lease.ensure_held)  # a lost lease stops the next write
    try:
        ctx.workspace.claim_for(ctx.audio.sha256, ctx.audio_path.name)  # another recording's folder: refused
    except BaseException:
        remove_fence()
        lease.release()
        raise
    try:
        for spec in specs:
            if before_each is not None:
                before_each()
            lease.ensure_held()
            tell(spec.name, "start", None)
            def progress(detail: str, name: str = spec.name) -> None:
                tell(name, f"progress:{detail}", None)

            ctx.progress = progress
            try:
                outcome = execute(spec)
            except BaseException as exc:
                report = getattr(exc, "stage_report", None)
                if isinstance(report, StageReport):
                    report.merge_into(run)
                run.stages[spec.name] = StageRecord(status="failed", error=failure_message(exc))
                tell(spec.name, "end", run.stages[spec.name])
                raise
            finally:
                ctx.progress = None
            outcome.report.merge_into(run)
            run.stages[spec.name] = outcome.record
            tell(spec.name, "end", outcome.record)
        run.status = "done"
    except BaseException as exc:
        run.status = "failed"
        run.error = failure_message(exc)
        raise
    finally:
        try:
            if not lease.lost:  # a run that lost its lease leaves run.json to the new holder
                finish(ctx, run)
        finally:
            remove_fence()
            lease.release()
    return run


__all__ = [
    "StageCallback",
    "StageOutcome",
    "StageReport",
    "StageSpec",
    "Waveform",
    "execute_inline",
    "failure_message",
    "last_run_done",
    "peak_rss_mb",
    "real_time_factor",
    "restamp",
    "run_cached",
    "run_stages",
    "stage_record",
]
