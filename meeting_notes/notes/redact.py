"""Redaction of contact and payment details before a transcript leaves the machine."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

EMAIL = re.compile(r"[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)+")
# 13-19 digits, optionally grouped by spaces or dashes (card-like numbers).
CARD = re.compile(r"(?<![\d])(?:\d[ -]?){12,18}\d(?![\d])")
# Phone numbers: an optional +country code, then 9-13 digits in groups separated by
# spaces, dashes, dots or parentheses. At least one separator or a leading + or 0 is
# required so that plain amounts ("1200000") are left alone. Boundaries are ASCII-only so
# that a number written between Japanese characters is still found.
PHONE = re.compile(
    r"(?<![0-9A-Za-z+])(?:\+\d{1,3}[ .-]?)?(?:\(\d{1,5}\)[ .-]?)?\d{1,5}(?:[ .-]\d{1,5}){1,4}(?![0-9A-Za-z])"
    r"|(?<![0-9A-Za-z+])(?:\+|0)\d{9,13}(?![0-9A-Za-z])"
)
FULLWIDTH_DIGITS = str.maketrans("０１２３４５６７８９－＋（）", "0123456789-+()")


@dataclass
class RedactionReport:
    """How many of each kind were replaced."""

    counts: dict[str, int] = field(default_factory=lambda: {"email": 0, "phone": 0, "card": 0})

    @property
    def total(self) -> int:
        return sum(self.counts.values())


def _digits(s: str) -> int:
    return sum(c.isdigit() for c in s)


def redact_text(text: str, report: RedactionReport | None = None) -> str:
    """Replace emails, card-like numbers and phone numbers with placeholders."""
    report = report if report is not None else RedactionReport()
    text = text.translate(FULLWIDTH_DIGITS) if any(c in text for c in "０１２３４５６７８９") else text

    def sub(kind: str, placeholder: str, pattern: re.Pattern[str], min_digits: int = 0) -> None:
        nonlocal text

        def repl(m: re.Match[str]) -> str:
            if _digits(m.group(0)) < min_digits:
                return m.group(0)
            report.counts[kind] += 1
            return placeholder

        text = pattern.sub(repl, text)

    sub("email", "[EMAIL]", EMAIL)
    sub("card", "[CARD]", CARD, 13)
    sub("phone", "[PHONE]", PHONE, 10)
    return text
