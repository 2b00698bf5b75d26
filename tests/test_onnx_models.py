"""The diarization models on ONNX Runtime (issue 9, speed): exported once from the bundled
weights, checked against torch, reused from the cache, refused when they differ, and torch
kept (with a warning) when the export cannot run."""

from __future__ import annotations

import logging
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
import torch

from meeting_notes import diarize, onnx_models
from meeting_notes.onnx_models import OnnxExportError, onnx_forward
from meeting_notes.settings import DiarizationSettings, Settings


def _settings(cache: Path, runtime: str) -> Settings:
    return Settings(cpu_threads=1, cache_dir=cache, diarization=DiarizationSettings(runtime=runtime))


@pytest.fixture()
def fresh_pipelines(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(diarize, "_PIPELINES", {})


def test_segmentation_and_backbone_on_onnx_equal_torch(tmp_path: Path, sample_wav: Path, fresh_pipelines) -> None:
    """On the real sample: the same segmentation scores (no frame's powerset class changes) and
    the same CAM++ backbone frames as torch, and the export is written once, then reused."""
    onnx = diarize.load_pipeline(_settings(tmp_path, "onnxruntime"), "cpu")
    reference = diarize.build_pipeline(_settings(tmp_path, "torch"))
    wav, sr = sf.read(sample_wav, dtype="float32")
    chunks = torch.from_numpy(np.stack([wav[i * sr : i * sr + 10 * sr] for i in (0, 5, 12)]))[:, None]

    got = onnx._segmentation.infer(chunks)
    expected = reference._segmentation.infer(chunks)
    assert got.shape == expected.shape == (3, 589, 3)
    np.testing.assert_allclose(got, expected, atol=1e-3)

    emb_onnx = onnx._embedding.model_
    emb_torch = reference._embedding.model_
    assert emb_onnx.onnx_backbone is not None and emb_torch.onnx_backbone is None
    piece = torch.from_numpy(wav[: 7 * sr])[None, None]
    with torch.inference_mode():
        frames_onnx = emb_onnx.frame_features(piece)
        frames_torch = emb_torch.frame_features(piece)
    assert frames_onnx.shape == frames_torch.shape
    scale = float(frames_torch.abs().max())
    assert float((frames_onnx - frames_torch).abs().max()) <= 1e-3 * max(1.0, scale)

    exported = sorted(p.name for p in (tmp_path / "onnx").iterdir())
    assert [p for p in exported if p.endswith(".onnx")] and len(exported) == 4  # two models, two records
    # a second load (another process, another thread count) reuses the files: no export
    diarize._PIPELINES.clear()

    def no_export(*args, **kwargs):
        raise AssertionError("exported again although the cache holds a checked export")

    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(onnx_models, "_export", no_export)
        again = diarize.load_pipeline(Settings(cpu_threads=2, cache_dir=tmp_path), "cpu")
    assert again._embedding.model_.onnx_backbone is not None
    assert diarize.describe_diarization(Settings(cpu_threads=2, cache_dir=tmp_path), "cpu")["runtime"] == "onnxruntime"
    assert diarize.describe_diarization(_settings(tmp_path, "torch"), "cpu")["runtime"] == "torch"


@pytest.mark.slow
def test_diarize_gives_the_same_turns_on_onnx_and_torch(tmp_path: Path, sample_wav: Path, fresh_pipelines) -> None:
    wav, _ = sf.read(sample_wav, dtype="float32")
    on_torch = diarize.diarize(wav, _settings(tmp_path, "torch"), device="cpu")
    on_onnx = diarize.diarize(wav, _settings(tmp_path, "onnxruntime"), device="cpu")
    assert on_onnx.speakers == on_torch.speakers == ["SPEAKER_00", "SPEAKER_01"]
    assert on_onnx.turns == on_torch.turns
    assert on_onnx.exclusive_turns == on_torch.exclusive_turns


def test_missing_onnx_package_keeps_torch_with_a_warning(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture, fresh_pipelines
) -> None:
    monkeypatch.setattr(onnx_models, "missing_packages", lambda: ["onnx"])
    with caplog.at_level(logging.WARNING, logger="meeting_notes.diarize"):
        pipeline = diarize.load_pipeline(_settings(tmp_path, "auto"), "cpu")
    assert pipeline._embedding.model_.onnx_backbone is None
    assert "infer" not in vars(pipeline._segmentation)  # pyannote's own torch forward
    assert diarize.describe_diarization(_settings(tmp_path, "auto"), "cpu")["runtime"] == "torch (onnxruntime export failed)"
    assert any("runs on torch" in r.getMessage() and "pip install onnx" in r.getMessage() for r in caplog.records)
    # asked for explicitly, it fails loudly instead
    with pytest.raises(OnnxExportError, match="needs the package"):
        diarize.load_pipeline(Settings(cpu_threads=2, cache_dir=tmp_path, diarization=DiarizationSettings(runtime="onnxruntime")), "cpu")


def test_onnxruntime_asked_for_on_a_gpu_is_a_clear_error() -> None:
    with pytest.raises(ValueError, match="CPU only"):
        diarize.onnx_wanted(DiarizationSettings(runtime="onnxruntime"), torch.device("cuda"))
    assert not diarize.onnx_wanted(DiarizationSettings(runtime="auto"), torch.device("cuda"))
    assert diarize.onnx_wanted(DiarizationSettings(runtime="auto"), torch.device("cpu"))
    assert not diarize.onnx_wanted(DiarizationSettings(runtime="torch"), torch.device("cpu"))


def _weights(tmp_path: Path, module: torch.nn.Module) -> Path:
    path = tmp_path / "weights.pt"
    torch.save(module.state_dict(), path)
    return path


def test_export_that_differs_from_torch_is_refused(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    module = torch.nn.Linear(4, 3).eval()
    examples = [torch.randn(2, 4), torch.randn(5, 4)]
    axes = {"input": {0: "batch"}, "output": {0: "batch"}}
    monkeypatch.setattr(onnx_models, "MAX_EXPORT_DIFF", -1.0)  # any difference, even 0, is too much
    with pytest.raises(OnnxExportError, match="differs from torch"):
        onnx_forward(module, "linear", _weights(tmp_path, module), examples, axes, tmp_path, 1)
    assert not (tmp_path / "onnx").exists() or not list((tmp_path / "onnx").glob("*.onnx"))


def test_damaged_cache_file_is_exported_again(tmp_path: Path) -> None:
    module = torch.nn.Sequential(torch.nn.Linear(4, 8), torch.nn.Tanh(), torch.nn.Linear(8, 2)).eval()
    examples = [torch.randn(2, 4), torch.randn(3, 4)]
    axes = {"input": {0: "batch"}, "output": {0: "batch"}}
    weights = _weights(tmp_path, module)
    first = onnx_forward(module, "mlp", weights, examples, axes, tmp_path, 1)
    first.path.write_bytes(b"not an onnx model")
    second = onnx_forward(module, "mlp", weights, examples, axes, tmp_path, 1)
    x = torch.randn(7, 4)
    with torch.inference_mode():
        np.testing.assert_allclose(second(x).numpy(), module(x).numpy(), atol=1e-5)
    assert second.path == first.path and second.path.read_bytes() != b"not an onnx model"
