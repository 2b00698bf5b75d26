"""Data models passed between stages. Every model serialises to and from JSON.

Times are seconds from the start of the recording. :class:`MeetingFacts` is what is known about
a meeting before it is transcribed (from its sidecar), carried to every stage by
``ProcessOptions.facts``.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from pathlib import Path
from typing import Any, Literal, TypeGuard, TypeVar

from pydantic import BaseModel, ConfigDict, Field, field_serializer, field_validator, model_validator

from meeting_notes.atomic import write_text_atomic

M = TypeVar("M", bound=BaseModel)

#: Which side of the deal a person is on: the speaker map, analytics, the report and the notes.
Side = Literal["seller", "customer", "unknown"]
SIDES: tuple[Side, ...] = ("seller", "customer", "unknown")


def is_side(value: object) -> TypeGuard[Side]:
    """``value`` is one of :data:`SIDES`."""
    return value in SIDES


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
    side: Side = "unknown"
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


StageStatus = Literal["done", "cached", "skipped", "failed"]
RunStatus = Literal["running", "done", "failed"]


class StageRecord(BaseModel):
    """How one stage of one run went."""

    status: StageStatus = Field(description="'done', 'cached' (reused from an earlier run), 'skipped' (nothing to do) or 'failed'.")
    wall_s: float = 0.0
    real_time_factor: float | None = Field(None, description="Audio seconds per wall second.")
    error: str | None = None


class RunInfo(BaseModel):
    """``run.json``: what ran, with which models, how fast."""

    meeting_id: str
    started_at: str
    finished_at: str | None = None
    status: RunStatus = "running"
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


_NAME_AND_COMPANY = re.compile(r"^\s*(.+?)\s*[(（]\s*(.+?)\s*[)）]\s*$")


class Participant(BaseModel):
    """One person in the meeting. The sidecar gives one as an object or as a string,
    ``"Kenji Sato (Acme)"`` (name and company) or ``"Kenji Sato"``; both become this model, the
    one form the names stage, the speaker map, the ASR hint terms and the notes read."""

    model_config = ConfigDict(extra="forbid", frozen=True, str_strip_whitespace=True)

    name: str = Field(min_length=1)
    email: str | None = None
    company: str | None = None
    role: str | None = None

    @model_validator(mode="before")
    @classmethod
    def _from_string(cls, value: Any) -> Any:
        if isinstance(value, str):
            m = _NAME_AND_COMPANY.match(value)
            return {"name": m.group(1), "company": m.group(2)} if m else {"name": value}
        return value

    @field_validator("email", "company", "role")
    @classmethod
    def _blank_is_none(cls, value: str | None) -> str | None:
        return value or None


class MeetingFacts(BaseModel):
    """What is known about a meeting before it is transcribed: the sidecar's facts
    (:class:`~meeting_notes.sidecar.MeetingSidecar` without its language and speaker count),
    or the ``hints`` parameter of the ``process-meeting`` flow. Every field is optional; unknown
    fields are an error. Read by: the output folder's name (``meeting_id``), the ASR hint terms
    (participants, companies, account, ``terms``), the speaker map (participants, account), the
    notes (title, date, account, participants) and CRM delivery (``crm_ids``)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    meeting_id: str | None = Field(
        None,
        pattern=r"^[\w-][\w.-]{0,79}$",
        description="Output folder name (the audio hash is always appended: <meeting_id>-<sha256[:8]>).",
    )
    title: str | None = None
    date: dt.date | dt.datetime | None = Field(
        None, description="The meeting's day or start time: the anchor of relative dates in the notes, the CRM activity's time."
    )
    account: str | None = Field(None, description="The customer company.")
    participants: list[Participant] = Field(
        default_factory=list, description="Who takes part; an entry whose name is blank is left out."
    )
    crm_ids: dict[str, str] = Field(default_factory=dict, description="e.g. account_id, opportunity_id.")
    terms: list[str] = Field(
        default_factory=list,
        description="Product, project and company words this meeting is likely to contain, hinted to the "
        "recogniser after the participants and account (before the asr.glossary setting, which is for every meeting).",
    )

    @field_validator("participants", mode="before")
    @classmethod
    def _drop_blank_names(cls, value: Any) -> Any:
        if not isinstance(value, list):
            return value
        return [
            p for p in value
            if not (isinstance(p, str) and not p.strip())
            and not (isinstance(p, dict) and "name" in p and not str(p["name"] or "").strip())
        ]

    @field_serializer("date", when_used="json")
    def _iso_date(self, value: dt.date | None) -> str | None:
        return value.isoformat() if value else None

    def date_text(self) -> str | None:
        """The date as the sidecar wrote it (ISO date or date-time)."""
        return self.date.isoformat() if self.date else None

    def to_dict(self) -> dict[str, Any]:
        """JSON values without empty fields (a Prefect parameter; the notes stage's key)."""
        return {k: v for k, v in self.model_dump(mode="json", exclude_none=True).items() if v not in ([], {})}

    def without_contacts(self) -> MeetingFacts:
        """These facts without the participants' e-mail addresses."""
        return self.model_copy(update={"participants": [p.model_copy(update={"email": None}) for p in self.participants]})

    def updated(self, other: MeetingFacts) -> MeetingFacts:
        """These facts with every field that ``other`` gives (not empty) taken from ``other``."""
        given = {k: getattr(other, k) for k in type(self).model_fields if getattr(other, k) not in (None, [], {})}
        return self.model_copy(update=given)


def write_json(model: BaseModel, path: Path) -> None:
    """Write a model as pretty JSON atomically (temp file + rename), so no half-written file remains."""
    path.parent.mkdir(parents=True, exist_ok=True)
    write_text_atomic(path, model.model_dump_json(indent=2))


def read_json(cls: type[M], path: Path) -> M:
    """Read a model written by :func:`write_json`."""
    return cls.model_validate(json.loads(path.read_text(encoding="utf-8")))
