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


def _run(audio: Path, out: Path, die_in: str, cache: Path, child: str = CHILD, *extra: str) -> str:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    proc = subprocess.Popen(
        [sys.executable, "-c", child, str(audio), str(out), die_in, str(cache), *extra],
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


#: The same child for the stages after the transcript: the notes (against a fake OpenAI server
#: in the test's process), the delivery (the sidecar's CRM ids into crm.json) and the report.
CHILD_LATE = CHILD.replace(
    "for stage_module in (transcript, names, lifecycle):",
    "import meeting_notes.report as report_module\n"
    "from meeting_notes.crm import service as crm_service\n"
    "from meeting_notes.stages import notes as notes_module\n"
    "from meeting_notes.schema import MeetingFacts\n"
    "from meeting_notes.settings import LLMSettings\n"
    "text_dying = lambda w: lambda path, text, *a, **kw: dying(lambda t, p, *a, **kw: w(p, t, *a, **kw))(text, path, *a, **kw)\n"
    "notes_module.write_json = dying(notes_module.write_json)\n"
    "for module in (notes_module, report_module):\n"
    "    module.write_text_atomic = text_dying(module.write_text_atomic)\n"
    # crm.json is only ever replaced whole (an atomic write outside the run's stage records): the
    # delivery dies just before it, not half-way through a file
    "def before(w):\n"
    "    def wrapper(path, text, *a, **kw):\n"
    "        if Path(path).name == die_in:\n"
    "            print('dying', flush=True); time.sleep(120)\n"
    "        return w(path, text, *a, **kw)\n"
    "    return wrapper\n"
    "crm_service.write_text_atomic = before(crm_service.write_text_atomic)\n"
    "for stage_module in (transcript, names, lifecycle):",
).replace(
    'ProcessOptions(language="en", notes=False), Settings(cache_dir=Path(sys.argv[4]))',
    'ProcessOptions(language="en", facts=MeetingFacts(crm_ids={"account_id": "001000000000001AAA"})), '
    'Settings(cache_dir=Path(sys.argv[4]), llm=LLMSettings(base_url=sys.argv[5], model="fake-model", '
    'structured_output="llama_json_schema", max_retries=0, cache=False))',
)


def test_killed_in_notes_delivery_and_report_then_resumed(tmp_path: Path, data_dir: Path, model_cache: Path) -> None:
    from fake_openai_server import FakeOpenAIServer, chat_reply
    from test_notes_passes import good_model

    audio = data_dir / "jfk.flac"
    with FakeOpenAIServer() as llm:
        llm.responder = lambda request: chat_reply(json.dumps(good_model(request)))
        run = lambda out, die_in: _run(audio, out, die_in, model_cache, CHILD_LATE, llm.base_url)  # noqa: E731
        meeting_id = run(tmp_path / "clean", "-")
        clean = tmp_path / "clean" / meeting_id
        crashed = tmp_path / "crashed"
        for output in ("notes.md", "notes.json", "crm.json", "report.html"):
            assert run(crashed, output) == "killed", output
            if output != "crm.json":
                assert (crashed / meeting_id / output).is_file()  # half of it, for the next run to distrust
        assert run(crashed, "-") == meeting_id
    folder = crashed / meeting_id
    for name in ("notes.md", "transcript.json"):
        assert (folder / name).read_bytes() == (clean / name).read_bytes(), name
    notes, clean_notes = (json.loads((f / "notes.json").read_text()) for f in (folder, clean))
    assert {k: v for k, v in notes.items() if k != "generator"} == {k: v for k, v in clean_notes.items() if k != "generator"}
    assert json.loads((folder / "crm.json").read_text())["crm_ids"] == {"account_id": "001000000000001AAA"}
    assert (folder / "report.html").read_text().rstrip().endswith("</html>")
    run_record = json.loads((folder / "run.json").read_text())
    assert run_record["status"] == "done"
    assert "notes" in json.loads((folder / ".stages.json").read_text())
    stages = {name: s["status"] for name, s in run_record["stages"].items()}
    assert stages["deliver"] == stages["report"] == "done" and stages["notes"] in ("done", "cached")


def test_two_runs_with_different_options_in_two_processes_leave_a_consistent_folder(
    tmp_path: Path, data_dir: Path, model_cache: Path
) -> None:
    """Two workers start the same recording at once, one with a speaker count and one without:
    the folder's lease lets one write at a time, the second redoes the stages whose options
    differ, and at the end every output on disk is the one its stage recorded."""
    import hashlib

    child = CHILD.replace('ProcessOptions(language="en", notes=False)', 'ProcessOptions(language="en", notes=False, num_speakers=int(sys.argv[5]) or None)')
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    out = tmp_path / "out"
    procs = [
        subprocess.Popen([sys.executable, "-c", child, str(data_dir / "jfk.flac"), str(out), "-", str(model_cache), n],
                         stdout=subprocess.PIPE, text=True, env=env)
        for n in ("0", "1")
    ]
    try:
        results = [p.communicate(timeout=600)[0] for p in procs]
    finally:
        for p in procs:
            p.kill()
    assert [p.returncode for p in procs] == [0, 0], results
    (folder,) = [p for p in out.iterdir() if p.is_dir()]
    stages = json.loads((folder / ".stages.json").read_text())
    for stage, record in stages.items():
        for name, digest in record["outputs"].items():
            assert hashlib.sha256((folder / name).read_bytes()).hexdigest() == digest, (stage, name)
    assert json.loads((folder / "run.json").read_text())["status"] == "done"
    assert not (folder / ".meeting.lease").exists()
