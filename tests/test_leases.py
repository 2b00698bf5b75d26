"""Leases on meeting folders and Prefect task locks, and the checksummed stage record."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from meeting_notes.leases import FileLease, LeaseHeldError
from meeting_notes.workspace import MeetingWorkspace


def test_one_holder_at_a_time_and_the_next_gets_it_after_release(tmp_path: Path) -> None:
    first = FileLease(tmp_path / "m.lease", lease_s=30)
    second = FileLease(tmp_path / "m.lease", lease_s=30, wait_s=0.3)
    with first:
        with pytest.raises(LeaseHeldError, match="another run"):
            second.acquire()
    with second:
        assert json.loads((tmp_path / "m.lease").read_text())["owner"] == second.owner
    assert not (tmp_path / "m.lease").exists()


def test_a_held_lease_is_renewed_past_its_length(tmp_path: Path) -> None:
    with FileLease(tmp_path / "m.lease", lease_s=0.6):
        time.sleep(1.5)  # 2.5 lease lengths: only renewals keep it
        assert not FileLease(tmp_path / "m.lease", lease_s=0.6).try_acquire()


def test_a_lease_of_another_host_is_free_once_expired(tmp_path: Path) -> None:
    path = tmp_path / "m.lease"
    path.write_text(json.dumps({"owner": "gpu-7:4242:abcd", "expires_at": time.time() + 60}))
    assert not FileLease(path, lease_s=5).try_acquire()  # alive elsewhere: never taken early
    path.write_text(json.dumps({"owner": "gpu-7:4242:abcd", "expires_at": time.time() - 1}))
    lease = FileLease(path, lease_s=5)
    assert lease.try_acquire()
    assert json.loads(path.read_text())["owner"] == lease.owner


def test_a_sigkilled_holder_frees_the_lease(tmp_path: Path) -> None:
    path = tmp_path / "m.lease"
    code = (
        "import sys, time; from meeting_notes.leases import FileLease\n"
        f"FileLease(__import__('pathlib').Path({str(path)!r}), 300).acquire(); print('held', flush=True); time.sleep(60)"
    )
    proc = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, text=True)
    try:
        assert proc.stdout is not None and proc.stdout.readline().strip() == "held"
        assert not FileLease(path, lease_s=300).try_acquire()
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(10)
        assert FileLease(path, lease_s=300, wait_s=5).try_acquire()  # no 5-minute wait on this host
    finally:
        proc.kill()


def test_stage_record_checks_outputs_by_checksum(tmp_path: Path) -> None:
    ws = MeetingWorkspace(tmp_path / "m")
    ws.create()
    ws.asr_json.write_text('{"segments": []}')
    ws.mark_done("transcribe", "k1", [ws.asr_json])
    assert ws.is_done("transcribe", "k1", [ws.asr_json])
    assert not ws.is_done("transcribe", "k2", [ws.asr_json])
    ws.asr_json.write_text('{"segments": [1]}')  # replaced after it was recorded (a crash, a hand edit)
    assert not ws.is_done("transcribe", "k1", [ws.asr_json])
    ws.asr_json.unlink()
    assert not ws.is_done("transcribe", "k1", [ws.asr_json])
    assert ws.keys_of("transcribe") == {"transcribe": "k1"}
    ws.forget("transcribe")
    assert ws.keys_of("transcribe") == {"transcribe": None}


def test_concurrent_stage_records_are_not_lost(tmp_path: Path) -> None:
    ws = MeetingWorkspace(tmp_path / "m")
    ws.create()

    def mark(i: int) -> None:
        for j in range(10):
            ws.mark_done(f"s{i}-{j}", f"k{i}-{j}")

    threads = [threading.Thread(target=mark, args=(i,)) for i in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    recorded = json.loads(ws.state_path.read_text())
    assert len(recorded) == 60
    assert not [p for p in ws.root.iterdir() if p.name.endswith(".tmp")]


# -- issue 19: a lost lease stops the run; compare-and-set; takeover across containers --------


def _steal(path: Path, owner: str = "thief-token") -> None:
    """Another run's fresh lease on ``path`` (as if it had broken ours while we were away)."""
    path.write_text(json.dumps({"owner": owner, "holder": "other-host:1", "expires_at": time.time() + 60}))


def test_a_lease_taken_over_is_noticed_and_reported_not_silently_dropped(tmp_path: Path) -> None:
    from meeting_notes.leases import LeaseLostError

    lease = FileLease(tmp_path / "m.lease", lease_s=0.6)
    lease.acquire()
    try:
        lease.ensure_held()  # ours: nothing to say
        _steal(tmp_path / "m.lease")
        time.sleep(0.5)  # the renewal thread finds the lease is another run's
        with pytest.raises(LeaseLostError, match="another run took over"):
            lease.ensure_held()
        assert lease.lost
    finally:
        lease.release()
    assert json.loads((tmp_path / "m.lease").read_text())["owner"] == "thief-token"  # theirs, left alone


def test_a_lease_whose_renewals_keep_failing_counts_as_lost_once_it_expired(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from meeting_notes import leases
    from meeting_notes.leases import LeaseLostError

    lease = FileLease(tmp_path / "m.lease", lease_s=0.6)
    lease.acquire()
    try:
        def unreachable(*args: object, **kwargs: object) -> None:
            raise OSError("stale file handle")

        monkeypatch.setattr(leases, "write_text_atomic", unreachable)  # the disk is gone: no renewal lands
        time.sleep(1.0)
        with pytest.raises(LeaseLostError):
            lease.ensure_held()
    finally:
        monkeypatch.undo()
        lease.release()


def _race(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, act: str) -> tuple[FileLease, FileLease, bool]:
    """``act`` ('renew' or 'release') of an expired lease, with a contender trying to take the
    lease between ``act``'s read and its write (where a read-check-write loses the race)."""
    from meeting_notes import leases

    path = tmp_path / "m.lease"
    mine = FileLease(path, lease_s=30)
    assert mine.try_acquire()
    data = json.loads(path.read_text())
    path.write_text(json.dumps({**data, "expires_at": time.time() - 1}))  # expired: breakable
    contender = FileLease(path, lease_s=30)
    took: list[bool] = []
    real_read = leases._read
    fired = threading.Event()

    def read_then_let_the_contender_in(p: Path) -> object:
        info = real_read(p)
        if p == path and not fired.is_set() and threading.current_thread() is threading.main_thread():
            fired.set()
            t = threading.Thread(target=lambda: took.append(contender.try_acquire()))
            t.start()
            t.join(0.5)  # under compare-and-set it waits for our lock, so it cannot finish here
        return info

    monkeypatch.setattr(leases, "_read", read_then_let_the_contender_in)
    kept = mine.renew() if act == "renew" else (mine.release(), True)[1]
    monkeypatch.undo()
    deadline = time.monotonic() + 5
    while not took and time.monotonic() < deadline:
        time.sleep(0.02)
    return mine, contender, kept and bool(took) and took[0]


def test_renew_never_overwrites_a_lease_another_run_just_took(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    mine, contender, both = _race(tmp_path, monkeypatch, "renew")
    assert not both  # never two holders
    owner = json.loads((tmp_path / "m.lease").read_text())["owner"]
    assert owner in (mine.owner, contender.owner)


def test_release_never_removes_a_lease_another_run_just_took(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    mine, contender, took = _race(tmp_path, monkeypatch, "release")
    if took:  # the contender holds it: its lease file must still be there
        assert json.loads((tmp_path / "m.lease").read_text())["owner"] == contender.owner


def test_same_hostname_and_a_dead_pid_is_not_a_dead_holder_in_another_container(tmp_path: Path) -> None:
    """Two containers may share a hostname (and pid numbers): a pid that does not exist here
    may be alive in the other one. Only the expiry frees such a lease."""
    path = tmp_path / "m.lease"
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    # the format of the previous version: host:pid:random
    path.write_text(json.dumps({"owner": f"{socket.gethostname()}:{dead.pid}:abcd", "expires_at": time.time() + 60}))
    assert not FileLease(path, lease_s=5).try_acquire()
    # this version's format, from another pid namespace (another container) on this host
    path.write_text(json.dumps({"owner": "x" * 32, "holder": f"{socket.gethostname()}:{dead.pid}", "pid": dead.pid,
                                "scope": "another-boot/pid:[4026531836]", "expires_at": time.time() + 60}))
    assert not FileLease(path, lease_s=5).try_acquire()


def test_the_holder_token_is_random_not_host_and_pid(tmp_path: Path) -> None:
    a, b = FileLease(tmp_path / "a.lease", 5), FileLease(tmp_path / "b.lease", 5)
    assert a.owner != b.owner and str(os.getpid()) not in a.owner and socket.gethostname() not in a.owner
    assert len(a.owner) >= 32
