"""Typed models of the sales notes.

Two layers:

* :class:`Extraction` is what the LLM is asked to return (a JSON schema with length limits
  that small models need). Every item carries ``evidence``: transcript segment ids plus a short
  verbatim quote.
* :class:`SalesNotes` is ``notes.json``: the extraction after the evidence check, plus the
  meeting facts the LLM is not asked to invent (date, language, meeting id) and a record of
  what was verified and dropped.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field
from pydantic.fields import FieldInfo

from meeting_notes.schema import Side

#: Where the notes' date anchor comes from: the sidecar's date, the file's recording time, none.
DateSource = Literal["hints", "recording_time", "none"]
DealStage = Literal[
    "unknown",
    "prospecting",
    "discovery",
    "qualification",
    "solution_demo",
    "proposal",
    "negotiation",
    "closed_won",
    "closed_lost",
]

QUOTE_MAX = 160
TEXT_MAX = 240


def _limit(**kw: int) -> dict[str, Any]:
    """Limits that go into the JSON schema sent to the LLM but are not enforced on parsing
    (over-long output is trimmed by :func:`trim_extraction` instead of failing)."""
    return {"json_schema_extra": kw}


class _Strict(BaseModel):
    """Unknown keys from the LLM are ignored rather than failing the whole response."""

    model_config = ConfigDict(extra="ignore")


class Evidence(_Strict):
    """Where a claim comes from: transcript segment ids and a short verbatim quote."""

    segment_ids: list[int] = Field(default_factory=list, **_limit(maxItems=4))
    quote: str = Field("", **_limit(maxLength=QUOTE_MAX))


EvidenceList = list[Evidence]


def _evidence() -> Any:
    return Field(default_factory=list, **_limit(maxItems=2))


class Account(_Strict):
    name: str = Field("", **_limit(maxLength=120), description="Customer company; empty when not said.")
    evidence: EvidenceList = _evidence()


class Participant(_Strict):
    name: str = Field("", **_limit(maxLength=80))
    company: str = Field("", **_limit(maxLength=120))
    role: str = Field("", **_limit(maxLength=120))
    side: Side = "unknown"
    evidence: EvidenceList = _evidence()


class TextItem(_Strict):
    """A need, budget statement, pricing point, risk, open question or process step."""

    text: str = Field(**_limit(maxLength=TEXT_MAX))
    evidence: EvidenceList = _evidence()


class DecisionMaker(_Strict):
    name: str = Field("", **_limit(maxLength=80))
    role: str = Field("", **_limit(maxLength=120))
    evidence: EvidenceList = _evidence()


class TimelineItem(_Strict):
    text: str = Field(**_limit(maxLength=TEXT_MAX))
    date: str = Field("", **_limit(maxLength=60), description="The date or period as said; empty if none.")
    resolved: str = Field(
        "",
        description="The date as an ISO date or 'start/end' range, resolved against the meeting "
        "date by rule (never by the LLM); empty when it cannot be resolved.",
    )
    evidence: EvidenceList = _evidence()


class Competitor(_Strict):
    name: str = Field(**_limit(maxLength=80))
    context: str = Field("", **_limit(maxLength=TEXT_MAX))
    evidence: EvidenceList = _evidence()


class Objection(_Strict):
    objection: str = Field(**_limit(maxLength=TEXT_MAX))
    response: str = Field("", **_limit(maxLength=TEXT_MAX), description="How it was answered; empty if not.")
    evidence: EvidenceList = _evidence()


class NextStep(_Strict):
    action: str = Field(**_limit(maxLength=TEXT_MAX))
    owner: str = Field("", **_limit(maxLength=80))
    due: str = Field("", **_limit(maxLength=60), description="The due date as said; empty if none.")
    due_resolved: str = Field(
        "", description="`due` as an ISO date or 'start/end' range (by rule, against the meeting date)."
    )
    evidence: EvidenceList = _evidence()


class DealStageSuggestion(_Strict):
    stage: DealStage = "unknown"
    reason: str = Field("", **_limit(maxLength=TEXT_MAX))
    evidence: EvidenceList = _evidence()


#: An item that cites its evidence: an item of a list field, the account or the deal stage.
EvidencedItem = Account | Participant | TextItem | DecisionMaker | TimelineItem | Competitor | Objection | NextStep | DealStageSuggestion

DERIVED_FIELDS = frozenset({"resolved", "due_resolved"})
"""Item fields computed by code, not said: never asked of the LLM, not part of an item's text."""

LIST_FIELDS: dict[str, type[BaseModel]] = {
    "participants": Participant,
    "needs": TextItem,
    "budget": TextItem,
    "decision_makers": DecisionMaker,
    "decision_process": TextItem,
    "timeline": TimelineItem,
    "competitors": Competitor,
    "objections": Objection,
    "pricing": TextItem,
    "next_steps": NextStep,
    "risks": TextItem,
    "open_questions": TextItem,
}
"""The list fields of the notes, in the order they are extracted and rendered."""


class Extraction(_Strict):
    """What the LLM returns for one transcript (or one chunk of it)."""

    title: str = Field("", **_limit(maxLength=100))
    account: Account = Field(default_factory=Account)
    participants: list[Participant] = Field(default_factory=list, **_limit(maxItems=10))
    summary: str = Field("", **_limit(maxLength=1200))
    needs: list[TextItem] = Field(default_factory=list, **_limit(maxItems=6))
    budget: list[TextItem] = Field(default_factory=list, **_limit(maxItems=3))
    decision_makers: list[DecisionMaker] = Field(default_factory=list, **_limit(maxItems=4))
    decision_process: list[TextItem] = Field(default_factory=list, **_limit(maxItems=4))
    timeline: list[TimelineItem] = Field(default_factory=list, **_limit(maxItems=5))
    competitors: list[Competitor] = Field(default_factory=list, **_limit(maxItems=5))
    objections: list[Objection] = Field(default_factory=list, **_limit(maxItems=5))
    pricing: list[TextItem] = Field(default_factory=list, **_limit(maxItems=4))
    next_steps: list[NextStep] = Field(default_factory=list, **_limit(maxItems=6))
    risks: list[TextItem] = Field(default_factory=list, **_limit(maxItems=4))
    open_questions: list[TextItem] = Field(default_factory=list, **_limit(maxItems=4))
    deal_stage: DealStageSuggestion = Field(default_factory=DealStageSuggestion)


class SummaryOnly(_Strict):
    """The reduce step's output for a chunked meeting: a title, a summary and a stage."""

    title: str = Field("", **_limit(maxLength=100))
    summary: str = Field("", **_limit(maxLength=1200))
    deal_stage: DealStageSuggestion = Field(default_factory=DealStageSuggestion)


class DroppedItem(BaseModel):
    """An item removed because none of its evidence matched the cited transcript segments."""

    field: str
    text: str
    reason: str


class Verification(BaseModel):
    """The evidence check's record."""

    items_checked: int = 0
    items_kept: int = 0
    items_dropped: int = 0
    evidence_checked: int = 0
    evidence_valid: int = 0
    evidence_relocated: int = Field(
        0, description="Quotes found verbatim in other segments than cited; ids corrected."
    )
    evidence_invalid: int = 0
    dropped: list[DroppedItem] = Field(default_factory=list)
    instructions: list[Evidence] = Field(
        default_factory=list,
        description="Lines addressed to a note-taker or an assistant ('note for the AI: ...'): never read by the model, "
        "never evidence; listed for the rep.",
    )
    review: list[str] = Field(
        default_factory=list,
        description="Why a person must read the notes before they are sent (contact details going to the CRM); "
        "auto_push does not send notes with any.",
    )


class GeneratorInfo(BaseModel):
    """Which model and prompt produced the notes."""

    model: str
    endpoint_kind: str
    prompt_version: str
    structured_output: str
    chunks: int = 1
    redacted: bool = False
    method: str = Field("single", description="'single' (one call) or 'passes' (focused passes).")
    passes: dict[str, str] = Field(
        default_factory=dict, description="Per pass: 'ok', 'skipped' (nothing to ask) or the error code."
    )
    trimmed: list[DroppedItem] = Field(
        default_factory=list, description="Items cut by list limits when chunks were merged (kept here, not lost)."
    )
    windows: int = Field(1, description="'passes': prompt windows the transcript was read in.")
    segments: int | None = Field(None, description="'passes': transcript segments.")
    segments_read: int | None = Field(None, description="'passes': segments the model read (every rule reads all).")
    coverage: float | None = Field(
        None, description="'passes': segments_read / segments; under 1.0 is shown as a warning in notes.md and report.html."
    )

    @property
    def partly_read(self) -> bool:
        """Whether the model read less than the whole transcript."""
        return self.coverage is not None and self.coverage < 1.0


NotesStatus = Literal[
    "ok", "partial", "empty_transcript", "unsupported_language", "no_sales_content", "llm_failed"
]


class SalesNotes(BaseModel):
    """``notes.json``: CRM-ready notes of one meeting, every item backed by transcript evidence."""

    meeting_id: str
    title: str = ""
    date: str | None = Field(None, description="Meeting date from the sidecar; never guessed.")
    date_anchor: str | None = Field(
        None, description="The date relative dates were resolved against (ISO); None: not resolved."
    )
    date_source: DateSource = Field(
        "none", description="Where date_anchor comes from: 'hints' (the sidecar's date), the file's recording time, or none."
    )
    date_guessed: bool = Field(
        False, description="True when date_anchor is not a known meeting date (e.g. the file's modification time)."
    )
    status: NotesStatus = Field(
        "ok",
        description="'ok'; 'partial' (some passes failed: their fields are empty); 'empty_transcript', "
        "'unsupported_language', 'no_sales_content', 'llm_failed': fields left empty on purpose.",
    )
    status_detail: str = Field("", description="Why the status is not 'ok'.")
    language: str
    account: Account = Field(default_factory=Account)
    participants: list[Participant] = Field(default_factory=list)
    summary: str = ""
    needs: list[TextItem] = Field(default_factory=list)
    budget: list[TextItem] = Field(default_factory=list)
    decision_makers: list[DecisionMaker] = Field(default_factory=list)
    decision_process: list[TextItem] = Field(default_factory=list)
    timeline: list[TimelineItem] = Field(default_factory=list)
    competitors: list[Competitor] = Field(default_factory=list)
    objections: list[Objection] = Field(default_factory=list)
    pricing: list[TextItem] = Field(default_factory=list)
    next_steps: list[NextStep] = Field(default_factory=list)
    risks: list[TextItem] = Field(default_factory=list)
    open_questions: list[TextItem] = Field(default_factory=list)
    deal_stage: DealStageSuggestion = Field(default_factory=DealStageSuggestion)
    from_hints: list[str] = Field(
        default_factory=list, description="Fields taken from the meeting's sidecar, not the transcript."
    )
    verification: Verification = Field(default_factory=Verification)
    generator: GeneratorInfo | None = None


def _schema_limit(info: FieldInfo, key: str) -> int | None:
    """A field's ``maxItems`` or ``maxLength`` (set by :func:`_limit`), or None."""
    extra = info.json_schema_extra if isinstance(info.json_schema_extra, dict) else {}
    value = extra.get(key)
    return value if isinstance(value, int) else None


def _max_items(model: BaseModel, name: str) -> int | None:
    return _schema_limit(type(model).model_fields[name], "maxItems")


def trim_extraction(extraction: Extraction, lists: bool = True) -> Extraction:
    """Cut strings (and, with ``lists``, the item lists) to the limits of the schema (models
    sometimes overrun them). Evidence lists are always cut; what a cut list loses is listed
    by :func:`list_overflow`."""

    def trim(model: BaseModel, top: bool) -> None:
        for name, info in type(model).model_fields.items():
            max_length, max_items = _schema_limit(info, "maxLength"), _schema_limit(info, "maxItems")
            value = getattr(model, name)
            if isinstance(value, str) and max_length is not None:
                setattr(model, name, value[:max_length])
            elif isinstance(value, list):
                if max_items is not None and (lists or not top):
                    value = value[:max_items]
                    setattr(model, name, value)
                for v in value:
                    if isinstance(v, BaseModel):
                        trim(v, False)
            elif isinstance(value, BaseModel):
                trim(value, False)

    out = extraction.model_copy(deep=True)
    trim(out, True)
    return out


def list_overflow(extraction: Extraction) -> list[DroppedItem]:
    """The items beyond each list field's limit (what ``trim_extraction`` cuts), as a record."""
    out = []
    for name in LIST_FIELDS:
        limit = _max_items(extraction, name)
        items = getattr(extraction, name)
        if limit is not None and len(items) > limit:
            out += [DroppedItem(field=name, text=item_text(i)[:200], reason="over the list limit") for i in items[limit:]]
    return out


def item_text(item: BaseModel) -> str:
    """The human-readable text of an item (all its string fields but the evidence)."""
    parts = []
    for name, value in item:
        if name == "evidence" or name in DERIVED_FIELDS or not isinstance(value, str) or not value:
            continue
        if name == "side" and value == "unknown":
            continue
        parts.append(value)
    return " / ".join(parts)


def extraction_json_schema(model: type[BaseModel] = Extraction) -> dict[str, Any]:
    """The JSON schema sent to the LLM: inlined (no $refs), all properties required.

    Inlining keeps it usable by llama.cpp's grammar converter and by strict tool schemas;
    descriptions are left out (the prompt explains the fields) to keep it short.
    """
    schema = model.model_json_schema()
    defs = schema.pop("$defs", {})

    def inline(node: Any) -> Any:
        if isinstance(node, dict):
            if "$ref" in node:
                return inline(defs[node["$ref"].split("/")[-1]])
            out = {
                k: (
                    {p: inline(v2) for p, v2 in v.items() if p not in DERIVED_FIELDS}
                    if k == "properties"
                    else inline(v)
                )
                for k, v in node.items()
                if k not in ("title", "default", "description")
            }
            if out.get("type") == "object" and "properties" in out:
                out["required"] = list(out["properties"])
                out["additionalProperties"] = False
            return out
        if isinstance(node, list):
            return [inline(v) for v in node]
        return node

    return inline(schema)
