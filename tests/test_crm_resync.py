"""A correction re-syncs exactly: stable task keys, stale records removed, associations and ids
that can be taken back, the meeting's object kept, approvals bound to where the plan goes."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import pytest
from crm_helpers import HS_IDS, SF_IDS, crm_settings, en_notes, ja_notes, make_meeting
from fake_crm_server import FakeCRM

from meeting_notes.crm import service
from meeting_notes.crm.cli import add_parser
from meeting_notes.crm.errors import CRMInputError
from meeting_notes.crm.preview import format_plan
from meeting_notes.crm.service import preview, push
from meeting_notes.notes.schema import SalesNotes


@pytest.fixture()
def tokens(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TEST_SF_TOKEN", "test-token")
    monkeypatch.setenv("TEST_HS_TOKEN", "test-token")
    monkeypatch.setenv("TEST_HOOK_SECRET", "hook-secret")


def _rewrite(folder: Path, notes: SalesNotes) -> None:
    (folder / "notes.json").write_text(notes.model_dump_json(indent=2), encoding="utf-8")


def _without_step(notes: SalesNotes, index: int) -> SalesNotes:
    steps = [s for i, s in enumerate(notes.next_steps) if i != index]
    return notes.model_copy(update={"next_steps": steps})


def _sf_tasks(crm: FakeCRM) -> list[dict]:
    return [rec for (obj, key), rec in crm.sf.items() if obj == "Task" and not key.endswith(".meeting")]


def test_deleting_a_middle_step_closes_its_task_and_moves_no_text(tmp_path: Path, tokens: None) -> None:
    with FakeCRM() as crm:
        settings = crm_settings(crm.url, tmp_path)
        notes = en_notes(steps=3)
        folder = make_meeting(tmp_path, notes, SF_IDS)
        assert push(folder, "salesforce", settings, approve_as="alice").status == "delivered"
        before = {rec["Subject"]: rec["Id"] for rec in _sf_tasks(crm)}
        assert len(before) == 3
        _rewrite(folder, _without_step(notes, 1))  # the rep deletes "Schedule a demo ..."
        plan = preview(folder, "salesforce", settings)
        text = format_plan(plan)
        assert "will be removed" in text and before["Schedule a demo for the ops team"] in text
        again = push(folder, "salesforce", settings, approve_as="alice")
        assert again.status == "delivered", again.error
        after = {rec["Id"]: rec for rec in _sf_tasks(crm)}
        # every task keeps its own text under its own id: nothing shifted up a position
        for subject, record_id in before.items():
            assert after[record_id]["Subject"] == subject
        open_subjects = sorted(r["Subject"] for r in after.values() if r.get("Status") != "Completed")
        assert open_subjects == ["Check the budget with finance", "Send the security questionnaire"]
        assert after[before["Schedule a demo for the ops team"]]["Status"] == "Completed"  # closed (the default)
        # pushing the same plan again removes nothing more (already closed)
        assert push(folder, "salesforce", settings, force=True).status == "delivered"


def test_deleting_the_last_step_deletes_its_task_when_set_to(tmp_path: Path, tokens: None) -> None:
    with FakeCRM() as crm:
        settings = crm_settings(crm.url, tmp_path, removed_records="delete")
        notes = en_notes(steps=3)
        folder = make_meeting(tmp_path, notes, HS_IDS)
        assert push(folder, "hubspot", settings, approve_as="alice").status == "delivered"
        assert crm.count("tasks") == 3
        _rewrite(folder, _without_step(notes, 2))
        assert "will be removed" in format_plan(preview(folder, "hubspot", settings))
        again = push(folder, "hubspot", settings, approve_as="alice")
        assert again.status == "delivered", again.error
        subjects = sorted(rec["properties"]["hs_task_subject"] for (obj, _), rec in crm.hs.items() if obj == "tasks")
        assert subjects == ["Schedule a demo for the ops team", "Send the security questionnaire"]


def test_salesforce_delete_setting_deletes_in_the_same_composite(tmp_path: Path, tokens: None) -> None:
    with FakeCRM() as crm:
        settings = crm_settings(crm.url, tmp_path, removed_records="delete")
        notes = en_notes(steps=2)
        folder = make_meeting(tmp_path, notes, SF_IDS)
        assert push(folder, "salesforce", settings, approve_as="a").status == "delivered"
        _rewrite(folder, _without_step(notes, 0))
        assert push(folder, "salesforce", settings, approve_as="a").status == "delivered"
        assert [r["Subject"] for r in _sf_tasks(crm)] == ["Schedule a demo for the ops team"]
        assert len(crm.requests) == 2  # one composite request per push: the removal is all-or-none with the rest


def test_an_edited_step_keeps_its_record_when_only_owner_or_due_change(tmp_path: Path, tokens: None) -> None:
    with FakeCRM() as crm:
        settings = crm_settings(crm.url, tmp_path)
        notes = en_notes(steps=2)
        folder = make_meeting(tmp_path, notes, SF_IDS)
        first = push(folder, "salesforce", settings, approve_as="a")
        edited = notes.model_copy(deep=True)
        edited.next_steps[0].owner = "Kim"
        edited.next_steps[0].due_resolved = "2026-11-28"
        _rewrite(folder, edited)
        second = push(folder, "salesforce", settings, approve_as="a")
        assert second.record_ids == first.record_ids and len(_sf_tasks(crm)) == 2


def test_hubspot_corrected_company_moves_the_meeting_off_the_old_timeline(tmp_path: Path, tokens: None) -> None:
    with FakeCRM() as crm:
        settings = crm_settings(crm.url, tmp_path)
        folder = make_meeting(tmp_path, en_notes(steps=1), HS_IDS)
        first = push(folder, "hubspot", settings, approve_as="a")
        meeting_id = first.record_ids["acme-call-1a2b3c4d.meeting"]
        assert ("meetings", meeting_id, "companies", "101") in crm.hs_assoc
        with pytest.raises(CRMInputError):
            push(folder, "hubspot", settings, crm_ids={"company_id": "105"})
        assert "removed" in format_plan(preview(folder, "hubspot", settings))
        assert push(folder, "hubspot", settings, approve_as="a").status == "delivered"
        companies = {a[3] for a in crm.hs_assoc if a[2] == "companies" and a[1] == meeting_id}
        assert companies == {"105"}
        assert not any(a[3] == "101" for a in crm.hs_assoc)


def _cli(argv: list[str]) -> int:
    parser = argparse.ArgumentParser()
    add_parser(parser.add_subparsers())
    args = parser.parse_args(argv)
    return args.func(args)


def test_a_wrong_crm_id_can_be_unset(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    folder = make_meeting(tmp_path, en_notes(), SF_IDS)
    # the same wrong contact is in the sidecar beside the recording: unsetting must not bring it back
    (tmp_path / "acme-call-1a2b3c4d.m4a.meeting.json").write_text(json.dumps({"crm_ids": SF_IDS}))
    assert _cli(["crm", "preview", str(folder), "--target", "salesforce", "--crm-id", "contact_id=", "--json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert "WhoId" not in {f["name"] for f in doc["records"][0]["fields"]}
    assert "contact_id" not in json.loads((folder / "crm.json").read_text())["crm_ids"]
    plan = preview(folder, "salesforce", crm_settings("http://127.0.0.1:9", tmp_path))
    assert "WhoId" not in plan.records[0].body() and plan.records[0].body()["WhatId"] == SF_IDS["opportunity_id"]


def test_update_state_can_remove_a_key(tmp_path: Path) -> None:
    folder = make_meeting(tmp_path, en_notes(), SF_IDS)
    service.update_state(folder, crm_ids={"contact_id": None})
    assert json.loads((folder / "crm.json").read_text())["crm_ids"] == {k: v for k, v in SF_IDS.items() if k != "contact_id"}


def test_salesforce_auto_keeps_the_meetings_object_when_a_time_is_added(tmp_path: Path, tokens: None) -> None:
    with FakeCRM() as crm:
        settings = crm_settings(crm.url, tmp_path)
        notes = ja_notes()  # a date only: the meeting goes out as a call Task
        folder = make_meeting(tmp_path, notes, SF_IDS)
        assert push(folder, "salesforce", settings, approve_as="a").status == "delivered"
        _rewrite(folder, notes.model_copy(update={"date": "2026-11-20T10:00:00+09:00"}))
        result = push(folder, "salesforce", settings, approve_as="a")
        assert result.status == "delivered", result.error
        under_key = [obj for (obj, key) in crm.sf if key.endswith("ja-call-5e6f7a8b.meeting")]
        assert under_key == ["Task"]


def test_salesforce_explicit_object_change_removes_the_old_record_in_the_same_request(tmp_path: Path, tokens: None) -> None:
    with FakeCRM() as crm:
        notes = en_notes(steps=1)  # a date-time: an Event under auto
        folder = make_meeting(tmp_path, notes, SF_IDS)
        assert push(folder, "salesforce", crm_settings(crm.url, tmp_path), approve_as="a").status == "delivered"
        as_task = crm_settings(crm.url, tmp_path, salesforce={"activity_object": "Task"})
        result = push(folder, "salesforce", as_task, approve_as="a")
        assert result.status == "delivered", result.error
        under_key = [obj for (obj, key) in crm.sf if key.endswith(".meeting")]
        assert under_key == ["Task"] and len(crm.requests) == 2


@pytest.mark.parametrize("change", ["instance_url", "external_id_field", "hubspot_base_url", "webhook_url"])
def test_the_approval_is_bound_to_where_the_plan_goes(tmp_path: Path, tokens: None, change: str) -> None:
    with FakeCRM() as approved_crm, FakeCRM() as other_crm:
        target = {"hubspot_base_url": "hubspot", "webhook_url": "webhook"}.get(change, "salesforce")
        ids = {"hubspot": HS_IDS, "salesforce": SF_IDS}.get(target, {})
        folder = make_meeting(tmp_path, en_notes(), ids)
        settings = crm_settings(approved_crm.url, tmp_path)
        service.approve(folder, preview(folder, target, settings), "alice")
        moved = {
            "instance_url": {"salesforce": {"instance_url": other_crm.url}},
            "external_id_field": {"salesforce": {"event_external_id_field": "Other_Key__c"}},
            "hubspot_base_url": {"hubspot": {"base_url": other_crm.url}},
            "webhook_url": {"webhook": {"url": f"{other_crm.url}/hook"}},
        }[change]
        with pytest.raises(CRMInputError, match="approved"):
            push(folder, target, crm_settings(approved_crm.url, tmp_path, **moved))
        assert approved_crm.requests == [] and other_crm.requests == []


def test_a_relabel_after_the_approval_check_is_not_sent(tmp_path: Path, tokens: None, monkeypatch: pytest.MonkeyPatch) -> None:
    from meeting_notes.notes.schema import NextStep

    with FakeCRM() as crm:
        settings = crm_settings(crm.url, tmp_path)
        step = NextStep(action="SPEAKER_01 sends the quote", owner="SPEAKER_01", due="", evidence=[])
        folder = make_meeting(tmp_path, en_notes(next_steps=[step]), SF_IDS)
        transcript = json.loads((folder / "transcript.json").read_text())
        transcript["speakers"] = [{"id": "SPEAKER_01", "label": "Kenji Sato", "name": "Kenji Sato"}]
        (folder / "transcript.json").write_text(json.dumps(transcript))
        assert push(folder, "salesforce", settings, approve_as="a").status == "delivered"
        approved = preview(folder, "salesforce", settings)
        service.approve(folder, approved, "a")
        real_check = service.approval_problem

        def check_then_relabel(meeting_dir: Path, plan: object) -> str | None:
            problem = real_check(meeting_dir, plan)  # type: ignore[arg-type]
            transcript["speakers"] = [{"id": "SPEAKER_01", "label": "Someone Else", "name": "Someone Else"}]
            (folder / "transcript.json").write_text(json.dumps(transcript))
            return problem

        monkeypatch.setattr(service, "approval_problem", check_then_relabel)
        assert push(folder, "salesforce", settings, force=True).status == "delivered"
        sent = json.loads(crm.requests[-1][2])["compositeRequest"]
        assert [s["body"] for s in sent] == [r.body() for r in approved.records]
        assert "Someone Else" not in crm.requests[-1][2].decode()


@pytest.mark.parametrize(("target", "ids", "mode"), [("salesforce", SF_IDS, "delete"), ("salesforce", SF_IDS, "close"),
                                                     ("hubspot", HS_IDS, "close"), ("hubspot", HS_IDS, "delete")])
def test_a_record_deleted_by_hand_does_not_block_the_re_push(tmp_path: Path, tokens: None, target: str, ids: dict, mode: str) -> None:
    with FakeCRM() as crm:
        settings = crm_settings(crm.url, tmp_path, removed_records=mode)
        notes = en_notes(steps=2)
        folder = make_meeting(tmp_path, notes, ids)
        first = push(folder, target, settings, approve_as="a")
        subject = "Send the security questionnaire"
        if target == "salesforce":
            gone_key = next(key.split("=", 1)[1] for (_, key), rec in crm.sf.items() if rec.get("Subject") == subject)
        else:
            gone_key = next(key for (_, key), rec in crm.hs.items() if rec["properties"].get("hs_task_subject") == subject)
        assert gone_key in first.record_ids
        if target == "salesforce":  # a rep deletes the task in Salesforce
            crm.sf_deleted.add(crm.sf.pop(("Task", f"Meeting_Notes_Key__c={gone_key}"))["Id"])
        else:
            del crm.hs[("tasks", gone_key)]
        _rewrite(folder, _without_step(notes, 0))
        again = push(folder, target, settings, approve_as="a")
        assert again.status == "delivered", again.error
        state = json.loads((folder / "crm.json").read_text())
        assert state["records"][target].get(gone_key, {}).get("state", "gone") != "live"
        assert push(folder, target, settings).status == "already_delivered"
