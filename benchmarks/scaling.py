"""How the transcript pipeline scales with recording length: wall time, real-time factor and
peak memory for 10 to 180 minutes, through the CLI's code path and through the Prefect flow.

    python benchmarks/scaling.py [--minutes 10,30,60,120,180] [--paths cli,flow] [--threads 2]

Each recording is built here by repeating the shared eval recordings (pyannote sample, ami-debug
excerpts, LibriSpeech, JFK, Common Voice ja) with short pauses until it is long enough, written
as a 16 kHz mono WAV (no audio is committed). Each length runs in a fresh process (models load
included, notes off) and the child's peak resident memory is read from ``getrusage`` (the
largest RSS it ever had, decoded audio and model buffers included). Prints a Markdown table.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np
import soundfile as sf

sys.path.insert(0, str(Path(__file__).resolve().parent))
from eval_data import EVAL_DIR  # noqa: E402

SR = 16000

CHILD = r"""
import json, resource, sys, time
from pathlib import Path
audio, out, path, threads = Path(sys.argv[1]), Path(sys.argv[2]), sys.argv[3], int(sys.argv[4])
t0 = time.perf_counter()
if path == "cli":
    from meeting_notes.context import ProcessOptions
    from meeting_notes.pipeline import process_meeting
    from meeting_notes.settings import Settings
    run = process_meeting(audio, out, ProcessOptions(notes=False), Settings(cpu_threads=threads))
else:
    import os
    os.environ["MEETING_NOTES_CPU_THREADS"] = str(threads)
    os.environ["MEETING_NOTES_ORCHESTRATION__GPU_LIMIT_NAME"] = ""
    from prefect.testing.utilities import prefect_test_harness
    with prefect_test_harness(server_startup_timeout=180):
        from flows.meeting import process_meeting as flow
        t0 = time.perf_counter()  # the temporary server's start is not the pipeline's time
        run = flow(str(audio), str(out), notes=False)
wall = time.perf_counter() - t0
print(json.dumps({"wall": wall, "stages": {k: v.wall_s for k, v in run.stages.items()},
                  "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
                  "status": run.status}))
"""


def source_audio() -> list[np.ndarray]:
    """The eval recordings that are speech in a meeting-like register, as 16 kHz mono."""
    from meeting_notes.audio import load_audio
    from meeting_notes.settings import AudioSettings

    names = ["pyannote-sample/sample.wav", "librispeech/1272-128104-0000.wav", "faster-whisper/jfk.flac"]
    names += [f"ami-debug/trn0{i}.wav" for i in range(10)] + ["ami-debug/dev00.wav", "ami-debug/dev01.wav"]
    names += [f"commonvoice-ja/{p.name}" for p in sorted((EVAL_DIR / "commonvoice-ja").glob("*.wav"))]
    return [load_audio(EVAL_DIR / n, AudioSettings()) for n in names]


def build_recording(minutes: float, parts: list[np.ndarray], path: Path) -> float:
    """Write a WAV of at least ``minutes``, streaming (never the whole recording in memory)."""
    pause = np.zeros(int(0.8 * SR), dtype=np.float32)
    target = int(minutes * 60 * SR)
    written = 0
    with sf.SoundFile(path, "w", samplerate=SR, channels=1, subtype="PCM_16") as f:
        while written < target:
            for part in parts:
                f.write(part)
                f.write(pause)
                written += len(part) + len(pause)
                if written >= target:
                    break
    return written / SR


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--minutes", default="10,30,60,120,180")
    ap.add_argument("--paths", default="cli,flow")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--keep", type=Path, help="Keep the built recordings and outputs here.")
    args = ap.parse_args()
    parts = source_audio()
    env = dict(
        os.environ,
        OMP_NUM_THREADS=str(args.threads),
        PREFECT_SERVER_ANALYTICS_ENABLED="false",
        DO_NOT_TRACK="1",
        PYANNOTE_METRICS_ENABLED="false",
        PYTHONPATH=str(Path(__file__).resolve().parents[1]),
    )
    print(f"## Scaling ({args.threads} CPU threads, fresh process per run, notes off)\n")
    print(f"`{' '.join([Path(sys.executable).name, *sys.argv])}` on {os.cpu_count()} cores; load: the 1-minute "
          "load average when the run started and when it ended (other processes sharing the cores)\n")
    print("| minutes | path | status | wall | RTF | transcribe RTF | diarize RTF | peak RSS | load start/end |")
    print("|---|---|---|---|---|---|---|---|---|")
    with tempfile.TemporaryDirectory() as tmp:
        root = args.keep or Path(tmp)
        root.mkdir(parents=True, exist_ok=True)
        for minutes in [float(m) for m in args.minutes.split(",")]:
            wav = root / f"long-{int(minutes)}min.wav"
            duration = build_recording(minutes, parts, wav)
            for path in args.paths.split(","):
                load0 = os.getloadavg()[0]
                proc = subprocess.run(
                    [sys.executable, "-c", CHILD, str(wav), str(root / f"out-{path}-{int(minutes)}"), path, str(args.threads)],
                    capture_output=True, text=True, env=env,
                )
                load = f"{load0:.1f} / {os.getloadavg()[0]:.1f}"
                if proc.returncode != 0:
                    tail = proc.stderr.strip().splitlines()[-1:] or ["?"]
                    print(f"| {minutes:.0f} | {path} | failed: {tail[0][:80]} | | | | | | {load} |", flush=True)
                    continue
                data = json.loads(proc.stdout.strip().splitlines()[-1])
                st = data["stages"]

                def rtf(sec: float | None) -> str:
                    return f"{duration / sec:.1f}x" if sec else "-"

                print(
                    f"| {minutes:.0f} | {path} | {data['status']} | {data['wall']:.0f} s | {rtf(data['wall'])} | "
                    f"{rtf(st.get('transcribe'))} | {rtf(st.get('diarize'))} | {data['peak_rss_mb']:.0f} MiB | {load} |",
                    flush=True,
                )
            if not args.keep:
                wav.unlink()


if __name__ == "__main__":
    main()
