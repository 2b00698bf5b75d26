"""The evidence check: every claim must quote the transcript segments it cites.

A quote holds when, after normalisation (Unicode NFKC, case folding, whitespace, punctuation
and symbols removed), it is a substring of the cited segments' text joined in id order. A
quote with an ellipsis ("..." or "…") holds when its pieces appear in that order. A quote that
is verbatim in the transcript but under other segment ids is kept with corrected ids (counted
as relocated). An item none of whose evidence holds is dropped and recorded.

Names (account, participants, decision makers, competitors) must also be said in the meeting:
the whole name, or every word of it, honorifics and legal forms (株式会社, Inc.) aside. A quote
can be real while the name beside it is not ("Account: Diane, Sheila, and Texas" citing "This
is Diane in New Jersey").
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass

from pydantic import BaseModel

from meeting_notes.notes.schema import (
    LIST_FIELDS,
    DroppedItem,
    Evidence,
    Extraction,
    Verification,
    item_text,
)

MIN_QUOTE_CHARS = 4
_ELLIPSIS = re.compile(r"\.{3,}|…+|‥+")
NO_EVIDENCE = "evidence not found in the cited segments"
NAME_NOT_SAID = "name not said in the meeting"
#: titles and honorifics a model adds to a name that the speakers may not have said
_HONORIFICS = re.compile(
    r"^(?:mr|mrs|ms|mx|dr|prof)\.?\s+|(?:さん|様|さま|氏|殿|くん|君|ちゃん)$", re.IGNORECASE
)
#: legal forms a model adds to a company name ("ナビテック社" for "株式会社ナビテック", "Acme, Inc.")
_CORPORATE = re.compile(
    r"^(?:株式会社|有限会社|合同会社|[(（]株[)）]|㈱)\s*"
    r"|\s*(?:株式会社|有限会社|合同会社|[(（]株[)）]|㈱|社)$"
    r"|[,\s]+(?:inc|ltd|llc|corp|corporation|co|company|gmbh|kk|k\.k|plc|limited)\.?$",
    re.IGNORECASE,
)
_LIST_SEPARATORS = re.compile(r"[,、，;/&]|\s+and\s+")


def normalize(text: str) -> str:
    """Text reduced to letters and digits: NFKC, case-folded, no spaces, punctuation or symbols."""
    text = unicodedata.normalize("NFKC", text).casefold()
    return "".join(c for c in text if unicodedata.category(c)[0] not in "PSZC")


@dataclass
class _Index:
    """The normalised transcript with, for every character, the segment it came from."""

    text: str
    owner: list[int]
    by_id: dict[int, str]

    @classmethod
    def build(cls, segments: Mapping[int, str]) -> _Index:
        chars: list[str] = []
        owner: list[int] = []
        by_id: dict[int, str] = {}
        for sid in sorted(segments):
            norm = normalize(segments[sid])
            by_id[sid] = norm
            chars.append(norm)
            owner.extend([sid] * len(norm))
        return cls("".join(chars), owner, by_id)


def _pieces(quote: str) -> list[str]:
    return [p for p in (normalize(x) for x in _ELLIPSIS.split(quote)) if p]


def _match_in(haystack: str, pieces: list[str]) -> list[tuple[int, int]] | None:
    """Spans of the pieces found in order in ``haystack``, or None."""
    spans, pos = [], 0
    for piece in pieces:
        at = haystack.find(piece, pos)
        if at < 0:
            return None
        spans.append((at, at + len(piece)))
        pos = at + len(piece)
    return spans


def name_is_said(name: str, index: _Index) -> bool:
    """True when ``name`` (without honorifics and legal forms) is in the transcript as a whole,
    or, when it is not a list of several names, word by word ("Linda Park" from "Linda ... Ms.
    Park")."""
    name = _CORPORATE.sub("", _HONORIFICS.sub("", name.strip()).strip()).strip()
    whole = normalize(name)
    if not whole or whole in index.text:
        return True
    if _LIST_SEPARATORS.search(name):
        return False
    words = [normalize(_HONORIFICS.sub("", w)) for w in name.split()]
    return len(words) > 1 and all(w in index.text for w in words if w)


def check_evidence(ev: Evidence, index: _Index) -> tuple[str, Evidence | None]:
    """'valid', 'relocated' (with corrected ids) or 'invalid'."""
    pieces = _pieces(ev.quote)
    if sum(len(p) for p in pieces) < MIN_QUOTE_CHARS:
        return "invalid", None
    cited = sorted({i for i in ev.segment_ids if i in index.by_id})
    if cited:
        joined = "".join(index.by_id[i] for i in cited)
        if _match_in(joined, pieces) is not None:
            return "valid", Evidence(segment_ids=cited, quote=ev.quote)
    spans = _match_in(index.text, pieces)
    if spans is None:
        return "invalid", None
    ids = sorted({index.owner[k] for a, b in spans for k in range(a, b)})
    return "relocated", Evidence(segment_ids=ids, quote=ev.quote)


def _check_item(item: BaseModel, index: _Index, ver: Verification) -> tuple[BaseModel | None, str]:
    """The item with its valid evidence, or None and the reason it is dropped."""
    kept: list[Evidence] = []
    for ev in getattr(item, "evidence"):
        ver.evidence_checked += 1
        status, fixed = check_evidence(ev, index)
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
    name = getattr(item, "name", "")
    if name and not name_is_said(name, index):
        return None, NAME_NOT_SAID
    return item.model_copy(update={"evidence": kept}), ""


def verify_extraction(
    extraction: Extraction, segments: Mapping[int, str]
) -> tuple[Extraction, Verification]:
    """Keep only what the transcript supports; return the checked extraction and the record."""
    index = _Index.build(segments)
    ver = Verification()
    update: dict[str, object] = {}

    def drop(field: str, item: BaseModel, reason: str) -> None:
        ver.items_dropped += 1
        ver.dropped.append(DroppedItem(field=field, text=item_text(item)[:200], reason=reason))

    for field in LIST_FIELDS:
        kept = []
        for item in getattr(extraction, field):
            ver.items_checked += 1
            checked, reason = _check_item(item, index, ver)
            if checked is None:
                drop(field, item, reason)
            else:
                ver.items_kept += 1
                kept.append(checked)
        update[field] = kept

    singles = (("account", bool(extraction.account.name)), ("deal_stage", extraction.deal_stage.stage != "unknown"))
    for field, filled in singles:
        if not filled:
            continue
        item = getattr(extraction, field)
        ver.items_checked += 1
        checked, reason = _check_item(item, index, ver)
        if checked is None:
            drop(field, item, reason)
            update[field] = type(item)()
        else:
            ver.items_kept += 1
            update[field] = checked

    return extraction.model_copy(update=update), ver
