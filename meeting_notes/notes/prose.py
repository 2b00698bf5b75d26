"""Checks for the free text the notes send to a CRM: the title, the summary, the deal-stage
reason and every item's own words.

The evidence check (:mod:`meeting_notes.notes.evidence`) ties each item to a quote; this one
ties the *words* around it to what was said, so that nothing a meeting (or a fooled model)
says can steer a CRM field:

- a URL, e-mail address or phone number in any CRM-bound text must occur in the transcript,
  else the sentence (title, summary) or the item is dropped; one that does occur still puts
  the notes up for review (``verification.review``), and ``auto_push`` never sends those;
- an amount in the title or summary must be said; so must a capitalised name;
- a summary sentence none of whose words were said (support under :data:`MIN_SUPPORT`) is
  dropped; the title likewise (it is then left empty, and the CRM gets the default subject);
- a next step's action must be supported by its own quotes (:data:`MIN_ACTION_SUPPORT`).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from meeting_notes.notes.evidence import normalize
from meeting_notes.notes.money import find_amounts, find_numbers
from meeting_notes.notes.redact import EMAIL, PHONE
from meeting_notes.notes.schema import DroppedItem, Extraction, NextStep, item_text

#: Web addresses, with or without a scheme ("http://x.example/pay", "www.x.com", "x-pay.net/login").
URL = re.compile(
    r"(?:https?://|www\.)[^\s<>\"'()（）「」、。]+"
    r"|(?<![@\w.-])[a-z0-9][a-z0-9-]*(?:\.[a-z0-9-]+)*\.(?:com|net|org|io|co|jp|info|biz|xyz|app|dev|ly|me|ai|us|uk|ru|cn|top|site|online)"
    r"(?:/[^\s<>\"'()（）「」、。]*)?(?![\w-])",
    re.IGNORECASE,
)
#: Least share of a summary sentence's content words said in the meeting. Measured on the two
#: development sets (66 title and summary sentences of the embedded model's notes): the lowest
#: real sentence had 0.29 ("The seller presents the product with a demo of its capabilities
#: and pricing structure."); a fragment with none ("The seller is considering sending") had 0.
MIN_SUPPORT = 0.25
#: Least share of a next step's content words found in its own quotes: a step built from the
#: sentence as said has 1.0; an action the quotes do not hold ("visit http://..." quoting "I'll
#: send the invoice") has none.
MIN_ACTION_SUPPORT = 0.5
#: Words a summary uses about any meeting, not said in it.
_META = frozenset(
    """that this with from have will they their there about what when which would could should been were into also just more than
    them then some your ours over such only other these those being does while after before because seller sellers customer customers
    meeting call discussed discusses discuss discussion mentioned mentions mention company companies team product products client
    clients vendor expressed expresses concerns concern interest interested including regarding various overall""".split()
)
#: Why a text is dropped, in words that repeat none of it (the reasons go to a webhook; the
#: text stays in the local notes.json).
UNSAID_CONTACT = "contact details not said in the meeting"
_SENTENCE = re.compile(r"(?<=[.!?])\s+|(?<=[。！？])\s*")
#: A capitalised name inside a sentence (not its first word): "Evilcorp", "Crestview Health".
_NAME = re.compile(r"(?<=[a-z,;:] )[A-Z][A-Za-z0-9&'-]+(?: [A-Z][A-Za-z0-9&'-]+)*")


def contacts_in(text: str) -> list[str]:
    """The URLs, e-mail addresses and phone numbers in ``text``, as written."""
    emails = [m.group(0) for m in EMAIL.finditer(text)]
    rest = EMAIL.sub(" ", text)
    return emails + [m.group(0).rstrip(".") for m in URL.finditer(rest)] + [m.group(0) for m in PHONE.finditer(rest)]


def _tokens(text: str) -> list[str]:
    """Content words (Latin, four letters or more, not :data:`_META`) and the character pairs
    of kanji and katakana runs."""
    out = [w for w in re.findall(r"[a-z][a-z'-]{3,}", text.lower()) if w not in _META]
    for run in re.findall(r"[一-龥ァ-ヴー]{2,}", text):
        out += [run[i : i + 2] for i in range(len(run) - 1)]
    return out


def support(text: str, norm_source: str) -> float:
    """Share of ``text``'s content words found in ``norm_source`` (normalised); 1.0 without any."""
    tokens = _tokens(text)
    if not tokens:
        return 1.0
    return sum(1 for t in tokens if normalize(t) in norm_source) / len(tokens)


@dataclass
class _Said:
    """What the meeting said, for the checks: its normalised text and the numbers in it."""

    norm: str
    numbers: set[float]

    @classmethod
    def of(cls, segments: Mapping[int, str]) -> _Said:
        text = "\n".join(segments[k] for k in sorted(segments))
        return cls(normalize(text), {n.value for n in find_numbers(text)} | {a.amount for a in find_amounts(text, "")})

    def has(self, value: str) -> bool:
        key = normalize(value)
        return bool(key) and key in self.norm


def _name_said(name: str, said: _Said) -> bool:
    """A capitalised name is said whole, or word by word (a possessive and acronyms such as CRM
    or ERP, which a summary adds as a category, aside)."""
    name = re.sub(r"['’]s?$", "", name)
    if said.has(name):
        return True
    words = [w for w in re.sub(r"['’]s?\b", "", name).split() if len(w) >= 3 and not (w.isupper() and len(w) <= 5)]
    return all(said.has(w) for w in words)


def _sentence_problem(sentence: str, said: _Said, names: bool = True) -> str:
    """Why a sentence of the title or summary is not supported by the meeting, or "" (the title
    is written in title case, so its capitals are not names)."""
    unsaid = [c for c in contacts_in(sentence) if not said.has(c)]
    if unsaid:
        return UNSAID_CONTACT
    amounts = [a.said for a in find_amounts(sentence, "") if a.amount not in said.numbers]
    if amounts:
        return "an amount not said in the meeting"
    unsaid_names = [n for n in _NAME.findall(sentence) if not _name_said(n, said)] if names else []
    if unsaid_names:
        return "a name not said in the meeting"
    if support(sentence, said.norm) < MIN_SUPPORT:
        return "no words of it were said in the meeting"
    return ""


@dataclass
class ProseResult:
    """The checked extraction, what was dropped, and what needs a person's review."""

    extraction: Extraction
    dropped: list[DroppedItem] = field(default_factory=list)
    review: list[str] = field(default_factory=list)


def _sentences(text: str) -> list[str]:
    return [s for s in _SENTENCE.split(text) if s.strip()]


def _kept_sentences(text: str, said: _Said, names: bool = True) -> tuple[str, list[tuple[str, str]]]:
    """``text`` without its unsupported sentences (as written when none is dropped; otherwise the
    kept ones joined as Japanese or English sentences are), and the (sentence, problem) pairs dropped."""
    kept: list[str] = []
    dropped: list[tuple[str, str]] = []
    for sentence in _sentences(text):
        problem = _sentence_problem(sentence, said, names)
        if problem:
            dropped.append((sentence, problem))
        else:
            kept.append(sentence)
    if not dropped:
        return text, []
    joined = ""
    for sentence in kept:
        joined += ("" if not joined or joined.endswith(("。", "！", "？")) else " ") + sentence
    return joined, dropped


def check_prose(extraction: Extraction, segments: Mapping[int, str], fields: Iterable[str]) -> ProseResult:
    """The title, summary and deal-stage reason kept sentence by sentence, the items of
    ``fields`` (the CRM-bound lists) kept when their own words hold (see the module), and a
    review note for every contact detail that goes to the CRM."""
    said = _Said.of(segments)
    result = ProseResult(extraction)
    update: dict[str, object] = {}
    for name in ("title", "summary"):
        kept, dropped = _kept_sentences(getattr(extraction, name), said, names=name != "title")
        result.dropped.extend(DroppedItem(field=name, text=sentence[:200], reason=problem) for sentence, problem in dropped)
        update[name] = kept
    reason = extraction.deal_stage.reason
    kept_reason, dropped = _kept_sentences(reason, said)
    if dropped:
        result.dropped.append(DroppedItem(field="deal_stage.reason", text=reason[:200], reason="sentences not said in the meeting"))
        update["deal_stage"] = extraction.deal_stage.model_copy(update={"reason": kept_reason})
    for name in fields:
        kept_items = []
        for item in getattr(extraction, name):
            text = item_text(item)
            unsaid = [c for c in contacts_in(text) if not said.has(c)]
            if unsaid:
                result.dropped.append(DroppedItem(field=name, text=text[:200], reason=UNSAID_CONTACT))
                continue
            if isinstance(item, NextStep) and not action_supported(item):
                result.dropped.append(DroppedItem(field=name, text=text[:200], reason="the action is not in its own quotes"))
                continue
            kept_items.append(item)
        update[name] = kept_items
    checked = extraction.model_copy(update=update)
    for name in ("title", "summary", *fields):
        value = getattr(checked, name)
        texts = [value] if isinstance(value, str) else [item_text(i) for i in value]
        for contact in dict.fromkeys(c for t in texts for c in contacts_in(t)):
            result.review.append(f"{name}: contact details go to the CRM ({contact}); check them before sending")
    result.extraction = checked
    return result


def action_supported(step: NextStep) -> bool:
    """Whether a next step's action is held by its own quotes (:data:`MIN_ACTION_SUPPORT`)."""
    quotes = normalize(" ".join(e.quote for e in step.evidence))
    return support(step.action, quotes) >= MIN_ACTION_SUPPORT
