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


def split_line(line: Line, budget: int, estimator: TokenEstimator | None = None) -> list[Line]:
    """A line longer than ``budget`` tokens cut into pieces that fit, each with the line's
    ``[id] SPEAKER:`` prefix (words in English, characters in Japanese)."""
    if line.tokens <= budget:
        return [line]
    est = estimator or TokenEstimator()
    prefix, _, body = line.text.partition(": ")
    prefix += ": "
    units = body.split(" ") if " " in body.strip() else list(body)
    joiner = " " if " " in body.strip() else ""
    pieces: list[Line] = []
    current: list[str] = []
    for unit in units:
        trial = prefix + joiner.join(current + [unit])
        if current and est.count(trial) > budget:
            text = prefix + joiner.join(current)
            pieces.append(Line(line.segment_id, text, est.count(text)))
            current = []
        current.append(unit)
    if current:
        text = prefix + joiner.join(current)
        pieces.append(Line(line.segment_id, text, est.count(text)))
    return pieces


def chunk_lines(
    lines: list[Line], budget: int, overlap: int = 2, estimator: TokenEstimator | None = None
) -> list[list[Line]]:
    """Split lines into chunks of at most ``budget`` tokens, repeating up to ``overlap`` lines
    of context at the start of each chunk (only as many as fit). A line longer than the budget
    is cut into pieces (:func:`split_line`): no chunk exceeds the budget."""
    if budget <= 0:
        raise ValueError("The token budget for the transcript is not positive: raise context_tokens.")
    pieces = [p for line in lines for p in split_line(line, budget, estimator)]
    chunks: list[list[Line]] = []
    current: list[Line] = []
    used = 0
    for line in pieces:
        if current and used + line.tokens > budget:
            chunks.append(current)
            context = [ln for ln in current[-overlap:] if ln.tokens < budget // 4] if overlap else []
            while context and sum(ln.tokens for ln in context) + line.tokens > budget:
                context = context[1:]
            current = context
            used = sum(ln.tokens for ln in current)
        current.append(line)
        used += line.tokens
    if current:
        chunks.append(current)
    return chunks
