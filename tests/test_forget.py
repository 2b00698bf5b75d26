"""``meeting-notes forget``, the LLM cache's meeting index, consent records and erasing a voice.

The end-to-end test plants a canary phrase in a meeting (its transcript and its sidecar's title),
takes the recording through the inbox and the ``process-meeting`` flow under a temporary Prefect
server (fake ASR/diarization; the real notes stage against the fake OpenAI server, the real
delivery to the fake CRM), forgets the meeting, and then finds the canary nowhere: no file under
the test's folder (meeting folders, inbox, LLM cache, CRM ledger, speaker store, llama-server
log, Prefect results), not in Prefect's database, not in the fake CRM.
"""

from __future__ import annotations

import json
import re
import sqlite3
import time
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from fake_crm_server import FakeCRM, Reply
from fake_openai_server import FakeOpenAIServer, chat_reply

from meeting_notes.cli import main
from meeting_notes.forget import deletion_event, expired_meetings, meetings_of_account
from meeting_notes.notes.cache import ResponseCache
from meeting_notes.settings import get_settings
from meeting_notes.speakers import Consent, SpeakerStore

CANARY = "zqcanary7731"
LINE = re.compile(r"^\[(\d+)\] [^:]+: (.*)$", re.MULTILINE)


# ------------------------------------------------------------------ the cache index


def test_the_cache_index_finds_and_removes_a_meetings_entries(tmp_path: Path) -> None:
    cache = ResponseCache(tmp_path / "c")
    a, b = cache.for_meeting("meeting-a"), cache.for_meeting("meeting-b")
    a.put("1" * 64, {"raw": "a's answer"})
    a.put("2" * 64, {"raw": "shared answer"})
    assert b.get("2" * 64) == {"raw": "shared answer"}  # b read a's entry: b's index lists it too
    b.put("3" * 64, {"raw": "b's answer"})
    cache.put("4" * 64, {"raw": "written without a meeting"})
    assert [p.stem for p in cache.unindexed()] == ["4" * 64]
    removed = cache.forget_meeting("meeting-a")
    assert sorted(p.name for p in removed if p.suffix == ".json") == ["1" * 64 + ".json", "2" * 64 + ".json"]
    assert cache.get("1" * 64) is None and cache.get("2" * 64) is None
    assert cache.get("3" * 64) == {"raw": "b's answer"}
    assert cache.forget_meeting("meeting-a") == []  # idempotent
    assert "meeting-a" not in "".join(p.name for p in (tmp_path / "c").rglob("*"))  # index files are named by a hash


# ------------------------------------------------------------------ consent and erasing a voice


def _vec(*xs: float) -> np.ndarray:
    v = np.asarray(xs, dtype=np.float32)
    return v / np.linalg.norm(v)


def test_consent_is_recorded_and_remove_leaves_no_copy_in_the_file(tmp_path: Path) -> None:
    path = tmp_path / "speakers.sqlite"
    store = SpeakerStore(path)
    consent = Consent(given_by="Dana", given_at="2026-01-05", method="written form", recorded_by="ops", recorded_at="2026-01-05T10:00:00Z")
    store.add(f"Dana {CANARY}", _vec(0.123, 0.456, 0.789), "cam++@abc", 9.0, 1, consent=consent, source="clips")
    store.add("Kenji", _vec(1, 0, 0), "cam++@abc", 9.0, 1)
    first, second = store.profiles()
    assert first.consent == consent and first.source == "clips"
    assert second.consent is None
    embedding = np.asarray(first.embedding, dtype=np.float32).tobytes()
    assert CANARY.encode() in path.read_bytes() and embedding in path.read_bytes()
    store.remove(f"Dana {CANARY}")
    blob = b"".join(p.read_bytes() for p in tmp_path.iterdir())
    assert CANARY.encode() not in blob and embedding not in blob  # not even in a free page
    assert [p.name for p in store.profiles()] == ["Kenji"]


def test_a_store_from_before_consent_records_is_read_and_extended(tmp_path: Path) -> None:
    path = tmp_path / "old.sqlite"
    con = sqlite3.connect(path)
    con.executescript("""CREATE TABLE profiles (id INTEGER PRIMARY KEY AUTOINCREMENT, name TEXT NOT NULL UNIQUE, role TEXT,
        company TEXT, model TEXT NOT NULL, speech_seconds REAL NOT NULL, clips INTEGER NOT NULL, created_at TEXT NOT NULL,
        embedding BLOB NOT NULL);""")
    con.execute("INSERT INTO profiles (name, model, speech_seconds, clips, created_at, embedding) VALUES (?, ?, ?, ?, ?, ?)",
                ("Old", "m", 6.0, 1, "2025-01-01", _vec(1, 0).tobytes()))
    con.commit()
    con.close()
    store = SpeakerStore(path)
    assert [(p.name, p.consent) for p in store.profiles()] == [("Old", None)]
    store.add("New", _vec(0, 1), "m", 6.0, 1, source="meeting:m-1")
    assert [p.name for p in store.remove_source("meeting:m-1")] == ["New"]
    assert [p.name for p in store.profiles()] == ["Old"]


def test_enroll_refuses_without_consent_and_list_shows_it(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys) -> None:  # noqa: ANN001
    store = tmp_path / "speakers.sqlite"
    monkeypatch.setenv("MEETING_NOTES_SPEAKERS__STORE_PATH", str(store))
    get_settings.cache_clear()
    try:
        clip = tmp_path / "clip.wav"
        clip.write_bytes(b"not decoded: refused before")
        assert main(["enroll", "Dana", str(clip)]) == 2
        assert "consent" in capsys.readouterr().err
        consent = Consent(given_by="Dana", given_at="2026-01-05", method="verbal, on the recording", recorded_by="ops",
                          recorded_at="2026-01-05T10:00:00Z")
        SpeakerStore(store).add("Dana", _vec(1, 0), "m", 8.0, 1, consent=consent)
        SpeakerStore(store).add("Lee", _vec(0, 1), "m", 8.0, 1)
        assert main(["speakers", "list"]) == 0
        out = capsys.readouterr().out
        assert "verbal, on the recording (by Dana, 2026-01-05)" in out and "NOT RECORDED" in out
        assert main(["forget", "--speaker", "Dana"]) == 0
        assert "voiceprint and consent record of 'Dana'" in capsys.readouterr().out
        assert main(["forget", "--speaker", "Dana"]) == 0
        assert "nothing left to remove" in capsys.readouterr().out
        assert [p.name for p in SpeakerStore(store).profiles()] == ["Lee"]
    finally:
        get_settings.cache_clear()


# ------------------------------------------------------------------ selecting meetings


def test_account_and_retention_select_the_right_meetings(tmp_path: Path) -> None:
    def meeting(name: str, ids: dict[str, str], account: str, started: str) -> Path:
        folder = tmp_path / name
        folder.mkdir()
        (folder / "crm.json").write_text(json.dumps({"crm_ids": ids}))
        (folder / "notes.json").write_text(json.dumps({"account": {"name": account}}))
        (folder / "run.json").write_text(json.dumps({"meeting_id": name, "started_at": started}))
        return folder

    a = meeting("a-1", {"company_id": "101"}, "Acme Corp", "2026-01-01T10:00:00+00:00")
    b = meeting("b-2", {"account_id": "001000000000001AAA"}, "Globex", "2026-03-01T10:00:00+00:00")
    assert meetings_of_account(tmp_path, "101") == [a]
    assert meetings_of_account(tmp_path, "acme corp") == [a]
    assert meetings_of_account(tmp_path, "001000000000001AAA") == [b]
    assert meetings_of_account(tmp_path, "Initech") == []
    import datetime as dt

    now = dt.datetime(2026, 3, 10, tzinfo=dt.UTC)
    assert expired_meetings(tmp_path, 30, now) == [a]
    assert expired_meetings(tmp_path, 0, now) == []


def test_forget_refuses_a_meeting_a_run_is_working_on(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys) -> None:  # noqa: ANN001
    from meeting_notes.workspace import MeetingWorkspace

    folder = tmp_path / "out" / "m-12345678"
    folder.mkdir(parents=True)
    (folder / "notes.json").write_text("{}")
    monkeypatch.setenv("MEETING_NOTES_CACHE_DIR", str(tmp_path / "cache"))
    get_settings.cache_clear()
    lease = MeetingWorkspace(folder).lease(300)
    assert lease.try_acquire()
    try:
        assert main(["forget", str(folder), "--skip-prefect", "--inbox", str(tmp_path / "inbox")]) == 1
        assert "a run is working on this meeting" in capsys.readouterr().err
        assert folder.exists()
    finally:
        lease.release()
        get_settings.cache_clear()


# ------------------------------------------------------------------ a fake CRM that deletes


class DeletingCRM(FakeCRM):
    """The fake CRM with HubSpot's batch archive and a webhook receiver that honours
    ``meeting_notes.deleted`` events (what a receiver is asked to do)."""

    def handle(self, path: str, raw: bytes, headers: dict[str, str]) -> Reply:
        m = re.fullmatch(r"/crm/v3/objects/(meetings|tasks)/batch/archive", path)
        if m:
            if headers.get("Authorization") != f"Bearer {self.token}":
                return Reply(401, {"message": "no"})
            ids = {i["id"] for i in json.loads(raw)["inputs"]}
            with self.lock:
                for key in [k for k, rec in self.hs.items() if k[0] == m.group(1) and rec["id"] in ids]:
                    del self.hs[key]
                self.hs_assoc = {a for a in self.hs_assoc if a[1] not in ids}
            return Reply(204, None)
        if path == "/hook" and b"meeting_notes.deleted" in raw:
            reply = super().handle(path, raw, headers)  # the signature is checked as for a delivery
            if reply.status == 200:
                event = json.loads(raw)
                with self.lock:
                    self.hooks.pop(event["delivery_id"], None)
                    for delivery in event["delivery_ids"]:
                        self.hooks.pop(delivery, None)
            return reply
        return super().handle(path, raw, headers)


def test_the_webhook_deletion_event_is_stable() -> None:
    one, two = deletion_event("m-1", ["b", "a"]), deletion_event("m-1", ["a", "b"])
    assert one == two and json.loads(one)["event"] == "meeting_notes.deleted"


# ------------------------------------------------------------------ end to end


def _responder(request: dict[str, Any]) -> Any:
    """Notes quoting the transcript (as test_notes_stage's fake model does)."""
    user = request["messages"][-1]["content"]
    lines = [(int(i), text) for i, text in LINE.findall(user)]
    if not lines:
        return chat_reply(json.dumps({"title": "Renewal call", "summary": "Renewal."}))
    (first_id, first), (last_id, last) = lines[0], lines[-1]
    body = {
        "title": "Renewal call", "summary": f"They discussed {first[:60]}",
        "needs": [{"text": first[:60], "evidence": [{"segment_ids": [first_id], "quote": " ".join(first.split()[:6])}]}],
        "next_steps": [{"action": last[:60], "owner": "", "due": "",
                        "evidence": [{"segment_ids": [last_id], "quote": " ".join(last.split()[-5:])}]}],
    }
    return chat_reply(json.dumps(body))


TEXTS = [
    f"Our team calls the project {CANARY} internally and it replaces the old dispatch spreadsheets.",
    "We need the rollout finished before the summer season starts for our field technicians.",
    f"I will send you the pilot proposal for {CANARY} by Friday afternoon at the latest.",
]


def _fake_stages(monkeypatch: pytest.MonkeyPatch) -> None:
    """Fake ASR and diarization (a transcript with the canary), the real notes and delivery."""
    from meeting_notes import stages
    from meeting_notes.context import MeetingContext
    from meeting_notes.hashing import file_sha256
    from meeting_notes.schema import AudioInfo, Segment, Speaker, StageRecord, Transcript, write_json
    from meeting_notes.workspace import MeetingWorkspace, meeting_id_for, stage_cache_key

    def prepare(audio_path, out_dir, options, settings):  # noqa: ANN001, ANN202
        sha = file_sha256(audio_path)
        info = AudioInfo(path=str(audio_path), sha256=sha, duration=60.0)
        ws = MeetingWorkspace(Path(out_dir) / meeting_id_for(Path(audio_path), sha, options.facts.meeting_id))
        ws.create()
        return MeetingContext(Path(audio_path), info, ws, options, settings)

    def fake(name: str, output: str):  # noqa: ANN202
        def run(ctx, *args):  # noqa: ANN001, ANN202
            ws = ctx.workspace
            path = ws.root / output
            if name == "align":
                segments = [Segment(id=i, start=i * 5.0, end=i * 5.0 + 4.0, speaker=f"SPEAKER_0{i % 2}", text=t, words=[])
                            for i, t in enumerate(TEXTS)]
                write_json(Transcript(meeting_id=ws.root.name, audio=ctx.audio, language="en",
                                      speakers=[Speaker(id="SPEAKER_00"), Speaker(id="SPEAKER_01")], segments=segments), path)
            else:
                path.write_text(f"{name}: " + " ".join(TEXTS), encoding="utf-8")
            ws.mark_done(name, stage_cache_key(name, ctx.audio.sha256, {}), [path])
            return StageRecord(status="done", wall_s=0.1)

        return run

    outputs = {"transcribe": "asr.json", "diarize": "diarization.json", "align": "transcript.json", "names": "names.json",
               "export": "transcript.md", "analytics": "analytics.json", "report": "report.html"}
    faked = tuple(replace(s, run=fake(s.name, outputs[s.name])) if s.name in outputs else s for s in stages.STAGES)
    monkeypatch.setattr(stages, "STAGES", faked)
    monkeypatch.setattr("flows.meeting.prepare_meeting", prepare)


def _canary_in_prefect_db() -> list[str]:
    from prefect.settings import PREFECT_API_DATABASE_CONNECTION_URL

    db = Path(PREFECT_API_DATABASE_CONNECTION_URL.value().split("///", 1)[1])
    return [p.name for p in db.parent.glob(db.name + "*") if CANARY.encode() in p.read_bytes()]


def _canary_rows_in_prefect_db() -> list[str]:
    """Live rows of Prefect's database that hold the canary (table and row id)."""
    from prefect.settings import PREFECT_API_DATABASE_CONNECTION_URL

    db = Path(PREFECT_API_DATABASE_CONNECTION_URL.value().split("///", 1)[1])
    con = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    try:
        found = []
        for (table,) in con.execute("SELECT name FROM sqlite_master WHERE type='table'"):
            cols = [r[1] for r in con.execute(f'PRAGMA table_info("{table}")')]
            for row in con.execute(f'SELECT * FROM "{table}"'):
                for col, v in zip(cols, row, strict=False):
                    if CANARY in str(v):
                        i = str(v).index(CANARY)
                        found.append(f"{table}.{col}: ...{str(v)[max(0, i - 200): i + 40]}")
        return found
    finally:
        con.close()


def _canary_files(root: Path) -> list[str]:
    return sorted(str(p.relative_to(root)) for p in root.rglob("*") if p.is_file() and CANARY.encode() in p.read_bytes())


@pytest.mark.slow
def test_forget_leaves_no_canary_in_any_store(prefect_server, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys) -> None:  # noqa: ANN001
    from prefect.logging.handlers import APILogHandler
    from prefect.settings import PREFECT_RESULTS_LOCAL_STORAGE_PATH, temporary_settings

    from flows.intake import flow_parameters
    from flows.meeting import process_meeting
    from meeting_notes.context import ProcessOptions
    from meeting_notes.inbox import Inbox
    from meeting_notes.sidecar import options_with_sidecar

    inbox_root, out, cache, store = tmp_path / "inbox", tmp_path / "out", tmp_path / "cache", tmp_path / "speakers.sqlite"
    with FakeOpenAIServer() as llm, DeletingCRM(token="hs-token", webhook_secret="hook-secret") as crm:
        llm.responder = _responder
        env = {
            "MEETING_NOTES_CACHE_DIR": str(cache), "MEETING_NOTES_SPEAKERS__STORE_PATH": str(store),
            "MEETING_NOTES_LLM__BASE_URL": llm.base_url, "MEETING_NOTES_LLM__MODEL": "fake-model",
            "MEETING_NOTES_LLM__STRUCTURED_OUTPUT": "json_object", "MEETING_NOTES_LLM__NOTES_METHOD": "single",
            "MEETING_NOTES_LLM__MAX_RETRIES": "0",
            "MEETING_NOTES_ORCHESTRATION__GPU_LIMIT_NAME": "test-gpu", "MEETING_NOTES_ORCHESTRATION__OUT_DIR": str(out),
            "MEETING_NOTES_ORCHESTRATION__INBOX_DIR": str(inbox_root),
            "TEST_HS_TOKEN": "hs-token", "TEST_HOOK_SECRET": "hook-secret",
            "MEETING_NOTES_CRM__AUTO_PUSH": "true", "MEETING_NOTES_CRM__AUTO_PUSH_TARGETS": '["hubspot", "webhook"]',
            "MEETING_NOTES_CRM__HUBSPOT__BASE_URL": crm.url, "MEETING_NOTES_CRM__HUBSPOT__ACCESS_TOKEN_ENV": "TEST_HS_TOKEN",
            "MEETING_NOTES_CRM__WEBHOOK__URL": f"{crm.url}/hook", "MEETING_NOTES_CRM__WEBHOOK__SECRET_ENV": "TEST_HOOK_SECRET",
            "MEETING_NOTES_CRM__MAX_RETRIES": "0",
        }
        for key, value in env.items():
            monkeypatch.setenv(key, value)
        get_settings.cache_clear()
        _fake_stages(monkeypatch)
        try:
            with temporary_settings({PREFECT_RESULTS_LOCAL_STORAGE_PATH: str(tmp_path / "prefect-results")}):
                inbox = Inbox(inbox_root)
                recording = inbox.layout.inbox / "call.wav"
                recording.write_bytes(b"a recording of the renewal call " + CANARY.encode())
                (inbox.layout.inbox / "call.wav.meeting.json").write_text(json.dumps({
                    "title": f"Renewal of {CANARY}", "crm_ids": {"company_id": "101", "deal_id": "202"},
                    "participants": ["Dana Reyes (Acme)"],
                }))
                outcome, item = inbox.claim(recording)
                assert outcome == "claimed" and item is not None
                params = flow_parameters(item.path, str(out), options_with_sidecar(item.path, ProcessOptions()),
                                         str(inbox_root), item.claim_id)
                run = process_meeting(**params)
                assert run.status == "done", run
                folder = out / run.meeting_id
                # a shared llama-server log quoting the meeting (a verbose server), and a voice learnt from it
                log = cache / "logs" / "llama-server-test.log"
                log.parent.mkdir(parents=True, exist_ok=True)
                log.write_text(f"slot launch: prompt '{TEXTS[0]}'\nserver listening on 127.0.0.1\n", encoding="utf-8")
                SpeakerStore(store).add(f"Dana {CANARY}", _vec(1, 2, 3), "m", 8.0, 1, source=f"meeting:{run.meeting_id}")
                SpeakerStore(store).add("Kenji", _vec(3, 2, 1), "m", 8.0, 1, source="clips")
                APILogHandler().flush()

                # the canary is everywhere a meeting's data goes: the test can see it
                before = _canary_files(tmp_path)
                for where in ("out/", "inbox/done/", "cache/llm-responses/", "cache/logs/", "speakers.sqlite"):
                    assert any(p.startswith(where) for p in before), (where, before)
                assert (inbox.layout.ledger / f"{item.sha256}.json").exists()
                assert _canary_in_prefect_db()
                assert CANARY in json.dumps(list(crm.hs.values())) and CANARY in json.dumps(crm.hooks)
                assert any(m["meeting_id"] == run.meeting_id for m in _ledger_rows(out))

                assert main(["forget", str(folder), "--crm"]) == 0
                printed = capsys.readouterr().out
                for store_name in ("meeting folder", "inbox copy", "inbox ledger record", "LLM response cache",
                                   "CRM delivery ledger", "llama-server log", "speaker store", "HubSpot", "webhook",
                                   "Prefect: 3 artifact", "flow run", "event(s)"):
                    assert store_name in printed, (store_name, printed)

                deadline = time.monotonic() + 30  # Prefect deletes a run's logs in the background
                while _canary_in_prefect_db() and time.monotonic() < deadline:
                    time.sleep(0.5)
                assert _canary_rows_in_prefect_db() == []
                assert _canary_in_prefect_db() == []
                assert _canary_files(tmp_path) == []
                assert CANARY not in _crm_state(crm)
                assert _ledger_rows(out) == []
                assert log.read_text(encoding="utf-8") == "server listening on 127.0.0.1\n"  # other lines stay
                assert [p.name for p in SpeakerStore(store).profiles()] == ["Kenji"]

                assert main(["forget", str(folder), "--crm"]) == 0  # idempotent
                assert "nothing left to remove" in capsys.readouterr().out
        finally:
            get_settings.cache_clear()


def _crm_state(crm: FakeCRM) -> str:
    return json.dumps([list(crm.hs.values()), list(crm.hooks.values()), sorted(crm.hs_assoc)], ensure_ascii=False)


def _ledger_rows(out: Path) -> list[dict[str, Any]]:
    path = out / ".crm-ledger.sqlite"
    if not path.exists():
        return []
    con = sqlite3.connect(path)
    con.row_factory = sqlite3.Row
    try:
        return [dict(r) for r in con.execute("SELECT * FROM crm_deliveries")]
    finally:
        con.close()
