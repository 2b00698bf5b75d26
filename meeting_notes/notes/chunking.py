"""Transcript lines for the prompt, token estimates, and chunks for long meetings.

Each line keeps its segment id (``[12] SPEAKER_01: ...``) so that evidence survives the
map-reduce over chunks: ids are global, not per chunk.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from meeting_notes.schema import Transcript

# Hiragana, Katakana, CJK ideographs and their extensions, half/full-width forms.
_CJK = re.compile(r"[\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\uff00-\uffef\u3000-\u303f]")


@dataclass(frozen=True)
class TokenEstimator:
    """Approximate token counts without the model's tokenizer.

    Japanese has no spaces and counts per character; other text per word. The factors are
    settings (measured with Qwen2.5: about 1.6 tokens per English transcript word and 0.71 per
    Japanese character); the eval command prints estimate vs. the server's count.
    """

    per_word: float = 1.6
    per_cjk_char: float = 0.8

    per_json_char: float = 0.3

    def count(self, text: str) -> int:
        cjk = len(_CJK.findall(text))
        rest = _CJK.sub(" ", text)
        words = len(rest.split())
        # JSON punctuation (examples, schema skeleton) tokenizes densely.
        json_chars = sum(rest.count(c) for c in '{}[]":_')
        return int(round(cjk * self.per_cjk_char + words * self.per_word + json_chars * self.per_json_char)) + 1


@dataclass(frozen=True)
class Line:
    segment_id: int
    text: str  # the formatted line, as sent
    tokens: int


def transcript_lines(
    transcript: Transcript, texts: dict[int, str], estimator: TokenEstimator
) -> list[Line]:
    """One prompt line per segment: ``[id] SPEAKER: text`` (text possibly redacted)."""
    lines = []
    for seg in transcript.segments:
        text = " ".join(texts[seg.id].split())
        if not text:
            continue
        line = f"[{seg.id}] {seg.speaker or 'UNKNOWN'}: {text}"
        lines.append(Line(seg.id, line, estimator.count(line)))
    return lines


def chunk_lines(lines: list[Line], budget: int, overlap: int = 2) -> list[list[Line]]:
    """Split lines into chunks of at most ``budget`` tokens, repeating ``overlap`` lines of
    context at the start of each chunk. One line longer than the budget is a chunk alone."""
    if budget <= 0:
        raise ValueError("The token budget for the transcript is not positive: raise context_tokens.")
    chunks: list[list[Line]] = []
    current: list[Line] = []
    used = 0
    for line in lines:
        if current and used + line.tokens > budget:
            chunks.append(current)
            current = [ln for ln in current[-overlap:] if ln.tokens < budget // 4] if overlap else []
            used = sum(ln.tokens for ln in current)
        current.append(line)
        used += line.tokens
    if current:
        chunks.append(current)
    return chunks
