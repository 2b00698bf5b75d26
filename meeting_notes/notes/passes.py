"""Focused extraction passes: notes a small model can get right.

Instead of one call that fills the whole notes schema, six short questions share one prompt
prefix (the system text and the transcript, identical for every pass so that llama.cpp's
prompt cache reads it once) and each asks for a small schema:

1. ``people``: participants, sides, the seller's company and the customer account;
2. ``money``: the amounts found by :func:`money.find_amounts`, classified budget / price;
3. ``dates``: the dates found (and resolved against the meeting date) by
   :func:`dates.find_dates`, the ones that matter picked and labelled;
4. ``competitors``: picked from the product/company names said near "we use / 比較 / 検討";
5. ``next_steps``: owner (one of the participants), action, due as said (resolved by rule);
6. ``rest``: title, summary, needs, objections, decision process, risks, open questions, stage.

The model answers with segment ids; quotes are copied from the cited segment by code (the
sentence holding the item's key words), so every quote is verbatim. A pass whose answer stays
invalid after the client's repair round-trip leaves its fields empty and is recorded; a pass
with nothing to ask (no amounts, no dates, no candidate names) is skipped.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from meeting_notes.introductions import introductions_in, same_person
from meeting_notes.notes import prefilter
from meeting_notes.notes.dates import find_dates
from meeting_notes.notes.evidence import normalize
from meeting_notes.notes.llm_client import LLMClient, LLMError
from meeting_notes.notes.money import counted_after, find_amounts, find_numbers
from meeting_notes.notes.prompts import PassPrompts, pass_messages
from meeting_notes.notes.schema import (
    QUOTE_MAX,
    TEXT_MAX,
    Account,
    Competitor,
    DealStage,
    DealStageSuggestion,
    DecisionMaker,
    Evidence,
    Extraction,
    NextStep,
    Objection,
    Participant,
    Side,
    TextItem,
    TimelineItem,
    extraction_json_schema,
)

#: Most candidates (amounts, dates) listed in one pass's question.
MAX_CANDIDATES = 24
#: Most candidate competitor names offered.
MAX_NAMES = 20
#: Context shown beside a candidate amount or date, in characters.
CONTEXT_CHARS = 110
#: Deal words: a meeting with none of them is not a sales meeting, whatever the model says
#: (the 1.5B model called a casual phone call about home towns "sales"); with only one line
#: holding them, the model's "not sales" stands.
SALES_WORDS = re.compile(
    r"\b(budget|pricing|price[sd]?|quote[sd]?|contract|proposal|licen[cs]es?|subscription|purchase|trial|pilot|demo|"
    r"renewal|discount|vendor|invoice|procurement|onboarding|per (?:user|seat|license)|software|platform)\b"
    r"|予算|見積|価格|料金|契約|導入|購入|トライアル|デモ|提案|製品|費用|月額|初期費用|御社|弊社",
    re.IGNORECASE,
)
#: Fewest lines with deal words for a meeting the model calls "not sales" to be read as one.
MIN_DEAL_LINES = 2
#: A sentence about what the customer can spend: its bare numbers are amount candidates too.
SPENDING_WORDS = re.compile(
    r"\b(budget\w*|set aside|spend|afford|allocat\w*|approved|cap|ceiling|up to)\b|予算|枠|上限|まで(?:なら|は)?出せ|投資",
    re.IGNORECASE,
)
#: Words that make an amount the seller's price.
PRICE_WORDS = re.compile(
    r"\b(pric\w*|quote\w*|fee|fees|charge\w*|list|discount\w*|we'd be at|we would be at|per (?:user|seat|license)|"
    r"plan is|costs? you|onboarding|subscription)\b|価格|料金|月額|年額|見積|初期費用|割引|値引|プラン|単価|税別|税込",
    re.IGNORECASE,
)
#: Words that make an amount neither budget nor price: losses, variances, revenue, penalties
#: (「差異が800万円」, "we lost 40k to no-shows"); the clause must not also be about spending or price.
OTHER_AMOUNT_WORDS = re.compile(
    r"\b(loss\w*|lost|losing|variance|discrepanc\w*|shrinkage|waste\w*|spoil\w*|damage\w*|penalt\w*|fined|"
    r"thr(?:ew|own|ow|owing) (?:\w+ )?away|expired|scrapp\w*|"
    r"revenue|turnover|sales of|write-?offs?|overtime)\b|差異|誤差|損失|ロス|廃棄|被害|売上|売り上げ|赤字|違約金|罰金|残業代",
    re.IGNORECASE,
)
#: A rate worked out into a total (「月45万円だと年間540万円」, "at 9 a seat that comes to 10,800 a
#: year"): the arithmetic of a price, whoever says it, not a budget.
PRICE_ARITHMETIC = re.compile(
    r"(?:月|年|人|台|件|ユーザー|ライセンス)[^。？！]{0,12}円(?:だと|なら|で計算すると)[^。？！]{0,20}(?:年間|月|合計|トータル|全部で)"
    r"|\b(?:that(?:'s| is)|comes? to|works? out (?:to|at)|adds up to|totals?)\b[^.?!]{0,40}\b(?:a|per|each|every) (?:year|month)\b"
    r"|\b(?:a|per) (?:seat|user|license|month)\b[^.?!]{0,30}\b(?:comes? to|works? out (?:to|at)|adds up to)\b",
    re.IGNORECASE,
)
#: An amount the customer says they are thinking of or expecting to spend (「年間で600万円程度を
#: 考えています」, "we're thinking around 50k"): their budget.
BUDGET_EXPECTATION = re.compile(
    r"円(?:程度|くらい|ぐらい|前後|ほど)?(?:まで)?を?(?:考えて|想定して|見込んで|見て)(?:い|お)"
    r"|\b(?:we're|we are|i'm|i am)\s+(?:thinking|looking at|expecting)\s+(?:something\s+)?(?:around|about|in the range of|roughly)\b"
    # what the customer settled on themselves: "we said twenty two k for the year", "we can go to 50k"
    r"|\b(?:we|i)(?:'ve| have)?\s+(?:said|agreed on|settled on|landed on|decided on|can do|could do|can go (?:up )?to|can stretch to|"
    r"(?:'d|would) want to stay under|want to stay under|have approved|got approved for)\b",
    re.IGNORECASE,
)
#: A product named in a sentence with these words is a system the seller's product connects to
#: (the customer's TMS, payroll, identity provider, POS), not a competitor ...
INTEGRATION_WORDS = re.compile(
    r"\b(integrat\w*|sync\w*|connect\w*|plugs? into|exports?|imports?|API|SSO|single sign-on|log ?in|"
    r"identity provider|push\w* (?:data )?(?:in)?to|pull\w* (?:data )?from)\b|連携|同期|取り込|インポート|エクスポート|API|接続|ログイン",
    re.IGNORECASE,
)
#: ... unless one of its sentences weighs it against the seller's product.
RIVAL_WORDS = re.compile(
    r"\b(instead|replac\w*|switch\w*|compar\w*|alternatives?|competitors?|also (?:looking|considering)|looking at|"
    r"look at|evaluat\w*|vs\.?|versus|demo\w*|quoted?|quotes|cheaper|lower|win against)\b"
    r"|比較|他社|乗り換え|競合|相見積|検討|代わり|見積",
    re.IGNORECASE,
)
#: Smallest bare number taken as an amount in such a sentence.
MIN_BARE_AMOUNT = 100
#: The labels the money pass gives each candidate amount.
MONEY_LABELS = ("budget", "price", "other")
#: Dates said alone that name the meeting day itself ("today's agenda"), not a plan, unless the
#: sentence makes them a deadline ("by today", 「今日中」).
BARE_TODAY = re.compile(r"^(?:today|tonight|now|本日|今日|きょう)$", re.IGNORECASE)
DEADLINE_WORDS = re.compile(r"\bby\b|\bend of\b|\bbefore\b|中に?|まで", re.IGNORECASE)
#: Longest resolved range (days) kept on the timeline ...
MAX_SPAN_DAYS = 120
#: ... unless it is a deadline within a period (「年内」, 「年度内に」, "within this year"): the
#: days left in it, however many.
WITHIN_PERIOD = re.compile(r"(?:中|内|いっぱい)(?:に|で|まで)?$|^within\b", re.IGNORECASE)
#: First-person commitments: the speaker of such a line owns the step.
FIRST_PERSON = re.compile(
    r"\b(I'll|I will|I can|let me|I'm going to|we'll|we will)\b|します|しておきます|いたします|お送りします|送ります|手配します|発行します|確認します|回します",
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
#: Words that make a line conditional or habitual: the model decides those, not the rules.
CONDITIONAL = re.compile(r"\b(if|unless|usually|normally|always|would|might|maybe|probably)\b|もし|なら|たら|れば|いつも|普段", re.IGNORECASE)
#: Greetings and requests for information: never a next step.
SMALL_TALK = re.compile(
    r"\b(thanks|thank you|tell (?:us|me)|walk (?:us|me) through|ask about|explain)\b"
    r"|よろしくお願い|ありがとう|教えて|お聞かせ|聞かせて|お願いいたします。?$",
    re.IGNORECASE,
)
#: Most sentences offered to the next-steps pass.
MAX_STEP_CANDIDATES = 16
#: The labels the next-steps pass gives each candidate sentence.
STEP_LABELS = ("step", "no")
#: Pass errors that leave the pass's fields empty instead of failing the meeting.
PASS_ERRORS = frozenset({"invalid_output", "context_length_exceeded", "empty_response"})


def _lim(n: int) -> Any:
    return Field(default_factory=list, json_schema_extra={"maxItems": n})


class _Out(BaseModel):
    model_config = ConfigDict(extra="ignore")


class PersonOut(_Out):
    name: str = ""
    company: str = ""
    role: str = ""
    side: Side = "unknown"
    speaker: str = ""
    seg: int = -1


class DeciderOut(_Out):
    name: str = ""
    role: str = ""
    seg: int = -1


class PeopleOut(_Out):
    sales: bool = True
    seller_company: str = ""
    account: str = ""
    people: list[PersonOut] = _lim(10)
    deciders: list[DeciderOut] = _lim(4)


class LabelsOut(_Out):
    """One label per candidate: {"M1": "price", "M2": "budget", ...} (money, next steps)."""

    model_config = ConfigDict(extra="allow")


class CompetitorOut(_Out):
    name: str
    context: str = ""
    seg: int = -1


class CompetitorsOut(_Out):
    competitors: list[CompetitorOut] = _lim(6)


class ItemOut(_Out):
    text: str
    seg: int = -1


class ObjectionOut(_Out):
    objection: str
    response: str = ""
    seg: int = -1


class RestOut(_Out):
    title: str = ""
    summary: str = ""
    needs: list[ItemOut] = _lim(5)
    objections: list[ObjectionOut] = _lim(4)
    process: list[ItemOut] = _lim(3)
    risks: list[ItemOut] = _lim(3)
    questions: list[ItemOut] = _lim(3)
    stage: DealStage = "unknown"
    stage_reason: str = ""
    stage_seg: int = -1


def _schema(model: type[BaseModel], enums: dict[tuple[str, ...], list[str]] | None = None) -> dict[str, Any]:
    """The pass's JSON schema, with some string fields restricted to the listed values."""
    schema = extraction_json_schema(model)
    for path, values in (enums or {}).items():
        node = schema
        for key in path:
            node = node["properties"][key] if key != "[]" else node["items"]
        node.pop("type", None)
        node["enum"] = values
    return schema


# -- quotes ------------------------------------------------------------------------------
_SENTENCE = re.compile(r"[^.!?。！？]+[.!?。！？]*")


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
        words = cut.split(" ")
        if start > 0:
            words = words[1:]
        if start + QUOTE_MAX < len(pick):
            words = words[:-1]
        cut = " ".join(words)
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


# -- running the passes ------------------------------------------------------------------
@dataclass(frozen=True)
class Window:
    """A stretch of the transcript the model reads in one prompt prefix: ``shared_user`` holds
    its lines (``ids``, with a few lines of the previous window as context); the candidates said
    in its ``own`` segments are asked about in it."""

    shared_user: str
    ids: frozenset[int]
    own: frozenset[int]


@dataclass
class PassRun:
    """Inputs shared by the passes of one meeting, and what each pass did.

    ``texts`` holds every segment: the rules read them all. ``shared_user`` is the prefix of the
    people and rest passes (the whole transcript when it fits one window, else a digest: the
    opening, the close and the lines with the most cues). With ``windows``, the candidate
    passes (money, competitors, next steps) ask about each window's candidates in that window's
    own prefix, so a long meeting is read whole in as many calls as it needs; without, everything
    is asked in ``shared_user``. ``read`` collects the segments the model has read."""

    client: LLMClient
    prompts: PassPrompts
    shared_user: str
    language: str
    texts: dict[int, str]  # segment id -> text, every segment
    anchor: dt.date | None
    anchor_guessed: bool
    max_tokens: int
    speakers: dict[int, str] = field(default_factory=dict)  # segment id -> SPEAKER label
    statuses: dict[str, str] = field(default_factory=dict)
    info: dict[str, Any] = field(default_factory=dict)
    windows: list[Window] = field(default_factory=list)
    shared_ids: frozenset[int] | None = None  # the segments in shared_user (None: all)
    read: set[int] = field(default_factory=set)
    on_call: Callable[[str], None] | None = None  # progress: called before each model call
    _recording: list[tuple[str, str, type[BaseModel], dict[str, Any], Window | None]] | None = None
    _answers: dict[tuple[str, str, str], Any] = field(default_factory=dict)

    @property
    def ja(self) -> bool:
        return self.language.startswith("ja")

    def candidate_windows(self) -> list[Window]:
        """The windows the candidate passes ask in (one: the shared prefix, when not windowed)."""
        if self.windows:
            return self.windows
        ids = frozenset(self.texts) if self.shared_ids is None else self.shared_ids
        return [Window(self.shared_user, ids, frozenset(self.texts))]

    def window_of(self, seg: int) -> int:
        """Index of the window that asks about a candidate said in segment ``seg``."""
        return next((k for k, w in enumerate(self.candidate_windows()) if seg in w.own), 0)

    def ask(
        self, name: str, question: str, model: type[BaseModel], schema: dict[str, Any], window: Window | None = None
    ) -> Any:
        """One pass's call in ``window``'s prefix (default: the shared one); None (recorded) when
        the answer stays invalid. A pass asked in several windows keeps its first failure."""
        prefix = window.shared_user if window is not None else self.shared_user
        if self._recording is not None:  # see in_window_order
            self._recording.append((name, question, model, schema, window))
            return None
        key = (name, question, prefix)
        if key in self._answers:
            return self._answers.pop(key)
        if self.on_call is not None:
            self.on_call(name)
        messages = pass_messages(self.prompts, prefix, question)
        try:
            result = self.client.complete(
                messages, model, schema, f"notes_{name}", self.prompts.version_id, max_tokens=self.max_tokens
            )
        except LLMError as exc:
            if exc.code in PASS_ERRORS:
                self.statuses[name] = exc.code
                return None
            raise
        if self.statuses.get(name) in (None, "ok", "rules", "skipped"):
            self.statuses[name] = "ok"
        if window is not None:
            self.read |= window.ids
        else:
            self.read |= set(self.texts) if self.shared_ids is None else self.shared_ids
        return result.value

    def label(
        self, name: str, question: str, ids: list[str], values: tuple[str, ...], window: Window | None = None
    ) -> dict[str, str] | None:
        """One pass that gives each candidate id one of ``values`` (every id required); None
        (recorded) when the answer stays invalid."""
        schema = {
            "type": "object",
            "properties": {i: {"enum": list(values)} for i in ids},
            "required": list(ids),
            "additionalProperties": False,
        }
        out: LabelsOut | None = self.ask(name, question, LabelsOut, schema, window)
        if out is None:
            return None
        return {k: str(v) for k, v in (out.model_extra or {}).items() if k in schema["properties"]}

    def in_window_order(self, passes: Callable[[], Any]) -> Any:
        """Run ``passes`` (a function making :meth:`ask` calls that do not depend on each
        other's answers) with their calls sent window by window: the server keeps one prompt
        prefix in its cache, so a window's questions are asked one after another and each
        window is read once, not once per pass. The calls are recorded by a dry run, sent in
        window order, and their answers handed back when ``passes`` runs again."""
        if len(self.windows) < 2:
            return passes()
        self._recording = []
        saved = (dict(self.statuses), dict(self.info))
        try:
            passes()
            recorded = self._recording
        finally:
            self._recording = None
        self.statuses, self.info = saved
        order = {w.shared_user: k for k, w in enumerate(self.windows)}
        recorded.sort(key=lambda r: order.get(r[4].shared_user, -1) if r[4] is not None else -1)  # stable
        for name, question, model, schema, window in recorded:
            prefix = window.shared_user if window is not None else self.shared_user
            self._answers[(name, question, prefix)] = self.ask(name, question, model, schema, window)
        return passes()

    def by_window(self, segs: Iterable[tuple[str, int]], size: int) -> list[tuple[Window, list[str]]]:
        """Candidate ids (with their segments) grouped by the window that asks about them, at
        most ``size`` ids a call, in transcript order."""
        windows = self.candidate_windows()
        groups: dict[int, list[str]] = {}
        for cid, seg in segs:
            groups.setdefault(self.window_of(seg), []).append(cid)
        out = []
        for k in sorted(groups):
            ids = groups[k]
            out += [(windows[k], ids[i : i + size]) for i in range(0, len(ids), size)]
        return out

    # evidence --------------------------------------------------------------------------
    def find_segment(self, key: str, prefer: int = -1) -> int:
        """``prefer`` when it holds ``key`` (or no key is given), else the first segment that does."""
        nkey = normalize(key)
        if prefer in self.texts and (not nkey or nkey in normalize(self.texts[prefer])):
            return prefer
        if nkey:
            for sid, text in self.texts.items():
                if nkey in normalize(text):
                    return sid
        return prefer if prefer in self.texts else -1

    def evidence(self, seg: int, key: str = "", about: str = "") -> list[Evidence]:
        """Evidence from the cited segment: the one holding ``key`` (a name, the due words), or,
        for a free-text item, the cited segment or a near one that supports ``about``; none
        (the item is then dropped by the check) when no segment does."""
        if key:
            sid = self.find_segment(key, seg)
        else:
            near = [seg] + [seg + d for d in (-1, 1, -2, 2)]
            sid = next((i for i in near if i in self.texts and supports(self.texts[i], about)), -1) if about else seg
        if sid not in self.texts:
            return []
        return [Evidence(segment_ids=[sid], quote=quote_from(self.texts[sid], key, about))]


def _said(name: str, texts: dict[int, str]) -> bool:
    n = normalize(name)
    return bool(n) and any(n in normalize(t) for t in texts.values())


def _overlaps(a: str, b: str) -> bool:
    """Whether two company names are the same company (one holds the other, 3+ characters)."""
    na, nb = normalize(re.sub(r"株式会社|有限会社|合同会社|\b(inc|ltd|llc|corp)\b\.?", "", a, flags=re.I)), normalize(
        re.sub(r"株式会社|有限会社|合同会社|\b(inc|ltd|llc|corp)\b\.?", "", b, flags=re.I)
    )
    if len(na) < 2 or len(nb) < 2:
        return False
    return na in nb or nb in na


#: What only the seller says of their own side.
SELLER_WORDS = re.compile(r"\b(here at|our product|our platform|our software|our pricing|our plans?)\b|弊社|私ども|当社", re.IGNORECASE)
#: A role or department named where a company should be.
ROLE_WORDS = re.compile(
    r"担当|部長|課長|社長|係長|総務|部$|課$|マネージャー|\b(manager|director|team|department|head of|executive|officer)\b",
    re.IGNORECASE,
)
_JA_COMPANY = re.compile(
    r"株式会社([一-龥ァ-ヴーA-Za-z0-9]{2,12})|([一-龥ァ-ヴーA-Za-z0-9]{2,12})株式会社"
    r"|([一-龥ぁ-んァ-ヴー]{1,8}(?:建設|工業|商事|製作所|物産|産業|電機|電子|精機|機械|化学|製薬|食品|工務店|歯科|病院|"
    r"ホールディングス|フーズ|ストア|商店|運輸|物流|亭))"
)


def _japanese_company(texts: dict[int, str], seller: str) -> str:
    """The company named most often in the meeting (株式会社X, X建設, ...) that is not the seller
    (the seller's company is also the one named in a line that says 弊社/私ども/当社)."""
    own: set[str] = set()
    counts: Counter[str] = Counter()
    for text in texts.values():
        for m in _JA_COMPANY.finditer(text):
            name = next(g for g in m.groups() if g)
            if re.search(r"弊社|私ども|当社|と申します", text):
                own.add(name)
            counts[name] += 1
    for name in list(counts):
        if "弊社" in name or (seller and _overlaps(name, seller)) or any(_overlaps(name, o) for o in own):
            del counts[name]
    return counts.most_common(1)[0][0] if counts else ""


#: "Hi all, Josh here.", "Karen O'Neill, VP of People at ...": a name said first in a line, which
#: maps a speaker to a participant the people pass already found (never a new participant).
_EN_NAMED = re.compile(
    r"(?:^|[.!?,]\s+)(?:(?P<name>[A-Z][a-z'-]+(?:\s[A-Z][A-Za-z'-]+)?)\s+here\b|(?P<full>[A-Z][a-z'-]+\s[A-Z][A-Za-z'-]+),\s(?!you\b))"
)
_EN_NOT_NAMES = frozenset("The Then And But So Okay Hi Hello Yes Sure Great Thanks Yeah".split())
#: Segments of each speaker searched for a self-introduction (the first ones they say).
INTRO_SEGMENTS = 2


@dataclass(frozen=True)
class Introduction:
    speaker: str  # SPEAKER label
    name: str
    company: str
    seg: int
    self_named: bool  # "I'm X" / 「Xです」 rather than a name merely said first


def self_introductions(run: PassRun, known: Iterable[str] = ()) -> list[Introduction]:
    """Names the speakers give themselves in their first lines (the rules of
    :func:`meeting_notes.naming.introductions_in`, ``known`` names accepted in 「Xです」), and
    names said first in a line ("Josh here", "Karen O'Neill, VP of ...")."""
    seen: dict[str, int] = {}
    out: list[Introduction] = []
    for sid in sorted(run.texts):
        label = run.speakers.get(sid, "")
        if not label or seen.get(label, 0) >= INTRO_SEGMENTS or any(i.speaker == label for i in out):
            continue  # each speaker's first introduction only (「隣にいるのが…の岡田です」 is a colleague)
        seen[label] = seen.get(label, 0) + 1
        text = run.texts[sid]
        found = [Introduction(label, n, c or "", sid, True) for n, c, _, _ in introductions_in(text, run.language, known)]
        if not found and not run.ja:
            # Lowercase text ("i'm ben castillo i'm the account exec"): a known name said right
            # after "I'm / this is / my name is", or before "here", names its speaker.
            found = [Introduction(label, n, "", sid, True) for n in known if _introduced_uncased(text, n)]
        for m in _EN_NAMED.finditer(text):
            name = m.group("name") or m.group("full")
            if name.split()[0] not in _EN_NOT_NAMES:
                found.append(Introduction(label, name, "", sid, False))
        out.extend(found[:1])
    return out


def _introduced_uncased(text: str, name: str) -> bool:
    """Whether ``text`` introduces ``name`` in any case: "i'm ben castillo", "ben here"; the
    name's first word at least, on word boundaries."""
    first = name.split()[0] if name.split() else ""
    if len(first) < 2:
        return False
    forms = "|".join(re.escape(f) for f in dict.fromkeys([name, first]))
    pattern = (
        rf"\b(?:i'm|i’m|i am|this is|my name is|my name's)\s+(?:{forms})\b"
        rf"|\b(?:{forms})\s+(?:here|i'm|i’m|i am)\b"  # "ben here", "janine ortiz i'm director of operations"
    )
    return re.search(pattern, text, re.IGNORECASE) is not None


@dataclass
class PeopleResult:
    sales: bool
    seller_company: str
    account: Account
    participants: list[Participant]
    decision_makers: list[DecisionMaker]
    speakers: dict[str, str]  # SPEAKER label -> name


def people_pass(run: PassRun) -> PeopleResult:
    """Participants, sides, seller company and account."""
    out: PeopleOut | None = run.ask("people", run.prompts.questions["people"], PeopleOut, _schema(PeopleOut))
    if out is None:
        return PeopleResult(True, "", Account(), [], [], {})
    seller = out.seller_company.strip()
    people: list[Participant] = []
    speakers: dict[str, str] = {}
    seen: set[str] = set()
    for p in out.people:
        key = normalize(p.name)
        if not key or key in seen:
            continue
        seen.add(key)
        side = p.side
        if seller and p.company and _overlaps(p.company, seller):
            side = "seller"
        people.append(
            Participant(name=p.name, company=p.company, role=p.role, side=side, evidence=run.evidence(p.seg, p.name))
        )
        if p.speaker:
            speakers.setdefault(p.speaker, p.name)
    # Names the model copied from its example are never said: out before sides and owners.
    people = [p for p in people if _said(p.name, run.texts)]
    speakers = {k: v for k, v in speakers.items() if any(p.name == v for p in people)}
    if seller and not _said(seller, run.texts):
        seller = ""
    # Who is who by the speakers' own introductions, which beat the model's speaker labels.
    intros = self_introductions(run, [p.name for p in people])
    for intro in intros:
        match = next((p for p in people if same_person(intro.name, p.name) or same_person(p.name, intro.name)), None)
        if match is None and intro.self_named:
            match = Participant(
                name=intro.name, company=intro.company, side="unknown",
                evidence=[Evidence(segment_ids=[intro.seg], quote=quote_from(run.texts[intro.seg], intro.name))],
            )
            people.append(match)
        if match is None or match.name in [v for k, v in speakers.items() if k != intro.speaker]:
            continue
        if intro.self_named or intro.speaker not in speakers:
            speakers[intro.speaker] = match.name
        if intro.company and _said(intro.company, run.texts) and not ROLE_WORDS.search(intro.company):
            # 「丸山建設の西村です」: the company they name beats the model's guess.
            k = people.index(match)
            people[k] = match.model_copy(update={"company": intro.company})
    # A speaker who says 弊社 / "here at" / "our product" is the seller.
    own = {run.speakers.get(i, "") for i, t in run.texts.items() if SELLER_WORDS.search(t)} - {""}
    for i, p in enumerate(people):
        label = next((k for k, v in speakers.items() if v == p.name), "")
        if label in own and p.side == "unknown":
            people[i] = p.model_copy(update={"side": "seller"})
            if not seller and p.company and _said(p.company, run.texts):
                seller = p.company
    account_name = out.account.strip()
    if account_name and not _said(account_name, run.texts):
        account_name = ""  # copied from the prompt's example, or made up
    if account_name and seller and _overlaps(account_name, seller):
        account_name = ""  # the seller is never the account
    if account_name and ROLE_WORDS.search(account_name):
        account_name = ""  # a role or department ("カスタマーサクセス担当"), not a company
    if not account_name:
        # The company a customer names in their own introduction (「みどり薬局の河合です」,
        # "Lucia, I own Ember & Oak"): not the seller's, not a role.
        named = Counter(
            i.company.strip() for i in intros
            if i.company and i.speaker not in own and _said(i.company, run.texts) and not ROLE_WORDS.search(i.company)
            and not (seller and _overlaps(i.company, seller))
        )
        account_name = named.most_common(1)[0][0] if named else ""
    if not account_name and run.ja:
        account_name = _japanese_company(run.texts, seller)
    if not account_name or not _said(account_name, run.texts):
        companies = Counter(
            p.company for p in people if p.company and p.side == "customer" and not (seller and _overlaps(p.company, seller))
        )
        account_name = next((c for c, _ in companies.most_common() if _said(c, run.texts)), "")
    # Sides by company where the company says it: the 1.5B model put customers who named the
    # customer's company on the seller's side (ja_restaurant_order, ja_construction_site).
    for i, p in enumerate(people):
        if not p.company:
            continue
        is_seller = bool(seller) and _overlaps(p.company, seller)
        is_customer = bool(account_name) and _overlaps(p.company, account_name)
        if is_seller != is_customer:
            people[i] = p.model_copy(update={"side": "seller" if is_seller else "customer"})
    account = Account(name=account_name, evidence=run.evidence(-1, account_name) if account_name else [])
    seller_names = {normalize(p.name) for p in people if p.side == "seller"}
    deciders = [
        DecisionMaker(name=d.name, role=d.role, evidence=run.evidence(d.seg, d.name))
        for d in out.deciders
        if d.name and normalize(d.name) not in seller_names
    ]
    return PeopleResult(out.sales, seller, account, people, deciders, speakers)


#: A sentence about who approves, signs or decides.
DECISION_CUES = re.compile(
    r"\b(signs?|signed|sign-off|approv\w*|decid\w*|decision|final say|final call|goes to|go to|has to go|chairs?)\b"
    r"|決裁|承認|判断|決め|稟議|役員会|取締役会|経営会議|理事会",
    re.IGNORECASE,
)
_JA_TITLES = "副社長|社長|専務|常務|会長|工場長|本部長|院長|理事長"
#: Roles and bodies that approve or decide.
DECIDER_ROLES = re.compile(
    r"\b((?:steering |executive |investment |purchasing )?committee|board of directors|board|CFO|CEO|COO|CTO|CIO|"
    r"co-owner|owner|president|managing director)\b|役員会|取締役会|経営会議|理事会|" + _JA_TITLES,
    re.IGNORECASE,
)
#: 「社長の丸山」, 「藤田専務」: a Japanese name beside a title.
_JA_TITLED = re.compile(rf"(?:{_JA_TITLES})の([一-龥]{{2,4}})|([一-龥]{{2,4}})(?:{_JA_TITLES})")
_EN_TITLES = r"(?:CFO|CEO|COO|CTO|CIO|co-owner|owner|president|managing director)"
#: "our CFO, Linda Park", "Linda Park, our CFO": an English name beside a title.
_EN_TITLED = re.compile(
    rf"\b{_EN_TITLES},?\s+([A-Z][a-z]+(?:\s[A-Z][a-z'-]+)?)\b|\b([A-Z][a-z]+\s[A-Z][a-z'-]+),\s+(?:(?:our|the|who is|who's)\s+)?{_EN_TITLES}\b"
)
#: Words the title pattern catches that are not names (「社長の決裁」, 「工場長の承認」).
_NOT_NAMES = frozenset("決裁 承認 判断 了承 確認 意向 稟議 最終 方針 許可 説明 同意 決定 指示 判子 ハンコ".split())
#: Capitalised words after a title that do not start a name ("our CFO, Then ...").
_STOP_TITLE_WORDS = frozenset("The Then And But So She He They It We I Our Your Their This That Anything".split())
#: Characters between a person and their role for the two to be one decider ("our CFO, Linda Park").
ROLE_DISTANCE = 30


#: Words that deny the role after them ("no committee, no board", "we don't have a board").
_NEGATED = re.compile(r"\b(?:no|not|without|never|don't have|do not have|there's no|there is no)\s+(?:a |an |the |any )?$|(?:は|も)?(?:ない|ありません)$", re.IGNORECASE)
#: The speaker says they decide themselves ("it's just me deciding", "I sign it", 「私が決めます」).
SELF_DECIDER = re.compile(
    r"\b(?:it's|it is)\s+(?:just\s+|only\s+|all\s+)?(?:me|my call|my decision|up to me)\b|\b(?:I|me)\s+(?:decid\w*|sign\w*|approv\w*|pick\w*|make the (?:call|decision))\b"
    r"|\bmy (?:call|decision|signature|sign-off)\b|\bup to me\b|私が(?:決め|判断|決裁|承認)|私の(?:判断|決裁|一存)|私一人で",
    re.IGNORECASE,
)


def _decider_entities(text: str, persons: list[str]) -> list[tuple[str, str, int]]:
    """(name, role, position) of the people, roles and bodies named in ``text``: a person and
    a role next to each other are one decider."""
    found: list[tuple[str, str, int]] = []
    for name in persons:
        at = _name_position(text, name)
        if at >= 0:
            found.append((name, "", at))
    for m in (*_JA_TITLED.finditer(text), *_EN_TITLED.finditer(text)):
        name = m.group(1) or m.group(2)
        if name not in _NOT_NAMES and name.split()[0] not in _STOP_TITLE_WORDS and not any(_overlaps(name, f[0]) for f in found):
            found.append((name, "", m.start()))
    roles = [(m.group(0), m.start()) for m in DECIDER_ROLES.finditer(text) if not _NEGATED.search(text[: m.start()])]
    out: list[tuple[str, str, int]] = []
    taken: set[int] = set()
    for name, _, at in sorted(found, key=lambda f: f[2]):
        near = [(abs(pos - at), k) for k, (_, pos) in enumerate(roles) if k not in taken and abs(pos - at) <= ROLE_DISTANCE + len(name)]
        role = ""
        if near:
            k = min(near)[1]
            taken.add(k)
            role = roles[k][0]
        out.append((name, role, at))
    out += [(role, "", pos) for k, (role, pos) in enumerate(roles) if k not in taken]
    return sorted(out, key=lambda f: f[2])


def deciders_by_rule(run: PassRun, people: PeopleResult) -> list[DecisionMaker]:
    """Who approves, signs or decides, from the customer's lines that say so ("anything over
    100,000 has to go to our CFO, Linda Park", 「最終的には社長の丸山が決めます」): the people,
    roles and bodies named in the sentence (else in its line), a person and their role as one.
    Questions and the seller's own lines are skipped. The 1.5B model named none of these in
    the eval set's eight meetings (RESULTS.md), so the words decide."""
    sellers = {normalize(p.name) for p in people.participants if p.side == "seller"}
    persons = [p.name for p in people.participants if p.name and normalize(p.name) not in sellers]
    out: list[DecisionMaker] = []
    for sid, text in run.texts.items():
        speaker = people.speakers.get(run.speakers.get(sid, ""), "")
        if speaker and normalize(speaker) in sellers:
            continue
        cues = [sn for sn in sentences(text) if DECISION_CUES.search(sn) and not re.search(r"[?？]\s*$", sn)]
        if not cues:
            continue
        found = _decider_entities(" ".join(cues), persons) or _decider_entities(text, persons)
        if speaker and any(SELF_DECIDER.search(c) and not _QUESTION.search(c) for c in cues):
            found = [(speaker, "", 0), *found]  # "it's just me deciding": the speaker decides
        for name, role, _ in found:
            if any(_overlaps(name, d.name) or normalize(name) in (normalize(d.name), normalize(d.role)) for d in out):
                continue
            out.append(DecisionMaker(name=name[:80], role=role[:120], evidence=[Evidence(segment_ids=[sid], quote=quote_from(text, name))]))
    return out


@dataclass(frozen=True)
class Candidate:
    id: str
    seg: int
    said: str
    sentence: str
    resolved: str = ""


def _context(sentence: str, said: str) -> str:
    if len(sentence) <= CONTEXT_CHARS:
        return sentence
    at = max(0, sentence.find(said))
    start = max(0, min(at - CONTEXT_CHARS // 3, len(sentence) - CONTEXT_CHARS))
    return "…" + sentence[start : start + CONTEXT_CHARS] + "…"


def _candidate_lines(cands: list[Candidate], with_dates: bool) -> str:
    lines = []
    for c in cands:
        when = f" = {c.resolved or '?'}" if with_dates else ""
        lines.append(f'{c.id} [{c.seg}] "{c.said}"{when} in "{_context(c.sentence, c.said)}"')
    return "\n".join(lines)


_CLAUSE = re.compile(r"[^,、，;；]+")


def money_rule(c: Candidate) -> str:
    """'budget', 'price' or 'other' when the words around the amount say so, '' when they do
    not: the model decides those. A rate worked out into a total is price arithmetic; an
    amount in a clause about a loss, variance or revenue (and not about spending or price) is
    neither; an amount the speaker is "thinking of" spending is budget; else spending words
    against price words, in the amount's clause first, then its sentence. Measured on the eval
    set, the 1.5B model labelled "what we've set aside ... eighteen thousand" as other and a
    price as budget, so the words win where they are clear."""
    at = c.sentence.find(c.said)
    clause = next((m.group(0) for m in _CLAUSE.finditer(c.sentence) if m.start() <= at < m.end()), "") if at >= 0 else ""
    if PRICE_ARITHMETIC.search(c.sentence):
        return "price"
    if clause and OTHER_AMOUNT_WORDS.search(clause) and not (SPENDING_WORDS.search(clause) or PRICE_WORDS.search(clause)):
        return "other"
    if BUDGET_EXPECTATION.search(clause or c.sentence):
        return "budget"
    for text in (clause, c.sentence):
        budget, price = bool(SPENDING_WORDS.search(text)), bool(PRICE_WORDS.search(text))
        if budget != price:
            return "budget" if budget else "price"
    return ""


def money_candidates(run: PassRun) -> list[Candidate]:
    """Amounts of money found by rule, plus bare numbers (100 or more) in a sentence about
    spending ("set aside", "予算", "枠"), which the money rules leave out without a currency."""
    out: list[Candidate] = []
    for sid, text in run.texts.items():
        found = find_amounts(text, run.language)
        spans = [m.span for m in found]
        mentions = [(m.span[0], m.said) for m in found]
        for n in find_numbers(text):
            inside = any(a <= n.span[0] < b or n.span[0] <= a < n.span[1] for a, b in spans)
            if inside or n.value < MIN_BARE_AMOUNT or counted_after(text, n.span[1]):
                continue  # "up to five thousand messages a month" counts messages, not money
            if SPENDING_WORDS.search(quote_from(text, n.said)):
                mentions.append((n.span[0], n.said))
        for _, said in sorted(mentions):
            out.append(Candidate(f"M{len(out) + 1}", sid, said, quote_from(text, said)))
    return out


def money_pass(run: PassRun, people: PeopleResult | None = None) -> tuple[list[TextItem], list[TextItem]]:
    """(budget, pricing) items: the amounts found by rule, classified by the model. An amount
    the seller says is never the customer's budget: a "budget" label on a seller's line
    becomes "price" (「月45万円だと年間540万円ですね」, the seller working out the yearly cost)."""
    cands = money_candidates(run)
    run.info["money_candidates"] = len(cands)
    if not cands:
        run.statuses["money"] = "skipped"
        return [], []
    labels = {c.id: label for c in cands if (label := money_rule(c))}
    undecided = [c for c in cands if c.id not in labels]
    run.info["money_rule_labels"] = dict(labels)
    if undecided:
        by_id = {c.id: c for c in undecided}
        for window, ids in run.by_window(((c.id, c.seg) for c in undecided), MAX_CANDIDATES):
            asked = [by_id[i] for i in ids]
            question = run.prompts.questions["money"].replace("{candidates}", _candidate_lines(asked, False))
            labels.update(run.label("money", question, ids, MONEY_LABELS, window) or {})
    else:
        run.statuses["money"] = "rules"
    seller_names = {p.name for p in people.participants if p.side == "seller"} if people else set()
    sellers = {label for label, name in people.speakers.items() if name in seller_names} if people else set()
    for c in cands:
        if labels.get(c.id) == "budget" and run.speakers.get(c.seg, "") in sellers:
            labels[c.id] = "price"
    run.info["money_labels"] = labels

    def items(label: str, skip: set[str]) -> list[TextItem]:
        result: list[TextItem] = []
        seen = set(skip)
        for c in cands:
            if labels.get(c.id) != label or c.sentence in seen:
                continue
            seen.add(c.sentence)
            result.append(TextItem(text=c.sentence[:TEXT_MAX], evidence=[Evidence(segment_ids=[c.seg], quote=c.sentence)]))
        return result

    budget = items("budget", set())
    pricing = items("price", {b.text for b in budget})
    return budget, pricing


def date_candidates(run: PassRun) -> list[Candidate]:
    out: list[Candidate] = []
    seen: set[tuple[int, str]] = set()
    for sid, text in run.texts.items():
        for m in find_dates(text, run.language, run.anchor, run.anchor_guessed):
            r = m.resolved
            if r is not None and run.anchor is not None and r.end < run.anchor:
                continue  # a past date is never a deadline or a plan
            key = (sid, normalize(m.said))
            if key in seen:
                continue
            seen.add(key)
            out.append(Candidate(f"D{len(out) + 1}", sid, m.said, quote_from(text, m.said), r.iso() if r else ""))
    return out


#: A sentence about something that recurs or usually happens: its date is no plan.
HABITUAL = re.compile(r"\b(?:every|each|usually|normally|always|typically|often|tends? to)\b|毎|いつも|普段|例年|たいてい", re.IGNORECASE)
#: Words of a plan, deadline or event of the deal: a date in their sentence belongs on the timeline.
PLAN_WORDS = re.compile(
    r"\b(?:meet\w*|call|demo\w*|visit\w*|workshop|session|review\w*|decid\w*|decision|sign\w*|approv\w*|"
    r"contract|renew\w*|expir\w*|deadline|due|launch\w*|go[- ]live|kick[- ]?off|start\w*|begin\w*|end\w*|"
    r"roll\w*|pilot|trial|proposal|quote|budget\w*|fiscal|committee|board|present\w*|pitch|onboard\w*|"
    r"train\w*|deliver\w*|ship\w*|send|sent|follow[- ]up|schedul\w*|book\w*|plan(?:s|ned|ning)?|target\w*|"
    r"by|until|before|no later|works for|next (?:meeting|step)|cutover|migrat\w*|install\w*|support)\b"
    r"|打ち合わせ|会議|商談|デモ|訪問|説明会|研修|決裁|稟議|承認|判断|契約|更新|締め|期限|納品|導入|稼働|開始|"
    r"キックオフ|トライアル|見積|提案|予算|送付|お送り|送り|提出|連絡|ご返事|回答|予定|まで|までに|見学|設置|移行|切り替え|終了|切れ|"
    r"取締役会|役員会|理事会|経営会議|試|展開|広げ|本番|全店|全社",
    re.IGNORECASE,
)


#: A date with its day ("November tenth", 「十一月十日」, "the 24th"): specific even in a habit's sentence.
_DAY_OF_MONTH = re.compile(
    r"\d|日|\b(?:first|second|third|\w+th|twenty-?\w*|thirty-?\w*)\b", re.IGNORECASE
)


def _plan_date(sentence: str, said: str = "") -> bool:
    """Whether a date said in ``sentence`` is one of the deal's plans or deadlines: not a
    weekday or month of a habit ("every Tuesday"), and in a sentence with a plan or event word,
    a commitment, a proposal or a request."""
    if HABITUAL.search(sentence) and not _DAY_OF_MONTH.search(said):
        return False
    return bool(
        PLAN_WORDS.search(sentence) or FIRST_PERSON.search(sentence) or PROPOSAL.search(sentence) or REQUEST.search(sentence)
        or re.search(r"いかが|どうでしょう|でしょうか", sentence)
    )


def dates_pass(run: PassRun) -> list[TimelineItem]:
    """Timeline items by rule: every date found and resolved to the meeting date or later, each
    resolved date once, without a bare "today" (the meeting day itself). A model picking among
    these candidates chose worse than this on the eval set (see RESULTS.md), so no call."""
    cands = date_candidates(run)
    run.info["date_candidates"] = len(cands)
    run.statuses["dates"] = "rules"
    items: list[TimelineItem] = []
    seen: set[str] = set()
    for c in cands:
        if BARE_TODAY.match(c.said.strip()) and not DEADLINE_WORDS.search(c.sentence):
            continue
        if not _plan_date(c.sentence, c.said) or CANCELLED.search(c.sentence):
            continue  # "It's a hundred and five degrees near the pour deck in July."; a plan called off
        if not c.resolved:
            continue  # "our fiscal year", 「来期」: no date to put on a timeline
        span = _span_days(c.resolved)
        if span is not None and span > MAX_SPAN_DAYS and not WITHIN_PERIOD.search(c.said.strip()):
            continue  # "this year", 「今年度」: a frame of reference, not a date of the deal
        key = c.resolved or normalize(c.said)
        if key in seen:
            continue
        seen.add(key)
        items.append(
            TimelineItem(
                text=c.sentence[:TEXT_MAX], date=c.said, resolved=c.resolved,
                evidence=[Evidence(segment_ids=[c.seg], quote=c.sentence)],
            )
        )
    return items


def _integration_only(name: str, texts: dict[int, str]) -> bool:
    """True when ``name`` is said in a sentence about connecting to it and never in one that
    weighs it against the seller ("push data into McLeod", 「給与奉行とはCSVで連携」)."""
    return _only_integrated([sent for text in texts.values() if name in text for sent in sentences(text) if name in sent])


def _only_integrated(said: list[str]) -> bool:
    """Whether the sentences a name is said in speak of connecting to it and never weigh it
    against the seller."""
    return any(INTEGRATION_WORDS.search(s) for s in said) and not any(RIVAL_WORDS.search(s) for s in said)


def competitors_pass(run: PassRun, people: PeopleResult) -> list[Competitor]:
    """Competitors among the names said near competitor cues. A name the words put right after
    a verb of using, weighing or leaving ("also looking at Docebo", "a quote from Samsara",
    「ANDPADさんと比較検討中」) is one by rule; the model picks among the other names of each
    window, in that window's prompt. (Asked to label every name rival / integration / other, the
    1.5B model copied its example's labels in order, and named Ohio a rival: dropped.) In text
    without capitals the model names them as said (see OPEN_NAMES)."""
    cue_ids = prefilter.select(run.texts, "competitors", run.language)
    near = sorted({j for i in cue_ids for j in (i - 1, i, i + 1) if j in run.texts})
    exclude = [p.name for p in people.participants] + [people.seller_company, people.account.name]
    exclude += [w for p in people.participants for w in p.name.split()]

    def candidates(segment_ids: list[int]) -> list[str]:
        names = [
            n
            for n in prefilter.candidate_names(run.texts, segment_ids, exclude)
            if not any(x and _overlaps(n, x) for x in (people.seller_company, people.account.name))
        ]
        return [n for n in names if not _integration_only(n, run.texts)]

    every = prefilter.candidate_names(run.texts, near, exclude)
    integrations = [n for n in every if _integration_only(n, run.texts)]
    if integrations:
        run.info["integrations_not_competitors"] = integrations
    # Text without capitals (a recognizer's lowercase output) shows no names: there the model
    # names them as said, in the windows with competitor cues, and the words check its answer.
    uncased = prefilter.uncased(run.texts.values())
    seller = people.seller_company or ("不明" if run.ja else "unknown")
    result: list[Competitor] = []
    seen: set[str] = set()

    def keep(name: str, context: str, seg: int) -> None:
        key = normalize(name)
        if key and key not in seen:
            seen.add(key)
            result.append(Competitor(name=name, context=context[:TEXT_MAX], evidence=run.evidence(seg, name)))

    asks: list[tuple[Window, list[str]]] = []
    by_rule: list[str] = []
    for window in run.candidate_windows():
        cued = [i for i in near if i in window.own]
        names = candidates(cued)[:MAX_NAMES]
        for name in names:
            found = _rival_said(name, {i: run.texts[i] for i in cued}, run.ja)
            if found is not None:
                by_rule.append(name)
                keep(name, found[1], found[0])
        names = [n for n in names if n not in by_rule]
        if names or (uncased and cued):
            asks.append((window, names))
    run.info["competitor_candidates"] = list(dict.fromkeys(by_rule + [n for _, names in asks for n in names]))
    run.info["competitors_by_rule"] = by_rule
    if not asks:
        run.statuses["competitors"] = "rules" if by_rule else "skipped"
        return result
    sep = "、" if run.ja else ", "
    excluded = [x for x in exclude if x]
    if uncased:
        run.info["competitor_names_open"] = True
    for window, names in asks:
        listed = sep.join(names + ([OPEN_NAMES["ja" if run.ja else "en"]] if uncased else []))
        question = run.prompts.questions["competitors"].replace("{candidates}", listed).replace("{seller}", seller)
        schema = _schema(CompetitorsOut) if uncased else _schema(CompetitorsOut, {("competitors", "[]", "name"): names})
        out: CompetitorsOut | None = run.ask("competitors", question, CompetitorsOut, schema, window)
        window_texts = {i: run.texts[i] for i in window.ids if i in run.texts}
        for c in out.competitors if out is not None else []:
            name = c.name.strip()
            if name in names or (uncased and _open_name_ok(name, window_texts, near, excluded, run.texts)):
                keep(name, c.context, c.seg)
    return result


#: Verbs of using, weighing or leaving a product, said right before its name ("also looking at
#: Docebo", "a quote from Samsara", "we're on Staff Loop", "switching from X").
_RIVAL_BEFORE = (
    r"(?:using|use|used|uses|on|looking at|look at|looked at|considering|evaluating|evaluated|trialing|trialling|"
    r"switch(?:ing|ed)? (?:from|to)|moving (?:off|from|to)|coming from|replac(?:e|ing)|instead of|compared? (?:to|with)|"
    r"comparing|versus|vs\.?|renew(?:ing)?|leaving|talking to|speaking with|quote from|demo from|proposal from|"
    r"pricing from|contract with|went with|going with|go with)"
)
#: ... or right after it ("Samsara's quote", "Tradepoint is three ninety-nine").
_RIVAL_AFTER = r"(?:'s)?\s+(?:\w+\s+){0,2}?(?:quote|quoted|demo|proposal|pricing|contract|renewal|came in|trial)\b"
#: 「ANDPADさんと比較検討中」, 「ケアダイアリーさんからも見積もりを」, 「ミツワ電機さんのを使って」.
_JA_RIVAL_AFTER = r"(?:さん|様|社)?(?:の[^。、]{0,8})?(?:と|を|も|から|で|に|は)?[^。]{0,6}?(?:比較|検討|使って|使用|利用して|導入して|見積|乗り換え|相見積|契約して)"


def _rival_said(name: str, texts: dict[int, str], ja: bool) -> tuple[int, str] | None:
    """(segment, sentence) of the first sentence where the words make ``name`` a product the
    customer uses, weighs or leaves, or None."""
    n = re.escape(name)
    if ja:
        pattern = re.compile(n + _JA_RIVAL_AFTER)
    else:
        pattern = re.compile(rf"\b{_RIVAL_BEFORE}\s+(?:\w+\s+){{0,2}}?{n}\b|\b{n}{_RIVAL_AFTER}", re.IGNORECASE)
    for sid, text in texts.items():
        for sent in sentences(text):
            if name in sent and pattern.search(prefilter.cue_text(sent)):
                return sid, sent
    return None


#: Appended to the candidate list when names are open (lowercase text).
OPEN_NAMES = {
    "en": "(the text has no capitals: also any other product or company name, as said)",
    "ja": "（ほかの製品名・会社名も、文字起こしの表記のまま）",
}


def _open_name_ok(name: str, window_texts: dict[int, str], near: list[int], excluded: list[str], texts: dict[int, str]) -> bool:
    """A name the model wrote itself: said in the window, in a line near a competitor cue, at
    most four words, not a participant, the seller or the account, and not only a system the
    product connects to."""
    key = normalize(name)
    if len(key) < 3 or len(name.split()) > 4:
        return False
    said_in = [i for i, t in window_texts.items() if key in normalize(t)]
    if not said_in or not any(i in near for i in said_in):
        return False
    if any(_overlaps(name, x) or normalize(x) == key for x in excluded):
        return False
    forms = [t for t in texts.values() if key in normalize(t)]
    return not _integration_only_norm(key, forms)


def _integration_only_norm(key: str, texts: list[str]) -> bool:
    """:func:`_integration_only` for a name compared in normalised form (lowercase text)."""
    return _only_integrated([sent for text in texts for sent in sentences(text) if key in normalize(sent)])


def _span_days(iso: str) -> int | None:
    if "/" not in iso:
        return None
    a, b = iso.split("/", 1)
    try:
        return (dt.date.fromisoformat(b) - dt.date.fromisoformat(a)).days
    except ValueError:
        return None


@dataclass(frozen=True)
class StepCandidate:
    """A sentence that may hold a next step, with what the rules know about it."""

    id: str
    seg: int
    sentence: str
    due: str = ""
    resolved: str = ""
    rule: str = ""  # "step" when the words decide it, "" when the model does


def _future_dates(run: PassRun, text: str) -> list[tuple[str, str]]:
    """(as said, resolved) for the dates in ``text`` that are not in the past (unresolved ones kept)."""
    out = []
    for m in find_dates(text, run.language, run.anchor, run.anchor_guessed):
        r = m.resolved
        if r is not None and run.anchor is not None and r.end < run.anchor:
            continue
        if BARE_TODAY.match(m.said.strip()) and not DEADLINE_WORDS.search(text):
            continue
        span = _span_days(r.iso()) if r is not None else None
        if span is not None and span > MAX_SPAN_DAYS and not WITHIN_PERIOD.search(m.said.strip()):
            continue
        said = m.said
        if m.by:  # the deadline words as said: "by Monday", 「来週金曜まで」
            a, b = m.span
            before = re.search(r"(?:by|before|until)\s+$", text[:a], re.IGNORECASE)
            after = re.match(r"まで(?:に)?", text[b:])
            said = (before.group(0) if before else "") + said + (after.group(0) if after else "")
        out.append((said, r.iso() if r is not None else ""))
    return out


#: "can Josh record a walkthrough": a request made of someone by name.
_NAMED_REQUEST = re.compile(r"\b(?:[Cc]an|[Cc]ould|[Ww]ould|[Ww]ill) (?!I\b|[Ww]e\b)([A-Z][a-z]+) [a-z]")
_QUESTION = re.compile(r"[?？]\s*$|か[。]?\s*$")


#: A purpose clause ("so I can compare", 「比較できるように」): its first person is not the one acting.
_PURPOSE = re.compile(r"\b(?:so(?: that)?|in order for|so as)\s+(?:I|we)\b.*$", re.IGNORECASE)


def _is_request(sentence: str) -> bool:
    """A request made of someone else ("could you send me ... so I can compare?")."""
    main = _PURPOSE.sub("", sentence)
    return bool(REQUEST.search(main) or _NAMED_REQUEST.search(main)) and not FIRST_PERSON.search(main)


def _is_step_cue(sentence: str, ja: bool, dated: bool) -> bool:
    """Whether a sentence may hold a commitment: first person, a request, a proposal, the
    pass's cue words; in Japanese also a dated plan in the polite future (「来週水曜の午後、
    オンラインデモに切り替えます」). A question without a date is one only as a request
    ("Dave, could you send me an export?"), never in Japanese (「資料はご覧いただけましたか」)."""
    if _QUESTION.search(sentence) and not dated and (ja or not _is_request(sentence)):
        return False
    if FIRST_PERSON.search(sentence) or _is_request(sentence) or PROPOSAL.search(sentence):
        return True
    if prefilter.CUES["next_steps"]["ja" if ja else "en"].search(sentence):
        return True
    if dated and not ja and re.search(r"\b(?:I|we)\b", sentence, re.IGNORECASE):
        return True  # "And then I take the recommendation to the committee on October fourteenth."
    return dated and ja and bool(re.search(r"ます[。！]?$|ましょう|いただ|頂", sentence))


def step_candidates(run: PassRun) -> tuple[list[StepCandidate], int]:
    """Sentences that may hold a commitment (first person, a proposal, a request, a dated plan),
    in each window the most likely ones first when there are too many (later in the meeting,
    with a date, in the first person), in transcript order; and how many were left out as
    cancelled."""
    pools: dict[int, list[tuple[float, int, int, str, list[tuple[str, str]]]]] = {}
    cancelled = 0
    ids = sorted(run.texts)
    last = max(ids) if ids else 0
    for order, sid in enumerate(ids):
        for k, sent in enumerate(sentences(run.texts[sid])):
            if not _short_enough(sent):
                continue
            dates = _future_dates(run, sent)
            if not _is_step_cue(sent, run.ja, bool(dates)):
                continue
            if SMALL_TALK.search(sent):
                continue  # 「よろしくお願いします」, "could you tell us a bit about ..."
            if CANCELLED.search(sent):
                cancelled += 1
                continue  # a plan called off, or one that "was going to" happen
            score = 2.0 * bool(FIRST_PERSON.search(sent) or PROPOSAL.search(sent)) + 1.0 * bool(REQUEST.search(sent))
            score += 2.0 * bool(dates) + 1.5 * (sid / last if last else 0.0)
            pools.setdefault(run.window_of(sid), []).append((score, order, k, sent, dates))
    kept = []
    for pool in pools.values():
        pool.sort(key=lambda c: -c[0])
        kept += pool[:MAX_STEP_CANDIDATES]
    kept.sort(key=lambda c: (c[1], c[2]))
    out = []
    for n, (_, order, _, sent, dates) in enumerate(kept, 1):
        sid = ids[order]
        due, resolved = dates[0] if dates else ("", "")
        decided = (FIRST_PERSON.search(sent) or PROPOSAL.search(sent)) and dates and resolved
        decided = decided and not CONDITIONAL.search(sent) and "?" not in sent and "？" not in sent
        out.append(StepCandidate(f"N{n}", sid, sent, due, resolved, "step" if decided else ""))
    return out, cancelled


def _first_name_in(text: str, names: list[str], skip: str = "") -> str:
    """The first participant named in ``text`` (full name or first word, on word boundaries;
    as a whole token in Japanese), other than ``skip``."""
    return next((name for name in names if name and name != skip and _name_position(text, name) >= 0), "")


def _name_position(text: str, name: str) -> int:
    """Where ``name`` (whole, else its first word) is said in ``text``, on word boundaries (as
    a whole token in Japanese); -1 when it is not."""
    for form in dict.fromkeys([name, name.split()[0]] if name.split() else []):
        if len(form) < 2:
            continue
        pattern = re.escape(form) if _CJK_CHAR.match(form[0]) else rf"\b{re.escape(form)}\b"
        m = re.search(pattern, text, 0 if any(c.isupper() for c in text) else re.IGNORECASE)  # lowercase text
        if m:
            return m.start()
    return -1


_LEAD_FILLER = re.compile(
    r"^(?:(?:and|so|okay|ok|well|yeah|yes|sure|great|then|also|um|uh|alright|right)\b[,.]?\s*)+|^(?:では|じゃあ|それでは|はい|あと|それと|で)、?",
    re.IGNORECASE,
)


def _action(sentence: str) -> str:
    """The step as said, without a leading "And so, okay," or 「では、」."""
    text = _LEAD_FILLER.sub("", sentence).strip()
    return (text[:1].upper() + text[1:] if text else sentence)[:TEXT_MAX]


def next_steps_pass(run: PassRun, people: PeopleResult) -> list[NextStep]:
    """Next steps by labelling: the rules list the sentences that may hold a commitment, decide
    the clear ones (a first-person or "let's" line with a date) and drop cancelled plans; the
    model labels the rest step / no. Each step is the sentence as said; its owner is the speaker
    of a first-person line, or the person a request is made of once they accept it (the request
    and the reply become one step, citing both lines); its due date is the date said in it."""
    cands, cancelled = step_candidates(run)
    run.info["step_candidates"] = len(cands)
    run.info["steps_cancelled"] = cancelled
    if not cands:
        run.statuses["next_steps"] = "skipped"
        return []
    labels = {c.id: c.rule for c in cands if c.rule}
    undecided = [c for c in cands if not c.rule]
    run.info["step_rule_labels"] = len(labels)
    if undecided:
        sep = "：" if run.ja else ": "
        by_id = {c.id: c for c in undecided}
        for window, ids in run.by_window(((c.id, c.seg) for c in undecided), MAX_STEP_CANDIDATES):
            lines = []
            for c in (by_id[i] for i in ids):
                who = people.speakers.get(run.speakers.get(c.seg, ""), "") or run.speakers.get(c.seg, "") or "?"
                lines.append(f'{c.id} [{c.seg}] {who}{sep}"{_context(c.sentence, c.due or c.sentence[:20])}"')
            question = run.prompts.questions["next_steps"].replace("{candidates}", "\n".join(lines))
            labels.update(run.label("next_steps", question, ids, STEP_LABELS, window) or {})
    else:
        run.statuses["next_steps"] = "rules"
    run.info["step_labels"] = dict(labels)

    names = [p.name for p in people.participants if p.name]

    def speaker_name(seg: int) -> str:
        return people.speakers.get(run.speakers.get(seg, ""), "")

    steps: list[tuple[NextStep, str]] = []  # (step, resolved due) in order
    used: set[str] = set()
    for i, c in enumerate(cands):
        if c.id in used:
            continue
        reply = next(
            (r for r in cands[i + 1 :] if r.seg == c.seg + 1 and labels.get(r.id) == "step" and r.id not in used),
            None,
        )
        is_request = _is_request(c.sentence)
        if is_request and reply is not None and run.speakers.get(reply.seg) != run.speakers.get(c.seg):
            # "Dave, could you send me an export?" - "Yeah, I can pull that by Monday."
            used.update({c.id, reply.id})
            evidence = [Evidence(segment_ids=[c.seg], quote=c.sentence), Evidence(segment_ids=[reply.seg], quote=reply.sentence)]
            due, resolved = (reply.due, reply.resolved) if reply.due else (c.due, c.resolved)
            steps.append((NextStep(action=_action(c.sentence), owner=speaker_name(reply.seg), due=due, due_resolved=resolved, evidence=evidence), resolved))
            continue
        if labels.get(c.id) != "step":
            continue
        used.add(c.id)
        if is_request:
            owner = _first_name_in(c.sentence, names, skip=speaker_name(c.seg))
            nxt = c.seg + 1
            if not owner and nxt in run.texts and run.speakers.get(nxt) != run.speakers.get(c.seg):
                owner = speaker_name(nxt)
        else:
            owner = speaker_name(c.seg)
        evidence = [Evidence(segment_ids=[c.seg], quote=c.sentence)]
        steps.append((NextStep(action=_action(c.sentence), owner=owner, due=c.due, due_resolved=c.resolved, evidence=evidence), c.resolved))

    # One step said twice ("I can get you the redlines by March 3rd" ... "I'll send the MSA
    # redlines by March 3rd"): same owner and the same date, the later wording is kept.
    result: list[NextStep] = []
    for k, (step, resolved) in enumerate(steps):
        later = any(
            s.owner == step.owner and step.owner and r and r == resolved for s, r in steps[k + 1 :]
        )
        if not later:
            result.append(step)
    return result


@dataclass
class RestResult:
    title: str = ""
    summary: str = ""
    fields: dict[str, list[Any]] = field(default_factory=dict)
    stage: DealStageSuggestion = field(default_factory=DealStageSuggestion)


def rest_pass(run: PassRun, window: Window | None = None) -> RestResult:
    """Title, summary, needs, objections, decision process, risks, open questions and stage
    (from the shared prefix, or from one window of a long meeting)."""
    out: RestOut | None = run.ask("rest", run.prompts.questions["rest"], RestOut, _schema(RestOut), window)
    if out is None:
        return RestResult()

    def texts(items: list[ItemOut]) -> list[TextItem]:
        return [TextItem(text=i.text[:TEXT_MAX], evidence=run.evidence(i.seg, "", i.text)) for i in items if i.text.strip()]

    stage = DealStageSuggestion(
        stage=out.stage,
        reason=out.stage_reason[:TEXT_MAX],
        evidence=run.evidence(out.stage_seg, "", out.stage_reason) if out.stage != "unknown" else [],
    )
    return RestResult(
        title=out.title[:100],
        summary=_without_repeats(out.summary)[:1200],
        fields={
            "needs": texts(out.needs),
            "objections": [
                Objection(objection=o.objection[:TEXT_MAX], response=o.response[:TEXT_MAX], evidence=run.evidence(o.seg, "", o.objection))
                for o in out.objections
                if o.objection.strip()
            ],
            "decision_process": texts(out.process),
            "risks": texts(out.risks),
            "open_questions": texts(out.questions),
        },
        stage=stage,
    )


def _without_repeats(text: str) -> str:
    """``text`` without sentences said before in it (a small model may repeat one until its
    length bound), and without a cut-off last sentence when it repeated."""
    kept: list[str] = []
    seen: set[str] = set()
    repeated = False
    for part in sentences(text):
        key = part.strip()
        if key in seen:
            repeated = True
        elif key:
            seen.add(key)
            kept.append(key)
    if repeated and kept and not re.search(r"[.!?。！？]$", kept[-1]):
        kept.pop()  # the repetition ran into the length bound mid-sentence
    return ("" if _CJK_CHAR.search(text) else " ").join(kept)


def run_passes(run: PassRun) -> tuple[Extraction, bool]:
    """All passes in order; returns the extraction and whether the meeting is a sales meeting
    (False when no line holds a deal word, or when the people pass says so and fewer than
    ``MIN_DEAL_LINES`` lines do: then only the participants are kept)."""
    people = people_pass(run)
    deal_lines = sum(1 for t in run.texts.values() if SALES_WORDS.search(t))
    run.info["deal_lines"] = deal_lines
    if deal_lines == 0 or (not people.sales and deal_lines < MIN_DEAL_LINES and run.statuses.get("people") == "ok"):
        for name in ("money", "dates", "competitors", "next_steps", "rest"):
            run.statuses[name] = "skipped"
        return Extraction(participants=people.participants), False
    # A long meeting: the rest pass reads the digest right after the people pass (the same
    # cached prefix), then the windows are read one after the other.
    early_rest = rest_pass(run) if run.windows else None
    budget, pricing, competitors, steps = run.in_window_order(
        lambda: (*money_pass(run, people), competitors_pass(run, people), next_steps_pass(run, people))
    )
    timeline = dates_pass(run)
    deciders = deciders_by_rule(run, people)
    deciders += [d for d in people.decision_makers if not any(_overlaps(d.name, r.name) for r in deciders)]
    rest = early_rest if early_rest is not None else rest_pass(run)
    # A window of a long meeting that held nothing to ask about is still read: its needs,
    # objections, process, risks and questions join the rest.
    for window in run.windows:
        if window.own and not window.own <= run.read:
            part = rest_pass(run, window)
            for name, items in part.fields.items():
                known = {normalize(i.objection if isinstance(i, Objection) else i.text) for i in rest.fields.get(name, [])}
                for item in items:
                    key = normalize(item.objection if isinstance(item, Objection) else item.text)
                    if key not in known:
                        known.add(key)
                        rest.fields.setdefault(name, []).append(item)
    extraction = Extraction(
        title=rest.title,
        account=people.account,
        participants=people.participants,
        summary=rest.summary,
        budget=budget,
        pricing=pricing,
        decision_makers=deciders,
        timeline=timeline,
        competitors=competitors,
        next_steps=steps,
        deal_stage=rest.stage,
        **rest.fields,
    )
    return extraction, True


def describe(run: PassRun) -> str:
    """A one-line record of the passes (for logs)."""
    return json.dumps({"passes": run.statuses, **run.info}, ensure_ascii=False)
