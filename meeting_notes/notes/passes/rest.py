"""The rest pass: title, summary, needs, objections, decision process, risks, open questions and
the deal stage, each item checked against the segment it cites."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from meeting_notes.notes.passes.base import PassRun, Window, _lim, _Out, _schema
from meeting_notes.notes.passes.words import _CJK_CHAR, sentences
from meeting_notes.notes.schema import TEXT_MAX, DealStage, DealStageSuggestion, Objection, TextItem


class ItemOut(_Out):
    text: str
    seg: int = -1


class ObjectionOut(_Out):
    objection: str
    response: str = ""
    seg: int = -1


class RestOut(_Out):
    title: str = ""
    summary: str = ""
    needs: list[ItemOut] = _lim(5)
    objections: list[ObjectionOut] = _lim(4)
    process: list[ItemOut] = _lim(3)
    risks: list[ItemOut] = _lim(3)
    questions: list[ItemOut] = _lim(3)
    stage: DealStage = "unknown"
    stage_reason: str = ""
    stage_seg: int = -1


@dataclass
class RestResult:
    title: str = ""
    summary: str = ""
    fields: dict[str, list[Any]] = field(default_factory=dict)
    stage: DealStageSuggestion = field(default_factory=DealStageSuggestion)


def rest_pass(run: PassRun, window: Window | None = None) -> RestResult:
    """Title, summary, needs, objections, decision process, risks, open questions and stage
    (from the shared prefix, or from one window of a long meeting)."""
    out: RestOut | None = run.ask("rest", run.prompts.questions["rest"], RestOut, _schema(RestOut), window)
    if out is None:
        return RestResult()

    def texts(items: list[ItemOut]) -> list[TextItem]:
        return [TextItem(text=i.text[:TEXT_MAX], evidence=run.evidence(i.seg, "", i.text)) for i in items if i.text.strip()]

    stage = DealStageSuggestion(
        stage=out.stage,
        reason=out.stage_reason[:TEXT_MAX],
        evidence=run.evidence(out.stage_seg, "", out.stage_reason) if out.stage != "unknown" else [],
    )
    return RestResult(
        title=out.title[:100],
        summary=_without_repeats(out.summary)[:1200],
        fields={
            "needs": texts(out.needs),
            "objections": [
                Objection(objection=o.objection[:TEXT_MAX], response=o.response[:TEXT_MAX], evidence=run.evidence(o.seg, "", o.objection))
                for o in out.objections
                if o.objection.strip()
            ],
            "decision_process": texts(out.process),
            "risks": texts(out.risks),
            "open_questions": texts(out.questions),
        },
        stage=stage,
    )


def _without_repeats(text: str) -> str:
    """``text`` without sentences said before in it (a small model may repeat one until its
    length bound), and without a cut-off last sentence when it repeated."""
    kept: list[str] = []
    seen: set[str] = set()
    repeated = False
    for part in sentences(text):
        key = part.strip()
        if key in seen:
            repeated = True
        elif key:
            seen.add(key)
            kept.append(key)
    if repeated and kept and not re.search(r"[.!?。！？]$", kept[-1]):
        kept.pop()  # the repetition ran into the length bound mid-sentence
    return ("" if _CJK_CHAR.search(text) else " ").join(kept)
