"""Focused extraction passes: notes a small model can get right.

Instead of one call that fills the whole notes schema, short questions share one prompt
prefix (the system text and the transcript, identical for every pass so that llama.cpp's
prompt cache reads it once) and each asks for a small schema:

1. ``people``: participants, sides, the seller's company and the customer account;
2. ``money``: the amounts found by :func:`money.find_amounts`, classified budget / price;
3. ``dates``: the dates found (and resolved against the meeting date) by
   :func:`dates.find_dates`, the plans and deadlines kept by rule (no call: see :func:`dates_pass`);
4. ``competitors``: picked from the product/company names said near "we use / 比較 / 検討";
5. ``next_steps``: owner (one of the participants), action, due as said (resolved by rule);
6. ``rest``: title, summary, needs, objections, decision process, risks, open questions, stage.

The model answers with segment ids; quotes are copied from the cited segment by code (the
sentence holding the item's key words), so every quote is verbatim. A pass whose answer stays
invalid after the client's repair round-trip leaves its fields empty and is recorded; a pass
with nothing to ask (no amounts, no dates, no candidate names) is skipped.

One module per pass (:mod:`.people`, :mod:`.deciders`, :mod:`.budget`, :mod:`.timeline`,
:mod:`.competitors`, :mod:`.next_steps`, :mod:`.rest`), over :mod:`.base` (the run of one
meeting, window by window) and :mod:`.words` (sentences, quotes, shared word patterns);
:func:`run_passes` (:mod:`.run`) runs them in order.
"""

from __future__ import annotations

from meeting_notes.notes.passes.base import Candidate, LabelsOut, PassRun, Window
from meeting_notes.notes.passes.budget import money_candidates, money_pass, money_rule
from meeting_notes.notes.passes.competitors import CompetitorsOut, competitors_pass
from meeting_notes.notes.passes.deciders import deciders_by_rule
from meeting_notes.notes.passes.next_steps import StepCandidate, next_steps_pass, step_candidates
from meeting_notes.notes.passes.people import PeopleOut, PeopleResult, SpeakerIntroduction, people_pass, self_introductions
from meeting_notes.notes.passes.rest import RestOut, RestResult, rest_pass
from meeting_notes.notes.passes.run import run_passes
from meeting_notes.notes.passes.timeline import date_candidates, dates_pass
from meeting_notes.notes.passes.words import quote_from, sentences, supports

__all__ = [
    "Candidate",
    "CompetitorsOut",
    "LabelsOut",
    "PassRun",
    "PeopleOut",
    "PeopleResult",
    "RestOut",
    "RestResult",
    "SpeakerIntroduction",
    "StepCandidate",
    "Window",
    "competitors_pass",
    "date_candidates",
    "dates_pass",
    "deciders_by_rule",
    "money_candidates",
    "money_pass",
    "money_rule",
    "next_steps_pass",
    "people_pass",
    "quote_from",
    "rest_pass",
    "run_passes",
    "self_introductions",
    "sentences",
    "step_candidates",
    "supports",
]
