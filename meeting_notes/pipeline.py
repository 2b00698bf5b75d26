"""The stages of one meeting, as plain functions over a meeting folder.

Each ``*_stage`` function reads its inputs from the meeting folder, writes its outputs there
atomically, and is skipped (status ``cached``) when an earlier run already produced them from
the same inputs. :func:`process_meeting` runs them in order; the Prefect flows in ``flows/``
call the same functions as tasks.
"""

from __future__ import annotations

import datetime as dt
import resource
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from meeting_notes import __version__
from meeting_notes.errors import InputError, MeetingNotesError
from meeting_notes.schema import (
    AsrResult,
    AudioInfo,
    Diarization,
    RunInfo,
    StageRecord,
    Transcript,
    read_json,
    write_json,
)
from meeting_notes.settings import Settings
from meeting_notes.workspace import MeetingWorkspace, meeting_id_for, stage_cache_key

STAGES = ("audio", "transcribe", "diarize", "align", "export", "notes")


@dataclass(frozen=True)
class ProcessOptions:
    """Per-run choices (the CLI flags); everything else comes from :class:`Settings`."""

    language: str | None = None
    num_speakers: int | None = None
    min_speakers: int | None = None
    max_speakers: int | None = None
    asr_model: str | None = None
    device: str | None = None
    notes: bool = True
    hints: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class MeetingContext:
    """Everything a stage needs to know about one meeting."""

    audio_path: Path
    audio: AudioInfo
    workspace: MeetingWorkspace
    options: ProcessOptions
    settings: Settings

    @property
    def meeting_id(self) -> str:
        return self.workspace.root.name


StageCallback = Callable[[str, str, StageRecord | None], None]
"""Called as ``(stage, event, record)`` with event 'start' or 'end'."""


def prepare_meeting(
    audio_path: Path, out_dir: Path, options: ProcessOptions, settings: Settings
) -> MeetingContext:
    """Check the input (typed :class:`InputError` when unusable) and create its meeting folder."""
    from meeting_notes.audio import inspect_audio

    info = inspect_audio(audio_path, settings.audio)
    meeting_id = meeting_id_for(audio_path, info.sha256, options.hints.get("meeting_id"))
    workspace = MeetingWorkspace(Path(out_dir) / meeting_id)
    workspace.create()
    return MeetingContext(Path(audio_path), info, workspace, options, settings)


def _language(ctx: MeetingContext) -> str:
    return ctx.options.language or ctx.settings.language


def _device(ctx: MeetingContext) -> str:
    return ctx.options.device or ctx.settings.device


def transcribe_params(ctx: MeetingContext) -> dict[str, Any]:
    from meeting_notes.asr import collect_hint_terms, resolve_asr_model

    spec = resolve_asr_model(ctx.options.asr_model or ctx.settings.asr.model, _language(ctx), ctx.settings)
    params = {"language": _language(ctx), "model": spec.identity, "asr": ctx.settings.asr.model_dump()}
    terms = collect_hint_terms(ctx.options.hints, ctx.settings.asr)
    if terms:  # the sidecar's names steer Whisper: other names, another transcript
        params["hint_terms"] = terms
    return params


def diarize_params(ctx: MeetingContext) -> dict[str, Any]:
    o = ctx.options
    return {
        "num_speakers": o.num_speakers,
        "min_speakers": o.min_speakers,
        "max_speakers": o.max_speakers,
        "diarization": ctx.settings.diarization.model_dump(mode="json"),
    }


Waveform = Callable[[], Any]
"""Gives the decoded recording when a stage really runs (a cached stage never decodes it)."""


def _waveform(ctx: MeetingContext, waveform: Waveform | None) -> Any:
    if waveform is not None:
        return waveform()
    from meeting_notes.audio import load_audio

    return load_audio(ctx.audio_path, ctx.settings.audio)


def transcribe_stage(ctx: MeetingContext, waveform: Waveform | None = None) -> StageRecord:
    """Speech to timestamped words (``asr.json``)."""
    key = stage_cache_key("transcribe", ctx.audio.sha256, transcribe_params(ctx))
    if ctx.workspace.is_done("transcribe", key, [ctx.workspace.asr_json]):
        return StageRecord(status="cached")
    ctx.workspace.forget("transcribe")
    from meeting_notes.asr import transcribe

    t0 = time.perf_counter()
    waveform = _waveform(ctx, waveform)
    result = transcribe(
        waveform,
        language=_language(ctx),
        settings=ctx.settings,
        model=ctx.options.asr_model,
        device=_device(ctx),
        hints=ctx.options.hints,
    )
    write_json(result, ctx.workspace.asr_json)
    ctx.workspace.mark_done("transcribe", key, [ctx.workspace.asr_json])
    return stage_record(t0, ctx.audio.duration)


def diarize_stage(ctx: MeetingContext, waveform: Waveform | None = None) -> StageRecord:
    """Who spoke when (``diarization.json`` and ``diarization.rttm``)."""
    ws = ctx.workspace
    key = stage_cache_key("diarize", ctx.audio.sha256, diarize_params(ctx))
    if ws.is_done("diarize", key, [ws.diarization_json, ws.rttm]):
        return StageRecord(status="cached")
    ws.forget("diarize")
    from meeting_notes.diarize import diarize
    from meeting_notes.export import write_rttm

    t0 = time.perf_counter()
    waveform = _waveform(ctx, waveform)
    result = diarize(
        waveform,
        settings=ctx.settings,
        num_speakers=ctx.options.num_speakers,
        min_speakers=ctx.options.min_speakers,
        max_speakers=ctx.options.max_speakers,
        device=_device(ctx),
    )
    write_json(result, ws.diarization_json)
    write_rttm(result.turns, ctx.meeting_id, ws.rttm)
    ws.mark_done("diarize", key, [ws.diarization_json, ws.rttm])
    return stage_record(t0, ctx.audio.duration)


def align_stage(ctx: MeetingContext) -> StageRecord:
    """Words + turns into the speaker-attributed transcript (``transcript.json``)."""
    from meeting_notes.alignment import build_transcript

    ws = ctx.workspace
    params = {"alignment": ctx.settings.alignment.model_dump(), "inputs": ws.keys_of("transcribe", "diarize")}
    key = stage_cache_key("align", ctx.audio.sha256, params)
    if ws.is_done("align", key, [ws.transcript_json]):
        return StageRecord(status="cached")
    ws.forget("align")
    t0 = time.perf_counter()
    asr = read_json(AsrResult, ws.asr_json)
    diarization = read_json(Diarization, ws.diarization_json)
    transcript = build_transcript(ctx.meeting_id, ctx.audio, asr, diarization, ctx.settings.alignment)
    write_json(transcript, ws.transcript_json)
    ws.mark_done("align", key, [ws.transcript_json])
    return stage_record(t0, ctx.audio.duration)


def export_stage(ctx: MeetingContext) -> StageRecord:
    """Subtitle and reading formats (``transcript.srt``, ``.vtt``, ``.md``)."""
    from meeting_notes.export import write_exports

    ws = ctx.workspace
    key = stage_cache_key("export", ctx.audio.sha256, {"inputs": ws.keys_of("align")})
    if ws.is_done("export", key, [ws.srt, ws.vtt, ws.markdown]):
        return StageRecord(status="cached")
    ws.forget("export")
    t0 = time.perf_counter()
    transcript = read_json(Transcript, ws.transcript_json)
    write_exports(transcript, ws)
    ws.mark_done("export", key, [ws.srt, ws.vtt, ws.markdown])
    return stage_record(t0, ctx.audio.duration)


def stage_record(t0: float, audio_duration: float) -> StageRecord:
    """A 'done' record for a stage that started at ``perf_counter()`` time ``t0``."""
    wall = time.perf_counter() - t0
    return StageRecord(
        status="done", wall_s=round(wall, 3), real_time_factor=real_time_factor(audio_duration, wall)
    )


def real_time_factor(audio_s: float, wall_s: float) -> float | None:
    """Audio seconds processed per wall-clock second."""
    return round(audio_s / wall_s, 2) if wall_s > 0 and audio_s > 0 else None


def peak_rss_mb() -> float:
    """Peak resident memory of this process so far, in MiB."""
    return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)


def collect_versions() -> dict[str, str]:
    """Versions of the libraries that shape the results."""
    from importlib.metadata import PackageNotFoundError, version

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


def finish_run(ctx: MeetingContext, run: RunInfo, t_start: float) -> None:
    """Fill in models, device, totals and memory, and write ``run.json`` (also after a failure)."""
    from meeting_notes.asr import describe_asr
    from meeting_notes.diarize import describe_diarization

    settings = ctx.settings
    asr_desc = describe_asr(ctx.options.asr_model or settings.asr.model, _language(ctx), _device(ctx), settings)
    run.models["asr"] = asr_desc
    run.models["diarization"] = describe_diarization(settings)
    run.device = asr_desc.get("device")
    run.compute_type = asr_desc.get("compute_type")
    run.finished_at = now_iso()
    run.wall_s = round(time.perf_counter() - t_start, 3)
    computed = sum(r.wall_s for r in run.stages.values())
    run.real_time_factor = real_time_factor(ctx.audio.duration, computed) if computed else None
    run.peak_rss_mb = peak_rss_mb()
    write_json(run, ctx.workspace.run_json)


def now_iso() -> str:
    return dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds")


def process_meeting(
    audio_path: Path,
    out_dir: Path,
    options: ProcessOptions,
    settings: Settings,
    on_stage: StageCallback | None = None,
) -> RunInfo:
    """Run every stage for one recording and write ``run.json``.

    Raises :class:`InputError` when the recording cannot be used; a failure in a later stage
    is recorded in ``run.json`` and re-raised, and the next run resumes after the last
    finished stage.
    """
    from meeting_notes.audio import load_audio

    notify = on_stage or (lambda *_: None)
    started = now_iso()
    t_start = time.perf_counter()

    notify("audio", "start", None)
    t0 = time.perf_counter()
    ctx = prepare_meeting(Path(audio_path), Path(out_dir), options, settings)
    run = start_run(ctx, started)
    waveform_cache: dict[str, Any] = {}

    def waveform() -> Any:
        if "w" not in waveform_cache:
            waveform_cache["w"] = load_audio(ctx.audio_path, settings.audio)
        return waveform_cache["w"]

    run.stages["audio"] = stage_record(t0, ctx.audio.duration)
    notify("audio", "end", run.stages["audio"])

    steps: list[tuple[str, Callable[[], StageRecord]]] = [
        ("transcribe", lambda: transcribe_stage(ctx, waveform)),
        ("diarize", lambda: diarize_stage(ctx, waveform)),
        ("align", lambda: align_stage(ctx)),
        ("export", lambda: export_stage(ctx)),
    ]
    if options.notes:
        from meeting_notes.notes_stage import notes_stage

        steps.append(("notes", lambda: notes_stage(ctx, run)))

    # one run at a time in a meeting folder, whatever its options (a second one waits)
    lease = ctx.workspace.lease(settings.orchestration.lock_lease_s)
    lease.acquire()
    try:
        for name, step in steps:
            notify(name, "start", None)
            try:
                record = step()
            except Exception as exc:  # recorded, then re-raised for the caller
                run.stages[name] = StageRecord(status="failed", error=f"{type(exc).__name__}: {exc}")
                notify(name, "end", run.stages[name])
                raise
            run.stages[name] = record
            notify(name, "end", record)
        run.status = "done"
    except Exception as exc:
        run.status = "failed"
        run.error = str(exc) if isinstance(exc, MeetingNotesError) else f"{type(exc).__name__}: {exc}"
        raise
    finally:
        finish_run(ctx, run, t_start)
        lease.release()
    return run


__all__ = [
    "InputError",
    "MeetingContext",
    "ProcessOptions",
    "STAGES",
    "align_stage",
    "diarize_stage",
    "export_stage",
    "finish_run",
    "prepare_meeting",
    "process_meeting",
    "stage_record",
    "start_run",
    "transcribe_stage",
]
