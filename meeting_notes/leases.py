"""Leases: file locks that expire unless their holder renews them, across processes and hosts.

A lease is a small JSON file that names its holder by a random token (never by hostname and
pid: two containers may share both) and the time it expires, written by the holder's clock
inside the file (file times on a network file system follow the server's clock and are not
used). Every change of the file (take, renew, break, release) is a compare-and-set: it happens
under an ``flock`` of ``<lease>.lock`` and only after the file was read again and found as
expected, so a renewal never overwrites a lease another run has just taken, and a release never
removes one. While held, a background thread renews the lease every third of its length.

A holder that dies (SIGKILL, a lost container, a lost host) stops renewing, and once the lease
has expired the next contender breaks it. A holder is judged dead before its lease expires only
when it ran in this very pid namespace of this very boot (``/proc/sys/kernel/random/boot_id``
and ``/proc/self/ns/pid`` both recorded in the lease) and its pid is gone or belongs to a
process started later: a container with the same hostname has another pid namespace, and a
pid that does not exist here may be alive there.

A holder that loses its lease (another run broke it after it expired: the machine was
suspended, the share was unreachable past the lease) must stop writing: :meth:`FileLease.
ensure_held` raises :class:`LeaseLostError`, and :func:`meeting_notes.atomic.fence` calls it
before every atomic write into the folder (:func:`meeting_notes.runner.run_stages`).

Used for meeting folders: two runs of one recording (the CLI, Prefect flow runs on any worker)
never write its folder at the same time, whatever their options.
"""

from __future__ import annotations

import fcntl
import json
import logging
import os
import secrets
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from functools import lru_cache
from pathlib import Path
from typing import Any

from meeting_notes.atomic import write_text_atomic
from meeting_notes.errors import MeetingNotesError

log = logging.getLogger(__name__)


class LeaseHeldError(MeetingNotesError):
    """Another run holds the lease and did not let go within the wait."""


class LeaseLostError(MeetingNotesError):
    """This run no longer holds its lease (another run took over): it must not write any more."""


def new_token() -> str:
    """A random holder token (128 bits): unique per lease holder, in any container on any host."""
    return secrets.token_hex(16)


def default_owner() -> str:
    """:func:`new_token` (kept under its old name)."""
    return new_token()


@lru_cache(maxsize=1)
def host_scope() -> str | None:
    """This kernel boot and this pid namespace (where a pid means one process); None where
    ``/proc`` does not tell (then no holder is ever judged dead before its lease expires)."""
    try:
        boot = Path("/proc/sys/kernel/random/boot_id").read_text().strip()
        namespace = os.readlink("/proc/self/ns/pid")
    except OSError:
        return None
    return f"{boot}/{namespace}" if boot else None


def process_start(pid: int) -> str | None:
    """The start time of ``pid`` in clock ticks (tells a pid from a later reuse); None if gone."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    return stat.rsplit(")", 1)[1].split()[19]


def holder_is_dead(info: dict[str, Any]) -> bool:
    """True when the lease ``info`` was written by a process of this boot and pid namespace
    that no longer exists (or whose pid now belongs to a later process)."""
    scope, pid, start = info.get("scope"), info.get("pid"), info.get("pid_start")
    if not scope or scope != host_scope() or not isinstance(pid, int) or pid <= 0:
        return False
    now = process_start(pid)
    return now is None or (start is not None and now != start)


def _read(path: Path) -> dict[str, Any] | None:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return None
    except (OSError, ValueError):
        return {}  # damaged (or unreadable just now): judged by its age below
    return data if isinstance(data, dict) else {}


@contextmanager
def file_lock(path: Path) -> Iterator[None]:
    """An exclusive ``flock`` on ``path`` (created if absent) for a short read-merge-write of a
    small file (a meeting's stage records, ``crm.json``, a lease): one holder at a time, across
    threads and processes on this machine (and across hosts on a file system with working
    locks: local, NFSv4); released when the block ends or the process dies."""
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
        self.owner = owner or new_token()
        self.wait_s = wait_s
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._expires_at = 0.0  # of this holder's last write of the lease (its own clock)
        self._lost: str | None = None

    # -- the file, under the compare-and-set lock ----------------------------------------------
    @contextmanager
    def _locked(self) -> Iterator[None]:
        with file_lock(self.path.with_name(self.path.name + ".lock")):
            yield

    def _write(self) -> None:
        expires = time.time() + self.lease_s
        pid = os.getpid()
        payload = {
            "owner": self.owner, "holder": f"{socket.gethostname()}:{pid}", "scope": host_scope(), "pid": pid,
            "pid_start": process_start(pid), "expires_at": expires, "lease_s": self.lease_s,
        }  # fmt: skip
        write_text_atomic(self.path, json.dumps(payload), fenced=False)
        self._expires_at = expires

    def try_acquire(self) -> bool:
        """Take the lease if it is free, ours or stale; True when this holder has it now."""
        with self._locked():
            info = _read(self.path)
            if info is not None and info.get("owner") != self.owner and not self._is_stale(info):
                return False
            self._write()  # replaces a stale lease in one step: a faster contender waits for the lock
        self._lost = None
        return True

    def _is_stale(self, info: dict[str, Any]) -> bool:
        if not info:  # unreadable: stale once older than a lease, by the file system's clock
            try:
                age = time.time() - self.path.stat().st_mtime
            except FileNotFoundError:
                return True
            return age > self.lease_s
        if holder_is_dead(info):
            return True
        try:
            return float(info.get("expires_at", 0)) < time.time()
        except (TypeError, ValueError):
            return True

    # -- holding -------------------------------------------------------------------------
    def renew(self) -> bool:
        """Push the expiry one lease ahead; False (and the lease counts as lost) when the file
        names another holder now."""
        with self._locked():
            info = _read(self.path)
            if not info or info.get("owner") != self.owner:
                self._mark_lost(info)
                return False
            self._write()
        return True

    def _mark_lost(self, info: dict[str, Any] | None) -> None:
        if self._lost is None:
            holder = (info or {}).get("holder") or (info or {}).get("owner")
            self._lost = f"taken over by {holder}" if holder else "removed"
            log.warning("lease %s lost (%s): this run stops before its next write", self.path, self._lost)

    @property
    def lost(self) -> bool:
        """Whether this holder found that its lease is gone (it stops writing)."""
        return self._lost is not None

    def ensure_held(self) -> None:
        """Raise :class:`LeaseLostError` unless this holder still holds the lease: the file names
        it, and its expiry has not passed (an expired lease still ours is renewed first)."""
        if self._lost is None:
            info = _read(self.path)
            if info is None or (info and info.get("owner") != self.owner):
                self._mark_lost(info)
            elif time.time() >= self._expires_at:
                try:
                    self.renew()
                except OSError as exc:
                    self._lost = f"expired and could not be renewed ({exc})"
        if self._lost is not None:
            folder = self.path.parent
            raise LeaseLostError(
                f"This run stopped: another run took over the meeting folder {folder.name} (this run's lease "
                f"was {self._lost}; it could not renew it in time, e.g. the machine was suspended or the "
                f"share at {folder.parent} was unreachable). Nothing more was written by this run; the other "
                "run finishes the meeting."
            )

    def release(self) -> None:
        """Give the lease up (only ours: a lease another holder took over is left alone)."""
        self._stop.set()
        if self._thread is not None and self._thread is not threading.current_thread():
            self._thread.join(timeout=5)
        try:
            with self._locked():
                info = _read(self.path)
                if info and info.get("owner") == self.owner:
                    self.path.unlink(missing_ok=True)
        except OSError as exc:  # the folder is gone or unreachable: the lease expires on its own
            log.warning("could not release lease %s: %s", self.path, exc)

    def acquire(self) -> None:
        """Wait for the lease (``wait_s``; None: as long as it takes) and start renewing it."""
        deadline = None if self.wait_s is None else time.monotonic() + self.wait_s
        delay = 0.05
        while not self.try_acquire():
            if deadline is not None and time.monotonic() > deadline:
                info = _read(self.path) or {}
                holder = info.get("holder") or info.get("owner") or "unknown"
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
                    return  # lost: recorded, and ensure_held says so before the next write
            except OSError as exc:  # a hiccup of the file system: try again; past expiry, lost
                log.warning("could not renew lease %s: %s", self.path, exc)

    def __enter__(self) -> FileLease:
        self.acquire()
        return self

    def __exit__(self, *exc: object) -> None:
        self.release()
