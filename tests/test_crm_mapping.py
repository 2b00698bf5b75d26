"""Preview/mapping of the CRM delivery: fields with evidence, limits, Japanese, bad input."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest

from meeting_notes.crm.errors import CRMInputError
from meeting_notes.crm.service import approval_problem, approve, preview
from meeting_notes.crm.text import TRUNCATION_MARK, field_length, fit
from meeting_notes.settings import CRMSettings
from crm_helpers import HS_IDS, SF_IDS, en_notes, ja_notes, make_meeting


def _fields(record) -> dict:
    return {f.name: f for f in record.fields}


def test_salesforce_plan_maps_meeting_and_next_steps_with_evidence(tmp_path: Path) -> None:
    folder = make_meeting(tmp_path, en_notes(), SF_IDS)
    plan = preview(folder, "salesforce", CRMSettings())
    assert plan.problems == []
    event, *tasks = plan.records
    assert event.object == "Event" and event.key == "acme-call-1a2b3c4d.meeting"
    f = _fields(event)
    assert f["Subject"].value == "Acme discovery call"
    assert f["StartDateTime"].value == "2026-11-24T10:00:00Z"
    assert f["EndDateTime"].value == "2026-11-24T10:30:34Z"  # + 1834.4 s of recording
    assert f["WhatId"].value == SF_IDS["opportunity_id"]  # the opportunity wins over the account
    assert f["WhoId"].value == SF_IDS["contact_id"] and f["OwnerId"].value == SF_IDS["owner_id"]
    assert "Acme Corp" in f["Description"].value and "report.html" not in f["Description"].value  # not served: no link
    served = preview(folder, "salesforce", CRMSettings(report_base_url="https://meetings.example/out/"))
    assert "https://meetings.example/out/acme-call-1a2b3c4d/report.html" in served.records[0].body()["Description"]
    assert [t.object for t in tasks] == ["Task", "Task"]
    t1, t2 = (_fields(t) for t in tasks)
    assert t1["ActivityDate"].value == "2026-11-27" and "due_resolved" in t1["ActivityDate"].evidence[0]
    assert t2["ActivityDate"].value == "2026-12-06"  # the end of 'next week'
    assert t1["Status"].value == "Not Started"
    assert 'I\'ll send the security questionnaire by Friday' in t1["Subject"].evidence[0]
    assert "segments #12" in t1["Subject"].evidence[0]
    # the key is the step's content id: sha256 of [its evidence segment ids, its action case-folded] (docs/crm.md)
    content = hashlib.sha256(json.dumps([[20, 21], "schedule a demo for the ops team"]).encode()).hexdigest()[:12]
    assert tasks[1].key == f"acme-call-1a2b3c4d.step-{content}"


def test_unresolved_due_date_leaves_the_task_undated_with_the_text(tmp_path: Path) -> None:
    folder = make_meeting(tmp_path, en_notes(steps=3), SF_IDS)
    plan = preview(folder, "salesforce", CRMSettings())
    third = _fields(plan.records[3])
    assert "ActivityDate" not in third
    assert "soon" in third["Description"].value
    assert any("could not be resolved" in w for w in plan.warnings)


def test_date_only_meeting_becomes_a_call_task(tmp_path: Path) -> None:
    folder = make_meeting(tmp_path, ja_notes(), SF_IDS)
    plan = preview(folder, "salesforce", CRMSettings())
    call = _fields(plan.records[0])
    assert plan.records[0].object == "Task"
    assert call["TaskSubtype"].value == "Call" and call["ActivityDate"].value == "2026-11-20"
    assert call["CallDurationInSeconds"].value == 1834
    forced = preview(folder, "salesforce", CRMSettings(salesforce={"activity_object": "Event"}))
    assert any("start time" in p for p in forced.problems)


def test_owner_mapping_by_name(tmp_path: Path) -> None:
    folder = make_meeting(tmp_path, en_notes(), SF_IDS)
    plan = preview(folder, "salesforce", CRMSettings(salesforce={"user_ids": {"Dana": "005000000000009AAA"}}))
    assert _fields(plan.records[1])["OwnerId"].value == "005000000000009AAA"
    assert _fields(plan.records[2])["OwnerId"].value == SF_IDS["owner_id"]  # Lee: not mapped -> the rep


def test_speaker_ids_read_as_the_speaker_maps_names(tmp_path: Path) -> None:
    from meeting_notes.notes.schema import NextStep

    step = NextStep(action="SPEAKER_01 sends the quote", owner="SPEAKER_01", due="", evidence=[])
    folder = make_meeting(tmp_path, en_notes(next_steps=[step]), SF_IDS)
    transcript = json.loads((folder / "transcript.json").read_text())
    transcript["speakers"] = [{"id": "SPEAKER_00", "label": "Speaker 1"}, {"id": "SPEAKER_01", "label": "Kenji Sato", "name": "Kenji Sato"}]
    (folder / "transcript.json").write_text(json.dumps(transcript))
    settings = CRMSettings(salesforce={"user_ids": {"Kenji Sato": "005000000000009AAA"}})
    task = _fields(preview(folder, "salesforce", settings).records[1])
    assert task["Subject"].value == "Kenji Sato sends the quote"
    assert task["OwnerId"].value == "005000000000009AAA" and "Kenji Sato" in task["OwnerId"].evidence[0]
    # a damaged transcript.json: the notes as written, and a warning saying why
    (folder / "transcript.json").write_text("{broken")
    plan = preview(folder, "salesforce", settings)
    assert _fields(plan.records[1])["Subject"].value == "SPEAKER_01 sends the quote"
    assert any("transcript.json is not readable" in w for w in plan.warnings)


def test_field_map_renames_and_drops(tmp_path: Path) -> None:
    folder = make_meeting(tmp_path, en_notes(), SF_IDS)
    plan = preview(folder, "salesforce", CRMSettings(salesforce={"field_map": {"Description": "Call_Notes__c", "WhoId": ""}}))
    names = set(_fields(plan.records[0]))
    assert "Call_Notes__c" in names and "Description" not in names and "WhoId" not in names


def test_japanese_stays_japanese_and_is_cut_on_a_character_boundary(tmp_path: Path) -> None:
    folder = make_meeting(tmp_path, ja_notes(long_text=400), SF_IDS)
    settings = CRMSettings(salesforce={"description_limit": 5000}, report_base_url="https://meetings.example/out")
    plan = preview(folder, "salesforce", settings)
    desc = _fields(plan.records[0])["Description"]
    assert desc.truncated and field_length(desc.value) <= 5000
    assert TRUNCATION_MARK in desc.value and desc.value.endswith("https://meetings.example/out/ja-call-5e6f7a8b/report.html")
    assert "株式会社ナビテック" in desc.value and "\ufffd" not in desc.value
    assert _fields(plan.records[1])["Subject"].value == "見積書を送付する"
    # the JSON preview keeps the characters (no \\u escapes needed to read it)
    assert "ナビテック" in json.dumps(plan.model_dump(mode="json"), ensure_ascii=False)


def test_fit_counts_utf16_and_never_splits_a_surrogate_pair() -> None:
    text = "😀" * 50
    cut, was_cut = fit(text, 40)
    assert was_cut and field_length(cut) <= 40 and cut.endswith(TRUNCATION_MARK)
    assert cut.encode("utf-16-le").decode("utf-16-le") == cut
    assert fit("短い", 10) == ("短い", False)


def test_hubspot_plan(tmp_path: Path) -> None:
    folder = make_meeting(tmp_path, en_notes(), HS_IDS)
    plan = preview(folder, "hubspot", CRMSettings())
    assert plan.problems == []
    meeting, *tasks = plan.records
    f = _fields(meeting)
    assert meeting.object == "meetings" and f["hs_timestamp"].value == "2026-11-24T10:00:00Z"
    assert f["hs_meeting_outcome"].value == "COMPLETED" and f["hubspot_owner_id"].value == "404"
    assert meeting.associations == {"companies": ["101"], "deals": ["202"], "contacts": ["303", "304"]}
    t = _fields(tasks[0])
    assert t["hs_timestamp"].value == "2026-11-27T12:00:00Z" and t["hs_task_status"].value == "NOT_STARTED"


@pytest.mark.parametrize("target", ["salesforce", "hubspot"])
def test_no_crm_ids_preview_says_what_is_missing_and_push_refuses(tmp_path: Path, target: str) -> None:
    from meeting_notes.crm.service import push

    folder = make_meeting(tmp_path, en_notes())
    plan = preview(folder, target, CRMSettings())
    assert any("No CRM ids" in p and "crm_ids" in p for p in plan.problems)
    with pytest.raises(CRMInputError, match="No CRM ids"):
        push(folder, target, CRMSettings(ledger_url=f"sqlite:///{tmp_path / 'l.sqlite'}"), approve_as="me")
    assert not (tmp_path / "l.sqlite").exists() or "approvals" not in json.loads((folder / "crm.json").read_text())


def test_notes_without_account_and_without_next_steps(tmp_path: Path) -> None:
    notes = en_notes(steps=0, account={"name": ""})
    folder = make_meeting(tmp_path, notes, {"contact_id": SF_IDS["contact_id"]})
    plan = preview(folder, "salesforce", CRMSettings())
    assert any("no account_id or opportunity_id" in p.lower() for p in plan.problems)
    assert any("no account" in p for p in plan.problems)
    assert any("no next steps" in w for w in plan.warnings)
    assert len(plan.records) == 1  # the meeting only


@pytest.mark.parametrize(
    ("ids", "expected"),
    [
        ({"opportunity_id": "001000000000001AAA"}, "is an Account id (prefix 001), not an Opportunity id (prefix 006)"),
        ({"account_id": "006000000000001AAA"}, "is an Opportunity id (prefix 006), not an Account id (prefix 001)"),
        ({"account_id": "001000000000001AAA", "contact_id": "005000000000001AAA"}, "is a User id (prefix 005), not a Contact id"),
        ({"account_id": "001000000000001AAA", "owner_id": "003000000000001AAA"}, "is a Contact id (prefix 003), not a User id"),
        ({"account_id": "12345"}, "is not a Salesforce id"),
    ],
)
def test_salesforce_id_types(tmp_path: Path, ids: dict, expected: str) -> None:
    folder = make_meeting(tmp_path, en_notes(), ids)
    plan = preview(folder, "salesforce", CRMSettings())
    assert any(expected in p for p in plan.problems), plan.problems


def test_hubspot_ids_must_be_numeric(tmp_path: Path) -> None:
    folder = make_meeting(tmp_path, en_notes(), {"company_id": "001000000000001AAA"})
    plan = preview(folder, "hubspot", CRMSettings())
    assert any("not a HubSpot record id" in p and "Salesforce" in p for p in plan.problems)


def test_hand_edited_invalid_notes(tmp_path: Path) -> None:
    folder = make_meeting(tmp_path, en_notes(), SF_IDS)
    data = json.loads((folder / "notes.json").read_text())
    del data["next_steps"][0]["action"]
    data["next_steps"][1]["evidence"] = "segment 3"
    (folder / "notes.json").write_text(json.dumps(data))
    with pytest.raises(CRMInputError) as err:
        preview(folder, "salesforce", CRMSettings())
    assert "next_steps.0.action: Field required" in str(err.value)
    assert "next_steps.1.evidence" in str(err.value)
    (folder / "notes.json").write_text('{"meeting_id": "x", ')
    with pytest.raises(CRMInputError, match="not valid JSON"):
        preview(folder, "salesforce", CRMSettings())


def test_failed_notes_status_blocks(tmp_path: Path) -> None:
    folder = make_meeting(tmp_path, en_notes(status="llm_failed", status_detail="timeout"), SF_IDS)
    plan = preview(folder, "webhook", CRMSettings(webhook={"url": "http://127.0.0.1:9/hook"}))
    assert any("llm_failed" in p for p in plan.problems)


def test_approval_follows_the_notes_hash(tmp_path: Path) -> None:
    folder = make_meeting(tmp_path, en_notes(), SF_IDS)
    settings = CRMSettings()
    plan = preview(folder, "salesforce", settings)
    assert "not approved" in approval_problem(folder, plan)
    record = approve(folder, plan, "alice")
    assert record["by"] == "alice" and record["notes_hash"] == plan.notes_hash
    assert approval_problem(folder, preview(folder, "salesforce", settings)) is None
    edited = en_notes(title="Acme discovery call (corrected)")
    (folder / "notes.json").write_text(edited.model_dump_json(indent=2))
    problem = approval_problem(folder, preview(folder, "salesforce", settings))
    assert "notes.json changed since alice approved it" in problem
    # other CRM ids change the payload: the approval no longer covers it
    approve(folder, preview(folder, "salesforce", settings), "alice")
    changed = preview(folder, "salesforce", settings, {"contact_id": "003000000000002AAA"})
    assert "changed since alice approved it" in approval_problem(folder, changed)


def test_approve_refuses_a_plan_with_problems(tmp_path: Path) -> None:
    folder = make_meeting(tmp_path, en_notes())
    with pytest.raises(CRMInputError, match="cannot approve"):
        approve(folder, preview(folder, "salesforce", CRMSettings()), "bob")


def test_crm_ids_from_the_sidecar_beside_the_recording_and_from_a_file(tmp_path: Path) -> None:
    import argparse

    from meeting_notes.crm.cli import add_parser

    folder = make_meeting(tmp_path, en_notes())
    sidecar = tmp_path / "acme-call-1a2b3c4d.m4a.meeting.json"
    sidecar.write_text(json.dumps({"title": "Acme", "crm_ids": {"opportunity_id": SF_IDS["opportunity_id"]}}))
    plan = preview(folder, "salesforce", CRMSettings())
    assert plan.problems == [] and plan.records[0].body()["WhatId"] == SF_IDS["opportunity_id"]
    sidecar.unlink()
    elsewhere = tmp_path / "moved.meeting.json"
    elsewhere.write_text(json.dumps({"crm_ids": {"account_id": SF_IDS["account_id"], "owner": SF_IDS["owner_id"]}}))
    parser = argparse.ArgumentParser()
    add_parser(parser.add_subparsers())
    args = parser.parse_args(["crm", "preview", str(folder), "--target", "salesforce", "--sidecar", str(elsewhere), "--json"])
    assert args.func(args) == 0
    assert json.loads((folder / "crm.json").read_text())["crm_ids"] == {"account_id": SF_IDS["account_id"], "owner_id": SF_IDS["owner_id"]}
    elsewhere.write_text(json.dumps({"crm_ids": {"account_id": SF_IDS["account_id"]}, "unknown_field": 1}))
    args = parser.parse_args(["crm", "preview", str(folder), "--target", "salesforce", "--sidecar", str(elsewhere)])
    with pytest.raises(CRMInputError, match="is not a valid meeting sidecar"):
        args.func(args)


def test_cli_preview_text_and_exit_codes(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    import argparse

    from meeting_notes.crm.cli import add_parser

    parser = argparse.ArgumentParser()
    add_parser(parser.add_subparsers())
    folder = make_meeting(tmp_path, ja_notes(), {"opportunity_id": "001000000000001AAA"})
    args = parser.parse_args(["crm", "preview", str(folder), "--target", "salesforce", "--approve"])
    assert args.func(args) == 1
    out = capsys.readouterr().out
    assert "MISSING/WRONG: crm_ids.opportunity_id" in out and "ナビテック様 初回商談" in out
    assert "cannot be pushed" in out and "approvals" not in json.loads((folder / "crm.json").read_text())
    args = parser.parse_args(["crm", "preview", str(folder), "--target", "salesforce", "--crm-id", "opportunity_id=006000000000001AAA", "--approve", "--by", "kenji"])
    assert args.func(args) == 0
    assert "Approved by kenji" in capsys.readouterr().out
