"""One meeting's output folder, and the record of which stages already finished there.

A stage is skipped on a later run when it finished with the same key (the audio's sha256, the
stage's parameters and the code version) and its outputs are still there with the checksums
recorded when it finished: that is what makes a failed run resumable without redoing finished
work, and what keeps a crash between writing an output and recording it from serving a stale
or half-written file. The record (``.stages.json``) is updated under a lock, written atomically;
two runs of one recording hold the folder's lease (:meth:`MeetingWorkspace.lease`) in turn.

A folder's name carries only 8 hex digits of the recording's sha256 (easy to collide on
purpose), so the folder records the full sha256 (``.recording.sha256``) on its first run and
refuses any other recording (:class:`RecordingMismatchError`): a crafted file can neither
overwrite another meeting's notes nor pick up its CRM ids.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from meeting_notes import __version__
from meeting_notes.atomic import make_private_dir, write_text_atomic
from meeting_notes.errors import MeetingNotesError
from meeting_notes.hashing import file_sha256, sha256_hex
from meeting_notes.leases import FileLease, file_lock

STATE_FILE = ".stages.json"
LEASE_FILE = ".meeting.lease"
DECODED_FILE = ".audio-16k-f32.raw"
RECORDING_FILE = ".recording.sha256"


class RecordingMismatchError(MeetingNotesError):
    """The meeting folder belongs to another recording (same folder name, different content)."""


def stage_cache_key(stage: str, audio_sha256: str, params: dict[str, Any]) -> str:
    """A key that changes when the audio, the stage's parameters or the code version change."""
    blob = json.dumps(
        {"stage": stage, "audio": audio_sha256, "params": params, "code": __version__},
        sort_keys=True,
        default=str,
    )
    return sha256_hex(blob.encode("utf-8"))


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
    def analytics_json(self) -> Path:
        return self.root / "analytics.json"

    @property
    def report_html(self) -> Path:
        return self.root / "report.html"

    @property
    def notes_json(self) -> Path:
        return self.root / "notes.json"

    @property
    def notes_md(self) -> Path:
        return self.root / "notes.md"

    @property
    def decoded_audio(self) -> Path:
        """The recording decoded once to 16 kHz mono float32 (raw samples), shared by the stages
        that need the waveform; removed when a run finishes."""
        return self.root / DECODED_FILE

    @property
    def run_json(self) -> Path:
        return self.root / "run.json"

    @property
    def state_path(self) -> Path:
        return self.root / STATE_FILE

    def create(self) -> None:
        """Create the folder (mode ``storage.dir_mode``, ``0700`` by default)."""
        make_private_dir(self.root)

    def recorded_sha256(self) -> str | None:
        """The full sha256 of the recording this folder was made from (None: not recorded yet,
        a new folder or one made by an earlier version)."""
        try:
            text = (self.root / RECORDING_FILE).read_text(encoding="utf-8").strip()
        except FileNotFoundError:
            return None
        return text or None

    def claim_for(self, audio_sha256: str, audio_name: str) -> None:
        """Bind the folder to the recording with ``audio_sha256`` (recorded on its first run),
        or raise :class:`RecordingMismatchError` when it was made from another recording. Call
        under the folder's lease, before anything is written."""
        recorded = self.recorded_sha256()
        if recorded is None:
            write_text_atomic(self.root / RECORDING_FILE, audio_sha256 + "\n")
        elif recorded != audio_sha256:
            raise RecordingMismatchError(
                f"{audio_name} was not processed: its meeting folder {self.root.name} already holds the notes of "
                f"a different recording (same name, different content: sha256 {audio_sha256[:16]}... against "
                f"{recorded[:16]}...). Nothing in that folder was changed. Rename the file, or give it its own "
                "meeting_id in its sidecar, and process it again."
            )

    def lease(self, lease_s: float, wait_s: float | None = None) -> FileLease:
        """The folder's lease: held by one run at a time, expires if its holder dies."""
        return FileLease(self.root / LEASE_FILE, lease_s, wait_s=wait_s)

    def _state(self) -> dict[str, Any]:
        try:
            data = json.loads(self.state_path.read_text(encoding="utf-8"))
        except (FileNotFoundError, json.JSONDecodeError):
            return {}
        return data if isinstance(data, dict) else {}

    @contextmanager
    def _state_lock(self) -> Iterator[None]:
        with file_lock(self.root / ".stages.lock"):
            yield

    @staticmethod
    def _key(entry: Any) -> str | None:
        if isinstance(entry, dict):
            return entry.get("key")
        return entry if isinstance(entry, str) else None

    def is_done(self, stage: str, key: str, outputs: list[Path]) -> bool:
        """True when ``stage`` finished earlier with the same key and its outputs are still there,
        unchanged since (sha256 recorded by :meth:`mark_done`)."""
        entry = self._state().get(stage)
        if self._key(entry) != key or not all(p.is_file() for p in outputs):
            return False
        if not isinstance(entry, dict):
            return False  # recorded by an older version, without checksums: do it again
        sums = entry.get("outputs")
        if sums is None:
            return True  # the stage recorded no checksums: presence is all there is to check
        try:
            return all(p.name in sums and file_sha256(p) == sums[p.name] for p in outputs)
        except OSError:
            return False

    def keys_of(self, *stages: str) -> dict[str, str | None]:
        """The recorded keys of earlier stages, so that a later stage's key follows its inputs."""
        state = self._state()
        return {stage: self._key(state.get(stage)) for stage in stages}

    def mark_done(self, stage: str, key: str, outputs: list[Path] | None = None) -> None:
        """Record that ``stage`` finished with ``key``, with the checksums of its ``outputs``
        (None: none recorded, :meth:`is_done` then only checks that the files exist)."""
        entry = {"key": key, "outputs": None if outputs is None else {p.name: file_sha256(p) for p in outputs}}
        with self._state_lock():
            state = self._state()
            state[stage] = entry
            write_text_atomic(self.state_path, json.dumps(state, indent=2, sort_keys=True))

    def forget(self, stage: str) -> None:
        """Drop ``stage``'s record (its outputs are about to be rewritten)."""
        with self._state_lock():
            state = self._state()
            if state.pop(stage, None) is not None:
                write_text_atomic(self.state_path, json.dumps(state, indent=2, sort_keys=True))
