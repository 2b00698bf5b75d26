"""The strict evidence check: every claim must quote the transcript segments it cites, and what
the claim asserts (amounts, dates, names) must be in that evidence.

Text is compared after normalisation (:func:`normalize`: Unicode NFKC, case folding, spaces,
punctuation and symbols removed), so "600 万円" matches "６００万円。". The rules:

1. **Pieces inside the cited segments, in order.** A quote is split at ellipses ("...", "…",
   "‥") into pieces. Every piece must be found in the cited segments (joined in transcript
   order), each after the previous one. A piece may run from one segment into the next only
   when the two are consecutive in the transcript; cited segments that are not neighbours are
   kept apart (a piece cannot be glued from the end of segment 3 and the start of segment 17).
   An ellipsis joins pieces of one segment or of neighbouring segments, never pieces from
   far apart in the meeting, even when all those segments are cited.
2. **An ellipsis leaves out nothing that turns the claim around.** The text an ellipsis skips
   must not hold a negation (English: not, no, never, n't, cannot, without, ...; Japanese:
   ない, ません, ず, なかった, ではなく, いいえ, 中止, 見送り, ...). A quote must not stop just before
   a negation either ("導入する予定" out of 導入する予定はありません; "We will sign" out of "We will
   sign? Not yet.") or start just after an English one ("sign the contract" out of "will not
   sign the contract").
3. **Long enough to carry a claim.** A quote in a spaced script needs at least
   :data:`MIN_QUOTE_WORDS` words; one with Japanese (kana or kanji) at least
   :data:`MIN_QUOTE_CJK_CHARS` letters/digits. A shorter quote (down to 2 words / 4
   characters) is accepted only when it holds the item's name as a whole token ("I'm Dave"
   for participant Dave, 加藤です for 加藤). Each piece of an ellipsis quote needs at least 2
   words / 4 characters ("will ... the contract" is no evidence).
4. **Relocation only when unique.** A quote (without an ellipsis) not found in the cited
   segments is moved to the segments that hold it when it occurs exactly once in the whole
   transcript; found twice or more it is ambiguous and invalid; a quote with an ellipsis is
   never relocated. An item none of whose evidence holds is dropped and recorded.
5. **Key values in the evidence.** The evidence of an item is its valid quotes plus the full
   text of the segments they cite. Every money amount in the item's said text fields
   (:func:`money.find_amounts`, and any number with a magnitude: "80k", 300万) must be there
   as a number of the same value ("18k" ==
   "eighteen thousand" == "18,000"; "per" is not compared), and every date expression
   (:func:`dates.find_dates`) must be there as said (normalised) or, when the meeting date is
   known, as an expression that resolves to the same day or range, or one containing it or
   contained in it. Fields computed by code (:data:`schema.DERIVED_FIELDS`, e.g. resolved
   ISO dates) are not checked. An item whose text fails is dropped.
6. **Names on word boundaries / as whole tokens.** An item's ``name`` (account, participant,
   decision maker, competitor), honorifics, titles and legal forms aside (Mr., さん, 部長,
   株式会社, Inc.), must be said in its evidence as a whole token: in Latin script not inside a
   longer word ("Ann" is not in "annual"); in Japanese, a kanji name not next to another kanji
   and a katakana name not next to katakana (佐藤 is not in 佐藤木, ワクリンク is not in
   ワクリンクス), except for a known affix (after: さん/様/氏/部長/社/株式会社...; before: 株式会社/
   弊社/御社/担当...); hiragana neighbours are allowed (particles: は, の, が, ...), so a name that
   starts or ends in hiragana is bounded only on its other side. A person's name of several
   words passes when the whole name is in the evidence, or one of its words is and every word
   is said somewhere in the meeting ("Linda Park" from "Linda signs off" and "Ms. Park"). A
   list of names crammed into one ("Diane, Sheila, and Texas") must be said as a whole.
   People (participants, decision makers) are often "I" or "she" where the claim is made
   ("I'll present it to the committee"), so their names need only be said somewhere in the
   meeting; every other name (the account, competitors) must be in the evidence.
7. **Attributes are cleared, not the item dropped.** A next step's ``due`` whose dates are not
   in the evidence, and an ``owner`` or participant ``company`` not said anywhere in the meeting
   (as a whole token; a list such as "Maria and Frank" when each is said), are emptied (with ``due_resolved``); each is recorded in
   ``Verification.dropped`` with field ``<list>.<attribute>`` (not counted in ``items_dropped``).

The account and the deal stage are checked like list items; the verifier walks every field of
:data:`schema.LIST_FIELDS`, so new list fields are checked without changes here.
"""

from __future__ import annotations

import datetime as dt
import functools
import re
import unicodedata
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from pydantic import BaseModel

from meeting_notes.notes.dates import DateMention, find_dates
from meeting_notes.notes.money import find_amounts, find_numbers
from meeting_notes.notes.schema import (
    DERIVED_FIELDS,
    LIST_FIELDS,
    DroppedItem,
    Evidence,
    EvidencedItem,
    Extraction,
    Verification,
    item_text,
)

MIN_QUOTE_WORDS = 3
"""Words a quote in a spaced script (English) needs."""
MIN_QUOTE_CJK_CHARS = 8
"""Letters and digits a quote with Japanese needs (about three English words' worth)."""
MIN_PIECE_WORDS = 2
MIN_PIECE_CJK_CHARS = 4
"""The least a piece of an ellipsis quote, or a short quote holding the item's name, needs."""

NO_EVIDENCE = "evidence not found in the cited segments"
NAME_NOT_SAID = "name not said in the meeting"
NAME_NOT_IN_EVIDENCE = "name not in the quote or the cited segments"
AMOUNT_NOT_IN_EVIDENCE = "amount not in the quote or the cited segments"
DATE_NOT_IN_EVIDENCE = "date not in the quote or the cited segments"
VALUE_CLEARED = "value cleared: "

_ELLIPSIS = re.compile(r"\.{3,}|…+|‥+")
#: fields whose value is an enum, not said text
_ENUM_FIELDS = frozenset({"side", "stage"})
#: attributes emptied (not the item dropped) when unsupported; see rule 7
_DUE_FIELDS = ("due",)
_SAID_ANYWHERE_FIELDS = ("owner", "company")
_NAME_FIELD = "name"
PERSON_FIELDS = frozenset({"participants", "decision_makers"})
"""Fields naming people: said anywhere in the meeting is enough (a person speaks as "I" where
the claim is made); any other ``name`` (account, competitors, new fields) must be in the evidence."""

#: titles and honorifics a model adds to a name that the speakers may not have said
_HONORIFICS = re.compile(
    r"^(?:mr|mrs|ms|mx|dr|prof)\.?\s+"
    r"|\s*(?:さん|様|さま|氏|殿|くん|君|ちゃん|先生|部長|課長|社長|係長|室長|所長|店長|次長|専務|常務|会長|主任|取締役)$",
    re.IGNORECASE,
)
_LEGAL = r"株式会社|有限会社|合同会社|[(（]株[)）]|㈱"
#: legal forms a model adds to a company name ("ナビテック社" for "株式会社ナビテック", "Acme, Inc.")
_CORPORATE = re.compile(
    rf"^(?:{_LEGAL})\s*"
    rf"|\s*(?:{_LEGAL}|社)$"
    r"|[,\s]+(?:inc|ltd|llc|corp|corporation|co|company|gmbh|kk|k\.k|plc|limited)\.?$",
    re.IGNORECASE,
)
_LIST_SEPARATORS = re.compile(r"[,、，;/&]|\s+and\s+")
#: what may follow a kanji/katakana name without making it part of a longer word
_JA_NAME_AFTER = re.compile(
    rf"(?:{_LEGAL}|様|氏|殿|君|社|先生|部長|課長|社長|係長|室長|所長|店長|次長|専務|常務|会長|主任|取締役"
    r"|宛|担当|側|一同|自身|本人|グループ|ホールディングス|さん)"
)
#: what may precede a kanji/katakana name
_JA_NAME_BEFORE = re.compile(rf"(?:{_LEGAL}|弊社|御社|貴社|当社|担当|営業)$")

_NEGATION_EN = frozenset(
    "not no never nothing nobody none cannot without neither nor dont don't doesnt doesn't didnt didn't "
    "wont won't cant can't isnt isn't arent aren't wasnt wasn't werent weren't shouldnt shouldn't "
    "wouldnt wouldn't couldnt couldn't havent haven't hasnt hasn't hadnt hadn't cancel cancelled "
    "canceled".split()
)
_NEGATION_JA = re.compile(r"ない|ません|なかった|なく|ずに|ではなく|じゃなく|いいえ|中止|見送|やめ|キャンセル|無理")
#: a negation right after a quote: up to two kana of verb ending, then the negative
#: (決めて|いません, 導入する予定は|ありません, 来|ない)
_NEGATION_JA_AFTER = re.compile(r"^\s*(?:は|も|が)?\s*[ぁ-ん]{0,2}?(?:ない|ません|なかった|なく)")
_WORD = re.compile(r"[^\W_]+(?:'[^\W_]+)*")


def normalize(text: str) -> str:
    """Text reduced to letters and digits: NFKC, case-folded, no spaces, punctuation or symbols."""
    text = unicodedata.normalize("NFKC", text).casefold()
    return "".join(c for c in text if unicodedata.category(c)[0] not in "PSZC")


def _fold(text: str) -> str:
    """NFKC and case folding, with typographic apostrophes made plain (keeps everything else)."""
    return unicodedata.normalize("NFKC", text).casefold().replace("’", "'").replace("‘", "'")


def _kind(ch: str) -> str:
    """The script of a character for token boundaries: latin (any other letter or digit),
    kanji, katakana, hiragana, or other (punctuation, space, symbols)."""
    o = ord(ch)
    if 0x3040 <= o <= 0x309F:
        return "hiragana"
    if 0x30A0 <= o <= 0x30FF or 0x31F0 <= o <= 0x31FF or ch == "ー":
        return "katakana"
    if 0x4E00 <= o <= 0x9FFF or 0x3400 <= o <= 0x4DBF or ch in "々〆":
        return "kanji"
    if ch.isalnum():
        return "latin"
    return "other"


def _has_cjk(text: str) -> bool:
    return any(_kind(c) in ("hiragana", "katakana", "kanji") for c in text)


def _size(text: str) -> tuple[int, bool]:
    """(size, cjk): letters/digits for text with Japanese, else words."""
    if _has_cjk(text):
        return len(normalize(text)), True
    return len(_WORD.findall(_fold(text))), False


def _long_enough(text: str, *, piece: bool) -> bool:
    size, cjk = _size(text)
    if piece:
        return size >= (MIN_PIECE_CJK_CHARS if cjk else MIN_PIECE_WORDS)
    return size >= (MIN_QUOTE_CJK_CHARS if cjk else MIN_QUOTE_WORDS)


# --- the transcript index -----------------------------------------------------------------


@dataclass
class _Run:
    """Normalised text of some segments, with each character's segment and its position in that
    segment's folded text; \\x00 separates segments that are not neighbours."""

    text: str
    owner: list[int]
    offset: list[int]


@dataclass
class _Index:
    """The transcript: each segment's folded text, the segment order, and the whole as a run."""

    folded: dict[int, str]
    order: list[int]
    position: dict[int, int]
    full: _Run = field(init=False)

    @classmethod
    def build(cls, segments: Mapping[int, str]) -> _Index:
        order = sorted(segments)
        index = cls({sid: _fold(segments[sid]) for sid in order}, order, {sid: i for i, sid in enumerate(order)})
        index.full = index.run(order)
        return index

    @property
    def text(self) -> str:
        return self.full.text

    @functools.cached_property
    def transcript(self) -> str:
        """The folded transcript, one segment a line."""
        return "\n".join(self.folded[s] for s in self.order)

    def run(self, ids: Iterable[int]) -> _Run:
        chars: list[str] = []
        owner: list[int] = []
        offset: list[int] = []
        previous = None
        for sid in sorted(ids, key=self.position.__getitem__):
            if previous is not None and self.position[sid] != self.position[previous] + 1:
                chars.append("\x00")
                owner.append(-1)
                offset.append(-1)
            for k, c in enumerate(self.folded[sid]):
                if unicodedata.category(c)[0] not in "PSZC":
                    chars.append(c)
                    owner.append(sid)
                    offset.append(k)
            previous = sid
        return _Run("".join(chars), owner, offset)

    def between(self, run: _Run, end: int, start: int) -> str:
        """The folded transcript text between run positions ``end`` (exclusive end of one
        match) and ``start`` (start of the next), spaces and punctuation included."""
        a_sid, a_off = run.owner[end - 1], run.offset[end - 1] + 1
        b_sid, b_off = run.owner[start], run.offset[start]
        if a_sid == b_sid:
            return self.folded[a_sid][a_off:b_off]
        middle = [self.folded[s] for s in self.order[self.position[a_sid] + 1 : self.position[b_sid]]]
        return " ".join([self.folded[a_sid][a_off:], *middle, self.folded[b_sid][:b_off]])

    def before(self, run: _Run, start: int) -> str:
        return self.folded[run.owner[start]][: run.offset[start]]

    def after(self, run: _Run, end: int) -> str:
        return self.folded[run.owner[end - 1]][run.offset[end - 1] + 1 :]


def _pieces(quote: str) -> list[str]:
    return [p for p in (x.strip() for x in _ELLIPSIS.split(quote)) if normalize(p)]


def _match_in(haystack: str, pieces: list[str]) -> list[tuple[int, int]] | None:
    """Spans of the (normalised) pieces found in order in ``haystack``, or None."""
    spans, pos = [], 0
    for piece in pieces:
        at = haystack.find(piece, pos)
        if at < 0:
            return None
        spans.append((at, at + len(piece)))
        pos = at + len(piece)
    return spans


def _occurrences(haystack: str, needle: str) -> list[int]:
    out, at = [], haystack.find(needle)
    while at >= 0:
        out.append(at)
        at = haystack.find(needle, at + 1)
    return out


def _negates(text: str) -> bool:
    words = set(_WORD.findall(_fold(text)))
    return bool(words & _NEGATION_EN) or bool(_NEGATION_JA.search(text))


def _context_ok(index: _Index, run: _Run, spans: list[tuple[int, int]]) -> bool:
    """Rules 1 and 2: the pieces of an ellipsis quote in one segment or neighbouring ones; no
    negation skipped by an ellipsis, right before the quote (English) or right after it."""
    for (_, end), (start, _) in zip(spans, spans[1:], strict=False):
        if index.position[run.owner[start]] - index.position[run.owner[end - 1]] > 1:
            return False
        if _negates(index.between(run, end, start)):
            return False
    before = _WORD.findall(index.before(run, spans[0][0]))
    if before and before[-1] in _NEGATION_EN:
        return False
    after = index.after(run, spans[-1][1])
    following = _WORD.findall(after)
    if following and following[0] in ("not", "n't", "never"):
        return False
    return not _NEGATION_JA_AFTER.match(after)


def _ids(run: _Run, spans: list[tuple[int, int]]) -> list[int]:
    return sorted({run.owner[k] for a, b in spans for k in range(a, b)})


def check_evidence(ev: Evidence, index: _Index, name: str = "") -> tuple[str, Evidence | None]:
    """'valid', 'relocated' (with corrected ids) or 'invalid' (rules 1-4)."""
    raw = _pieces(ev.quote)
    if not raw:
        return "invalid", None
    if len(raw) > 1 and not all(_long_enough(p, piece=True) for p in raw):
        return "invalid", None
    whole = " ".join(raw)
    if not _long_enough(whole, piece=False):
        short_with_name = _long_enough(whole, piece=True) and bool(name) and name_said_in(name, whole)
        if not short_with_name:
            return "invalid", None
    pieces = [normalize(p) for p in raw]
    cited = [i for i in dict.fromkeys(ev.segment_ids) if i in index.folded]
    if cited:
        run = index.run(cited)
        spans = _match_in(run.text, pieces)
        if spans is not None:
            if not _context_ok(index, run, spans):
                return "invalid", None
            return "valid", Evidence(segment_ids=sorted(cited, key=index.position.__getitem__), quote=ev.quote)
    if len(pieces) > 1:
        return "invalid", None
    found = _occurrences(index.full.text, pieces[0])
    if len(found) != 1:
        return "invalid", None
    spans = [(found[0], found[0] + len(pieces[0]))]
    if not _context_ok(index, index.full, spans):
        return "invalid", None
    return "relocated", Evidence(segment_ids=_ids(index.full, spans), quote=ev.quote)


# --- names --------------------------------------------------------------------------------


def clean_name(name: str) -> str:
    """The name without honorifics, titles and legal forms (unchanged when nothing else is
    left: 社長 stays 社長)."""
    cleaned = name.strip()
    for _ in range(2):
        cleaned = _CORPORATE.sub("", _HONORIFICS.sub("", cleaned).strip()).strip()
    return cleaned if normalize(cleaned) else name.strip()


def _bounded(text: str, start: int, end: int) -> bool:
    """Whether text[start:end] is a whole token (rule 6)."""
    first, last = _kind(text[start]), _kind(text[end - 1])
    if start > 0:
        left = _kind(text[start - 1])
        if first == "latin" and left == "latin":
            return False
        if first in ("kanji", "katakana") and left == first and not _JA_NAME_BEFORE.search(text[:start]):
            return False
    if end < len(text):
        right = _kind(text[end])
        if last == "latin" and right == "latin":
            return False
        if last in ("kanji", "katakana") and right == last and not _JA_NAME_AFTER.match(text, end):
            return False
    return True


def name_said_in(name: str, text: str) -> bool:
    """Whether ``name`` (cleaned) is in ``text`` as a whole token; its words may be written
    with or without spaces or punctuation between them ("Power BI", "PowerBI", "Power-BI")."""
    words = _WORD.findall(_fold(clean_name(name)))
    if not words:
        return False
    folded = _fold(text)
    pattern = re.compile(r"[\W_]*".join(re.escape(w) for w in words))
    return any(_bounded(folded, m.start(), m.end()) for m in pattern.finditer(folded))


def name_is_said(name: str, index: _Index) -> bool:
    """Whether ``name`` is said anywhere in the meeting as a whole token (or, for a person's
    name of several words that is not a list, every word of it)."""
    transcript = index.transcript
    if name_said_in(name, transcript):
        return True
    return _words_said(name, transcript)


def _words_said(name: str, text: str) -> bool:
    cleaned = clean_name(name)
    if _LIST_SEPARATORS.search(cleaned):
        return False
    words = [clean_name(w) for w in cleaned.split()]
    return len(words) > 1 and all(name_said_in(w, text) for w in words if w)


def _all_said(value: str, index: _Index) -> bool:
    """An owner or company: the whole said, or each of a list ("Maria and Frank") said."""
    if name_is_said(value, index):
        return True
    parts = [p.strip() for p in _LIST_SEPARATORS.split(value) if p.strip()]
    return len(parts) > 1 and all(name_is_said(p, index) for p in parts)


def _name_in_evidence(name: str, evidence: str, index: _Index) -> bool:
    if name_said_in(name, evidence):
        return True
    cleaned = clean_name(name)
    if _LIST_SEPARATORS.search(cleaned):
        return False
    words = [clean_name(w) for w in cleaned.split()]
    return len(words) > 1 and any(name_said_in(w, evidence) for w in words if w) and name_is_said(name, index)


# --- key values -----------------------------------------------------------------------------


def _said_fields(item: BaseModel, skip: Iterable[str] = ()) -> list[tuple[str, str]]:
    skipped = {"evidence", *DERIVED_FIELDS, *_ENUM_FIELDS, *skip}
    return [(k, v) for k, v in item if k not in skipped and isinstance(v, str) and v]


_MAGNITUDE = re.compile(r"(?:thousand|grand|million|billion|\d\s?(?:k|m|mm|bn))\b|[万億]", re.IGNORECASE)


def _key_amounts(text: str) -> list[float]:
    """The amounts of an item's text: money amounts, and numbers with a magnitude ("80k",
    "2 million", 300万) even where no money word is beside them (a budget item "80k")."""
    values = [a.amount for a in find_amounts(text, "")]
    values += [n.value for n in find_numbers(text) if _MAGNITUDE.search(n.said)]
    return values


def _amounts_hold(text: str, evidence: str, numbers: set[float]) -> bool:
    for amount in _key_amounts(text):
        if not any(abs(amount - n) <= 1e-6 * max(1.0, abs(n)) for n in numbers):
            return False
    return True


def _dates_hold(text: str, evidence_norm: str, evidence_dates: list[DateMention], anchor: dt.date | None) -> bool:
    for mention in find_dates(text, "", anchor):
        if normalize(mention.said) in evidence_norm:
            continue
        r = mention.resolved
        if r is None:
            return False
        spans = [(d.resolved.start, d.resolved.end) for d in evidence_dates if d.resolved is not None]
        if not any((a <= r.start and r.end <= b) or (r.start <= a and b <= r.end) for a, b in spans):
            return False
    return True


@dataclass
class _Evidence:
    """The text an item's key values are looked up in: its valid quotes and cited segments."""

    text: str
    norm: str
    numbers: set[float]
    dates: list[DateMention]

    @classmethod
    def of(cls, kept: list[Evidence], index: _Index, anchor: dt.date | None) -> _Evidence:
        ids = sorted({i for ev in kept for i in ev.segment_ids}, key=index.position.__getitem__)
        text = "\n".join([*(ev.quote for ev in kept), *(index.folded[i] for i in ids)])
        numbers = {n.value for n in find_numbers(text)} | {a.amount for a in find_amounts(text, "")}
        return cls(text, normalize(text), numbers, find_dates(text, "", anchor))


def _check_item(
    item: EvidencedItem, where: str, index: _Index, ver: Verification, anchor: dt.date | None
) -> tuple[EvidencedItem | None, str]:
    """The item with its valid evidence (and unsupported attributes emptied), or None and the
    reason it is dropped."""
    name = getattr(item, _NAME_FIELD, "")
    name = name if isinstance(name, str) else ""
    kept: list[Evidence] = []
    for ev in item.evidence:
        ver.evidence_checked += 1
        status, fixed = check_evidence(ev, index, name)
        if status == "invalid":
            ver.evidence_invalid += 1
            continue
        if status == "relocated":
            ver.evidence_relocated += 1
        else:
            ver.evidence_valid += 1
        assert fixed is not None
        kept.append(fixed)
    if not kept:
        return None, NO_EVIDENCE
    evidence = _Evidence.of(kept, index, anchor)
    if name:
        said = name_is_said(name, index)
        if not said:
            return None, NAME_NOT_SAID
        if where not in PERSON_FIELDS and not _name_in_evidence(name, evidence.text, index):
            return None, NAME_NOT_IN_EVIDENCE
    for _, value in _said_fields(item, skip=(*_DUE_FIELDS, *_SAID_ANYWHERE_FIELDS)):
        if not _amounts_hold(value, evidence.text, evidence.numbers):
            return None, AMOUNT_NOT_IN_EVIDENCE
        if not _dates_hold(value, evidence.norm, evidence.dates, anchor):
            return None, DATE_NOT_IN_EVIDENCE
    update: dict[str, object] = {"evidence": kept}
    for attr in _DUE_FIELDS:
        value = getattr(item, attr, "")
        if isinstance(value, str) and value and not _dates_hold(value, evidence.norm, evidence.dates, anchor):
            update[attr] = ""
            if f"{attr}_resolved" in type(item).model_fields:
                update[f"{attr}_resolved"] = ""
            ver.dropped.append(DroppedItem(field=f"{where}.{attr}", text=value[:200], reason=VALUE_CLEARED + DATE_NOT_IN_EVIDENCE))
    for attr in _SAID_ANYWHERE_FIELDS:
        value = getattr(item, attr, "")
        if isinstance(value, str) and value.strip() and not _all_said(value, index):
            update[attr] = ""
            ver.dropped.append(DroppedItem(field=f"{where}.{attr}", text=value[:200], reason=VALUE_CLEARED + NAME_NOT_SAID))
    return item.model_copy(update=update), ""


def verify_extraction(
    extraction: Extraction, segments: Mapping[int, str], anchor: dt.date | None = None
) -> tuple[Extraction, Verification]:
    """Keep only what the transcript supports; return the checked extraction and the record.

    ``anchor`` (the meeting date) lets a date in an item match its evidence by meaning ("March
    12" for "next Thursday"); without it dates must be in the evidence as said."""
    index = _Index.build(segments)
    ver = Verification()
    update: dict[str, object] = {}

    def drop(field_name: str, item: BaseModel, reason: str) -> None:
        ver.items_dropped += 1
        ver.dropped.append(DroppedItem(field=field_name, text=item_text(item)[:200], reason=reason))

    for field_name in LIST_FIELDS:
        kept = []
        for item in getattr(extraction, field_name):
            ver.items_checked += 1
            checked, reason = _check_item(item, field_name, index, ver, anchor)
            if checked is None:
                drop(field_name, item, reason)
            else:
                ver.items_kept += 1
                kept.append(checked)
        update[field_name] = kept

    singles = (("account", bool(extraction.account.name)), ("deal_stage", extraction.deal_stage.stage != "unknown"))
    for field_name, filled in singles:
        if not filled:
            continue
        item = getattr(extraction, field_name)
        ver.items_checked += 1
        checked, reason = _check_item(item, field_name, index, ver, anchor)
        if checked is None:
            drop(field_name, item, reason)
            update[field_name] = type(item)()
        else:
            ver.items_kept += 1
            update[field_name] = checked

    return extraction.model_copy(update=update), ver
