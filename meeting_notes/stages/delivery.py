"""The ``deliver`` stage: CRM delivery after the notes (:mod:`meeting_notes.crm`)."""

from __future__ import annotations

import logging
import time

from meeting_notes.context import MeetingContext
from meeting_notes.crm.service import deliver
from meeting_notes.runner import StageReport, Waveform, stage_record
from meeting_notes.schema import StageRecord

log = logging.getLogger(__name__)

UPSTREAM = ("notes",)


def deliver_stage(ctx: MeetingContext, report: StageReport, waveform: Waveform | None = None) -> StageRecord:
    """The sidecar's CRM ids go to ``crm.json``; with ``crm.auto_push`` the notes are pushed
    (else they wait for ``meeting-notes crm push``). Never fails the meeting: a failed push is
    recorded for ``crm retry``."""
    if not ctx.workspace.notes_json.is_file():
        return StageRecord(status="skipped")
    t0 = time.perf_counter()
    try:
        outcome = deliver(ctx.workspace.root, dict(ctx.options.facts.crm_ids), ctx.settings.crm)
    except Exception as exc:  # deliver() records its own failures; anything else is reported, never raised
        log.warning("CRM delivery of %s failed: %s", ctx.workspace.root.name, type(exc).__name__)
        outcome = {"delivery": {"status": "failed", "error": f"unexpected {type(exc).__name__}"}}
    if outcome:
        report.extra["crm"] = outcome
    else:
        report.extra["crm"] = {"status": "awaiting review" if not ctx.settings.crm.auto_push else "no targets"}
    return stage_record(t0, ctx.audio.duration)


__all__ = ["UPSTREAM", "deliver_stage"]
