"""The ``process-meeting`` flow: one flow run per meeting, one task per stage.

The stages, their order and how each one decides whether it is already done come from the
registry (:data:`meeting_notes.stages.STAGES`), the loop from :func:`meeting_notes.runner.run_stages`
(the same loop as the CLI's); this module only runs each stage as a Prefect task and adds what
Prefect is for: retries of transient
failures (never of bad input, never of model inference), the global concurrency limit around
inference, the meeting folder's lease for the whole run, and artifacts. Tasks pass a
:class:`MeetingRef` (paths, the audio's hash and the options) and return a small
:class:`StageOutcome`; nothing is cached by Prefect: the meeting folder is the one record of
what is done, so a re-run's tasks finish at once with status ``cached``.
"""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from contextlib import contextmanager
from functools import partial
from pathlib import Path
from typing import Any

from prefect import flow, get_run_logger, task
from prefect.artifacts import create_link_artifact, create_markdown_artifact, create_table_artifact
from prefect.concurrency._asyncio import ConcurrencySlotAcquisitionError
from prefect.concurrency.sync import concurrency
from prefect.context import FlowRunContext
from prefect.states import State
from prefect.tasks import exponential_backoff
from pydantic import BaseModel

from flows.params import check_meeting_parameters, started_by_deployment
from meeting_notes.clock import now_iso
from meeting_notes.context import MeetingContext, ProcessOptions
from meeting_notes.crm.mapping import served_report_url
from meeting_notes.errors import MeetingNotesError
from meeting_notes.inbox import ClaimLostError, Inbox, InboxItem
from meeting_notes.markdown import escape_markdown, escape_markdown_block
from meeting_notes.runner import StageOutcome, StageReport, StageSpec, run_stages, stage_record
from meeting_notes.schema import AudioInfo, RunInfo
from meeting_notes.settings import Settings, get_settings
from meeting_notes.sidecar import facts_from_dict
from meeting_notes.stages import stage_named, stages_for
from meeting_notes.stages.lifecycle import finish_run, prepare_meeting, start_run
from meeting_notes.workspace import MeetingWorkspace


class GpuLimitMissingError(MeetingNotesError):
    """The global concurrency limit named in the settings does not exist on the Prefect server."""


class MeetingRef(BaseModel):
    """What a task needs to find one meeting: no waveforms, no models."""

    audio_path: str
    out_dir: str
    workspace: str
    audio: AudioInfo
    options: dict[str, Any]

    def context(self, settings: Settings) -> MeetingContext:
        """The pipeline's context for this meeting, rebuilt in the task's process."""
        return MeetingContext(
            audio_path=Path(self.audio_path),
            audio=self.audio,
            workspace=MeetingWorkspace(Path(self.workspace)),
            options=ProcessOptions.from_dict(self.options),
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
    ctx = prepare_meeting(Path(audio_path), Path(out_dir), ProcessOptions.from_dict(options), get_settings())
    return MeetingRef(
        audio_path=str(ctx.audio_path),
        out_dir=str(out_dir),
        workspace=str(ctx.workspace.root),
        audio=ctx.audio,
        options=options,
    )


@task
def stage_task(stage: str, ref: MeetingRef) -> StageOutcome:
    """Run one registered stage (holding the inference slot when it uses a model); its record
    and what it adds to ``run.json`` come back as a :class:`~meeting_notes.runner.StageOutcome`."""
    settings = get_settings()
    spec = stage_named(stage)
    report = StageReport()
    with gpu_slot(settings) if spec.uses_model else _no_slot():
        record = spec.run(ref.context(settings), report, None)
    return StageOutcome(record=record, report=report)


@contextmanager
def _no_slot() -> Iterator[None]:
    yield


def run_stage(spec: StageSpec, ref: MeetingRef) -> StageOutcome:
    """One stage as a Prefect task named after it, with its retry policy."""
    options: dict[str, Any] = {"name": spec.name}
    if spec.retry_transient:
        options.update(_IO_RETRIES)
    return stage_task.with_options(**options)(spec.name, ref)


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

    ``hints``: the meeting's facts as a plain dict (the sidecar's fields but ``language`` and
    ``num_speakers``: :class:`~meeting_notes.schema.MeetingFacts`), validated at once; wrong ones
    fail the run (``SidecarError``). ``claim_id`` is the inbox claim's owner token: a run whose
    claim expired while it waited in a queue, and whose file another run has taken since, stops
    at once and touches nothing. A run started through a deployment (its parameters came from the
    Prefect API) is refused (:class:`~flows.params.FlowParameterError`) when its paths lie outside
    ``flows.input_roots`` / ``flows.output_roots`` or its ``hints.crm_ids`` are not its sidecar's.
    """
    settings = get_settings()
    if started_by_deployment():  # parameters from the Prefect API: confined first (flows.*)
        audio_path, out_dir, inbox_root = check_meeting_parameters(settings, audio_path, out_dir, inbox_root, hints)
    out = out_dir or str(settings.orchestration.out_dir)
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
        options = ProcessOptions(
            language=language,
            num_speakers=num_speakers,
            min_speakers=min_speakers,
            max_speakers=max_speakers,
            asr_model=asr_model,
            device=device,
            notes=notes,
            facts=facts_from_dict(hints, "the flow's hints"),
        )
        run = run_meeting(audio_path, out, options, settings, partial(inbox.heartbeat, item) if inbox and item else None)
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
    options: ProcessOptions,
    settings: Settings,
    heartbeat: Any = None,
) -> RunInfo:
    """The body of :func:`process_meeting`: the stage tasks in order, then ``run.json`` and artifacts."""
    logger = get_run_logger()
    started = now_iso()
    t_start = time.perf_counter()
    t0 = time.perf_counter()
    ref = prepare_task(audio_path, out_dir, options.to_dict())
    ctx = ref.context(settings)
    run = start_run(ctx, started)
    run.stages["audio"] = stage_record(t0, ref.audio.duration)
    flow_ctx = FlowRunContext.get()
    if flow_ctx and flow_ctx.flow_run:
        run.extra["prefect_flow_run_id"] = str(flow_ctx.flow_run.id)

    def log_end(stage: str, event: str, record: Any) -> None:
        if event == "end":
            logger.info("%s: %s", stage, record.status)

    def finish(c: MeetingContext, r: RunInfo) -> None:
        finish_run(c, r, t_start)
        publish_artifacts(r, c.workspace, settings)

    return run_stages(
        ctx, run, stages_for(options), lambda spec: run_stage(spec, ref), finish, notify=log_end, before_each=heartbeat
    )


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
    return f"# {escape_markdown_block(run.meeting_id)}\n\nNo notes: {why}. Transcript: {escape_markdown(str(ws.markdown))}\n"


def report_artifact_link(ws: MeetingWorkspace, settings: Settings | None = None) -> tuple[str, str]:
    """The link artifact's target and its note: the served report (``crm.report_base_url``, the
    address CRM records link to; a browser follows it from the Prefect UI), else the file:// URI
    (browsers do not open file:// links from an http page: copy it on a machine that sees the
    output folder)."""
    served = served_report_url(ws.root, settings.crm) if settings is not None else None
    if served:
        return served, "served under crm.report_base_url"
    return ws.report_html.resolve().as_uri(), (
        "a file:// link: copy it into the address bar on a machine that sees the output folder, "
        "or set crm.report_base_url to where the meeting folders are served")


def publish_artifacts(run: RunInfo, ws: MeetingWorkspace, settings: Settings | None = None) -> None:
    """A markdown artifact with the notes, a table artifact with the per-stage timings and a
    link artifact to the meeting's ``report.html`` (:func:`report_artifact_link`)."""
    if ws.report_html.is_file():
        link, note = report_artifact_link(ws, settings)
        create_link_artifact(
            link=link,
            link_text=f"report.html of {escape_markdown(run.meeting_id)}",
            key=artifact_key("report", run.meeting_id),
            description=f"The meeting page of {escape_markdown(run.meeting_id)} ({note})",
        )
    create_markdown_artifact(
        markdown=notes_markdown(run, ws),
        key=artifact_key("notes", run.meeting_id),
        description=f"Sales notes for {escape_markdown(run.meeting_id)}",
    )
    create_table_artifact(
        table=timings_table(run),
        key=artifact_key("stage-timings", run.meeting_id),
        description=f"Per-stage timings of {escape_markdown(run.meeting_id)} ({run.status})",
    )


__all__ = ["InboxItem", "MeetingRef", "StageOutcome", "process_meeting", "run_meeting", "run_stage"]
