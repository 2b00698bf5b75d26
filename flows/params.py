"""What a flow run started through the Prefect API may ask for.

A deployment run's parameters come from whoever can reach the Prefect API (the UI, ``prefect
deployment run``, another program), not from this machine: ``audio_path``, ``inbox_root`` and
``source_dir`` must lie under ``flows.input_roots``, ``out_dir`` under ``flows.output_roots``
(symbolic links and ``..`` resolved first), and ``hints.crm_ids`` must be the CRM ids of the
sidecar beside the recording unless ``flows.crm_ids_from_parameters`` says to take them as
given. A run started by this machine's own code (``meeting-notes watch`` running the flow in its
process, a parent flow's subflow) has no deployment and passes paths its caller chose or checked.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from prefect.context import FlowRunContext

from meeting_notes.context import ProcessOptions
from meeting_notes.errors import MeetingNotesError
from meeting_notes.settings import Settings
from meeting_notes.sidecar import options_with_sidecar


class FlowParameterError(MeetingNotesError):
    """A deployment run named a folder it may not use, or CRM ids its recording's sidecar does not give."""


def started_by_deployment() -> bool:
    """Whether the running flow run was started through a deployment (its parameters came from
    the Prefect API); False for a subflow and for a flow called in this process."""
    ctx = FlowRunContext.get()
    return bool(ctx and ctx.flow_run and ctx.flow_run.deployment_id)


def input_roots(settings: Settings) -> list[Path]:
    """``flows.input_roots``, or ``orchestration.inbox_dir`` when none are set."""
    return list(settings.flows.input_roots) or [settings.orchestration.inbox_dir]


def output_roots(settings: Settings) -> list[Path]:
    """``flows.output_roots``, or ``orchestration.out_dir`` when none are set."""
    return list(settings.flows.output_roots) or [settings.orchestration.out_dir]


def confined(path: str | Path, roots: Sequence[Path], what: str, setting: str) -> str:
    """``path`` resolved (symbolic links, ``..``) when it lies under one of ``roots``; else
    :class:`FlowParameterError`."""
    resolved = Path(path).expanduser().resolve()
    for root in roots:
        base = Path(root).expanduser().resolve()
        if resolved == base or resolved.is_relative_to(base):
            return str(resolved)
    allowed = ", ".join(str(Path(r).expanduser().resolve()) for r in roots)
    raise FlowParameterError(
        f"This flow run was refused: its {what} ({path}) is outside the folders flow runs started through "
        f"Prefect may use ({allowed}). Nothing was read or written. If that folder is meant, add it to {setting}."
    )


def checked_crm_ids(audio_path: str, hints: Mapping[str, Any] | None, settings: Settings) -> None:
    """Refuse ``hints.crm_ids`` that the sidecar beside ``audio_path`` does not give (unless
    ``flows.crm_ids_from_parameters``): the API must not attach a meeting to another customer."""
    given = dict((hints or {}).get("crm_ids") or {})
    if not given or settings.flows.crm_ids_from_parameters:
        return
    beside = options_with_sidecar(Path(audio_path), ProcessOptions()).facts.crm_ids
    if given != dict(beside):
        raise FlowParameterError(
            f"This flow run was refused: its hints name CRM records ({', '.join(sorted(given))}) that the sidecar "
            f"of {Path(audio_path).name} does not give. Put the CRM ids in the sidecar beside the recording, or set "
            "flows.crm_ids_from_parameters if the Prefect API is trusted to choose them."
        )


def check_meeting_parameters(
    settings: Settings, audio_path: str, out_dir: str | None, inbox_root: str | None, hints: Mapping[str, Any] | None
) -> tuple[str, str | None, str | None]:
    """``process-meeting``'s parameters of a deployment run, confined (resolved paths back)."""
    audio = confined(audio_path, input_roots(settings), "audio_path", "flows.input_roots")
    out = confined(out_dir, output_roots(settings), "out_dir", "flows.output_roots") if out_dir else None
    inbox = confined(inbox_root, input_roots(settings), "inbox_root", "flows.input_roots") if inbox_root else None
    checked_crm_ids(audio, hints, settings)
    return audio, out, inbox


__all__ = [
    "FlowParameterError",
    "check_meeting_parameters",
    "checked_crm_ids",
    "confined",
    "input_roots",
    "output_roots",
    "started_by_deployment",
]
