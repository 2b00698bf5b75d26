"""Torch models run on ONNX Runtime on the CPU: exported once from the local weights into the
cache folder, checked against torch, then reused.

On the CPU the diarization models (segmentation-3.0 and the CAM++ backbone) run about 1.4x
faster per thread on ONNX Runtime than on torch (docs/diarization.md, "ONNX Runtime"). Nothing is
downloaded: the ONNX file is made here from the same weights, with torch's exporter (the
``onnx`` package), and kept under ``<cache_dir>/onnx/`` named by a key of the weights' sha256,
the torch version and this module's export version. An export whose outputs differ from torch
by more than :data:`MAX_EXPORT_DIFF` is refused.
"""

from __future__ import annotations

import hashlib
import io
import json
import logging
import threading
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch

from meeting_notes.atomic import write_bytes_atomic, write_text_atomic
from meeting_notes.errors import MeetingNotesError
from meeting_notes.hashing import file_sha256

log = logging.getLogger(__name__)

#: bump when the export below changes (it is part of the cache key)
EXPORT_VERSION = 1
OPSET = 17
#: largest allowed |torch - onnx| on the check inputs, relative to max(1, max |torch|)
MAX_EXPORT_DIFF = 1e-3


class OnnxExportError(MeetingNotesError):
    """A model could not be exported to ONNX or run on ONNX Runtime as exported."""


def missing_packages() -> list[str]:
    """The packages the ONNX path needs that cannot be imported here (empty when ready)."""
    missing = []
    for name in ("onnx", "onnxruntime"):
        try:
            __import__(name)
        except ImportError:
            missing.append(name)
    return missing


@dataclass
class OnnxForward:
    """Calls an ONNX Runtime session like the torch module it was exported from: one tensor in,
    one tensor out, on the CPU."""

    session: Any
    input_name: str
    path: Path

    def __call__(self, x: torch.Tensor) -> torch.Tensor:
        array = np.ascontiguousarray(x.detach().cpu().numpy(), dtype=np.float32)
        return torch.from_numpy(self.session.run(None, {self.input_name: array})[0])


_FILE_HASHES: dict[tuple[str, int, int], str] = {}
_EXPORT_LOCK = threading.Lock()


def _weights_sha256(path: Path) -> str:
    """sha256 of a weights file, or of every file of a weights folder (names and contents)."""
    files = sorted(p for p in path.rglob("*") if p.is_file()) if path.is_dir() else [path]
    digest = hashlib.sha256()
    for file in files:
        stat = file.stat()
        key = (str(file.resolve()), stat.st_size, stat.st_mtime_ns)
        if key not in _FILE_HASHES:
            _FILE_HASHES[key] = file_sha256(file)
        digest.update(f"{file.relative_to(path) if path.is_dir() else file.name}:{_FILE_HASHES[key]}\n".encode())
    return digest.hexdigest()


def new_session(model: bytes | Path, threads: int) -> Any:
    """An ONNX Runtime CPU session with ``threads`` intra-op threads and no busy-waiting between
    calls (the threads do not spin on cores that ASR or another meeting could use)."""
    import onnxruntime as ort

    options = ort.SessionOptions()
    options.intra_op_num_threads = max(1, threads)
    options.inter_op_num_threads = 1
    options.add_session_config_entry("session.intra_op.allow_spinning", "0")
    options.log_severity_level = 3
    source = model if isinstance(model, bytes) else str(model)
    return ort.InferenceSession(source, options, providers=["CPUExecutionProvider"])


def _check(module: torch.nn.Module, session: Any, input_name: str, examples: list[torch.Tensor]) -> float:
    """Largest relative difference between torch and ONNX Runtime over ``examples``."""
    worst = 0.0
    for example in examples:
        with torch.inference_mode():
            expected = module(example).float().numpy()
        got = session.run(None, {input_name: example.numpy()})[0]
        if got.shape != expected.shape:
            raise OnnxExportError(f"ONNX output shape {got.shape} differs from torch's {expected.shape}")
        scale = max(1.0, float(np.abs(expected).max()))
        worst = max(worst, float(np.abs(got - expected).max()) / scale)
    return worst


def onnx_forward(
    module: torch.nn.Module,
    name: str,
    weights: Path,
    examples: list[torch.Tensor],
    dynamic_axes: dict[str, dict[int, str]],
    cache_dir: Path,
    threads: int,
) -> OnnxForward:
    """``module`` (eval mode, CPU) as an ONNX Runtime session, exported on first use.

    ``examples`` are inputs of the shapes the model will see (at least two differing in the
    dynamic axes): the export uses the first; every one is run through torch and the exported
    model, and a relative difference above :data:`MAX_EXPORT_DIFF` raises
    :class:`OnnxExportError` (as does a missing ``onnx`` / ``onnxruntime`` package).
    """
    missing = missing_packages()
    if missing:
        raise OnnxExportError(f"ONNX Runtime path needs the package(s) {', '.join(missing)} (pip install {' '.join(missing)})")
    weights_digest = _weights_sha256(weights)
    key = hashlib.sha256(
        f"{weights_digest}|torch={torch.__version__}|opset={OPSET}|v={EXPORT_VERSION}".encode()
    ).hexdigest()[:16]
    folder = Path(cache_dir).expanduser() / "onnx"
    path = folder / f"{name}-{key}.onnx"
    record = path.with_suffix(".json")
    with _EXPORT_LOCK:
        if path.is_file() and record.is_file():
            try:
                meta = json.loads(record.read_text())
                if meta.get("sha256") == file_sha256(path):
                    return OnnxForward(new_session(path, threads), meta["input"], path)
                log.warning("ONNX cache file %s does not match its record; exporting again", path)
            except Exception as exc:  # an unreadable record, or a file this onnxruntime cannot load
                log.warning("ONNX cache file %s unusable (%s); exporting again", path, exc)
        data = _export(module, examples, dynamic_axes)
        try:
            session = new_session(data, threads)
            input_name = session.get_inputs()[0].name
            diff = _check(module, session, input_name, examples)
        except OnnxExportError:
            raise
        except Exception as exc:  # onnxruntime cannot load or run what torch exported
            raise OnnxExportError(f"{name}: the exported model does not run on onnxruntime: {exc}") from exc
        if diff > MAX_EXPORT_DIFF:
            raise OnnxExportError(
                f"{name}: ONNX Runtime output differs from torch by {diff:.2e} (limit {MAX_EXPORT_DIFF:.0e}); "
                "set diarization.runtime=torch"
            )
        folder.mkdir(parents=True, exist_ok=True)
        write_bytes_atomic(path, data)
        write_text_atomic(
            record,
            json.dumps(
                {
                    "model": name,
                    "weights": str(weights),
                    "weights_sha256": weights_digest,
                    "torch": torch.__version__,
                    "opset": OPSET,
                    "export_version": EXPORT_VERSION,
                    "input": input_name,
                    "max_relative_diff": diff,
                    "sha256": hashlib.sha256(data).hexdigest(),
                },
                indent=2,
            ),
        )
        log.info("exported %s to %s (max relative difference to torch %.1e)", name, path, diff)
        return OnnxForward(session, input_name, path)


def _export(module: torch.nn.Module, examples: list[torch.Tensor], dynamic_axes: dict[str, dict[int, str]]) -> bytes:
    buffer = io.BytesIO()
    try:
        with torch.inference_mode(False), torch.no_grad(), warnings.catch_warnings():
            # the exporter's advice (legacy exporter, training-mode ops, LSTM batch sizes) is for
            # model authors; the export is checked against torch right after
            warnings.simplefilter("ignore")
            torch.onnx.export(
                module,
                (examples[0],),
                buffer,  # type: ignore[arg-type]  # the TorchScript exporter (dynamo=False) writes file objects; torch annotates paths only
                input_names=["input"],
                output_names=["output"],
                dynamic_axes=dynamic_axes,
                opset_version=OPSET,
                dynamo=False,
            )
    except Exception as exc:  # the exporter raises many kinds; all mean the same here
        raise OnnxExportError(f"torch.onnx.export failed: {type(exc).__name__}: {exc}") from exc
    return buffer.getvalue()
