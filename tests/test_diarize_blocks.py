"""Block-wise CAM++ frames (issue 7: bounded memory on long recordings) give exactly the
embeddings that the whole-file frame tensor gives."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest
import torch

from meeting_notes.diarize import BlockFrameFeatures


class _FakeBackbone:
    """Deterministic stand-in for CAM++: per-hop frame energies, normalised by the mean of the
    block it sees (like the fbank mean normalisation), so results depend on block edges."""

    hparams = SimpleNamespace(sample_rate=16000)
    frame_hop_samples = 320

    def __init__(self):
        self.calls = 0

    def frame_features(self, wave: torch.Tensor) -> torch.Tensor:
        self.calls += 1
        w = wave[0, 0]
        n = w.shape[0] // 160 + 1  # 10 ms fbank frames, then stride 2 like CAM++
        padded = torch.nn.functional.pad(w, (0, n * 160 - w.shape[0]))
        e = padded.reshape(n, 160).square().mean(1)
        e = e - e.mean()
        e = e[::2]
        return torch.stack([e, e.cumsum(0) / 100.0])[None]


def test_block_frames_bounded_and_identical_to_whole_file() -> None:
    rng = np.random.default_rng(0)
    wav = torch.from_numpy(rng.normal(size=16000 * 200).astype(np.float32))  # 200 s
    model = _FakeBackbone()
    whole = BlockFrameFeatures(model, wav, "cpu", 30.0, 1.0).frames(0, 16000 * 200 // 320 + 1)
    src = BlockFrameFeatures(model, wav, "cpu", 30.0, 1.0)
    chunk = 500  # 10 s chunks every 1 s, in batches of 8, as the pipeline asks
    starts = list(range(0, whole.shape[1] - chunk + 50, 50))
    for b in range(0, len(starts), 8):
        batch = starts[b : b + 8]
        src.release_before(batch[0])
        for f in batch:
            got = src.frames(f, f + chunk)
            want = torch.zeros_like(got)
            m = min(chunk, whole.shape[1] - f)
            want[:, :m] = whole[:, f : f + m]
            assert torch.equal(got, want)
    assert src.peak_blocks <= 2  # 8 chunks span 17 s: never more than two 30 s blocks held
    assert len(src._blocks) <= 2
    assert src.frames(whole.shape[1] - 5, whole.shape[1] + 5)[:, 5:].abs().sum() == 0  # zeros past the end


@pytest.mark.slow
def test_pipeline_embeddings_blockwise_equal_whole_file(sample_wav: Path) -> None:
    """Real CAM++ on 20 s of the pyannote sample: the bounded block-wise pass and the whole-file
    frame tensor (what the code held before) give identical 10 s and short-window embeddings."""
    import soundfile as sf

    from meeting_notes.diarize import build_pipeline
    from meeting_notes.settings import Settings

    wav, sr = sf.read(sample_wav, dtype="float32")
    wav = torch.from_numpy(wav[: 20 * sr])
    settings = Settings(cpu_threads=1)
    pipeline = build_pipeline(settings)
    pipeline.embedding_block_s = 6.0  # several blocks on 20 s
    pipeline.embedding_batch_size = 2
    file = {"uri": "s", "waveform": wav[None], "sample_rate": sr}
    seg = pipeline.get_segmentations(file)
    torch.set_num_threads(1)
    blockwise = pipeline.get_embeddings(file, seg, exclude_overlap=True)
    short_blockwise = file["multiscale"].embeddings.copy()

    model = pipeline._embedding.model_
    src = BlockFrameFeatures(model, wav, "cpu", 6.0, pipeline.embedding_block_context_s)
    with torch.inference_mode():
        whole_frames = src.frames(0, src.num_frames)
    pipeline.training = True
    whole = {**file, "training_cache/frame_features": whole_frames}
    whole.pop("multiscale", None)
    # the whole-file frames path: no cached embeddings yet, so everything is pooled from them
    source = pipeline._frame_source(whole)
    assert source._full is not None
    emb = pipeline.get_embeddings(whole, seg, exclude_overlap=True)
    pipeline.training = False
    assert np.isfinite(blockwise).any()
    np.testing.assert_array_equal(np.isnan(blockwise), np.isnan(emb))
    np.testing.assert_allclose(blockwise[np.isfinite(blockwise)], emb[np.isfinite(emb)], rtol=0, atol=1e-5)
    np.testing.assert_allclose(short_blockwise, whole["multiscale"].embeddings, rtol=0, atol=1e-5)


def test_segmentation_batch_size_defaults_by_device(monkeypatch: pytest.MonkeyPatch) -> None:
    """None: 8 windows a batch on the CPU (same output as 32, less CPU time), 32 on a GPU; a
    configured size is kept on both."""
    from meeting_notes import diarize
    from meeting_notes.settings import DiarizationSettings, Settings

    monkeypatch.setattr(diarize, "_PIPELINES", {})
    cpu = diarize.load_pipeline(Settings(cpu_threads=1), "cpu")
    assert cpu.segmentation_batch_size == diarize.CPU_SEGMENTATION_BATCH == 8
    fixed = diarize.load_pipeline(Settings(cpu_threads=1, diarization=DiarizationSettings(segmentation_batch_size=16)), "cpu")
    assert fixed.segmentation_batch_size == 16
    # on a GPU (the pipeline's move faked: this machine may have none)
    monkeypatch.setattr(diarize, "select_torch_device", lambda device: torch.device("cuda"))
    monkeypatch.setattr(type(cpu), "to", lambda self, device: self)
    gpu = diarize.load_pipeline(Settings(cpu_threads=1), "cuda")
    assert gpu.segmentation_batch_size == diarize.GPU_SEGMENTATION_BATCH == 32
