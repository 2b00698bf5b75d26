"""The requests of each target, built from an approved :class:`DeliveryPlan` (exactly it: nothing
is re-read from disk here), and their answers turned into record ids (or the CRM's reason for
rejecting a record)."""

from __future__ import annotations

import hashlib
import hmac
import json
import time
import uuid
from typing import Any
from urllib.parse import quote

from meeting_notes.crm.errors import CRMRejectedError, CRMUnavailableError
from meeting_notes.crm.http import RetryingClient, error_text, json_body
from meeting_notes.crm.models import DeliveryPlan, RecordPlan
from meeting_notes.settings import CRMSettings

SALESFORCE_COMPOSITE_MAX = 25  # subrequests per composite request
HUBSPOT_BATCH_MAX = 100  # inputs per batch request
HALTED = "PROCESSING_HALTED"


def _record_name(rec: RecordPlan) -> str:
    return f"{rec.item} ({rec.object} {rec.key})"


def _sf_subrequest(rec: RecordPlan, i: int, settings: CRMSettings) -> dict[str, Any]:
    sf = settings.salesforce
    base = f"/services/data/{sf.api_version}/sobjects/{rec.object}"
    if rec.action == "delete":
        return {"method": "DELETE", "url": f"{base}/{quote(str(rec.record_id), safe='')}", "referenceId": f"r{i}"}
    if rec.action == "close":
        return {"method": "PATCH", "url": f"{base}/{quote(str(rec.record_id), safe='')}", "referenceId": f"r{i}", "body": rec.body()}
    field = sf.event_external_id_field if rec.object == "Event" else sf.task_external_id_field
    return {"method": "PATCH", "url": f"{base}/{field}/{quote(rec.key, safe='')}", "referenceId": f"r{i}", "body": rec.body()}


def salesforce_request(plan: DeliveryPlan, settings: CRMSettings) -> dict[str, Any]:
    """The composite request body, all or none: one PATCH upsert by external id per record, a
    PATCH (close) or DELETE by record id per record taken back."""
    if len(plan.records) > SALESFORCE_COMPOSITE_MAX:
        raise CRMRejectedError(f"{len(plan.records)} records exceed the composite limit of {SALESFORCE_COMPOSITE_MAX}.")
    return {"allOrNone": True, "compositeRequest": [_sf_subrequest(rec, i, settings) for i, rec in enumerate(plan.records)]}


def _gone(status: int, message: str) -> bool:
    """A record to take back that is not there any more (deleted by hand): its removal is done."""
    return status == 404 or "ENTITY_IS_DELETED" in message


def send_salesforce(plan: DeliveryPlan, settings: CRMSettings, client: RetryingClient, instance_url: str) -> dict[str, str]:
    """POST the composite request; the record ids by key, or :class:`CRMRejectedError` naming the
    record and field Salesforce refused (the whole request is then rolled back). When the only
    failures are records to take back that are already gone, the request is sent once more
    without them (the approved plan less what is already done)."""
    url = f"{instance_url.rstrip('/')}/services/data/{settings.salesforce.api_version}/composite"
    for _ in range(2):
        data = json_body(client.request("POST", url, json=salesforce_request(plan, settings)), "Salesforce")
        results = data.get("compositeResponse") if isinstance(data, dict) else None
        if not isinstance(results, list) or len(results) != len(plan.records) or not all(isinstance(r, dict) for r in results):
            raise CRMUnavailableError(f"Salesforce answered the composite request with an unexpected body: {json.dumps(data)[:300]}")
        by_ref = {r.get("referenceId"): r for r in results}
        ids: dict[str, str] = {}
        failures = []
        gone: set[str] = set()
        for i, rec in enumerate(plan.records):
            sub = by_ref.get(f"r{i}", {})
            try:
                status = int(sub.get("httpStatusCode", 0))
            except (TypeError, ValueError):
                status = 0
            body = sub.get("body")
            if 200 <= status < 300 and rec.action != "upsert":
                continue
            if 200 <= status < 300 and isinstance(body, dict) and body.get("id"):
                ids[rec.key] = str(body["id"])
                continue
            message, field = error_text(body)
            if HALTED in message:
                continue
            if rec.action != "upsert" and _gone(status, message):
                gone.add(str(rec.record_id))
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
        if gone:
            plan = plan.without(gone)
            continue
        if len(ids) != sum(1 for r in plan.records if r.action == "upsert"):
            raise CRMRejectedError("Salesforce rolled the request back without naming a failed record.")
        return ids
    raise CRMRejectedError("Salesforce refused the request twice over records to take back.")


def _batches(items: list[Any], size: int) -> list[list[Any]]:
    return [items[i : i + size] for i in range(0, len(items), size)]


def hubspot_upsert_body(records: list[RecordPlan], id_property: str) -> dict[str, Any]:
    """``POST /crm/v3/objects/<type>/batch/upsert``: inputs keyed by the unique property."""
    return {"inputs": [{"idProperty": id_property, "id": r.key, "properties": r.body()} for r in records]}


def _hubspot_errors(data: Any, what: str) -> None:
    """Raise the first error of a (207 multi-status) batch answer, naming its property."""
    errors = data.get("errors") if isinstance(data, dict) else None
    if not errors or not isinstance(errors, list):
        return
    first = errors[0] if isinstance(errors[0], dict) else {}
    ctx = first.get("context") or {}
    names = ctx.get("propertyName") if isinstance(ctx, dict) else None
    field = names[0] if isinstance(names, list) and names else None
    message = first.get("message") or json.dumps(first, ensure_ascii=False)[:300]
    raise CRMRejectedError(f"HubSpot rejected {what}: {message}" + (f" (property {field})" if field else ""), field=field)


def _hubspot_json(response: Any, what: str) -> dict[str, Any]:
    if not response.content:
        return {}
    data = json_body(response, "HubSpot")
    if not isinstance(data, dict):
        raise CRMUnavailableError(f"HubSpot answered {what} with an unexpected body: {json.dumps(data)[:300]}")
    return data


def _hubspot_upserts(plan: DeliveryPlan, settings: CRMSettings, client: RetryingClient, base: str) -> dict[str, str]:
    hs = settings.hubspot
    ids: dict[str, str] = {}
    objects: dict[str, list[RecordPlan]] = {}
    for rec in plan.records:
        if rec.action == "upsert":
            objects.setdefault(rec.object, []).append(rec)
    for obj, records in objects.items():
        for batch in _batches(records, HUBSPOT_BATCH_MAX):
            what = f"{obj} " + ", ".join(r.item for r in batch)
            response = client.request("POST", f"{base}/crm/v3/objects/{obj}/batch/upsert", json=hubspot_upsert_body(batch, hs.id_property))
            data = _hubspot_json(response, what)
            _hubspot_errors(data, what)
            results = [r for r in (data.get("results") or []) if isinstance(r, dict)]
            by_key = {(r.get("properties") or {}).get(hs.id_property): r.get("id") for r in results}
            for i, rec in enumerate(batch):
                found = by_key.get(rec.key)
                if not found and len(results) == len(batch) and None in by_key:
                    found = results[i].get("id")  # the answer did not echo the property: same order
                if not found:
                    raise CRMRejectedError(f"HubSpot returned no id for {_record_name(rec)}.")
                ids[rec.key] = str(found)
    return ids


def _hubspot_removals(plan: DeliveryPlan, client: RetryingClient, base: str) -> None:
    """Close (``batch/update``, one record a request so that one gone by hand is told apart) or
    archive (``batch/archive``, idempotent) the records taken back."""
    for rec in plan.records:
        if rec.action == "close":
            try:
                response = client.request("POST", f"{base}/crm/v3/objects/{rec.object}/batch/update",
                                          json={"inputs": [{"id": rec.record_id, "properties": rec.body()}]})
            except CRMRejectedError as exc:
                if exc.status == 404 or "not exist" in str(exc).lower() or "OBJECT_NOT_FOUND" in str(exc):
                    continue  # deleted by hand: nothing left to close
                raise
            _hubspot_errors(_hubspot_json(response, f"closing {rec.key}"), f"closing {_record_name(rec)}")
    deletes: dict[str, list[str]] = {}
    for rec in plan.records:
        if rec.action == "delete":
            deletes.setdefault(rec.object, []).append(str(rec.record_id))
    for obj, record_ids in deletes.items():
        for batch in _batches(record_ids, HUBSPOT_BATCH_MAX):
            client.request("POST", f"{base}/crm/v3/objects/{obj}/batch/archive", json={"inputs": [{"id": i} for i in batch]})


def _hubspot_associations(plan: DeliveryPlan, ids: dict[str, str], client: RetryingClient, base: str) -> None:
    """Default associations of the plan, then the archive of those an earlier push made that the
    plan no longer has (a corrected company or deal)."""
    pairs: dict[tuple[str, str], list[dict[str, Any]]] = {}
    gone: dict[tuple[str, str], list[dict[str, Any]]] = {}
    for rec in plan.records:
        if rec.action != "upsert":
            continue
        for to_type, to_ids in rec.associations.items():
            for to_id in to_ids:
                pairs.setdefault((rec.object, to_type), []).append({"from": {"id": ids[rec.key]}, "to": {"id": to_id}})
        for to_type, to_ids in rec.remove_associations.items():
            gone.setdefault((rec.object, to_type), []).append({"from": {"id": ids[rec.key]}, "to": [{"id": i} for i in to_ids]})
    for (from_type, to_type), inputs in pairs.items():
        for batch in _batches(inputs, HUBSPOT_BATCH_MAX):
            url = f"{base}/crm/v4/associations/{from_type}/{to_type}/batch/associate/default"
            response = client.request("POST", url, json={"inputs": batch})
            _hubspot_errors(_hubspot_json(response, "the associations"), f"the {from_type} -> {to_type} associations")
    for (from_type, to_type), inputs in gone.items():
        for batch in _batches(inputs, HUBSPOT_BATCH_MAX):
            url = f"{base}/crm/v4/associations/{from_type}/{to_type}/batch/archive"
            response = client.request("POST", url, json={"inputs": batch})
            _hubspot_errors(_hubspot_json(response, "the association removals"), f"removing {from_type} -> {to_type} associations")


def send_hubspot(plan: DeliveryPlan, settings: CRMSettings, client: RetryingClient) -> dict[str, str]:
    """Batch upserts (meetings, then tasks), the records taken back, then the associations (made
    and removed); the record ids by key.

    Every request is idempotent (upserts by the unique property, re-associating, closing,
    archiving and un-associating twice are no-ops), so a push interrupted between two requests
    completes on the next push without duplicates.
    """
    base = settings.hubspot.base_url.rstrip("/")
    ids = _hubspot_upserts(plan, settings, client, base)
    _hubspot_removals(plan, client, base)
    _hubspot_associations(plan, ids, client, base)
    return ids


WEBHOOK_NAMESPACE = uuid.UUID("6f1c1e52-3d2b-5d0c-9a57-6d65657469ff")
REPLAY_WINDOW_S = 300
"""Receivers refuse a signature whose timestamp is further than this from their clock (docs/crm.md)."""


def webhook_delivery_id(plan: DeliveryPlan) -> str:
    """The idempotency key: a UUID (version 5) of the meeting and the plan hash. The same plan
    always has the same key (a retry, a forced re-send, another ledger); a changed body has a new
    one, so a receiver that de-duplicates on it drops repeats but never a correction."""
    return str(uuid.uuid5(WEBHOOK_NAMESPACE, f"{plan.meeting_id}:{plan.plan_hash}"))


def webhook_body(plan: DeliveryPlan, delivery_id: str) -> bytes:
    """The JSON document POSTed: stable for a plan (the same bytes on every retry)."""
    doc = {"delivery_id": delivery_id, "event": "meeting_notes", "meeting_id": plan.meeting_id, **plan.records[0].body()}
    return json.dumps(doc, ensure_ascii=False, sort_keys=True, separators=(",", ":")).encode("utf-8")


def webhook_signature(body: bytes, secret: str, timestamp: int | None = None) -> str:
    """``t=<unix seconds>,v1=<hex>``: HMAC-SHA256, with the shared secret, of ``"<t>." + body``
    (Stripe's scheme): the timestamp is signed with the body, so a captured request cannot be
    replayed outside the receiver's window (:data:`REPLAY_WINDOW_S`)."""
    t = int(time.time()) if timestamp is None else int(timestamp)
    mac = hmac.new(secret.encode("utf-8"), str(t).encode("ascii") + b"." + body, hashlib.sha256).hexdigest()
    return f"t={t},v1={mac}"


def verify_webhook_signature(header: str, body: bytes, secret: str, tolerance_s: float = REPLAY_WINDOW_S,
                             now: float | None = None) -> bool:
    """What a receiver checks: a ``v1`` that matches and a ``t`` within ``tolerance_s``."""
    parts: dict[str, list[str]] = {}
    for item in header.split(","):
        name, sep, value = item.strip().partition("=")
        if sep:
            parts.setdefault(name, []).append(value)
    stamps = parts.get("t") or []
    if len(stamps) != 1 or not stamps[0].isdigit():
        return False
    t = int(stamps[0])
    if abs((time.time() if now is None else now) - t) > tolerance_s:
        return False
    want = webhook_signature(body, secret, t).split("v1=", 1)[1]
    return any(hmac.compare_digest(want, v) for v in parts.get("v1", []))


def send_webhook(plan: DeliveryPlan, settings: CRMSettings, client: RetryingClient, secret: str) -> tuple[dict[str, str], str]:
    """POST the signed document (signed afresh for each attempt); the record id by key and the
    delivery id."""
    wh = settings.webhook
    assert wh.url
    delivery_id = webhook_delivery_id(plan)
    body = webhook_body(plan, delivery_id)
    headers = {"Content-Type": "application/json; charset=utf-8", wh.delivery_header: delivery_id}
    response = client.request("POST", wh.url, content=body, headers=headers,
                              sign=lambda: {wh.signature_header: webhook_signature(body, secret)})
    try:
        data = response.json() if response.content else None
    except ValueError:
        data = None  # a receiver may answer with text: the delivery id stands for the record
    returned = data.get("id") if isinstance(data, dict) else None
    return {plan.records[0].key: str(returned or delivery_id)}, delivery_id
