"""Prefect flows over the pipeline stages: ``process-meeting``, ``inbox-sweep``, ``nightly-batch``.

The flows are thin: the stages are in :mod:`meeting_notes.stages`, the loop in
:mod:`meeting_notes.runner`, the inbox logic in :mod:`meeting_notes.inbox`. Deployments are declared in ``prefect.yaml``.
"""

from flows.intake import inbox_sweep, nightly_batch, watch
from flows.meeting import process_meeting

__all__ = ["inbox_sweep", "nightly_batch", "process_meeting", "watch"]
