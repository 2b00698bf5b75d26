"""notes.md and the Prefect notes artifact render hostile recording/model text inert.

Every string of a :class:`SalesNotes` is set to hostile Markdown (a link with a javascript:
URL, an image, raw HTML, a table row, a leading heading or list marker); the rendered notes
are then parsed by a CommonMark + tables + linkify (bare URLs) renderer and must contain no link, image, HTML
element, table or heading other than the template's own.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from markdown_it import MarkdownIt

from meeting_notes.notes.render import SECTIONS, render_markdown
from meeting_notes.notes.schema import SalesNotes

HOSTILE = [
    "[x](javascript:alert(1))",
    "![t](http://evil.example/t.gif)",
    "<script>alert(1)</script>",
    "<img src=x onerror=alert(1)>",
    "| a | b |",
    "# Heading",
    "1. numbered",
    "- dash",
    "    indented code",
    "<http://evil.example>",
    "`code` and \\[escaped\\](x)",
    "see https://evil.example/x and www.evil.example now",
]


def _hostile_notes(text: str, language: str = "en") -> SalesNotes:
    ev = [{"segment_ids": [1], "quote": text}]
    item = {"text": text, "evidence": ev}
    data: dict[str, Any] = {
        "meeting_id": "m",
        "title": text,
        "date": text,
        "date_anchor": text,
        "date_guessed": True,
        "status": "partial",
        "status_detail": text,
        "language": language,
        "account": {"name": text, "evidence": ev},
        "participants": [{"name": text, "company": text, "role": text, "side": "customer", "evidence": ev}],
        "summary": text,
        "needs": [item],
        "budget": [item],
        "decision_makers": [{"name": text, "role": text, "evidence": ev}],
        "decision_process": [item],
        "timeline": [{"text": text, "date": text, "resolved": text, "evidence": ev}, item],
        "competitors": [{"name": text, "context": text, "evidence": ev}],
        "objections": [{"objection": text, "response": text, "evidence": ev}],
        "pricing": [item],
        "next_steps": [{"action": text, "owner": text, "due": text, "due_resolved": text, "evidence": ev}],
        "risks": [item],
        "open_questions": [item],
        "deal_stage": {"stage": "proposal", "reason": text, "evidence": ev},
        "generator": {"model": text, "endpoint_kind": "x", "prompt_version": text, "structured_output": "x"},
    }
    return SalesNotes.model_validate(data)


def _html(md: str) -> str:
    # GFM's extended autolinks (bare https:// URLs) through markdown-it's linkify
    return MarkdownIt("commonmark", {"linkify": True}).enable(["table", "linkify"]).render(md)


def _assert_inert(md: str, text: str) -> None:
    html = _html(md)
    for tag in ("<a ", "<img", "<script", "<table", "<code", "<pre", "<ol", "<h3", "<blockquote"):
        assert tag not in html, (tag, text, md)
    assert html.count("<h1>") == 1
    assert html.count("<h2>") == len(SECTIONS) + 3  # summary, the sections, deal stage, verification
    # every item is one list item of the template (no nested lists made by the text)
    assert html.count("<ul>") == len(SECTIONS) + 1


@pytest.mark.parametrize("text", HOSTILE)
@pytest.mark.parametrize("language", ["en", "ja"])
def test_hostile_text_renders_inert(text: str, language: str) -> None:
    md = render_markdown(_hostile_notes(text, language))
    _assert_inert(md, text)
    plain = text.replace("\\", "").split("(")[0].strip(" #-1.`<>|[]!")
    assert plain and plain.split()[0] in md.replace("\\", "")  # the words are still there


def test_unescaped_template_would_have_failed() -> None:
    """The check itself catches an unescaped link, heading and table (guards the test)."""
    with pytest.raises(AssertionError):
        _assert_inert("# t\n\n## s\n\n[x](javascript:alert(1))\n", "x")


def test_flow_notes_artifact_is_the_escaped_notes_and_escapes_the_fallback(tmp_path: Path) -> None:
    from flows.meeting import notes_markdown
    from meeting_notes.schema import RunInfo
    from meeting_notes.workspace import MeetingWorkspace

    ws = MeetingWorkspace(tmp_path / "m")
    ws.create()
    run = RunInfo(meeting_id="# [x](javascript:alert(1)) <b>", started_at="2026-01-01T00:00:00+00:00")
    fallback = _html(notes_markdown(run, ws))
    assert "<a " not in fallback and "<b>" not in fallback and "<code" not in fallback
    ws.notes_md.write_text(render_markdown(_hostile_notes("<script>x</script>")), encoding="utf-8")
    artifact = _html(notes_markdown(run, ws))
    assert "<script" not in artifact and "&lt;script&gt;" in artifact
