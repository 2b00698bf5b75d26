"""The transcript stages: decode, speech to words, who spoke when, words to speakers, exports,
analytics. Each adapter reads its inputs from the meeting folder, calls its stage module and
writes its outputs through :func:`~meeting_notes.runner.run_cached`."""

from __future__ import annotations

from typing import Any

from meeting_notes import alignment, analytics, asr, export
from meeting_notes.context import MeetingContext
from meeting_notes.runner import StageReport, Waveform, run_cached
from meeting_notes.schema import AsrResult, Diarization, StageRecord, Transcript, read_json, write_json
from meeting_notes.stages.names import speaker_count_hint
from meeting_notes.stages.waveform import waveform_of

TRANSCRIBE_UPSTREAM: tuple[str, ...] = ()
DIARIZE_UPSTREAM: tuple[str, ...] = ()
ALIGN_UPSTREAM = ("transcribe", "diarize")
EXPORT_UPSTREAM = ("align", "names")
ANALYTICS_UPSTREAM = ("align", "diarize", "names")


def transcribe_params(ctx: MeetingContext) -> dict[str, Any]:
    spec = asr.resolve_asr_model(ctx.options.asr_model or ctx.settings.asr.model, ctx.language, ctx.settings)
    params = {"language": ctx.language, "model": spec.identity, "asr": ctx.settings.asr.model_dump()}
    terms = asr.collect_hint_terms(ctx.options.facts, ctx.settings.asr)
    if terms:  # the sidecar's names steer Whisper: other names, another transcript
        params["hint_terms"] = terms
    return params


def diarize_params(ctx: MeetingContext) -> dict[str, Any]:
    """The speaker-count hints, ``min_speakers`` raised to the enrolled reps the sidecar names
    (:func:`meeting_notes.stages.names.speaker_count_hint`)."""
    o = speaker_count_hint(ctx.options, ctx.settings)
    return {
        "num_speakers": o.num_speakers,
        "min_speakers": o.min_speakers,
        "max_speakers": o.max_speakers,
        "diarization": ctx.settings.diarization.model_dump(mode="json"),
    }


def transcribe_stage(ctx: MeetingContext, report: StageReport, waveform: Waveform | None = None) -> StageRecord:
    """Speech to timestamped words (``asr.json``)."""

    def body() -> None:
        result = asr.transcribe(
            waveform_of(ctx, waveform),
            language=ctx.language,
            settings=ctx.settings,
            model=ctx.options.asr_model,
            device=ctx.device,
            facts=ctx.options.facts,
        )
        write_json(result, ctx.workspace.asr_json)

    return run_cached(ctx, "transcribe", transcribe_params(ctx), [ctx.workspace.asr_json], body, TRANSCRIBE_UPSTREAM)


def diarize_stage(ctx: MeetingContext, report: StageReport, waveform: Waveform | None = None) -> StageRecord:
    """Who spoke when (``diarization.json`` and ``diarization.rttm``)."""
    ws = ctx.workspace
    params = diarize_params(ctx)

    def body() -> None:
        from meeting_notes.diarize import diarize  # deferred: torch and pyannote take seconds to import

        result = diarize(
            waveform_of(ctx, waveform),
            settings=ctx.settings,
            num_speakers=params["num_speakers"],
            min_speakers=params["min_speakers"],
            max_speakers=params["max_speakers"],
            device=ctx.device,
        )
        write_json(result, ws.diarization_json)
        export.write_rttm(result.turns, ctx.meeting_id, ws.rttm)

    return run_cached(ctx, "diarize", params, [ws.diarization_json, ws.rttm], body, DIARIZE_UPSTREAM)


def align_stage(ctx: MeetingContext, report: StageReport, waveform: Waveform | None = None) -> StageRecord:
    """Words + turns into the speaker-attributed transcript (``transcript.json``)."""
    ws = ctx.workspace

    def body() -> None:
        asr = read_json(AsrResult, ws.asr_json)
        diarization = read_json(Diarization, ws.diarization_json)
        transcript = alignment.build_transcript(ctx.meeting_id, ctx.audio, asr, diarization, ctx.settings.alignment)
        write_json(transcript, ws.transcript_json)

    params = {"alignment": ctx.settings.alignment.model_dump()}
    return run_cached(ctx, "align", params, [ws.transcript_json], body, ALIGN_UPSTREAM)


def export_stage(ctx: MeetingContext, report: StageReport, waveform: Waveform | None = None) -> StageRecord:
    """Subtitle and reading formats (``transcript.srt``, ``.vtt``, ``.md``), speakers by their labels."""
    ws = ctx.workspace

    def body() -> None:
        export.write_exports(read_json(Transcript, ws.transcript_json), ws)

    return run_cached(ctx, "export", {}, [ws.srt, ws.vtt, ws.markdown], body, EXPORT_UPSTREAM)


def analytics_stage(ctx: MeetingContext, report: StageReport, waveform: Waveform | None = None) -> StageRecord:
    """Conversation analytics (``analytics.json``), speakers named and sided by the map in
    ``transcript.json`` (the ``names`` stage)."""
    ws = ctx.workspace

    def body() -> None:
        transcript = read_json(Transcript, ws.transcript_json)
        diarization = read_json(Diarization, ws.diarization_json)
        labels = analytics.speaker_map_labels(transcript)
        write_json(analytics.compute_analytics(transcript, diarization, labels, ctx.settings.analytics), ws.analytics_json)

    params = {"analytics": ctx.settings.analytics.model_dump()}
    return run_cached(ctx, "analytics", params, [ws.analytics_json], body, ANALYTICS_UPSTREAM)
