"""CRM-ready sales notes from a speaker-attributed transcript, through any OpenAI-compatible LLM.

Modules: ``schema`` (notes models), ``prompts`` (versioned prompt files), ``chunking`` (token
estimates, map-reduce chunks), ``redact`` (emails, phones, card numbers), ``llm_client``
(retries, structured output, repair, cache), ``local_server`` (the embedded llama.cpp server),
``evidence`` (quote check), ``render`` (notes.md), ``generate`` (the whole step).
"""

from meeting_notes.notes.generate import NotesResult, describe_endpoint, generate_notes, make_client, open_endpoint
from meeting_notes.notes.llm_client import Endpoint, LLMClient, LLMError
from meeting_notes.notes.render import render_markdown
from meeting_notes.notes.schema import Extraction, SalesNotes

__all__ = [
    "Endpoint",
    "Extraction",
    "LLMClient",
    "LLMError",
    "NotesResult",
    "SalesNotes",
    "describe_endpoint",
    "generate_notes",
    "make_client",
    "open_endpoint",
    "render_markdown",
]
