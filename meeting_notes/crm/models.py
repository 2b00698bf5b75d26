"""What is sent: records of fields, each value with the evidence it comes from."""

from __future__ import annotations

import hashlib
import json
from typing import Any, Literal

from pydantic import BaseModel, Field

Target = Literal["salesforce", "hubspot", "webhook"]
TARGETS: tuple[str, ...] = ("salesforce", "hubspot", "webhook")
Action = Literal["upsert", "close", "delete"]


class FieldValue(BaseModel):
    """One field of one record: the value sent and where it comes from."""

    name: str = Field(description="The CRM's field/property name.")
    value: Any = Field(description="Exactly what is sent.")
    evidence: list[str] = Field(default_factory=list, description="Where the value comes from (notes item + quote, sidecar key, setting).")
    truncated: bool = Field(False, description="The text was cut at the field's limit.")


class RecordPlan(BaseModel):
    """One CRM record to upsert, or one this meeting created earlier to close or delete."""

    object: str = Field(description="Salesforce sObject ('Event', 'Task'), HubSpot object type ('meetings', 'tasks') or 'webhook'.")
    key: str = Field(description="The external-id / unique-property value that makes the write an upsert.")
    item: str = Field(description="What the record stands for: 'meeting', 'next_steps[<i>]', or what it stood for when removed.")
    fields: list[FieldValue] = Field(default_factory=list)
    associations: dict[str, list[str]] = Field(default_factory=dict, description="HubSpot: object type -> record ids.")
    action: Action = Field("upsert", description="'upsert' (by key), or 'close' / 'delete' a record no longer in the notes (by record id).")
    record_id: str | None = Field(None, description="The CRM's id of a record to close or delete.")
    remove_associations: dict[str, list[str]] = Field(
        default_factory=dict, description="HubSpot: associations made by an earlier push that are no longer in the plan."
    )

    def body(self) -> dict[str, Any]:
        """The fields as the CRM's JSON object."""
        return {f.name: f.value for f in self.fields}


class DeliveryPlan(BaseModel):
    """Everything one push to one target would send, where it goes, and what stops it."""

    target: Target
    meeting_id: str
    meeting_dir: str
    notes_hash: str = Field(description="sha256 of notes.json as on disk (an edit needs a new approval).")
    destination: dict[str, str] = Field(
        default_factory=dict,
        description="Where the plan goes (instance/base URL, key field or property, the webhook URL's host and hash): "
        "part of the plan hash, so an approval covers one destination.",
    )
    records: list[RecordPlan] = Field(default_factory=list)
    problems: list[str] = Field(default_factory=list, description="What is missing or wrong: push refuses while any.")
    warnings: list[str] = Field(default_factory=list, description="Worth knowing, not blocking.")

    @property
    def plan_hash(self) -> str:
        """sha256 of what would be written and where (target, meeting, destination, the records
        upserted with their associations), so an approval covers exactly this payload to exactly
        this place. What is taken back is approved as a list (:meth:`removals`): once done it
        leaves the plan, and the approval still covers the rest."""
        upserts = [r.model_dump(mode="json", exclude={"remove_associations"}) for r in self.records if r.action == "upsert"]
        doc = {"target": self.target, "meeting_id": self.meeting_id, "destination": self.destination, "records": upserts}
        blob = json.dumps(doc, sort_keys=True, ensure_ascii=False)
        return hashlib.sha256(blob.encode("utf-8")).hexdigest()

    def removals(self) -> list[str]:
        """What the plan takes back, one line each: ``close Task 00T... (key)``, ``delete ...``,
        ``unassociate meetings <key> -> companies 101``."""
        out = []
        for r in self.records:
            if r.action != "upsert":
                out.append(f"{r.action} {r.object} {r.record_id} ({r.key})")
            for to_type, ids in r.remove_associations.items():
                out.extend(f"unassociate {r.object} {r.key} -> {to_type} {i}" for i in ids)
        return sorted(out)

    def without(self, record_ids: set[str]) -> DeliveryPlan:
        """This plan less the removals of ``record_ids`` (records the CRM says are already gone)."""
        kept = [r for r in self.records if r.action == "upsert" or r.record_id not in record_ids]
        return self.model_copy(update={"records": kept})
