"""``meeting-notes relabel MEETING_DIR SPEAKER_01="Kenji Sato" [--side customer] [--enroll]``.

Names a speaker by hand (source ``manual``, kept in the meeting folder's ``speaker_names.json``)
and re-renders every output from the folder: the speaker map (``names`` stage), the exports,
``analytics.json``, ``notes.md`` and ``report.html`` (CRM payloads read the map when they are
built: ``crm preview``/``push`` name owners the same way). Transcription, diarization, alignment and
the notes LLM are not run (their records in ``.stages.json`` stay as they are, so a later
``process`` finds them finished); ``--enroll`` first learns the voice from that speaker's
one-speaker-at-a-time speech in this recording.
"""

from __future__ import annotations

import argparse
import datetime as dt
import getpass
import sys
from pathlib import Path
from typing import Any

from meeting_notes.audio import load_audio
from meeting_notes.clock import now_iso
from meeting_notes.context import MeetingContext, ProcessOptions
from meeting_notes.errors import InputError, MeetingNotesError
from meeting_notes.runner import execute_inline
from meeting_notes.schema import SIDES, Diarization, MeetingFacts, Side, Transcript, read_json
from meeting_notes.settings import Settings, get_settings
from meeting_notes.speaker_map import Override, read_overrides, write_overrides
from meeting_notes.speakers import Consent, Role, SpeakerStore, enroll_from_meeting
from meeting_notes.stages import stages_after
from meeting_notes.workspace import MeetingWorkspace

EXIT_OK, EXIT_FAILED, EXIT_USAGE = 0, 1, 2
ROLE_OF_SIDE: dict[Side, Role] = {"seller": "rep", "customer": "customer"}


class RelabelError(InputError):
    """A relabel that cannot be done (no such speaker, no transcript, a bad assignment)."""


def _speaker_list(transcript: Transcript) -> str:
    return ", ".join(f"{s.id} ({s.label or s.name or '-'})" for s in transcript.speakers) or "none"


def parse_assignments(items: list[str], transcript: Transcript) -> dict[str, str]:
    """``SPEAKER_01=Kenji Sato`` (or the current label: ``"Speaker 2=Kenji Sato"``) -> id: name.
    An unknown speaker is refused with the list of speakers."""
    out: dict[str, str] = {}
    for item in items:
        who, sep, name = item.partition("=")
        who, name = who.strip(), name.strip()
        if not sep or not who:
            raise RelabelError(f"{item!r}: write SPEAKER=NAME, e.g. SPEAKER_01=\"Kenji Sato\"")
        hits = [s.id for s in transcript.speakers if who in (s.id, s.label)]
        if len(hits) != 1:
            raise RelabelError(f"no speaker {who!r} in this meeting; its speakers: {_speaker_list(transcript)}")
        out[hits[0]] = name
    return out


def relabel(
    meeting_dir: Path,
    names: dict[str, str],
    settings: Settings,
    side: Side | None = None,
    enroll: bool = False,
    company: str | None = None,
    replace: bool = False,
    consent: Consent | None = None,
) -> Transcript:
    """Apply ``names`` (speaker id -> name; an empty name drops that speaker's manual name) and
    re-render the meeting's outputs; returns the new transcript. ``enroll`` learns each named
    voice first (role from ``side``), and only with the speaker's ``consent`` on record."""
    if enroll and consent is None:
        raise RelabelError(
            "a voiceprint is kept only with the speaker's consent: add --consent HOW (e.g. 'written form', "
            "'verbal, on the recording') and --consent-by WHO when someone else gave it"
        )
    ws = MeetingWorkspace(Path(meeting_dir))
    if not ws.transcript_json.is_file():
        raise RelabelError(f"{meeting_dir}: no transcript.json (is this a processed meeting folder?)")
    transcript = read_json(Transcript, ws.transcript_json)
    unknown = [s for s in names if s not in {x.id for x in transcript.speakers}]
    if unknown:
        raise RelabelError(f"no speaker {unknown[0]!r} in this meeting; its speakers: {_speaker_list(transcript)}")
    ctx = MeetingContext(
        audio_path=Path(transcript.audio.path),
        audio=transcript.audio,
        workspace=ws,
        options=ProcessOptions(language=transcript.language, facts=_facts(transcript)),
        settings=settings,
    )
    waveform_cache: dict[str, Any] = {}

    def waveform() -> Any:
        if "w" not in waveform_cache:
            if not ctx.audio_path.is_file():
                raise RelabelError(f"the recording {ctx.audio_path} is not there")
            waveform_cache["w"] = load_audio(ctx.audio_path, settings.audio)
        return waveform_cache["w"]

    lease = ws.lease(settings.orchestration.lock_lease_s)
    lease.acquire()
    try:
        if enroll:
            SpeakerStore(settings.speakers.store_path).profiles()  # a corrupt store: reported, nothing changed
            diarization = read_json(Diarization, ws.diarization_json)
            for spk, name in names.items():
                if name:
                    enroll_from_meeting(
                        name, waveform(), diarization, spk, settings, role=ROLE_OF_SIDE.get(side) if side else None,
                        company=company, replace=replace, meeting_id=ws.root.name,
                        consent=consent.model_copy(update={"given_by": consent.given_by or name}) if consent else None,
                    )
        overrides = read_overrides(ws.root)
        for spk, name in names.items():
            if name:
                kept = overrides[spk].side if spk in overrides else None  # a side given before stays
                overrides[spk] = Override(name, side or kept)
            else:
                overrides.pop(spk, None)
        write_overrides(ws.root, overrides)
        for spec in stages_after("names", ctx.options):  # the speaker map and what shows it
            report = execute_inline(spec, ctx, waveform).report
            speakers = report.extra.get("speakers")
            if isinstance(speakers, dict) and "error" in speakers:
                print(f"warning: {speakers['error']}", file=sys.stderr)
    finally:
        lease.release()
    return read_json(Transcript, ws.transcript_json)


def _facts(transcript: Transcript) -> MeetingFacts:
    """The sidecar facts the last speaker map was made with (``transcript.naming``: participants
    and account)."""
    naming = transcript.naming or {}
    try:
        return MeetingFacts.model_validate({"participants": naming.get("participants") or [], "account": naming.get("account")})
    except ValueError as exc:  # pydantic's ValidationError
        raise RelabelError(f"transcript.json: the speaker map's participants cannot be read ({exc})") from exc


def _run(args: argparse.Namespace) -> int:
    folder = Path(args.meeting_dir)
    try:
        if not (folder / "transcript.json").is_file():
            raise RelabelError(f"{folder}: no transcript.json (is this a processed meeting folder?)")
        names = parse_assignments(args.assignments, read_json(Transcript, folder / "transcript.json"))
        consent = None
        if args.enroll and (args.consent or "").strip():
            consent = Consent(given_by=args.consent_by or "", given_at=args.consent_at or dt.date.today().isoformat(),
                              method=args.consent.strip(), recorded_by=getpass.getuser(), recorded_at=now_iso())
        transcript = relabel(folder, names, get_settings(), side=args.side, enroll=args.enroll,
                             company=args.company, replace=args.replace, consent=consent)
    except RelabelError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except MeetingNotesError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_FAILED
    for s in transcript.speakers:
        src = f"{s.source or '-'}" + (f" {s.score:.2f}" if s.source == "enrolled" and s.score is not None else "")
        print(f"{s.id:<12} {s.label or '':<28} {s.side:<9} {src}")
    return EXIT_OK


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser(
        "relabel",
        help="Name a speaker of a processed meeting and re-render its outputs (no ASR, no diarization).",
        description="Set SPEAKER=NAME (SPEAKER: its id, e.g. SPEAKER_01, or its current label; an empty NAME "
        "drops a manual name) and re-render transcript.srt/.vtt/.md, analytics.json, notes.md and report.html.",
    )
    p.add_argument("meeting_dir", metavar="MEETING_DIR")
    p.add_argument("assignments", metavar="SPEAKER=NAME", nargs="+")
    p.add_argument("--side", choices=SIDES, help="The side of the named speaker(s).")
    p.add_argument("--enroll", action="store_true", help="Also enroll the voice from this speaker's clean speech here.")
    p.add_argument("--company", help="With --enroll: the speaker's company.")
    p.add_argument("--replace", action="store_true", help="With --enroll: replace an enrolled profile of that name.")
    p.add_argument("--consent", metavar="HOW", help="Required with --enroll: how the speaker consented to keeping their voiceprint.")
    p.add_argument("--consent-by", metavar="WHO", help="With --enroll: who gave the consent (default: the speaker).")
    p.add_argument("--consent-at", metavar="WHEN", help="With --enroll: when it was given (default: today).")
    p.set_defaults(func=_run)
