"""From a speaker-attributed transcript to verified :class:`SalesNotes`.

Steps: (optionally) redact, format lines with segment ids, fit them into the model's context
(one call, or map over chunks then reduce), validate the JSON, check every item's evidence
against the text that was sent, and fill the meeting facts from the hints.
"""

from __future__ import annotations

import json
import os
import time
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlparse

from pydantic import BaseModel

from meeting_notes.notes.cache import ResponseCache
from meeting_notes.notes.chunking import Line, TokenEstimator, chunk_lines, transcript_lines
from meeting_notes.notes.evidence import normalize, verify_extraction
from meeting_notes.notes.llm_client import Endpoint, LLMClient, LLMError, Usage
from meeting_notes.notes.prompts import (
    PromptSet,
    extraction_messages,
    load_prompts,
    prompt_language,
    reduce_messages,
)
from meeting_notes.notes.redact import RedactionReport, redact_text
from meeting_notes.notes.schema import (
    LIST_FIELDS,
    Account,
    Extraction,
    GeneratorInfo,
    Participant,
    SalesNotes,
    SummaryOnly,
    extraction_json_schema,
    item_text,
    trim_extraction,
)
from meeting_notes.schema import Transcript
from meeting_notes.settings import LLMSettings, Settings

LOOPBACK = {"127.0.0.1", "localhost", "::1", "0.0.0.0"}
SAFETY_TOKENS = 256


# -- endpoints ---------------------------------------------------------------------------
def endpoint_kind(base_url: str | None, api_version: str | None = None) -> str:
    """'local-embedded', 'azure', 'openai', 'local-compatible' or 'remote-compatible'."""
    if base_url is None:
        return "local-embedded"
    if api_version:
        return "azure"
    host = (urlparse(base_url).hostname or "").lower()
    if host == "api.openai.com":
        return "openai"
    if host in LOOPBACK:
        return "local-compatible"
    return "remote-compatible"


def _api_key(llm: LLMSettings, kind: str) -> str:
    key = llm.api_key or os.environ.get("AZURE_OPENAI_API_KEY" if kind == "azure" else "OPENAI_API_KEY")
    if key:
        return key
    if kind in ("openai", "azure"):
        raise LLMError(
            f"No API key for the {kind} endpoint: set MEETING_NOTES_LLM__API_KEY "
            f"(or {'AZURE_OPENAI_API_KEY' if kind == 'azure' else 'OPENAI_API_KEY'}).",
            "auth_error",
        )
    return "no-key"  # vLLM, llama.cpp, Ollama usually need none


def describe_endpoint(settings: Settings) -> Endpoint:
    """The endpoint the settings name, without starting anything (for cache keys and run.json)."""
    llm = settings.llm
    kind = endpoint_kind(llm.base_url, llm.api_version)
    if kind == "local-embedded":
        from meeting_notes.notes.local_server import HOST, resolve_local_model

        model = resolve_local_model(settings)
        return Endpoint(f"http://{HOST}:{llm.local_port}/v1", model.name, kind, model.identity)
    if not llm.model:
        raise LLMError(
            "MEETING_NOTES_LLM__MODEL must name the model (the deployment on Azure) when "
            "MEETING_NOTES_LLM__BASE_URL is set.",
            "config_error",
        )
    assert llm.base_url is not None
    return Endpoint(
        base_url=llm.base_url.rstrip("/"),
        model=llm.model,
        kind=kind,
        identity=f"{kind}:{llm.base_url.rstrip('/')}|{llm.model}",
        api_key=_api_key(llm, kind),
        api_version=llm.api_version,
    )


def open_endpoint(settings: Settings) -> Endpoint:
    """:func:`describe_endpoint`, starting (or reusing) the embedded server when it is the one."""
    endpoint = describe_endpoint(settings)
    if endpoint.kind == "local-embedded":
        from meeting_notes.notes.local_server import ensure_local_server

        server, _ = ensure_local_server(settings)
        endpoint = Endpoint(server.base_url, endpoint.model, endpoint.kind, endpoint.identity)
    return endpoint


def make_client(settings: Settings, endpoint: Endpoint) -> LLMClient:
    cache_root = settings.llm.cache_dir or (settings.cache_dir / "llm-responses")
    return LLMClient(endpoint, settings.llm, ResponseCache(cache_root) if settings.llm.cache else None)


def should_redact(llm: LLMSettings, endpoint: Endpoint) -> bool:
    return llm.redact == "on" or (llm.redact == "auto" and not endpoint.is_local)


def context_tokens(llm: LLMSettings, endpoint: Endpoint) -> int:
    if llm.context_tokens:
        return llm.context_tokens
    return llm.local_context if endpoint.kind == "local-embedded" else 32768


def estimate_cost(llm: LLMSettings, endpoint: Endpoint, usage: Usage) -> float | None:
    """USD for this meeting's tokens; 0 on this machine; None when the model has no price."""
    if endpoint.is_local:
        return 0.0
    price = llm.prices.get(endpoint.model)
    if price is None:
        return None
    return round(
        usage.prompt_tokens * price.prompt_per_million / 1e6
        + usage.completion_tokens * price.completion_per_million / 1e6,
        6,
    )


# -- generation --------------------------------------------------------------------------
@dataclass
class NotesResult:
    notes: SalesNotes
    usage: Usage
    prompts: PromptSet
    chunks: int
    redactions: dict[str, int]
    estimated_prompt_tokens: int
    wall_s: float
    raw_extraction: Extraction
    info: dict[str, Any] = field(default_factory=dict)


def _merge(parts: list[Extraction]) -> Extraction:
    """Join chunk extractions: lists concatenated without duplicates, evidence kept as cited."""
    merged: dict[str, Any] = {}
    for name in LIST_FIELDS:
        seen: dict[str, BaseModel] = {}
        for part in parts:
            for item in getattr(part, name):
                key = normalize(getattr(item, "name", "") if name == "participants" else item_text(item))[:60]
                if key in seen:
                    prev = seen[key]
                    evidence = list(getattr(prev, "evidence")) + list(getattr(item, "evidence"))
                    seen[key] = prev.model_copy(update={"evidence": evidence[:3]})
                else:
                    seen[key] = item
        merged[name] = list(seen.values())
    account = next((p.account for p in parts if p.account.name), Account())
    return Extraction(account=account, **merged)


def _compact_for_reduce(extraction: Extraction) -> str:
    data = extraction.model_dump(exclude={"title", "summary", "deal_stage"})
    for name in LIST_FIELDS:
        for item in data[name]:
            item["evidence"] = item["evidence"][:1]
    return json.dumps(data, ensure_ascii=False)


def _apply_hints(notes: SalesNotes, hints: dict[str, Any]) -> SalesNotes:
    """Title, date, account and participants from the meeting's sidecar file win over the LLM."""
    update: dict[str, Any] = {}
    for key in ("title", "date"):
        if hints.get(key):
            update[key] = str(hints[key])
    if hints.get("account"):
        update["account"] = Account(name=str(hints["account"]))
    people = hints.get("participants") or []
    known = {normalize(p.name) for p in notes.participants if p.name}
    extra = []
    for person in people:
        p = person if isinstance(person, dict) else {"name": str(person)}
        if not p.get("name") or normalize(str(p["name"])) in known:
            continue
        side = p.get("side") if p.get("side") in ("seller", "customer") else "unknown"
        extra.append(
            Participant(name=str(p["name"]), company=str(p.get("company", "")), role=str(p.get("role", "")), side=side)
        )
    if extra:
        update["participants"] = notes.participants + extra
    update["from_hints"] = list(update)
    return notes.model_copy(update=update)


def generate_notes(
    transcript: Transcript,
    settings: Settings,
    client: LLMClient,
    hints: dict[str, Any] | None = None,
) -> NotesResult:
    """Notes for one transcript through ``client``; raises :class:`LLMError` on failure."""
    t0 = time.perf_counter()
    hints = dict(hints or {})
    llm = settings.llm
    endpoint = client.endpoint
    language = str(hints.get("language") or transcript.language or "en")
    prompts = load_prompts(llm.prompts_dir, llm.prompt_version, prompt_language(language))
    estimator = TokenEstimator(llm.tokens_per_word, llm.tokens_per_cjk_char)

    redacted = should_redact(llm, endpoint)
    report = RedactionReport()
    texts = {s.id: (redact_text(s.text, report) if redacted else s.text) for s in transcript.segments}
    lines = transcript_lines(transcript, texts, estimator)
    schema = extraction_json_schema(Extraction)

    base_messages = extraction_messages(prompts, "", hints)
    overhead = sum(estimator.count(m["content"]) for m in base_messages) + SAFETY_TOKENS
    if client.mode in ("tool", "json_schema"):
        overhead += estimator.count(json.dumps(schema))
    budget = context_tokens(llm, endpoint) - llm.max_output_tokens - overhead
    if llm.chunk_tokens:
        budget = min(budget, llm.chunk_tokens)
    estimated = sum(ln.tokens for ln in lines) + overhead - SAFETY_TOKENS

    def extract(chunk: list[Line], part: tuple[int, int] | None) -> Extraction:
        text = "\n".join(ln.text for ln in chunk)
        messages = extraction_messages(prompts, text, hints, part)
        return client.complete(messages, Extraction, schema, "record_meeting_notes", prompts.version_id).value

    if not lines:
        extraction, n_chunks = Extraction(), 0
    else:
        while True:
            chunks = chunk_lines(lines, budget)
            try:
                if len(chunks) == 1:
                    extraction = extract(chunks[0], None)
                else:
                    parts = [extract(c, (i + 1, len(chunks))) for i, c in enumerate(chunks)]
                    extraction = _merge(parts)
                    summary = client.complete(
                        reduce_messages(prompts, _compact_for_reduce(extraction), hints),
                        SummaryOnly,
                        extraction_json_schema(SummaryOnly),
                        "record_meeting_summary",
                        prompts.version_id,
                    ).value
                    extraction = extraction.model_copy(
                        update={"title": summary.title, "summary": summary.summary, "deal_stage": summary.deal_stage}
                    )
                n_chunks = len(chunks)
                break
            except LLMError as exc:
                # The estimate was too low for this tokenizer: halve the chunks and try again.
                if exc.code != "context_length_exceeded" or budget < 1000:
                    raise
                budget //= 2

    raw = trim_extraction(extraction)
    checked, verification = verify_extraction(raw, texts)
    notes = SalesNotes(
        meeting_id=transcript.meeting_id,
        language=language,
        verification=verification,
        generator=GeneratorInfo(
            model=endpoint.identity,
            endpoint_kind=endpoint.kind,
            prompt_version=prompts.version_id,
            structured_output=client.mode,
            chunks=n_chunks,
            redacted=redacted,
        ),
        **{k: getattr(checked, k) for k in ("title", "account", "summary", "deal_stage", *LIST_FIELDS)},
    )
    notes = _apply_hints(notes, hints)
    wall = time.perf_counter() - t0
    return NotesResult(
        notes=notes,
        usage=client.usage,
        prompts=prompts,
        chunks=n_chunks,
        redactions=report.counts,
        estimated_prompt_tokens=estimated,
        wall_s=wall,
        raw_extraction=raw,
    )
