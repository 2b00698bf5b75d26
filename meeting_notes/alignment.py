"""Word-to-speaker alignment and grouping into speaker-attributed segments.

Each word goes to the speaker turn it overlaps most (non-overlapping "exclusive" turns
preferred); a word that overlaps no turn goes to the nearest one. A word said while two or more
speakers' (overlapping) turns are active is flagged ``overlap`` and goes to the active speaker the
rest of its sentence supports (see :func:`resolve_overlap`). A short run of words that drifted
across a turn change joins its sentence's main speaker. Consecutive words of one speaker form a
segment, split at long pauses, and at sentence ends once a segment is long.
Pure Python over sorted lists: linear in words + turns.
"""

from __future__ import annotations

import bisect
from collections import defaultdict

from meeting_notes.schema import (
    AsrResult,
    AsrWord,
    AudioInfo,
    Diarization,
    Segment,
    Speaker,
    SpeakerTurn,
    Transcript,
    Word,
)
from meeting_notes.settings import AlignmentSettings

FALLBACK_SPEAKER = "SPEAKER_00"
SENTENCE_END = (".", "?", "!", "。", "？", "！", "…")


def _coverage(words: list[AsrWord], turns: list[SpeakerTurn]) -> list[dict[str, float]]:
    """For each word, the seconds of it each speaker's turns cover (``turns`` sorted by start).
    A zero-length word counts as covered (1e-3 s) by the turns that contain its instant."""
    starts_max_end: list[float] = []  # running maximum of ends: binary search for the first turn that can overlap
    running = float("-inf")
    for t in turns:
        running = max(running, t.end)
        starts_max_end.append(running)
    out: list[dict[str, float]] = []
    for w in words:
        cover: dict[str, float] = defaultdict(float)
        k = bisect.bisect_left(starts_max_end, w.start)
        while k < len(turns) and turns[k].start <= w.end:
            t = turns[k]
            o = min(w.end, t.end) - max(w.start, t.start)
            if o > 0:
                cover[t.speaker] += o
            elif w.end <= w.start and t.start <= w.start <= t.end:
                cover[t.speaker] += 1e-3
            k += 1
        out.append(cover)
    return out


def assign_speakers(words: list[AsrWord], turns: list[SpeakerTurn]) -> list[str | None]:
    """The speaker of each word (``None`` only when there are no turns at all)."""
    if not turns:
        return [None] * len(words)
    turns = sorted(turns, key=lambda t: (t.start, t.end))
    starts = [t.start for t in turns]
    speakers: list[str | None] = []
    for w, cover in zip(words, _coverage(words, turns), strict=False):
        if cover:
            speakers.append(max(cover.items(), key=lambda kv: kv[1])[0])
        else:
            speakers.append(_nearest(turns, starts, w).speaker)
    return speakers


def active_speakers(words: list[AsrWord], turns: list[SpeakerTurn], min_share: float) -> list[list[str]]:
    """For each word, the speakers whose (possibly overlapping) turns cover at least ``min_share``
    of it, most-covering first. Two or more means the word was said during overlap."""
    turns = sorted(turns, key=lambda t: (t.start, t.end))
    out: list[list[str]] = []
    for w, cover in zip(words, _coverage(words, turns), strict=False):
        duration = max(w.end - w.start, 1e-3)
        out.append([s for s, c in sorted(cover.items(), key=lambda kv: -kv[1]) if c >= min_share * duration])
    return out


def _sentences(words: list[AsrWord], max_pause_s: float) -> list[tuple[int, int]]:
    """(first, last) word indices of each sentence: ends at sentence punctuation or a long pause."""
    out: list[tuple[int, int]] = []
    start = 0
    for i, w in enumerate(words):
        last = i == len(words) - 1
        if last or w.text.strip().endswith(SENTENCE_END) or words[i + 1].start - w.end > max_pause_s:
            out.append((start, i))
            start = i + 1
    return out


def resolve_overlap(
    words: list[AsrWord],
    speakers: list[str | None],
    active: list[list[str]],
    max_pause_s: float,
) -> list[str | None]:
    """The speaker of each word said during overlap (two or more ``active`` speakers), chosen by
    the alignment evidence instead of the turn that covers it most:

    1. among the active speakers, the one holding most of the word time of its sentence's
       non-overlapped words (the sentence it belongs to was said by someone);
    2. else the speaker of the nearest non-overlapped word (by time, within ``max_pause_s``)
       when that speaker is active;
    3. else the word keeps its label (``speakers``).

    Other words keep their label. Linear in the number of words."""
    n = len(words)
    overlapped = [len(a) >= 2 for a in active]
    if not any(overlapped):
        return list(speakers)
    out = list(speakers)
    prev_clear = [-1] * n  # nearest non-overlapped word before / after each word
    last = -1
    for i in range(n):
        prev_clear[i] = last
        if not overlapped[i]:
            last = i
    next_clear = [-1] * n
    last = -1
    for i in range(n - 1, -1, -1):
        next_clear[i] = last
        if not overlapped[i]:
            last = i
    for first, end in _sentences(words, max_pause_s):
        share: dict[str | None, float] = defaultdict(float)
        for k in range(first, end + 1):
            if not overlapped[k]:
                share[speakers[k]] += max(words[k].end - words[k].start, 0.01)
        for k in range(first, end + 1):
            if not overlapped[k]:
                continue
            supported = [(share[s], s) for s in active[k] if share.get(s, 0.0) > 0]
            if supported:
                out[k] = max(supported)[1]
                continue
            gaps = []
            if prev_clear[k] >= 0:
                gaps.append((words[k].start - words[prev_clear[k]].end, speakers[prev_clear[k]]))
            if next_clear[k] >= 0:
                gaps.append((words[next_clear[k]].start - words[k].end, speakers[next_clear[k]]))
            near = [(g, s) for g, s in gaps if s in active[k] and g <= max_pause_s]
            if near:
                out[k] = min(near, key=lambda gs: gs[0])[1]
    return out


def smooth_by_sentence(
    words: list[AsrWord],
    speakers: list[str | None],
    majority: float,
    max_pause_s: float,
    max_drift_s: float,
) -> list[str | None]:
    """Give a sentence's stray words to its main speaker when that speaker holds at least
    ``majority`` of its word time. Word timestamps drift by a few hundred ms at turn changes,
    which otherwise leaves the first or last words of a sentence with the neighbouring speaker.
    Only runs of other-speaker words spanning at most ``max_drift_s`` move: a longer run is a
    real turn inside a run-on sentence ("This is Diane in New Jersey, and I'm Sheila...")."""
    if majority > 1.0 or not words:
        return speakers
    out = list(speakers)
    start = 0
    for i, w in enumerate(words):
        last = i == len(words) - 1
        ends_sentence = w.text.strip().endswith(SENTENCE_END)
        long_pause = not last and words[i + 1].start - w.end > max_pause_s
        if not (last or ends_sentence or long_pause):
            continue
        share: dict[str | None, float] = defaultdict(float)
        for k in range(start, i + 1):
            share[speakers[k]] += max(words[k].end - words[k].start, 0.01)
        top, top_time = max(share.items(), key=lambda kv: kv[1])
        if top_time >= majority * sum(share.values()):
            run_start = start
            for k in range(start, i + 1):
                if k == i or speakers[k + 1] != speakers[k]:  # a run of one label ends at k
                    if speakers[k] != top and words[k].end - words[run_start].start <= max_drift_s:
                        out[run_start : k + 1] = [top] * (k + 1 - run_start)
                    run_start = k + 1
        start = i + 1
    return out


def _nearest(turns: list[SpeakerTurn], starts: list[float], w: AsrWord) -> SpeakerTurn:
    mid = (w.start + w.end) / 2
    i = bisect.bisect_left(starts, mid)
    candidates = turns[max(0, i - 8) : i + 1]

    def gap(t: SpeakerTurn) -> float:
        return max(t.start - w.end, w.start - t.end, 0.0)

    return min(candidates, key=gap)


def group_segments(words: list[Word], cfg: AlignmentSettings) -> list[Segment]:
    """Consecutive words of one speaker into segments, split at pauses and sentence ends."""
    segments: list[Segment] = []
    current: list[Word] = []

    def flush() -> None:
        if current:
            text = "".join(w.text for w in current).strip()
            timed = [(max(w.end - w.start, 0.01), w.overlap) for w in current]
            overlap = sum(d for d, o in timed if o) / sum(d for d, _ in timed)
            segments.append(
                Segment(
                    id=len(segments),
                    start=current[0].start,
                    end=current[-1].end,
                    speaker=current[0].speaker,
                    text=text,
                    words=[w.model_copy(update={"text": w.text.strip()}) for w in current],
                    overlap=round(overlap, 3),
                )
            )
            current.clear()

    for w in words:
        if current:
            prev = current[-1]
            length = prev.end - current[0].start
            if (
                w.speaker != prev.speaker
                or w.start - prev.end > cfg.max_pause_s
                or (prev.text.strip().endswith(SENTENCE_END) and length >= cfg.min_segment_s_for_sentence_split)
                or w.end - current[0].start > cfg.max_segment_s
            ):
                flush()
        current.append(w)
    flush()
    return segments


def build_transcript(
    meeting_id: str,
    audio: AudioInfo,
    asr: AsrResult,
    diarization: Diarization,
    cfg: AlignmentSettings,
) -> Transcript:
    """The speaker-attributed transcript from ASR words and diarization turns."""
    asr_words = sorted(asr.words, key=lambda w: (w.start, w.end))
    turns = diarization.exclusive_turns or diarization.turns
    labels = assign_speakers(asr_words, turns)
    active = active_speakers(asr_words, diarization.turns, cfg.overlap_min_share)
    if cfg.overlap_resolution:
        labels = resolve_overlap(asr_words, labels, active, cfg.max_pause_s)
    labels = smooth_by_sentence(asr_words, labels, cfg.sentence_majority, cfg.max_pause_s, cfg.max_drift_s)
    words = [
        Word(
            start=w.start,
            end=w.end,
            text=w.text,
            speaker=label or FALLBACK_SPEAKER,
            probability=w.probability,
            overlap=len(speakers_on) >= 2,
        )
        for w, label, speakers_on in zip(asr_words, labels, active, strict=False)
    ]
    segments = group_segments(words, cfg)

    speech: dict[str, float] = defaultdict(float)
    for t in diarization.turns:
        speech[t.speaker] += t.end - t.start
    ids = list(diarization.speakers)
    for w in words:
        if w.speaker is not None and w.speaker not in ids:  # every word has one here (FALLBACK_SPEAKER)
            ids.append(w.speaker)
    speakers = [Speaker(id=s, speech_seconds=round(speech.get(s, 0.0), 2)) for s in ids]
    return Transcript(
        meeting_id=meeting_id,
        audio=audio,
        language=asr.language,
        speakers=speakers,
        segments=segments,
    )
