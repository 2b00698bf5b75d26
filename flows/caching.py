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

import json
import os
import socket
from pathlib import Path
from typing import Any

from prefect.cache_policies import CachePolicy
from prefect.context import TaskRunContext
from prefect.locking.filesystem import FileSystemLockManager
from prefect.settings import PREFECT_HOME

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


class StaleSafeLockManager(FileSystemLockManager):
    """Prefect's file lock manager, plus: a lock whose holder process died on this host is free.

    Without this, a worker killed mid-stage (e.g. out of GPU memory) leaves a lock file with no
    expiry and every later run of that meeting waits forever.
    """

    def is_locked(self, key: str, use_cache: bool = False) -> bool:
        try:
            info = self._get_lock_info(key, use_cache=use_cache)
        except ValueError:  # created, holder not written yet
            return True
        if info is None:
            return False
        if _holder_is_dead(info["holder"]):
            Path(info["path"]).unlink(missing_ok=True)
            self._locks.pop(key, None)
            return False
        return super().is_locked(key, use_cache=True)


def _holder_is_dead(holder: str) -> bool:
    host, _, rest = holder.partition(":")
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


def lock_dir(settings: Settings) -> Path:
    """Where task lock files live (must be shared by all workers of one deployment)."""
    configured = settings.orchestration.lock_dir
    return Path(configured) if configured else Path(PREFECT_HOME.value()) / "meeting-notes-locks"


def stage_cache_policy(settings: Settings) -> StageCachePolicy:
    """The policy for stage tasks: SERIALIZABLE, file-locked."""
    return StageCachePolicy(
        settings,
        isolation_level="SERIALIZABLE",
        lock_manager=StaleSafeLockManager(lock_dir(settings)),
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
    path = ws.root / TRUST_FILE
    tmp = path.with_name(f"{path.name}.{os.getpid()}.tmp")
    tmp.write_text(json.dumps(trust, indent=2, sort_keys=True), encoding="utf-8")
    tmp.replace(path)


def _read_trust(ws: MeetingWorkspace) -> dict[str, Any]:
    try:
        return json.loads((ws.root / TRUST_FILE).read_text(encoding="utf-8"))
    except (FileNotFoundError, json.JSONDecodeError):
        return {}
