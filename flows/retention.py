"""The ``retention`` flow: every night, forget the meetings older than ``orchestration.retention_days``.

Each expired meeting is forgotten as ``meeting-notes forget MEETING_DIR`` does it
(:class:`meeting_notes.forget.Forgetter`): its folder, the inbox's copy and records, its LLM cache
entries, its CRM ledger rows, its Prefect flow runs and artifacts, llama-server log lines quoting
it and voices learnt from it. The CRM's records stay (they are the CRM's own record of the
meeting; ``forget --crm`` removes them on request). A meeting that cannot be forgotten now (a run
holds it, Prefect cannot be reached) is reported and tried again the next night.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from prefect import flow, get_run_logger
from prefect.artifacts import create_table_artifact

from meeting_notes.forget import ForgetError, Forgetter, PrefectEraser, expired_meetings
from meeting_notes.settings import get_settings

#: the worker's own log: what was removed names the meeting, so it stays out of Prefect's logs
local_log = logging.getLogger(__name__)


@flow(name="retention")
def retention(out_dir: str | None = None, inbox_root: str | None = None) -> list[dict[str, Any]]:
    """Forget every meeting under ``out_dir`` processed more than ``retention_days`` ago (0: none)."""
    settings = get_settings()
    logger = get_run_logger()
    days = settings.orchestration.retention_days
    if days <= 0:
        logger.info("orchestration.retention_days is 0: meetings are kept")
        return []
    out = Path(out_dir or settings.orchestration.out_dir)
    forgetter = Forgetter(settings, inbox_root=Path(inbox_root) if inbox_root else None,
                          prefect=PrefectEraser(required=True), log=local_log.info)
    results: list[dict[str, Any]] = []
    for folder in expired_meetings(out, days):
        try:
            report = forgetter.meeting(folder)
        except ForgetError as exc:
            local_log.error("%s", exc)
            results.append({"status": "kept", "stores": 0, "error": "could not be forgotten now (see the worker's log)"})
            continue
        # the meeting's id is not repeated here: this table outlives the meeting
        forgetter.print(folder.name, report)
        results.append({"status": "forgotten", "stores": len(report.removed), "error": ""})
    logger.info("retention: %d forgotten, %d kept for the next night",
                sum(r["status"] == "forgotten" for r in results), sum(r["status"] == "kept" for r in results))
    create_table_artifact(
        table=results or [{"status": "nothing expired", "stores": 0, "error": ""}],
        key="retention",
        description=f"Meetings older than {days} days forgotten",
    )
    return results


__all__ = ["retention"]
