"""Preview, approval and push: what the CLI, the ``deliver`` task and ``crm-retry`` call.

Rules: nothing is sent while the plan has problems; nothing is sent unapproved unless the
caller says so (``--approve``, or ``crm.auto_push``); an approval covers one notes.json (its
sha256), one payload and one destination, and the plan checked is the plan sent (never rebuilt
in between); the ledger makes a delivered meeting x target x plan a no-op and every failure
resumable, and the CRM writes are upserts by stable keys, so a repeated push never adds records
and a correction takes back what the notes no longer say (:mod:`meeting_notes.crm.resync`).
A delivery never raises into the meeting: any failure ends as a recorded error.
"""

from __future__ import annotations

import getpass
import json
import logging
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from pydantic import BaseModel, Field

from meeting_notes.atomic import write_text_atomic
from meeting_notes.clock import now_iso
from meeting_notes.crm.credentials import hubspot_credential, salesforce_credential, webhook_secret
from meeting_notes.crm.errors import CRMError, CRMInputError, CRMRejectedError, CRMTakenOverError, CRMUnavailableError
from meeting_notes.crm.http import RetryingClient
from meeting_notes.crm.inputs import (
    CRM_LOCK_FILE,
    CRM_STATE_FILE,
    apply_id_changes,
    current_ids,
    id_changes,
    known_records,
    load_inputs,
    load_notes,
    read_state,
)
from meeting_notes.crm.ledger import Ledger, default_url
from meeting_notes.crm.mapping import REVIEW_FIRST, build_plan
from meeting_notes.crm.models import TARGETS, DeliveryPlan
from meeting_notes.crm.resync import records_after
from meeting_notes.crm.senders import send_hubspot, send_salesforce, send_webhook
from meeting_notes.crm.text import url_secrets
from meeting_notes.leases import file_lock
from meeting_notes.settings import CRMSettings

log = logging.getLogger(__name__)

MIN_STALE_SENDING_S = 600.0


def stale_sending_s(settings: CRMSettings) -> float:
    """How long a 'sending' row may stay silent before ``crm retry`` takes it over: a live push
    shows life before every request and every wait, so the longest silence is one wait (at most
    ``retry_after_max_s`` or ``backoff_max_s``) or one request (a few ``timeout_s``: connect,
    write, read); twice that, and never under 10 minutes."""
    longest_wait = max(settings.retry_after_max_s, settings.backoff_max_s)
    return max(MIN_STALE_SENDING_S, 2 * (longest_wait + 4 * settings.timeout_s))


class PushResult(BaseModel):
    """What one push did."""

    target: str
    meeting_id: str
    status: str = Field(
        description="'delivered', 'already_delivered', 'failed' (retry later), 'rejected' (fix first), 'in_progress' "
        "(another push holds the delivery) or 'taken_over' (this push was silent too long; another finished it)."
    )
    record_ids: dict[str, str] = Field(default_factory=dict, description="Key -> CRM record id.")
    attempts: int = 0
    delivery_id: str = ""
    error: str | None = None
    field: str | None = Field(None, description="The field the CRM rejected, when it said.")


def _check_target(target: str) -> None:
    if target not in TARGETS:
        raise CRMInputError(f"unknown target {target!r}: one of {', '.join(TARGETS)}")


def _merge(state: dict[str, Any], changes: dict[str, Any]) -> None:
    for key, value in changes.items():
        if isinstance(value, dict) and isinstance(state.get(key), dict):
            merged = {**state[key], **value}
            state[key] = {k: v for k, v in merged.items() if v is not None}
        elif isinstance(value, dict):
            state[key] = {k: v for k, v in value.items() if v is not None}
        else:
            state[key] = value


def update_state(meeting_dir: Path, **changes: Any) -> dict[str, Any]:
    """Merge ``changes`` into crm.json (dicts merged one level deep; a None inside such a dict
    removes that key), written atomically, under the file's lock: ``crm push`` / ``approve`` run
    outside the meeting's lease, beside the deliver stage and each other, and none may lose what
    another wrote."""
    with file_lock(Path(meeting_dir) / CRM_LOCK_FILE):
        state = read_state(meeting_dir)
        _merge(state, changes)
        write_text_atomic(Path(meeting_dir) / CRM_STATE_FILE, json.dumps(state, indent=2, ensure_ascii=False, sort_keys=True))
    return state


def remember_ids(meeting_dir: Path, crm_ids: dict[str, Any] | None) -> None:
    """Record the given CRM ids in crm.json (they are not in run.json or the notes): each one set,
    or unset where its value is empty (``--crm-id contact_id=``). The first time, the ids of the
    sidecar beside the recording are recorded with them, so an unset one stays unset."""
    changes = id_changes(crm_ids or {})
    if not changes:
        return
    with file_lock(Path(meeting_dir) / CRM_LOCK_FILE):
        state = read_state(meeting_dir)
        state["crm_ids"] = apply_id_changes(current_ids(Path(meeting_dir), state), changes)
        write_text_atomic(Path(meeting_dir) / CRM_STATE_FILE, json.dumps(state, indent=2, ensure_ascii=False, sort_keys=True))


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
    if approval.get("plan_hash") != plan.plan_hash or not set(plan.removals()) <= set(approval.get("removals") or []):
        return (f"what would be sent to {plan.target}, or where, changed since {approval.get('by')} approved it (CRM ids, "
                "the mapping or destination settings, the speakers' names, or records to take back): preview and approve again.")
    return None


def approve(meeting_dir: Path, plan: DeliveryPlan, by: str | None = None) -> dict[str, Any]:
    """Record in crm.json that ``by`` approved this plan (refused while it has problems)."""
    if plan.problems:
        raise CRMInputError(f"cannot approve {plan.meeting_id} for {plan.target}: " + " ".join(plan.problems))
    record = {"by": by or getpass.getuser(), "at": now_iso(), "notes_hash": plan.notes_hash, "plan_hash": plan.plan_hash,
              "removals": plan.removals()}
    update_state(meeting_dir, approvals={plan.target: record})
    return record


def ledger_for(settings: CRMSettings, meeting_dir: Path) -> Ledger:
    """The configured ledger, else the SQLite file beside the meeting folders."""
    return Ledger(settings.ledger_url or default_url(Path(meeting_dir).resolve().parent))


def _without_field(plan: DeliveryPlan, name: str) -> DeliveryPlan:
    """The approved plan less one field (Salesforce's create-only TaskSubtype on an existing record)."""
    records = [r.model_copy(update={"fields": [f for f in r.fields if f.name != name]}) for r in plan.records]
    return plan.model_copy(update={"records": records})


def _call_task_exists(plan: DeliveryPlan) -> bool:
    """Whether the meeting's call Task was created by an earlier push (``crm.json`` ``records``)."""
    try:
        known = known_records(read_state(Path(plan.meeting_dir)), plan.meeting_id).get(plan.target, {})
    except CRMError:
        return False
    meeting = next((r for r in plan.records if r.item == "meeting" and r.action == "upsert"), None)
    info = known.get(meeting.key, {}) if meeting else {}
    return bool(meeting and meeting.object == "Task" and info.get("object") == "Task" and info.get("state", "live") == "live")


def _client(settings: CRMSettings, token: str, sleep: Callable[[float], None], heartbeat: Callable[[], None],
            bearer: bool = True) -> RetryingClient:
    headers = {"Authorization": f"Bearer {token}"} if bearer else {}
    secrets = (token, *url_secrets(settings.webhook.url))
    return RetryingClient(settings, headers, secrets, sleep, heartbeat)


def _send(plan: DeliveryPlan, settings: CRMSettings, sleep: Callable[[float], None],
          heartbeat: Callable[[], None]) -> tuple[dict[str, str], str]:
    """Send exactly ``plan`` (nothing is rebuilt from disk); the record ids and the delivery id."""
    if plan.target == "salesforce":
        cred = salesforce_credential(settings)
        instance = plan.destination.get("instance_url") or cred.instance_url or ""  # the approved org
        if _call_task_exists(plan):  # TaskSubtype is create-only: the approved plan without it
            plan = _without_field(plan, "TaskSubtype")
        with _client(settings, cred.token, sleep, heartbeat) as client:
            try:
                return send_salesforce(plan, settings, client, instance), ""
            except CRMRejectedError as exc:
                if exc.field != "TaskSubtype":
                    raise
                log.info("TaskSubtype refused on update (the call's Task exists): resending the approved plan without it")
                return send_salesforce(_without_field(plan, "TaskSubtype"), settings, client, instance), ""
    if plan.target == "hubspot":
        cred = hubspot_credential(settings)
        with _client(settings, cred.token, sleep, heartbeat) as client:
            return send_hubspot(plan, settings, client), ""
    cred = webhook_secret(settings)
    with _client(settings, cred.token, sleep, heartbeat, bearer=False) as client:
        try:
            return send_webhook(plan, settings, client, cred.token)
        except CRMError:
            raise
        except Exception as exc:  # whatever a receiver's answer does, the error is masked like one
            raise CRMUnavailableError(client.mask(f"unexpected {type(exc).__name__}: {exc}")) from exc


def _masked(settings: CRMSettings, text: str) -> str:
    for secret in url_secrets(settings.webhook.url):
        text = text.replace(secret, "***")
    return text


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
    (``crm.auto_push``, recorded as approved by 'auto_push'); ``force``: send again although
    delivered, or take over a push that still holds the delivery. Raises :class:`CRMInputError`
    (nothing sent) for problems or a missing approval; any failure of the send itself is
    returned (and recorded in the ledger and crm.json), never raised.
    """
    _check_target(target)
    meeting_dir = Path(meeting_dir)
    if crm_ids:
        remember_ids(meeting_dir, crm_ids)
    plan = preview(meeting_dir, target, settings)
    if plan.problems:
        raise CRMInputError(f"not sent to {target}: " + " ".join(plan.problems))
    review = [w.removeprefix(REVIEW_FIRST) for w in plan.warnings if w.startswith(REVIEW_FIRST)]
    if auto and review:
        raise CRMInputError(
            f"not sent to {target} by auto_push: a person must review these notes first "
            f"(meeting-notes crm preview {meeting_dir} --target {target}): " + "; ".join(review)
        )
    if approve_as or auto:
        approve(meeting_dir, plan, approve_as or "auto_push")
    problem = approval_problem(meeting_dir, plan)
    if problem:
        raise CRMInputError(f"not sent: {problem}")
    own = ledger is None
    ledger = ledger or ledger_for(settings, meeting_dir)
    try:
        return _push_plan(plan, meeting_dir, settings, ledger, force, sleep or time.sleep)
    finally:
        if own:
            ledger.close()


def _push_plan(plan: DeliveryPlan, meeting_dir: Path, settings: CRMSettings, ledger: Ledger, force: bool,
               sleep: Callable[[float], None]) -> PushResult:
    target = plan.target
    row = ledger.open(plan.meeting_id, target, plan.notes_hash, str(meeting_dir.resolve()))
    if row.status == "delivered" and row.plan_hash == plan.plan_hash and not force:
        return PushResult(target=target, meeting_id=plan.meeting_id, status="already_delivered",
                          record_ids=row.record_ids, attempts=row.attempts, delivery_id=row.delivery_id)
    claimed = ledger.claim(row, plan.plan_hash, stale_sending_s(settings), force=force)
    if claimed is None:
        return PushResult(target=target, meeting_id=plan.meeting_id, status="in_progress", attempts=row.attempts,
                          error=f"another push of {plan.meeting_id} to {target} is in progress (last sign of life "
                                f"{row.updated_at.isoformat(timespec='seconds')}); it is taken over after "
                                f"{stale_sending_s(settings):.0f} s of silence, or now with --force.")

    def heartbeat() -> None:
        if not ledger.heartbeat(claimed):
            raise CRMTakenOverError(f"this push of {plan.meeting_id} to {target} was taken over by another one")

    result = PushResult(target=target, meeting_id=plan.meeting_id, status="delivered", attempts=claimed.attempts)
    ids: dict[str, str] = {}
    try:
        ids, result.delivery_id = _send(plan, settings, sleep, heartbeat)
        result.record_ids = ids
    except CRMTakenOverError as exc:
        result.status, result.error = "taken_over", str(exc)
    except CRMRejectedError as exc:
        result.status, result.error, result.field = "rejected", str(exc), exc.field
    except CRMError as exc:
        result.status, result.error = "failed", str(exc)
    except Exception as exc:  # a delivery never raises into the meeting: recorded, retried later
        log.debug("CRM push %s -> %s raised", plan.meeting_id, target, exc_info=True)
        result.status, result.error = "failed", _masked(settings, f"unexpected {type(exc).__name__}: {exc}")
    except BaseException:  # Ctrl-C: the row is not left 'sending' for the stale bound
        ledger.finish(claimed, "failed", claimed.record_ids, "interrupted")
        raise
    if result.status == "taken_over":
        return result
    status = result.status if result.status in ("delivered", "failed", "rejected") else "failed"
    if not ledger.finish(claimed, status, result.record_ids or row.record_ids, result.error,  # type: ignore[arg-type]
                         delivery_id=result.delivery_id or None):
        result.status, result.error = "taken_over", f"this push of {plan.meeting_id} to {target} was taken over by another one"
        return result
    result.delivery_id = result.delivery_id or claimed.delivery_id
    changes: dict[str, Any] = {"deliveries": {target: {
        "status": result.status, "at": now_iso(), "notes_hash": plan.notes_hash,
        "record_ids": result.record_ids, "error": result.error, "attempts": result.attempts,
    }}}
    try:
        if result.status == "delivered" and target != "webhook":
            known = known_records(read_state(meeting_dir), plan.meeting_id).get(target, {})
            changes["records"] = {target: records_after(plan, ids, known)}
        update_state(meeting_dir, **changes)
    except (CRMError, OSError) as exc:  # sent and in the ledger: the folder's copy is what failed
        log.warning("CRM push %s -> %s: %s, but crm.json could not be updated: %s", plan.meeting_id, target, result.status, exc)
    log.info("CRM push %s -> %s: %s", plan.meeting_id, target, result.status)
    return result


def retry_failed(settings: CRMSettings, ledger: Ledger, target: str | None = None,
                 sleep: Callable[[float], None] | None = None) -> list[PushResult]:
    """Push again every failed (or abandoned 'sending') delivery still under crm.retry_max_attempts.

    Only the notes that were approved are re-sent: a delivery whose notes.json changed since
    is skipped with a message (its new version needs a new approval).
    """
    out = []
    for row in ledger.retryable(target, settings.retry_max_attempts, stale_sending_s(settings)):
        try:
            if load_notes(Path(row.meeting_dir))[1] != row.notes_hash:
                raise CRMInputError("superseded: notes.json changed since this delivery; the new notes need their own approval and push.")
            result = push(Path(row.meeting_dir), row.target, settings, ledger=ledger, sleep=sleep)
        except CRMInputError as exc:
            ledger.mark(row.id, "rejected", error=str(exc), expect=row)
            result = PushResult(target=row.target, meeting_id=row.meeting_id, status="rejected", error=str(exc), attempts=row.attempts)
        except Exception as exc:
            result = PushResult(target=row.target, meeting_id=row.meeting_id, status="failed", attempts=row.attempts,
                                error=_masked(settings, f"unexpected {type(exc).__name__}: {exc}"))
        out.append(result)
    return out


def deliver(meeting_dir: Path, crm_ids: dict[str, Any] | None, settings: CRMSettings) -> dict[str, dict[str, Any]]:
    """After the notes of a processed meeting: record the sidecar's CRM ids in crm.json and, with
    ``crm.auto_push`` on, push to each of ``crm.auto_push_targets`` without review.

    Never raises: a delivery that fails, or cannot even start (an unreadable crm.json, a ledger
    that is down), is recorded (ledger, crm.json where it can be) and reported, and left to
    ``crm retry``; the meeting's notes and report do not depend on it. Returns each target's
    outcome (no credentials).
    """
    out: dict[str, dict[str, Any]] = {}
    try:
        remember_ids(meeting_dir, crm_ids)
    except Exception as exc:
        problem = _masked(settings, f"{type(exc).__name__}: {exc}" if not isinstance(exc, CRMError) else str(exc))
        log.warning("CRM: the meeting's CRM ids could not be recorded: %s", problem)
        out = {t: {"target": t, "status": "not_sent", "error": problem} for t in settings.auto_push_targets}
        return out if settings.auto_push else {}
    if not settings.auto_push or not settings.auto_push_targets:
        log.info("CRM: waiting for review (meeting-notes crm preview %s --target ...)", meeting_dir)
        return {}
    for target in settings.auto_push_targets:
        try:
            out[target] = push(meeting_dir, target, settings, auto=True).model_dump(mode="json")
        except CRMError as exc:
            out[target] = {"target": target, "status": "not_sent", "error": _masked(settings, str(exc))}
        except Exception as exc:
            out[target] = {"target": target, "status": "failed", "error": _masked(settings, f"unexpected {type(exc).__name__}: {exc}")}
        log.info("CRM %s: %s %s", target, out[target]["status"], out[target].get("error") or "")
    return out
