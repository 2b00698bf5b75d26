"""Quality and speed of the transcript pipeline on the shared eval data; prints Markdown tables.

    python benchmarks/run_benchmarks.py [--only diarization,asr,cpwer,speed] [--threads 2]

- diarization: DER (pyannote.metrics) on pyannote-sample and ami-debug dev (ami train files are
  the tuning set, shown separately), collar 0 and 0.25, overlap scored, with and without the
  true speaker count;
- asr: WER (Whisper English normaliser) on the English files, CER on commonvoice-ja;
- cpwer: speaker-attributed WER of the whole pipeline on pyannote-sample against its STM;
- speed: real-time factor per stage and whole pipeline, and peak RSS, on a >= 2-minute
  recording made by concatenating ami-debug files, in a fresh process with N CPU threads
  (cold = first recording in the process, models loading included; warm = a second one).
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import soundfile as sf

sys.path.insert(0, str(Path(__file__).resolve().parent))
from eval_data import EVAL_DIR, ami_items, sample_item  # noqa: E402

from meeting_notes.metrics import (  # noqa: E402
    cer_japanese,
    cpwer,
    diarization_error_rate,
    read_stm,
    wer,
    words_by_speaker_from_stm,
)
from meeting_notes.settings import Settings  # noqa: E402


def _pct(x: float) -> str:
    return f"{100 * x:.1f} %"


def bench_diarization(settings: Settings) -> None:
    from meeting_notes.audio import load_audio
    from meeting_notes.diarize import diarize

    print("\n## Diarization (DER, overlap scored)\n")
    print("| file | set | speakers (ref/hyp) | DER c=0 | DER c=0.25 | DER c=0 (count given) | DER c=0.25 (count given) | RTF |")
    print("|---|---|---|---|---|---|---|---|")
    groups = [("sample", [sample_item()]), ("ami dev", ami_items("development")), ("ami train (tuning set)", ami_items("train"))]
    diarize(load_audio(sample_item().audio, settings.audio)[: 16000 * 10], settings)  # load models before timing
    for label, items in groups:
        sums = np.zeros(4)
        totals = np.zeros(4)
        for item in items:
            audio = load_audio(item.audio, settings.audio)
            t0 = time.perf_counter()
            free = diarize(audio, settings)
            rtf = len(audio) / settings.audio.sample_rate / (time.perf_counter() - t0)
            given = diarize(audio, settings, num_speakers=item.num_speakers)
            cells = []
            for k, (hyp, collar) in enumerate([(free, 0.0), (free, 0.25), (given, 0.0), (given, 0.25)]):
                r = diarization_error_rate(item.reference, hyp.turns, collar=collar, uem=item.uem, uri=item.uri)
                sums[k] += r.der * r.total
                totals[k] += r.total
                cells.append(_pct(r.der))
            print(f"| {item.uri} | {label} | {item.num_speakers}/{len(free.speakers)} | " + " | ".join(cells) + f" | {rtf:.1f}x |")
        if len(items) > 1:
            print(f"| **all** | {label} | | " + " | ".join(_pct(s / t) for s, t in zip(sums, totals)) + " | |")


def bench_asr(settings: Settings) -> None:
    from meeting_notes.asr import transcribe
    from meeting_notes.audio import load_audio

    print("\n## Transcription (WER English, CER Japanese)\n")
    print("| file | model | language asked | detected | error rate | RTF |")
    print("|---|---|---|---|---|---|")
    stm = sorted(read_stm(EVAL_DIR / "pyannote-sample" / "sample.stm"), key=lambda u: u.start)
    en_items = [(EVAL_DIR / "pyannote-sample" / "sample.wav", " ".join(u.text for u in stm))]
    fw = {r["file"]: r for r in csv.DictReader(open(EVAL_DIR / "faster-whisper" / "reference.tsv"), delimiter="\t")}
    en_items.append((EVAL_DIR / "faster-whisper" / "jfk.flac", fw["jfk.flac"]["reference_text"]))
    libri = next(csv.DictReader(open(EVAL_DIR / "librispeech" / "reference.tsv"), delimiter="\t"))
    en_items.append((EVAL_DIR / "librispeech" / libri["file"], libri["reference_text"]))
    for model in ("base", "tiny.en"):
        transcribe(load_audio(en_items[0][0], settings.audio)[: 16000 * 5], "en", settings, model=model)  # warm-up
        errs = words = 0
        for path, ref in en_items:
            audio = load_audio(path, settings.audio)
            for language in ("auto",) if model == "base" else ("en",):
                t0 = time.perf_counter()
                res = transcribe(audio, language, settings, model=model)
                rtf = len(audio) / 16000 / (time.perf_counter() - t0)
                hyp = " ".join(s.text for s in res.segments)
                e = wer(ref, hyp)
                n = len(ref.split())
                errs += e * n
                words += n
                print(f"| {path.name} | {model} | {language} | {res.language} | WER {_pct(e)} | {rtf:.1f}x |")
        print(f"| **English, all** | {model} | | | WER {_pct(errs / words)} | |")
    ja = list(csv.DictReader(open(EVAL_DIR / "commonvoice-ja" / "reference.tsv"), delimiter="\t"))
    for language in ("ja", "auto"):
        errs = chars = 0.0
        detected = []
        for row in ja:
            audio = load_audio(EVAL_DIR / "commonvoice-ja" / row["file"], settings.audio)
            res = transcribe(audio, language, settings, model="base")
            detected.append(res.language)
            hyp = "".join(s.text for s in res.segments)
            c = cer_japanese(row["text"], hyp)
            n = len(row["text"])
            errs += c * n
            chars += n
        print(f"| commonvoice-ja (5 clips) | base | {language} | {','.join(sorted(set(detected)))} | CER {_pct(errs / chars)} | |")


def bench_cpwer(settings: Settings, out_dir: Path) -> None:
    from meeting_notes.context import ProcessOptions
    from meeting_notes.pipeline import process_meeting
    from meeting_notes.schema import Transcript, read_json

    print("\n## Speaker-attributed words (cpWER) on pyannote-sample\n")
    print("| model | speaker count | cpWER | WER (speaker-blind) |")
    print("|---|---|---|---|")
    stm = read_stm(EVAL_DIR / "pyannote-sample" / "sample.stm")
    reference = words_by_speaker_from_stm(stm)
    ref_text = " ".join(u.text for u in sorted(stm, key=lambda u: u.start))
    for model in ("base", "tiny.en"):
        for count in (None, 2):
            opts = ProcessOptions(asr_model=model, language="en" if model == "tiny.en" else None, num_speakers=count, notes=False)
            run = process_meeting(EVAL_DIR / "pyannote-sample" / "sample.wav", out_dir / f"{model}-{count}", opts, settings)
            t = read_json(Transcript, out_dir / f"{model}-{count}" / run.meeting_id / "transcript.json")
            hyp: dict[str, list[str]] = {}
            for seg in t.segments:
                hyp.setdefault(seg.speaker or "?", []).append(seg.text)
            cp = cpwer(reference, {k: " ".join(v) for k, v in hyp.items()})
            plain = wer(ref_text, " ".join(s.text for s in t.segments))
            print(f"| {model} | {'given' if count else 'estimated'} | {_pct(cp)} | {_pct(plain)} |")


SPEED_CHILD = r"""
import json, resource, sys, time
from pathlib import Path
from meeting_notes.context import ProcessOptions
from meeting_notes.pipeline import process_meeting
from meeting_notes.settings import Settings
audio, out, model = Path(sys.argv[1]), Path(sys.argv[2]), sys.argv[3]
settings = Settings(cpu_threads=int(sys.argv[4]))
runs = []
for name in ("cold", "warm"):
    t0 = time.perf_counter()
    run = process_meeting(audio, out / name, ProcessOptions(asr_model=model, notes=False), settings)
    runs.append({"name": name, "wall": time.perf_counter() - t0, "stages": {k: v.wall_s for k, v in run.stages.items()}, "duration": run.audio_duration})
print(json.dumps({"runs": runs, "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))
"""


def bench_speed(threads: int, out_dir: Path) -> None:
    print(f"\n## Speed and memory ({threads} CPU threads, fresh process)\n")
    parts = [item.audio for item in ami_items("train")[:4]] + [sample_item().audio]
    audio = np.concatenate([sf.read(p, dtype="float32")[0] for p in parts])
    long_wav = out_dir / "concat.wav"
    sf.write(long_wav, audio, 16000)
    duration = len(audio) / 16000
    print(f"Recording: {duration:.0f} s (ami-debug trn00-03 + pyannote sample, concatenated).\n")
    print("| model | run | audio | transcribe | diarize | align+export | whole pipeline | peak RSS |")
    print("|---|---|---|---|---|---|---|---|")
    for model in ("auto", "tiny.en"):
        env = dict(os.environ, OMP_NUM_THREADS=str(threads))
        proc = subprocess.run(
            [sys.executable, "-c", SPEED_CHILD, str(long_wav), str(out_dir / f"speed-{model}"), model, str(threads)],
            capture_output=True, text=True, env=env, check=True,
        )
        data = json.loads(proc.stdout.strip().splitlines()[-1])
        for run in data["runs"]:
            st = run["stages"]

            def rtf(sec: float) -> str:
                return f"{duration / sec:.1f}x" if sec > 0 else "-"

            print(
                f"| {model} | {run['name']} | {rtf(st['audio'])} | {rtf(st['transcribe'])} | {rtf(st['diarize'])} | "
                f"{rtf(st['align'] + st['export'])} | {rtf(run['wall'])} ({run['wall']:.1f} s) | {data['peak_rss_mb']:.0f} MiB |"
            )


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--only", default="diarization,asr,cpwer,speed")
    ap.add_argument("--threads", type=int, default=2)
    args = ap.parse_args()
    os.environ.setdefault("PYANNOTE_METRICS_ENABLED", "false")
    import warnings

    warnings.filterwarnings("ignore")
    settings = Settings(cpu_threads=args.threads)
    wanted = set(args.only.split(","))
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp)
        if "diarization" in wanted:
            bench_diarization(settings)
        if "asr" in wanted:
            bench_asr(settings)
        if "cpwer" in wanted:
            bench_cpwer(settings, out)
        if "speed" in wanted:
            bench_speed(args.threads, out)


if __name__ == "__main__":
    main()
