"""The stages of one meeting: one registry, one way to run a stage, one loop.

:data:`STAGES` lists the stages in order, each with what it needs from the orchestrator (does
it hold the inference slot, may a transient failure be retried, does it run for these
options). Every stage goes through :func:`run_cached`: compute its key from the audio's hash,
its parameters and its upstream stages' keys; skip it when the folder already holds outputs
made under that key (checksums match); otherwise drop its record, run it (outputs written
atomically) and record the key with the outputs' checksums. :func:`process_meeting` (the CLI)
loops over the registry under the meeting folder's lease; the Prefect flow in
``flows/meeting.py`` wraps the same registry task by task and adds retries, the inference
concurrency limit and artifacts, not logic.
"""

from __future__ import annotations

import datetime as dt
import resource
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from meeting_notes import __version__
from meeting_notes.context import MeetingContext, ProcessOptions
from meeting_notes.errors import InputError, MeetingNotesError
from meeting_notes.schema import (
    AsrResult,
    Diarization,
    RunInfo,
    StageRecord,
    Transcript,
    read_json,
    write_json,
)
from meeting_notes.settings import Settings
from meeting_notes.workspace import MeetingWorkspace, meeting_id_for, stage_cache_key

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


def transcribe_params(ctx: MeetingContext) -> dict[str, Any]:
    from meeting_notes.asr import collect_hint_terms, resolve_asr_model

    spec = resolve_asr_model(ctx.options.asr_model or ctx.settings.asr.model, ctx.language, ctx.settings)
    params = {"language": ctx.language, "model": spec.identity, "asr": ctx.settings.asr.model_dump()}
    terms = collect_hint_terms(ctx.options.hints, ctx.settings.asr)
    if terms:  # the sidecar's names steer Whisper: other names, another transcript
        params["hint_terms"] = terms
    return params


def diarize_params(ctx: MeetingContext) -> dict[str, Any]:
    """The speaker-count hints, ``min_speakers`` raised to the enrolled reps the sidecar names
    (:func:`meeting_notes.naming.speaker_count_hint`)."""
    from meeting_notes.naming import speaker_count_hint

    o = speaker_count_hint(ctx.options, ctx.settings)
    return {
        "num_speakers": o.num_speakers,
        "min_speakers": o.min_speakers,
        "max_speakers": o.max_speakers,
        "diarization": ctx.settings.diarization.model_dump(mode="json"),
    }


Waveform = Callable[[], Any]
"""Gives the decoded recording when a stage really runs (a cached stage never decodes it)."""


def decoded_waveform(ctx: MeetingContext) -> Any:
    """The recording as 16 kHz mono float32, decoded once per meeting folder.

    The first stage that needs the waveform decodes the recording into the folder
    (``.audio-16k-f32.raw``, through :func:`run_cached` like any stage output: keyed on the audio's
    sha256 and the decoder's settings, its checksum recorded); every later stage, in this process
    or in another Prefect task, memory-maps that file instead of decoding again. The recording
    itself is only read. The file is removed when the run finishes (:func:`finish_run`).
    """
    from meeting_notes.audio import decode_to_file, open_decoded

    ws = ctx.workspace
    audio = ctx.settings.audio
    params = {"sample_rate": audio.sample_rate, "decode_block_s": audio.decode_block_s}
    run_cached(ctx, "decode", params, [ws.decoded_audio], lambda: decode_to_file(ctx.audio_path, audio, ws.decoded_audio))
    return open_decoded(ws.decoded_audio)


def _waveform(ctx: MeetingContext, waveform: Waveform | None) -> Any:
    if waveform is not None:
        return waveform()
    return decoded_waveform(ctx)


def run_cached(
    ctx: MeetingContext,
    stage: str,
    params: dict[str, Any],
    outputs: list[Path],
    body: Callable[[], None],
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


def transcribe_stage(ctx: MeetingContext, waveform: Waveform | None = None) -> StageRecord:
    """Speech to timestamped words (``asr.json``)."""

    def body() -> None:
        from meeting_notes.asr import transcribe

        result = transcribe(
            _waveform(ctx, waveform),
            language=ctx.language,
            settings=ctx.settings,
            model=ctx.options.asr_model,
            device=ctx.device,
            hints=ctx.options.hints,
        )
        write_json(result, ctx.workspace.asr_json)

    return run_cached(ctx, "transcribe", transcribe_params(ctx), [ctx.workspace.asr_json], body)


def diarize_stage(ctx: MeetingContext, waveform: Waveform | None = None) -> StageRecord:
    """Who spoke when (``diarization.json`` and ``diarization.rttm``)."""
    ws = ctx.workspace

    def body() -> None:
        from meeting_notes.diarize import diarize
        from meeting_notes.export import write_rttm

        result = diarize(
            _waveform(ctx, waveform),
            settings=ctx.settings,
            num_speakers=params["num_speakers"],
            min_speakers=params["min_speakers"],
            max_speakers=params["max_speakers"],
            device=ctx.device,
        )
        write_json(result, ws.diarization_json)
        write_rttm(result.turns, ctx.meeting_id, ws.rttm)

    params = diarize_params(ctx)
    return run_cached(ctx, "diarize", params, [ws.diarization_json, ws.rttm], body)


def align_stage(ctx: MeetingContext) -> StageRecord:
    """Words + turns into the speaker-attributed transcript (``transcript.json``)."""
    ws = ctx.workspace

    def body() -> None:
        from meeting_notes.alignment import build_transcript

        asr = read_json(AsrResult, ws.asr_json)
        diarization = read_json(Diarization, ws.diarization_json)
        transcript = build_transcript(ctx.meeting_id, ctx.audio, asr, diarization, ctx.settings.alignment)
        write_json(transcript, ws.transcript_json)

    params = {"alignment": ctx.settings.alignment.model_dump()}
    return run_cached(ctx, "align", params, [ws.transcript_json], body, upstream=("transcribe", "diarize"))


def export_stage(ctx: MeetingContext) -> StageRecord:
    """Subtitle and reading formats (``transcript.srt``, ``.vtt``, ``.md``), speakers by their labels."""
    ws = ctx.workspace

    def body() -> None:
        from meeting_notes.export import write_exports

        write_exports(read_json(Transcript, ws.transcript_json), ws)

    return run_cached(ctx, "export", {}, [ws.srt, ws.vtt, ws.markdown], body, upstream=("align", "names"))


def names_stage(ctx: MeetingContext, run: RunInfo, waveform: Waveform | None = None) -> StageRecord:
    """The speaker map in ``transcript.json``; see :mod:`meeting_notes.naming`."""
    from meeting_notes.naming import names_stage as run_names

    return run_names(ctx, run, lambda: _waveform(ctx, waveform))


def analytics_stage(ctx: MeetingContext, run: RunInfo, waveform: Waveform | None = None) -> StageRecord:
    """Conversation analytics (``analytics.json``), speakers named and sided by the map in
    ``transcript.json`` (the ``names`` stage)."""
    ws = ctx.workspace

    def body() -> None:
        from meeting_notes.analytics import compute_analytics, speaker_map_labels

        transcript = read_json(Transcript, ws.transcript_json)
        diarization = read_json(Diarization, ws.diarization_json)
        labels = speaker_map_labels(transcript)
        write_json(compute_analytics(transcript, diarization, labels, ctx.settings.analytics), ws.analytics_json)

    params = {"analytics": ctx.settings.analytics.model_dump()}
    return run_cached(ctx, "analytics", params, [ws.analytics_json], body, upstream=("align", "diarize", "names"))


def report_stage(ctx: MeetingContext, run: RunInfo) -> StageRecord:
    """The rep's page (``report.html``), rebuilt on every run from what the folder holds; first
    ``notes.md`` is re-rendered with the speaker map's names (the notes stage stays cached)."""
    from meeting_notes.report import write_report

    from meeting_notes.naming import name_notes_md

    t0 = time.perf_counter()
    name_notes_md(ctx.workspace)
    write_report(ctx.workspace.root, ctx.settings.crm)
    return stage_record(t0, ctx.audio.duration)


def notes_stage(ctx: MeetingContext, run: RunInfo) -> StageRecord:
    """CRM sales notes (``notes.json``, ``notes.md``); see :mod:`meeting_notes.notes_stage`."""
    from meeting_notes.notes_stage import notes_stage as run_notes

    return run_notes(ctx, run)


def deliver_stage(ctx: MeetingContext, run: RunInfo) -> StageRecord:
    """CRM delivery after the notes: the sidecar's CRM ids go to ``crm.json``; with
    ``crm.auto_push`` the notes are pushed (else they wait for ``meeting-notes crm push``).
    Never fails the meeting: a failed push is recorded for ``crm retry``."""
    if not ctx.workspace.notes_json.is_file():
        return StageRecord(status="skipped")
    from meeting_notes.crm.service import deliver

    t0 = time.perf_counter()
    outcome = deliver(ctx.workspace.root, ctx.options.hints.get("crm_ids"), ctx.settings.crm)
    run.extra["crm"] = outcome or {"status": "awaiting review" if not ctx.settings.crm.auto_push else "no targets"}
    return stage_record(t0, ctx.audio.duration)


@dataclass(frozen=True)
class StageSpec:
    """One stage as the orchestrators see it."""

    name: str
    run: Callable[[MeetingContext, RunInfo, Waveform | None], StageRecord]
    uses_model: bool = False  # holds the inference (GPU) concurrency slot under Prefect
    retry_transient: bool = True  # Prefect retries failures that are not a MeetingNotesError (I/O, the LLM)
    wanted: Callable[[ProcessOptions], bool] = lambda options: True


# The lambdas look the stage functions up when called, so a test may replace one.
STAGES: tuple[StageSpec, ...] = (
    StageSpec("transcribe", lambda ctx, run, wav: transcribe_stage(ctx, wav), uses_model=True, retry_transient=False),
    StageSpec("diarize", lambda ctx, run, wav: diarize_stage(ctx, wav), uses_model=True, retry_transient=False),
    StageSpec("align", lambda ctx, run, wav: align_stage(ctx), retry_transient=False),
    StageSpec("names", lambda ctx, run, wav: names_stage(ctx, run, wav), retry_transient=False),
    StageSpec("export", lambda ctx, run, wav: export_stage(ctx)),
    StageSpec("analytics", lambda ctx, run, wav: analytics_stage(ctx, run, wav), retry_transient=False),
    StageSpec("notes", lambda ctx, run, wav: notes_stage(ctx, run), wanted=lambda options: options.notes),
    StageSpec("deliver", lambda ctx, run, wav: deliver_stage(ctx, run), wanted=lambda options: options.notes),
    StageSpec("report", lambda ctx, run, wav: report_stage(ctx, run)),
)
"""The stages after ``audio`` (checking and hashing the recording), in order."""

STAGE_NAMES: tuple[str, ...] = ("audio", *(s.name for s in STAGES))
"""Every stage as it appears in ``run.json``."""


def stages_for(options: ProcessOptions) -> list[StageSpec]:
    """The stages these options ask for, in order."""
    return [s for s in STAGES if s.wanted(options)]


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
        from meeting_notes.asr import describe_asr
        from meeting_notes.diarize import describe_diarization

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
        drop_decoded(ctx.workspace)


def drop_decoded(ws: MeetingWorkspace) -> None:
    """Remove the decoded copy of the recording (a finished meeting needs it no more; a failed
    run keeps it for the run that resumes)."""
    ws.forget("decode")
    ws.decoded_audio.unlink(missing_ok=True)


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
            waveform_cache["w"] = decoded_waveform(ctx)
        return waveform_cache["w"]

    run.stages["audio"] = stage_record(t0, ctx.audio.duration)
    notify("audio", "end", run.stages["audio"])

    # one run at a time in a meeting folder, whatever its options (a second one waits)
    lease = ctx.workspace.lease(settings.orchestration.lock_lease_s)
    lease.acquire()
    try:
        for spec in stages_for(options):
            notify(spec.name, "start", None)
            ctx.progress = lambda detail, name=spec.name: notify(name, f"progress:{detail}", None)
            try:
                record = spec.run(ctx, run, waveform)
            except Exception as exc:  # recorded, then re-raised for the caller
                run.stages[spec.name] = StageRecord(status="failed", error=f"{type(exc).__name__}: {exc}")
                notify(spec.name, "end", run.stages[spec.name])
                raise
            run.stages[spec.name] = record
            notify(spec.name, "end", record)
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
    "STAGE_NAMES",
    "StageSpec",
    "align_stage",
    "analytics_stage",
    "decoded_waveform",
    "deliver_stage",
    "diarize_stage",
    "export_stage",
    "names_stage",
    "finish_run",
    "notes_stage",
    "prepare_meeting",
    "process_meeting",
    "report_stage",
    "run_cached",
    "stage_record",
    "start_run",
    "stages_for",
    "transcribe_stage",
]
