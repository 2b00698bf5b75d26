"""One meeting's output folder, and the record of which stages already finished there.

A stage is skipped on a later run when its output exists and was made from the same inputs
(the audio's sha256, the stage's parameters and the code version): that is what makes a failed
run resumable without redoing finished work.
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from meeting_notes import __version__

STATE_FILE = ".stages.json"


def stage_cache_key(stage: str, audio_sha256: str, params: dict[str, Any]) -> str:
    """A key that changes when the audio, the stage's parameters or the code version change."""
    blob = json.dumps(
        {"stage": stage, "audio": audio_sha256, "params": params, "code": __version__},
        sort_keys=True,
        default=str,
    )
    return hashlib.sha256(blob.encode("utf-8")).hexdigest()


def meeting_id_for(audio_path: Path, sha256: str, requested: str | None = None) -> str:
    """A stable, filesystem-safe id: ``requested`` (a sidecar's ``meeting_id``) or the file's stem,
    plus the start of the content hash.

    The hash suffix is always there, so a sidecar cannot name another recording's folder, and
    the name is reduced to letters, digits, ``_``, ``-`` and inner dots, so it can neither
    climb out of the output folder (``..``, ``/``) nor be an absolute path.
    """
    base = requested if requested else audio_path.stem
    stem = re.sub(r"[^\w.-]+", "_", str(base), flags=re.UNICODE).strip("._") or "meeting"
    return f"{stem[:60]}-{sha256[:8]}"


@dataclass(frozen=True)
class MeetingWorkspace:
    """Paths of everything written for one meeting."""

    root: Path

    @property
    def asr_json(self) -> Path:
        return self.root / "asr.json"

    @property
    def diarization_json(self) -> Path:
        return self.root / "diarization.json"

    @property
    def rttm(self) -> Path:
        return self.root / "diarization.rttm"

    @property
    def transcript_json(self) -> Path:
        return self.root / "transcript.json"

    @property
    def srt(self) -> Path:
        return self.root / "transcript.srt"

    @property
    def vtt(self) -> Path:
        return self.root / "transcript.vtt"

    @property
    def markdown(self) -> Path:
        return self.root / "transcript.md"

    @property
    def notes_json(self) -> Path:
        return self.root / "notes.json"

    @property
    def notes_md(self) -> Path:
        return self.root / "notes.md"

    @property
    def run_json(self) -> Path:
        return self.root / "run.json"

    @property
    def state_path(self) -> Path:
        return self.root / STATE_FILE

    def create(self) -> None:
        self.root.mkdir(parents=True, exist_ok=True)

    def _state(self) -> dict[str, str]:
        try:
            return json.loads(self.state_path.read_text(encoding="utf-8"))
        except (FileNotFoundError, json.JSONDecodeError):
            return {}

    def is_done(self, stage: str, key: str, outputs: list[Path]) -> bool:
        """True when ``stage`` finished earlier with the same key and its outputs are still there."""
        return self._state().get(stage) == key and all(p.is_file() for p in outputs)

    def keys_of(self, *stages: str) -> dict[str, str | None]:
        """The recorded keys of earlier stages, so that a later stage's key follows its inputs."""
        state = self._state()
        return {stage: state.get(stage) for stage in stages}

    def mark_done(self, stage: str, key: str) -> None:
        state = self._state()
        state[stage] = key
        tmp = self.state_path.with_suffix(".tmp")
        tmp.write_text(json.dumps(state, indent=2, sort_keys=True), encoding="utf-8")
        tmp.replace(self.state_path)
