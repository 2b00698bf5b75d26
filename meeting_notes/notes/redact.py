"""Redaction of contact and payment details before a transcript leaves the machine.

What is replaced: e-mail addresses (``[EMAIL]``), card-like numbers of 13-19 digits
(``[CARD]``) and phone numbers (``[PHONE]``) in the shapes people say and ASR writes them:

* international: ``+81 3-1234-5678``, ``+1 (415) 555-0134``, ``+44 20 7946 0958``;
* Japanese domestic: area code, exchange and line joined by any dash (ASCII, Unicode dashes,
  the minus sign, the katakana long-vowel mark ``ー`` ASR often writes between digits, full-width
  ``－``) or brackets (``03(1234)5678``), and unbroken ``0`` + 9-10 digits (``09012345678``);
* North American: ``(415) 555-0134``, ``415-555-0134``, ``415.555.0134``.

A phone number has at least 10 digits. What is left alone: amounts (``1,200,000``,
``600万円``), dates and times (``2026.11.20 10.30``, ``2025-04-01``, ``2026/11/20``), version
numbers and counts. The sidecar's facts go through :func:`redact_facts` (participants'
e-mail addresses dropped, the texts redacted) before they are put into a prompt.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from meeting_notes.schema import MeetingFacts

EMAIL = re.compile(r"[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)+")
# 13-19 digits, optionally grouped by spaces or dashes (card-like numbers).
CARD = re.compile(r"(?<![\d])(?:\d[ -]?){12,18}\d(?![\d])")

#: every dash a phone number is written with (ASCII hyphen-minus, Unicode hyphens and dashes,
#: the minus sign, full-width hyphen-minus, small hyphen-minus, and the katakana prolonged sound
#: mark, which Japanese ASR and IMEs put between digits)
_DASH = "[-\u2010\u2011\u2012\u2013\u2014\u2015\u2212\uff0d\ufe63\u30fc\uff70]"
_SEP = rf"(?:\s?{_DASH}\s?|\s)"
_B = r"(?<![0-9A-Za-z+])"  # ASCII-only boundaries: digits between Japanese characters count
_E = r"(?![0-9A-Za-z])"
PHONE = re.compile(
    "|".join(
        [
            # +CC, optional (area), then 2-4 groups
            rf"{_B}\+\d{{1,3}}{_SEP}?(?:\(\d{{1,5}}\){_SEP}?)?\d{{1,5}}(?:{_SEP}\d{{1,5}}){{1,3}}{_E}",
            # Japanese domestic with separators: 0AA-EEEE-LLLL, 0AA(EEEE)LLLL
            rf"{_B}0\d{{1,4}}(?:{_SEP}|\()\d{{1,4}}(?:{_SEP}|\)\s?)\d{{3,4}}{_E}",
            # Japanese domestic unbroken
            rf"{_B}0\d{{9,10}}{_E}",
            # North American
            rf"{_B}(?:\(\d{{3}}\)\s?|\d{{3}}[ .\-])\d{{3}}[ .\-]\d{{4}}{_E}",
        ]
    )
)
#: dates and times that look like digit groups: never phone numbers
_DATE_LIKE = re.compile(
    r"^(?:19|20)\d{2}[./\-](?:0?[1-9]|1[0-2])[./\-](?:0?[1-9]|[12]\d|3[01])"
    r"(?:[ T]\d{1,2}[.:]\d{2})?$"
)
FULLWIDTH_DIGITS = str.maketrans("０１２３４５６７８９（）＋", "0123456789()+")


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
    if any(c in text for c in "０１２３４５６７８９"):
        text = text.translate(FULLWIDTH_DIGITS)

    def sub(kind: str, placeholder: str, pattern: re.Pattern[str], min_digits: int = 0) -> None:
        nonlocal text

        def repl(m: re.Match[str]) -> str:
            found = m.group(0)
            if _digits(found) < min_digits or _DATE_LIKE.match(found.strip()):
                return found
            report.counts[kind] += 1
            return placeholder

        text = pattern.sub(repl, text)

    sub("email", "[EMAIL]", EMAIL)
    sub("card", "[CARD]", CARD, 13)
    sub("phone", "[PHONE]", PHONE, 10)
    return text


def redact_facts(facts: MeetingFacts, report: RedactionReport | None = None) -> MeetingFacts:
    """The sidecar's facts as a prompt may carry them: the participants' e-mail addresses dropped
    (each counted as an e-mail), and the texts redacted: title, account, terms, participants'
    names, companies and roles. The meeting id and CRM ids never reach a prompt and are left as
    they are. ``facts`` itself is not changed."""
    report = report if report is not None else RedactionReport()

    def clean(text: str | None) -> str | None:
        return redact_text(text, report) if text else text

    people = []
    for p in facts.participants:
        if p.email:
            report.counts["email"] += 1
        people.append(p.model_copy(update={"name": clean(p.name), "company": clean(p.company), "role": clean(p.role), "email": None}))
    return facts.model_copy(
        update={
            "title": clean(facts.title),
            "account": clean(facts.account),
            "terms": [redact_text(t, report) for t in facts.terms],
            "participants": people,
        }
    )
