"""Leases: file locks that expire unless their holder renews them, across processes and hosts.

A lease is a small JSON file created with ``O_EXCL`` (one creator wins) that names its owner
and the time it expires, written by the owner's clock inside the file (file times on a network
file system follow the server's clock and are not used). While held, a background thread
renews it every third of its length. A holder that dies (SIGKILL, a lost container, a lost
host) stops renewing, and once the lease has expired the next contender breaks it. On the same
host a lease whose holder process is gone is free at once.

Used for meeting folders: two runs of one recording (the CLI, Prefect flow runs on any worker)
never write its folder at the same time, whatever their options.
"""

from __future__ import annotations

import fcntl
import json
import os
import socket
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from meeting_notes.atomic import write_text_atomic
from meeting_notes.errors import MeetingNotesError


class LeaseHeldError(MeetingNotesError):
    """Another run holds the lease and did not let go within the wait."""


def default_owner() -> str:
    """``host:pid:random``: unique per lease holder, readable in error messages."""
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


def holder_is_dead(owner: str) -> bool:
    """True when ``owner`` (``host:pid:...``) is a process of this host that no longer exists."""
    host, _, rest = owner.partition(":")
    pid_text = rest.partition(":")[0]
    if host != socket.gethostname() or not pid_text.isdigit():
        return False
    try:
        os.kill(int(pid_text), 0)
    except ProcessLookupError:
        return True
    except PermissionError:
        return False
    return False


def _read(path: Path) -> dict[str, Any] | None:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return None
    except (OSError, ValueError):
        return {}  # being written, or damaged: judged by its age below
    return data if isinstance(data, dict) else {}


@contextmanager
def file_lock(path: Path) -> Iterator[None]:
    """An exclusive ``flock`` on ``path`` (created if absent) for a short read-merge-write of a
    small file (a meeting's stage records, ``crm.json``): one holder at a time, across threads
    and processes on this machine; released when the block ends or the process dies."""
    with open(path, "a+") as fh:
        fcntl.flock(fh, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)


class FileLease:
    """A renewable lease on ``path``; use as a context manager (``with FileLease(p, 300):``)."""

    def __init__(self, path: Path, lease_s: float, owner: str | None = None, wait_s: float | None = None) -> None:
        self.path = Path(path)
        self.lease_s = float(lease_s)
        self.owner = owner or default_owner()
        self.wait_s = wait_s
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    # -- one attempt ---------------------------------------------------------------------
    def _payload(self) -> str:
        return json.dumps({"owner": self.owner, "expires_at": time.time() + self.lease_s, "lease_s": self.lease_s})

    def try_acquire(self) -> bool:
        """Take the lease if it is free or stale; True when this holder has it now."""
        for _ in range(3):
            try:
                fd = os.open(self.path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o644)
            except FileExistsError:
                info = _read(self.path)
                if info is None:
                    continue  # released in between: try again
                if info.get("owner") == self.owner:
                    return True
                if not self._is_stale(info):
                    return False
                self._break(info)
                continue
            with os.fdopen(fd, "w", encoding="utf-8") as fh:
                fh.write(self._payload())
                fh.flush()
                os.fsync(fh.fileno())
            return True
        return False

    def _is_stale(self, info: dict[str, Any]) -> bool:
        if not info:  # unreadable: stale once older than a lease, by the file system's clock
            try:
                age = time.time() - self.path.stat().st_mtime
            except FileNotFoundError:
                return True
            return age > self.lease_s
        if holder_is_dead(str(info.get("owner", ""))):
            return True
        return float(info.get("expires_at", 0)) < time.time()

    def _break(self, judged: dict[str, Any]) -> None:
        """Remove a stale lease without removing a fresh one a faster contender just made."""
        aside = self.path.with_name(f"{self.path.name}.broken-{uuid.uuid4().hex[:8]}")
        try:
            os.rename(self.path, aside)
        except FileNotFoundError:
            return
        if (_read(aside) or {}) != judged and not self._is_stale(_read(aside) or {}):
            try:
                os.link(aside, self.path)  # it was fresh: put it back (fails if replaced already)
            except OSError:
                pass
        aside.unlink(missing_ok=True)

    # -- holding -------------------------------------------------------------------------
    def renew(self) -> bool:
        """Push the expiry one lease ahead; False when the lease is no longer ours."""
        info = _read(self.path)
        if not info or info.get("owner") != self.owner:
            return False
        write_text_atomic(self.path, self._payload())
        return True

    def release(self) -> None:
        """Give the lease up (only ours: a lease another holder took over is left alone)."""
        self._stop.set()
        if self._thread is not None and self._thread is not threading.current_thread():
            self._thread.join(timeout=5)
        info = _read(self.path)
        if info and info.get("owner") == self.owner:
            self.path.unlink(missing_ok=True)

    def acquire(self) -> None:
        """Wait for the lease (``wait_s``; None: as long as it takes) and start renewing it."""
        deadline = None if self.wait_s is None else time.monotonic() + self.wait_s
        delay = 0.05
        while not self.try_acquire():
            if deadline is not None and time.monotonic() > deadline:
                holder = (_read(self.path) or {}).get("owner", "unknown")
                raise LeaseHeldError(
                    f"{self.path.parent.name} is being processed by another run ({holder}); "
                    f"its lease ends within {self.lease_s:.0f} s unless that run is still alive."
                )
            time.sleep(delay)
            delay = min(1.0, delay * 2)
        self._stop.clear()
        self._thread = threading.Thread(target=self._renew_loop, name=f"lease:{self.path.name}", daemon=True)
        self._thread.start()

    def _renew_loop(self) -> None:
        while not self._stop.wait(self.lease_s / 3):
            try:
                if not self.renew():
                    return
            except OSError:
                continue  # a hiccup of the file system: try again next time

    def __enter__(self) -> FileLease:
        self.acquire()
        return self

    def __exit__(self, *exc: object) -> None:
        self.release()
