"""The notes stage end to end against a fake OpenAI-compatible server: files, run.json
record, stage cache, failures, hints, redaction and map-reduce over chunks."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from fake_openai_server import FakeOpenAIServer, Reply, chat_reply, error_reply

from meeting_notes.notes.endpoint import endpoint_kind, should_redact
from meeting_notes.notes.llm_client import Endpoint, LLMError
from meeting_notes.notes.schema import SalesNotes
from meeting_notes.stages.notes import notes_stage
from meeting_notes.context import MeetingContext, ProcessOptions
from meeting_notes.runner import StageReport
from meeting_notes.schema import AudioInfo, MeetingFacts, Segment, Speaker, Transcript, read_json, write_json
from meeting_notes.settings import LLMSettings, ModelPrice, Settings
from meeting_notes.workspace import MeetingWorkspace

LINE = re.compile(r"^\[(\d+)\] [^:]+: (.*)$", re.MULTILINE)

TEXTS = [
    "Hi, I'm Dana Reyes from Acme Logistics, thanks for having us.",
    "Our main problem is that dispatch still runs on spreadsheets.",
    "You can reach me at dana.reyes@acme-logistics.com or 415-555-0134.",
    "We have a budget of about 50,000 dollars this year.",
    "We also looked at Samsara last month.",
    "I will send you the pilot proposal by Friday.",
]


def transcript(texts: list[str] = TEXTS, language: str = "en") -> Transcript:
    segments = [
        Segment(id=i, start=i * 5.0, end=i * 5.0 + 4.0, speaker=f"SPEAKER_0{i % 2}", text=t, words=[])
        for i, t in enumerate(texts)
    ]
    return Transcript(
        meeting_id="m1",
        audio=AudioInfo(path="m1.wav", sha256="ab" * 32, duration=len(texts) * 5.0),
        language=language,
        speakers=[Speaker(id="SPEAKER_00"), Speaker(id="SPEAKER_01")],
        segments=segments,
    )


def extraction_from_request(request: dict[str, Any]) -> dict[str, Any]:
    """A plausible answer built from the lines the request actually carries, plus one
    hallucinated competitor whose quote is not in the transcript."""
    user = request["messages"][-1]["content"]
    lines = [(int(i), text) for i, text in LINE.findall(user)]
    first_id, first = lines[0]
    last_id, last = lines[-1]
    return {
        "title": "Pilot discussion",
        "summary": "The customer discussed a pilot. A proposal follows.",
        "needs": [{"text": first[:40], "evidence": [{"segment_ids": [first_id], "quote": " ".join(first.split()[:5])}]}],
        "competitors": [{"name": "Zeta", "context": "", "evidence": [{"segment_ids": [last_id], "quote": "we use Zeta today"}]}],
        "next_steps": [{"action": last[:40], "owner": "", "due": "", "evidence": [{"segment_ids": [last_id], "quote": " ".join(last.split()[-4:])}]}],
    }


def summary_reply(request: dict[str, Any]) -> dict[str, Any]:
    return {"title": "Long meeting", "summary": "Dispatch runs on spreadsheets. Acme Logistics wants a pilot.", "deal_stage": {"stage": "unknown", "reason": "", "evidence": []}}


def responder(request: dict[str, Any]) -> Reply:
    system = request["messages"][0]["content"]
    body = summary_reply(request) if "overall summary" in system else extraction_from_request(request)
    return chat_reply(json.dumps(body), prompt_tokens=1000, completion_tokens=200)


@pytest.fixture()
def server() -> Iterator[FakeOpenAIServer]:
    with FakeOpenAIServer() as srv:
        srv.responder = responder
        yield srv


def make_ctx(tmp_path: Path, server: FakeOpenAIServer, sidecar: dict[str, Any] | None = None, **llm: Any) -> MeetingContext:
    """A notes-stage context; ``sidecar``: the sidecar's facts as the file writes them."""
    llm_values: dict[str, Any] = {
        "base_url": server.base_url,
        "model": "fake-model",
        "structured_output": "json_object",
        "notes_method": "single",
        "max_retries": 0,
        "prices": {"fake-model": ModelPrice(prompt_per_million=1.0, completion_per_million=2.0)},
    }
    settings = Settings(cache_dir=tmp_path / "cache", llm=LLMSettings.model_validate(llm_values | llm))
    ws = MeetingWorkspace(tmp_path / "m1")
    ws.create()
    t = transcript()
    write_json(t, ws.transcript_json)
    ws.mark_done("align", "align-key-1")
    return MeetingContext(tmp_path / "m1.wav", t.audio, ws, ProcessOptions(facts=MeetingFacts.model_validate(sidecar or {})), settings)


def new_run() -> StageReport:
    """What the stage adds to run.json (the runner merges it into the run)."""
    return StageReport()


def test_stage_writes_verified_notes_and_records_the_run(tmp_path: Path, server: FakeOpenAIServer) -> None:
    ctx = make_ctx(tmp_path, server)
    run = new_run()
    record = notes_stage(ctx, run)
    assert record.status == "done"
    notes = read_json(SalesNotes, ctx.workspace.notes_json)
    assert [n.evidence[0].segment_ids for n in notes.needs] == [[0]]
    assert notes.competitors == []  # the hallucinated one was dropped
    assert notes.verification.items_dropped == 1 and notes.verification.dropped[0].field == "competitors"
    md = ctx.workspace.notes_md.read_text(encoding="utf-8")
    assert "## Budget" in md and "_Not discussed_" in md and "#0" in md
    info = run.extra["notes"]
    assert isinstance(info, dict)
    assert info["status"] == "done" and info["endpoint_kind"] == "local-compatible"
    assert info["prompt_version"].startswith("notes-v1+")
    assert info["prompt_tokens"] == 1000 and info["completion_tokens"] == 200
    assert info["estimated_cost_usd"] == 0.0  # on this machine: no cost even with a price
    assert info["dropped_evidence_items"] == 1
    assert run.models["llm"]["name"] == "fake-model"


def test_second_run_is_cached_and_sends_nothing(tmp_path: Path, server: FakeOpenAIServer) -> None:
    ctx = make_ctx(tmp_path, server)
    notes_stage(ctx, new_run())
    sent = len(server.requests)
    run = new_run()
    assert notes_stage(ctx, run).status == "cached"
    assert len(server.requests) == sent
    assert run.extra["notes"]["status"] == "cached"  # type: ignore[index]
    # a new transcript (align key) re-runs the stage, answered from the response cache
    ctx.workspace.mark_done("align", "align-key-2")
    ctx.workspace.notes_json.unlink()
    run = new_run()
    assert notes_stage(ctx, run).status == "done"
    assert len(server.requests) == sent
    assert run.extra["notes"]["cached_calls"] == 1  # type: ignore[index]


def test_permanent_error_is_recorded_and_writes_nothing(tmp_path: Path, server: FakeOpenAIServer) -> None:
    server.script([error_reply(401, "Incorrect API key provided")])
    ctx = make_ctx(tmp_path, server)
    run = new_run()
    with pytest.raises(LLMError):
        notes_stage(ctx, run)
    assert run.extra["notes"]["error_code"] == "auth_error"  # type: ignore[index]
    assert not ctx.workspace.notes_json.exists() and not ctx.workspace.notes_md.exists()


@pytest.mark.parametrize("method", ["single", "passes"])
def test_truncated_json_gives_empty_fields_and_a_status(tmp_path: Path, server: FakeOpenAIServer, method: str) -> None:
    truncated = chat_reply('{"title": "Pilot", "needs": [{"text": "dispatch on spread', finish_reason="length")
    server.responder = lambda request: truncated  # every call, the repair round-trips too
    ctx = make_ctx(tmp_path, server, notes_method=method)
    run = new_run()
    assert notes_stage(ctx, run).status == "done"
    notes = read_json(SalesNotes, ctx.workspace.notes_json)
    assert notes.status == "llm_failed" and "invalid_output" in notes.status_detail
    assert notes.title == "" and notes.account.name == "" and notes.verification.items_checked == 0
    assert all(getattr(notes, f) == [] for f in ("participants", "needs", "budget", "next_steps", "competitors"))
    assert run.extra["notes"]["notes_status"] == "llm_failed"  # type: ignore[index]
    assert "_Not discussed_" in ctx.workspace.notes_md.read_text(encoding="utf-8")


def test_sidecar_facts_fill_meeting_facts(tmp_path: Path, server: FakeOpenAIServer) -> None:
    sidecar = {
        "title": "Acme pilot call",
        "date": "2026-03-02",
        "account": "Acme Logistics",
        "participants": [{"name": "Sam Lee", "company": "RouteCo", "role": "AE"}, "Kenji Sato (Acme Logistics)"],
    }
    ctx = make_ctx(tmp_path, server, sidecar)
    notes_stage(ctx, new_run())
    notes = read_json(SalesNotes, ctx.workspace.notes_json)
    assert (notes.title, notes.date, notes.account.name) == ("Acme pilot call", "2026-03-02", "Acme Logistics")
    # both participants, the "Name (Company)" one read as name and company; the side is the speaker map's
    assert [(p.name, p.company, p.role, p.side) for p in notes.participants] == [
        ("Sam Lee", "RouteCo", "AE", "unknown"), ("Kenji Sato", "Acme Logistics", "", "unknown")]
    assert notes.date_anchor == "2026-03-02" and notes.date_source == "hints"
    assert set(notes.from_hints) == {"title", "date", "account", "participants"}
    prompt = server.requests[0]["messages"][-1]["content"]
    assert "Acme Logistics" in prompt  # the model sees them too
    assert "- Sam Lee, AE, RouteCo" in prompt and "- Kenji Sato, Acme Logistics" in prompt
    assert "from the meeting invite" in ctx.workspace.notes_md.read_text(encoding="utf-8")


def test_the_notes_run_again_when_the_sidecar_facts_change(tmp_path: Path, server: FakeOpenAIServer) -> None:
    ctx = make_ctx(tmp_path, server, {"title": "Pilot", "date": "2026-03-02"})
    assert notes_stage(ctx, new_run()).status == "done"
    assert notes_stage(ctx, new_run()).status == "cached"
    for changed in ({"title": "Pilot call"}, {"date": "2026-03-03"}, {"participants": ["Ann Lee"]}):
        ctx.options = replace(ctx.options, facts=ctx.options.facts.updated(MeetingFacts.model_validate(changed)))
        assert notes_stage(ctx, new_run()).status == "done", changed
        assert notes_stage(ctx, new_run()).status == "cached", changed


def test_redaction_before_sending(tmp_path: Path, server: FakeOpenAIServer) -> None:
    ctx = make_ctx(tmp_path, server, redact="on")
    run = new_run()
    notes_stage(ctx, run)
    sent = server.requests[0]["messages"][-1]["content"]
    assert "dana.reyes@" not in sent and "555-0134" not in sent and "[EMAIL]" in sent
    assert run.extra["notes"]["redactions"] == {"email": 1, "phone": 1, "card": 0}  # type: ignore[index]


@pytest.mark.parametrize("method", ["single", "passes"])
def test_sidecar_contact_details_are_redacted_too(tmp_path: Path, server: FakeOpenAIServer, method: str) -> None:
    sidecar = {"title": "Call back on 03ー1234ー5678", "participants": [{"name": "Ann Lee", "email": "ann.lee@acme.example", "role": "AE, mobile 090-1234-5678"}]}
    ctx = make_ctx(tmp_path, server, sidecar, redact="on", notes_method=method)
    notes_stage(ctx, new_run())
    sent = " ".join(m["content"] for r in server.requests for m in r["messages"] if isinstance(m.get("content"), str))
    assert server.requests and "Call back on" in sent  # the title reaches the prompt, its number does not
    for secret in ("ann.lee@", "1234ー5678", "090-1234-5678"):
        assert secret not in sent, secret


def test_redaction_default_is_on_for_remote_endpoints() -> None:
    llm = LLMSettings()
    remote = Endpoint("https://api.openai.com/v1", "gpt-4o-mini", endpoint_kind("https://api.openai.com/v1"), "x")
    vllm = Endpoint("http://gpu-box:8000/v1", "m", endpoint_kind("http://gpu-box:8000/v1"), "x")
    ollama = Endpoint("http://localhost:11434/v1", "m", endpoint_kind("http://localhost:11434/v1"), "x")
    assert (remote.kind, vllm.kind, ollama.kind) == ("openai", "remote-compatible", "local-compatible")
    assert endpoint_kind("https://x.openai.azure.com", "2024-10-21") == "azure"
    assert endpoint_kind(None) == "local-embedded"
    assert should_redact(llm, remote) and should_redact(llm, vllm) and not should_redact(llm, ollama)
    assert not should_redact(LLMSettings(redact="off"), remote)


def test_long_meeting_is_map_reduced_and_evidence_survives(tmp_path: Path, server: FakeOpenAIServer) -> None:
    ctx = make_ctx(tmp_path, server, chunk_tokens=40)
    run = new_run()
    notes_stage(ctx, run)
    info = run.extra["notes"]
    assert isinstance(info, dict) and info["chunks"] >= 2
    chunk_calls = [r for r in server.requests if "overall summary" not in r["messages"][0]["content"]]
    reduce_calls = [r for r in server.requests if "overall summary" in r["messages"][0]["content"]]
    assert len(chunk_calls) == info["chunks"] and len(reduce_calls) == 1
    notes = read_json(SalesNotes, ctx.workspace.notes_json)
    cited = {i for n in notes.needs + notes.next_steps for e in n.evidence for i in e.segment_ids}
    assert 0 in cited and len(TEXTS) - 1 in cited  # ids from the first and the last chunk
    assert notes.summary == "Dispatch runs on spreadsheets. Acme Logistics wants a pilot."
    assert notes.verification.items_dropped >= 1  # the hallucinated competitor of every chunk


def test_context_error_falls_back_to_chunks(tmp_path: Path, server: FakeOpenAIServer) -> None:
    server.script([error_reply(400, "Requested tokens (20000) exceed context window of 16384")])
    ctx = make_ctx(tmp_path, server, context_tokens=8000)
    run = new_run()
    notes_stage(ctx, run)
    assert len(server.requests) == 2  # refused, then again with half the budget per chunk
    assert run.extra["notes"]["retry_error_codes"] == ["context_length_exceeded"]  # type: ignore[index]


def test_remote_cost_uses_the_price_table(tmp_path: Path) -> None:
    from meeting_notes.notes.endpoint import estimate_cost
    from meeting_notes.notes.llm_client import Usage

    llm = LLMSettings(prices={"gpt-x": ModelPrice(prompt_per_million=2.0, completion_per_million=8.0)})
    remote = Endpoint("https://api.openai.com/v1", "gpt-x", "openai", "x")
    usage = Usage(prompt_tokens=10_000, completion_tokens=1_000)
    assert estimate_cost(llm, remote, usage) == pytest.approx(0.028)
    assert estimate_cost(llm, Endpoint("https://api.openai.com/v1", "unknown", "openai", "x"), usage) is None


def test_japanese_meeting_uses_japanese_prompt_and_template(tmp_path: Path, server: FakeOpenAIServer) -> None:
    ctx = make_ctx(tmp_path, server)
    t = transcript(["ナビテックの佐藤です。本日はよろしくお願いします。", "来週の水曜日までにお見積書をお送りします。"], "ja")
    write_json(t, ctx.workspace.transcript_json)
    notes_stage(ctx, new_run())
    assert "抽出" in server.requests[0]["messages"][0]["content"]
    md = ctx.workspace.notes_md.read_text(encoding="utf-8")
    assert "## 予算" in md and "言及なし" in md


def test_meeting_without_speech_gets_empty_notes_without_a_call(tmp_path: Path, server: FakeOpenAIServer) -> None:
    ctx = make_ctx(tmp_path, server)
    write_json(transcript(["", "  "]), ctx.workspace.transcript_json)
    run = new_run()
    assert notes_stage(ctx, run).status == "done"
    assert server.requests == []
    notes = read_json(SalesNotes, ctx.workspace.notes_json)
    assert notes.summary == "" and notes.next_steps == [] and notes.verification.items_checked == 0
    assert "_Not discussed_" in ctx.workspace.notes_md.read_text(encoding="utf-8")


def test_api_keys_and_url_credentials_never_reach_outputs(tmp_path: Path, server: FakeOpenAIServer) -> None:
    key, password = "sk-CANARY-key-7f3a91", "CANARYPASS-55e2"
    base = server.base_url.replace("http://", f"http://proxyuser:{password}@")
    ctx = make_ctx(tmp_path, server, base_url=base, api_key=key)
    run = new_run()
    notes_stage(ctx, run)
    assert server.requests  # the call went through with those credentials
    from meeting_notes.notes.endpoint import describe_endpoint

    seen = [
        run.model_dump_json(),
        repr(ctx.settings),
        ctx.settings.model_dump_json(),
        repr(describe_endpoint(ctx.settings)),
        *(p.read_text(encoding="utf-8", errors="replace") for p in ctx.workspace.root.rglob("*") if p.is_file()),
    ]
    for text in seen:
        assert key not in text and password not in text
