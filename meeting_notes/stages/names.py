"""The ``names`` stage: the speaker map written into ``transcript.json``, and ``notes.md``
re-rendered with its names. The rules are in :mod:`meeting_notes.introductions` and
:mod:`meeting_notes.speaker_map`; voices in :mod:`meeting_notes.speakers`; the LLM's reading of
introductions in :mod:`meeting_notes.naming`."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any

from meeting_notes.atomic import write_text_atomic
from meeting_notes.context import MeetingContext, ProcessOptions
from meeting_notes.errors import InputError, MeetingNotesError
from meeting_notes.introductions import Introduction, find_introductions
from meeting_notes.naming import LLM_PROMPT_VERSION, llm_introductions
from meeting_notes.notes.endpoint import describe_endpoint, make_client, open_endpoint, should_redact
from meeting_notes.notes.llm_client import LLMError
from meeting_notes.notes.render import render_markdown
from meeting_notes.notes.schema import SalesNotes
from meeting_notes.runner import StageReport, Waveform, restamp, run_cached
from meeting_notes.schema import Diarization, Participant, StageRecord, Transcript, read_json, write_json
from meeting_notes.settings import Settings
from meeting_notes.speaker_map import (
    Override,
    build_speaker_map,
    display_labels,
    name_notes,
    overrides_param,
    read_overrides,
    seller_companies,
    with_enrolled_min_speakers,
)
from meeting_notes.speakers import SpeakerError, SpeakerMatch, SpeakerStore, SpeakerStoreError, identify_speakers
from meeting_notes.stages.waveform import waveform_of
from meeting_notes.workspace import MeetingWorkspace

UPSTREAM = ("align", "diarize")


def speaker_count_hint(options: ProcessOptions, settings: Settings) -> ProcessOptions:
    """:func:`~meeting_notes.speaker_map.with_enrolled_min_speakers` with the enrolled profiles
    (an unreadable store: no hint; the ``names`` stage reports it)."""
    if not options.facts.participants:
        return options
    try:
        profiles = SpeakerStore(settings.speakers.store_path).profiles()
    except (SpeakerError, OSError):
        return options
    return with_enrolled_min_speakers(options, profiles)


def names_stage(ctx: MeetingContext, report: StageReport, waveform: Waveform | None = None) -> StageRecord:
    """The speaker map written into ``transcript.json`` (the align stage's record is kept with the
    new checksum, so align stays finished). Its key covers the enrolled profiles, the sidecar's
    participants and account, the relabels and the naming settings."""
    ws = ctx.workspace
    settings = ctx.settings
    store_error = False
    try:
        profiles = SpeakerStore(settings.speakers.store_path).profiles()
    except SpeakerStoreError as exc:  # reported, never reset; the names found last time are kept
        report.extra["speakers"] = {"error": str(exc)}
        profiles, store_error = [], True
    overrides = read_overrides(ws.root)
    participants = ctx.options.facts.participants
    sellers = seller_companies(settings.speakers.seller_companies, profiles)
    account = ctx.options.facts.account
    llm_identity = _llm_identity(settings) if settings.speakers.llm_introductions else None
    params = {
        "speakers": settings.speakers.model_dump(mode="json", exclude={"store_path"}),
        "profiles": sorted((p.id, p.model, p.name, p.role or "", p.company or "") for p in profiles),
        "participants": [[p.name, p.company, p.role] for p in participants],
        "account": account,
        "sellers": sellers,
        "overrides": overrides_param(overrides),
        "store_error": store_error,
        "llm": llm_identity,
    }

    def body() -> None:
        transcript = read_json(Transcript, ws.transcript_json)
        matches: dict[str, Any] = {}
        if profiles:
            diarization = read_json(Diarization, ws.diarization_json)
            try:
                audio = waveform_of(ctx, waveform)
            except (OSError, InputError) as exc:  # a relabel after the recording was moved away
                audio = None
                report.extra["speakers"] = {"error": f"recording not readable, enrolled names kept: {exc}"}
            if audio is not None:
                matches = identify_speakers(audio, diarization, settings, profiles)
                report.extra["speakers"] = {s: m.model_dump() for s, m in matches.items()}
            else:
                matches = _previous_matches(transcript, {p.name for p in profiles})
        elif store_error:
            matches = _previous_matches(transcript, None)
        more = _llm_step(ctx, report, transcript, matches, participants, overrides) if llm_identity else None
        transcript.speakers = build_speaker_map(
            transcript, matches, participants, sellers, account, overrides, settings.speakers.intro_segments,
            more_intros=more,
        )
        transcript.naming = {  # what relabel reads back (e-mail addresses are not kept)
            "participants": [p.model_dump(include={"name", "company", "role"}, exclude_none=True) for p in participants],
            "account": account,
            "seller_companies": sellers,
        }
        restamp(ws, "align", [ws.transcript_json], lambda: write_json(transcript, ws.transcript_json))

    return run_cached(ctx, "names", params, [ws.transcript_json], body, UPSTREAM)


def _llm_identity(settings: Settings) -> str | None:
    """The notes endpoint's model identity when the LLM may read the transcript here: never an
    off-machine endpoint that the settings say must get redacted text (names are the point here)."""
    try:
        endpoint = describe_endpoint(settings)
    except (LLMError, MeetingNotesError, OSError):
        return None
    return None if should_redact(settings.llm, endpoint) else f"{endpoint.identity}|{LLM_PROMPT_VERSION}"


def _llm_step(ctx: MeetingContext, report: StageReport, transcript: Transcript, matches: Mapping[str, Any],
              participants: Sequence[Participant], overrides: Mapping[str, Override]) -> dict[str, Introduction]:
    """Introductions through the notes LLM for the speakers the rules, voices and relabels left
    unnamed; a failed call is recorded in ``run.json`` and names nobody."""
    rule = find_introductions(transcript, ctx.settings.speakers.intro_segments, [p.name for p in participants])
    left = [s.id for s in transcript.speakers if s.id not in matches and s.id not in overrides and s.id not in rule]
    if not left:
        return {}
    try:
        client = make_client(ctx.settings, open_endpoint(ctx.settings))
        if client.cache is not None:  # the cache's meeting index: `forget` finds this meeting's entries
            client.cache = client.cache.for_meeting(ctx.workspace.root.name)
        found = llm_introductions(transcript, client, left, ctx.settings.speakers.intro_segments)
    except Exception as exc:  # the names stage never fails for the LLM
        report.extra["speaker_intros_llm"] = {"error": f"{type(exc).__name__}: {exc}"[:300]}
        return {}
    report.extra["speaker_intros_llm"] = {"asked": left, "named": sorted(found)}
    return found


def _previous_matches(transcript: Transcript, names: set[str] | None) -> dict[str, SpeakerMatch]:
    """The enrolled names of the last speaker map (when the voices cannot be matched again)."""
    return {
        s.id: SpeakerMatch(speaker=s.id, profile_id=0, name=s.name, side=s.side, score=s.score or 0.0)
        for s in transcript.speakers
        if s.source == "enrolled" and s.name and (names is None or s.name in names)
    }


def name_notes_md(ws: MeetingWorkspace) -> bool:
    """Re-render ``notes.md`` from ``notes.json`` with the speaker map's labels (owners such as
    SPEAKER_01 read as names); the notes stage stays finished. ``notes.json`` keeps what the
    notes stage wrote. False when there are no notes or no transcript."""
    if not (ws.notes_json.is_file() and ws.transcript_json.is_file()):
        return False
    try:
        transcript = read_json(Transcript, ws.transcript_json)
        raw = json.loads(ws.notes_json.read_text(encoding="utf-8"))
        named = SalesNotes.model_validate(name_notes(raw, display_labels(transcript)))
    except (OSError, ValueError):  # notes from another version, damaged: left as the notes stage wrote them
        return False
    text = render_markdown(named)
    if ws.notes_md.is_file() and ws.notes_md.read_text(encoding="utf-8") == text:
        return True
    restamp(ws, "notes", [ws.notes_json, ws.notes_md], lambda: write_text_atomic(ws.notes_md, text))
    return True


__all__ = ["UPSTREAM", "name_notes_md", "names_stage", "speaker_count_hint"]
