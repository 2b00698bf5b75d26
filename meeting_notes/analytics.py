"""Conversation analytics (``analytics.json``): who talked how much, how fast, how long at a
stretch, who asked, who interrupted, and how much of the meeting was silence.

Inputs are the diarization (``diarization.json``: who spoke when, turns may overlap) and the
aligned transcript (``transcript.json``: words with speakers). Optional speaker labels give
names and sides (seller / customer); without them every side is ``unknown``.

Definitions (also in docs/report.md):

* **talk time**: the union of a speaker's diarization turns (overlapping speech counts for each
  speaker talking). **talk share**: talk time over the sum of every speaker's talk time.
* **speech / silence**: the union of all turns; silence is the rest of the recording.
* **overlap time**: time the speaker talks while at least one other speaker talks (for a side:
  while a speaker of another side talks).
* **turns**: the one-speaker-at-a-time turns (``exclusive_turns``), a speaker's consecutive
  pieces joined across pauses up to ``turn_gap_s``.
* **longest monologue**: the longest stretch of one speaker's turns with pauses up to
  ``turn_gap_s`` and nobody else talking longer than ``backchannel_max_s`` ("mm-hmm" does not
  end a monologue).
* **words per minute**: words in the speaker's transcript segments over talk minutes; for
  Japanese, characters (letters and digits, no punctuation) per minute.
* **questions**: sentences of the speaker ending in ``?``/``？`` or, in Japanese, in
  sentence-final か (でしょうか, ですか, ますか ...).
* **interruptions**: a speaker's turn that starts while another speaker's turn is going (at
  least ``interruption_min_overlap_s`` before that turn ends) and outlasts it (takes the floor).

Every pass is a single sweep over the turns, words or sentences (inputs sorted by start are
sorted in linear time by Timsort), so a two-hour meeting takes milliseconds.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Mapping, Sequence
from typing import Literal

from pydantic import BaseModel, Field

from meeting_notes.schema import SIDES, Diarization, Side, SpeakerTurn, Transcript, is_side
from meeting_notes.settings import AnalyticsSettings

CHARACTER_LANGUAGES = frozenset({"ja", "zh", "ko", "th"})
"""Languages without spaces between words: their rate is counted in characters."""


class SpeakerLabel(BaseModel):
    """A name and a side for a diarized speaker (from enrollment, introductions or the sidecar)."""

    name: str | None = None
    side: Side = "unknown"
    label: str | None = Field(None, description="What outputs show: the name, else 'Speaker N'.")


def speaker_map_labels(transcript: Transcript) -> dict[str, SpeakerLabel]:
    """Labels from the speaker map in ``transcript.json`` (``names`` stage): every speaker's
    display label (name, else "Speaker N"), name and side."""
    out = {}
    for s in transcript.speakers:
        side = s.side if is_side(s.side) else "unknown"
        out[s.id] = SpeakerLabel(name=s.name, side=side, label=s.label)
    return out


class _Stats(BaseModel):
    talk_seconds: float = Field(0.0, description="Time talking (overlapping speech counted for each speaker).")
    talk_share: float = Field(0.0, description="Talk time over the sum of all speakers' talk time (0-1).")
    words: int = Field(0, description="Words (characters for Japanese) in the transcript.")
    rate_per_minute: float | None = Field(None, description="Words (characters) per talk minute; None: no talk.")
    turns: int = 0
    longest_monologue_seconds: float = 0.0
    longest_monologue_start: float | None = Field(None, description="Where the longest monologue starts (s).")
    questions: int = 0
    interruptions_made: int = Field(0, description="Turns that took the floor from another speaker (side).")
    interrupted: int = Field(0, description="Times another speaker (side) took the floor from this one.")
    overlap_seconds: float = Field(0.0, description="Time talking while another speaker (side) talks.")


class SpeakerStats(_Stats):
    speaker: str
    name: str | None = None
    label: str | None = Field(None, description="The speaker map's label: the name, else 'Speaker N'.")
    side: Side = "unknown"


class SideStats(_Stats):
    side: Side
    speakers: list[str] = Field(default_factory=list)


class Analytics(BaseModel):
    """``analytics.json``: conversation analytics of one meeting."""

    meeting_id: str
    language: str
    rate_unit: Literal["words", "characters"]
    duration_seconds: float
    speech_seconds: float = Field(description="Time at least one speaker talks.")
    silence_seconds: float
    silence_share: float = Field(description="Silence over the recording's duration (0-1).")
    overlap_seconds: float = Field(description="Time two or more speakers talk at once.")
    overlap_share: float = Field(description="Overlap over speech time (0-1).")
    speakers: list[SpeakerStats]
    sides: list[SideStats] = Field(description="Per side; only sides with a speaker.")
    seller_customer_talk_ratio: float | None = Field(
        None, description="Seller talk time over customer talk time; None unless both sides talk."
    )
    seller_talk_share: float | None = Field(
        None, description="Seller talk over seller + customer talk (0-1); None unless both sides are known."
    )
    settings: AnalyticsSettings


# ---------------------------------------------------------------- interval sweeps


def _sweep(turns: Sequence[SpeakerTurn], group: Mapping[str, str]) -> tuple[dict[str, float], dict[str, float], float, float]:
    """One sweep over all turn boundaries.

    Returns per group (a speaker, or a side via ``group``): talk time (union of its turns) and
    overlap time (its talk while another group talks), plus total speech (union of all turns)
    and total overlap (two or more speakers at once, counted per speaker, not per group).
    """
    events: list[tuple[float, int, str]] = []
    for t in turns:
        if t.end > t.start:
            events.append((t.start, 1, t.speaker))
            events.append((t.end, -1, t.speaker))
    events.sort(key=lambda e: (e[0], e[1]))  # ends before starts at the same instant
    active_spk: dict[str, int] = {}
    active_grp: dict[str, int] = {}
    talk: dict[str, float] = {}
    overlap: dict[str, float] = {}
    speech = total_overlap = 0.0
    prev = None
    for time, delta, spk in events:
        if prev is not None and time > prev and active_spk:
            dt = time - prev
            speech += dt
            if len(active_spk) >= 2:
                total_overlap += dt
            for g in active_grp:
                talk[g] = talk.get(g, 0.0) + dt
                if len(active_grp) >= 2:
                    overlap[g] = overlap.get(g, 0.0) + dt
        prev = time
        g = group.get(spk, spk)
        for table, key in ((active_spk, spk), (active_grp, g)):
            n = table.get(key, 0) + delta
            if n > 0:
                table[key] = n
            else:
                table.pop(key, None)
    return talk, overlap, speech, total_overlap


def talk_seconds(turns: Iterable[SpeakerTurn]) -> dict[str, float]:
    """Each speaker's talk time (union of their turns), e.g. from a reference RTTM."""
    talk, _, _, _ = _sweep(list(turns), {})
    return talk


def talk_shares(turns: Iterable[SpeakerTurn]) -> dict[str, float]:
    """Each speaker's talk time over the sum of all speakers' talk time."""
    talk = talk_seconds(turns)
    total = sum(talk.values())
    return {s: (v / total if total else 0.0) for s, v in talk.items()}


def read_rttm(text: str) -> list[SpeakerTurn]:
    """Turns from RTTM lines (``SPEAKER file 1 start duration <NA> <NA> speaker <NA> <NA>``)."""
    turns = []
    for line in text.splitlines():
        parts = line.split()
        if len(parts) >= 8 and parts[0] == "SPEAKER":
            start, dur = float(parts[3]), float(parts[4])
            turns.append(SpeakerTurn(start=start, end=start + dur, speaker=parts[7]))
    return turns


# ---------------------------------------------------------------- turns and monologues


def merge_turns(pieces: Sequence[SpeakerTurn], gap_s: float) -> list[SpeakerTurn]:
    """Consecutive one-speaker-at-a-time pieces of the same speaker with a pause up to
    ``gap_s`` joined into turns."""
    out: list[SpeakerTurn] = []
    for p in sorted(pieces, key=lambda t: t.start):
        if p.end <= p.start:
            continue
        last = out[-1] if out else None
        if last is not None and last.speaker == p.speaker and p.start - last.end <= gap_s:
            out[-1] = SpeakerTurn(start=last.start, end=max(last.end, p.end), speaker=p.speaker)
        else:
            out.append(p)
    return out


def longest_monologues(
    pieces: Sequence[SpeakerTurn], gap_s: float, backchannel_s: float
) -> dict[str, tuple[float, float]]:
    """Per speaker the longest monologue as ``(duration, start)``: their pieces joined across
    pauses up to ``gap_s`` and across other speakers' pieces up to ``backchannel_s`` long."""
    best: dict[str, tuple[float, float]] = {}
    cur: SpeakerTurn | None = None
    last_activity = 0.0  # end of the monologue's speech or of a backchannel inside it

    def close() -> None:
        if cur is not None:
            d = cur.end - cur.start
            if d > best.get(cur.speaker, (0.0, 0.0))[0]:
                best[cur.speaker] = (d, cur.start)

    for p in sorted(pieces, key=lambda t: t.start):
        if p.end <= p.start:
            continue
        if cur is not None and p.start - last_activity <= gap_s:
            if p.speaker == cur.speaker:
                cur = SpeakerTurn(start=cur.start, end=max(cur.end, p.end), speaker=cur.speaker)
                last_activity = max(last_activity, p.end)
                continue
            if p.end - p.start <= backchannel_s:
                last_activity = max(last_activity, p.end)
                if p.end - p.start > best.get(p.speaker, (0.0, 0.0))[0]:
                    best[p.speaker] = (p.end - p.start, p.start)
                continue
        close()
        cur, last_activity = p, p.end
    close()
    return best


def interruptions(turns: Sequence[SpeakerTurn], min_overlap_s: float) -> list[tuple[str, str, float]]:
    """``(interrupter, interrupted, time)`` for every turn that starts while another speaker's
    turn is going, overlaps it at least ``min_overlap_s`` and ends after it (takes the floor).

    ``turns`` are one speaker's turns each, possibly overlapping other speakers' (the regular
    diarization turns merged per speaker); sweep keeping each speaker's latest turn.
    """
    out: list[tuple[str, str, float]] = []
    latest: dict[str, SpeakerTurn] = {}
    for t in sorted(turns, key=lambda t: t.start):
        for other, u in latest.items():
            if other == t.speaker:
                continue
            if u.start < t.start < u.end and u.end - t.start >= min_overlap_s and t.end > u.end:
                out.append((t.speaker, other, t.start))
        prev = latest.get(t.speaker)
        if prev is None or t.end > prev.end:
            latest[t.speaker] = t
    return out


def _merge_per_speaker(turns: Sequence[SpeakerTurn], gap_s: float) -> list[SpeakerTurn]:
    """Each speaker's (possibly overlapping with others) turns joined across pauses up to ``gap_s``."""
    by_spk: dict[str, list[SpeakerTurn]] = {}
    for t in turns:
        by_spk.setdefault(t.speaker, []).append(t)
    out: list[SpeakerTurn] = []
    for spk_turns in by_spk.values():
        out += merge_turns(spk_turns, gap_s)
    return out


# ---------------------------------------------------------------- words and questions

_SENTENCE_END = re.compile(r"(?<=[。．.!！?？])\s*")
_QUESTION_MARKS = ("?", "？")
_TRAILING = "。．.、,!！」』）)\"' 　…"


def count_units(text: str, characters: bool) -> int:
    """Words (tokens with a letter or digit) or, with ``characters``, letters and digits."""
    if characters:
        return sum(1 for ch in text if unicodedata.category(ch)[0] in "LN")
    return sum(1 for tok in text.split() if any(ch.isalnum() for ch in tok))


def count_questions(text: str) -> int:
    """Sentences ending in a question mark or in Japanese sentence-final か (ですか, でしょうか)."""
    n = 0
    for sentence in _SENTENCE_END.split(text):
        s = sentence.strip()
        if not s:
            continue
        if s.endswith(_QUESTION_MARKS):
            n += 1
        elif s.rstrip(_TRAILING).endswith("か"):
            n += 1
    return n


# ---------------------------------------------------------------- the whole


def _ratio(a: float, b: float) -> float:
    return a / b if b else 0.0


def _r(x: float) -> float:
    return round(x, 3)


def compute_analytics(
    transcript: Transcript,
    diarization: Diarization,
    labels: Mapping[str, SpeakerLabel] | None = None,
    settings: AnalyticsSettings | None = None,
) -> Analytics:
    """Conversation analytics of one meeting (see the module docstring for the definitions)."""
    cfg = settings or AnalyticsSettings()
    labels = labels or {}
    characters = transcript.language.split("-")[0].lower() in CHARACTER_LANGUAGES

    speakers: list[str] = []
    for s in (
        list(diarization.speakers)
        + [t.speaker for t in diarization.turns]
        + [s.id for s in transcript.speakers]
        + [seg.speaker for seg in transcript.segments if seg.speaker]
    ):
        if s not in speakers:
            speakers.append(s)
    side_of = {s: (labels[s].side if s in labels else "unknown") for s in speakers}

    talk, overlap, speech, total_overlap = _sweep(diarization.turns, {})
    side_talk, side_overlap, _, _ = _sweep(diarization.turns, side_of)

    turns = merge_turns(diarization.exclusive_turns, cfg.turn_gap_s)
    n_turns: dict[str, int] = {}
    for turn in turns:
        n_turns[turn.speaker] = n_turns.get(turn.speaker, 0) + 1
    mono = longest_monologues(diarization.exclusive_turns, cfg.turn_gap_s, cfg.backchannel_max_s)

    made: dict[str, int] = {}
    suffered: dict[str, int] = {}
    side_made: dict[str, int] = {}
    side_suffered: dict[str, int] = {}
    for who, whom, _ in interruptions(_merge_per_speaker(diarization.turns, cfg.turn_gap_s), cfg.interruption_min_overlap_s):
        made[who] = made.get(who, 0) + 1
        suffered[whom] = suffered.get(whom, 0) + 1
        if side_of.get(who) != side_of.get(whom):
            side_made[side_of[who]] = side_made.get(side_of[who], 0) + 1
            side_suffered[side_of[whom]] = side_suffered.get(side_of[whom], 0) + 1

    units: dict[str, int] = {}
    questions: dict[str, int] = {}
    for seg in transcript.segments:
        if seg.speaker is None:
            continue
        units[seg.speaker] = units.get(seg.speaker, 0) + count_units(seg.text, characters)
        questions[seg.speaker] = questions.get(seg.speaker, 0) + count_questions(seg.text)

    total_talk = sum(talk.values())
    rows: list[SpeakerStats] = []
    for s in speakers:
        t = talk.get(s, 0.0)
        m = mono.get(s)
        rows.append(
            SpeakerStats(
                speaker=s,
                name=labels[s].name if s in labels else None,
                label=labels[s].label if s in labels else None,
                side=side_of[s],
                talk_seconds=_r(t),
                talk_share=_r(_ratio(t, total_talk)),
                words=units.get(s, 0),
                rate_per_minute=_r(units.get(s, 0) / (t / 60.0)) if t > 0 else None,
                turns=n_turns.get(s, 0),
                longest_monologue_seconds=_r(m[0]) if m else 0.0,
                longest_monologue_start=_r(m[1]) if m else None,
                questions=questions.get(s, 0),
                interruptions_made=made.get(s, 0),
                interrupted=suffered.get(s, 0),
                overlap_seconds=_r(overlap.get(s, 0.0)),
            )
        )

    side_rows: list[SideStats] = []
    total_side_talk = sum(side_talk.values())
    for side in SIDES:
        members = [r for r in rows if r.side == side]
        if not members:
            continue
        t = side_talk.get(side, 0.0)
        w = sum(r.words for r in members)
        longest = max(members, key=lambda r: r.longest_monologue_seconds)
        side_rows.append(
            SideStats(
                side=side,
                speakers=[r.speaker for r in members],
                talk_seconds=_r(t),
                talk_share=_r(_ratio(t, total_side_talk)),
                words=w,
                rate_per_minute=_r(w / (t / 60.0)) if t > 0 else None,
                turns=sum(r.turns for r in members),
                longest_monologue_seconds=longest.longest_monologue_seconds,
                longest_monologue_start=longest.longest_monologue_start,
                questions=sum(r.questions for r in members),
                interruptions_made=side_made.get(side, 0),
                interrupted=side_suffered.get(side, 0),
                overlap_seconds=_r(side_overlap.get(side, 0.0)),
            )
        )

    seller, customer = side_talk.get("seller", 0.0), side_talk.get("customer", 0.0)
    both_known = any(r.side == "seller" for r in rows) and any(r.side == "customer" for r in rows)
    ends = [t.end for t in diarization.turns] + [seg.end for seg in transcript.segments]
    duration = max([transcript.audio.duration, *ends]) if ends else transcript.audio.duration
    silence = max(0.0, duration - speech)
    return Analytics(
        meeting_id=transcript.meeting_id,
        language=transcript.language,
        rate_unit="characters" if characters else "words",
        duration_seconds=_r(duration),
        speech_seconds=_r(speech),
        silence_seconds=_r(silence),
        silence_share=_r(_ratio(silence, duration)),
        overlap_seconds=_r(total_overlap),
        overlap_share=_r(_ratio(total_overlap, speech)),
        speakers=rows,
        sides=side_rows,
        seller_customer_talk_ratio=_r(seller / customer) if both_known and customer > 0 and seller > 0 else None,
        seller_talk_share=_r(_ratio(seller, seller + customer)) if both_known and seller + customer > 0 else None,
        settings=cfg,
    )
