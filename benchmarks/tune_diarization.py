"""Tune the clustering parameters with leave-one-group-out cross-validation; prints tables.

    python benchmarks/tune_diarization.py [--cache /tmp/diar/cache] [--threads 2]

Recordings (benchmarks/eval_data.py) fall into four groups: ami-train (trn00-09 as three
concatenations: trn00-03, trn04-06, trn07-09), ami-dev (dev00, dev01, both in a row),
telephone (pyannote sample at 16 kHz and
8 kHz mu-law, the sample-remix and librispeech + sample-speaker calls), japanese (Common Voice ja calls and
the 5-speaker file). Segmentation and embeddings are computed once per recording (cached in
--cache); each grid point only re-clusters. The objective is the mean per-recording DER
(collar 0, overlap scored, speaker count unknown).

- Cross-validation: for each group, the value chosen on the other three groups, scored on the
  held-out group; this shows whether a value carries to unseen audio.
- The value best over all groups is printed too: that is a tuning-set figure; the held-out
  column of the cross-validation table is the figure to quote.
- The multi-scale grids pool short windows from cached CAM++ frames (--frames, built once).
"""

from __future__ import annotations

import argparse
import os
import pickle
import sys
import warnings
from pathlib import Path

import numpy as np

os.environ.setdefault("PYANNOTE_METRICS_ENABLED", "false")
sys.path.insert(0, str(Path(__file__).resolve().parent))
from diarization_eval import CachedRunner, Score, pipeline_file, turns_of, with_updates  # noqa: E402
from eval_data import Recording, diarization_suite  # noqa: E402

from meeting_notes.settings import Settings  # noqa: E402

#: variant -> (fixed settings, tuned setting, grid)
GRIDS: dict[str, tuple[dict, str, list[float]]] = {
    "agglomerative": ({"clustering.method": "agglomerative"}, "clustering.threshold", [0.5, 0.6, 0.7, 0.75, 0.8, 0.9, 1.0]),
    "agglomerative_auto": ({"clustering.method": "agglomerative_auto"}, "clustering.min_silhouette", [0.0, 0.1, 0.2, 0.3]),
    "spectral": ({"clustering.method": "spectral"}, "clustering.merge_threshold", [0.5, 0.6, 0.7, 0.8, 0.9, 1.01]),
    "spectral+centred": ({"clustering.method": "spectral", "clustering.center": True}, "clustering.merge_threshold", [-0.3, -0.2, -0.1, 0.0, 0.1, 0.3]),
    # multi-scale (the other multiscale.* settings at their defaults); window 0 = off, i.e. the
    # 10 s embeddings alone with the default agglomerative clustering; the hop is half the window
    "multiscale": ({}, "multiscale.window_s", [0.0, 0.75, 1.0, 1.5]),
    "multiscale-min-cluster": ({}, "multiscale.min_cluster_size", [3, 4, 6, 8]),
    "multiscale-merge": ({}, "multiscale.merge_threshold", [0.6, 0.7, 0.75, 0.8, 0.875]),
    "multiscale-vote": ({}, "multiscale.vote_weight", [0.0, 0.25, 0.5, 0.75, 1.0]),
    "multiscale-min-alone": ({}, "multiscale.min_alone", [0.4, 0.5, 0.6, 0.7, 0.8]),
    "multiscale-hop": ({}, "multiscale.hop_s", [0.25, 0.5, 0.75]),
    "multiscale-relabel": ({}, "multiscale.frame_relabel", [False, True]),
    "multiscale-long-weight": ({}, "multiscale.long_weight", [0.0, 0.25, 0.5, 0.75]),
}
#: grids run when --methods is not given
DEFAULT_METHODS = "multiscale,multiscale-min-cluster,multiscale-merge,multiscale-vote,multiscale-min-alone,multiscale-hop,multiscale-relabel,multiscale-long-weight"


def grid_update(name: str, value: float) -> dict:
    if name == "multiscale.window_s":
        return {name: value, "multiscale.hop_s": value / 2}
    return {name: value}


def group_of(rec: Recording) -> str:
    if rec.uri.startswith("trn") or rec.uri.startswith("ami-trn") or rec.uri == "ami-train-all":
        return "ami-train"
    if rec.uri.startswith("dev") or rec.uri == "ami-dev":
        return "ami-dev"
    if "ja" in rec.uri:
        return "japanese"
    return "telephone"


def load_or_build_cache(folder: Path, settings: Settings, cached_only: bool = False) -> tuple[list[Recording], dict[str, dict]]:
    """Segmentation + embeddings of every recording (the expensive part), one pickle each."""
    folder.mkdir(parents=True, exist_ok=True)
    recs = diarization_suite()
    runner = None
    files = {}
    for rec in recs:
        path = folder / f"{rec.uri}.pkl"
        if path.is_file():
            files[rec.uri] = pickle.loads(path.read_bytes())[1]
            continue
        if cached_only:
            continue
        runner = runner or CachedRunner(settings)
        runner.first_pass(rec)
        files[rec.uri] = {k: v for k, v in runner.files.pop(rec.uri).items() if k != "waveform"}
        path.write_bytes(pickle.dumps((rec.uri, files[rec.uri])))
        print(f"cached {rec.uri}", file=sys.stderr, flush=True)
    return [r for r in recs if r.uri in files], files


def load_or_build_frames(folder: Path, recs: list[Recording], settings: Settings) -> dict[str, "object"]:
    """CAM++ backbone frames of every recording (the pipeline's block-wise features, 30 s
    blocks), one .pt file each: the multi-scale grid pools short windows from them."""
    import torch

    from meeting_notes.diarize import BlockFrameFeatures, load_pipeline

    folder.mkdir(parents=True, exist_ok=True)
    pipeline = load_pipeline(settings, "cpu")
    model = pipeline._embedding.model_
    out = {}
    for rec in recs:
        path = folder / f"{rec.uri}.pt"
        if not path.is_file():
            src = BlockFrameFeatures(model, torch.from_numpy(rec.waveform), "cpu", pipeline.embedding_block_s,
                                     pipeline.embedding_block_context_s)
            with torch.inference_mode():
                frames = src.frames(0, src.num_frames)
            torch.save(frames.clone(), path)
            print(f"frames {rec.uri}", file=sys.stderr, flush=True)
        out[rec.uri] = torch.load(path)
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--cache", default="/tmp/diar/cache", help="folder for the per-recording cache")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--methods", default=DEFAULT_METHODS, help=f"any of {','.join(GRIDS)}")
    ap.add_argument("--frames", default="/tmp/diar/frames", help="folder for the per-recording CAM++ frames (multi-scale grids)")
    ap.add_argument("--cached-only", action="store_true", help="use only the recordings already in --cache")
    args = ap.parse_args()
    warnings.filterwarnings("ignore")
    import torch

    torch.set_num_threads(args.threads)
    settings = Settings(cpu_threads=args.threads)
    recs, files = load_or_build_cache(Path(args.cache), settings, args.cached_only)
    if any(m.startswith("multiscale") for m in args.methods.split(",")):
        load_or_build_frames(Path(args.frames), recs, settings)
    runner = CachedRunner(settings, Path(args.frames))
    groups = sorted({group_of(r) for r in recs})

    for method in args.methods.split(","):
        fixed, name, grid = GRIDS[method]
        der = np.zeros((len(grid), len(recs)))
        spk = np.zeros((len(grid), len(recs)), dtype=int)
        for gi, value in enumerate(grid):
            cfg = with_updates(settings.diarization, {**fixed, **grid_update(name, value)})
            for ri, rec in enumerate(recs):
                if rec.uri not in runner.files:
                    runner.files[rec.uri] = dict(files[rec.uri], **pipeline_file(rec))
                    runner.add_frames(rec.uri)
                hyp, _ = runner.run(rec, cfg)
                s = Score.of(rec, hyp)
                der[gi, ri], spk[gi, ri] = s.der0, s.hyp_speakers
        print(f"\n## {method}: {name} (mean DER % per group, collar 0, no speaker count)\n")
        print("| value | " + " | ".join(groups) + " | all |")
        print("|---|" + "---|" * (len(groups) + 1))
        masks = {g: np.array([group_of(r) == g for r in recs]) for g in groups}
        for gi, value in enumerate(grid):
            print(f"| {value} | " + " | ".join(f"{100 * der[gi, masks[g]].mean():.1f}" for g in groups) + f" | {100 * der[gi].mean():.1f} |")
        print(f"\nCross-validation ({method}): value chosen on the other groups, DER on the held-out group\n")
        print("| held-out group | value chosen | held-out DER % | best possible on it % |")
        print("|---|---|---|---|")
        for g in groups:
            # mean over the other groups, each group weighted equally
            others = np.mean([der[:, masks[h]].mean(axis=1) for h in groups if h != g], axis=0)
            gi = int(np.argmin(others))
            print(f"| {g} | {grid[gi]} | {100 * der[gi, masks[g]].mean():.1f} | {100 * der[:, masks[g]].mean(axis=1).min():.1f} |")
        groupwise = np.mean([der[:, masks[g]].mean(axis=1) for g in groups], axis=0)
        gi = int(np.argmin(groupwise))
        print(f"\nBest on all groups (mean of group means; a tuning-set figure): {name}={grid[gi]} ({100 * groupwise[gi]:.1f} %)")
        for gj, value in enumerate(grid):
            collapsed = [recs[ri].uri for ri in range(len(recs)) if recs[ri].num_speakers >= 2 and spk[gj, ri] < 2]
            print(f"- {name}={value}: two-speaker-or-more recordings collapsed: {', '.join(collapsed) or 'none'}")


if __name__ == "__main__":
    main()
