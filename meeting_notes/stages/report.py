"""The ``report`` stage: the rep's page (``report.html``), rebuilt on every run from what the
folder holds. First ``notes.md`` is re-rendered with the speaker map's names (the notes stage
stays cached); the CRM previews are built here and handed to the pure renderer
(:func:`meeting_notes.report.write_report`)."""

from __future__ import annotations

import time

from meeting_notes.context import MeetingContext
from meeting_notes.crm.preview import preview_texts
from meeting_notes.report import write_report
from meeting_notes.runner import StageReport, Waveform, stage_record
from meeting_notes.schema import StageRecord
from meeting_notes.stages.names import name_notes_md

UPSTREAM = ("names", "export", "analytics", "notes", "deliver")


def report_stage(ctx: MeetingContext, report: StageReport, waveform: Waveform | None = None) -> StageRecord:
    """Write ``report.html`` (always: it shows the folder as it is now)."""
    t0 = time.perf_counter()
    ws = ctx.workspace
    name_notes_md(ws)
    write_report(ws.root, preview_texts(ws.root, ctx.settings.crm))
    return stage_record(t0, ctx.audio.duration)


__all__ = ["UPSTREAM", "report_stage"]
