"""Delivery faults end as recorded errors; webhooks are idempotent per plan and signed with a
timestamp; a live push is not taken over; the webhook URL's path and the local report path stay out."""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import json
import logging
import time
from pathlib import Path

import pytest
from crm_helpers import HS_IDS, SF_IDS, crm_settings, en_notes, ja_notes, make_meeting
from fake_crm_server import FakeCRM, Reply

from meeting_notes.crm import ledger as ledger_module
from meeting_notes.crm.ledger import Ledger
from meeting_notes.crm.service import deliver, preview, push, retry_failed


@pytest.fixture()
def tokens(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TEST_SF_TOKEN", "test-token")
    monkeypatch.setenv("TEST_HS_TOKEN", "test-token")
    monkeypatch.setenv("TEST_HOOK_SECRET", "hook-secret")


def _rows(settings) -> list:
    ledger = Ledger(settings.ledger_url)
    try:
        return ledger.all()
    finally:
        ledger.close()


FAULTS = {
    "salesforce 2xx not JSON": ("salesforce", SF_IDS, [Reply(200, raw=b"<html>gateway</html>")]),
    "hubspot JSON list": ("hubspot", HS_IDS, [Reply(200, [1, 2, 3])]),
    "hubspot Retry-After nan": ("hubspot", HS_IDS, [Reply(503, {"message": "busy"}, {"Retry-After": "nan"})] * 3),
    "webhook Retry-After inf": ("webhook", {}, [Reply(503, {"message": "busy"}, {"Retry-After": "inf"})] * 3),
}


@pytest.mark.parametrize("fault", list(FAULTS))
def test_any_delivery_fault_ends_as_a_recorded_error(tmp_path: Path, tokens: None, fault: str) -> None:
    target, ids, replies = FAULTS[fault]
    with FakeCRM() as crm:
        settings = crm_settings(crm.url, tmp_path)
        folder = make_meeting(tmp_path, en_notes(), ids)
        crm.script(list(replies))
        # time.sleep refuses NaN as the real client would meet it (a fake sleep would hide that)
        result = push(folder, target, settings, approve_as="a", sleep=lambda s: time.sleep(min(s, 0.0)))
    assert result.status == "failed" and result.error
    assert [r.status for r in _rows(settings)] == ["failed"]
    assert json.loads((folder / "crm.json").read_text())["deliveries"][target]["status"] == "failed"


def test_auto_push_never_raises_into_the_meeting(tmp_path: Path, tokens: None) -> None:
    with FakeCRM() as crm:
        settings = crm_settings(crm.url, tmp_path, auto_push=True, auto_push_targets=["hubspot"])
        folder = make_meeting(tmp_path, en_notes(), HS_IDS)
        crm.script([Reply(200, raw=b"not json")])
        out = deliver(folder, None, settings)
        assert out["hubspot"]["status"] == "failed"
        (folder / "crm.json").write_text("{broken")  # an unreadable crm.json: reported, not raised
        out = deliver(folder, {"company_id": "101"}, settings)
        assert out["hubspot"]["status"] == "not_sent" and "crm.json" in out["hubspot"]["error"]


def _signature_ok(header: str, body: bytes, secret: str) -> int:
    parts = dict(p.split("=", 1) for p in header.split(","))
    want = hmac.new(secret.encode(), parts["t"].encode() + b"." + body, hashlib.sha256).hexdigest()
    assert hmac.compare_digest(parts["v1"], want)
    return int(parts["t"])


def test_webhook_is_signed_with_a_timestamp(tmp_path: Path, tokens: None) -> None:
    with FakeCRM() as crm:
        result = push(make_meeting(tmp_path, ja_notes(), {}), "webhook", crm_settings(crm.url, tmp_path), approve_as="a")
        assert result.status == "delivered", result.error
        _, _, body, headers = crm.requests[0]
    stamp = _signature_ok(headers["X-Meeting-Notes-Signature"], body, "hook-secret")
    assert abs(stamp - time.time()) < 60


def test_webhook_idempotency_key_follows_the_plan(tmp_path: Path, tokens: None) -> None:
    with FakeCRM() as crm:
        settings = crm_settings(crm.url, tmp_path)
        folder = make_meeting(tmp_path, ja_notes(), {"account_id": "1"})
        first = push(folder, "webhook", settings, approve_as="a")
        # a correction of the CRM ids (same notes.json): a new body, so a new key the receiver does not drop
        corrected = push(folder, "webhook", settings, crm_ids={"account_id": "2"}, approve_as="a")
        assert corrected.status == "delivered" and corrected.delivery_id != first.delivery_id
        assert [doc["crm_ids"]["account_id"] for doc in crm.hooks.values()] == ["1", "2"]
        # the same plan from another ledger (a new database, another worker): the same key
        elsewhere = crm_settings(crm.url, tmp_path, ledger_url=f"sqlite:///{tmp_path / 'other.sqlite'}")
        again = push(folder, "webhook", elsewhere)
        assert again.delivery_id == corrected.delivery_id and len(crm.hooks) == 2


def test_a_live_push_waiting_on_retry_after_is_not_taken_over(tmp_path: Path, tokens: None, monkeypatch: pytest.MonkeyPatch) -> None:
    clock = [dt.datetime(2026, 11, 24, 12, 0, tzinfo=dt.UTC)]
    monkeypatch.setattr(ledger_module, "utc_now", lambda: clock[0])
    with FakeCRM() as crm:
        settings = crm_settings(crm.url, tmp_path, max_retries=4, retry_after_max_s=300.0)
        folder = make_meeting(tmp_path, en_notes(), HS_IDS)
        crm.script([Reply(429, {"message": "slow down"}, {"Retry-After": "300"})] * 4)
        ledger = Ledger(settings.ledger_url or "")
        taken_over: list[list] = []

        def wait(seconds: float) -> None:
            clock[0] += dt.timedelta(seconds=seconds)  # the wait passes...
            taken_over.append(retry_failed(settings, ledger, sleep=lambda s: None))  # ...while crm retry runs

        try:
            result = push(folder, "hubspot", settings, approve_as="a", sleep=wait, ledger=ledger)
        finally:
            ledger.close()
        assert result.status == "delivered", result.error
        assert taken_over == [[], [], [], []]
        assert crm.count("meetings") == 1


def test_a_taken_over_push_does_not_overwrite_the_new_owner(tmp_path: Path, tokens: None, monkeypatch: pytest.MonkeyPatch) -> None:
    clock = [dt.datetime(2026, 11, 24, 12, 0, tzinfo=dt.UTC)]
    monkeypatch.setattr(ledger_module, "utc_now", lambda: clock[0])
    with FakeCRM() as crm:
        settings = crm_settings(crm.url, tmp_path, max_retries=1)
        folder = make_meeting(tmp_path, en_notes(), HS_IDS)
        crm.script([Reply(503, {"message": "down"})])
        ledger = Ledger(settings.ledger_url or "")
        retried: list = []

        def stuck(seconds: float) -> None:
            clock[0] += dt.timedelta(hours=3)  # the first push hangs far past any legal wait
            retried.extend(retry_failed(settings, ledger, sleep=lambda s: None))  # taken over: delivered
            crm.script([Reply(503, {"message": "down"})])  # the first push's next attempt would fail

        try:
            first = push(folder, "hubspot", settings, approve_as="a", sleep=stuck, ledger=ledger)
            rows = ledger.all()
        finally:
            ledger.close()
        assert [r.status for r in retried] == ["delivered"]
        assert first.status != "delivered"
        assert [r.status for r in rows] == ["delivered"]  # the late loser did not write 'failed' over it


def test_the_webhook_urls_path_is_masked(tmp_path: Path, tokens: None, caplog: pytest.LogCaptureFixture) -> None:
    secret_path = "T0SECRET/B0SECRET/xoxSECRETpath"
    with FakeCRM() as crm:
        settings = crm_settings(crm.url, tmp_path, webhook={"url": f"{crm.url}/hook/{secret_path}?token=QSECRET"})
        folder = make_meeting(tmp_path, ja_notes(), {})
        crm.script([Reply(500, {"message": f"no route /hook/{secret_path}"})] * 3)
        with caplog.at_level(logging.DEBUG):
            result = push(folder, "webhook", settings, approve_as="a", sleep=lambda s: None)
            plan_json = preview(folder, "webhook", settings).model_dump_json()
    assert result.status == "failed"
    texts = [result.error or "", caplog.text, (folder / "crm.json").read_text(), plan_json]
    texts += [r.last_error or "" for r in _rows(settings)]
    for text in texts:
        assert "SECRET" not in text, text


def test_no_local_report_path_without_report_base_url(tmp_path: Path) -> None:
    folder = make_meeting(tmp_path, en_notes(), SF_IDS)
    local = str(folder.resolve())
    for target, ids in (("salesforce", SF_IDS), ("hubspot", HS_IDS), ("webhook", {})):
        (folder / "crm.json").write_text(json.dumps({"crm_ids": ids}))
        plan = preview(folder, target, crm_settings("http://127.0.0.1:9", tmp_path))
        sent = json.dumps([r.body() for r in plan.records], ensure_ascii=False)
        assert local not in sent and "report.html" not in sent, target
    served = crm_settings("http://127.0.0.1:9", tmp_path, report_base_url="https://meetings.example/out")
    (folder / "crm.json").write_text(json.dumps({"crm_ids": SF_IDS}))
    body = preview(folder, "salesforce", served).records[0].body()
    assert "https://meetings.example/out/acme-call-1a2b3c4d/report.html" in body["Description"]


def test_the_deliver_stage_never_fails_the_meeting(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from types import SimpleNamespace

    from meeting_notes.runner import StageReport
    from meeting_notes.settings import Settings
    from meeting_notes.stages import delivery

    folder = make_meeting(tmp_path, en_notes(), HS_IDS)

    def broken(*args: object) -> dict:
        raise RuntimeError("a bug anywhere below the stage")

    monkeypatch.setattr(delivery, "deliver", broken)
    ctx = SimpleNamespace(
        workspace=SimpleNamespace(root=folder, notes_json=folder / "notes.json"),
        options=SimpleNamespace(facts=SimpleNamespace(crm_ids={})),
        settings=Settings(), audio=SimpleNamespace(duration=10.0),
    )
    report = StageReport()
    record = delivery.deliver_stage(ctx, report)  # type: ignore[arg-type]
    assert record.status != "failed"
    assert report.extra["crm"]["delivery"]["status"] == "failed"
