"""Word-to-speaker alignment and grouping into speaker-attributed segments.

Each word goes to the speaker turn it overlaps most (non-overlapping "exclusive" turns
preferred); a word that overlaps no turn goes to the nearest one; a short run of words that
drifted across a turn change joins its sentence's main speaker. Consecutive words of one
speaker form a segment, split at long pauses, and at sentence ends once a segment is long.
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


def assign_speakers(words: list[AsrWord], turns: list[SpeakerTurn]) -> list[str | None]:
    """The speaker of each word (``None`` only when there are no turns at all)."""
    if not turns:
        return [None] * len(words)
    turns = sorted(turns, key=lambda t: (t.start, t.end))
    starts = [t.start for t in turns]
    # running maximum of ends, so a binary search finds the first turn that can still overlap
    max_ends: list[float] = []
    running = float("-inf")
    for t in turns:
        running = max(running, t.end)
        max_ends.append(running)

    speakers: list[str | None] = []
    for w in words:
        first = bisect.bisect_right(max_ends, w.start)
        overlap: dict[str, float] = defaultdict(float)
        k = first
        while k < len(turns) and turns[k].start < w.end:
            o = min(w.end, turns[k].end) - max(w.start, turns[k].start)
            if o > 0:
                overlap[turns[k].speaker] += o
            k += 1
        if overlap:
            speakers.append(max(overlap.items(), key=lambda kv: kv[1])[0])
            continue
        speakers.append(_nearest(turns, starts, w).speaker)
    return speakers


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
            segments.append(
                Segment(
                    id=len(segments),
                    start=current[0].start,
                    end=current[-1].end,
                    speaker=current[0].speaker,
                    text=text,
                    words=[w.model_copy(update={"text": w.text.strip()}) for w in current],
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
    labels = smooth_by_sentence(
        asr_words, assign_speakers(asr_words, turns), cfg.sentence_majority, cfg.max_pause_s, cfg.max_drift_s
    )
    words = [
        Word(
            start=w.start,
            end=w.end,
            text=w.text,
            speaker=label or FALLBACK_SPEAKER,
            probability=w.probability,
        )
        for w, label in zip(asr_words, labels)
    ]
    segments = group_segments(words, cfg)

    speech: dict[str, float] = defaultdict(float)
    for t in diarization.turns:
        speech[t.speaker] += t.end - t.start
    ids = list(diarization.speakers)
    for w in words:
        if w.speaker not in ids:
            ids.append(w.speaker)
    speakers = [Speaker(id=s, speech_seconds=round(speech.get(s, 0.0), 2)) for s in ids]
    return Transcript(
        meeting_id=meeting_id,
        audio=audio,
        language=asr.language,
        speakers=speakers,
        segments=segments,
    )
