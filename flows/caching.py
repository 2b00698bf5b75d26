"""Prefect-side caching and locking of the stage tasks.

Each stage task's cache key is built from the audio's sha256, the run options, the settings
and the code version (:func:`meeting_notes.workspace.stage_cache_key`), plus the meeting
folder. The task's result (a small :class:`StageRecord`) is persisted under that key, and the
transaction is SERIALIZABLE with a file lock, so two runs on the same meeting run a stage once.

The meeting folder stays the source of truth: a persisted Prefect record is only reused while
the folder still holds what that record describes (see :func:`cache_is_trusted`); otherwise
the task runs again (under the same lock) and the stage function decides from the folder.
"""

from __future__ import annotations

import datetime as dt
import json
import threading
from pathlib import Path
from typing import Any

from prefect.cache_policies import CachePolicy
from prefect.context import TaskRunContext
from prefect.locking.filesystem import FileSystemLockManager
from prefect.settings import PREFECT_HOME

from meeting_notes.atomic import write_text_atomic
from meeting_notes.leases import holder_is_dead
from meeting_notes.settings import Settings
from meeting_notes.workspace import MeetingWorkspace, stage_cache_key

TRUST_FILE = ".prefect-cache.json"


def task_cache_key(stage: str, ref: Any, settings: Settings) -> str:
    """The Prefect cache key of ``stage`` for the meeting ``ref`` (a ``MeetingRef``)."""
    params = {
        "workspace": ref.workspace,
        "options": ref.options,
        "settings": settings.model_dump(mode="json", exclude={"orchestration"}),
    }
    return f"{stage}-{stage_cache_key(stage, ref.audio.sha256, params)}"


class StageCachePolicy(CachePolicy):
    """Cache key from the task's ``stage`` and ``ref`` inputs (see :func:`task_cache_key`)."""

    def __init__(self, settings: Settings, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.settings = settings

    def compute_key(
        self,
        task_ctx: TaskRunContext,
        inputs: dict[str, Any],
        flow_parameters: dict[str, Any],
        **kwargs: Any,
    ) -> str | None:
        return task_cache_key(inputs["stage"], inputs["ref"], self.settings)


class LeasedLockManager(FileSystemLockManager):
    """Prefect's file lock manager with leases: every lock expires unless its holder renews it.

    Prefect's own file locks never expire, so one worker killed mid-stage (out of GPU memory,
    a lost container or host) would block that meeting for ever. Here each lock is taken with
    an expiry ``lease_s`` ahead (an absolute UTC time inside the lock file, read the same way on
    every host), a thread renews it every third of that while the holder lives, and a lock
    whose holder process is gone on this host is free at once.
    """

    def __init__(self, lock_files_directory: Path, lease_s: float) -> None:
        super().__init__(lock_files_directory)
        self.lease_s = lease_s
        self._renewers: dict[str, threading.Event] = {}

    def acquire_lock(self, key: str, holder: str, acquire_timeout: float | None = None, hold_timeout: float | None = None) -> bool:
        acquired = super().acquire_lock(key, holder, acquire_timeout, hold_timeout or self.lease_s)
        if acquired:
            self._start_renewing(key, holder, hold_timeout or self.lease_s)
        return acquired

    async def aacquire_lock(self, key: str, holder: str, acquire_timeout: float | None = None, hold_timeout: float | None = None) -> bool:
        acquired = await super().aacquire_lock(key, holder, acquire_timeout, hold_timeout or self.lease_s)
        if acquired:
            self._start_renewing(key, holder, hold_timeout or self.lease_s)
        return acquired

    def release_lock(self, key: str, holder: str) -> None:
        stop = self._renewers.pop(key, None)
        if stop is not None:
            stop.set()
        super().release_lock(key, holder)

    def is_locked(self, key: str, use_cache: bool = False) -> bool:
        try:
            info = self._get_lock_info(key, use_cache=use_cache)
        except ValueError:  # created, holder not written yet
            return True
        if info is None:
            return False
        if holder_is_dead(str(info.get("holder", ""))):
            Path(info["path"]).unlink(missing_ok=True)
            self._locks.pop(key, None)
            return False
        return super().is_locked(key, use_cache=True)

    def _start_renewing(self, key: str, holder: str, lease_s: float) -> None:
        stop = threading.Event()
        previous = self._renewers.pop(key, None)
        if previous is not None:
            previous.set()
        self._renewers[key] = stop
        path = self._lock_path_for_key(key)

        def renew() -> None:
            while not stop.wait(lease_s / 3):
                try:
                    current = json.loads(Path(path).read_text(encoding="utf-8"))
                except (OSError, ValueError):
                    return
                if current.get("holder") != holder:
                    return  # released, or broken after expiry and taken by another holder
                expiration = dt.datetime.now(dt.timezone.utc) + dt.timedelta(seconds=lease_s)
                write_text_atomic(path, json.dumps({"holder": holder, "expiration": expiration.isoformat()}))
                cached = self._locks.get(key)
                if cached is not None:
                    cached["expiration"] = expiration

        threading.Thread(target=renew, name=f"prefect-lock:{key[:24]}", daemon=True).start()


def lock_dir(settings: Settings) -> Path:
    """Where task lock files live (must be shared by all workers of one deployment)."""
    configured = settings.orchestration.lock_dir
    return Path(configured) if configured else Path(PREFECT_HOME.value()) / "meeting-notes-locks"


def stage_cache_policy(settings: Settings) -> StageCachePolicy:
    """The policy for stage tasks: SERIALIZABLE, file-locked."""
    return StageCachePolicy(
        settings,
        isolation_level="SERIALIZABLE",
        lock_manager=LeasedLockManager(lock_dir(settings), settings.orchestration.lock_lease_s),
    )


def cache_is_trusted(ws: MeetingWorkspace, stage: str, key: str) -> bool:
    """True when a persisted record under ``key`` still describes what ``ws`` holds for ``stage``.

    That is: the last flow run that finished ``stage`` in this folder used ``key``, and the
    folder's own stage record did not change since (no other run redid or removed it).
    """
    entry = _read_trust(ws).get(stage)
    current = ws.keys_of(stage)[stage]
    return bool(entry) and current is not None and entry == {"key": key, "workspace_key": current}


def remember_trusted(ws: MeetingWorkspace, stage: str, key: str) -> None:
    """Record that ``stage`` in ``ws`` was produced (or confirmed) under the Prefect ``key``."""
    trust = _read_trust(ws)
    trust[stage] = {"key": key, "workspace_key": ws.keys_of(stage)[stage]}
    write_text_atomic(ws.root / TRUST_FILE, json.dumps(trust, indent=2, sort_keys=True))


def _read_trust(ws: MeetingWorkspace) -> dict[str, Any]:
    try:
        return json.loads((ws.root / TRUST_FILE).read_text(encoding="utf-8"))
    except (FileNotFoundError, json.JSONDecodeError):
        return {}
