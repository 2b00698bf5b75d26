"""The next-steps pass: the sentences that may hold a commitment, the clear ones decided by rule,
the rest labelled by the model; owners from the speakers and requests, due dates as said."""

from __future__ import annotations

import re
from dataclasses import dataclass

from meeting_notes.notes import prefilter
from meeting_notes.notes.evidence import normalize
from meeting_notes.notes.passes.base import PassRun, _context
from meeting_notes.notes.passes.people import PeopleResult
from meeting_notes.notes.passes.timeline import _future_dates
from meeting_notes.notes.passes.words import (
    _QUESTION,
    CANCELLED,
    FIRST_PERSON,
    PROPOSAL,
    REQUEST,
    _name_position,
    _past,
    _short_enough,
    name_forms,
    sentences,
)
from meeting_notes.notes.schema import TEXT_MAX, Evidence, NextStep

#: Words that make a line conditional or habitual: the model decides those, not the rules.
CONDITIONAL = re.compile(
    r"\b(if|unless|usually|normally|always|would|might|maybe|probably)\b|もし|なら|たら|れば|いつも|普段", re.IGNORECASE
)
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


@dataclass(frozen=True)
class StepCandidate:
    """A sentence that may hold a next step, with what the rules know about it."""

    id: str
    seg: int
    sentence: str
    due: str = ""
    resolved: str = ""
    rule: str = ""  # "step" when the words decide it, "" when the model does


#: "can Josh record a walkthrough": a request made of someone by name.
_NAMED_REQUEST = re.compile(r"\b(?:[Cc]an|[Cc]ould|[Ww]ould|[Ww]ill) (?!I\b|[Ww]e\b)([A-Z][a-z]+) [a-z]")
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


def step_candidates(run: PassRun, names: list[str] | None = None) -> tuple[list[StepCandidate], int]:
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
            acting = bool(dates and names and _subject(sent, names))  # "Bex sends the line sheet by Thursday"
            if not (_is_step_cue(sent, run.ja, bool(dates)) or acting):
                continue
            if SMALL_TALK.search(sent):
                continue  # 「よろしくお願いします」, "could you tell us a bit about ..."
            if CANCELLED.search(sent):
                cancelled += 1
                continue  # a plan called off, or one that "was going to" happen
            if _past(sent, run.ja) and not dates:
                continue  # "We found a pallet ...", 「今日は吉村と二人で伺いました」
            score = 2.0 * bool(FIRST_PERSON.search(sent) or PROPOSAL.search(sent) or acting) + 1.0 * bool(REQUEST.search(sent))
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
        acting = bool(names and _subject(sent, names))
        decided = bool((FIRST_PERSON.search(sent) or PROPOSAL.search(sent) or acting) and dates and resolved)
        decided = decided and not CONDITIONAL.search(sent) and "?" not in sent and "？" not in sent
        out.append(StepCandidate(f"N{n}", sid, sent, due, resolved, "step" if decided else ""))
    return out, cancelled


def _first_name_in(text: str, names: list[str], skip: str = "") -> str:
    """The first participant named in ``text`` (full name or first word, on word boundaries;
    as a whole token in Japanese), other than ``skip``."""
    return next((name for name in names if name and name != skip and _name_position(text, name) >= 0), "")


_LEAD_FILLER = re.compile(
    r"^(?:(?:and|so|okay|ok|well|yeah|yes|sure|great|then|also|um|uh|alright|right)\b[,.]?\s*)+|^(?:では|じゃあ|それでは|はい|あと|それと|で)、?",
    re.IGNORECASE,
)


#: After a name at a line's start, the verb of one acting: "Theo gives", "Ingrid will send",
#: "Sam to send", "Bex'll share" (not "Janine what I'd suggest", "Dave, could you").
_ACTS = re.compile(r"(?:'ll|'s going to| will| can| is going to| to| (?:also |then )?[a-z]+s)\b")


def _subject(sentence: str, names: list[str]) -> str:
    """The participant a line names as the one acting, at its start: "Theo gives Sam read-only
    access by tomorrow", 「工藤様から、設備リストをいただきます」; not one it addresses ("Dave, could
    you ..."); "" when the line does not start with a name."""
    text = _LEAD_FILLER.sub("", sentence).strip()
    for name in names:
        for form in name_forms(name):
            if not text.startswith(form):
                continue
            rest = text[len(form) :]
            if re.match(r"(?:様|さん|くん)?(?:から|が|のほうで|の方で|より)", rest) or _ACTS.match(rest):
                return name
    return ""


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
    names = [p.name for p in people.participants if p.name]
    cands, cancelled = step_candidates(run, names)
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


    def speaker_name(seg: int) -> str:
        return people.speakers.get(run.speakers.get(seg, ""), "")

    steps: list[tuple[NextStep, str, str]] = []  # (step, resolved due, who acts) in order
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
            step = NextStep(action=_action(c.sentence), owner=speaker_name(reply.seg), due=due, due_resolved=resolved, evidence=evidence)
            steps.append((step, resolved, step.owner or f"#{run.speakers.get(reply.seg, '')}"))
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
            owner = _subject(c.sentence, names) or speaker_name(c.seg)
        evidence = [Evidence(segment_ids=[c.seg], quote=c.sentence)]
        step = NextStep(action=_action(c.sentence), owner=owner, due=c.due, due_resolved=c.resolved, evidence=evidence)
        steps.append((step, c.resolved, owner or f"#{run.speakers.get(c.seg, '')}"))

    return merge_repeated(steps)


def merge_repeated(steps: list[tuple[NextStep, str, str]]) -> list[NextStep]:
    """One commitment said twice is one step: said, then restated in the closing recap ("I'll
    add you both as analysts by tomorrow" ... "Theo gives Sam and me read-only access by
    tomorrow"), or said again in other words. ``steps`` are (step, resolved due, who acts: the
    owner, else the line's speaker as ``#label``). Two steps are the same when they fall due on
    the same resolved date and the same person acts; the merged step reads as both wordings
    (the first, then what the second says in its own words) with the evidence of both. Steps
    without a date are never merged: nothing but the words ties them."""
    out: list[tuple[NextStep, str, str]] = []
    for step, resolved, who in steps:
        same = next((k for k, (_, r, w) in enumerate(out) if resolved and r == resolved and w == who), None)
        if same is None:
            out.append((step, resolved, who))
            continue
        earlier = out[same][0]
        action = earlier.action
        if normalize(step.action) not in normalize(action):
            action = f"{action} / {step.action}"[:TEXT_MAX]
        evidence = list(earlier.evidence) + [e for e in step.evidence if e not in earlier.evidence]
        update = {"action": action, "owner": earlier.owner or step.owner, "due": earlier.due or step.due, "evidence": evidence}
        out[same] = (earlier.model_copy(update=update), resolved, who)
    return [s for s, _, _ in out]
