"""Cutting text to a field's limit on a character boundary, visibly."""

from __future__ import annotations

TRUNCATION_MARK = "…(truncated)"


def field_length(text: str) -> int:
    """Length as the CRMs count it: UTF-16 code units (a Japanese character is 1, an emoji 2)."""
    return len(text.encode("utf-16-le")) // 2


def fit(text: str, limit: int, link: str | None = None) -> tuple[str, bool]:
    """``text`` cut to at most ``limit`` characters, on a character boundary (never inside a
    Japanese character or a surrogate pair), ending in "…(truncated)" and, when given, the link
    to the full notes. Returns the text and whether it was cut.
    """
    if field_length(text) <= limit:
        return text, False
    tail = TRUNCATION_MARK + (f" {link}" if link else "")
    if field_length(tail) >= limit:
        tail = TRUNCATION_MARK[:limit]
    room = limit - field_length(tail)
    kept: list[str] = []
    used = 0
    for ch in text:
        size = 2 if ord(ch) > 0xFFFF else 1
        if used + size > room:
            break
        kept.append(ch)
        used += size
    return "".join(kept).rstrip() + tail, True
