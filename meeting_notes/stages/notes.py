"""The ``notes`` stage: ``transcript.json`` to ``notes.json`` and ``notes.md`` (CRM sales notes,
:mod:`meeting_notes.notes`). It records in ``run.json`` (``extra.notes``) the prompt version,
model, endpoint kind, tokens, estimated cost, coverage, dropped-evidence count and, on failure,
the error code."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

from meeting_notes.atomic import write_text_atomic
from meeting_notes.context import MeetingContext
from meeting_notes.notes.endpoint import describe_endpoint, estimate_cost, make_client, open_endpoint, should_redact
from meeting_notes.notes.generate import generate_notes, input_problem
from meeting_notes.notes.llm_client import LLMClient, LLMError
from meeting_notes.notes.prompts import load_pass_prompts, load_prompts, prompt_language
from meeting_notes.notes.render import render_markdown
from meeting_notes.notes.schema import SalesNotes
from meeting_notes.runner import StageReport, Waveform, run_cached
from meeting_notes.schema import StageRecord, Transcript, read_json, write_json
from meeting_notes.settings import public_url

UPSTREAM = ("align",)


def recording_date(path: Path) -> dt.date | None:
    """The audio file's modification date (UTC): the recording time when nothing better is known."""
    try:
        return dt.datetime.fromtimestamp(path.stat().st_mtime, tz=dt.UTC).date()
    except OSError:
        return None


def notes_stage(ctx: MeetingContext, report: StageReport, waveform: Waveform | None = None) -> StageRecord:
    """Write verified sales notes for the meeting; skipped when done with the same inputs."""
    ws = ctx.workspace
    settings = ctx.settings
    llm = settings.llm
    facts = ctx.options.facts
    info: dict[str, Any] = {"status": "running"}
    report.extra["notes"] = info
    try:
        endpoint = describe_endpoint(settings)
        transcript = read_json(Transcript, ws.transcript_json)
        language = transcript.language or "en"  # the run's language (detected when it is 'auto')
        if llm.notes_method == "passes":
            version_id = load_pass_prompts(llm.prompts_dir, llm.passes_prompt_version, language).version_id
        else:
            version_id = load_prompts(llm.prompts_dir, llm.prompt_version, prompt_language(language)).version_id
    except LLMError as exc:
        info.update(status="failed", error_code=exc.code, error=str(exc))
        raise
    info.update(
        prompt_version=version_id,
        notes_method=llm.notes_method,
        model=endpoint.identity,
        endpoint_kind=endpoint.kind,
        endpoint=public_url(endpoint.base_url) if endpoint.kind != "local-embedded" else "embedded",
    )
    report.models["llm"] = {"name": endpoint.model, "identity": endpoint.identity, "endpoint_kind": endpoint.kind}
    params = {
        "model": endpoint.identity,
        "endpoint": endpoint.kind,
        "base_url": public_url(endpoint.base_url) if endpoint.kind != "local-embedded" else None,
        "prompt": version_id,
        "method": llm.notes_method,
        "passes_transcript_tokens": llm.passes_transcript_tokens,
        "passes_whole": llm.passes_whole,
        "passes_max_output_tokens": llm.passes_max_output_tokens,
        "redact": should_redact(llm, endpoint),
        "structured_output": llm.structured_output,
        "temperature": llm.temperature,
        "max_output_tokens": llm.max_output_tokens,
        "context_tokens": llm.context_tokens,
        "chunk_tokens": llm.chunk_tokens,
        # the sidecar's facts, under the name this key had when they were an untyped dict
        # (the same sidecar gives the same key as before)
        "hints": facts.to_dict(),
    }
    def body() -> None:
        client: LLMClient | None = None
        try:
            # A transcript without enough speech (or in a language without prompts) needs no LLM
            # and no server start: empty notes with that status.
            needs_llm = input_problem(transcript, language) is None
            client = make_client(settings, open_endpoint(settings) if needs_llm else endpoint)
            if client.cache is not None:  # the cache's meeting index: `forget` finds this meeting's entries
                client.cache = client.cache.for_meeting(ws.root.name)
            recorded = None if facts.date else recording_date(ctx.audio_path)
            calls = [0]

            def progress(pass_name: str) -> None:
                calls[0] += 1
                if ctx.progress is not None:
                    ctx.progress(f"{pass_name} (model call {calls[0]})")

            result = generate_notes(transcript, settings, client, facts, recorded, progress)
        except Exception as exc:
            code = getattr(exc, "code", None) or type(exc).__name__
            info.update(status="failed", error_code=code, error=str(exc)[:500])
            if client is not None:
                info.update(client.usage.as_dict())
                info["estimated_cost_usd"] = estimate_cost(llm, client.endpoint, client.usage)
            raise
        notes = result.notes
        write_text_atomic(ws.notes_md, render_markdown(notes))
        write_json(notes, ws.notes_json)
        usage = result.usage
        generator = notes.generator
        info.update(
            status="done",
            notes_status=notes.status,
            notes_status_detail=notes.status_detail,
            date_anchor=notes.date_anchor,
            date_source=notes.date_source,
            date_guessed=notes.date_guessed,
            passes=generator.passes if generator else {},
            structured_output=client.mode,
            chunks=result.chunks,
            estimated_prompt_tokens=result.estimated_prompt_tokens,
            estimated_cost_usd=estimate_cost(llm, client.endpoint, usage),
            dropped_evidence_items=notes.verification.items_dropped,
            evidence_relocated=notes.verification.evidence_relocated,
            evidence_invalid=notes.verification.evidence_invalid,
            items_kept=notes.verification.items_kept,
            redacted=should_redact(llm, client.endpoint),
            redactions=result.redactions,
            retry_error_codes=usage.errors,
            windows=generator.windows if generator else None,
            segments_read=generator.segments_read if generator else None,
            segments=generator.segments if generator else None,
            coverage=generator.coverage if generator else None,
            **usage.as_dict(),
        )

    record = run_cached(ctx, "notes", params, [ws.notes_json, ws.notes_md], body, UPSTREAM)
    if record.status == "cached":
        previous = read_json(SalesNotes, ws.notes_json)
        info.update(
            status="cached",
            notes_status=previous.status,
            prompt_tokens=0,
            completion_tokens=0,
            estimated_cost_usd=0.0,
            dropped_evidence_items=previous.verification.items_dropped,
        )
    return record


__all__ = ["UPSTREAM", "notes_stage", "recording_date"]
