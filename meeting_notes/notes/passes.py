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
from dataclasses import dataclass, field
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from meeting_notes.notes import prefilter
from meeting_notes.notes.evidence import normalize
from meeting_notes.notes.llm_client import LLMClient, LLMError
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
#: Words that make a meeting a sales meeting even when the people pass says it is not.
SALES_WORDS = re.compile(
    r"\b(budget|pricing|price|quote|contract|proposal|licen[cs]es?|subscription|purchase|trial)\b|予算|見積|価格|料金|契約|導入|購入|トライアル",
    re.IGNORECASE,
)
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
#: Smallest bare number taken as an amount in such a sentence.
MIN_BARE_AMOUNT = 100
#: The labels the money pass gives each candidate amount.
MONEY_LABELS = ("budget", "price", "other")
#: Dates said alone that name the meeting day itself ("today's agenda"), not a plan, unless the
#: sentence makes them a deadline ("by today", 「今日中」).
BARE_TODAY = re.compile(r"^(?:today|tonight|now|本日|今日|きょう)$", re.IGNORECASE)
DEADLINE_WORDS = re.compile(r"\bby\b|\bend of\b|\bbefore\b|中に?|まで", re.IGNORECASE)
#: Longest resolved range (days) kept on the timeline.
MAX_SPAN_DAYS = 120
#: First-person commitments: the speaker of such a line owns the step.
FIRST_PERSON = re.compile(
    r"\b(I'll|I will|I can|let me|I'm going to|we'll|we will)\b|します|しておきます|いたします|お送りします|送ります|手配します|発行します|確認します|回します",
    re.IGNORECASE,
)
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


class MoneyOut(_Out):
    """One label per candidate amount: {"M1": "price", "M2": "budget", ...}."""

    model_config = ConfigDict(extra="allow")


class CompetitorOut(_Out):
    name: str
    context: str = ""
    seg: int = -1


class CompetitorsOut(_Out):
    competitors: list[CompetitorOut] = _lim(6)


class StepOut(_Out):
    action: str
    owner: str = ""
    due: str = ""
    seg: int = -1


class StepsOut(_Out):
    steps: list[StepOut] = _lim(8)


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
@dataclass
class PassRun:
    """Inputs shared by the passes of one meeting, and what each pass did."""

    client: LLMClient
    prompts: PassPrompts
    shared_user: str
    language: str
    texts: dict[int, str]  # segment id -> text, the segments sent
    anchor: dt.date | None
    anchor_guessed: bool
    max_tokens: int
    speakers: dict[int, str] = field(default_factory=dict)  # segment id -> SPEAKER label
    statuses: dict[str, str] = field(default_factory=dict)
    info: dict[str, Any] = field(default_factory=dict)

    @property
    def ja(self) -> bool:
        return self.language.startswith("ja")

    def ask(self, name: str, question: str, model: type[BaseModel], schema: dict[str, Any]) -> Any:
        """One pass's call; None (recorded) when the answer stays invalid."""
        messages = pass_messages(self.prompts, self.shared_user, question)
        try:
            result = self.client.complete(
                messages, model, schema, f"notes_{name}", self.prompts.version_id, max_tokens=self.max_tokens
            )
        except LLMError as exc:
            if exc.code in PASS_ERRORS:
                self.statuses[name] = exc.code
                return None
            raise
        self.statuses[name] = "ok"
        return result.value

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
    account_name = out.account.strip()
    if account_name and seller and _overlaps(account_name, seller):
        account_name = ""  # the seller is never the account
    if account_name and ROLE_WORDS.search(account_name):
        account_name = ""  # a role or department ("カスタマーサクセス担当"), not a company
    if not account_name and run.ja:
        account_name = _japanese_company(run.texts, seller)
    if not account_name or not _said(account_name, run.texts):
        companies = Counter(
            p.company for p in people if p.company and p.side == "customer" and not (seller and _overlaps(p.company, seller))
        )
        account_name = next((c for c, _ in companies.most_common() if _said(c, run.texts)), "")
    if account_name:
        for i, p in enumerate(people):
            if p.side == "unknown" and p.company and _overlaps(p.company, account_name):
                people[i] = p.model_copy(update={"side": "customer"})
    account = Account(name=account_name, evidence=run.evidence(-1, account_name) if account_name else [])
    seller_names = {normalize(p.name) for p in people if p.side == "seller"}
    deciders = [
        DecisionMaker(name=d.name, role=d.role, evidence=run.evidence(d.seg, d.name))
        for d in out.deciders
        if d.name and normalize(d.name) not in seller_names
    ]
    return PeopleResult(out.sales, seller, account, people, deciders, speakers)


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
    """'budget' or 'price' when the words around the amount say so (its clause first, then its
    sentence), '' when they do not: the model decides those. Measured on the eval set, the
    1.5B model labelled "what we've set aside ... eighteen thousand" as other and a price as
    budget, so the words win where they are clear."""
    at = c.sentence.find(c.said)
    clause = next((m.group(0) for m in _CLAUSE.finditer(c.sentence) if m.start() <= at < m.end()), "") if at >= 0 else ""
    for text in (clause, c.sentence):
        budget, price = bool(SPENDING_WORDS.search(text)), bool(PRICE_WORDS.search(text))
        if budget != price:
            return "budget" if budget else "price"
    return ""


def money_candidates(run: PassRun) -> list[Candidate]:
    """Amounts of money found by rule, plus bare numbers (100 or more) in a sentence about
    spending ("set aside", "予算", "枠"), which the money rules leave out without a currency."""
    from meeting_notes.notes.money import find_amounts, find_numbers

    out: list[Candidate] = []
    for sid, text in run.texts.items():
        found = find_amounts(text, run.language)
        spans = [m.span for m in found]
        mentions = [(m.span[0], m.said) for m in found]
        for n in find_numbers(text):
            inside = any(a <= n.span[0] < b or n.span[0] <= a < n.span[1] for a, b in spans)
            if inside or n.value < MIN_BARE_AMOUNT:
                continue
            if SPENDING_WORDS.search(quote_from(text, n.said)):
                mentions.append((n.span[0], n.said))
        for _, said in sorted(mentions):
            if len(out) >= MAX_CANDIDATES:
                return out
            out.append(Candidate(f"M{len(out) + 1}", sid, said, quote_from(text, said)))
    return out


def money_pass(run: PassRun) -> tuple[list[TextItem], list[TextItem]]:
    """(budget, pricing) items: the amounts found by rule, classified by the model."""
    cands = money_candidates(run)
    run.info["money_candidates"] = len(cands)
    if not cands:
        run.statuses["money"] = "skipped"
        return [], []
    labels = {c.id: label for c in cands if (label := money_rule(c))}
    undecided = [c for c in cands if c.id not in labels]
    run.info["money_rule_labels"] = dict(labels)
    if undecided:
        question = run.prompts.questions["money"].replace("{candidates}", _candidate_lines(undecided, False))
        schema = {
            "type": "object",
            "properties": {c.id: {"enum": list(MONEY_LABELS)} for c in undecided},
            "required": [c.id for c in undecided],
            "additionalProperties": False,
        }
        out: MoneyOut | None = run.ask("money", question, MoneyOut, schema)
        if out is None:
            return [], []
        labels.update({k: str(v) for k, v in (out.model_extra or {}).items() if k in schema["properties"]})
    else:
        run.statuses["money"] = "rules"
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
    from meeting_notes.notes.dates import find_dates

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
            if len(out) >= MAX_CANDIDATES:
                return out
            out.append(Candidate(f"D{len(out) + 1}", sid, m.said, quote_from(text, m.said), r.iso() if r else ""))
    return out


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
        span = _span_days(c.resolved)
        if span is not None and span > MAX_SPAN_DAYS:
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


def competitors_pass(run: PassRun, people: PeopleResult) -> list[Competitor]:
    """Competitors picked from the names said near competitor cues."""
    cue_ids = prefilter.select(run.texts, "competitors", run.language)
    near = sorted({j for i in cue_ids for j in (i - 1, i, i + 1) if j in run.texts})
    exclude = [p.name for p in people.participants] + [people.seller_company, people.account.name]
    exclude += [w for p in people.participants for w in p.name.split()]
    names = [
        n
        for n in prefilter.candidate_names(run.texts, near, exclude)
        if not any(x and _overlaps(n, x) for x in (people.seller_company, people.account.name))
    ][:MAX_NAMES]
    run.info["competitor_candidates"] = names
    if not names:
        run.statuses["competitors"] = "skipped"
        return []
    sep = "、" if run.ja else ", "
    question = (
        run.prompts.questions["competitors"]
        .replace("{candidates}", sep.join(names))
        .replace("{seller}", people.seller_company or ("不明" if run.ja else "unknown"))
    )
    schema = _schema(CompetitorsOut, {("competitors", "[]", "name"): names})
    out: CompetitorsOut | None = run.ask("competitors", question, CompetitorsOut, schema)
    if out is None:
        return []
    result: list[Competitor] = []
    seen: set[str] = set()
    for c in out.competitors:
        key = normalize(c.name)
        if not key or key in seen or c.name not in names:
            continue
        seen.add(key)
        result.append(Competitor(name=c.name, context=c.context[:TEXT_MAX], evidence=run.evidence(c.seg, c.name)))
    return result


def _span_days(iso: str) -> int | None:
    if "/" not in iso:
        return None
    a, b = iso.split("/", 1)
    try:
        return (dt.date.fromisoformat(b) - dt.date.fromisoformat(a)).days
    except ValueError:
        return None


def _resolve_due(run: PassRun, due: str, seg: int) -> str:
    """The due words resolved: a date the rules found in the cited segment, else the words alone."""
    if not due or run.anchor is None:
        return ""
    from meeting_notes.notes.dates import find_dates, resolve_date

    ndue = normalize(due)
    if seg in run.texts:
        for m in find_dates(run.texts[seg], run.language, run.anchor, run.anchor_guessed):
            nsaid = normalize(m.said)
            if m.resolved is not None and nsaid and (nsaid in ndue or ndue in nsaid):
                return m.resolved.iso() if m.resolved.end >= run.anchor else ""
    r = resolve_date(due, run.language, run.anchor, run.anchor_guessed)
    return r.iso() if r is not None and r.end >= run.anchor else ""


def next_steps_pass(run: PassRun, people: PeopleResult) -> list[NextStep]:
    """Committed actions with an owner among the participants and a resolved due date."""
    names = [p.name for p in people.participants if p.name]
    labels = {name: label for label, name in people.speakers.items()}
    described = ", ".join(
        f"{n} ({', '.join(b for b in (labels.get(n, ''), next((p.side for p in people.participants if p.name == n), '')) if b and b != 'unknown')})"
        for n in names
    )
    cue_ids = prefilter.select(run.texts, "next_steps", run.language)
    question = (
        run.prompts.questions["next_steps"]
        .replace("{participants}", described or "—")
        .replace("{lines}", ", ".join(str(i) for i in cue_ids[-MAX_CANDIDATES:]) or "—")
    )
    enums = {("steps", "[]", "owner"): names + [""]} if names else {}
    out: StepsOut | None = run.ask("next_steps", question, StepsOut, _schema(StepsOut, enums))
    if out is None:
        return []
    steps: list[NextStep] = []
    seen: set[str] = set()
    for s in out.steps:
        key = normalize(s.action)[:40]
        if not key or key in seen:
            continue
        seen.add(key)
        evidence = run.evidence(s.seg, "", s.action)
        owner = s.owner
        if evidence:
            sid = evidence[0].segment_ids[0]
            # "I'll send the quote" said by a participant: the speaker owns it.
            speaker_name = people.speakers.get(run.speakers.get(sid, ""), "")
            if speaker_name and FIRST_PERSON.search(evidence[0].quote):
                owner = speaker_name
            if s.due and normalize(s.due) not in normalize(run.texts[sid]):
                # The due words said in a neighbouring line: cite it too.
                near = next((i for i in (sid + 1, sid - 1, sid + 2) if i in run.texts and normalize(s.due) in normalize(run.texts[i])), None)
                if near is not None:
                    evidence.append(Evidence(segment_ids=[near], quote=quote_from(run.texts[near], s.due)))
        steps.append(
            NextStep(
                action=s.action[:TEXT_MAX],
                owner=owner,
                due=s.due,
                due_resolved=_resolve_due(run, s.due, s.seg),
                evidence=evidence,
            )
        )
    return steps


@dataclass
class RestResult:
    title: str = ""
    summary: str = ""
    fields: dict[str, list[Any]] = field(default_factory=dict)
    stage: DealStageSuggestion = field(default_factory=DealStageSuggestion)


def rest_pass(run: PassRun) -> RestResult:
    """Title, summary, needs, objections, decision process, risks, open questions and stage."""
    out: RestOut | None = run.ask("rest", run.prompts.questions["rest"], RestOut, _schema(RestOut))
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
        summary=out.summary[:1200],
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


def run_passes(run: PassRun) -> tuple[Extraction, bool]:
    """All passes in order; returns the extraction and whether the meeting is a sales meeting
    (False only when the people pass says so and no amount or competitor cue was found)."""
    people = people_pass(run)
    deal_words = any(SALES_WORDS.search(t) for t in run.texts.values())
    if not people.sales and not deal_words and run.statuses.get("people") == "ok":
        for name in ("money", "dates", "competitors", "next_steps", "rest"):
            run.statuses[name] = "skipped"
        return Extraction(participants=people.participants), False
    budget, pricing = money_pass(run)
    timeline = dates_pass(run)
    competitors = competitors_pass(run, people)
    steps = next_steps_pass(run, people)
    rest = rest_pass(run)
    extraction = Extraction(
        title=rest.title,
        account=people.account,
        participants=people.participants,
        summary=rest.summary,
        budget=budget,
        pricing=pricing,
        decision_makers=people.decision_makers,
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
