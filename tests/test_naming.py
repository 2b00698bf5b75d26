"""The speaker map (meeting_notes/introductions.py, speaker_map.py, stages/names.py) and `meeting-notes relabel` (meeting_notes/relabel.py).

Hand-built transcripts give the expected names by construction (who says which line); the real
recording check names the pyannote sample's speakers and checks them against its reference
STM (who said what, by name), never against this pipeline's own output.
"""

from __future__ import annotations

import argparse
import json
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from meeting_notes.context import MeetingContext, ProcessOptions
from meeting_notes.introductions import introductions_in, side_of_company
from meeting_notes.speaker_map import Override, build_speaker_map, name_notes, with_enrolled_min_speakers
from meeting_notes.schema import (
    AudioInfo,
    Diarization,
    MeetingFacts,
    Participant,
    Segment,
    Speaker,
    SpeakerTurn,
    Transcript,
    Word,
    read_json,
    write_json,
)
from meeting_notes.settings import SpeakerSettings
from meeting_notes.speakers import Consent, SpeakerMatch, SpeakerStore
from meeting_notes.workspace import MeetingWorkspace

ROOT = Path(__file__).resolve().parents[1]
EVAL = ROOT.parent / "shared" / "eval"


def _transcript(lines, language="en", speakers=None) -> Transcript:
    segments = []
    for i, (start, end, spk, text) in enumerate(lines):
        words = [Word(start=start, end=end, text=" " + w, speaker=spk, probability=0.9) for w in text.split()]
        segments.append(Segment(id=i, start=start, end=end, speaker=spk, text=" " + text, words=words))
    ids = speakers or sorted({spk for _, _, spk, _ in lines})
    return Transcript(
        meeting_id="m-1234abcd",
        audio=AudioInfo(path="/nowhere/m.wav", sha256="0" * 64, duration=60.0),
        language=language,
        speakers=[Speaker(id=s, speech_seconds=10.0) for s in ids],
        segments=segments,
    )


EN = [
    (0.0, 3.0, "SPEAKER_00", "Hi, I'm Tom from Acme."),
    (3.0, 6.0, "SPEAKER_01", "Thanks Tom. This is Dana, our CFO, she joins later."),
    (6.0, 9.0, "SPEAKER_02", "Hello everyone, this is great."),
    (9.0, 12.0, "SPEAKER_01", "I'm originally from Chicago. SPEAKER_00 will send the quote."),
]


# ---------------------------------------------------------------- the extractor


@pytest.mark.parametrize(
    "text,name,company",
    [
        ("This is Diane in New Jersey.", "Diane", None),
        ("Hi, I'm Tom from Acme.", "Tom", "Acme"),
        ("My name is Kenji Sato.", "Kenji Sato", None),
        ("Hi all, Josh here.", "Josh", None),
        ("And I'm Sheila in Texas, originally from Chicago.", "Sheila", None),
    ],
)
def test_english_introductions(text, name, company):
    found = introductions_in(text, "en")
    assert found and found[0][0] == name and found[0][1] == company


@pytest.mark.parametrize(
    "text",
    ["This is great.", "I'm sorry.", "I'm originally from Chicago.", "This is Dana, our CFO.", "Tomorrow I am not sure",
     "I'm Glad you asked.", "the Tom here is another"],
)
def test_english_non_introductions(text):
    assert introductions_in(text, "en") == []


@pytest.mark.parametrize(
    "text,name,company",
    [
        ("丸山の佐藤です。", "佐藤", "丸山"),
        ("佐藤と申します。", "佐藤", None),
        ("はい、鈴木です。よろしくお願いします。", "鈴木", None),
        ("株式会社丸山の佐藤健二と申します", "佐藤健二", "株式会社丸山"),
        ("私、田中でございます。", "田中", None),
    ],
)
def test_japanese_introductions(text, name, company):
    found = introductions_in(text, "ja")
    assert found and found[0][0] == name and found[0][1] == company


@pytest.mark.parametrize("text", ["今日の資料です。", "そうですね。", "大丈夫です。", "何と申しますか", "加佐藤です", "佐藤ですか？"])
def test_japanese_non_introductions(text):
    assert introductions_in(text, "ja") == []


def test_japanese_unknown_surname_needs_a_participant():
    assert introductions_in("はい、轟です。", "ja") == []
    assert introductions_in("はい、轟です。", "ja", known_names=["轟 健"])[0][0] == "轟"


# ---------------------------------------------------------------- the map


def test_map_names_only_from_the_speakers_own_segment():
    t = _transcript(EN)
    m = {s.id: s for s in build_speaker_map(t)}
    tom = m["SPEAKER_00"]
    assert (tom.name, tom.source, tom.label) == ("Tom", "introduced", "Tom")
    assert tom.evidence.segment_id == 0 and tom.evidence.quote in t.segments[0].text
    # SPEAKER_01 introduced someone else ("This is Dana, our CFO"): no name for anyone from it
    assert m["SPEAKER_01"].name is None and m["SPEAKER_01"].label == "Speaker 2"
    assert m["SPEAKER_02"].name is None and m["SPEAKER_02"].label == "Speaker 3"
    assert all(s.side == "unknown" for s in m.values())


def test_map_precedence_manual_then_enrolled_then_introduced():
    t = _transcript(EN)
    enrolled = {"SPEAKER_00": SpeakerMatch(speaker="SPEAKER_00", profile_id=1, name="Thomas Reed", side="seller", score=0.71)}
    m = {s.id: s for s in build_speaker_map(t, enrolled)}
    assert (m["SPEAKER_00"].name, m["SPEAKER_00"].source, m["SPEAKER_00"].side, m["SPEAKER_00"].score) == (
        "Thomas Reed", "enrolled", "seller", 0.71)
    m = {s.id: s for s in build_speaker_map(t, enrolled, overrides={"SPEAKER_00": Override("Tom Lee", "customer")})}
    assert (m["SPEAKER_00"].name, m["SPEAKER_00"].source, m["SPEAKER_00"].side) == ("Tom Lee", "manual", "customer")
    # a name already given by enrollment is not given to another speaker by an introduction
    enrolled = {"SPEAKER_02": SpeakerMatch(speaker="SPEAKER_02", profile_id=1, name="Tom", side="seller", score=0.8)}
    m = {s.id: s for s in build_speaker_map(t, enrolled)}
    assert m["SPEAKER_02"].name == "Tom" and m["SPEAKER_00"].name is None


def test_sidecar_participants_complete_names_and_sides():
    t = _transcript(EN + [(12.0, 14.0, "SPEAKER_02", "And I'm Priya, with Globex.")])
    people = MeetingFacts.model_validate({"participants": ["Tom Baker (Acme Inc.)", {"name": "Priya Shah", "company": "Globex"}]}).participants
    assert people == [Participant(name="Tom Baker", company="Acme Inc."), Participant(name="Priya Shah", company="Globex")]
    m = {s.id: s for s in build_speaker_map(t, participants=people, seller_companies=["ACME"], account="Globex KK")}
    assert (m["SPEAKER_00"].name, m["SPEAKER_00"].side, m["SPEAKER_00"].source) == ("Tom Baker", "seller", "sidecar")
    assert (m["SPEAKER_02"].name, m["SPEAKER_02"].side) == ("Priya Shah", "customer")
    # without the seller's company nothing says which side Acme is on
    m = {s.id: s for s in build_speaker_map(t, participants=people)}
    assert m["SPEAKER_00"].side == "unknown"


def test_side_of_company():
    assert side_of_company("株式会社丸山", ["丸山"], None) == "seller"
    assert side_of_company("Globex", [], "globex inc") == "customer"
    assert side_of_company("Globex", ["Acme"], None) == "customer"
    assert side_of_company("Globex", [], None) == "unknown"
    assert side_of_company(None, ["Acme"], None) == "unknown"


def test_japanese_map_and_labels():
    lines = [(0, 3, "SPEAKER_00", "丸山の佐藤です。本日はよろしくお願いします。"), (3, 6, "SPEAKER_01", "はい、よろしくお願いします。")]
    t = _transcript(lines, "ja")
    m = {s.id: s for s in build_speaker_map(t, participants=[Participant(name="佐藤 健二", company="丸山")], seller_companies=["丸山"])}
    assert (m["SPEAKER_00"].name, m["SPEAKER_00"].side) == ("佐藤 健二", "seller")
    assert m["SPEAKER_01"].label == "話者2"


def test_late_introductions_are_not_searched():
    lines = [(i, i + 1, "SPEAKER_00", f"Point number {i}.") for i in range(10)] + [(20, 21, "SPEAKER_00", "I'm Tom.")]
    assert build_speaker_map(_transcript(lines), intro_segments=8)[0].name is None
    assert build_speaker_map(_transcript(lines), intro_segments=11)[0].name == "Tom"


def test_name_notes_replaces_speaker_ids_not_quotes():
    notes = {
        "next_steps": [{"action": "Send SPEAKER_01 the deck", "owner": "SPEAKER_01",
                        "evidence": [{"segment_ids": [1], "quote": "SPEAKER_01 said"}]}],
        "summary": "SPEAKER_10 is not SPEAKER_1",
    }
    out = name_notes(notes, {"SPEAKER_01": "Kenji Sato", "SPEAKER_10": "Speaker 11"})
    assert out["next_steps"][0]["owner"] == "Kenji Sato" and out["next_steps"][0]["action"] == "Send Kenji Sato the deck"
    assert out["next_steps"][0]["evidence"][0]["quote"] == "SPEAKER_01 said"
    assert out["summary"] == "Speaker 11 is not SPEAKER_1"


# ---------------------------------------------------------------- speaker-count hint


class _P:
    def __init__(self, name, role):
        self.name, self.role = name, role


def test_enrolled_reps_in_the_sidecar_are_a_lower_bound():
    profiles = [_P("Kenji Sato", "rep"), _P("Ann Lee", "rep"), _P("Dana Wu", "customer"), _P("Bob Stone", "rep")]
    facts = MeetingFacts.model_validate({"participants": ["Kenji Sato (Helix)", {"name": "Ann Lee"}, "Dana Wu", "Someone Else"]})
    o = with_enrolled_min_speakers(ProcessOptions(facts=facts), profiles)
    assert o.min_speakers == 2  # Kenji and Ann: enrolled reps listed; Dana is a customer, Bob not there
    assert with_enrolled_min_speakers(ProcessOptions(facts=facts, min_speakers=3), profiles).min_speakers == 3
    assert with_enrolled_min_speakers(ProcessOptions(facts=facts, max_speakers=1), profiles).min_speakers is None
    capped = with_enrolled_min_speakers(ProcessOptions(facts=MeetingFacts.model_validate({"participants": ["Kenji Sato", "Ann Lee", "Bob Stone"]}),
                                                       max_speakers=2), profiles)
    assert (capped.min_speakers, capped.max_speakers) == (2, 2)
    assert with_enrolled_min_speakers(ProcessOptions(facts=facts, num_speakers=4), profiles).min_speakers is None
    assert with_enrolled_min_speakers(ProcessOptions(), profiles).min_speakers is None


def test_diarize_params_take_the_bound_from_the_store(tmp_path: Path, settings):
    from meeting_notes.stages.transcript import diarize_params

    store = SpeakerStore(tmp_path / "s.sqlite")
    for name in ("Kenji Sato", "Ann Lee"):
        store.add(name, np.ones(4, dtype=np.float32) / 2, "m", 8.0, 1, role="rep")
    s = settings.model_copy(update={"speakers": SpeakerSettings(store_path=tmp_path / "s.sqlite")})
    ctx = MeetingContext(Path("x.wav"), AudioInfo(path="x.wav", sha256="0" * 64, duration=1), MeetingWorkspace(tmp_path),
                         ProcessOptions(facts=MeetingFacts.model_validate({"participants": ["Kenji Sato", "Ann Lee"]})), s)
    assert diarize_params(ctx)["min_speakers"] == 2
    (tmp_path / "s.sqlite").write_bytes(b"garbage" * 100)  # a corrupt store: no hint, and left as it is
    assert diarize_params(ctx)["min_speakers"] is None
    assert (tmp_path / "s.sqlite").read_bytes() == b"garbage" * 100


# ---------------------------------------------------------------- relabel on a hand-built folder

NOTES = {
    "meeting_id": "m-1234abcd", "language": "en", "summary": "Pricing call.",
    "next_steps": [{"action": "Send the quote", "owner": "SPEAKER_01", "due": "",
                    "evidence": [{"segment_ids": [3], "quote": "will send the quote"}]}],
}


def _folder(tmp_path: Path, settings, lines=EN, **speaker_settings) -> tuple[Path, object]:
    """A processed meeting as the stages leave it: asr/diarization/transcript with their records
    (fake keys), notes.json/notes.md with the notes record; then the naming stages run."""
    from meeting_notes.notes.render import render_markdown
    from meeting_notes.notes.schema import SalesNotes
    from meeting_notes.relabel import relabel

    folder = tmp_path / "out" / "m-1234abcd"
    folder.mkdir(parents=True)
    ws = MeetingWorkspace(folder)
    t = _transcript(lines)
    turns = [SpeakerTurn(start=s.start, end=s.end, speaker=s.speaker) for s in t.segments]
    write_json(t, ws.transcript_json)
    write_json(Diarization(turns=turns, exclusive_turns=turns, speakers=[s.id for s in t.speakers]), ws.diarization_json)
    ws.asr_json.write_text("{}")
    ws.mark_done("transcribe", "k-transcribe", [ws.asr_json])
    ws.mark_done("diarize", "k-diarize", [ws.diarization_json])
    ws.mark_done("align", "k-align", [ws.transcript_json])
    ws.notes_json.write_text(json.dumps(NOTES))
    ws.notes_md.write_text(render_markdown(SalesNotes.model_validate(NOTES)))
    ws.mark_done("notes", "k-notes", [ws.notes_json, ws.notes_md])
    s = settings.model_copy(update={"speakers": SpeakerSettings(store_path=tmp_path / "speakers.sqlite", **speaker_settings)})
    relabel(folder, {}, s)  # the names, export, analytics and report stages, as a run would
    return folder, s


def _state(folder: Path) -> dict:
    return json.loads((folder / ".stages.json").read_text())


def test_relabel_rerenders_every_output_and_keeps_the_model_stages(tmp_path: Path, settings):
    from meeting_notes.relabel import relabel

    folder, s = _folder(tmp_path, settings)
    ws = MeetingWorkspace(folder)
    assert "**Tom**" in ws.markdown.read_text() and "Speaker 2: " in ws.srt.read_text()
    assert "owner: Speaker 2" in ws.notes_md.read_text()
    report = ws.report_html.read_text()
    assert 'class="intro" href="#seg-0"' in report and "introduced: \u201cHi, I&#x27;m Tom from Acme.\u201d" in report
    before = _state(folder)
    t = relabel(folder, {"SPEAKER_01": "Kenji Sato"}, s, side="customer")
    after = _state(folder)
    entry = next(x for x in t.speakers if x.id == "SPEAKER_01")
    assert (entry.name, entry.side, entry.source, entry.label) == ("Kenji Sato", "customer", "manual", "Kenji Sato")
    for path in (ws.srt, ws.vtt, ws.markdown, ws.report_html, ws.notes_md):
        text = path.read_text()
        assert "Kenji Sato" in text and "Speaker 2" not in text, path.name
    analytics = json.loads(ws.analytics_json.read_text())
    row = next(r for r in analytics["speakers"] if r["speaker"] == "SPEAKER_01")
    assert (row["name"], row["label"], row["side"]) == ("Kenji Sato", "Kenji Sato", "customer")
    assert "Kenji Sato" in ws.notes_md.read_text()
    assert json.loads(ws.notes_json.read_text())["next_steps"][0]["owner"] == "SPEAKER_01"  # the LLM's output kept
    # ASR, diarization, alignment and the notes stay finished under their keys
    for stage, outputs in (("transcribe", [ws.asr_json]), ("diarize", [ws.diarization_json]),
                           ("align", [ws.transcript_json]), ("notes", [ws.notes_json, ws.notes_md])):
        assert after[stage]["key"] == before[stage]["key"]
        assert ws.is_done(stage, after[stage]["key"], outputs), stage
    # the rendering stages re-ran under new keys
    for stage in ("names", "export", "analytics"):
        assert after[stage]["key"] != before[stage]["key"], stage
    # the same relabel again changes nothing (a side given before stays when none is given)
    relabel(folder, {"SPEAKER_01": "Kenji Sato"}, s)
    assert _state(folder) == after
    # dropping the manual name gives the speaker back its number
    t = relabel(folder, {"SPEAKER_01": ""}, s)
    assert next(x for x in t.speakers if x.id == "SPEAKER_01").label == "Speaker 2"
    assert "Kenji Sato" not in ws.srt.read_text()


def test_crm_payloads_carry_the_speaker_map_names_after_a_relabel(tmp_path: Path, settings):
    """The CRM previews (and so what a push sends) name owners as notes.md and report.html do;
    a relabel changes the payload, so an approval given before it no longer holds."""
    from meeting_notes.crm.service import approval_problem, approve, preview
    from meeting_notes.relabel import relabel
    from meeting_notes.settings import CRMSettings

    folder, s = _folder(tmp_path, settings)
    (folder / "notes.json").write_text(json.dumps({**NOTES, "date": "2026-11-24"}))  # a dated call can be approved
    (folder / "crm.json").write_text(json.dumps({"crm_ids": {"account_id": "001000000000001AAA"}}))
    crm = CRMSettings(salesforce={"user_ids": {"Kenji Sato": "005000000000009AAA"}},
                      hubspot={"owner_ids": {"Kenji Sato": "909"}}, webhook={"url": "http://127.0.0.1:9/hook"})

    def owner_texts(plan) -> list[str]:
        task = plan.records[1].body()
        return [str(v) for k, v in task.items() if k in ("Description", "hs_task_body")]

    sf = preview(folder, "salesforce", crm)
    assert "Owner: Speaker 2" in owner_texts(sf)[0] and "SPEAKER_01" not in json.dumps(sf.model_dump())
    approve(folder, sf, by="tester")
    relabel(folder, {"SPEAKER_01": "Kenji Sato"}, s)
    sf = preview(folder, "salesforce", crm)
    assert "Owner: Kenji Sato" in owner_texts(sf)[0] and "Speaker 2" not in owner_texts(sf)[0]
    assert "owner: Kenji Sato" in sf.records[0].body()["Description"]  # the meeting's notes.md text
    assert sf.records[1].body()["OwnerId"] == "005000000000009AAA"  # the named owner maps to a CRM user
    assert "will send the quote" in owner_texts(sf)[0]  # quotes stay verbatim
    assert approval_problem(folder, sf) and "names" in approval_problem(folder, sf)
    hs = preview(folder, "hubspot", crm, crm_ids={"account_id": "101"})
    assert "Kenji Sato" in owner_texts(hs)[0] and hs.records[1].body()["hubspot_owner_id"] == "909"
    hook = preview(folder, "webhook", crm).records[0].body()
    assert hook["notes"]["next_steps"][0]["owner"] == "Kenji Sato"
    assert json.loads((folder / "notes.json").read_text())["next_steps"][0]["owner"] == "SPEAKER_01"  # as written
    assert "Owner: Kenji Sato" in (folder / "report.html").read_text()  # the report's CRM preview too


def _cli(argv, settings, monkeypatch) -> int:
    from meeting_notes import relabel, speakers_cli

    for module in (relabel, speakers_cli):  # the commands read the settings through get_settings()
        monkeypatch.setattr(module, "get_settings", lambda: settings)
    parser = argparse.ArgumentParser()
    speakers_cli.add_parser(parser.add_subparsers(dest="command", required=True))
    args = parser.parse_args(argv)
    return args.func(args)


def test_relabel_refuses_unknown_speakers_and_reports_a_corrupt_store(tmp_path: Path, settings, monkeypatch, capsys):
    folder, s = _folder(tmp_path, settings)
    before = (folder / "transcript.json").read_bytes()
    assert _cli(["relabel", str(folder), "SPEAKER_07=Kenji"], s, monkeypatch) == 2
    err = capsys.readouterr().err
    assert "no speaker 'SPEAKER_07'" in err and "SPEAKER_00 (Tom)" in err and "SPEAKER_02 (Speaker 3)" in err
    assert _cli(["relabel", str(folder), "Kenji"], s, monkeypatch) == 2
    assert (folder / "transcript.json").read_bytes() == before
    # by its current label
    assert _cli(["relabel", str(folder), "Speaker 3=Priya"], s, monkeypatch) == 0
    assert "Priya" in (folder / "transcript.srt").read_text()
    # a corrupt store: --enroll fails and says so; the store is left as it is
    store = Path(s.speakers.store_path)
    store.write_bytes(b"not a database" * 100)
    # no voiceprint without the speaker's consent on record: refused before anything is read
    assert _cli(["relabel", str(folder), "SPEAKER_01=Kenji", "--enroll"], s, monkeypatch) == 2
    assert "consent" in capsys.readouterr().err
    assert _cli(["relabel", str(folder), "SPEAKER_01=Kenji", "--enroll", "--consent", "verbal, on the recording"], s, monkeypatch) == 1
    assert "corrupt" in capsys.readouterr().err
    assert store.read_bytes() == b"not a database" * 100
    assert _cli(["relabel", str(folder), "SPEAKER_01=Kenji"], s, monkeypatch) == 0  # naming goes on, warned
    assert "corrupt" in capsys.readouterr().err
    assert store.read_bytes() == b"not a database" * 100


def test_relabel_of_a_folder_without_transcript(tmp_path: Path, settings, monkeypatch, capsys):
    assert _cli(["relabel", str(tmp_path), "SPEAKER_00=A"], settings, monkeypatch) == 2
    assert "no transcript.json" in capsys.readouterr().err


# ---------------------------------------------------------------- real recording


def _reference_speaker(stm: Path, turns: list[SpeakerTurn], speaker: str) -> str:
    """The reference person (STM) who talks most during ``speaker``'s diarized turns."""
    talk: dict[str, float] = {}
    for line in stm.read_text().splitlines():
        _, _, who, start, end, *_ = line.split()
        for t in turns:
            if t.speaker == speaker:
                talk[who] = talk.get(who, 0.0) + max(0.0, min(float(end), t.end) - max(float(start), t.start))
    return max(talk, key=talk.get)


@pytest.mark.slow
def test_sample_speakers_named_from_their_introductions_then_relabel_and_enroll(tmp_path: Path, model_cache: Path):
    """pyannote sample: "This is Diane in New Jersey." / "And I'm Sheila in Texas..."; each name
    must land on the diarized speaker whom the reference STM says is that person."""
    from meeting_notes.pipeline import process_meeting
    from meeting_notes.relabel import relabel
    from meeting_notes.settings import Settings

    wav = EVAL / "pyannote-sample" / "sample.wav"
    stm = EVAL / "pyannote-sample" / "sample.stm"
    if not wav.is_file():
        pytest.skip(f"{wav} not there")
    s = Settings(cache_dir=model_cache, speakers=SpeakerSettings(store_path=tmp_path / "speakers.sqlite"))
    run = process_meeting(wav, tmp_path / "out", ProcessOptions(notes=False), s)
    folder = tmp_path / "out" / run.meeting_id
    t = read_json(Transcript, folder / "transcript.json")
    d = read_json(Diarization, folder / "diarization.json")
    named = {x.name: x for x in t.speakers if x.name}
    assert set(named) == {"Diane", "Sheila"}
    for name, x in named.items():
        assert x.source == "introduced" and x.evidence is not None
        assert _reference_speaker(stm, d.turns, x.id) == name
        seg = next(g for g in t.segments if g.id == x.evidence.segment_id)
        assert seg.speaker == x.id and x.evidence.quote in seg.text
    diane = named["Diane"].id

    # relabel with --enroll: the voice is learnt from this meeting, the outputs say the new name
    consent = Consent(given_by="", given_at="2026-12-08", method="verbal, on the recording", recorded_by="rep", recorded_at="2026-12-08T10:00:00Z")
    relabel(folder, {diane: "Diane Smith"}, s, side="customer", enroll=True, consent=consent)
    profiles = SpeakerStore(tmp_path / "speakers.sqlite").profiles()
    assert [(p.name, p.role) for p in profiles] == [("Diane Smith", "customer")] and profiles[0].speech_seconds >= 5
    assert profiles[0].consent is not None and profiles[0].consent.given_by == "Diane Smith"
    assert "Diane Smith" in (folder / "transcript.srt").read_text()
    # a later run reuses every stage: the model stages and the re-rendered ones alike
    again = process_meeting(wav, tmp_path / "out", ProcessOptions(notes=False), s)
    assert {k: v.status for k, v in again.stages.items() if k not in ("audio", "report")} == {
        "transcribe": "cached", "diarize": "cached", "align": "cached", "names": "cached",
        "export": "cached", "analytics": "cached"}
    # without the manual name, the enrolled voice names the same speaker
    t = relabel(folder, {diane: ""}, s)
    x = next(x for x in t.speakers if x.id == diane)
    assert (x.name, x.source, x.side) == ("Diane Smith", "enrolled", "customer") and x.score >= s.speakers.match_threshold


# ---------------------------------------------------------------- introductions through the LLM (fake server)


def test_llm_introductions_are_kept_only_with_a_verbatim_quote_of_that_speaker(tmp_path: Path):
    import sys

    sys.path.insert(0, str(Path(__file__).parent))
    from fake_openai_server import FakeOpenAIServer, chat_reply

    from meeting_notes.naming import llm_introductions
    from meeting_notes.notes.llm_client import Endpoint, LLMClient
    from meeting_notes.settings import LLMSettings

    lines = [
        (0.0, 3.0, "SPEAKER_00", "Good morning, Rachel speaking, from the finance team."),  # no rule matches this
        (3.0, 6.0, "SPEAKER_01", "Morning. Marco on the line too."),
        (6.0, 9.0, "SPEAKER_02", "Okay, let us start with the numbers."),
        (9.0, 12.0, "SPEAKER_03", "Hello, Ines on my side."),
    ]
    t = _transcript(lines)
    assert all(s.name is None for s in build_speaker_map(t))
    proposals = {"introductions": [
        {"speaker": "SPEAKER_00", "name": "Rachel", "segment_id": 0, "quote": "Rachel speaking,  from the finance team"},
        {"speaker": "SPEAKER_01", "name": "Marco", "segment_id": 1, "quote": "Marco is on the line"},  # not verbatim
        {"speaker": "SPEAKER_02", "name": "Marco", "segment_id": 1, "quote": "Marco on the line too"},  # not its segment
        {"speaker": "SPEAKER_03", "name": "Inés", "segment_id": 3, "quote": "Ines on my side"},  # name not in the quote
    ]}
    with FakeOpenAIServer() as server:
        server.script([chat_reply(content=json.dumps(proposals))])
        settings = LLMSettings.model_validate({"base_url": server.base_url, "model": "fake-model", "timeout_s": 5.0,
                                               "structured_output": "json_object", "cache": False})
        client = LLMClient(Endpoint(server.base_url, "fake-model", "local-compatible", "test|fake-model"), settings)
        found = llm_introductions(t, client, ["SPEAKER_00", "SPEAKER_01", "SPEAKER_02", "SPEAKER_03"])
        sent = server.requests[0]["messages"][-1]["content"]
    assert set(found) == {"SPEAKER_00"}
    assert found["SPEAKER_00"].name == "Rachel" and found["SPEAKER_00"].segment_id == 0
    assert "[0] SPEAKER_00: Good morning, Rachel speaking" in sent
    m = {s.id: s for s in build_speaker_map(t, more_intros=found)}
    assert (m["SPEAKER_00"].name, m["SPEAKER_00"].source, m["SPEAKER_00"].evidence.segment_id) == ("Rachel", "introduced", 0)
    assert m["SPEAKER_01"].label == "Speaker 2"


def test_names_stage_asks_the_llm_for_speakers_left_unnamed(tmp_path: Path, settings):
    import sys

    sys.path.insert(0, str(Path(__file__).parent))
    from fake_openai_server import FakeOpenAIServer, chat_reply, error_reply

    from meeting_notes.settings import LLMSettings

    lines = [(0.0, 3.0, "SPEAKER_00", "Hi, I'm Tom from Acme."), (3.0, 6.0, "SPEAKER_01", "Morning, Rachel speaking.")]
    reply = {"introductions": [{"speaker": "SPEAKER_01", "name": "Rachel", "segment_id": 1, "quote": "Rachel speaking."}]}
    with FakeOpenAIServer() as server:
        server.script([chat_reply(content=json.dumps(reply))])
        llm = LLMSettings.model_validate({"base_url": server.base_url, "model": "fake-model", "timeout_s": 5.0,
                                          "structured_output": "json_object", "cache": False, "max_retries": 0})
        folder, _ = _folder(tmp_path, settings.model_copy(update={"llm": llm}), lines, llm_introductions=True)
        asked = server.requests[0]["messages"][-1]["content"]
    t = read_json(Transcript, folder / "transcript.json")
    assert [(s.name, s.source) for s in t.speakers] == [("Tom", "introduced"), ("Rachel", "introduced")]
    assert "SPEAKER_01" in asked and "SPEAKER_00" not in asked  # only the speaker the rules left unnamed
    # a failing endpoint names nobody and fails nothing
    with FakeOpenAIServer() as server:
        server.responder = lambda request: error_reply(500, "down")
        llm = llm.model_copy(update={"base_url": server.base_url})
        folder, _ = _folder(tmp_path / "b", settings.model_copy(update={"llm": llm}), lines, llm_introductions=True)
    t = read_json(Transcript, folder / "transcript.json")
    assert [s.label for s in t.speakers] == ["Tom", "Speaker 2"]


def test_damaged_notes_are_left_alone(tmp_path: Path, settings):
    from meeting_notes.stages.names import name_notes_md

    folder, _ = _folder(tmp_path, settings)
    ws = MeetingWorkspace(folder)
    ws.notes_json.write_text('{"next_steps": "not a list"')
    before = ws.notes_md.read_bytes()
    assert name_notes_md(ws) is False and ws.notes_md.read_bytes() == before


def test_relabel_reads_the_speaker_map_inputs_back_as_typed_facts():
    from meeting_notes.relabel import RelabelError, _facts

    t = _transcript(EN)
    t.naming = {"participants": [{"name": "Tom Baker", "company": "Acme Inc."}, {"name": "Priya Shah", "role": "CFO"}],
                "account": "Globex KK", "seller_companies": ["Acme"]}
    facts = _facts(t)
    assert facts == MeetingFacts(account="Globex KK", participants=[
        Participant(name="Tom Baker", company="Acme Inc."), Participant(name="Priya Shah", role="CFO")])
    t.naming = None
    assert _facts(t) == MeetingFacts()
    t.naming = {"participants": [{"name": "Tom", "side": "seller"}]}
    with pytest.raises(RelabelError, match="participants"):
        _facts(t)
