"""A meeting's run from start to end around the stages: the folder and context
(:func:`prepare_meeting`), the ``run.json`` record (:func:`start_run`) and its completion
(:func:`finish_run`: models, device, totals, memory; the decoded copy dropped after success)."""

from __future__ import annotations

import time
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path

from meeting_notes import __version__
from meeting_notes.asr import describe_asr
from meeting_notes.audio import inspect_audio
from meeting_notes.clock import now_iso
from meeting_notes.context import MeetingContext, ProcessOptions
from meeting_notes.runner import peak_rss_mb, real_time_factor
from meeting_notes.schema import RunInfo, read_json, write_json
from meeting_notes.settings import Settings
from meeting_notes.stages.waveform import drop_decoded
from meeting_notes.workspace import MeetingWorkspace, meeting_id_for


def prepare_meeting(audio_path: Path, out_dir: Path, options: ProcessOptions, settings: Settings) -> MeetingContext:
    """Check the input (typed :class:`~meeting_notes.errors.InputError` when unusable) and create
    its meeting folder."""
    info = inspect_audio(audio_path, settings.audio)
    meeting_id = meeting_id_for(audio_path, info.sha256, options.facts.meeting_id)
    workspace = MeetingWorkspace(Path(out_dir) / meeting_id)
    workspace.create()
    return MeetingContext(Path(audio_path), info, workspace, options, settings)


def collect_versions() -> dict[str, str]:
    """Versions of the libraries that shape the results."""
    out = {"meeting-notes": __version__}
    for pkg in ("faster-whisper", "ctranslate2", "pyannote.audio", "torch", "torchaudio", "openai"):
        try:
            out[pkg] = version(pkg)
        except PackageNotFoundError:
            continue
    return out


def start_run(ctx: MeetingContext, started_at: str) -> RunInfo:
    """A new ``run.json`` record for this meeting."""
    return RunInfo(
        meeting_id=ctx.meeting_id,
        started_at=started_at,
        audio_duration=ctx.audio.duration,
        threads=ctx.settings.threads(),
        versions=collect_versions(),
    )


def _previous_models(ctx: MeetingContext, run: RunInfo) -> RunInfo | None:
    """The last ``run.json`` when this run reused both model stages' outputs: those outputs were
    made with the models it records (their keys cover the models), and describing them again
    would import torch, pyannote and CTranslate2 for nothing (seconds on a re-run)."""
    if not all(run.stages.get(s) and run.stages[s].status == "cached" for s in ("transcribe", "diarize")):
        return None
    try:
        previous = read_json(RunInfo, ctx.workspace.run_json)
    except (OSError, ValueError):
        return None
    return previous if {"asr", "diarization"} <= set(previous.models) else None


def finish_run(ctx: MeetingContext, run: RunInfo, t_start: float) -> None:
    """Fill in models, device, totals and memory, and write ``run.json`` (also after a failure)."""
    settings = ctx.settings
    previous = _previous_models(ctx, run)
    if previous is not None:
        run.models["asr"] = previous.models["asr"]
        run.models["diarization"] = previous.models["diarization"]
        run.device, run.compute_type = previous.device, previous.compute_type
    else:
        from meeting_notes.diarize import describe_diarization  # deferred: torch and pyannote take seconds to import

        asr_desc = describe_asr(ctx.options.asr_model or settings.asr.model, ctx.language, ctx.device, settings)
        run.models["asr"] = asr_desc
        run.models["diarization"] = describe_diarization(settings, ctx.device)
        run.device = asr_desc.get("device")
        run.compute_type = asr_desc.get("compute_type")
    run.finished_at = now_iso()
    run.wall_s = round(time.perf_counter() - t_start, 3)
    computed = sum(r.wall_s for r in run.stages.values())
    run.real_time_factor = real_time_factor(ctx.audio.duration, computed) if computed else None
    run.peak_rss_mb = peak_rss_mb()
    write_json(run, ctx.workspace.run_json)
    if run.status == "done":
        drop_decoded(ctx)


__all__ = ["collect_versions", "finish_run", "prepare_meeting", "start_run"]
