"""The stage registry: every stage after ``audio``, in order, with what the orchestrators need to
know of it (its upstream stages, does it hold the inference slot, may a transient failure be
retried, does it run for these options).

Adding a stage is one module in this package (an adapter ``(ctx, report, waveform) ->
StageRecord`` over its stage module, usually through :func:`~meeting_notes.runner.run_cached`)
plus one :class:`~meeting_notes.runner.StageSpec` entry in :data:`STAGES`. The CLI
(:mod:`meeting_notes.pipeline`), the Prefect flow (``flows/meeting.py``) and ``relabel`` run
what this registry lists; "everything after names" is :func:`stages_after`.
"""

from __future__ import annotations

from meeting_notes.context import ProcessOptions
from meeting_notes.runner import StageSpec
from meeting_notes.stages import delivery, names, notes, report, transcript

STAGES: tuple[StageSpec, ...] = (
    StageSpec("transcribe", transcript.transcribe_stage, transcript.TRANSCRIBE_UPSTREAM, uses_model=True, retry_transient=False),
    StageSpec("diarize", transcript.diarize_stage, transcript.DIARIZE_UPSTREAM, uses_model=True, retry_transient=False),
    StageSpec("align", transcript.align_stage, transcript.ALIGN_UPSTREAM, retry_transient=False),
    StageSpec("names", names.names_stage, names.UPSTREAM, retry_transient=False),
    StageSpec("export", transcript.export_stage, transcript.EXPORT_UPSTREAM),
    StageSpec("analytics", transcript.analytics_stage, transcript.ANALYTICS_UPSTREAM, retry_transient=False),
    StageSpec("notes", notes.notes_stage, notes.UPSTREAM, wanted=lambda options: options.notes),
    StageSpec("deliver", delivery.deliver_stage, delivery.UPSTREAM, wanted=lambda options: options.notes),
    StageSpec("report", report.report_stage, report.UPSTREAM),
)
"""The stages after ``audio`` (checking and hashing the recording), in order."""

STAGE_NAMES: tuple[str, ...] = ("audio", *(s.name for s in STAGES))
"""Every stage as it appears in ``run.json``."""


def stage_named(name: str) -> StageSpec:
    """The registered stage called ``name`` (KeyError when there is none)."""
    for spec in STAGES:
        if spec.name == name:
            return spec
    raise KeyError(f"no stage named {name!r}; the stages are {', '.join(STAGE_NAMES)}")


def stages_for(options: ProcessOptions) -> list[StageSpec]:
    """The stages these options ask for, in order."""
    return [s for s in STAGES if s.wanted(options)]


def stages_after(name: str, options: ProcessOptions | None = None) -> list[StageSpec]:
    """``name`` and every stage that reads its outputs, directly or through another stage, in
    order (what must run again when ``name``'s outputs change); with ``options``, only the
    stages those options ask for."""
    stage_named(name)
    affected = {name}
    out: list[StageSpec] = []
    for spec in STAGES:
        if spec.name == name or affected & set(spec.upstream):
            affected.add(spec.name)
            if options is None or spec.wanted(options):
                out.append(spec)
    return out


__all__ = ["STAGES", "STAGE_NAMES", "stage_named", "stages_after", "stages_for"]
