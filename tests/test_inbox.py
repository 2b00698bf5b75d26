"""The inbox logic as plain functions: pickup, claims, moves, ledger, sidecars."""

from __future__ import annotations

import json
import os
import time
from pathlib import Path

import pytest

from meeting_notes.inbox import ClaimLostError, Inbox, StabilityTracker, is_candidate
from meeting_notes.sidecar import MeetingSidecar, SidecarError, read_sidecar, sidecar_path
from meeting_notes.context import ProcessOptions
from meeting_notes.schema import MeetingFacts, Participant


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
    claim = inbox.layout.ledger / f"{dead.sha256}.claim"
    info = json.loads(claim.read_text())
    info["lease_expires_at"] = time.time() - 1  # the lease ran out: no heartbeat renewed it
    claim.write_text(json.dumps(info))
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
    before = MeetingFacts(title="from the caller", account="Caller KK", terms=["Acme Cloud"])
    options = sidecar.apply(ProcessOptions(notes=False, facts=before))
    assert options.language == "ja" and options.num_speakers == 3 and options.notes is False
    assert options.facts.to_dict() == {  # the sidecar's facts win; the caller's stay where it gives none
        "meeting_id": "acme-2026-11-20",
        "title": "Acme renewal",
        "date": "2026-11-20T15:00:00+09:00",
        "account": "Acme KK",
        "participants": [{"name": "Kenji", "company": "Acme"}, {"name": "Ann", "email": "ann@us.example", "role": "AE"}],
        "crm_ids": {"opportunity_id": "006XX"},
        "terms": ["Acme Cloud"],
    }
    assert type(options.facts) is MeetingFacts  # the facts only: language and speaker count are options
    assert read_sidecar(tmp_path / "none.wav") is None


def test_participants_as_strings_and_as_objects_are_the_same_typed_participants() -> None:
    as_strings = MeetingSidecar.model_validate({"participants": ["Kenji Sato (Acme KK)", "佐藤 健二（丸山）", "Ann Lee", "  "]})
    as_objects = MeetingSidecar.model_validate({"participants": [
        {"name": "Kenji Sato", "company": "Acme KK"}, {"name": " 佐藤 健二 ", "company": "丸山", "role": ""}, {"name": "Ann Lee"}, {"name": ""},
    ]})
    expected = [
        Participant(name="Kenji Sato", company="Acme KK"),
        Participant(name="佐藤 健二", company="丸山"),
        Participant(name="Ann Lee"),
    ]  # blank names left out, blank fields None
    assert as_strings.participants == as_objects.participants == expected
    assert as_strings.facts() == as_objects.facts()


@pytest.mark.parametrize(
    ("sidecar", "where"),
    [
        ({"langauge": "en"}, "langauge"),
        ({"hints": {"title": "x"}}, "hints"),
        ({"participants": [{"name": "Ann", "side": "seller"}]}, "participants.0.side"),
        ({"participants": [{"email": "ann@example.com"}]}, "participants.0.name"),
        ({"terms": "ComfyUI"}, "terms"),
        ({"language": "de"}, "language"),
    ],
)
def test_a_sidecar_with_an_unknown_or_wrong_key_is_refused_with_a_clear_message(tmp_path: Path, sidecar, where) -> None:
    audio = tmp_path / "call.wav"
    audio.write_bytes(b"x")
    sidecar_path(audio).write_text(json.dumps(sidecar), encoding="utf-8")
    with pytest.raises(SidecarError) as err:
        read_sidecar(audio)
    message = str(err.value)
    assert message.startswith("call.wav.meeting.json is not a valid meeting sidecar") and where in message


@pytest.mark.parametrize(
    "text",
    [
        "{not json",
        '{"num_speakers": 0}',
        '{"langauge": "en"}',
        '{"meeting_id": "../escape"}',
        '{"meeting_id": ".."}',
        '{"meeting_id": "/etc"}',
    ],
)
def test_invalid_sidecar_is_a_clear_input_error(tmp_path: Path, text: str) -> None:
    audio = tmp_path / "call.wav"
    sidecar_path(audio).write_text(text)
    with pytest.raises(SidecarError, match="call.wav.meeting.json"):
        read_sidecar(audio)


# -- hardening: symlinks, long names, unreadable files, leases with an owner ------------------
def _expire(inbox: Inbox, sha: str) -> None:
    claim = inbox.layout.ledger / f"{sha}.claim"
    info = json.loads(claim.read_text())
    info["lease_expires_at"] = time.time() - 1
    claim.write_text(json.dumps(info))


def test_symlinks_in_the_inbox_are_never_taken(tmp_path: Path) -> None:
    secret = tmp_path / "outside" / "secret.wav"
    secret.parent.mkdir()
    secret.write_bytes(b"not for the inbox")
    inbox = Inbox(tmp_path / "root")
    link = inbox.layout.inbox / "link.wav"
    link.symlink_to(secret)
    tracker = StabilityTracker(stable_seconds=0)
    tracker.poll(inbox.layout.inbox, now=0)
    assert tracker.poll(inbox.layout.inbox, now=1) == []
    assert not is_candidate(link)
    assert inbox.claim(link) == ("skipped", None)
    assert link.is_symlink() and secret.read_bytes() == b"not for the inbox"
    assert not list(inbox.layout.processing.iterdir())
    # a sidecar that is a link is never read or moved along
    _drop(inbox, "call.wav")
    sidecar_path(inbox.layout.inbox / "call.wav").symlink_to(secret)
    with pytest.raises(SidecarError, match="not a regular file"):
        read_sidecar(inbox.layout.inbox / "call.wav")
    _, item = inbox.claim(inbox.layout.inbox / "call.wav")
    assert item is not None and not sidecar_path(item.path).exists()


def test_long_japanese_names_are_claimed_and_finished_without_enametoolong(tmp_path: Path) -> None:
    inbox = Inbox(tmp_path)
    name = "株式会社東邦精機様との在庫管理クラウド導入に関する第二回打ち合わせ録音データ" * 2 + "_最終版二.m4a"
    assert 240 < len(name.encode()) <= 255  # legal here, too long with a claim prefix or "-1"
    (inbox.layout.done / name).write_bytes(b"an earlier file of that name")
    outcome, item = inbox.claim(_drop(inbox, name, b"new recording"))
    assert outcome == "claimed" and item is not None
    dest = inbox.complete(item)
    assert dest is not None and dest.suffix == ".m4a" and dest.read_bytes() == b"new recording"
    assert len(dest.name.encode()) <= 255 and (inbox.layout.done / name).read_bytes() == b"an earlier file of that name"


def test_a_file_that_cannot_be_moved_is_set_aside_not_fatal(tmp_path: Path, monkeypatch) -> None:
    inbox = Inbox(tmp_path)
    src = _drop(inbox, "call.wav")
    real_rename = os.rename

    def refuse(a, b):  # e.g. EACCES from a share, or a name the target file system refuses
        if Path(a) == src:
            raise PermissionError(13, "Permission denied", str(a))
        return real_rename(a, b)

    monkeypatch.setattr(os, "rename", refuse)
    assert inbox.claim(src) == ("skipped", None)
    assert src.is_file()
    tracker = StabilityTracker(stable_seconds=0)
    tracker.poll(inbox.layout.inbox, now=0)
    tracker.set_aside(src)
    assert tracker.poll(inbox.layout.inbox, now=1) == []  # not offered again...
    src.write_bytes(b"re-uploaded")
    tracker.poll(inbox.layout.inbox, now=2)
    assert tracker.poll(inbox.layout.inbox, now=3) == [src]  # ...until it changes


def test_unreadable_file_goes_to_failed_instead_of_bouncing(tmp_path: Path, monkeypatch) -> None:
    import meeting_notes.inbox as inbox_module

    def unreadable(path):
        raise PermissionError(13, "Permission denied", str(path))

    monkeypatch.setattr(inbox_module, "file_sha256", unreadable)
    inbox = Inbox(tmp_path)
    assert inbox.claim(_drop(inbox, "locked.wav")) == ("failed", None)
    assert (inbox.layout.failed / "locked.wav").is_file()
    assert "Permission denied" in (inbox.layout.failed / "locked.wav.error.json").read_text()
    assert inbox.recover(grace_s=0) == [] and not list(inbox.layout.inbox.iterdir())


def test_a_run_that_lost_its_claim_cannot_touch_the_new_one(tmp_path: Path) -> None:
    inbox = Inbox(tmp_path, claim_timeout_s=60, queue_timeout_s=60)
    _, old = inbox.claim(_drop(inbox, "call.wav"))
    assert old is not None
    _expire(inbox, old.sha256)  # the first run waited in a queue too long
    assert [p.name for p in inbox.recover(grace_s=0)] == ["call.wav"]
    _, new = inbox.claim(inbox.layout.inbox / "call.wav")
    assert new is not None and new.path == old.path  # same name in processing/
    # the late first run starts: it must not find, heartbeat, fail or complete the new claim
    assert inbox.claimed_file(old.path, old.claim_id) is None
    assert inbox.claimed_file(new.path, new.claim_id) == new
    with pytest.raises(ClaimLostError):
        inbox.heartbeat(old)
    assert inbox.fail(old, "late run crashed") is None
    assert inbox.complete(old) is None
    assert new.path.is_file() and inbox.owns(new)
    assert not (inbox.layout.ledger / f"{new.sha256}.json").exists()  # no "failed" record
    inbox.heartbeat(new)
    assert inbox.complete(new) == inbox.layout.done / "call.wav"
    assert json.loads((inbox.layout.ledger / f"{new.sha256}.json").read_text())["status"] == "done"


def test_queued_claims_have_a_lease_that_covers_the_queue(tmp_path: Path) -> None:
    inbox = Inbox(tmp_path, claim_timeout_s=1, queue_timeout_s=3600)
    _, item = inbox.claim(_drop(inbox, "call.wav"))
    assert item is not None
    info = json.loads((inbox.layout.ledger / f"{item.sha256}.claim").read_text())
    assert info["state"] == "queued" and info["lease_expires_at"] > time.time() + 3000
    time.sleep(1.1)  # longer than claim_timeout_s, far shorter than the queue lease
    assert inbox.recover(grace_s=0) == []
    inbox.heartbeat(item)  # the run started: the running lease is claim_timeout_s
    info = json.loads((inbox.layout.ledger / f"{item.sha256}.claim").read_text())
    assert info["state"] == "running" and info["lease_expires_at"] < time.time() + 2


def test_recover_judges_leases_by_their_content_not_file_times(tmp_path: Path) -> None:
    inbox = Inbox(tmp_path, claim_timeout_s=60)
    _, item = inbox.claim(_drop(inbox, "call.wav"))
    assert item is not None
    claim = inbox.layout.ledger / f"{item.sha256}.claim"
    old = time.time() - 10 * 86400  # a network file system with a clock days behind
    os.utime(claim, (old, old))
    assert inbox.recover(grace_s=0) == []


@pytest.mark.parametrize("requested", ["..", "../../etc", "/abs/path", "acme/../../x", "other-meeting-1a2b3c4d", None])
def test_meeting_folders_stay_under_out_and_carry_the_audio_hash(tmp_path: Path, requested) -> None:
    from meeting_notes.workspace import meeting_id_for

    sha = "1a2b3c4d" + "0" * 56
    mid = meeting_id_for(Path("/in/call.wav"), sha, requested)
    out = tmp_path / "out"
    assert (out / mid).resolve().parent == out.resolve()
    assert mid.endswith("-1a2b3c4d") and "/" not in mid and not mid.startswith(".")


def test_flow_parameters_carry_no_contact_details() -> None:
    from flows.intake import flow_parameters

    facts = MeetingFacts.model_validate({"participants": ["Kenji (Acme)", {"name": "Ann", "email": "ann@us.example", "role": "AE"}]})
    options = ProcessOptions(facts=facts)
    params = flow_parameters(Path("/in/call.wav"), "/out", options, "/inbox", "claim-1")
    assert params["hints"]["participants"] == [{"name": "Kenji", "company": "Acme"}, {"name": "Ann", "role": "AE"}]
    assert "ann@us.example" not in str(params)
    assert params["claim_id"] == "claim-1" and options.facts.participants[1].email == "ann@us.example"
    # what the flow gets back is the same facts, without the e-mail address
    assert ProcessOptions.from_dict({k: params[k] for k in options.to_dict()}) == ProcessOptions(facts=facts.without_contacts())


def test_inbox_notes_and_records_are_private(tmp_path: Path) -> None:
    """Issue 19: an error note can quote a transcript or a participant's name: 0600, like data."""
    import stat

    previous = os.umask(0o022)
    try:
        inbox = Inbox(tmp_path)
        _, item = inbox.claim(_drop(inbox, "x.wav"))
        assert item is not None
        inbox.fail(item, "SidecarError: participant 'Priya Raman' is not in the attendee list")
        _, dup = inbox.claim(_drop(inbox, "x.wav"))  # the same content again: retried, then a duplicate note
        assert dup is not None
        inbox.complete(dup, tmp_path / "out" / "x")
        _, third = inbox.claim(_drop(inbox, "x.wav"))
    finally:
        os.umask(previous)
    notes = [inbox.layout.failed / "x.wav.error.json", *inbox.layout.done.glob("*.duplicate.json"),
             *inbox.layout.ledger.glob("*.json")]
    assert len(notes) >= 3
    assert {p.name: oct(stat.S_IMODE(p.stat().st_mode)) for p in notes} == {p.name: oct(0o600) for p in notes}
