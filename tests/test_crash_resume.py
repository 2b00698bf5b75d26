"""A worker SIGKILLed in the middle of each stage, then a resumed run: the outputs are identical
to those of an uninterrupted run.

Each killed run dies while writing its stage's output, after half of it is on disk (written in
place, as a careless writer would): the worst moment to die. The resumed run must not trust
that half file. Real bundled models on the 11 s JFK recording, one subprocess per run.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[1]
OUTPUTS = (
    "asr.json", "diarization.json", "diarization.rttm", "transcript.json",
    "transcript.srt", "transcript.vtt", "transcript.md", "analytics.json",
)

#: the child: run the pipeline; when the output named in argv[3] is written, write half of it in
#: place, say so, and wait to be killed
CHILD = r'''
import sys, time
from pathlib import Path
from meeting_notes import export
from meeting_notes.stages import lifecycle, names, transcript
from meeting_notes.context import ProcessOptions
from meeting_notes.pipeline import process_meeting
from meeting_notes.settings import Settings

audio, out, die_in = Path(sys.argv[1]), Path(sys.argv[2]), sys.argv[3]

def dying(write):
    def wrapper(obj, path, *a, **kw):
        if Path(path).name == die_in:
            text = obj if isinstance(obj, str) else obj.model_dump_json(indent=2)
            Path(path).write_text(text[: len(text) // 2])
            print("dying", flush=True)
            time.sleep(120)
        return write(obj, path, *a, **kw)
    return wrapper

for stage_module in (transcript, names, lifecycle):  # where the stages write their JSON
    stage_module.write_json = dying(stage_module.write_json)
export._write_text = (lambda w: lambda path, text: dying(lambda t, p: w(p, t))(text, path))(export._write_text)
run = process_meeting(audio, out, ProcessOptions(language="en", notes=False), Settings(cache_dir=Path(sys.argv[4])))
print("done", run.meeting_id, flush=True)
'''


def _run(audio: Path, out: Path, die_in: str, cache: Path) -> str:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    proc = subprocess.Popen(
        [sys.executable, "-c", CHILD, str(audio), str(out), die_in, str(cache)],
        stdout=subprocess.PIPE,
        text=True,
        env=env,
    )
    assert proc.stdout is not None
    try:
        for line in proc.stdout:
            if line.startswith("dying"):
                os.kill(proc.pid, signal.SIGKILL)
                proc.wait(30)
                return "killed"
            if line.startswith("done"):
                proc.wait(30)
                return line.split()[1]
    finally:
        proc.kill()
    raise AssertionError(f"the run ended without finishing (exit {proc.wait()})")


def test_killed_at_every_stage_then_resumed_gives_identical_outputs(tmp_path: Path, data_dir: Path, model_cache: Path) -> None:
    audio = data_dir / "jfk.flac"
    meeting_id = _run(audio, tmp_path / "clean", "-", model_cache)
    clean = tmp_path / "clean" / meeting_id

    crashed = tmp_path / "crashed"
    for output in ("asr.json", "diarization.json", "transcript.json", "transcript.srt"):
        assert _run(audio, crashed, output, model_cache) == "killed", output
        half = crashed / meeting_id / output
        assert half.is_file()  # the half-written file is there for the next run to distrust
    assert _run(audio, crashed, "-", model_cache) == meeting_id

    for name in OUTPUTS:
        assert (crashed / meeting_id / name).read_bytes() == (clean / name).read_bytes(), name
    stages = json.loads((crashed / meeting_id / ".stages.json").read_text())
    assert set(stages) == {"transcribe", "diarize", "align", "names", "export", "analytics"}
    run = json.loads((crashed / meeting_id / "run.json").read_text())
    assert run["status"] == "done"
    assert not (crashed / meeting_id / ".meeting.lease").exists()
