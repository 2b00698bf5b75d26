"""On-disk cache of LLM responses keyed by (model, prompt version, input hash).

Entries are keyed by content, so a meeting's entries cannot be found from the meeting: the
cache keeps a meeting index beside them (``index/<sha256 of the meeting id>.keys``, one key a
line), filled when a client whose cache was given a meeting (:meth:`ResponseCache.for_meeting`)
writes or reads an entry. ``meeting-notes forget`` removes a meeting's entries through it
(:meth:`ResponseCache.forget_meeting`).
"""

from __future__ import annotations

import hashlib
import json
import re
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


INDEX_DIR = "index"
_KEY = re.compile(r"^[0-9a-f]{64}$")


class ResponseCache:
    """One JSON file per key under ``root/<key[:2]>/``; writes are atomic. With ``meeting``,
    every key written or read is also listed in that meeting's index."""

    def __init__(self, root: Path, meeting: str | None = None) -> None:
        self.root = Path(root)
        self.meeting = meeting

    def for_meeting(self, meeting: str) -> ResponseCache:
        """The same cache, indexing what it writes and reads under ``meeting`` (the meeting id)."""
        return ResponseCache(self.root, meeting)

    def _path(self, key: str) -> Path:
        return self.root / key[:2] / f"{key}.json"

    def index_path(self, meeting: str) -> Path:
        """The meeting's index file (named by a hash: the meeting id may be a person's name)."""
        return self.root / INDEX_DIR / f"{hashlib.sha256(meeting.encode('utf-8')).hexdigest()}.keys"

    def _index(self, key: str) -> None:
        if self.meeting is None:
            return
        path = self.index_path(self.meeting)
        path.parent.mkdir(parents=True, exist_ok=True)
        with open(path, "a", encoding="utf-8") as fh:  # one short append per key: lines never interleave
            fh.write(key + "\n")

    def get(self, key: str) -> dict[str, Any] | None:
        try:
            value = json.loads(self._path(key).read_text(encoding="utf-8"))
        except (FileNotFoundError, json.JSONDecodeError):
            return None
        self._index(key)  # this meeting uses the entry too: forgetting it must remove the entry
        return value

    def put(self, key: str, value: dict[str, Any]) -> None:
        path = self._path(key)
        path.parent.mkdir(parents=True, exist_ok=True)
        self._index(key)  # indexed first: a crash between the two leaves an index line, never an unindexed entry
        write_text_atomic(path, json.dumps(value, ensure_ascii=False))  # a unique temp name: threads never share one

    def forget_meeting(self, meeting: str) -> list[Path]:
        """Delete every entry the meeting's index lists, then the index; the removed files."""
        index = self.index_path(meeting)
        try:
            keys = {line.strip() for line in index.read_text(encoding="utf-8").splitlines()}
        except FileNotFoundError:
            return []
        removed = []
        for key in sorted(k for k in keys if _KEY.match(k)):
            path = self._path(key)
            if path.exists():
                path.unlink()
                removed.append(path)
        index.unlink()
        return removed + [index]

    def unindexed(self) -> list[Path]:
        """Entries no meeting's index lists (written before the index existed, or by a client
        given no meeting): ``forget`` cannot attribute them to a meeting."""
        indexed: set[str] = set()
        for index in (self.root / INDEX_DIR).glob("*.keys"):
            indexed.update(line.strip() for line in index.read_text(encoding="utf-8").splitlines())
        return sorted(p for p in self.root.glob("??/*.json") if p.stem not in indexed)
