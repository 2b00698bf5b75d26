"""What is sent: records of fields, each value with the evidence it comes from."""

from __future__ import annotations

import hashlib
import json
from typing import Any, Literal

from pydantic import BaseModel, Field

Target = Literal["salesforce", "hubspot", "webhook"]
TARGETS: tuple[str, ...] = ("salesforce", "hubspot", "webhook")


class FieldValue(BaseModel):
    """One field of one record: the value sent and where it comes from."""

    name: str = Field(description="The CRM's field/property name.")
    value: Any = Field(description="Exactly what is sent.")
    evidence: list[str] = Field(default_factory=list, description="Where the value comes from (notes item + quote, sidecar key, setting).")
    truncated: bool = Field(False, description="The text was cut at the field's limit.")


class RecordPlan(BaseModel):
    """One CRM record to upsert."""

    object: str = Field(description="Salesforce sObject ('Event', 'Task'), HubSpot object type ('meetings', 'tasks') or 'webhook'.")
    key: str = Field(description="The external-id / unique-property value that makes the write an upsert.")
    item: str = Field(description="What the record stands for: 'meeting' or 'next_steps[<i>]'.")
    fields: list[FieldValue] = Field(default_factory=list)
    associations: dict[str, list[str]] = Field(default_factory=dict, description="HubSpot: object type -> record ids.")

    def body(self) -> dict[str, Any]:
        """The fields as the CRM's JSON object."""
        return {f.name: f.value for f in self.fields}


class DeliveryPlan(BaseModel):
    """Everything one push to one target would send, and what stops it."""

    target: Target
    meeting_id: str
    meeting_dir: str
    notes_hash: str = Field(description="sha256 of notes.json as on disk (an edit needs a new approval).")
    records: list[RecordPlan] = Field(default_factory=list)
    problems: list[str] = Field(default_factory=list, description="What is missing or wrong: push refuses while any.")
    warnings: list[str] = Field(default_factory=list, description="Worth knowing, not blocking.")

    @property
    def plan_hash(self) -> str:
        """sha256 of what would be sent (records only), so an approval covers exactly this payload."""
        blob = json.dumps([r.model_dump(mode="json") for r in self.records], sort_keys=True, ensure_ascii=False)
        return hashlib.sha256(blob.encode("utf-8")).hexdigest()
