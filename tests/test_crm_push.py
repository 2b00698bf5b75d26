"""Pushing to fake Salesforce / HubSpot / webhook servers: idempotency, retries, errors, kills."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from crm_helpers import HS_IDS, SF_IDS, crm_settings, en_notes, ja_notes, make_meeting
from fake_crm_server import FakeCRM, Reply

from meeting_notes.crm.errors import CRMInputError
from meeting_notes.crm.ledger import Ledger
from meeting_notes.crm.service import push, retry_failed

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture()
def tokens(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TEST_SF_TOKEN", "test-token")
    monkeypatch.setenv("TEST_HS_TOKEN", "test-token")
    monkeypatch.setenv("TEST_HOOK_SECRET", "hook-secret")


def _ledger_rows(tmp: Path) -> list:
    ledger = Ledger(f"sqlite:///{tmp / 'ledger.sqlite'}")
    try:
        return ledger.all()
    finally:
        ledger.close()


def test_salesforce_push_twice_keeps_one_record_per_item(tmp_path: Path, tokens: None) -> None:
    with FakeCRM() as crm:
        settings = crm_settings(crm.url, tmp_path)
        folder = make_meeting(tmp_path, en_notes(), SF_IDS)
        first = push(folder, "salesforce", settings, approve_as="alice")
        assert first.status == "delivered", first.error
        assert crm.count("Event") == 1 and crm.count("Task") == 2
        step_keys = sorted(k for k in first.record_ids if k != "acme-call-1a2b3c4d.meeting")
        assert "acme-call-1a2b3c4d.meeting" in first.record_ids and len(step_keys) == 2
        assert all(k.startswith("acme-call-1a2b3c4d.step-") for k in step_keys) and step_keys[0] != step_keys[1]
        again = push(folder, "salesforce", settings)
        assert again.status == "already_delivered" and len(crm.requests) == 1  # the ledger: no request
        forced = push(folder, "salesforce", settings, force=True)
        assert forced.status == "delivered" and forced.record_ids == first.record_ids
        assert crm.count("Event") == 1 and crm.count("Task") == 2
        # a correction: new notes, new approval, the same records updated
        (folder / "notes.json").write_text(en_notes(title="Acme discovery call v2").model_dump_json())
        with pytest.raises(CRMInputError, match="changed since alice approved"):
            push(folder, "salesforce", settings)
        fixed = push(folder, "salesforce", settings, approve_as="alice")
        assert fixed.status == "delivered" and fixed.record_ids == first.record_ids
        assert crm.count("Event") == 1 and crm.count("Task") == 2
        event = crm.sf[("Event", "Meeting_Notes_Key__c=acme-call-1a2b3c4d.meeting")]
        assert event["Subject"] == "Acme discovery call v2"
        body = json.loads(crm.requests[0][2])
        assert body["allOrNone"] is True and len(body["compositeRequest"]) == 3
    rows = _ledger_rows(tmp_path)
    assert [(r.status, r.attempts) for r in rows] == [("delivered", 2), ("delivered", 1)]


def test_call_task_subtype_is_sent_on_create_only(tmp_path: Path, tokens: None) -> None:
    with FakeCRM() as crm:
        settings = crm_settings(crm.url, tmp_path)
        folder = make_meeting(tmp_path, ja_notes(), SF_IDS)
        assert push(folder, "salesforce", settings, approve_as="a").status == "delivered"
        assert push(folder, "salesforce", settings, force=True).status == "delivered"
        second = json.loads(crm.requests[-1][2])["compositeRequest"][0]["body"]
        assert "TaskSubtype" not in second and crm.count("Task") == 2
        call = crm.sf[("Task", "Meeting_Notes_Key__c=ja-call-5e6f7a8b.meeting")]
        assert call["TaskSubtype"] == "Call" and call["Subject"] == "ナビテック様 初回商談"


def test_hubspot_push_twice_and_associations(tmp_path: Path, tokens: None) -> None:
    with FakeCRM() as crm:
        settings = crm_settings(crm.url, tmp_path)
        folder = make_meeting(tmp_path, en_notes(), HS_IDS)
        first = push(folder, "hubspot", settings, approve_as="alice")
        assert first.status == "delivered", first.error
        second = push(folder, "hubspot", settings, force=True)
        assert second.record_ids == first.record_ids
        assert crm.count("meetings") == 1 and crm.count("tasks") == 2
        # 3 records x (1 company + 1 deal + 2 contacts), no duplicates after two pushes
        assert len(crm.hs_assoc) == 12


def test_webhook_signed_with_a_stable_delivery_id(tmp_path: Path, tokens: None) -> None:
    with FakeCRM() as crm:
        settings = crm_settings(crm.url, tmp_path)
        folder = make_meeting(tmp_path, ja_notes(), {})
        crm.script([Reply(503, {"message": "busy"})])
        result = push(folder, "webhook", settings, approve_as="a")
        assert result.status == "delivered" and crm.hook_posts == 1
        push(folder, "webhook", settings, force=True)
        assert len(crm.hooks) == 1  # the same delivery id on the retry and the forced re-send
        doc = next(iter(crm.hooks.values()))
        assert doc["notes"]["account"]["name"] == "株式会社ナビテック" and doc["delivery_id"] == result.delivery_id
        assert crm.requests[0][2] == crm.requests[1][2]  # the retry sent the same bytes


def test_webhook_wrong_secret_is_reported(tmp_path: Path, tokens: None, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TEST_HOOK_SECRET", "not-the-secret")
    with FakeCRM() as crm:
        result = push(make_meeting(tmp_path, ja_notes(), {}), "webhook", crm_settings(crm.url, tmp_path), approve_as="a")
    assert result.status == "failed" and "bad signature" in result.error


def test_rejected_record_names_the_field_and_nothing_is_saved(tmp_path: Path, tokens: None) -> None:
    with FakeCRM() as crm:
        settings = crm_settings(crm.url, tmp_path, salesforce={"subject_limit": 1000})
        notes = en_notes()
        notes.next_steps[1].action = "Schedule a demo " * 30  # 480 characters: over Subject's 255
        folder = make_meeting(tmp_path, notes, SF_IDS)
        result = push(folder, "salesforce", settings, approve_as="a")
        assert result.status == "rejected" and result.field == "Subject"
        assert "next_steps[1]" in result.error and "STRING_TOO_LONG" in result.error and "max length=255" in result.error
        assert crm.sf == {}  # allOrNone: nothing half-sent
    state = json.loads((folder / "crm.json").read_text())
    assert state["deliveries"]["salesforce"]["status"] == "rejected"
    assert _ledger_rows(tmp_path)[0].last_error == result.error


def test_hubspot_rejected_property(tmp_path: Path, tokens: None) -> None:
    with FakeCRM() as crm:
        settings = crm_settings(crm.url, tmp_path, hubspot={"field_map": {"hs_task_type": "hs_task_kind"}})
        result = push(make_meeting(tmp_path, en_notes(), HS_IDS), "hubspot", settings, approve_as="a")
    assert result.status == "rejected" and result.field == "hs_task_kind"
    assert 'Property "hs_task_kind" does not exist' in result.error


def test_401_fails_with_the_crm_message(tmp_path: Path, tokens: None, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TEST_SF_TOKEN", "00Dold-token-value")
    with FakeCRM() as crm:
        result = push(make_meeting(tmp_path, en_notes(), SF_IDS), "salesforce", crm_settings(crm.url, tmp_path), approve_as="a")
        assert len(crm.requests) == 1  # not retried
    assert result.status == "failed" and "INVALID_SESSION_ID: Session expired or invalid" in result.error


def test_429_honours_retry_after(tmp_path: Path, tokens: None) -> None:
    slept: list[float] = []
    with FakeCRM() as crm:
        crm.script([Reply(429, {"status": "error", "message": "You have reached your secondly limit.", "category": "RATE_LIMITS"}, {"Retry-After": "3"})])
        result = push(make_meeting(tmp_path, en_notes(), HS_IDS), "hubspot", crm_settings(crm.url, tmp_path), approve_as="a", sleep=slept.append)
    assert result.status == "delivered" and slept == [3.0]


def test_retry_after_too_long_gives_up_for_later(tmp_path: Path, tokens: None) -> None:
    with FakeCRM() as crm:
        crm.script([Reply(429, [{"message": "limit", "errorCode": "REQUEST_LIMIT_EXCEEDED"}], {"Retry-After": "3600"})])
        result = push(make_meeting(tmp_path, en_notes(), SF_IDS), "salesforce", crm_settings(crm.url, tmp_path), approve_as="a", sleep=lambda s: None)
    assert result.status == "failed" and "Retry-After" in result.error


def test_500_then_failed_then_crm_retry_delivers(tmp_path: Path, tokens: None) -> None:
    slept: list[float] = []
    with FakeCRM() as crm:
        settings = crm_settings(crm.url, tmp_path)
        crm.script([Reply(500, [{"message": "An unexpected error occurred", "errorCode": "UNKNOWN_EXCEPTION"}])] * 3)
        folder = make_meeting(tmp_path, en_notes(), SF_IDS)
        result = push(folder, "salesforce", settings, approve_as="a", sleep=slept.append)
        assert result.status == "failed" and "after 3 attempts" in result.error and "UNKNOWN_EXCEPTION" in result.error
        assert len(slept) == 2 and slept[1] >= slept[0] * 0.9  # exponential backoff (with jitter)
        assert crm.sf == {}
        ledger = Ledger(settings.ledger_url or "")
        try:
            assert [r.status for r in ledger.all()] == ["failed"]
            retried = retry_failed(settings, ledger, sleep=slept.append)
        finally:
            ledger.close()
        assert [r.status for r in retried] == ["delivered"]
        assert crm.count("Event") == 1 and crm.count("Task") == 2


def test_timeouts_are_retried_then_reported(tmp_path: Path, tokens: None) -> None:
    with FakeCRM() as crm:
        settings = crm_settings(crm.url, tmp_path, timeout_s=0.3)
        crm.script([Reply(200, {}, delay_s=1.0)])
        ok = push(make_meeting(tmp_path, en_notes(), HS_IDS), "hubspot", settings, approve_as="a", sleep=lambda s: None)
        assert ok.status == "delivered"
        crm.script([Reply(200, {}, delay_s=1.0)] * 3)
        bad = push(make_meeting(tmp_path, ja_notes(), {}), "webhook", settings, approve_as="a", sleep=lambda s: None)
    assert bad.status == "failed" and "timeout" in bad.error


def test_push_refuses_without_approval(tmp_path: Path, tokens: None) -> None:
    with FakeCRM() as crm:
        with pytest.raises(CRMInputError, match="not approved"):
            push(make_meeting(tmp_path, en_notes(), SF_IDS), "salesforce", crm_settings(crm.url, tmp_path))
        assert crm.requests == []


def test_missing_credentials_are_named(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("TEST_SF_TOKEN", raising=False)
    with FakeCRM() as crm:
        result = push(make_meeting(tmp_path, en_notes(), SF_IDS), "salesforce", crm_settings(crm.url, tmp_path), approve_as="a")
        assert crm.requests == []
    assert result.status == "failed" and "$TEST_SF_TOKEN" in result.error


def test_salesforce_jwt_bearer_flow(tmp_path: Path) -> None:
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa

    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = tmp_path / "server.key"
    pem.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()))
    with FakeCRM(token="issued-by-jwt", jwt_public_key=key.public_key()) as crm:
        settings = crm_settings(crm.url, tmp_path, salesforce={
            "instance_url": None, "access_token_env": "UNSET_SF_TOKEN_VAR", "login_url": crm.url,
            "jwt_client_id": "3MVG9-consumer-key", "jwt_username": "rep@example.com", "jwt_private_key_file": str(pem),
        })
        result = push(make_meeting(tmp_path, en_notes(), SF_IDS), "salesforce", settings, approve_as="a")
        assert result.status == "delivered", result.error
        assert crm.requests[0][1] == "/services/oauth2/token" and crm.count("Event") == 1
        other = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        pem.write_bytes(other.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()))
        refused = push(make_meeting(tmp_path, ja_notes(), SF_IDS), "salesforce", settings, approve_as="a")
    assert refused.status == "failed" and "JWT bearer flow refused" in refused.error and "invalid assertion" in refused.error


PUSH_SCRIPT = """
import sys
from pathlib import Path
from meeting_notes.crm.service import push
from crm_helpers import crm_settings
url, tmp, folder, target = sys.argv[1:5]
print(push(Path(folder), target, crm_settings(url, Path(tmp)), approve_as="a").status, flush=True)
"""


def _push_in_subprocess(crm: FakeCRM, tmp: Path, folder: Path, target: str) -> subprocess.Popen:
    env = {**os.environ, "PYTHONPATH": f"{ROOT}:{ROOT / 'tests'}"}
    return subprocess.Popen([sys.executable, "-c", PUSH_SCRIPT, crm.url, str(tmp), str(folder), target],
                            env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)


@pytest.mark.parametrize(("target", "ids", "hold_after"), [("hubspot", HS_IDS, 2), ("salesforce", SF_IDS, 1)])
def test_killed_between_requests_then_repush_has_no_duplicates(tmp_path: Path, tokens: None, target: str, ids: dict, hold_after: int) -> None:
    """HubSpot: killed after the meetings upsert was applied, during the tasks upsert (applied,
    never answered). Salesforce: killed after the composite was applied but before its answer
    arrived (so the ledger knows no record ids and the re-push creates... nothing new)."""
    with FakeCRM() as crm:
        folder = make_meeting(tmp_path, en_notes(steps=3), ids)
        crm.hold_after = hold_after
        proc = _push_in_subprocess(crm, tmp_path, folder, target)
        assert crm.held.wait(60), proc.communicate(timeout=5)
        proc.send_signal(signal.SIGKILL)
        proc.wait(10)
        crm.hold_after = None
        crm.release.set()
        rows = _ledger_rows(tmp_path)
        assert [r.status for r in rows] == ["sending"]
        # the killed push's row is fresh: a plain push does not take it over, --force does
        assert push(folder, target, crm_settings(crm.url, tmp_path)).status == "in_progress"
        again = push(folder, target, crm_settings(crm.url, tmp_path), force=True)
        assert again.status == "delivered", again.error
        if target == "hubspot":
            assert crm.count("meetings") == 1 and crm.count("tasks") == 3
            assert len(crm.hs_assoc) == 4 * 4
        else:
            assert crm.count("Event") == 1 and crm.count("Task") == 3
    assert [(r.status, r.attempts) for r in _ledger_rows(tmp_path)] == [("delivered", 2)]


CLI_SEQUENCE = """
import argparse, json, logging, os, sys
logging.basicConfig(level=logging.DEBUG)
from meeting_notes.crm.cli import add_parser
from meeting_notes.settings import get_settings
for extra, argv in json.loads(sys.argv[1]):
    saved = {k: os.environ.get(k) for k in extra}
    os.environ.update(extra)
    get_settings.cache_clear()
    p = argparse.ArgumentParser()
    add_parser(p.add_subparsers())
    a = p.parse_args(argv)
    try:
        code = a.func(a)
    except Exception as exc:
        print(f"error: {exc}", file=sys.stderr)
        code = 1
    print(f"exit={code}", flush=True)
    for k, v in saved.items():
        if v is None:
            os.environ.pop(k)
        else:
            os.environ[k] = v
"""


@pytest.mark.slow
def test_canary_token_never_written(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A planted token appears in no file, ledger, crm.json, stdout/stderr or log line of the
    CLI and the deliver task, through success, 401, 5xx and a rejection."""
    canary = "CANARY-7f3e9c1d-token-SECRET"
    out = tmp_path / "out"
    with FakeCRM(token=canary, webhook_secret=canary) as crm:
        env = {
            **os.environ, "PYTHONPATH": f"{ROOT}:{ROOT / 'tests'}", "TEST_SF_TOKEN": canary, "TEST_HS_TOKEN": canary,
            "TEST_HOOK_SECRET": canary, "MEETING_NOTES_CRM__LEDGER_URL": f"sqlite:///{tmp_path / 'ledger.sqlite'}",
            "MEETING_NOTES_CRM__SALESFORCE__INSTANCE_URL": crm.url, "MEETING_NOTES_CRM__SALESFORCE__ACCESS_TOKEN_ENV": "TEST_SF_TOKEN",
            "MEETING_NOTES_CRM__HUBSPOT__BASE_URL": crm.url, "MEETING_NOTES_CRM__HUBSPOT__ACCESS_TOKEN_ENV": "TEST_HS_TOKEN",
            "MEETING_NOTES_CRM__WEBHOOK__URL": f"{crm.url}/hook", "MEETING_NOTES_CRM__WEBHOOK__SECRET_ENV": "TEST_HOOK_SECRET",
            "MEETING_NOTES_CRM__MAX_RETRIES": "1", "MEETING_NOTES_CRM__BACKOFF_BASE_S": "0.01",
        }
        sf = make_meeting(out, en_notes(), SF_IDS)
        hs = make_meeting(out, ja_notes(), HS_IDS)
        crm.script([Reply(500, [{"message": "boom", "errorCode": "UNKNOWN_EXCEPTION"}])] * 2)
        steps = [
            ({}, ["crm", "preview", str(sf), "--target", "salesforce", "--json"]),
            ({}, ["crm", "push", str(sf), "--target", "salesforce", "--approve"]),  # 5xx twice: failed
            ({}, ["crm", "push", str(sf), "--target", "salesforce"]),  # delivered
            ({"TEST_HS_TOKEN": canary + "-wrong"}, ["crm", "push", str(hs), "--target", "hubspot", "--approve"]),  # 401
            ({"MEETING_NOTES_CRM__HUBSPOT__FIELD_MAP": '{"hs_task_type": "bad_prop"}'}, ["crm", "push", str(hs), "--target", "hubspot", "--approve"]),
            ({}, ["crm", "push", str(hs), "--target", "webhook", "--approve"]),
            ({}, ["crm", "retry", "--out", str(out)]),
        ]
        done = subprocess.run([sys.executable, "-c", CLI_SEQUENCE, json.dumps(steps)], env=env, capture_output=True, text=True, timeout=120)
        outputs = [done.stdout, done.stderr]
        assert done.stdout.count("exit=") == len(steps), done.stderr[-2000:]
        assert "salesforce: failed" in done.stdout and "salesforce: delivered" in done.stdout
        assert "HTTP 401" in done.stderr and "bad_prop" in done.stderr and "webhook: delivered" in done.stdout
        assert crm.count("Event") == 1 and len(crm.hooks) == 1
        # the deliver task with auto_push (called as a plain function: no Prefect server needed)
        import logging

        from flows.crm import deliver
        from meeting_notes.settings import get_settings

        for key in ("TEST_SF_TOKEN", "TEST_HS_TOKEN", "TEST_HOOK_SECRET"):
            monkeypatch.setenv(key, canary)
        for key, value in env.items():
            if key.startswith("MEETING_NOTES_"):
                monkeypatch.setenv(key, value)
        monkeypatch.setenv("MEETING_NOTES_CRM__AUTO_PUSH", "true")
        monkeypatch.setenv("MEETING_NOTES_CRM__AUTO_PUSH_TARGETS", '["hubspot", "webhook"]')
        get_settings.cache_clear()
        records: list[str] = []

        class Keep(logging.Handler):
            def emit(self, record: logging.LogRecord) -> None:
                records.append(self.format(record))

        handler = Keep(level=logging.DEBUG)
        logging.getLogger().addHandler(handler)
        old_level = logging.getLogger().level
        logging.getLogger().setLevel(logging.DEBUG)
        try:
            third = make_meeting(out, en_notes(meeting_id="auto-1234abcd"), {})
            result = deliver.fn(str(third), {"company_id": "101", "deal_id": "202"})
        finally:
            logging.getLogger().removeHandler(handler)
            logging.getLogger().setLevel(old_level)
            get_settings.cache_clear()
        assert result["hubspot"]["status"] == "delivered" and result["webhook"]["status"] == "delivered"
        outputs.append(json.dumps(result))
        outputs.extend(records)
    assert any("status" in o for o in outputs)
    for text in outputs:
        assert canary not in text
    files = [p for p in tmp_path.rglob("*") if p.is_file()]
    assert any(p.name == "ledger.sqlite" for p in files) and any(p.name == "crm.json" for p in files)
    for path in files:
        assert canary.encode() not in path.read_bytes(), path


def _env_settings(monkeypatch: pytest.MonkeyPatch, url: str, tmp: Path, **extra: str) -> None:
    from meeting_notes.settings import get_settings

    values = {
        "MEETING_NOTES_CRM__LEDGER_URL": f"sqlite:///{tmp / 'ledger.sqlite'}",
        "MEETING_NOTES_CRM__HUBSPOT__BASE_URL": url, "MEETING_NOTES_CRM__HUBSPOT__ACCESS_TOKEN_ENV": "TEST_HS_TOKEN",
        "MEETING_NOTES_CRM__MAX_RETRIES": "0", **extra,
    }
    for key, value in values.items():
        monkeypatch.setenv(key, value)
    get_settings.cache_clear()


def test_deliver_task_waits_for_review_by_default(tmp_path: Path, tokens: None, monkeypatch: pytest.MonkeyPatch) -> None:
    from flows.crm import deliver
    from meeting_notes.settings import get_settings

    with FakeCRM() as crm:
        _env_settings(monkeypatch, crm.url, tmp_path)
        try:
            folder = make_meeting(tmp_path, en_notes(), {})
            assert deliver.fn(str(folder), {"company_id": "101", "deal_id": "202"}) == {}
            assert crm.requests == []
            assert json.loads((folder / "crm.json").read_text())["crm_ids"] == {"account_id": "101", "opportunity_id": "202"}
            # auto_push on, but the ids are wrong: reported, not raised, nothing sent
            _env_settings(monkeypatch, crm.url, tmp_path, MEETING_NOTES_CRM__AUTO_PUSH="true",
                          MEETING_NOTES_CRM__AUTO_PUSH_TARGETS='["hubspot"]')
            other = make_meeting(tmp_path, en_notes(meeting_id="other-9a8b7c6d"), {})
            result = deliver.fn(str(other), {"company_id": "001000000000001AAA"})
            assert result["hubspot"]["status"] == "not_sent" and "not a HubSpot record id" in result["hubspot"]["error"]
            assert crm.requests == []
        finally:
            get_settings.cache_clear()


def test_crm_retry_flow_resends_failed_deliveries(tmp_path: Path, tokens: None, monkeypatch: pytest.MonkeyPatch) -> None:
    from flows.crm import crm_retry
    from meeting_notes.settings import get_settings

    with FakeCRM() as crm:
        _env_settings(monkeypatch, crm.url, tmp_path)
        try:
            folder = make_meeting(tmp_path, en_notes(), HS_IDS)
            crm.script([Reply(503, {"status": "error", "message": "Service unavailable"})])
            failed = push(folder, "hubspot", get_settings().crm, approve_as="a")
            assert failed.status == "failed" and "Service unavailable" in failed.error
            results = crm_retry.fn(target="hubspot")
            assert [r["status"] for r in results] == ["delivered"] and crm.count("tasks") == 2
            assert crm_retry.fn(target="hubspot") == []  # nothing left to retry
        finally:
            get_settings.cache_clear()


def test_same_notes_other_ids_are_sent_again_after_approval(tmp_path: Path, tokens: None) -> None:
    with FakeCRM() as crm:
        settings = crm_settings(crm.url, tmp_path)
        folder = make_meeting(tmp_path, en_notes(), SF_IDS)
        first = push(folder, "salesforce", settings, approve_as="alice")
        with pytest.raises(CRMInputError, match="changed since alice approved"):
            push(folder, "salesforce", settings, crm_ids={"contact_id": "003000000000002AAA"})
        second = push(folder, "salesforce", settings, approve_as="alice")
        assert second.status == "delivered" and second.record_ids == first.record_ids and len(crm.requests) == 2
        assert crm.sf[("Event", "Meeting_Notes_Key__c=acme-call-1a2b3c4d.meeting")]["WhoId"] == "003000000000002AAA"
        assert crm.count("Event") == 1 and crm.count("Task") == 2
