"""``<file>.meeting.json``: what the rep (or the calendar/CRM integration) knows about a meeting,
beside its recording: title, date, participants, account, terms, CRM ids (its
:class:`~meeting_notes.schema.MeetingFacts`), language and speaker count. Read one way
(:func:`options_with_sidecar`) by ``meeting-notes process``, the inbox and the nightly batch;
applied to the run's :class:`~meeting_notes.context.ProcessOptions`."""

from __future__ import annotations

import json
import stat
from collections.abc import Mapping
from dataclasses import replace
from pathlib import Path
from typing import Any, Literal

from pydantic import ConfigDict, Field, ValidationError

from meeting_notes.context import ProcessOptions
from meeting_notes.errors import InputError
from meeting_notes.schema import MeetingFacts, Participant
from meeting_notes.settings import Language

SIDECAR_SUFFIX = ".meeting.json"


class SidecarError(InputError):
    """The ``<file>.meeting.json`` beside a recording is not valid JSON or has wrong fields."""


class MeetingSidecar(MeetingFacts):
    """``<file>.meeting.json``: what the rep (or the calendar/CRM integration) knows about the
    meeting: its :class:`~meeting_notes.schema.MeetingFacts`, plus the language and speaker count
    that go to the run's options."""

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)

    expected_speakers: int | None = Field(
        None, ge=1, le=32, alias="num_speakers", description="How many people speak."
    )
    language: Language | None = None

    def facts(self) -> MeetingFacts:
        """The meeting's facts, without the language and speaker count (those are run options)."""
        return MeetingFacts(**{name: getattr(self, name) for name in MeetingFacts.model_fields})

    def apply(self, options: ProcessOptions) -> ProcessOptions:
        """``options`` with the sidecar's language, speaker count and facts filled in. What
        ``options`` already says wins (a CLI flag over the sidecar): its language, and any speaker
        count it gives (``num``/``min``/``max``) over the sidecar's ``num_speakers``; a fact the
        sidecar gives replaces the one ``options`` carries."""
        counted = options.num_speakers or options.min_speakers or options.max_speakers
        return replace(
            options,
            language=options.language or self.language,
            num_speakers=options.num_speakers if counted else self.expected_speakers,
            facts=options.facts.updated(self.facts()),
        )


def facts_from_dict(data: Mapping[str, Any] | None, source: str) -> MeetingFacts:
    """``data`` (the facts as a plain dict: the ``hints`` parameter of the ``process-meeting``
    flow, a benchmark's ``*.hints.json``) validated; :class:`SidecarError` naming ``source`` when wrong."""
    try:
        return MeetingFacts.model_validate(dict(data or {}))
    except ValidationError as exc:
        raise SidecarError(f"{source} are not valid meeting facts: {exc}") from exc


def sidecar_path(audio: Path) -> Path:
    """``call.m4a`` -> ``call.m4a.meeting.json``."""
    return audio.with_name(audio.name + SIDECAR_SUFFIX)


def read_sidecar(audio: Path) -> MeetingSidecar | None:
    """The sidecar of ``audio``, None when there is none; :class:`SidecarError` when it is invalid."""
    path = sidecar_path(audio)
    kind = sidecar_kind(audio)
    if kind == "none":
        return None
    if kind == "other":
        raise SidecarError(f"{path.name} is not a regular file (a symbolic link?): not read.")
    try:
        return read_sidecar_file(path)
    except FileNotFoundError:
        return None


def read_sidecar_file(path: Path) -> MeetingSidecar:
    """The sidecar in the file ``path`` (one named by hand: ``process --sidecar``);
    :class:`FileNotFoundError` when there is none, :class:`SidecarError` when it is invalid."""
    path = Path(path)
    try:
        raw = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise
    except (OSError, UnicodeDecodeError) as exc:
        raise SidecarError(f"{path.name} cannot be read: {exc}") from exc
    try:
        return MeetingSidecar.model_validate(json.loads(raw))
    except (json.JSONDecodeError, ValidationError) as exc:
        raise SidecarError(f"{path.name} is not a valid meeting sidecar: {exc}") from exc


def options_with_sidecar(audio: Path, options: ProcessOptions, sidecar: Path | None = None) -> ProcessOptions:
    """``options`` for the recording ``audio`` with its sidecar applied (:meth:`MeetingSidecar.apply`):
    the ``<audio>.meeting.json`` beside it, or the file ``sidecar`` when one is named (then it
    must exist). Unchanged when there is none; :class:`SidecarError` when it is invalid. The one
    way a sidecar is read: ``meeting-notes process``, the inbox and the nightly batch."""
    if sidecar is not None:
        try:
            found: MeetingSidecar | None = read_sidecar_file(sidecar)
        except FileNotFoundError as exc:
            raise SidecarError(f"the sidecar {sidecar} does not exist.") from exc
    else:
        found = read_sidecar(Path(audio))
    return found.apply(options) if found is not None else options


def sidecar_kind(audio: Path) -> Literal["none", "file", "other"]:
    """Whether ``audio`` has a sidecar: a regular file, something else (a symbolic link: never
    followed), or none (also when the recording's name leaves no room for a sidecar name)."""
    try:
        mode = sidecar_path(audio).lstat().st_mode
    except OSError:
        return "none"
    return "file" if stat.S_ISREG(mode) else "other"


__all__ = [
    "SIDECAR_SUFFIX",
    "MeetingFacts",
    "MeetingSidecar",
    "Participant",
    "SidecarError",
    "facts_from_dict",
    "options_with_sidecar",
    "read_sidecar",
    "read_sidecar_file",
    "sidecar_kind",
    "sidecar_path",
]
