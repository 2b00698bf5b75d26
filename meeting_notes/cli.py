"""The ``meeting-notes`` command line."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

from meeting_notes import __version__
from meeting_notes.context import ProcessOptions
from meeting_notes.crm.cli import add_parser as add_crm_commands
from meeting_notes.errors import InputError, MeetingNotesError
from meeting_notes.forget import ForgetError, Forgetter, forget_speaker, meetings_of_account, prefect_eraser
from meeting_notes.model_registry import load_registry, resolve_model
from meeting_notes.orchestration_cli import add_orchestration_commands
from meeting_notes.pipeline import process_meeting
from meeting_notes.process_defaults import apply_process_defaults
from meeting_notes.progress import make_progress
from meeting_notes.settings import get_settings
from meeting_notes.sidecar import options_with_sidecar
from meeting_notes.speakers_cli import add_parser as add_speaker_commands

EXIT_OK = 0
EXIT_FAILED = 1
EXIT_USAGE = 2


def _positive_int(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, got {value}")
    return value


def _add_process(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "process",
        help="Transcribe, diarize and (unless --no-notes) write sales notes for recordings.",
        description="Process one or more recordings. Each one gets a folder DIR/<meeting_id>/ "
        "with transcript.json, diarization.rttm, transcript.srt/.vtt/.md and run.json "
        "(and notes.json/notes.md unless --no-notes). A recording's sidecar AUDIO.meeting.json (title, date, "
        "participants, account, language, speaker count, CRM ids) is read as the inbox reads it. A failed file does not stop the others; "
        "re-running resumes after the last finished stage.",
    )
    p.add_argument("audio", nargs="+", type=Path, metavar="AUDIO", help="Recording(s): wav, flac, mp3, m4a, ogg, opus, webm, mp4, ...")
    p.add_argument("--out", type=Path, required=True, metavar="DIR", help="Output folder.")
    p.add_argument("--language", choices=["auto", "en", "ja"], default=None, help="Spoken language (default: settings, 'auto').")
    p.add_argument("--num-speakers", type=_positive_int, metavar="N", help="Exact number of speakers, when known.")
    p.add_argument("--min-speakers", type=_positive_int, metavar="N")
    p.add_argument("--max-speakers", type=_positive_int, metavar="N")
    p.add_argument("--model", metavar="NAME_OR_PATH", help="Whisper model: registry name (base, tiny.en), CTranslate2 folder, or hub name.")
    p.add_argument("--device", choices=["auto", "cpu", "cuda"], default=None)
    p.add_argument("--no-notes", action="store_true", help="Skip the LLM sales-notes step.")
    p.add_argument("--sidecar", type=Path, metavar="FILE",
                   help="The meeting's sidecar (participants, account, date, CRM ids...) when it is not AUDIO.meeting.json "
                   "beside the recording (read by default); one AUDIO only. Flags given here win over its language and speaker count.")
    p.add_argument("--json", action="store_true", help="JSON lines on stdout even on a terminal.")
    p.set_defaults(func=_process)


def _process(args: argparse.Namespace) -> int:
    if args.min_speakers and args.max_speakers and args.min_speakers > args.max_speakers:
        print("error: --min-speakers is larger than --max-speakers", file=sys.stderr)
        return EXIT_USAGE
    if args.sidecar is not None and len(args.audio) > 1:
        print("error: --sidecar names the sidecar of one recording: give one AUDIO", file=sys.stderr)
        return EXIT_USAGE
    settings = get_settings()
    options = ProcessOptions(
        language=args.language,
        num_speakers=args.num_speakers,
        min_speakers=args.min_speakers,
        max_speakers=args.max_speakers,
        asr_model=args.model,
        device=args.device,
        notes=not args.no_notes,
    )
    progress = make_progress(force_json=args.json)
    failures = 0
    total = len(args.audio)
    for index, path in enumerate(args.audio, 1):
        progress.start_file(index, total, str(path))
        result: dict[str, object] = {"input": str(path)}
        try:
            # the sidecar beside the recording (or --sidecar), read as the inbox and the batch read it
            run = process_meeting(path, args.out, options_with_sidecar(path, options, args.sidecar), settings,
                                  on_stage=progress.stage)
        except InputError as exc:
            failures += 1
            result.update(status="failed", error=str(exc), error_type=type(exc).__name__)
            progress.error(str(exc))
        except MeetingNotesError as exc:
            failures += 1
            result.update(status="failed", error=str(exc), error_type=type(exc).__name__)
            progress.error(f"{path}: {exc}")
        except Exception as exc:  # keep going with the other files; details are in run.json
            failures += 1
            result.update(status="failed", error=f"{type(exc).__name__}: {exc}", error_type=type(exc).__name__)
            progress.error(f"{path}: {type(exc).__name__}: {exc}")
        else:
            meeting_dir = Path(args.out) / run.meeting_id
            result.update(
                status="done",
                meeting_id=run.meeting_id,
                meeting_dir=str(meeting_dir),
                duration=run.audio_duration,
                real_time_factor=run.real_time_factor,
                stages={k: v.status for k, v in run.stages.items()},
            )
        progress.finish_file(result)
    return EXIT_FAILED if failures else EXIT_OK


def _models(args: argparse.Namespace) -> int:
    settings = get_settings()
    registry = load_registry()
    unknown = [n for n in args.names if n not in registry]
    if unknown:
        print(f"error: not in the registry: {', '.join(unknown)}", file=sys.stderr)
        return EXIT_USAGE
    for name, entry in registry.items():
        if args.names and name not in args.names:
            continue
        try:
            where = str(resolve_model(name, settings).path) if args.resolve else "-"
        except MeetingNotesError as exc:
            where = f"UNAVAILABLE: {exc}"
        print(f"{name:<34} {entry.get('kind', ''):<22} {entry.get('licence', ''):<12} {entry.get('size_mb', '?'):>6} MB  {where}")
    return EXIT_OK


def _forget(args: argparse.Namespace) -> int:
    chosen = [bool(args.meeting_dirs), args.account is not None, args.speaker is not None]
    if sum(chosen) != 1:
        print("error: give MEETING_DIR(s), --account ID or --speaker NAME (one of them)", file=sys.stderr)
        return EXIT_USAGE
    settings = get_settings()
    if args.speaker is not None:
        report = forget_speaker(args.speaker, settings)
        Forgetter(settings, inbox_root=args.inbox, prefect=None).print(f"speaker {args.speaker!r}", report)
        return EXIT_OK
    out_dir = Path(args.out or settings.orchestration.out_dir)
    if args.account is not None:
        if not out_dir.is_dir():
            print(f"error: no meeting folders at {out_dir} (--out DIR)", file=sys.stderr)
            return EXIT_USAGE
        folders = meetings_of_account(out_dir, args.account)
        if not folders:
            print(f"account {args.account!r}: no meeting under {out_dir} belongs to it: nothing left to remove")
            return EXIT_OK
    else:
        folders = [Path(d) for d in args.meeting_dirs]
    forgetter = Forgetter(settings, inbox_root=args.inbox, crm=args.crm, prefect=prefect_eraser(args.skip_prefect))
    if args.skip_prefect:
        print("warning: --skip-prefect: the meetings' Prefect flow runs and artifacts are NOT removed", file=sys.stderr)
    failed = 0
    for folder in folders:
        try:
            forgetter.print(folder.name, forgetter.meeting(folder))
        except ForgetError as exc:
            failed += 1
            print(f"error: {exc}", file=sys.stderr)
    return EXIT_FAILED if failed else EXIT_OK


def _add_forget(sub: argparse._SubParsersAction) -> None:
    f = sub.add_parser(
        "forget",
        help="Remove every trace of a meeting, of an account's meetings, or of an enrolled voice.",
        description="Removes the meeting folder, the inbox's copy and records, the LLM cache entries, the CRM "
        "ledger rows, the Prefect flow runs and artifacts (through the Prefect API: stops, removing nothing, when "
        "it cannot be reached), llama-server log lines quoting it and voices learnt from it; with --crm, first "
        "deletes (Salesforce) or archives (HubSpot) the CRM records this project created and tells a webhook. "
        "Prints what it removed; running it again removes nothing more. See docs/data-governance.md.",
    )
    f.add_argument("meeting_dirs", nargs="*", type=Path, metavar="MEETING_DIR", help="Meeting folder(s).")
    f.add_argument("--account", metavar="ID", help="Every meeting under --out whose CRM ids or notes' account name is ID.")
    f.add_argument("--speaker", metavar="NAME", help="Erase this enrolled voice (voiceprint and consent record).")
    f.add_argument("--crm", action="store_true", help="Also delete/archive the records this project created in the CRM.")
    f.add_argument("--out", type=Path, metavar="DIR", help="Meeting folders for --account (default: orchestration.out_dir).")
    f.add_argument("--inbox", type=Path, metavar="DIR", help="Inbox root (default: orchestration.inbox_dir).")
    f.add_argument("--skip-prefect", action="store_true",
                   help="Leave Prefect's flow runs and artifacts (when its API cannot be reached); said in the output.")
    f.set_defaults(func=_forget)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="meeting-notes",
        description="Sales-meeting recordings to speaker-attributed transcripts and CRM-ready notes.",
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    sub = parser.add_subparsers(dest="command", required=True)
    _add_process(sub)
    m = sub.add_parser("models", help="List the model registry (and where each model resolves).")
    m.add_argument("names", nargs="*", help="Only these registry entries.")
    m.add_argument("--resolve", action="store_true", help="Resolve (assemble, checksum) the models.")
    m.set_defaults(func=_models)
    add_orchestration_commands(sub)
    add_speaker_commands(sub)
    add_crm_commands(sub)
    _add_forget(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``meeting-notes`` console script."""
    apply_process_defaults()
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return int(args.func(args))
    except KeyboardInterrupt:
        return 130
    except MeetingNotesError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_FAILED


if __name__ == "__main__":
    sys.exit(main())
