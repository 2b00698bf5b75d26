"""Process one recording in this process (the CLI's driver).

The stages and their order come from the registry (:data:`meeting_notes.stages.STAGES`), the loop
from :func:`meeting_notes.runner.run_stages` (the Prefect flow in ``flows/meeting.py`` runs the
same loop, each stage as a task). This module adds only what running inline needs: the decoded
recording shared by the stages of this run, and progress callbacks for the terminal.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from meeting_notes.clock import now_iso
from meeting_notes.context import ProcessOptions
from meeting_notes.runner import StageCallback, StageSpec, execute_inline, run_stages, stage_record
from meeting_notes.schema import RunInfo
from meeting_notes.settings import Settings
from meeting_notes.stages import stages_for
from meeting_notes.stages.lifecycle import finish_run, prepare_meeting, start_run
from meeting_notes.stages.waveform import decoded_waveform


def process_meeting(
    audio_path: Path,
    out_dir: Path,
    options: ProcessOptions,
    settings: Settings,
    on_stage: StageCallback | None = None,
) -> RunInfo:
    """Run every stage for one recording and write ``run.json``.

    Raises :class:`~meeting_notes.errors.InputError` when the recording cannot be used; a failure
    in a later stage (Ctrl-C included) is recorded in ``run.json`` and re-raised, and the next run
    resumes after the last finished stage.
    """
    notify = on_stage or (lambda *_: None)
    started = now_iso()
    t_start = time.perf_counter()

    notify("audio", "start", None)
    t0 = time.perf_counter()
    ctx = prepare_meeting(Path(audio_path), Path(out_dir), options, settings)
    run = start_run(ctx, started)
    run.stages["audio"] = stage_record(t0, ctx.audio.duration)
    notify("audio", "end", run.stages["audio"])

    shared: dict[str, Any] = {}

    def waveform() -> Any:
        if "w" not in shared:
            shared["w"] = decoded_waveform(ctx)
        return shared["w"]

    def execute(spec: StageSpec) -> Any:
        return execute_inline(spec, ctx, waveform)

    return run_stages(
        ctx, run, stages_for(options), execute, lambda c, r: finish_run(c, r, t_start), notify=notify
    )


__all__ = ["process_meeting"]
