"""Sentences, verbatim quotes and the word patterns several passes share."""

from __future__ import annotations

import re

from meeting_notes.notes.evidence import normalize
from meeting_notes.notes.schema import QUOTE_MAX

# -- quotes ------------------------------------------------------------------------------
_SENTENCE = re.compile(r"(?:[^.!?。！？]|[.!?](?=[^\s.!?。！？]))+[.!?。！？]*")


def sentences(text: str) -> list[str]:
    """The sentences of a segment (English or Japanese punctuation)."""
    out = [s.strip() for s in _SENTENCE.findall(text)]
    return [s for s in out if s] or [text.strip()]


def _short_enough(sentence: str) -> bool:
    cjk = sum(1 for c in sentence if ord(c) > 0x2E80)
    return len(sentence.split()) >= 4 or cjk >= 8


def quote_from(text: str, key: str = "", about: str = "") -> str:
    """A verbatim quote from ``text``: the sentence holding ``key`` (else the one sharing most
    words with ``about``), widened to the whole segment when too short, cut to the quote limit
    around the key."""
    parts = sentences(text)
    nkey = normalize(key)
    pick = next((s for s in parts if nkey and nkey in normalize(s)), None)
    if pick is None:
        words = set(normalize(w) for w in re.findall(r"\w+", about)) if about else set()
        chars = set(normalize(about)) if about else set()

        def score(s: str) -> float:
            ns = normalize(s)
            return sum(1 for w in words if len(w) > 2 and w in ns) + 0.05 * len(chars & set(ns))

        pick = max(parts, key=score) if about else parts[0]
    if not _short_enough(pick):
        pick = text.strip()
    if len(pick) <= QUOTE_MAX:
        return pick
    at = pick.find(key) if key else -1
    start = max(0, min(at - QUOTE_MAX // 3, len(pick) - QUOTE_MAX)) if at >= 0 else 0
    cut = pick[start : start + QUOTE_MAX]
    if " " in cut and not re.search(r"[\u3040-\u30ff\u4e00-\u9fff]", cut):
        # Whole words only: drop a partial first and last word.
        tokens = cut.split(" ")
        if start > 0:
            tokens = tokens[1:]
        if start + QUOTE_MAX < len(pick):
            tokens = tokens[:-1]
        cut = " ".join(tokens)
    return cut.strip()


_STOP = frozenset(
    "the a an and or but to of for in on at by with from this that these those is are was were be been will "
    "would can could should have has had our your their his her its we you they them it about into over "
    "some more most very just also then than there here what when where which who how all any each".split()
)
_CJK_CHAR = re.compile(r"[\u3040-\u30ff\u3400-\u9fff]")


def supports(text: str, about: str) -> bool:
    """Whether ``text`` says what ``about`` claims, roughly: most of its content words (English,
    by 5-letter stems) or of its character pairs (Japanese) appear in ``text``. A claim copied
    from elsewhere (the prompt's example, another meeting) fails it."""
    norm = normalize(text)
    pairs = [about[i : i + 2] for i in range(len(about) - 1) if _CJK_CHAR.match(about[i]) and _CJK_CHAR.match(about[i + 1])]
    if pairs:
        hits = sum(1 for p in pairs if normalize(p) in norm)
        return hits >= min(2, len(pairs)) and hits >= 0.3 * len(pairs)
    words = [w.casefold() for w in re.findall(r"[A-Za-z0-9']+", about)]
    stems = {w[:5] for w in words if len(w) > 2 and w not in _STOP}
    if not stems:
        return False
    hits = sum(1 for st in stems if st in norm)
    return hits >= min(2, len(stems)) and hits >= 0.5 * len(stems)


def _overlaps(a: str, b: str) -> bool:
    """Whether two company names are the same company (one holds the other, 3+ characters)."""
    na, nb = normalize(re.sub(r"株式会社|有限会社|合同会社|\b(inc|ltd|llc|corp)\b\.?", "", a, flags=re.I)), normalize(
        re.sub(r"株式会社|有限会社|合同会社|\b(inc|ltd|llc|corp)\b\.?", "", b, flags=re.I)
    )
    if len(na) < 2 or len(nb) < 2:
        return False
    return na in nb or nb in na


def name_forms(name: str) -> list[str]:
    """How a participant is said: the whole name, then its first word (two characters or more)."""
    return [f for f in dict.fromkeys([name, name.split()[0]] if name.split() else []) if len(f) >= 2]


def _name_position(text: str, name: str) -> int:
    """Where ``name`` (whole, else its first word) is said in ``text``, on word boundaries (as
    a whole token in Japanese); -1 when it is not."""
    for form in name_forms(name):
        pattern = re.escape(form) if _CJK_CHAR.match(form[0]) else rf"\b{re.escape(form)}\b"
        m = re.search(pattern, text, 0 if any(c.isupper() for c in text) else re.IGNORECASE)  # lowercase text
        if m:
            return m.start()
    return -1


# -- words of commitments, shared by the timeline and the next steps ----------------------
#: First-person commitments: the speaker of such a line owns the step.
FIRST_PERSON = re.compile(
    r"\b(I'll|I will|I can|let me|I'm going to|we'll|we will)\b"
    r"|します|しておきます|いたします|お送りします|送ります|手配します|発行します|確認します|回します",
    re.IGNORECASE,
)
#: Requests: the person asked owns the step once they accept it.
REQUEST = re.compile(r"\b(could you|can you|would you|will you|please|if you could)\b|もらえ|いただけ|ください|お願いし", re.IGNORECASE)
#: Proposals the speaker leads: the speaker owns them.
PROPOSAL = re.compile(r"\b(let's|let us|shall we)\b|ましょう", re.IGNORECASE)
#: A plan called off or replaced: never a next step.
CANCELLED = re.compile(
    r"\b(cancel\w*|call(?:ed)? off|scrap\w*|no longer|was going to|were going to|had planned|let's not|let us not)\b"
    r"|なしに|中止|取りやめ|キャンセル|見送|予定でしたが|はずでしたが|つもりでしたが",
    re.IGNORECASE,
)
#: A question: the line ends in a question mark, or in 「か」.
_QUESTION = re.compile(r"[?？]\s*$|か[。]?\s*$")


#: A line that tells what happened, not what will: a past verb after its subject ("we found",
#: "I sent", "they presented") or a Japanese past ending (「伺いました」「ありがたかったです」), with
#: no word of the future in it. Never a next step.
_PAST_EN = re.compile(
    r"\b(?:I|we|they|he|she|you|it)(?:'ve|'d| have| has| had)?\s+(?:just\s+|already\s+|also\s+|ever\s+)?"
    r"(?:[a-z]+ed|found|had|was|were|did|said|went|sent|got|made|took|gave|saw|sold|bought|thought|told|came|left|ran|"
    r"paid|spent|lost|met|heard|knew|wrote|built|brought|chose|began|been|done|seen|gone)\b",
    re.IGNORECASE,
)
_FUTURE_EN = re.compile(r"\b(?:will|'ll|going to|gonna|shall|let's|let me|need to|have to|want to|plan to|tomorrow|next)\b", re.IGNORECASE)
_PAST_JA = re.compile(r"(?:ました|でした|かった|ませんでした)(?:です)?(?:ね|よ|けど|が)?[。！]?$")


def _past(sentence: str, ja: bool) -> bool:
    """Whether a line tells what happened (see :data:`_PAST_EN`)."""
    if ja:
        return bool(_PAST_JA.search(sentence.strip()))
    return bool(_PAST_EN.search(sentence)) and not _FUTURE_EN.search(sentence)
