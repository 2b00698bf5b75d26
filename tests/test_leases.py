"""Leases on meeting folders and Prefect task locks, and the checksummed stage record."""

from __future__ import annotations

import json
import os
import signal
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
