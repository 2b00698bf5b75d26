"""The notes stage: ``transcript.json`` to ``notes.json`` and ``notes.md`` (CRM sales notes)."""

from __future__ import annotations

import time
from typing import Any

from meeting_notes.notes.generate import (
    describe_endpoint,
    estimate_cost,
    generate_notes,
    make_client,
    open_endpoint,
    should_redact,
)
from meeting_notes.notes.llm_client import LLMError
from meeting_notes.notes.prompts import load_prompts, prompt_language
from meeting_notes.notes.render import render_markdown
from meeting_notes.notes.schema import SalesNotes
from meeting_notes.pipeline import MeetingContext
from meeting_notes.schema import RunInfo, StageRecord, Transcript, read_json, write_json
from meeting_notes.workspace import stage_cache_key


def _write_text_atomic(path: Any, text: str) -> None:
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(text, encoding="utf-8")
    tmp.replace(path)


def notes_stage(ctx: MeetingContext, run: RunInfo) -> StageRecord:
    """Write verified sales notes for the meeting; skipped when done with the same inputs.

    Records in ``run.extra["notes"]`` the prompt version, model, endpoint kind, tokens,
    estimated cost, dropped-evidence count and, on failure, the error code.
    """
    ws = ctx.workspace
    settings = ctx.settings
    llm = settings.llm
    hints = dict(ctx.options.hints or {})
    info: dict[str, Any] = {"status": "running"}
    run.extra["notes"] = info
    try:
        endpoint = describe_endpoint(settings)
        transcript = read_json(Transcript, ws.transcript_json)
        language = str(hints.get("language") or transcript.language or "en")
        prompts = load_prompts(llm.prompts_dir, llm.prompt_version, prompt_language(language))
    except LLMError as exc:
        info.update(status="failed", error_code=exc.code, error=str(exc))
        raise
    info.update(
        prompt_version=prompts.version_id,
        model=endpoint.identity,
        endpoint_kind=endpoint.kind,
        endpoint=endpoint.base_url if endpoint.kind != "local-embedded" else "embedded",
    )
    run.models["llm"] = {"name": endpoint.model, "identity": endpoint.identity, "endpoint_kind": endpoint.kind}
    params = {
        "model": endpoint.identity,
        "endpoint": endpoint.kind,
        "base_url": endpoint.base_url if endpoint.kind != "local-embedded" else None,
        "prompt": prompts.version_id,
        "redact": should_redact(llm, endpoint),
        "structured_output": llm.structured_output,
        "temperature": llm.temperature,
        "max_output_tokens": llm.max_output_tokens,
        "context_tokens": llm.context_tokens,
        "chunk_tokens": llm.chunk_tokens,
        "hints": hints,
        "inputs": ws.keys_of("align"),
    }
    key = stage_cache_key("notes", ctx.audio.sha256, params)
    if ws.is_done("notes", key, [ws.notes_json, ws.notes_md]):
        previous = read_json(SalesNotes, ws.notes_json)
        info.update(
            status="cached",
            prompt_tokens=0,
            completion_tokens=0,
            estimated_cost_usd=0.0,
            dropped_evidence_items=previous.verification.items_dropped,
        )
        return StageRecord(status="cached")

    t0 = time.perf_counter()
    client = None
    try:
        # A transcript without speech needs no LLM (and no server start): empty notes.
        has_text = any(s.text.strip() for s in transcript.segments)
        client = make_client(settings, open_endpoint(settings) if has_text else endpoint)
        result = generate_notes(transcript, settings, client, hints)
    except Exception as exc:
        code = getattr(exc, "code", None) or type(exc).__name__
        info.update(status="failed", error_code=code, error=str(exc)[:500])
        if client is not None:
            info.update(client.usage.as_dict())
            info["estimated_cost_usd"] = estimate_cost(llm, client.endpoint, client.usage)
        raise

    notes = result.notes
    _write_text_atomic(ws.notes_md, render_markdown(notes))
    write_json(notes, ws.notes_json)
    ws.mark_done("notes", key)
    usage = result.usage
    info.update(
        status="done",
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
        **usage.as_dict(),
    )
    wall = time.perf_counter() - t0
    duration = ctx.audio.duration
    return StageRecord(
        status="done",
        wall_s=round(wall, 3),
        real_time_factor=round(duration / wall, 2) if wall > 0 and duration > 0 else None,
    )
