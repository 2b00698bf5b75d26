"""Issue 19: ``meeting-notes watch`` stopped with SIGTERM (systemd, Docker, Kubernetes) or
SIGINT takes its children with it: no orphaned Prefect temporary server is left running.
Processes are counted by a marker in their environment (children inherit it), before and after."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def _marked(marker: str) -> list[int]:
    """Live processes (not zombies) whose environment carries ``marker``."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            if f"MN_SIGNAL_TEST={marker}".encode() not in (entry / "environ").read_bytes().split(b"\0"):
                continue
            state = (entry / "stat").read_text().rsplit(")", 1)[1].split()[0]
        except OSError:
            continue
        if state != "Z":
            found.append(int(entry.name))
    return found


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT])
def test_watch_stops_with_its_children_on_sigterm_and_sigint(tmp_path: Path, signum: int) -> None:
    marker = uuid.uuid4().hex
    env = {k: v for k, v in os.environ.items() if not k.startswith("PREFECT_")}
    env.update({"MN_SIGNAL_TEST": marker, "PREFECT_HOME": str(tmp_path / "prefect"), "PYTHONUNBUFFERED": "1",
                "PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS": "180"})  # a busy machine
    assert _marked(marker) == []
    proc = subprocess.Popen(
        [sys.executable, "-c", "import sys; from meeting_notes.cli import main; sys.exit(main())",
         "watch", str(tmp_path / "inbox"), "--out", str(tmp_path / "out"), "--poll-interval", "0.2"],
        cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
        # a test run started in the background (nohup, `&`, some CI runners) ignores SIGINT, and a
        # child would inherit that; the watcher under test starts as it does from a terminal
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
    )  # fmt: skip
    try:
        assert proc.stdout is not None
        lines = []
        deadline = time.monotonic() + 240  # Prefect's temporary server starts first (seconds on a busy machine)
        while time.monotonic() < deadline:
            line = proc.stdout.readline()
            lines.append(line)
            if line.startswith("Watching") or not line:
                break
        assert lines[-1].startswith("Watching"), f"exit code {proc.poll()}:\n" + "".join(lines)
        running = _marked(marker)
        assert proc.pid in running and len(running) >= 2  # the watcher and Prefect's temporary server
        proc.send_signal(signum)
        code = proc.wait(timeout=180)  # shutting Prefect's server down takes long on a busy machine
        deadline = time.monotonic() + 20
        while _marked(marker) and time.monotonic() < deadline:
            time.sleep(0.2)
        assert _marked(marker) == []  # no orphan left behind
        assert code == (143 if signum == signal.SIGTERM else 130)  # a clean exit, not death by the signal
    finally:
        for pid in _marked(marker):
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        proc.kill()
        proc.wait()
