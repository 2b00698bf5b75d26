"""Our payloads against the request/response shapes the CRMs document.

The examples below are short structural restatements of the documentation (found with the
session's documentation search, checked on 2026-11-24), not copies; the Salesforce field
types/limits come from the Object Reference as remembered (Event, Task), flagged where so.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import httpx
from crm_helpers import HS_IDS, SF_IDS, en_notes, make_meeting
from fake_crm_server import HS_PROPS, SF_FIELDS

from meeting_notes.crm.http import RetryingClient, retry_after_s
from meeting_notes.crm.senders import (
    hubspot_upsert_body,
    salesforce_request,
    send_salesforce,
    verify_webhook_signature,
    webhook_signature,
)
from meeting_notes.crm.service import preview
from meeting_notes.settings import CRMSettings

# Source: https://developer.salesforce.com/docs/platform/api-rest/guide/dome-composite-upsert-example.md
# ("Upsert an Account and Create a Contact"): a composite request with allOrNone whose first
# subrequest upserts by external id; the answer for a created record.
SF_COMPOSITE_UPSERT_REQUEST = {
    "allOrNone": True,
    "compositeRequest": [
        {"method": "PATCH", "url": "/services/data/v68.0/sobjects/Account/ExternalAcctId__c/ID12345",
         "referenceId": "NewAccount", "body": {"Name": "Acme"}},
    ],
}
SF_COMPOSITE_UPSERT_RESPONSE = {
    "compositeResponse": [
        {"body": {"id": "0016g00000Wqu1EAAR", "success": True, "errors": [], "created": True},
         "httpHeaders": {"Location": "/services/data/v68.0/sobjects/Account/0016g00000Wqu1EAAR"},
         "httpStatusCode": 201, "referenceId": "NewAccount"},
    ]
}

# Source: https://developers.hubspot.com/docs/api-reference/latest/crm/objects/objects/batch/upsert
# ("Create or update a batch of objects by unique property values"): POST .../<objectType>/batch/upsert.
HS_BATCH_UPSERT_REQUEST = {"inputs": [{"id": "<string>", "properties": {}, "idProperty": "<string>", "objectWriteTraceId": "<string>"}]}
HS_BATCH_UPSERT_RESPONSE = {"status": "COMPLETE", "results": [{"id": "<string>", "properties": {}, "new": True, "archived": False,
                                                              "createdAt": "2023-11-07T05:31:56Z", "updatedAt": "2023-11-07T05:31:56Z"}]}
# Source: https://developers.hubspot.com/docs/api-reference/latest/crm/associations/associate-records/batch/create-associations
# ("Associate records (default)"): POST /crm/v4/associations/<from>/<to>/batch/associate/default.
HS_ASSOCIATE_DEFAULT_REQUEST = {"inputs": [{"from": {"id": "<string>"}, "to": {"id": "<string>"}}]}
# Sources: https://developers.hubspot.com/docs/api-reference/latest/crm/activities/meetings/guide.md and
# https://developers.hubspot.com/docs/api/crm/tasks (property tables: hs_timestamp required;
# hs_task_status COMPLETED or NOT_STARTED; hs_task_type EMAIL, CALL or TODO).
HS_MEETING_PROPERTIES = {"hs_timestamp", "hs_meeting_title", "hs_meeting_body", "hs_internal_meeting_notes",
                         "hs_meeting_start_time", "hs_meeting_end_time", "hs_meeting_outcome", "hubspot_owner_id",
                         "hs_meeting_location", "hs_attachment_ids", "hs_activity_type"}
HS_TASK_PROPERTIES = {"hs_timestamp", "hs_task_body", "hubspot_owner_id", "hs_task_subject", "hs_task_status",
                      "hs_task_priority", "hs_task_type", "hs_task_reminders"}

SF_SUBREQUEST_URL = re.compile(r"^/services/data/v\d+\.\d/sobjects/(Event|Task)/\w+/[^/]+$")


def _shape(value: Any) -> Any:
    """Keys and JSON types, without the values."""
    if isinstance(value, dict):
        return {k: _shape(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_shape(value[0])] if value else []
    return type(value).__name__


def test_salesforce_composite_follows_the_documented_upsert(tmp_path: Path) -> None:
    plan = preview(make_meeting(tmp_path, en_notes(), SF_IDS), "salesforce", CRMSettings())
    body = salesforce_request(plan, CRMSettings())
    assert set(body) == set(SF_COMPOSITE_UPSERT_REQUEST)
    documented_sub = SF_COMPOSITE_UPSERT_REQUEST["compositeRequest"][0]
    for sub in body["compositeRequest"]:
        assert set(sub) == set(documented_sub) and sub["method"] == documented_sub["method"]
        assert SF_SUBREQUEST_URL.match(sub["url"]), sub["url"]
        assert "Meeting_Notes_Key__c" not in sub["body"]  # the external id is in the URL, not the body
        obj = sub["url"].split("/")[5]
        for name, value in sub["body"].items():  # documented field names and types (Object Reference)
            kind, limit, _ = SF_FIELDS[obj][name]
            if kind in ("string", "textarea"):
                assert isinstance(value, str) and len(value) <= limit
            elif kind == "int":
                assert isinstance(value, int)
            elif kind == "picklist":
                assert value in limit
            elif kind == "reference":
                assert value[:3] in limit


def test_salesforce_answer_parsed_as_documented(tmp_path: Path) -> None:
    folder = make_meeting(tmp_path, en_notes(steps=0), SF_IDS)
    plan = preview(folder, "salesforce", CRMSettings())
    answer = {"compositeResponse": [{**SF_COMPOSITE_UPSERT_RESPONSE["compositeResponse"][0], "referenceId": "r0"}]}
    transport = httpx.MockTransport(lambda request: httpx.Response(200, json=answer))
    client = RetryingClient(CRMSettings())
    client.client = httpx.Client(transport=transport)
    ids = send_salesforce(plan, CRMSettings(), client, "https://example.my.salesforce.com")
    assert ids == {plan.records[0].key: "0016g00000Wqu1EAAR"}


def test_hubspot_bodies_follow_the_documented_shapes(tmp_path: Path) -> None:
    plan = preview(make_meeting(tmp_path, en_notes(), HS_IDS), "hubspot", CRMSettings())
    meeting, *tasks = plan.records
    body = hubspot_upsert_body([meeting], "meeting_notes_key")
    documented = HS_BATCH_UPSERT_REQUEST["inputs"][0]
    assert set(body) == set(HS_BATCH_UPSERT_REQUEST) and set(body["inputs"][0]) <= set(documented)
    assert all(isinstance(v, str) for v in body["inputs"][0]["properties"].values())  # HubSpot property values are strings
    assert set(meeting.body()) <= HS_MEETING_PROPERTIES and set(meeting.body()) <= set(HS_PROPS["meetings"])
    for task in tasks:
        assert set(task.body()) <= HS_TASK_PROPERTIES
        assert task.body()["hs_task_status"] in ("COMPLETED", "NOT_STARTED") and task.body()["hs_task_type"] in ("EMAIL", "CALL", "TODO")
        assert "hs_timestamp" in task.body()
    assoc = {"inputs": [{"from": {"id": "1"}, "to": {"id": to}} for to in meeting.associations["contacts"]]}
    assert _shape(assoc) == _shape(HS_ASSOCIATE_DEFAULT_REQUEST)


def test_webhook_signature_signs_the_timestamp_with_the_body() -> None:
    import hashlib
    import hmac

    body = "what do ya want for nothing? 商談".encode()
    header = webhook_signature(body, "Jefe", timestamp=1_800_000_000)
    want = hmac.new(b"Jefe", b"1800000000." + body, hashlib.sha256).hexdigest()
    assert header == f"t=1800000000,v1={want}"
    assert verify_webhook_signature(header, body, "Jefe", now=1_800_000_000 + 299)
    assert not verify_webhook_signature(header, body, "Jefe", now=1_800_000_000 + 301)  # outside the replay window
    assert not verify_webhook_signature(header, body + b" ", "Jefe", now=1_800_000_000)
    assert not verify_webhook_signature(header, body, "other", now=1_800_000_000)
    assert not verify_webhook_signature(header.replace("t=1800000000", "t=1800000100"), body, "Jefe", now=1_800_000_100)


def test_retry_after_forms() -> None:
    assert retry_after_s("7") == 7.0
    assert retry_after_s("Wed, 21 Oct 2015 07:28:00 GMT", now=1445412470.0) == 10.0
    assert retry_after_s("soon") is None and retry_after_s(None) is None
