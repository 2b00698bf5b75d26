"""From a meeting folder to a :class:`DeliveryPlan` per target, every value with its evidence.

Keys (external ids / unique property values) are derived from the meeting id and the item:
``<meeting_id>.meeting`` for the meeting and ``<meeting_id>.step-<content id>`` for a next step
(its evidence segment ids + normalised action: :func:`meeting_notes.crm.inputs.step_content_id`),
so that a second push of the same meeting, corrected or not, updates the same records, and a
deleted step's record is taken back (:mod:`meeting_notes.crm.resync`), never overwritten by the
step after it.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import html
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

from pydantic import BaseModel

from meeting_notes.crm.inputs import MeetingInputs, contact_ids
from meeting_notes.crm.models import DeliveryPlan, FieldValue, RecordPlan
from meeting_notes.crm.resync import association_removals, removal, salesforce_meeting_object, stale_removals
from meeting_notes.crm.text import fit, mask_url
from meeting_notes.notes.render import render_markdown
from meeting_notes.notes.schema import NextStep, SalesNotes
from meeting_notes.settings import CRMSettings

BLOCKING_STATUSES = {"empty_transcript", "unsupported_language", "no_sales_content", "llm_failed"}

SALESFORCE_PREFIXES: dict[str, tuple[str, str]] = {
    "001": ("Account", "account_id"),
    "006": ("Opportunity", "opportunity_id"),
    "003": ("Contact", "contact_id"),
    "005": ("User", "owner_id"),
    "00Q": ("Lead", ""),
}
"""Key prefixes of Salesforce record ids (the first three characters name the object)."""

DAY_TIME_UTC = "T12:00:00Z"
"""HubSpot wants a timestamp where only a day is known: noon UTC shows the same calendar day in
every time zone from UTC-11 to UTC+11 (midnight UTC would be the previous day in the Americas)."""

SF_ID = re.compile(r"^[a-zA-Z0-9]{15}(?:[a-zA-Z0-9]{3})?$")
HS_ID = re.compile(r"^[0-9]{1,20}$")


def meeting_key(meeting_id: str) -> str:
    return f"{meeting_id}.meeting"


def step_key(meeting_id: str, content_id: str) -> str:
    return f"{meeting_id}.step-{content_id}"


def step_keys(meeting_id: str, content_ids: list[str]) -> list[str]:
    """Each step's key; a step repeating an earlier one's content id gets ``-2``, ``-3``..."""
    seen: dict[str, int] = {}
    out = []
    for cid in content_ids:
        seen[cid] = seen.get(cid, 0) + 1
        out.append(step_key(meeting_id, cid if seen[cid] == 1 else f"{cid}-{seen[cid]}"))
    return out


def _ev(path: str, item: BaseModel | None = None) -> str:
    """``notes.<path>`` plus the item's first quote and its segment ids."""
    evidence = list(getattr(item, "evidence", []) or []) if item is not None else []
    if not evidence:
        return f"notes.{path}"
    ids = sorted({i for e in evidence for i in e.segment_ids})
    quote = evidence[0].quote.strip()
    where = ", ".join(f"#{i}" for i in ids)
    return f'notes.{path}: "{quote}"' + (f" (segments {where})" if where else "")


def served_report_url(meeting_dir: Path, settings: CRMSettings) -> str | None:
    """The meeting's ``report.html`` at ``report_base_url``/<meeting folder>/report.html; None
    when the meeting folders are not served (no ``report_base_url``)."""
    if settings.report_base_url:
        return f"{settings.report_base_url.rstrip('/')}/{Path(meeting_dir).name}/report.html"
    return None


def report_link(inputs: MeetingInputs, settings: CRMSettings) -> str | None:
    """Where the full notes are: the meeting's ``report.html`` (every run of the pipeline writes
    it, last) at ``report_base_url``/<meeting folder>/report.html; None when the folders are not
    served (the local path means nothing in a CRM and tells where the data lives: never sent)."""
    return served_report_url(inputs.meeting_dir, settings)


def _with_link(text: str, link: str | None, labels: dict[str, str]) -> str:
    return text + (f"\n{labels['full']}: {link}" if link else "")


class MeetingTime(BaseModel):
    """When the meeting took place, as far as known."""

    date: dt.date | None = None
    start: dt.datetime | None = None
    end: dt.datetime | None = None
    evidence: str = ""


def meeting_time(inputs: MeetingInputs, warnings: list[str]) -> MeetingTime:
    """Start/end from the sidecar date (a date-time gives the start) and the recording's duration."""
    notes = inputs.notes
    text, source = notes.date, "notes.date (sidecar)"
    if not text and notes.date_anchor:
        text, source = notes.date_anchor, f"notes.date_anchor ({notes.date_source})"
        if notes.date_guessed:
            warnings.append("The meeting date is the recording file's time, not a known meeting date.")
    if not text:
        return MeetingTime()
    try:
        if "T" in text or " " in text.strip():
            start = dt.datetime.fromisoformat(text.strip())
            if start.tzinfo is None:
                start = start.astimezone()  # the sidecar gave a local time: this machine's zone
                warnings.append(f"The meeting time {text} has no UTC offset; taken as this machine's zone ({start.tzname()}).")
            end = start + dt.timedelta(seconds=max(inputs.duration_s or 0.0, 60.0))
            return MeetingTime(date=start.date(), start=start, end=end, evidence=source)
        return MeetingTime(date=dt.date.fromisoformat(text.strip()[:10]), evidence=source)
    except ValueError:
        warnings.append(f"The meeting date {text!r} is not an ISO date; left out.")
        return MeetingTime()


def due_date(step: NextStep) -> tuple[str | None, str]:
    """The step's resolved due date (the end of a 'start/end' range) and how it was found."""
    resolved = (step.due_resolved or "").strip()
    if not resolved:
        return None, ""
    last = resolved.split("/")[-1]
    try:
        dt.date.fromisoformat(last)
    except ValueError:
        return None, ""
    how = "end of the range " + resolved if "/" in resolved else resolved
    return last, f'due "{step.due}" resolved to {how}'


def _iso_z(moment: dt.datetime) -> str:
    return moment.astimezone(dt.UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


#: A plan warning that stops ``crm.auto_push``: a person must read the notes first.
REVIEW_FIRST = "Check before sending: "
#: A plan warning listing what the meeting said to the note-taker (not used in the notes).
INSTRUCTIONS_FOUND = "Instructions found in the meeting (not used in the notes): "


def _common_problems(inputs: MeetingInputs, problems: list[str], warnings: list[str]) -> None:
    notes = inputs.notes
    warnings.extend(REVIEW_FIRST + reason for reason in notes.verification.review)
    warnings.extend(f'{INSTRUCTIONS_FOUND}"{ev.quote}" (segments {", ".join(map(str, ev.segment_ids))})'
                    for ev in notes.verification.instructions)
    if notes.status in BLOCKING_STATUSES:
        problems.append(
            f"notes.json has status '{notes.status}' ({notes.status_detail or 'no notes'}): there is nothing to send."
        )
    elif notes.status == "partial":
        warnings.append(f"The notes are partial: {notes.status_detail or 'some passes failed'}.")
    if not notes.next_steps:
        warnings.append("The notes have no next steps: no task will be created.")


def _needs_ids(inputs: MeetingInputs, target: str, problems: list[str], warnings: list[str]) -> None:
    ids = inputs.crm_ids
    if not ids:
        problems.append(
            "No CRM ids: the sidecar (<recording>.meeting.json) gave no crm_ids, so there is no account or "
            f"{'opportunity' if target == 'salesforce' else 'deal'} to attach the meeting to. Add crm_ids "
            "(account_id, opportunity_id, contact_id, owner_id) to the sidecar or pass --crm-id KEY=ID."
        )
        return
    if not (ids.get("account_id") or ids.get("opportunity_id")):
        problems.append(
            "No account_id or opportunity_id in crm_ids: the meeting would be attached to no account or deal."
        )
    if not inputs.notes.account.name:
        if ids.get("account_id") or ids.get("opportunity_id"):
            warnings.append("The notes name no account; the meeting is attached by the crm_ids only.")
        else:
            problems.append("The notes name no account and crm_ids give no account_id.")


def _a(word: str) -> str:
    return ("an " if word[:1] in "AEIOaeiou" else "a ") + word  # "a User", "an unknown object"


def _check_salesforce_ids(ids: dict[str, str], problems: list[str]) -> None:
    expected = {"account_id": "001", "opportunity_id": "006", "contact_id": "003", "owner_id": "005"}
    values = [(k, ids[k]) for k in ("account_id", "opportunity_id", "owner_id") if ids.get(k)]
    values += [("contact_id", c) for c in contact_ids(ids)]
    for key, value in values:
        if not SF_ID.match(value):
            problems.append(f"crm_ids.{key} {value!r} is not a Salesforce id (15 or 18 letters and digits).")
            continue
        want = expected[key]
        if value[:3] != want:
            got = SALESFORCE_PREFIXES.get(value[:3], (f"unknown object (prefix {value[:3]})", ""))[0]
            name = SALESFORCE_PREFIXES[want][0]
            problems.append(
                f"crm_ids.{key} {value!r} is {_a(got)} id (prefix {value[:3]}), not {_a(name)} id (prefix {want})."
            )


def _check_hubspot_ids(ids: dict[str, str], problems: list[str]) -> None:
    values = [(k, ids[k]) for k in ("account_id", "opportunity_id", "owner_id") if ids.get(k)]
    values += [("contact_id", c) for c in contact_ids(ids)]
    for key, value in values:
        if not HS_ID.match(value):
            hint = " (that looks like a Salesforce id)" if SF_ID.match(value) and value[:3] in SALESFORCE_PREFIXES else ""
            problems.append(f"crm_ids.{key} {value!r} is not a HubSpot record id (digits only){hint}.")


def _step_text(step: NextStep, labels: dict[str, str]) -> str:
    lines = [step.action]
    if step.owner:
        lines.append(f"{labels['owner']}: {step.owner}")
    if step.due:
        lines.append(f"{labels['due']}: {step.due}" + (f" ({step.due_resolved})" if step.due_resolved else ""))
    if step.evidence and step.evidence[0].quote:
        lines.append(f'"{step.evidence[0].quote}"')
    return "\n".join(lines)


def _labels(notes: SalesNotes) -> dict[str, str]:
    if notes.language.startswith("ja"):
        return {"owner": "担当", "due": "期限", "full": "全文", "meeting": "商談", "untitled": "商談メモ"}
    return {"owner": "Owner", "due": "Due", "full": "Full notes", "meeting": "Meeting", "untitled": "Meeting notes"}


def _rename(fields: list[FieldValue], field_map: dict[str, str]) -> list[FieldValue]:
    out = []
    for f in fields:
        name = field_map.get(f.name, f.name)
        if name:
            out.append(f.model_copy(update={"name": name}))
    return out


def _title(notes: SalesNotes, labels: dict[str, str]) -> tuple[str, str]:
    if notes.title:
        return notes.title, "notes.title"
    if notes.account.name:
        return f"{labels['meeting']}: {notes.account.name}", _ev("account.name", notes.account)
    return labels["untitled"], "default title (the notes have none)"


def _plan_start(
    inputs: MeetingInputs, settings: CRMSettings, target: str, check_ids: Callable[[dict[str, str], list[str]], None]
) -> tuple[list[str], list[str], MeetingTime, dict[str, str], str | None]:
    """What every CRM record plan starts from: the problems and warnings so far (the meeting's
    own, the ids the target needs, their format), the meeting's time, the labels in the notes'
    language and the link to the report."""
    problems: list[str] = []
    warnings: list[str] = list(inputs.warnings)
    _common_problems(inputs, problems, warnings)
    _needs_ids(inputs, target, problems, warnings)
    check_ids(inputs.crm_ids, problems)
    return problems, warnings, meeting_time(inputs, warnings), _labels(inputs.notes), report_link(inputs, settings)


def salesforce_destination(settings: CRMSettings) -> dict[str, str]:
    """Where a Salesforce plan goes: the org (instance URL, else the JWT login and user), the API
    version and the external-id fields."""
    sf = settings.salesforce
    org = {"instance_url": sf.instance_url} if sf.instance_url else {"login": f"{sf.login_url} as {sf.jwt_username or ''}"}
    return {**org, "api_version": sf.api_version, "event_external_id_field": sf.event_external_id_field,
            "task_external_id_field": sf.task_external_id_field}


def salesforce_plan(inputs: MeetingInputs, settings: CRMSettings) -> DeliveryPlan:
    """One Event (or Task with TaskSubtype=Call) for the meeting plus one Task per next step, and
    the removals of what this meeting created earlier that the notes no longer have.

    TaskSubtype is in the plan; Salesforce accepts it on create only, so the push leaves it out
    of the approved plan once ``crm.json`` ``records`` knows the call's Task exists.
    """
    sf = settings.salesforce
    notes, ids = inputs.notes, inputs.crm_ids
    problems, warnings, when, labels, link = _plan_start(inputs, settings, "salesforce", _check_salesforce_ids)
    known = inputs.known.get("salesforce", {})
    mkey = meeting_key(notes.meeting_id)

    what = ("opportunity_id", ids["opportunity_id"]) if ids.get("opportunity_id") else (
        ("account_id", ids["account_id"]) if ids.get("account_id") else None
    )
    contacts = contact_ids(ids)
    links: list[FieldValue] = []
    if what:
        links.append(FieldValue(name="WhatId", value=what[1], evidence=[f"sidecar crm_ids.{what[0]}"]))
    if contacts:
        links.append(FieldValue(name="WhoId", value=contacts[0], evidence=["sidecar crm_ids.contact_id"]))
        if len(contacts) > 1:
            warnings.append(
                f"Salesforce takes one WhoId without Shared Activities: {contacts[0]} is used, "
                f"{len(contacts) - 1} other contact(s) left out."
            )

    title, title_ev = _title(notes, labels)
    subject, cut = fit(title, sf.subject_limit)
    body = _with_link(render_markdown(notes, for_crm=True), link, labels) + "\n"
    description, dcut = fit(body, sf.description_limit, link)
    fields = [
        FieldValue(name="Subject", value=subject, evidence=[title_ev], truncated=cut),
        FieldValue(
            name="Description", value=description,
            evidence=["notes.json rendered as notes.md" + (", with the link to the full notes" if link else "")],
            truncated=dcut,
        ),
    ]
    planned = sf.activity_object if sf.activity_object != "auto" else ("Event" if when.start else "Task")
    obj, replace = salesforce_meeting_object(planned, sf.activity_object, known.get(mkey))
    removals: list[RecordPlan] = []
    if replace:
        removals.append(removal("salesforce", mkey, known[mkey], "delete", settings, f"the meeting is now {_a(obj)}"))
    elif obj != planned:
        warnings.append(f"The meeting was delivered as {_a(obj)} under {mkey}: it stays {_a(obj)} (activity_object=auto; "
                        f"set activity_object={planned} to replace it).")
    if obj == "Event":
        if when.start and when.end:
            fields += [
                FieldValue(name="StartDateTime", value=_iso_z(when.start), evidence=[when.evidence]),
                FieldValue(
                    name="EndDateTime", value=_iso_z(when.end),
                    evidence=[f"start + recording duration ({inputs.duration_s or 0:.0f} s, at least 60 s)"],
                ),
            ]
        else:
            problems.append(
                "An Event needs the meeting's start time: the sidecar 'date' has no time "
                "(set crm.salesforce.activity_object=Task or give a date-time)."
            )
    else:
        if when.date:
            fields.append(FieldValue(name="ActivityDate", value=when.date.isoformat(), evidence=[when.evidence]))
        else:
            problems.append("The meeting date is unknown (no sidecar 'date', no recording time): the call cannot be dated.")
        fields += [FieldValue(name="Status", value="Completed", evidence=["the meeting took place"])]
        fields.append(FieldValue(name="TaskSubtype", value="Call", evidence=[
            "setting crm.salesforce.activity_object (Salesforce takes it on create only: left out once the call's Task exists)"]))
        if inputs.duration_s:
            fields.append(
                FieldValue(name="CallDurationInSeconds", value=int(round(inputs.duration_s)), evidence=["transcript.json audio.duration"])
            )
    fields += links
    if ids.get("owner_id"):
        fields.append(FieldValue(name="OwnerId", value=ids["owner_id"], evidence=["sidecar crm_ids.owner_id"]))
    records = [*removals, RecordPlan(object=obj, key=mkey, item="meeting", fields=_rename(fields, sf.field_map))]

    keys = step_keys(notes.meeting_id, inputs.step_ids)
    for i, step in enumerate(notes.next_steps):
        path = f"next_steps[{i}]"
        subj, scut = fit(step.action, sf.subject_limit)
        tfields = [
            FieldValue(name="Subject", value=subj, evidence=[_ev(f"{path}.action", step)], truncated=scut),
            FieldValue(name="Status", value="Not Started", evidence=["a new next step"]),
        ]
        due, how = due_date(step)
        if due:
            tfields.append(FieldValue(name="ActivityDate", value=due, evidence=[f"notes.{path}.due_resolved: {how}"]))
        elif step.due:
            warnings.append(
                f"Next step {i + 1}: due \"{step.due}\" could not be resolved to a date; "
                "the task has no due date (the text is in its Description)."
            )
        desc, dcut2 = fit(_with_link(_step_text(step, labels), link, labels), sf.description_limit, link)
        tfields.append(FieldValue(name="Description", value=desc, evidence=[_ev(path, step)], truncated=dcut2))
        owner = sf.user_ids.get(step.owner) if step.owner else None
        if owner:
            owner_ev = f'notes.{path}.owner "{step.owner}" via crm.salesforce.user_ids'
            tfields.append(FieldValue(name="OwnerId", value=owner, evidence=[owner_ev]))
        elif ids.get("owner_id"):
            ev = "sidecar crm_ids.owner_id" + (f' (owner "{step.owner}" is not in crm.salesforce.user_ids)' if step.owner else "")
            tfields.append(FieldValue(name="OwnerId", value=ids["owner_id"], evidence=[ev]))
        tfields += links
        records.append(RecordPlan(object="Task", key=keys[i], item=path, fields=_rename(tfields, sf.field_map)))
    stale = stale_removals("salesforce", known, {r.key for r in records if r.action == "upsert"}, settings)
    return DeliveryPlan(
        target="salesforce", meeting_id=notes.meeting_id, meeting_dir=str(inputs.meeting_dir),
        notes_hash=inputs.notes_hash, destination=salesforce_destination(settings),
        records=stale + records, problems=problems, warnings=warnings,
    )


def _html(text: str) -> str:
    return "<br>".join(html.escape(line) for line in text.split("\n"))


def hubspot_plan(inputs: MeetingInputs, settings: CRMSettings) -> DeliveryPlan:
    """A meeting engagement plus one task per next step, associated with the sidecar's records."""
    hs = settings.hubspot
    notes, ids = inputs.notes, inputs.crm_ids
    problems, warnings, when, labels, link = _plan_start(inputs, settings, "hubspot", _check_hubspot_ids)
    known = inputs.known.get("hubspot", {})
    assoc: dict[str, list[str]] = {}
    if ids.get("account_id"):
        assoc["companies"] = [ids["account_id"]]
    if ids.get("opportunity_id"):
        assoc["deals"] = [ids["opportunity_id"]]
    if contact_ids(ids):
        assoc["contacts"] = contact_ids(ids)
    if when.start:
        stamp = _iso_z(when.start)
    elif when.date:
        stamp = f"{when.date.isoformat()}{DAY_TIME_UTC}"
    else:
        stamp = ""
        problems.append("The meeting date is unknown (no sidecar 'date', no recording time): hs_timestamp is required.")
    title, title_ev = _title(notes, labels)
    mtitle, tcut = fit(title, hs.title_limit)
    body, bcut = fit(_html(_with_link(render_markdown(notes, for_crm=True), link, labels)), hs.body_limit, link)
    v = notes.verification
    internal = (
        f"meeting-notes {notes.meeting_id}: {v.items_kept} of {v.items_checked} items verified against the transcript."
        + (f" {labels['full']}: {link}" if link else "")
    )
    fields = [
        FieldValue(name="hs_timestamp", value=stamp, evidence=[when.evidence]),
        FieldValue(name="hs_meeting_title", value=mtitle, evidence=[title_ev], truncated=tcut),
        FieldValue(
            name="hs_meeting_body", value=body,
            evidence=["notes.json rendered as notes.md (HTML line breaks)" + (", with the link" if link else "")],
            truncated=bcut,
        ),
        FieldValue(name="hs_internal_meeting_notes", value=internal, evidence=["notes.verification"]),
        FieldValue(name="hs_meeting_outcome", value="COMPLETED", evidence=["the meeting took place"]),
    ]
    if when.start and when.end:
        fields += [
            FieldValue(name="hs_meeting_start_time", value=_iso_z(when.start), evidence=[when.evidence]),
            FieldValue(
                name="hs_meeting_end_time", value=_iso_z(when.end),
                evidence=[f"start + recording duration ({inputs.duration_s or 0:.0f} s)"],
            ),
        ]
    if ids.get("owner_id"):
        fields.append(FieldValue(name="hubspot_owner_id", value=ids["owner_id"], evidence=["sidecar crm_ids.owner_id"]))
    mkey = meeting_key(notes.meeting_id)
    records = [
        RecordPlan(
            object="meetings", key=mkey, item="meeting", fields=_rename(fields, hs.field_map),
            associations=assoc, remove_associations=association_removals(known.get(mkey), assoc),
        )
    ]
    keys = step_keys(notes.meeting_id, inputs.step_ids)
    for i, step in enumerate(notes.next_steps):
        path = f"next_steps[{i}]"
        due, how = due_date(step)
        if due:
            tstamp, tev = f"{due}{DAY_TIME_UTC}", f"notes.{path}.due_resolved: {how} (noon UTC: the same day from UTC-11 to UTC+11)"
        else:
            tstamp, tev = stamp, "no resolved due date: the meeting's date (hs_timestamp is required)"
            if step.due:
                warnings.append(f"Next step {i + 1}: due \"{step.due}\" could not be resolved; the task is dated to the meeting.")
        subj, scut = fit(step.action, hs.title_limit)
        tbody, tbcut = fit(_html(_with_link(_step_text(step, labels), link, labels)), hs.body_limit, link)
        tfields = [
            FieldValue(name="hs_timestamp", value=tstamp, evidence=[tev]),
            FieldValue(name="hs_task_subject", value=subj, evidence=[_ev(f"{path}.action", step)], truncated=scut),
            FieldValue(name="hs_task_body", value=tbody, evidence=[_ev(path, step)], truncated=tbcut),
            FieldValue(name="hs_task_status", value="NOT_STARTED", evidence=["a new next step"]),
            FieldValue(name="hs_task_type", value="TODO", evidence=["a next step"]),
        ]
        owner = hs.owner_ids.get(step.owner) if step.owner else None
        if owner or ids.get("owner_id"):
            ev = f'notes.{path}.owner "{step.owner}" via crm.hubspot.owner_ids' if owner else "sidecar crm_ids.owner_id"
            tfields.append(FieldValue(name="hubspot_owner_id", value=owner or ids["owner_id"], evidence=[ev]))
        records.append(
            RecordPlan(
                object="tasks", key=keys[i], item=path, fields=_rename(tfields, hs.field_map),
                associations=assoc, remove_associations=association_removals(known.get(keys[i]), assoc),
            )
        )
    records += stale_removals("hubspot", known, {r.key for r in records}, settings)
    return DeliveryPlan(
        target="hubspot", meeting_id=notes.meeting_id, meeting_dir=str(inputs.meeting_dir),
        notes_hash=inputs.notes_hash, destination={"base_url": hs.base_url, "id_property": hs.id_property},
        records=records, problems=problems, warnings=warnings,
    )


def webhook_destination(settings: CRMSettings) -> dict[str, str]:
    """The webhook URL as the plan names it: its host, the path hidden (it is often the secret),
    and the sha256 of the whole URL (so the approval still covers exactly one URL)."""
    url = settings.webhook.url or ""
    return {"url": mask_url(url), "url_sha256": hashlib.sha256(url.encode("utf-8")).hexdigest() if url else ""}


def notes_for_crm(notes: SalesNotes) -> dict[str, Any]:
    """notes.json as a CRM or webhook gets it: the verification record keeps its counts and why
    items were dropped, but not their text, nor the instructions a meeting gave its note-taker
    (both are what the checks kept out of the notes)."""
    data = notes.model_dump(mode="json")
    verification = data["verification"]
    verification["dropped"] = [{"field": d["field"], "reason": d["reason"]} for d in verification["dropped"]]
    verification["instructions"] = len(verification["instructions"])
    return data


def webhook_plan(inputs: MeetingInputs, settings: CRMSettings) -> DeliveryPlan:
    """One JSON document: the notes as in notes.json, the CRM ids, the key and the link."""
    problems: list[str] = []
    warnings: list[str] = list(inputs.warnings)
    _common_problems(inputs, problems, warnings)
    if not settings.webhook.url:
        problems.append("No webhook URL: set MEETING_NOTES_CRM__WEBHOOK__URL.")
    notes = inputs.notes
    link = report_link(inputs, settings)
    fields = [
        FieldValue(name="meeting_key", value=meeting_key(notes.meeting_id), evidence=["notes.meeting_id"]),
        FieldValue(name="notes_sha256", value=inputs.notes_hash, evidence=["notes.json"]),
        FieldValue(name="crm_ids", value=dict(inputs.crm_ids), evidence=["sidecar crm_ids"]),
        FieldValue(name="report_url", value=link,
                   evidence=["setting crm.report_base_url" if link else "no crm.report_base_url: no link"]),
        FieldValue(name="notes", value=notes_for_crm(notes), evidence=["notes.json (every item carries its own evidence)"]),
    ]
    return DeliveryPlan(
        target="webhook", meeting_id=notes.meeting_id, meeting_dir=str(inputs.meeting_dir),
        notes_hash=inputs.notes_hash, destination=webhook_destination(settings),
        records=[RecordPlan(object="webhook", key=meeting_key(notes.meeting_id), item="meeting", fields=fields)],
        problems=problems, warnings=warnings,
    )


def build_plan(target: str, inputs: MeetingInputs, settings: CRMSettings) -> DeliveryPlan:
    """The plan of ``target`` for the meeting."""
    if target == "salesforce":
        return salesforce_plan(inputs, settings)
    if target == "hubspot":
        return hubspot_plan(inputs, settings)
    if target == "webhook":
        return webhook_plan(inputs, settings)
    raise ValueError(f"unknown CRM target {target!r}")
