"""Reading a meeting folder for delivery: notes.json, transcript.json and the CRM ids."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from meeting_notes.crm.errors import CRMInputError
from meeting_notes.hashing import sha256_hex
from meeting_notes.notes.schema import SalesNotes
from meeting_notes.schema import Transcript
from meeting_notes.sidecar import SidecarError, read_sidecar_file
from meeting_notes.speaker_map import display_labels, name_notes

CRM_STATE_FILE = "crm.json"
CRM_LOCK_FILE = ".crm.lock"

ID_ALIASES: dict[str, str] = {
    "company_id": "account_id",
    "deal_id": "opportunity_id",
    "owner": "owner_id",
    "user_id": "owner_id",
}
"""Other names the sidecar may use for the CRM ids (HubSpot words -> the names used here)."""



@dataclass
class MeetingInputs:
    """What one meeting folder gives the mapping."""

    meeting_dir: Path
    notes: SalesNotes
    notes_hash: str
    duration_s: float | None
    crm_ids: dict[str, str] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)


def normalise_ids(ids: dict[str, Any]) -> dict[str, str]:
    """Sidecar ``crm_ids`` with aliases resolved and values stripped (empty ones dropped)."""
    out: dict[str, str] = {}
    for key, value in (ids or {}).items():
        name = ID_ALIASES.get(str(key).strip().lower(), str(key).strip().lower())
        text = str(value).strip() if value is not None else ""
        if text:
            out[name] = text
    return out


def contact_ids(ids: dict[str, str]) -> list[str]:
    """contact_id plus the comma-separated contact_ids, in order, without repeats."""
    raw = [ids.get("contact_id", "")] + ids.get("contact_ids", "").split(",")
    out: list[str] = []
    for value in (r.strip() for r in raw):
        if value and value not in out:
            out.append(value)
    return out


def read_state(meeting_dir: Path) -> dict[str, Any]:
    """``crm.json`` of the meeting (approvals, CRM ids, last deliveries); {} when absent."""
    path = Path(meeting_dir) / CRM_STATE_FILE
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return {}
    except (OSError, json.JSONDecodeError) as exc:
        raise CRMInputError(f"{path} is not readable JSON ({exc}); fix or delete it (it only holds approvals).") from exc
    return data if isinstance(data, dict) else {}


def _validation_message(exc: ValidationError) -> str:
    parts = []
    for err in exc.errors()[:5]:
        where = ".".join(str(p) for p in err["loc"]) or "(top level)"
        parts.append(f"{where}: {err['msg']}")
    more = f" (and {exc.error_count() - 5} more)" if exc.error_count() > 5 else ""
    return "; ".join(parts) + more


def load_notes(meeting_dir: Path) -> tuple[SalesNotes, str]:
    """notes.json as a model and the sha256 of its bytes; a clear :class:`CRMInputError` otherwise."""
    path = Path(meeting_dir) / "notes.json"
    try:
        raw = path.read_bytes()
    except FileNotFoundError as exc:
        raise CRMInputError(f"{path} does not exist: process the meeting with notes first.") from exc
    try:
        data = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise CRMInputError(f"{path} is not valid JSON: {exc}. Nothing was sent.") from exc
    try:
        notes = SalesNotes.model_validate(data)
    except ValidationError as exc:
        raise CRMInputError(f"{path} does not match the notes schema: {_validation_message(exc)}. Nothing was sent.") from exc
    return notes, sha256_hex(raw)


def _duration(meeting_dir: Path) -> float | None:
    for name, pick in (
        ("transcript.json", lambda d: (d.get("audio") or {}).get("duration")),
        ("run.json", lambda d: d.get("audio_duration")),
    ):
        try:
            value = pick(json.loads((meeting_dir / name).read_text(encoding="utf-8")))
        except (OSError, json.JSONDecodeError, AttributeError):
            continue
        if isinstance(value, (int, float)) and value > 0:
            return float(value)
    return None


def named_notes(meeting_dir: Path, notes: SalesNotes, warnings: list[str]) -> SalesNotes:
    """``notes`` as every rendered output shows them: speaker ids said in a field (an owner
    "SPEAKER_01") read as the labels of the speaker map in ``transcript.json`` (after
    ``meeting-notes relabel SPEAKER_01="Kenji Sato"``: "Kenji Sato"), quotes verbatim, as in
    ``notes.md`` and ``report.html``. ``notes.json`` itself is not changed. Without a readable
    speaker map the notes are used as written (a warning when ``transcript.json`` is damaged)."""
    path = Path(meeting_dir) / "transcript.json"
    try:
        transcript = Transcript.model_validate_json(path.read_bytes())
    except FileNotFoundError:
        return notes
    except (OSError, ValueError) as exc:
        warnings.append(f"transcript.json is not readable ({type(exc).__name__}): speakers are shown by id, not by name.")
        return notes
    labels = display_labels(transcript)
    if not labels:
        return notes
    return SalesNotes.model_validate(name_notes(notes.model_dump(mode="json"), labels))


def sidecar_ids(path: Path) -> dict[str, str]:
    """The ``crm_ids`` of a sidecar file (``<recording>.meeting.json``)."""
    try:
        sidecar = read_sidecar_file(Path(path))
    except FileNotFoundError as exc:
        raise CRMInputError(f"the sidecar {path} does not exist.") from exc
    except SidecarError as exc:
        raise CRMInputError(str(exc)) from exc
    return normalise_ids(sidecar.crm_ids)


def recording_sidecar(meeting_dir: Path) -> Path | None:
    """The sidecar still beside the original recording (``transcript.json`` audio.path), if any."""
    try:
        audio = json.loads((Path(meeting_dir) / "transcript.json").read_text(encoding="utf-8"))["audio"]["path"]
    except (OSError, json.JSONDecodeError, KeyError, TypeError):
        return None
    candidate = Path(str(audio) + ".meeting.json")
    return candidate if candidate.is_file() and not candidate.is_symlink() else None


def load_inputs(meeting_dir: Path, crm_ids: dict[str, Any] | None = None) -> MeetingInputs:
    """The meeting's notes (speakers named by the speaker map: :func:`named_notes`), duration and
    CRM ids: those recorded in crm.json (by the ``deliver`` task or an earlier
    ``--crm-id``/``--sidecar``), else the sidecar still beside the recording; ``crm_ids`` override
    them."""
    meeting_dir = Path(meeting_dir)
    if not meeting_dir.is_dir():
        raise CRMInputError(f"{meeting_dir} is not a meeting folder.")
    notes, notes_hash = load_notes(meeting_dir)
    warnings: list[str] = []
    notes = named_notes(meeting_dir, notes, warnings)
    ids = normalise_ids(read_state(meeting_dir).get("crm_ids") or {})
    if not ids:
        found = recording_sidecar(meeting_dir)
        ids = sidecar_ids(found) if found else {}
    ids.update(normalise_ids(crm_ids or {}))
    return MeetingInputs(meeting_dir, notes, notes_hash, _duration(meeting_dir), ids, warnings)
