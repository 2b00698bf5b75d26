"""Reading a meeting folder for delivery: notes.json, transcript.json and the CRM ids."""

from __future__ import annotations

import json
import re
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from meeting_notes.crm.errors import CRMInputError
from meeting_notes.hashing import sha256_hex
from meeting_notes.notes.schema import NextStep, SalesNotes
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
    step_ids: list[str] = field(default_factory=list)
    """Content id of each next step (:func:`step_content_id`), from notes.json as written."""
    known: dict[str, dict[str, dict[str, Any]]] = field(default_factory=dict)
    """Records this meeting created earlier, per target: key -> {object, id, state, associations}
    (``crm.json`` ``records``, else the record ids of its last delivery)."""


def _id_name(key: Any) -> str:
    return ID_ALIASES.get(str(key).strip().lower(), str(key).strip().lower())


def normalise_ids(ids: dict[str, Any]) -> dict[str, str]:
    """Sidecar ``crm_ids`` with aliases resolved and values stripped (empty ones dropped)."""
    out: dict[str, str] = {}
    for key, value in (ids or {}).items():
        text = str(value).strip() if value is not None else ""
        if text:
            out[_id_name(key)] = text
    return out


def id_changes(ids: dict[str, Any]) -> dict[str, str | None]:
    """Given ids (``--crm-id``, the sidecar) as changes: aliases resolved, an empty value is
    None, meaning "unset this id" (``--crm-id contact_id=``)."""
    out: dict[str, str | None] = {}
    for key, value in (ids or {}).items():
        text = str(value).strip() if value is not None else ""
        out[_id_name(key)] = text or None
    return out


def apply_id_changes(ids: dict[str, str], changes: dict[str, Any] | None) -> dict[str, str]:
    """``ids`` with ``changes`` applied: set, or removed where the change is empty."""
    out = dict(ids)
    for key, value in id_changes(changes or {}).items():
        if value is None:
            out.pop(key, None)
        else:
            out[key] = value
    return out


def normalised_action(text: str) -> str:
    """An action as compared for identity: NFKC (full-width = half-width), case-folded, runs of
    whitespace as one space, without closing punctuation."""
    folded = " ".join(unicodedata.normalize("NFKC", text).casefold().split())
    return re.sub(r"[\s.。!！?？、,]+$", "", folded)


def step_content_id(step: NextStep) -> str:
    """12 hex digits of sha256 over the step's evidence segment ids (sorted) and normalised
    action: the same commitment keeps its id when its owner, due date or position change."""
    segments = sorted({i for e in step.evidence for i in e.segment_ids})
    blob = json.dumps([segments, normalised_action(step.action)], ensure_ascii=False)
    return sha256_hex(blob.encode("utf-8"))[:12]


SF_OBJECT_PREFIXES = {"00U": "Event", "00T": "Task"}


def known_records(state: dict[str, Any], meeting_id: str) -> dict[str, dict[str, dict[str, Any]]]:
    """``crm.json`` ``records``; for a meeting delivered before they were kept, the record ids
    of its last delivery per target (the object from a Salesforce id's prefix)."""
    records = state.get("records") if isinstance(state.get("records"), dict) else {}
    out: dict[str, dict[str, dict[str, Any]]] = {}
    for target, by_key in (records or {}).items():
        if isinstance(by_key, dict):
            out[target] = {k: dict(v) for k, v in by_key.items() if isinstance(v, dict) and v.get("id")}
    for target, delivery in (state.get("deliveries") or {}).items():
        if target in out or target == "webhook" or not isinstance(delivery, dict) or delivery.get("status") != "delivered":
            continue
        legacy: dict[str, dict[str, Any]] = {}
        for key, record_id in (delivery.get("record_ids") or {}).items():
            if target == "salesforce":
                obj = SF_OBJECT_PREFIXES.get(str(record_id)[:3], "Task")
            else:
                obj = "meetings" if key == f"{meeting_id}.meeting" else "tasks"
            legacy[key] = {"object": obj, "id": str(record_id), "state": "live", "associations": {}}
        if legacy:
            out[target] = legacy
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


def current_ids(meeting_dir: Path, state: dict[str, Any]) -> dict[str, str]:
    """The CRM ids recorded in ``crm.json`` (``state``), once recorded even if all were unset;
    else those of the sidecar still beside the recording."""
    if isinstance(state.get("crm_ids"), dict):
        return normalise_ids(state["crm_ids"])
    found = recording_sidecar(meeting_dir)
    return sidecar_ids(found) if found else {}


def load_inputs(meeting_dir: Path, crm_ids: dict[str, Any] | None = None) -> MeetingInputs:
    """The meeting's notes (speakers named by the speaker map: :func:`named_notes`), duration and
    CRM ids: those recorded in crm.json (by the ``deliver`` task or an earlier
    ``--crm-id``/``--sidecar``), else the sidecar still beside the recording; ``crm_ids`` override
    them."""
    meeting_dir = Path(meeting_dir)
    if not meeting_dir.is_dir():
        raise CRMInputError(f"{meeting_dir} is not a meeting folder.")
    notes, notes_hash = load_notes(meeting_dir)
    step_ids = [step_content_id(step) for step in notes.next_steps]
    warnings: list[str] = []
    named = named_notes(meeting_dir, notes, warnings)
    state = read_state(meeting_dir)
    ids = apply_id_changes(current_ids(meeting_dir, state), crm_ids)
    return MeetingInputs(meeting_dir, named, notes_hash, _duration(meeting_dir), ids, warnings, step_ids,
                         known_records(state, notes.meeting_id))
