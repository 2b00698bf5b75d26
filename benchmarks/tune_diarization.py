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
- Shipped default: the value chosen on the ami-train group only, so that every other recording
  in benchmarks/diarization_eval.py stays held out (rows built from trn* are labelled there).
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
from diarization_eval import CachedRunner, Score, pipeline_file, turns_of  # noqa: E402
from eval_data import Recording, diarization_suite  # noqa: E402

from meeting_notes.diarize import make_clustering  # noqa: E402
from meeting_notes.settings import Settings  # noqa: E402

#: variant -> (fixed settings, tuned setting, grid)
GRIDS: dict[str, tuple[dict, str, list[float]]] = {
    "agglomerative": ({"clustering_method": "agglomerative"}, "clustering_threshold", [0.5, 0.6, 0.7, 0.75, 0.8, 0.9, 1.0]),
    "agglomerative_auto": ({"clustering_method": "agglomerative_auto"}, "clustering_min_silhouette", [0.0, 0.1, 0.2, 0.3]),
    "spectral": ({"clustering_method": "spectral"}, "clustering_merge_threshold", [0.5, 0.6, 0.7, 0.8, 0.9, 1.01]),
    "spectral+centred": ({"clustering_method": "spectral", "clustering_center": True}, "clustering_merge_threshold", [-0.3, -0.2, -0.1, 0.0, 0.1, 0.3]),
}


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


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--cache", default="/tmp/diar/cache", help="folder for the per-recording cache")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--methods", default=",".join(GRIDS))
    ap.add_argument("--cached-only", action="store_true", help="use only the recordings already in --cache")
    args = ap.parse_args()
    warnings.filterwarnings("ignore")
    import torch

    torch.set_num_threads(args.threads)
    settings = Settings(cpu_threads=args.threads)
    recs, files = load_or_build_cache(Path(args.cache), settings, args.cached_only)
    runner = CachedRunner(settings)
    groups = sorted({group_of(r) for r in recs})

    for method in args.methods.split(","):
        fixed, name, grid = GRIDS[method]
        der = np.zeros((len(grid), len(recs)))
        spk = np.zeros((len(grid), len(recs)), dtype=int)
        for gi, value in enumerate(grid):
            cfg = settings.diarization.model_copy(update={**fixed, name: value})
            for ri, rec in enumerate(recs):
                runner.files[rec.uri] = dict(files[rec.uri], **pipeline_file(rec))
                hyp, _ = runner.run(rec, make_clustering(cfg))
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
        if "ami-train" not in masks:
            continue
        gi = int(np.argmin(der[:, masks["ami-train"]].mean(axis=1)))
        print(f"\nChosen on ami-train only (the shipped rule): {name}={grid[gi]}")
        collapsed = [recs[ri].uri for ri in range(len(recs)) if recs[ri].num_speakers >= 2 and spk[gi, ri] < 2]
        print(f"Two-speaker-or-more recordings collapsed at that value: {', '.join(collapsed) or 'none'}")


if __name__ == "__main__":
    main()
