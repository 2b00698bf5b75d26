"""On-disk cache of LLM responses keyed by (model, prompt version, input hash)."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

from meeting_notes.atomic import write_text_atomic


def cache_key(model_identity: str, prompt_version: str, payload: Any) -> str:
    """sha256 over the model, the prompt version and everything sent (messages, schema, params)."""
    input_hash = hashlib.sha256(
        json.dumps(payload, sort_keys=True, ensure_ascii=False, default=str).encode("utf-8")
    ).hexdigest()
    blob = json.dumps({"model": model_identity, "prompt": prompt_version, "input": input_hash})
    return hashlib.sha256(blob.encode("utf-8")).hexdigest()


class ResponseCache:
    """One JSON file per key under ``root/<key[:2]>/``; writes are atomic."""

    def __init__(self, root: Path) -> None:
        self.root = Path(root)

    def _path(self, key: str) -> Path:
        return self.root / key[:2] / f"{key}.json"

    def get(self, key: str) -> dict[str, Any] | None:
        try:
            return json.loads(self._path(key).read_text(encoding="utf-8"))
        except (FileNotFoundError, json.JSONDecodeError):
            return None

    def put(self, key: str, value: dict[str, Any]) -> None:
        path = self._path(key)
        path.parent.mkdir(parents=True, exist_ok=True)
        write_text_atomic(path, json.dumps(value, ensure_ascii=False))  # a unique temp name: threads never share one
