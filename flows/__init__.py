"""Prefect flows over the pipeline stages: ``process-meeting``, ``inbox-sweep``, ``nightly-batch``.

The flows are thin: the stage logic is in :mod:`meeting_notes.pipeline`, the inbox logic in
:mod:`meeting_notes.inbox`. Deployments are declared in ``prefect.yaml``.
"""

from flows.intake import inbox_sweep, nightly_batch, watch
from flows.meeting import process_meeting

__all__ = ["inbox_sweep", "nightly_batch", "process_meeting", "watch"]
