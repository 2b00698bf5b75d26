"""Dockerfile.gpu cannot be built here (no Docker daemon): lint it, and check it ships what the worker needs."""

from __future__ import annotations

import shutil
import subprocess
import sys
import sysconfig
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DOCKERFILE = ROOT / "Dockerfile.gpu"


def _hadolint() -> str:
    found = shutil.which("hadolint", path=sysconfig.get_path("scripts")) or shutil.which("hadolint")
    assert found, f"hadolint is missing: install the dev extras ({sys.executable} -m pip install -e '.[dev]')"
    return found


def test_gpu_dockerfile_passes_hadolint() -> None:
    proc = subprocess.run([_hadolint(), "--no-color", str(DOCKERFILE)], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_gpu_dockerfile_copies_what_the_installed_project_reads() -> None:
    text = DOCKERFILE.read_text(encoding="utf-8")
    assert "FROM nvidia/cuda:" in text and "cudnn" in text
    # the package, the flows, and the data files found beside the code at run time
    for path in ("meeting_notes", "flows", "prompts", "models", "prefect.yaml"):
        assert f"COPY {path} " in text, path
        assert (ROOT / path).exists(), path
    assert "MEETING_NOTES_DEVICE=cuda" in text
