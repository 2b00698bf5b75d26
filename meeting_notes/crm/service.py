"""Preview, approval and push: what the CLI, the ``deliver`` task and ``crm-retry`` call.

Rules: nothing is sent while the plan has problems; nothing is sent unapproved unless the
caller says so (``--approve``, or ``crm.auto_push``); an approval covers one notes.json (its
sha256) and one payload; the ledger makes a delivered meeting x target x notes hash a no-op and
every failure resumable, and the CRM writes are upserts, so a repeated push never adds records.
"""

from __future__ import annotations

import getpass
import json
import logging
from collections.abc import Callable
from pathlib import Path
from typing import Any

from pydantic import BaseModel, Field

from meeting_notes.atomic import write_text_atomic
from meeting_notes.clock import now_iso
from meeting_notes.crm.credentials import hubspot_credential, salesforce_credential, webhook_secret
from meeting_notes.crm.errors import CRMAuthError, CRMError, CRMInputError, CRMRejectedError, CRMUnavailableError
from meeting_notes.crm.http import RetryingClient
from meeting_notes.crm.inputs import CRM_LOCK_FILE, CRM_STATE_FILE, load_inputs, load_notes, normalise_ids, read_state
from meeting_notes.crm.ledger import Delivery, Ledger, default_url
from meeting_notes.crm.mapping import build_plan, meeting_key
from meeting_notes.crm.models import TARGETS, DeliveryPlan
from meeting_notes.crm.senders import send_hubspot, send_salesforce, send_webhook
from meeting_notes.leases import file_lock
from meeting_notes.settings import CRMSettings

log = logging.getLogger(__name__)

STALE_SENDING_S = 600.0
"""A 'sending' row untouched this long belongs to a push that died: crm-retry takes it over."""


class PushResult(BaseModel):
    """What one push did."""

    target: str
    meeting_id: str
    status: str = Field(description="'delivered', 'already_delivered', 'failed' (retry later) or 'rejected' (fix first).")
    record_ids: dict[str, str] = Field(default_factory=dict, description="Key -> CRM record id.")
    attempts: int = 0
    delivery_id: str = ""
    error: str | None = None
    field: str | None = Field(None, description="The field the CRM rejected, when it said.")


def _check_target(target: str) -> None:
    if target not in TARGETS:
        raise CRMInputError(f"unknown target {target!r}: one of {', '.join(TARGETS)}")


def update_state(meeting_dir: Path, **changes: Any) -> dict[str, Any]:
    """Merge ``changes`` (dicts merged one level deep) into crm.json, written atomically, under
    the file's lock: ``crm push`` / ``approve`` run outside the meeting's lease, beside the
    deliver stage and each other, and none may lose what another wrote."""
    with file_lock(Path(meeting_dir) / CRM_LOCK_FILE):
        state = read_state(meeting_dir)
        for key, value in changes.items():
            if isinstance(value, dict) and isinstance(state.get(key), dict):
                state[key] = {**state[key], **value}
            else:
                state[key] = value
        write_text_atomic(Path(meeting_dir) / CRM_STATE_FILE, json.dumps(state, indent=2, ensure_ascii=False, sort_keys=True))
    return state


def remember_ids(meeting_dir: Path, crm_ids: dict[str, Any] | None) -> None:
    """Record the sidecar's CRM ids in crm.json (they are not in run.json or the notes)."""
    ids = normalise_ids(crm_ids or {})
    if ids:
        update_state(meeting_dir, crm_ids=ids)


def preview(meeting_dir: Path, target: str, settings: CRMSettings, crm_ids: dict[str, Any] | None = None) -> DeliveryPlan:
    """Exactly what a push would send to ``target`` (field by field with evidence), and what stops it."""
    _check_target(target)
    return build_plan(target, load_inputs(Path(meeting_dir), crm_ids), settings)


def approval_problem(meeting_dir: Path, plan: DeliveryPlan) -> str | None:
    """Why ``plan`` is not approved (None when it is)."""
    approval = (read_state(meeting_dir).get("approvals") or {}).get(plan.target)
    if not approval:
        return (f"{plan.meeting_id} is not approved for {plan.target}: review it with `meeting-notes crm preview "
                f"{meeting_dir} --target {plan.target}` and approve (preview --approve, or push --approve).")
    if approval.get("notes_hash") != plan.notes_hash:
        return (f"notes.json changed since {approval.get('by')} approved it for {plan.target} at {approval.get('at')}: "
                "preview the new notes and approve again.")
    if approval.get("plan_hash") != plan.plan_hash:
        return (f"what would be sent to {plan.target} changed since {approval.get('by')} approved it (CRM ids or the "
                "mapping settings or the speakers' names changed): preview and approve again.")
    return None


def approve(meeting_dir: Path, plan: DeliveryPlan, by: str | None = None) -> dict[str, Any]:
    """Record in crm.json that ``by`` approved this plan (refused while it has problems)."""
    if plan.problems:
        raise CRMInputError(f"cannot approve {plan.meeting_id} for {plan.target}: " + " ".join(plan.problems))
    record = {"by": by or getpass.getuser(), "at": now_iso(), "notes_hash": plan.notes_hash, "plan_hash": plan.plan_hash}
    update_state(meeting_dir, approvals={plan.target: record})
    return record


def ledger_for(settings: CRMSettings, meeting_dir: Path) -> Ledger:
    """The configured ledger, else the SQLite file beside the meeting folders."""
    return Ledger(settings.ledger_url or default_url(Path(meeting_dir).resolve().parent))


def _send(plan: DeliveryPlan, settings: CRMSettings, row: Delivery, ledger: Ledger, sleep: Callable[[float], None]) -> dict[str, str]:
    if plan.target == "salesforce":
        cred = salesforce_credential(settings)
        with RetryingClient(settings, {"Authorization": f"Bearer {cred.token}"}, (cred.token,), sleep) as client:
            known = ledger.known_record_ids(plan.meeting_id, "salesforce")
            if meeting_key(plan.meeting_id) in known:  # TaskSubtype is accepted on create only
                plan = build_plan("salesforce", load_inputs(Path(plan.meeting_dir)), settings, task_subtype=False)
            try:
                return send_salesforce(plan, settings, client, cred.instance_url or "")
            except CRMRejectedError as exc:
                if exc.field != "TaskSubtype":
                    raise
                log.info("TaskSubtype refused on update (the call's Task exists): resending without it")
                plan = build_plan("salesforce", load_inputs(Path(plan.meeting_dir)), settings, task_subtype=False)
                return send_salesforce(plan, settings, client, cred.instance_url or "")
    if plan.target == "hubspot":
        cred = hubspot_credential(settings)
        with RetryingClient(settings, {"Authorization": f"Bearer {cred.token}"}, (cred.token,), sleep) as client:
            return send_hubspot(plan, settings, client)
    cred = webhook_secret(settings)
    with RetryingClient(settings, {}, (cred.token,), sleep) as client:
        return send_webhook(plan, settings, client, cred.token, row.delivery_id)


def push(
    meeting_dir: Path,
    target: str,
    settings: CRMSettings,
    *,
    crm_ids: dict[str, Any] | None = None,
    approve_as: str | None = None,
    auto: bool = False,
    force: bool = False,
    ledger: Ledger | None = None,
    sleep: Callable[[float], None] | None = None,
) -> PushResult:
    """Send the meeting's approved plan to ``target``.

    ``approve_as``: approve as this person first (``--approve``); ``auto``: no approval needed
    (``crm.auto_push``, recorded as approved by 'auto_push'). Raises :class:`CRMInputError`
    (nothing sent) for problems or a missing approval; a failed or rejected send is returned
    (and recorded in the ledger and crm.json), never lost.
    """
    import time

    _check_target(target)
    meeting_dir = Path(meeting_dir)
    if crm_ids:
        remember_ids(meeting_dir, crm_ids)
    plan = preview(meeting_dir, target, settings)
    if plan.problems:
        raise CRMInputError(f"not sent to {target}: " + " ".join(plan.problems))
    if approve_as or auto:
        approve(meeting_dir, plan, approve_as or "auto_push")
    problem = approval_problem(meeting_dir, plan)
    if problem:
        raise CRMInputError(f"not sent: {problem}")
    own = ledger is None
    ledger = ledger or ledger_for(settings, meeting_dir)
    try:
        row = ledger.open(plan.meeting_id, target, plan.notes_hash, str(meeting_dir.resolve()))
        if row.status == "delivered" and row.plan_hash == plan.plan_hash and not force:
            return PushResult(target=target, meeting_id=plan.meeting_id, status="already_delivered",
                              record_ids=row.record_ids, attempts=row.attempts, delivery_id=row.delivery_id)
        ledger.mark(row.id, "sending", record_ids=row.record_ids, error=None, attempt=True, plan_hash=plan.plan_hash)
        result = PushResult(target=target, meeting_id=plan.meeting_id, status="delivered",
                            attempts=row.attempts + 1, delivery_id=row.delivery_id)
        try:
            result.record_ids = _send(plan, settings, row, ledger, sleep or time.sleep)
        except (CRMUnavailableError, CRMAuthError) as exc:
            result.status, result.error = "failed", str(exc)
        except CRMRejectedError as exc:
            result.status, result.error, result.field = "rejected", str(exc), exc.field
        except CRMError as exc:
            result.status, result.error = "failed", str(exc)
        ledger.mark(row.id, result.status, record_ids=result.record_ids or row.record_ids, error=result.error)  # type: ignore[arg-type]
        update_state(meeting_dir, deliveries={target: {
            "status": result.status, "at": now_iso(), "notes_hash": plan.notes_hash,
            "record_ids": result.record_ids, "error": result.error, "attempts": result.attempts,
        }})
        log.info("CRM push %s -> %s: %s", plan.meeting_id, target, result.status)
        return result
    finally:
        if own:
            ledger.close()


def retry_failed(settings: CRMSettings, ledger: Ledger, target: str | None = None,
                 sleep: Callable[[float], None] | None = None) -> list[PushResult]:
    """Push again every failed (or abandoned 'sending') delivery still under crm.retry_max_attempts.

    Only the notes that were approved are re-sent: a delivery whose notes.json changed since
    is skipped with a message (its new version needs a new approval).
    """
    out = []

    for row in ledger.retryable(target, settings.retry_max_attempts, STALE_SENDING_S):
        try:
            if load_notes(Path(row.meeting_dir))[1] != row.notes_hash:
                raise CRMInputError("superseded: notes.json changed since this delivery; the new notes need their own approval and push.")
            result = push(Path(row.meeting_dir), row.target, settings, ledger=ledger, sleep=sleep)
        except CRMInputError as exc:
            ledger.mark(row.id, "rejected", error=str(exc))
            result = PushResult(target=row.target, meeting_id=row.meeting_id, status="rejected", error=str(exc), attempts=row.attempts)
        out.append(result)
    return out


def deliver(meeting_dir: Path, crm_ids: dict[str, Any] | None, settings: CRMSettings) -> dict[str, dict[str, Any]]:
    """After the notes of a processed meeting: record the sidecar's CRM ids in crm.json and, with
    ``crm.auto_push`` on, push to each of ``crm.auto_push_targets`` without review.

    A delivery that fails is recorded (ledger, crm.json) and left to ``crm retry``: it never
    fails the meeting, whose notes stay on disk. Returns each target's outcome (no credentials).
    """
    remember_ids(meeting_dir, crm_ids)
    if not settings.auto_push or not settings.auto_push_targets:
        log.info("CRM: waiting for review (meeting-notes crm preview %s --target ...)", meeting_dir)
        return {}
    out: dict[str, dict[str, Any]] = {}
    for target in settings.auto_push_targets:
        try:
            out[target] = push(meeting_dir, target, settings, auto=True).model_dump(mode="json")
        except CRMError as exc:
            out[target] = {"target": target, "status": "not_sent", "error": str(exc)}
        log.info("CRM %s: %s %s", target, out[target]["status"], out[target].get("error") or "")
    return out
