"""Decision makers by rule: the people, roles and bodies the customer's lines say approve, sign
or decide."""

from __future__ import annotations

import re

from meeting_notes.notes.evidence import normalize
from meeting_notes.notes.passes.base import PassRun
from meeting_notes.notes.passes.people import PeopleResult
from meeting_notes.notes.passes.words import _QUESTION, _name_position, _overlaps, quote_from, sentences
from meeting_notes.notes.schema import DecisionMaker, Evidence

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
    rf"\b{_EN_TITLES},?\s+([A-Z][a-z]+(?:\s[A-Z][a-z'-]+)?)\b"
    rf"|\b([A-Z][a-z]+\s[A-Z][a-z'-]+),\s+(?:(?:our|the|who is|who's)\s+)?{_EN_TITLES}\b"
)
#: Words the title pattern catches that are not names (「社長の決裁」, 「工場長の承認」). Not
#: introductions' _NOT_NAMES / _JA_NOT_NAMES: those are the words said after "I'm" or before 「です」.
_TITLE_NOT_NAMES = frozenset("決裁 承認 判断 了承 確認 意向 稟議 最終 方針 許可 説明 同意 決定 指示 判子 ハンコ".split())
#: Capitalised words after a title that do not start a name ("our CFO, Then ...").
_STOP_TITLE_WORDS = frozenset("The Then And But So She He They It We I Our Your Their This That Anything".split())
#: Characters between a person and their role for the two to be one decider ("our CFO, Linda Park").
ROLE_DISTANCE = 30
#: Words that deny the role after them ("no committee, no board", "we don't have a board").
_NEGATED = re.compile(
    r"\b(?:no|not|without|never|don't have|do not have|there's no|there is no)\s+(?:a |an |the |any )?$|(?:は|も)?(?:ない|ありません)$",
    re.IGNORECASE,
)
#: The speaker says they decide themselves ("it's just me deciding", "I sign it", 「私が決めます」).
SELF_DECIDER = re.compile(
    r"\b(?:it's|it is)\s+(?:just\s+|only\s+|all\s+)?(?:me|my call|my decision|up to me)\b"
    r"|\b(?:I|me)\s+(?:decid\w*|sign\w*|approv\w*|pick\w*|make the (?:call|decision))\b"
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
        if name not in _TITLE_NOT_NAMES and name.split()[0] not in _STOP_TITLE_WORDS and not any(_overlaps(name, f[0]) for f in found):
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
