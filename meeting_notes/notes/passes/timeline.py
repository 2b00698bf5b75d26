"""The timeline by rule: the dates said that are plans or deadlines of the deal, resolved against
the meeting date; and the future dates of a sentence, for the next steps."""

from __future__ import annotations

import datetime as dt
import re

from meeting_notes.notes.dates import find_dates
from meeting_notes.notes.evidence import normalize
from meeting_notes.notes.passes.base import Candidate, PassRun
from meeting_notes.notes.passes.words import CANCELLED, FIRST_PERSON, PROPOSAL, REQUEST, _past, quote_from
from meeting_notes.notes.schema import TEXT_MAX, Evidence, TimelineItem

#: Dates said alone that name the meeting day itself ("today's agenda"), not a plan, unless the
#: sentence makes them a deadline ("by today", 「今日中」).
BARE_TODAY = re.compile(r"^(?:today|tonight|now|本日|今日|きょう)$", re.IGNORECASE)
DEADLINE_WORDS = re.compile(r"\bby\b|\bend of\b|\bbefore\b|中に?|まで", re.IGNORECASE)
#: Dates that name no day of their own: an offset ("in a day", "within a week"), a month or a
#: season without a year. In a line about what happened they are past, whatever the calendar
#: resolver makes of them.
PAST_VAGUE = re.compile(
    r"^(?:in|within|after)\s|^(?:(?:the|this|last|in|back in)\s+)?(?:spring|summer|fall|autumn|winter)$"
    r"|^(?:(?:in|back in)\s+)?(?:january|february|march|april|may|june|july|august|september|october|november|december)$",
    re.IGNORECASE,
)
#: Longest resolved range (days) kept on the timeline ...
MAX_SPAN_DAYS = 120
#: ... unless it is a deadline within a period (「年内」, 「年度内に」, "within this year"): the
#: days left in it, however many.
WITHIN_PERIOD = re.compile(r"(?:中|内|いっぱい)(?:に|で|まで)?$|^within\b", re.IGNORECASE)


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
        if _past(c.sentence, run.ja) and PAST_VAGUE.match(c.said.strip()):
            continue  # what happened: "it sold out in a day", "we started back in the spring", "it shipped in June"
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


def _span_days(iso: str) -> int | None:
    if "/" not in iso:
        return None
    a, b = iso.split("/", 1)
    try:
        return (dt.date.fromisoformat(b) - dt.date.fromisoformat(a)).days
    except ValueError:
        return None


def _future_dates(run: PassRun, text: str) -> list[tuple[str, str]]:
    """(as said, resolved) for the dates in ``text`` that are not in the past (unresolved ones kept)."""
    out = []
    for m in find_dates(text, run.language, run.anchor, run.anchor_guessed):
        r = m.resolved
        if r is not None and run.anchor is not None and r.end < run.anchor:
            continue
        if BARE_TODAY.match(m.said.strip()) and not DEADLINE_WORDS.search(text):
            continue
        if re.match(r"(?:in|within|after)\s", m.said, re.IGNORECASE) and _past(text, run.ja):
            continue  # a span of what happened: "the biggest launch we've had in three years", "it sold out in a day"
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
