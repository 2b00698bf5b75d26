"""``meeting-notes enroll``, ``meeting-notes speakers list|remove`` (and ``relabel``, from
:mod:`meeting_notes.relabel`): the voice-profile store
(:mod:`meeting_notes.speakers`). ``add_parser(subparsers)`` registers them; each command sets
``func(args) -> int``."""

from __future__ import annotations

import argparse
import datetime as dt
import getpass
import sys
from pathlib import Path

from meeting_notes.clock import now_iso
from meeting_notes.errors import InputError
from meeting_notes.relabel import add_parser as add_relabel
from meeting_notes.settings import get_settings
from meeting_notes.speakers import Consent, SpeakerError, SpeakerStore, enroll, speaker_settings

EXIT_OK, EXIT_FAILED, EXIT_USAGE = 0, 1, 2


def _settings():
    return get_settings()


def _enroll(args: argparse.Namespace) -> int:
    settings = _settings()
    missing = [a for a in args.audio if not Path(a).is_file()]
    if missing:
        print(f"error: no such file: {', '.join(missing)}", file=sys.stderr)
        return EXIT_USAGE
    if not (args.consent or "").strip():
        print("error: a voiceprint is kept only with the speaker's consent: say how it was given with "
              "--consent HOW (e.g. 'written form', 'verbal, on the recording'), and --consent-by WHO when "
              "someone other than the speaker gave it", file=sys.stderr)
        return EXIT_USAGE
    consent = Consent(given_by=args.consent_by or args.name, given_at=args.consent_at or dt.date.today().isoformat(),
                      method=args.consent.strip(), recorded_by=getpass.getuser(), recorded_at=now_iso())
    try:
        p = enroll(args.name, [Path(a) for a in args.audio], settings, role=args.role, company=args.company,
                   replace=args.replace, consent=consent)
    except (InputError, SpeakerError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_FAILED
    print(f"enrolled {p.name!r} (id {p.id}, {p.speech_seconds:.1f} s of speech from {p.clips} clip(s), "
          f"side {p.side}) in {speaker_settings(settings).store_path}")
    return EXIT_OK


def _list(args: argparse.Namespace) -> int:
    cfg = speaker_settings(_settings())
    try:
        profiles = SpeakerStore(cfg.store_path).profiles()
    except SpeakerError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_FAILED
    if not profiles:
        print(f"no enrolled speakers ({cfg.store_path})")
        return EXIT_OK
    print(f"{'id':>4}  {'name':<28} {'role':<9} {'company':<20} {'speech':>7}  {'model':<24} consent")
    for p in profiles:
        c = p.consent
        consent = f"{c.method} (by {c.given_by}, {c.given_at})" if c else "NOT RECORDED"
        print(f"{p.id:>4}  {p.name:<28} {p.role or '-':<9} {p.company or '-':<20} {p.speech_seconds:>6.1f}s  "
              f"{p.model:<24} {consent}")
    return EXIT_OK


def _remove(args: argparse.Namespace) -> int:
    cfg = speaker_settings(_settings())
    try:
        p = SpeakerStore(cfg.store_path).remove(args.name)
    except SpeakerError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_FAILED
    print(f"removed {p.name!r} (id {p.id}): voiceprint and consent record erased from {cfg.store_path} "
          "(overwritten and the file rebuilt: no copy left in it)")
    return EXIT_OK


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    """Register ``enroll`` and ``speakers`` on the CLI's subparsers."""
    e = subparsers.add_parser(
        "enroll",
        help="Enroll a voice: a profile from one speaker's clips (at least 5 s of clear speech, one voice).",
    )
    e.add_argument("name", metavar="NAME", help="The speaker's name as it should appear in transcripts and notes.")
    e.add_argument("audio", metavar="AUDIO", nargs="+", help="Recordings of this speaker alone.")
    e.add_argument("--role", choices=["rep", "customer"], help="rep: seller side; customer: customer side.")
    e.add_argument("--company", help="The speaker's company.")
    e.add_argument("--replace", action="store_true", help="Replace an existing profile with this name.")
    e.add_argument("--consent", metavar="HOW", help="Required: how the speaker consented to keeping their voiceprint "
                   "(e.g. 'written form', 'verbal, on the recording at 00:12').")
    e.add_argument("--consent-by", metavar="WHO", help="Who gave the consent (default: the speaker, NAME).")
    e.add_argument("--consent-at", metavar="WHEN", help="When it was given (default: today).")
    e.set_defaults(func=_enroll)

    s = subparsers.add_parser("speakers", help="List or remove enrolled voices.")
    ssub = s.add_subparsers(dest="speakers_command", required=True)
    ls = ssub.add_parser("list", help="List enrolled speakers.")
    ls.set_defaults(func=_list)
    rm = ssub.add_parser("remove", help="Erase an enrolled speaker's voiceprint and consent record.")
    rm.add_argument("name", metavar="NAME_OR_ID")
    rm.set_defaults(func=_remove)


    add_relabel(subparsers)
