"""Sales-meeting recordings to speaker-attributed transcripts and CRM-ready notes."""

__version__ = "0.1.0"
