"""Now, one way: UTC, aware, to the second where it is written down (``run.json``, ``crm.json``,
the inbox's notes, the speaker store). Imports nothing from the project."""

from __future__ import annotations

import datetime as dt


def utc_now() -> dt.datetime:
    """The current time, timezone-aware, in UTC."""
    return dt.datetime.now(dt.UTC)


def now_iso() -> str:
    """The current UTC time as ISO 8601 to the second (``2026-12-07T19:46:19+00:00``)."""
    return utc_now().isoformat(timespec="seconds")


__all__ = ["now_iso", "utc_now"]
