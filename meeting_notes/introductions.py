"""Self-introductions and participants: the rules that say who a speaker is from their own words.

A speaker introduces themself in one of their own first segments ("This is Diane in New Jersey",
"Hi, I'm Tom from Acme", 「丸山の佐藤です」, 「佐藤と申します」); :func:`find_introductions` finds
them with the segment and quote as evidence, :func:`check_llm_introductions` keeps only an LLM's
proposals that hold the same way. The companies of the sidecar's participants
(:class:`~meeting_notes.schema.Participant`: :func:`norm_company`, :func:`side_of_company`) and
:func:`same_person` match what is said to who is known. Pure functions over the transcript schema: the speaker map
(:mod:`meeting_notes.speaker_map`), the names stage and the notes passes all use these rules.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from meeting_notes.schema import Side, Transcript

_UP = r"[A-Z\u00C0-\u00DE]"
_WORD = rf"{_UP}[\w'’\-]*"
_NAME = rf"(?P<name>{_WORD}(?:\s+{_WORD}){{0,2}})"
_COMPANY = rf"(?:\s*,?\s+(?:from|with|at|of)\s+(?P<company>{_WORD}(?:\s+{_WORD}){{0,3}}))?"
_EN_PATTERNS = [
    re.compile(rf"(?i:\b(?:I'm|I’m|I am|my name is|my name's|my name’s))\s+{_NAME}{_COMPANY}"),
    re.compile(rf"(?i:\bthis is)\s+{_NAME}{_COMPANY}"),
    re.compile(rf"(?i:\bit's|\bit’s|\bit is)\s+{_NAME}(?:\s*,?\s+(?:from|with|at)\s+(?P<company>{_WORD}(?:\s+{_WORD}){{0,3}}))"),
    re.compile(rf"(?:^|[.!?,]\s*)(?i:(?:hi|hello|hey)[,!.]?\s+(?:all|everyone|there)?[,!.]?\s*)?{_NAME}(?i:\s+here\b){_COMPANY}"),
]
#: capitalised words that follow "I'm" / "this is" without being a name
_NOT_NAMES = frozenset(
    """a an the i so not just really very also still back now here there sorry glad happy fine good great
    okay ok yes no well actually sure right calling going looking trying wondering afraid excited interested
    curious originally it that this we you they he she his her my our your monday tuesday wednesday thursday
    friday saturday sunday january february march april may june july august september october november
    december mister mr mrs ms dr everyone everybody all hi hello hey thanks thank speaking pretty totally
    definitely absolutely exactly correct probably basically honestly new what who how when why where""".split()
)
_OTHER_PERSON = re.compile(r"^\s*,?\s*(?:our|my|the|who|she|he|they|his|her)\b", re.I)
_TITLES = re.compile(r"^(?:Mr|Mrs|Ms|Dr|Mister)\.?\s+")

_JA_NAME = r"[\u4e00-\u9fff\u3005\u30a1-\u30fa\u30fc]{1,8}"
_JA_LEFT = r"(?:^|(?<=[、。，．,.\s　！？!?「」『』])|(?<=の)|(?<=は)|(?<=私)|(?<=わたくし)|(?<=はい)|(?<=もしもし))"
_JA_COMPANY = r"(?:(?P<company>[\w・ー&]{1,20}?)の)?"
#: 「佐藤と申します」 「佐藤といいます」: strong; any name-like run qualifies
_JA_STRONG = re.compile(rf"{_JA_LEFT}{_JA_COMPANY}(?P<name>{_JA_NAME})(?:と申します|と申し上げます|といいます|と言います)(?!か)")
#: 「丸山の佐藤です」 「佐藤でございます」: only with a known surname or participant's name
_JA_WEAK = re.compile(rf"{_JA_LEFT}{_JA_COMPANY}(?P<name>{_JA_NAME})(?:です|でございます)(?![かがけしよね])")
_JA_NOT_NAMES = frozenset("何 私 弊社 御社 こちら そちら 以上 本日 今日 資料 営業 担当 大丈夫 了解 結構 承知".split())
#: common Japanese surnames: 「Xです」 names a speaker only when X is one of these (or a participant's)
JA_SURNAMES = frozenset(
    """佐藤 鈴木 高橋 田中 伊藤 渡辺 渡邊 山本 中村 小林 加藤 吉田 山田 佐々木 山口 松本 井上 木村 林 斎藤 斉藤 清水
    山崎 森 池田 橋本 阿部 石川 山下 中島 石井 小川 前田 岡田 長谷川 藤田 後藤 近藤 村上 遠藤 青木 坂本 斉藤 福田
    太田 西村 藤井 金子 岡本 藤原 中野 三浦 原田 中川 松田 竹内 小野 田村 中山 和田 石田 森田 上田 原 柴田 酒井
    工藤 横山 宮崎 宮本 内田 高木 安藤 島田 谷口 大野 丸山 今井 高田 藤本 武田 村田 上野 杉山 増田 小山 大塚
    平野 菅原 久保 松井 千葉 岩崎 桜井 木下 野口 松尾 菊地 野村 新井 渡部 佐野 杉本 古川 大西 市川""".split()
)


#: A role or department where a company should be (「保全課長」「人事部」「営業担当」).
_JA_ROLE = re.compile(r"(?:長|部|課|係|担当|室|チーム|マネージャー|リーダー)$|^(?:営業|担当|技術|総務|経理)")
#: What comes between a company and the name in a longer introduction: a role said with
#: 「をしております」 or 「を担当しております」 (「みどり薬局の人事部長をしております、河合です」,
#: 「株式会社クラウディアで営業を担当しております、田村でございます」), or a role and 「の」 after a comma
#: (「北陸製紙富山工場、保全課長の佐野です」).
_JA_ORG_BEFORE = re.compile(
    r"(?:^|[。！？!?\s、])(?:同じく)?(?P<company>[^\s、。！？「」]{2,24}?)"
    r"(?:[のでに][^、。]{1,16}?(?:をして|を担当して|を務めて|に所属して)(?:おり|い)(?:ます|まして)|、[^、。]{1,12}の)、?$"
)


def _ja_company_before(prefix: str) -> str | None:
    """The company a Japanese introduction names before a role, in the sentence before the name."""
    sentence = re.split(r"[。！？!?]", prefix)[-1]
    m = _JA_ORG_BEFORE.search(sentence)
    if m is None or _JA_ROLE.search(m.group("company")):
        return None
    return m.group("company")


@dataclass(frozen=True)
class Introduction:
    """A speaker naming themself in one of their own segments."""

    speaker: str
    name: str
    company: str | None
    segment_id: int
    quote: str


def _clean_en_name(raw: str) -> str | None:
    name = _TITLES.sub("", raw.strip())
    words = name.split()
    while words and words[-1].lower() in _NOT_NAMES:
        words.pop()
    if not words or words[0].lower() in _NOT_NAMES or any(w.lower() in _NOT_NAMES for w in words):
        return None
    if any(len(w.strip("'’-")) < 2 for w in words):
        return None
    return " ".join(w.strip("'’-,.") for w in words)


def _quote(text: str, start: int, end: int) -> str:
    """The sentence of ``text`` around ``start``-``end``, verbatim."""
    left = max((text.rfind(c, 0, start) for c in ".!?。！？"), default=-1)
    rights = [i for i in (text.find(c, end) for c in ".!?。！？") if i >= 0]
    right = min(rights) + 1 if rights else len(text)
    return text[left + 1 : right].strip()


def _name_tokens(name: str) -> list[str]:
    return [t for t in re.split(r"[\s\u3000・]+", name) if t]


def introductions_in(
    text: str, language: str, known_names: Iterable[str] = ()
) -> list[tuple[str, str | None, int, int]]:
    """Self-introductions in one segment's text: ``(name, company, start, end)``."""
    out = []
    ja = language.lower().startswith("ja") or bool(re.search(r"[\u3040-\u30ff]", text))
    if ja:
        known = set(JA_SURNAMES)
        for n in known_names:
            known.update(_name_tokens(n))
            known.add(n.replace(" ", "").replace("\u3000", ""))
        for pattern, strong in ((_JA_STRONG, True), (_JA_WEAK, False)):
            for m in pattern.finditer(text):
                name = m.group("name")
                if name in _JA_NOT_NAMES:
                    continue
                if not strong and not (name in known or any(name.startswith(k) and len(k) >= 2 for k in known)):
                    continue
                company = m.group("company")
                if not company or _JA_ROLE.search(company):
                    company = _ja_company_before(text[: m.start("name")]) or company
                out.append((name, company or None, m.start(), m.end()))
    for pattern in _EN_PATTERNS:
        for m in pattern.finditer(text):
            name = _clean_en_name(m.group("name"))
            if name is None or _OTHER_PERSON.match(text[m.end("name") :]) and "this is" in m.group(0).lower():
                continue
            company = m.groupdict().get("company")
            out.append((name, company, m.start("name"), m.end()))
    out.sort(key=lambda x: x[2])
    return out


def find_introductions(transcript: Transcript, first_segments: int = 8, known_names: Iterable[str] = ()) -> dict[str, Introduction]:
    """Each speaker's first self-introduction, searched in that speaker's own first
    ``first_segments`` segments (segments said mostly over someone else are skipped: their
    words may be another voice's)."""
    known = list(known_names)
    seen: dict[str, int] = {}
    out: dict[str, Introduction] = {}
    for seg in transcript.segments:
        spk = seg.speaker
        if spk is None or spk in out:
            continue
        seen[spk] = seen.get(spk, 0) + 1
        if seen[spk] > first_segments or seg.overlap >= 0.5:
            continue
        found = introductions_in(seg.text, transcript.language, known)
        if found:
            name, company, start, end = found[0]
            out[spk] = Introduction(spk, name, company, seg.id, _quote(seg.text, start, end))
    return out


def _squash(text: str) -> str:
    return re.sub(r"\s+", " ", unicodedata.normalize("NFKC", text)).strip()


def _name_in(name: str, quote: str) -> bool:
    """``name`` is in ``quote`` as whole words (whole run for Japanese)."""
    n, q = _squash(name), _squash(quote)
    if not n:
        return False
    if re.search(r"[\u3040-\u9fff]", n):
        return n.replace(" ", "") in q.replace(" ", "")
    return re.search(r"(?<![\w])" + re.escape(n) + r"(?![\w])", q, re.I) is not None


def check_llm_introductions(transcript: Transcript, proposed: Iterable[Any], speakers: Iterable[str]) -> dict[str, Introduction]:
    """The LLM's proposals that hold: the segment is that speaker's, the quote is in the segment
    verbatim (whitespace aside) and holds the name as whole words. Anything else is dropped."""
    wanted = set(speakers)
    by_id = {seg.id: seg for seg in transcript.segments}
    out: dict[str, Introduction] = {}
    for p in proposed:
        seg = by_id.get(p.segment_id)
        if p.speaker not in wanted or p.speaker in out or seg is None or seg.speaker != p.speaker:
            continue
        quote = _squash(p.quote)
        name = _squash(p.name)
        if not quote or quote not in _squash(seg.text) or not _name_in(name, quote):
            continue
        if name.casefold() in _NOT_NAMES or len(name) > 60:
            continue
        out[p.speaker] = Introduction(p.speaker, name, None, seg.id, quote)
    return out


# ---------------------------------------------------------------- participants and sides

_LEGAL = re.compile(
    r"(株式会社|有限会社|合同会社|\(株\)|（株）|\b(?:inc|ltd|llc|corp|corporation|co|gmbh|kk|k\.k|plc)\b\.?)", re.I
)


def norm_company(name: str | None) -> str:
    """A company name compared without case, legal forms, punctuation or width."""
    s = unicodedata.normalize("NFKC", name or "").casefold()
    s = _LEGAL.sub(" ", s)
    return re.sub(r"[\W_]+", "", s)


def side_of_company(company: str | None, seller_companies: Sequence[str], account: str | None) -> Side:
    """seller when ``company`` is one of the seller's; customer when it is the account, or when
    the seller's companies are known and it is none of them; else unknown."""
    c = norm_company(company)
    if not c:
        return "unknown"
    sellers = {norm_company(s) for s in seller_companies} - {""}
    if c in sellers:
        return "seller"
    if (account and c == norm_company(account)) or sellers:
        return "customer"
    return "unknown"


def same_person(said: str, full: str) -> bool:
    """``said`` (an introduced name) is ``full`` (a participant's name) or a whole part of it."""
    a = unicodedata.normalize("NFKC", said).casefold().replace(" ", "")
    b_tokens = [unicodedata.normalize("NFKC", t).casefold() for t in _name_tokens(full)]
    b = "".join(b_tokens)
    if not a:
        return False
    if a == b or a in b_tokens:
        return True
    said_tokens = [unicodedata.normalize("NFKC", t).casefold() for t in _name_tokens(said)]
    if len(said_tokens) > 1 and all(t in b_tokens for t in said_tokens):
        return True
    # Japanese: 佐藤 is the start (surname) of 佐藤健二
    return bool(re.search(r"[\u3040-\u9fff]", a)) and len(a) >= 2 and b.startswith(a)


__all__ = [
    "JA_SURNAMES",
    "Introduction",
    "check_llm_introductions",
    "find_introductions",
    "introductions_in",
    "norm_company",
    "same_person",
    "side_of_company",
]
