"""sha256, one way: of bytes and of a file read in 1 MiB blocks (recordings, model weights,
stage outputs). Imports nothing from the project."""

from __future__ import annotations

import hashlib
from pathlib import Path

_BLOCK = 1 << 20


def sha256_hex(data: bytes) -> str:
    """The sha256 of ``data``, as hex."""
    return hashlib.sha256(data).hexdigest()


def file_sha256(path: Path) -> str:
    """The sha256 of the file at ``path``, as hex, read in 1 MiB blocks (never whole in memory)."""
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        while block := fh.read(_BLOCK):
            digest.update(block)
    return digest.hexdigest()


__all__ = ["file_sha256", "sha256_hex"]
