"""The ``deliver`` task and the ``crm-retry`` flow under a temporary Prefect server, with a canary
token: Prefect's own database (parameters, results, logs, artifacts) must not contain it."""

from __future__ import annotations

from pathlib import Path

import pytest

pytest.importorskip("prefect")

from crm_helpers import HS_IDS, en_notes, ja_notes, make_meeting  # noqa: E402
from fake_crm_server import FakeCRM, Reply  # noqa: E402

CANARY = "CANARY-prefect-4b1d9e77-SECRET"


@pytest.mark.slow
def test_deliver_and_crm_retry_in_prefect_keep_no_token(prefect_server, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from prefect import flow
    from prefect.client.orchestration import get_client
    from prefect.logging.handlers import APILogHandler
    from prefect.settings import PREFECT_API_DATABASE_CONNECTION_URL

    from flows.crm import crm_retry, deliver
    from meeting_notes.settings import get_settings

    out = tmp_path / "out"
    with FakeCRM(token=CANARY, webhook_secret=CANARY) as crm:
        for key, value in {
            "TEST_HS_TOKEN": CANARY, "TEST_HOOK_SECRET": CANARY,
            "MEETING_NOTES_CRM__AUTO_PUSH": "true", "MEETING_NOTES_CRM__AUTO_PUSH_TARGETS": '["hubspot", "webhook"]',
            "MEETING_NOTES_CRM__HUBSPOT__BASE_URL": crm.url, "MEETING_NOTES_CRM__HUBSPOT__ACCESS_TOKEN_ENV": "TEST_HS_TOKEN",
            "MEETING_NOTES_CRM__WEBHOOK__URL": f"{crm.url}/hook", "MEETING_NOTES_CRM__WEBHOOK__SECRET_ENV": "TEST_HOOK_SECRET",
            "MEETING_NOTES_CRM__MAX_RETRIES": "0", "MEETING_NOTES_ORCHESTRATION__OUT_DIR": str(out),
        }.items():
            monkeypatch.setenv(key, value)
        get_settings.cache_clear()

        @flow(name="deliver-wrapper")
        def process(meeting_dir: str, crm_ids: dict[str, str]) -> dict:
            return deliver(meeting_dir, crm_ids)

        try:
            ok = make_meeting(out, en_notes(), {})
            first = process(str(ok), {"company_id": HS_IDS["company_id"], "deal_id": HS_IDS["deal_id"]})
            assert first["hubspot"]["status"] == "delivered" and first["webhook"]["status"] == "delivered"
            bad = make_meeting(out, ja_notes(), {})
            crm.script([Reply(503, {"status": "error", "message": "down"})] * 2)
            second = process(str(bad), {"company_id": HS_IDS["company_id"]})
            assert second["hubspot"]["status"] == "failed" and second["webhook"]["status"] == "failed"
            retried = crm_retry()
            assert sorted(r["status"] for r in retried) == ["delivered", "delivered"]
            assert crm.count("meetings") == 2 and len(crm.hooks) == 2
            APILogHandler().flush()
            with get_client(sync_client=True) as client:
                artifacts = client.read_artifacts()
            assert any(a.key and a.key.startswith("crm-") for a in artifacts)
            db = PREFECT_API_DATABASE_CONNECTION_URL.value().split("///", 1)[1]
            blobs = [p.read_bytes() for p in Path(db).parent.glob(Path(db).name + "*")]
            assert blobs and sum(len(b) for b in blobs) > 0
            assert any(b"deliver-wrapper" in b for b in blobs)  # the runs are in there...
            assert not any(CANARY.encode() in b for b in blobs)  # ...the token is not
        finally:
            get_settings.cache_clear()
    for path in tmp_path.rglob("*"):
        if path.is_file():
            assert CANARY.encode() not in path.read_bytes(), path
