"""Cheap pre-filters: which transcript segments each extraction pass needs.

Each pass has cue patterns per language (money words, date words, "we use / 比較 / 検討",
commitments, introductions, pain points). :func:`condense` keeps a long meeting's transcript
within a token budget by keeping the segments the cues select (with their neighbours, the
opening introductions and the closing agreements) and leaving the rest out; ids stay global,
so evidence still points at the real segments. :func:`candidate_names` lists the product and
company names said near competitor cues, so the competitor pass picks names instead of
writing them.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

from meeting_notes.notes.chunking import Line
from meeting_notes.notes.lexicon import is_common_katakana

_I = re.IGNORECASE
_WEEKDAYS = r"monday|tuesday|wednesday|thursday|friday|saturday|sunday"
_MONTHS = r"january|february|march|april|may|june|july|august|september|october|november|december"

CUES: dict[str, dict[str, re.Pattern[str]]] = {
    "people": {
        "en": re.compile(
            r"\b(i'm|i am|my name|this is|here at|from|joining|ceo|cfo|cto|coo|owner|founder|manager|director|"
            r"head of|vp|president|signs?|sign-off|approv\w*|decid\w*|decision|board|committee|procurement)\b",
            _I,
        ),
        "ja": re.compile(
            r"申します|と言います|担当|部長|課長|社長|専務|常務|取締役|役員|会長|店長|マネージャー|決裁|承認|稟議|判断|弊社|御社|さん"
        ),
    },
    "money": {
        "en": re.compile(
            r"\d|\$|€|£|¥|\b(dollars?|bucks|grand|hundred|thousand|million|budget|price|pricing|cost|fee|quote|"
            r"per (?:month|year|user|seat)|a month|a year|discount|spend)\b",
            _I,
        ),
        "ja": re.compile(r"[0-9０-９]|円|万|億|千|予算|価格|料金|費用|見積|値引|月額|年額|初期"),
    },
    "dates": {
        "en": re.compile(
            rf"\b({_WEEKDAYS}|{_MONTHS}|today|tomorrow|tonight|week|month|quarter|q[1-4]|year|deadline|"
            rf"by (?:the )?end|end of|next|last|ago|within|days?|weeks|months|summer|winter|spring|fall|autumn)\b",
            _I,
        ),
        "ja": re.compile(
            r"[月火水木金土日]曜|今日|明日|明後日|昨日|今週|来週|先週|今月|来月|先月|月末|年内|年度|年明け|上旬|中旬|下旬"
            r"|第[0-9０-９一二三四五]週|[0-9０-９]+月|[0-9０-９]+日|まで|週間|ヶ月|か月"
        ),
    },
    "competitors": {
        "en": re.compile(
            r"\b(we use|we're using|we are using|using|currently (?:on|use)|(?:we're|we are|you're|you are|we've been|we have been) on|"
            r"been using|we run|used to (?:use|work with|be on)|worked with|(?:talking|speaking) (?:to|with)|renew\w*|contract with|"
            r"leaving|moving (?:off|away from)|replac\w*|incumbent|"
            r"current (?:vendor|provider|system|tool|platform)|looking at|look at|compared?|comparing|"
            r"comparison|alternatives?|competitors?|also considering|considering|evaluat\w*|switch\w*|vs\.?|versus|"
            r"instead of|other vendors?|demo from|quote from)\b",
            _I,
        ),
        "ja": re.compile(
            r"検討|比較|他社|使って|使用して|導入して|利用して|乗り換え|競合|相見積|見積(?:も?り)?を?(?:取|もら|いただ|頂)|さんと|と比べ"
            r"|更新|契約して|解約|切り替え|入れ替え"
        ),
    },
    "next_steps": {
        "en": re.compile(
            r"\b(i'll|i will|we'll|we will|let me|let's|send|schedule|set up|follow up|follow-up|book|share|"
            r"get back|loop in|by (?:" + _WEEKDAYS + r"|the end|end|next|tomorrow|friday)|next step|action item|"
            r"cancel\w*|instead)\b",
            _I,
        ),
        "ja": re.compile(
            r"します|しておきます|送ります|お送り|までに|手配|調整|確認し|準備|共有|ご連絡|連絡し|発行|設定|回します|伺い|中止|代わり|やめ"
        ),
    },
    "rest": {
        "en": re.compile(
            r"\b(problem|issue|need|needs|want|pain|concern\w*|worr\w*|expensive|challenge|difficult|struggl\w*|"
            r"risk|question|manual|spreadsheet|slow|waste|hard|can't|cannot|too)\b",
            _I,
        ),
        "ja": re.compile(r"困|課題|不安|心配|高い|必要|ほしい|欲しい|したい|手間|大変|問題|懸念|リスク|質問|難し|できない|時間がかか"),
    },
}
"""Cue patterns per pass and language ('en' also serves other languages)."""

PASS_NAMES = tuple(CUES)

#: Segments kept at the start (introductions) and end (agreed next steps) of a condensed transcript.
HEAD_SEGMENTS = 8
TAIL_SEGMENTS = 8
#: Marker line where a condensed transcript leaves segments out.
GAP_LINE = "[…]"


def cue(pass_name: str, language: str) -> re.Pattern[str]:
    """The cue pattern of one pass in one language."""
    table = CUES[pass_name]
    return table["ja" if language.startswith("ja") else "en"]


#: Spaces a recognizer puts between Japanese words (「見積もりを もらって」): not there for the cues.
_CJK_SPACE = re.compile(r"(?<=[\u3040-\u30ff\u3400-\u9fff])[ \u3000]+(?=[\u3040-\u30ff\u3400-\u9fff])")


#: What a recognizer writes for the words that say whose company is meant, by their reading:
#: 弊社 (へいしゃ, "our company": the seller) heard as 平社 (but 平社員 is a rank-and-file
#: employee), the misspelling 幣社, or kana; 御社 (おんしゃ, "your company") as kana or 恩社.
_JA_HOMOPHONES = ((re.compile(r"平社(?!員)|幣社|へいしゃ"), "弊社"), (re.compile(r"おんしゃ|恩社"), "御社"))


def cue_text(text: str) -> str:
    """``text`` as the cue patterns read it: without spaces between Japanese characters, and
    with the recognizer's homophones of 弊社 / 御社 read as those words. For matching only:
    quotes always come from the text as said."""
    text = _CJK_SPACE.sub("", text)
    for pattern, word in _JA_HOMOPHONES:
        text = pattern.sub(word, text)
    return text


def select(texts: dict[int, str], pass_name: str, language: str) -> list[int]:
    """Ids of the segments whose text matches the pass's cues, in order."""
    pattern = cue(pass_name, language)
    return [sid for sid, text in texts.items() if pattern.search(cue_text(text))]


@dataclass(frozen=True)
class Condensed:
    """A transcript for the passes: the lines sent and what was left out."""

    lines: list[Line]
    total_tokens: int
    kept_tokens: int
    left_out: int  # segments not sent
    first_id: int = 0  # the transcript's first segment id

    @property
    def condensed(self) -> bool:
        return self.left_out > 0

    def text(self) -> str:
        """The lines joined, with a gap marker wherever segments were left out."""
        out: list[str] = []
        prev = self.first_id - 1
        for line in self.lines:
            if self.left_out and line.segment_id != prev + 1:
                out.append(GAP_LINE)
            out.append(line.text)
            prev = line.segment_id
        return "\n".join(out)


def condense(
    lines: list[Line],
    texts: dict[int, str],
    language: str,
    budget: int,
    neighbours: int = 1,
) -> Condensed:
    """All lines when they fit ``budget`` tokens; else the most useful ones that fit, in order.

    Priority: the opening and closing segments, then segments matching more passes' cues,
    then their neighbours; ties go to the earlier segment. Never exceeds ``budget`` (a single
    line longer than the budget is left out).
    """
    total = sum(ln.tokens for ln in lines)
    first = lines[0].segment_id if lines else 0
    if total <= budget:
        return Condensed(lines, total, total, 0, first)
    hits: dict[int, int] = {}
    for name in PASS_NAMES:
        for sid in select(texts, name, language):
            hits[sid] = hits.get(sid, 0) + 1
    n = len(lines)
    priority: list[float] = []
    for i, line in enumerate(lines):
        p = float(hits.get(line.segment_id, 0))
        if i < HEAD_SEGMENTS or i >= n - TAIL_SEGMENTS:
            p += 10.0
        priority.append(p)
    # A neighbour of a hit inherits a little of its priority (context for the model).
    boosted = list(priority)
    for i in range(n):
        if priority[i] >= 1:
            for j in range(max(0, i - neighbours), min(n, i + neighbours + 1)):
                if j != i:
                    boosted[j] = max(boosted[j], priority[i] * 0.3)
    order = sorted(range(n), key=lambda i: (-boosted[i], i))
    chosen: set[int] = set()
    used = 0
    for i in order:
        if boosted[i] <= 0:
            break
        cost = lines[i].tokens
        if used + cost > budget:
            continue
        chosen.add(i)
        used += cost
    kept = [lines[i] for i in sorted(chosen)]
    return Condensed(kept, total, used, n - len(kept), first)


#: Share of Latin words written with a capital below which a text counts as uncased.
UNCASED_SHARE = 0.02
_LATIN_WORD = re.compile(r"[A-Za-z][A-Za-z']*")


def uncased(texts: Iterable[str]) -> bool:
    """Whether the Latin text of a transcript has (almost) no capitals, as a speech recognizer
    may write it ("we're on staff loop today"): capitalised names then say nothing. Text with
    fewer than 50 Latin words (a Japanese meeting) is not judged uncased."""
    words = [w for t in texts for w in _LATIN_WORD.findall(t) if w not in ("I", "I'm", "I'll", "I've", "I'd")]
    if len(words) < 50:
        return False
    return sum(1 for w in words if w[0].isupper()) / len(words) < UNCASED_SHARE


_LATIN_NAME = re.compile(r"(?<![A-Za-z0-9])[A-Z][A-Za-z0-9&'.-]*[A-Za-z0-9](?:\s+(?:[A-Z][A-Za-z0-9&'-]*|of|OF))*")
_KATAKANA_NAME = re.compile(r"[ァ-ヴー・]{3,}")
_SENTENCE_START = re.compile(r"(?:^|[.!?。！？]\s*|:\s*)$")
#: Katakana words the dictionary list (:func:`lexicon.is_common_katakana`) does not hold as
#: common nouns but that name things, not vendors, in a sales meeting.
_COMMON_KATAKANA = frozenset("エクセル カスタマーサクセス".split())
_COMMON_LATIN = frozenset(
    "I I'm I'll I've I'd OK Okay Yes Yeah No So And But Thanks Thank Great Sure Right Well Hi Hello Good "
    "We We're We'll Our You You're Your That That's This It It's They Let Let's Also Just Maybe Perfect "
    "Absolutely Honestly Actually Then Now Of Mr Ms Mrs Dr Q1 Q2 Q3 Q4 AM PM".split()
)


def candidate_names(texts: dict[int, str], segment_ids: Iterable[int], exclude: Iterable[str] = ()) -> list[str]:
    """Capitalised (Latin) and katakana names said in the given segments, in first-said order,
    without common words, month/weekday names and the ``exclude`` names (people, the seller)."""
    excluded = {e.casefold() for e in exclude if e}
    out: list[str] = []
    seen: set[str] = set()
    for sid in segment_ids:
        text = texts.get(sid, "")
        for m in list(_LATIN_NAME.finditer(text)) + list(_KATAKANA_NAME.finditer(text)):
            name = m.group(0).strip(" .-'")
            words = name.split()
            while words and (words[0] in _COMMON_LATIN or words[0].casefold() in ("of",)):
                words = words[1:]
            while words and words[-1].casefold() == "of":
                words = words[:-1]
            name = " ".join(words)
            if not name or name in _COMMON_LATIN or name in _COMMON_KATAKANA:
                continue
            if m.re is _KATAKANA_NAME and is_common_katakana(name):
                continue  # a dictionary's common noun (エリア, ポンプ), not a product name
            if name.isascii() and name.isupper() and len(name) <= 3:
                continue  # acronyms of things, not vendors (FAX, POS, CRM, SSO)
            if re.fullmatch(rf"(?:{_WEEKDAYS}|{_MONTHS})", name, _I):
                continue
            key = name.casefold()
            if key in seen or any(key == e or key in e.split() for e in excluded):
                continue
            # A capitalised word only at a sentence start is probably not a name.
            if m.re is _LATIN_NAME and _SENTENCE_START.search(text[: m.start()]) and len(words) == 1:
                if not re.search(rf"(?<![.!?]\s)(?<!^)\b{re.escape(name)}\b", text[m.end() :]):
                    if not any(c.isupper() for c in name[1:]):
                        continue
            seen.add(key)
            out.append(name)
    return out
