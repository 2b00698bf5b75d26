"""Fake Salesforce, HubSpot and webhook endpoints on 127.0.0.1 for the CRM delivery tests.

Implements only what the delivery uses, with the documented semantics (request examples and
their sources are in tests/test_crm_payloads.py):

* Salesforce REST ``POST /services/data/vXX.X/composite`` with ``allOrNone`` and PATCH
  subrequests ``/sobjects/<Event|Task>/<ExternalIdField>/<value>`` (upsert: 201 created / 200
  updated, ``{id, success, errors, created}``); field names and types of Event/Task are checked
  (unknown field, too long, wrong id prefix, TaskSubtype on update -> the subrequest's 400 error
  list, the others ``PROCESSING_HALTED``, nothing stored); ``POST /services/oauth2/token`` for
  the JWT bearer flow (RS256 checked with the test's public key).
* HubSpot ``POST /crm/v3/objects/<meetings|tasks>/batch/upsert`` keyed by a unique property
  (``new`` true/false), property names/enums checked (400 VALIDATION_ERROR naming the property);
  ``POST /crm/v4/associations/<from>/<to>/batch/associate/default``.
  ``POST /crm/v3/objects/<type>/batch/update`` (by record id, never creates) and
  ``/batch/archive``; ``POST /crm/v4/associations/<from>/<to>/batch/archive``.
* Salesforce composite subrequests by record id too: ``PATCH /sobjects/Task/<Id>`` (update only,
  404 ``NOT_FOUND`` when absent) and ``DELETE /sobjects/<Event|Task>/<Id>`` (204; 404
  ``ENTITY_IS_DELETED`` when already gone).
* A webhook ``POST /hook...`` that checks the signature header ``t=<unix>,v1=<hex HMAC-SHA256 of
  "<t>.<body>">`` (Stripe's scheme; a ``t`` older than ``replay_window_s`` is refused as a
  replay) and de-duplicates by delivery id.

Every target checks ``Authorization: Bearer <token>`` (401 in the CRM's own shape). ``script``
queues raw replies (status, body, headers, delay) answered before the real handling; ``hold``
makes the server apply a request and then stall, to let a test kill the client mid-push.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import re
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import unquote, urlparse

SF_ID = re.compile(r"^[a-zA-Z0-9]{15}([a-zA-Z0-9]{3})?$")
ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
ISO_DT = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:?\d{2})$")

# Event / Task fields used here: (type, max length or picklist, updateable). From the Salesforce
# Object Reference (Event, Task); TaskSubtype is create-only.
SF_FIELDS: dict[str, dict[str, tuple[str, Any, bool]]] = {
    "Event": {
        "Subject": ("string", 255, True), "Description": ("textarea", 32000, True),
        "StartDateTime": ("datetime", None, True), "EndDateTime": ("datetime", None, True),
        "ActivityDate": ("date", None, True), "DurationInMinutes": ("int", None, True),
        "WhatId": ("reference", ("001", "006"), True), "WhoId": ("reference", ("003", "00Q"), True),
        "OwnerId": ("reference", ("005",), True), "Meeting_Notes_Key__c": ("string", 255, True),
    },
    "Task": {
        "Subject": ("string", 255, True), "Description": ("textarea", 32000, True),
        "ActivityDate": ("date", None, True), "Status": ("picklist", ("Not Started", "In Progress", "Completed", "Waiting on someone else", "Deferred"), True),
        "Priority": ("picklist", ("High", "Normal", "Low"), True),
        "TaskSubtype": ("picklist", ("Task", "Email", "ListEmail", "Cadence", "Call", "LinkedIn"), False),
        "CallDurationInSeconds": ("int", None, True),
        "WhatId": ("reference", ("001", "006"), True), "WhoId": ("reference", ("003", "00Q"), True),
        "OwnerId": ("reference", ("005",), True), "Meeting_Notes_Key__c": ("string", 255, True),
    },
}
SF_PREFIX = {"Event": "00U", "Task": "00T"}

HS_PROPS: dict[str, dict[str, Any]] = {
    "meetings": {
        "hs_timestamp": "datetime", "hs_meeting_title": "string", "hs_meeting_body": "string",
        "hs_internal_meeting_notes": "string", "hs_meeting_start_time": "datetime", "hs_meeting_end_time": "datetime",
        "hs_meeting_outcome": ("SCHEDULED", "COMPLETED", "RESCHEDULED", "NO_SHOW", "CANCELED"),
        "hubspot_owner_id": "number", "meeting_notes_key": "string",
    },
    "tasks": {
        "hs_timestamp": "datetime", "hs_task_subject": "string", "hs_task_body": "string",
        "hs_task_status": ("NOT_STARTED", "IN_PROGRESS", "WAITING", "COMPLETED", "DEFERRED"),
        "hs_task_type": ("EMAIL", "CALL", "TODO"), "hs_task_priority": ("LOW", "MEDIUM", "HIGH"),
        "hubspot_owner_id": "number", "meeting_notes_key": "string",
    },
}


@dataclass
class Reply:
    status: int = 200
    body: Any = None
    headers: dict[str, str] = field(default_factory=dict)
    delay_s: float = 0.0
    raw: bytes | None = None  # sent as is instead of the JSON of ``body`` (a non-JSON answer)


class FakeCRM:
    """``with FakeCRM(token="t") as crm:`` -> ``crm.url``; state in ``crm.sf``, ``crm.hs``, ``crm.hooks``."""

    def __init__(self, token: str = "test-token", webhook_secret: str = "hook-secret", jwt_public_key: Any = None,
                 hs_unique_property: str = "meeting_notes_key") -> None:
        self.token = token
        self.webhook_secret = webhook_secret
        self.jwt_public_key = jwt_public_key
        self.hs_unique_property = hs_unique_property
        self.lock = threading.Lock()
        self.sf: dict[tuple[str, str], dict[str, Any]] = {}  # (object, key) -> {"Id":..., fields}
        self.sf_deleted: set[str] = set()  # ids of deleted records (in the recycle bin)
        self.hs: dict[tuple[str, str], dict[str, Any]] = {}  # (type, key) -> {"id":..., "properties":...}
        self.hs_assoc: set[tuple[str, str, str, str]] = set()
        self.hooks: dict[str, dict[str, Any]] = {}  # delivery id -> body
        self.hook_posts = 0
        self.replay_window_s = 300.0
        self.requests: list[tuple[str, str, Any, dict[str, str]]] = []
        self.queue: list[Reply] = []
        self.hold_after: int | None = None  # stall after applying request number N (1-based)
        self.held = threading.Event()
        self.release = threading.Event()
        self._counter = 0
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"

    # ------------------------------------------------------------------ plumbing
    def __enter__(self) -> "FakeCRM":
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.release.set()
        self.server.shutdown()
        self.server.server_close()

    def script(self, replies: list[Reply]) -> None:
        self.queue.extend(replies)

    def _new_id(self, prefix: str) -> str:
        self._counter += 1
        if prefix.isdigit():
            return str(9000 + self._counter)
        return (prefix + f"{self._counter:012d}")[:15] + "AAA"

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:
                pass

            def do_POST(self) -> None:
                raw = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                fake.requests.append(("POST", self.path, raw, dict(self.headers)))
                n = len(fake.requests)
                if fake.queue:
                    reply = fake.queue.pop(0)
                    time.sleep(reply.delay_s)
                    return self._send(reply)
                reply = fake.handle(self.path, raw, dict(self.headers))
                if fake.hold_after == n:
                    fake.held.set()
                    fake.release.wait(30)
                self._send(reply)

            def _send(self, reply: Reply) -> None:
                try:
                    data = reply.raw if reply.raw is not None else (b"" if reply.body is None else json.dumps(reply.body).encode())
                    self.send_response(reply.status)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(data)))
                    for k, v in reply.headers.items():
                        self.send_header(k, v)
                    self.end_headers()
                    self.wfile.write(data)
                except (BrokenPipeError, ConnectionResetError):
                    pass

        return Handler

    # ------------------------------------------------------------------ routing
    def handle(self, path: str, raw: bytes, headers: dict[str, str]) -> Reply:
        route = urlparse(path).path
        with self.lock:
            if route == "/services/oauth2/token":
                return self._jwt(raw)
            if route == "/hook" or route.startswith("/hook/"):
                return self._hook(raw, headers)
            auth = headers.get("Authorization", "")
            if auth != f"Bearer {self.token}":
                if route.startswith("/services/"):
                    return Reply(401, [{"message": "Session expired or invalid", "errorCode": "INVALID_SESSION_ID"}])
                return Reply(401, {"status": "error", "message": "Authentication credentials not found.", "category": "INVALID_AUTHENTICATION"})
            body = json.loads(raw)
            if re.fullmatch(r"/services/data/v\d+\.\d/composite", route):
                return self._composite(body)
            m = re.fullmatch(r"/crm/v3/objects/(meetings|tasks)/batch/upsert", route)
            if m:
                return self._hs_upsert(m.group(1), body)
            m = re.fullmatch(r"/crm/v4/associations/(\w+)/(\w+)/batch/associate/default", route)
            if m:
                return self._hs_assoc(m.group(1), m.group(2), body)
            m = re.fullmatch(r"/crm/v4/associations/(\w+)/(\w+)/batch/archive", route)
            if m:
                return self._hs_assoc_archive(m.group(1), m.group(2), body)
            m = re.fullmatch(r"/crm/v3/objects/(meetings|tasks)/batch/(update|archive)", route)
            if m:
                return self._hs_update(m.group(1), body) if m.group(2) == "update" else self._hs_archive(m.group(1), body)
            return Reply(404, {"message": f"no route {route}"})

    # ------------------------------------------------------------------ Salesforce
    def _sf_field_errors(self, obj: str, fields: dict[str, Any], exists: bool) -> list[dict[str, Any]]:
        spec = SF_FIELDS[obj]
        for name, value in fields.items():
            if name not in spec:
                return [{"message": f"No such column '{name}' on sobject of type {obj}", "errorCode": "INVALID_FIELD"}]
            kind, limit, updateable = spec[name]
            if exists and not updateable:
                return [{"message": f"Unable to create/update fields: {name}. Please check the security settings of this field and verify that it is read/write for your profile or permission set.", "errorCode": "INVALID_FIELD_FOR_INSERT_UPDATE", "fields": [name]}]
            bad = None
            if kind in ("string", "textarea"):
                if not isinstance(value, str):
                    bad = ("INVALID_TYPE_ON_FIELD_IN_RECORD", f"{name}: value not of required type: {value!r}")
                elif len(value.encode("utf-16-le")) // 2 > limit:
                    bad = ("STRING_TOO_LONG", f"{name}: data value too large: {value[:20]}... (max length={limit})")
            elif kind == "date" and not (isinstance(value, str) and ISO_DATE.match(value)):
                bad = ("INVALID_TYPE_ON_FIELD_IN_RECORD", f"{name}: value not of required type: {value}")
            elif kind == "datetime" and not (isinstance(value, str) and ISO_DT.match(value)):
                bad = ("INVALID_TYPE_ON_FIELD_IN_RECORD", f"{name}: value not of required type: {value}")
            elif kind == "int" and not isinstance(value, int):
                bad = ("INVALID_TYPE_ON_FIELD_IN_RECORD", f"{name}: value not of required type: {value}")
            elif kind == "picklist" and value not in limit:
                bad = ("INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST", f"{name}: bad value for restricted picklist field: {value}")
            elif kind == "reference" and not (isinstance(value, str) and SF_ID.match(value) and value[:3] in limit):
                bad = ("FIELD_INTEGRITY_EXCEPTION", f"{name}: id value of incorrect type: {value}")
            if bad:
                return [{"message": bad[1], "errorCode": bad[0], "fields": [name]}]
        if obj == "Event" and not exists and not ({"StartDateTime", "EndDateTime"} <= set(fields) or "DurationInMinutes" in fields):
            return [{"message": "Required fields are missing: [DurationInMinutes]", "errorCode": "REQUIRED_FIELD_MISSING", "fields": ["DurationInMinutes"]}]
        return []

    def _sf_by_id(self, record_id: str) -> tuple[str, str] | None:
        return next((k for k, rec in self.sf.items() if rec["Id"] == record_id), None)

    def _composite(self, body: dict[str, Any]) -> Reply:
        if set(body) - {"allOrNone", "collateSubrequests", "compositeRequest"} or not isinstance(body.get("compositeRequest"), list):
            return Reply(400, [{"message": "Malformed composite request", "errorCode": "JSON_PARSER_ERROR"}])
        subs = body["compositeRequest"]
        if len(subs) > 25:
            return Reply(400, [{"message": "Composite request limit exceeded", "errorCode": "LIMIT_EXCEEDED"}])
        # the subrequests run in order on a working copy: a DELETE then an upsert of the same key sees the deletion
        work = dict(self.sf)
        results: list[dict[str, Any]] = []
        failed = False
        for sub in subs:
            ref = sub.get("referenceId")
            method, url = sub.get("method"), sub.get("url", "")
            by_ext = re.fullmatch(r"/services/data/v\d+\.\d/sobjects/(Event|Task)/(\w+)/([^/]+)", url)
            by_id = re.fullmatch(r"/services/data/v\d+\.\d/sobjects/(Event|Task)/([a-zA-Z0-9]{15}(?:[a-zA-Z0-9]{3})?)", url)
            wants_body = method == "PATCH"
            if set(sub) != ({"method", "url", "referenceId", "body"} if wants_body else {"method", "url", "referenceId"}):
                by_ext = by_id = None
            result: dict[str, Any]
            if method == "PATCH" and by_ext:
                obj, ext_field, value = by_ext.group(1), by_ext.group(2), unquote(by_ext.group(3))
                key = (obj, f"{ext_field}={value}")
                exists = key in work
                errs = self._sf_field_errors(obj, sub["body"], exists)
                if ext_field not in SF_FIELDS[obj]:
                    errs = [{"message": f"Provided external ID field does not exist or is not accessible: {ext_field}", "errorCode": "NOT_FOUND"}]
                if errs:
                    result = {"body": errs, "httpHeaders": {}, "httpStatusCode": 400, "referenceId": ref}
                else:
                    rec_id = work[key]["Id"] if exists else self._new_id(SF_PREFIX[obj])
                    work[key] = {"Id": rec_id, **(work.get(key, {})), **sub["body"]}
                    result = {
                        "body": {"id": rec_id, "success": True, "errors": [], "created": not exists},
                        "httpHeaders": {} if exists else {"Location": f"/services/data/v62.0/sobjects/{obj}/{rec_id}"},
                        "httpStatusCode": 200 if exists else 201, "referenceId": ref,
                    }
            elif method in ("PATCH", "DELETE") and by_id:
                obj, rec_id = by_id.group(1), by_id.group(2)
                key = next((k for k, rec in work.items() if rec["Id"] == rec_id and k[0] == obj), None)
                if key is None:
                    gone = self._sf_by_id(rec_id) is None and rec_id in self.sf_deleted
                    code = "ENTITY_IS_DELETED" if gone else "NOT_FOUND"
                    result = {"body": [{"errorCode": code, "message": "entity is deleted" if gone else "The requested resource does not exist"}],
                              "httpHeaders": {}, "httpStatusCode": 404, "referenceId": ref}
                elif method == "DELETE":
                    del work[key]
                    result = {"body": None, "httpHeaders": {}, "httpStatusCode": 204, "referenceId": ref}
                else:
                    errs = self._sf_field_errors(obj, sub["body"], True)
                    if errs:
                        result = {"body": errs, "httpHeaders": {}, "httpStatusCode": 400, "referenceId": ref}
                    else:
                        work[key] = {**work[key], **sub["body"]}
                        result = {"body": None, "httpHeaders": {}, "httpStatusCode": 204, "referenceId": ref}
            else:
                result = {"body": [{"message": "unsupported subrequest", "errorCode": "NOT_FOUND"}], "httpHeaders": {},
                          "httpStatusCode": 400, "referenceId": ref}
            failed = failed or result["httpStatusCode"] >= 400
            results.append(result)
        if failed and body.get("allOrNone"):
            halted = [{"errorCode": "PROCESSING_HALTED", "message": "The transaction was rolled back since another operation in the same transaction failed."}]
            results = [r if r["httpStatusCode"] >= 400 else {**r, "body": halted, "httpHeaders": {}, "httpStatusCode": 400} for r in results]
            return Reply(200, {"compositeResponse": results})
        self.sf_deleted.update(rec["Id"] for k, rec in self.sf.items() if k not in work)
        self.sf = work
        return Reply(200, {"compositeResponse": results})

    def _jwt(self, raw: bytes) -> Reply:
        from urllib.parse import parse_qs

        from cryptography.hazmat.primitives import hashes
        from cryptography.hazmat.primitives.asymmetric import padding

        form = {k: v[0] for k, v in parse_qs(raw.decode()).items()}
        if form.get("grant_type") != "urn:ietf:params:oauth:grant-type:jwt-bearer":
            return Reply(400, {"error": "unsupported_grant_type", "error_description": "grant type not supported"})
        try:
            head, payload, sig = form["assertion"].split(".")
            pad = lambda s: base64.urlsafe_b64decode(s + "=" * (-len(s) % 4))  # noqa: E731
            self.jwt_public_key.verify(pad(sig), f"{head}.{payload}".encode(), padding.PKCS1v15(), hashes.SHA256())
            claims = json.loads(pad(payload))
        except Exception:
            return Reply(400, {"error": "invalid_grant", "error_description": "invalid assertion"})
        if claims.get("exp", 0) < time.time() or not claims.get("iss") or not claims.get("sub"):
            return Reply(400, {"error": "invalid_grant", "error_description": "expired or incomplete assertion"})
        return Reply(200, {"access_token": self.token, "instance_url": self.url, "token_type": "Bearer"})

    # ------------------------------------------------------------------ HubSpot
    def _hs_upsert(self, obj: str, body: dict[str, Any]) -> Reply:
        inputs = body.get("inputs")
        if not isinstance(inputs, list) or not inputs:
            return Reply(400, {"status": "error", "message": "inputs required", "category": "VALIDATION_ERROR"})
        for item in inputs:
            if item.get("idProperty") != self.hs_unique_property:
                return Reply(400, {"status": "error", "category": "VALIDATION_ERROR", "message": f"{item.get('idProperty')} is not a unique value property",
                                   "errors": [{"message": "idProperty must have unique values", "code": "INVALID_ID_PROPERTY", "context": {"propertyName": [str(item.get("idProperty"))]}}]})
            for name, value in (item.get("properties") or {}).items():
                kind = HS_PROPS[obj].get(name)
                problem = None
                if kind is None:
                    problem = ("PROPERTY_DOESNT_EXIST", f'Property "{name}" does not exist')
                elif kind == "datetime" and not (isinstance(value, str) and ISO_DT.match(value)):
                    problem = ("INVALID_DATETIME", f"{value!r} is not a valid datetime")
                elif kind == "number" and not str(value).isdigit():
                    problem = ("INVALID_INTEGER", f"{value!r} is not a valid number")
                elif isinstance(kind, tuple) and value not in kind:
                    problem = ("INVALID_OPTION", f"{value!r} was not one of the allowed options: {list(kind)}")
                if problem:
                    return Reply(400, {"status": "error", "category": "VALIDATION_ERROR", "message": f"Property values were not valid: {problem[1]}",
                                       "errors": [{"message": problem[1], "code": problem[0], "context": {"propertyName": [name]}}]})
            if "hs_timestamp" not in (item.get("properties") or {}) and (obj, item["id"]) not in self.hs:
                return Reply(400, {"status": "error", "category": "VALIDATION_ERROR", "message": "Property values were not valid: hs_timestamp is required",
                                   "errors": [{"message": "hs_timestamp is required", "code": "REQUIRED", "context": {"propertyName": ["hs_timestamp"]}}]})
        results = []
        for item in inputs:
            key = (obj, item["id"])
            new = key not in self.hs
            rec = self.hs.get(key) or {"id": self._new_id("1"), "properties": {}}
            rec["properties"] = {**rec["properties"], **item["properties"], self.hs_unique_property: item["id"]}
            self.hs[key] = rec
            results.append({"id": rec["id"], "properties": dict(rec["properties"]), "new": new,
                            "createdAt": "2026-01-01T00:00:00Z", "updatedAt": "2026-01-01T00:00:00Z", "archived": False})
        return Reply(200, {"status": "COMPLETE", "results": results, "startedAt": "2026-01-01T00:00:00Z", "completedAt": "2026-01-01T00:00:00Z"})

    def _hs_assoc(self, from_type: str, to_type: str, body: dict[str, Any]) -> Reply:
        known = {rec["id"] for (obj, _), rec in self.hs.items() if obj == from_type}
        results = []
        for item in body.get("inputs", []):
            fid, tid = item["from"]["id"], item["to"]["id"]
            if fid not in known:
                return Reply(400, {"status": "error", "category": "VALIDATION_ERROR", "message": f"{from_type} {fid} does not exist"})
            self.hs_assoc.add((from_type, fid, to_type, tid))
            results.append({"from": {"id": fid}, "to": {"id": tid}, "associationSpec": {"associationCategory": "HUBSPOT_DEFINED", "associationTypeId": 1}})
        return Reply(200, {"status": "COMPLETE", "results": results})

    def _hs_update(self, obj: str, body: dict[str, Any]) -> Reply:
        by_id = {rec["id"]: key for key, rec in self.hs.items() if key[0] == obj}
        results = []
        for item in body.get("inputs", []):
            key = by_id.get(str(item.get("id")))
            if key is None:
                return Reply(400, {"status": "error", "category": "OBJECT_NOT_FOUND", "message": f"{obj} {item.get('id')} does not exist"})
            for name, value in (item.get("properties") or {}).items():
                kind = HS_PROPS[obj].get(name)
                if kind is None or (isinstance(kind, tuple) and value not in kind):
                    return Reply(400, {"status": "error", "category": "VALIDATION_ERROR", "message": f"Property values were not valid: {name}",
                                       "errors": [{"message": f"{name}={value!r}", "code": "INVALID_OPTION", "context": {"propertyName": [name]}}]})
            self.hs[key]["properties"] = {**self.hs[key]["properties"], **item["properties"]}
            results.append({"id": self.hs[key]["id"], "properties": dict(self.hs[key]["properties"])})
        return Reply(200, {"status": "COMPLETE", "results": results})

    def _hs_archive(self, obj: str, body: dict[str, Any]) -> Reply:
        ids = {str(item.get("id")) for item in body.get("inputs", [])}
        for key in [k for k, rec in self.hs.items() if k[0] == obj and rec["id"] in ids]:
            del self.hs[key]
        self.hs_assoc = {a for a in self.hs_assoc if not (a[0] == obj and a[1] in ids)}
        return Reply(204, None)

    def _hs_assoc_archive(self, from_type: str, to_type: str, body: dict[str, Any]) -> Reply:
        for item in body.get("inputs", []):
            fid = item["from"]["id"]
            for to in item.get("to", []):
                self.hs_assoc.discard((from_type, fid, to_type, to["id"]))
        return Reply(204, None)

    # ------------------------------------------------------------------ webhook
    def _hook(self, raw: bytes, headers: dict[str, str]) -> Reply:
        parts = dict(p.split("=", 1) for p in headers.get("X-Meeting-Notes-Signature", "").split(",") if "=" in p)
        stamp = parts.get("t", "")
        want = hmac.new(self.webhook_secret.encode(), stamp.encode() + b"." + raw, hashlib.sha256).hexdigest()
        if not stamp.isdigit() or not hmac.compare_digest(parts.get("v1", ""), want):
            return Reply(401, {"message": "bad signature"})
        if abs(time.time() - int(stamp)) > self.replay_window_s:
            return Reply(401, {"message": "signature timestamp outside the replay window"})
        delivery = headers.get("X-Meeting-Notes-Delivery", "")
        self.hook_posts += 1
        if delivery in self.hooks:  # de-duplicated: a receiver keeps the first body per delivery id
            return Reply(200, {"id": f"hook-{delivery[:8]}", "duplicate": True})
        self.hooks[delivery] = json.loads(raw)
        return Reply(200, {"id": f"hook-{delivery[:8]}"})

    def count(self, obj: str) -> int:
        return sum(1 for (o, _) in self.sf if o == obj) + sum(1 for (o, _) in self.hs if o == obj)
