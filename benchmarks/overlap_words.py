"""Words said during overlap: how the alignment flags them and whom it gives them to; prints Markdown tables.

    python benchmarks/overlap_words.py [--models base,tiny.en] [--threads 2]

On the pyannote sample (two speakers, four short overlaps in sample.rttm), each model's words
(transcribed once) are aligned to two sets of turns:

- ``diarization``: the project's diarization of the file (speaker count estimated);
- ``reference``: the reference RTTM, with exclusive turns made the way the issue criticises
  (an overlap goes to whoever's turn is longer), which isolates the alignment from diarization
  errors.

For each, alignment with ``overlap_resolution`` off (the exclusive turn that covers a word most)
and on (the active speaker its sentence supports). Scored: cpWER and speaker-blind WER against
sample.stm, and the overlap flag against the reference: a word is truly overlapped when its
midpoint lies where two reference speakers talk at once.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from eval_data import EVAL_DIR  # noqa: E402

from meeting_notes.metrics import cpwer, read_rttm, read_stm, wer, words_by_speaker_from_stm  # noqa: E402
from meeting_notes.schema import AudioInfo, Diarization, SpeakerTurn, Transcript  # noqa: E402
from meeting_notes.settings import Settings  # noqa: E402


def exclusive_by_longer_turn(turns: list[SpeakerTurn]) -> list[SpeakerTurn]:
    """Non-overlapping turns: where turns overlap, the speaker whose turn is longer."""
    bounds = sorted({t.start for t in turns} | {t.end for t in turns})
    out: list[SpeakerTurn] = []
    for a, b in zip(bounds, bounds[1:]):
        on = [t for t in turns if t.start <= a and t.end >= b]
        if not on:
            continue
        spk = max(on, key=lambda t: t.end - t.start).speaker
        if out and out[-1].speaker == spk and abs(out[-1].end - a) < 1e-9:
            out[-1] = SpeakerTurn(start=out[-1].start, end=b, speaker=spk)
        else:
            out.append(SpeakerTurn(start=a, end=b, speaker=spk))
    return out


def overlap_regions(turns: list[SpeakerTurn]) -> list[tuple[float, float]]:
    bounds = sorted({t.start for t in turns} | {t.end for t in turns})
    return [(a, b) for a, b in zip(bounds, bounds[1:]) if len({t.speaker for t in turns if t.start <= a and t.end >= b}) >= 2]


def score(t: Transcript, reference: dict[str, str], ref_text: str, regions: list[tuple[float, float]]) -> str:
    hyp: dict[str, list[str]] = {}
    for seg in t.segments:
        hyp.setdefault(seg.speaker or "?", []).append(seg.text)
    cp = cpwer(reference, {k: " ".join(v) for k, v in hyp.items()})
    plain = wer(ref_text, " ".join(s.text for s in t.segments))
    words = t.words
    truth = [any(a <= (w.start + w.end) / 2 <= b for a, b in regions) for w in words]
    flagged = [w.overlap for w in words]
    tp = sum(f and r for f, r in zip(flagged, truth))
    return (
        f"{100 * cp:.1f} % | {100 * plain:.1f} % | {sum(flagged)} | {sum(truth)} | "
        f"{tp}/{sum(flagged)} | {tp}/{sum(truth)}"
    )


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--models", default="base,tiny.en")
    ap.add_argument("--threads", type=int, default=2)
    args = ap.parse_args()
    os.environ.setdefault("PYANNOTE_METRICS_ENABLED", "false")
    from meeting_notes.alignment import build_transcript
    from meeting_notes.asr import transcribe
    from meeting_notes.audio import load_audio
    from meeting_notes.diarize import diarize

    settings = Settings(cpu_threads=args.threads)
    wav = EVAL_DIR / "pyannote-sample" / "sample.wav"
    stm = read_stm(EVAL_DIR / "pyannote-sample" / "sample.stm")
    reference = words_by_speaker_from_stm(stm)
    ref_text = " ".join(u.text for u in sorted(stm, key=lambda u: u.start))
    ref_turns = read_rttm(EVAL_DIR / "pyannote-sample" / "sample.rttm")
    regions = overlap_regions(ref_turns)
    audio = load_audio(wav, settings.audio)
    info = AudioInfo(path=str(wav), sha256="0" * 64, duration=len(audio) / 16000)
    hyp_dia = diarize(audio, settings)
    turn_sets = {
        "diarization": hyp_dia,
        "reference": Diarization(
            turns=ref_turns, exclusive_turns=exclusive_by_longer_turn(ref_turns), speakers=sorted({t.speaker for t in ref_turns})
        ),
    }
    print("\n## Overlapped words on the pyannote sample\n")
    print(f"Reference overlap: {sum(b - a for a, b in regions):.2f} s in {len(regions)} regions; "
          f"diarization: {len(hyp_dia.speakers)} speakers.\n")
    print("| model | turns | overlap resolution | cpWER | WER | words flagged | words in ref. overlap | flag precision | flag recall |")
    print("|---|---|---|---|---|---|---|---|---|")
    for model in args.models.split(","):
        asr = transcribe(audio, "en" if model.endswith(".en") else "auto", settings, model=model)
        for name, dia in turn_sets.items():
            for resolution in (False, True):
                cfg = settings.alignment.model_copy(update={"overlap_resolution": resolution})
                t = build_transcript("sample", info, asr, dia, cfg)
                print(f"| {model} | {name} | {'on' if resolution else 'off'} | {score(t, reference, ref_text, regions)} |")


if __name__ == "__main__":
    main()
