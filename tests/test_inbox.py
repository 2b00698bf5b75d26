"""The inbox logic as plain functions: pickup, claims, moves, ledger, sidecars."""

from __future__ import annotations

import json
import os
import time
from pathlib import Path

import pytest

from meeting_notes.inbox import (
    Inbox,
    MeetingSidecar,
    SidecarError,
    StabilityTracker,
    is_candidate,
    read_sidecar,
    sidecar_path,
)
from meeting_notes.pipeline import ProcessOptions


def _drop(inbox: Inbox, name: str, data: bytes = b"RIFF-fake-audio") -> Path:
    path = inbox.layout.inbox / name
    path.write_bytes(data)
    return path


def test_half_written_file_waits_until_size_and_mtime_settle(tmp_path: Path) -> None:
    tracker = StabilityTracker(stable_seconds=5)
    f = tmp_path / "call.wav"
    f.write_bytes(b"a" * 10)
    assert tracker.poll(tmp_path, now=0) == []
    with f.open("ab") as fh:  # the writer is still going
        fh.write(b"b" * 10)
    assert tracker.poll(tmp_path, now=6) == []  # changed since the last look: clock restarts
    assert tracker.poll(tmp_path, now=10) == []
    assert tracker.poll(tmp_path, now=11) == [f]


def test_unfinished_uploads_and_notes_are_never_candidates(tmp_path: Path) -> None:
    for name in ("a.wav.part", "b.m4a.crdownload", ".hidden.wav", "c.wav.meeting.json", "d.wav.error.json"):
        (tmp_path / name).write_bytes(b"x")
    (tmp_path / "ok.wav").write_bytes(b"x")
    tracker = StabilityTracker(stable_seconds=0)
    tracker.poll(tmp_path, now=0)
    assert [p.name for p in tracker.poll(tmp_path, now=1)] == ["ok.wav"]
    assert not is_candidate(tmp_path / "missing.wav")


def test_sidecar_being_written_holds_back_its_recording(tmp_path: Path) -> None:
    tracker = StabilityTracker(stable_seconds=5)
    (tmp_path / "call.wav").write_bytes(b"x")
    tracker.poll(tmp_path, now=0)
    sidecar_path(tmp_path / "call.wav").write_text("{")
    assert tracker.poll(tmp_path, now=6) == []
    assert [p.name for p in tracker.poll(tmp_path, now=12)] == ["call.wav"]


def test_claim_moves_file_and_sidecar_then_done(tmp_path: Path) -> None:
    inbox = Inbox(tmp_path)
    src = _drop(inbox, "call.wav")
    sidecar_path(src).write_text(json.dumps({"title": "Acme renewal", "num_speakers": 2}))
    outcome, item = inbox.claim(src)
    assert outcome == "claimed" and item is not None
    assert item.path == inbox.layout.processing / "call.wav"
    assert sidecar_path(item.path).is_file() and not src.exists()
    assert read_sidecar(item.path).expected_speakers == 2  # type: ignore[union-attr]
    dest = inbox.complete(item, tmp_path / "out" / "call-1234")
    assert dest == inbox.layout.done / "call.wav"
    assert sidecar_path(dest).is_file()
    assert not list(inbox.layout.processing.iterdir())
    record = json.loads((inbox.layout.ledger / f"{item.sha256}.json").read_text())
    assert record["status"] == "done"


def test_same_content_dropped_again_is_a_duplicate(tmp_path: Path) -> None:
    inbox = Inbox(tmp_path)
    _, first = inbox.claim(_drop(inbox, "a.wav"))
    assert first is not None
    # in flight: a second copy under another name is not run
    assert inbox.claim(_drop(inbox, "a-copy.wav")) == ("duplicate", None)
    inbox.complete(first)
    # finished: the same again
    assert inbox.claim(_drop(inbox, "a.wav")) == ("duplicate", None)
    done = sorted(p.name for p in inbox.layout.done.iterdir())
    assert done == [
        "a-1.wav", "a-1.wav.duplicate.json", "a-copy.wav", "a-copy.wav.duplicate.json", "a.wav"
    ]
    # different content is not a duplicate
    assert inbox.claim(_drop(inbox, "b.wav", b"other"))[0] == "claimed"


def test_failed_file_keeps_its_error_and_a_new_drop_retries(tmp_path: Path) -> None:
    inbox = Inbox(tmp_path)
    _, item = inbox.claim(_drop(inbox, "x.wav"))
    assert item is not None
    dest = inbox.fail(item, "CorruptAudioError: cannot decode")
    assert dest == inbox.layout.failed / "x.wav"
    assert "cannot decode" in (inbox.layout.failed / "x.wav.error.json").read_text()
    outcome, again = inbox.claim(_drop(inbox, "x.wav"))
    assert outcome == "claimed" and again is not None
    assert again.idempotency_key != item.idempotency_key


def test_moves_never_overwrite_an_existing_file(tmp_path: Path) -> None:
    inbox = Inbox(tmp_path)
    (inbox.layout.done / "call.wav").write_bytes(b"older meeting")
    _, item = inbox.claim(_drop(inbox, "call.wav", b"newer meeting"))
    assert item is not None
    dest = inbox.complete(item)
    assert dest == inbox.layout.done / "call-1.wav"
    assert (inbox.layout.done / "call.wav").read_bytes() == b"older meeting"
    assert dest.read_bytes() == b"newer meeting"


def test_a_file_can_be_claimed_only_once(tmp_path: Path) -> None:
    inbox = Inbox(tmp_path)
    src = _drop(inbox, "call.wav")
    assert inbox.claim(src)[0] == "claimed"
    assert inbox.claim(src) == ("gone", None)
    assert len(list(inbox.layout.processing.glob("*.wav"))) == 1


def test_recover_returns_orphans_of_dead_runs_to_the_inbox(tmp_path: Path) -> None:
    inbox = Inbox(tmp_path, claim_timeout_s=60)
    _, live = inbox.claim(_drop(inbox, "live.wav", b"1"))
    _, dead = inbox.claim(_drop(inbox, "dead.wav", b"2"))
    assert live is not None and dead is not None
    old = time.time() - 3600
    os.utime(inbox.layout.ledger / f"{dead.sha256}.claim", (old, old))
    orphan = inbox.layout.processing / ".claiming-0123456789abcdef0123456789abcdef-lost.wav"
    orphan.write_bytes(b"3")
    moved = inbox.recover(grace_s=0)
    assert sorted(p.name for p in moved) == ["dead.wav", "lost.wav"]
    assert (inbox.layout.processing / "live.wav").is_file()
    assert not (inbox.layout.ledger / f"{dead.sha256}.claim").exists()
    # still inside the grace period: left alone
    _, fresh = inbox.claim(_drop(inbox, "fresh.wav", b"4"))
    (inbox.layout.ledger / f"{fresh.sha256}.claim").unlink()  # type: ignore[union-attr]
    assert inbox.recover(grace_s=300) == []


def test_claimed_file_finds_the_claim_of_a_processing_file(tmp_path: Path) -> None:
    inbox = Inbox(tmp_path)
    _, item = inbox.claim(_drop(inbox, "call.wav"))
    assert inbox.claimed_file(inbox.layout.processing / "call.wav") == item
    assert inbox.claimed_file(tmp_path / "elsewhere.wav") is None


def test_sidecar_maps_to_process_options(tmp_path: Path) -> None:
    audio = tmp_path / "call.m4a"
    sidecar_path(audio).write_text(
        json.dumps(
            {
                "meeting_id": "acme-2026-11-20",
                "title": "Acme renewal",
                "date": "2026-11-20T15:00:00+09:00",
                "participants": ["Kenji (Acme)", {"name": "Ann", "email": "ann@us.example", "role": "AE"}],
                "account": "Acme KK",
                "num_speakers": 3,
                "language": "ja",
                "crm_ids": {"opportunity_id": "006XX"},
            }
        )
    )
    sidecar = read_sidecar(audio)
    assert isinstance(sidecar, MeetingSidecar)
    options = sidecar.apply(ProcessOptions(notes=False, hints={"source": "inbox"}))
    assert options.language == "ja" and options.num_speakers == 3 and options.notes is False
    assert options.hints == {
        "source": "inbox",
        "meeting_id": "acme-2026-11-20",
        "title": "Acme renewal",
        "date": "2026-11-20T15:00:00+09:00",
        "account": "Acme KK",
        "participants": ["Kenji (Acme)", {"name": "Ann", "email": "ann@us.example", "role": "AE"}],
        "crm_ids": {"opportunity_id": "006XX"},
    }
    assert read_sidecar(tmp_path / "none.wav") is None


@pytest.mark.parametrize(
    "text",
    ["{not json", '{"num_speakers": 0}', '{"langauge": "en"}', '{"meeting_id": "../escape"}'],
)
def test_invalid_sidecar_is_a_clear_input_error(tmp_path: Path, text: str) -> None:
    audio = tmp_path / "call.wav"
    sidecar_path(audio).write_text(text)
    with pytest.raises(SidecarError, match="call.wav.meeting.json"):
        read_sidecar(audio)
