"""Japanese speaker attribution: DER and speaker-attributed character error rate (cpCER) of the
whole transcript pipeline on the built Japanese multi-speaker recordings.

    python benchmarks/japanese_cpcer.py [--threads 2] [--keep DIR]

Recordings (``eval_data.diarization_suite``, real Common Voice ja voices with known boundaries):
``ja-5spk`` (five clips in a row, pauses, every second clip overlapping the previous by 0.7 s)
and the telephone-band two-person calls ``call-ja-12`` and ``call-ja-34`` (two clips cut at
pauses and alternated). The reference text of each speaker is their clip's sentence from
``reference.tsv``; the hypothesis is each diarized speaker's words in ``transcript.json``
(``meeting_notes.pipeline.process_meeting``, language ja, notes off). Rows:

- ours: the pipeline as shipped, speaker count estimated, and with the true count given;
- oracle turns: the same ASR words attributed with the reference turns (the alignment step of
  the pipeline, fed the reference instead of our diarization): the cpCER left when attribution
  is perfect, i.e. the ASR's own errors. ours minus oracle = what attribution costs.

cpCER pairs each reference speaker with one hypothesis speaker (Hungarian, fewest character
errors); characters given to the wrong speaker count twice (a deletion and an insertion).
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

import soundfile as sf

sys.path.insert(0, str(Path(__file__).resolve().parent))
from eval_data import SR, diarization_suite, ja_texts  # noqa: E402

RECORDINGS = ("ja-5spk", "call-ja-12", "call-ja-34")


def _by_speaker(transcript) -> dict[str, str]:
    out: dict[str, list[str]] = {}
    for seg in transcript.segments:
        out.setdefault(seg.speaker or "?", []).append(seg.text)
    return {k: "".join(v) for k, v in out.items()}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--keep", type=Path, help="keep the recordings and meeting folders here")
    args = ap.parse_args()

    from meeting_notes.alignment import build_transcript
    from meeting_notes.metrics import cpcer_japanese, diarization_error_rate
    from meeting_notes.context import ProcessOptions
    from meeting_notes.pipeline import process_meeting
    from meeting_notes.schema import AsrResult, AudioInfo, Diarization, Transcript, read_json
    from meeting_notes.settings import Settings

    settings = Settings(cpu_threads=args.threads)
    texts = ja_texts()
    recordings = [r for r in diarization_suite() if r.uri in RECORDINGS]
    work = args.keep or Path(tempfile.mkdtemp(prefix="ja-cpcer-"))
    work.mkdir(parents=True, exist_ok=True)

    print("| recording | kind | dur s | attribution | spk ref/hyp | DER c=0 | cpCER | characters |")
    print("|---|---|---|---|---|---|---|---|")
    for rec in recordings:
        wav = work / f"{rec.uri}.wav"
        sf.write(wav, rec.waveform, SR, subtype="PCM_16")
        reference = {spk: texts[spk] for spk in sorted({t.speaker for t in rec.reference})}
        n_chars = sum(len(v) for v in reference.values())
        out = work / rec.uri
        folder = None
        for label, count in (("ours, count estimated", None), ("ours, count given", rec.num_speakers)):
            run = process_meeting(wav, out, ProcessOptions(language="ja", num_speakers=count, notes=False), settings)
            folder = out / run.meeting_id
            transcript = read_json(Transcript, folder / "transcript.json")
            diar = read_json(Diarization, folder / "diarization.json")
            der = diarization_error_rate(rec.reference, diar.turns, uem=rec.uem, uri=rec.uri)
            cp = cpcer_japanese(reference, _by_speaker(transcript))
            print(f"| {rec.uri} | {rec.kind} | {rec.duration:.0f} | {label} | {rec.num_speakers}/{len(diar.speakers)} "
                  f"| {100 * der.der:.1f} | {100 * cp:.1f} | {n_chars} |")
        assert folder is not None
        asr = read_json(AsrResult, folder / "asr.json")
        oracle = Diarization(turns=rec.reference, exclusive_turns=[], speakers=sorted(reference))
        info = AudioInfo(path=str(wav), duration=rec.duration, sample_rate=SR, channels=1, sha256="")
        ideal = build_transcript(rec.uri, info, asr, oracle, settings.alignment)
        cp = cpcer_japanese(reference, _by_speaker(ideal))
        print(f"| {rec.uri} | {rec.kind} | {rec.duration:.0f} | oracle turns (ASR errors only) | {rec.num_speakers}/{rec.num_speakers} "
              f"| 0.0 | {100 * cp:.1f} | {n_chars} |")


if __name__ == "__main__":
    main()
