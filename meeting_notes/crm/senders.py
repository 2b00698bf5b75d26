"""The requests of each target, built from an approved :class:`DeliveryPlan`, and their answers
turned into record ids (or the CRM's reason for rejecting a record)."""

from __future__ import annotations

import hashlib
import hmac
import json
from typing import Any
from urllib.parse import quote

from meeting_notes.crm.errors import CRMRejectedError
from meeting_notes.crm.http import RetryingClient, error_text
from meeting_notes.crm.models import DeliveryPlan, RecordPlan
from meeting_notes.settings import CRMSettings

SALESFORCE_COMPOSITE_MAX = 25  # subrequests per composite request
HUBSPOT_BATCH_MAX = 100  # inputs per batch request
HALTED = "PROCESSING_HALTED"


def _record_name(rec: RecordPlan) -> str:
    return f"{rec.item} ({rec.object} {rec.key})"


def salesforce_request(plan: DeliveryPlan, settings: CRMSettings) -> dict[str, Any]:
    """The composite request body: one PATCH upsert by external id per record, all or none."""
    sf = settings.salesforce
    if len(plan.records) > SALESFORCE_COMPOSITE_MAX:
        raise CRMRejectedError(f"{len(plan.records)} records exceed the composite limit of {SALESFORCE_COMPOSITE_MAX}.")
    subrequests = []
    for i, rec in enumerate(plan.records):
        field = sf.event_external_id_field if rec.object == "Event" else sf.task_external_id_field
        subrequests.append({
            "method": "PATCH",
            "url": f"/services/data/{sf.api_version}/sobjects/{rec.object}/{field}/{quote(rec.key, safe='')}",
            "referenceId": f"r{i}",
            "body": rec.body(),
        })
    return {"allOrNone": True, "compositeRequest": subrequests}


def send_salesforce(plan: DeliveryPlan, settings: CRMSettings, client: RetryingClient, instance_url: str) -> dict[str, str]:
    """POST the composite request; the record ids by key, or :class:`CRMRejectedError` naming the
    record and field Salesforce refused (the whole request is then rolled back)."""
    url = f"{instance_url.rstrip('/')}/services/data/{settings.salesforce.api_version}/composite"
    data = client.request("POST", url, json=salesforce_request(plan, settings)).json()
    results = data.get("compositeResponse") if isinstance(data, dict) else None
    if not isinstance(results, list) or len(results) != len(plan.records):
        raise CRMRejectedError(f"Salesforce answered the composite request with an unexpected body: {json.dumps(data)[:300]}")
    by_ref = {r.get("referenceId"): r for r in results}
    ids: dict[str, str] = {}
    failures = []
    for i, rec in enumerate(plan.records):
        sub = by_ref.get(f"r{i}", {})
        status = int(sub.get("httpStatusCode", 0))
        body = sub.get("body")
        if 200 <= status < 300 and isinstance(body, dict) and body.get("id"):
            ids[rec.key] = body["id"]
            continue
        message, field = error_text(body)
        if HALTED in message:
            continue
        failures.append((rec, message, field, status))
    if failures:
        rec, message, field, status = failures[0]
        raise CRMRejectedError(
            f"Salesforce rejected {_record_name(rec)}: {message}" + (f" (field {field})" if field else "")
            + "; nothing was saved (allOrNone).",
            status=status,
            field=field,
        )
    if len(ids) != len(plan.records):
        raise CRMRejectedError("Salesforce rolled the request back without naming a failed record.")
    return ids


def _batches(items: list[Any], size: int) -> list[list[Any]]:
    return [items[i : i + size] for i in range(0, len(items), size)]


def hubspot_upsert_body(records: list[RecordPlan], id_property: str) -> dict[str, Any]:
    """``POST /crm/v3/objects/<type>/batch/upsert``: inputs keyed by the unique property."""
    return {"inputs": [{"idProperty": id_property, "id": r.key, "properties": r.body()} for r in records]}


def _hubspot_errors(data: Any, what: str) -> None:
    """Raise the first error of a (207 multi-status) batch answer, naming its property."""
    errors = data.get("errors") if isinstance(data, dict) else None
    if not errors:
        return
    first = errors[0] if isinstance(errors[0], dict) else {}
    ctx = first.get("context") or {}
    names = ctx.get("propertyName") if isinstance(ctx, dict) else None
    field = names[0] if isinstance(names, list) and names else None
    message = first.get("message") or json.dumps(first, ensure_ascii=False)[:300]
    raise CRMRejectedError(f"HubSpot rejected {what}: {message}" + (f" (property {field})" if field else ""), field=field)


def send_hubspot(plan: DeliveryPlan, settings: CRMSettings, client: RetryingClient) -> dict[str, str]:
    """Batch upserts (meetings, then tasks), then the default associations; the record ids by key.

    Every request is idempotent (upserts by the unique property, re-associating is a no-op), so a
    push interrupted between two requests completes on the next push without duplicates.
    """
    hs = settings.hubspot
    base = hs.base_url.rstrip("/")
    ids: dict[str, str] = {}
    objects: dict[str, list[RecordPlan]] = {}
    for rec in plan.records:
        objects.setdefault(rec.object, []).append(rec)
    for obj, records in objects.items():
        for batch in _batches(records, HUBSPOT_BATCH_MAX):
            response = client.request("POST", f"{base}/crm/v3/objects/{obj}/batch/upsert", json=hubspot_upsert_body(batch, hs.id_property))
            data = response.json()
            _hubspot_errors(data, f"{obj} " + ", ".join(r.item for r in batch))
            results = data.get("results") or []
            by_key = {(r.get("properties") or {}).get(hs.id_property): r.get("id") for r in results}
            for i, rec in enumerate(batch):
                found = by_key.get(rec.key)
                if not found and len(results) == len(batch) and None in by_key:
                    found = results[i].get("id")  # the answer did not echo the property: same order
                if not found:
                    raise CRMRejectedError(f"HubSpot returned no id for {_record_name(rec)}.")
                ids[rec.key] = str(found)
    pairs: dict[tuple[str, str], list[dict[str, Any]]] = {}
    for rec in plan.records:
        for to_type, to_ids in rec.associations.items():
            for to_id in to_ids:
                pairs.setdefault((rec.object, to_type), []).append({"from": {"id": ids[rec.key]}, "to": {"id": to_id}})
    for (from_type, to_type), inputs in pairs.items():
        for batch in _batches(inputs, HUBSPOT_BATCH_MAX):
            url = f"{base}/crm/v4/associations/{from_type}/{to_type}/batch/associate/default"
            response = client.request("POST", url, json={"inputs": batch})
            _hubspot_errors(response.json() if response.content else {}, f"the {from_type} -> {to_type} associations")
    return ids


def webhook_body(plan: DeliveryPlan, delivery_id: str) -> bytes:
    """The JSON document POSTed: stable for a delivery (the same bytes on every retry)."""
    doc = {"delivery_id": delivery_id, "event": "meeting_notes", "meeting_id": plan.meeting_id, **plan.records[0].body()}
    return json.dumps(doc, ensure_ascii=False, sort_keys=True, separators=(",", ":")).encode("utf-8")


def webhook_signature(body: bytes, secret: str) -> str:
    """``sha256=<hex>``: HMAC-SHA256 of the raw body with the shared secret."""
    return "sha256=" + hmac.new(secret.encode("utf-8"), body, hashlib.sha256).hexdigest()


def send_webhook(plan: DeliveryPlan, settings: CRMSettings, client: RetryingClient, secret: str, delivery_id: str) -> dict[str, str]:
    wh = settings.webhook
    assert wh.url
    body = webhook_body(plan, delivery_id)
    headers = {
        "Content-Type": "application/json; charset=utf-8",
        wh.signature_header: webhook_signature(body, secret),
        wh.delivery_header: delivery_id,
    }
    response = client.request("POST", wh.url, content=body, headers=headers)
    try:
        returned = response.json().get("id") if response.content else None
    except (ValueError, AttributeError):
        returned = None
    return {plan.records[0].key: str(returned or delivery_id)}
