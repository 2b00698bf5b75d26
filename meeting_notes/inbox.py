"""The watched inbox: pick up dropped recordings once fully written, never lose one.

Layout under the inbox root::

    inbox/        reps drop ``call.m4a`` (and optionally ``call.m4a.meeting.json``) here
    processing/   claimed files while a run works on them
    done/         finished files (and duplicates, with a ``.duplicate.json`` note)
    failed/       files whose run failed, with a ``.error.json`` note
    .ledger/      one record per content hash: the idempotency key

Files are only ever renamed or hard-linked into a name that does not exist yet, so nothing is
overwritten; a crash leaves a file in ``processing/`` (or, between the two steps of a claim, a
``.claiming-*`` name there) and :meth:`Inbox.recover` puts it back into ``inbox/``.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import socket
import time
import uuid
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from meeting_notes.errors import InputError
from meeting_notes.model_registry import file_sha256
from meeting_notes.pipeline import ProcessOptions

SIDECAR_SUFFIX = ".meeting.json"
NOTE_SUFFIXES = (SIDECAR_SUFFIX, ".error.json", ".duplicate.json")
PARTIAL_SUFFIXES = (".part", ".partial", ".tmp", ".crdownload", ".download", ".uploading", ".filepart")
_CLAIMING = ".claiming-"


class SidecarError(InputError):
    """The ``<file>.meeting.json`` beside a recording is not valid JSON or has wrong fields."""


class Participant(BaseModel):
    """One person in the meeting."""

    model_config = ConfigDict(extra="forbid")

    name: str
    email: str | None = None
    company: str | None = None
    role: str | None = None


class MeetingSidecar(BaseModel):
    """``<file>.meeting.json``: what the rep (or the calendar/CRM integration) knows about the meeting."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    meeting_id: str | None = Field(None, pattern=r"^[\w.-]{1,80}$", description="Output folder name.")
    title: str | None = None
    date: dt.date | dt.datetime | None = None
    participants: list[Participant | str] = Field(default_factory=list)
    account: str | None = None
    expected_speakers: int | None = Field(
        None, ge=1, le=32, alias="num_speakers", description="How many people speak."
    )
    language: Literal["auto", "en", "ja"] | None = None
    crm_ids: dict[str, str] = Field(default_factory=dict, description="e.g. account_id, opportunity_id.")

    def hints(self) -> dict[str, Any]:
        """The fields the notes stage reads (``ProcessOptions.hints``), without empty ones."""
        out: dict[str, Any] = {
            "meeting_id": self.meeting_id,
            "title": self.title,
            "date": self.date.isoformat() if self.date else None,
            "account": self.account,
            "participants": [
                p if isinstance(p, str) else p.model_dump(exclude_none=True) for p in self.participants
            ],
            "crm_ids": dict(self.crm_ids),
        }
        return {k: v for k, v in out.items() if v not in (None, [], {})}

    def apply(self, options: ProcessOptions) -> ProcessOptions:
        """``options`` with the sidecar's language, speaker count and hints filled in."""
        return replace(
            options,
            language=self.language or options.language,
            num_speakers=self.expected_speakers or options.num_speakers,
            hints={**options.hints, **self.hints()},
        )


def sidecar_path(audio: Path) -> Path:
    """``call.m4a`` -> ``call.m4a.meeting.json``."""
    return audio.with_name(audio.name + SIDECAR_SUFFIX)


def read_sidecar(audio: Path) -> MeetingSidecar | None:
    """The sidecar of ``audio``, None when there is none; :class:`SidecarError` when it is invalid."""
    path = sidecar_path(audio)
    try:
        raw = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return None
    try:
        return MeetingSidecar.model_validate(json.loads(raw))
    except (json.JSONDecodeError, ValidationError) as exc:
        raise SidecarError(f"{path.name} is not a valid meeting sidecar: {exc}") from exc


def is_candidate(path: Path) -> bool:
    """True for a file that may be a recording: not hidden, not a note, not an unfinished upload."""
    name = path.name
    return (
        not name.startswith(".")
        and not name.endswith(NOTE_SUFFIXES)
        and not name.lower().endswith(PARTIAL_SUFFIXES)
        and path.is_file()
    )


@dataclass
class StabilityTracker:
    """Says which files kept the same size and mtime for ``stable_seconds`` (i.e. are fully written).

    A file's sidecar, when present, must be stable as well. Call :meth:`poll` repeatedly.
    """

    stable_seconds: float
    _seen: dict[Path, tuple[tuple[int, int], float]] = field(default_factory=dict)

    def poll(self, directory: Path, now: float | None = None) -> list[Path]:
        """Scan ``directory`` and return its files that are ready, oldest first."""
        now = time.monotonic() if now is None else now
        current: dict[Path, tuple[tuple[int, int], float]] = {}
        for path in directory.iterdir():
            sig = _signature(path)
            if sig is None:
                continue
            previous = self._seen.get(path)
            since = previous[1] if previous and previous[0] == sig else now
            current[path] = (sig, since)
        self._seen = current
        ready = []
        for path, (_, since) in current.items():
            if not is_candidate(path) or now - since < self.stable_seconds:
                continue
            side = current.get(sidecar_path(path))
            if side is not None and now - side[1] < self.stable_seconds:
                continue
            ready.append(path)
        return sorted(ready, key=lambda p: current[p][1])


def _signature(path: Path) -> tuple[int, int] | None:
    try:
        st = path.stat()
    except FileNotFoundError:
        return None
    return (st.st_size, st.st_mtime_ns)


@dataclass(frozen=True)
class InboxItem:
    """A claimed recording in ``processing/``."""

    path: Path
    sha256: str
    original_name: str
    claim_id: str

    @property
    def idempotency_key(self) -> str:
        """Unique per claim: re-submitting one claim is a no-op, a later re-drop runs again."""
        return f"meeting-{self.sha256[:16]}-{self.claim_id}"


@dataclass(frozen=True)
class InboxLayout:
    """The folders under one inbox root."""

    root: Path

    @property
    def inbox(self) -> Path:
        return self.root / "inbox"

    @property
    def processing(self) -> Path:
        return self.root / "processing"

    @property
    def done(self) -> Path:
        return self.root / "done"

    @property
    def failed(self) -> Path:
        return self.root / "failed"

    @property
    def ledger(self) -> Path:
        return self.root / ".ledger"

    def create(self) -> None:
        for d in (self.inbox, self.processing, self.done, self.failed, self.ledger):
            d.mkdir(parents=True, exist_ok=True)


ClaimOutcome = Literal["claimed", "duplicate", "gone"]


class Inbox:
    """Claims, finishes and recovers files under one inbox root. Safe across processes."""

    def __init__(self, root: Path, claim_timeout_s: float = 6 * 3600.0) -> None:
        self.layout = InboxLayout(Path(root))
        self.layout.create()
        self.claim_timeout_s = claim_timeout_s

    # -- claiming -----------------------------------------------------------------------
    def claim(self, path: Path) -> tuple[ClaimOutcome, InboxItem | None]:
        """Move ``path`` from ``inbox/`` into ``processing/`` and register its content hash.

        Returns ``("gone", None)`` when another process claimed it first, ``("duplicate", None)``
        when the same content is already done or in progress (the file then goes to ``done/``
        with a note), else ``("claimed", item)``.
        """
        tmp = self.layout.processing / f"{_CLAIMING}{uuid.uuid4().hex}-{path.name}"
        try:
            os.rename(path, tmp)  # the atomic step: exactly one claimer wins
        except FileNotFoundError:
            return "gone", None
        target = _move_unique(tmp, self.layout.processing, path.name)
        _move_sidecar(path, target)
        sha = file_sha256(target)
        item = InboxItem(target, sha, path.name, uuid.uuid4().hex[:12])
        record = self._read_record(sha)
        if record.get("status") == "done" or not self._take_claim(item):
            self._finish_duplicate(item, record)
            return "duplicate", None
        return "claimed", item

    def heartbeat(self, item: InboxItem) -> None:
        """Mark the claim as alive (runs call this at each stage boundary)."""
        os.utime(self._claim_path(item.sha256))

    def complete(self, item: InboxItem, meeting_dir: Path | None = None) -> Path | None:
        """Move the file to ``done/`` and record the content hash as done."""
        dest = self._finish(item, self.layout.done)
        self._write_record(item, "done", {"meeting_dir": str(meeting_dir) if meeting_dir else None})
        return dest

    def fail(self, item: InboxItem, error: str) -> Path | None:
        """Move the file to ``failed/`` with a ``.error.json`` note; a later drop retries it."""
        dest = self._finish(item, self.layout.failed)
        if dest is not None:
            _write_json_new(dest.with_name(dest.name + ".error.json"), {"error": error, "at": _now()})
        self._write_record(item, "failed", {"error": error})
        return dest

    # -- crash recovery -----------------------------------------------------------------
    def recover(self, grace_s: float = 300.0) -> list[Path]:
        """Put files of dead claims back into ``inbox/``; returns their new paths.

        A claim is dead when its heartbeat is older than ``claim_timeout_s``; a file in
        ``processing/`` with no claim at all is put back once its last rename is ``grace_s`` old.
        """
        now = time.time()
        live: set[str] = set()
        for claim in self.layout.ledger.glob("*.claim"):
            info = _read_json(claim)
            try:
                age = now - claim.stat().st_mtime
            except FileNotFoundError:
                continue
            if age < self.claim_timeout_s:
                live.add(info.get("file", ""))
            else:
                claim.unlink(missing_ok=True)
        moved = []
        for path in sorted(self.layout.processing.iterdir()):
            if path.name in live or path.name.endswith(SIDECAR_SUFFIX) or not path.is_file():
                continue
            try:
                if now - path.stat().st_ctime < grace_s:
                    continue
            except FileNotFoundError:
                continue
            name = path.name
            if name.startswith(_CLAIMING):
                name = name[len(_CLAIMING) + 33 :]
            dest = _move_unique(path, self.layout.inbox, name)
            _move_sidecar(path, dest)
            moved.append(dest)
        return moved

    def claimed_file(self, path: Path) -> InboxItem | None:
        """The item for a file already in ``processing/`` (for a run started by a deployment)."""
        path = Path(path)
        if path.parent.resolve() != self.layout.processing.resolve() or not path.is_file():
            return None
        for claim in self.layout.ledger.glob("*.claim"):
            info = _read_json(claim)
            if info.get("file") == path.name:
                return InboxItem(path, claim.stem, info.get("original_name", path.name), info.get("claim_id", ""))
        return None

    # -- internals ----------------------------------------------------------------------
    def _claim_path(self, sha: str) -> Path:
        return self.layout.ledger / f"{sha}.claim"

    def _record_path(self, sha: str) -> Path:
        return self.layout.ledger / f"{sha}.json"

    def _read_record(self, sha: str) -> dict[str, Any]:
        return _read_json(self._record_path(sha))

    def _take_claim(self, item: InboxItem) -> bool:
        info = {
            "file": item.path.name,
            "original_name": item.original_name,
            "claim_id": item.claim_id,
            "host": socket.gethostname(),
            "pid": os.getpid(),
            "claimed_at": _now(),
        }
        return _write_json_new(self._claim_path(item.sha256), info)

    def _finish(self, item: InboxItem, dest_dir: Path) -> Path | None:
        dest = None
        if item.path.exists():
            dest = _move_unique(item.path, dest_dir, item.path.name)
            _move_sidecar(item.path, dest)
        self._claim_path(item.sha256).unlink(missing_ok=True)
        return dest

    def _finish_duplicate(self, item: InboxItem, record: dict[str, Any]) -> None:
        dest = _move_unique(item.path, self.layout.done, item.path.name)
        _move_sidecar(item.path, dest)
        note = {"duplicate_of_sha256": item.sha256, "original": record or "in progress", "at": _now()}
        _write_json_new(dest.with_name(dest.name + ".duplicate.json"), note)

    def _write_record(self, item: InboxItem, status: str, extra: dict[str, Any]) -> None:
        record = {"status": status, "file": item.original_name, "at": _now(), **extra}
        path = self._record_path(item.sha256)
        tmp = path.with_name(f".{path.name}.{uuid.uuid4().hex}.tmp")
        tmp.write_text(json.dumps(record, indent=2), encoding="utf-8")
        tmp.replace(path)


def _move_unique(src: Path, dest_dir: Path, name: str) -> Path:
    """Move ``src`` into ``dest_dir`` as ``name`` (or ``stem-1.ext``...), never replacing a file."""
    dest_dir.mkdir(parents=True, exist_ok=True)
    for candidate in _unique_names(name):
        dest = dest_dir / candidate
        try:
            os.link(src, dest)  # fails when dest exists: no overwrite, even under races
        except FileExistsError:
            continue
        except OSError:  # no hard links on this filesystem
            if dest.exists():
                continue
            os.rename(src, dest)
            return dest
        os.unlink(src)
        return dest
    raise RuntimeError("unreachable")


def _unique_names(name: str) -> Iterable[str]:
    yield name
    stem, dot, ext = name.partition(".")
    n = 1
    while True:
        yield f"{stem}-{n}{dot}{ext}"
        n += 1


def _move_sidecar(audio_before: Path, audio_after: Path) -> None:
    side = sidecar_path(audio_before)
    if side.exists():
        _move_unique(side, audio_after.parent, sidecar_path(audio_after).name)


def _write_json_new(path: Path, data: dict[str, Any]) -> bool:
    """Create ``path`` with ``data``; False when it already exists."""
    try:
        fd = os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o644)
    except FileExistsError:
        return False
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        json.dump(data, fh, indent=2, default=str)
    return True


def _read_json(path: Path) -> dict[str, Any]:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (FileNotFoundError, json.JSONDecodeError):
        return {}


def _now() -> str:
    return dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds")
