"""Delivery of the sales notes to a CRM (Salesforce, HubSpot) or a signed webhook, reviewed first.

``mapping`` turns notes.json + transcript.json + the sidecar's CRM ids into a :class:`DeliveryPlan`
(every field with its evidence); ``review`` records approvals in the meeting's ``crm.json``;
``service`` pushes an approved plan through a target adapter with retries, recording each push
in the delivery ``ledger`` so that a re-run never creates a duplicate. See docs/crm.md.
"""

from meeting_notes.crm.errors import CRMError, CRMInputError, CRMRejectedError, CRMUnavailableError
from meeting_notes.crm.models import TARGETS, DeliveryPlan, FieldValue, RecordPlan

__all__ = [
    "TARGETS",
    "CRMError",
    "CRMInputError",
    "CRMRejectedError",
    "CRMUnavailableError",
    "DeliveryPlan",
    "FieldValue",
    "RecordPlan",
]
