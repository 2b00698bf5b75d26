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

Claims are leases with an owner: ``.ledger/<sha256>.claim`` holds the claim id (the owner
token), the state (``queued`` until a run starts, then ``running``) and the lease's expiry,
written as a timestamp inside the file (never a file time, which a network file system sets
by its own clock). A queued claim's lease covers ``queue_timeout_s``; a running one is renewed
by every heartbeat for ``claim_timeout_s``. Heartbeat, complete and fail act only for the owner:
a run whose claim was recovered and taken by a newer run changes nothing (:class:`ClaimLostError`
for heartbeats, a no-op for complete/fail). Only regular files are taken (symbolic links and
anything else in the inbox are left alone), and a file that cannot be moved or read is set
aside instead of stopping the watcher or bouncing between folders.
"""

from __future__ import annotations

import json
import logging
import os
import socket
import stat
import time
import uuid
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from meeting_notes.atomic import data_file_mode, write_text_atomic
from meeting_notes.clock import now_iso
from meeting_notes.hashing import file_sha256
from meeting_notes.sidecar import SIDECAR_SUFFIX, sidecar_kind, sidecar_path

NOTE_SUFFIXES = (SIDECAR_SUFFIX, ".error.json", ".duplicate.json")
PARTIAL_SUFFIXES = (".part", ".partial", ".tmp", ".crdownload", ".download", ".uploading", ".filepart")
_CLAIMING = ".claiming-"
#: bytes a file name may have on the usual Linux file systems (ext4, xfs, NFS)
NAME_MAX = 255

log = logging.getLogger(__name__)


class ClaimLostError(RuntimeError):
    """This run no longer owns its inbox claim (it expired and a newer run took the file)."""


def is_regular_file(path: Path) -> bool:
    """True for a regular file itself, never a symbolic link (which could point out of the inbox)."""
    try:
        return stat.S_ISREG(path.lstat().st_mode)
    except OSError:
        return False


def is_candidate(path: Path) -> bool:
    """True for a file that may be a recording: a regular file (not a symbolic link), not hidden,
    not a note, not an unfinished upload."""
    name = path.name
    return (
        not name.startswith(".")
        and not name.endswith(NOTE_SUFFIXES)
        and not name.lower().endswith(PARTIAL_SUFFIXES)
        and is_regular_file(path)
    )


@dataclass
class StabilityTracker:
    """Says which files kept the same size and mtime for ``stable_seconds`` (i.e. are fully written).

    A file's sidecar, when present, must be stable as well. Call :meth:`poll` repeatedly.
    """

    stable_seconds: float
    _seen: dict[Path, tuple[tuple[int, int], float]] = field(default_factory=dict)
    _set_aside: dict[Path, tuple[int, int]] = field(default_factory=dict)

    def set_aside(self, path: Path) -> None:
        """Stop offering ``path`` until it changes (a file that could not be claimed)."""
        sig = _signature(path)
        if sig is not None:
            self._set_aside[path] = sig

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
        self._set_aside = {p: sig for p, sig in self._set_aside.items() if p in current and current[p][0] == sig}
        ready = []
        for path, (_, since) in current.items():
            if path in self._set_aside or not is_candidate(path) or now - since < self.stable_seconds:
                continue
            side = current.get(sidecar_path(path))
            if side is not None and now - side[1] < self.stable_seconds:
                continue
            ready.append(path)
        return sorted(ready, key=lambda p: current[p][1])


def _signature(path: Path) -> tuple[int, int] | None:
    try:
        st = path.lstat()
    except OSError:
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


ClaimOutcome = Literal["claimed", "duplicate", "gone", "skipped", "failed"]


class Inbox:
    """Claims, finishes and recovers files under one inbox root. Safe across processes and hosts."""

    def __init__(
        self, root: Path, claim_timeout_s: float = 6 * 3600.0, queue_timeout_s: float = 24 * 3600.0
    ) -> None:
        self.layout = InboxLayout(Path(root))
        self.layout.create()
        self.claim_timeout_s = claim_timeout_s
        self.queue_timeout_s = queue_timeout_s

    # -- claiming -----------------------------------------------------------------------
    def claim(self, path: Path) -> tuple[ClaimOutcome, InboxItem | None]:
        """Move ``path`` from ``inbox/`` into ``processing/`` and register its content hash.

        Returns ``("gone", None)`` when another process claimed it first, ``("duplicate", None)``
        when the same content is already done or in progress (the file then goes to ``done/``
        with a note), ``("skipped", None)`` for what is not a regular file or cannot be moved
        (left where it is; the reason is logged), ``("failed", None)`` when it was moved but
        cannot be read (it goes to ``failed/`` with a note, not back and forth), else
        ``("claimed", item)``.
        """
        if not is_regular_file(path):
            if path.is_symlink():
                log.warning("Not taken from the inbox: %s is a symbolic link.", path.name)
                return "skipped", None
            return ("gone", None) if not path.exists() else ("skipped", None)
        tmp = self.layout.processing / _fit_name(f"{_CLAIMING}{uuid.uuid4().hex}-", path.name)
        try:
            os.rename(path, tmp)  # the atomic step: exactly one claimer wins
        except FileNotFoundError:
            return "gone", None
        except OSError as exc:
            log.error("Cannot take %s from the inbox: %s", path.name, exc)
            return "skipped", None
        target = _move_unique(tmp, self.layout.processing, path.name)
        _move_sidecar(path, target)
        try:
            sha = file_sha256(target)
        except OSError as exc:
            dest = _move_unique(target, self.layout.failed, target.name)
            _move_sidecar(target, dest)
            note = {"error": f"cannot read the file: {type(exc).__name__}: {exc}", "at": now_iso()}
            _write_json_new(dest.with_name(dest.name + ".error.json"), note)
            return "failed", None
        item = InboxItem(target, sha, path.name, uuid.uuid4().hex[:12])
        record = self._read_record(sha)
        if record.get("status") == "done" or not self._take_claim(item):
            self._finish_duplicate(item, record)
            return "duplicate", None
        return "claimed", item

    def owns(self, item: InboxItem) -> bool:
        """True while ``item``'s claim is still the one in the ledger (same owner token)."""
        return _read_json(self._claim_path(item.sha256)).get("claim_id") == item.claim_id

    def heartbeat(self, item: InboxItem) -> None:
        """Renew the claim's lease for ``claim_timeout_s`` and mark it running (runs call this at
        each stage boundary). :class:`ClaimLostError` when the claim is no longer this run's."""
        path = self._claim_path(item.sha256)
        info = _read_json(path)
        if info.get("claim_id") != item.claim_id:
            raise ClaimLostError(
                f"The inbox claim of {item.original_name} expired and another run took the file; "
                "this run stops without touching it."
            )
        info.update(state="running", lease_expires_at=time.time() + self.claim_timeout_s, heartbeat_at=now_iso())
        _write_json_atomic(path, info)

    def complete(self, item: InboxItem, meeting_dir: Path | None = None) -> Path | None:
        """Move the file to ``done/`` and record the content hash as done (owner only)."""
        if not self.owns(item):
            log.warning("Not completing %s: the claim belongs to another run now.", item.original_name)
            return None
        dest = self._finish(item, self.layout.done)
        self._write_record(item, "done", {"meeting_dir": str(meeting_dir) if meeting_dir else None})
        return dest

    def fail(self, item: InboxItem, error: str) -> Path | None:
        """Move the file to ``failed/`` with a ``.error.json`` note; a later drop retries it
        (owner only: a run that lost its claim leaves the file and the ledger alone)."""
        if not self.owns(item):
            log.warning("Not failing %s: the claim belongs to another run now.", item.original_name)
            return None
        dest = self._finish(item, self.layout.failed)
        if dest is not None:
            _write_json_new(dest.with_name(dest.name + ".error.json"), {"error": error, "at": now_iso()})
        self._write_record(item, "failed", {"error": error})
        return dest

    # -- crash recovery -----------------------------------------------------------------
    def recover(self, grace_s: float = 300.0) -> list[Path]:
        """Put files of dead claims back into ``inbox/``; returns their new paths.

        A claim is dead when its lease (a timestamp written in the claim by its owner) has
        expired. A file in ``processing/`` with no claim at all (a crash inside :meth:`claim`)
        is put back once its last rename is ``grace_s`` old, measured against the file
        system's own clock (a probe file's time), not this host's.
        """
        now = time.time()
        live: set[str] = set()
        for claim in self.layout.ledger.glob("*.claim"):
            info = _read_json(claim)
            if not info and claim.exists():
                # being written right now, or damaged: judge it by its age on the file system
                if self._fs_age(claim) < grace_s:
                    continue
            expires = info.get("lease_expires_at")
            if expires is None:  # a claim written before leases: its heartbeat time is the file's
                expires = claim.stat().st_mtime + self.claim_timeout_s if claim.exists() else 0
            if float(expires) > now:
                live.add(info.get("file", ""))
            else:
                claim.unlink(missing_ok=True)
        moved = []
        for path in sorted(self.layout.processing.iterdir()):
            if path.name in live or path.name.endswith(NOTE_SUFFIXES) or not is_regular_file(path):
                continue
            if self._fs_age(path) < grace_s:
                continue
            name = path.name
            if name.startswith(_CLAIMING):
                name = name[len(_CLAIMING) + 33 :]
            dest = _move_unique(path, self.layout.inbox, name)
            _move_sidecar(path, dest)
            moved.append(dest)
        return moved

    def claimed_file(self, path: Path, claim_id: str | None = None) -> InboxItem | None:
        """The item for a file already in ``processing/`` (for a run started by a deployment).

        With ``claim_id`` (the owner token the run was submitted with), only that claim: a run
        that waited in a queue while its claim expired and the file was taken again gets None.
        """
        path = Path(path)
        if path.parent.resolve() != self.layout.processing.resolve() or not is_regular_file(path):
            return None
        for claim in self.layout.ledger.glob("*.claim"):
            info = _read_json(claim)
            if info.get("file") == path.name and (claim_id is None or info.get("claim_id") == claim_id):
                return InboxItem(path, claim.stem, info.get("original_name", path.name), info.get("claim_id", ""))
        return None

    # -- internals ----------------------------------------------------------------------
    def _claim_path(self, sha: str) -> Path:
        return self.layout.ledger / f"{sha}.claim"

    def _record_path(self, sha: str) -> Path:
        return self.layout.ledger / f"{sha}.json"

    def _read_record(self, sha: str) -> dict[str, Any]:
        return _read_json(self._record_path(sha))

    def _fs_age(self, path: Path) -> float:
        """Seconds since ``path`` last changed, by the file system's clock."""
        probe = self.layout.ledger / f".clock-{uuid.uuid4().hex}"
        try:
            probe.touch()
            fs_now = probe.stat().st_mtime
            return fs_now - path.stat().st_ctime
        except FileNotFoundError:
            return 0.0
        finally:
            probe.unlink(missing_ok=True)

    def _take_claim(self, item: InboxItem) -> bool:
        info = {
            "file": item.path.name,
            "original_name": item.original_name,
            "claim_id": item.claim_id,
            "host": socket.gethostname(),
            "pid": os.getpid(),
            "claimed_at": now_iso(),
            "state": "queued",
            "lease_expires_at": time.time() + max(self.queue_timeout_s, self.claim_timeout_s),
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
        note = {"duplicate_of_sha256": item.sha256, "original": record or "in progress", "at": now_iso()}
        _write_json_new(dest.with_name(dest.name + ".duplicate.json"), note)

    def _write_record(self, item: InboxItem, status: str, extra: dict[str, Any]) -> None:
        record = {"status": status, "file": item.original_name, "at": now_iso(), **extra}
        _write_json_atomic(self._record_path(item.sha256), record)


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
    """``name``, then ``stem-1.ext``, ``stem-2.ext``...: each cut to fit :data:`NAME_MAX` bytes."""
    yield _fit_name("", name)
    stem, dot, ext = name.partition(".")
    n = 1
    while True:
        yield _fit_name("", f"{dot}{ext}", keep_end=True, head=stem, tail=f"-{n}")
        n += 1


def _fit_name(prefix: str, name: str, keep_end: bool = False, head: str = "", tail: str = "") -> str:
    """``prefix + name`` (or ``head + tail + name`` with ``keep_end``) shortened to NAME_MAX bytes.

    Long names (a Japanese title is 3 bytes a character) plus a claim prefix or a ``-1``
    suffix would otherwise fail with ENAMETOOLONG. The cut falls on a character boundary;
    the extension is kept.
    """
    def size(text: str) -> int:
        return len(os.fsencode(text))

    if not keep_end:
        stem, dot, ext = name.rpartition(".")
        if not dot or size(dot + ext) > 32:
            stem, dot, ext = name, "", ""
        head, tail, name = prefix + stem, "", dot + ext
    while head and size(head + tail + name) > NAME_MAX:
        head = head[:-1]
    return head + tail + name


def _move_sidecar(audio_before: Path, audio_after: Path) -> None:
    if sidecar_kind(audio_before) == "file":
        _move_unique(sidecar_path(audio_before), audio_after.parent, sidecar_path(audio_after).name)


def _write_json_new(path: Path, data: dict[str, Any]) -> bool:
    """Create ``path`` with ``data``; False when it already exists."""
    try:
        fd = os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, data_file_mode())
    except FileExistsError:
        return False
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        os.fchmod(fh.fileno(), data_file_mode())  # a note may quote a name or the transcript: private
        json.dump(data, fh, indent=2, default=str)
    return True


def _write_json_atomic(path: Path, data: dict[str, Any]) -> None:
    """Replace ``path`` with ``data`` in one step (:func:`meeting_notes.atomic.write_text_atomic`)."""
    write_text_atomic(path, json.dumps(data, indent=2, default=str))


def _read_json(path: Path) -> dict[str, Any]:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError):
        return {}
    return data if isinstance(data, dict) else {}


