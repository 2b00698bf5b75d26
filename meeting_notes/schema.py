"""Data models passed between stages. Every model serialises to and from JSON.

Times are seconds from the start of the recording.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Literal, TypeVar

from pydantic import BaseModel, Field

from meeting_notes.atomic import write_text_atomic

M = TypeVar("M", bound=BaseModel)


class AudioInfo(BaseModel):
    """The input recording as it was found on disk."""

    path: str
    sha256: str
    duration: float
    sample_rate: int | None = Field(None, description="Original sample rate before resampling.")
    channels: int | None = None
    format: str | None = None


class AsrWord(BaseModel):
    start: float
    end: float
    text: str
    probability: float


class AsrSegment(BaseModel):
    start: float
    end: float
    text: str
    words: list[AsrWord]
    avg_logprob: float | None = None
    no_speech_prob: float | None = None
    compression_ratio: float | None = None


class AsrResult(BaseModel):
    """Output of the transcription stage: words with timestamps, no speakers yet."""

    language: str
    language_probability: float | None = None
    duration: float
    segments: list[AsrSegment]
    removed_hallucinations: int = Field(0, description="Segments dropped by the loop/hallucination guard.")
    hint_terms: list[str] = Field(
        default_factory=list, description="Names and terms given to Whisper (hotwords or initial prompt)."
    )

    @property
    def words(self) -> list[AsrWord]:
        return [w for s in self.segments for w in s.words]


class SpeakerTurn(BaseModel):
    start: float
    end: float
    speaker: str


class Diarization(BaseModel):
    """Output of the diarization stage: who spoke when."""

    turns: list[SpeakerTurn] = Field(description="Possibly overlapping turns (RTTM output).")
    exclusive_turns: list[SpeakerTurn] = Field(
        description="Non-overlapping turns (one speaker at a time), used for word assignment."
    )
    speakers: list[str]


class Word(BaseModel):
    start: float
    end: float
    text: str
    speaker: str | None
    probability: float
    overlap: bool = Field(False, description="Said while two or more speakers' turns were active.")


class Segment(BaseModel):
    id: int
    start: float
    end: float
    speaker: str | None
    text: str
    words: list[Word]
    overlap: float = Field(0.0, description="Share of the segment's word time said during overlap (0-1).")


class SpeakerEvidence(BaseModel):
    """Where a speaker's name comes from in the meeting: the segment where that speaker says it."""

    segment_id: int
    quote: str


class Speaker(BaseModel):
    """A diarized speaker, and (after the ``names`` stage) the one speaker map every output uses:
    its name, side, where the name comes from and how sure that is."""

    id: str
    speech_seconds: float = 0.0
    label: str | None = Field(None, description="What every output shows: the name, else 'Speaker N' / '話者N'.")
    name: str | None = None
    side: Literal["seller", "customer", "unknown"] = "unknown"
    source: Literal["enrolled", "introduced", "sidecar", "manual"] | None = None
    score: float | None = Field(None, description="enrolled: cosine similarity; introduced: 1.0 by rule; manual: 1.0.")
    evidence: SpeakerEvidence | None = None


class Transcript(BaseModel):
    """The speaker-attributed transcript (``transcript.json``)."""

    meeting_id: str
    audio: AudioInfo
    language: str
    speakers: list[Speaker]
    segments: list[Segment]
    naming: dict[str, Any] | None = Field(
        None, description="Inputs of the speaker map (sidecar participants, seller companies), kept for relabel."
    )

    @property
    def words(self) -> list[Word]:
        return [w for s in self.segments for w in s.words]


class StageRecord(BaseModel):
    """How one stage of one run went."""

    status: str = Field(description="'done', 'cached' (reused from an earlier run), 'skipped' (nothing to do) or 'failed'.")
    wall_s: float = 0.0
    real_time_factor: float | None = Field(None, description="Audio seconds per wall second.")
    error: str | None = None


class RunInfo(BaseModel):
    """``run.json``: what ran, with which models, how fast."""

    meeting_id: str
    started_at: str
    finished_at: str | None = None
    status: str = "running"
    audio_duration: float | None = None
    device: str | None = None
    compute_type: str | None = None
    threads: int | None = None
    models: dict[str, dict[str, str]] = Field(default_factory=dict)
    versions: dict[str, str] = Field(default_factory=dict)
    stages: dict[str, StageRecord] = Field(default_factory=dict)
    wall_s: float | None = None
    real_time_factor: float | None = None
    peak_rss_mb: float | None = None
    error: str | None = None
    extra: dict[str, object] = Field(default_factory=dict)


def write_json(model: BaseModel, path: Path) -> None:
    """Write a model as pretty JSON atomically (temp file + rename), so no half-written file remains."""
    path.parent.mkdir(parents=True, exist_ok=True)
    write_text_atomic(path, model.model_dump_json(indent=2))


def read_json(cls: type[M], path: Path) -> M:
    """Read a model written by :func:`write_json`."""
    return cls.model_validate(json.loads(path.read_text(encoding="utf-8")))
