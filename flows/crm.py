"""CRM delivery in Prefect: the ``deliver`` task (after ``notes`` in process-meeting) and the
``crm-retry`` flow that re-sends failed deliveries on a schedule.

Neither takes or returns credentials: tokens are read from the worker's environment or files
inside :mod:`meeting_notes.crm.credentials`, so they never become Prefect parameters, results,
logs or artifacts.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from prefect import flow, get_run_logger, task
from prefect.artifacts import create_table_artifact

from meeting_notes.crm.ledger import Ledger, default_url
from meeting_notes.crm.service import deliver as deliver_meeting
from meeting_notes.crm.service import retry_failed
from meeting_notes.settings import get_settings


def _logger() -> Any:
    """The run's logger, or the module's outside a flow/task run (tests call ``deliver.fn``)."""
    try:
        return get_run_logger()
    except Exception:
        return logging.getLogger(__name__)


def _artifact(rows: list[dict[str, Any]], key: str, description: str) -> None:
    """A table artifact of delivery outcomes (target, status, ids, error: no credentials)."""
    from prefect.context import FlowRunContext, TaskRunContext

    if FlowRunContext.get() is None and TaskRunContext.get() is None:
        return  # called as a plain function (tests, scripts): no run to attach it to
    try:
        create_table_artifact(table=rows, key=key, description=description)
    except Exception as exc:  # outside a run (tests calling .fn) there is nowhere to publish
        _logger().debug("no artifact: %s", exc)


def _key(meeting_id: str) -> str:
    import re

    return ("crm-" + re.sub(r"[^a-z0-9-]+", "-", meeting_id.lower())).strip("-")[:100]


@task(name="deliver")
def deliver(meeting_dir: str, crm_ids: dict[str, str] | None = None) -> dict[str, dict[str, Any]]:
    """:func:`meeting_notes.crm.service.deliver` as a task, with a table artifact of the outcomes.

    ``process-meeting`` runs the same function as its ``deliver`` stage (the stage registry in
    :mod:`meeting_notes.stages`); this task is for flows that deliver a meeting on its own.
    """
    folder = Path(meeting_dir)
    out = deliver_meeting(folder, crm_ids, get_settings().crm)
    if out:
        rows = [
            {"target": t, "status": r["status"], "records": len(r.get("record_ids") or {}), "error": r.get("error") or ""}
            for t, r in out.items()
        ]
        _artifact(rows, _key(folder.name), f"CRM delivery of {folder.name}")
    return out


@flow(name="crm-retry")
def crm_retry(target: str | None = None, out_dir: str | None = None) -> list[dict[str, Any]]:
    """Re-send the failed (or abandoned) deliveries of the ledger, up to crm.retry_max_attempts each."""
    logger = _logger()
    settings = get_settings()
    url = settings.crm.ledger_url or default_url(Path(out_dir or settings.orchestration.out_dir))
    ledger = Ledger(url)
    try:
        results = [r.model_dump(mode="json") for r in retry_failed(settings.crm, ledger, target)]
    finally:
        ledger.close()
    for r in results:
        logger.info("CRM retry %s -> %s: %s %s", r["meeting_id"], r["target"], r["status"], r.get("error") or "")
    if results:
        _artifact([{k: r[k] for k in ("meeting_id", "target", "status", "attempts")} | {"error": r.get("error") or ""} for r in results],
                  "crm-retry", "CRM deliveries re-sent")
    return results
