"""One speaker map: who each diarized speaker is, on which side, and how we know.

Every output of a meeting (the exports, ``analytics.json``, ``report.html``, ``notes.md``) shows
a speaker by the ``label`` the map in ``transcript.json`` gives it (``Transcript.speakers``):
the name when one is known, else "Speaker N" / 「話者N」 (N: the speaker's position, so a
relabel never renumbers the others). A name comes, in this order of precedence, from:

1. ``manual``: ``meeting-notes relabel`` (kept in ``speaker_names.json`` in the meeting folder);
2. ``enrolled``: the speaker's voice matches an enrolled profile (:mod:`meeting_notes.speakers`);
3. ``introduced`` / ``sidecar``: the speaker introduces themself in one of their own first
   segments, found by rule (:func:`meeting_notes.introductions.find_introductions`) with the
   segment and quote as evidence; ``sidecar`` when the introduced name is a sidecar
   participant's, whose full name and company are then used. Never a name without the quote of
   that speaker saying it.

Sides: an enrolled profile's role; a participant's company against the seller's companies
(``speakers.seller_companies`` and the companies of enrolled reps) and the sidecar's account.
Pure functions: the ``names`` stage (:mod:`meeting_notes.stages.names`) runs them.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from meeting_notes.atomic import write_text_atomic
from meeting_notes.context import ProcessOptions
from meeting_notes.errors import InputError
from meeting_notes.introductions import (
    Introduction,
    find_introductions,
    norm_company,
    same_person,
    side_of_company,
)
from meeting_notes.schema import SIDES, Participant, Side, Speaker, SpeakerEvidence, Transcript, is_side

OVERRIDES_FILE = "speaker_names.json"

# ---------------------------------------------------------------- labels


def unnamed_label(position: int, language: str) -> str:
    """'Speaker N' (or 「話者N」 for Japanese) for the speaker at 0-based ``position``."""
    return f"話者{position + 1}" if language.lower().startswith("ja") else f"Speaker {position + 1}"


def display_labels(transcript: Transcript) -> dict[str, str]:
    """Speaker id -> what outputs show (the map's label; computed for a transcript without one)."""
    return {s.id: s.label or s.name or unnamed_label(i, transcript.language) for i, s in enumerate(transcript.speakers)}


# ---------------------------------------------------------------- the map


@dataclass(frozen=True)
class Override:
    name: str
    side: Side | None = None


def read_overrides(meeting_dir: Path) -> dict[str, Override]:
    """The relabels of a meeting (``speaker_names.json``); a damaged file is an error, never dropped."""
    path = Path(meeting_dir) / OVERRIDES_FILE
    if not path.is_file():
        return {}
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
        return {str(k): Override(str(v["name"]), _side(v.get("side"))) for k, v in raw.items()}
    except (ValueError, TypeError, KeyError, AttributeError) as exc:
        raise InputError(f"{path} is not a valid speaker-name file ({exc}); fix or remove it") from exc


def _side(value: object) -> Side | None:
    if value is None or is_side(value):
        return value
    raise ValueError(f"side {value!r} is not one of {', '.join(SIDES)}")


def write_overrides(meeting_dir: Path, overrides: Mapping[str, Override]) -> None:
    data = {k: {"name": v.name, **({"side": v.side} if v.side else {})} for k, v in sorted(overrides.items())}
    write_text_atomic(Path(meeting_dir) / OVERRIDES_FILE, json.dumps(data, ensure_ascii=False, indent=2) + "\n")


def overrides_param(overrides: Mapping[str, Override]) -> dict[str, Any]:
    return {k: [v.name, v.side] for k, v in sorted(overrides.items())}


def build_speaker_map(
    transcript: Transcript,
    matches: Mapping[str, Any] | None = None,
    participants: Sequence[Participant] = (),
    seller_companies: Sequence[str] = (),
    account: str | None = None,
    overrides: Mapping[str, Override] | None = None,
    intro_segments: int = 8,
    known_names: Iterable[str] = (),
    more_intros: Mapping[str, Introduction] | None = None,
) -> list[Speaker]:
    """The speaker map (see the module docstring): ``transcript.speakers`` with label, name, side,
    source, score and evidence. ``matches``: :class:`~meeting_notes.speakers.SpeakerMatch` per
    speaker id. ``more_intros``: introductions found otherwise (the LLM's, checked), used where
    the rules found none."""
    matches = dict(matches or {})
    overrides = dict(overrides or {})
    names_known = [p.name for p in participants] + list(known_names)
    intros = {**(more_intros or {}), **find_introductions(transcript, intro_segments, names_known)}
    taken: set[str] = {m.name.casefold() for m in matches.values()} | {o.name.casefold() for o in overrides.values()}

    def participant_for(name: str) -> Participant | None:
        found = [p for p in participants if same_person(name, p.name)]
        return found[0] if len(found) == 1 else None

    def side_for_name(name: str) -> Side:
        p = participant_for(name)
        return side_of_company(p.company, seller_companies, account) if p else "unknown"

    out: list[Speaker] = []
    for i, spk in enumerate(transcript.speakers):
        base = Speaker(id=spk.id, speech_seconds=spk.speech_seconds)
        o, m, intro = overrides.get(spk.id), matches.get(spk.id), intros.get(spk.id)
        if o is not None:
            side = o.side or (m.side if m is not None and m.name == o.name else side_for_name(o.name))
            s = replace_model(base, name=o.name, side=side, source="manual", score=1.0)
        elif m is not None:
            side = m.side if is_side(m.side) else "unknown"
            s = replace_model(base, name=m.name, side=side, source="enrolled", score=m.score)
        elif intro is not None:
            p = participant_for(intro.name)
            name = p.name if p else intro.name
            if name.casefold() in taken:
                s = base
            else:
                taken.add(name.casefold())
                side = (
                    side_of_company(p.company, seller_companies, account)
                    if p and p.company
                    else side_of_company(intro.company, seller_companies, account)
                    if intro.company and _known_company(intro.company, seller_companies, account, participants)
                    else "unknown"
                )
                s = replace_model(
                    base, name=name, side=side, source="sidecar" if p else "introduced", score=1.0,
                    evidence=SpeakerEvidence(segment_id=intro.segment_id, quote=intro.quote),
                )
        else:
            s = base
        s.label = s.name or unnamed_label(i, transcript.language)
        out.append(s)
    return out


def _known_company(company: str, sellers: Sequence[str], account: str | None, participants: Sequence[Participant]) -> bool:
    """An introduced "from X" is a company only when X is one we know (else "from Chicago" would be)."""
    c = norm_company(company)
    return bool(c) and c in {norm_company(x) for x in [*sellers, account or "", *(p.company or "" for p in participants)]} - {""}


def replace_model(model: Speaker, **changes: Any) -> Speaker:
    return model.model_copy(update=changes)


# ---------------------------------------------------------------- notes


def _id_pattern(ids: Iterable[str]) -> re.Pattern[str] | None:
    ids = sorted({i for i in ids if i}, key=len, reverse=True)
    if not ids:
        return None
    return re.compile(r"(?<![\w])(" + "|".join(re.escape(i) for i in ids) + r")(?![\w])")


def name_notes(notes: Any, labels: Mapping[str, str]) -> Any:
    """A copy of the notes (a JSON-like tree) where every speaker id said in a field (an owner
    "SPEAKER_01", "SPEAKER_01 will send the quote") reads as its label. Quotes are left verbatim."""
    pattern = _id_pattern(labels)

    def walk(node: Any, key: str | None) -> Any:
        if isinstance(node, dict):
            return {k: (v if k in ("evidence", "quote", "verification", "generator") else walk(v, k)) for k, v in node.items()}
        if isinstance(node, list):
            return [walk(v, key) for v in node]
        if isinstance(node, str) and pattern is not None:
            return pattern.sub(lambda m: labels[m.group(1)], node)
        return node

    return walk(notes, None)


# ---------------------------------------------------------------- speaker-count hint


def enrolled_reps_present(people: Sequence[Participant], profiles: Sequence[Any]) -> list[str]:
    """Names of enrolled reps (role ``rep``) that the sidecar lists as participants."""
    reps = [p for p in profiles if getattr(p, "role", None) == "rep"]
    return sorted({r.name for r in reps if any(same_person(x.name, r.name) or same_person(r.name, x.name) for x in people)})


def with_enrolled_min_speakers(options: ProcessOptions, profiles: Sequence[Any]) -> ProcessOptions:
    """``options`` whose ``min_speakers`` is at least the number of enrolled reps named in the
    sidecar's participants: they are there. Never above ``max_speakers``, and no change when
    ``num_speakers`` (an exact count) is given."""
    n = len(enrolled_reps_present(options.facts.participants, profiles))
    if n < 2 or options.num_speakers:  # one speaker is no bound at all
        return options
    if options.max_speakers:
        n = min(n, options.max_speakers)
    if n < 2 or (options.min_speakers and options.min_speakers >= n):
        return options
    return replace(options, min_speakers=n)


def seller_companies(configured: Sequence[str], profiles: Sequence[Any]) -> list[str]:
    """The configured seller companies (``speakers.seller_companies``) and the companies of enrolled reps."""
    out = list(configured)
    for p in profiles:
        if getattr(p, "role", None) == "rep" and p.company and p.company not in out:
            out.append(p.company)
    return out


__all__ = [
    "OVERRIDES_FILE",
    "Override",
    "build_speaker_map",
    "display_labels",
    "enrolled_reps_present",
    "name_notes",
    "overrides_param",
    "read_overrides",
    "seller_companies",
    "unnamed_label",
    "with_enrolled_min_speakers",
    "write_overrides",
]
