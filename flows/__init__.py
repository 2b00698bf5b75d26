"""Prefect flows over the pipeline stages: ``process-meeting``, ``inbox-sweep``, ``nightly-batch``
(and ``retention``, which forgets meetings older than ``orchestration.retention_days``).

The flows are thin: the stages are in :mod:`meeting_notes.stages`, the loop in
:mod:`meeting_notes.runner`, the inbox logic in :mod:`meeting_notes.inbox`. Deployments are declared in ``prefect.yaml``.
"""

from flows.intake import inbox_sweep, nightly_batch, watch
from flows.meeting import process_meeting
from flows.retention import retention

__all__ = ["inbox_sweep", "nightly_batch", "process_meeting", "retention", "watch"]
