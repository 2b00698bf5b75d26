"""Tune the clustering hyper-parameters on the ami-debug TRAIN files only, and print a table.

    python benchmarks/tune_diarization.py [--thresholds 0.5:0.95:0.05] [--min-cluster-sizes 4,8,12]

Segmentation and embeddings are computed once per file; each grid point only re-clusters.
The score is the aggregate DER (collar 0, overlap scored) over the train files, speaker count
unknown (the case that matters for a rep's recording). Report figures on other files only.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np
import soundfile as sf
import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))
from eval_data import ami_items  # noqa: E402

from meeting_notes.diarize import _pipeline_params, load_pipeline  # noqa: E402
from meeting_notes.metrics import diarization_error_rate  # noqa: E402
from meeting_notes.schema import SpeakerTurn  # noqa: E402
from meeting_notes.settings import Settings  # noqa: E402


def _grid(spec: str) -> list[float]:
    lo, hi, step = (float(x) for x in spec.split(":"))
    return [round(v, 4) for v in np.arange(lo, hi + 1e-9, step)]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--thresholds", default="0.40:0.95:0.05")
    ap.add_argument("--min-cluster-sizes", default="1,4,8,12")
    args = ap.parse_args()

    settings = Settings()
    torch.set_num_threads(settings.threads())
    pipeline = load_pipeline(settings, "cpu")
    pipeline.training = True
    items = ami_items("train")
    files = []
    for item in items:
        wav, sr = sf.read(item.audio, dtype="float32")
        files.append({"uri": item.uri, "waveform": torch.from_numpy(wav)[None], "sample_rate": sr})

    rows = []
    for mcs in [int(x) for x in args.min_cluster_sizes.split(",")]:
        for threshold in _grid(args.thresholds):
            cfg = settings.diarization.model_copy(update={"clustering_threshold": threshold, "min_cluster_size": mcs})
            pipeline.instantiate(_pipeline_params(cfg))
            errors = total = 0.0
            for item, f in zip(items, files):
                out = pipeline(f)
                hyp = [SpeakerTurn(start=s.start, end=s.end, speaker=l) for s, _, l in out.speaker_diarization.itertracks(yield_label=True)]
                r = diarization_error_rate(item.reference, hyp, uem=item.uem, uri=item.uri)
                errors += r.der * r.total
                total += r.total
            rows.append((errors / total, threshold, mcs))
            print(f"min_cluster_size={mcs:3d} threshold={threshold:.2f}  train DER {100 * errors / total:6.2f} %", flush=True)
    best = min(rows)
    print(f"\nbest: threshold={best[1]:.2f} min_cluster_size={best[2]} train DER {100 * best[0]:.2f} %")


if __name__ == "__main__":
    main()
