"""Cutting text to a field's limit on a character boundary, visibly; URLs with their secret parts hidden."""

from __future__ import annotations

from urllib.parse import urlsplit

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


def url_secrets(url: str | None) -> tuple[str, ...]:
    """The parts of a URL that may be a credential (the path and the query: Slack, Zapier and
    most webhook URLs carry their secret there), to be masked wherever the URL could appear."""
    if not url:
        return ()
    parts = urlsplit(url)
    out = [p for p in (parts.path.strip("/"), parts.query) if p]
    return tuple(sorted(out, key=len, reverse=True))


def mask_url(url: str | None) -> str:
    """``scheme://host[:port]/***`` (the path and query hidden); '' for no URL."""
    if not url:
        return ""
    parts = urlsplit(url)
    hidden = "/***" if parts.path.strip("/") or parts.query else ""
    return f"{parts.scheme}://{parts.netloc}{hidden}"
