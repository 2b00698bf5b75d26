"""What one run of one meeting is about: the per-run options and the stages' shared context.

Kept free of project imports at run time (the types are for checkers only), so that every stage
module can import it without importing the pipeline, and the pipeline without the stages.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from meeting_notes.schema import AudioInfo
    from meeting_notes.settings import Settings
    from meeting_notes.workspace import MeetingWorkspace


@dataclass(frozen=True)
class ProcessOptions:
    """Per-run choices (the CLI flags and the sidecar); everything else comes from ``Settings``."""

    language: str | None = None
    num_speakers: int | None = None
    min_speakers: int | None = None
    max_speakers: int | None = None
    asr_model: str | None = None
    device: str | None = None
    notes: bool = True
    hints: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class MeetingContext:
    """Everything a stage needs to know about one meeting."""

    audio_path: Path
    audio: AudioInfo
    workspace: MeetingWorkspace
    options: ProcessOptions
    settings: Settings
    #: Called by a long stage with what it is doing now (the notes pass it is on); the CLI shows it.
    progress: Callable[[str], None] | None = None

    @property
    def meeting_id(self) -> str:
        return self.workspace.root.name

    @property
    def language(self) -> str:
        """The language asked for: the run's option, else the settings' ('auto' detects)."""
        return self.options.language or self.settings.language

    @property
    def device(self) -> str:
        """The device asked for: the run's option, else the settings' ('auto')."""
        return self.options.device or self.settings.device
