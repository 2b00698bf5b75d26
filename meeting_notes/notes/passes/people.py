"""The people pass: participants, sides, the seller's company and the customer account, the
model's answer checked against what is said and the speakers' own introductions."""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass

from meeting_notes.introductions import introductions_in, same_person
from meeting_notes.notes import prefilter
from meeting_notes.notes.evidence import normalize
from meeting_notes.notes.passes.base import PassRun, _lim, _Out, _schema
from meeting_notes.notes.passes.words import _overlaps, quote_from
from meeting_notes.notes.schema import Account, DecisionMaker, Evidence, Participant
from meeting_notes.schema import Side


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


def _said(name: str, texts: dict[int, str]) -> bool:
    n = normalize(name)
    return bool(n) and any(n in normalize(t) for t in texts.values())


#: What only the seller says of their own side.
SELLER_WORDS = re.compile(r"\b(here at|our product|our platform|our software|our pricing|our plans?)\b|弊社|私ども|当社", re.IGNORECASE)
#: What the side that asked for the meeting says: thanks for the other side's time, an offer to
#: send a quote or proposal (「本日はお時間をいただきありがとうございます」, 「お見積もりをお送りします」,
#: "thanks for making the time", "I'll send you the proposal").
HOST_WORDS = re.compile(
    r"お時間(?:を)?(?:いただ|頂|作って|割いて)|(?:見積|提案書|ご提案)[^。]{0,24}(?:お送り|送ります|ご用意|お出しし|お持ちし)"
    r"|\bthank(?:s| you)(?: so much)? for (?:making|taking|finding) (?:the )?time\b|\bthank you for your time\b"
    r"|\b(?:I'll|I will|we'll|we will)\s+(?:send|get)\s+(?:you\s+)?(?:the\s+|a\s+|our\s+)?(?:quote|proposal|pricing|order form)\b",
    re.IGNORECASE,
)


def host_speaker(run: PassRun) -> str:
    """The speaker who says the most host and offer lines (:data:`HOST_WORDS`): the seller's side;
    "" on a tie or when nobody does."""
    counts = Counter(run.speakers.get(i, "") for i, t in run.texts.items() if HOST_WORDS.search(prefilter.cue_text(t)))
    counts.pop("", None)
    top = counts.most_common(2)
    if not top or (len(top) == 2 and top[0][1] == top[1][1]):
        return ""
    return top[0][0]


#: A role or department named where a company should be.
ROLE_WORDS = re.compile(
    r"担当|部長|課長|社長|係長|総務|部$|課$|マネージャー|\b(manager|director|team|department|head of|executive|officer)\b",
    re.IGNORECASE,
)
#: A Japanese company named on its own (株式会社X, X株式会社, X建設, X工業, ...). Not
#: introductions' _JA_COMPANY, which is only the optional 「Xの」 before a name in 「Xの佐藤です」.
_JA_COMPANY_NAME = re.compile(
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
        for m in _JA_COMPANY_NAME.finditer(text):
            name = next(g for g in m.groups() if g)
            if re.search(r"弊社|私ども|当社|と申します", prefilter.cue_text(text)):
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
#: Capitalised words that start such a line without being a name (first word, as written). Not
#: introductions' _NOT_NAMES (words after "I'm" / "this is"): that one holds "may", "new", ... and would drop "May here".
_LINE_START_NOT_NAMES = frozenset("The Then And But So Okay Hi Hello Yes Sure Great Thanks Yeah".split())
#: Segments of each speaker searched for a self-introduction (the first ones they say).
INTRO_SEGMENTS = 2


@dataclass(frozen=True)
class SpeakerIntroduction:
    """A speaker's name from their first lines. Not :class:`meeting_notes.introductions.Introduction`:
    this one also holds a name merely said first in a line (``self_named`` False: it maps a speaker
    to a known participant, never adds one), and cites the segment without a quote."""

    speaker: str  # SPEAKER label
    name: str
    company: str
    seg: int
    self_named: bool  # "I'm X" / 「Xです」 rather than a name merely said first


def self_introductions(run: PassRun, known: Iterable[str] = ()) -> list[SpeakerIntroduction]:
    """Names the speakers give themselves in their first lines (the rules of
    :func:`meeting_notes.introductions.introductions_in`, ``known`` names accepted in 「Xです」), and
    names said first in a line ("Josh here", "Karen O'Neill, VP of ...")."""
    seen: dict[str, int] = {}
    out: list[SpeakerIntroduction] = []
    for sid in sorted(run.texts):
        label = run.speakers.get(sid, "")
        if not label or seen.get(label, 0) >= INTRO_SEGMENTS or any(i.speaker == label for i in out):
            continue  # each speaker's first introduction only (「隣にいるのが…の岡田です」 is a colleague)
        seen[label] = seen.get(label, 0) + 1
        text = run.texts[sid]
        found = [SpeakerIntroduction(label, n, c or "", sid, True) for n, c, _, _ in introductions_in(text, run.language, known)]
        if not found and not run.ja:
            # Lowercase text ("i'm ben castillo i'm the account exec"): a known name said right
            # after "I'm / this is / my name is", or before "here", names its speaker.
            found = [SpeakerIntroduction(label, n, "", sid, True) for n in known if _introduced_uncased(text, n)]
        for m in _EN_NAMED.finditer(text):
            name = m.group("name") or m.group("full")
            if name.split()[0] not in _LINE_START_NOT_NAMES:
                found.append(SpeakerIntroduction(label, name, "", sid, False))
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
    for said in out.people:
        key = normalize(said.name)
        if not key or key in seen:
            continue
        seen.add(key)
        side = said.side
        if seller and said.company and _overlaps(said.company, seller):
            side = "seller"
        people.append(
            Participant(name=said.name, company=said.company, role=said.role, side=side, evidence=run.evidence(said.seg, said.name))
        )
        if said.speaker:
            speakers.setdefault(said.speaker, said.name)
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
    # The company the host introduces themself with is the seller's (「コールフローの長谷川です。
    # 本日はお時間をいただきありがとうございます」): the model named the seller the account there.
    host = host_speaker(run)
    host_company = next(
        (i.company for i in intros if i.speaker == host and i.company and _said(i.company, run.texts) and not ROLE_WORDS.search(i.company)),
        "",
    )
    if host_company and not (seller and _overlaps(seller, host_company)):
        seller = host_company
    # A speaker who says 弊社 / "here at" / "our product" is the seller.
    own = {run.speakers.get(i, "") for i, t in run.texts.items() if SELLER_WORDS.search(prefilter.cue_text(t))} - {""}
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
