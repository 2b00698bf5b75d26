"""Speaker introductions read by the notes LLM, for the speakers the rules left unnamed.

The names stage (:mod:`meeting_notes.stages.names`) asks only when the endpoint may read the
transcript; every proposal must pass :func:`meeting_notes.introductions.check_llm_introductions`
(the quote is that speaker's, verbatim, and holds the name).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from pydantic import BaseModel, Field

from meeting_notes.introductions import Introduction, check_llm_introductions
from meeting_notes.schema import Transcript

LLM_PROMPT_VERSION = "speaker-intros-v1"
LLM_SYSTEM = (
    "You read the first lines of each speaker of a meeting transcript. A speaker introduces "
    "themself when they say their own name (\"This is Diane\", \"I'm Tom from Acme\", "
    "「丸山の佐藤です」, 「佐藤と申します」). For each speaker who does, return the speaker label, the name as "
    "said, the segment id and a verbatim quote from that segment containing the name. A name said "
    "about someone else is not an introduction. Never guess: no quote, no entry. Return JSON only."
)


class Intro(BaseModel):
    speaker: str
    name: str = Field(max_length=80)
    segment_id: int
    quote: str = Field(max_length=200)


class Intros(BaseModel):
    introductions: list[Intro] = Field(default_factory=list)


INTROS_SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {
        "introductions": {
            "type": "array",
            "maxItems": 12,
            "items": {
                "type": "object",
                "properties": {
                    "speaker": {"type": "string"},
                    "name": {"type": "string", "maxLength": 80},
                    "segment_id": {"type": "integer"},
                    "quote": {"type": "string", "maxLength": 200},
                },
                "required": ["speaker", "name", "segment_id", "quote"],
            },
        }
    },
    "required": ["introductions"],
}


def llm_introductions(
    transcript: Transcript, client: Any, speakers: Iterable[str], first_segments: int = 8
) -> dict[str, Introduction]:
    """Ask the notes LLM (an :class:`~meeting_notes.notes.llm_client.LLMClient`) who of
    ``speakers`` introduces themself in their first segments; only proposals that pass
    :func:`check_llm_introductions` are kept."""
    wanted = set(speakers)
    seen: dict[str, int] = {}
    lines = []
    for seg in transcript.segments:
        if seg.speaker in wanted and seen.get(seg.speaker, 0) < first_segments:
            seen[seg.speaker] = seen.get(seg.speaker, 0) + 1
            lines.append(f"[{seg.id}] {seg.speaker}: {seg.text.strip()}")
    if not lines:
        return {}
    messages = [
        {"role": "system", "content": LLM_SYSTEM},
        {"role": "user", "content": "\n".join(lines)},
    ]
    result = client.complete(messages, Intros, INTROS_SCHEMA, "speaker_introductions", LLM_PROMPT_VERSION, max_tokens=600)
    return check_llm_introductions(transcript, result.value.introductions, wanted)


__all__ = ["LLM_PROMPT_VERSION", "LLM_SYSTEM", "llm_introductions"]
