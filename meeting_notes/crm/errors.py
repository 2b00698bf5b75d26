"""Typed errors of the CRM delivery; every message is meant for the user as is."""

from __future__ import annotations

from meeting_notes.errors import MeetingNotesError


class CRMError(MeetingNotesError):
    """Base class of the CRM delivery errors."""


class CRMInputError(CRMError):
    """The meeting cannot be sent as it is (missing ids, invalid notes, no approval): nothing was sent."""


class CRMAuthError(CRMError):
    """No usable credentials, or the CRM refused them (401/403)."""


class CRMRejectedError(CRMError):
    """The CRM answered with a 4xx: the request is wrong and resending it will not help.

    ``field`` names the rejected field when the CRM said which.
    """

    def __init__(self, message: str, status: int | None = None, field: str | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.field = field


class CRMUnavailableError(CRMError):
    """429, 5xx, a timeout or a connection error outlasted the retries: push again later."""


class CRMTakenOverError(CRMUnavailableError):
    """The push was silent past the stale bound and ``crm retry`` took its ledger row over: it
    stops before its next request and writes nothing (the new holder does)."""
