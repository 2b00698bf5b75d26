"""Deployment helpers: the GPU concurrency limit and ``meeting-notes serve`` (single machine)."""

from __future__ import annotations

from collections.abc import Coroutine
from datetime import timedelta
from pathlib import Path
from typing import Any

from prefect import serve
from prefect.client.orchestration import get_client
from prefect.client.schemas.actions import GlobalConcurrencyLimitCreate
from prefect.deployments.runner import RunnerDeployment
from prefect.exceptions import ObjectNotFound

from flows.intake import inbox_sweep, nightly_batch
from flows.meeting import process_meeting
from meeting_notes.settings import Settings


def ensure_gpu_limit(settings: Settings) -> str | None:
    """Create the model-inference concurrency limit when it is missing; returns what was done.

    ``concurrency(..., strict=True)`` in the stage tasks fails on a missing limit (instead of
    silently running unlimited), so every entry point that starts runs calls this first.
    """
    name = settings.orchestration.gpu_limit_name
    if not name:
        return None
    with get_client(sync_client=True) as client:
        try:
            client.read_global_concurrency_limit_by_name(name)
            return f"concurrency limit {name!r} exists"
        except ObjectNotFound:
            slots = settings.orchestration.gpu_limit_slots
            client.create_global_concurrency_limit(GlobalConcurrencyLimitCreate(name=name, limit=slots))
            return f"created concurrency limit {name!r} with {slots} slot(s)"


def _built(deployment: RunnerDeployment | Coroutine[Any, Any, RunnerDeployment]) -> RunnerDeployment:
    """``Flow.to_deployment``'s result: prefect's async_dispatch returns a coroutine only in an
    async context, and ``serve`` runs from the synchronous CLI."""
    assert isinstance(deployment, RunnerDeployment)
    return deployment


def serve_all(
    settings: Settings,
    inbox_root: Path,
    out_dir: Path,
    batch_dir: Path | None = None,
    limit: int = 1,
) -> None:
    """Serve process-meeting, the scheduled inbox sweep and (with ``batch_dir``) the nightly batch.

    Needs a running Prefect server (``PREFECT_API_URL``); blocks until interrupted.
    """
    ensure_gpu_limit(settings)
    orch = settings.orchestration
    common = {"out_dir": str(out_dir)}
    deployments = [
        process_meeting.to_deployment(name="process-meeting-local", concurrency_limit=limit),
        inbox_sweep.to_deployment(
            name="inbox-sweep-local",
            interval=timedelta(seconds=orch.sweep_interval_s),
            parameters={**common, "inbox_root": str(inbox_root)},
            concurrency_limit=1,
        ),
    ]
    if batch_dir is not None:
        deployments.append(
            nightly_batch.to_deployment(
                name="nightly-batch-local",
                cron=orch.nightly_cron,
                parameters={**common, "source_dir": str(batch_dir)},
                concurrency_limit=1,
            )
        )
    serve(*[_built(d) for d in deployments], limit=limit)
