"""Prompt files, the schema sent to the LLM, the Markdown template and the eval scoring."""

from __future__ import annotations

import importlib.util
import json
import re
import shutil
import sys
from pathlib import Path

import pytest

from meeting_notes.notes.evidence import verify_extraction
from meeting_notes.notes.prompts import extraction_messages, load_prompts, meeting_header, shared_user_text
from meeting_notes.notes.render import render_markdown
from meeting_notes.notes.schema import (
    Account,
    Evidence,
    Extraction,
    NextStep,
    Objection,
    SalesNotes,
    TextItem,
    extraction_json_schema,
)
from meeting_notes.schema import MeetingFacts, Transcript, read_json
from meeting_notes.settings import PROJECT_ROOT

PROMPTS = PROJECT_ROOT / "prompts" / "notes"
EVAL = PROJECT_ROOT / "benchmarks" / "notes_eval"


def _keys_match(skeleton: object, schema: dict) -> None:
    if schema.get("type") == "object":
        assert isinstance(skeleton, dict)
        assert list(skeleton) == list(schema["properties"])
        for k, v in skeleton.items():
            _keys_match(v, schema["properties"][k])
    elif schema.get("type") == "array" and isinstance(skeleton, list) and skeleton:
        _keys_match(skeleton[0], schema["items"])


@pytest.mark.parametrize("version", sorted(p.name for p in PROMPTS.iterdir() if (p / "skeleton.json").is_file()))
def test_skeleton_matches_the_schema(version: str) -> None:
    skeleton = json.loads((PROMPTS / version / "skeleton.json").read_text(encoding="utf-8"))
    _keys_match(skeleton, extraction_json_schema(Extraction))


@pytest.mark.parametrize("language", ["en", "ja"])
def test_examples_are_valid_and_their_evidence_holds(language: str) -> None:
    prompts = load_prompts(PROMPTS, "v1", language)
    assert "{skeleton}" not in prompts.system and '"next_steps"' in prompts.system
    answer = Extraction.model_validate(prompts.example_answer)
    lines = dict((int(i), t) for i, t in re.findall(r"^\[(\d+)\] [^:]+: (.*)$", prompts.example_transcript, re.M))
    _, ver = verify_extraction(answer, lines)
    assert ver.items_dropped == 0 and ver.evidence_relocated == 0 and ver.items_checked > 8
    messages = extraction_messages(prompts, "[0] A: hi", MeetingFacts(account="Acme"))
    assert [m["role"] for m in messages] == ["system", "user", "assistant", "user"]
    assert "Acme" in messages[-1]["content"] and messages[-1]["content"].endswith("[0] A: hi")


def test_the_meeting_header_reads_the_typed_sidecar_facts() -> None:
    from meeting_notes.sidecar import MeetingSidecar

    sidecar = MeetingSidecar.model_validate({
        "title": "Acme renewal", "date": "2026-11-20T15:00:00+09:00", "account": "Acme KK", "language": "en",
        "participants": ["Kenji Sato (Acme)", {"name": "Ann Lee", "email": "ann@example.com", "role": "AE"}],
        "crm_ids": {"account_id": "001XX"}, "terms": ["Acme Cloud"],
    })
    header = meeting_header(load_prompts(PROMPTS, "v1", "en"), sidecar.facts())
    assert header.splitlines() == [
        "Meeting title: Acme renewal", "Customer account: Acme KK", "Date: 2026-11-20T15:00:00+09:00",
        "Participants:", "- Kenji Sato, Acme", "- Ann Lee, AE",
    ]  # no e-mail, CRM ids or terms
    assert shared_user_text("ja", "[0] A: はい", sidecar.facts()).splitlines()[:2] == ["会議名: Acme renewal", "顧客企業: Acme KK"]
    assert meeting_header(load_prompts(PROMPTS, "v1", "en"), MeetingFacts()) == ""


def test_prompt_version_id_follows_file_contents(tmp_path: Path) -> None:
    shutil.copytree(PROMPTS / "v1", tmp_path / "v1")
    before = load_prompts(tmp_path, "v1", "en").version_id
    path = tmp_path / "v1" / "system.en.md"
    path.write_text(path.read_text(encoding="utf-8") + "\nOne more rule.", encoding="utf-8")
    after = load_prompts(tmp_path, "v1", "en").version_id
    assert before.startswith("notes-v1+") and after.startswith("notes-v1+") and before != after


def test_schema_sent_to_the_llm_is_inline_and_bounded() -> None:
    schema = extraction_json_schema(Extraction)
    text = json.dumps(schema)
    assert "$ref" not in text and "$defs" not in text
    assert schema["required"] == list(Extraction.model_fields)
    assert schema["properties"]["next_steps"]["maxItems"] == 6
    ev = schema["properties"]["needs"]["items"]["properties"]["evidence"]
    assert ev["maxItems"] == 2 and ev["items"]["properties"]["quote"]["maxLength"] == 160


def test_markdown_template_in_both_languages() -> None:
    e = [Evidence(segment_ids=[3, 4], quote="send the quote by Monday")]
    notes = SalesNotes(
        meeting_id="m",
        title="Renewal",
        language="en",
        account=Account(name="Crestview", evidence=[Evidence(segment_ids=[1], quote="at Crestview")]),
        summary="One. Two. Three.",
        next_steps=[NextStep(action="Send quote", owner="Ben", due="Monday", evidence=e)],
        objections=[Objection(objection="Price", response="", evidence=e)],
        budget=[TextItem(text="64,000 dollars", evidence=e)],
    )
    md = render_markdown(notes)
    assert md.startswith("# Renewal\n")
    assert "- [ ] Send quote — owner: Ben; due: Monday — \"send the quote by Monday\" (segments #3, #4)" in md
    assert "Price — answer: not answered" in md
    assert "## Competitors mentioned\n\n_Not discussed_" in md
    assert "**Date**: not given" in md and "Crestview" in md
    ja = render_markdown(notes.model_copy(update={"language": "ja"}))
    assert "## 次のアクション" in ja and "## 競合\n\n_言及なし_" in ja


def _eval_module():
    spec = importlib.util.spec_from_file_location("notes_eval", PROJECT_ROOT / "benchmarks" / "notes_eval.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up while being created
    spec.loader.exec_module(module)
    return module


def test_eval_scoring_counts_matches_once_and_ignores_optional_items() -> None:
    ne = _eval_module()
    gold = [
        {"text": "quote by Monday", "keywords": ["quote"]},
        {"text": "redlines", "keywords": ["redline|msa"]},
        {"text": "licenses", "keywords": ["licen"], "optional": True},
    ]
    s = ne.score_field(["Send the revised quote", "send quote again", "Check licenses", "lunch"], gold)
    assert (s.tp, s.fp, s.found, s.gold) == (1, 2, 1, 2)
    assert s.precision == pytest.approx(1 / 3) and s.recall == 0.5
    assert ne.score_field([], gold).precision is None


def test_eval_set_is_valid() -> None:
    transcripts = sorted(EVAL.glob("*.transcript.json"))
    langs = [read_json(Transcript, p).language for p in transcripts]
    assert langs.count("en") >= 2 and langs.count("ja") >= 2
    for path in transcripts:
        t = read_json(Transcript, path)
        gold = json.loads((EVAL / "gold" / f"{t.meeting_id}.json").read_text(encoding="utf-8"))
        ids = {s.id for s in t.segments}
        for field in ("next_steps", "competitors", "budget", "dates"):
            assert gold["fields"][field], f"{t.meeting_id}: no gold {field}"
            for item in gold["fields"][field]:
                assert set(item["segments"]) <= ids and item["keywords"]


PASS_MODELS = {
    "people": "PeopleOut",
    "money": "LabelsOut",
    "competitors": "CompetitorsOut",
    "next_steps": "LabelsOut",
    "rest": "RestOut",
}


@pytest.mark.parametrize("language", ["en", "ja"])
def test_pass_prompts_examples_match_their_schemas(language: str) -> None:
    """Each pass question's example answer is valid for that pass's output model, with the
    keys in the schema's order (the grammar makes the model write them in that order)."""
    from meeting_notes.notes import passes
    from meeting_notes.notes.prompts import PASS_FILES, load_pass_prompts, pass_messages

    prompts = load_pass_prompts(PROMPTS, "v3", language)
    assert set(prompts.questions) == set(PASS_FILES) == set(PASS_MODELS)
    for name, question in prompts.questions.items():
        example = re.search(r"(?:(?:[Aa]nswer|答え|答えの例)[:：]|do not copy\): |写さないこと）：)\s*(\{.*\})\s*$", question, re.M)
        assert example, name
        model = getattr(passes, PASS_MODELS[name])
        data = json.loads(example.group(1))
        model.model_validate(data)
        if name not in ("money", "next_steps"):  # their keys are the candidate ids
            assert list(data) == list(extraction_json_schema(model)["properties"]), name
    a = pass_messages(prompts, "SHARED", prompts.questions["money"])
    b = pass_messages(prompts, "SHARED", prompts.questions["people"])
    assert a[0] == b[0] and a[1]["content"].startswith("SHARED") and b[1]["content"].startswith("SHARED")
