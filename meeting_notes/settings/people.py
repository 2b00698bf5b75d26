"""Settings of conversation analytics and speaker enrollment / naming."""

from __future__ import annotations

import os
from pathlib import Path

from pydantic import BaseModel, Field


class AnalyticsSettings(BaseModel):
    """How turns, monologues and interruptions are delimited."""

    turn_gap_s: float = Field(
        1.5, description="Analytics: a speaker's pieces separated by a pause up to this many seconds are one turn."
    )
    backchannel_max_s: float = Field(
        1.0,
        description="Analytics: another speaker talking at most this long (\"mm-hmm\") does not end a monologue.",
    )
    interruption_min_overlap_s: float = Field(
        0.5,
        description="Analytics: a turn counts as an interruption only if it overlaps the other speaker's turn "
        "at least this long (shorter overlaps are ordinary turn-taking).",
    )


def _default_speaker_store() -> Path:
    base = Path(os.environ.get("XDG_DATA_HOME", Path.home() / ".local" / "share"))
    return base / "meeting-notes" / "speakers.sqlite"


class SpeakerSettings(BaseModel):
    """Voice enrollment and speaker naming."""

    store_path: Path = Field(default_factory=_default_speaker_store, description="SQLite file of enrolled speaker profiles.")
    match_threshold: float = Field(
        0.5,
        description="Cosine similarity at or above which a diarized speaker is named after a profile "
        "(calibrated on ami-debug: benchmarks/speaker_naming.py).",
    )
    min_speech_s: float = Field(5.0, description="Enrollment: least clean speech over all clips (seconds).")
    max_other_voice_s: float = Field(
        1.5, description="Enrollment: a clip where another voice talks longer than this is refused."
    )
    window_s: float = Field(10.0, description="Speech is embedded in windows of this length, then averaged.")
    min_window_s: float = Field(1.5, description="Shorter leftover windows are not embedded.")
    max_embed_s: float = Field(
        180.0, description="At most this much of a speaker's speech (longest turns first) is embedded."
    )
    embed_threads: int = Field(
        1,
        description="CPU threads for speaker embeddings (a small model: one thread is as fast and avoids "
        "thread contention on a busy machine; 0: torch's default).",
    )
    seller_companies: list[str] = Field(
        default_factory=list,
        description="Your own company names: a sidecar participant or a self-introduction from one of them "
        "is on the seller side (the companies of enrolled reps count too), e.g. '[\"Helix Analytics\"]'.",
    )
    intro_segments: int = Field(
        8, description="Self-introductions are looked for in each speaker's first this many segments."
    )
    llm_introductions: bool = Field(
        False,
        description="Also ask the notes LLM for self-introductions of speakers still unnamed; a name is kept only "
        "with a verbatim quote of that speaker's segment holding it. Off-machine endpoints that must get "
        "redacted text are never asked.",
    )
