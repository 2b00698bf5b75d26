"""What one run of one meeting is about: the per-run options and the stages' shared context.

Imports only the data models at run time (the other types are for checkers only), so that
every stage module can import it without importing the pipeline, and the pipeline without the
stages.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import TYPE_CHECKING, Any

from meeting_notes.schema import MeetingFacts

if TYPE_CHECKING:
    from meeting_notes.schema import AudioInfo
    from meeting_notes.settings import Settings
    from meeting_notes.workspace import MeetingWorkspace

#: The name of the facts in :meth:`ProcessOptions.to_dict`: the ``process-meeting`` flow's parameter.
FACTS_PARAMETER = "hints"


@dataclass(frozen=True)
class ProcessOptions:
    """Per-run choices (the CLI flags and the sidecar); everything else comes from ``Settings``.
    ``facts``: what the sidecar says about the meeting (:class:`~meeting_notes.schema.MeetingFacts`)."""

    language: str | None = None
    num_speakers: int | None = None
    min_speakers: int | None = None
    max_speakers: int | None = None
    asr_model: str | None = None
    device: str | None = None
    notes: bool = True
    facts: MeetingFacts = field(default_factory=MeetingFacts)

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON values (Prefect parameters): the facts as a dict under ``hints``, the
        parameter of the ``process-meeting`` flow. :meth:`from_dict` reads it back."""
        out: dict[str, Any] = {f.name: getattr(self, f.name) for f in fields(self) if f.name != "facts"}
        out[FACTS_PARAMETER] = self.facts.to_dict()
        return out

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> ProcessOptions:
        """The options :meth:`to_dict` gave (the facts validated again: ``ValidationError`` when wrong)."""
        values = dict(data)
        facts = MeetingFacts.model_validate(values.pop(FACTS_PARAMETER, None) or {})
        return cls(**values, facts=facts)


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
