"""Speed of the diarization stage alone (no ASR): real-time factor, peak memory and where the
time goes, on the pyannote sample and on long recordings built from the eval recordings.

    python benchmarks/diarization_speed.py [--minutes sample,10,30,60] [--threads 1]

Each recording runs in a fresh process through ``meeting_notes.diarize.diarize`` (the
production entry point, default settings, CPU), after a 10 s warm-up run that loads the models
(not timed). The long recordings are built by ``scaling.build_recording`` (the eval recordings
repeated with pauses) and written as a temporary WAV. The parts are timed by wrapping the
functions that do them:

- segmentation: ``get_segmentations`` (segmentation-3.0 over 10 s windows every 1 s);
- backbone: ``CamPlusPlus.frame_features`` (fbank + CAM++ backbone, 30 s blocks);
- pooling: ``CamPlusPlus.pool`` (10 s pairs and short windows);
- plan: ``plan_short_windows``;
- embeddings, other: the rest of ``get_embeddings`` (frame copies, masks, loops);
- clustering: ``cluster_embeddings`` (the short windows' spectral clustering, subsample and
  centroid assignment included);
- votes: the rest of the clustering step (pair votes, Hungarian assignment);
- relabel: ``frame_labels`` (per-frame labels of the short windows);
- reconstruct: ``reconstruct`` (twice: regular and exclusive) and ``to_annotation``;
- other: the rest (speaker counting, pyannote bookkeeping, our turn conversion).

CPU s is the process's CPU time during the run (user + system): with other processes on the
same core the wall time grows, the CPU time much less. Peak RSS is the child's ``getrusage`` maximum (models, the decoded recording and everything
the run allocated); "RSS before" is the resident size after the warm-up, before the timed run.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

PARTS = ["segmentation", "backbone", "pooling", "plan", "embeddings, other", "clustering", "votes", "relabel", "reconstruct", "other"]


def _rss_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def child(wav_path: Path, threads: int) -> dict:
    """Diarize one WAV with timers around the parts; returns the figures as a dict."""
    import resource

    import soundfile as sf

    from meeting_notes.process_defaults import apply_process_defaults

    apply_process_defaults()  # as the CLI and the stage loop do, before torch loads
    from meeting_notes import diarize as dz
    from meeting_notes import speaker_clustering as sc
    from meeting_notes.settings import Settings

    settings = Settings(cpu_threads=threads)
    wav, sr = sf.read(wav_path, dtype="float32")
    assert sr == 16000 and wav.ndim == 1
    dz.diarize(wav[: 10 * sr], settings, device="cpu")  # loads the models
    pipeline = dz.load_pipeline(settings, "cpu")
    model = pipeline._embedding.model_

    acc: dict[str, float] = {}
    info: dict[str, int] = {}

    def timed(name, fn):
        def wrapper(*a, **k):
            t0 = time.perf_counter()
            try:
                return fn(*a, **k)
            finally:
                acc[name] = acc.get(name, 0.0) + time.perf_counter() - t0

        return wrapper

    pipeline.get_segmentations = timed("segmentation", pipeline.get_segmentations)
    pipeline.get_embeddings = timed("get_embeddings", pipeline.get_embeddings)
    pipeline.reconstruct = timed("reconstruct", pipeline.reconstruct)
    pipeline.to_annotation = timed("to_annotation", pipeline.to_annotation)
    model.frame_features = timed("backbone", model.frame_features)
    model.pool = timed("pooling", model.pool)
    plan = dz.plan_short_windows

    def planned(*a, **k):
        short = plan(*a, **k)
        info["short windows"] = len(short.starts)
        info["links"] = len(short.links)
        info["chunks"] = int(a[0].shape[0])
        return short

    dz.plan_short_windows = timed("plan", planned)
    cluster = sc.cluster_embeddings

    def clustered(x, cfg, *a, **k):
        info["clustered"] = int(min(len(x), cfg.max_embeddings))
        return cluster(x, cfg, *a, **k)

    sc.cluster_embeddings = timed("clustering", clustered)
    sc.frame_labels = timed("relabel", sc.frame_labels)
    sc.SpeakerClustering.__call__ = timed("clustering step", sc.SpeakerClustering.__call__)

    rss_before = _rss_mb()
    cpu0 = time.process_time()
    t0 = time.perf_counter()
    result = dz.diarize(wav, settings, device="cpu")
    total = time.perf_counter() - t0
    cpu = time.process_time() - cpu0
    parts = {
        "segmentation": acc.get("segmentation", 0.0),
        "backbone": acc.get("backbone", 0.0),
        "pooling": acc.get("pooling", 0.0),
        "plan": acc.get("plan", 0.0),
        "clustering": acc.get("clustering", 0.0),
        "relabel": acc.get("relabel", 0.0),
        "reconstruct": acc.get("reconstruct", 0.0) + acc.get("to_annotation", 0.0),
    }
    parts["embeddings, other"] = acc.get("get_embeddings", 0.0) - parts["backbone"] - parts["pooling"] - parts["plan"]
    parts["votes"] = acc.get("clustering step", 0.0) - parts["clustering"] - parts["relabel"]
    parts["other"] = total - sum(parts.values())
    return {
        "duration": len(wav) / sr,
        "total": total,
        "cpu": cpu,
        "parts": parts,
        "info": info,
        "speakers": len(result.speakers),
        "rss_before_mb": rss_before,
        "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--minutes", default="sample,10,30,60", help="'sample' (the pyannote sample) and/or minutes")
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--child", type=Path, help=argparse.SUPPRESS)
    ap.add_argument("--json", type=Path, help="also write the raw figures here")
    args = ap.parse_args()
    if args.child:
        print(json.dumps(child(args.child, args.threads)))
        return

    from eval_data import EVAL_DIR
    from scaling import build_recording, source_audio

    env = dict(
        os.environ,
        OMP_NUM_THREADS=str(args.threads),
        OPENBLAS_NUM_THREADS=str(args.threads),
        MKL_NUM_THREADS=str(args.threads),
        PYANNOTE_METRICS_ENABLED="false",
        PYTHONPATH=str(Path(__file__).resolve().parents[1]),
    )
    print(f"`{' '.join([Path(sys.executable).name, *sys.argv])}` ({args.threads} thread(s), fresh process per "
          f"recording, models loaded before timing; {os.cpu_count()} cores visible, affinity "
          f"{sorted(os.sched_getaffinity(0))}; load: 1-minute load average at start / end)\n")
    print("| recording | audio s | wall s | RTF | CPU s | " + " | ".join(PARTS) + " | short windows | clustered | peak RSS | RSS before | spk | load |")
    print("|---|---|---|---|---|" + "---|" * len(PARTS) + "---|---|---|---|---|---|")
    rows = []
    parts_audio = None
    with tempfile.TemporaryDirectory() as tmp:
        for item in args.minutes.split(","):
            if item == "sample":
                wav, name = EVAL_DIR / "pyannote-sample" / "sample.wav", "pyannote sample"
            else:
                if parts_audio is None:
                    parts_audio = source_audio()
                wav, name = Path(tmp) / f"long-{item}min.wav", f"{item} min (built)"
                build_recording(float(item), parts_audio, wav)
            load0 = os.getloadavg()[0]
            proc = subprocess.run([sys.executable, __file__, "--child", str(wav), "--threads", str(args.threads)],
                                  capture_output=True, text=True, env=env)
            load = f"{load0:.1f} / {os.getloadavg()[0]:.1f}"
            if proc.returncode != 0:
                tail = (proc.stderr.strip().splitlines() or ["?"])[-1]
                print(f"| {name} | failed: {tail[:100]} |", flush=True)
                continue
            d = json.loads(proc.stdout.strip().splitlines()[-1])
            d["recording"] = name
            rows.append(d)
            p, i = d["parts"], d["info"]
            cells = " | ".join(f"{p[k]:.1f}" for k in PARTS)
            print(f"| {name} | {d['duration']:.0f} | {d['total']:.1f} | {d['duration'] / d['total']:.1f}x | {d['cpu']:.1f} | {cells} | "
                  f"{i.get('short windows', '-')} | {i.get('clustered', '-')} | {d['peak_rss_mb']:.0f} MiB | "
                  f"{d['rss_before_mb']:.0f} MiB | {d['speakers']} | {load} |", flush=True)
            if wav.parent == Path(tmp):
                wav.unlink()
    if args.json:
        args.json.write_text(json.dumps(rows, indent=1))


if __name__ == "__main__":
    np.seterr(all="ignore")
    main()
