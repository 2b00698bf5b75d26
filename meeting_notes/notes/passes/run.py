"""All passes of one meeting, in order, into one extraction."""

from __future__ import annotations

import re

from meeting_notes.notes.evidence import normalize
from meeting_notes.notes.passes.base import PassRun
from meeting_notes.notes.passes.budget import money_pass
from meeting_notes.notes.passes.competitors import competitors_pass
from meeting_notes.notes.passes.deciders import deciders_by_rule
from meeting_notes.notes.passes.next_steps import next_steps_pass
from meeting_notes.notes.passes.people import people_pass
from meeting_notes.notes.passes.rest import rest_pass
from meeting_notes.notes.passes.timeline import dates_pass
from meeting_notes.notes.passes.words import _overlaps
from meeting_notes.notes.schema import Extraction, Objection

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
