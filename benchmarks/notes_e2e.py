"""Notes judged from audio, end to end: eval meetings spoken by TTS, through the whole pipeline.

Each meeting's script (``benchmarks/notes_eval/src/``, ``benchmarks/notes_eval/extra/src/`` or
``../shared/notes-dev-extra/src/``) is synthesized to a 16 kHz recording by ``benchmarks/tts.py``
(one voice per person), with a sidecar that gives only the meeting's date (from the script's
``# date:`` header, else its hints file) and id: no participants, no language, no speaker count,
so the language is detected and the speaker names must come from the audio. The recording then
goes through ``meeting_notes.pipeline.process_meeting`` with the embedded defaults, exactly as
``meeting-notes process`` runs it (ASR, diarization, alignment, speaker names, notes), and the
notes are scored against the meeting's gold file with ``notes_eval.score_notes``. Unless
``--skip-text``, the notes step also runs on the written transcript (the one
``benchmarks/notes_eval.py`` scores, built from the script), so the table shows what the audio
path costs.

Synthesized speech is much cleaner than a real room: one clear voice per person, no crosstalk,
no overlap, no echo, no background, no accents or mumbling, and a speaker never changes voice.
ASR and diarization errors here are a floor, not what a recorded meeting gets; the gap between
the audio and the text columns is a lower bound of the real one.

Columns: speakers (people in the script / speakers the diarization found), names (found speaker
names / people), DER (no collar, against the turns the synthesis wrote), WER (English, Whisper
normaliser) or CER (Japanese) of the transcript against the script, recall and precision (mean
over the scored fields, as ``notes_eval.py`` computes them) from audio and from text, and
whether the account is right.

    .venv/bin/python benchmarks/notes_e2e.py                       # the four default meetings
    .venv/bin/python benchmarks/notes_e2e.py --meetings en_short_inbound --skip-text
    nohup .venv/bin/python benchmarks/notes_e2e.py > /tmp/notes_e2e.log 2>&1 &

Needs the TTS packages (``benchmarks/requirements-tts.txt``). Audio, pipeline outputs and the
results go under ``--work`` (default ``~/.cache/meeting-notes-e2e``), never into the repository.
"""

from __future__ import annotations

import argparse
import datetime as dt
import importlib.util
import json
import os
import sys
import time
import warnings
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
HERE = Path(__file__).resolve().parent
for p in (str(ROOT), str(HERE)):
    if p not in sys.path:
        sys.path.insert(0, p)

import tts  # noqa: E402  (benchmarks/tts.py)

DATA = HERE / "notes_eval"
SHARED = ROOT.parent / "shared"
for candidate in (Path("/work/shared"), ROOT / "shared"):
    if not SHARED.is_dir() and candidate.is_dir():
        SHARED = candidate
#: where a meeting's script and gold are looked for, in this order
SOURCES = [
    (DATA / "src", DATA / "gold"),
    (DATA / "extra" / "src", DATA / "extra" / "gold"),
    (SHARED / "notes-dev-extra" / "src", SHARED / "notes-dev-extra" / "gold"),
]
DEFAULT_MEETINGS = ["en_hvac_field_service", "ja_construction_site", "ja_short_renewal", "en_long_marketing_agency"]
DEFAULT_WORK = Path(os.environ.get("MEETING_NOTES_E2E_DIR", Path.home() / ".cache" / "meeting-notes-e2e"))

#: voices chosen per meeting to fit the people (the rest: tts.DEFAULT_VOICES in order)
VOICES: dict[str, dict[str, str]] = {
    # Kevin (seller), Maria, Dave
    "en_hvac_field_service": {"A": "piper:joe", "B": "pico:en-GB", "C": "flite:rms"},
    # Jordan, Sam (sellers), Colleen, Theo, Bex (joins halfway)
    "en_long_marketing_agency": {"A": "piper:joe", "B": "flite:awb", "C": "pico:en-GB", "D": "flite:rms", "E": "pico:en-US"},
    # 森 (seller), 岡田 (seller), 西村 (部長), 吉田
    "ja_construction_site": {"A": "kokoro:jm_kumo", "B": "kokoro:jf_alpha", "C": "openjtalk:mei,pitch=-5", "D": "kokoro:jf_nezumi"},
    # 長谷川 (seller), 坂本 (課長), 加藤
    "ja_short_renewal": {"A": "kokoro:jm_kumo", "B": "kokoro:jf_alpha", "C": "openjtalk:mei,pitch=-5"},
}

NOTE = (
    "Synthesized speech (offline TTS, one clean voice per person, no crosstalk, overlap, echo or noise) is much "
    "cleaner than a real room: the ASR and diarization errors here are a floor, not what a recorded meeting gets."
)


def log(msg: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {msg}", file=sys.stderr, flush=True)


# -- the meetings --------------------------------------------------------------------------------
def find_meeting(meeting_id: str) -> tuple[Path, Path]:
    """The script and gold file of ``meeting_id`` (FileNotFoundError naming where it looked)."""
    for src_dir, gold_dir in SOURCES:
        src, gold = src_dir / f"{meeting_id}.txt", gold_dir / f"{meeting_id}.json"
        if src.is_file() and gold.is_file():
            return src, gold
    where = ", ".join(str(s) for s, _ in SOURCES)
    raise FileNotFoundError(f"no script and gold for {meeting_id!r} in {where}")


def meeting_date(script: tts.Script, gold: dict[str, Any]) -> str | None:
    """The script's ``# date:``, else the eval set's hints file, else the gold's meeting date."""
    if script.date:
        return script.date
    hints = DATA / f"{script.meeting_id}.hints.json"
    if hints.is_file():
        return json.loads(hints.read_text(encoding="utf-8")).get("date")
    return gold.get("meeting_date")


def _build_transcripts_module() -> Any:
    spec = importlib.util.spec_from_file_location("notes_eval_build_transcripts", DATA / "build_transcripts.py")
    module = importlib.util.module_from_spec(spec)  # type: ignore[arg-type]
    spec.loader.exec_module(module)  # type: ignore[union-attr]
    return module


def written_transcript(meeting_id: str, src: Path) -> Any:
    """The transcript ``notes_eval.py`` scores: ``notes_eval/<id>.transcript.json``, else built
    from the script the same way (``notes_eval/build_transcripts.py``)."""
    from meeting_notes.schema import Transcript, read_json

    path = DATA / f"{meeting_id}.transcript.json"
    if path.is_file():
        return read_json(Transcript, path)
    return _build_transcripts_module().build(src)


# -- scoring ----------------------------------------------------------------------------------
def mean_of(score: dict[str, Any], key: str) -> float | None:
    """Mean over the scored fields of one meeting's ``recall`` or ``precision`` (fields with none skipped)."""
    values = [f[key] for f in score["fields"].values() if f[key] is not None]
    return sum(values) / len(values) if values else None


def asr_error(language: str, reference: str, hypothesis: str) -> float:
    from meeting_notes.metrics import cer_japanese, wer

    return cer_japanese(reference, hypothesis) if language == "ja" else wer(reference, hypothesis)


def speaker_names(transcript: Any, ref_segments: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Each diarized speaker: its label, name source, and the script speaker it overlaps most."""
    overlap: dict[str, dict[str, float]] = {}
    for seg in transcript.segments:
        if not seg.speaker:
            continue
        for ref in ref_segments:
            o = min(seg.end, ref["end"]) - max(seg.start, ref["start"])
            if o > 0:
                by = overlap.setdefault(seg.speaker, {})
                by[ref["speaker"]] = by.get(ref["speaker"], 0.0) + o
    out = []
    for s in transcript.speakers:
        by = overlap.get(s.id, {})
        out.append({
            "id": s.id, "label": s.label, "name": s.name, "source": s.source, "side": s.side,
            "speech_s": round(s.speech_seconds, 1), "script_speaker": max(by, key=by.get) if by else None,
        })
    return out


# -- running ----------------------------------------------------------------------------------
def synthesize(meeting_id: str, work: Path, cache: Path) -> tuple[Path, tts.Reference, str | None, dict[str, Any], Path]:
    src, gold_path = find_meeting(meeting_id)
    script = tts.read_script(src)
    gold = json.loads(gold_path.read_text(encoding="utf-8"))
    audio = work / "audio" / f"{meeting_id}.wav"
    t0 = time.perf_counter()
    ref = tts.synthesize_script(script, audio, VOICES.get(meeting_id), cache)
    date = meeting_date(script, gold)
    sidecar = {"meeting_id": meeting_id, **({"date": date} if date else {})}
    tts_sidecar = audio.with_name(audio.name + ".meeting.json")
    tts_sidecar.write_text(json.dumps(sidecar) + "\n", encoding="utf-8")
    log(f"{meeting_id}: {ref.duration / 60:.1f} min synthesized in {time.perf_counter() - t0:.0f} s "
        f"({ref.cached_lines}/{len(ref.segments)} lines cached); voices {ref.voices}")
    return audio, ref, date, gold, src


def run_audio(meeting_id: str, audio: Path, ref: tts.Reference, gold: dict[str, Any], work: Path) -> dict[str, Any]:
    """The whole pipeline on the recording, as ``meeting-notes process`` runs it; never raises."""
    from meeting_notes.sidecar import options_with_sidecar
    from meeting_notes.metrics import diarization_error_rate, read_rttm
    from meeting_notes.notes.schema import SalesNotes
    from meeting_notes.context import ProcessOptions
    from meeting_notes.pipeline import process_meeting
    from meeting_notes.schema import SpeakerTurn, Transcript, read_json
    from meeting_notes.settings import get_settings
    from notes_eval import score_notes

    row: dict[str, Any] = {"ok": False}
    t0 = time.perf_counter()

    def on_stage(name: str, event: str, record: Any) -> None:
        if event == "end" and record is not None:
            log(f"{meeting_id}: {name} {record.status} {getattr(record, 'wall_s', None) or 0:.0f} s")

    warnings.filterwarnings("ignore", message="'uem' was approximated")  # pyannote.metrics, DER without a UEM
    try:
        options = options_with_sidecar(audio, ProcessOptions())
        run = process_meeting(audio, work / "out", options, get_settings(), on_stage=on_stage)
    except Exception as exc:  # a failed meeting is a row, the others go on
        row["error"] = f"{type(exc).__name__}: {exc}"[:400]
        row["wall_s"] = time.perf_counter() - t0
        log(f"{meeting_id}: pipeline failed: {row['error']}")
        return row
    meeting_dir = work / "out" / run.meeting_id
    transcript = read_json(Transcript, meeting_dir / "transcript.json")
    sep = "" if ref.language == "ja" else " "
    hypothesis = sep.join(s.text for s in transcript.segments)
    ref_turns = [SpeakerTurn(start=s.start, end=s.end, speaker=s.speaker) for s in ref.segments]
    hyp_turns = read_rttm(meeting_dir / "diarization.rttm")
    row.update(
        ok=True,
        meeting_dir=str(meeting_dir),
        language=transcript.language,
        asr_error=asr_error(ref.language, ref.text(), hypothesis),
        der=diarization_error_rate(ref_turns, hyp_turns).der,
        speakers_found=len(transcript.speakers),
        names=speaker_names(transcript, [vars(s) for s in ref.segments]),
        wall_s=time.perf_counter() - t0,
        stages={k: {"status": v.status, "wall_s": getattr(v, "wall_s", None)} for k, v in run.stages.items()},
    )
    notes_path = meeting_dir / "notes.json"
    if notes_path.is_file():
        notes = read_json(SalesNotes, notes_path)
        row["notes_status"] = notes.status
        row["score"] = score_notes(notes, gold)
    return row


def run_text(meeting_id: str, src: Path, date: str | None, gold: dict[str, Any], endpoint: Any) -> dict[str, Any]:
    """The notes step on the written transcript (as ``notes_eval.py`` runs it)."""
    from meeting_notes.settings import get_settings
    from notes_eval import run_one, score_notes

    transcript = written_transcript(meeting_id, src)
    row = run_one(transcript, get_settings(), endpoint, {"date": date} if date else {})
    out: dict[str, Any] = {"ok": row["ok"], "latency_s": row["latency_s"]}
    if row["ok"]:
        out["score"] = score_notes(row["notes"], gold)
        out["notes_status"] = row["notes"].status
    else:
        out["error"] = f"{row.get('error_code')}: {row.get('error', '')}"[:300]
    return out


# -- the table ----------------------------------------------------------------------------------
def _f(x: float | None, pct: bool = False) -> str:
    if x is None:
        return "–"
    return f"{100 * x:.1f} %" if pct else f"{x:.2f}"


def table(rows: list[dict[str, Any]]) -> str:
    head = (
        "| meeting | lang | min | speakers true/found | names found | DER | WER/CER | recall audio | recall text "
        "| precision audio/text | account audio/text |"
    )
    lines = [head, "|" + "---|" * (head.count("|") - 1)]
    for r in rows:
        a, t = r.get("audio") or {}, r.get("text") or {}
        sa, st = a.get("score"), t.get("score")
        named = sum(1 for n in a.get("names", []) if n["name"])
        metric = ("CER " if r["language"] == "ja" else "WER ") + _f(a.get("asr_error"), pct=True) if a.get("ok") else "–"

        def acc(s: dict[str, Any] | None) -> str:
            return "–" if s is None else ("ok" if s["account_ok"] else "miss")

        lines.append(
            f"| {r['meeting']} | {r['language']} | {r['minutes']:.1f} | {r['speakers']}/{a.get('speakers_found', '–')} "
            f"| {named if a.get('ok') else '–'}/{r['speakers']} | {_f(a.get('der'), pct=True) if a.get('ok') else '–'} | {metric} "
            f"| {_f(mean_of(sa, 'recall')) if sa else ('failed' if a else '–')} "
            f"| {_f(mean_of(st, 'recall')) if st else ('failed' if t.get('ok') is False else '–')} "
            f"| {_f(mean_of(sa, 'precision')) if sa else '–'}/{_f(mean_of(st, 'precision')) if st else '–'} "
            f"| {acc(sa)}/{acc(st)} |"
        )
    return "\n".join(lines)


def names_table(rows: list[dict[str, Any]]) -> str:
    lines = ["| meeting | speaker | label | source | side | speech s | script speaker |", "|---|---|---|---|---|---|---|"]
    for r in rows:
        for n in (r.get("audio") or {}).get("names", []):
            lines.append(
                f"| {r['meeting']} | {n['id']} | {n['label']} | {n['source'] or '–'} | {n['side']} | {n['speech_s']} | {n['script_speaker'] or '–'} |"
            )
    return "\n".join(lines)


def fields_table(rows: list[dict[str, Any]]) -> str:
    """Per field recall from audio / from text (where the audio path loses items)."""
    from notes_eval import SCORED

    head = "| meeting | " + " | ".join(SCORED) + " |"
    lines = [head + "  (recall audio/text)", "|" + "---|" * (len(SCORED) + 1)]
    for r in rows:
        sa = ((r.get("audio") or {}).get("score") or {}).get("fields", {})
        st = ((r.get("text") or {}).get("score") or {}).get("fields", {})
        cells = [f"{_f((sa.get(k) or {}).get('recall'))}/{_f((st.get(k) or {}).get('recall'))}" for k in SCORED]
        lines.append(f"| {r['meeting']} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def print_tables(rows: list[dict[str, Any]], results: Path) -> None:
    print()
    print(f"Notes from synthesized audio vs from the written transcript ({dt.date.today().isoformat()}). {NOTE}")
    print()
    print(table(rows))
    print()
    print(fields_table(rows))
    print()
    print(names_table(rows))
    print(f"\nresults: {results}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--meetings", default=",".join(DEFAULT_MEETINGS), help=f"Comma-separated ids (default: {','.join(DEFAULT_MEETINGS)}).")
    parser.add_argument("--work", type=Path, default=DEFAULT_WORK, help=f"Audio, pipeline outputs and results (default {DEFAULT_WORK}).")
    parser.add_argument("--skip-text", action="store_true", help="Do not run the notes step on the written transcripts.")
    parser.add_argument("--tts-cache", type=Path, default=None, help="Per-line TTS clip cache (default WORK/tts-cache).")
    parser.add_argument("--table-only", action="store_true", help="Print the tables of WORK/results.json (a run so far) and stop.")
    args = parser.parse_args(argv)
    work = args.work.expanduser().resolve()
    if work == ROOT or ROOT in work.parents:
        parser.error(f"--work {work} is inside the repository; pick a folder outside it")
    work.mkdir(parents=True, exist_ok=True)
    ids = [m.strip() for m in args.meetings.split(",") if m.strip()]
    if args.table_only:
        rows = json.loads((work / "results.json").read_text(encoding="utf-8"))["rows"]
        print_tables(rows, work / "results.json")
        return 0
    print(NOTE, flush=True)
    print(f"work folder: {work}", flush=True)

    rows: list[dict[str, Any]] = []
    results = work / "results.json"

    def save() -> None:
        results.write_text(json.dumps({"note": NOTE, "rows": rows}, ensure_ascii=False, indent=1, default=str), encoding="utf-8")

    # 1. synthesis first: a missing TTS package fails before any long step
    prepared = []
    t_synth = time.perf_counter()
    for meeting_id in ids:
        try:
            audio, ref, date, gold, src = synthesize(meeting_id, work, args.tts_cache or work / "tts-cache")
        except (tts.TTSMissingError, FileNotFoundError, ValueError) as exc:
            print(f"error: {exc}", file=sys.stderr)
            return 2
        prepared.append((meeting_id, audio, ref, date, gold, src))
        rows.append({
            "meeting": meeting_id, "language": ref.language, "minutes": ref.duration / 60,
            "speakers": len(ref.voices), "voices": ref.voices, "date": date, "audio_path": str(audio),
            "synth_s": ref.synth_seconds,
        })
    log(f"synthesis done in {time.perf_counter() - t_synth:.0f} s")
    save()

    # 2. per meeting: the whole pipeline on the recording, then the notes on the written
    #    transcript (a run cut short still has whole rows)
    endpoint = None
    for row, (meeting_id, audio, ref, date, gold, src) in zip(rows, prepared):
        log(f"{meeting_id}: pipeline on {ref.duration / 60:.1f} min of audio")
        row["audio"] = run_audio(meeting_id, audio, ref, gold, work)
        save()
        print(f"{meeting_id}: audio {'ok' if row['audio']['ok'] else 'FAILED'} in {row['audio']['wall_s']:.0f} s", flush=True)
        if args.skip_text:
            continue
        if endpoint is None:
            from meeting_notes.notes.endpoint import open_endpoint
            from meeting_notes.settings import get_settings

            endpoint = open_endpoint(get_settings())
        log(f"{meeting_id}: notes on the written transcript")
        row["text"] = run_text(meeting_id, src, date, gold, endpoint)
        save()
        print(f"{meeting_id}: text {'ok' if row['text']['ok'] else 'FAILED'} in {row['text']['latency_s']:.0f} s", flush=True)

    print_tables(rows, results)
    return 0 if all((r.get("audio") or {}).get("ok") for r in rows) else 1


if __name__ == "__main__":
    raise SystemExit(main())
