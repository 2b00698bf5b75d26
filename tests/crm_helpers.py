"""Meeting folders for the CRM tests: hand-written notes (English and Japanese), no pipeline run."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from meeting_notes.notes.schema import Account, Evidence, NextStep, SalesNotes, TextItem
from meeting_notes.settings import CRMSettings

SF_IDS = {
    "account_id": "001000000000001AAA",
    "opportunity_id": "006000000000001AAA",
    "contact_id": "003000000000001AAA",
    "owner_id": "005000000000001AAA",
}
HS_IDS = {"company_id": "101", "deal_id": "202", "contact_ids": "303,304", "owner_id": "404"}


def en_notes(meeting_id: str = "acme-call-1a2b3c4d", steps: int = 2, **kw: Any) -> SalesNotes:
    """English notes of a discovery call, with resolved and unresolved due dates."""
    all_steps = [
        NextStep(action="Send the security questionnaire", owner="Dana", due="Friday", due_resolved="2026-11-27",
                 evidence=[Evidence(segment_ids=[12], quote="I'll send the security questionnaire by Friday")]),
        NextStep(action="Schedule a demo for the ops team", owner="Lee", due="next week", due_resolved="2026-11-30/2026-12-06",
                 evidence=[Evidence(segment_ids=[20, 21], quote="let's get the ops team on a demo next week")]),
        NextStep(action="Check the budget with finance", owner="", due="soon", due_resolved="",
                 evidence=[Evidence(segment_ids=[30], quote="I need to check with finance soon")]),
    ]
    fields: dict[str, Any] = dict(
        meeting_id=meeting_id, title="Acme discovery call", date="2026-11-24T10:00:00+00:00", language="en",
        account=Account(name="Acme Corp", evidence=[Evidence(segment_ids=[1], quote="here at Acme Corp")]),
        summary="Acme wants to replace spreadsheets for field-service scheduling.",
        needs=[TextItem(text="Replace spreadsheets", evidence=[Evidence(segment_ids=[3], quote="we live in spreadsheets")])],
        next_steps=all_steps[:steps],
    )
    fields.update(kw)
    return SalesNotes(**fields)


def ja_notes(meeting_id: str = "ja-call-5e6f7a8b", long_text: int = 0) -> SalesNotes:
    """Japanese notes; ``long_text`` repeats the summary to overflow the field limits."""
    summary = "株式会社ナビテックは現場の日程調整をスプレッドシートから置き換えたい。" * max(long_text, 1)
    return SalesNotes(
        meeting_id=meeting_id, title="ナビテック様 初回商談", date="2026-11-20", language="ja",
        account=Account(name="株式会社ナビテック", evidence=[Evidence(segment_ids=[2], quote="ナビテックの田中です")]),
        summary=summary,
        next_steps=[NextStep(action="見積書を送付する", owner="佐藤", due="来週水曜", due_resolved="2026-11-25",
                             evidence=[Evidence(segment_ids=[40], quote="来週水曜までに見積書をお送りします")])],
    )


def make_meeting(root: Path, notes: SalesNotes, crm_ids: dict[str, str] | None = None, duration: float = 1834.4) -> Path:
    """A meeting folder with notes.json, a transcript.json header and (optionally) crm ids in crm.json."""
    folder = root / notes.meeting_id
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "notes.json").write_text(notes.model_dump_json(indent=2), encoding="utf-8")
    (folder / "notes.md").write_text("# notes\n", encoding="utf-8")
    transcript = {"meeting_id": notes.meeting_id, "language": notes.language, "speakers": [], "segments": [],
                  "audio": {"path": str(root / f"{notes.meeting_id}.m4a"), "sha256": "0" * 64, "duration": duration}}
    (folder / "transcript.json").write_text(json.dumps(transcript), encoding="utf-8")
    if crm_ids:
        (folder / "crm.json").write_text(json.dumps({"crm_ids": crm_ids}), encoding="utf-8")
    return folder


def crm_settings(url: str, tmp: Path, **kw: Any) -> CRMSettings:
    """CRM settings pointing every target at the fake server, fast retries, ledger under ``tmp``."""
    base: dict[str, Any] = dict(
        ledger_url=f"sqlite:///{tmp / 'ledger.sqlite'}", timeout_s=2.0, max_retries=2,
        backoff_base_s=0.01, backoff_max_s=0.05,
        salesforce={"instance_url": url, "access_token_env": "TEST_SF_TOKEN"},
        hubspot={"base_url": url, "access_token_env": "TEST_HS_TOKEN"},
        webhook={"url": f"{url}/hook", "secret_env": "TEST_HOOK_SECRET"},
    )
    for key, value in kw.items():
        if isinstance(value, dict) and isinstance(base.get(key), dict):
            base[key] = {**base[key], **value}
        else:
            base[key] = value
    return CRMSettings(**base)
