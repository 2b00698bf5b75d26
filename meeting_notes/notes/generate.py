"""From a speaker-attributed transcript to verified :class:`SalesNotes`.

Steps: (optionally) redact, format lines with segment ids, fit them into the model's context
(one call, or map over chunks then reduce), validate the JSON, check every item's evidence
against the text that was sent, and fill the meeting facts from the sidecar (:class:`MeetingFacts`).
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from meeting_notes.notes import prefilter
from meeting_notes.notes.chunking import _CJK, Line, TokenEstimator, chunk_lines, transcript_lines
from meeting_notes.notes.dates import resolve_date
from meeting_notes.notes.endpoint import context_tokens, should_redact
from meeting_notes.notes.evidence import normalize, verify_extraction
from meeting_notes.notes.injection import Instruction, quarantine
from meeting_notes.notes.llm_client import Endpoint, LLMClient, LLMError, Usage
from meeting_notes.notes.passes import PassRun, Window, run_passes
from meeting_notes.notes.prompts import (
    LANGUAGES,
    extraction_messages,
    load_pass_prompts,
    load_prompts,
    prompt_language,
    reduce_messages,
    shared_user_text,
)
from meeting_notes.notes.prose import check_prose
from meeting_notes.notes.redact import RedactionReport, redact_facts, redact_text
from meeting_notes.notes.schema import (
    LIST_FIELDS,
    TEXT_MAX,
    Account,
    DateSource,
    Evidence,
    EvidencedItem,
    Extraction,
    GeneratorInfo,
    Participant,
    SalesNotes,
    SummaryOnly,
    Verification,
    extraction_json_schema,
    item_text,
    list_overflow,
    trim_extraction,
)
from meeting_notes.schema import MeetingFacts, Transcript
from meeting_notes.settings import LLMSettings, Settings

SAFETY_TOKENS = 256
#: Below this much speech (words; two Japanese characters count as one) the transcript is
#: treated as empty: no LLM call, every field "not discussed".
MIN_CONTENT_WORDS = 20
#: Transcript tokens in one prompt of the passes on the embedded server when the settings give
#: none: the window size of a long meeting read whole (a 24-minute meeting: 4 windows, 571 s on
#: 2 cores), and the digest a condensed one is cut to (passes_whole=false: a 30-minute meeting
#: in 135 / 164 s; 3,000 tokens: 182 / 204 s; docs/notes.md).
EMBEDDED_PASSES_TOKENS = 2500
#: Lines of the previous window repeated at the start of the next one, as context.
WINDOW_OVERLAP = 2


# -- generation --------------------------------------------------------------------------
@dataclass
class NotesResult:
    notes: SalesNotes
    usage: Usage
    chunks: int
    redactions: dict[str, int]
    estimated_prompt_tokens: int
    info: dict[str, Any] = field(default_factory=dict)


def _merge(parts: list[Extraction]) -> Extraction:
    """Join chunk extractions: lists concatenated without duplicates, evidence kept as cited."""
    merged: dict[str, Any] = {}
    for name in LIST_FIELDS:
        seen: dict[str, EvidencedItem] = {}
        for part in parts:
            for item in getattr(part, name):
                key = normalize(getattr(item, "name", "") if name == "participants" else item_text(item))[:60]
                if key in seen:
                    prev = seen[key]
                    evidence = list(prev.evidence) + list(item.evidence)
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


def _apply_facts(notes: SalesNotes, facts: MeetingFacts) -> SalesNotes:
    """Title, date, account and participants from the meeting's sidecar file win over the LLM
    (a participant the notes do not name yet is added, side unknown); listed in ``from_hints``."""
    update: dict[str, Any] = {}
    if facts.title:
        update["title"] = facts.title
    if facts.date:
        update["date"] = facts.date_text()
    if facts.account:
        update["account"] = Account(name=facts.account)
    known = {normalize(p.name) for p in notes.participants if p.name}
    extra = [
        Participant(name=p.name, company=p.company or "", role=p.role or "")
        for p in facts.participants
        if normalize(p.name) not in known
    ]
    if extra:
        update["participants"] = notes.participants + extra
    update["from_hints"] = list(update)
    return notes.model_copy(update=update)


@dataclass(frozen=True)
class DateAnchor:
    """The date relative dates are resolved against, and where it comes from."""

    date: dt.date | None
    source: DateSource
    guessed: bool


def meeting_anchor(facts: MeetingFacts, recorded_at: dt.date | None = None) -> DateAnchor:
    """The sidecar's date (the day of a date-time, as written); else the recording time (flagged
    as guessed); else none."""
    if facts.date is not None:
        day = facts.date.date() if isinstance(facts.date, dt.datetime) else facts.date
        return DateAnchor(day, "hints", False)
    if recorded_at is not None:
        return DateAnchor(recorded_at, "recording_time", True)
    return DateAnchor(None, "none", False)


def content_words(texts: list[str]) -> int:
    """Words of speech (two CJK characters count as one word)."""
    total = 0
    for text in texts:
        cjk = len(_CJK.findall(text))
        total += len(_CJK.sub(" ", text).split()) + cjk // 2
    return total


def input_problem(transcript: Transcript, language: str) -> tuple[str, str] | None:
    """(status, detail) when the transcript cannot give notes: too little speech or a language
    without prompts; None when it can."""
    spoken = [s.text for s in transcript.segments if s.text.strip()]
    words = content_words(spoken)
    if len(spoken) <= 1 or words < MIN_CONTENT_WORDS:
        return "empty_transcript", f"{len(spoken)} segment(s), {words} words of speech: nothing to take notes from"
    lang = (language or "en").lower()[:2]
    if lang not in LANGUAGES:
        return "unsupported_language", f"language '{language}': notes are made for {', '.join(LANGUAGES)} only"
    return None


def _resolve_dates(extraction: Extraction, language: str, anchor: DateAnchor) -> Extraction:
    """Resolve the timeline dates and next-step dues (as said) against the anchor, by rule."""
    if anchor.date is None:
        return extraction
    def iso(said: str) -> str:
        r = resolve_date(said, language, anchor.date, anchor.guessed) if said else None
        return r.iso() if r is not None else ""

    timeline = [t if t.resolved else t.model_copy(update={"resolved": iso(t.date)}) for t in extraction.timeline]
    steps = [n if n.due_resolved else n.model_copy(update={"due_resolved": iso(n.due)}) for n in extraction.next_steps]
    return extraction.model_copy(update={"timeline": timeline, "next_steps": steps})


def passes_budget(llm: LLMSettings, endpoint: Endpoint, overhead: int) -> int:
    """Transcript tokens the passes may send: the setting (or the embedded default), within the context."""
    fit = context_tokens(llm, endpoint) - llm.passes_max_output_tokens - overhead
    cap = llm.passes_transcript_tokens
    if cap is None and endpoint.kind == "local-embedded":
        cap = EMBEDDED_PASSES_TOKENS
    return min(fit, cap) if cap else fit


def _empty_result(
    transcript: Transcript, language: str, endpoint: Endpoint, client: LLMClient, version: str, method: str,
    status: str, detail: str,
) -> NotesResult:
    notes = SalesNotes(
        meeting_id=transcript.meeting_id,
        language=language,
        status=status,
        status_detail=detail,
        generator=GeneratorInfo(
            model=endpoint.identity, endpoint_kind=endpoint.kind, prompt_version=version,
            structured_output=client.mode, chunks=0, method=method,
        ),
    )
    return NotesResult(notes, client.usage, 0, {}, 0)


def _what_the_model_reads(
    transcript: Transcript, facts: MeetingFacts, redacted: bool
) -> tuple[RedactionReport, dict[int, str], MeetingFacts, list[Instruction]]:
    """The segments' texts and the sidecar facts as the prompt may carry them: without the
    instructions addressed to a note-taker (:mod:`meeting_notes.notes.injection`; returned
    apart), and redacted (e-mail addresses, phone and card numbers, counted in the report) when
    the endpoint must not see them, else as said."""
    report = RedactionReport()
    texts, instructions = quarantine({s.id: s.text for s in transcript.segments})
    if redacted:
        texts = {k: redact_text(v, report) for k, v in texts.items()}
    return report, texts, (redact_facts(facts, report) if redacted else facts), instructions


def _checked(
    raw: Extraction, texts: dict[int, str], anchor: DateAnchor, instructions: list[Instruction]
) -> tuple[Extraction, Verification]:
    """The extraction as the transcript supports it: every item's quotes (the evidence check),
    then the words of the title, summary and items (:mod:`meeting_notes.notes.prose`); the
    instructions found in the meeting and what needs review go into the record."""
    checked, verification = verify_extraction(raw, texts, anchor.date)
    prose = check_prose(checked, texts, LIST_FIELDS)
    verification.dropped.extend(prose.dropped)
    verification.items_dropped += sum(1 for d in prose.dropped if d.field in LIST_FIELDS)
    verification.items_kept -= sum(1 for d in prose.dropped if d.field in LIST_FIELDS)
    verification.review = prose.review
    verification.instructions = [Evidence(segment_ids=[i.segment_id], quote=i.text[:TEXT_MAX]) for i in instructions]
    return prose.extraction, verification


def generate_notes(
    transcript: Transcript,
    settings: Settings,
    client: LLMClient,
    facts: MeetingFacts | None = None,
    recorded_at: dt.date | None = None,
    progress: Callable[[str], None] | None = None,
) -> NotesResult:
    """Notes for one transcript through ``client``; raises :class:`LLMError` when the endpoint
    cannot be used (an answer that stays invalid JSON gives empty fields and a status instead).
    ``progress`` is called before each model call of the passes with the pass's name.
    ``facts``: the sidecar's (title, date, account, participants); ``recorded_at`` (the file's
    recording time) is the date anchor when they give no date. The notes are in the transcript's
    language: the run's, or the one detected when the run's is 'auto'."""
    facts = facts or MeetingFacts()
    llm = settings.llm
    endpoint = client.endpoint
    language = transcript.language or "en"
    anchor = meeting_anchor(facts, recorded_at)
    method = llm.notes_method
    version = llm.passes_prompt_version if method == "passes" else llm.prompt_version
    problem = input_problem(transcript, language)
    if problem is not None:
        result = _empty_result(transcript, language, endpoint, client, version, method, *problem)
        result.notes = _dated(_apply_facts(result.notes, facts), anchor)
        return result
    if method == "passes":
        return _generate_passes(transcript, settings, client, facts, language, anchor, progress)
    prompts = load_prompts(llm.prompts_dir, llm.prompt_version, prompt_language(language))
    estimator = TokenEstimator(llm.tokens_per_word, llm.tokens_per_cjk_char)

    redacted = should_redact(llm, endpoint)
    report, texts, prompt_facts, instructions = _what_the_model_reads(transcript, facts, redacted)
    lines = transcript_lines(transcript, texts, estimator)
    schema = extraction_json_schema(Extraction)

    base_messages = extraction_messages(prompts, "", prompt_facts)
    overhead = sum(estimator.count(m["content"]) for m in base_messages) + SAFETY_TOKENS
    if client.mode in ("tool", "json_schema"):
        overhead += estimator.count(json.dumps(schema))
    budget = context_tokens(llm, endpoint) - llm.max_output_tokens - overhead
    if llm.chunk_tokens:
        budget = min(budget, llm.chunk_tokens)
    estimated = sum(ln.tokens for ln in lines) + overhead - SAFETY_TOKENS

    def extract(chunk: list[Line], part: tuple[int, int] | None) -> Extraction:
        text = "\n".join(ln.text for ln in chunk)
        messages = extraction_messages(prompts, text, prompt_facts, part)
        return client.complete(messages, Extraction, schema, "record_meeting_notes", prompts.version_id).value

    def run_chunks() -> tuple[Extraction, int]:
        nonlocal budget
        while True:
            chunks = chunk_lines(lines, budget, estimator=estimator)
            try:
                if len(chunks) == 1:
                    return extract(chunks[0], None), 1
                parts = [extract(c, (i + 1, len(chunks))) for i, c in enumerate(chunks)]
                merged = _merge(parts)
                summary = client.complete(
                    reduce_messages(prompts, _compact_for_reduce(merged), prompt_facts),
                    SummaryOnly,
                    extraction_json_schema(SummaryOnly),
                    "record_meeting_summary",
                    prompts.version_id,
                ).value
                merged = merged.model_copy(
                    update={"title": summary.title, "summary": summary.summary, "deal_stage": summary.deal_stage}
                )
                return merged, len(chunks)
            except LLMError as exc:
                # The estimate was too low for this tokenizer: halve the chunks and try again.
                if exc.code != "context_length_exceeded" or budget < 1000:
                    raise

                budget //= 2

    status, detail = "ok", ""
    extraction, n_chunks = Extraction(), 0
    if lines:
        try:
            extraction, n_chunks = run_chunks()
        except LLMError as exc:
            if exc.code != "invalid_output":
                raise
            status, detail = "llm_failed", f"{exc.code}: {str(exc)[:300]}"

    # A merged long meeting keeps every item (no list limit); one answer is cut to the schema's
    # limits and what was cut is recorded.
    trimmed = list_overflow(extraction) if n_chunks <= 1 else []
    raw = _resolve_dates(trim_extraction(extraction, lists=n_chunks <= 1), language, anchor)
    checked, verification = _checked(raw, texts, anchor, instructions)
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
            method="single",
            trimmed=trimmed,
        ),
        status=status,
        status_detail=detail,
        **{k: getattr(checked, k) for k in ("title", "account", "summary", "deal_stage", *LIST_FIELDS)},
    )
    notes = _dated(_apply_facts(notes, facts), anchor)
    return NotesResult(
        notes=notes,
        usage=client.usage,
        chunks=n_chunks,
        redactions=report.counts,
        estimated_prompt_tokens=estimated,
    )


def _dated(notes: SalesNotes, anchor: DateAnchor) -> SalesNotes:
    return notes.model_copy(
        update={
            "date_anchor": anchor.date.isoformat() if anchor.date else None,
            "date_source": anchor.source,
            "date_guessed": anchor.guessed,
        }
    )


def _windows(lines: list[Line], budget: int, language: str, facts: MeetingFacts, estimator: TokenEstimator) -> list[Window]:
    """The transcript in windows of at most ``budget`` tokens, each repeating the last lines of
    the one before as context (a candidate is asked about in the window where it is new)."""
    chunks = chunk_lines(lines, budget, overlap=WINDOW_OVERLAP, estimator=estimator)
    out: list[Window] = []
    seen: set[int] = set()
    for k, chunk in enumerate(chunks):
        ids = frozenset(ln.segment_id for ln in chunk)
        text = "\n".join(ln.text for ln in chunk)
        out.append(Window(shared_user_text(language, text, facts, part=(k + 1, len(chunks))), ids, ids - seen))
        seen |= ids
    return out


def _generate_passes(
    transcript: Transcript,
    settings: Settings,
    client: LLMClient,
    facts: MeetingFacts,
    language: str,
    anchor: DateAnchor,
    progress: Callable[[str], None] | None = None,
) -> NotesResult:
    """The focused passes (see :mod:`meeting_notes.notes.passes`) over the whole transcript.

    A meeting that fits the passes' budget is one prompt prefix for every pass. A longer one is
    read in windows of that size (``passes_whole``, the default): the candidate passes ask about
    each window's amounts, names and commitment lines in that window's prefix, and the people
    and rest passes read a digest (the opening, the close, the lines with the most cues), so the
    model reads every segment. With ``passes_whole=False`` a long meeting is condensed to the
    digest alone, and the notes say how much was read."""
    llm = settings.llm
    endpoint = client.endpoint
    prompts = load_pass_prompts(llm.prompts_dir, llm.passes_prompt_version, language)
    estimator = TokenEstimator(llm.tokens_per_word, llm.tokens_per_cjk_char)
    redacted = should_redact(llm, endpoint)
    report, texts, prompt_facts, instructions = _what_the_model_reads(transcript, facts, redacted)
    lines = transcript_lines(transcript, texts, estimator)
    longest_question = max(estimator.count(q) for q in prompts.questions.values())
    overhead = estimator.count(prompts.system) + longest_question + 600 + SAFETY_TOKENS  # + candidate lists
    budget = passes_budget(llm, endpoint, overhead)
    estimated = sum(ln.tokens for ln in lines) + overhead - SAFETY_TOKENS
    while True:
        condensed = prefilter.condense(lines, texts, language, budget)
        windows = _windows(lines, budget, language, prompt_facts, estimator) if condensed.condensed and llm.passes_whole else []
        run = PassRun(
            client=client,
            prompts=prompts,
            shared_user=shared_user_text(language, condensed.text(), prompt_facts),
            language=prompt_language(language),
            texts=dict(texts) if windows or not condensed.condensed else {ln.segment_id: texts[ln.segment_id] for ln in condensed.lines},
            speakers={seg.id: seg.speaker or "" for seg in transcript.segments},
            anchor=anchor.date,
            anchor_guessed=anchor.guessed,
            max_tokens=llm.passes_max_output_tokens,
            windows=windows,
            shared_ids=frozenset(ln.segment_id for ln in condensed.lines),
            on_call=progress,
        )
        extraction, sales = run_passes(run)
        asked = {k: v for k, v in run.statuses.items() if v not in ("skipped", "rules")}
        if asked and all(v == "context_length_exceeded" for v in asked.values()) and budget >= 1000:
            budget //= 2  # the estimate was too low for this tokenizer
            continue
        break
    failed = {k: v for k, v in asked.items() if v != "ok"}
    status, detail = "ok", ""
    if asked and len(failed) == len(asked):
        status, detail = "llm_failed", "every pass failed: " + ", ".join(f"{k}={v}" for k, v in failed.items())
        # Without the model we cannot tell a sales meeting from a casual call: nothing is kept,
        # not even the dates the rules found.
        extraction = Extraction()
    elif failed:
        status, detail = "partial", "fields of these passes are empty: " + ", ".join(f"{k}={v}" for k, v in failed.items())
    elif not sales:
        status, detail = "no_sales_content", "no sales topic in the meeting: sales fields left empty"
    all_ids = {ln.segment_id for ln in lines}
    read = len(run.read & all_ids) if asked else 0
    coverage = read / len(all_ids) if all_ids and asked else (1.0 if not all_ids else 0.0)
    if asked and read < len(all_ids):
        note = f"the model read {read} of {len(all_ids)} segments"
        detail = f"{detail}; {note}" if detail else note
    raw = trim_extraction(extraction, lists=False)
    checked, verification = _checked(raw, texts, anchor, instructions)
    notes = SalesNotes(
        meeting_id=transcript.meeting_id,
        language=language,
        verification=verification,
        status=status,
        status_detail=detail,
        generator=GeneratorInfo(
            model=endpoint.identity,
            endpoint_kind=endpoint.kind,
            prompt_version=prompts.version_id,
            structured_output=client.mode,
            chunks=1,
            redacted=redacted,
            method="passes",
            passes=dict(run.statuses),
            windows=max(1, len(windows)),
            segments_read=read,
            segments=len(all_ids),
            coverage=round(coverage, 4),
        ),
        **{k: getattr(checked, k) for k in ("title", "account", "summary", "deal_stage", *LIST_FIELDS)},
    )
    notes = _dated(_apply_facts(notes, facts), anchor)
    return NotesResult(
        notes=notes,
        usage=client.usage,
        chunks=1,
        redactions=report.counts,
        estimated_prompt_tokens=estimated,
        info={
            "passes": dict(run.statuses),
            "windows": max(1, len(windows)),
            "coverage": round(coverage, 4),
            "segments_read": read,
            "segments": len(all_ids),
            "digest_segments": len(condensed.lines),
            "transcript_tokens": condensed.total_tokens,
            **run.info,
        },
    )
