"""A correction re-syncs exactly: what a push must take back of what this meeting created earlier.

The meeting folder's ``crm.json`` keeps, per target, the records a delivered push left in the CRM
(``records``: key -> object, record id, state, associations). From it a new plan gets:

* a removal (``close`` or ``delete``, the setting ``crm.removed_records``) of every live record
  whose key is no longer planned (a deleted next step);
* on each HubSpot record, the associations made earlier that the plan no longer has (a corrected
  company or deal id);
* for Salesforce, the object the meeting record already has (``activity_object=auto`` never turns
  a call Task into an Event under the same key), or, when the setting names another object, the
  deletion of the old record in the same all-or-none composite request.

After a delivered push :func:`records_after` gives the new ``records``.
"""

from __future__ import annotations

from typing import Any

from meeting_notes.crm.models import DeliveryPlan, FieldValue, RecordPlan
from meeting_notes.settings import CRMSettings

TASK_OBJECTS = {"salesforce": "Task", "hubspot": "tasks"}
CLOSED = {"salesforce": ("Status", "Completed"), "hubspot": ("hs_task_status", "COMPLETED")}


def _renamed(name: str, target: str, settings: CRMSettings) -> str:
    field_map = settings.salesforce.field_map if target == "salesforce" else settings.hubspot.field_map
    return field_map.get(name, name) or name


def removal(target: str, key: str, info: dict[str, Any], action: str, settings: CRMSettings, why: str) -> RecordPlan:
    """The plan's record that closes or deletes an earlier record (by its CRM id)."""
    obj = str(info.get("object") or TASK_OBJECTS[target])
    if obj != TASK_OBJECTS[target]:
        action = "delete"  # only a task can be closed
    fields = []
    if action == "close":
        name, value = CLOSED[target]
        fields.append(FieldValue(name=_renamed(name, target, settings), value=value, evidence=[why, "setting crm.removed_records=close"]))
    return RecordPlan(object=obj, key=key, item=f"removed: {why}", fields=fields, action=action,
                      record_id=str(info["id"]))


def stale_removals(target: str, known: dict[str, dict[str, Any]], planned: set[str], settings: CRMSettings) -> list[RecordPlan]:
    """Removals of the live records this meeting created whose keys the plan no longer has."""
    out = []
    for key, info in sorted(known.items()):
        if key in planned or info.get("state", "live") != "live":
            continue
        out.append(removal(target, key, info, settings.removed_records, settings, "no longer in the notes"))
    return out


def association_removals(info: dict[str, Any] | None, associations: dict[str, list[str]]) -> dict[str, list[str]]:
    """The associations an earlier push made for this record that ``associations`` no longer has."""
    earlier = (info or {}).get("associations") or {}
    out: dict[str, list[str]] = {}
    for to_type, ids in earlier.items():
        gone = [str(i) for i in ids if str(i) not in set(associations.get(to_type, []))]
        if gone:
            out[to_type] = gone
    return out


def salesforce_meeting_object(planned: str, setting: str, info: dict[str, Any] | None) -> tuple[str, bool]:
    """The meeting record's object and whether the earlier record of another object must be
    deleted first. ``auto`` keeps the object the record already has; a setting naming another
    object replaces it (deleted in the same composite request)."""
    existing = (info or {}).get("object") if (info or {}).get("state", "live") == "live" else None
    if not existing or existing == planned:
        return planned, False
    if setting == "auto":
        return str(existing), False
    return planned, True


def records_after(plan: DeliveryPlan, ids: dict[str, str], known: dict[str, dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """``crm.json`` ``records`` of the target after ``plan`` was delivered with these record ids."""
    out = {k: dict(v) for k, v in known.items()}
    for rec in plan.records:
        if rec.action == "delete":
            if out.get(rec.key, {}).get("id") == rec.record_id:
                out.pop(rec.key, None)
        elif rec.action == "close":
            if rec.key in out:
                out[rec.key]["state"] = "closed"
        elif rec.key in ids:
            out[rec.key] = {"object": rec.object, "id": ids[rec.key], "state": "live", "associations": rec.associations}
    return out


__all__ = ["association_removals", "records_after", "removal", "salesforce_meeting_object", "stale_removals"]
